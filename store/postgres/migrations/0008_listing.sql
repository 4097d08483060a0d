-- 0008_listing: indexes for the listing capabilities. Pages of apps and of
-- active sessions are in byte order (COLLATE "C"), whatever the
-- database's collation; usage over a time range reads the usage entries of
-- that range and no others.

CREATE INDEX apps_by_id_bytes ON apps (id COLLATE "C");
CREATE INDEX sessions_active_by_id_bytes ON sessions (id COLLATE "C") WHERE ended_at IS NULL;
CREATE INDEX sessions_active_by_app_id_bytes ON sessions (app_id, id COLLATE "C") WHERE ended_at IS NULL;
CREATE INDEX ledger_usage_by_time ON ledger_entries (app_id, at) WHERE kind = 'usage';
