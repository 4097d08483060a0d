package compat_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
)

// TestVendorRequestsKeepNoAddressOrKey drives every vendor endpoint, and a
// session and a refused login through a static credential, with logging
// at its most verbose, and checks that neither the logs nor the SQLite
// files hold the forwarded client address (X-TURN-CLIENT-IP), the API key
// or the front-end key, and that the logs hold no password either.
func TestVendorRequestsKeepNoAddressOrKey(t *testing.T) {
	logs := &turntest.Buffer{}
	var dbDir string
	e := newEnv(t, opt(func(c *turnkit.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.Level(-8)}))
		dbDir = filepath.Dir(c.DBPath)
	}))
	peer := turntest.Echo(t, echoIP)
	const forwarded = "203.0.113.77"
	r := e.do(t, http.MethodPost, "/credentials/ice", hdr("Authorization", e.bearer(), "X-TURN-CLIENT-IP", forwarded),
		"room=private-room&initiator_client=alice")
	checkTurnixShape(t, r, false)
	e.do(t, http.MethodPost, "/credentials/ice", hdr("Authorization", e.bearer(), "X-TURN-CLIENT-IP", "203.0.113.78"), "")
	e.do(t, http.MethodPost, "/v1/credentials", hdr("Authorization", e.bearer()), `{"region": "global"}`)
	c := e.create(t, `{"label": "secret-free"}`)
	urls := checkMeteredShape(t, e.iceServers(t, c.APIKey, ""), c.Username, c.Password, false)
	rc, err := e.allocate(t, urls[0], c.Username, c.Password)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, rc, peer, "private")
	if _, err := e.allocate(t, urls[0], c.Username, "wrong password"); err == nil {
		t.Fatal("a wrong password allocated")
	}
	e.do(t, http.MethodGet, "/api/v1/turn/credentials?secretKey="+url.QueryEscape(c.APIKey), nil, "")
	e.do(t, http.MethodGet, "/api/v1/turn/credentials?apiKey="+url.QueryEscape(e.app.Key), nil, "")
	_ = rc.Close()
	e.srv.Close()
	if err := e.kit.Close(); err != nil {
		t.Fatal(err)
	}

	turntest.CheckLogsLack(t, logs.String(), forwarded, "203.0.113.78", e.app.Key, c.APIKey, c.Password)
	turntest.CheckFilesLack(t, filepath.Join(dbDir, "turnkit.db*"), forwarded, "203.0.113.78", e.app.Key, c.APIKey)
}
