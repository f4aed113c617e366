/* The leases queries of the PostgreSQL backend (the lease columns of auctions, sql/010): the same
 * semantics and error codes as store_sqlite_lease.c, each one statement prepared once per
 * connection (slots LE_S_*). "Now" is the server's clock in milliseconds since 1970 (LE_NOW:
 * clock_timestamp, the time of the statement's run, not of its transaction's start), never the
 * caller's. A take racing another node's for the same row waits for its row lock and then checks
 * its condition again on the row that one wrote (READ COMMITTED): one of them wins. Walks read
 * every row into one result before calling back (fn may use the store). */
#include "store/store_lease_int.h"
#include "store/store_pg_int.h"

#include "core/err.h"

#include <stdint.h>
#include <string.h>

/* Prepared-statement slots of this file: STORE_PG_SLOT_LEASE + n. */
enum {
    LE_S_TAKE,
    LE_S_EXISTS,
    LE_S_RENEW,
    LE_S_FREE,
    LE_S_GET,
    LE_S_RELEASE,
    LE_S_COUNT /* 16 at most */
};
_Static_assert(LE_S_COUNT <= 16, "the leases own 16 slots");

/* store_pg_runp for this file's slot n. */
#define LE_RUNP(sp, res, n, sql, fmt, ...)                                                         \
    store_pg_runp((sp), (res), STORE_PG_SLOT_LEASE + (n), (sql), (fmt), __VA_ARGS__)

/* ---- SQL ----------------------------------------------------------------------------------- */

#define LE_NOW "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

/* A lease is free without an owner, or once it ended (lease_until_ms before now). */
static const char SQL_TAKE[] =
    "UPDATE auctions SET owner_node = $2, lease_epoch = lease_epoch + 1, "
    "lease_until_ms = " LE_NOW " + $3 "
    "WHERE id = $1 AND (owner_node IS NULL OR owner_node = $2 OR lease_until_ms < " LE_NOW ") "
    "RETURNING lease_epoch";
static const char SQL_EXISTS[] = "SELECT 1 FROM auctions WHERE id = $1";
/* The rows are locked in id order (byte order), the order in which the auction writer's group
 * commit writes them (service_commit.c sorts a batch's rows): two transactions that lock rows of
 * one node's auctions in opposite orders would deadlock until PostgreSQL's deadlock_timeout. */
static const char SQL_RENEW[] = "UPDATE auctions SET lease_until_ms = " LE_NOW " + $2 "
                                "WHERE id IN (SELECT id FROM auctions WHERE owner_node = $1 "
                                "AND status <> 'completed' ORDER BY id COLLATE \"C\" "
                                "FOR NO KEY UPDATE) "
                                "RETURNING id, lease_epoch";
static const char SQL_FREE[] = "SELECT id FROM auctions WHERE status <> 'completed' "
                               "AND (owner_node IS NULL OR lease_until_ms < " LE_NOW ") "
                               "ORDER BY lease_until_ms, id COLLATE \"C\" LIMIT $1";
static const char SQL_GET[] = "SELECT coalesce(owner_node, ''), lease_epoch, "
                              "lease_until_ms - " LE_NOW " FROM auctions WHERE id = $1";
static const char SQL_RELEASE[] = "UPDATE auctions SET owner_node = NULL, lease_until_ms = 0 "
                                  "WHERE id = $1 AND owner_node = $2 AND lease_epoch = $3";

/* ---- leases -------------------------------------------------------------------------------- */

/* When it took nothing, a read tells a missing auction from another node's running lease. */
static int pg_lease_take(store_t *s, const char *auction_id, const char *node, int64_t ttl_ms,
                         int64_t *epoch)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    int err = LE_RUNP(sp, &res, LE_S_TAKE, SQL_TAKE, "tti", auction_id, node, ttl_ms);
    if (err != 0)
        return err;
    int taken = PQntuples(res) > 0;
    if (taken)
        *epoch = store_pg_col_i64(res, 0, 0);
    PQclear(res);
    if (taken)
        return 0;
    err = LE_RUNP(sp, &res, LE_S_EXISTS, SQL_EXISTS, "t", auction_id);
    if (err != 0)
        return err;
    int found = PQntuples(res) > 0;
    PQclear(res);
    return found ? GV_ECONFLICT : GV_ENOT_FOUND;
}

static int pg_lease_renew(store_t *s, const char *node, int64_t ttl_ms, store_lease_renew_fn fn,
                          void *ctx)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    int err = LE_RUNP(sp, &res, LE_S_RENEW, SQL_RENEW, "ti", node, ttl_ms);
    if (err != 0)
        return err;
    for (int i = 0, n = PQntuples(res); err == 0 && i < n; i++)
        err = fn(ctx, PQgetvalue(res, i, 0), store_pg_col_i64(res, i, 1));
    PQclear(res);
    return err;
}

static int pg_lease_free_each(store_t *s, int limit, store_lease_free_fn fn, void *ctx)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    int64_t max = limit > 0 ? limit : INT64_MAX;
    int err = LE_RUNP(sp, &res, LE_S_FREE, SQL_FREE, "i", max);
    if (err != 0)
        return err;
    for (int i = 0, n = PQntuples(res); err == 0 && i < n; i++)
        err = fn(ctx, PQgetvalue(res, i, 0));
    PQclear(res);
    return err;
}

static int pg_lease_get(store_t *s, const char *auction_id, store_lease_t *out)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *res = NULL;
    int err = LE_RUNP(sp, &res, LE_S_GET, SQL_GET, "t", auction_id);
    if (err != 0)
        return err;
    if (PQntuples(res) == 0) {
        err = GV_ENOT_FOUND;
    } else {
        err = store_pg_col_text(sp, res, 0, 0, out->owner, sizeof(out->owner));
        out->epoch = store_pg_col_i64(res, 0, 1);
        out->remaining_ms = store_pg_col_i64(res, 0, 2);
    }
    PQclear(res);
    return err;
}

/* No row changed (another epoch, another owner, no auction) is a success too. */
static int pg_lease_release(store_t *s, const char *auction_id, const char *node, int64_t epoch)
{
    store_pg_t *sp = store_pg_of(s);
    return LE_RUNP(sp, NULL, LE_S_RELEASE, SQL_RELEASE, "tti", auction_id, node, epoch);
}

_Static_assert(STORE_PG_SLOT_LEASE + 16 <= STORE_PG_SLOTS, "the leases' slots exist");

const struct store_lease_ops_s store_pg_lease_ops = {
    .take = pg_lease_take,
    .renew = pg_lease_renew,
    .free_each = pg_lease_free_each,
    .get = pg_lease_get,
    .release = pg_lease_release,
};
