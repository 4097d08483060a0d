package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/turnkit/turnkit/store"
)

// busyTimeout is how long a connection opened by Open waits for a lock held
// by another connection (another process, say) before it fails with
// SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// Store is a [store.Store] backed by SQLite. Open one with [Open], or with
// [New] on a database handle of your own.
//
// A Store is safe for concurrent use. Its zero value is not usable. After
// Close, its methods must not be called.
type Store struct {
	w     *sql.DB       // writes; a single connection when Open opened it
	r     *sql.DB       // reads; a pool of read-only connections when Open opened it
	owned bool          // whether Close closes w and r
	wsem  chan struct{} // serialises writes; holds a token while one runs

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens the SQLite file at path, creating it if it does not exist, and
// brings its schema up to date. path is a file system path, not a URI; it
// must not be empty or ":memory:", since the store's reads and writes use
// different connections (use [New] for an in-memory database).
//
// The file is put in WAL mode; Open fails if that is not possible. Close
// closes what Open opened.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: open %q: a file path is required", path)
	}
	// The writer's transactions begin IMMEDIATE: they take the write lock
	// at BEGIN, waiting for it within the busy timeout, so a transaction
	// that reads first (Apply) cannot fail with SQLITE_BUSY_SNAPSHOT when
	// another process wrote meanwhile.
	w, err := sql.Open("sqlite", dsn(path, "_journal_mode", "WAL")+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	if err := checkWAL(ctx, w); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open %q: %w", path, err), w.Close())
	}
	if err := migrate(ctx, w, embedded); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open %q: %w", path, err), w.Close())
	}
	r, err := sql.Open("sqlite", dsn(path, "_query_only", "1"))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open %q: %w", path, err), w.Close())
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open %q: %w", path, err), r.Close(), w.Close())
	}
	return newStore(w, r, true), nil
}

// New returns a Store that keeps its data in db, a database opened with the
// "sqlite" driver of modernc.org/sqlite, and brings db's schema up to date.
// The Store reads and writes through db, one write at a time.
//
// New leaves db's settings as the caller made them: open it with a busy
// timeout and foreign keys on, and in WAL mode for a file, as Open does. An
// in-memory database must be limited to one connection
// (db.SetMaxOpenConns(1)), or each connection sees a database of its own.
//
// Close does not close db: the caller closes it, after the Store.
func New(ctx context.Context, db *sql.DB) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlite: new: nil *sql.DB")
	}
	if err := migrate(ctx, db, embedded); err != nil {
		return nil, fmt.Errorf("sqlite: new: %w", err)
	}
	return newStore(db, db, false), nil
}

func newStore(w, r *sql.DB, owned bool) *Store {
	return &Store{w: w, r: r, owned: owned, wsem: make(chan struct{}, 1)}
}

// Close releases the Store. If Open made it, Close closes its database
// connections; if New made it, Close leaves the caller's *sql.DB open.
// Calling Close again returns the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.owned {
			if err := errors.Join(s.r.Close(), s.w.Close()); err != nil {
				s.closeErr = fmt.Errorf("sqlite: close: %w", err)
			}
		}
	})
	return s.closeErr
}

// dsn returns the modernc.org/sqlite data source name of the file at path
// with the settings every connection of Open gets, plus one more.
func dsn(path, key, value string) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "1")
	q.Set(key, value)
	return "file:" + uriPath(path) + "?" + q.Encode()
}

// uriPath turns a file system path into the path part of an SQLite URI
// filename: '%', '?' and '#' escaped, and an absolute path given an empty
// authority so that a leading "//" is not read as one.
func uriPath(path string) string {
	p := filepath.ToSlash(path)
	if filepath.IsAbs(path) {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p // a Windows drive: C:/x becomes /C:/x
		}
		p = "//" + p
	}
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// checkWAL fails unless the database of db is in WAL mode.
func checkWAL(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, not WAL", mode)
	}
	return nil
}
