package sqlite_test

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/turnkit/turnkit/store"
)

// BenchmarkKeyByHash looks up API keys by hash, as every credential request
// does on a key-cache miss, in a store of 1000 keys.
func BenchmarkKeyByHash(b *testing.B) {
	ctx := b.Context()
	s := openStore(b, filepath.Join(b.TempDir(), "turnkit.db"))
	if err := s.CreateApp(ctx, store.App{ID: "app1", Status: store.AppActive, CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	const keys = 1000
	hashes := make([][32]byte, keys)
	for i := range hashes {
		hashes[i] = sha256.Sum256(fmt.Appendf(nil, "key%d", i))
		k := store.APIKey{ID: fmt.Sprintf("key%d", i), AppID: "app1", Hash: hashes[i], CreatedAt: time.Now()}
		if err := s.AddKey(ctx, k); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.KeyByHash(ctx, hashes[i%keys]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkOpenCloseSession records one relay allocation from start to end:
// an OpenSession and a CloseSession, two committed writes.
func BenchmarkOpenCloseSession(b *testing.B) {
	ctx := b.Context()
	s := openStore(b, filepath.Join(b.TempDir(), "turnkit.db"))
	if err := s.CreateApp(ctx, store.App{ID: "app1", Status: store.AppActive, CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		id := "sess" + fmt.Sprint(i)
		now := time.Now()
		sess := store.Session{ID: id, AppID: "app1", Username: "1700000000:app1", RelayID: "r1", StartedAt: now}
		if err := s.OpenSession(ctx, sess); err != nil {
			b.Fatal(err)
		}
		if err := s.CloseSession(ctx, id, now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
