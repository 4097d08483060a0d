package main

// This file is the bench binary's server mode: re-executed with -serve, it
// runs one relay (turnkit's or bare pion's) and nothing else, so that
// /proc/PID shows that relay's memory and CPU alone.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// serveFlag is the hidden flag of server mode; serveDirFlag names the
// directory the server may write in (turnkit's SQLite file).
const (
	serveFlag    = "serve"
	serveDirFlag = "serve-dir"
)

// readyInfo is what a server started in server mode prints, as one JSON
// line on stdout, once it answers. Secrets travel over this pipe only:
// they are never put on a command line or in a log.
type readyInfo struct {
	// UDP and TCP are the relay's listener addresses.
	UDP string `json:"udp"`
	TCP string `json:"tcp"`
	// HTTP is the address of turnkit's HTTP API (POST /v1/credentials).
	HTTP string `json:"http,omitempty"`
	// APIKey is the key of the app turnkit's server created.
	APIKey string `json:"api_key,omitempty"`
	// Secret is bare pion's TURN REST API secret.
	Secret string `json:"secret,omitempty"`
}

// relayUnderTest is a server started in server mode.
type relayUnderTest interface {
	info() readyInfo
	Close() error
}

// serveMain runs server mode until SIGTERM or SIGINT, and returns the
// process's exit code.
func serveMain(kind, dir string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := serve(ctx, kind, dir, stdout); err != nil {
		fmt.Fprintf(stderr, "bench -%s=%s: %v\n", serveFlag, kind, err)
		return 1
	}
	return 0
}

// serve starts the relay of the given kind, reports it ready on stdout and
// serves until ctx is done.
func serve(ctx context.Context, kind, dir string, stdout io.Writer) error {
	var (
		srv relayUnderTest
		err error
	)
	switch serverKind(kind) {
	case turnkitServer:
		srv, err = startTurnkit(ctx, dir)
	case pionServer:
		srv, err = startPion()
	default:
		return fmt.Errorf("server mode runs %q or %q, not %q", turnkitServer, pionServer, kind)
	}
	if err != nil {
		return err
	}
	if err := json.NewEncoder(stdout).Encode(srv.info()); err != nil {
		srv.Close()
		return fmt.Errorf("report ready: %w", err)
	}
	<-ctx.Done()
	return srv.Close()
}
