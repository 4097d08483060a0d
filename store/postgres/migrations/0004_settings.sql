-- 0004_settings: named values the deployment shares, such as the key
-- gateway IDs are signed with.

CREATE TABLE settings (
	name  text  NOT NULL PRIMARY KEY,
	value bytea NOT NULL
);
