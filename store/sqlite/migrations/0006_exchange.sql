-- 0006_exchange: exchange namespaces shared by many issuers. Rows hold the
-- transport addresses clients publish and are deleted 10 minutes (by
-- default) after their last publication.

CREATE TABLE exchange (
	app_id    TEXT    NOT NULL,
	namespace TEXT    NOT NULL,
	addr      TEXT    NOT NULL,
	first_at  INTEGER NOT NULL,
	last_at   INTEGER NOT NULL,
	PRIMARY KEY (app_id, namespace, addr)
) STRICT;

CREATE INDEX exchange_by_last ON exchange (last_at);
