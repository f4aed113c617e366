-- Sign-in codes: a magic link also carries a short code (8 symbols) for the phone whose mail app
-- opens links in another browser. Stored only as its SHA-256, in the same row as the link's token,
-- so that using either one uses both (one compare-and-set on the row).
ALTER TABLE magic_links ADD COLUMN code_hash BYTEA CHECK (code_hash IS NULL OR octet_length(code_hash) = 32);
CREATE INDEX magic_links_code ON magic_links(code_hash);
