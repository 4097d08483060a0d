-- 0007_attribution: sessions record the API key that minted their
-- credential and the request's metadata (room and client names, never an
-- address); credential_metadata holds that metadata from issuance until the
-- session opens, and is swept once the credential expired.

ALTER TABLE sessions ADD COLUMN key_id    TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN room      TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN initiator TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN receiver  TEXT NOT NULL DEFAULT '';

CREATE TABLE credential_metadata (
	username   TEXT    NOT NULL PRIMARY KEY,
	room       TEXT    NOT NULL,
	initiator  TEXT    NOT NULL,
	receiver   TEXT    NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX credential_metadata_by_expiry ON credential_metadata (expires_at);
