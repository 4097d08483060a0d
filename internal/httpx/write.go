package httpx

import (
	"encoding/json"
	"net/http"
)

// WriteJSON writes v as JSON with the given status. Answers are never
// cached, since they carry credentials or per-request data, and are not
// sniffed.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away: nothing to do
}
