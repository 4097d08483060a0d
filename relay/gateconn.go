package relay

// This file puts the request gate (gate.go) between pion and the relay's
// listeners: a wrapper for UDP listeners, and one for TCP and TLS
// connections that frames the stream again so the gate sees whole
// requests. The TCP wrapper also registers each client connection by its
// addresses, so that Server.EndSessions can close it.

import (
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"

	"github.com/pion/turn/v5"
)

// interpose wraps every listener of tc in the gate, and every relay
// address generator in a relayListenerTracker (see EndSessions).
func (s *Server) interpose(tc *turn.ServerConfig) {
	for i := range tc.PacketConnConfigs {
		c := &tc.PacketConnConfigs[i]
		c.PacketConn = &gatedPacketConn{PacketConn: c.PacketConn, srv: s}
		c.RelayAddressGenerator = relayListenerTracker{RelayAddressGenerator: c.RelayAddressGenerator, srv: s}
	}
	for i := range tc.ListenerConfigs {
		c := &tc.ListenerConfigs[i]
		c.Listener = &gatedListener{Listener: c.Listener, srv: s}
		c.RelayAddressGenerator = relayListenerTracker{RelayAddressGenerator: c.RelayAddressGenerator, srv: s}
	}
}

// gatedPacketConn is a UDP listener as pion reads it: the datagrams of the
// listener beneath, minus the requests the gate answered.
type gatedPacketConn struct {
	net.PacketConn
	srv *Server
}

func (c *gatedPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil || !gated(p[:n]) {
			return n, addr, err
		}
		resp := c.srv.gate(p[:n], addr, c.PacketConn.LocalAddr())
		if resp == nil {
			return n, addr, nil
		}
		_, _ = c.PacketConn.WriteTo(resp, addr)
	}
}

// gatedListener is a TCP or TLS listener whose connections pass the gate.
type gatedListener struct {
	net.Listener
	srv *Server
}

func (l *gatedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	gc := &gatedConn{Conn: c, srv: l.srv, key: clientKey(c.RemoteAddr(), c.LocalAddr())}
	l.srv.addClient(gc)
	return gc, nil
}

// gatedConn is a client's TCP or TLS connection as pion reads it: the
// stream of the connection beneath, minus the requests the gate answered.
// The stream beneath holds whole frames (the guard framed it), but a read
// may end inside one, so the gate frames it again in a buffer of its own.
type gatedConn struct {
	net.Conn
	srv       *Server
	key       string // clientKey of the connection
	closeOnce sync.Once
	rmu       sync.Mutex // serialises Read once the stream is unframed: pion reads an RFC 6062 data connection from its copy goroutine, then once more from its read loop
	// unframed is set by the reader once the stream is no longer framed
	// (an RFC 6062 data connection): from then on all passes. Until then
	// pion's read loop is the connection's only reader, and Read takes no
	// lock.
	unframed atomic.Bool

	// Read state, guarded by rmu:
	buf     []byte // buf[r:e] passed the gate, buf[e:w] is not examined yet
	r, e, w int
	skip    int   // bytes at e that pass unexamined (the rest of a frame the gate ignores)
	err     error // the read error to return once buf is drained
}

// gatedConnBuffer is the size of a connection's gate buffer: room for a
// whole gated request after any partial frame.
const gatedConnBuffer = 2 * maxGatedFrame

func (c *gatedConn) Read(p []byte) (int, error) {
	if !c.unframed.Load() {
		// pion starts a second reader only after a read returned the
		// ConnectionBind that set unframed, in this goroutine.
		return c.read(p)
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return c.read(p)
}

// read is Read, under rmu once the stream is unframed.
func (c *gatedConn) read(p []byte) (int, error) {
	if c.r == c.w && c.err == nil && c.unframed.Load() {
		return c.Conn.Read(p) // an RFC 6062 data connection: its bytes pass as they are
	}
	for c.e == c.r {
		if c.err != nil {
			return 0, c.err
		}
		c.fill()
	}
	n := copy(p, c.buf[c.r:c.e])
	c.r += n
	return n, nil
}

// fill reads once from the connection and examines what came.
func (c *gatedConn) fill() {
	if c.buf == nil {
		c.buf = make([]byte, gatedConnBuffer)
	}
	if c.r == c.w {
		c.r, c.e, c.w = 0, 0, 0
	} else if c.w == len(c.buf) { // here r == e: move the frame head in buf[e:w] to the front
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r, c.e = 0, 0
	}
	n, err := c.Conn.Read(c.buf[c.w:])
	c.w += n
	c.err = err
	c.examine()
	if err != nil {
		c.e = c.w // the stream ends: a partial frame goes on as it is
	}
}

// examine moves e over the frames in buf[e:w] that pass, answering and
// removing the requests the gate answers. It stops at a gated request
// that has not fully arrived.
func (c *gatedConn) examine() {
	for c.e < c.w {
		if c.unframed.Load() {
			c.e = c.w
			return
		}
		if c.skip > 0 {
			k := min(c.skip, c.w-c.e)
			c.e += k
			c.skip -= k
			continue
		}
		b := c.buf[c.e:c.w]
		if len(b) < 4 {
			return
		}
		var size int
		switch b[0] & 0xC0 {
		case 0x00: // STUN
			size = 20 + int(binary.BigEndian.Uint16(b[2:4]))
			if b[1] == 0x0B && b[0] == 0 { // ConnectionBind: raw data follows (RFC 6062)
				c.unframed.Store(true)
			}
		case 0x40: // ChannelData, padded to four bytes on streams
			size = 4 + (int(binary.BigEndian.Uint16(b[2:4]))+3)&^3
		default:
			c.unframed.Store(true)
			continue
		}
		if !gatedType(b) || size > maxGatedFrame {
			c.skip = size
			continue
		}
		if len(b) < size {
			return
		}
		if resp := c.srv.gate(b[:size], c.Conn.RemoteAddr(), c.Conn.LocalAddr()); resp != nil {
			_, _ = c.Conn.Write(resp)
			c.w = c.e + copy(c.buf[c.e:], c.buf[c.e+size:c.w])
			continue
		}
		c.e += size
	}
}

func (c *gatedConn) Close() error {
	c.closeOnce.Do(func() { c.srv.removeClient(c) })
	return c.Conn.Close()
}

// clientKey names a client connection by its addresses, as the sessions
// of its allocations do.
func clientKey(remote, local net.Addr) string { return remote.String() + "|" + local.String() }

func (s *Server) addClient(c *gatedConn) {
	s.mu.Lock()
	s.clients[c.key] = c
	s.mu.Unlock()
}

func (s *Server) removeClient(c *gatedConn) {
	s.mu.Lock()
	if s.clients[c.key] == c {
		delete(s.clients, c.key)
	}
	s.mu.Unlock()
}
