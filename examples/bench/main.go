// Command bench measures turnkit's relay against bare pion/turn v5 (what it
// is built on) and coturn (what its users would otherwise run), side by
// side in one run on loopback, and writes a markdown table of medians and a
// PNG chart.
//
// Every relay runs in a process of its own, so /proc shows its memory and
// CPU alone: turnkit's (turnkit.Open on a fresh SQLite file, metering and
// the ledger on, default admission) and bare pion's in this binary
// re-executed in server mode, coturn's turnserver when it is installed.
// The loads:
//
//   - coturn's turnutils_uclient in channel and in indication mode at
//     fixed offered rates, 1000-byte messages, against turnutils_peer on
//     127.0.0.3: delivered messages/s, loss, relay CPU per message;
//   - pion's TURN client opening allocations (Allocate + CreatePermission)
//     from one IP, 32 in flight: allocations/s, p50 and p99, failures;
//   - resident memory per allocation at 500 and 2,000 live allocations;
//   - POST /v1/credentials through turnkit's handler, on SQLite and on
//     PostgreSQL (a throwaway server when it is installed, or -cred-db),
//     against a trivial JSON handler in the same process.
//
// Servers alternate within every repetition and each run gets a fresh
// relay. Only ratios within one run mean anything.
//
//	go run ./examples/bench -out docs/bench        # the full run: about 11 minutes on 2 cores
//	go run ./examples/bench -quick -out /tmp/bench # every part in 30 s (4 s without coturn); no figures
//	go run ./examples/bench -only allocations      # one part: messages, allocations, memory, credentials
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command's flags.
type options struct {
	out     string // path prefix of the .md and .png files; empty writes neither
	reps    int
	servers []serverKind

	modes      []relayMode
	rates      []int
	payload    int
	window     time.Duration
	rampWait   time.Duration
	perProcess int

	allocs    int
	inflight  int
	memLevels []int

	credClients  []int
	credDuration time.Duration
	// credPostgres is where the credential load's PostgreSQL Kit keeps
	// its state: credPostgresAuto (a throwaway server when PostgreSQL's
	// binaries are installed, skipped otherwise), credPostgresOff, or a
	// postgres:// URL.
	credPostgres string

	// command is the command line the report shows.
	command string
}

// fullOptions are the defaults: the run BENCHMARKS.md reports.
func fullOptions() options {
	return options{
		reps:         3,
		servers:      allServers,
		modes:        []relayMode{channelMode, indicationMode},
		rates:        []int{10_000, 50_000, 100_000},
		payload:      1000,
		window:       2 * time.Second,
		rampWait:     6200 * time.Millisecond, // uclient starts its sessions 1 to 6 s after connecting
		perProcess:   10,
		allocs:       2000,
		inflight:     32,
		memLevels:    []int{500, 2000},
		credClients:  []int{1, 64},
		credDuration: 2 * time.Second,
		credPostgres: credPostgresAuto,
	}
}

// quickOptions run every part of the program in seconds, with small
// counts. The message window (5 to 6 s after uclient connects) sees every
// session send, but not all of them at once: its figures are no plateau.
// CI runs it so the program cannot rot.
func quickOptions() options {
	o := fullOptions()
	o.reps = 1
	o.modes = []relayMode{channelMode}
	o.rates = []int{2000}
	o.window = time.Second
	o.rampWait = 5 * time.Second // every session has started by 6 s
	o.allocs = 100
	o.memLevels = []int{50, 100}
	o.credClients = []int{8}
	o.credDuration = 300 * time.Millisecond
	o.credPostgres = credPostgresOff // seconds, and no PostgreSQL needed
	return o
}

func main() {
	serveKind := flag.String(serveFlag, "", "internal: run only this relay (server mode)")
	serveDir := flag.String(serveDirFlag, "", "internal: the directory of the relay in server mode")
	quick := flag.Bool("quick", false, "every part in seconds: small counts, one repetition, no plateau (a smoke run, not figures)")
	out := flag.String("out", "", "write the table to `prefix`.md and the chart to prefix.png")
	reps := flag.Int("reps", 0, "repetitions; servers alternate within each (default 3, 1 with -quick)")
	servers := flag.String("servers", "", "comma-separated relays to measure (default turnkit,pion,coturn)")
	rates := flag.String("rates", "", "comma-separated offered rates, messages/s (default 10000,50000,100000)")
	modes := flag.String("modes", "", "comma-separated uclient modes: channel, indication (default both)")
	window := flag.Duration("window", 0, "length of the measured plateau of each message load (default 2s)")
	allocs := flag.Int("allocs", 0, "allocations opened by the allocation-rate load (default 2000)")
	mem := flag.String("mem", "", "comma-separated live-allocation levels for RSS (default 500,2000)")
	credClients := flag.String("cred-clients", "", "comma-separated concurrent HTTP clients for the credential load (default 1,64)")
	credDB := flag.String("cred-db", "", "PostgreSQL for the credential load besides SQLite: auto (a throwaway server when PostgreSQL is installed), off, or a postgres:// URL, where it creates an app (default auto, off with -quick)")
	only := flag.String("only", "", "comma-separated parts to run: messages, allocations, memory, credentials (default all)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: bench [flags]\n\nMeasures turnkit's relay, bare pion/turn and coturn side by side on loopback.\n\n")
		flag.VisitAll(func(f *flag.Flag) {
			if f.Name == serveFlag || f.Name == serveDirFlag {
				return
			}
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(flag.CommandLine.Output(), "  -%s %s\n    \t%s\n", f.Name, name, usage)
		})
	}
	flag.Parse()
	if *serveKind != "" {
		os.Exit(serveMain(*serveKind, *serveDir, os.Stdout, os.Stderr))
	}

	o := fullOptions()
	if *quick {
		o = quickOptions()
	}
	o.out = *out
	o.command = "go run ./examples/bench " + strings.Join(os.Args[1:], " ")
	err := applyFlags(&o, *reps, *servers, *rates, *modes, *window, *allocs, *mem, *credClients)
	if err == nil && *credDB != "" {
		err = applyCredDB(&o, *credDB)
	}
	if err == nil {
		err = applyOnly(&o, *only)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runAndWrite(ctx, o, os.Stdout, log); err != nil {
		if errors.Is(err, context.Canceled) {
			log.Warn("interrupted; every child process was stopped")
			os.Exit(130)
		}
		log.Error("bench failed", "err", err)
		os.Exit(1)
	}
}

