-- What routing rules refer to: SKU tags and backorder permission, location
-- lead time and time zone (its midnight resets daily capacity).
ALTER TABLE skus ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE skus ADD COLUMN allow_backorder BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE locations ADD COLUMN lead_time_days BIGINT NOT NULL DEFAULT 0;
ALTER TABLE locations ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
-- Orders routed to each location per local day (YYYY-MM-DD in the
-- location's time zone), for daily capacity rules.
CREATE TABLE location_day_counts (
    location TEXT NOT NULL,
    day TEXT NOT NULL,
    orders BIGINT NOT NULL,
    PRIMARY KEY (location, day)
);
