-- Who owns what in each auction, derived from the log in the same transaction as its events
-- (a sale adds a row, an undone sale removes it, a reset clears them). Budgets follow:
-- the league's budget minus the prices of a manager's rows.
CREATE TABLE auction_rosters (
    auction_id TEXT NOT NULL REFERENCES auctions(id) ON DELETE CASCADE,
    asset_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    price      BIGINT NOT NULL,
    lot        BIGINT NOT NULL,
    PRIMARY KEY (auction_id, asset_id)
);
