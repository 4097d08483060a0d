package main

// This file collects every repetition's figures by metric and server, and
// reduces them to medians and ratios.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// metric is one row of the relay table.
type metric struct {
	label  string // with its unit
	format func(float64) string
	ratio  bool // ratios of the medians mean something
	chart  bool // drawn in the chart
	// lowerBetter marks rows where a smaller figure is better (CPU,
	// latency, memory); the chart says so.
	lowerBetter bool
}

// row is a metric's figures, one per successful repetition, by server.
type row struct {
	metric
	values map[serverKind][]float64
	failed map[serverKind]int
}

// median returns the median figure of server s; ok is false without one.
func (r *row) median(s serverKind) (float64, bool) {
	v := median(r.values[s])
	return v, !math.IsNaN(v)
}

// cell formats server s's median, or says why there is none.
func (r *row) cell(s serverKind) string {
	v, ok := r.median(s)
	switch {
	case !ok && r.failed[s] > 0:
		return "failed"
	case !ok:
		return "–"
	case r.failed[s] > 0:
		return fmt.Sprintf("%s (%d failed)", r.format(v), r.failed[s])
	}
	return r.format(v)
}

// ratioCell formats the ratio of server a's median to b's.
func (r *row) ratioCell(a, b serverKind) string {
	if !r.ratio {
		return "–"
	}
	x, okA := r.median(a)
	y, okB := r.median(b)
	if !okA || !okB || y == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", x/y)
}

// table is the relay table: rows in the order they were first added.
type table struct {
	rows  []*row
	byKey map[string]*row
}

func newTable() *table { return &table{byKey: make(map[string]*row)} }

func (t *table) row(m metric) *row {
	r, ok := t.byKey[m.label]
	if !ok {
		r = &row{metric: m, values: make(map[serverKind][]float64), failed: make(map[serverKind]int)}
		t.byKey[m.label] = r
		t.rows = append(t.rows, r)
	}
	return r
}

// add records one repetition's figure; a NaN or negative figure (not
// measurable in that run) is left out.
func (t *table) add(m metric, s serverKind, v float64) {
	r := t.row(m)
	if !math.IsNaN(v) && v >= 0 {
		r.values[s] = append(r.values[s], v)
	}
}

// fail records a repetition of metric m that failed on server s.
func (t *table) fail(m metric, s serverKind) { t.row(m).failed[s]++ }

// The metrics of the relay table.

func flowMetrics(l flowLoad) (delivered, loss, cpu metric) {
	name := fmt.Sprintf("%s, %s msgs/s offered", l.mode, thousands(float64(l.rate)))
	delivered = metric{label: name + ": delivered msgs/s", format: thousands, ratio: true, chart: true}
	loss = metric{label: name + ": loss %", format: func(v float64) string { return fmt.Sprintf("%.2f", 100*v) }}
	cpu = metric{label: name + ": relay CPU µs/msg", format: micros, ratio: true, chart: true, lowerBetter: true}
	return
}

func allocMetrics(n, inflight int) (rate, p50, p99, failed, cpu metric) {
	name := fmt.Sprintf("%s allocations, %d in flight, one IP", thousands(float64(n)), inflight)
	rate = metric{label: name + ": allocations/s", format: thousands, ratio: true, chart: true}
	p50 = metric{label: name + ": p50 ms", format: millis, ratio: true, lowerBetter: true}
	p99 = metric{label: name + ": p99 ms", format: millis, ratio: true, chart: true, lowerBetter: true}
	failed = metric{label: name + ": failures", format: func(v float64) string { return strconv.Itoa(int(v)) }}
	cpu = metric{label: name + ": relay CPU µs/allocation", format: func(v float64) string { return fmt.Sprintf("%.0f", v) },
		ratio: true, lowerBetter: true}
	return
}

func memoryMetric(level int) metric {
	return metric{label: fmt.Sprintf("RSS per allocation at %s live: KiB", thousands(float64(level))),
		format: func(v float64) string { return fmt.Sprintf("%.1f", v/1024) }, ratio: true, chart: true, lowerBetter: true}
}

// thousands formats v rounded to an integer with thousands separators.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// compact formats v with a k or M suffix: 10000 → "10k".
func compact(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// micros formats seconds as microseconds.
func micros(v float64) string { return fmt.Sprintf("%.2f", v*1e6) }

// millis formats seconds as milliseconds.
func millis(v float64) string { return fmt.Sprintf("%.2f", v*1e3) }
