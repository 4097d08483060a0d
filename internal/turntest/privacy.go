package turntest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Buffer collects output written from several goroutines (a Kit's relay
// logs from its own; a child process writes stdout and stderr), for a test
// to search afterwards.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// CheckLogsLack fails t for each of secrets found in logs, and fails it at
// once when logs holds no log line at all (a check of nothing proves
// nothing).
func CheckLogsLack(t testing.TB, logs string, secrets ...string) {
	t.Helper()
	if !strings.Contains(logs, "level=") {
		t.Fatal("no log lines captured: the test would prove nothing")
	}
	for _, s := range secrets {
		if i := strings.Index(logs, s); i >= 0 {
			lo, hi := max(0, i-120), min(len(logs), i+len(s)+120)
			t.Errorf("logs contain %q: …%s…", s, logs[lo:hi])
		}
	}
}

// CheckFilesLack fails t for each of secrets found in a file that pattern
// (filepath.Glob) matches, and fails it at once when pattern matches no
// file.
func CheckFilesLack(t testing.TB, pattern string, secrets ...string) {
	t.Helper()
	files, _ := filepath.Glob(pattern)
	if len(files) == 0 {
		t.Fatalf("no file matches %s", pattern)
	}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("%s contains %q", filepath.Base(name), s)
			}
		}
	}
}
