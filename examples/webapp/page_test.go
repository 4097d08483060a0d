package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/browsertest"
	"github.com/turnkit/turnkit/relay"
)

// testApp is the web app on a fresh Kit, served over loopback.
type testApp struct {
	kit *turnkit.Kit
	url string
	key string // the demo app's API key, printed at creation
}

// startApp opens a fresh Kit on its own SQLite file, with a relay on
// 127.0.0.1 UDP and TCP (no AllowPeers), creates the demo app and serves
// the web app's routes. edit, if set, changes the Kit's config first.
func startApp(t testing.TB, edit func(*turnkit.Config)) *testApp {
	t.Helper()
	ctx := context.Background()
	cfg := turnkit.Config{
		DBPath: filepath.Join(t.TempDir(), "webapp.db"),
		Relay:  relay.Config{UDPAddrs: []string{"127.0.0.1:0"}, TCPAddrs: []string{"127.0.0.1:0"}},
	}
	if edit != nil {
		edit(&cfg)
	}
	kit, err := turnkit.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kit.Close() })
	var out strings.Builder
	appID, err := openDemoApp(ctx, kit, &out)
	if err != nil {
		t.Fatal(err)
	}
	_, key, ok := strings.Cut(strings.TrimSpace(out.String()), "(shown once): ")
	if !ok {
		t.Fatalf("creating the demo app printed %q, without its key", out.String())
	}
	srv := httptest.NewServer(newServer(kit, appID, kit.Relay(), slog.New(slog.DiscardHandler)).routes())
	t.Cleanup(srv.Close)
	return &testApp{kit: kit, url: srv.URL, key: key}
}

// candidateInfo is a candidate as the page reports it from getStats.
type candidateInfo struct {
	Type          string `json:"type"`
	Protocol      string `json:"protocol"`
	RelayProtocol string `json:"relayProtocol"`
	Address       string `json:"address"`
	Port          int    `json:"port"`
}

// pairInfo is a selected candidate pair as the page reports it.
type pairInfo struct {
	Local                candidateInfo `json:"local"`
	Remote               candidateInfo `json:"remote"`
	CurrentRoundTripTime *float64      `json:"currentRoundTripTime"`
	BytesSent            int64         `json:"bytesSent"`
	BytesReceived        int64         `json:"bytesReceived"`
}

// callResult is what the page's call returns.
type callResult struct {
	OK               bool                `json:"ok"`
	Error            string              `json:"error"`
	Transport        string              `json:"transport"`
	OpenMs           float64             `json:"openMs"`
	FirstCandidateMs map[string]float64  `json:"firstCandidateMs"`
	Candidates       map[string][]string `json:"candidates"`
	Sent             int                 `json:"sent"`
	Received         int                 `json:"received"`
	InOrder          bool                `json:"inOrder"`
	PingRttMs        float64             `json:"pingRttMs"`
	Pair             pairInfo            `json:"pair"`
	AnswererPair     pairInfo            `json:"answererPair"`
	Relay            relayResponse       `json:"relay"`
}

// clickCall opens the page, picks the transport and the message count in
// the form, clicks "Call" and waits for the call's result.
func clickCall(t testing.TB, b *browsertest.Browser, url, transport string, messages int) callResult {
	t.Helper()
	if err := b.Open(url); err != nil {
		t.Fatal(err)
	}
	var r callResult
	js := fmt.Sprintf(`(() => {
		document.getElementById("transport").value = %q;
		document.getElementById("messages").value = "%d";
		document.getElementById("call").click();
		return window.lastCall;
	})()`, transport, messages)
	if err := b.Eval(js, &r); err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		t.Fatalf("call over %s failed in the page: %s", transport, r.Error)
	}
	return r
}
