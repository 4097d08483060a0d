package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/httpx"
)

// appOut is the JSON of an app.
type appOut struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Status    string   `json:"status"`
	CreatedAt string   `json:"created_at"`
	Regions   []string `json:"regions"`
}

// TestCreateApp: POST apps makes an active app and its first key, shown
// once, that authenticates; the name is kept as text, markup and all.
func TestCreateApp(t *testing.T) {
	e := newEnv(t, noRelay)
	name := `<script>alert("x")</script> & <img src=x onerror=alert(1)>`
	body, _ := json.Marshal(map[string]string{"id": "shop-1", "name": name})
	a := e.post("/admin/api/apps", string(body)).must(t, http.StatusCreated)
	if strings.Contains(string(a.body), "<script>") {
		t.Errorf("the answer carries markup unescaped: %s", a.body)
	}
	var out struct {
		App appOut `json:"app"`
		Key struct {
			ID, Key   string
			CreatedAt string `json:"created_at"`
		} `json:"key"`
	}
	a.decode(t, &out)
	if out.App.ID != "shop-1" || out.App.Name != name || out.App.Status != "active" || out.App.Regions == nil || len(out.App.Regions) != 0 {
		t.Fatalf("created app %+v", out.App)
	}
	if !strings.HasPrefix(out.Key.Key, turnkit.APIKeyPrefix) || out.Key.ID == "" || out.Key.CreatedAt == "" {
		t.Fatalf("created key %+v", out.Key)
	}
	c, err := e.kit.Issuer().Authenticate(context.Background(), out.Key.Key)
	if err != nil || c.AppID != "shop-1" || c.KeyID != out.Key.ID {
		t.Fatalf("the new key authenticates as %+v, %v", c, err)
	}
	// Shown once: neither the app nor its keys show it again.
	noneOf(t, "GET apps/shop-1", e.get("/admin/api/apps/shop-1").must(t, http.StatusOK).body, out.Key.Key)
	noneOf(t, "GET apps/shop-1/keys", e.get("/admin/api/apps/shop-1/keys").must(t, http.StatusOK).body, out.Key.Key)
	noneOf(t, "GET apps", e.get("/admin/api/apps").must(t, http.StatusOK).body, out.Key.Key)

	// A generated ID, and an empty body.
	for _, b := range []string{`{"name": "second"}`, `{}`, ``} {
		var gen struct{ App appOut }
		e.post("/admin/api/apps", b).must(t, http.StatusCreated).decode(t, &gen)
		if len(gen.App.ID) != 12 {
			t.Errorf("body %q: generated ID %q", b, gen.App.ID)
		}
	}
	// The ID is taken: 409, and nothing changed.
	a = e.post("/admin/api/apps", `{"id": "shop-1", "name": "again"}`)
	if a.status != http.StatusConflict || !strings.Contains(a.detail(), "shop-1") {
		t.Fatalf("taken ID: %d %q, want 409 naming it", a.status, a.detail())
	}
	var again appOut
	e.get("/admin/api/apps/shop-1").must(t, http.StatusOK).decode(t, &again)
	if again.Name != name {
		t.Fatalf("the taken ID's app changed: %+v", again)
	}
}

// TestAppInputRefused: malformed, hostile and boundary bodies get 400 (or
// 413, 415) with a detail, and create nothing.
func TestAppInputRefused(t *testing.T) {
	e := newEnv(t, noRelay)
	cases := []struct {
		name, body, ctype string
		status            int
	}{
		{"unknown field", `{"name": "a", "owner": "me"}`, "", 400},
		{"field in other case", `{"Name": "a"}`, "", 400},
		{"duplicate field", `{"name": "a", "name": "b"}`, "", 400},
		{"key supplied", `{"name": "a", "key": "tk_0123456789abcdefghijklmnopqrstuv"}`, "", 400},
		{"bad ID", `{"id": "a b"}`, "", 400},
		{"ID with underscore", `{"id": "a_b"}`, "", 400},
		{"ID too long", `{"id": "` + strings.Repeat("a", 65) + `"}`, "", 400},
		{"name too long", `{"name": "` + strings.Repeat("n", 129) + `"}`, "", 400},
		{"name with a control character", `{"name": "a\u0007b"}`, "", 400},
		{"name not text", `{"name": 12}`, "", 400},
		{"array", `["name"]`, "", 400},
		{"trailing data", `{"name": "a"} {}`, "", 400},
		{"truncated", `{"name": "a"`, "", 400},
		{"form body", `name=a`, "application/x-www-form-urlencoded", 415},
		{"text body", `{"name": "a"}`, "text/plain", 415},
		{"oversized", `{"name": "` + strings.Repeat("n", 5000) + `"}`, "", 413},
		{"query string", ``, "", 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := "/admin/api/apps"
			if c.name == "query string" {
				path += "?limit=5"
			}
			a := e.send(request{method: "POST", path: path, body: c.body, ctype: c.ctype})
			if a.status != c.status {
				t.Fatalf("status %d, want %d: %s", a.status, c.status, a.body)
			}
		})
	}
	if apps := getPage[appOut](t, e, "/admin/api/apps", "apps"); len(apps.Items) != 0 {
		t.Fatalf("refused bodies created apps: %+v", apps.Items)
	}
	// The longest name and ID that are allowed.
	e.post("/admin/api/apps", `{"id": "`+strings.Repeat("b", 64)+`", "name": "`+strings.Repeat("é", 64)+`"}`).must(t, http.StatusCreated)
}

