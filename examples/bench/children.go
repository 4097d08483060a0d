package main

// This file starts the bench's child processes (servers, the echo peer,
// load generators) and stops each one by its PID: when its run ends, when
// the bench fails and when it is interrupted.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a child has to exit after SIGTERM before it is
// killed.
const stopGrace = 5 * time.Second

// children tracks the child processes that are running, so that every one
// is stopped by its PID whatever way the bench ends. The zero value is not
// usable; call newChildren. It is safe for concurrent use.
type children struct {
	mu    sync.Mutex // guards live
	live  map[int]*child
	extra []string // environment added to every child
}

func newChildren() *children { return &children{live: make(map[int]*child)} }

// child is one running process.
type child struct {
	name string
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{} // closed when the process has exited
	err  error         // the result of Wait, set before done is closed
	cs   *children
}

// startOptions are the optional parts of a start.
type startOptions struct {
	// onLine, if set, receives every line the child prints on stdout,
	// without its newline, from one goroutine, as it is printed.
	onLine func(line string)
	// dir is the child's working directory. Defaults to the bench's.
	dir string
}

// start runs path with args. The child gets its own process group, so the
// terminal's Ctrl-C reaches only the bench, which then stops the child;
// and, on Linux, SIGKILL if the bench dies first.
func (cs *children) start(name, path string, args []string, o startOptions) (*child, error) {
	c := &child{name: name, out: newTailBuffer(64 << 10), done: make(chan struct{}), cs: cs}
	cmd := exec.Command(path, args...)
	cmd.Dir = o.dir
	cmd.Env = append(os.Environ(), cs.extra...)
	cmd.Stderr = c.out
	cmd.Stdout = c.out
	if o.onLine != nil {
		cmd.Stdout = &lineWriter{tail: c.out, onLine: o.onLine}
	}
	cmd.SysProcAttr = childSysProcAttr()
	cmd.WaitDelay = 2 * time.Second
	c.cmd = cmd
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.live == nil {
		return nil, fmt.Errorf("start %s: the bench is shutting down", name)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, filepath.Base(path), err)
	}
	cs.live[cmd.Process.Pid] = c
	go func() {
		c.err = cmd.Wait()
		cs.mu.Lock()
		delete(cs.live, cmd.Process.Pid)
		cs.mu.Unlock()
		close(c.done)
	}()
	return c, nil
}

// pid returns the child's process ID.
func (c *child) pid() int { return c.cmd.Process.Pid }

// exited reports whether the child has exited.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the child's PID, waits up to stopGrace for it to
// exit, then sends SIGKILL. It returns once the child has exited; calling
// it again is harmless.
func (c *child) stop() {
	if c.exited() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return
	case <-time.After(stopGrace):
	}
	_ = c.cmd.Process.Kill()
	<-c.done
}

// kill sends SIGKILL to the child's PID and waits for it to exit.
func (c *child) kill() {
	if !c.exited() {
		_ = c.cmd.Process.Kill()
	}
	<-c.done
}

// failure describes a child that did not do what was asked, with the end
// of its output.
func (c *child) failure(what string, err error) error {
	status := "running"
	if c.exited() {
		status = fmt.Sprintf("exited: %v", c.err)
	}
	return fmt.Errorf("%s %s (pid %d, %s): %w\n--- last output of %s ---\n%s", c.name, what, c.pid(), status, err, c.name, c.out.String())
}

// stopAll stops every child still running, each by its PID, and refuses
// new ones from then on.
func (cs *children) stopAll() {
	cs.mu.Lock()
	live := make([]*child, 0, len(cs.live))
	for _, c := range cs.live {
		live = append(live, c)
	}
	cs.live = nil
	cs.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range live {
		wg.Go(c.stop)
	}
	wg.Wait()
}

// errStopped is returned by waits that ended because the child exited.
var errStopped = errors.New("the process exited")

// tailBuffer keeps the last bytes written to it. It is safe for concurrent
// use.
type tailBuffer struct {
	mu   sync.Mutex // guards buf
	buf  []byte
	size int
}

func newTailBuffer(size int) *tailBuffer { return &tailBuffer{size: size} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.size; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// lineWriter splits what a child prints into lines for onLine and keeps a
// tail of it. exec.Cmd writes to it from one goroutine.
type lineWriter struct {
	tail    *tailBuffer
	onLine  func(string)
	pending []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	_, _ = w.tail.Write(p)
	w.pending = append(w.pending, p...)
	for {
		i := bytes.IndexByte(w.pending, '\n')
		if i < 0 {
			break
		}
		w.onLine(string(bytes.TrimRight(w.pending[:i], "\r")))
		w.pending = w.pending[i+1:]
	}
	if len(w.pending) > 64<<10 { // a line that never ends: keep memory bounded
		w.pending = w.pending[:0]
	}
	return len(p), nil
}
