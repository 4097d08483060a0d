// Command cluster runs a small turnkit fleet on one machine, as separate
// processes on loopback ports sharing one PostgreSQL database: two issuer
// nodes (the credential API, no relay) and two relay nodes (a TURN relay
// each, registered in the fleet, no API). It starts a throwaway PostgreSQL
// server of its own unless -db names one, prints every address, and then
// shows the fleet at work: a credential from each issuer is used to relay
// data through the relay the issuer chose, whichever node runs it.
//
//	go run ./examples/cluster
//	go run ./examples/cluster -db postgres://user@db.example/turnkit
//
// On several machines the same pieces are: PostgreSQL on one (or a managed
// database), `go run ./examples/quickstart -db postgres://…` style issuer
// nodes behind a load balancer, and relay nodes near the users, each with
// its public address (relay.Config.RelayIP) and region. See the README.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// options are the command's flags.
type options struct {
	db       string        // PostgreSQL URL; empty starts a local server
	demoOnly bool          // stop after the demonstration
	role     string        // set in the child processes: issuer or relay
	http     string        // child: the issuer's HTTP address
	turn     string        // child: the relay's address
	region   string        // child: the relay's region
	wait     time.Duration // how long the fleet may take to start
}

func main() {
	var o options
	flag.StringVar(&o.db, "db", "", "PostgreSQL URL of the fleet's database (default: start a throwaway server in a temporary directory)")
	flag.BoolVar(&o.demoOnly, "demo", false, "stop once the demonstration has run, instead of serving until interrupted")
	flag.DurationVar(&o.wait, "wait", 60*time.Second, "how long the fleet may take to start")
	flag.StringVar(&o.role, "role", "", "internal: run one node (issuer or relay)")
	flag.StringVar(&o.http, "http", "127.0.0.1:0", "internal: address of an issuer's API")
	flag.StringVar(&o.turn, "turn", "127.0.0.1:0", "internal: address of a relay (UDP and TCP)")
	flag.StringVar(&o.region, "region", "", "internal: region of a relay")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if o.role != "" {
		err = runNode(ctx, o, os.Stdout, log)
	} else {
		err = runCluster(ctx, o, os.Stdout, log)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

// say prints a line of the demonstration.
func say(w io.Writer, format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
