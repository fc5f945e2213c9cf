-- Metrics at scale (issue 10), what happened on each closed UTC day: the exceptions opened and
-- closed, complaints, pickups made ready, stock levels acknowledged and refunds of that day, per
-- channel (`''`: records of no channel), kept beside the day's order rollups (0027) and written
-- with them, so a year report reads 365 × channels rows instead of every record. Records are dated
-- when they happen (now), so a closed day's rows never change; only reports that narrow by location
-- still count them from the records. Samples are comma-separated milliseconds.
CREATE TABLE metrics_happenings (
    day BIGINT NOT NULL,
    channel TEXT NOT NULL,
    exceptions_opened BIGINT NOT NULL,
    exceptions_resolved BIGINT NOT NULL,
    complaints BIGINT NOT NULL,
    pickup_leads TEXT NOT NULL,
    sync_lags TEXT NOT NULL,
    refund_turnarounds TEXT NOT NULL,
    PRIMARY KEY (day, channel)
);

-- Rollups made before this table are computed again, with their days' happenings.
DELETE FROM metrics_rollups;
DELETE FROM metrics_days;
