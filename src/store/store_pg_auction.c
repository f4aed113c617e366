/* The auctions queries of the PostgreSQL backend (tables of sql/005_auctions.sql, 006, 009, 010):
 * the same semantics and error codes as store_sqlite_auction.c, with $n parameters.
 *
 * The writes of the service's group commit (and its hot reads) are prepared once per connection
 * (store_pg_runp, slots AU_S_*). Inside a transaction a failed statement aborts the whole
 * transaction in PostgreSQL, so a one-statement write never fails on an expected condition: an
 * insert reads the auction's row (INSERT ... SELECT ... FROM auctions) and does nothing on a taken
 * key (ON CONFLICT DO NOTHING); when it wrote no row, one more query tells a missing auction
 * (GV_ENOT_FOUND) from a taken key. Walks read every row into one result before calling back (fn
 * may use the store). Text is ordered bytewise (COLLATE "C"), as SQLite orders it. */
#include "store/store_auction_int.h"
#include "store/store_pg_int.h"

#include "core/err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prepared-statement slots of this file: STORE_PG_SLOT_AUCTION + n. */
enum {
    AU_S_EVENT_INSERT,
    AU_S_BID_INSERT,
    AU_S_LOT_INSERT,
    AU_S_LOT_UNDO,
    AU_S_OUTCOME_PUT,
    AU_S_OUTCOME_ON_BID,
    AU_S_ROSTER_ADD,
    AU_S_ROSTER_DEL,
    AU_S_UPDATE,
    AU_S_LEAGUE_STATUS_OF,
    AU_S_EXISTS,
    AU_S_EVENTS,
    AU_S_BIDS_EPOCH,
    AU_S_BIDS_LOT,
    AU_S_OUTCOME_GET,
    AU_S_GET,
    AU_S_COUNT /* 16 at most */
};

#define AU_SLOT(n) (STORE_PG_SLOT_AUCTION + (n))

/* store_pg_runp for this file's slot n. */
#define AU_RUNP(sp, res, n, sql, fmt, ...)                                                         \
    store_pg_runp((sp), (res), AU_SLOT(n), (sql), (fmt), __VA_ARGS__)

/* ---- SQL ----------------------------------------------------------------------------------- */

/* The columns au_fill reads, in store_auction_t order. */
#define AU_COLS "id, league_id, status, seq, seed, config, asset_ids, manager_ids, created_ms"

static const char SQL_INSERT[] = "INSERT INTO auctions(" AU_COLS ", updated_ms) "
                                 "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)";
/* The league's status follows its auction; an unchanged status is not rewritten. */
static const char SQL_LEAGUE_STATUS[] =
    "UPDATE leagues SET status = $2 WHERE id = $1 AND status <> $2";
static const char SQL_LEAGUE_STATUS_OF[] =
    "UPDATE leagues SET status = $2 WHERE id = (SELECT league_id FROM auctions WHERE id = $1) "
    "AND status <> $2";
static const char SQL_GET[] = "SELECT " AU_COLS " FROM auctions WHERE id = $1";
static const char SQL_BY_LEAGUE[] = "SELECT " AU_COLS " FROM auctions WHERE league_id = $1";
static const char SQL_ALL[] =
    "SELECT " AU_COLS " FROM auctions ORDER BY created_ms, id COLLATE \"C\"";
static const char SQL_LIVE[] = "SELECT " AU_COLS " FROM auctions WHERE status <> 'completed' "
                               "ORDER BY created_ms, id COLLATE \"C\"";
static const char SQL_UPDATE[] =
    "UPDATE auctions SET status = $2, seq = $3, updated_ms = $4 WHERE id = $1";
/* SQL_UPDATE only while node $5 holds the auction's lease at epoch $6 (its end does not count:
 * only another node's take moves the epoch). Not prepared: the writer's group commit is bulk
 * (BULK_UPDATE_FENCED). */
#define AU_FENCED_UPDATE                                                                           \
    "UPDATE auctions SET status = $2, seq = $3, updated_ms = $4 "                                  \
    "WHERE id = $1 AND owner_node = $5 AND lease_epoch = $6"
