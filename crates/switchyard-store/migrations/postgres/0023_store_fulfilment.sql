-- Fulfilment by store staff (issue 9, item 0). Where one order stands at one
-- location: `picked`, `packed` or `ready_for_pickup` (no row: still to pick),
-- and when it got there (the uncollected-pickup rule counts from it).
CREATE TABLE fulfilment_steps (
    order_id TEXT NOT NULL REFERENCES orders (id),
    location TEXT NOT NULL,
    step TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (order_id, location)
);
CREATE INDEX fulfilment_steps_step ON fulfilment_steps (step, at);

-- A location's pick list starts from the allocations made there.
CREATE INDEX allocations_at_location ON allocations (location, order_id);

-- Where the customer follows the parcel, beside the carrier and tracking.
ALTER TABLE shipments ADD COLUMN tracking_url TEXT;
