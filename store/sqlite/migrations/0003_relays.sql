-- 0003_relays: the registry of the fleet's relays. URLs are a JSON array.
-- No column holds a client address; relay addresses appear only in URLs.

CREATE TABLE relays (
	id           TEXT    NOT NULL PRIMARY KEY,
	region       TEXT    NOT NULL,
	lat          REAL,
	lon          REAL,
	urls         TEXT    NOT NULL,
	capacity     INTEGER NOT NULL,
	instance     TEXT    NOT NULL,
	allocations  INTEGER NOT NULL,
	bitrate      INTEGER NOT NULL,
	reported_at  INTEGER,
	draining     INTEGER NOT NULL DEFAULT 0
) STRICT;
