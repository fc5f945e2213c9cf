-- Returns pages (issue 9, items 3, 5, 8): a customer finds their order by
-- the number printed on their confirmation (the channel's external id, on
-- any channel), so the public self-service page looks it up by an index,
-- never a scan; the return data reads returns by when they were requested
-- and when they were refunded.
CREATE INDEX orders_external_id ON orders (external_id);
CREATE INDEX returns_created ON returns (created_at);
CREATE INDEX returns_refunded ON returns (refunded_at);
