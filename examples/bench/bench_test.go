package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/internal/pgtest"
)

// TestMain lets the test binary stand in for the bench binary: the bench
// re-executes itself with -serve to run a relay alone, and under go test
// "itself" is this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "-"+serveFlag+"=") {
		fs := flag.NewFlagSet("serve", flag.ExitOnError)
		kind := fs.String(serveFlag, "", "")
		dir := fs.String(serveDirFlag, "", "")
		_ = fs.Parse(os.Args[1:])
		os.Exit(serveMain(*kind, *dir, os.Stdout, os.Stderr))
	}
	os.Exit(pgtest.Run(m)) // stops the PostgreSQL server the credential test starts
}

// coturnTools reports whether coturn's three programs are installed. They
// are optional: without them the bench measures turnkit and pion and
// skips the message loads. Under TURNKIT_REQUIRE_ALL=1 (CI, which installs
// coturn anyway) a missing one fails the test, since the quick run with
// coturn costs seconds.
func coturnTools(t *testing.T) bool {
	t.Helper()
	for _, tool := range []string{"turnserver", "turnutils_uclient", "turnutils_peer"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("TURNKIT_REQUIRE_ALL") == "1" {
				t.Fatalf("%s is not installed and TURNKIT_REQUIRE_ALL=1 (apt-get install coturn)", tool)
			}
			t.Logf("%s is not installed (apt-get install coturn): the coturn parts are skipped", tool)
			return false
		}
	}
	return true
}

// testLogger sends the bench's progress to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// benchBinary returns the binary the bench re-executes in server mode,
// this test binary (see TestMain), and skips the test off Linux: the bench
// reads /proc.
func benchBinary(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("the bench reads /proc; this is not Linux")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return self
}

