-- Held orders the routing policy cancels automatically after a while.
ALTER TABLE orders ADD COLUMN auto_cancel_at INTEGER;
CREATE INDEX orders_auto_cancel ON orders (auto_cancel_at) WHERE auto_cancel_at IS NOT NULL;
