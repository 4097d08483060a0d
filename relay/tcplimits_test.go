package relay_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"

	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

// dialFrom opens a TCP connection to addr from the loopback IP local.
func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// closedWithin waits up to d for the relay to close c, and returns how long
// it took from since, or fails the test if c is still open.
func closedWithin(t *testing.T, c net.Conn, d time.Duration, since time.Time) time.Duration {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 512)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("connection still open after %s", d)
		}
		return time.Since(since)
	}
}

// bindingOK sends a Binding request on c and checks that it is answered.
func bindingOK(t *testing.T, c net.Conn) {
	t.Helper()
	m := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	if _, err := c.Write(m.Raw); err != nil {
		t.Fatalf("Binding request: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 20)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("Binding response: %v", err)
	}
	n := int(buf[2])<<8 | int(buf[3])
	if _, err := io.ReadFull(c, make([]byte, n)); err != nil || buf[0] != 0x01 || buf[1] != 0x01 {
		t.Fatalf("Binding response %x: %v", buf, err)
	}
	_ = c.SetReadDeadline(time.Time{})
}

// TestTCPIdleDeadline: a TCP connection that holds no allocation is closed
// at TCPIdleTimeout, whether it sends nothing, a truncated STUN header, a
// header whose body never comes, or valid Binding requests; so is a TLS
// connection that never completes its handshake, or completes it and sends
// nothing.
func TestTCPIdleDeadline(t *testing.T) {
	const idle = 300 * time.Millisecond
	cert := selfSigned(t)
	s := newRelay(t, func(c *relay.Config) {
		c.TCPIdleTimeout = idle
		c.TLSAddrs = []string{"127.0.0.1:0"}
		c.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	})
	tcpAddr, tlsAddr := s.TCPAddrs()[0].String(), s.TCPAddrs()[1].String()
	header := stun.MustBuild(stun.TransactionID, stun.BindingRequest).Raw
	withBody := append([]byte(nil), header...)
	withBody[3] = 8 // announces 8 bytes of attributes that never come
	plain := func(t *testing.T) net.Conn { return dialFrom(t, "127.0.0.1", tcpAddr) }
	cases := []struct {
		name string
		dial func(*testing.T) net.Conn
		send func(*testing.T, net.Conn)
	}{
		{"idle", plain, func(*testing.T, net.Conn) {}},
		{"truncated header", plain, func(_ *testing.T, c net.Conn) { _, _ = c.Write(header[:3]) }},
		{"header without its body", plain, func(_ *testing.T, c net.Conn) { _, _ = c.Write(withBody) }},
		{"Binding only", plain, func(t *testing.T, c net.Conn) { bindingOK(t, c); bindingOK(t, c) }},
		{"TLS, no handshake", func(t *testing.T) net.Conn { return dialFrom(t, "127.0.0.1", tlsAddr) },
			func(*testing.T, net.Conn) {}},
		{"TLS, handshake and nothing more", func(t *testing.T) net.Conn {
			return tls.Client(dialFrom(t, "127.0.0.1", tlsAddr), &tls.Config{InsecureSkipVerify: true})
		}, func(t *testing.T, c net.Conn) {
			if err := c.(*tls.Conn).Handshake(); err != nil {
				t.Fatalf("handshake: %v", err)
			}
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			c := tc.dial(t)
			tc.send(t, c)
			took := closedWithin(t, c, 5*time.Second, start)
			if took < idle {
				t.Fatalf("closed after %s, before the %s deadline", took, idle)
			}
			turntest.Eventually(t, "TCPTimedOut to count it", func() bool { return s.Stats().TCPTimedOut == uint64(i+1) })
		})
	}
}

// TestTCPNotTURN: bytes that are neither STUN nor ChannelData close a
// connection at once, long before the 60-second deadline: an HTTP request,
// a TLS ClientHello on the plain port, an SSH banner, a STUN-like header
// with a wrong magic cookie, and ChannelData before any allocation.
func TestTCPNotTURN(t *testing.T) {
	s := newRelay(t, nil) // TCPIdleTimeout: 60 s
	addr := s.TCPAddrs()[0].String()
	badCookie := stun.MustBuild(stun.TransactionID, stun.BindingRequest).Raw
	badCookie[4] ^= 0xFF
	cases := []struct {
		name string
		send func(*testing.T, net.Conn)
	}{
		{"GET /", func(_ *testing.T, c net.Conn) { _, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: relay\r\n\r\n")) }},
		{"TLS ClientHello", func(t *testing.T, c net.Conn) {
			tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
			if err := tc.Handshake(); err == nil {
				t.Fatal("TLS handshake succeeded on the plain TCP port")
			}
		}},
		{"SSH banner", func(_ *testing.T, c net.Conn) { _, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n")) }},
		{"wrong magic cookie", func(_ *testing.T, c net.Conn) { _, _ = c.Write(badCookie[:6]) }},
		{"ChannelData without allocation", func(_ *testing.T, c net.Conn) { _, _ = c.Write([]byte{0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4}) }},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			c := dialFrom(t, "127.0.0.1", addr)
			tc.send(t, c)
			t.Logf("closed after %s", closedWithin(t, c, 5*time.Second, start).Round(time.Millisecond))
			turntest.Eventually(t, "TCPNotTURN to count it", func() bool { return s.Stats().TCPNotTURN == uint64(i+1) })
		})
	}
}

// TestTCPPerSourceCap: past MaxPendingTCPConnsPerSource connections that
// hold no allocation, a source's new connection is closed at once, while
// connections from another IP are served and a connection that holds an
// allocation does not count; when a pending connection closes, its slot is
// free again.
func TestTCPPerSourceCap(t *testing.T) {
	s := newRelay(t, func(c *relay.Config) { c.MaxPendingTCPConnsPerSource = 3 })
	addr := s.TCPAddrs()[0].String()
	user, pass := mint("tcpcap", time.Minute)
	held := turntest.Dial(t, "tcp", addr, nil, user, pass, s.Realm())
	if _, err := allocate(t, held); err != nil {
		t.Fatalf("allocation over TCP: %v", err)
	}
	var pending []net.Conn
	for range 3 {
		c := dialFrom(t, "127.0.0.1", addr)
		bindingOK(t, c)
		pending = append(pending, c)
	}
	over := dialFrom(t, "127.0.0.1", addr)
	closedWithin(t, over, 5*time.Second, time.Now())
	if got := s.Stats().TCPRefused; got != 1 {
		t.Fatalf("TCPRefused = %d, want 1", got)
	}
	bindingOK(t, dialFrom(t, "127.0.0.2", addr)) // another source
	for _, c := range pending {
		bindingOK(t, c) // the first three are still served
	}
	_ = pending[0].Close()
	turntest.Eventually(t, "a new connection from the source to be served", func() bool {
		c := dialFrom(t, "127.0.0.1", addr)
		if _, err := c.Write(stun.MustBuild(stun.TransactionID, stun.BindingRequest).Raw); err != nil {
			return false
		}
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		_, err := io.ReadFull(c, make([]byte, 20))
		return err == nil
	})
}

// TestTCPListenerCap: at MaxTCPConnsPerListener, a new connection displaces
// the oldest one that holds no allocation; connections with allocations
// are never displaced, and when every connection holds one, the new one is
// closed at once.
func TestTCPListenerCap(t *testing.T) {
	s := newRelay(t, func(c *relay.Config) {
		c.MaxTCPConnsPerListener = 3
		c.MaxPendingTCPConnsPerSource = -1
	})
	addr := s.TCPAddrs()[0].String()
	peer := echoPeer(t)
	allocated := func() net.PacketConn {
		t.Helper()
		user, pass := mint("tcplisten", time.Minute)
		rc, err := allocate(t, turntest.Dial(t, "tcp", addr, nil, user, pass, s.Realm()))
		if err != nil {
			t.Fatalf("allocation over TCP: %v", err)
		}
		return rc
	}
	echo := func(rc net.PacketConn) {
		t.Helper()
		if _, err := rc.WriteTo([]byte("still relaying"), peer); err != nil {
			t.Fatal(err)
		}
		_ = rc.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, _, err := rc.ReadFrom(make([]byte, 100)); err != nil {
			t.Fatalf("echo through an allocation on a full listener: %v", err)
		}
	}
	x := allocated()
	oldest := dialFrom(t, "127.0.0.1", addr)
	bindingOK(t, oldest)
	newer := dialFrom(t, "127.0.0.1", addr)
	bindingOK(t, newer)
	newest := dialFrom(t, "127.0.0.1", addr)
	closedWithin(t, oldest, 5*time.Second, time.Now())
	bindingOK(t, newer)
	bindingOK(t, newest)
	echo(x)
	if st := s.Stats(); st.TCPEvicted != 1 || st.TCPRefused != 0 {
		t.Fatalf("TCPEvicted %d, TCPRefused %d; want 1 and 0", st.TCPEvicted, st.TCPRefused)
	}

	// Fill the listener with allocations: newer and newest are displaced
	// in turn, then a connection finds no room.
	y := allocated()
	z := allocated()
	closedWithin(t, newer, 5*time.Second, time.Now())
	closedWithin(t, newest, 5*time.Second, time.Now())
	refused := dialFrom(t, "127.0.0.1", addr)
	closedWithin(t, refused, 5*time.Second, time.Now())
	for _, rc := range []net.PacketConn{x, y, z} {
		echo(rc)
	}
	if st := s.Stats(); st.TCPEvicted != 3 || st.TCPRefused != 1 {
		t.Fatalf("TCPEvicted %d, TCPRefused %d; want 3 and 1", st.TCPEvicted, st.TCPRefused)
	}
}

// closeWatch is a client's TCP connection that reports when the relay
// closes it.
type closeWatch struct {
	net.Conn
	closed chan struct{}
	once   bool
}

func (c *closeWatch) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil && !c.once {
		c.once = true
		close(c.closed)
	}
	return n, err
}

// TestTCPAllocationEndCloses: the relay closes a client's TCP connection
// when its allocation ends, whether the client deletes it (Refresh with
// lifetime 0, which is still answered) or lets it expire.
func TestTCPAllocationEndCloses(t *testing.T) {
	t.Run("refresh 0", func(t *testing.T) {
		s := newRelay(t, nil)
		conn := &closeWatch{Conn: dialFrom(t, "127.0.0.1", s.TCPAddrs()[0].String()), closed: make(chan struct{})}
		user, pass := mint("tcpend", time.Minute)
		c := turntest.Dial(t, "", s.TCPAddrs()[0].String(), conn, user, pass, s.Realm())
		rc, err := allocate(t, c)
		if err != nil {
			t.Fatal(err)
		}
		if err := rc.Close(); err != nil {
			t.Fatalf("deallocation (Refresh 0) was not answered: %v", err)
		}
		select {
		case <-conn.closed:
		case <-time.After(5 * time.Second):
			t.Fatal("the connection stayed open after its allocation was deleted")
		}
	})
	t.Run("expiry", func(t *testing.T) {
		const lifetime = 500 * time.Millisecond
		s := newRelay(t, func(c *relay.Config) { c.AllocationLifetime = lifetime })
		conn := dialFrom(t, "127.0.0.1", s.TCPAddrs()[0].String())
		rc := &rawClient{t: t, conn: turn.NewSTUNConn(conn), server: conn.RemoteAddr()}
		rc.user, rc.pass = mint("tcpexpiry", time.Minute)
		rc.allocate()
		start := time.Now()
		took := closedWithin(t, conn, 5*time.Second, start)
		t.Logf("closed %s after the allocation", took.Round(time.Millisecond))
	})
}

// TestTCPDataConnection: an RFC 6062 TCP allocation's data connection
// passes the bytes of the peer's stream as they are, even ones that read
// like HTTP, which on a control connection would close it.
func TestTCPDataConnection(t *testing.T) {
	s := newRelay(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.3:0") // a TCP echo peer on the allowed address
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	user, pass := mint("rfc6062", time.Minute)
	c := turntest.Dial(t, "tcp", s.TCPAddrs()[0].String(), nil, user, pass, s.Realm())
	alloc, err := c.AllocateTCP()
	if err != nil {
		t.Fatalf("AllocateTCP: %v", err)
	}
	t.Cleanup(func() { _ = alloc.Close() })
	data, err := alloc.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("data connection: %v", err)
	}
	defer data.Close()
	msg := []byte("GET / HTTP/1.1\r\n\r\n\x16\x03\x01 odd bytes")
	if _, err := data.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	_ = data.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.ReadFull(data, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo over the data connection: %q, %v", got, err)
	}
}
