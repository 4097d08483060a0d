package turnkit_test

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/turntest"
	"github.com/turnkit/turnkit/relay"
)

// TestPauseEndsLiveSessions: pausing an app ends its live allocation at
// once, with its usage charged first; new credentials and allocations are
// refused. Another app's session is untouched.
func TestPauseEndsLiveSessions(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t, allowEcho)
	other, err := tk.CreateApp(ctx, turnkit.NewApp{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	peer := turntest.Echo(t, echoIP)
	rc, err := tk.dialCred("udp", tk.credentials("")).allocate()
	if err != nil {
		t.Fatal(err)
	}
	otherCred, err := tk.Issuer().Issue(ctx, &turnkit.CredentialRequest{AppID: other.App.ID})
	if err != nil {
		t.Fatal(err)
	}
	otherRC, err := tk.dialTURN("udp", otherCred.Username, otherCred.Password).allocate()
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("p"), 300)
	for range 3 {
		roundTrip(t, rc, peer, msg)
	}
	roundTrip(t, otherRC, peer, msg)
	eventually(t, "the session to be recorded", func() bool {
		n, err := tk.Store().CountActiveSessions(ctx, tk.app.App.ID)
		return err == nil && n == 1
	})

	if err := tk.PauseApp(ctx, tk.app.App.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(appSessions(tk.Relay(), tk.app.App.ID)); n != 0 {
		t.Fatalf("%d live sessions of the paused app on the relay, want 0", n)
	}
	eventually(t, "the paused app's session to close in the store", func() bool {
		n, err := tk.Store().CountActiveSessions(ctx, tk.app.App.ID)
		return err == nil && n == 0
	})
	var charged int64
	for _, e := range usageEntries(t, tk) {
		charged -= e.Subscription + e.PAYG
	}
	if want := int64(2 * 3 * len(msg)); charged != want {
		t.Fatalf("usage charged %d bytes, want %d: the final delta must be flushed before the session ends", charged, want)
	}
	// The relayed socket is gone: nothing comes back through it.
	_, _ = rc.WriteTo(msg, peer)
	_ = rc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _, err := rc.ReadFrom(make([]byte, 2048)); err == nil {
		t.Fatalf("an ended allocation still relayed %d bytes", n)
	}
	if status, res := tk.post(`{"key": "` + tk.app.Key + `"}`); status != http.StatusForbidden {
		t.Fatalf("credentials for a paused app: %d %q, want 403", status, res.Detail)
	}
	// The other app's session lives on.
	roundTrip(t, otherRC, peer, msg)
	if n := len(appSessions(tk.Relay(), other.App.ID)); n != 1 {
		t.Fatalf("the other app has %d live sessions, want 1", n)
	}
}

// TestPauseOnAnotherNode: an app paused through another Kit on the same
// store loses its sessions on this Kit's relay at this Kit's next Sweep,
// and this relay refuses its new allocations at once from then on.
func TestPauseOnAnotherNode(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t, allowEcho)
	rc, err := tk.dialCred("udp", tk.credentials("")).allocate()
	if err != nil {
		t.Fatal(err)
	}
	_ = rc
	fresh := tk.credentials("") // minted before the pause
	b := openKit(t, turnkit.Config{DBPath: filepath.Join(tk.dir, "turnkit.db"), NoRelay: true, Now: tk.clock.Now})
	if err := b.PauseApp(ctx, tk.app.App.ID); err != nil {
		t.Fatal(err)
	}
	if err := tk.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(appSessions(tk.Relay(), tk.app.App.ID)); n != 0 {
		t.Fatalf("after a Sweep, %d live sessions of the app paused elsewhere, want 0", n)
	}
	if _, err := tk.dialCred("udp", fresh).allocate(); err == nil {
		t.Fatal("an allocation of an app paused elsewhere succeeded after the Sweep")
	}
}

// TestRevokedKeyCredentialsRefused: a credential minted with an API key
// no longer allocates once the key is revoked; credentials of the app's
// other key, and ones minted in Go by app ID, still do.
func TestRevokedKeyCredentialsRefused(t *testing.T) {
	ctx := context.Background()
	tk := newTestKit(t)
	minted := tk.credentials("") // with the app's first key
	keys, err := tk.Keys(ctx, tk.app.App.ID)
	if err != nil || len(keys) != 1 {
		t.Fatalf("Keys = %v, %v", keys, err)
	}
	_, otherKey, err := tk.AddKey(ctx, tk.app.App.ID)
	if err != nil {
		t.Fatal(err)
	}
	viaOther, err := issueWithKey(ctx, tk.Kit, otherKey, turnkit.CredentialRequest{})
	if err != nil {
		t.Fatal(err)
	}
	byApp, err := tk.Issuer().Issue(ctx, &turnkit.CredentialRequest{AppID: tk.app.App.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := tk.RevokeKey(ctx, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.dialCred("udp", minted).allocate(); err == nil {
		t.Fatal("a credential of a revoked key allocated")
	}
	if _, err := tk.dialTURN("udp", viaOther.Username, viaOther.Password).allocate(); err != nil {
		t.Fatalf("a credential of the app's other key: %v", err)
	}
	if _, err := tk.dialTURN("udp", byApp.Username, byApp.Password).allocate(); err != nil {
		t.Fatalf("a credential minted by app ID: %v", err)
	}
}

// appSessions returns the relay's live sessions of an app.
func appSessions(r *relay.Server, appID string) []relay.LiveSession {
	var out []relay.LiveSession
	for _, s := range r.Sessions() {
		if s.AppID == appID {
			out = append(out, s)
		}
	}
	return out
}
