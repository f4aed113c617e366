/* The auctions queries of the SQLite backend (tables of sql/005_auctions.sql): the auction rows,
 * the append-only event log, accepted bids, closed lots and first bid outcomes. Cached
 * statements, bound parameters only; the league's status is written with its auction's. */
#include "store/store_auction_int.h"
#include "store/store_sqlite_int.h"

#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- SQL ----------------------------------------------------------------------------------- */

/* The columns au_row reads, in store_auction_t order. */
#define AU_COLS "id, league_id, status, seq, seed, config, asset_ids, manager_ids, created_ms"

static const char SQL_INSERT[] = "INSERT INTO auctions(" AU_COLS ", updated_ms) "
                                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)";
/* The league's status follows its auction; an unchanged status is not rewritten. */
static const char SQL_LEAGUE_STATUS[] =
    "UPDATE leagues SET status = ?2 WHERE id = ?1 AND status <> ?2";
static const char SQL_LEAGUE_STATUS_OF[] =
    "UPDATE leagues SET status = ?2 WHERE id = (SELECT league_id FROM auctions WHERE id = ?1) "
    "AND status <> ?2";
static const char SQL_GET[] = "SELECT " AU_COLS " FROM auctions WHERE id = ?1";
static const char SQL_BY_LEAGUE[] = "SELECT " AU_COLS " FROM auctions WHERE league_id = ?1";
static const char SQL_ALL[] = "SELECT " AU_COLS " FROM auctions ORDER BY created_ms, id";
static const char SQL_LIVE[] = "SELECT " AU_COLS " FROM auctions WHERE status <> 'completed' "
                               "ORDER BY created_ms, id";
static const char SQL_UPDATE[] =
    "UPDATE auctions SET status = ?2, seq = ?3, updated_ms = ?4 WHERE id = ?1";
/* SQL_UPDATE only while node ?5 holds the auction's lease at epoch ?6 (its end does not count:
 * only another node's take moves the epoch). */
static const char SQL_UPDATE_FENCED[] =
    "UPDATE auctions SET status = ?2, seq = ?3, updated_ms = ?4 "
    "WHERE id = ?1 AND owner_node = ?5 AND lease_epoch = ?6";
static const char SQL_EXISTS[] = "SELECT 1 FROM auctions WHERE id = ?1";
/* Its events, bids, lots and outcomes go with it (ON DELETE CASCADE). */
static const char SQL_DELETE[] = "DELETE FROM auctions WHERE id = ?1";
static const char SQL_EVENT_INSERT[] =
    "INSERT INTO auction_events(auction_id, seq, type, payload, at_ms, actor_id) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
/* LIMIT -1: no limit. */
static const char SQL_EVENTS[] = "SELECT seq, type, payload, at_ms, actor_id FROM auction_events "
                                 "WHERE auction_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3";
static const char SQL_BID_INSERT[] =
    "INSERT INTO auction_bids(auction_id, seq, epoch, lot, user_id, amount, at_ms) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_BIDS_EPOCH[] = "SELECT seq, lot, user_id, amount, at_ms FROM auction_bids "
                                     "WHERE auction_id = ?1 AND epoch = ?2 ORDER BY seq";
static const char SQL_BIDS_LOT[] = "SELECT seq, lot, user_id, amount, at_ms FROM auction_bids "
                                   "WHERE auction_id = ?1 AND epoch = ?2 AND lot = ?3 ORDER BY seq";
static const char SQL_LOT_INSERT[] =
    "INSERT INTO auction_lots(auction_id, epoch, lot, asset_id, result, winner_id, price, "
    "closed_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char SQL_LOT_UNDO[] = "UPDATE auction_lots SET result = 'undone' "
                                   "WHERE auction_id = ?1 AND epoch = ?2 AND lot = ?3";
/* Refusals (and accepted bids before migration 009) have a row of their own; an accepted bid's
 * answer is on its bid row, found by a walk of the auction's bids (only asked when the service's
 * filter says the key may be known: a retry after a reload, or a rare false positive). */
