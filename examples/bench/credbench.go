package main

// This file measures POST /v1/credentials through turnkit's real handler,
// on the SQLite store and on PostgreSQL, against a trivial JSON handler of
// the same shape in the same process, under many concurrent HTTP clients.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/pgtest"
	"github.com/turnkit/turnkit/relay"
)

// credParams shapes the credential endpoint load.
type credParams struct {
	clients  []int         // concurrent HTTP clients, one level at a time
	duration time.Duration // per handler, level and repetition
	reps     int
	postgres string // credPostgresAuto, credPostgresOff or a postgres:// URL
}

// credRun is one handler at one level in one repetition.
type credRun struct {
	handler   string
	clients   int
	perSecond float64
	p50, p99  time.Duration
	errors    int
	firstErr  error // the first failed request's error, when errors > 0
}

// Names of the handlers compared.
const (
	trivialHandlerName  = "trivial JSON handler"
	turnkitHandlerName  = "turnkit POST /v1/credentials, SQLite"
	postgresHandlerName = "turnkit POST /v1/credentials, PostgreSQL"
)

// handlerNames is the order in which the report lists the handlers.
var handlerNames = []string{trivialHandlerName, turnkitHandlerName, postgresHandlerName}

// credTTLMinutes is the credential lifetime the load asks for.
const credTTLMinutes = 10

// credTarget is one handler under load: its name, URL and request body.
type credTarget struct {
	name, url string
	body      []byte
}

// runCredBench serves the trivial handler and turnkit's, on SQLite and on
// PostgreSQL when there is one, on one loopback HTTP server and loads them
// in turn. Issuance rate limits are off: the load measures the handler,
// not the limiter. Each Kit runs with its in-process relay, as an
// embedder's does, so relay choice and the session count are real.
func runCredBench(ctx context.Context, dir string, p credParams, progress func(string)) (runs []credRun, err error) {
	mux := http.NewServeMux()
	mux.Handle("/trivial", trivialHandler{})
	lite, err := credKit(ctx, turnkit.Config{DBPath: filepath.Join(dir, "credentials.db")})
	if err != nil {
		return nil, err
	}
	defer lite.Close()
	liteBody, err := credBody(ctx, lite)
	if err != nil {
		return nil, err
	}
	mux.Handle("/sqlite/v1/credentials", http.StripPrefix("/sqlite", lite.CredentialsHandler()))

	dsn, stop, err := credPostgres(ctx, p.postgres, progress)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, stop()) }()
	var pgBody []byte
	if dsn != "" {
		pg, err := credKit(ctx, turnkit.Config{PostgresDSN: dsn})
		if err != nil {
			return nil, fmt.Errorf("PostgreSQL: %w", err)
		}
		defer pg.Close()
		if pgBody, err = credBody(ctx, pg); err != nil {
			return nil, err
		}
		mux.Handle("/postgres/v1/credentials", http.StripPrefix("/postgres", pg.CredentialsHandler()))
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	base := "http://" + ln.Addr().String()
	targets := []credTarget{
		{trivialHandlerName, base + "/trivial", liteBody},
		{turnkitHandlerName, base + "/sqlite/v1/credentials", liteBody},
	}
	if dsn != "" {
		targets = append(targets, credTarget{postgresHandlerName, base + "/postgres/v1/credentials", pgBody})
	}
	for rep := range p.reps {
		for _, c := range p.clients {
			// Each repetition starts with another handler, so that the
			// order falls on every handler alike.
			order := append(slices.Clone(targets[rep%len(targets):]), targets[:rep%len(targets)]...)
			for _, t := range order {
				if rep == 0 { // warm up connections, caches and the stores' page caches
					if _, err := loadHTTP(ctx, t.url, t.body, c, p.duration/4); err != nil {
						return nil, fmt.Errorf("%s: %w", t.name, err)
					}
				}
				r, err := loadHTTP(ctx, t.url, t.body, c, p.duration)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", t.name, err)
				}
				r.handler = t.name
				runs = append(runs, r)
				line := fmt.Sprintf("credentials rep %d/%d: %s, %d clients: %.0f req/s, p99 %s, %d errors",
					rep+1, p.reps, t.name, c, r.perSecond, r.p99.Round(10*time.Microsecond), r.errors)
				if r.firstErr != nil {
					line += fmt.Sprintf(" (the first: %v)", r.firstErr)
				}
				progress(line)
			}
		}
	}
	return runs, nil
}