// childPIDs lists the live processes whose parent is this process.
func childPIDs(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		end := bytes.LastIndexByte(raw, ')')
		f := strings.Fields(string(raw[end+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(os.Getpid()) && f[0] != "Z" {
			out = append(out, pid)
		}
	}
	return out
}

// TestQuickRun runs the quick mode end to end: every relay that can run
// here, every load, the table and the chart. It checks the figures are
// there and plausible, not how large they are: performance is read from
// the report, never asserted by a timed test.
func TestQuickRun(t *testing.T) {
	self := benchBinary(t)
	withCoturn := coturnTools(t)
	before := len(childPIDs(t))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	o := quickOptions()
	o.command = "go run ./examples/bench -quick"
	rep, err := run(ctx, o, self, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if left := childPIDs(t); len(left) != before {
		t.Errorf("child processes left running after the run: %v", left)
	}
	want := []serverKind{turnkitServer, pionServer}
	if withCoturn {
		want = append(want, coturnServer)
	}
	if fmt.Sprint(rep.servers) != fmt.Sprint(want) {
		t.Fatalf("measured %v, want %v (notes: %v)", rep.servers, want, rep.notes)
	}
	if len(rep.failures) > 0 {
		t.Fatalf("runs failed:\n%s", strings.Join(rep.failures, "\n"))
	}

	value := func(label string, s serverKind) float64 {
		t.Helper()
		r, ok := rep.relay.byKey[label]
		if !ok {
			t.Fatalf("no row %q", label)
		}
		v, ok := r.median(s)
		if !ok {
			t.Fatalf("row %q has no figure for %s", label, s)
		}
		return v
	}
	for _, s := range rep.servers {
		if withCoturn {
			d, l, c := flowMetrics(flowLoad{mode: channelMode, rate: o.rates[0]})
			if v := value(d.label, s); v <= 0 || v > 2*float64(o.rates[0]) {
				t.Errorf("%s: delivered %.0f msgs/s at %d offered", s, v, o.rates[0])
			}
			if v := value(l.label, s); v < 0 || v > 1 {
				t.Errorf("%s: loss fraction %v outside [0, 1]", s, v)
			}
			if v := value(c.label, s); v <= 0 || v > 0.1 {
				t.Errorf("%s: %v s of relay CPU per message", s, v)
			}
		}
		rate, p50, p99, failed, _ := allocMetrics(o.allocs, o.inflight)
		if v := value(rate.label, s); v <= 0 {
			t.Errorf("%s: %v allocations/s", s, v)
		}
		if a, b := value(p50.label, s), value(p99.label, s); a <= 0 || b < a {
			t.Errorf("%s: allocation p50 %v s, p99 %v s", s, a, b)
		}
		if v := value(failed.label, s); v != 0 {
			t.Errorf("%s: %v of %d allocations failed from one address", s, v, o.allocs)
		}
		for _, level := range o.memLevels {
			if v := value(memoryMetric(level).label, s); v <= 0 || v > 10<<20 {
				t.Errorf("%s: %v bytes of RSS per allocation at %d", s, v, level)
			}
		}
	}
	sums := rep.credSummaries()
	if len(sums) != 2 {
		t.Fatalf("credential summaries: %+v", sums)
	}
	for _, s := range sums {
		if s.perSecond <= 0 || s.errors != 0 || s.p99 < s.p50 {
			t.Errorf("credential load %+v", s)
		}
	}

	md := rep.markdown("quick.png")
	for _, want := range []string{"| metric | turnkit | pion |", "turnkit/pion", "![relay figures", "turnkit on SQLite / trivial req/s", "Only ratios within one run mean anything"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	path := filepath.Join(t.TempDir(), "quick.png")
	if err := writeChart(path, rep); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the chart is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != columns*panelW+2*margin || b.Dy() <= headerH+panelH {
		t.Errorf("chart is %v", b)
	}
	// The first panel's first bar is turnkit's colour.
	found := false
	for y := headerH; y < headerH+panelH && !found; y++ {
		for x := margin; x < margin+panelW; x++ {
			if img.At(x, y) == colors[turnkitServer] {
				found = true
				break
			}
		}
	}
	if !found {
		t.Error("no turnkit bar in the chart's first panel")
	}
}

// TestInterrupted: a run cancelled (as by Ctrl-C) after its first
// measurement returns the cancellation and leaves no child running.
func TestInterrupted(t *testing.T) {
	self := benchBinary(t)
	before := len(childPIDs(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o := quickOptions()
	o.modes = nil // start with the allocation load: it needs no coturn
	log := slog.New(cancelHandler{cancel})
	_, err := run(ctx, o, self, log)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run returned %v, want context.Canceled", err)
	}
	if left := childPIDs(t); len(left) != before {
		t.Errorf("child processes left running after the interrupted run: %v", left)
	}
}

// cancelHandler cancels the run at its first log record: the end of its
// first measurement.
type cancelHandler struct{ cancel context.CancelFunc }

func (h cancelHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h cancelHandler) Handle(context.Context, slog.Record) error {
	h.cancel()
	return nil
}
func (h cancelHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h cancelHandler) WithGroup(string) slog.Handler      { return h }

func TestParseStatCPU(t *testing.T) {
	for _, tc := range []struct {
		name string
		stat string
		want time.Duration
		err  bool
	}{
		{"plain", "1234 (turnserver) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 120 0 0 20 0 5 0 100 0 0", 3700 * time.Millisecond, false},
		{"name with spaces and parentheses", "99 (a (b) c) R 1 99 99 0 -1 0 0 0 0 0 7 3 0 0", 100 * time.Millisecond, false},
		{"no command name", "99 turnserver R 1 2 3", 0, true},
		{"too few fields", "99 (x) R 1 2 3", 0, true},
		{"negative ticks", "99 (x) R 1 99 99 0 -1 0 0 0 0 0 -7 3 0 0", 0, true},
		{"not a number", "99 (x) R 1 99 99 0 -1 0 0 0 0 0 seven 3 0 0", 0, true},
		{"empty", "", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tc.stat))
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("parseStatCPU(%q) = %v, %v; want %v, error %v", tc.stat, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestReadOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	rss, err := readRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Fatalf("readRSS(self) = %d, %v", rss, err)
	}
	if _, err := readCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := readRSS(-1); err == nil {
		t.Fatal("readRSS(-1) succeeded")
	}
}

// TestUclientCounts feeds uclient's lines with set arrival times and reads
// the counts back between them.
func TestUclientCounts(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	u := &uclientProc{now: func() time.Time { return now }}
	feed := func(at time.Duration, line string) {
		now = t0.Add(at)
		u.onLine(line)
	}
	feed(0, "0: : start_mclient: msz=2, tot_send_msgs=0, tot_recv_msgs=0, tot_send_bytes ~ 0, tot_recv_bytes ~ 0") // before connect: ignored
	feed(100*time.Millisecond, "0: : Total connect time is 0")
	feed(1*time.Second, "1: : start_mclient: msz=2, tot_send_msgs=1000, tot_recv_msgs=900, tot_send_bytes ~ 1000000, tot_recv_bytes ~ 900000")
	feed(2*time.Second, "2: : start_mclient: msz=2, tot_send_msgs=3000, tot_recv_msgs=2900, tot_send_bytes ~ 3000000, tot_recv_bytes ~ 2900000")
	feed(2500*time.Millisecond, "2: : ERROR: received buffer have wrong length: 12, must be 1004, len=12")
	feed(3*time.Second, "3: : start_mclient: tot_send_msgs=4000, tot_recv_msgs=4000")

	if got := u.connectedAt(); !got.Equal(t0.Add(100 * time.Millisecond)) {
		t.Fatalf("connected at %v", got)
	}
	for _, tc := range []struct {
		at         time.Duration
		sent, recv float64
	}{
		{1 * time.Second, 1000, 900},
		{1500 * time.Millisecond, 2000, 1900},
		{2750 * time.Millisecond, 3750, 3725},
		{3 * time.Second, 4000, 4000},
	} {
		s, r, err := u.countsAt(t0.Add(tc.at))
		if err != nil || math.Abs(s-tc.sent) > 1e-6 || math.Abs(r-tc.recv) > 1e-6 {
			t.Errorf("countsAt(+%s) = %v, %v, %v; want %v, %v", tc.at, s, r, err, tc.sent, tc.recv)
		}
	}
	for _, at := range []time.Duration{500 * time.Millisecond, 4 * time.Second} {
		if _, _, err := u.countsAt(t0.Add(at)); err == nil {
			t.Errorf("countsAt(+%s) outside the lines succeeded", at)
		}
	}
	if !u.sampledAfter(t0.Add(2*time.Second)) || u.sampledAfter(t0.Add(3*time.Second)) {
		t.Error("sampledAfter disagrees with the lines fed")
	}
}

func TestApplyFlags(t *testing.T) {
	for _, tc := range []struct {
		name                                string
		servers, rates, modes, mem, clients string
		reps                                int
		err                                 string
	}{
		{name: "defaults"},
		{name: "all set", servers: "pion,coturn", rates: "1000, 2000", modes: "indication", mem: "10,20", clients: "4", reps: 2},
		{name: "unknown server", servers: "turnkit,nginx", err: `unknown server "nginx"`},
		{name: "unknown mode", modes: "tcp", err: `unknown mode "tcp"`},
		{name: "rate not a number", rates: "10k", err: `"10k" is not a positive integer`},
		{name: "rate zero", rates: "0", err: "not a positive integer"},
		{name: "empty entry", rates: "1000,", err: "not a positive integer"},
		{name: "levels descend", mem: "2000,500", err: "must ascend"},
		{name: "negative reps", reps: -1, err: "must not be negative"},
		{name: "huge number", clients: "99999999999999999999", err: "not a positive integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := fullOptions()
			err := applyFlags(&o, tc.reps, tc.servers, tc.rates, tc.modes, 0, 0, tc.mem, tc.clients)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("applyFlags: %v, want an error with %q", err, tc.err)
			}
		})
	}
	o := fullOptions()
	if err := applyFlags(&o, 2, "pion,coturn", "1000,2000", "indication", 0, 0, "10,20", "4"); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(o.servers, o.rates, o.modes, o.memLevels, o.credClients, o.reps) != "[pion coturn] [1000 2000] [indication] [10 20] [4] 2" {
		t.Fatalf("options after flags: %+v", o)
	}
}

func TestApplyOnly(t *testing.T) {
	o := fullOptions()
	if err := applyOnly(&o, "memory, credentials"); err != nil {
		t.Fatal(err)
	}
	if len(o.modes) != 0 || len(o.rates) != 0 || o.allocs != 0 || len(o.memLevels) != 2 || len(o.credClients) != 2 {
		t.Fatalf("after -only memory,credentials: %+v", o)
	}
	o = fullOptions()
	if err := applyOnly(&o, ""); err != nil || o.allocs != 2000 || len(o.modes) != 2 {
		t.Fatalf("empty -only changed the options (%v): %+v", err, o)
	}
	for _, bad := range []string{"cpu", "messages,", ",", "Memory"} {
		if err := applyOnly(&o, bad); err == nil || !strings.Contains(err.Error(), "unknown part") {
			t.Errorf("-only %q: %v", bad, err)
		}
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {1234567.4, "1,234,567"}, {-20000, "-20,000"},
	} {
		if got := thousands(tc.v); got != tc.want {
			t.Errorf("thousands(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{500, "500"}, {2000, "2k"}, {50000, "50k"}, {1.5e6, "1.5M"},
	} {
		if got := compact(tc.v); got != tc.want {
			t.Errorf("compact(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median odd = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median even = %v", m)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
	lat := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if p := percentile(lat, 0.5); p != 5 {
		t.Errorf("p50 = %v", p)
	}
	if p := percentile(lat, 0.99); p != 10 {
		t.Errorf("p99 = %v", p)
	}
	if p := percentile(nil, 0.99); p != 0 {
		t.Errorf("p99 of nothing = %v", p)
	}
}

// TestTableCells: medians, failures and ratios as the report prints them.
func TestTableCells(t *testing.T) {
	tb := newTable()
	m := metric{label: "x: msgs/s", format: thousands, ratio: true}
	for _, v := range []float64{100, 300, 200} {
		tb.add(m, turnkitServer, v)
	}
	tb.add(m, pionServer, 400)
	tb.add(m, pionServer, math.NaN()) // not measurable: left out
	tb.fail(m, pionServer)
	tb.fail(m, coturnServer)
	r := tb.byKey[m.label]
	for _, tc := range []struct{ got, want string }{
		{r.cell(turnkitServer), "200"},
		{r.cell(pionServer), "400 (1 failed)"},
		{r.cell(coturnServer), "failed"},
		{r.ratioCell(turnkitServer, pionServer), "0.50"},
		{r.ratioCell(turnkitServer, coturnServer), "–"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	noRatio := metric{label: "loss", format: thousands}
	tb.add(noRatio, turnkitServer, 1)
	tb.add(noRatio, pionServer, 2)
	if got := tb.byKey["loss"].ratioCell(turnkitServer, pionServer); got != "–" {
		t.Errorf("ratio of a metric without ratios: %q", got)
	}
	if len(tb.rows) != 2 || tb.rows[0].label != m.label {
		t.Errorf("rows out of order: %v", tb.rows)
	}
}

// TestCredBenchStores: the credential load measures turnkit's handler on
// SQLite and on a real PostgreSQL server beside the trivial handler, every
// request answered, and the report gives both ratios.
func TestCredBenchStores(t *testing.T) {
	dsn := pgtest.DSN(t)
	var progress []string
	runs, err := runCredBench(context.Background(), t.TempDir(),
		credParams{clients: []int{4}, duration: 200 * time.Millisecond, reps: 3, postgres: dsn},
		func(s string) { progress = append(progress, s) })
	if err != nil {
		t.Fatal(err)
	}
	o := quickOptions()
	o.credClients = []int{4}
	rep := &report{o: o, creds: runs}
	sums := rep.credSummaries()
	if len(sums) != 3 {
		t.Fatalf("summaries %+v, want the trivial handler and turnkit on both stores", sums)
	}
	for i, s := range sums {
		if s.handler != handlerNames[i] || s.perSecond <= 0 || s.errors != 0 || s.p99 < s.p50 {
			t.Errorf("summary %d: %+v", i, s)
		}
	}
	// Each repetition starts with another handler.
	if len(progress) != 9 || !strings.Contains(progress[0], trivialHandlerName+",") ||
		!strings.Contains(progress[3], turnkitHandlerName+",") || !strings.Contains(progress[6], postgresHandlerName+",") {
		t.Errorf("order of the loads:\n%s", strings.Join(progress, "\n"))
	}
	var b strings.Builder
	rep.credTable(&b)
	for _, want := range []string{"turnkit on SQLite / trivial req/s", "turnkit on PostgreSQL / trivial req/s", "| " + postgresHandlerName + " | 4 |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the credential table lacks %q:\n%s", want, b.String())
		}
	}
}

func TestApplyCredDB(t *testing.T) {
	for _, v := range []string{"auto", "off", "postgres://u@127.0.0.1:5432/db", "postgresql://u@h/db"} {
		o := fullOptions()
		if err := applyCredDB(&o, v); err != nil || o.credPostgres != v {
			t.Errorf("-cred-db %q: %v, %q", v, err, o.credPostgres)
		}
	}
	for _, v := range []string{"on", "mysql://h/db", "turnkit.db", "AUTO"} {
		o := fullOptions()
		if err := applyCredDB(&o, v); err == nil || o.credPostgres != credPostgresAuto {
			t.Errorf("-cred-db %q: accepted (%q)", v, o.credPostgres)
		}
	}
	if fullOptions().credPostgres != credPostgresAuto || quickOptions().credPostgres != credPostgresOff {
		t.Error("defaults: auto for a full run, off for -quick")
	}
}
