/* The auctions dispatcher: checks arguments, forwards each call of store_auction.h to the
 * backend's auctions operations, and runs the multi-statement writes atomically (their own
 * transaction, or a savepoint of the caller's so that group commit can batch them). */
#include "store/store_auction_int.h"

#include "core/err.h"

#include <stdlib.h>
#include <string.h>

/* The statuses the auctions table accepts; anything else comes from a bug, not a client. */
static int au_status_check(const char *status)
{
    static const char *const known[] = {"waiting", "running", "paused", "completed"};
    for (size_t i = 0; status != NULL && i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(status, known[i]) == 0)
            return 0;
    }
    return GV_EINTERNAL;
}

static int au_auction_check(const store_auction_t *a)
{
    if (a == NULL)
        return GV_EINTERNAL;
    int err = store_key_check(a->id, sizeof(a->id));
    if (err == 0)
        err = store_key_check(a->league_id, sizeof(a->league_id));
    if (err == 0)
        err = au_status_check(a->status);
    if (err == 0 &&
        (a->seq < 0 || a->config == NULL || a->asset_ids == NULL || a->manager_ids == NULL))
        err = GV_EINTERNAL;
    return err;
}

void store_auction_free_fields(store_auction_t *a)
{
    if (a == NULL)
        return;
    free(a->config);
    free(a->asset_ids);
    free(a->manager_ids);
    a->config = NULL;
    a->asset_ids = NULL;
    a->manager_ids = NULL;
}

int store_auction_create(store_t *s, const store_auction_t *a)
{
    int err = au_auction_check(a);
    if (err != 0)
        return err;
    int own = 0;
    err = store_unit_begin(s, &own);
    if (err != 0)
        return err;
    return store_unit_end(s, own, s->auction->create_tx(s, a));
}

/* *out is cleared first, so store_auction_free_fields(out) is safe whatever the result. */
static int au_get(store_t *s, const char *key, int by_league, store_auction_t *out)
{
    if (out == NULL)
        return GV_EINTERNAL;
    memset(out, 0, sizeof(*out));
    int err = store_lookup_check(key, sizeof(out->id));
    return err != 0 ? err : s->auction->get(s, key, by_league, out);
}

int store_auction_get(store_t *s, const char *id, store_auction_t *out)
{
    return au_get(s, id, 0, out);
}

int store_auction_by_league(store_t *s, const char *league_id, store_auction_t *out)
{
    return au_get(s, league_id, 1, out);
}

int store_auctions_each(store_t *s, int all, store_auction_fn fn, void *ctx)
{
    if (fn == NULL)
        return GV_EINTERNAL;
    return s->auction->each(s, all != 0, fn, ctx);
}

/* store_auction_update, under fence when it is not NULL. A fence's node id that cannot be stored
 * holds no lease: GV_EFENCED before the database. */
static int au_update(store_t *s, const char *id, const char *status, int64_t seq, int64_t now_ms,
                     const store_fence_t *fence)
{
    int err = au_status_check(status);
    if (err == 0 && (seq < 0 || (fence != NULL && fence->node == NULL)))
        err = GV_EINTERNAL;
    if (err == 0)
        err = store_lookup_check(id, STORE_ID_MAX);
    if (err == 0 && fence != NULL && store_lookup_check(fence->node, STORE_NODE_MAX) != 0)
        err = GV_EFENCED;
    if (err != 0)
        return err;
    int own = 0;
    err = store_unit_begin(s, &own);
    if (err != 0)
        return err;
    return store_unit_end(s, own, s->auction->update_tx(s, id, status, seq, now_ms, fence));
}

int store_auction_update(store_t *s, const char *id, const char *status, int64_t seq,
                         int64_t now_ms)
{
    return au_update(s, id, status, seq, now_ms, NULL);
}

int store_auction_update_fenced(store_t *s, const char *id, const char *status, int64_t seq,
                                int64_t now_ms, const store_fence_t *fence)
{
    return au_update(s, id, status, seq, now_ms, fence);
}

int store_auction_delete(store_t *s, const char *id)
{
    int err = store_lookup_check(id, STORE_ID_MAX);
    if (err != 0)
        return err;
    int own = 0;
    err = store_unit_begin(s, &own);
    if (err != 0)
        return err;
    return store_unit_end(s, own, s->auction->delete_tx(s, id));
}

/* ---- the event log and the derived rows ---------------------------------------------------- */

int store_auction_event_append(store_t *s, const char *auction_id, const store_auction_event_t *ev)
{
    if (ev == NULL || ev->seq < 1 || ev->type == NULL || ev->type[0] == '\0' || ev->payload == NULL)
        return GV_EINTERNAL;
    int err = store_lookup_check(auction_id, STORE_ID_MAX);
    if (err == 0 && ev->actor_id != NULL)
        err = store_key_check(ev->actor_id, STORE_ID_MAX);
    return err != 0 ? err : s->auction->event_append(s, auction_id, ev);
}

int store_auction_events_each(store_t *s, const char *auction_id, int64_t after_seq, int limit,
                              store_event_fn fn, void *ctx)
{
    if (auction_id == NULL || fn == NULL)
        return GV_EINTERNAL;
    if (limit < 0)
        return GV_EINVALID_REQUEST;
    return s->auction->events_each(s, auction_id, after_seq, limit, fn, ctx);
}

int store_auction_bid_insert(store_t *s, const char *auction_id, int epoch,
                             const store_bid_row_t *b)
{
    if (b == NULL || epoch < 0 || b->seq < 1 || b->lot < 1 || b->amount < 0)
        return GV_EINTERNAL;
    int err = store_lookup_check(auction_id, STORE_ID_MAX);
    if (err == 0)
        err = store_key_check(b->user_id, STORE_ID_MAX);
    return err != 0 ? err : s->auction->bid_insert(s, auction_id, epoch, b);
}