static const char SQL_UPDATE_FENCED[] = AU_FENCED_UPDATE;
/* Its events, bids, lots, rosters and outcomes go with it (ON DELETE CASCADE). */
static const char SQL_DELETE[] = "DELETE FROM auctions WHERE id = $1";
static const char SQL_EXISTS[] = "SELECT 1 FROM auctions WHERE id = $1";

static const char SQL_EVENT_INSERT[] =
    "INSERT INTO auction_events(auction_id, seq, type, payload, at_ms, actor_id) "
    "SELECT id, $2::bigint, $3::text, $4::text, $5::bigint, $6::text FROM auctions WHERE id = $1 "
    "ON CONFLICT DO NOTHING";
static const char SQL_EVENTS[] = "SELECT seq, type, payload, at_ms, actor_id FROM auction_events "
                                 "WHERE auction_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";

static const char SQL_BID_INSERT[] =
    "INSERT INTO auction_bids(auction_id, seq, epoch, lot, user_id, amount, at_ms) "
    "SELECT id, $2::bigint, $3::bigint, $4::bigint, $5::text, $6::bigint, $7::bigint "
    "FROM auctions WHERE id = $1 ON CONFLICT DO NOTHING";
static const char SQL_BIDS_EPOCH[] = "SELECT seq, lot, user_id, amount, at_ms FROM auction_bids "
                                     "WHERE auction_id = $1 AND epoch = $2 ORDER BY seq";
static const char SQL_BIDS_LOT[] = "SELECT seq, lot, user_id, amount, at_ms FROM auction_bids "
                                   "WHERE auction_id = $1 AND epoch = $2 AND lot = $3 ORDER BY seq";

static const char SQL_LOT_INSERT[] =
    "INSERT INTO auction_lots(auction_id, epoch, lot, asset_id, result, winner_id, price, "
    "closed_ms) SELECT id, $2::bigint, $3::bigint, $4::text, $5::text, $6::text, $7::bigint, "
    "$8::bigint FROM auctions WHERE id = $1 ON CONFLICT DO NOTHING";
static const char SQL_LOT_UNDO[] = "UPDATE auction_lots SET result = 'undone' "
                                   "WHERE auction_id = $1 AND epoch = $2 AND lot = $3";

/* A sale adds (or replaces) the asset's row; an undone sale removes it. */
static const char SQL_ROSTER_ADD[] =
    "INSERT INTO auction_rosters(auction_id, asset_id, user_id, price, lot) "
    "SELECT id, $2::text, $3::text, $4::bigint, $5::bigint FROM auctions WHERE id = $1 "
    "ON CONFLICT (auction_id, asset_id) DO UPDATE SET user_id = excluded.user_id, "
    "price = excluded.price, lot = excluded.lot";
static const char SQL_ROSTER_DEL[] =
    "DELETE FROM auction_rosters WHERE auction_id = $1 AND asset_id = $2";
static const char SQL_ROSTER_CLEAR[] = "DELETE FROM auction_rosters WHERE auction_id = $1";
#define ROSTER_COLS                                                                                \
    "SELECT r.asset_id, r.user_id, r.price, r.lot, a.name FROM auction_rosters r "                 \
    "LEFT JOIN assets a ON a.id = r.asset_id "
static const char SQL_ROSTER_EACH[] =
    ROSTER_COLS "WHERE r.auction_id = $1 ORDER BY r.user_id COLLATE \"C\", r.lot";
static const char SQL_LEAGUE_ROSTER_EACH[] =
    ROSTER_COLS "JOIN auctions au ON au.id = r.auction_id WHERE au.league_id = $1 "
                "ORDER BY r.user_id COLLATE \"C\", r.lot";

/* Refusals (and accepted bids before migration 009) have a row of their own; an accepted bid's
 * answer is on its bid row. */
static const char SQL_OUTCOME_GET[] =
    "SELECT outcome FROM auction_bid_outcomes "
    "WHERE auction_id = $1 AND user_id = $2 AND client_bid_id = $3 "
    "UNION ALL SELECT outcome FROM auction_bids "
    "WHERE auction_id = $1 AND user_id = $2 AND client_bid_id = $3 LIMIT 1";
