-- 0001_init: the first schema of turnkit's SQLite store.
--
-- Times are INTEGER Unix nanoseconds in UTC; NULL is the zero time ("not
-- set"). Key hashes and secret values are BLOBs. No column holds an IP
-- address. Rows are never deleted by the store, so rowid order is insertion
-- order and breaks ties between equal creation times.

CREATE TABLE apps (
	id         TEXT    NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	status     TEXT    NOT NULL CHECK (status IN ('active', 'paused', 'deleting')),
	created_at INTEGER
) STRICT;

CREATE TABLE api_keys (
	id         TEXT    NOT NULL PRIMARY KEY,
	app_id     TEXT    NOT NULL REFERENCES apps (id),
	hash       BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
	created_at INTEGER,
	revoked_at INTEGER
) STRICT;

CREATE INDEX api_keys_by_app ON api_keys (app_id, created_at);

CREATE TABLE secrets (
	id         TEXT    NOT NULL PRIMARY KEY,
	value      BLOB    NOT NULL,
	created_at INTEGER,
	not_after  INTEGER
) STRICT;

-- sessions.app_id has no foreign key: the contract lets OpenSession fail
-- only on a duplicate ID.
CREATE TABLE sessions (
	id         TEXT    NOT NULL PRIMARY KEY,
	app_id     TEXT    NOT NULL,
	username   TEXT    NOT NULL,
	relay_id   TEXT    NOT NULL,
	started_at INTEGER,
	ended_at   INTEGER
) STRICT;

CREATE INDEX sessions_active_by_app ON sessions (app_id) WHERE ended_at IS NULL;
