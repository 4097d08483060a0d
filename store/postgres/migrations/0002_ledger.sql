-- 0002_ledger: balances, the append-only journal and the record of applied
-- usage deltas. Amounts are bigint bytes. A balance row is locked (SELECT …
-- FOR UPDATE) by every change to it, so the changes of one app run one at a
-- time and their journal IDs increase in commit order.

CREATE TABLE balances (
	app_id        text        NOT NULL PRIMARY KEY,
	subscription  bigint      NOT NULL DEFAULT 0,
	payg          bigint      NOT NULL DEFAULT 0,
	allowance     bigint      NOT NULL DEFAULT 0,
	period_start  timestamptz,
	low_threshold bigint      NOT NULL DEFAULT 0,
	low_notified  boolean     NOT NULL DEFAULT false
);

-- A change is applied once per (app_id, ref).
CREATE TABLE ledger_entries (
	id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	app_id       text        NOT NULL,
	at           timestamptz,
	kind         text        NOT NULL,
	ref          text        NOT NULL,
	subscription bigint      NOT NULL,
	payg         bigint      NOT NULL,
	UNIQUE (app_id, ref)
);

CREATE INDEX ledger_entries_by_app ON ledger_entries (app_id, id);

-- A usage delta is charged once per (session_id, seq). seq holds the
-- uint64 sequence number's bits.
CREATE TABLE usage_applied (
	session_id text        NOT NULL,
	seq        bigint      NOT NULL,
	app_id     text        NOT NULL,
	at         timestamptz,
	PRIMARY KEY (session_id, seq)
);
