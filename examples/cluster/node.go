package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/relay"
)

// echoIP is where the demonstration's echo peer listens; the relays allow
// it explicitly (they refuse loopback peers by default).
const echoIP = "127.0.0.3"

// runNode runs one node of the fleet until ctx is done, after printing a
// "ready" line with its address.
func runNode(ctx context.Context, o options, stdout io.Writer, log *slog.Logger) error {
	cfg := turnkit.Config{PostgresDSN: o.db, Logger: log, Fleet: turnkit.FleetConfig{ReportInterval: time.Second}}
	switch o.role {
	case "issuer":
		cfg.NoRelay = true
	case "relay":
		cfg.Relay = relay.Config{Region: o.region, UDPAddrs: []string{o.turn}, TCPAddrs: []string{o.turn}, AllowPeers: []string{echoIP}}
	default:
		return fmt.Errorf("unknown role %q", o.role)
	}
	kit, err := turnkit.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer kit.Close()
	if o.role == "relay" {
		r := kit.Relay()
		say(stdout, "ready relay %s region %s udp %s", r.ID(), r.Region(), r.UDPAddrs()[0])
		<-ctx.Done()
		return nil
	}
	ln, err := net.Listen("tcp", o.http)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: kit.Handler(), ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 45 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	say(stdout, "ready issuer http %s", ln.Addr())
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}
