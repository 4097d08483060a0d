package turnkit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/relay"
)

// A static credential, as Metered's API creates them: a fixed TURN
// username and password, and a front-end key that fetches its ICE servers.
func ExampleKit_CreateStaticCredential() {
	dir, _ := os.MkdirTemp("", "turnkit-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	kit, err := turnkit.Open(ctx, turnkit.Config{
		DBPath: filepath.Join(dir, "turnkit.db"),
		Relay:  relay.Config{UDPAddrs: []string{"127.0.0.1:0"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer kit.Close()
	app, err := kit.CreateApp(ctx, turnkit.NewApp{Name: "kiosk"})
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := kit.CreateStaticCredential(ctx, turnkit.StaticCredentialRequest{AppID: app.App.ID, Label: "lobby", TTL: 24 * time.Hour})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(c.Username), c.Label, c.ExpiresAt.Sub(c.CreatedAt))

	// Front-end code fetches the ICE servers with the credential's key.
	rec := httptest.NewRecorder()
	kit.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/turn/credentials?apiKey="+c.APIKey, nil))
	var servers []struct {
		URLs     string `json:"urls"`
		Username string `json:"username"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &servers)
	fmt.Println(rec.Code, len(servers), servers[1].Username == c.Username)

	// Deleted, it is gone, its key with it.
	if err := kit.DeleteStaticCredential(ctx, app.App.ID, c.Username); err != nil {
		fmt.Println(err)
		return
	}
	rec = httptest.NewRecorder()
	kit.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/turn/credentials?apiKey="+c.APIKey, nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// 24 lobby 24h0m0s
	// 200 2 true
	// 401 {"error":"Invalid API Key"}
}
