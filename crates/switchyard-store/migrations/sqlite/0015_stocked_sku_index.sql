-- The inventory page lists stocked SKUs (not bundles) in byte order of their
-- code, a page at a time after a cursor (keyset pagination), and searches by
-- code prefix (a range of this index) or title (checked as it is walked,
-- hence the title in the index: no table lookups). SQLite compares text
-- byte by byte already.
CREATE INDEX skus_stocked_by_code ON skus (sku, title) WHERE is_bundle = FALSE;