static const char SQL_OUTCOME_GET[] =
    "SELECT outcome FROM auction_bid_outcomes "
    "WHERE auction_id = ?1 AND user_id = ?2 AND client_bid_id = ?3 "
    "UNION ALL SELECT outcome FROM auction_bids "
    "WHERE auction_id = ?1 AND user_id = ?2 AND client_bid_id = ?3 LIMIT 1";
static const char SQL_OUTCOME_ON_BID[] =
    "UPDATE auction_bids SET client_bid_id = ?4, outcome = ?5 "
    "WHERE auction_id = ?1 AND seq = ?2 AND user_id = ?3 AND client_bid_id IS NULL";
/* The first outcome stays: a repeat of the key changes nothing. */
static const char SQL_OUTCOME_PUT[] =
    "INSERT INTO auction_bid_outcomes(auction_id, user_id, client_bid_id, outcome) "
    "VALUES(?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";

/* ---- helpers ------------------------------------------------------------------------------- */

/* A write that must change a row: GV_ENOT_FOUND when it changed none. */
static int au_write_one(store_sqlite_t *ss, sqlite3_stmt *stmt)
{
    int changes = 0;
    int err = store_sqlite_write(ss, stmt, &changes);
    return err == 0 && changes == 0 ? GV_ENOT_FOUND : err;
}

/* Seeds are uint64_t kept bit for bit in a signed INTEGER column. */
static int64_t au_seed_to_db(uint64_t seed)
{
    int64_t v;
    memcpy(&v, &seed, sizeof(v));
    return v;
}

static uint64_t au_seed_from_db(int64_t v)
{
    uint64_t seed;
    memcpy(&seed, &v, sizeof(seed));
    return seed;
}

/* A malloc'ed copy of text column col into *dst (the caller frees it). The columns read are
 * NOT NULL, so a NULL value means SQLite ran out of memory. */
static int au_col_dup(sqlite3_stmt *stmt, int col, char **dst)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    size_t len = (size_t)sqlite3_column_bytes(stmt, col);
    if (text == NULL)
        return GV_ENOMEM;
    *dst = malloc(len + 1);
    if (*dst == NULL)
        return GV_ENOMEM;
    memcpy(*dst, text, len + 1);
    return 0;
}

/* Reads the AU_COLS of the current row into *out (written only on success: its texts are then
 * the caller's). */
static int au_row(store_sqlite_t *ss, sqlite3_stmt *stmt, store_auction_t *out)
{
    store_auction_t a;
    memset(&a, 0, sizeof(a));
    int err = store_sqlite_col_text(ss, stmt, 0, a.id, sizeof(a.id));
    if (err == 0)
        err = store_sqlite_col_text(ss, stmt, 1, a.league_id, sizeof(a.league_id));
    if (err == 0)
        err = store_sqlite_col_text(ss, stmt, 2, a.status, sizeof(a.status));
    a.seq = sqlite3_column_int64(stmt, 3);
    a.seed = au_seed_from_db(sqlite3_column_int64(stmt, 4));
    if (err == 0)
        err = au_col_dup(stmt, 5, &a.config);
    if (err == 0)
        err = au_col_dup(stmt, 6, &a.asset_ids);
    if (err == 0)
        err = au_col_dup(stmt, 7, &a.manager_ids);
    a.created_ms = sqlite3_column_int64(stmt, 8);
    if (err != 0) {
        store_auction_free_fields(&a);
        return err;
    }
    *out = a;
    return 0;
}

/* A statement for a walk that calls back into the caller: the cached one, or, when a walk
 * further up the stack is still stepping it (fn re-entered the same query), a private copy
 * (*own = 1) that au_walk_end finalizes. */
static int au_walk_begin(store_sqlite_t *ss, const char *sql, sqlite3_stmt **stmt, int *own)
{
    *own = 0;
    int err = store_sqlite_stmt(ss, sql, stmt);
    if (err != 0 || !sqlite3_stmt_busy(*stmt))
        return err;
    *own = 1;
    return store_sqlite_prepare(ss, sql, stmt);
}

/* Steps a bound walk, calling row per row until it returns non-zero; resets or finalizes the
 * statement. 0, row's result or GV_EDB*. */
