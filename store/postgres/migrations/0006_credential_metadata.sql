-- 0006_credential_metadata: what credential requests said of their
-- sessions, kept by TURN username until the credential expires. Never an
-- address.

CREATE TABLE credential_metadata (
	username  text        NOT NULL PRIMARY KEY,
	room      text        NOT NULL,
	initiator text        NOT NULL,
	receiver  text        NOT NULL,
	expires   timestamptz NOT NULL
);

CREATE INDEX credential_metadata_by_expiry ON credential_metadata (expires);
