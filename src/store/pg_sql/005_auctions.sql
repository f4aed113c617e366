-- Auctions: the durable event log (the truth) and rows derived from it in the same transaction
-- (the auction's current status, accepted bids, closed lots) plus the first outcome of every
-- clientBidId (idempotent bids).
CREATE TABLE auctions (
    id         TEXT PRIMARY KEY,
    league_id  TEXT NOT NULL UNIQUE REFERENCES leagues(id) ON DELETE CASCADE,
    status     TEXT NOT NULL CHECK (status IN ('waiting', 'running', 'paused', 'completed')),
    seq        BIGINT NOT NULL,
    seed       BIGINT NOT NULL,
    config     TEXT NOT NULL, -- JSON: the engine configuration
    asset_ids  TEXT NOT NULL, -- JSON array: the selection at creation, in order
    manager_ids TEXT NOT NULL, -- JSON array: manager index -> user id
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE TABLE auction_events (
    auction_id TEXT NOT NULL REFERENCES auctions(id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    type       TEXT NOT NULL,
    payload    TEXT NOT NULL, -- JSON: the event object of API.md
    at_ms      BIGINT NOT NULL,
    actor_id   TEXT,          -- the acting user; NULL for the server's clock
    PRIMARY KEY (auction_id, seq)
);

CREATE TABLE auction_bids (
    auction_id TEXT NOT NULL REFERENCES auctions(id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    epoch      BIGINT NOT NULL, -- resets so far: a reset starts a new epoch
    lot        BIGINT NOT NULL,
    user_id    TEXT NOT NULL,
    amount     BIGINT NOT NULL,
    at_ms      BIGINT NOT NULL,
    PRIMARY KEY (auction_id, seq)
);
-- The bids of one lot (bid history, a lot's leader) are one index range, already in seq order.
CREATE INDEX auction_bids_by_lot ON auction_bids(auction_id, epoch, lot, seq);

CREATE TABLE auction_lots (
    auction_id TEXT NOT NULL REFERENCES auctions(id) ON DELETE CASCADE,
    epoch      BIGINT NOT NULL,
    lot        BIGINT NOT NULL,
    asset_id   TEXT NOT NULL,
    result     TEXT NOT NULL CHECK (result IN ('sold', 'unsold', 'undone')),
    winner_id  TEXT,
    price      BIGINT,
    closed_ms  BIGINT NOT NULL,
    PRIMARY KEY (auction_id, epoch, lot)
);

CREATE TABLE auction_bid_outcomes (
    auction_id    TEXT NOT NULL REFERENCES auctions(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL,
    client_bid_id TEXT NOT NULL,
    outcome       TEXT NOT NULL, -- JSON: the first answer given
    PRIMARY KEY (auction_id, user_id, client_bid_id)
);
