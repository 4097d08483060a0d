package compat

import (
	"fmt"
	"net/http"

	"github.com/turnkit/turnkit/internal/httpx"
)

// meteredICEServer is one entry of Metered's ICE-server array: one URL.
type meteredICEServer struct {
	URLs       string `json:"urls"`
	Username   string `json:"username,omitempty"`
	Credential string `json:"credential,omitempty"`
}

// iceServers answers GET …/credentials?apiKey=…[&region=…].
func (m *Metered) iceServers(w http.ResponseWriter, r *http.Request, q meteredQuery) {
	h := &m.h
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if q.Page != 0 || q.Label != "" || q.All {
		h.fail(w, h.badRequest("page, label and all are for listing credentials with a secretKey"), meteredICEError)
		return
	}
	if q.APIKey == "" {
		h.fail(w, fmt.Errorf("%w: %w", h.cfg.Kinds.BadRequest, errNoKey), fixedText(meteredNoAPIKey, meteredICEError))
		return
	}
	fixed, err := h.resolveRegion("region", q.Region)
	if err != nil {
		h.fail(w, err, meteredICEError)
		return
	}
	src := h.cfg.ClientIP(r)
	cred, err := h.cfg.Static.StaticICE(r.Context(), q.APIKey, src, Placement{HostIP: src, Regions: Regions{Fixed: fixed}})
	if err != nil {
		h.fail(w, err, meteredICEError)
		return
	}
	stun, turn := splitURLs(cred.URLs)
	servers := make([]meteredICEServer, 0, len(cred.URLs))
	for _, u := range stun {
		servers = append(servers, meteredICEServer{URLs: u})
	}
	for _, u := range turn {
		servers = append(servers, meteredICEServer{URLs: u, Username: cred.Username, Credential: cred.Password})
	}
	httpx.WriteJSON(w, http.StatusOK, servers)
}
