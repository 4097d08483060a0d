package relay_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"

	"github.com/turnkit/turnkit/relay"
)

// countingConn is a client socket that counts the Allocate requests it
// sends (on loopback, exactly the requests that reach the relay), the
// bytes of all its STUN requests, and the bytes of the replies it gets
// without MESSAGE-INTEGRITY.
type countingConn struct {
	net.PacketConn
	allocates atomic.Int64
	sent      atomic.Int64 // bytes of STUN requests
	unauth    atomic.Int64 // bytes of responses without MESSAGE-INTEGRITY
}

func (c *countingConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if len(p) >= 20 && p[0]&0xC1 == 0 && p[1]&0x10 == 0 { // a STUN request
		c.sent.Add(int64(len(p)))
		if binary.BigEndian.Uint16(p) == 0x0003 { // Allocate
			c.allocates.Add(1)
		}
	}
	return c.PacketConn.WriteTo(p, addr)
}

func (c *countingConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	if n > 0 {
		m := &stun.Message{Raw: append([]byte(nil), p[:n]...)}
		if m.Decode() == nil && m.Type.Class != stun.ClassRequest && m.Type.Class != stun.ClassIndication &&
			!m.Contains(stun.AttrMessageIntegrity) {
			c.unauth.Add(int64(n))
		}
	}
	return n, addr, err
}

// patientRTO is the retransmission timeout of clients whose requests are
// counted: long enough that a loaded machine never retransmits a request
// that was answered, so a retransmission means a dropped reply.
const patientRTO = time.Second

// countedClient is a pion client on a socket bound to local, counting its
// Allocate requests. Client and socket close with the test.
func countedClient(t testing.TB, s *relay.Server, local string, rto time.Duration) (*turn.Client, *countingConn) {
	t.Helper()
	c, cc, closeAll := newCountedClient(t, s, local, rto)
	t.Cleanup(closeAll)
	return c, cc
}

// newCountedClient is countedClient for a caller that closes it itself.
func newCountedClient(t testing.TB, s *relay.Server, local string, rto time.Duration) (*turn.Client, *countingConn, func()) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", local)
	if err != nil {
		t.Fatal(err)
	}
	cc := &countingConn{PacketConn: pc}
	user, pass := mint("first", time.Minute)
	server := s.UDPAddrs()[0].String()
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server, TURNServerAddr: server, Conn: cc,
		Username: user, Password: pass, Realm: s.Realm(), RTO: rto,
	})
	if err != nil {
		_ = pc.Close()
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		c.Close()
		_ = pc.Close()
		t.Fatal(err)
	}
	return c, cc, func() { c.Close(); _ = pc.Close() }
}

// allocateOnce allocates and closes the allocation at once.
func allocateOnce(c *turn.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := c.AllocateWithContext(ctx)
	if err != nil {
		return err
	}
	return rc.Close()
}

// TestFirstAllocateAnswered: a fresh relay answers the first,
// unauthenticated Allocate of a new source, so pion's client allocates
// with exactly two Allocate requests (the challenged one and the signed
// one) and no retransmission; the same holds for 50 new source IPs at
// once.
func TestFirstAllocateAnswered(t *testing.T) {
	t.Run("one source", func(t *testing.T) {
		s := newRelay(t, nil)
		c, cc := countedClient(t, s, "127.0.0.1:0", patientRTO)
		if err := allocateOnce(c); err != nil {
			t.Fatal(err)
		}
		if n := cc.allocates.Load(); n != 2 {
			t.Fatalf("the client sent %d Allocate requests, want 2: the first was not answered", n)
		}
		if st := s.Stats(); st.UnauthDropped != 0 || st.UnauthReplies == 0 {
			t.Fatalf("stats %+v: want replies and none dropped", st)
		}
	})
	t.Run("50 sources", func(t *testing.T) {
		s := newRelay(t, nil)
		var wg sync.WaitGroup
		errs := make([]error, 50)
		counts := make([]*countingConn, 50)
		clients := make([]*turn.Client, 50)
		for i := range 50 {
			clients[i], counts[i] = countedClient(t, s, fmt.Sprintf("127.0.0.%d:0", 10+i), patientRTO)
		}
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = allocateOnce(clients[i])
			}()
		}
		wg.Wait()
		for i := range 50 {
			if errs[i] != nil {
				t.Errorf("127.0.0.%d: %v", 10+i, errs[i])
			} else if n := counts[i].allocates.Load(); n != 2 {
				t.Errorf("127.0.0.%d sent %d Allocate requests, want 2", 10+i, n)
			}
		}
		if st := s.Stats(); st.UnauthDropped != 0 {
			t.Fatalf("%d unauthenticated replies dropped", st.UnauthDropped)
		}
	})
}

