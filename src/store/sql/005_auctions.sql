-- Auctions: the durable event log (the truth) and rows derived from it in the same transaction
-- (the auction's current status, accepted bids, closed lots) plus the first outcome of every
-- clientBidId (idempotent bids).
CREATE TABLE auctions (
    id         TEXT PRIMARY KEY,
    league_id  TEXT NOT NULL UNIQUE REFERENCES leagues(id) ON DELETE CASCADE,
    status     TEXT NOT NULL CHECK (status IN ('waiting', 'running', 'paused', 'completed')),
    seq        INTEGER NOT NULL,
    seed       INTEGER NOT NULL,
    config     TEXT NOT NULL, -- JSON: the engine configuration
    asset_ids  TEXT NOT NULL, -- JSON array: the selection at creation, in order
    manager_ids TEXT NOT NULL, -- JSON array: manager index -> user id
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE auction_events (
    auction_id TEXT NOT NULL REFERENCES auctions(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    type       TEXT NOT NULL,
    payload    TEXT NOT NULL, -- JSON: the event object of API.md
    at_ms      INTEGER NOT NULL,
    actor_id   TEXT,          -- the acting user; NULL for the server's clock
    PRIMARY KEY (auction_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE auction_bids (
    auction_id TEXT NOT NULL REFERENCES auctions(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    epoch      INTEGER NOT NULL, -- resets so far: a reset starts a new epoch
    lot        INTEGER NOT NULL,
    user_id    TEXT NOT NULL,
    amount     INTEGER NOT NULL,
    at_ms      INTEGER NOT NULL,
    PRIMARY KEY (auction_id, seq)
) STRICT, WITHOUT ROWID;
-- The bids of one lot (bid history, a lot's leader) are one index range, already in seq order.
CREATE INDEX auction_bids_by_lot ON auction_bids(auction_id, epoch, lot, seq);

CREATE TABLE auction_lots (
    auction_id TEXT NOT NULL REFERENCES auctions(id) ON DELETE CASCADE,
    epoch      INTEGER NOT NULL,
    lot        INTEGER NOT NULL,
    asset_id   TEXT NOT NULL,
    result     TEXT NOT NULL CHECK (result IN ('sold', 'unsold', 'undone')),
    winner_id  TEXT,
    price      INTEGER,
    closed_ms  INTEGER NOT NULL,
    PRIMARY KEY (auction_id, epoch, lot)
) STRICT, WITHOUT ROWID;

CREATE TABLE auction_bid_outcomes (
    auction_id    TEXT NOT NULL REFERENCES auctions(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL,
    client_bid_id TEXT NOT NULL,
    outcome       TEXT NOT NULL, -- JSON: the first answer given
    PRIMARY KEY (auction_id, user_id, client_bid_id)
) STRICT, WITHOUT ROWID;
