-- Issue 7. An allocation row per routing of a line at a location: a line
-- re-routed back to where it was released showed one merged row ("quantity
-- 4, released 2"). `seq` numbers an order line's allocations in the order
-- they were made; existing rows are numbered in location order.
ALTER TABLE allocations ADD COLUMN seq BIGINT;
UPDATE allocations a SET seq = n.seq
FROM (SELECT order_id, line_no, location,
             ROW_NUMBER() OVER (PARTITION BY order_id, line_no ORDER BY location) AS seq
      FROM allocations) n
WHERE a.order_id = n.order_id AND a.line_no = n.line_no AND a.location = n.location;
ALTER TABLE allocations ALTER COLUMN seq SET NOT NULL;
ALTER TABLE allocations DROP CONSTRAINT allocations_pkey;
ALTER TABLE allocations ADD PRIMARY KEY (order_id, line_no, seq);
CREATE INDEX allocations_location ON allocations (order_id, location);

-- The payment state the first delivery of an order said, so that a repeat
-- delivery is compared with it (the current `payment` changes when paid).
-- NULL for orders taken before: their repeats are not compared on payment.
ALTER TABLE orders ADD COLUMN received_payment TEXT;