static int au_walk(store_sqlite_t *ss, sqlite3_stmt *stmt, int own,
                   int (*row)(sqlite3_stmt *stmt, void *ctx), void *ctx)
{
    int rc = SQLITE_DONE;
    int result = 0;
    while (result == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
        result = row(stmt, ctx);
    if (result == 0 && rc != SQLITE_DONE)
        result = store_sqlite_step_fail(ss, rc);
    if (own) {
        sqlite3_finalize(stmt);
        return result;
    }
    return store_sqlite_done(stmt, result);
}

/* ---- transactions -------------------------------------------------------------------------- */

/* ---- auctions ------------------------------------------------------------------------------ */

/* The league of an auction in status: 'season' once completed, 'auction' before. */
static const char *au_league_status(const char *status)
{
    return strcmp(status, "completed") == 0 ? "season" : "auction";
}

static int sqlite_auction_create_tx(store_t *s, const store_auction_t *a)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_INSERT, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "tttiittti", a->id, a->league_id, a->status, a->seq,
                                au_seed_to_db(a->seed), a->config, a->asset_ids, a->manager_ids,
                                a->created_ms);
    if (err == 0)
        err = store_sqlite_write(ss, stmt, NULL);
    if (err == 0)
        err = store_sqlite_stmt(ss, SQL_LEAGUE_STATUS, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "tt", a->league_id, au_league_status(a->status));
    if (err == 0)
        err = store_sqlite_write(ss, stmt, NULL);
    return err;
}

static int sqlite_auction_get(store_t *s, const char *key, int by_league, store_auction_t *out)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, by_league ? SQL_BY_LEAGUE : SQL_GET, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "t", key);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        err = au_row(ss, stmt, out);
    else
        err = rc == SQLITE_DONE ? GV_ENOT_FOUND : store_sqlite_step_fail(ss, rc);
    return store_sqlite_done(stmt, err);
}

typedef struct {
    store_auction_t *rows;
    size_t n, cap;
} au_rows_t;

static void au_rows_free(au_rows_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        store_auction_free_fields(&r->rows[i]);
    free(r->rows);
}

static int au_rows_push(store_sqlite_t *ss, sqlite3_stmt *stmt, au_rows_t *r)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        store_auction_t *rows = realloc(r->rows, cap * sizeof(*rows));
        if (rows == NULL)
            return GV_ENOMEM;
        r->rows = rows;
        r->cap = cap;
    }
    int err = au_row(ss, stmt, &r->rows[r->n]);
    if (err == 0)
        r->n++;
    return err;
}

/* Every row is read (and the statement reset) before fn runs: fn may then write the auctions
 * (recovery closes overdue lots), which must not happen under a SELECT still stepping them. */
static int sqlite_auctions_each(store_t *s, int all, store_auction_fn fn, void *ctx)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    au_rows_t r = {NULL, 0, 0};
    int err = store_sqlite_stmt(ss, all ? SQL_ALL : SQL_LIVE, &stmt);
    if (err != 0)
        return err;
    int rc = SQLITE_DONE;
    while (err == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
        err = au_rows_push(ss, stmt, &r);
    if (err == 0 && rc != SQLITE_DONE)
        err = store_sqlite_step_fail(ss, rc);
    err = store_sqlite_done(stmt, err);
    for (size_t i = 0; err == 0 && i < r.n; i++)
        err = fn(ctx, &r.rows[i]);
    au_rows_free(&r);
    return err;
}

/* After a fenced update that changed no row: GV_EFENCED when the auction exists (its lease is
 * another's, or another epoch), else GV_ENOT_FOUND. */
static int au_fenced_why(store_sqlite_t *ss, const char *id)
{
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_EXISTS, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "t", id);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        err = GV_EFENCED;
    else
        err = rc == SQLITE_DONE ? GV_ENOT_FOUND : store_sqlite_step_fail(ss, rc);
    return store_sqlite_done(stmt, err);
}