// runAndWrite runs the bench, prints the table on stdout and writes the
// files.
func runAndWrite(ctx context.Context, o options, stdout io.Writer, log *slog.Logger) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the bench binary to re-execute: %w", err)
	}
	rep, err := run(ctx, o, self, log)
	if err != nil {
		return err
	}
	md := rep.markdown(imageName(o.out))
	if _, err := io.WriteString(stdout, md); err != nil {
		return err
	}
	if o.out == "" {
		return nil
	}
	if err := os.WriteFile(o.out+".md", []byte(md), 0o644); err != nil {
		return err
	}
	if err := writeChart(o.out+".png", rep); err != nil {
		return err
	}
	log.Info("wrote the report", "table", o.out+".md", "chart", o.out+".png")
	return nil
}

// imageName is the chart's file name as the markdown links it (beside the
// .md file).
func imageName(prefix string) string {
	if prefix == "" {
		return ""
	}
	i := strings.LastIndexByte(prefix, '/')
	return prefix[i+1:] + ".png"
}

// applyFlags overrides the defaults with the flags that were set.
func applyFlags(o *options, reps int, servers, rates, modes string, window time.Duration, allocs int, mem, credClients string) error {
	if reps < 0 || allocs < 0 || window < 0 {
		return fmt.Errorf("-reps, -allocs and -window must not be negative")
	}
	if reps > 0 {
		o.reps = reps
	}
	if allocs > 0 {
		o.allocs = allocs
	}
	if window > 0 {
		o.window = window
	}
	if servers != "" {
		o.servers = nil
		for _, s := range strings.Split(servers, ",") {
			k := serverKind(strings.TrimSpace(s))
			if k != turnkitServer && k != pionServer && k != coturnServer {
				return fmt.Errorf("-servers: unknown server %q (want turnkit, pion or coturn)", s)
			}
			o.servers = append(o.servers, k)
		}
	}
	if modes != "" {
		o.modes = nil
		for _, s := range strings.Split(modes, ",") {
			m := relayMode(strings.TrimSpace(s))
			if m != channelMode && m != indicationMode {
				return fmt.Errorf("-modes: unknown mode %q (want channel or indication)", s)
			}
			o.modes = append(o.modes, m)
		}
	}
	var err error
	if rates != "" {
		if o.rates, err = positiveInts("-rates", rates); err != nil {
			return err
		}
	}
	if mem != "" {
		if o.memLevels, err = positiveInts("-mem", mem); err != nil {
			return err
		}
		for i := 1; i < len(o.memLevels); i++ {
			if o.memLevels[i] <= o.memLevels[i-1] {
				return fmt.Errorf("-mem %q: levels must ascend", mem)
			}
		}
	}
	if credClients != "" {
		if o.credClients, err = positiveInts("-cred-clients", credClients); err != nil {
			return err
		}
	}
	return nil
}

// The values of -cred-db besides a URL.
const (
	credPostgresAuto = "auto"
	credPostgresOff  = "off"
)

// applyCredDB sets where the credential load's PostgreSQL Kit runs.
func applyCredDB(o *options, v string) error {
	switch {
	case v == credPostgresAuto, v == credPostgresOff:
	case strings.HasPrefix(v, "postgres://"), strings.HasPrefix(v, "postgresql://"):
	default:
		return fmt.Errorf("-cred-db: %q is not auto, off or a postgres:// URL", v)
	}
	o.credPostgres = v
	return nil
}

// The parts of a run, for -only.
const (
	partMessages    = "messages"
	partAllocations = "allocations"
	partMemory      = "memory"
	partCredentials = "credentials"
)

// applyOnly keeps the parts listed in only (comma-separated) and drops the
// others; an empty list keeps them all.
func applyOnly(o *options, only string) error {
	if only == "" {
		return nil
	}
	keep := map[string]bool{}
	for _, p := range strings.Split(only, ",") {
		p = strings.TrimSpace(p)
		switch p {
		case partMessages, partAllocations, partMemory, partCredentials:
			keep[p] = true
		default:
			return fmt.Errorf("-only: unknown part %q (want %s, %s, %s or %s)", p, partMessages, partAllocations, partMemory, partCredentials)
		}
	}
	if !keep[partMessages] {
		o.modes, o.rates = nil, nil
	}
	if !keep[partAllocations] {
		o.allocs = 0
	}
	if !keep[partMemory] {
		o.memLevels = nil
	}
	if !keep[partCredentials] {
		o.credClients = nil
	}
	return nil
}

// positiveInts parses a comma-separated list of positive integers.
func positiveInts(flagName, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s %q: %q is not a positive integer", flagName, s, f)
		}
		out = append(out, n)
	}
	return out, nil
}
