// Package examplestest runs an example program in its own test as its main
// does, and stops it: the examples under examples/ share a run function of
// one shape, which serves until its context ends and sends its address on
// ready once it serves.
package examplestest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"
)

// Timeout bounds how long Start waits for the program to serve, and how
// long stop waits for it to return.
const Timeout = 10 * time.Second

// Start calls run(ctx, o, stdout, log, ready) in a goroutine, with log
// discarding everything, and waits for the address run sends on ready. It
// returns what run prints (for the test to read once run is ready), that
// address, and stop, which cancels ctx and waits for run to return. name
// names the program in failures.
//
// Start fails the test if run returns before it is ready or is not ready
// within Timeout; stop fails it if run returns an error or has not
// returned within Timeout.
func Start[O any](t testing.TB, name string, run func(context.Context, O, io.Writer, *slog.Logger, chan<- string) error, o O) (stdout *bytes.Buffer, addr string, stop func()) {
	t.Helper()
	p, err := launch(name, Timeout, func(ctx context.Context, stdout io.Writer, ready chan<- string) error {
		return run(ctx, o, stdout, slog.New(slog.DiscardHandler), ready)
	})
	if err != nil {
		t.Fatal(err)
	}
	return p.out, p.addr, func() {
		t.Helper()
		if err := p.stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// program is a run function started by launch.
type program struct {
	name    string
	timeout time.Duration
	out     *bytes.Buffer
	addr    string
	cancel  context.CancelFunc
	done    chan error // receives what run returned
}

// launch starts run and waits up to timeout for its address.
func launch(name string, timeout time.Duration, run func(context.Context, io.Writer, chan<- string) error) (*program, error) {
	ctx, cancel := context.WithCancel(context.Background())
	p := &program{name: name, timeout: timeout, out: &bytes.Buffer{}, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() { p.done <- run(ctx, p.out, ready) }()
	select {
	case p.addr = <-ready:
		return p, nil
	case err := <-p.done:
		cancel()
		return nil, fmt.Errorf("%s stopped: %w", name, err)
	case <-time.After(timeout):
		cancel()
		return nil, fmt.Errorf("%s did not start within %s", name, timeout)
	}
}

// stop cancels the program's context and waits up to its timeout for run
// to return, returning run's error.
func (p *program) stop() error {
	p.cancel()
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("%s shutdown: %w", p.name, err)
		}
		return nil
	case <-time.After(p.timeout):
		return fmt.Errorf("%s did not stop within %s", p.name, p.timeout)
	}
}
