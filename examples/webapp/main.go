// Command webapp is a Go web app that embeds turnkit next to its own
// routes. It opens a Kit on one SQLite file with a TURN relay on 127.0.0.1
// (UDP and TCP), creates or reuses a demo app, and serves its own page and
// its own backend route, POST /api/ice, which mints TURN credentials with
// the Kit's Issuer in Go: the browser never sees an API key.
//
// The page's "Call" button connects two RTCPeerConnections in the page
// through the relay only (iceTransportPolicy "relay", over UDP or TCP as
// chosen), opens a data channel, sends messages and shows the selected
// candidate pair, the round-trip time (from getStats and from a ping-pong
// over the channel) and the bytes relayed.
//
//	go run ./examples/webapp
//	go run ./examples/webapp -http 127.0.0.1:8090 -turn 127.0.0.1:3478 -db webapp.db
//
// Then open http://127.0.0.1:8090 in a browser on the same machine. The
// relay refuses peers on its own host except the relayed addresses of live
// allocations, so the two connections reach each other through their
// relayed addresses without relay.Config.AllowPeers.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/relay"
)

// options are the command's flags.
type options struct {
	httpAddr, turnAddr, dbPath string
}

func main() {
	var o options
	flag.StringVar(&o.httpAddr, "http", "127.0.0.1:8090", "address of the web app")
	flag.StringVar(&o.turnAddr, "turn", "127.0.0.1:3478", "address of the TURN relay (UDP and TCP)")
	flag.StringVar(&o.dbPath, "db", "webapp.db", "SQLite file")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout, log, nil); err != nil {
		log.Error("webapp stopped", "err", err)
		os.Exit(1)
	}
}

// run serves until ctx is done. ready, if not nil, receives the HTTP
// address once the server listens.
func run(ctx context.Context, o options, stdout io.Writer, log *slog.Logger, ready chan<- string) error {
	kit, err := turnkit.Open(ctx, turnkit.Config{
		DBPath: o.dbPath,
		Relay:  relay.Config{UDPAddrs: []string{o.turnAddr}, TCPAddrs: []string{o.turnAddr}},
		Logger: log,
	})
	if err != nil {
		return err
	}
	defer kit.Close()

	appID, err := openDemoApp(ctx, kit, stdout)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", o.httpAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", o.httpAddr, err)
	}
	srv := &http.Server{
		Handler:           newServer(kit, appID, kit.Relay(), log).routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	fmt.Fprintf(stdout, "open http://%s (demo app %q, relay %v)\n", ln.Addr(), appID, kit.Relay().URLs())
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
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
