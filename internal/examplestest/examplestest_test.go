package examplestest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// options is what the example program below takes.
type options struct{ greeting string }

// serve is an example program of the examples' shape: it serves HTTP on a
// loopback port until ctx ends, printing its address first.
func serve(ctx context.Context, o options, stdout io.Writer, log *slog.Logger, ready chan<- string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, o.greeting)
	})}
	fmt.Fprintf(stdout, "listening on %s\n", ln.Addr())
	log.Info("serving") // discarded
	ready <- ln.Addr().String()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	<-ctx.Done()
	if err := srv.Shutdown(context.Background()); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// TestStart: the program serves at the address it sent, its output is
// there to read, and stop ends it.
func TestStart(t *testing.T) {
	out, addr, stop := Start(t, "greeter", serve, options{greeting: "hello"})
	if want := "listening on " + addr + "\n"; out.String() != want {
		t.Errorf("output %q, want %q", out, want)
	}
	res, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "hello" {
		t.Errorf("GET / = %q, want hello", body)
	}
	stop()
	if _, err := http.Get("http://" + addr + "/"); err == nil {
		t.Error("the program still serves after stop")
	}
}

// TestLaunchFailures: a program that ends before it is ready, one that is
// never ready, one that fails on shutdown and one that does not stop are
// each reported, naming the program.
func TestLaunchFailures(t *testing.T) {
	const timeout = 100 * time.Millisecond
	failing := errors.New("no database")
	never := func(ctx context.Context, _ io.Writer, _ chan<- string) error { <-ctx.Done(); return nil }
	readyThen := func(end func(ctx context.Context) error) func(context.Context, io.Writer, chan<- string) error {
		return func(ctx context.Context, _ io.Writer, ready chan<- string) error {
			ready <- "127.0.0.1:1"
			return end(ctx)
		}
	}
	hang := make(chan struct{})
	defer close(hang)
	cases := []struct {
		name      string
		run       func(context.Context, io.Writer, chan<- string) error
		launchErr string // empty: launch succeeds
		stopErr   string // empty: stop succeeds
		wraps     error  // the error that the one reported wraps, if any
	}{
		{"Clean", readyThen(func(ctx context.Context) error { <-ctx.Done(); return nil }), "", "", nil},
		{"EndsBeforeReady", func(context.Context, io.Writer, chan<- string) error { return failing }, "prog stopped: no database", "", failing},
		{"NeverReady", never, "prog did not start within 100ms", "", nil},
		{"FailsOnShutdown", readyThen(func(ctx context.Context) error { <-ctx.Done(); return failing }), "", "prog shutdown: no database", failing},
		{"DoesNotStop", readyThen(func(context.Context) error { <-hang; return nil }), "", "prog did not stop within 100ms", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := launch("prog", timeout, c.run)
			if c.launchErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.launchErr) {
					t.Fatalf("launch: %v, want an error saying %q", err, c.launchErr)
				}
				if c.wraps != nil && !errors.Is(err, c.wraps) {
					t.Errorf("launch: %v does not wrap %v", err, c.wraps)
				}
				return
			}
			if err != nil {
				t.Fatalf("launch: %v", err)
			}
			if p.addr != "127.0.0.1:1" {
				t.Errorf("address %q, want the one sent on ready", p.addr)
			}
			err = p.stop()
			switch {
			case c.stopErr == "" && err != nil:
				t.Errorf("stop: %v", err)
			case c.stopErr != "" && (err == nil || !strings.Contains(err.Error(), c.stopErr)):
				t.Errorf("stop: %v, want an error saying %q", err, c.stopErr)
			case c.wraps != nil && !errors.Is(err, c.wraps):
				t.Errorf("stop: %v does not wrap %v", err, c.wraps)
			}
		})
	}
}
