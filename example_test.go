package turnkit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/relay"
)

// A web app opens a Kit, creates an app and mounts the handler on its mux.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "turnkit-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	kit, err := turnkit.Open(ctx, turnkit.Config{
		DBPath: filepath.Join(dir, "turnkit.db"),
		Relay:  relay.Config{UDPAddrs: []string{"127.0.0.1:0"}}, // any free port
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer kit.Close()
	app, err := kit.CreateApp(ctx, turnkit.NewApp{ID: "shop", Name: "shop"})
	if err != nil {
		fmt.Println(err)
		return
	}

	mux := http.NewServeMux()
	mux.Handle("/v1/", kit.Handler())

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/credentials",
		strings.NewReader(`{"key": "`+app.Key+`", "expiry_ttl": "5"}`)))
	fmt.Println(rec.Code, strings.HasPrefix(app.Key, turnkit.APIKeyPrefix))
	fmt.Println(strings.Contains(rec.Body.String(), `"ttl":300`))
	// Output:
	// 200 true
	// true
}

// The Issuer mints credentials from Go, without HTTP.
func ExampleIssuer_Issue() {
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
	app, _ := kit.CreateApp(ctx, turnkit.NewApp{ID: "game"})

	// A Go program that knows its app issues by app ID; no key needed.
	cred, err := kit.Issuer().Issue(ctx, &turnkit.CredentialRequest{AppID: app.App.ID})
	if err != nil {
		fmt.Println(err)
		return
	}
	u, _ := relay.ParseUsername(cred.Username)
	fmt.Println(u.AppID, cred.TTL, cred.Region)

	// An HTTP handler of its own authenticates the caller's key first.
	caller, err := kit.Issuer().Authenticate(ctx, app.Key)
	fmt.Println(caller.AppID, err)
	_, err = kit.Issuer().Authenticate(ctx, "tk_wrong")
	fmt.Println(err, turnkit.HTTPStatus(err))
	// Output:
	// game 10m0s default
	// game <nil>
	// turnkit: invalid API key 401
}
