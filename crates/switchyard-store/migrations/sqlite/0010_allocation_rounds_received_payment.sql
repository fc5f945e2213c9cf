-- Issue 7. An allocation row per routing of a line at a location: a line
-- re-routed back to where it was released showed one merged row ("quantity
-- 4, released 2"). `seq` numbers an order line's allocations in the order
-- they were made; existing rows are numbered in location order.
CREATE TABLE allocations_by_round (
    order_id TEXT NOT NULL REFERENCES orders (id),
    line_no INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    location TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    shipped INTEGER NOT NULL,
    released INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_no, seq),
    CHECK (shipped >= 0 AND released >= 0 AND shipped + released <= quantity)
);
INSERT INTO allocations_by_round (order_id, line_no, seq, location, quantity, shipped, released)
SELECT order_id, line_no, ROW_NUMBER() OVER (PARTITION BY order_id, line_no ORDER BY location),
       location, quantity, shipped, released
FROM allocations;
DROP TABLE allocations;
ALTER TABLE allocations_by_round RENAME TO allocations;
CREATE INDEX allocations_location ON allocations (order_id, location);

-- The payment state the first delivery of an order said, so that a repeat
-- delivery is compared with it (the current `payment` changes when paid).
-- NULL for orders taken before: their repeats are not compared on payment.
ALTER TABLE orders ADD COLUMN received_payment TEXT;
