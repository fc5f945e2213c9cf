-- Exceptions about a channel connection rather than an order (stock levels
-- the channel never accepted): `order_id` becomes optional and `channel`
-- names the connection; every exception names one or the other.
ALTER TABLE exceptions ALTER COLUMN order_id DROP NOT NULL;
ALTER TABLE exceptions ADD COLUMN channel TEXT;
ALTER TABLE exceptions ADD CONSTRAINT exceptions_subject CHECK (order_id IS NOT NULL OR channel IS NOT NULL);
CREATE INDEX exceptions_channel ON exceptions (channel, status);
