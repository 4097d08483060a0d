// Package browsertest drives Debian's headless Chromium for turnkit's
// tests: it starts the system browser (never a downloaded one) with its own
// temporary profile, opens a page on a loopback server, evaluates
// JavaScript and awaits its promises, collects console messages and
// uncaught exceptions, and takes PNG screenshots. Every browser lives
// within a deadline and is stopped with the test; the harness then checks
// that its process and every child really ended and that its profile
// directory is gone.
//
// Without Chromium the test is skipped, or fails when TURNKIT_REQUIRE_ALL=1.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Options configures a browser. The zero value is a reasonable default.
type Options struct {
	// Path is the Chromium binary. Defaults to ChromiumPath's choice.
	Path string
	// Timeout bounds the browser's whole life: past it the browser is
	// killed and every call fails. Defaults to 2 minutes, or less when the
	// test's own deadline comes sooner.
	Timeout time.Duration
	// CallTimeout bounds each Open, Eval and Screenshot. Defaults to 30
	// seconds.
	CallTimeout time.Duration
	// Flags are switches added to the defaults (or replacing one of the
	// same name): a string value gives --name=value, true gives --name.
	// For example {"enable-logging": "stderr", "v": "1"} turns on
	// Chromium's log, which goes to Output.
	Flags map[string]any
	// Output, if set, receives Chromium's stdout and stderr.
	Output io.Writer
	// ViewportWidth and ViewportHeight size the page's viewport, and so the
	// screenshots, in CSS pixels. Default to 1024 by 768.
	ViewportWidth, ViewportHeight int
}

// Browser is one headless Chromium with one tab, started for one test. Its
// methods may be called from one goroutine at a time.
type Browser struct {
	t           testing.TB
	callTimeout time.Duration
	tab         context.Context
	tabCancel   context.CancelFunc
	allocCancel context.CancelFunc
	console     *console
	pid         int
	profile     string
	syncs       int

	closeOnce sync.Once
	closeErr  error
}

// Start starts Chromium and opens its first tab on about:blank. The
// browser stops when the test ends (or at Close); the test fails if the
// browser cannot start or its processes outlive it.
func Start(t testing.TB, o Options) *Browser {
	t.Helper()
	if o.Path == "" {
		o.Path = ChromiumPath(t)
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok {
			if left := time.Until(dl) - 5*time.Second; left > 0 && left < o.Timeout {
				o.Timeout = left
			}
		}
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 30 * time.Second
	}
	if o.ViewportWidth <= 0 || o.ViewportHeight <= 0 {
		o.ViewportWidth, o.ViewportHeight = 1024, 768
	}

	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(o.Path)}
	for _, f := range baseFlags() {
		opts = append(opts, chromedp.Flag(f[0].(string), f[1]))
	}
	opts = append(opts, chromedp.WindowSize(o.ViewportWidth, o.ViewportHeight))
	for _, name := range slices.Sorted(maps.Keys(o.Flags)) {
		opts = append(opts, chromedp.Flag(name, o.Flags[name]))
	}
	if o.Output != nil {
		opts = append(opts, chromedp.CombinedOutput(o.Output))
	}

	deadline, deadlineCancel := context.WithTimeout(context.Background(), o.Timeout)
	allocCtx, allocCancel := chromedp.NewExecAllocator(deadline, opts...)
	tab, tabCancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	b := &Browser{
		t:           t,
		callTimeout: o.CallTimeout,
		tab:         tab,
		tabCancel:   tabCancel,
		allocCancel: func() { allocCancel(); deadlineCancel() },
		console:     newConsole(),
	}
	// The first action starts the browser and binds it to tab, whose only
	// deadline is o.Timeout.
	if err := chromedp.Do(tab, chromedp.EmulateViewport(int64(o.ViewportWidth), int64(o.ViewportHeight))); err != nil {
		b.stop()
		t.Fatalf("browsertest: start %s: %v", o.Path, err)
	}
	if p := chromedp.FromContext(tab).Browser.Process(); p != nil {
		b.pid = p.Pid
		b.profile = userDataDirOf(p.Pid)
	}
	messages := chromedp.Console(tab)
	go b.console.collect(messages)
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

