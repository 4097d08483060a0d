package compat

import (
	"bytes"
	"encoding/json"
	"time"
)

// maxSeconds bounds the durations in seconds that requests name, far
// beyond any limit the backends set, so that no value overflows a
// time.Duration.
const maxSeconds = 1_000_000_000

// parseSeconds parses a duration in whole seconds written as a decimal:
// "30", not "+30", "30.0", "3e1" or "-30". It returns ok false for text
// that is not such a number from 1 to maxSeconds.
func parseSeconds(text string) (time.Duration, bool) {
	if text == "" || len(text) > 10 || text[0] == '0' {
		return 0, false
	}
	var n int64
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if n > maxSeconds {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// jsonSeconds parses a JSON member holding a duration in seconds, as a
// number or as a decimal string, as parseSeconds does. An absent or null
// member is zero and ok; any other value that is not such a number is not
// ok.
func jsonSeconds(raw json.RawMessage) (time.Duration, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, true
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, false
		}
	}
	return parseSeconds(text)
}
