package main

// This file starts coturn's turnserver as a relay under test: on free
// ports of 127.0.0.1, TURN REST API credentials with a random secret, the
// echo peer allowed and every other loopback address refused, no TLS, no
// CLI, its files in a directory of its own.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// coturnOptions returns turnserver's configuration, one option a line.
// They go in a file (mode 0600) rather than on the command line, so the
// secret does not show in the process list.
func coturnOptions(port int, secret, dir string) []string {
	return []string{
		"listening-ip=127.0.0.1",
		"relay-ip=127.0.0.1",
		"listening-port=" + strconv.Itoa(port),
		"use-auth-secret",
		"static-auth-secret=" + secret,
		"realm=" + benchRealm,
		"no-tls",
		"no-dtls",
		"no-cli",
		// coturn refuses loopback peers unless allowed; then refuse all of
		// 127/8 but the echo peer, the rule turnkit's and pion's relays
		// apply here.
		"allow-loopback-peers",
		"denied-peer-ip=127.0.0.0-127.255.255.255",
		"allowed-peer-ip=" + echoPeerIP,
		"userdb=" + filepath.Join(dir, "turndb"),
		"pidfile=" + filepath.Join(dir, "turnserver.pid"),
		"log-file=" + filepath.Join(dir, "turnserver.log"),
		"simple-log",
		"no-stdout-log",
	}
}

func (l *launcher) startCoturn(_ context.Context, dir string) (*server, error) {
	if l.turnserver == "" {
		return nil, fmt.Errorf("coturn's turnserver is not installed")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	secret := base64.RawURLEncoding.EncodeToString(raw)
	conf := filepath.Join(dir, "turnserver.conf")
	text := strings.Join(coturnOptions(port, secret, dir), "\n") + "\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", conf, err)
	}
	p, err := l.cs.start("coturn", l.turnserver, []string{"-c", conf}, startOptions{dir: dir})
	if err != nil {
		return nil, err
	}
	return &server{kind: coturnServer, proc: p, udp: fmt.Sprintf("127.0.0.1:%d", port),
		mint: restMinter{secret: secret}, dir: dir}, nil
}

// coturnLogTail returns the end of turnserver's log in dir, for errors.
func coturnLogTail(dir string) string {
	raw, err := os.ReadFile(filepath.Join(dir, "turnserver.log"))
	if err != nil {
		return ""
	}
	if len(raw) > 4096 {
		raw = raw[len(raw)-4096:]
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	return string(raw)
}
