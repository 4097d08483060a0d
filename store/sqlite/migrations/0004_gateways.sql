-- 0004_gateways: the gateway a session's credential came through (a tag,
-- not the gateway ID), and named settings such as the gateway signing key.

ALTER TABLE sessions ADD COLUMN gateway TEXT NOT NULL DEFAULT '';

CREATE INDEX sessions_active_by_gateway ON sessions (app_id, gateway) WHERE ended_at IS NULL AND gateway != '';

CREATE TABLE settings (
	name  TEXT NOT NULL PRIMARY KEY,
	value BLOB NOT NULL
) STRICT;
