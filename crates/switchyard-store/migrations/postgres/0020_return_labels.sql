-- Return labels (issue 9): who issued a return's label and its tracking
-- number (a carrier's, or one given when the parcel is handed over), when;
-- and the postage-paid label PDF an outside carrier sent back, kept apart
-- from the returns row (it can be tens of kilobytes; lists never read it).
-- The self-printed label is not stored: it is drawn from the return on
-- each request.
ALTER TABLE returns ADD COLUMN carrier TEXT;
ALTER TABLE returns ADD COLUMN tracking TEXT;
ALTER TABLE returns ADD COLUMN label_issued_at BIGINT;

CREATE TABLE return_label_files (
    return_id TEXT PRIMARY KEY REFERENCES returns (id),
    content_type TEXT NOT NULL,
    -- The file, base64 (both backends store it as text).
    body_base64 TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
