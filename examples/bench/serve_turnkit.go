package main

// This file runs turnkit's relay as an embedder gets it: turnkit.Open on a
// fresh SQLite file, metering and the ledger on, the relay's default
// admission, credentials from the Kit's HTTP API.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/relay"
)

// echoPeerIP is where turnutils_peer and the allocation loads' permissions
// point. It is not the relays' own address (127.0.0.1): turnkit refuses
// its own host's addresses as peers, even when loopback is allowed.
const echoPeerIP = "127.0.0.3"

// turnkitConfig is the Config the bench runs turnkit with. Everything not
// set here is turnkit's default: admission, bitrate cap, metering every
// 10 s, usage charged to the ledger.
//
// What differs from the defaults, and why:
//   - AllowPeers lets the relay reach the echo peer on loopback.
//   - MaxAllocationsPerUser (10 by default) is raised to 1000 because
//     turnutils_uclient shares one credential among all its sessions, and
//     each session leaves a probe allocation besides its own.
//   - RateLimits are off so the loads can mint thousands of credentials
//     before they start; the relay does not see them.
func turnkitConfig(dir string) turnkit.Config {
	return turnkit.Config{
		DBPath: filepath.Join(dir, "turnkit.db"),
		Relay: relay.Config{
			UDPAddrs:              []string{"127.0.0.1:0"},
			TCPAddrs:              []string{"127.0.0.1:0"},
			AllowPeers:            []string{echoPeerIP},
			MaxAllocationsPerUser: 1000,
		},
		RateLimits: turnkit.RateLimits{PerKey: -1, PerApp: -1},
	}
}

// turnkitRelay is turnkit's relay and its HTTP API, in server mode.
type turnkitRelay struct {
	kit  *turnkit.Kit
	http *http.Server
	ln   net.Listener
	key  string
}

func startTurnkit(ctx context.Context, dir string) (*turnkitRelay, error) {
	if dir == "" {
		return nil, fmt.Errorf("turnkit needs -%s for its SQLite file", serveDirFlag)
	}
	kit, err := turnkit.Open(ctx, turnkitConfig(dir))
	if err != nil {
		return nil, fmt.Errorf("turnkit.Open: %w", err)
	}
	app, err := kit.CreateApp(ctx, turnkit.NewApp{Name: "bench"})
	if err != nil {
		kit.Close()
		return nil, fmt.Errorf("create app: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		kit.Close()
		return nil, fmt.Errorf("listen for the HTTP API: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", kit.Handler())
	t := &turnkitRelay{kit: kit, ln: ln, key: app.Key, http: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
	}}
	go func() { _ = t.http.Serve(ln) }()
	return t, nil
}

func (t *turnkitRelay) info() readyInfo {
	r := t.kit.Relay()
	return readyInfo{
		UDP:    r.UDPAddrs()[0].String(),
		TCP:    r.TCPAddrs()[0].String(),
		HTTP:   t.ln.Addr().String(),
		APIKey: t.key,
	}
}

func (t *turnkitRelay) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(t.http.Shutdown(ctx), t.kit.Close())
}
