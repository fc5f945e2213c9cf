-- Metrics (issue 10) are computed from what is recorded, so intake and
-- cancellation now record the facts they are computed from.
--
-- Per order line, at intake: the SKU's available-to-promise over every
-- location just before the order reserved anything (`atp_at_order`; 0 is a
-- stockout) and the units allocated by that first routing
-- (`filled_at_order`). NULL for lines taken before this migration (and
-- `atp_at_order` for lines naming a SKU we did not know): metrics leave them
-- out of the fill and stockout rates.
ALTER TABLE order_lines ADD COLUMN atp_at_order INTEGER;
ALTER TABLE order_lines ADD COLUMN filled_at_order INTEGER;

-- Per cancelled order: why (the reason given, or the system's code) and the
-- units it was short of stock when cancelled (an open backordered shortage:
-- an oversell cancellation when above 0). Older cancellations keep a NULL
-- reason ("unrecorded"); their shortage is read from the exceptions the
-- cancellation closed.
ALTER TABLE orders ADD COLUMN cancel_reason TEXT;
ALTER TABLE orders ADD COLUMN cancel_short_units INTEGER;
UPDATE orders SET cancel_short_units = CASE
    WHEN EXISTS (SELECT 1 FROM exceptions e WHERE e.order_id = orders.id AND e.kind = 'backordered'
                 AND e.resolution = 'cancel')
    THEN (SELECT COALESCE(SUM(l.backordered), 0) FROM order_lines l WHERE l.order_id = orders.id)
    ELSE 0 END
WHERE status = 'cancelled';

-- A customer's complaint recorded against an order (the complaint volume).
CREATE TABLE complaints (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    note TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX complaints_order ON complaints (order_id);
CREATE INDEX complaints_created ON complaints (created_at);

-- Metrics select by time range (and channel) before anything else.
CREATE INDEX orders_created ON orders (created_at);
CREATE INDEX orders_channel_created ON orders (channel, created_at);
CREATE INDEX exceptions_created ON exceptions (created_at);
CREATE INDEX exceptions_resolved ON exceptions (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX channel_lag_acked ON channel_lag (acked_at);
