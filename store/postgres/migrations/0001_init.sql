-- 0001_init: apps, API keys, relay secrets and sessions.
--
-- Times are timestamptz (microseconds; the store's contract asks for
-- milliseconds); NULL is the zero time ("not set"). Key hashes and secret
-- values are bytea. No column holds an IP address. seq columns record
-- insertion order and break ties between equal times.

CREATE TABLE apps (
	id         text        NOT NULL PRIMARY KEY,
	seq        bigint      GENERATED ALWAYS AS IDENTITY,
	name       text        NOT NULL,
	status     text        NOT NULL CHECK (status IN ('active', 'paused', 'deleting')),
	created_at timestamptz,
	regions    text[]      NOT NULL DEFAULT '{}'
);

CREATE TABLE api_keys (
	id         text        NOT NULL PRIMARY KEY,
	seq        bigint      GENERATED ALWAYS AS IDENTITY,
	app_id     text        NOT NULL REFERENCES apps (id),
	hash       bytea       NOT NULL UNIQUE CHECK (octet_length(hash) = 32),
	created_at timestamptz,
	revoked_at timestamptz
);

CREATE INDEX api_keys_by_app ON api_keys (app_id, created_at, seq);

CREATE TABLE secrets (
	id         text        NOT NULL PRIMARY KEY,
	seq        bigint      GENERATED ALWAYS AS IDENTITY,
	value      bytea       NOT NULL,
	created_at timestamptz,
	not_after  timestamptz
);

-- sessions.app_id has no foreign key: the contract lets OpenSession fail
-- only on a duplicate ID. Byte totals are bigint.
CREATE TABLE sessions (
	id         text        NOT NULL PRIMARY KEY,
	seq        bigint      GENERATED ALWAYS AS IDENTITY,
	app_id     text        NOT NULL,
	username   text        NOT NULL,
	relay_id   text        NOT NULL,
	started_at timestamptz,
	ended_at   timestamptz,
	instance   text        NOT NULL DEFAULT '',
	to_peer    bigint      NOT NULL DEFAULT 0,
	to_client  bigint      NOT NULL DEFAULT 0,
	gateway    text        NOT NULL DEFAULT '',
	key_id     text        NOT NULL DEFAULT '',
	room       text        NOT NULL DEFAULT '',
	initiator  text        NOT NULL DEFAULT '',
	receiver   text        NOT NULL DEFAULT ''
);

CREATE INDEX sessions_active_by_app ON sessions (app_id) WHERE ended_at IS NULL;
CREATE INDEX sessions_active_by_relay ON sessions (relay_id) WHERE ended_at IS NULL;
CREATE INDEX sessions_active_by_gateway ON sessions (app_id, gateway, started_at DESC, seq DESC)
	WHERE ended_at IS NULL AND gateway <> '';
CREATE INDEX sessions_ended_by_app ON sessions (app_id) WHERE ended_at IS NOT NULL;
