-- The inventory page lists stocked SKUs (not bundles) in byte order of their
-- code, a page at a time after a cursor (keyset pagination), and searches by
-- code prefix (a range of this index) or title (checked as it is walked,
-- hence the title in the index). COLLATE "C": byte order whatever the
-- database's locale, as on SQLite, so a prefix is a range; the queries say
-- the same (`Tx::bytewise`).
CREATE INDEX skus_stocked_by_code ON skus (sku COLLATE "C", title) WHERE is_bundle = FALSE;
