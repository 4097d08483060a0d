-- turnkit schema, version 1. Times are Unix nanoseconds (UTC); 0 means unset.
-- No column holds an IP address.
CREATE TABLE apps (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	status     TEXT NOT NULL CHECK (status IN ('active', 'paused', 'deleting')),
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
	id         TEXT PRIMARY KEY,
	app_id     TEXT NOT NULL REFERENCES apps(id),
	hash       BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
	created_at INTEGER NOT NULL,
	revoked_at INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX api_keys_app ON api_keys(app_id, created_at);

CREATE TABLE relay_secrets (
	id         TEXT PRIMARY KEY,
	value      BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	not_after  INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE sessions (
	id         TEXT PRIMARY KEY,
	app_id     TEXT NOT NULL,
	username   TEXT NOT NULL,
	relay_id   TEXT NOT NULL,
	started_at INTEGER NOT NULL,
	ended_at   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX sessions_active ON sessions(app_id) WHERE ended_at = 0;
