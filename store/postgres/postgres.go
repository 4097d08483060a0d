package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/turnkit/turnkit/store"
)

// Store is a [store.Store] backed by PostgreSQL, which many processes can
// share: every issuer and relay of a fleet opens its own Store on one
// database. Open one with [Open], or with [New] on a pool of your own.
//
// Besides the contract, a Store implements the optional capabilities
// [store.UsageBatcher], [store.Notifier], [store.AppLister],
// [store.ActiveSessionLister] and [store.HourlyUsageLister].
//
// A Store is safe for concurrent use. Its zero value is not usable. After
// Close, its methods must not be called.
type Store struct {
	pool  *pgxpool.Pool
	owned bool // whether Close closes pool

	// closing is cancelled by Close; it ends every subscription.
	closing context.Context
	cancel  context.CancelFunc

	mu     sync.Mutex     // guards closed and the Add of subs
	closed bool           // Close has begun: no new subscriptions
	subs   sync.WaitGroup // running Subscribe calls

	closeOnce sync.Once
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.UsageBatcher = (*Store)(nil)
	_ store.Notifier     = (*Store)(nil)
)

// Open connects to the database that dsn names (a PostgreSQL URL or
// keyword/value string, as pgxpool.ParseConfig reads it, pool settings such
// as pool_max_conns included) and brings its schema up to date. Close
// closes the pool that Open made.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx masks the password where the error quotes the DSN.
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s, err := newStore(ctx, pool, true)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return s, nil
}

// New returns a Store that keeps its data in the database of pool, and
// brings its schema up to date. The Store takes its connections from pool;
// subscriptions ([Store.Subscribe]) open connections of their own with
// pool's connection settings.
//
// Close does not close pool: the caller closes it, after the Store.
func New(ctx context.Context, pool *pgxpool.Pool) (*Store, error) {
	if pool == nil {
		return nil, errors.New("postgres: new: nil *pgxpool.Pool")
	}
	s, err := newStore(ctx, pool, false)
	if err != nil {
		return nil, fmt.Errorf("postgres: new: %w", err)
	}
	return s, nil
}

func newStore(ctx context.Context, pool *pgxpool.Pool, owned bool) (*Store, error) {
	if err := migrate(ctx, pool, embedded); err != nil {
		return nil, err
	}
	closing, cancel := context.WithCancel(context.Background())
	return &Store{pool: pool, owned: owned, closing: closing, cancel: cancel}, nil
}

// Close ends every subscription of the Store and waits for the Subscribe
// calls to return; then, if Open made the Store, it closes its pool. A
// callback of Subscribe must therefore not call Close. Calling Close again
// does nothing and returns nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		s.subs.Wait()
		if s.owned {
			s.pool.Close()
		}
	})
	return nil
}
