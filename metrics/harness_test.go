package metrics_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/turnkit/turnkit"
	"github.com/turnkit/turnkit/internal/leakcheck"
	"github.com/turnkit/turnkit/relay"
)

// TestMain fails the package if a test leaves Kit, relay or pion
// goroutines running.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// echoIP is the loopback address the test peers listen on: not the
// relay's, so allowing it does not open the relay's own host.
const echoIP = "127.0.0.3"

// openKit opens a Kit on a fresh SQLite file with a UDP relay on loopback
// that may reach echoIP, changed by mod, and closes it with the test.
func openKit(tb testing.TB, mod func(*turnkit.Config)) *turnkit.Kit {
	tb.Helper()
	cfg := turnkit.Config{
		DBPath: filepath.Join(tb.TempDir(), "turnkit.db"),
		Relay: relay.Config{
			UDPAddrs:   []string{"127.0.0.1:0"},
			AllowPeers: []string{echoIP},
		},
		Fleet: turnkit.FleetConfig{ReportInterval: -1}, // the tests sweep
	}
	if mod != nil {
		mod(&cfg)
	}
	kit, err := turnkit.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := kit.Close(); err != nil {
			tb.Errorf("Kit.Close: %v", err)
		}
	})
	return kit
}

// metricsHandler serves reg as promhttp does for a host.
func metricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
}

// series is one sample of a scrape: its metric name, labels and value.
type series struct {
	name   string
	labels map[string]string
	value  float64
}

// scrape is a parsed text exposition.
type scrape struct {
	raw    string
	series []series
}

// parseScrape parses the Prometheus text format, enough for the tests:
// comment lines are skipped, label values hold no escaped quotes.
func parseScrape(tb testing.TB, r io.Reader) *scrape {
	tb.Helper()
	var raw strings.Builder
	s := &scrape{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		raw.WriteString(line + "\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			tb.Fatalf("scrape line %q has no value", line)
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			tb.Fatalf("scrape line %q: %v", line, err)
		}
		name, rest, _ := strings.Cut(line[:sp], "{")
		labels := map[string]string{}
		for _, kv := range strings.Split(strings.TrimSuffix(rest, "}"), ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				labels[k] = strings.Trim(v, `"`)
			}
		}
		s.series = append(s.series, series{name: name, labels: labels, value: v})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	s.raw = raw.String()
	return s
}

// get returns the value of the series with the name and labels (pairs of
// name and value), and whether it is there.
func (s *scrape) get(name string, labels ...string) (float64, bool) {
next:
	for _, x := range s.series {
		if x.name != name || len(x.labels) != len(labels)/2 {
			continue
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if x.labels[labels[i]] != labels[i+1] {
				continue next
			}
		}
		return x.value, true
	}
	return 0, false
}

// must returns the value of a series or fails the test.
func (s *scrape) must(tb testing.TB, name string, labels ...string) float64 {
	tb.Helper()
	v, ok := s.get(name, labels...)
	if !ok {
		tb.Fatalf("no series %s%v in the scrape:\n%s", name, labels, s.raw)
	}
	return v
}

// labelValues returns the values a label takes in the series of name.
func (s *scrape) labelValues(name, label string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s.series {
		if x.name == name && !seen[x.labels[label]] {
			seen[x.labels[label]] = true
			out = append(out, x.labels[label])
		}
	}
	return out
}

// get scrapes url.
func get(tb testing.TB, url string) *scrape {
	tb.Helper()
	res, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		tb.Fatalf("GET %s: %d %s", url, res.StatusCode, body)
	}
	return parseScrape(tb, res.Body)
}

// expect fails the test unless got is want.
func expect(tb testing.TB, what string, got, want float64) {
	tb.Helper()
	if got != want {
		tb.Errorf("%s = %v, want %v", what, got, want)
	}
}
