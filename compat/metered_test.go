package compat_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
)

// meteredCreated is the documented answer of a creation.
type meteredCreated struct {
	Username        string `json:"username"`
	Password        string `json:"password"`
	APIKey          string `json:"apiKey"`
	Label           string `json:"label"`
	ExpiryInSeconds *int64 `json:"expiryInSeconds"`
}

// meteredServer is one entry of the ICE-server array.
type meteredServer struct {
	URLs       string `json:"urls"`
	Username   string `json:"username"`
	Credential string `json:"credential"`
}

// create makes a persistent credential through the API, failing the test
// unless it is answered as documented.
func (e *env) create(t *testing.T, body string) meteredCreated {
	t.Helper()
	r := e.do(t, http.MethodPost, "/api/v1/turn/credential?secretKey="+url.QueryEscape(e.app.Key),
		hdr("Content-Type", "application/json"), body)
	if r.status != http.StatusOK {
		t.Fatalf("create %s: status %d %s", body, r.status, r.body)
	}
	var c meteredCreated
	r.json(t, &c)
	if len(c.Username) != 24 || c.Password == "" || c.APIKey == "" || c.APIKey == e.app.Key {
		t.Fatalf("created %+v, want a 24-digit username, a password and an apiKey of its own", c)
	}
	return c
}

// iceServers fetches a credential's ICE servers with its apiKey.
func (e *env) iceServers(t *testing.T, apiKey, extra string) response {
	t.Helper()
	return e.do(t, http.MethodGet, "/api/v1/turn/credentials?apiKey="+url.QueryEscape(apiKey)+extra, nil, "")
}

// checkMeteredShape checks an ICE-server array against the documented
// shape: a stun: entry without credential first, then turn: UDP and TCP
// entries and, with TLS, a turns: one, each with one URL as a string and
// the credential. It returns the TURN entries' URLs.
func checkMeteredShape(t *testing.T, r response, user, pass string, tls bool) []string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	if r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("no Access-Control-Allow-Origin: front-end code on another origin could not read the answer")
	}
	var raw []map[string]json.RawMessage
	r.json(t, &raw)
	var servers []meteredServer
	r.json(t, &servers)
	if len(servers) < 3 {
		t.Fatalf("ICE servers %s, want stun and turn entries", r.body)
	}
	for i, s := range raw {
		if u := s["urls"]; len(u) == 0 || u[0] != '"' {
			t.Errorf("entry %d urls %s, want one URL as a string, as Metered's", i, u)
		}
	}
	if !strings.HasPrefix(servers[0].URLs, "stun:") || servers[0].Username != "" {
		t.Errorf("first entry %+v, want the stun: URL without credential", servers[0])
	}
	var turn []string
	var udp, tcp, turns bool
	for _, s := range servers[1:] {
		if s.Username != user || s.Credential != pass {
			t.Errorf("entry %+v, want the credential %s/%s", s, user, pass)
		}
		turn = append(turn, s.URLs)
		udp = udp || (strings.HasPrefix(s.URLs, "turn:") && strings.HasSuffix(s.URLs, "?transport=udp"))
		tcp = tcp || (strings.HasPrefix(s.URLs, "turn:") && strings.HasSuffix(s.URLs, "?transport=tcp"))
		turns = turns || strings.HasPrefix(s.URLs, "turns:")
	}
	if !udp || !tcp || turns != tls {
		t.Errorf("TURN URLs %v, want turn udp and tcp, and turns: %v", turn, tls)
	}
	return turn
}