// PID returns the browser's process ID.
func (b *Browser) PID() int { return b.pid }

// call runs an action on the tab within the call timeout.
func call[T any](b *Browser, what string, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(b.tab, b.callTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		return v, fmt.Errorf("browsertest: %s: %w", what, err)
	}
	return v, nil
}

// Open navigates the tab to url and waits for the page to load.
func (b *Browser) Open(url string) error {
	_, err := call(b, "open "+url, chromedp.Navigate(url))
	return err
}

// Eval evaluates the JavaScript expression in the page, awaits the promise
// it returns, if any, and decodes the JSON of the result into out (which
// may be nil to ignore it). A thrown exception or a rejected promise is an
// error holding its message.
func (b *Browser) Eval(expr string, out any) error {
	what := "eval " + clip(expr)
	raw, err := call(b, what, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil || out == nil {
		return err
	}
	if len(raw) == 0 {
		return fmt.Errorf("browsertest: %s: the result is undefined", what)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("browsertest: %s: decode %s: %w", what, clip(string(raw)), err)
	}
	return nil
}

// Screenshot returns a PNG of the tab's viewport.
func (b *Browser) Screenshot() ([]byte, error) {
	return call(b, "screenshot", chromedp.CaptureScreenshot())
}

// SaveScreenshot writes a PNG of the tab's viewport to path.
func (b *Browser) SaveScreenshot(path string) error {
	png, err := b.Screenshot()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return fmt.Errorf("browsertest: save screenshot: %w", err)
	}
	return nil
}

// Messages returns every console message of the tab so far, in order. It
// first waits until the browser has delivered every message written before
// the call.
func (b *Browser) Messages() ([]Message, error) {
	b.syncs++
	marker := strconv.Itoa(b.syncs)
	seen := b.console.expect(marker)
	if err := b.Eval("console.debug("+strconv.Quote(syncPrefix+marker)+")", nil); err != nil {
		return b.console.snapshot(), err
	}
	timer := time.NewTimer(b.callTimeout)
	defer timer.Stop()
	select {
	case <-seen:
	case <-b.console.done:
		return b.console.snapshot(), errors.New("browsertest: the browser stopped before its console was read")
	case <-timer.C:
		return b.console.snapshot(), fmt.Errorf("browsertest: console messages not delivered within %s", b.callTimeout)
	}
	return b.console.snapshot(), nil
}

// Errors returns the console errors and uncaught exceptions of the tab so
// far (see Messages).
func (b *Browser) Errors() ([]Message, error) {
	msgs, err := b.Messages()
	var errs []Message
	for _, m := range msgs {
		if m.IsError() {
			errs = append(errs, m)
		}
	}
	return errs, err
}

// RequireNoErrors fails the test if the tab logged a console error or
// threw an uncaught exception; it logs the other console messages.
func (b *Browser) RequireNoErrors(t testing.TB) {
	t.Helper()
	msgs, err := b.Messages()
	if err != nil {
		t.Fatal(err)
	}
	var bad int
	for _, m := range msgs {
		if m.IsError() {
			t.Errorf("console: %s", m)
			bad++
		} else {
			t.Logf("console: %s", m)
		}
	}
	if bad > 0 {
		t.FailNow()
	}
}

// Close stops the browser: it cancels the tab and chromedp's allocator,
// waits for the process, then checks that no process of the browser still
// runs (killing by PID any that does) and that its profile is removed.
// Close is idempotent; Start registers it with t.Cleanup.
func (b *Browser) Close() error {
	b.closeOnce.Do(func() {
		b.stop()
		<-b.console.done
		b.closeErr = checkGone(b.pid, b.profile)
	})
	return b.closeErr
}

func (b *Browser) stop() {
	b.tabCancel()
	b.allocCancel()
}

// clip shortens an expression quoted in an error.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
