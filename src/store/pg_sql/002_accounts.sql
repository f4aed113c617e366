-- Accounts: users, single-use sign-in links and rotating refresh tokens. Tokens are stored only
-- as their SHA-256 (32 bytes); times are Unix epoch milliseconds from the server's clock.
CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    email      TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    is_admin   BIGINT NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    created_ms BIGINT NOT NULL
);

CREATE TABLE magic_links (
    hash       BYTEA PRIMARY KEY CHECK (octet_length(hash) = 32),
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_ms BIGINT NOT NULL,
    ip         TEXT NOT NULL,
    used       BIGINT NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),
    created_ms BIGINT NOT NULL,
    used_ms    BIGINT
);
CREATE INDEX magic_links_expires ON magic_links(expires_ms);
-- Child keys of a foreign key are indexed so deleting a user does not scan the whole table.
CREATE INDEX magic_links_user ON magic_links(user_id);

CREATE TABLE refresh_tokens (
    hash       BYTEA PRIMARY KEY CHECK (octet_length(hash) = 32),
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id  TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    rotated_ms BIGINT,
    revoked_ms BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);
