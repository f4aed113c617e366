/* The auctions part of the store interface: the event log, the derived rows written in the same
 * transaction, and idempotent bid outcomes (included by store.h). Writes are meant to be batched
 * by the caller inside store_tx_begin/commit (group commit); each function also works alone. */
#ifndef GAVEL_STORE_STORE_AUCTION_H
#define GAVEL_STORE_STORE_AUCTION_H

#include <stddef.h>
#include <stdint.h>

typedef struct store_s store_t;

typedef struct {
    char id[40];
    char league_id[40];
    char status[16]; /* waiting | running | paused | completed */
    int64_t seq;
    uint64_t seed;
    char *config;      /* JSON text; owned (free with store_auction_free_fields) when read */
    char *asset_ids;   /* JSON array text */
    char *manager_ids; /* JSON array text */
    int64_t created_ms;
} store_auction_t;

typedef struct {
    int64_t seq;
    const char *type;
    const char *payload; /* JSON object text */
    int64_t at_ms;
    const char *actor_id; /* NULL: the server */
} store_auction_event_t;

/* Called per row by the list functions; a non-zero return stops the walk and is returned. */
typedef int (*store_event_fn)(void *ctx, const store_auction_event_t *ev);
typedef int (*store_auction_fn)(void *ctx, const store_auction_t *a);

typedef struct {
    int64_t seq;
    int lot;
    const char *user_id;
    int64_t amount;
    int64_t at_ms;
} store_bid_row_t;
typedef int (*store_bid_fn)(void *ctx, const store_bid_row_t *b);

/* store_auction_free_fields frees the JSON texts of a store_auction_t read by this store. */
void store_auction_free_fields(store_auction_t *a);

/* store_auction_create inserts a (status, seq, seed, texts, created_ms). GV_ECONFLICT when the
 * league already has an auction; 0 or GV_EDB*. Also sets the league's status to 'auction'. */
int store_auction_create(store_t *s, const store_auction_t *a);

/* store_auction_get / store_auction_by_league read an auction (texts allocated: free them).
 * 0, GV_ENOT_FOUND or GV_EDB*. */
int store_auction_get(store_t *s, const char *id, store_auction_t *out);
int store_auction_by_league(store_t *s, const char *league_id, store_auction_t *out);

/* store_auctions_each calls fn for every auction (all = 1) or every one not completed (all = 0);
 * the row's texts are only valid during the call. 0, fn's result or GV_EDB*. */
int store_auctions_each(store_t *s, int all, store_auction_fn fn, void *ctx);

/* store_auction_update writes status and seq (and the league's status: 'season' when completed,
 * 'auction' otherwise) at now_ms. 0, GV_ENOT_FOUND or GV_EDB*. */
int store_auction_update(store_t *s, const char *id, const char *status, int64_t seq,
                         int64_t now_ms);

/* store_auction_delete removes an auction with its log and derived rows and sets the league back
 * to 'setup'. 0, GV_ENOT_FOUND or GV_EDB*. */
int store_auction_delete(store_t *s, const char *id);

/* store_auction_event_append appends one event. GV_ECONFLICT when (auction, seq) exists. */
int store_auction_event_append(store_t *s, const char *auction_id, const store_auction_event_t *ev);

/* store_auction_events_each calls fn for events with seq > after_seq in order, at most limit
 * (0: no limit). 0, fn's result or GV_EDB*. */
int store_auction_events_each(store_t *s, const char *auction_id, int64_t after_seq, int limit,
                              store_event_fn fn, void *ctx);

/* store_auction_bid_insert records an accepted bid in epoch (resets so far). */
int store_auction_bid_insert(store_t *s, const char *auction_id, int epoch,
                             const store_bid_row_t *b);

/* store_auction_bids_each calls fn for the accepted bids of epoch, of one lot (lot > 0) or all,
 * in seq order. */
int store_auction_bids_each(store_t *s, const char *auction_id, int epoch, int lot, store_bid_fn fn,
                            void *ctx);

/* store_auction_lot_closed records a closed lot (result sold/unsold; winner NULL and price 0
 * when unsold); store_auction_lot_undone marks it 'undone'. */
int store_auction_lot_closed(store_t *s, const char *auction_id, int epoch, int lot,
                             const char *asset_id, const char *result, const char *winner_id,
                             int64_t price, int64_t at_ms);
int store_auction_lot_undone(store_t *s, const char *auction_id, int epoch, int lot);

typedef struct {
    const char *asset_id;
    const char *user_id;
    int64_t price;
    int lot;
    const char *name; /* the asset's name ("" if the asset is gone) */
} store_roster_row_t;
typedef int (*store_roster_fn)(void *ctx, const store_roster_row_t *r);

/* store_auction_roster_set records that user_id bought asset_id (price, lot) in the auction, or
 * with user_id NULL that the asset is no longer owned (an undone sale). 0 or GV_EDB*. */
int store_auction_roster_set(store_t *s, const char *auction_id, const char *asset_id,
                             const char *user_id, int64_t price, int lot);

/* store_auction_roster_clear forgets every owner of the auction (a reset). */
int store_auction_roster_clear(store_t *s, const char *auction_id);

/* store_auction_rosters_each calls fn for every owned asset of the auction, by user then lot. */
int store_auction_rosters_each(store_t *s, const char *auction_id, store_roster_fn fn, void *ctx);

/* store_league_rosters_each is store_auction_rosters_each for the auction of league_id (no call
 * when it has none): the committed rosters that Member.roster and budgetRemaining show. */
int store_league_rosters_each(store_t *s, const char *league_id, store_roster_fn fn, void *ctx);

/* store_bid_outcome_get copies the first outcome of (auction, user, client_bid_id) into out
 * (size n). 0, GV_ENOT_FOUND, GV_ELIMIT (too long for out) or GV_EDB*. store_bid_outcome_put
 * records it (a second put of the same key keeps the first). */
int store_bid_outcome_get(store_t *s, const char *auction_id, const char *user_id,
                          const char *client_bid_id, char *out, size_t n);
int store_bid_outcome_put(store_t *s, const char *auction_id, const char *user_id,
                          const char *client_bid_id, const char *outcome);

/* store_bid_outcome_on_bid records the first outcome of the accepted bid at seq of the auction,
 * by user_id, on that bid's row (written before in the same transaction): no row of its own.
 * store_bid_outcome_get and store_bid_outcome_keys_each find it like the others. 0,
 * GV_ENOT_FOUND (no such bid of that user without an outcome yet), GV_EINVALID_REQUEST or
 * GV_EDB*. */
int store_bid_outcome_on_bid(store_t *s, const char *auction_id, int64_t seq, const char *user_id,
                             const char *client_bid_id, const char *outcome);

/* Called with the key of each recorded outcome; nonzero stops the walk and is returned. */
typedef int (*store_outcome_key_fn)(void *ctx, const char *user_id, const char *client_bid_id);

/* store_bid_outcome_keys_each calls fn for the (user, client_bid_id) of every recorded outcome of
 * the auction, in no particular order. 0, fn's nonzero or GV_EDB*. */
int store_bid_outcome_keys_each(store_t *s, const char *auction_id, store_outcome_key_fn fn,
                                void *ctx);

#endif
