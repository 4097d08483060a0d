package admin

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/turnkit/turnkit/internal/httpx"
)

// static holds the dashboard: plain HTML, CSS and JavaScript, and uPlot
// under vendor/. Nothing is built: what is here is what is served.
//
//go:embed static
var static embed.FS

// pageCSP is the dashboard's Content-Security-Policy: its own scripts,
// styles and API only, no inline script or style, no frames, no forms
// posted anywhere.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// file is one embedded file, ready to serve.
type file struct {
	body  []byte
	ctype string
	etag  string
}

// fileServer serves the embedded files by name ("index.html",
// "app.js", "vendor/uPlot.iife.min.js", …).
type fileServer map[string]file

// staticFiles reads every embedded file once, with its content type and
// an ETag of its content.
func staticFiles() fileServer {
	files := fileServer{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "text/plain; charset=utf-8"
		}
		files[strings.TrimPrefix(p, "static/")] = file{body: body, ctype: ctype, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("admin: embedded files: %v", err)) // fixed at build time
	}
	return files
}

// serveFiles serves the page at Prefix and its files under
// Prefix+"static/", to GET and HEAD without a query string.
func (h *Handler) serveFiles(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.fail(w, fmt.Errorf("%w: the dashboard's files take GET", h.cfg.Kinds.MethodNotAllowed))
		return
	}
	if r.URL.RawQuery != "" {
		h.fail(w, fmt.Errorf("%w: the dashboard takes no query string (the admin token goes after #token=)", h.cfg.Kinds.BadRequest))
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, h.cfg.Prefix)
	name := ""
	switch {
	case rest == "":
		name = "index.html"
	case strings.HasPrefix(rest, "static/"):
		name = strings.TrimPrefix(rest, "static/")
		if name == "index.html" {
			name = "" // the page is served at Prefix only
		}
	}
	f, ok := h.files[name] // no file is named ""
	if !ok {
		h.fail(w, fmt.Errorf("%w: no dashboard file %s", errNotFound, httpx.Clip(r.URL.Path)))
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.ctype)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", f.etag)
	if name == "index.html" {
		hd.Set("Content-Security-Policy", pageCSP)
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}
