-- 0009_static_credentials: persistent TURN credentials (Metered's
-- labelled credentials). The password is kept as is, since the relay derives
-- the long-term key from it; the front-end API key only as its SHA-256.
-- Unlike the other tables, rows are deleted: a deleted credential is gone.

CREATE TABLE static_credentials (
	username     TEXT    NOT NULL PRIMARY KEY,
	password     TEXT    NOT NULL,
	label        TEXT    NOT NULL,
	app_id       TEXT    NOT NULL REFERENCES apps (id),
	api_key_hash BLOB    NOT NULL UNIQUE CHECK (length(api_key_hash) = 32),
	created_at   INTEGER,
	expires_at   INTEGER
) STRICT;

CREATE INDEX static_credentials_by_app ON static_credentials (app_id, created_at, username);
CREATE INDEX static_credentials_by_label ON static_credentials (app_id, label);
