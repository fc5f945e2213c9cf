-- Exchanges (issue 9): the replacement order an exchange return created
-- when it was authorized (reserved at once, held unpaid until the returned
-- units are received; cancelled with the return).
ALTER TABLE returns ADD COLUMN replacement_order_id TEXT;