// TestListApps: pages of apps in ID order, every app exactly once, next
// null on the last page; bad limits and cursors refused.
func TestListApps(t *testing.T) {
	e := newEnv(t, noRelay)
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("app-%c", 'g'-i) // created in reverse order
		e.createApp(id, "")
		want = append(want, id)
	}
	slices.Sort(want)
	for _, limit := range []int{1, 3, 7, 500} {
		apps, pages := allPages[appOut](t, e, fmt.Sprintf("/admin/api/apps?limit=%d", limit), "apps")
		var got []string
		for _, a := range apps {
			got = append(got, a.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: apps %v, want %v", limit, got, want)
		}
		if wantPages := (7 + limit - 1) / limit; pages != wantPages {
			t.Errorf("limit %d: %d pages, want %d", limit, pages, wantPages)
		}
	}
	if p := getPage[appOut](t, e, "/admin/api/apps", "apps"); len(p.Items) != 7 || p.Next != nil {
		t.Errorf("the default page: %d apps, next %v", len(p.Items), p.Next)
	}
	e.post("/admin/api/apps/app-a/keys", "").must(t, http.StatusCreated) // two keys: two pages of one
	first := getPage[appOut](t, e, "/admin/api/apps?limit=2", "apps")
	for name, q := range map[string]string{
		"limit 0":                  "limit=0",
		"negative limit":           "limit=-1",
		"limit over the maximum":   "limit=501",
		"huge limit":               "limit=99999999999999999999",
		"limit not a number":       "limit=ten",
		"limit twice":              "limit=1&limit=2",
		"cursor not base64":        "after=%%%",
		"cursor of nothing":        "after=YWJj",
		"cursor of another list":   "after=" + cursorOf(t, e, "/admin/api/apps/app-a/keys?limit=1", "keys"),
		"cursor twice":             "after=" + *first.Next + "&after=" + *first.Next,
		"unknown parameter":        "offset=2",
		"parameter in other case":  "Limit=2",
		"query over the body size": "after=" + strings.Repeat("A", 5000),
	} {
		a := e.get("/admin/api/apps?" + q)
		want := http.StatusBadRequest
		if name == "query over the body size" {
			want = http.StatusRequestEntityTooLarge
		}
		if a.status != want {
			t.Errorf("%s (?%s): %d %q, want %d", name, httpx.Clip(q), a.status, a.detail(), want)
		}
	}
}

// cursorOf returns the next cursor of a list's first page.
func cursorOf(t *testing.T, e *env, path, name string) string {
	t.Helper()
	p := getPage[json.RawMessage](t, e, path, name)
	if p.Next == nil {
		t.Fatalf("%s has one page only", path)
	}
	return *p.Next
}

