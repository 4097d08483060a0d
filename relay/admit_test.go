package relay_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"

	"github.com/turnkit/turnkit/relay"
)

// switchAdmitter admits until refuse is set, and records what it was
// asked.
type switchAdmitter struct {
	refuse atomic.Bool
	mu     sync.Mutex
	asked  []relay.AdmitRequest
}

func (a *switchAdmitter) Admit(_ context.Context, req *relay.AdmitRequest) error {
	a.mu.Lock()
	a.asked = append(a.asked, *req)
	a.mu.Unlock()
	if a.refuse.Load() {
		return errors.New("app paused")
	}
	return nil
}

func (a *switchAdmitter) requests() []relay.AdmitRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]relay.AdmitRequest(nil), a.asked...)
}

// rawOver returns a raw client on UDP, or on a TCP connection (framed by
// pion's STUNConn), with a credential carrying an API key and a gateway.
func rawOver(t *testing.T, s *relay.Server, network string) *rawClient {
	t.Helper()
	c := newRawClient(t, s)
	c.user, c.pass = mintFull("paused", "key7", "ab12")
	if network == "tcp" {
		conn, err := net.DialTimeout("tcp", s.TCPAddrs()[0].String(), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		c.conn, c.server = turn.NewSTUNConn(conn), conn.RemoteAddr()
	}
	return c
}

// TestAdmitterRefresh: the Admitter is asked at Allocate and at every
// Refresh that extends the allocation, with the method, the API key and
// the gateway of the credential; once it refuses, a Refresh with a
// lifetime (or with none: the default) gets 403 signed with the
// credential, a new Allocate gets 401, and a Refresh to lifetime 0 still
// deletes the allocation.
func TestAdmitterRefresh(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			adm := &switchAdmitter{}
			log := &eventLog{}
			s := newRelay(t, func(c *relay.Config) { c.Admitter, c.Sink = adm, log })
			c := rawOver(t, s, network)
			c.allocate()
			if res := c.do(stun.MethodRefresh, lifetime(600)); res.Type.Class != stun.ClassSuccessResponse {
				t.Fatalf("Refresh while admitted: %s", res)
			}
			asked := adm.requests()
			if len(asked) != 2 || asked[0].Method != relay.MethodAllocate || asked[1].Method != relay.MethodRefresh {
				t.Fatalf("Admitter asked %+v, want an Allocate then a Refresh", asked)
			}
			for _, r := range asked {
				if r.AppID != "paused" || r.KeyID != "key7" || r.Gateway != "ab12" || r.RelayID != s.ID() || r.Username != c.user {
					t.Errorf("AdmitRequest %+v: want app paused, key key7, gateway ab12, relay %s", r, s.ID())
				}
			}

			adm.refuse.Store(true)
			failures := s.Stats().AuthFailures
			c.expectError("Refresh with a lifetime, app refused", c.do(stun.MethodRefresh, lifetime(600)), stun.CodeForbidden)
			c.expectError("Refresh without LIFETIME, app refused", c.do(stun.MethodRefresh), stun.CodeForbidden)
			if got := s.Stats().AuthFailures - failures; got != 2 {
				t.Errorf("AuthFailures grew by %d for two refused refreshes, want 2", got)
			}
			if got := s.Stats().Allocations; got != 1 {
				t.Fatalf("Allocations = %d: a refused Refresh must not delete the allocation", got)
			}
			if res := c.do(stun.MethodRefresh, lifetime(0)); res.Type.Class != stun.ClassSuccessResponse {
				t.Fatalf("Refresh to lifetime 0 of a refused app: %s, want success (deallocation)", res)
			}
			waitFor(t, "the session to end", func() bool {
				log.mu.Lock()
				defer log.mu.Unlock()
				return len(log.ended) == 1
			})
			if network == "udp" {
				// A new Allocate (on UDP; on TCP the connection closed with
				// its allocation) gets 401 after authenticating.
				res := c.do(stun.MethodAllocate, stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: []byte{17, 0, 0, 0}})
				var code stun.ErrorCodeAttribute
				if code.GetFrom(res) != nil || code.Code != stun.CodeUnauthorized {
					t.Fatalf("Allocate of a refused app: %s, want 401", res)
				}
			}
		})
	}
}

// TestRefreshWithoutAdmitter: with no Admitter, the gate lets every
// Refresh through to pion.
func TestRefreshWithoutAdmitter(t *testing.T) {
	s := newRelay(t, nil)
	c := newRawClient(t, s)
	c.allocate()
	for _, attrs := range [][]stun.Setter{{lifetime(600)}, nil, {lifetime(0)}} {
		if res := c.do(stun.MethodRefresh, attrs...); res.Type.Class != stun.ClassSuccessResponse {
			t.Fatalf("Refresh %v: %s", attrs, res)
		}
	}
}

// TestRefusedRefreshNeedsIntegrity: the gate answers 403 only to a Refresh
// signed with the credential; one signed with a wrong password gets pion's
// 401, whatever the Admitter says.
func TestRefusedRefreshNeedsIntegrity(t *testing.T) {
	adm := &switchAdmitter{}
	s := newRelay(t, func(c *relay.Config) { c.Admitter = adm })
	c := newRawClient(t, s)
	c.allocate()
	adm.refuse.Store(true)
	good := c.pass
	c.pass = "not the password"
	res := c.do(stun.MethodRefresh, lifetime(600))
	var code stun.ErrorCodeAttribute
	if code.GetFrom(res) != nil || code.Code != stun.CodeUnauthorized {
		t.Fatalf("Refresh with a wrong password: %s, want 401", res)
	}
	c.pass = good
	c.expectError("Refresh with the password", c.do(stun.MethodRefresh, lifetime(600)), stun.CodeForbidden)
}
