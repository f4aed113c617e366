/* Internals of the auctions part of the store: the table of operations a backend provides for
 * store_auction.h (store_auction.c dispatches through it). Only src/store and tests include it. */
#ifndef GAVEL_STORE_STORE_AUCTION_INT_H
#define GAVEL_STORE_STORE_AUCTION_INT_H

#include "store/store_int.h"
#include "store/store_league_int.h" /* store_sp_op_t */

#include <stddef.h>
#include <stdint.h>

/* The auctions operations of a backend. Arguments are already checked by store_auction.c (NULLs,
 * lengths, enums). The *_tx functions are the bodies of multi-statement writes: store_auction.c
 * runs them inside a transaction it began or, when the caller has one open (group commit), inside
 * a savepoint of it; they neither begin nor end transactions. Every other write is one statement.
 * A reference to an auction or league that does not exist is GV_ENOT_FOUND, a taken key
 * GV_ECONFLICT. */
struct store_auction_ops_s {

    int (*create_tx)(store_t *s, const store_auction_t *a);
    /* by_league = 0: key is the auction's id; 1: its league's id. */
    int (*get)(store_t *s, const char *key, int by_league, store_auction_t *out);
    /* Reads every matching row first, then calls fn: fn may write to the store. */
    int (*each)(store_t *s, int all, store_auction_fn fn, void *ctx);
    /* fence NULL: any writer; else only while fence->node holds the lease at fence->epoch
     * (GV_EFENCED otherwise; GV_ENOT_FOUND for a missing auction either way). */
    int (*update_tx)(store_t *s, const char *id, const char *status, int64_t seq, int64_t now_ms,
                     const store_fence_t *fence);
    int (*delete_tx)(store_t *s, const char *id);

    int (*event_append)(store_t *s, const char *auction_id, const store_auction_event_t *ev);
    /* limit 0: no limit. */
    int (*events_each)(store_t *s, const char *auction_id, int64_t after_seq, int limit,
                       store_event_fn fn, void *ctx);
    int (*bid_insert)(store_t *s, const char *auction_id, int epoch, const store_bid_row_t *b);
    /* lot 0: every lot of epoch. */
    int (*bids_each)(store_t *s, const char *auction_id, int epoch, int lot, store_bid_fn fn,
                     void *ctx);
    /* winner_id NULL when unsold. GV_ECONFLICT when (epoch, lot) is already recorded. */
    int (*lot_closed)(store_t *s, const char *auction_id, int epoch, int lot, const char *asset_id,
                      const char *result, const char *winner_id, int64_t price, int64_t at_ms);
    int (*lot_undone)(store_t *s, const char *auction_id, int epoch, int lot);
    /* user_id NULL: the asset is no longer owned. */
    int (*roster_set)(store_t *s, const char *auction_id, const char *asset_id, const char *user_id,
                      int64_t price, int lot);
    int (*roster_clear)(store_t *s, const char *auction_id);
    int (*rosters_each)(store_t *s, const char *auction_id, store_roster_fn fn, void *ctx);
    int (*league_rosters_each)(store_t *s, const char *league_id, store_roster_fn fn, void *ctx);
    int (*outcome_get)(store_t *s, const char *auction_id, const char *user_id,
                       const char *client_bid_id, char *out, size_t n);
    int (*outcome_put)(store_t *s, const char *auction_id, const char *user_id,
                       const char *client_bid_id, const char *outcome);
    int (*outcome_on_bid)(store_t *s, const char *auction_id, int64_t seq, const char *user_id,
                          const char *client_bid_id, const char *outcome);
    int (*outcome_keys_each)(store_t *s, const char *auction_id, store_outcome_key_fn fn,
                             void *ctx);
};

#endif
