package pgtest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Creating a database copies template1 and dropping one deletes its files,
// which takes a tenth of a second or more each. A Server therefore keeps
// spares databases created ahead, and drops in the background, so that a
// test waits for neither.
const (
	spares      = 2
	dbopTimeout = time.Minute
)

// databases makes and drops the databases of a Server.
type databases struct {
	bg sync.WaitGroup // creations and drops in the background

	mu      sync.Mutex // guards the following fields
	admin   *pgxpool.Pool
	next    int      // number of the next database
	ready   []string // spares created, not handed out yet
	pending int      // spares being created
	closed  bool
	errs    []error // of background drops
}

// CreateDatabase returns the name of a new, empty database that no one
// used before: a spare created ahead if there is one. Names are
// turnkit_1, turnkit_2, …
func (s *Server) CreateDatabase(ctx context.Context) (string, error) {
	d := &s.dbs
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return "", errors.New("pgtest: create database: server stopped")
	}
	var name string
	if n := len(d.ready); n > 0 {
		name, d.ready = d.ready[n-1], d.ready[:n-1]
	}
	for len(d.ready)+d.pending < spares {
		d.pending++
		d.bg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), dbopTimeout)
			defer cancel()
			spare, err := s.create(ctx)
			d.mu.Lock()
			defer d.mu.Unlock()
			d.pending--
			if err == nil { // else the next caller creates one itself, and sees the error
				d.ready = append(d.ready, spare)
			}
		})
	}
	d.mu.Unlock()
	if name != "" {
		return name, nil
	}
	return s.create(ctx)
}

// DropDatabase drops the named database in the background, ending its
// connections first. Stop waits for it and reports its failure.
func (s *Server) DropDatabase(name string) {
	d := &s.dbs
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return // the cluster goes with the server
	}
	d.bg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), dbopTimeout)
		defer cancel()
		err := s.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		if err != nil {
			d.mu.Lock()
			d.errs = append(d.errs, fmt.Errorf("pgtest: drop database %s: %w", name, err))
			d.mu.Unlock()
		}
	})
}

// create creates a database.
func (s *Server) create(ctx context.Context) (string, error) {
	d := &s.dbs
	d.mu.Lock()
	d.next++
	name := "turnkit_" + strconv.Itoa(d.next)
	d.mu.Unlock()
	if err := s.exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return name, nil
}

// exec runs a statement on the "postgres" database.
func (s *Server) exec(ctx context.Context, sql string) error {
	d := &s.dbs
	d.mu.Lock()
	if d.admin == nil {
		pool, err := pgxpool.New(context.Background(), s.DSN("postgres")+"&pool_max_conns=4")
		if err != nil {
			d.mu.Unlock()
			return err
		}
		d.admin = pool
	}
	admin := d.admin
	d.mu.Unlock()
	_, err := admin.Exec(ctx, sql)
	return err
}

// close waits for the background work, closes the connections to the
// server and returns the errors of background drops.
func (d *databases) close() error {
	d.mu.Lock()
	d.closed = true // no new spares
	d.mu.Unlock()
	d.bg.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.admin != nil {
		d.admin.Close()
		d.admin = nil
	}
	return errors.Join(d.errs...)
}
