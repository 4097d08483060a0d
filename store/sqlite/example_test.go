package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/sqlite"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "turnkit-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "turnkit.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	created := time.Date(2025, time.March, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	if err := s.CreateApp(ctx, store.App{ID: "demo", Name: "Demo", Status: store.AppActive, CreatedAt: created}); err != nil {
		fmt.Println(err)
		return
	}
	app, err := s.App(ctx, "demo")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(app.Name, app.Status, app.CreatedAt)

	_, err = s.App(ctx, "missing")
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// Demo active 2025-03-01 11:00:00 +0000 UTC
	// true
}

func ExampleNew() {
	// An in-memory database must be limited to one connection.
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close() // the caller's to close: Store.Close leaves it open
	db.SetMaxOpenConns(1)

	ctx := context.Background()
	s, err := sqlite.New(ctx, db)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	err = s.AddKey(ctx, store.APIKey{ID: "key1", AppID: "no-such-app"})
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// true
}
