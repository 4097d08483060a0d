package compat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/relay"
)

// A team on Turnix points its existing request at turnkit: the same
// Bearer token header, the same form body, the same answer.
func Example() {
	dir, _ := os.MkdirTemp("", "compat-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	kit, err := turnkit.Open(ctx, turnkit.Config{
		DBPath: filepath.Join(dir, "turnkit.db"),
		Relay:  relay.Config{UDPAddrs: []string{"127.0.0.1:0"}, TCPAddrs: []string{"127.0.0.1:0"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer kit.Close()
	app, err := kit.CreateApp(ctx, turnkit.NewApp{Name: "calls"})
	if err != nil {
		fmt.Println(err)
		return
	}

	req := httptest.NewRequest("POST", "/credentials/ice", strings.NewReader("room=standup&ttl=60"))
	req.Header.Set("Authorization", "Bearer "+app.Key)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	kit.Handler().ServeHTTP(rec, req)

	var answer struct {
		IceServers []struct {
			URLs       []string `json:"urls"`
			Username   string   `json:"username"`
			Credential string   `json:"credential"`
		} `json:"iceServers"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &answer)
	turn := answer.IceServers[1]
	fmt.Println(rec.Code, len(answer.IceServers), len(turn.URLs))
	fmt.Println(strings.HasPrefix(answer.IceServers[0].URLs[0], "stun:"), strings.HasPrefix(turn.URLs[0], "turn:"),
		turn.Username != "", turn.Credential != "")
	// Output:
	// 200 2 2
	// true true true true
}
