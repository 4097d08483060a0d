-- 0010_listing: indexes for the listing capabilities. Pages of active
-- sessions, of every app or of one, walk the active sessions in ID order
-- and no ended one; usage over a time range reads the usage entries of
-- that range and no others.

CREATE INDEX sessions_active_by_id ON sessions (id) WHERE ended_at IS NULL;
CREATE INDEX sessions_active_by_app_id ON sessions (app_id, id) WHERE ended_at IS NULL;
CREATE INDEX ledger_usage_by_time ON ledger_entries (app_id, at) WHERE kind = 'usage';
