package turnkit_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/geotest"
	"github.com/turnkit/turnkit/relay"
)

// geoKit opens a Kit whose relay sits at a location, on the shared file,
// with the GeoIP database at geo.
func geoKit(t *testing.T, db, geo string, clk *clock, id, region string, lat, lon float64) *turnkit.Kit {
	t.Helper()
	kit := openKit(t, turnkit.Config{
		DBPath: db, Now: clk.Now, GeoIPPath: geo,
		Relay: relay.Config{ID: id, Region: region, UDPAddrs: []string{"127.0.0.1:0"}},
		Fleet: turnkit.FleetConfig{ReportInterval: 20 * time.Millisecond, CacheTTL: -1, Lat: lat, Lon: lon, HasLocation: true},
	})
	return kit
}

// TestFleetGeo: three relays in one process, on different loopback ports,
// regions and cities, and a GeoIP database: host IPs from different cities
// land on the nearest relay; a fixed region without a healthy relay is 503;
// a preferred region that is down falls back to the nearest relay.
func TestFleetGeo(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "turnkit.db")
	geo := geotest.BuildCityDB(t)
	clk := newClock()
	open := func(id, region string, lat, lon float64) *turnkit.Kit {
		return geoKit(t, db, geo, clk, id, region, lat, lon)
	}
	fra := open("fra", "eu-central", 50.11, 8.68)
	open("iad", "us-east", 38.95, -77.45)
	open("sin", "ap-singapore", 1.35, 103.82)
	app, err := fra.CreateApp(ctx, turnkit.NewApp{})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(host, fixed, preferred string) (string, error) {
		t.Helper()
		req := turnkit.CredentialRequest{FixedRegion: fixed, PreferredRegion: preferred}
		if host != "" {
			req.HostIP = netip.MustParseAddr(host)
		}
		c, err := issueWithKey(ctx, fra, app.Key, req)
		if err != nil {
			return "", err
		}
		return c.RelayID, nil
	}
	for host, want := range map[string]string{
		"81.0.0.9": "fra", "82.0.0.9": "fra", "3.0.0.9": "iad", "13.0.0.9": "sin", "1.128.0.9": "sin",
		"2a00:1450::9": "fra", "::ffff:3.0.0.9": "iad",
	} {
		if got, err := issue(host, "", ""); err != nil || got != want {
			t.Errorf("host %s: relay %s (%v), want %s", host, got, err, want)
		}
	}
	if got, _ := issue("3.0.0.9", "ap-singapore", ""); got != "sin" {
		t.Errorf("fixed ap-singapore: %s", got)
	}
	if err := fra.SetRelayDraining(ctx, "sin", true); err != nil {
		t.Fatal(err)
	}
	if _, err := issue("3.0.0.9", "ap-singapore", ""); !errors.Is(err, turnkit.ErrNoRelay) || turnkit.HTTPStatus(err) != 503 {
		t.Errorf("fixed region down: %v, want 503", err)
	}
	// Enabled regions: the app may use eu-central and us-east only.
	if err := fra.SetAppRegions(ctx, app.App.ID, []string{"eu-central", "us-east"}); err != nil {
		t.Fatal(err)
	}
	if got, err := issue("13.0.0.9", "", ""); err != nil || got != "fra" {
		t.Errorf("Singapore host with eu and us enabled: %s (%v), want fra", got, err)
	}
	if _, err := issue("3.0.0.9", "ap-singapore", ""); turnkit.HTTPStatus(err) != 403 || !errors.Is(err, turnkit.ErrRegionNotEnabled) {
		t.Errorf("fixed region not enabled: %v, want 403 ErrRegionNotEnabled", err)
	}
	if err := fra.SetAppRegions(ctx, app.App.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := issue("13.0.0.9", "", "ap-singapore"); err != nil || got != "fra" {
		// From Singapore, with its relay down, Frankfurt (10,300 km) is
		// nearer than Virginia (15,500 km).
		t.Errorf("preferred region down: %s (%v), want the nearest, fra", got, err)
	}
}
