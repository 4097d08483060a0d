package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/turnkit/turnkit/store"
)

// checkTime reports an error unless got is want to the millisecond and in
// UTC, or both are zero.
func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	switch {
	case want.IsZero() && got.IsZero():
		return
	case want.IsZero():
		t.Errorf("%s = %v, want the zero time", what, got)
		return
	case got.IsZero():
		t.Errorf("%s is the zero time, want %v", what, want)
		return
	}
	if got.Location() != time.UTC {
		t.Errorf("%s = %v in %v, want it in UTC", what, got, got.Location())
	}
	if d := got.Sub(want); d <= -time.Millisecond || d >= time.Millisecond {
		t.Errorf("%s = %v, want %v to the millisecond (off by %v)", what, got, want.UTC(), d)
	}
}

// checkErr reports an error unless errors.Is(err, want).
func checkErr(t *testing.T, call string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", call, err, want)
	}
}

func checkApp(t *testing.T, got, want store.App) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Status != want.Status {
		t.Errorf("app = {ID:%q Name:%q Status:%q}, want {ID:%q Name:%q Status:%q}",
			got.ID, got.Name, got.Status, want.ID, want.Name, want.Status)
	}
	checkTime(t, "app "+want.ID+" CreatedAt", got.CreatedAt, want.CreatedAt)
}

func checkKey(t *testing.T, got, want store.APIKey) {
	t.Helper()
	if got.ID != want.ID || got.AppID != want.AppID {
		t.Errorf("key = {ID:%q AppID:%q}, want {ID:%q AppID:%q}", got.ID, got.AppID, want.ID, want.AppID)
	}
	if got.Hash != want.Hash {
		t.Errorf("key %q Hash = %x, want %x", want.ID, got.Hash, want.Hash)
	}
	checkTime(t, "key "+want.ID+" CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "key "+want.ID+" RevokedAt", got.RevokedAt, want.RevokedAt)
}

func checkKeys(t *testing.T, got, want []store.APIKey) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d keys %v, want %d %v", len(got), keyIDs(got), len(want), keyIDs(want))
	}
	for i := range want {
		checkKey(t, got[i], want[i])
	}
}

func keyIDs(keys []store.APIKey) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}

func checkSecret(t *testing.T, got, want store.Secret) {
	t.Helper()
	if got.ID != want.ID {
		t.Errorf("secret ID = %q, want %q", got.ID, want.ID)
	}
	if !bytes.Equal(got.Value, want.Value) {
		t.Errorf("secret %q Value = %x, want %x", want.ID, got.Value, want.Value)
	}
	checkTime(t, "secret "+want.ID+" CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "secret "+want.ID+" NotAfter", got.NotAfter, want.NotAfter)
}

func checkSecrets(t *testing.T, got, want []store.Secret) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d secrets %v, want %d %v", len(got), secretIDs(got), len(want), secretIDs(want))
	}
	for i := range want {
		checkSecret(t, got[i], want[i])
	}
}

func secretIDs(list []store.Secret) []string {
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	return ids
}

func checkSession(t *testing.T, got, want store.Session) {
	t.Helper()
	if got.ID != want.ID || got.AppID != want.AppID || got.Username != want.Username || got.RelayID != want.RelayID {
		t.Errorf("session = {ID:%q AppID:%q Username:%q RelayID:%q}, want {ID:%q AppID:%q Username:%q RelayID:%q}",
			got.ID, got.AppID, got.Username, got.RelayID, want.ID, want.AppID, want.Username, want.RelayID)
	}
	checkTime(t, "session "+want.ID+" StartedAt", got.StartedAt, want.StartedAt)
	checkTime(t, "session "+want.ID+" EndedAt", got.EndedAt, want.EndedAt)
	if got.Instance != want.Instance || got.ToPeer != want.ToPeer || got.ToClient != want.ToClient {
		t.Errorf("session %s = {Instance:%q ToPeer:%d ToClient:%d}, want {Instance:%q ToPeer:%d ToClient:%d}",
			want.ID, got.Instance, got.ToPeer, got.ToClient, want.Instance, want.ToPeer, want.ToClient)
	}
	if got.Gateway != want.Gateway || got.KeyID != want.KeyID || got.Metadata != want.Metadata {
		t.Errorf("session %s = {Gateway:%q KeyID:%q Metadata:%+v}, want {Gateway:%q KeyID:%q Metadata:%+v}",
			want.ID, got.Gateway, got.KeyID, got.Metadata, want.Gateway, want.KeyID, want.Metadata)
	}
}
