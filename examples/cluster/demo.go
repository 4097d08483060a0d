package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/pion/turn/v5"

	"github.com/turnkit/turnkit"
)

// demonstrate asks each issuer for a credential, relays a message through
// the relay each one chose to an echo peer, and prints what the fleet
// recorded of it.
func demonstrate(ctx context.Context, stdout io.Writer, admin *turnkit.Kit, app *turnkit.CreatedApp, issuers []string) error {
	echo, err := net.ListenPacket("udp4", echoIP+":0")
	if err != nil {
		return fmt.Errorf("echo peer: %w", err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := echo.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = echo.WriteTo(buf[:n], from)
		}
	}()
	var closers []io.Closer
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i].Close()
		}
	}()
	for i, api := range issuers {
		cred, err := credential(ctx, api, app.Key)
		if err != nil {
			return fmt.Errorf("issuer %d: %w", i+1, err)
		}
		server := udpURL(cred.URLs)
		conn, c, rc, err := allocate(server, cred.Username, cred.Credential)
		if err != nil {
			return fmt.Errorf("allocate on %s with issuer %d's credential: %w", server, i+1, err)
		}
		// Each allocation stays live until the end, so that the next
		// issuer sees the load and picks the other relay.
		closers = append(closers, conn, closerFunc(c.Close), rc)
		msg := []byte(fmt.Sprintf("hello from a credential of issuer %d", i+1))
		if err := roundTrip(rc, echo.LocalAddr(), msg); err != nil {
			return err
		}
		say(stdout, "issuer %d    credential for relay %s (region %s) -> relayed %q to the echo peer and back", i+1, server, cred.Region, msg)
		// The relay reports its new load to the database within a second;
		// the other issuer reads it there and sends the next client to the
		// less loaded relay.
		if err := until(ctx, func() (bool, error) {
			rs, err := admin.Store().ListRelays(ctx)
			for _, r := range rs {
				if r.Region == cred.Region && r.Allocations > 0 {
					return true, err
				}
			}
			return false, err
		}); err != nil {
			return fmt.Errorf("the relay's load report: %w", err)
		}
	}
	if err := until(ctx, func() (bool, error) {
		n, err := admin.Store().CountActiveSessions(ctx, app.App.ID)
		return n == len(issuers), err
	}); err != nil {
		return fmt.Errorf("the sessions in the database: %w", err)
	}
	say(stdout, "database     %d live sessions of the demo app, recorded by the relay nodes", len(issuers))
	return nil
}

// until polls cond every 50 ms for at most 10 seconds.
func until(ctx context.Context, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if ok || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// credentialAnswer is the part of POST /v1/credentials the demo uses.
type credentialAnswer struct {
	Username, Credential, Region string
	URLs                         []string
}

func credential(ctx context.Context, api, key string) (*credentialAnswer, error) {
	body, _ := json.Marshal(map[string]string{"key": key})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+api+"/v1/credentials", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out credentialAnswer
	if res.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(res.Body)
		return nil, fmt.Errorf("POST /v1/credentials: %d %s", res.StatusCode, raw)
	}
	return &out, json.NewDecoder(res.Body).Decode(&out)
}

// udpURL returns the host:port of the UDP TURN URL.
func udpURL(urls []string) string {
	for _, u := range urls {
		if strings.HasPrefix(u, "turn:") && strings.HasSuffix(u, "?transport=udp") {
			return strings.TrimSuffix(strings.TrimPrefix(u, "turn:"), "?transport=udp")
		}
	}
	return ""
}

// closerFunc adapts a func() to io.Closer.
type closerFunc func()

func (f closerFunc) Close() error { f(); return nil }

// allocate connects a pion client to server and allocates.
func allocate(server, user, pass string) (net.PacketConn, *turn.Client, net.PacketConn, error) {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: server, TURNServerAddr: server, Conn: conn,
		Username: user, Password: pass, Realm: "turnkit"})
	if err == nil {
		if err = c.Listen(); err == nil {
			var rc net.PacketConn
			if rc, err = c.Allocate(); err == nil {
				return conn, c, rc, nil
			}
		}
		c.Close()
	}
	conn.Close()
	return nil, nil, nil, err
}

func roundTrip(rc net.PacketConn, peer net.Addr, msg []byte) error {
	buf := make([]byte, 1500)
	for try := 0; try < 5; try++ {
		if _, err := rc.WriteTo(msg, peer); err != nil {
			return err
		}
		_ = rc.SetReadDeadline(time.Now().Add(time.Second))
		if n, _, err := rc.ReadFrom(buf); err == nil && bytes.Equal(buf[:n], msg) {
			return nil
		}
	}
	return fmt.Errorf("no echo of %q through the relay", msg)
}
