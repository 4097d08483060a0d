package main

// This file drives a relay with coturn's turnutils_uclient at a fixed
// offered rate, in channel or indication mode, and measures the plateau:
// messages delivered per second, loss, and the relay's CPU time per
// delivered message.
//
// How turnutils_uclient behaves, and what follows for the measurement:
//   - Each session sends one message every -z milliseconds (1 here), so a
//     session offers at most 1,000 messages/s; the offered rate is set by
//     the number of sessions.
//   - It connects its sessions one after another, 0.1 s each, prints
//     "Total connect time", then starts each session at a random moment 1
//     to 6 s later. The plateau, every session sending, begins 6 s after
//     the connect line; the load runs several processes in parallel so
//     that connecting stays short.
//   - Its "total time" includes those random start delays and a 10 s wait
//     after loss, so it is not used. Every second it prints cumulative
//     counts of messages sent and received; the load timestamps each line
//     as it arrives and interpolates the counts at the window's edges.
//   - Each session leaves a probe allocation behind, so the relay is
//     restarted for every run.
//   - Its round-trip clock has 1 ms resolution; latency is not reported.

import (
	"context"
	"fmt"
	"math"
	"net"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// relayMode is how uclient sends: over channels (ChannelData) or Send and
// Data indications.
type relayMode string

const (
	channelMode    relayMode = "channel"
	indicationMode relayMode = "indication"
)

// sessionRate is what one uclient session offers, messages per second
// (-z 1: one message a millisecond).
const sessionRate = 1000

// flowParams are the settings shared by every message load of a run.
type flowParams struct {
	uclient  string        // path of turnutils_uclient
	payload  int           // message length in bytes
	window   time.Duration // length of the measured plateau
	rampWait time.Duration // from the last connect line to the plateau
	// perProcess is how many sessions one uclient process runs.
	perProcess int
}

// flowLoad is one message load: a mode at an offered rate.
type flowLoad struct {
	mode relayMode
	rate int // offered messages per second, all sessions together
}

func (l flowLoad) String() string { return fmt.Sprintf("%s %s/s", l.mode, compact(float64(l.rate))) }

// flowResult is what one message load measured over its window.
type flowResult struct {
	sent      float64       // messages sent per second
	delivered float64       // messages back at the client per second
	loss      float64       // 1 - delivered/sent, from 0 to 1
	cpuPerMsg time.Duration // relay CPU time per delivered message
}

// uclientProc follows one uclient process's output.
type uclientProc struct {
	proc *child
	now  func() time.Time // stamps each line as it arrives

	mu        sync.Mutex // guards the following fields
	connected time.Time  // when it printed "Total connect time"
	samples   []countSample
}

// countSample is uclient's cumulative counts when a line arrived.
type countSample struct {
	at         time.Time
	sent, recv int64
}

var (
	connectLine = regexp.MustCompile(`Total connect time is \d+`)
	countsLine  = regexp.MustCompile(`tot_send_msgs=(\d+), tot_recv_msgs=(\d+)`)
)

func (u *uclientProc) onLine(line string) {
	now := u.now()
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.connected.IsZero() && connectLine.MatchString(line) {
		u.connected = now
		return
	}
	if m := countsLine.FindStringSubmatch(line); m != nil && !u.connected.IsZero() {
		sent, _ := strconv.ParseInt(m[1], 10, 64)
		recv, _ := strconv.ParseInt(m[2], 10, 64)
		u.samples = append(u.samples, countSample{now, sent, recv})
	}
}

func (u *uclientProc) connectedAt() time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.connected
}

// sampledAfter reports whether a count line arrived after t.
func (u *uclientProc) sampledAfter(t time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.samples) > 0 && u.samples[len(u.samples)-1].at.After(t)
}

// countsAt interpolates the cumulative counts at t between the lines
// around it.
func (u *uclientProc) countsAt(t time.Time) (sent, recv float64, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for i := 1; i < len(u.samples); i++ {
		a, b := u.samples[i-1], u.samples[i]
		if a.at.After(t) || b.at.Before(t) {
			continue
		}
		f := 0.0
		if span := b.at.Sub(a.at); span > 0 {
			f = float64(t.Sub(a.at)) / float64(span)
		}
		lerp := func(x, y int64) float64 { return float64(x) + f*float64(y-x) }
		return lerp(a.sent, b.sent), lerp(a.recv, b.recv), nil
	}
	return 0, 0, fmt.Errorf("no count lines around %s (%d lines)", t.Format("15:04:05.000"), len(u.samples))
}

