package main

// This file measures how fast a relay opens allocations for clients behind
// one address, and what each costs it in CPU time.

import (
	"context"
	"fmt"
	"net"
	"time"
)

// allocRateResult is what one allocation-rate load measured.
type allocRateResult struct {
	perSecond   float64       // successful allocations per second
	p50, p99    time.Duration // latency of Allocate + CreatePermission
	failed      int           // attempts that failed (errors and timeouts)
	attempted   int           // attempts started before the deadline
	cpuPerAlloc time.Duration // relay CPU time per successful allocation
}

// runAllocRate opens n allocations on a fresh relay and closes them.
func runAllocRate(ctx context.Context, srv *server, peer net.Addr, n int, p allocParams) (allocRateResult, error) {
	creds, err := srv.mint.mint(ctx, n)
	if err != nil {
		return allocRateResult{}, err
	}
	cpu0, err := readCPU(srv.pid())
	if err != nil {
		return allocRateResult{}, err
	}
	set := &allocSet{}
	defer set.close()
	st := openAllocations(ctx, set, srv.udp, peer, creds, p)
	cpu1, err := readCPU(srv.pid())
	if err != nil {
		return allocRateResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return allocRateResult{}, err
	}
	if len(st.latencies) == 0 {
		return allocRateResult{}, fmt.Errorf("%w of %d attempted: %v", errNoSuccess, st.attempted, st.firstErr)
	}
	return allocRateResult{
		perSecond:   st.perSecond(),
		p50:         percentile(st.latencies, 0.50),
		p99:         percentile(st.latencies, 0.99),
		failed:      st.failed,
		attempted:   st.attempted,
		cpuPerAlloc: (cpu1 - cpu0) / time.Duration(len(st.latencies)),
	}, nil
}
