-- 0008_exchange_keys: the API key that published each exchange entry, so
-- that namespaces can be bounded per key as well as per app.

ALTER TABLE exchange ADD COLUMN key_id TEXT NOT NULL DEFAULT '';

CREATE INDEX exchange_by_key ON exchange (app_id, key_id, last_at);