// TestChallengeSizes checks the sizes the default factor of 3 rests on: the
// smallest valid Allocate is 28 bytes, pion's first Allocate 36, and the
// 401 to either is at most 3 times the request (68 bytes with the default
// realm); a Binding response is at most 3 times the 20-byte request; and
// with a 24-byte realm, the longest that fits, the 401 is exactly 3 times
// the smallest Allocate and still answered at once.
func TestChallengeSizes(t *testing.T) {
	s := newRelay(t, func(c *relay.Config) { c.DisableAdmission = true })
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ask := func(m *stun.Message) int {
		t.Helper()
		if _, err := conn.WriteTo(m.Raw, s.UDPAddrs()[0]); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1500)
		_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no reply to %s: %v", m.Type, err)
		}
		return n
	}
	transport := stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: []byte{17, 0, 0, 0}}
	smallest := stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest), transport)
	pions := stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest), transport, stun.Fingerprint)
	binding := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	for _, tc := range []struct {
		name    string
		m       *stun.Message
		reqSize int
	}{
		{"smallest valid Allocate", smallest, 28},
		{"pion's first Allocate", pions, 36},
		{"Binding request", binding, 20},
	} {
		got := ask(tc.m)
		t.Logf("%s: %d bytes, reply %d bytes (%.2fx)", tc.name, len(tc.m.Raw), got, float64(got)/float64(len(tc.m.Raw)))
		if len(tc.m.Raw) != tc.reqSize {
			t.Errorf("%s is %d bytes, want %d", tc.name, len(tc.m.Raw), tc.reqSize)
		}
		if got > 3*len(tc.m.Raw) {
			t.Errorf("%s: reply of %d bytes is more than 3 times the request", tc.name, got)
		}
	}
	if got := ask(smallest); got != 68 {
		t.Errorf("401 to the smallest Allocate is %d bytes, want 68", got)
	}

	// The longest realm for which the smallest Allocate still pays for its
	// 401 under the default admission: 24 bytes, a 401 of exactly 84.
	long := newRelay(t, func(c *relay.Config) { c.Realm = "turn.example-company.com" })
	if _, err := conn.WriteTo(smallest.Raw, long.UDPAddrs()[0]); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, _, err := conn.ReadFrom(buf); err != nil || n != 3*len(smallest.Raw) {
		t.Errorf("24-byte realm: reply %d bytes, %v; want a 401 of %d bytes at once", n, err, 3*len(smallest.Raw))
	}
}

// unauthSource is a UDP socket on a loopback address that sends
// hand-built unauthenticated requests and counts what comes back.
type unauthSource struct {
	pc         net.PacketConn
	sent, back atomic.Int64
	replies    atomic.Int64
	done       chan struct{}
	onReply    func() // set before the reader starts
}

// newUnauthSource opens the socket; onReply, if given, is called for each
// reply.
func newUnauthSource(t testing.TB, local string, onReply ...func()) *unauthSource {
	t.Helper()
	pc, err := net.ListenPacket("udp4", local)
	if err != nil {
		t.Fatal(err)
	}
	if uc, ok := pc.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(1 << 20) // so a burst of replies is not lost here
	}
	u := &unauthSource{pc: pc, done: make(chan struct{})}
	if len(onReply) > 0 {
		u.onReply = onReply[0]
	}
	t.Cleanup(func() { _ = pc.Close() })
	go func() {
		defer close(u.done)
		buf := make([]byte, 1500)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			u.back.Add(int64(n))
			u.replies.Add(1)
			if u.onReply != nil {
				u.onReply()
			}
		}
	}()
	return u
}

// send sends one request to the relay.
func (u *unauthSource) send(t testing.TB, to net.Addr, msg []byte) {
	if _, err := u.pc.WriteTo(msg, to); err != nil {
		t.Error(err)
		return
	}
	u.sent.Add(int64(len(msg)))
}

// settle waits (bounded) until no reply has come for 200 ms, then closes
// the socket.
func (u *unauthSource) settle() { settleAll([]*unauthSource{u}) }

