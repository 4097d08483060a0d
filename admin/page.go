package admin

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/turnkit/turnkit/internal/httpx"
	"github.com/turnkit/turnkit/store"
)

// The bounds of a page of a list.
const (
	// DefaultLimit is the page size of a list when the request names none.
	DefaultLimit = 50
	// MaxLimit is the largest page a request may ask for; a larger limit
	// gets 400.
	MaxLimit = 500
)

// errNotFound is the kind of an unknown path, app, key, relay or
// credential.
var errNotFound = store.ErrNotFound

// page is where a list request starts and how much it takes.
type page struct {
	after string // the key of the last item of the previous page; "" for the first
	limit int
}

// cursor returns the opaque "after" token of a list of kind whose last
// item has the given key. The kind is inside, so that a token of one list
// is refused by another.
func cursor(kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + "\x00" + key))
}

// pageOf reads limit and after from q, for a list of kind.
func (h *Handler) pageOf(q url.Values, kind string) (page, error) {
	p := page{limit: DefaultLimit}
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > MaxLimit {
			return page{}, fmt.Errorf("%w: limit %q must be a whole number from 1 to %d", h.cfg.Kinds.BadRequest, httpx.Clip(v[0]), MaxLimit)
		}
		p.limit = n
	}
	if v, ok := q["after"]; ok {
		raw, err := base64.RawURLEncoding.DecodeString(v[0])
		k, key, found := strings.Cut(string(raw), "\x00")
		if err != nil || !found || k != kind || key == "" {
			return page{}, fmt.Errorf("%w: after %q is not a cursor of this list: pass the \"next\" of the previous page as is",
				h.cfg.Kinds.BadRequest, httpx.Clip(v[0]))
		}
		p.after = key
	}
	return p, nil
}

// listQuery reads the query of a list of kind, which may also take the
// parameters extra.
func (h *Handler) listQuery(r *http.Request, kind string, extra ...string) (page, url.Values, error) {
	q, err := h.reader.Query(r, append([]string{"limit", "after"}, extra...)...)
	if err != nil {
		return page{}, nil, err
	}
	p, err := h.pageOf(q, kind)
	return p, q, err
}

// appList reads the page of a list of kind of the app the path names,
// answering the refusal, 404 or the store's failure when it fails.
func (h *Handler) appList(w http.ResponseWriter, r *http.Request, kind string) (store.App, page, bool) {
	p, _, err := h.listQuery(r, kind)
	if err != nil {
		h.fail(w, err)
		return store.App{}, page{}, false
	}
	app, ok := h.pathApp(w, r)
	return app, p, ok
}

// writePage answers one page of a list: {"<name>": items, "next": cursor
// or null}. next is the cursor of the last item when there may be more.
func writePage[T any](w http.ResponseWriter, name string, items []T, next string) {
	body := map[string]any{name: items, "next": nil}
	if next != "" {
		body["next"] = next
	}
	httpx.WriteJSON(w, http.StatusOK, body)
}

// trim cuts a page fetched with limit+1 items to limit, and returns the
// cursor of the next page: the key of its last item when more followed.
func trim[T any](items []T, limit int, kind string, key func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, cursor(kind, key(items[len(items)-1]))
}

// after returns the items of a sorted list whose key sorts after the
// page's, up to one more than its limit (so trim can tell whether more
// follow).
func after[T any](items []T, p page, key func(T) string) []T {
	i := 0
	if p.after != "" {
		for i < len(items) && key(items[i]) <= p.after {
			i++
		}
	}
	return items[i:min(len(items), i+p.limit+1)]
}

// isNotFound reports whether err says a record does not exist.
func isNotFound(err error) bool { return errors.Is(err, errNotFound) }

// notFoundAs returns err, or, when err says a record does not exist, a
// not-found error whose detail is the format's: what the request named.
func notFoundAs(err error, format string, args ...any) error {
	if !isNotFound(err) {
		return err
	}
	return fmt.Errorf("%w: %s", errNotFound, fmt.Sprintf(format, args...))
}
