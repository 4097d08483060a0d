package main

// This file mints the TURN credentials the loads use: from turnkit's HTTP
// API for turnkit, with the TURN REST API's shared secret for pion and
// coturn.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/pion/turn/v5"
)

// credential is a TURN long-term credential.
type credential struct {
	user, pass string
}

// minter hands out credentials for a relay under test.
type minter interface {
	mint(ctx context.Context, n int) ([]credential, error)
}

// credentialTTL is the lifetime of the credentials the loads use.
const credentialTTL = time.Hour

// restMinter mints TURN REST API credentials ("{expiry}:{user}" signed with
// HMAC-SHA1 under the shared secret), as pion's LongTermTURNRESTAuthHandler
// and coturn's --use-auth-secret verify them.
type restMinter struct {
	secret string
}

func (m restMinter) mint(_ context.Context, n int) ([]credential, error) {
	out := make([]credential, n)
	for i := range out {
		u, p, err := turn.GenerateLongTermTURNRESTCredentials(m.secret, "bench"+strconv.Itoa(i), credentialTTL)
		if err != nil {
			return nil, fmt.Errorf("mint REST credential: %w", err)
		}
		out[i] = credential{u, p}
	}
	return out, nil
}

// turnkitMinter asks turnkit's POST /v1/credentials, as a web app's
// browser would, one request per credential.
type turnkitMinter struct {
	url    string // http://host:port/v1/credentials
	key    string
	client *http.Client
}

func (m turnkitMinter) mint(ctx context.Context, n int) ([]credential, error) {
	out := make([]credential, n)
	errs := make(chan error, 1)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(8, n) {
		wg.Go(func() {
			for i := range next {
				c, err := m.one(ctx)
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					continue
				}
				out[i] = c
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case err := <-errs:
			errs <- err
			break feed
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func (m turnkitMinter) one(ctx context.Context) (credential, error) {
	body, _ := json.Marshal(map[string]any{"key": m.key, "expiry_ttl": int(credentialTTL / time.Minute)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.url, bytes.NewReader(body))
	if err != nil {
		return credential{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := m.client.Do(req)
	if err != nil {
		return credential{}, fmt.Errorf("POST %s: %w", m.url, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusOK {
		return credential{}, fmt.Errorf("POST %s: status %d: %s", m.url, res.StatusCode, raw)
	}
	var cred struct {
		Username   string `json:"username"`
		Credential string `json:"credential"`
	}
	if err := json.Unmarshal(raw, &cred); err != nil || cred.Username == "" || cred.Credential == "" {
		return credential{}, fmt.Errorf("POST %s: answer without username and credential: %s", m.url, raw)
	}
	return credential{cred.Username, cred.Credential}, nil
}
