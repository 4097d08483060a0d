package main

// This file measures a relay's resident memory per live allocation.

import (
	"context"
	"fmt"
	"net"
	"time"
)

// memoryResult is the relay's resident memory per allocation at each
// level of live allocations, in bytes.
type memoryResult struct {
	perAlloc map[int]float64 // by number of live allocations
}

// runMemory opens allocations on a fresh relay up to each level in turn
// (levels ascending) and reads the relay's RSS once it settles: per
// allocation is (RSS at the level - RSS before the first) / level.
func runMemory(ctx context.Context, srv *server, peer net.Addr, levels []int, p allocParams) (memoryResult, error) {
	base, err := settledRSS(ctx, srv.pid())
	if err != nil {
		return memoryResult{}, err
	}
	top := levels[len(levels)-1]
	creds, err := srv.mint.mint(ctx, top)
	if err != nil {
		return memoryResult{}, err
	}
	set := &allocSet{}
	defer set.close()
	res := memoryResult{perAlloc: make(map[int]float64)}
	for _, level := range levels {
		have := set.len()
		st := openAllocations(ctx, set, srv.udp, peer, creds[have:level], p)
		if err := ctx.Err(); err != nil {
			return memoryResult{}, err
		}
		if st.failed > 0 || set.len() != level {
			return memoryResult{}, fmt.Errorf("%d of %d allocations failed on the way to %d live: %v", st.failed, st.attempted, level, st.firstErr)
		}
		rss, err := settledRSS(ctx, srv.pid())
		if err != nil {
			return memoryResult{}, err
		}
		res.perAlloc[level] = float64(rss-base) / float64(level)
	}
	return res, nil
}

// settledRSS reads the RSS of pid every 100 ms until two reads 300 ms apart
// agree, or for at most 2 s, and returns the last read.
func settledRSS(ctx context.Context, pid int) (int64, error) {
	var last []int64
	deadline := time.Now().Add(2 * time.Second)
	for {
		rss, err := readRSS(pid)
		if err != nil {
			return 0, err
		}
		last = append(last, rss)
		if n := len(last); (n >= 4 && last[n-4] == rss) || time.Now().After(deadline) {
			return rss, nil
		}
		if err := sleepUntil(ctx, time.Now().Add(100*time.Millisecond)); err != nil {
			return 0, err
		}
	}
}
