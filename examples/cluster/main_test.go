package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit/internal/pgtest"
)

func TestMain(m *testing.M) {
	if os.Getenv(nodeEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestCluster runs the whole demonstration: a PostgreSQL server of its own,
// two relay and two issuer processes; a credential from each issuer relays
// through a relay node, the two land on different relays (the second issuer
// reads the first relay's load from the database), and the relays record
// both sessions in the database. Every process is stopped at the end.
func TestCluster(t *testing.T) {
	if _, err := pgtest.FindBinaries(); err != nil {
		if os.Getenv("TURNKIT_REQUIRE_ALL") == "1" {
			t.Fatalf("PostgreSQL is required: %v", err)
		}
		t.Skipf("PostgreSQL server binaries not found (apt-get install postgresql): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := runCluster(ctx, options{demoOnly: true, wait: time.Minute}, &out, slog.New(slog.DiscardHandler))
	if errors.Is(err, pgtest.ErrUnavailable) && os.Getenv("TURNKIT_REQUIRE_ALL") != "1" {
		t.Skipf("PostgreSQL unavailable: %v", err)
	}
	if err != nil {
		t.Fatalf("cluster: %v\n%s", err, out.String())
	}
	text := out.String()
	relays := regexp.MustCompile(`credential for relay (\S+)`).FindAllStringSubmatch(text, -1)
	if len(relays) != 2 || relays[0][1] == relays[1][1] {
		t.Fatalf("want two credentials on two different relays:\n%s", text)
	}
	for _, want := range []string{"relay 1 ", "relay 2 ", "issuer 1 ", "issuer 2 ", "2 live sessions"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}
