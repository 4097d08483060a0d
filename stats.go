package turnkit

import (
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/turnkit/turnkit/relay"
)

// This file holds the Kit's own counters and their snapshot, Stats: what
// the relay does not count (HTTP requests, ledger charges, store latency,
// the fleet's health, event delivery). A monitoring package such as
// turnkit/metrics reads them at scrape time.

// Stats is a snapshot of a Kit's counters, taken by Kit.Stats. Every
// breakdown is by a fixed, small set of values (endpoints, status codes,
// operations, results) or by relay region: never by app, key, username,
// session or address, so that its size does not grow with traffic.
type Stats struct {
	// Relay holds the in-process relay's counters (relay.Server.Stats);
	// zero when HasRelay is false.
	Relay relay.Stats
	// HasRelay reports whether the Kit runs an in-process relay.
	HasRelay bool

	// Requests counts the HTTP requests the Kit's handlers answered, by
	// endpoint and status code. Only non-zero counts are listed, in the
	// order of Endpoints() and then of the codes.
	Requests []RequestCount

	// Charges counts the usage deltas the Ledger was asked to charge, by
	// result.
	Charges ChargeCounts
	// ChargeLatency is the duration of the Ledger's charge calls: one per
	// delta with Charge, one per batch with ChargeBatch.
	ChargeLatency Histogram

	// Store holds the latency of the store calls the Kit makes on its
	// request, relay and sweep paths, one entry per operation of
	// StoreOps(), in that order.
	Store []StoreLatency

	// Fleet is the health of the relays in the registry, by region, as of
	// the last Sweep (FleetAt); nil before the first one.
	Fleet []RegionHealth
	// FleetAt is when Fleet was taken.
	FleetAt time.Time

	// EventsDelivered counts the events handed to Config.OnEvent;
	// EventsDropped, those dropped because its queue was full (or the Kit
	// was closing).
	EventsDelivered, EventsDropped uint64
}

// Endpoint names an HTTP endpoint in the Kit's request counts. It is one
// of the constants below: any other value is counted as EndpointOther, so
// that a metric labelled by it has a bounded number of series.
type Endpoint string

// The endpoints the Kit counts requests of.
const (
	// EndpointNative is POST /v1/credentials with the key in the body.
	EndpointNative Endpoint = "native"
	// EndpointExchange is POST /v1/exchange.
	EndpointExchange Endpoint = "exchange"
	// EndpointTurnix is Turnix's POST /credentials/ice.
	EndpointTurnix Endpoint = "turnix"
	// EndpointMetered is Metered's /api/v1/turn/ endpoints.
	EndpointMetered Endpoint = "metered"
	// EndpointBaton is Baton's POST /v1/credentials with a Bearer key.
	EndpointBaton Endpoint = "baton"
	// EndpointOther is any other handler wrapped with Kit.CountRequests.
	EndpointOther Endpoint = "other"
)

// endpoints lists every Endpoint, in the order Stats.Requests uses.
var endpoints = [...]Endpoint{EndpointNative, EndpointExchange, EndpointTurnix, EndpointMetered, EndpointBaton, EndpointOther}

// Endpoints returns every Endpoint the Kit counts, in the order
// Stats.Requests uses.
func Endpoints() []Endpoint { return slices.Clone(endpoints[:]) }

// endpointIndex returns the index of e in endpoints; other values count as
// EndpointOther.
func endpointIndex(e Endpoint) int {
	if i := slices.Index(endpoints[:], e); i >= 0 {
		return i
	}
	return len(endpoints) - 1
}

// statusCodes are the status codes counted on their own; any other is
// counted by its class ("1xx" to "5xx"), and one outside 100–599 as
// "other".
var statusCodes = [...]int{200, 201, 204, 304, 400, 401, 402, 403, 404, 405, 409, 413, 415, 429, 500, 502, 503, 504}

