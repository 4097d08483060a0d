package browsertest

// This file collects what the page writes to the console.

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

// Message is one console message of the page: a console API call, an
// uncaught exception or unhandled rejection ("exception"), or an entry of
// the browser's log (a failed resource load is an "error" from source
// "network").
type Message struct {
	// Type is "log", "debug", "info", "warning", "error", "exception" or
	// another console API name.
	Type string
	// Text is the text DevTools shows, with an exception's message.
	Text string
	// Source is the browser part behind a log entry ("network",
	// "security", …); empty for console calls and exceptions.
	Source string
	// URL and Line tell where it came from, when the browser says.
	URL  string
	Line int64
}

// IsError reports whether the message is an error or an exception: what a
// test of a working page expects none of.
func (m Message) IsError() bool {
	return m.Type == string(chromedp.ConsoleError) || m.Type == string(chromedp.ConsoleException)
}

// String formats the message as "type: text (url:line)".
func (m Message) String() string {
	s := m.Type + ": " + m.Text
	if m.Source != "" {
		s = m.Type + " [" + m.Source + "]: " + m.Text
	}
	if m.URL != "" {
		s += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
	}
	return s
}

// syncPrefix marks the console messages the harness writes itself to know
// that every earlier message has been collected.
const syncPrefix = "\u2063browsertest-sync "

// console is the collected messages of one page.
type console struct {
	mu      sync.Mutex // guards the following fields
	msgs    []Message
	waiters map[string]chan struct{} // sync marker → closed when seen
	done    chan struct{}            // closed when collection ends
}

func newConsole() *console {
	return &console{waiters: map[string]chan struct{}{}, done: make(chan struct{})}
}

// collect ranges over the page's console until the browser stops.
func (c *console) collect(messages func(func(chromedp.ConsoleMessage, error) bool)) {
	defer close(c.done)
	for m, err := range messages {
		if err != nil {
			return
		}
		c.add(m)
	}
}

func (c *console) add(m chromedp.ConsoleMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if marker, ok := strings.CutPrefix(m.Text, syncPrefix); ok {
		if ch, ok := c.waiters[marker]; ok {
			close(ch)
			delete(c.waiters, marker)
		}
		return
	}
	c.msgs = append(c.msgs, Message{Type: string(m.Type), Text: m.Text, Source: m.Source, URL: m.URL, Line: m.Line})
}

// expect registers a sync marker and returns the channel closed when the
// marker arrives.
func (c *console) expect(marker string) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	c.waiters[marker] = ch
	return ch
}

// snapshot returns a copy of the messages so far.
func (c *console) snapshot() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}