static const char SQL_OUTCOME_ON_BID[] =
    "UPDATE auction_bids SET client_bid_id = $4, outcome = $5 "
    "WHERE auction_id = $1 AND seq = $2 AND user_id = $3 AND client_bid_id IS NULL";
/* The first outcome stays: a repeat of the key changes nothing. */
static const char SQL_OUTCOME_PUT[] =
    "INSERT INTO auction_bid_outcomes(auction_id, user_id, client_bid_id, outcome) "
    "SELECT id, $2::text, $3::text, $4::text FROM auctions WHERE id = $1 ON CONFLICT DO NOTHING";
static const char SQL_OUTCOME_KEYS[] =
    "SELECT user_id, client_bid_id FROM auction_bid_outcomes WHERE auction_id = $1 "
    "UNION ALL SELECT user_id, client_bid_id FROM auction_bids "
    "WHERE auction_id = $1 AND client_bid_id IS NOT NULL";

/* The same writes in a bulk transaction (store_bulk: the writer's group commit), sent without
 * waiting for their answers: each fails, rather than does nothing, when the write is wrong (a
 * taken key, a missing auction: the foreign key; a row that should have changed: a division by
 * zero), so the batch's commit fails and nothing of it is kept. A repeated outcome key is still
 * fine. */
static const char BULK_EVENT_INSERT[] =
    "INSERT INTO auction_events(auction_id, seq, type, payload, at_ms, actor_id) "
    "VALUES($1, $2, $3, $4, $5, $6)";
static const char BULK_BID_INSERT[] =
    "INSERT INTO auction_bids(auction_id, seq, epoch, lot, user_id, amount, at_ms) "
    "VALUES($1, $2, $3, $4, $5, $6, $7)";
static const char BULK_LOT_INSERT[] =
    "INSERT INTO auction_lots(auction_id, epoch, lot, asset_id, result, winner_id, price, "
    "closed_ms) VALUES($1, $2, $3, $4, $5, $6, $7, $8)";
static const char BULK_ROSTER_ADD[] =
    "INSERT INTO auction_rosters(auction_id, asset_id, user_id, price, lot) "
    "VALUES($1, $2, $3, $4, $5) ON CONFLICT (auction_id, asset_id) DO UPDATE SET "
    "user_id = excluded.user_id, price = excluded.price, lot = excluded.lot";
static const char BULK_OUTCOME_PUT[] =
    "INSERT INTO auction_bid_outcomes(auction_id, user_id, client_bid_id, outcome) "
    "VALUES($1, $2, $3, $4) ON CONFLICT DO NOTHING";
#define BULK_ONE(update) "WITH u AS (" update " RETURNING 1) SELECT 1 / count(*)::int FROM u"
static const char BULK_OUTCOME_ON_BID[] =
    BULK_ONE("UPDATE auction_bids SET client_bid_id = $4, outcome = $5 "
             "WHERE auction_id = $1 AND seq = $2 AND user_id = $3 AND client_bid_id IS NULL");
static const char BULK_UPDATE[] =
    BULK_ONE("UPDATE auctions SET status = $2, seq = $3, updated_ms = $4 WHERE id = $1");
static const char BULK_LOT_UNDO[] = BULK_ONE("UPDATE auction_lots SET result = 'undone' "
                                             "WHERE auction_id = $1 AND epoch = $2 AND lot = $3");
/* Its division by zero (a lease another node took, or no such auction) is the commit's
 * GV_EFENCED (store_pg_send_fence). */
static const char BULK_UPDATE_FENCED[] = BULK_ONE(AU_FENCED_UPDATE);

enum {
    AU_B_EVENT,
    AU_B_BID,
    AU_B_LOT,
    AU_B_ROSTER_ADD,
    AU_B_ROSTER_DEL,
    AU_B_ROSTER_CLEAR,
    AU_B_OUTCOME_PUT,
    AU_B_OUTCOME_ON_BID,
    AU_B_UPDATE,
    AU_B_LEAGUE_STATUS_OF,
    AU_B_LOT_UNDO,
    AU_B_UPDATE_FENCED,
    AU_B_COUNT /* 16 at most */
};
_Static_assert(AU_B_COUNT <= 16, "the auctions' bulk writes own 16 slots");

