-- A year of history for the metrics benchmark (bench/metrics.sh): :ORDERS orders from :START_MS to
-- :END_MS, written straight into a migrated database by bulk SQL (the same text runs on SQLite and
-- PostgreSQL). Deterministic: every choice is a function of the order's number `i` (h = a
-- multiplicative hash of it). Proportions, per 100 orders by `h % 100`:
--   0–3 cancelled (half of them short of stock: an open backordered shortage), 4 backordered (an
--   open `backordered` exception), 5–7 accepted (not shipped yet), 8–9 pickup orders made ready
--   and collected (`completed`, shipment carrier `pickup`), 10 partially shipped, the rest shipped.
-- One order in 3 has two lines; one in 12 is split over two locations; lines of backordered orders
-- had nothing to promise; 3 in 100 shipped orders have a return (1 in 10 of those rejected, the
-- others refunded 10 days later); 1 in 200 has a complaint, 2 in 100 an `address_invalid`
-- exception resolved an hour later; 100,000 stock levels acknowledged by the channels. Every
-- order has its timeline events (received, then shipped / cancelled / ready and picked up).
-- :START_MS, :END_MS and :ORDERS are replaced by the script.

CREATE TEMP TABLE seed AS
WITH RECURSIVE n(i) AS (SELECT CAST(0 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :ORDERS)
SELECT i,
       (i * 2654435761) % 1000003 AS h,
       CAST(:START_MS AS BIGINT) + i * ((CAST(:END_MS AS BIGINT) - :START_MS) / :ORDERS) AS at
FROM n;

CREATE TEMP TABLE seed_orders AS
SELECT i, h, at, 'B' || CAST(i AS TEXT) AS id,
       CASE h % 7 WHEN 0 THEN 'web' WHEN 1 THEN 'shopify' WHEN 2 THEN 'amazon' WHEN 3 THEN 'ebay'
                  WHEN 4 THEN 'etsy' WHEN 5 THEN 'pos' ELSE 'wholesale' END AS channel,
       CASE WHEN h % 100 < 4 THEN 'cancelled' WHEN h % 100 = 4 THEN 'backordered'
            WHEN h % 100 < 8 THEN 'accepted' WHEN h % 100 < 10 THEN 'completed'
            WHEN h % 100 = 10 THEN 'partially_shipped' ELSE 'shipped' END AS status,
       CASE WHEN h % 3 = 0 THEN 2 ELSE 1 END AS lines,
       'L' || CAST((h / 7) % 5 AS TEXT) AS loc,
       'L' || CAST(((h / 7) % 5 + 1) % 5 AS TEXT) AS loc2,
       (h / 11) % 12 = 0 AND h % 3 = 0 AS split,
       at + 3600000 + ((h / 13) % 47) * 3600000 AS shipped_at
FROM seed;

INSERT INTO orders (id, channel, external_id, status, currency, total_minor, payment, service_level, pickup_location,
                    ship_to, created_at, updated_at, cancel_reason, cancel_short_units)
SELECT id, channel, CAST(i AS TEXT), status, 'USD', 2500 * lines, 'paid',
       CASE WHEN status = 'completed' THEN 'pickup' ELSE 'standard' END,
       CASE WHEN status = 'completed' THEN loc END, '{}', at, at,
       CASE WHEN status = 'cancelled' THEN CASE WHEN h % 2 = 0 THEN 'customer_request' ELSE 'backordered' END END,
       CASE WHEN status = 'cancelled' THEN CASE WHEN h % 2 = 0 THEN 0 ELSE 1 END END
FROM seed_orders;

INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price, backordered, atp_at_order, filled_at_order)
SELECT id, 1, 'S' || CAST(h % 1000 AS TEXT), 1, 2500,
       CASE WHEN status = 'backordered' THEN 1 ELSE 0 END,
       CASE WHEN status = 'backordered' THEN 0 ELSE 10 END,
       CASE WHEN status = 'backordered' THEN 0 ELSE 1 END
FROM seed_orders;
INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price, backordered, atp_at_order, filled_at_order)
SELECT id, 2, 'S' || CAST((h / 1000) % 1000 AS TEXT), 1, 2500, 0, 10, 1 FROM seed_orders WHERE lines = 2;

