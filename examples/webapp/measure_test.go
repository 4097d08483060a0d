package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/browsertest"
	"github.com/turnkit/turnkit/internal/turntest"
)

// measureRuns is how many calls each relay gets per transport.
const measureRuns = 5

// TestMeasureOpenTime measures, in headless Chromium, the time from
// createOffer to an open data channel between the page's two relay-only
// peer connections, through (a) turnkit's relay in a fresh Kit per call
// and (b) coturn's turnserver sharing the Kit's relay secret, alternated,
// measureRuns calls each, over UDP and over TCP. It logs every call and the
// medians, with the Allocate requests Chromium sent before its first 401
// (from Chromium's own log). It asserts only that every call connects: the
// machine is shared and the figures are for reading, not for gating.
//
//	go test -run TestMeasureOpenTime -v ./examples/webapp/
func TestMeasureOpenTime(t *testing.T) {
	if testing.Short() {
		t.Skip("a measurement; skipped with -short")
	}
	coturnAddr := turntest.StartCoturn(t, turntest.CoturnOptions{Secret: coturnSecret}).Addr
	coturnApp := startApp(t, func(c *turnkit.Config) {
		c.NoRelay = true
		c.RelaySecret = coturnSecret
		c.Relays = []turnkit.RelayEndpoint{{ID: "coturn", Region: "local", URLs: []string{
			"turn:" + coturnAddr + "?transport=udp", "turn:" + coturnAddr + "?transport=tcp"}}}
	})

	chromeLog := &lockedBuffer{}
	b := browsertest.Start(t, browsertest.Options{
		Output: chromeLog,
		// WebRTC's TURN port logs each Allocate it sends at verbosity 1.
		Flags: map[string]any{"enable-logging": "stderr", "vmodule": "turn_port=1"},
	})

	type sample struct {
		open, gather float64
		unauth       []int // per TURN port: Allocates sent before the 401
	}
	results := map[string][]sample{}
	measure := func(t *testing.T, relayName, url, transport string) {
		from := chromeLog.Len()
		r := clickCall(t, b, url, transport, 10)
		if r.Received != r.Sent || !r.InOrder || r.Pair.Local.Type != "relay" || r.Pair.Local.RelayProtocol != transport {
			t.Fatalf("%s over %s: %d of %d messages (in order %v), pair %+v", relayName, transport, r.Received, r.Sent, r.InOrder, r.Pair)
		}
		s := sample{open: r.OpenMs, gather: max(r.FirstCandidateMs["a"], r.FirstCandidateMs["b"]),
			unauth: unauthAllocates(chromeLog.From(from))}
		key := relayName + "/" + transport
		results[key] = append(results[key], s)
		t.Logf("%-7s %s run %d: open %6.1f ms, both relay candidates %6.1f ms, Allocates before the 401 per port %v",
			relayName, transport, len(results[key]), s.open, s.gather, s.unauth)
	}
	for _, transport := range []string{"udp", "tcp"} {
		for i := range measureRuns {
			t.Run(fmt.Sprintf("%s/turnkit/%d", transport, i), func(t *testing.T) {
				measure(t, "turnkit", startApp(t, nil).url, transport)
			})
			t.Run(fmt.Sprintf("%s/coturn/%d", transport, i), func(t *testing.T) {
				measure(t, "coturn", coturnApp.url, transport)
			})
		}
	}
	b.RequireNoErrors(t)

	for _, transport := range []string{"udp", "tcp"} {
		tk, ct := results["turnkit/"+transport], results["coturn/"+transport]
		if len(tk) != measureRuns || len(ct) != measureRuns {
			t.Fatalf("%s: %d turnkit and %d coturn calls, want %d each", transport, len(tk), len(ct), measureRuns)
		}
		open := func(s []sample) float64 { return median(s, func(x sample) float64 { return x.open }) }
		gather := func(s []sample) float64 { return median(s, func(x sample) float64 { return x.gather }) }
		t.Logf("%s, createOffer → open data channel, median of %d: turnkit %.1f ms, coturn %.1f ms (ratio %.2f); both relay candidates: turnkit %.1f ms, coturn %.1f ms",
			strings.ToUpper(transport), measureRuns, open(tk), open(ct), open(tk)/open(ct), gather(tk), gather(ct))
	}
}

func median[T any](xs []T, f func(T) float64) float64 {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	slices.Sort(v)
	if n := len(v); n%2 == 1 {
		return v[n/2]
	} else if n > 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return 0
}

var (
	allocateSent = regexp.MustCompile(`Port\[([0-9a-f]+):.*?: TURN allocate request sent, id=([0-9a-f]+)`)
	allocate401  = regexp.MustCompile(`Port\[([0-9a-f]+):.*?: Received TURN allocate error response, id=([0-9a-f]+), code=401`)
)

// unauthAllocates reads Chromium's log of one call and returns, per TURN
// port in the order they started, how many times it sent its first
// (unauthenticated) Allocate before the 401 came back: 1 means answered at
// once, 2 or more means Chromium had to retransmit.
func unauthAllocates(log string) []int {
	first := map[string]string{} // port → id of its first Allocate
	sends := map[string]int{}
	var order []string
	for _, m := range allocateSent.FindAllStringSubmatch(log, -1) {
		port, id := m[1], m[2]
		if _, ok := first[port]; !ok {
			first[port] = id
			order = append(order, port)
		}
		if first[port] == id {
			sends[port]++
		}
	}
	answered := map[string]bool{}
	for _, m := range allocate401.FindAllStringSubmatch(log, -1) {
		if first[m[1]] == m[2] {
			answered[m[1]] = true
		}
	}
	out := make([]int, 0, len(order))
	for _, p := range order {
		n := sends[p]
		if !answered[p] {
			n = -n // never challenged (for example allocated without a 401)
		}
		out = append(out, n)
	}
	return out
}

const coturnSecret = "coturn-shared-secret-0123456789"

// lockedBuffer collects a child process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Len returns how many bytes were written so far.
func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

// From returns what was written from offset on.
func (l *lockedBuffer) From(offset int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()[offset:]
}
