-- 0007_static_credentials: persistent TURN credentials (Metered's
-- labelled credentials). The password is kept as is, since the relay derives
-- the long-term key from it; the front-end API key only as its SHA-256.
-- Rows are deleted: a deleted credential is gone.

CREATE TABLE static_credentials (
	username     text        NOT NULL PRIMARY KEY,
	password     text        NOT NULL,
	label        text        NOT NULL,
	app_id       text        NOT NULL REFERENCES apps (id),
	api_key_hash bytea       NOT NULL UNIQUE CHECK (octet_length(api_key_hash) = 32),
	created_at   timestamptz,
	expires_at   timestamptz
);

CREATE INDEX static_credentials_by_app ON static_credentials (app_id, created_at, username);
CREATE INDEX static_credentials_by_label ON static_credentials (app_id, label);
