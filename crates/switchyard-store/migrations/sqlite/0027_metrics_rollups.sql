-- Metrics at scale (issue 10): the counts and samples of each closed UTC day's orders, kept so a
-- year of metrics does not re-read a year of orders. Written by the metrics use case only (never
-- by intake): a day is computed the first time a report needs it once the day is over, and again
-- when its orders got timeline events after `events_seen` (the highest `order_events.id` the
-- computation had certainly seen). What counts is unchanged: a rollup equals the raw computation.
CREATE TABLE metrics_days (
    day BIGINT PRIMARY KEY,
    events_seen BIGINT NOT NULL,
    computed_at BIGINT NOT NULL
);

-- One row per day, channel and location (`''`: every location, each order once; a location: the
-- orders with units allocated there). Samples are comma-separated milliseconds; `cancellations`
-- is a JSON object of reason to count.
CREATE TABLE metrics_rollups (
    day BIGINT NOT NULL,
    channel TEXT NOT NULL,
    location TEXT NOT NULL,
    orders BIGINT NOT NULL,
    orders_measured BIGINT NOT NULL,
    orders_filled BIGINT NOT NULL,
    units_measured BIGINT NOT NULL,
    units_filled BIGINT NOT NULL,
    lines_measured BIGINT NOT NULL,
    lines_stocked_out BIGINT NOT NULL,
    cancelled BIGINT NOT NULL,
    oversell_cancellations BIGINT NOT NULL,
    split BIGINT NOT NULL,
    orders_returned BIGINT NOT NULL,
    cancellations TEXT NOT NULL,
    handling_ms TEXT NOT NULL,
    PRIMARY KEY (day, location, channel)
);

-- The pickup on-time rate reads the pickups made ready in a period; intake never writes this kind
-- of event, so taking an order adds nothing to this index.
CREATE INDEX order_events_ready ON order_events (at) WHERE kind = 'ready_for_pickup';