// TestAppStatus: pausing, marking for deletion and resuming go through
// the Kit: the app's credentials are refused at once, then issued again.
func TestAppStatus(t *testing.T) {
	e := newEnv(t, noRelay)
	e.createApp("a1", "one")
	for _, c := range []struct{ status, want string }{{"paused", "paused"}, {"deleting", "deleting"}, {"active", "active"}} {
		var app appOut
		e.put("/admin/api/apps/a1/status", `{"status": "`+c.status+`"}`).must(t, http.StatusOK).decode(t, &app)
		if app.Status != c.want {
			t.Fatalf("after %s: status %q", c.status, app.Status)
		}
	}
	for name, body := range map[string]string{
		"unknown status": `{"status": "frozen"}`,
		"status in caps": `{"status": "PAUSED"}`,
		"no status":      `{}`,
		"null status":    `{"status": null}`,
		"number":         `{"status": 1}`,
		"extra field":    `{"status": "paused", "reason": "x"}`,
	} {
		if a := e.put("/admin/api/apps/a1/status", body); a.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, a.status)
		}
	}
	if a := e.put("/admin/api/apps/nope/status", `{"status": "paused"}`); a.status != http.StatusNotFound {
		t.Errorf("unknown app: %d, want 404", a.status)
	}
	if a := e.send(request{method: "POST", path: "/admin/api/apps/a1/status", body: `{"status": "paused"}`}); a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != "PUT" {
		t.Errorf("POST status: %d Allow %q, want 405 Allow PUT", a.status, a.header.Get("Allow"))
	}
}

// TestAppStatusReachesIssuer: a pause through the API refuses the app's
// credentials at once (the Kit drops its cache), and a resume issues
// again.
func TestAppStatusReachesIssuer(t *testing.T) {
	e := newEnv(t, withRelay)
	_, key := e.createApp("a1", "one")
	issue := func() error {
		c, err := e.kit.Issuer().Authenticate(context.Background(), key)
		if err != nil {
			return err
		}
		_, err = e.kit.Issuer().Issue(context.Background(), &turnkit.CredentialRequest{AppID: c.AppID, KeyID: c.KeyID})
		return err
	}
	if err := issue(); err != nil {
		t.Fatal(err)
	}
	e.put("/admin/api/apps/a1/status", `{"status": "paused"}`).must(t, http.StatusOK)
	if err := issue(); !errors.Is(err, turnkit.ErrAppPaused) {
		t.Fatalf("after a pause: %v, want ErrAppPaused", err)
	}
	e.put("/admin/api/apps/a1/status", `{"status": "deleting"}`).must(t, http.StatusOK)
	if err := issue(); !errors.Is(err, turnkit.ErrAppDeleting) {
		t.Fatalf("after mark for deletion: %v, want ErrAppDeleting", err)
	}
	e.put("/admin/api/apps/a1/status", `{"status": "active"}`).must(t, http.StatusOK)
	if err := issue(); err != nil {
		t.Fatalf("after a resume: %v", err)
	}
}

// TestAppRegions: the regions are set, shown and cleared; bad ones are
// refused.
func TestAppRegions(t *testing.T) {
	e := newEnv(t, noRelay)
	e.createApp("a1", "")
	var app appOut
	e.put("/admin/api/apps/a1/regions", `{"regions": ["eu-west", "us.east_1"]}`).must(t, http.StatusOK).decode(t, &app)
	if !slices.Equal(app.Regions, []string{"eu-west", "us.east_1"}) {
		t.Fatalf("regions %q", app.Regions)
	}
	stored, err := e.kit.App(context.Background(), "a1")
	if err != nil || !slices.Equal(stored.Regions, app.Regions) {
		t.Fatalf("stored regions %q, %v", stored.Regions, err)
	}
	e.put("/admin/api/apps/a1/regions", `{"regions": []}`).must(t, http.StatusOK).decode(t, &app)
	if app.Regions == nil || len(app.Regions) != 0 {
		t.Fatalf("cleared regions %q, want []", app.Regions)
	}
	many := make([]string, 65)
	for i := range many {
		many[i] = fmt.Sprintf("r%d", i)
	}
	manyJSON, _ := json.Marshal(map[string]any{"regions": many})
	for name, body := range map[string]string{
		"null":          `{"regions": null}`,
		"absent":        `{}`,
		"not an array":  `{"regions": "eu"}`,
		"empty slug":    `{"regions": [""]}`,
		"slug with /":   `{"regions": ["eu/west"]}`,
		"markup":        `{"regions": ["<b>eu</b>"]}`,
		"long slug":     `{"regions": ["` + strings.Repeat("r", 65) + `"]}`,
		"repeated":      `{"regions": ["eu", "eu"]}`,
		"too many":      string(manyJSON),
		"numbers":       `{"regions": [1]}`,
		"nested":        `{"regions": [["eu"]]}`,
		"unknown field": `{"regions": [], "fixed": true}`,
	} {
		if a := e.put("/admin/api/apps/a1/regions", body); a.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400: %s", name, a.status, a.body)
		}
	}
	if stored, _ := e.kit.App(context.Background(), "a1"); len(stored.Regions) != 0 {
		t.Fatalf("a refused body changed the regions: %q", stored.Regions)
	}
}
