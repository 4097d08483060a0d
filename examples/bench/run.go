package main

// This file runs the whole bench: every load on every relay, servers
// alternating within each repetition, a fresh relay for every run.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"
)

// report is everything a run measured.
type report struct {
	o       options
	started time.Time
	elapsed time.Duration
	machine machineInfo
	// loadStart and loadEnd are /proc/loadavg's 1, 5 and 15 minute figures
	// when the run started and ended: how busy the machine was.
	loadStart, loadEnd string
	servers            []serverKind // the relays measured
	notes              []string     // what was skipped, and why
	relay              *table
	creds              []credRun
	failures           []string // one line per failed run
}

// Bounds that keep a misbehaving relay from stalling the run.
const (
	serverStartWait = 20 * time.Second
	allocTimeout    = 10 * time.Second // one Allocate + CreatePermission
	allocDeadline   = 60 * time.Second // one allocation load
)

// run measures every relay in o.servers that can run here. The bench's
// children are all stopped, by PID, before it returns.
func run(ctx context.Context, o options, self string, log *slog.Logger) (*report, error) {
	rep := &report{o: o, started: time.Now(), relay: newTable(), loadStart: loadAverage()}
	tmp, err := os.MkdirTemp("", "turnkit-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	cs := newChildren()
	defer cs.stopAll()

	turnserver, _ := exec.LookPath("turnserver")
	uclient, _ := exec.LookPath("turnutils_uclient")
	peerTool, _ := exec.LookPath("turnutils_peer")
	rep.machine = describeMachine(turnserver)
	for _, s := range o.servers {
		if s == coturnServer && turnserver == "" {
			rep.notes = append(rep.notes, "coturn's turnserver is not installed (apt-get install coturn): coturn was not measured.")
			continue
		}
		rep.servers = append(rep.servers, s)
	}
	l := &launcher{cs: cs, self: self, tmp: tmp, turnserver: turnserver, startWait: serverStartWait}

	flows := len(o.modes) > 0 && len(o.rates) > 0
	if flows && (uclient == "" || peerTool == "") {
		flows = false
		rep.notes = append(rep.notes, "coturn's turnutils_uclient and turnutils_peer are not installed (apt-get install coturn): the message loads did not run.")
	}
	var peer *echoPeer
	peerAddr := net.Addr(&net.UDPAddr{IP: net.ParseIP(echoPeerIP), Port: 9}) // permissions only: nothing is sent
	if flows {
		if peer, err = startPeer(cs, peerTool); err != nil {
			return nil, err
		}
		peerAddr = peer.addr()
	}
	fp := flowParams{uclient: uclient, payload: o.payload, window: o.window, rampWait: o.rampWait, perProcess: o.perProcess}
	ap := allocParams{inflight: o.inflight, timeout: allocTimeout, deadline: allocDeadline}

	// each runs one measurement on a fresh relay of every kind in turn.
	each := func(r int, what string, measure func(*server) (string, error), failed func(serverKind)) error {
		for _, s := range rep.servers {
			summary, err := withServer(ctx, l, s, measure)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				failed(s)
				first, _, _ := strings.Cut(err.Error(), "\n")
				rep.failures = append(rep.failures, fmt.Sprintf("repetition %d, %s, %s: %s", r, what, s, first))
				log.Warn("run failed", "rep", r, "load", what, "server", s, "err", err)
				continue
			}
			log.Info(what, "rep", fmt.Sprintf("%d/%d", r, o.reps), "server", s, "result", summary)
		}
		return nil
	}

	for r := 1; r <= o.reps; r++ {
		if flows {
			for _, mode := range o.modes {
				for _, rate := range o.rates {
					load := flowLoad{mode: mode, rate: rate}
					mDelivered, mLoss, mCPU := flowMetrics(load)
					err := each(r, load.String(), func(srv *server) (string, error) {
						if peer.proc.exited() { // restart a peer that died
							p, err := startPeer(cs, peerTool)
							if err != nil {
								return "", err
							}
							peer = p
						}
						res, err := runFlow(ctx, cs, fp, srv, peer, load)
						if err != nil {
							return "", err
						}
						rep.relay.add(mDelivered, srv.kind, res.delivered)
						rep.relay.add(mLoss, srv.kind, res.loss)
						rep.relay.add(mCPU, srv.kind, res.cpuPerMsg.Seconds())
						return fmt.Sprintf("sent %.0f/s, delivered %.0f/s, loss %.2f%%, %s CPU/msg",
							res.sent, res.delivered, 100*res.loss, res.cpuPerMsg), nil
					}, func(s serverKind) {
						rep.relay.fail(mDelivered, s)
						rep.relay.fail(mLoss, s)
						rep.relay.fail(mCPU, s)
					})
					if err != nil {
						return nil, err
					}
				}
			}
		}
		if o.allocs > 0 {
			mRate, mP50, mP99, mFailed, mCPU := allocMetrics(o.allocs, o.inflight)
			err := each(r, "allocation rate", func(srv *server) (string, error) {
				res, err := runAllocRate(ctx, srv, peerAddr, o.allocs, ap)
				if err != nil {
					return "", err
				}
				rep.relay.add(mRate, srv.kind, res.perSecond)
				rep.relay.add(mP50, srv.kind, res.p50.Seconds())
				rep.relay.add(mP99, srv.kind, res.p99.Seconds())
				rep.relay.add(mFailed, srv.kind, float64(res.failed+o.allocs-res.attempted))
				rep.relay.add(mCPU, srv.kind, float64(res.cpuPerAlloc.Microseconds()))
				return fmt.Sprintf("%.0f/s, p50 %s, p99 %s, %d failed, %d not attempted",
					res.perSecond, res.p50.Round(10*time.Microsecond), res.p99.Round(10*time.Microsecond),
					res.failed, o.allocs-res.attempted), nil
			}, func(s serverKind) {
				for _, m := range []metric{mRate, mP50, mP99, mFailed, mCPU} {
					rep.relay.fail(m, s)
				}
			})
			if err != nil {
				return nil, err
			}
		}
		if len(o.memLevels) > 0 {
			err := each(r, "memory", func(srv *server) (string, error) {
				res, err := runMemory(ctx, srv, peerAddr, o.memLevels, ap)
				if err != nil {
					return "", err
				}
				var parts []string
				for _, level := range o.memLevels {
					rep.relay.add(memoryMetric(level), srv.kind, res.perAlloc[level])
					parts = append(parts, fmt.Sprintf("%.1f KiB/allocation at %d", res.perAlloc[level]/1024, level))
				}
				return strings.Join(parts, ", "), nil
			}, func(s serverKind) {
				for _, level := range o.memLevels {
					rep.relay.fail(memoryMetric(level), s)
				}
			})
			if err != nil {
				return nil, err
			}
		}
	}
	// The relays' children are done; the credential load runs in this
	// process, alone.
	cs.stopAll()

	if len(o.credClients) > 0 {
		runs, err := runCredBench(ctx, tmp, credParams{clients: o.credClients, duration: o.credDuration, reps: o.reps, postgres: o.credPostgres},
			func(s string) { log.Info(s) })
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("credential load: %w", err)
		}
		rep.creds = runs
	}
	rep.elapsed = time.Since(rep.started)
	rep.loadEnd = loadAverage()
	return rep, nil
}

// withServer starts a fresh relay of kind s, runs measure on it and stops
// it.
func withServer(ctx context.Context, l *launcher, s serverKind, measure func(*server) (string, error)) (string, error) {
	srv, err := l.start(ctx, s)
	if err != nil {
		return "", err
	}
	defer srv.stop()
	summary, err := measure(srv)
	if err != nil && srv.proc.exited() && !errors.Is(err, context.Canceled) {
		return "", srv.proc.failure("exited during the run", err)
	}
	return summary, err
}
