package relay

// This file wraps the TCP and TLS listeners so that no connection can be
// held without an allocation: accepted connections are tracked so Close can
// end them and allocation events can find them, capped per source and per
// listener, closed at a deadline until they hold an allocation and closed
// when it ends, framed through the guard, and padded on the way out.

import (
	"container/list"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// streamBuckets is the size of the table of pending connections per
// source: a keyed hash of the source IP picks the bucket, so no address is
// stored and the table never grows.
const streamBuckets = 1 << 14

// endGrace bounds the write of the last response (the Refresh that deleted
// the allocation) on a connection whose allocation ended.
const endGrace = 5 * time.Second

// streamLimits is what the relay's TCP and TLS listeners share: the
// connections by 5-tuple, so allocation events find theirs; the count of
// pending connections (those that hold no allocation) per source bucket;
// the limits; and counters.
type streamLimits struct {
	idle        time.Duration // how long a connection may hold no allocation; 0: no limit
	perSource   int           // pending connections per source bucket; 0: no cap
	perListener int           // connections per listener; 0: no cap
	seed        maphash.Seed

	refused  atomic.Uint64 // closed at accept: a per-source or per-listener cap
	evicted  atomic.Uint64 // displaced at the listener cap by a newer connection
	timedOut atomic.Uint64 // closed at the deadline without an allocation
	notTURN  atomic.Uint64 // closed for bytes that are neither STUN nor ChannelData

	mu      sync.Mutex // guards the following fields and those of the listeners and connections marked so
	pending [streamBuckets]uint16
	byTuple map[[2]netip.AddrPort]*trackedConn // by remote and local address
}

func newStreamLimits(cfg Config) *streamLimits {
	l := &streamLimits{
		perSource:   max(cfg.MaxPendingTCPConnsPerSource, 0),
		perListener: max(cfg.MaxTCPConnsPerListener, 0),
		seed:        maphash.MakeSeed(),
		byTuple:     make(map[[2]netip.AddrPort]*trackedConn),
	}
	if cfg.TCPIdleTimeout > 0 {
		l.idle = cfg.TCPIdleTimeout
	}
	return l
}

func tupleOf(remote, local net.Addr) [2]netip.AddrPort {
	r, _ := addrPortOf(remote)
	l, _ := addrPortOf(local)
	return [2]netip.AddrPort{r, l}
}

func (l *streamLimits) bucketOf(a netip.AddrPort) uint32 {
	raw := a.Addr().As16()
	return uint32(maphash.Bytes(l.seed, raw[:]) % streamBuckets)
}

// lookup returns the tracked connection with the given addresses, or nil.
func (l *streamLimits) lookup(remote, local net.Addr) *trackedConn {
	if _, ok := local.(*net.UDPAddr); ok {
		return nil // a UDP allocation, whose addresses may equal a TCP connection's
	}
	key := tupleOf(remote, local)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byTuple[key]
}

// streamAllocated is called when an allocation is created: if its client
// is on a TCP or TLS connection, the connection now holds an allocation and
// has no deadline.
func (s *Server) streamAllocated(src, dst net.Addr) {
	if c := s.streams.lookup(src, dst); c != nil {
		c.hold()
	}
}

// streamReleased is called when an allocation is deleted (refreshed to
// zero, expired, or ended with its connection): the connection it was made
// on closes, after the response to the request that deleted it, if any.
func (s *Server) streamReleased(src, dst net.Addr) {
	if c := s.streams.lookup(src, dst); c != nil {
		c.end()
	}
}

// trackedListener is a TCP or TLS listener whose connections are tracked
// and limited (see streamLimits).
type trackedListener struct {
	net.Listener
	srv *Server
	lim *streamLimits

	// guarded by lim.mu:
	conns   map[*trackedConn]struct{}
	pending list.List // of *trackedConn holding no allocation, oldest first
	closed  bool
}

func newTrackedListener(ln net.Listener, srv *Server) *trackedListener {
	return &trackedListener{Listener: ln, srv: srv, lim: srv.streams, conns: make(map[*trackedConn]struct{})}
}

// Accept returns the next connection within the caps. A temporary accept
// error (out of file descriptors) is retried with backoff, as net/http
// does, rather than returned: pion's server stops listening at the first
// error.
func (l *trackedListener) Accept() (net.Conn, error) {
	var backoff time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || l.isClosed() {
				return nil, err
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		tc, err := l.admit(c)
		if err != nil {
			return nil, err
		}
		if tc != nil {
			return tc, nil
		}
	}
}

func (l *trackedListener) isClosed() bool {
	l.lim.mu.Lock()
	defer l.lim.mu.Unlock()
	return l.closed
}

// admit tracks a new connection, or closes it and returns nil when a cap
// refuses it. At the listener cap, the oldest connection that holds no
// allocation makes room; only when every connection holds one is the new
// one refused.
func (l *trackedListener) admit(c net.Conn) (*trackedConn, error) {
	lim := l.lim
	tc := &trackedConn{Conn: c, ln: l, tuple: tupleOf(c.RemoteAddr(), c.LocalAddr())}
	tc.guard.srv = l.srv
	tc.bucket = lim.bucketOf(tc.tuple[0])
	var evict *trackedConn
	lim.mu.Lock()
	switch {
	case l.closed:
		lim.mu.Unlock()
		_ = c.Close()
		return nil, net.ErrClosed
	case lim.perSource > 0 && int(lim.pending[tc.bucket]) >= lim.perSource:
		lim.mu.Unlock()
		lim.refused.Add(1)
		_ = c.Close()
		return nil, nil
	case lim.perListener > 0 && len(l.conns) >= lim.perListener:
		front := l.pending.Front()
		if front == nil {
			lim.mu.Unlock()
			lim.refused.Add(1)
			_ = c.Close()
			return nil, nil
		}
		evict = front.Value.(*trackedConn)
		evict.release()
	}
	l.conns[tc] = struct{}{}
	lim.byTuple[tc.tuple] = tc
	tc.elem = l.pending.PushBack(tc)
	lim.pending[tc.bucket]++
	if lim.idle > 0 {
		tc.timer = time.AfterFunc(lim.idle, tc.expire)
	}
	lim.mu.Unlock()
	if evict != nil {
		lim.evicted.Add(1)
		_ = evict.Conn.Close()
	}
	return tc, nil
}

// closeConns closes every connection and refuses new ones: pion's server
// closes its listeners but not the TCP connections it accepted.
func (l *trackedListener) closeConns() {
	l.lim.mu.Lock()
	l.closed = true
	conns := make([]*trackedConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
		c.release()
	}
	l.lim.mu.Unlock()
	for _, c := range conns {
		_ = c.Conn.Close()
	}
}

// trackedConn is one client connection of a trackedListener.
type trackedConn struct {
	net.Conn
	ln     *trackedListener
	tuple  [2]netip.AddrPort // remote, local
	bucket uint32            // of the source IP in lim.pending

	guard streamGuard // used by the one goroutine that reads the conn
	rbuf  []byte      // read buffer, used by that goroutine
	told  bool        // errNotTURN was counted; used by that goroutine

	holding atomic.Bool // holds an allocation, or is a bound data connection
	ended   atomic.Bool // its allocation ended: Read returns io.EOF
	raw     atomic.Bool // an RFC 6062 data connection: bytes pass unframed

	// guarded by ln.lim.mu:
	elem     *list.Element // in ln.pending while the conn holds no allocation
	timer    *time.Timer   // the deadline, while pending
	released bool          // no longer counted anywhere

	rmu sync.Mutex // guards guard.in once raw is set

	wmu sync.Mutex // guards pad
	pad []byte     // scratch for padded ChannelData
}

// unpend takes c off the pending list and its source's count and stops its
// deadline. ln.lim.mu is held.
func (c *trackedConn) unpend() {
	if c.elem != nil {
		c.ln.pending.Remove(c.elem)
		c.elem = nil
		c.ln.lim.pending[c.bucket]--
	}
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}

// release forgets c everywhere. ln.lim.mu is held.
func (c *trackedConn) release() {
	if c.released {
		return
	}
	c.released = true
	c.unpend()
	delete(c.ln.conns, c)
	if c.ln.lim.byTuple[c.tuple] == c {
		delete(c.ln.lim.byTuple, c.tuple)
	}
}

// hold marks c as holding an allocation: it no longer counts as pending
// and has no deadline.
func (c *trackedConn) hold() {
	c.holding.Store(true)
	c.ln.lim.mu.Lock()
	c.unpend()
	c.ln.lim.mu.Unlock()
}

// expire closes c at its deadline if it still holds no allocation.
func (c *trackedConn) expire() {
	lim := c.ln.lim
	lim.mu.Lock()
	if c.elem == nil || c.released {
		lim.mu.Unlock()
		return
	}
	c.release()
	lim.mu.Unlock()
	lim.timedOut.Add(1)
	_ = c.Conn.Close()
}

// end closes c because its allocation ended. The reader is woken by a
// past read deadline and then finds c ended, so a response pion is about
// to write (to the Refresh that deleted the allocation) still goes out.
func (c *trackedConn) end() {
	if c.ended.Swap(true) {
		return
	}
	_ = c.Conn.SetWriteDeadline(time.Now().Add(endGrace))
	_ = c.Conn.SetReadDeadline(time.Unix(1, 0))
}

// Read returns the client's frames that pass the guard. It fails once the
// stream carries bytes that are neither STUN nor ChannelData, and returns
// io.EOF once the connection's allocation ended; either way pion's server
// then closes the connection.
func (c *trackedConn) Read(p []byte) (int, error) {
	for len(c.guard.ready) == 0 {
		switch {
		case c.guard.err != nil:
			if !c.told {
				c.told = true
				c.ln.lim.notTURN.Add(1)
			}
			return 0, c.guard.err
		case c.ended.Load():
			return 0, io.EOF
		case c.raw.Load():
			return c.readRaw(p)
		}
		if c.rbuf == nil {
			c.rbuf = make([]byte, 4096)
		}
		n, err := c.Conn.Read(c.rbuf)
		if n > 0 {
			c.guard.feed(c.rbuf[:n], c, c.holding.Load())
		}
		if err != nil {
			if len(c.guard.ready) > 0 {
				break
			}
			if c.ended.Load() {
				return 0, io.EOF
			}
			return 0, err
		}
	}
	n := copy(p, c.guard.ready)
	c.guard.ready = c.guard.ready[n:]
	return n, nil
}

// readRaw reads a data connection: the bytes the guard held when the
// connection turned raw, then the stream as it is. pion reads a data
// connection from a goroutine of its own, and its server's read loop reads
// it once more when it has closed, hence the lock.
func (c *trackedConn) readRaw(p []byte) (int, error) {
	c.rmu.Lock()
	if len(c.guard.in) > 0 {
		n := copy(p, c.guard.in)
		c.guard.in = c.guard.in[n:]
		c.rmu.Unlock()
		return n, nil
	}
	c.rmu.Unlock()
	return c.Conn.Read(p)
}

// Write pads ChannelData to a multiple of four bytes, as TCP framing
// requires (see padChannelData); the byte count returned is that of p. A
// ConnectionBind success response turns the connection into an RFC 6062
// data connection, whose bytes then pass as they are, both ways.
func (c *trackedConn) Write(p []byte) (int, error) {
	if c.raw.Load() {
		return c.Conn.Write(p)
	}
	if isConnectionBindSuccess(p) {
		n, err := c.Conn.Write(p)
		if err == nil {
			c.raw.Store(true)
			c.hold()
		}
		return n, err
	}
	if !needsPadding(p) {
		return c.Conn.Write(p) // no lock: pion's ChannelData is padded already
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	out := padChannelData(p, c.pad)
	c.pad = out[:0]
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// isConnectionBindSuccess reports whether p is a ConnectionBind success
// response (RFC 6062 6.2: message type 0x010B).
func isConnectionBindSuccess(p []byte) bool {
	return len(p) >= 20 && p[0] == 0x01 && p[1] == 0x0B && binary.BigEndian.Uint32(p[4:8]) == magicCookie
}

func (c *trackedConn) Close() error {
	c.ln.lim.mu.Lock()
	c.release()
	c.ln.lim.mu.Unlock()
	return c.Conn.Close()
}
