package turnkit

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/bits"
	"time"

	"github.com/turnkit/turnkit/store"
)

// GB is 10^9 bytes, the unit hosted TURN services bill egress in. Every
// amount in the ledger is an integer number of bytes.
const GB int64 = 1_000_000_000

// The reserve rules of the native API (seed "Billing & Credits").
const (
	// ReservePerSession is held for each active session of the app, and
	// for the one allocation of a gateway call: 0.05 GB.
	ReservePerSession = GB / 20
	// LongTTL is the TTL above which a credential reserves for its extra
	// time.
	LongTTL = 30 * time.Minute
	// ReservePerExtraHour is reserved per hour of TTL beyond the default
	// 10 minutes when the app has no usage history: 5 GB.
	ReservePerExtraHour = 5 * GB
	// reserveBaseTTL is the default TTL the extra time is counted from.
	reserveBaseTTL = 10 * time.Minute
)

// BillingConfig configures metering and the ledger. The zero value meters
// usage and charges it to the ledger, but never refuses a credential for
// the balance.
type BillingConfig struct {
	// Enforce turns on the balance check at issuance: a credential is
	// refused with 402 when the app's balance is zero or negative, or below
	// the reserve for the request.
	Enforce bool
	// WelcomeBytes is PAYG credit a new app receives, as the first entry of
	// its journal. Defaults to 1 GB when Enforce is set, none otherwise;
	// negative means none.
	WelcomeBytes int64
	// LowBalanceThreshold is the low-balance threshold new apps get; zero
	// means none. Change it per app with Ledger.SetLowBalanceThreshold.
	LowBalanceThreshold int64
	// OnLowBalance, if set, is called once each time an app's total
	// balance falls below its threshold; it re-arms when the total is back
	// at or above the threshold (after a top-up or a refill). It is called
	// after the change is stored, from the goroutine that made it (the
	// relay's event delivery for usage): keep it quick.
	OnLowBalance func(ctx context.Context, ev LowBalance)
}

// LowBalance tells that an app's balance fell below its threshold.
type LowBalance struct {
	// AppID is the app.
	AppID string
	// Balance is the balance right after the change that crossed.
	Balance store.Balance
	// At is when the change was made.
	At time.Time
}

// LedgerStore is what the Ledger uses of the store: balances and their
// journal, and the session counts and history its reserve rules read.
type LedgerStore interface {
	store.Ledger
	store.SessionStats
}

// LedgerConfig configures a Ledger. Store is required.
type LedgerConfig struct {
	// Store keeps the balances and the journal.
	Store LedgerStore
	// Billing is the billing policy.
	Billing BillingConfig
	// Logger receives the Ledger's logs. Defaults to discarding logs.
	Logger *slog.Logger
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
}

// Ledger keeps each app's two-bucket balance: a subscription bucket that a
// plan refills each month (used first, no rollover) and a pay-as-you-go
// bucket of top-ups that never expires and that usage may push slightly
// negative. Every change is an entry in an append-only journal with a
// reference that makes it apply once. It is safe for concurrent use.
type Ledger struct {
	st  LedgerStore
	cfg BillingConfig
	now func() time.Time
	log *slog.Logger
	// stats, set by the Kit that built the Ledger, counts charges and
	// times the store calls; nil counts nothing.
	stats *kitStats
}

// NewLedger returns a Ledger on cfg.Store.
func NewLedger(cfg LedgerConfig) (*Ledger, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: ledger: Store is required", ErrBadRequest)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Ledger{st: cfg.Store, cfg: cfg.Billing, now: cfg.Now, log: cfg.Logger}, nil
}

// TopUp adds bytes to the app's PAYG bucket. ref identifies the top-up (a
// payment ID): a second TopUp with the same ref changes nothing and returns
// false.
func (l *Ledger) TopUp(ctx context.Context, appID string, bytes int64, ref string) (bool, error) {
	if bytes <= 0 || ref == "" {
		return false, fmt.Errorf("%w: top-up of %d bytes with reference %q: need a positive amount and a reference", ErrBadRequest, bytes, ref)
	}
	return l.apply(ctx, appID, "topup:"+ref, func(b *store.Balance, now time.Time) []store.LedgerEntry {
		b.PAYG += bytes
		return []store.LedgerEntry{{At: now, Kind: "topup", Ref: "topup:" + ref, PAYG: bytes}}
	})
}

