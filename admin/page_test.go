package admin_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestPage: the page and its files are served without a token, with a
// strict Content-Security-Policy on the page, no cookie and nothing
// inline; other paths, methods and query strings are refused.
func TestPage(t *testing.T) {
	e := newEnv(t, noRelay)
	a := e.send(request{method: "GET", path: "/admin/", token: "-"}).must(t, http.StatusOK)
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("page Content-Type %q", ct)
	}
	csp := a.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q allows something unsafe", csp)
	}
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
		if got := a.header.Get(h); got != want {
			t.Errorf("%s %q, want %q", h, got, want)
		}
	}
	page := string(a.body)
	for _, bad := range []string{"<script>", "onclick=", "onload=", "style=", "javascript:"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page has inline %q, which the CSP forbids", bad)
		}
	}
	for _, f := range []struct{ path, ctype string }{
		{"/admin/static/app.js", "text/javascript"},
		{"/admin/static/style.css", "text/css"},
		{"/admin/static/vendor/uPlot.iife.min.js", "text/javascript"},
		{"/admin/static/vendor/uPlot.min.css", "text/css"},
		{"/admin/static/vendor/uPlot.LICENSE", "text/plain"},
	} {
		a := e.send(request{method: "GET", path: f.path, token: "-"}).must(t, http.StatusOK)
		if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, f.ctype) {
			t.Errorf("%s: Content-Type %q, want %s", f.path, ct, f.ctype)
		}
		if etag := a.header.Get("ETag"); etag == "" {
			t.Errorf("%s: no ETag", f.path)
		} else {
			r := e.send(request{method: "GET", path: f.path, token: "-", header: http.Header{"If-None-Match": {etag}}})
			if r.status != http.StatusNotModified {
				t.Errorf("%s with its ETag: %d, want 304", f.path, r.status)
			}
		}
	}
	js := string(e.send(request{method: "GET", path: "/admin/static/app.js", token: "-"}).body)
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "localStorage", "document.cookie"} {
		if strings.Contains(js, bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
	for name, r := range map[string]struct {
		req    request
		status int
	}{
		"the page by its file name":   {request{method: "GET", path: "/admin/static/index.html", token: "-"}, http.StatusNotFound},
		"the files' directory":        {request{method: "GET", path: "/admin/static/", token: "-"}, http.StatusNotFound},
		"a missing file":              {request{method: "GET", path: "/admin/static/nope.js", token: "-"}, http.StatusNotFound},
		"a path beside the page":      {request{method: "GET", path: "/admin/apps", token: "-"}, http.StatusNotFound},
		"outside the prefix":          {request{method: "GET", path: "/v1/credentials", token: "-"}, http.StatusNotFound},
		"POST to the page":            {request{method: "POST", path: "/admin/", token: "-"}, http.StatusMethodNotAllowed},
		"a query on the page":         {request{method: "GET", path: "/admin/?app=demo", token: "-"}, http.StatusBadRequest},
		"a query on a file":           {request{method: "GET", path: "/admin/static/app.js?v=2", token: "-"}, http.StatusBadRequest},
		"an unknown API path":         {request{method: "GET", path: "/admin/api/users"}, http.StatusNotFound},
		"the API root":                {request{method: "GET", path: "/admin/api/"}, http.StatusNotFound},
		"an app path with a slash":    {request{method: "GET", path: "/admin/api/apps/"}, http.StatusNotFound},
		"OPTIONS on the API":          {request{method: "OPTIONS", path: "/admin/api/apps"}, http.StatusMethodNotAllowed},
		"DELETE on apps":              {request{method: "DELETE", path: "/admin/api/apps"}, http.StatusMethodNotAllowed},
		"a script in the path":        {request{method: "GET", path: "/admin/api/apps/%3Cscript%3E"}, http.StatusNotFound},
		"a path deeper than any":      {request{method: "GET", path: "/admin/api/apps/a/keys/k/more"}, http.StatusNotFound},
		"a traversal out of static":   {request{method: "GET", path: "/admin/static/../../v1/x", token: "-"}, http.StatusNotFound},
		"a dot-dot inside the prefix": {request{method: "GET", path: "/admin/static/vendor/../app.js?x", token: "-"}, http.StatusBadRequest},
	} {
		a := e.send(r.req)
		if a.status != r.status {
			t.Errorf("%s: %d, want %d: %s", name, a.status, r.status, a.body)
		}
		if strings.Contains(string(a.body), "<script>") {
			t.Errorf("%s: the answer echoes markup: %s", name, a.body)
		}
	}
	if a := e.send(request{method: "POST", path: "/admin/"}); a.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST to the page: Allow %q", a.header.Get("Allow"))
	}
	if a := e.send(request{method: "HEAD", path: "/admin/", token: "-"}); a.status != http.StatusOK || len(a.body) != 0 {
		t.Errorf("HEAD of the page: %d with %d bytes", a.status, len(a.body))
	}
	if a := e.get("/admin/api/apps"); a.header.Get("Content-Security-Policy") == "" || a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("API answer headers: CSP %q, Cache-Control %q", a.header.Get("Content-Security-Policy"), a.header.Get("Cache-Control"))
	}
}
