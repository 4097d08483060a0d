package relay

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// flakyListener fails its first Accepts with a temporary error, as a
// listener out of file descriptors does, then accepts one end of a pipe.
type flakyListener struct {
	fails int
	peer  net.Conn
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.fails > 0 {
		l.fails--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	a, b := net.Pipe()
	l.peer = b
	return a, nil
}
func (l *flakyListener) Close() error   { return nil }
func (l *flakyListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 3478} }

// TestAcceptRetries: a temporary accept error is retried rather than
// returned, since pion's server stops listening at the first error; a
// closed listener's error is returned.
func TestAcceptRetries(t *testing.T) {
	srv := &Server{cfg: Config{}}
	srv.streams = newStreamLimits(Config{TCPIdleTimeout: time.Minute})
	fl := &flakyListener{fails: 3}
	ln := newTrackedListener(fl, srv)
	c, err := ln.Accept()
	if err != nil {
		t.Fatalf("Accept after temporary errors: %v", err)
	}
	defer fl.peer.Close()
	ln.closeConns()
	if _, err := c.Write([]byte{0}); err == nil {
		t.Error("closeConns left the connection open")
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept on a closed listener: %v, want net.ErrClosed", err)
	}
}
