package admin

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Kinds are the error kinds the handler wraps its own refusals in, so that
// Config.Errors, the one map from kinds to answers, answers for them too.
// turnkit passes its sentinels (ErrBadRequest, ErrMethodNotAllowed,
// ErrBodyTooLarge, ErrUnsupportedMediaType). Every field is required.
type Kinds struct {
	// BadRequest marks malformed input: a field, a query parameter, a
	// cursor.
	BadRequest error
	// MethodNotAllowed marks a method the path does not serve.
	MethodNotAllowed error
	// TooLarge marks a body or a query string over MaxBodyBytes.
	TooLarge error
	// UnsupportedMedia marks a body that is not JSON.
	UnsupportedMedia error
}

// Config configures a Handler. Apps, Keys, Billing, Sessions, Fleet,
// Errors and Kinds are required.
type Config struct {
	// TokenHash is the SHA-256 of the admin token that requests to the
	// JSON API carry as "Authorization: Bearer <token>". The zero value
	// turns the handler off: every request, the page's included, gets
	// 503.
	TokenHash [32]byte

	// Apps, Keys, Billing, Sessions and Fleet are what the API reads and
	// changes.
	Apps     Apps
	Keys     Keys
	Billing  Billing
	Sessions Sessions
	Fleet    Fleet
	// Credentials, if set, serves the persistent TURN credentials of apps;
	// without it their paths answer 404.
	Credentials StaticCredentials

	// Errors maps errors to statuses and details.
	Errors Errors
	// Kinds are the kinds the handler's own errors wrap.
	Kinds Kinds
	// Limiter, if set, bounds wrong admin tokens per source; over it,
	// requests get 429 with Retry-After whatever token they carry.
	Limiter Limiter

	// Prefix is the path the handler is mounted at: the page is served at
	// Prefix, its files under Prefix+"static/" and the JSON API under
	// Prefix+"api/". Defaults to "/admin/". It must start and end with
	// '/'.
	Prefix string
	// MaxBodyBytes bounds request bodies and, apart, query strings;
	// larger ones get 413. Defaults to 4096.
	MaxBodyBytes int64
	// Logger receives the errors that are the server's fault, never a
	// request's token, body or query. Defaults to discarding logs.
	Logger *slog.Logger
	// Now returns the current time, for the default usage range. Defaults
	// to time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() (Config, error) {
	if c.Prefix == "" {
		c.Prefix = "/admin/"
	}
	if !strings.HasPrefix(c.Prefix, "/") || !strings.HasSuffix(c.Prefix, "/") || strings.ContainsAny(c.Prefix, "{}") {
		return c, fmt.Errorf("admin: prefix %q must start and end with '/' and hold no pattern", c.Prefix)
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 4096
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	var missing []string
	for name, v := range map[string]any{
		"Apps": c.Apps, "Keys": c.Keys, "Billing": c.Billing, "Sessions": c.Sessions, "Fleet": c.Fleet, "Errors": c.Errors,
		"Kinds.BadRequest": c.Kinds.BadRequest, "Kinds.MethodNotAllowed": c.Kinds.MethodNotAllowed,
		"Kinds.TooLarge": c.Kinds.TooLarge, "Kinds.UnsupportedMedia": c.Kinds.UnsupportedMedia,
	} {
		if v == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return c, errors.New("admin: config lacks " + strings.Join(missing, ", "))
	}
	return c, nil
}