// TestMeteredDocumentedRequests replays the requests of Metered's two
// documents: the creation examples (curl with a JSON label) and the
// fetches (fetch with apiKey, with and without a region), and the
// documented errors, with their exact bodies.
func TestMeteredDocumentedRequests(t *testing.T) {
	e := newEnv(t, withTLS, opt(withRelays(otherTLSRelay("iad-1", "us-east", "192.0.2.30"))))
	for _, label := range []string{"exampleLabel", "created-via-api"} {
		c := e.create(t, `{
"label": "`+label+`"
}`)
		if c.Label != label || c.ExpiryInSeconds != nil {
			t.Errorf("created %+v, want label %q and no expiry", c, label)
		}
		// fetch("/api/v1/turn/credentials?apiKey=<YOUR_API_KEY>"), from a
		// page on another origin.
		r := e.do(t, http.MethodGet, "/api/v1/turn/credentials?apiKey="+c.APIKey, hdr("Origin", "https://app.example", "Accept", "*/*"), "")
		urls := checkMeteredShape(t, r, c.Username, c.Password, true)
		if !strings.Contains(urls[0], "127.0.0.1") && !strings.Contains(urls[0], "192.0.2.30") {
			t.Errorf("TURN URLs %v", urls)
		}
		// With a region: pinned there.
		r = e.iceServers(t, c.APIKey, "&region=us_east")
		if r.status != http.StatusOK || !strings.Contains(string(r.body), "192.0.2.30") || strings.Contains(string(r.body), "127.0.0.1") {
			t.Errorf("region us_east: status %d %s, want the us-east relay alone", r.status, r.body)
		}
		checkMeteredShape(t, e.iceServers(t, c.APIKey, "&region=global"), c.Username, c.Password, true)
	}
	for _, c := range []struct {
		name, target string
		status       int
		body         string
	}{
		{"no API key", "/api/v1/turn/credentials", 400, `{"error":"Please specify API Key"}`},
		{"empty API key", "/api/v1/turn/credentials?apiKey=", 400, `{"error":"Please specify API Key"}`},
		{"unknown API key", "/api/v1/turn/credentials?apiKey=a57a9a52a4a56f5daffb86a0b6179e00e624", 401, `{"error":"Invalid API Key"}`},
		{"unknown API key with region", "/api/v1/turn/credentials?apiKey=nope&region=us_east", 401, `{"error":"Invalid API Key"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, http.MethodGet, c.target, nil, "")
			if r.status != c.status || !bytes.Equal(bytes.TrimSpace(r.body), []byte(c.body)) {
				t.Fatalf("status %d body %s, want %d %s", r.status, r.body, c.status, c.body)
			}
			if r.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Error("error answer without Access-Control-Allow-Origin: the page could not read it")
			}
		})
	}
	t.Run("CORS preflight", func(t *testing.T) {
		r := e.do(t, http.MethodOptions, "/api/v1/turn/credentials?apiKey=x", hdr("Origin", "https://app.example",
			"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "content-type"), "")
		if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Methods") != "GET" ||
			r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("preflight: status %d headers %v", r.status, r.header)
		}
	})
}

// TestMeteredManagement: creation with an expiry, listing with its pages,
// labels and expired credentials, deletion by username and by label, each
// answered in Metered's shapes.
func TestMeteredManagement(t *testing.T) {
	e := newEnv(t)
	secret := "secretKey=" + url.QueryEscape(e.app.Key)
	short := e.create(t, `{"label": "short", "expiryInSeconds": 60}`)
	if short.ExpiryInSeconds == nil || *short.ExpiryInSeconds != 60 {
		t.Errorf("created %+v, want expiryInSeconds 60", short)
	}
	var rooms []meteredCreated
	for i := range 3 {
		e.clock.Advance(time.Second) // distinct creation times: the listing is oldest first
		rooms = append(rooms, e.create(t, fmt.Sprintf(`{"label": "room", "expiryInSeconds": "%d"}`, 3600*(i+1))))
	}
	e.clock.Advance(time.Second)
	plain := e.create(t, "")
	type listing struct {
		Data []struct {
			Username        string `json:"username"`
			Password        string `json:"password"`
			Label           string `json:"label"`
			ExpiryInSeconds *int64 `json:"expiryInSeconds"`
			Expired         bool   `json:"expired"`
			Created         string `json:"created"`
			APIKey          string `json:"apiKey"`
		} `json:"data"`
		Pagination struct {
			TotalRecords int  `json:"total_records"`
			CurrentPage  int  `json:"current_page"`
			TotalPages   int  `json:"total_pages"`
			NextPage     *int `json:"next_page"`
			PrevPage     *int `json:"prev_page"`
		} `json:"pagination"`
	}
	list := func(t *testing.T, extra string) listing {
		t.Helper()
		r := e.do(t, http.MethodGet, "/api/v1/turn/credentials?"+secret+extra, nil, "")
		if r.status != http.StatusOK {
			t.Fatalf("list %s: status %d %s", extra, r.status, r.body)
		}
		if r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Error("the listing, a server-side call with the secret key, allows other origins")
		}
		var l listing
		r.json(t, &l)
		return l
	}
	l := list(t, "")
	if len(l.Data) != 5 || l.Pagination.TotalRecords != 5 || l.Pagination.TotalPages != 1 || l.Pagination.CurrentPage != 1 ||
		l.Pagination.NextPage != nil || l.Pagination.PrevPage != nil {
		t.Fatalf("listing %+v, want 5 credentials on one page", l)
	}
	if l.Data[0].Username != short.Username || l.Data[4].Username != plain.Username || l.Data[1].Password != rooms[0].Password {
		t.Errorf("listing order %+v, want oldest first", l.Data)
	}
	for _, d := range l.Data {
		if d.APIKey != "" || d.Created == "" {
			t.Errorf("listed %+v: the front-end key must not be listed (only its hash is kept), the creation time must", d)
		}
	}
	if l.Data[1].ExpiryInSeconds == nil || *l.Data[1].ExpiryInSeconds != 3600 || l.Data[4].ExpiryInSeconds != nil {
		t.Errorf("expiries %v / %v, want 3600 and none", l.Data[1].ExpiryInSeconds, l.Data[4].ExpiryInSeconds)
	}
	if l := list(t, "&label=room"); len(l.Data) != 3 || l.Pagination.TotalRecords != 3 {
		t.Errorf("label room: %+v, want 3", l)
	}
	// After a minute the short one has expired: gone from the listing,
	// there with all, and its apiKey is refused.
	e.clock.Advance(time.Minute)
	if l := list(t, ""); len(l.Data) != 4 {
		t.Errorf("after expiry: %d credentials listed, want 4", len(l.Data))
	}
	if l := list(t, "&all"); len(l.Data) != 5 || !l.Data[0].Expired || l.Data[1].Expired {
		t.Errorf("all: %+v, want 5 with the first expired", l.Data)
	}
	if l := list(t, "&all=false"); len(l.Data) != 4 {
		t.Errorf("all=false: %d credentials, want 4", len(l.Data))
	}
	if r := e.iceServers(t, short.APIKey, ""); r.status != http.StatusUnauthorized {
		t.Errorf("expired credential's apiKey: status %d %s, want 401", r.status, r.body)
	}
	if l := list(t, "&page=2"); len(l.Data) != 0 || l.Pagination.CurrentPage != 2 || l.Pagination.PrevPage == nil || *l.Pagination.PrevPage != 1 {
		t.Errorf("page 2: %+v, want an empty page after page 1", l)
	}
	// Deletion by username, in the body as Metered documents it, or in
	// the query.
	del := func(t *testing.T, target, body string) response {
		return e.do(t, http.MethodDelete, target, hdr("Content-Type", "application/json"), body)
	}
	r := del(t, "/api/v1/turn/credential?"+secret, `{"username": "`+plain.Username+`"}`)
	if r.status != http.StatusOK || !bytes.Equal(bytes.TrimSpace(r.body), []byte(`{"message":"credential removed","success":true}`)) {
		t.Fatalf("delete: status %d %s", r.status, r.body)
	}
	r = del(t, "/api/v1/turn/credential?"+secret, `{"username": "`+plain.Username+`"}`)
	if r.status != http.StatusBadRequest || !strings.Contains(r.errorText(t), "credential of the specified username is not found") {
		t.Fatalf("delete again: status %d %s, want Metered's 400", r.status, r.body)
	}
	if r := e.iceServers(t, plain.APIKey, ""); r.status != http.StatusUnauthorized {
		t.Errorf("deleted credential's apiKey: status %d, want 401", r.status)
	}
	if r := del(t, "/api/v1/turn/credential?"+secret+"&username="+rooms[0].Username, ""); r.status != http.StatusOK {
		t.Fatalf("delete with the username in the query: status %d %s", r.status, r.body)
	}
	r = del(t, "/api/v1/turn/credential/by_label?"+secret+"&label=room", "")
	if r.status != http.StatusOK || !bytes.Equal(bytes.TrimSpace(r.body), []byte(`{"deleted":2}`)) {
		t.Fatalf("delete by label: status %d %s, want {\"deleted\":2}", r.status, r.body)
	}
	r = del(t, "/api/v1/turn/credential/by_label?"+secret, `{"label": "room"}`)
	if r.status != http.StatusOK || !bytes.Equal(bytes.TrimSpace(r.body), []byte(`{"deleted":0}`)) {
		t.Fatalf("delete by label again: status %d %s, want {\"deleted\":0}", r.status, r.body)
	}
	if l := list(t, "&all"); len(l.Data) != 1 || l.Data[0].Username != short.Username {
		t.Errorf("left: %+v, want only the expired one", l.Data)
	}
}

// TestMeteredRefusals: hostile and malformed requests to every Metered
// endpoint, each answered with its status and a Metered error body.
func TestMeteredRefusals(t *testing.T) {
	e := newEnv(t)
	c := e.create(t, `{"label": "x"}`)
	secret := "secretKey=" + url.QueryEscape(e.app.Key)
	jsonCT := []string{"Content-Type", "application/json"}
	long := strings.Repeat("a", 5000)
	cases := []refusal{
		// Keys in the wrong place.
		{"apiKey as secretKey: create", "POST", "/api/v1/turn/credential?secretKey=" + c.APIKey, jsonCT, `{"label": "y"}`, 401, "Invalid secret key"},
		{"apiKey as secretKey: list", "GET", "/api/v1/turn/credentials?secretKey=" + c.APIKey, nil, "", 401, "Invalid secret key"},
		{"apiKey as secretKey: delete", "DELETE", "/api/v1/turn/credential?secretKey=" + c.APIKey, jsonCT, `{"username": "` + c.Username + `"}`, 401, "Invalid secret key"},
		{"apiKey as secretKey: delete by label", "DELETE", "/api/v1/turn/credential/by_label?label=x&secretKey=" + c.APIKey, nil, "", 401, "Invalid secret key"},
		{"apiKey as a Turnix token", "POST", "/credentials/ice", []string{"Authorization", "Bearer " + c.APIKey}, "", 401, "invalid API key"},
		{"apiKey as a Baton key", "POST", "/v1/credentials", []string{"Authorization", "Bearer " + c.APIKey}, "", 401, "invalid API key"},
		{"secretKey as apiKey", "GET", "/api/v1/turn/credentials?apiKey=" + url.QueryEscape(e.app.Key), nil, "", 401, "Invalid API Key"},
		{"both keys", "GET", "/api/v1/turn/credentials?apiKey=" + c.APIKey + "&" + secret, nil, "", 400, "not both"},
		{"no secret key", "POST", "/api/v1/turn/credential", jsonCT, `{"label": "y"}`, 400, "Please specify secret key"},
		{"no secret key: delete", "DELETE", "/api/v1/turn/credential", jsonCT, `{"username": "` + c.Username + `"}`, 400, "Please specify secret key"},
		{"secret key in the body", "POST", "/api/v1/turn/credential", jsonCT, `{"secretKey": "` + e.app.Key + `"}`, 400, "Please specify secret key"},
		// Repeated, unknown and misplaced parameters.
		{"repeated apiKey", "GET", "/api/v1/turn/credentials?apiKey=" + c.APIKey + "&apiKey=" + c.APIKey, nil, "", 400, "2 times"},
		{"repeated secretKey", "POST", "/api/v1/turn/credential?" + secret + "&" + secret, jsonCT, "", 400, "2 times"},
		{"repeated region", "GET", "/api/v1/turn/credentials?apiKey=" + c.APIKey + "&region=eu&region=us_east", nil, "", 400, "2 times"},
		{"repeated label", "DELETE", "/api/v1/turn/credential/by_label?" + secret + "&label=x&label=y", nil, "", 400, "2 times"},
		{"unknown parameter", "GET", "/api/v1/turn/credentials?apiKey=" + c.APIKey + "&format=json", nil, "", 400, "format"},
		{"parameter case", "GET", "/api/v1/turn/credentials?apikey=" + c.APIKey, nil, "", 400, "apikey"},
		{"page on a fetch", "GET", "/api/v1/turn/credentials?apiKey=" + c.APIKey + "&page=2", nil, "", 400, "page"},
		{"region on a listing", "GET", "/api/v1/turn/credentials?" + secret + "&region=eu", nil, "", 400, "region"},
		{"bad page", "GET", "/api/v1/turn/credentials?" + secret + "&page=0", nil, "", 400, "page"},
		{"page not a number", "GET", "/api/v1/turn/credentials?" + secret + "&page=two", nil, "", 400, "page"},
		{"unknown region", "GET", "/api/v1/turn/credentials?apiKey=" + c.APIKey + "&region=mars", nil, "", 400, "mars"},
		{"bad query escape", "GET", "/api/v1/turn/credentials?apiKey=%zz", nil, "", 400, "query"},
		{"username and label", "DELETE", "/api/v1/turn/credential?" + secret, jsonCT, `{"username": "` + c.Username + `", "label": "x"}`, 400, "by_label"},
		{"username twice", "DELETE", "/api/v1/turn/credential?" + secret + "&username=" + c.Username, jsonCT, `{"username": "` + c.Username + `"}`, 400, "twice"},
		{"no username", "DELETE", "/api/v1/turn/credential?" + secret, jsonCT, `{}`, 400, "username is required"},
		{"no label", "DELETE", "/api/v1/turn/credential/by_label?" + secret, nil, "", 400, "label is required"},
		{"username on a deletion by label", "DELETE", "/api/v1/turn/credential/by_label?" + secret + "&label=x", jsonCT, `{"username": "` + c.Username + `"}`, 400, "not a parameter of a deletion by label"},
		{"label twice", "DELETE", "/api/v1/turn/credential/by_label?" + secret + "&label=x", jsonCT, `{"label": "x"}`, 400, "twice"},
		{"unknown member: delete", "DELETE", "/api/v1/turn/credential?" + secret, jsonCT, `{"user": "` + c.Username + `"}`, 400, "user"},
		{"text body: delete", "DELETE", "/api/v1/turn/credential?" + secret, []string{"Content-Type", "text/plain"}, `{"username": "` + c.Username + `"}`, 415, "JSON"},
		// Bodies.
		{"form body", "POST", "/api/v1/turn/credential?" + secret, []string{"Content-Type", "application/x-www-form-urlencoded"}, "label=y", 415, "JSON"},
		{"text body", "POST", "/api/v1/turn/credential?" + secret, []string{"Content-Type", "text/plain"}, `{"label": "y"}`, 415, "JSON"},
		{"oversized body", "POST", "/api/v1/turn/credential?" + secret, jsonCT, `{"label": "` + long + `"}`, 413, "4096"},
		{"oversized query", "GET", "/api/v1/turn/credentials?apiKey=" + long, nil, "", 413, "query"},
		{"oversized query: create", "POST", "/api/v1/turn/credential?secretKey=" + long, jsonCT, "", 413, "query"},
		{"unknown member", "POST", "/api/v1/turn/credential?" + secret, jsonCT, `{"label": "y", "username": "mine"}`, 400, "username"},
		{"repeated member", "POST", "/api/v1/turn/credential?" + secret, jsonCT, `{"label": "y", "label": "z"}`, 400, "twice"},
		{"not JSON", "POST", "/api/v1/turn/credential?" + secret, jsonCT, `label=y`, 400, "JSON"},
		{"label not a string", "POST", "/api/v1/turn/credential?" + secret, jsonCT, `{"label": 5}`, 400, "label"},
		{"label with a bell", "POST", "/api/v1/turn/credential?" + secret, jsonCT, `{"label": "a\u0007b"}`, 400, "printable"},
		{"label with a newline", "POST", "/api/v1/turn/credential?" + secret, jsonCT, `{"label": "a\nb"}`, 400, "printable"},
		{"label with an escape", "POST", "/api/v1/turn/credential?" + secret, jsonCT, `{"label": "\u001b[31mred"}`, 400, "printable"},
		{"label with a DEL", "POST", "/api/v1/turn/credential?" + secret, jsonCT, `{"label": "a\u007fb"}`, 400, "printable"},
		{"label too long", "POST", "/api/v1/turn/credential?" + secret, jsonCT, `{"label": "` + strings.Repeat("é", 33) + `"}`, 400, "64 bytes"},
		{"expiry zero", "POST", "/api/v1/turn/credential?" + secret, jsonCT, `{"expiryInSeconds": 0}`, 400, "positive integer"},
		{"expiry negative", "POST", "/api/v1/turn/credential?" + secret, jsonCT, `{"expiryInSeconds": -60}`, 400, "positive integer"},
		{"expiry fraction", "POST", "/api/v1/turn/credential?" + secret, jsonCT, `{"expiryInSeconds": 1.5}`, 400, "positive integer"},
		{"expiry text", "POST", "/api/v1/turn/credential?" + secret, jsonCT, `{"expiryInSeconds": "soon"}`, 400, "positive integer"},
		{"expiry beyond ten years", "POST", "/api/v1/turn/credential?" + secret, jsonCT, `{"expiryInSeconds": 999999999}`, 400, "at most"},
		// Methods.
		{"POST a fetch", "POST", "/api/v1/turn/credentials?apiKey=" + c.APIKey, nil, "", 405, "GET"},
		{"PUT a credential", "PUT", "/api/v1/turn/credential?" + secret, jsonCT, "{}", 405, "POST or DELETE"},
		{"GET by label", "GET", "/api/v1/turn/credential/by_label?" + secret, nil, "", 405, "DELETE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, tc.method, tc.target, hdr(tc.header...), tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			msg := r.errorText(t)
			if !strings.Contains(msg, tc.has) {
				t.Errorf("error %q, want it to say %q", msg, tc.has)
			}
			for _, secret := range []string{e.app.Key, c.APIKey, c.Password} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q quotes a key or password", msg)
				}
			}
			if tc.status == http.StatusMethodNotAllowed && r.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
	if r := e.do(t, "POST", "/v1/credentials", hdr(jsonCT...), `{"key": "`+c.APIKey+`"}`); r.status != http.StatusUnauthorized {
		t.Errorf("apiKey as a native key: status %d %s, want 401", r.status, r.body)
	}
	// Nothing was created or deleted by the refusals.
	list, total, err := e.kit.StaticCredentials(t.Context(), e.app.App.ID, turnkit.StaticCredentialQuery{All: true})
	if err != nil || total != 1 || list[0].Username != c.Username {
		t.Fatalf("after the refusals: %d credentials (%v), want the one created", total, err)
	}
	checkMeteredShape(t, e.iceServers(t, c.APIKey, ""), c.Username, c.Password, false)
}
