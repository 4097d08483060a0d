package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/turnkit/turnkit/store"
	"github.com/turnkit/turnkit/store/postgres"
)

// Every node of a fleet opens the same database. This example needs a
// server, so it is compiled but not run by go test; the package's tests
// run the same calls against a real one.
func ExampleOpen() {
	ctx := context.Background()
	s, err := postgres.Open(ctx, os.Getenv("TURNKIT_POSTGRES_DSN")) // postgres://user:pass@db:5432/turnkit
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	created := time.Date(2025, time.March, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	if err := s.CreateApp(ctx, store.App{ID: "demo", Name: "Demo", Status: store.AppActive, CreatedAt: created}); err != nil {
		log.Fatal(err)
	}
	app, err := s.App(ctx, "demo")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(app.Name, app.Status, app.CreatedAt)

	_, err = s.App(ctx, "missing")
	fmt.Println(errors.Is(err, store.ErrNotFound))
}

// A pool of the caller's own: the Store leaves it open.
func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("TURNKIT_POSTGRES_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close() // after the Store: Store.Close leaves the pool open

	s, err := postgres.New(ctx, pool)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	err = s.AddKey(ctx, store.APIKey{ID: "key1", AppID: "no-such-app"})
	fmt.Println(errors.Is(err, store.ErrNotFound))
}

// A node drops its caches as soon as another node revokes a key: Subscribe
// delivers every change published to the database until ctx ends or the
// Store closes.
func ExampleStore_Subscribe() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := postgres.Open(ctx, os.Getenv("TURNKIT_POSTGRES_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	go func() {
		_ = s.Subscribe(ctx, func(c store.Change) {
			switch c.Kind {
			case store.ChangeKey:
				fmt.Println("forget key", c.ID)
			case store.ChangeAll:
				fmt.Println("forget everything")
			}
		})
	}()

	// On another node, after revoking key1:
	if err := s.Publish(ctx, store.Change{Kind: store.ChangeKey, ID: "key1"}); err != nil {
		log.Fatal(err)
	}
}

// Relays charge their usage deltas in batches: one transaction per batch,
// each delta applied once however often it is sent.
func ExampleStore_ApplyUsageBatch() {
	ctx := context.Background()
	s, err := postgres.Open(ctx, os.Getenv("TURNKIT_POSTGRES_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	now := time.Now()
	deltas := []store.Usage{
		{SessionID: "s1", Seq: 1, AppID: "demo", ToPeer: 1200, ToClient: 800, At: now},
		{SessionID: "s2", Seq: 1, AppID: "demo", ToPeer: 300, ToClient: 0, At: now},
		{SessionID: "s1", Seq: 1, AppID: "demo", ToPeer: 1200, ToClient: 800, At: now}, // a repeat: skipped
	}
	applied, err := s.ApplyUsageBatch(ctx, deltas, func(b *store.Balance, u store.Usage) ([]store.LedgerEntry, error) {
		n := u.ToPeer + u.ToClient
		b.PAYG -= n
		ref := fmt.Sprintf("usage:%s:%d", u.SessionID, u.Seq)
		return []store.LedgerEntry{{At: u.At, Kind: "usage", Ref: ref, PAYG: -n}}, nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(applied) // [true true false] the first time
}