static int sqlite_auction_update_tx(store_t *s, const char *id, const char *status, int64_t seq,
                                    int64_t now_ms, const store_fence_t *fence)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, fence ? SQL_UPDATE_FENCED : SQL_UPDATE, &stmt);
    if (err == 0 && fence)
        err = store_sqlite_bind(ss, stmt, "ttiiti", id, status, seq, now_ms, fence->node,
                                fence->epoch);
    else if (err == 0)
        err = store_sqlite_bind(ss, stmt, "ttii", id, status, seq, now_ms);
    if (err == 0)
        err = au_write_one(ss, stmt);
    if (err == GV_ENOT_FOUND && fence)
        err = au_fenced_why(ss, id);
    if (err == 0)
        err = store_sqlite_stmt(ss, SQL_LEAGUE_STATUS_OF, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "tt", id, au_league_status(status));
    if (err == 0)
        err = store_sqlite_write(ss, stmt, NULL);
    return err;
}

/* The league first: the subquery that finds it needs the auction's row. */
static int sqlite_auction_delete_tx(store_t *s, const char *id)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_LEAGUE_STATUS_OF, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "tt", id, "setup");
    if (err == 0)
        err = store_sqlite_write(ss, stmt, NULL);
    if (err == 0)
        err = store_sqlite_stmt(ss, SQL_DELETE, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "t", id);
    return err != 0 ? err : au_write_one(ss, stmt);
}

/* ---- the event log ------------------------------------------------------------------------- */

/* actor_id NULL binds SQL NULL (sqlite3_bind_text's rule for a NULL pointer). */
static int sqlite_auction_event_append(store_t *s, const char *auction_id,
                                       const store_auction_event_t *ev)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_EVENT_INSERT, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "tittit", auction_id, ev->seq, ev->type, ev->payload,
                                ev->at_ms, ev->actor_id);
    return err != 0 ? err : store_sqlite_write(ss, stmt, NULL);
}

typedef struct {
    store_event_fn fn;
    void *ctx;
} au_event_walk_t;

static int au_event_row(sqlite3_stmt *stmt, void *ctx)
{
    au_event_walk_t *w = ctx;
    store_auction_event_t ev = {
        .seq = sqlite3_column_int64(stmt, 0),
        .type = (const char *)sqlite3_column_text(stmt, 1),
        .payload = (const char *)sqlite3_column_text(stmt, 2),
        .at_ms = sqlite3_column_int64(stmt, 3),
        .actor_id = (const char *)sqlite3_column_text(stmt, 4),
    };
    if (ev.type == NULL || ev.payload == NULL)
        return GV_ENOMEM; /* NOT NULL columns */
    return w->fn(w->ctx, &ev);
}

static int sqlite_auction_events_each(store_t *s, const char *auction_id, int64_t after_seq,
                                      int limit, store_event_fn fn, void *ctx)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int own = 0;
    au_event_walk_t w = {fn, ctx};
    int err = au_walk_begin(ss, SQL_EVENTS, &stmt, &own);
    if (err != 0)
        return err;
    err = store_sqlite_bind(ss, stmt, "tin", auction_id, after_seq, limit > 0 ? limit : -1);
    if (err != 0) {
        if (own)
            sqlite3_finalize(stmt);
        return err;
    }
    return au_walk(ss, stmt, own, au_event_row, &w);
}

/* ---- bids and lots ------------------------------------------------------------------------- */

static int sqlite_auction_bid_insert(store_t *s, const char *auction_id, int epoch,
                                     const store_bid_row_t *b)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_BID_INSERT, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "tinntii", auction_id, b->seq, epoch, b->lot, b->user_id,
                                b->amount, b->at_ms);
    return err != 0 ? err : store_sqlite_write(ss, stmt, NULL);
}

typedef struct {
    store_bid_fn fn;
    void *ctx;
} au_bid_walk_t;

static int au_bid_row(sqlite3_stmt *stmt, void *ctx)
{
    au_bid_walk_t *w = ctx;
    store_bid_row_t b = {
        .seq = sqlite3_column_int64(stmt, 0),
        .lot = sqlite3_column_int(stmt, 1),
        .user_id = (const char *)sqlite3_column_text(stmt, 2),
        .amount = sqlite3_column_int64(stmt, 3),
        .at_ms = sqlite3_column_int64(stmt, 4),
    };
    if (b.user_id == NULL)
        return GV_ENOMEM; /* a NOT NULL column */
    return w->fn(w->ctx, &b);
}

