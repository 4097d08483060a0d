package relay

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"time"

	"github.com/pion/logging"
)

// levelTrace is the slog level of pion's trace messages: four below debug,
// as slog's levels leave room for (text handlers print it "DEBUG-4").
const levelTrace = slog.LevelDebug - 4

// newLogFactory adapts pion's logging to l. Each of pion's messages is
// logged at the matching level (trace at levelTrace) with a "scope"
// attribute holding pion's scope name ("turn", "turnc"), after
// redactAddrs has replaced every IP address in it: turnkit never writes a
// client or peer address to a log. A message is formatted only when l is
// enabled for its level, so disabled debug and trace logging costs one
// Enabled call. The source of a record, for handlers that add it, is
// pion's call site. A nil l discards everything.
func newLogFactory(l *slog.Logger) logging.LoggerFactory {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return logFactory{l: l}
}

type logFactory struct{ l *slog.Logger }

// NewLogger returns the logger for one of pion's scopes.
func (f logFactory) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{h: f.l.With("scope", scope).Handler()}
}

// pionLogger is a logging.LeveledLogger writing to a slog.Handler.
type pionLogger struct{ h slog.Handler }

var _ logging.LeveledLogger = pionLogger{}

// log logs msg, redacted, if the handler is enabled for level.
func (g pionLogger) log(level slog.Level, msg string) {
	if g.h.Enabled(context.Background(), level) {
		g.handle(level, msg)
	}
}

// logf formats and logs, redacted, if the handler is enabled for level:
// a disabled level costs one Enabled call and no formatting.
func (g pionLogger) logf(level slog.Level, format string, args ...any) {
	if g.h.Enabled(context.Background(), level) {
		g.handle(level, fmt.Sprintf(format, args...))
	}
}

// handle redacts msg and hands it to the handler. It must be called by log
// or logf, called by the LeveledLogger method that pion calls, for the
// record's source position to be pion's call site.
func (g pionLogger) handle(level slog.Level, msg string) {
	var pc [1]uintptr
	runtime.Callers(4, pc[:]) // skip Callers, handle, log or logf, and the method
	r := slog.NewRecord(time.Now(), level, redactAddrs(msg), pc[0])
	_ = g.h.Handle(context.Background(), r) // as in slog.Logger: a handler's error has nowhere to go
}

// Trace logs msg at levelTrace.
func (g pionLogger) Trace(msg string) { g.log(levelTrace, msg) }

// Tracef formats and logs at levelTrace.
func (g pionLogger) Tracef(format string, args ...any) { g.logf(levelTrace, format, args...) }

// Debug logs msg at slog.LevelDebug.
func (g pionLogger) Debug(msg string) { g.log(slog.LevelDebug, msg) }

// Debugf formats and logs at slog.LevelDebug.
func (g pionLogger) Debugf(format string, args ...any) { g.logf(slog.LevelDebug, format, args...) }

// Info logs msg at slog.LevelInfo.
func (g pionLogger) Info(msg string) { g.log(slog.LevelInfo, msg) }

// Infof formats and logs at slog.LevelInfo.
func (g pionLogger) Infof(format string, args ...any) { g.logf(slog.LevelInfo, format, args...) }

// Warn logs msg at slog.LevelWarn.
func (g pionLogger) Warn(msg string) { g.log(slog.LevelWarn, msg) }

// Warnf formats and logs at slog.LevelWarn.
func (g pionLogger) Warnf(format string, args ...any) { g.logf(slog.LevelWarn, format, args...) }

// Error logs msg at slog.LevelError.
func (g pionLogger) Error(msg string) { g.log(slog.LevelError, msg) }

// Errorf formats and logs at slog.LevelError.
func (g pionLogger) Errorf(format string, args ...any) { g.logf(slog.LevelError, format, args...) }

// redactedAddr replaces an address, with its zone, brackets and port.
const redactedAddr = "[addr]"

const (
	// maxAddrLen is the length of the longest text netip.ParseAddr accepts
	// without a zone: "0000:0000:0000:0000:0000:0000:255.255.255.255".
	maxAddrLen = 45
	// minHexAddr is the shortest address looked for inside hex-encoded
	// text, in characters ("1.2.3.4"): shorter ones ("::1") hide nothing
	// and would match random hex too often.
	minHexAddr = 7
)

