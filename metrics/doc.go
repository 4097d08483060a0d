// Package metrics exports a turnkit Kit's counters to Prometheus: a
// prometheus.Collector that the host registers on a registry of its own
// and serves with promhttp. It is the only turnkit package that links
// github.com/prometheus/client_golang: a program that does not import it
// does not link Prometheus (a test checks the root package and relay).
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(metrics.NewCollector(kit))
//	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// The collector keeps no state and adds nothing to the relay's packet
// path: each scrape reads one Kit.Stats snapshot, in which the relay sums
// the atomic per-allocation counters it already keeps.
//
// # Metrics
//
// Relay (when the Kit runs one), counters since it started:
//
//	turnkit_relay_allocations                          gauge, live allocations
//	turnkit_relay_bytes_total{direction}               payload relayed: to_peer, to_client
//	turnkit_relay_packets_total{direction}             packets relayed: to_peer, to_client
//	turnkit_relay_packets_dropped_total{reason}        peer_refused (peer policy, refused permissions included),
//	                                                   over_cap (bit rate cap), no_permission
//	turnkit_relay_allocations_refused_total{reason}    auth (credential refused), quota (486)
//	turnkit_relay_unauth_replies_total                 401s (and other replies) sent without integrity
//	turnkit_relay_unauth_reply_bytes_total             their bytes
//	turnkit_relay_unauth_replies_withheld_total{reason}  amplification (3x bound of the source), rate (relay-wide cap)
//	turnkit_relay_tcp_connections_closed_total{reason} refused, evicted, timed_out, not_turn
//
// Kit:
//
//	turnkit_http_requests_total{endpoint,code}            requests answered
//	turnkit_ledger_charges_total{result}                  usage deltas: applied, duplicate, failed
//	turnkit_ledger_charge_duration_seconds                histogram, per charge call
//	turnkit_store_operation_duration_seconds{op}          histogram, per store call on the Kit's hot paths
//	turnkit_fleet_relays{region,state}                    gauge, registry relays: healthy, offline, draining, full
//	turnkit_events_delivered_total, turnkit_events_dropped_total  Config.OnEvent deliveries
//
// # Labels, and why each is bounded
//
// Every label takes its values from a fixed set written in code, except
// region:
//
//   - direction, reason, result, state: the constants listed above.
//   - endpoint: native, exchange, turnix, metered, baton, other
//     (turnkit.Endpoints()).
//   - code: eighteen common status codes, else the class ("4xx") or
//     "other"; 24 values at most.
//   - op: the operations of turnkit.StoreOps() (ten).
//   - region: the regions of the relay registry, which the operator
//     configures on each relay: a handful in a fleet, not a function of
//     traffic.
//
// There is no label per app, API key, username, session, relay
// credential or address, and there never will be: usernames are
// ephemeral (one per credential), so a series per user grows without
// bound and leaks the exporter's memory (coturn issue 919), and addresses
// and keys must not leave the process. Per-app usage is in the ledger
// (Kit.Ledger) and the admin API, not in metrics.
package metrics