// SetPlan gives the app a subscription of allowance bytes per month,
// starting a period now with a full bucket; zero ends the plan and empties
// the bucket.
func (l *Ledger) SetPlan(ctx context.Context, appID string, allowance int64) error {
	if allowance < 0 {
		return fmt.Errorf("%w: plan allowance %d is negative", ErrBadRequest, allowance)
	}
	now := l.now()
	ref := fmt.Sprintf("plan:%d", now.UnixNano())
	_, err := l.apply(ctx, appID, ref, func(b *store.Balance, now time.Time) []store.LedgerEntry {
		delta := allowance - b.Subscription
		b.Allowance, b.Subscription = allowance, allowance
		b.PeriodStart = now
		if allowance == 0 {
			b.PeriodStart = time.Time{}
		}
		return []store.LedgerEntry{{At: now, Kind: "plan", Ref: ref, Subscription: delta}}
	})
	return err
}

// SetLowBalanceThreshold sets the total below which OnLowBalance fires for
// the app; zero turns it off. The notice is armed again.
func (l *Ledger) SetLowBalanceThreshold(ctx context.Context, appID string, bytes int64) error {
	if bytes < 0 {
		return fmt.Errorf("%w: threshold %d is negative", ErrBadRequest, bytes)
	}
	ref := fmt.Sprintf("threshold:%d", l.now().UnixNano())
	_, err := l.apply(ctx, appID, ref, func(b *store.Balance, now time.Time) []store.LedgerEntry {
		b.LowThreshold, b.LowNotified = bytes, false
		return []store.LedgerEntry{{At: now, Kind: "threshold", Ref: ref}}
	})
	return err
}

// Charge charges one usage delta, subscription first, then PAYG. A delta
// already charged returns false and changes nothing.
func (l *Ledger) Charge(ctx context.Context, u store.Usage) (bool, error) {
	if u.ToPeer < 0 || u.ToClient < 0 {
		return false, fmt.Errorf("%w: usage %s#%d has negative bytes", ErrBadRequest, u.SessionID, u.Seq)
	}
	var low *LowBalance
	start := time.Now()
	applied, err := l.st.ApplyUsage(ctx, u, func(b *store.Balance) ([]store.LedgerEntry, error) {
		var entries []store.LedgerEntry
		entries, low = l.bill(b, u)
		return entries, nil
	})
	l.stats.timeStore(opApplyUsage, start)
	l.stats.charged(start, 1, []bool{applied}, err)
	if err != nil {
		return false, fmt.Errorf("turnkit: charge usage:%s:%d: %w", u.SessionID, u.Seq, err)
	}
	if applied {
		l.notify(ctx, low)
	}
	return applied, nil
}

// ChargeBatch charges many usage deltas, each exactly as Charge would and
// in the order given, in as few transactions as the store allows: one when
// it is a store.UsageBatcher, one per delta otherwise. It returns, for each
// delta, whether this call applied it; on error, none of the batch is
// applied when the store batches (deltas charged one at a time before the
// error stay charged: each is exactly once either way).
func (l *Ledger) ChargeBatch(ctx context.Context, us []store.Usage) ([]bool, error) {
	for _, u := range us {
		if u.ToPeer < 0 || u.ToClient < 0 {
			return nil, fmt.Errorf("%w: usage %s#%d has negative bytes", ErrBadRequest, u.SessionID, u.Seq)
		}
	}
	ub, ok := l.st.(store.UsageBatcher)
	if !ok {
		applied := make([]bool, len(us))
		for i, u := range us {
			a, err := l.Charge(ctx, u)
			if err != nil {
				return applied, err
			}
			applied[i] = a
		}
		return applied, nil
	}
	var lows []*LowBalance
	start := time.Now()
	applied, err := ub.ApplyUsageBatch(ctx, us, func(b *store.Balance, u store.Usage) ([]store.LedgerEntry, error) {
		entries, low := l.bill(b, u)
		if low != nil {
			lows = append(lows, low)
		}
		return entries, nil
	})
	l.stats.timeStore(opApplyUsageBatch, start)
	l.stats.charged(start, len(us), applied, err)
	if err != nil {
		return nil, fmt.Errorf("turnkit: charge %d usage deltas: %w", len(us), err)
	}
	for _, low := range lows {
		l.notify(ctx, low)
	}
	return applied, nil
}

