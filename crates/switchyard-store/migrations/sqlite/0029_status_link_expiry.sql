-- Status-page links open their page for a year (STATUS_LINK_TTL_MS in the
-- engine); the sweeper deletes older ones, oldest first, through this index.
CREATE INDEX status_links_created ON status_links (created_at);