static int sqlite_auction_bids_each(store_t *s, const char *auction_id, int epoch, int lot,
                                    store_bid_fn fn, void *ctx)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int own = 0;
    au_bid_walk_t w = {fn, ctx};
    int err = au_walk_begin(ss, lot > 0 ? SQL_BIDS_LOT : SQL_BIDS_EPOCH, &stmt, &own);
    if (err != 0)
        return err;
    err = lot > 0 ? store_sqlite_bind(ss, stmt, "tnn", auction_id, epoch, lot)
                  : store_sqlite_bind(ss, stmt, "tn", auction_id, epoch);
    if (err != 0) {
        if (own)
            sqlite3_finalize(stmt);
        return err;
    }
    return au_walk(ss, stmt, own, au_bid_row, &w);
}

static int sqlite_auction_lot_closed(store_t *s, const char *auction_id, int epoch, int lot,
                                     const char *asset_id, const char *result,
                                     const char *winner_id, int64_t price, int64_t at_ms)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_LOT_INSERT, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "tnntttii", auction_id, epoch, lot, asset_id, result,
                                winner_id, price, at_ms);
    return err != 0 ? err : store_sqlite_write(ss, stmt, NULL);
}

static int sqlite_auction_lot_undone(store_t *s, const char *auction_id, int epoch, int lot)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_LOT_UNDO, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "tnn", auction_id, epoch, lot);
    return err != 0 ? err : au_write_one(ss, stmt);
}

static const char SQL_ROSTER_ADD[] =
    "INSERT INTO auction_rosters (auction_id, asset_id, user_id, price, lot) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (auction_id, asset_id) DO UPDATE SET user_id = excluded.user_id,"
    " price = excluded.price, lot = excluded.lot";
static const char SQL_ROSTER_DEL[] =
    "DELETE FROM auction_rosters WHERE auction_id = ? AND asset_id = ?";
static const char SQL_ROSTER_CLEAR[] = "DELETE FROM auction_rosters WHERE auction_id = ?";
#define ROSTER_COLS                                                                                \
    "SELECT r.asset_id, r.user_id, r.price, r.lot, a.name FROM auction_rosters r "                 \
    "LEFT JOIN assets a ON a.id = r.asset_id "
static const char SQL_ROSTER_EACH[] =
    ROSTER_COLS "WHERE r.auction_id = ? ORDER BY r.user_id, r.lot";
static const char SQL_LEAGUE_ROSTER_EACH[] =
    ROSTER_COLS "JOIN auctions au ON au.id = r.auction_id WHERE au.league_id = ? "
                "ORDER BY r.user_id, r.lot";

static int sqlite_auction_roster_set(store_t *s, const char *auction_id, const char *asset_id,
                                     const char *user_id, int64_t price, int lot)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, user_id ? SQL_ROSTER_ADD : SQL_ROSTER_DEL, &stmt);
    if (err == 0 && user_id)
        err = store_sqlite_bind(ss, stmt, "tttin", auction_id, asset_id, user_id, price, lot);
    else if (err == 0)
        err = store_sqlite_bind(ss, stmt, "tt", auction_id, asset_id);
    return err != 0 ? err : store_sqlite_exec_stmt(ss, stmt);
}

static int sqlite_auction_roster_clear(store_t *s, const char *auction_id)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_ROSTER_CLEAR, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "t", auction_id);
    return err != 0 ? err : store_sqlite_exec_stmt(ss, stmt);
}

/* Calls fn for each row of sql bound to id. A private statement: fn may call back into the
 * store. */
static int au_rosters_each(store_t *s, const char *sql, const char *id, store_roster_fn fn,
                           void *ctx)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_prepare(ss, sql, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "t", id);
    int rc = SQLITE_ROW;
    while (err == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(stmt, 4);
        store_roster_row_t r = {
            (const char *)sqlite3_column_text(stmt, 0), (const char *)sqlite3_column_text(stmt, 1),
            sqlite3_column_int64(stmt, 2), sqlite3_column_int(stmt, 3), name ? name : ""};
        err = fn(ctx, &r);
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = store_sqlite_fail(ss, rc);
    sqlite3_finalize(stmt);
    return err;
}

static int sqlite_auction_rosters_each(store_t *s, const char *auction_id, store_roster_fn fn,
                                       void *ctx)
{
    return au_rosters_each(s, SQL_ROSTER_EACH, auction_id, fn, ctx);
}