// bill applies one usage delta to a balance: the subscription refill that
// is due, then the bytes from the subscription first and PAYG for the
// rest. It returns the journal entries and the low-balance notice the
// change crosses, if any.
func (l *Ledger) bill(b *store.Balance, u store.Usage) ([]store.LedgerEntry, *LowBalance) {
	bytes := u.ToPeer + u.ToClient
	ref := fmt.Sprintf("usage:%s:%d", u.SessionID, u.Seq)
	now := l.now()
	entries := refill(b, now)
	fromSub := min(bytes, max(b.Subscription, 0))
	b.Subscription -= fromSub
	b.PAYG -= bytes - fromSub
	entries = append(entries, store.LedgerEntry{At: now, Kind: "usage", Ref: ref, Subscription: -fromSub, PAYG: -(bytes - fromSub)})
	return entries, checkLow(b, now)
}

// Balance returns the app's balance as of now, including a subscription
// refill that is due but not yet written (it is written with the next
// change).
func (l *Ledger) Balance(ctx context.Context, appID string) (store.Balance, error) {
	start := time.Now()
	b, err := l.st.Balance(ctx, appID)
	l.stats.timeStore(opBalance, start)
	if err != nil {
		return store.Balance{}, fmt.Errorf("turnkit: balance of app %s: %w", appID, err)
	}
	refill(&b, l.now())
	return b, nil
}

// Entries returns up to limit journal entries of the app after the entry
// with ID afterID (0 for the start), oldest first.
func (l *Ledger) Entries(ctx context.Context, appID string, afterID int64, limit int) ([]store.LedgerEntry, error) {
	if limit <= 0 || limit > 10000 {
		return nil, fmt.Errorf("%w: limit %d must be 1 to 10000", ErrBadRequest, limit)
	}
	es, err := l.st.Entries(ctx, appID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("turnkit: entries of app %s: %w", appID, err)
	}
	return es, nil
}

// Reserve returns the bytes an app must hold to get a credential with the
// given TTL: 0.05 GB per active session of the app (one allocation for a
// gateway call); for a TTL over 30 minutes, plus the extra time beyond the
// default 10 minutes at the app's historical average throughput, or at
// 5 GB per hour when it has no history.
func (l *Ledger) Reserve(ctx context.Context, appID string, ttl time.Duration, gateway bool) (int64, error) {
	if gateway {
		return ReservePerSession, nil
	}
	start := time.Now()
	n, err := l.st.CountActiveSessions(ctx, appID)
	l.stats.timeStore(opCountActiveSessions, start)
	if err != nil {
		return 0, fmt.Errorf("turnkit: reserve for app %s: %w", appID, err)
	}
	r := int64(n) * ReservePerSession
	if ttl <= LongTTL {
		return r, nil
	}
	extra := int64((ttl - reserveBaseTTL) / time.Second)
	start = time.Now()
	bytes, secs, err := l.st.UsageHistory(ctx, appID)
	l.stats.timeStore(opUsageHistory, start)
	if err != nil {
		return 0, fmt.Errorf("turnkit: reserve for app %s: %w", appID, err)
	}
	if bytes > 0 && secs > 0 {
		return satAdd(r, mulDiv(bytes, extra, secs)), nil
	}
	return satAdd(r, mulDiv(ReservePerExtraHour, extra, 3600)), nil
}