// runFlow runs one message load against a fresh relay and returns what it
// measured over the window.
func runFlow(ctx context.Context, cs *children, p flowParams, srv *server, peer *echoPeer, load flowLoad) (flowResult, error) {
	sessions := max(1, (load.rate+sessionRate-1)/sessionRate)
	procs := (sessions + p.perProcess - 1) / p.perProcess
	creds, err := srv.mint.mint(ctx, procs)
	if err != nil {
		return flowResult{}, err
	}
	connectMax := time.Duration(p.perProcess) * 150 * time.Millisecond
	// Each session must still be sending when the window closes, a second
	// after it (for the line after the window), however late it started.
	tail := p.rampWait + p.window + connectMax + 2*time.Second
	messages := int(math.Ceil(tail.Seconds() * sessionRate))

	host, port, err := net.SplitHostPort(srv.udp)
	if err != nil {
		return flowResult{}, err
	}
	ucs := make([]*uclientProc, 0, procs)
	defer func() {
		var wg sync.WaitGroup
		for _, u := range ucs {
			wg.Go(u.proc.stop)
		}
		wg.Wait()
	}()
	for i := range procs {
		n := sessions / procs
		if i < sessions%procs {
			n++
		}
		args := []string{"-c", "-m", strconv.Itoa(n), "-n", strconv.Itoa(messages),
			"-l", strconv.Itoa(p.payload), "-z", "1",
			"-e", echoPeerIP, "-r", strconv.Itoa(peer.port), "-L", "127.0.0.1",
			"-u", creds[i].user, "-w", creds[i].pass}
		if load.mode == indicationMode {
			args = append([]string{"-s"}, args...)
		}
		args = append(args, "-p", port, host)
		u := &uclientProc{now: time.Now}
		u.proc, err = cs.start("turnutils_uclient", p.uclient, args, startOptions{onLine: u.onLine})
		if err != nil {
			return flowResult{}, err
		}
		ucs = append(ucs, u)
	}

	// Wait for every process to connect all its sessions.
	connectWait := 5*time.Second + connectMax
	var last time.Time
	for _, u := range ucs {
		err := waitFor(ctx, connectWait, u.proc, func() bool { return !u.connectedAt().IsZero() })
		if err != nil {
			return flowResult{}, u.proc.failure("did not connect its sessions", err)
		}
		if c := u.connectedAt(); c.After(last) {
			last = c
		}
	}

	start := last.Add(p.rampWait)
	if err := sleepUntil(ctx, start); err != nil {
		return flowResult{}, err
	}
	cpu0, err := readCPU(srv.pid())
	if err != nil {
		return flowResult{}, err
	}
	start = time.Now()
	if err := sleepUntil(ctx, start.Add(p.window)); err != nil {
		return flowResult{}, err
	}
	cpu1, err := readCPU(srv.pid())
	if err != nil {
		return flowResult{}, err
	}
	end := time.Now()
	for _, u := range ucs {
		if err := waitFor(ctx, 3*time.Second, u.proc, func() bool { return u.sampledAfter(end) }); err != nil {
			return flowResult{}, u.proc.failure("printed no counts after the window", err)
		}
	}

	var sent, recv float64
	for _, u := range ucs {
		s0, r0, err0 := u.countsAt(start)
		s1, r1, err1 := u.countsAt(end)
		if err0 != nil || err1 != nil {
			return flowResult{}, u.proc.failure("counts", fmt.Errorf("window %s: %v, %v", end.Sub(start), err0, err1))
		}
		sent += s1 - s0
		recv += r1 - r0
	}
	secs := end.Sub(start).Seconds()
	r := flowResult{sent: sent / secs, delivered: recv / secs, cpuPerMsg: -1}
	if sent > 0 {
		r.loss = min(1, max(0, 1-recv/sent))
	}
	if recv >= 1 {
		r.cpuPerMsg = time.Duration(float64(cpu1-cpu0) / recv)
	}
	return r, nil
}

// waitFor polls cond every 10 ms until it holds, the process exits, ctx
// ends or wait passes.
func waitFor(ctx context.Context, wait time.Duration, p *child, cond func() bool) error {
	deadline := time.Now().Add(wait)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		if p.exited() {
			if cond() {
				return nil
			}
			return errStopped
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// sleepUntil waits until t or until ctx ends.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