int store_auction_bids_each(store_t *s, const char *auction_id, int epoch, int lot, store_bid_fn fn,
                            void *ctx)
{
    if (auction_id == NULL || fn == NULL)
        return GV_EINTERNAL;
    return s->auction->bids_each(s, auction_id, epoch, lot > 0 ? lot : 0, fn, ctx);
}

/* sold: a winner and a price; unsold: neither (winner NULL, price 0). */
static int au_result_check(const char *result, const char *winner_id, int64_t price)
{
    if (result != NULL && strcmp(result, "sold") == 0)
        return price >= 0 ? store_key_check(winner_id, STORE_ID_MAX) : GV_EINTERNAL;
    if (result != NULL && strcmp(result, "unsold") == 0)
        return winner_id == NULL && price == 0 ? 0 : GV_EINTERNAL;
    return GV_EINTERNAL;
}

int store_auction_lot_closed(store_t *s, const char *auction_id, int epoch, int lot,
                             const char *asset_id, const char *result, const char *winner_id,
                             int64_t price, int64_t at_ms)
{
    int err = epoch >= 0 && lot >= 1 ? au_result_check(result, winner_id, price) : GV_EINTERNAL;
    if (err == 0)
        err = store_lookup_check(auction_id, STORE_ID_MAX);
    if (err == 0)
        err = store_key_check(asset_id, STORE_ASSET_ID_MAX);
    return err != 0 ? err
                    : s->auction->lot_closed(s, auction_id, epoch, lot, asset_id, result, winner_id,
                                             price, at_ms);
}

int store_auction_lot_undone(store_t *s, const char *auction_id, int epoch, int lot)
{
    int err = store_lookup_check(auction_id, STORE_ID_MAX);
    return err != 0 ? err : s->auction->lot_undone(s, auction_id, epoch, lot);
}

int store_auction_roster_set(store_t *s, const char *auction_id, const char *asset_id,
                             const char *user_id, int64_t price, int lot)
{
    int err = store_lookup_check(auction_id, STORE_ID_MAX);
    if (err == 0)
        err = store_key_check(asset_id, STORE_ASSET_ID_MAX);
    if (err == 0 && user_id)
        err = store_key_check(user_id, STORE_ID_MAX);
    return err != 0 ? err : s->auction->roster_set(s, auction_id, asset_id, user_id, price, lot);
}

int store_auction_roster_clear(store_t *s, const char *auction_id)
{
    int err = store_lookup_check(auction_id, STORE_ID_MAX);
    return err != 0 ? err : s->auction->roster_clear(s, auction_id);
}

int store_auction_rosters_each(store_t *s, const char *auction_id, store_roster_fn fn, void *ctx)
{
    if (fn == NULL)
        return GV_EINTERNAL;
    int err = store_lookup_check(auction_id, STORE_ID_MAX);
    return err != 0 ? err : s->auction->rosters_each(s, auction_id, fn, ctx);
}

int store_league_rosters_each(store_t *s, const char *league_id, store_roster_fn fn, void *ctx)
{
    if (fn == NULL)
        return GV_EINTERNAL;
    int err = store_lookup_check(league_id, STORE_ID_MAX);
    return err != 0 ? err : s->auction->league_rosters_each(s, league_id, fn, ctx);
}

/* ---- idempotent bids ----------------------------------------------------------------------- */

int store_bid_outcome_get(store_t *s, const char *auction_id, const char *user_id,
                          const char *client_bid_id, char *out, size_t n)
{
    if (out == NULL || client_bid_id == NULL)
        return GV_EINTERNAL;
    if (n == 0)
        return GV_ELIMIT;
    out[0] = '\0';
    int err = store_lookup_check(auction_id, STORE_ID_MAX);
    if (err == 0)
        err = store_lookup_check(user_id, STORE_ID_MAX);
    if (err == 0 && client_bid_id[0] == '\0')
        err = GV_ENOT_FOUND;
    return err != 0 ? err : s->auction->outcome_get(s, auction_id, user_id, client_bid_id, out, n);
}

int store_bid_outcome_keys_each(store_t *s, const char *auction_id, store_outcome_key_fn fn,
                                void *ctx)
{
    if (fn == NULL)
        return GV_EINTERNAL;
    int err = store_lookup_check(auction_id, STORE_ID_MAX);
    return err != 0 ? err : s->auction->outcome_keys_each(s, auction_id, fn, ctx);
}

int store_bid_outcome_on_bid(store_t *s, const char *auction_id, int64_t seq, const char *user_id,
                             const char *client_bid_id, const char *outcome)
{
    if (client_bid_id == NULL || outcome == NULL)
        return GV_EINTERNAL;
    int err = store_lookup_check(auction_id, STORE_ID_MAX);
    if (err == 0)
        err = store_key_check(user_id, STORE_ID_MAX);
    if (err == 0 && (client_bid_id[0] == '\0' || seq <= 0))
        err = GV_EINVALID_REQUEST;
    return err != 0
               ? err
               : s->auction->outcome_on_bid(s, auction_id, seq, user_id, client_bid_id, outcome);
}

int store_bid_outcome_put(store_t *s, const char *auction_id, const char *user_id,
                          const char *client_bid_id, const char *outcome)
{
    if (client_bid_id == NULL || outcome == NULL)
        return GV_EINTERNAL;
    int err = store_lookup_check(auction_id, STORE_ID_MAX);
    if (err == 0)
        err = store_key_check(user_id, STORE_ID_MAX);
    if (err == 0 && client_bid_id[0] == '\0')
        err = GV_EINVALID_REQUEST;
    return err != 0 ? err : s->auction->outcome_put(s, auction_id, user_id, client_bid_id, outcome);
}
