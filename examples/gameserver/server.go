package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/relay"
)

// appID attributes every session of the game to one app.
const appID = "game"

// keyID names the relays' one secret in credentials.
const keyID = "k1"

// matchServer runs the relays, keeps the matches and mints credentials.
type matchServer struct {
	relays   []*relay.Server
	secret   []byte
	gateways *turnkit.GatewayStore
	log      *slog.Logger

	mu      sync.Mutex        // guards matches
	matches map[string]string // match ID → gateway ID
}

// newMatchServer starts one relay per address (UDP and TCP on it) and a
// GatewayStore whose pins are the relays' live sessions.
func newMatchServer(addrs []string, secret []byte, log *slog.Logger) (*matchServer, error) {
	s := &matchServer{secret: secret, log: log, matches: make(map[string]string)}
	for i, a := range addrs {
		r, err := relay.New(relay.Config{
			Region:   fmt.Sprintf("region-%d", i+1),
			UDPAddrs: []string{a},
			TCPAddrs: []string{a},
			Secrets:  relay.NewStaticSecrets(keyID, secret),
			Logger:   log,
		})
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("relay on %s: %w", a, err)
		}
		s.relays = append(s.relays, r)
	}
	gwKey := make([]byte, 32)
	_, _ = rand.Read(gwKey)
	gw, err := turnkit.NewGatewayStore(context.Background(), turnkit.GatewayStoreConfig{Key: gwKey, Pins: livePins{s.relays}})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.gateways = gw
	return s, nil
}

// Close stops the relays.
func (s *matchServer) Close() {
	for _, r := range s.relays {
		_ = r.Close()
	}
}

// livePins tells where a gateway has a live session, from the relays
// themselves: a GatewayPins with no database.
type livePins struct{ relays []*relay.Server }

// GatewayRelay returns the relay of a live session of the gateway.
func (p livePins) GatewayRelay(_ context.Context, app, tag string) (string, error) {
	for _, r := range p.relays {
		for _, ls := range r.Sessions() {
			if ls.AppID == app && ls.Gateway == tag {
				return r.ID(), nil
			}
		}
	}
	return "", turnkit.ErrNotFound
}

// leastLoaded returns the relay with the fewest live allocations.
func (s *matchServer) leastLoaded() *relay.Server {
	best := s.relays[0]
	for _, r := range s.relays[1:] {
		if r.Stats().Allocations < best.Stats().Allocations {
			best = r
		}
	}
	return best
}

func (s *matchServer) relayByID(id string) *relay.Server {
	for _, r := range s.relays {
		if r.ID() == id {
			return r
		}
	}
	return nil
}

// Handler serves POST /matches and POST /matches/{match}/players.
func (s *matchServer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /matches", s.createMatch)
	mux.HandleFunc("POST /matches/{match}/players", s.join)
	return mux
}

// createMatch gives a new match a gateway on the least loaded relay.
func (s *matchServer) createMatch(w http.ResponseWriter, _ *http.Request) {
	id, err := s.gateways.Create(appID, s.leastLoaded().ID())
	if err != nil {
		httpError(w, http.StatusInternalServerError, "gateway: "+err.Error())
		return
	}
	match := randomID()
	s.mu.Lock()
	s.matches[match] = id
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"match": match, "gateway": id})
}

// join mints a 3-minute credential for one player of a match, on the relay
// where the match has a live session, else on the least loaded relay.
func (s *matchServer) join(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	id, ok := s.matches[r.PathValue("match")]
	s.mu.Unlock()
	if !ok {
		httpError(w, http.StatusNotFound, "no such match")
		return
	}
	gw, err := s.gateways.Resolve(id)
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	rel := s.leastLoaded()
	if relayID, pinned, err := s.gateways.Pin(r.Context(), gw); err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	} else if pinned {
		if p := s.relayByID(relayID); p != nil {
			rel = p
		}
	}
	u := relay.Username{Expires: time.Now().Add(turnkit.GatewayTTL), AppID: appID, KeyID: keyID, Nonce: randomID(), Gateway: gw.Tag}
	name := u.String()
	writeJSON(w, http.StatusOK, joinResponse{
		Relay:      rel.ID(),
		IceServers: []turnkit.ICEServer{{URLs: rel.URLs(), Username: name, Credential: relay.Credential(s.secret, name)}},
	})
}

// joinResponse is a player's ticket: the relay and an RTCIceServer list.
type joinResponse struct {
	Relay      string              `json:"relay"`
	IceServers []turnkit.ICEServer `json:"iceServers"`
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func httpError(w http.ResponseWriter, status int, detail string) {
	writeJSON(w, status, map[string]string{"detail": strings.TrimPrefix(detail, "turnkit: ")})
}
