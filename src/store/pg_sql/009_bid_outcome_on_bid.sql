-- The first answer to an accepted bid is kept on the bid's own row, which its group commit
-- writes anyway (appended at the end of its auction's range), instead of one more row in
-- auction_bid_outcomes, whose key (auction, user, clientBidId) sends every insert to a page of
-- its own. auction_bid_outcomes keeps the answers to refused bids (and accepted ones recorded
-- before this migration). Lookups on a key look in both.
ALTER TABLE auction_bids ADD COLUMN client_bid_id TEXT;
ALTER TABLE auction_bids ADD COLUMN outcome TEXT;
