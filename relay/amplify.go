package relay

import (
	"encoding/binary"
	"hash/maphash"
	"net"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// replyBudget keeps the relay from amplifying: a reply that carries no
// MESSAGE-INTEGRITY (a 401 challenge, a Binding response, an
// unauthenticated error) goes to a source only while the bytes of such
// replies stay within UnauthReplyRatio times the bytes of STUN messages
// received from it, and at most UnauthReplyRate of them per second. A
// spoofed flood therefore reflects no more bytes than it sends.
//
// Sources are keyed by a keyed hash of their IP (seeded per process), so
// the table holds no address; it is a bounded LRU, and an evicted source
// starts again with no credit.
type replyBudget struct {
	ratio float64
	rate  rate.Limit
	burst int
	seed  maphash.Seed
	now   func() time.Time

	mu      sync.Mutex // guards sources' values
	sources *lru.Cache[uint64, *sourceBudget]
}

type sourceBudget struct {
	credit  float64 // bytes that may still be sent without integrity
	replies *rate.Limiter
}

// maxCredit caps what a source can bank.
const maxCredit = 4096

func newReplyBudget(ratio float64, perSecond float64, size int, now func() time.Time) *replyBudget {
	sources, _ := lru.New[uint64, *sourceBudget](size)
	return &replyBudget{ratio: ratio, rate: rate.Limit(perSecond), burst: max(1, int(2*perSecond)),
		seed: maphash.MakeSeed(), now: now, sources: sources}
}

func (b *replyBudget) key(a net.Addr) (uint64, bool) {
	ap, ok := addrPortOf(a)
	if !ok {
		return 0, false
	}
	raw := ap.Addr().As16()
	return maphash.Bytes(b.seed, raw[:]), true
}

// received credits n bytes of a STUN message from src.
func (b *replyBudget) received(src net.Addr, n int) {
	k, ok := b.key(src)
	if !ok {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	sb, ok := b.sources.Get(k)
	if !ok {
		sb = &sourceBudget{replies: rate.NewLimiter(b.rate, b.burst)}
		b.sources.Add(k, sb)
	}
	sb.credit = min(sb.credit+b.ratio*float64(n), maxCredit)
}

// allow reports whether an unauthenticated reply of n bytes may go to dst,
// and debits it.
func (b *replyBudget) allow(dst net.Addr, n int) bool {
	k, ok := b.key(dst)
	if !ok {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	sb, ok := b.sources.Get(k)
	if !ok || sb.credit < float64(n) || !sb.replies.AllowN(b.now(), 1) {
		return false
	}
	sb.credit -= float64(n)
	return true
}

// unauthenticatedResponse reports whether msg is a STUN response (success
// or error) without MESSAGE-INTEGRITY: the kind of reply an unauthenticated
// request gets. It only scans the attribute headers.
func unauthenticatedResponse(msg []byte) bool {
	if len(msg) < 20 || msg[0]&0xC0 != 0 || binary.BigEndian.Uint32(msg[4:8]) != magicCookie {
		return false
	}
	if msg[0]&0x01 == 0 { // class bit C1 clear: request or indication
		return false
	}
	for i := 20; i+4 <= len(msg); {
		typ := binary.BigEndian.Uint16(msg[i:])
		l := int(binary.BigEndian.Uint16(msg[i+2:]))
		if typ == 0x0008 || typ == 0x001C { // MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256
			return false
		}
		i += 4 + (l+3)&^3
	}
	return true
}
