// Command quickstart runs turnkit's HTTP API, its dashboard at /admin/,
// Prometheus metrics at /metrics and an embedded TURN relay on one SQLite
// file. On first run it creates a demo app and prints its API key once,
// with a curl command that fetches credentials, and the dashboard's admin
// token once, with a link.
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -http 127.0.0.1:8080 -turn 127.0.0.1:3478 -db turnkit.db
//	go run ./examples/quickstart -tls   # and TURN over TLS on 127.0.0.1:5349, self-signed
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
	"github.com/turnkit/turnkit/store"
)

const demoAppID = "demo"

// options are the command's flags.
type options struct {
	httpAddr, turnAddr, dbPath, apiKey, secret string
	adminToken                                 string
	allowPeers                                 []string // relay.Config.AllowPeers; no flag: for tests
	tlsCert, tlsKey, turnsAddr                 string   // TURN over TLS (tls.go)
	selfSignedTLS                              bool
}

func main() {
	var o options
	flag.StringVar(&o.httpAddr, "http", "127.0.0.1:8080", "address of the HTTP API")
	flag.StringVar(&o.turnAddr, "turn", "127.0.0.1:3478", "address of the TURN relay (UDP and TCP)")
	flag.StringVar(&o.dbPath, "db", "turnkit.db", "SQLite file, or a postgres:// URL for a node of a fleet sharing one PostgreSQL database")
	flag.StringVar(&o.apiKey, "api-key", "", "API key of the demo app when it is created (default: generated)")
	flag.StringVar(&o.secret, "turn-secret", "", "relay secret that signs credentials, to share with other relays (default: generated and kept in the db)")
	flag.StringVar(&o.turnsAddr, "turns", "127.0.0.1:5349", "address of the TURN-over-TLS listener, with -tls or -tls-cert and -tls-key")
	flag.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate (chain) file for TURN over TLS on -turns")
	flag.StringVar(&o.tlsKey, "tls-key", "", "PEM private key file of -tls-cert")
	flag.BoolVar(&o.selfSignedTLS, "tls", false, "TURN over TLS on -turns with a self-signed certificate for loopback, made in memory (for local tests)")
	flag.StringVar(&o.adminToken, "admin-token", "", "admin token of the dashboard at /admin/ (default: generated on first run, printed once, its hash kept in the db)")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout, log, nil); err != nil {
		log.Error("quickstart stopped", "err", err)
		os.Exit(1)
	}
}

// sqlitePath is -db when it names a file.
func (o options) sqlitePath() string {
	if turnkit.IsPostgresDSN(o.dbPath) {
		return ""
	}
	return o.dbPath
}

// postgresDSN is -db when it is a PostgreSQL URL.
func (o options) postgresDSN() string {
	if turnkit.IsPostgresDSN(o.dbPath) {
		return o.dbPath
	}
	return ""
}

// run serves until ctx is done. ready, if not nil, receives the HTTP
// address once the server listens.
func run(ctx context.Context, o options, stdout io.Writer, log *slog.Logger, ready chan<- string) error {
	adminHash, freshToken, err := adminToken(ctx, o, stdout)
	if err != nil {
		return err
	}
	rc, err := o.relayConfig(log)
	if err != nil {
		return err
	}
	kit, err := turnkit.Open(ctx, turnkit.Config{
		DBPath:      o.sqlitePath(),
		PostgresDSN: o.postgresDSN(),
		RelaySecret: o.secret,
		Relay:       rc,
		Logger:      log,

		AdminToken:     o.adminToken,
		AdminTokenHash: adminHash,
	})
	if err != nil {
		return err
	}
	defer kit.Close()

	ln, err := net.Listen("tcp", o.httpAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", o.httpAddr, err)
	}
	if err := ensureDemoApp(ctx, kit, o.apiKey, ln.Addr().String(), stdout); err != nil {
		ln.Close()
		return err
	}
	printDashboard(stdout, ln.Addr().String(), freshToken)
	mux := http.NewServeMux()
	mux.Handle("/", kit.Handler())
	mux.Handle("/admin/", kit.AdminHandler())
	mux.Handle("/metrics", metricsHandler(kit))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		// Above the exchange's longest long poll (30 s), which holds the
		// answer until the namespace changes.
		WriteTimeout:   45 * time.Second,
		IdleTimeout:    60 * time.Second,
		MaxHeaderBytes: 16 << 10,
	}
	log.Info("turnkit quickstart running", "http", ln.Addr().String(), "turn", kit.Relay().URLs())
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

// ensureDemoApp creates the demo app on first run and prints its key once.
func ensureDemoApp(ctx context.Context, kit *turnkit.Kit, apiKey, httpAddr string, stdout io.Writer) error {
	_, err := kit.App(ctx, demoAppID)
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "demo app %q exists; its API key was printed when it was created\n", demoAppID)
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	app, err := kit.CreateApp(ctx, turnkit.NewApp{ID: demoAppID, Name: "quickstart demo", Key: apiKey})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "api key: %s\n", app.Key)
	fmt.Fprintf(stdout, "curl -s -X POST http://%s/v1/credentials -H 'Content-Type: application/json' -d '{\"key\": \"%s\"}'\n",
		httpAddr, app.Key)
	return nil
}