/* Queues a bulk write (store_pg_send) of slot n. */
#define AU_SEND(sp, n, sql, fmt, ...)                                                              \
    store_pg_send((sp), STORE_PG_SLOT_AUCTION_BULK + (n), (sql), (fmt), __VA_ARGS__)

/* ---- helpers ------------------------------------------------------------------------------- */

/* err of a statement that failed, with the constraint failures mapped as the SQLite backend maps
 * them: a taken key GV_ECONFLICT, a missing referenced row GV_ENOT_FOUND, any other constraint
 * (a CHECK, a trigger's refusal) GV_EINVALID_REQUEST. */
static int au_err(const store_pg_t *sp, int err)
{
    if (err != GV_EDB)
        return err;
    if (store_pg_is(sp, "23505"))
        return GV_ECONFLICT;
    if (store_pg_is(sp, "23503"))
        return GV_ENOT_FOUND;
    return strncmp(sp->state, "23", 2) == 0 ? GV_EINVALID_REQUEST : err;
}

/* The result of a write that must change a row: err mapped, GV_ENOT_FOUND when it changed none.
 * res is freed. */
static int au_write_one(const store_pg_t *sp, int err, PGresult *res)
{
    if (err != 0)
        return au_err(sp, err);
    int changes = store_pg_changes(res);
    PQclear(res);
    return changes == 0 ? GV_ENOT_FOUND : 0;
}

/* The result of an INSERT ... SELECT ... FROM auctions WHERE id = auction_id ... ON CONFLICT
 * (res, freed): 0 when it wrote its row; when it wrote none, GV_ENOT_FOUND if the auction does not
 * exist, else taken (its key was already there: GV_ECONFLICT, or 0 when a repeat is fine). */
static int au_inserted(store_pg_t *sp, int err, PGresult *res, const char *auction_id, int taken)
{
    if (err != 0)
        return au_err(sp, err);
    int changes = store_pg_changes(res);
    PQclear(res);
    if (changes > 0)
        return 0;
    err = AU_RUNP(sp, &res, AU_S_EXISTS, SQL_EXISTS, "t", auction_id);
    if (err != 0)
        return err;
    int found = PQntuples(res) > 0;
    PQclear(res);
    return found ? taken : GV_ENOT_FOUND;
}

/* Seeds are uint64_t kept bit for bit in a signed BIGINT column. */
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

/* Column col of row, NULL when SQL NULL (PQgetvalue would give ""). */
static char *au_text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* Reads the AU_COLS of row into *out, its texts borrowed from res (valid until PQclear). */
static int au_fill(store_pg_t *sp, const PGresult *res, int row, store_auction_t *out)
{
    store_auction_t a;
    memset(&a, 0, sizeof(a));
    int err = store_pg_col_text(sp, res, row, 0, a.id, sizeof(a.id));
    if (err == 0)
        err = store_pg_col_text(sp, res, row, 1, a.league_id, sizeof(a.league_id));
    if (err == 0)
        err = store_pg_col_text(sp, res, row, 2, a.status, sizeof(a.status));
    a.seq = store_pg_col_i64(res, row, 3);
    a.seed = au_seed_from_db(store_pg_col_i64(res, row, 4));
    a.config = PQgetvalue(res, row, 5);
    a.asset_ids = PQgetvalue(res, row, 6);
    a.manager_ids = PQgetvalue(res, row, 7);
    a.created_ms = store_pg_col_i64(res, row, 8);
    if (err == 0)
        *out = a;
    return err;
}

/* A malloc'ed copy of text into *dst (the caller frees it). */
static int au_dup(const char *text, char **dst)
{
    size_t len = strlen(text);
    *dst = malloc(len + 1);
    if (*dst == NULL)
        return GV_ENOMEM;
    memcpy(*dst, text, len + 1);
    return 0;
}

/* ---- auctions ------------------------------------------------------------------------------ */

/* The league of an auction in status: 'season' once completed, 'auction' before. */
static const char *au_league_status(const char *status)
{
    return strcmp(status, "completed") == 0 ? "season" : "auction";
}

