// Command gameserver is a match server that embeds turnkit's TURN relay
// and nothing else of it but a GatewayStore: no database, no credential
// API. It runs two relays (as a server with one relay per region would),
// gives each match a gateway, and gives each player a 3-minute credential
// pinned to the relay where the match already has a live session, so
// every player of a match lands on one relay.
//
//	go run ./examples/gameserver
//	go run ./examples/gameserver -http 127.0.0.1:8090 -relays 127.0.0.1:3480,127.0.0.1:3481
//
// Then:
//
//	curl -s -X POST http://127.0.0.1:8090/matches
//	curl -s -X POST http://127.0.0.1:8090/matches/{match}/players
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.httpAddr, "http", "127.0.0.1:8090", "address of the match API")
	flag.StringVar(&o.relays, "relays", "127.0.0.1:3480,127.0.0.1:3481", "comma-separated UDP and TCP addresses of the relays, one per relay")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout, log, nil); err != nil {
		log.Error("gameserver stopped", "err", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	httpAddr, relays string
}

// run serves until ctx is done. ready, if not nil, receives the HTTP
// address once the server listens.
func run(ctx context.Context, o options, stdout io.Writer, log *slog.Logger, ready chan<- string) error {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // crypto/rand.Read never fails
	gs, err := newMatchServer(strings.Split(o.relays, ","), secret, log)
	if err != nil {
		return err
	}
	defer gs.Close()
	ln, err := net.Listen("tcp", o.httpAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", o.httpAddr, err)
	}
	srv := &http.Server{Handler: gs.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 16 << 10}
	for _, r := range gs.relays {
		log.Info("relay", "id", r.ID(), "urls", r.URLs())
	}
	fmt.Fprintf(stdout, "match API on http://%s: curl -s -X POST http://%s/matches\n", ln.Addr(), ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutCtx)
}
