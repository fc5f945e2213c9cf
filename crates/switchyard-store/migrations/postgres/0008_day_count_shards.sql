-- Orders routed per location per local day, split over 16 shards: every
-- order to a location used to update the same row, and on PostgreSQL that
-- row lock serialised every transaction routed there until it committed.
-- An order now adds to one shard (chosen from its id); readers sum them.
CREATE TABLE location_day_shards (
    location TEXT NOT NULL,
    day TEXT NOT NULL,
    shard BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    PRIMARY KEY (location, day, shard)
);
INSERT INTO location_day_shards (location, day, shard, orders) SELECT location, day, 0, orders FROM location_day_counts;
DROP TABLE location_day_counts;
