-- 0005_app_regions: the regions an app may use, as a JSON array; [] is all.

ALTER TABLE apps ADD COLUMN regions TEXT NOT NULL DEFAULT '[]';
