package main

// This file starts and stops the relays under test, each in a process of
// its own: turnkit's and bare pion's in the bench binary re-executed in
// server mode, coturn's turnserver as itself.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/pion/turn/v5"
)

// serverKind names a relay under test.
type serverKind string

const (
	turnkitServer serverKind = "turnkit"
	pionServer    serverKind = "pion"
	coturnServer  serverKind = "coturn"
)

// allServers is the order servers alternate in within every repetition.
var allServers = []serverKind{turnkitServer, pionServer, coturnServer}

// server is a relay under test, running in its own process.
type server struct {
	kind serverKind
	proc *child
	udp  string // the UDP listener, host:port
	mint minter
	dir  string // removed at stop
}

// pid returns the relay's process ID, for /proc.
func (s *server) pid() int { return s.proc.pid() }

// stop stops the relay's process by its PID and removes its files.
func (s *server) stop() {
	s.proc.stop()
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// launcher starts relays under test.
type launcher struct {
	cs         *children
	self       string // the bench binary, re-executed in server mode
	tmp        string // parent of every server's own directory
	turnserver string // coturn's turnserver; empty when it is not installed
	startWait  time.Duration
}

// start starts a fresh relay of the given kind and returns once it answers
// STUN on UDP.
func (l *launcher) start(ctx context.Context, kind serverKind) (*server, error) {
	dir, err := os.MkdirTemp(l.tmp, string(kind)+"-")
	if err != nil {
		return nil, err
	}
	var s *server
	switch kind {
	case turnkitServer, pionServer:
		s, err = l.startSelf(ctx, kind, dir)
	case coturnServer:
		s, err = l.startCoturn(ctx, dir)
	default:
		err = fmt.Errorf("unknown server %q", kind)
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := waitSTUN(ctx, s.udp, l.startWait, s.proc); err != nil {
		err = s.proc.failure("did not answer STUN", err)
		if kind == coturnServer {
			err = fmt.Errorf("%w\n--- end of turnserver.log ---\n%s", err, coturnLogTail(dir))
		}
		s.stop()
		return nil, err
	}
	return s, nil
}

// startSelf re-executes the bench binary in server mode.
func (l *launcher) startSelf(ctx context.Context, kind serverKind, dir string) (*server, error) {
	ready := make(chan string, 1)
	args := []string{"-" + serveFlag + "=" + string(kind), "-" + serveDirFlag + "=" + dir}
	p, err := l.cs.start(string(kind), l.self, args, startOptions{onLine: func(line string) {
		select {
		case ready <- line:
		default: // only the first line is the ready report
		}
	}})
	if err != nil {
		return nil, err
	}
	var line string
	select {
	case line = <-ready:
	case <-p.done:
		return nil, p.failure("exited before it was ready", errStopped)
	case <-time.After(l.startWait):
		p.stop()
		return nil, p.failure("was not ready", fmt.Errorf("no ready line within %s", l.startWait))
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
	var info readyInfo
	if err := json.Unmarshal([]byte(line), &info); err != nil || info.UDP == "" {
		p.stop()
		return nil, p.failure("printed no ready report", fmt.Errorf("first line %q", clip(line)))
	}
	s := &server{kind: kind, proc: p, udp: info.UDP, dir: dir}
	switch kind {
	case turnkitServer:
		s.mint = turnkitMinter{url: "http://" + info.HTTP + "/v1/credentials", key: info.APIKey,
			client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	case pionServer:
		s.mint = restMinter{secret: info.Secret}
	}
	return s, nil
}

// waitSTUN waits until a STUN Binding request to addr is answered, for at
// most wait, or until the process exits.
func waitSTUN(ctx context.Context, addr string, wait time.Duration, p *child) error {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer conn.Close()
	client, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: addr, Conn: conn, RTO: 50 * time.Millisecond})
	if err != nil {
		return err
	}
	defer client.Close()
	if err := client.Listen(); err != nil {
		return err
	}
	deadline := time.Now().Add(wait)
	for {
		if _, err := client.SendBindingRequest(); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("no Binding response from %s within %s: %w", addr, wait, err)
		}
		if p.exited() {
			return errStopped
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// freePort returns a port free on 127.0.0.1 for both UDP and TCP at the
// time of the call.
func freePort() (int, error) {
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		ln.Close()
		if err == nil {
			pc.Close()
			return port, nil
		}
	}
	return 0, errors.New("no port free for both UDP and TCP on 127.0.0.1")
}

// clip shortens a child's output quoted in an error.
func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
