package turnkit

import (
	"context"
	"fmt"

	"github.com/turnkit/turnkit/relay"
	"github.com/turnkit/turnkit/store"
)

// NewApp describes an app to create. The zero value creates an active app
// with a random ID and a generated key.
type NewApp struct {
	// ID is the app's ID. Defaults to a random 12-character ID. It must be
	// 1 to 64 characters of [A-Za-z0-9-] (no ':' or '_', so it fits in
	// TURN usernames).
	ID string
	// Name is a label for people.
	Name string
	// Key is the app's first API key. Defaults to a generated key
	// ("tk_" and 32 random characters). A supplied key must be 16 to 256
	// printable ASCII characters without spaces.
	Key string
}

// CreatedApp is the result of CreateApp. Key is the only time the API key
// is shown: only its SHA-256 is stored.
type CreatedApp struct {
	App   store.App
	KeyID string
	Key   string
}

// CreateApp creates an active app and its first API key.
func (k *Kit) CreateApp(ctx context.Context, req NewApp) (*CreatedApp, error) {
	if req.ID == "" {
		req.ID = newAppID()
	} else if !relay.ValidAppID(req.ID) {
		return nil, fmt.Errorf("%w: app ID %q must be 1 to 64 characters of [A-Za-z0-9-]", ErrBadRequest, req.ID)
	}
	if req.Key == "" {
		req.Key = newAPIKey()
	} else if err := checkSuppliedKey(req.Key); err != nil {
		return nil, err
	}
	app := store.App{ID: req.ID, Name: req.Name, Status: store.AppActive, CreatedAt: k.cfg.Now().UTC()}
	if err := k.store.CreateApp(ctx, app); err != nil {
		return nil, fmt.Errorf("turnkit: create app %s: %w", req.ID, err)
	}
	keyID, err := k.addKey(ctx, app.ID, req.Key)
	if err != nil {
		return nil, err
	}
	if err := k.ledger.Welcome(ctx, app.ID); err != nil {
		return nil, err
	}
	return &CreatedApp{App: app, KeyID: keyID, Key: req.Key}, nil
}

// AddKey adds a generated API key to an app and returns its ID and the key,
// shown this once. An app may hold several keys, for rotation.
func (k *Kit) AddKey(ctx context.Context, appID string) (keyID, key string, err error) {
	key = newAPIKey()
	keyID, err = k.addKey(ctx, appID, key)
	if err != nil {
		return "", "", err
	}
	return keyID, key, nil
}

func (k *Kit) addKey(ctx context.Context, appID, key string) (string, error) {
	rec := store.APIKey{ID: newKeyID(), AppID: appID, Hash: hashKey(key), CreatedAt: k.cfg.Now().UTC()}
	if err := k.store.AddKey(ctx, rec); err != nil {
		return "", fmt.Errorf("turnkit: add key to app %s: %w", appID, err)
	}
	k.issuer.auth.forgetUnknown(key)
	return rec.ID, nil
}

// RevokeKey revokes an API key by its ID. Requests with it get 401 from
// then on, and the credentials it minted no longer open allocations
// (sessions already open continue); other nodes sharing the store see it
// at once when the store carries notifications, within the cache TTL
// otherwise.
func (k *Kit) RevokeKey(ctx context.Context, keyID string) error {
	ev, tell := k.revocationEvent(ctx, keyID)
	if err := k.store.RevokeKey(ctx, keyID, k.cfg.Now().UTC()); err != nil {
		return fmt.Errorf("turnkit: revoke key %s: %w", keyID, err)
	}
	k.issuer.auth.forgetKey(keyID)
	k.publish(ctx, store.Change{Kind: store.ChangeKey, ID: keyID})
	if tell {
		k.emit(ev)
	}
	return nil
}

// Keys lists an app's API keys (IDs and dates; never the keys).
func (k *Kit) Keys(ctx context.Context, appID string) ([]store.APIKey, error) {
	keys, err := k.store.AppKeys(ctx, appID)
	if err != nil {
		return nil, fmt.Errorf("turnkit: keys of app %s: %w", appID, err)
	}
	return keys, nil
}

// App returns an app.
func (k *Kit) App(ctx context.Context, appID string) (store.App, error) {
	app, err := k.store.App(ctx, appID)
	if err != nil {
		return store.App{}, fmt.Errorf("turnkit: app %s: %w", appID, err)
	}
	return app, nil
}

// SetAppRegions limits the regions the app's sessions may use; nil or
// empty enables every region. A request naming another region gets 400.
func (k *Kit) SetAppRegions(ctx context.Context, appID string, regions []string) error {
	if err := k.store.SetAppRegions(ctx, appID, regions); err != nil {
		return fmt.Errorf("turnkit: regions of app %s: %w", appID, err)
	}
	k.issuer.auth.forgetApp(appID)
	k.publish(ctx, store.Change{Kind: store.ChangeApp, ID: appID})
	return nil
}

// PauseApp pauses an app: it gets 403 for credentials, the relays refuse
// its new allocations and its refreshes, and its live sessions end (here at
// once, after their usage is reported; on other nodes at their next
// notification or Sweep, within a ReportInterval).
func (k *Kit) PauseApp(ctx context.Context, appID string) error {
	return k.setStatus(ctx, appID, store.AppPaused)
}

// ResumeApp makes a paused app active again.
func (k *Kit) ResumeApp(ctx context.Context, appID string) error {
	return k.setStatus(ctx, appID, store.AppActive)
}

// MarkAppForDeletion marks an app for deletion. It is refused and its
// sessions end as for a paused app (403 with its own detail) until the
// embedder removes it.
func (k *Kit) MarkAppForDeletion(ctx context.Context, appID string) error {
	return k.setStatus(ctx, appID, store.AppDeleting)
}

func (k *Kit) setStatus(ctx context.Context, appID string, st store.AppStatus) error {
	ev, tell := k.statusChangeEvent(ctx, appID, st)
	if err := k.store.SetAppStatus(ctx, appID, st); err != nil {
		return fmt.Errorf("turnkit: set app %s %s: %w", appID, st, err)
	}
	k.issuer.auth.forgetApp(appID)
	if st != store.AppActive {
		k.endAppSessions(appID)
	}
	k.publish(ctx, store.Change{Kind: store.ChangeApp, ID: appID})
	if tell {
		k.emit(ev)
	}
	return nil
}
