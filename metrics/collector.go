package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/relay"
)

// Source is what the collector reads: a snapshot of counters.
// *turnkit.Kit implements it.
type Source interface {
	// Stats returns the counters as of now; it is called once per scrape,
	// possibly from several goroutines at once.
	Stats() turnkit.Stats
}

var _ Source = (*turnkit.Kit)(nil)

// Collector is a prometheus.Collector of a Kit's metrics (see the package
// documentation for the list). It holds no state of its own: register it
// on one registry per Kit; it is safe for concurrent scrapes.
type Collector struct {
	src Source

	allocations, bytes, packets, dropped, refused      *prometheus.Desc
	unauthReplies, unauthBytes, unauthWithheld, tcpEnd *prometheus.Desc
	requests, charges, chargeLatency, storeLatency     *prometheus.Desc
	fleet, eventsDelivered, eventsDropped              *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns the collector of src, usually a *turnkit.Kit.
func NewCollector(src Source) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("turnkit_"+name, help, labels, nil)
	}
	return &Collector{
		src:             src,
		allocations:     d("relay_allocations", "Live allocations on the in-process relay."),
		bytes:           d("relay_bytes_total", "Payload bytes relayed, by direction (UDP allocations).", "direction"),
		packets:         d("relay_packets_total", "Packets relayed, by direction (UDP allocations).", "direction"),
		dropped:         d("relay_packets_dropped_total", "Packets and permissions refused or dropped by the relay, by reason.", "reason"),
		refused:         d("relay_allocations_refused_total", "Allocations and refreshes refused, by reason.", "reason"),
		unauthReplies:   d("relay_unauth_replies_total", "UDP replies sent without MESSAGE-INTEGRITY (401s to first requests)."),
		unauthBytes:     d("relay_unauth_reply_bytes_total", "Bytes of the UDP replies sent without MESSAGE-INTEGRITY."),
		unauthWithheld:  d("relay_unauth_replies_withheld_total", "Unauthenticated UDP replies not sent, by reason.", "reason"),
		tcpEnd:          d("relay_tcp_connections_closed_total", "TCP and TLS connections the relay closed or refused, by reason.", "reason"),
		requests:        d("http_requests_total", "HTTP requests answered by the Kit's handlers, by endpoint and status code.", "endpoint", "code"),
		charges:         d("ledger_charges_total", "Usage deltas the ledger was asked to charge, by result.", "result"),
		chargeLatency:   d("ledger_charge_duration_seconds", "Duration of the ledger's charge calls (one delta or one batch)."),
		storeLatency:    d("store_operation_duration_seconds", "Duration of the store calls the Kit makes on its hot paths, by operation.", "op"),
		fleet:           d("fleet_relays", "Relays of the registry by region and health, as of the last sweep.", "region", "state"),
		eventsDelivered: d("events_delivered_total", "Events delivered to Config.OnEvent."),
		eventsDropped:   d("events_dropped_total", "Events dropped because the OnEvent queue was full."),
	}
}

// Describe sends the descriptors of every metric the collector may
// export.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.allocations, c.bytes, c.packets, c.dropped, c.refused,
		c.unauthReplies, c.unauthBytes, c.unauthWithheld, c.tcpEnd,
		c.requests, c.charges, c.chargeLatency, c.storeLatency,
		c.fleet, c.eventsDelivered, c.eventsDropped,
	} {
		ch <- d
	}
}

// Collect reads one snapshot of the source and sends its metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Stats()
	if st.HasRelay {
		c.collectRelay(ch, st.Relay)
	}
	for _, r := range st.Requests {
		send(ch, c.requests, prometheus.CounterValue, float64(r.Count), string(r.Endpoint), r.Code)
	}
	send(ch, c.charges, prometheus.CounterValue, float64(st.Charges.Applied), "applied")
	send(ch, c.charges, prometheus.CounterValue, float64(st.Charges.Duplicate), "duplicate")
	send(ch, c.charges, prometheus.CounterValue, float64(st.Charges.Failed), "failed")
	sendHistogram(ch, c.chargeLatency, st.ChargeLatency)
	for _, s := range st.Store {
		sendHistogram(ch, c.storeLatency, s.Latency, s.Op)
	}
	for _, h := range st.Fleet {
		send(ch, c.fleet, prometheus.GaugeValue, float64(h.Healthy), h.Region, "healthy")
		send(ch, c.fleet, prometheus.GaugeValue, float64(h.Offline), h.Region, "offline")
		send(ch, c.fleet, prometheus.GaugeValue, float64(h.Draining), h.Region, "draining")
		send(ch, c.fleet, prometheus.GaugeValue, float64(h.Full), h.Region, "full")
	}
	send(ch, c.eventsDelivered, prometheus.CounterValue, float64(st.EventsDelivered))
	send(ch, c.eventsDropped, prometheus.CounterValue, float64(st.EventsDropped))
}

// collectRelay sends the relay's counters.
func (c *Collector) collectRelay(ch chan<- prometheus.Metric, r relay.Stats) {
	counter := prometheus.CounterValue
	send(ch, c.allocations, prometheus.GaugeValue, float64(r.Allocations))
	send(ch, c.bytes, counter, float64(r.BytesToPeer), "to_peer")
	send(ch, c.bytes, counter, float64(r.BytesToClient), "to_client")
	send(ch, c.packets, counter, float64(r.PacketsToPeer), "to_peer")
	send(ch, c.packets, counter, float64(r.PacketsToClient), "to_client")
	send(ch, c.dropped, counter, float64(r.PeerRefused), "peer_refused")
	send(ch, c.dropped, counter, float64(r.OverCap), "over_cap")
	send(ch, c.dropped, counter, float64(r.NoPermission), "no_permission")
	send(ch, c.refused, counter, float64(r.AuthFailures), "auth")
	send(ch, c.refused, counter, float64(r.QuotaRefused), "quota")
	send(ch, c.unauthReplies, counter, float64(r.UnauthReplies))
	send(ch, c.unauthBytes, counter, float64(r.UnauthReplyBytes))
	send(ch, c.unauthWithheld, counter, float64(r.UnauthDropped), "amplification")
	send(ch, c.unauthWithheld, counter, float64(r.UnauthOverRate), "rate")
	send(ch, c.tcpEnd, counter, float64(r.TCPRefused), "refused")
	send(ch, c.tcpEnd, counter, float64(r.TCPEvicted), "evicted")
	send(ch, c.tcpEnd, counter, float64(r.TCPTimedOut), "timed_out")
	send(ch, c.tcpEnd, counter, float64(r.TCPNotTURN), "not_turn")
}

// send sends one metric, or an invalid one that fails the scrape with the
// reason (a label value that is not UTF-8) rather than panicking.
func send(ch chan<- prometheus.Metric, d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		m = prometheus.NewInvalidMetric(d, err)
	}
	ch <- m
}

// sendHistogram sends a turnkit.Histogram, its buckets made cumulative
// and its durations in seconds.
func sendHistogram(ch chan<- prometheus.Metric, d *prometheus.Desc, h turnkit.Histogram, labels ...string) {
	buckets := make(map[float64]uint64, len(h.Bounds))
	var cum uint64
	for i, b := range h.Bounds {
		cum += h.Counts[i]
		buckets[b.Seconds()] = cum
	}
	m, err := prometheus.NewConstHistogram(d, h.Count, h.Sum.Seconds(), buckets, labels...)
	if err != nil {
		m = prometheus.NewInvalidMetric(d, err)
	}
	ch <- m
}
