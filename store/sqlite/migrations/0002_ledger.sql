-- 0002_ledger: metering and billing. Sessions get their relay instance and
-- byte totals; balances, the append-only ledger journal and the record of
-- applied usage deltas are added. Amounts are INTEGER bytes.

ALTER TABLE sessions ADD COLUMN instance  TEXT    NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN to_peer   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN to_client INTEGER NOT NULL DEFAULT 0;

CREATE INDEX sessions_active_by_relay ON sessions (relay_id) WHERE ended_at IS NULL;

CREATE TABLE balances (
	app_id        TEXT    NOT NULL PRIMARY KEY,
	subscription  INTEGER NOT NULL,
	payg          INTEGER NOT NULL,
	allowance     INTEGER NOT NULL,
	period_start  INTEGER,
	low_threshold INTEGER NOT NULL,
	low_notified  INTEGER NOT NULL
) STRICT;

CREATE TABLE ledger_entries (
	id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	app_id       TEXT    NOT NULL,
	at           INTEGER,
	kind         TEXT    NOT NULL,
	ref          TEXT    NOT NULL,
	subscription INTEGER NOT NULL,
	payg         INTEGER NOT NULL,
	UNIQUE (app_id, ref)
) STRICT;

CREATE TABLE usage_applied (
	session_id TEXT    NOT NULL,
	seq        INTEGER NOT NULL,
	app_id     TEXT    NOT NULL,
	at         INTEGER,
	PRIMARY KEY (session_id, seq)
) STRICT;