// credKit opens a Kit on the given store, with its relay on a free
// loopback port and issuance rate limits off.
func credKit(ctx context.Context, cfg turnkit.Config) (*turnkit.Kit, error) {
	cfg.Relay = relay.Config{UDPAddrs: []string{"127.0.0.1:0"}}
	cfg.RateLimits = turnkit.RateLimits{PerKey: -1, PerApp: -1}
	kit, err := turnkit.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("turnkit.Open: %w", err)
	}
	return kit, nil
}

// credBody creates an app on kit and returns the request body that asks
// for its credentials.
func credBody(ctx context.Context, kit *turnkit.Kit) ([]byte, error) {
	app, err := kit.CreateApp(ctx, turnkit.NewApp{Name: "credential bench"})
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"key": app.Key, "expiry_ttl": credTTLMinutes})
}

// credPostgres returns the DSN of the PostgreSQL database the load uses,
// "" for none, and what stops the server it started, if any. In auto mode
// a machine without PostgreSQL's binaries skips that store, saying so.
func credPostgres(ctx context.Context, mode string, progress func(string)) (string, func() error, error) {
	none := func() error { return nil }
	switch mode {
	case credPostgresOff, "":
		return "", none, nil
	case credPostgresAuto:
	default:
		return mode, none, nil
	}
	if _, err := pgtest.FindBinaries(); err != nil {
		progress(fmt.Sprintf("credentials: PostgreSQL skipped: %v", err))
		return "", none, nil
	}
	srv, err := pgtest.Start(ctx, pgtest.Config{Durable: true})
	if err != nil {
		return "", none, fmt.Errorf("start PostgreSQL (or pass -cred-db off): %w", err)
	}
	name, err := srv.CreateDatabase(ctx)
	if err != nil {
		return "", none, errors.Join(err, srv.Stop())
	}
	return srv.DSN(name), srv.Stop, nil
}

// loadHTTP posts body to url from clients goroutines, each on its own
// kept-alive connection, starting requests for d; requests started in time
// run to their end and count.
func loadHTTP(ctx context.Context, url string, body []byte, clients int, d time.Duration) (credRun, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var (
		mu       sync.Mutex // guards lats, errs and firstErr
		lats     []time.Duration
		errs     int
		firstErr error
		wg       sync.WaitGroup
	)
	start := time.Now()
	stop := start.Add(d)
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			bad := 0
			var badErr error
			for ctx.Err() == nil && time.Now().Before(stop) {
				t0 := time.Now()
				if err := post(ctx, hc, url, body); err != nil {
					bad++
					badErr = cmp.Or(badErr, err)
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, mine...)
			errs += bad
			firstErr = cmp.Or(firstErr, badErr)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return credRun{}, err
	}
	if len(lats) == 0 {
		return credRun{}, fmt.Errorf("no request succeeded in %s: %v", d, firstErr)
	}
	slices.Sort(lats)
	return credRun{
		clients:   clients,
		perSecond: float64(len(lats)) / elapsed.Seconds(),
		p50:       percentile(lats, 0.50),
		p99:       percentile(lats, 0.99),
		errors:    errs,
		firstErr:  firstErr,
	}, nil
}

// post sends one request and checks for a 200 with a JSON object.
func post(ctx context.Context, hc *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 16<<10))
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK || len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("status %d: %s", res.StatusCode, clip(string(raw)))
	}
	return nil
}

// trivialHandler is the baseline: it decodes the same JSON body into a
// struct, checks the key is there, and encodes an answer of the same shape
// as turnkit's, with no store, no signature and no relay choice.
type trivialHandler struct{}

// trivialAnswer has the fields of turnkit's answer.
type trivialAnswer struct {
	Username   string          `json:"username"`
	Credential string          `json:"credential"`
	URLs       []string        `json:"urls"`
	TTL        int64           `json:"ttl"`
	Region     string          `json:"region"`
	IceServers []trivialServer `json:"iceServers"`
}

type trivialServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username"`
	Credential string   `json:"credential"`
}

func (trivialHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Key       *string         `json:"key"`
		ExpiryTTL json.RawMessage `json:"expiry_ttl"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Key == nil || *body.Key == "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"detail":"bad request"}`))
		return
	}
	urls := []string{"stun:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=udp"}
	user, pass := "1795419120:app_key.nonce", "yq1M3c1vQ8wqZb0W4Xh1o2vJ8lE="
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(trivialAnswer{
		Username: user, Credential: pass, URLs: urls, TTL: 600, Region: "default",
		IceServers: []trivialServer{{URLs: urls, Username: user, Credential: pass}},
	})
}
