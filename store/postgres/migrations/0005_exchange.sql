-- 0005_exchange: exchange namespaces shared by many issuers. Rows hold the
-- transport addresses clients publish and are deleted some minutes after
-- their last publication, and the API key that published them, so that
-- namespaces can be bounded per key as well as per app.

CREATE TABLE exchange (
	app_id    text        NOT NULL,
	namespace text        NOT NULL,
	addr      text        NOT NULL,
	seq       bigint      GENERATED ALWAYS AS IDENTITY,
	key_id    text        NOT NULL DEFAULT '',
	first_at  timestamptz NOT NULL,
	last_at   timestamptz NOT NULL,
	PRIMARY KEY (app_id, namespace, addr)
);

CREATE INDEX exchange_by_last ON exchange (last_at);
CREATE INDEX exchange_by_key ON exchange (app_id, key_id, last_at);
