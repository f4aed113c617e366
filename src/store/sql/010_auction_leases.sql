-- Per-auction leases, for several server nodes on one database: the node that runs an auction
-- (NULL: none), a fencing epoch that every take raises (the auction's writes name the epoch they
-- were made under, so a node that lost the lease cannot write) and when the lease ends, in
-- milliseconds since 1970 of the database's own clock (never a node's: their clocks may differ).
ALTER TABLE auctions ADD COLUMN owner_node TEXT;
ALTER TABLE auctions ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE auctions ADD COLUMN lease_until_ms INTEGER NOT NULL DEFAULT 0;
-- A node's renewal finds its own leases without reading every auction.
CREATE INDEX auctions_by_owner ON auctions(owner_node);
