package turnkit_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/turnkit/turnkit"
)

func TestIssueRateLimits(t *testing.T) {
	tk := newTestKit(t, func(c *turnkit.Config) {
		c.RateLimits = turnkit.RateLimits{PerKey: 1, PerKeyBurst: 2, PerApp: 2, PerAppBurst: 3}
	})
	post := func(key string) (int, string, string) {
		req, _ := http.NewRequest(http.MethodPost, tk.http.URL+"/v1/credentials", strings.NewReader(fmt.Sprintf(`{"key": %q}`, key)))
		res, err := tk.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body struct {
			Detail string `json:"detail"`
		}
		_ = decodeJSON(res, &body)
		return res.StatusCode, res.Header.Get("Retry-After"), body.Detail
	}
	key1 := tk.app.Key
	_, key2 := mustAddKey(t, tk.Kit, tk.app.App.ID)

	for i := range 2 {
		if code, _, d := post(key1); code != 200 {
			t.Fatalf("request %d within the key's burst: %d %q", i, code, d)
		}
	}
	code, retry, detail := post(key1)
	if code != http.StatusTooManyRequests || retry != "1" || !strings.Contains(detail, "key") {
		t.Fatalf("third request: %d Retry-After %q %q; want 429, 1, naming the key", code, retry, detail)
	}
	// The app's burst of 3 has one token left: the second key gets it, then
	// the app limit refuses the second key too.
	if code, _, d := post(key2); code != 200 {
		t.Fatalf("second key: %d %q", code, d)
	}
	if code, _, detail := post(key2); code != http.StatusTooManyRequests || !strings.Contains(detail, "app") {
		t.Fatalf("second key over the app's burst: %d %q", code, detail)
	}
	// A refused request takes no token: after one second the key has one.
	tk.clock.Advance(time.Second)
	if code, _, d := post(key1); code != 200 {
		t.Fatalf("after a second: %d %q", code, d)
	}
	if code, _, _ := post(key1); code != http.StatusTooManyRequests {
		t.Fatalf("second request after a second: %d, want 429", code)
	}
}

func TestRateLimitsOff(t *testing.T) {
	tk := newTestKit(t, func(c *turnkit.Config) { c.RateLimits = turnkit.RateLimits{PerKey: -1, PerApp: -1} })
	for i := range 100 {
		if _, err := issueWithKey(context.Background(), tk.Kit, tk.app.Key, turnkit.CredentialRequest{}); err != nil {
			t.Fatalf("request %d with limits off: %v", i, err)
		}
	}
}