static int sqlite_league_rosters_each(store_t *s, const char *league_id, store_roster_fn fn,
                                      void *ctx)
{
    return au_rosters_each(s, SQL_LEAGUE_ROSTER_EACH, league_id, fn, ctx);
}

/* ---- idempotent bids ----------------------------------------------------------------------- */

static int sqlite_bid_outcome_get(store_t *s, const char *auction_id, const char *user_id,
                                  const char *client_bid_id, char *out, size_t n)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_OUTCOME_GET, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "ttt", auction_id, user_id, client_bid_id);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(stmt, 0);
        size_t len = (size_t)sqlite3_column_bytes(stmt, 0);
        if (text == NULL)
            err = GV_ENOMEM; /* a NOT NULL column */
        else if (len >= n)
            err = GV_ELIMIT;
        else
            memcpy(out, text, len + 1);
    } else {
        err = rc == SQLITE_DONE ? GV_ENOT_FOUND : store_sqlite_step_fail(ss, rc);
    }
    return store_sqlite_done(stmt, err);
}

static int sqlite_bid_outcome_put(store_t *s, const char *auction_id, const char *user_id,
                                  const char *client_bid_id, const char *outcome)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_OUTCOME_PUT, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "tttt", auction_id, user_id, client_bid_id, outcome);
    return err != 0 ? err : store_sqlite_write(ss, stmt, NULL);
}

static int sqlite_bid_outcome_on_bid(store_t *s, const char *auction_id, int64_t seq,
                                     const char *user_id, const char *client_bid_id,
                                     const char *outcome)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int changes = 0;
    int err = store_sqlite_stmt(ss, SQL_OUTCOME_ON_BID, &stmt);
    if (err == 0)
        err =
            store_sqlite_bind(ss, stmt, "tittt", auction_id, seq, user_id, client_bid_id, outcome);
    err = err != 0 ? err : store_sqlite_write(ss, stmt, &changes);
    return err != 0 ? err : changes == 1 ? 0 : GV_ENOT_FOUND;
}

static const char SQL_OUTCOME_KEYS[] =
    "SELECT user_id, client_bid_id FROM auction_bid_outcomes WHERE auction_id = ?1 "
    "UNION ALL SELECT user_id, client_bid_id FROM auction_bids "
    "WHERE auction_id = ?1 AND client_bid_id IS NOT NULL";

/* A private statement: fn may call back into the store. */
static int sqlite_bid_outcome_keys_each(store_t *s, const char *auction_id, store_outcome_key_fn fn,
                                        void *ctx)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_prepare(ss, SQL_OUTCOME_KEYS, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "t", auction_id);
    int rc = SQLITE_ROW;
    while (err == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *user = (const char *)sqlite3_column_text(stmt, 0);
        const char *cbid = (const char *)sqlite3_column_text(stmt, 1);
        err = user && cbid ? fn(ctx, user, cbid) : GV_ENOMEM;
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = store_sqlite_fail(ss, rc);
    sqlite3_finalize(stmt);
    return err;
}

const struct store_auction_ops_s store_sqlite_auction_ops = {
    .create_tx = sqlite_auction_create_tx,
    .get = sqlite_auction_get,
    .each = sqlite_auctions_each,
    .update_tx = sqlite_auction_update_tx,
    .delete_tx = sqlite_auction_delete_tx,
    .event_append = sqlite_auction_event_append,
    .events_each = sqlite_auction_events_each,
    .bid_insert = sqlite_auction_bid_insert,
    .bids_each = sqlite_auction_bids_each,
    .lot_closed = sqlite_auction_lot_closed,
    .lot_undone = sqlite_auction_lot_undone,
    .roster_set = sqlite_auction_roster_set,
    .roster_clear = sqlite_auction_roster_clear,
    .rosters_each = sqlite_auction_rosters_each,
    .league_rosters_each = sqlite_league_rosters_each,
    .outcome_get = sqlite_bid_outcome_get,
    .outcome_put = sqlite_bid_outcome_put,
    .outcome_on_bid = sqlite_bid_outcome_on_bid,
    .outcome_keys_each = sqlite_bid_outcome_keys_each,
};
