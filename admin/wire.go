package admin

import (
	"time"

	"github.com/turnkit/turnkit/store"
)

// This file holds the JSON shapes of the API's answers. Times are RFC 3339
// in UTC; a time that is not set is null. Amounts are integer bytes. No
// shape has a field for a client or peer address, a TURN username or an
// API key, except the one-time key of a key just made.

// appJSON is an app.
type appJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	// Regions are the regions the app may use; [] is every region.
	Regions []string `json:"regions"`
}

func appOut(a store.App) appJSON {
	regions := a.Regions
	if regions == nil {
		regions = []string{}
	}
	return appJSON{ID: a.ID, Name: a.Name, Status: string(a.Status), CreatedAt: a.CreatedAt.UTC(), Regions: regions}
}

// keyJSON is an API key: its ID and dates; Key only in the answer that
// made it.
type keyJSON struct {
	ID        string     `json:"id"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	Key       string     `json:"key,omitempty"`
}

func keyOut(k store.APIKey) keyJSON {
	return keyJSON{ID: k.ID, CreatedAt: k.CreatedAt.UTC(), RevokedAt: timeOrNil(k.RevokedAt)}
}

func newKeyOut(k NewKey) keyJSON {
	return keyJSON{ID: k.ID, CreatedAt: k.CreatedAt.UTC(), Key: k.Key}
}

// balanceJSON is an app's two-bucket balance.
type balanceJSON struct {
	AppID        string     `json:"app_id"`
	Subscription int64      `json:"subscription"`
	PAYG         int64      `json:"payg"`
	Total        int64      `json:"total"`
	Allowance    int64      `json:"allowance"`
	PeriodStart  *time.Time `json:"period_start"`
	LowThreshold int64      `json:"low_threshold"`
	LowNotified  bool       `json:"low_notified"`
}

func balanceOut(b store.Balance) balanceJSON {
	return balanceJSON{
		AppID: b.AppID, Subscription: b.Subscription, PAYG: b.PAYG, Total: b.Total(), Allowance: b.Allowance,
		PeriodStart: timeOrNil(b.PeriodStart), LowThreshold: b.LowThreshold, LowNotified: b.LowNotified,
	}
}

// topUpJSON answers a top-up.
type topUpJSON struct {
	Applied   bool        `json:"applied"`
	Reference string      `json:"reference"`
	Bytes     int64       `json:"bytes"`
	Balance   balanceJSON `json:"balance"`
}

// usageJSON is an app's usage over a range, in hourly buckets.
type usageJSON struct {
	AppID       string       `json:"app_id"`
	From        time.Time    `json:"from"`
	To          time.Time    `json:"to"`
	StepSeconds int          `json:"step_seconds"`
	Total       int64        `json:"total"`
	Buckets     []bucketJSON `json:"buckets"`
}

// bucketJSON is one hour of usage.
type bucketJSON struct {
	Start time.Time `json:"start"`
	Bytes int64     `json:"bytes"`
}

// metadataJSON is what a credential request said of its session.
type metadataJSON struct {
	Room      string `json:"room"`
	Initiator string `json:"initiator"`
	Receiver  string `json:"receiver"`
}

// sessionJSON is a live session.
type sessionJSON struct {
	ID        string       `json:"id"`
	AppID     string       `json:"app_id"`
	RelayID   string       `json:"relay_id"`
	Gateway   string       `json:"gateway"`
	KeyID     string       `json:"key_id"`
	Metadata  metadataJSON `json:"metadata"`
	Transport string       `json:"transport"`
	StartedAt time.Time    `json:"started_at"`
	ToPeer    int64        `json:"to_peer"`
	ToClient  int64        `json:"to_client"`
	InProcess bool         `json:"in_process"`
}

func sessionOut(s Session) sessionJSON {
	m := s.Metadata
	return sessionJSON{
		ID: s.ID, AppID: s.AppID, RelayID: s.RelayID, Gateway: s.Gateway, KeyID: s.KeyID,
		Metadata:  metadataJSON{Room: m.Room, Initiator: m.Initiator, Receiver: m.Receiver},
		Transport: s.Transport, StartedAt: s.StartedAt.UTC(), ToPeer: s.ToPeer, ToClient: s.ToClient, InProcess: s.InProcess,
	}
}

// relayJSON is a relay of the fleet.
type relayJSON struct {
	ID          string     `json:"id"`
	Region      string     `json:"region"`
	Allocations int        `json:"allocations"`
	Capacity    int        `json:"capacity"`
	Bitrate     int64      `json:"bitrate"`
	Health      string     `json:"health"`
	Draining    bool       `json:"draining"`
	ReportedAt  *time.Time `json:"reported_at"`
	InProcess   bool       `json:"in_process"`
}

func relayOut(r Relay) relayJSON {
	return relayJSON{
		ID: r.ID, Region: r.Region, Allocations: r.Allocations, Capacity: r.Capacity, Bitrate: r.Bitrate,
		Health: string(r.Health), Draining: r.Draining, ReportedAt: timeOrNil(r.ReportedAt), InProcess: r.InProcess,
	}
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// mapSlice converts a slice.
func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