/* Inside the dispatcher's transaction or savepoint: a failure here is rolled back with it. */
static int pg_auction_create_tx(store_t *s, const store_auction_t *a)
{
    store_pg_t *sp = store_pg_of(s);
    int err = store_pg_run(sp, NULL, SQL_INSERT, "tttiittti", a->id, a->league_id, a->status,
                           a->seq, au_seed_to_db(a->seed), a->config, a->asset_ids, a->manager_ids,
                           a->created_ms);
    if (err == 0)
        err = store_pg_run(sp, NULL, SQL_LEAGUE_STATUS, "tt", a->league_id,
                           au_league_status(a->status));
    return au_err(sp, err);
}

/* One auction by id or league, its texts copied for the caller. */
static int pg_auction_get(store_t *s, const char *key, int by_league, store_auction_t *out)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    int err = by_league ? store_pg_run(sp, &res, SQL_BY_LEAGUE, "t", key)
                        : AU_RUNP(sp, &res, AU_S_GET, SQL_GET, "t", key);
    if (err != 0)
        return err;
    store_auction_t a;
    err = PQntuples(res) == 0 ? GV_ENOT_FOUND : au_fill(sp, res, 0, &a);
    if (err == 0) {
        char *config = a.config, *asset_ids = a.asset_ids, *manager_ids = a.manager_ids;
        a.config = a.asset_ids = a.manager_ids = NULL;
        err = au_dup(config, &a.config);
        if (err == 0)
            err = au_dup(asset_ids, &a.asset_ids);
        if (err == 0)
            err = au_dup(manager_ids, &a.manager_ids);
        if (err == 0)
            *out = a;
        else
            store_auction_free_fields(&a);
    }
    PQclear(res);
    return err;
}

/* Every row is read before fn runs: fn may then write the auctions (recovery closes overdue
 * lots). */
static int pg_auctions_each(store_t *s, int all, store_auction_fn fn, void *ctx)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    int err = store_pg_run(sp, &res, all ? SQL_ALL : SQL_LIVE, "");
    if (err != 0)
        return err;
    store_auction_t a;
    for (int i = 0, n = PQntuples(res); err == 0 && i < n; i++) {
        err = au_fill(sp, res, i, &a);
        if (err == 0)
            err = fn(ctx, &a);
    }
    PQclear(res);
    return err;
}

/* A fenced update that changed no row: GV_EFENCED when the auction exists, else
 * GV_ENOT_FOUND. */
static int au_fenced(store_pg_t *sp, int err, PGresult *res, const char *id)
{
    err = au_write_one(sp, err, res);
    if (err != GV_ENOT_FOUND)
        return err;
    err = AU_RUNP(sp, &res, AU_S_EXISTS, SQL_EXISTS, "t", id);
    if (err != 0)
        return err;
    int found = PQntuples(res) > 0;
    PQclear(res);
    return found ? GV_EFENCED : GV_ENOT_FOUND;
}

static int pg_auction_update_tx(store_t *s, const char *id, const char *status, int64_t seq,
                                int64_t now_ms, const store_fence_t *fence)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    if (store_pg_piped(sp)) {
        int err = fence ? store_pg_send_fence(sp, STORE_PG_SLOT_AUCTION_BULK + AU_B_UPDATE_FENCED,
                                              BULK_UPDATE_FENCED, "ttiiti", id, status, seq, now_ms,
                                              fence->node, fence->epoch)
                        : AU_SEND(sp, AU_B_UPDATE, BULK_UPDATE, "ttii", id, status, seq, now_ms);
        return err ? err
                   : AU_SEND(sp, AU_B_LEAGUE_STATUS_OF, SQL_LEAGUE_STATUS_OF, "tt", id,
                             au_league_status(status));
    }
    int err;
    if (fence) {
        err = store_pg_run(sp, &res, SQL_UPDATE_FENCED, "ttiiti", id, status, seq, now_ms,
                           fence->node, fence->epoch);
        err = au_fenced(sp, err, res, id);
    } else {
        err = AU_RUNP(sp, &res, AU_S_UPDATE, SQL_UPDATE, "ttii", id, status, seq, now_ms);
        err = au_write_one(sp, err, res);
    }
    if (err == 0)
        err = au_err(sp, AU_RUNP(sp, NULL, AU_S_LEAGUE_STATUS_OF, SQL_LEAGUE_STATUS_OF, "tt", id,
                                 au_league_status(status)));
    return err;
}

