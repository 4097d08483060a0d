package main

// This file opens allocations with pion's TURN client the way a crowd of
// browsers behind one NAT would: every allocation from its own UDP socket
// on 127.0.0.1, Allocate (with its 401 round trip) then CreatePermission,
// a fixed number in flight.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// allocParams shapes an allocation load.
type allocParams struct {
	inflight int           // allocations in progress at once
	timeout  time.Duration // for one Allocate + CreatePermission
	deadline time.Duration // for the whole load: what has not started by then is not attempted
}

// allocStats is what opening a set of allocations measured.
type allocStats struct {
	attempted, failed int
	elapsed           time.Duration
	latencies         []time.Duration // of the successful ones, sorted
	firstErr          error
}

// perSecond returns the successful allocations per second.
func (s allocStats) perSecond() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(len(s.latencies)) / s.elapsed.Seconds()
}

// allocation is one open allocation and what it needs to close.
type allocation struct {
	conn   net.PacketConn
	client *turn.Client
	relay  net.PacketConn
}

// allocSet holds open allocations until close.
type allocSet struct {
	mu   sync.Mutex // guards open
	open []*allocation
}

// close deallocates every allocation (Refresh with lifetime 0) while the
// relay still answers, then closes the clients, eight at a time.
func (s *allocSet) close() {
	s.mu.Lock()
	open := s.open
	s.open = nil
	s.mu.Unlock()
	work := make(chan *allocation)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for a := range work {
				_ = a.relay.Close()
				a.client.Close()
				_ = a.conn.Close()
			}
		})
	}
	for _, a := range open {
		work <- a
	}
	close(work)
	wg.Wait()
}

func (s *allocSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

// openAllocations opens one allocation per credential against the relay at
// addr, each with a permission for peer, and adds them to set.
func openAllocations(ctx context.Context, set *allocSet, addr string, peer net.Addr, creds []credential, p allocParams) allocStats {
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	ctx, cancel := context.WithTimeout(ctx, p.deadline)
	defer cancel()

	var (
		mu    sync.Mutex // guards stats
		stats allocStats
		next  atomic.Int64
		wg    sync.WaitGroup
	)
	start := time.Now()
	for range p.inflight {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(creds) || ctx.Err() != nil {
					return
				}
				began := time.Now()
				a, err := allocate(ctx, addr, peer, creds[i], p.timeout, quiet)
				took := time.Since(began)
				mu.Lock()
				stats.attempted++
				if err != nil {
					stats.failed++
					if stats.firstErr == nil {
						stats.firstErr = err
					}
				} else {
					stats.latencies = append(stats.latencies, took)
				}
				mu.Unlock()
				if a != nil {
					set.mu.Lock()
					set.open = append(set.open, a)
					set.mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	stats.elapsed = time.Since(start)
	slices.Sort(stats.latencies)
	return stats
}

// allocate opens one allocation with a permission for peer.
func allocate(ctx context.Context, addr string, peer net.Addr, cred credential, timeout time.Duration, lf logging.LoggerFactory) (*allocation, error) {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	client, err := turn.NewClient(&turn.ClientConfig{
		TURNServerAddr: addr, STUNServerAddr: addr, Conn: conn,
		Username: cred.user, Password: cred.pass, Realm: benchRealm, LoggerFactory: lf,
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	if err := client.Listen(); err != nil {
		client.Close()
		conn.Close()
		return nil, err
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	relay, err := client.AllocateWithContext(actx)
	if err != nil {
		client.Close()
		conn.Close()
		return nil, fmt.Errorf("allocate: %w", err)
	}
	a := &allocation{conn: conn, client: client, relay: relay}
	if err := client.CreatePermission(peer); err != nil {
		err = fmt.Errorf("create permission: %w", err)
		return a, err // open, so it is closed with the others
	}
	return a, nil
}

// errNoSuccess is reported when a load had no successful allocation.
var errNoSuccess = errors.New("no allocation succeeded")
