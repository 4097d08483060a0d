package relay

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/pion/logging"
)

// levelTrace is the slog level pion's trace messages are logged at.
const levelTrace = slog.Level(-8)

// logFactory adapts pion's logging to slog. Every message passes through
// redactAddrs first, so no client or peer address reaches the log.
type logFactory struct{ l *slog.Logger }

func newLogFactory(l *slog.Logger) logging.LoggerFactory { return logFactory{l} }

func (f logFactory) NewLogger(scope string) logging.LeveledLogger {
	return leveledLogger{l: f.l.With("scope", "pion/"+scope)}
}

type leveledLogger struct{ l *slog.Logger }

// emit logs msg, redacted, if the level is enabled.
func (g leveledLogger) emit(level slog.Level, msg string) {
	if g.l.Enabled(context.Background(), level) {
		g.l.Log(context.Background(), level, redactAddrs(msg))
	}
}

// emitf formats only when the level is enabled.
func (g leveledLogger) emitf(level slog.Level, format string, args ...any) {
	if g.l.Enabled(context.Background(), level) {
		g.l.Log(context.Background(), level, redactAddrs(fmt.Sprintf(format, args...)))
	}
}

func (g leveledLogger) Trace(msg string)                  { g.emit(levelTrace, msg) }
func (g leveledLogger) Tracef(format string, args ...any) { g.emitf(levelTrace, format, args...) }
func (g leveledLogger) Debug(msg string)                  { g.emit(slog.LevelDebug, msg) }
func (g leveledLogger) Debugf(format string, args ...any) { g.emitf(slog.LevelDebug, format, args...) }
func (g leveledLogger) Info(msg string)                   { g.emit(slog.LevelInfo, msg) }
func (g leveledLogger) Infof(format string, args ...any)  { g.emitf(slog.LevelInfo, format, args...) }
func (g leveledLogger) Warn(msg string)                   { g.emit(slog.LevelWarn, msg) }
func (g leveledLogger) Warnf(format string, args ...any)  { g.emitf(slog.LevelWarn, format, args...) }
func (g leveledLogger) Error(msg string)                  { g.emit(slog.LevelError, msg) }
func (g leveledLogger) Errorf(format string, args ...any) { g.emitf(slog.LevelError, format, args...) }

// redacted replaces an address in a log message.
const redacted = "[addr]"

// redactAddrs replaces every IP address in s — IPv4 or IPv6, with or
// without a port, bracketed, with a zone, IPv4-mapped — by "[addr]".
//
// It splits s into tokens of the characters addresses are written with
// (hex digits and letters for zones, '.', ':', '%', '[' and ']'); a token
// that, stripped of trailing '.' and ':', parses as an address or an
// address with a port is replaced. Text that only looks like an address is
// kept: "12:30:45" and "v5.1.3" do not parse; "dead:beef::1" does and is
// redacted.
func redactAddrs(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if !isAddrByte(s[i]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && isAddrByte(s[j]) {
			j++
		}
		tok := s[i:j]
		core := strings.TrimRight(tok, ".:")
		if isAddrToken(core) {
			b.WriteString(redacted)
			b.WriteString(tok[len(core):])
		} else {
			b.WriteString(tok)
		}
		i = j
	}
	return b.String()
}

func isAddrByte(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		c == '.' || c == ':' || c == '%' || c == '[' || c == ']'
}

// isAddrToken reports whether tok is an IP address, optionally with a
// port or in brackets.
func isAddrToken(tok string) bool {
	if len(tok) < 2 || (!strings.ContainsAny(tok, ".:")) {
		return false
	}
	if _, err := netip.ParseAddr(tok); err == nil {
		return true
	}
	if _, err := netip.ParseAddrPort(tok); err == nil {
		return true
	}
	if strings.HasPrefix(tok, "[") {
		inner := strings.TrimPrefix(tok, "[")
		if i := strings.IndexByte(inner, ']'); i >= 0 {
			inner = inner[:i]
		}
		if _, err := netip.ParseAddr(inner); err == nil {
			return true
		}
	}
	return false
}