INSERT INTO allocations (order_id, line_no, seq, location, quantity, shipped, released)
SELECT id, 1, 1, loc, 1,
       CASE WHEN status IN ('shipped', 'completed', 'partially_shipped') THEN 1 ELSE 0 END,
       CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END
FROM seed_orders WHERE status <> 'backordered';
INSERT INTO allocations (order_id, line_no, seq, location, quantity, shipped, released)
SELECT id, 2, 1, CASE WHEN split THEN loc2 ELSE loc END, 1,
       CASE WHEN status IN ('shipped', 'completed') THEN 1 ELSE 0 END,
       CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END
FROM seed_orders WHERE lines = 2;

INSERT INTO shipments (id, order_id, location, carrier, tracking, lines, created_at)
SELECT 'SH' || id, id, loc, CASE WHEN status = 'completed' THEN 'pickup' ELSE 'ups' END, NULL, '[]', shipped_at
FROM seed_orders WHERE status IN ('shipped', 'completed', 'partially_shipped');
INSERT INTO shipments (id, order_id, location, carrier, tracking, lines, created_at)
SELECT 'SI' || id, id, loc2, 'ups', NULL, '[]', shipped_at + 7200000
FROM seed_orders WHERE split AND status = 'shipped';

INSERT INTO order_events (order_id, at, kind, message) SELECT id, at, 'received', 'Received' FROM seed_orders;
INSERT INTO order_events (order_id, at, kind, message)
SELECT id, shipped_at, CASE status WHEN 'cancelled' THEN 'cancelled' WHEN 'completed' THEN 'ready_for_pickup'
                                  ELSE 'shipped' END, 'Later'
FROM seed_orders WHERE status IN ('shipped', 'completed', 'partially_shipped', 'cancelled');
INSERT INTO order_events (order_id, at, kind, message)
SELECT id, shipped_at + 86400000, 'picked_up', 'Picked up' FROM seed_orders WHERE status = 'completed';

INSERT INTO exceptions (id, order_id, kind, severity, owner_role, status, message, level, sla_ms, created_at)
SELECT 'EB' || id, id, 'backordered', 'warning', 'ops', 'open', 'Short', 0, 86400000, at
FROM seed_orders WHERE status = 'backordered';
INSERT INTO exceptions (id, order_id, kind, severity, owner_role, status, message, level, sla_ms, created_at,
                        resolved_at, resolved_by, resolution)
SELECT 'EA' || id, id, 'address_invalid', 'warning', 'ops', 'resolved', 'Address', 0, 86400000, at,
       at + 3600000, 'ops', 'dismiss'
FROM seed_orders WHERE (h / 17) % 50 = 0;

INSERT INTO returns (id, rma, order_id, status, reason, reason_text, outcome, explanation, decision, currency,
                     subtotal, restocking_fee, shipping_fee, refund, refund_method, shipping_paid_by, refunded,
                     refunded_at, destination, created_by, created_at, updated_at)
SELECT 'R' || id, 'RMA-' || id, id, CASE WHEN (h / 19) % 10 = 0 THEN 'rejected' ELSE 'refunded' END,
       'changed_mind', '', 'approved', '', '{}', 'USD', 2500, 0, 0, 2500, 'original', 'customer',
       CASE WHEN (h / 19) % 10 = 0 THEN NULL ELSE 2500 END,
       CASE WHEN (h / 19) % 10 = 0 THEN NULL ELSE shipped_at + 10 * 86400000 END,
       loc, 'customer', shipped_at + 5 * 86400000, shipped_at + 5 * 86400000
FROM seed_orders WHERE status = 'shipped' AND (h / 23) % 33 = 0;

INSERT INTO complaints (id, order_id, note, created_by, created_at)
SELECT 'C' || id, id, 'late', 'ops', shipped_at + 86400000 FROM seed_orders WHERE (h / 29) % 200 = 0;

INSERT INTO channel_lag (channel, acked_at, lag_ms)
SELECT channel, at + 1000, 500 + (h / 31) % 5000 FROM seed_orders WHERE i % 10 = 0;

DROP TABLE seed_orders;
DROP TABLE seed;
