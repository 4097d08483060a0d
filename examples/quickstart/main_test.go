package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/turnkit/turnkit/internal/examplestest"
)

// TestQuickstart runs the quickstart on loopback ports, follows its printed
// instructions (the API key and the curl call), restarts it on the same
// file and checks the key is not printed again, and that it shuts down when
// told to.
func TestQuickstart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "turnkit.db")
	o := options{httpAddr: "127.0.0.1:0", turnAddr: "127.0.0.1:0", dbPath: db}

	out, addr, stop := start(t, o)
	m := regexp.MustCompile(`(?m)^api key: (tk_[a-z2-7]{32})$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no api key line in the output:\n%s", out)
	}
	if !strings.Contains(out.String(), "curl -s -X POST http://"+addr+"/v1/credentials") {
		t.Fatalf("no ready curl command for %s in the output:\n%s", addr, out)
	}
	res, err := http.Post("http://"+addr+"/v1/credentials", "application/json", strings.NewReader(`{"key": "`+m[1]+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Username string   `json:"username"`
		URLs     []string `json:"urls"`
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(body.Username, ":demo_") || len(body.URLs) != 3 {
		t.Fatalf("credentials: status %d, %+v", res.StatusCode, body)
	}
	tok := regexp.MustCompile(`(?m)^admin token: (tka_[a-z2-7]{26})$`).FindStringSubmatch(out.String())
	if tok == nil || !strings.Contains(out.String(), "dashboard: http://"+addr+"/admin/#token="+tok[1]+"\n") {
		t.Fatalf("no admin token line and dashboard link in the output:\n%s", out)
	}
	checkAdmin(t, addr, tok[1], http.StatusOK)
	checkAdmin(t, addr, tok[1]+"x", http.StatusUnauthorized)
	stop()

	out, addr, stop = start(t, o)
	if strings.Contains(out.String(), "api key:") || !strings.Contains(out.String(), "exists") {
		t.Fatalf("second run printed:\n%s", out)
	}
	// The admin token is kept as a hash: not printed again, and it works.
	if strings.Contains(out.String(), "admin token:") || strings.Contains(out.String(), tok[1]) || !strings.Contains(out.String(), "dashboard: http://"+addr+"/admin/ ") {
		t.Fatalf("second run printed:\n%s", out)
	}
	checkAdmin(t, addr, tok[1], http.StatusOK)
	stop()

	// -admin-token sets it, for that run.
	o.adminToken = "tka_chosen-by-the-operator-0123"
	out, addr, stop = start(t, o)
	if strings.Contains(out.String(), o.adminToken) {
		t.Fatalf("the run with -admin-token printed it:\n%s", out)
	}
	checkAdmin(t, addr, o.adminToken, http.StatusOK)
	checkAdmin(t, addr, tok[1], http.StatusUnauthorized)
	stop()
}

// checkAdmin asks the admin API for the apps with token, and the page,
// and fails unless the API answers status (listing the demo app when it
// is 200) and the page loads.
func checkAdmin(t *testing.T, addr, token string, status int) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/admin/api/apps", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var apps struct {
		Apps []struct{ ID string } `json:"apps"`
	}
	_ = json.NewDecoder(res.Body).Decode(&apps)
	res.Body.Close()
	if res.StatusCode != status || (status == http.StatusOK && (len(apps.Apps) != 1 || apps.Apps[0].ID != "demo")) {
		t.Fatalf("GET /admin/api/apps: status %d, %+v; want %d with the demo app", res.StatusCode, apps, status)
	}
	page, err := http.Get("http://" + addr + "/admin/")
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /admin/: status %d, %s", page.StatusCode, page.Header.Get("Content-Type"))
	}
}

// start runs the quickstart as main does, with o, until stop: it returns
// what it printed once ready, the address it serves on, and stop.
func start(t *testing.T, o options) (out *bytes.Buffer, addr string, stop func()) {
	t.Helper()
	return examplestest.Start(t, "quickstart", run, o)
}