// codeLabels are the labels of the code slots: statusCodes, then the five
// classes, then "other".
var codeLabels = func() [len(statusCodes) + 6]string {
	var l [len(statusCodes) + 6]string
	for i, c := range statusCodes {
		l[i] = strconv.Itoa(c)
	}
	for c := 1; c <= 5; c++ {
		l[len(statusCodes)+c-1] = strconv.Itoa(c) + "xx"
	}
	l[len(l)-1] = "other"
	return l
}()

// codeSlot returns the slot of a status code in codeLabels.
func codeSlot(code int) int {
	if i := slices.Index(statusCodes[:], code); i >= 0 {
		return i
	}
	if code >= 100 && code <= 599 {
		return len(statusCodes) + code/100 - 1
	}
	return len(codeLabels) - 1
}

// RequestCount is the number of HTTP requests to one endpoint answered
// with one status code.
type RequestCount struct {
	// Endpoint is the endpoint.
	Endpoint Endpoint
	// Code is the status code ("200", "401", …), or its class ("4xx") for
	// a code outside the common ones, or "other".
	Code string
	// Count is the number of requests.
	Count uint64
}

// ChargeCounts counts usage deltas by the result of charging them.
type ChargeCounts struct {
	// Applied counts deltas charged.
	Applied uint64
	// Duplicate counts deltas already charged, which changed nothing.
	Duplicate uint64
	// Failed counts deltas whose charge returned an error (the relay
	// retries them).
	Failed uint64
}

// StoreLatency is the latency histogram of one store operation.
type StoreLatency struct {
	// Op is the operation: one of StoreOps().
	Op string
	// Latency is the duration of its calls.
	Latency Histogram
}

// storeOp is an operation whose latency the Kit keeps.
type storeOp int

// The store operations the Kit times, at the call sites on its hot paths.
const (
	opOpenSession storeOp = iota
	opCloseSession
	opCredentialMetadata
	opApplyUsage
	opApplyUsageBatch
	opBalance
	opCountActiveSessions
	opUsageHistory
	opReportRelayLoad
	opListRelays
	numStoreOps
)

// storeOps names the store operations, by storeOp.
var storeOps = [numStoreOps]string{
	"open_session", "close_session", "credential_metadata", "apply_usage", "apply_usage_batch",
	"balance", "count_active_sessions", "usage_history", "report_relay_load", "list_relays",
}

// StoreOps returns the names of the store operations whose latency
// Stats.Store holds: opening and closing sessions and reading their
// credential metadata (the relay's event path), charging usage one delta
// or one batch at a time (the ledger), the balance, active sessions and
// usage history the reserve check reads (credential requests), and the
// relay's load report and the registry listing (Sweep).
func StoreOps() []string { return slices.Clone(storeOps[:]) }

// RegionHealth counts the relays of one region by their health.
type RegionHealth struct {
	// Region is the relays' region.
	Region string
	// Healthy relays report, are not draining and are below capacity:
	// they get new sessions.
	Healthy int
	// Offline relays have not reported for more than
	// FleetConfig.OfflineAfter.
	Offline int
	// Draining relays report but were set to draining.
	Draining int
	// Full relays report and are at or over their capacity.
	Full int
}

// latencyBounds are the upper bounds of the latency histograms' buckets.
var latencyBounds = [...]time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2500 * time.Millisecond, 5 * time.Second,
}

// LatencyBounds returns the inclusive upper bounds of the buckets of the
// Kit's latency histograms: 100 µs to 5 s in steps of 1, 2.5 and 5.
func LatencyBounds() []time.Duration { return slices.Clone(latencyBounds[:]) }

// Histogram is a snapshot of a latency histogram with the fixed buckets
// of LatencyBounds.
type Histogram struct {
	// Bounds are the buckets' inclusive upper bounds, ascending.
	Bounds []time.Duration
	// Counts has len(Bounds)+1 entries: Counts[i] counts the observations
	// above Bounds[i-1] and at most Bounds[i]; the last, those above every
	// bound. They are not cumulative.
	Counts []uint64
	// Count is the number of observations, the sum of Counts.
	Count uint64
	// Sum is their total duration.
	Sum time.Duration
}