// checkIssue refuses a credential when billing is enforced and the balance
// cannot cover the reserve.
func (l *Ledger) checkIssue(ctx context.Context, appID string, ttl time.Duration, gateway bool) error {
	if !l.cfg.Enforce {
		return nil
	}
	b, err := l.Balance(ctx, appID)
	if err != nil {
		return err
	}
	total := b.Total()
	if total <= 0 {
		return fmt.Errorf("%w: the balance is %d bytes; top up to issue credentials", ErrInsufficientBalance, total)
	}
	need, err := l.Reserve(ctx, appID, ttl, gateway)
	if err != nil {
		return err
	}
	if total < need {
		return fmt.Errorf("%w: the balance is %d bytes and this credential needs a reserve of %d bytes; top up at least %d bytes",
			ErrInsufficientBalance, total, need, need-total)
	}
	return nil
}

// Welcome gives a new app its welcome credit (BillingConfig.WelcomeBytes)
// and low-balance threshold, once: the Kit calls it when it creates an
// app.
func (l *Ledger) Welcome(ctx context.Context, appID string) error { return l.welcome(ctx, appID) }

// welcome gives a new app its welcome credit and low-balance threshold.
func (l *Ledger) welcome(ctx context.Context, appID string) error {
	credit := l.cfg.WelcomeBytes
	if credit == 0 && l.cfg.Enforce {
		credit = GB
	}
	if credit <= 0 && l.cfg.LowBalanceThreshold == 0 {
		return nil
	}
	_, err := l.apply(ctx, appID, "welcome", func(b *store.Balance, now time.Time) []store.LedgerEntry {
		b.LowThreshold = l.cfg.LowBalanceThreshold
		e := store.LedgerEntry{At: now, Kind: "topup", Ref: "welcome"}
		if credit > 0 {
			b.PAYG += credit
			e.PAYG = credit
		}
		return []store.LedgerEntry{e}
	})
	return err
}

// apply runs a balance change once per ref, with the refill that is due
// and the low-balance check, and fires the notice after it is stored.
func (l *Ledger) apply(ctx context.Context, appID, ref string, change func(*store.Balance, time.Time) []store.LedgerEntry) (bool, error) {
	var low *LowBalance
	applied, err := l.st.Apply(ctx, appID, ref, func(b *store.Balance) ([]store.LedgerEntry, error) {
		now := l.now()
		entries := refill(b, now)
		entries = append(entries, change(b, now)...)
		low = checkLow(b, now)
		return entries, nil
	})
	if err != nil {
		return false, fmt.Errorf("turnkit: ledger %s for app %s: %w", ref, appID, err)
	}
	if applied {
		l.notify(ctx, low)
	}
	return applied, nil
}

func (l *Ledger) notify(ctx context.Context, low *LowBalance) {
	if low != nil && l.cfg.OnLowBalance != nil {
		l.cfg.OnLowBalance(ctx, *low)
	}
}

// refill starts the subscription periods that began by now, filling the
// bucket to the allowance (what was left does not roll over), and returns
// the entry recording it. A period is one calendar month (time.AddDate)
// from its start.
func refill(b *store.Balance, now time.Time) []store.LedgerEntry {
	if b.Allowance <= 0 || b.PeriodStart.IsZero() {
		return nil
	}
	next := b.PeriodStart.AddDate(0, 1, 0)
	if now.Before(next) {
		return nil
	}
	for !now.Before(next) {
		b.PeriodStart = next
		next = next.AddDate(0, 1, 0)
	}
	delta := b.Allowance - b.Subscription
	b.Subscription = b.Allowance
	return []store.LedgerEntry{{At: now, Kind: "refill", Ref: "refill:" + b.PeriodStart.UTC().Format(time.RFC3339Nano), Subscription: delta}}
}

// checkLow updates the low-balance flag and returns the notice to send, if
// the total just fell below the threshold.
func checkLow(b *store.Balance, now time.Time) *LowBalance {
	if b.LowThreshold <= 0 {
		return nil
	}
	switch below := b.Total() < b.LowThreshold; {
	case below && !b.LowNotified:
		b.LowNotified = true
		return &LowBalance{AppID: b.AppID, Balance: *b, At: now}
	case !below && b.LowNotified:
		b.LowNotified = false
	}
	return nil
}

// mulDiv returns a*b/c for non-negative a, b and positive c without
// overflowing, saturating at math.MaxInt64.
func mulDiv(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