/* The league first: the subquery that finds it needs the auction's row. */
static int pg_auction_delete_tx(store_t *s, const char *id)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    int err = au_err(
        sp, AU_RUNP(sp, NULL, AU_S_LEAGUE_STATUS_OF, SQL_LEAGUE_STATUS_OF, "tt", id, "setup"));
    if (err != 0)
        return err;
    err = store_pg_run(sp, &res, SQL_DELETE, "t", id);
    return au_write_one(sp, err, res);
}

/* ---- the event log ------------------------------------------------------------------------- */

/* GV_ECONFLICT when (auction, seq) exists (the first event stays), GV_ENOT_FOUND when the
 * auction does not: neither aborts the caller's transaction. */
static int pg_auction_event_append(store_t *s, const char *auction_id,
                                   const store_auction_event_t *ev)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    if (store_pg_piped(sp))
        return AU_SEND(sp, AU_B_EVENT, BULK_EVENT_INSERT, "tittit", auction_id, ev->seq, ev->type,
                       ev->payload, ev->at_ms, ev->actor_id);
    int err = AU_RUNP(sp, &res, AU_S_EVENT_INSERT, SQL_EVENT_INSERT, "tittit", auction_id, ev->seq,
                      ev->type, ev->payload, ev->at_ms, ev->actor_id);
    return au_inserted(sp, err, res, auction_id, GV_ECONFLICT);
}

/* Reads every event first (one result), then calls fn per row in seq order. */
static int pg_auction_events_each(store_t *s, const char *auction_id, int64_t after_seq, int limit,
                                  store_event_fn fn, void *ctx)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    int64_t max = limit > 0 ? limit : INT64_MAX;
    int err = AU_RUNP(sp, &res, AU_S_EVENTS, SQL_EVENTS, "tii", auction_id, after_seq, max);
    if (err != 0)
        return err;
    for (int i = 0, n = PQntuples(res); err == 0 && i < n; i++) {
        store_auction_event_t ev = {
            .seq = store_pg_col_i64(res, i, 0),
            .type = PQgetvalue(res, i, 1),
            .payload = PQgetvalue(res, i, 2),
            .at_ms = store_pg_col_i64(res, i, 3),
            .actor_id = au_text(res, i, 4),
        };
        err = fn(ctx, &ev);
    }
    PQclear(res);
    return err;
}

/* ---- bids and lots ------------------------------------------------------------------------- */

static int pg_auction_bid_insert(store_t *s, const char *auction_id, int epoch,
                                 const store_bid_row_t *b)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    if (store_pg_piped(sp))
        return AU_SEND(sp, AU_B_BID, BULK_BID_INSERT, "tinntii", auction_id, b->seq, epoch, b->lot,
                       b->user_id, b->amount, b->at_ms);
    int err = AU_RUNP(sp, &res, AU_S_BID_INSERT, SQL_BID_INSERT, "tinntii", auction_id, b->seq,
                      epoch, b->lot, b->user_id, b->amount, b->at_ms);
    return au_inserted(sp, err, res, auction_id, GV_ECONFLICT);
}

/* Reads every bid of the epoch (or of its lot) first, then calls fn per row in seq order. */
static int pg_auction_bids_each(store_t *s, const char *auction_id, int epoch, int lot,
                                store_bid_fn fn, void *ctx)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    int err = lot > 0
                  ? AU_RUNP(sp, &res, AU_S_BIDS_LOT, SQL_BIDS_LOT, "tnn", auction_id, epoch, lot)
                  : AU_RUNP(sp, &res, AU_S_BIDS_EPOCH, SQL_BIDS_EPOCH, "tn", auction_id, epoch);
    if (err != 0)
        return err;
    for (int i = 0, n = PQntuples(res); err == 0 && i < n; i++) {
        store_bid_row_t b = {
            .seq = store_pg_col_i64(res, i, 0),
            .lot = (int)store_pg_col_i64(res, i, 1),
            .user_id = PQgetvalue(res, i, 2),
            .amount = store_pg_col_i64(res, i, 3),
            .at_ms = store_pg_col_i64(res, i, 4),
        };
        err = fn(ctx, &b);
    }
    PQclear(res);
    return err;
}

