package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/store"
)

// demoAppID is the app the web app issues credentials for.
const demoAppID = "webapp-demo"

// openDemoApp creates the demo app on first run, or reuses it. The backend
// issues for the app in Go and needs no API key; the app's first key is
// printed once to stdout, for clients of turnkit's own /v1/ API mounted
// beside the page.
func openDemoApp(ctx context.Context, kit *turnkit.Kit, stdout io.Writer) (string, error) {
	_, err := kit.App(ctx, demoAppID)
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "demo app %q exists; its API key was printed when it was created\n", demoAppID)
		return demoAppID, nil
	case !errors.Is(err, store.ErrNotFound):
		return "", err
	}
	app, err := kit.CreateApp(ctx, turnkit.NewApp{ID: demoAppID, Name: "web app demo"})
	if err != nil {
		return "", err
	}
	fmt.Fprintf(stdout, "demo app %q created; its API key for /v1/ (shown once): %s\n", demoAppID, app.Key)
	return demoAppID, nil
}
