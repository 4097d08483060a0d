-- 0003_relays: the registry of the fleet's relays. No column holds a
-- client address; relay addresses appear only in urls.

CREATE TABLE relays (
	id          text             NOT NULL PRIMARY KEY,
	region      text             NOT NULL,
	lat         double precision,
	lon         double precision,
	urls        text[]           NOT NULL,
	capacity    bigint           NOT NULL,
	instance    text             NOT NULL,
	allocations bigint           NOT NULL,
	bitrate     bigint           NOT NULL,
	reported_at timestamptz,
	draining    boolean          NOT NULL DEFAULT false
);