// redactAddrs returns s with every IP address in it replaced by "[addr]":
// IPv4 and IPv6, IPv4-mapped and IPv4-embedded forms, with a zone
// ("fe80::1%eth0"), in brackets, with a port ("192.0.2.1:3478",
// "[2001:db8::1]:3478"), alone or inside a longer word ("SrcAddr:192.0.2.1:5",
// "udp4 192.0.2.1:5->[::1]:9"), and text that fmt's %x or %X made of an
// address (a net.Addr printed with %x: "3139322e302e322e313a35").
//
// What counts as an address is what netip.ParseAddr accepts, tested on
// every substring made of hex digits, '.' and ':' (at most 45 characters,
// the longest address). It guarantees: no substring of the result is
// accepted by netip.ParseAddr or netip.ParseAddrPort. The cost is that
// text which is an address by that definition is redacted even where it
// was not meant as one, and text which is not is kept:
//   - "dead:beef::1", "a::b", "::" and a 4-part version "1.2.3.4" are valid
//     addresses: redacted;
//   - "12:30:45", "12:30:45.123", "v5.1.3", "3478", "10 bytes", hex and
//     base64 transaction IDs and MAC addresses ("aa:bb:cc:dd:ee:ff") are not
//     addresses: kept;
//   - text that holds an address inside it loses that part: "256.1.1.1"
//     becomes "2[addr]", as "56.1.1.1" is an address;
//   - a hex run is decoded (both alignments) and redacted whole if the
//     decoding holds an address of 7 or more characters.
//
// Addresses printed as numbers are not recognised: a net.IP in an
// unexported struct field prints as "[192 0 2 1]", a netip.Addr as its
// internal integers. pion's log calls print neither (see logger_test.go).
func redactAddrs(s string) string {
	var out []byte // nil until the first redaction: most messages come back as they are
	kept := 0      // s[kept:i] is not copied to out yet
	lastEnd := 0   // end of the last redaction
	for i := 0; i < len(s); {
		c := s[i]
		if !isHex(c) && c != ':' {
			i++
			continue
		}
		start, end := i, -1
		if isHex(c) && (i == 0 || i == lastEnd || !isHex(s[i-1])) {
			e := i + 1
			for e < len(s) && isHex(s[e]) {
				e++
			}
			if e-i >= 2*minHexAddr && hexHidesAddr(s[i:e]) {
				end = e
			}
		}
		if end < 0 {
			j := addrEnd(s, i)
			if j < 0 {
				i++
				continue
			}
			start, end = extendAddr(s, kept, i, j)
		}
		if out == nil {
			out = make([]byte, 0, len(s)+len(redactedAddr))
		}
		out = append(out, s[kept:start]...)
		out = append(out, redactedAddr...)
		kept, lastEnd, i = end, end, end
	}
	if out == nil {
		return s
	}
	return string(append(out, s[kept:]...))
}

// extendAddr widens the address s[i:j] to its zone, the brackets around
// it and its port, without reaching before kept.
func extendAddr(s string, kept, i, j int) (start, end int) {
	start, end = i, j
	if end < len(s) && s[end] == '%' && end+1 < len(s) && isZoneByte(s[end+1]) && containsColon(s[i:j]) {
		end += 2
		for end < len(s) && isZoneByte(s[end]) {
			end++
		}
		for s[end-1] == '.' { // a full stop ends the sentence, not the zone
			end--
		}
	}
	if start-1 >= kept && s[start-1] == '[' && end < len(s) && s[end] == ']' {
		start--
		end++
	}
	if end+1 < len(s) && s[end] == ':' && isDigit(s[end+1]) {
		end += 2
		for end < len(s) && isDigit(s[end]) {
			end++
		}
	}
	return start, end
}

// addrEnd returns the largest j such that netip.ParseAddr accepts s[i:j],
// or -1.
func addrEnd(s string, i int) int {
	if s[i] == ':' && (i+1 == len(s) || s[i+1] != ':') {
		return -1 // an address starts with a hex digit or "::"
	}
	// Find how far an address could reach from i: hex groups of at most 4
	// digits, at most 8 colons (7 separators and one "::"), at most 3
	// dots, and no colon after a dot.
	k, colons, dots, group, firstSep := i, 0, 0, 0, -1
scan:
	for limit := min(len(s), i+maxAddrLen); k < limit; k++ {
		switch c := s[k]; {
		case isHex(c):
			if group++; group > 4 {
				break scan
			}
			continue
		case c == ':':
			if dots > 0 || colons == 8 {
				break scan
			}
			colons++
		case c == '.':
			if dots == 3 {
				break scan
			}
			dots++
		default:
			break scan
		}
		group = 0
		if firstSep < 0 {
			firstSep = k
		}
	}
	if firstSep < 0 {
		return -1
	}
	for j := k; j > firstSep; j-- {
		if last := s[j-1]; (isHex(last) || last == ':') && plausibleAddr(s[i:j]) {
			if _, err := netip.ParseAddr(s[i:j]); err == nil {
				return j
			}
		}
	}
	return -1
}

// plausibleAddr is a cheap necessary condition for netip.ParseAddr to
// accept a (zone-free) candidate, so that ordinary text such as "12:30:45"
// never reaches the parser (whose errors allocate).
func plausibleAddr(s string) bool {
	colons, dots, doubles := 0, 0, 0
	for k := 0; k < len(s); k++ {
		switch s[k] {
		case ':':
			colons++
			if k > 0 && s[k-1] == ':' {
				doubles++
			}
		case '.':
			dots++
		}
	}
	switch {
	case colons == 0:
		return dots == 3
	case dots != 0 && dots != 3:
		return false
	case doubles == 1:
		return true
	case doubles == 0 && dots == 0:
		return colons == 7
	case doubles == 0:
		return colons == 6
	}
	return false
}

// hexHidesAddr reports whether the hex digits h, decoded in either
// alignment, hold an address of at least minHexAddr characters.
func hexHidesAddr(h string) bool {
	var buf [64]byte
	for off := 0; off < 2; off++ {
		n := (len(h) - off) / 2
		b := buf[:0]
		if n > len(buf) {
			b = make([]byte, 0, n)
		}
		for k := off; k+1 < len(h); k += 2 {
			b = append(b, unhex(h[k])<<4|unhex(h[k+1]))
		}
		d := string(b)
		for i := 0; i+minHexAddr <= len(d); i++ {
			if c := d[i]; isHex(c) || c == ':' {
				if j := addrEnd(d, i); j-i >= minHexAddr {
					return true
				}
			}
		}
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// isZoneByte reports whether c may be part of a zone (an interface name
// or number; RFC 6874 unreserved characters).
func isZoneByte(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c == '-' || c == '.' || c == '_' || c == '~'
}

func containsColon(s string) bool {
	for k := 0; k < len(s); k++ {
		if s[k] == ':' {
			return true
		}
	}
	return false
}
