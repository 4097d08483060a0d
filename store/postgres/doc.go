// Package postgres is turnkit's storage backend for fleets: a [store.Store]
// kept in one PostgreSQL database that every issuer and relay of the fleet
// opens, through jackc/pgx/v5 and its pool (no database/sql, no ORM).
//
// [Open] connects with a DSN (a postgres:// URL or keyword/value string;
// pool settings such as pool_max_conns go in it too); [New] uses a
// *pgxpool.Pool that the caller made and closes. The role needs CREATE on
// the schema first on its search_path, where the tables go.
//
// # Schema
//
// The schema is created and upgraded by migrations embedded in the binary
// (migrations/NNNN_name.sql). The table schema_migrations lists those
// applied. Open and New apply the others in one transaction that first
// takes the advisory lock [MigrationLock], so nodes starting at once take
// turns: one applies the migrations, the others find nothing left to do,
// and all of them run. A database migrated by a newer build is refused.
//
// # Values
//
// Times are timestamptz, which keeps microseconds (the contract asks for
// milliseconds); the zero time is stored as NULL and read back as the zero
// time, and times are returned in UTC. Byte counts and balances are bigint,
// key hashes and secret values bytea. No IP address is ever stored.
//
// # Transactions
//
// Every change to a balance is one read-committed transaction that locks
// the balance's row (SELECT … FOR UPDATE), so the changes of one app take
// turns across every node and the journal's IDs increase in commit order.
// Exactly-once is kept by unique keys: a journal reference once per app, a
// usage delta once per (session, seq). Transactions take their locks in one
// order (usage records, sessions, balances, each by key); one that the
// server still aborts on a deadlock or a serialization failure is run
// again, up to ten times, which is why BalanceFunc and UsageFunc may run
// more than once. Publications to an exchange namespace take an advisory
// lock per app, since their limits count rows that no row lock covers.
//
// # Optional capabilities
//
// A Store is a [store.UsageBatcher]: ApplyUsageBatch charges a batch of
// usage deltas in one transaction of five round trips, whatever its size.
// It is a [store.Notifier] too: Publish is pg_notify on the channel
// [Channel] with a JSON payload ({"kind":"key","id":"…"}), and Subscribe
// listens on a connection of its own, reconnecting with backoff when it
// drops and then delivering a ChangeAll. Close ends every subscription and
// waits for it. The listing capabilities ([store.AppLister],
// [store.ActiveSessionLister], [store.HourlyUsageLister]) page in byte
// order (COLLATE "C") whatever the database's collation, and sum usage by
// hour in SQL.
//
// Errors wrap [store.ErrNotFound], [store.ErrExists] and [store.ErrLimit]
// where the contract says so, together with the server's error when there
// is one, and name the record that failed. Once a method's context is done,
// its error wraps the context's error.
package postgres