/* GV_ECONFLICT when (epoch, lot) is already recorded (the first stays), without a failing
 * statement. */
static int pg_auction_lot_closed(store_t *s, const char *auction_id, int epoch, int lot,
                                 const char *asset_id, const char *result, const char *winner_id,
                                 int64_t price, int64_t at_ms)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    if (store_pg_piped(sp))
        return AU_SEND(sp, AU_B_LOT, BULK_LOT_INSERT, "tnntttii", auction_id, epoch, lot, asset_id,
                       result, winner_id, price, at_ms);
    int err = AU_RUNP(sp, &res, AU_S_LOT_INSERT, SQL_LOT_INSERT, "tnntttii", auction_id, epoch, lot,
                      asset_id, result, winner_id, price, at_ms);
    return au_inserted(sp, err, res, auction_id, GV_ECONFLICT);
}

static int pg_auction_lot_undone(store_t *s, const char *auction_id, int epoch, int lot)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    if (store_pg_piped(sp))
        return AU_SEND(sp, AU_B_LOT_UNDO, BULK_LOT_UNDO, "tnn", auction_id, epoch, lot);
    int err = AU_RUNP(sp, &res, AU_S_LOT_UNDO, SQL_LOT_UNDO, "tnn", auction_id, epoch, lot);
    return au_write_one(sp, err, res);
}

/* user_id NULL removes the asset's row (none is fine); a sale of a missing auction is
 * GV_ENOT_FOUND. */
static int pg_auction_roster_set(store_t *s, const char *auction_id, const char *asset_id,
                                 const char *user_id, int64_t price, int lot)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    if (store_pg_piped(sp) && user_id == NULL)
        return AU_SEND(sp, AU_B_ROSTER_DEL, SQL_ROSTER_DEL, "tt", auction_id, asset_id);
    if (store_pg_piped(sp))
        return AU_SEND(sp, AU_B_ROSTER_ADD, BULK_ROSTER_ADD, "tttin", auction_id, asset_id, user_id,
                       price, lot);
    if (user_id == NULL)
        return au_err(
            sp, AU_RUNP(sp, NULL, AU_S_ROSTER_DEL, SQL_ROSTER_DEL, "tt", auction_id, asset_id));
    int err = AU_RUNP(sp, &res, AU_S_ROSTER_ADD, SQL_ROSTER_ADD, "tttin", auction_id, asset_id,
                      user_id, price, lot);
    return au_inserted(sp, err, res, auction_id, 0);
}

static int pg_auction_roster_clear(store_t *s, const char *auction_id)
{
    store_pg_t *sp = store_pg_of(s);
    if (store_pg_piped(sp))
        return AU_SEND(sp, AU_B_ROSTER_CLEAR, SQL_ROSTER_CLEAR, "t", auction_id);
    return au_err(sp, store_pg_run(sp, NULL, SQL_ROSTER_CLEAR, "t", auction_id));
}

/* Reads every row of sql bound to id first, then calls fn per row. */
static int au_rosters_each(store_t *s, const char *sql, const char *id, store_roster_fn fn,
                           void *ctx)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    int err = store_pg_run(sp, &res, sql, "t", id);
    if (err != 0)
        return err;
    for (int i = 0, n = PQntuples(res); err == 0 && i < n; i++) {
        store_roster_row_t r = {
            .asset_id = PQgetvalue(res, i, 0),
            .user_id = PQgetvalue(res, i, 1),
            .price = store_pg_col_i64(res, i, 2),
            .lot = (int)store_pg_col_i64(res, i, 3),
            .name = PQgetvalue(res, i, 4), /* "" when NULL: the asset is gone */
        };
        err = fn(ctx, &r);
    }
    PQclear(res);
    return err;
}

static int pg_auction_rosters_each(store_t *s, const char *auction_id, store_roster_fn fn,
                                   void *ctx)
{
    return au_rosters_each(s, SQL_ROSTER_EACH, auction_id, fn, ctx);
}

static int pg_league_rosters_each(store_t *s, const char *league_id, store_roster_fn fn, void *ctx)
{
    return au_rosters_each(s, SQL_LEAGUE_ROSTER_EACH, league_id, fn, ctx);
}