// histogram counts durations in the buckets of latencyBounds with atomic
// counters: an observation takes no lock and allocates nothing.
type histogram struct {
	counts [len(latencyBounds) + 1]atomic.Uint64
	sum    atomic.Int64 // nanoseconds
}

// observe counts one duration.
func (h *histogram) observe(d time.Duration) {
	i := 0
	for i < len(latencyBounds) && d > latencyBounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// snapshot returns the histogram's counts. Count is the sum of the
// buckets read, so the two always agree.
func (h *histogram) snapshot() Histogram {
	s := Histogram{Bounds: LatencyBounds(), Counts: make([]uint64, len(h.counts))}
	for i := range h.counts {
		s.Counts[i] = h.counts[i].Load()
		s.Count += s.Counts[i]
	}
	s.Sum = time.Duration(h.sum.Load())
	return s
}

// kitStats holds the Kit's counters. Its methods are safe for concurrent
// use and do nothing on a nil receiver, so the parts that can stand alone
// (the Ledger) count only when a Kit built them.
type kitStats struct {
	requests      [len(endpoints)][len(codeLabels)]atomic.Uint64
	charges       [3]atomic.Uint64 // applied, duplicate, failed
	chargeLatency histogram
	store         [numStoreOps]histogram
	delivered     atomic.Uint64
	dropped       atomic.Uint64

	mu      sync.Mutex // guards the following fields
	fleet   []RegionHealth
	fleetAt time.Time
}

// request counts an HTTP request answered with code.
func (s *kitStats) request(e Endpoint, code int) {
	if s != nil {
		s.requests[endpointIndex(e)][codeSlot(code)].Add(1)
	}
}

// timeStore counts a store call of op that started at start.
func (s *kitStats) timeStore(op storeOp, start time.Time) {
	if s != nil {
		s.store[op].observe(time.Since(start))
	}
}

// charged counts a charge call of n deltas that started at start and
// applied the deltas marked in applied (nil for none), or failed.
func (s *kitStats) charged(start time.Time, n int, applied []bool, err error) {
	if s == nil {
		return
	}
	s.chargeLatency.observe(time.Since(start))
	if err != nil {
		s.charges[2].Add(uint64(n))
		return
	}
	var a uint64
	for _, ok := range applied {
		if ok {
			a++
		}
	}
	s.charges[0].Add(a)
	s.charges[1].Add(uint64(n) - a)
}

// setFleet records the registry's health.
func (s *kitStats) setFleet(h []RegionHealth, at time.Time) {
	s.mu.Lock()
	s.fleet, s.fleetAt = h, at
	s.mu.Unlock()
}

// snapshot returns the counters in a Stats, without the relay's.
func (s *kitStats) snapshot() Stats {
	var st Stats
	for e := range s.requests {
		for c := range s.requests[e] {
			if n := s.requests[e][c].Load(); n > 0 {
				st.Requests = append(st.Requests, RequestCount{Endpoint: endpoints[e], Code: codeLabels[c], Count: n})
			}
		}
	}
	st.Charges = ChargeCounts{Applied: s.charges[0].Load(), Duplicate: s.charges[1].Load(), Failed: s.charges[2].Load()}
	st.ChargeLatency = s.chargeLatency.snapshot()
	st.Store = make([]StoreLatency, numStoreOps)
	for op := range s.store {
		st.Store[op] = StoreLatency{Op: storeOps[op], Latency: s.store[op].snapshot()}
	}
	st.EventsDelivered, st.EventsDropped = s.delivered.Load(), s.dropped.Load()
	s.mu.Lock()
	st.Fleet, st.FleetAt = slices.Clone(s.fleet), s.fleetAt
	s.mu.Unlock()
	return st
}

// Stats returns a snapshot of the Kit's counters and its relay's. It
// takes no lock the packet path takes: the relay sums its per-allocation
// counters here. It is safe to call at any rate from any goroutine, also
// after Close.
func (k *Kit) Stats() Stats {
	st := k.stats.snapshot()
	if k.relay != nil {
		st.Relay, st.HasRelay = k.relay.Stats(), true
	}
	return st
}
