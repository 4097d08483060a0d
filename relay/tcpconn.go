package relay

// This file wraps the TCP and TLS listeners: accepted connections are
// tracked so Close can end them, framed through the guard, and padded on
// the way out.

import (
	"net"
	"sync"
)

// trackedListener remembers accepted connections so Close can end them:
// pion's server closes its listeners but not the TCP connections it
// accepted.
type trackedListener struct {
	net.Listener
	srv *Server

	mu     sync.Mutex // guards the following fields
	conns  map[net.Conn]struct{}
	closed bool
}

func newTrackedListener(ln net.Listener, srv *Server) *trackedListener {
	return &trackedListener{Listener: ln, srv: srv, conns: make(map[net.Conn]struct{})}
}

func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: c, ln: l, guard: streamGuard{srv: l.srv}}
	l.conns[tc] = struct{}{}
	return tc, nil
}

func (l *trackedListener) closeConns() {
	l.mu.Lock()
	l.closed = true
	conns := l.conns
	l.conns = map[net.Conn]struct{}{}
	l.mu.Unlock()
	for c := range conns {
		_ = c.(*trackedConn).Conn.Close()
	}
}

type trackedConn struct {
	net.Conn
	ln    *trackedListener
	guard streamGuard // used by the one goroutine that reads the conn

	wmu sync.Mutex // guards pad
	pad []byte     // scratch for padded ChannelData
}

// Read returns the client's frames that pass the guard.
func (c *trackedConn) Read(p []byte) (int, error) {
	for len(c.guard.ready) == 0 {
		buf := make([]byte, 4096)
		n, err := c.Conn.Read(buf)
		if n > 0 {
			c.guard.feed(buf[:n], c)
		}
		if err != nil {
			if len(c.guard.ready) > 0 {
				break
			}
			return 0, err
		}
	}
	n := copy(p, c.guard.ready)
	c.guard.ready = c.guard.ready[n:]
	return n, nil
}

// Write pads ChannelData to a multiple of four bytes, as TCP framing
// requires (see padChannelData); the byte count returned is that of p.
func (c *trackedConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	out := padChannelData(p, c.pad)
	if len(out) == len(p) {
		return c.Conn.Write(p)
	}
	c.pad = out[:0]
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *trackedConn) Close() error {
	c.ln.mu.Lock()
	delete(c.ln.conns, c)
	c.ln.mu.Unlock()
	return c.Conn.Close()
}