/* ---- idempotent bids ----------------------------------------------------------------------- */

/* The first outcome of the key copied into out (n bytes): GV_ELIMIT when it does not fit. */
static int pg_bid_outcome_get(store_t *s, const char *auction_id, const char *user_id,
                              const char *client_bid_id, char *out, size_t n)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    int err = AU_RUNP(sp, &res, AU_S_OUTCOME_GET, SQL_OUTCOME_GET, "ttt", auction_id, user_id,
                      client_bid_id);
    if (err != 0)
        return err;
    if (PQntuples(res) == 0) {
        err = GV_ENOT_FOUND;
    } else {
        size_t len = (size_t)PQgetlength(res, 0, 0);
        if (len >= n)
            err = GV_ELIMIT;
        else
            memcpy(out, PQgetvalue(res, 0, 0), len + 1);
    }
    PQclear(res);
    return err;
}

/* A repeat of the key keeps the first outcome and is a success. */
static int pg_bid_outcome_put(store_t *s, const char *auction_id, const char *user_id,
                              const char *client_bid_id, const char *outcome)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    if (store_pg_piped(sp))
        return AU_SEND(sp, AU_B_OUTCOME_PUT, BULK_OUTCOME_PUT, "tttt", auction_id, user_id,
                       client_bid_id, outcome);
    int err = AU_RUNP(sp, &res, AU_S_OUTCOME_PUT, SQL_OUTCOME_PUT, "tttt", auction_id, user_id,
                      client_bid_id, outcome);
    return au_inserted(sp, err, res, auction_id, 0);
}

/* GV_ENOT_FOUND unless exactly the user's bid at seq, still without an outcome, was updated. */
static int pg_bid_outcome_on_bid(store_t *s, const char *auction_id, int64_t seq,
                                 const char *user_id, const char *client_bid_id,
                                 const char *outcome)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    if (store_pg_piped(sp))
        return AU_SEND(sp, AU_B_OUTCOME_ON_BID, BULK_OUTCOME_ON_BID, "tittt", auction_id, seq,
                       user_id, client_bid_id, outcome);
    int err = AU_RUNP(sp, &res, AU_S_OUTCOME_ON_BID, SQL_OUTCOME_ON_BID, "tittt", auction_id, seq,
                      user_id, client_bid_id, outcome);
    if (err != 0)
        return au_err(sp, err);
    int changes = store_pg_changes(res);
    PQclear(res);
    return changes == 1 ? 0 : GV_ENOT_FOUND;
}

/* Reads every key first, then calls fn per key. */
static int pg_bid_outcome_keys_each(store_t *s, const char *auction_id, store_outcome_key_fn fn,
                                    void *ctx)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    int err = store_pg_run(sp, &res, SQL_OUTCOME_KEYS, "t", auction_id);
    if (err != 0)
        return err;
    for (int i = 0, n = PQntuples(res); err == 0 && i < n; i++)
        err = fn(ctx, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    PQclear(res);
    return err;
}

_Static_assert(AU_S_COUNT <= STORE_PG_SLOT_SEASON - STORE_PG_SLOT_AUCTION,
               "the auction statements fit in their slots");

const struct store_auction_ops_s store_pg_auction_ops = {
    .create_tx = pg_auction_create_tx,
    .get = pg_auction_get,
    .each = pg_auctions_each,
    .update_tx = pg_auction_update_tx,
    .delete_tx = pg_auction_delete_tx,
    .event_append = pg_auction_event_append,
    .events_each = pg_auction_events_each,
    .bid_insert = pg_auction_bid_insert,
    .bids_each = pg_auction_bids_each,
    .lot_closed = pg_auction_lot_closed,
    .lot_undone = pg_auction_lot_undone,
    .roster_set = pg_auction_roster_set,
    .roster_clear = pg_auction_roster_clear,
    .rosters_each = pg_auction_rosters_each,
    .league_rosters_each = pg_league_rosters_each,
    .outcome_get = pg_bid_outcome_get,
    .outcome_put = pg_bid_outcome_put,
    .outcome_on_bid = pg_bid_outcome_on_bid,
    .outcome_keys_each = pg_bid_outcome_keys_each,
};