// settleAll waits, for at most 10 seconds, until none of the sources has
// had a reply for 200 ms, then closes them.
func settleAll(us []*unauthSource) {
	total := func() (n int64) {
		for _, u := range us {
			n += u.replies.Load()
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for last := int64(-1); time.Now().Before(deadline); {
		now := total()
		if now == last {
			break
		}
		last = now
		<-time.After(200 * time.Millisecond)
	}
	for _, u := range us {
		_ = u.pc.Close()
		<-u.done
	}
}

// allocateRequest is the smallest valid Allocate (28 bytes), or with
// tiny the smallest Allocate-shaped message (20 bytes), which draws a 401
// 3.4 times its size.
func allocateRequest(tiny bool) []byte {
	setters := []stun.Setter{stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest)}
	if !tiny {
		setters = append(setters, stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: []byte{17, 0, 0, 0}})
	}
	return stun.MustBuild(setters...).Raw
}

// TestNoAmplification: a flood of 20-byte Allocates, each of which draws
// a 401 of 68 bytes (3.4 times), gets back at most 3 times the bytes it
// sent; with admission off the same flood gets 3.4 times, so the bound is
// the relay's doing.
func TestNoAmplification(t *testing.T) {
	for _, tc := range []struct {
		name string
		off  bool
	}{{"admission on", false}, {"admission off", true}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newRelay(t, func(c *relay.Config) { c.DisableAdmission = tc.off })
			u := newUnauthSource(t, "127.0.0.1:0")
			pace := time.NewTicker(2 * time.Millisecond)
			for i := range 1000 {
				u.send(t, s.UDPAddrs()[0], allocateRequest(true))
				if i%20 == 19 {
					<-pace.C
				}
			}
			pace.Stop()
			u.settle()
			ratio := float64(u.back.Load()) / float64(u.sent.Load())
			t.Logf("%d bytes in, %d bytes back (%.3fx), %d replies", u.sent.Load(), u.back.Load(), ratio, u.replies.Load())
			if tc.off {
				if ratio <= 3 {
					t.Fatalf("with admission off the flood got back %.2fx: the comparison proves nothing", ratio)
				}
				return
			}
			if ratio > 3 {
				t.Fatalf("%.3fx back: more than 3 times", ratio)
			}
			if u.replies.Load() < 800 {
				t.Fatalf("only %d replies: credit that was paid for went unused", u.replies.Load())
			}
		})
	}
}

// TestBindingRate: 50 Binding requests a second from one IP, for a second,
// are all answered, and so is a burst of 500 at once: there is no
// per-source rate.
func TestBindingRate(t *testing.T) {
	s := newRelay(t, nil)
	u := newUnauthSource(t, "127.0.0.1:0")
	binding := func() []byte { return stun.MustBuild(stun.TransactionID, stun.BindingRequest).Raw }
	tick := time.NewTicker(20 * time.Millisecond)
	for range 50 {
		u.send(t, s.UDPAddrs()[0], binding())
		<-tick.C
	}
	tick.Stop()
	for range 500 {
		u.send(t, s.UDPAddrs()[0], binding())
	}
	u.settle()
	if got := u.replies.Load(); got != 550 {
		t.Fatalf("%d of 550 Binding requests answered (stats %+v)", got, s.Stats())
	}
}

// TestRelayWideCap: with the relay-wide cap at 4,000 bytes a second, 40
// sources flooding at once get back no more than the cap's burst and rate
// allow in total, and the relay counts the replies it held back.
func TestRelayWideCap(t *testing.T) {
	const perSecond = 4000
	s := newRelay(t, func(c *relay.Config) { c.UnauthBytesPerSecond = perSecond })
	start := time.Now()
	var sources []*unauthSource
	for i := range 40 {
		sources = append(sources, newUnauthSource(t, fmt.Sprintf("127.0.1.%d:0", 1+i)))
	}
	for range 20 {
		for _, u := range sources {
			u.send(t, s.UDPAddrs()[0], allocateRequest(false))
		}
	}
	settleAll(sources)
	var back int64
	for _, u := range sources {
		back += u.back.Load()
	}
	allowed := perSecond + perSecond*time.Since(start).Seconds()
	st := s.Stats()
	t.Logf("%d bytes back in %s (cap allows %.0f); %d replies held back", back, time.Since(start).Round(time.Millisecond), allowed, st.UnauthOverRate)
	if float64(back) > allowed {
		t.Fatalf("%d bytes reflected, more than the %.0f the cap allows", back, allowed)
	}
	if st.UnauthOverRate == 0 || uint64(back) != st.UnauthReplyBytes {
		t.Fatalf("stats %+v, %d bytes received", st, back)
	}
}
