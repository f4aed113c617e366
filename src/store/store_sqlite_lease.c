/* The leases queries of the SQLite backend (the lease columns of auctions, sql/010): one
 * statement each, cached, bound parameters only. "Now" is SQLite's own clock in milliseconds
 * since 1970 (LE_NOW), never the caller's; SQLite keeps it the same for one statement. */
#include "store/store_lease_int.h"
#include "store/store_sqlite_int.h"

#include "core/err.h"

#include <stdlib.h>
#include <string.h>

/* ---- SQL ----------------------------------------------------------------------------------- */

#define LE_NOW "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"

/* A lease is free without an owner, or once it ended (lease_until_ms before now). */
static const char SQL_TAKE[] =
    "UPDATE auctions SET owner_node = ?2, lease_epoch = lease_epoch + 1, "
    "lease_until_ms = " LE_NOW " + ?3 "
    "WHERE id = ?1 AND (owner_node IS NULL OR owner_node = ?2 OR lease_until_ms < " LE_NOW ") "
    "RETURNING lease_epoch";
static const char SQL_EXISTS[] = "SELECT 1 FROM auctions WHERE id = ?1";
static const char SQL_RENEW[] = "UPDATE auctions SET lease_until_ms = " LE_NOW " + ?2 "
                                "WHERE owner_node = ?1 AND status <> 'completed' "
                                "RETURNING id, lease_epoch";
/* LIMIT -1: no limit. */
static const char SQL_FREE[] =
    "SELECT id FROM auctions WHERE status <> 'completed' "
    "AND (owner_node IS NULL OR lease_until_ms < " LE_NOW ") ORDER BY lease_until_ms, id LIMIT ?1";
static const char SQL_GET[] =
    "SELECT owner_node, lease_epoch, lease_until_ms - " LE_NOW " FROM auctions WHERE id = ?1";
static const char SQL_RELEASE[] = "UPDATE auctions SET owner_node = NULL, lease_until_ms = 0 "
                                  "WHERE id = ?1 AND owner_node = ?2 AND lease_epoch = ?3";

/* ---- helpers ------------------------------------------------------------------------------- */

/* What a walk read: ids (and epochs) copied before any callback runs. */
typedef struct {
    char (*ids)[STORE_ID_MAX];
    int64_t *epochs;
    size_t n, cap;
} le_rows_t;

static void le_rows_free(le_rows_t *r)
{
    free(r->ids);
    free(r->epochs);
}

/* Appends the current row's id (column 0) and, when with_epoch, its epoch (column 1). */
static int le_rows_push(store_sqlite_t *ss, sqlite3_stmt *stmt, le_rows_t *r, int with_epoch)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        char(*ids)[STORE_ID_MAX] = realloc(r->ids, cap * sizeof(*ids));
        if (ids == NULL)
            return GV_ENOMEM;
        r->ids = ids;
        int64_t *epochs = realloc(r->epochs, cap * sizeof(*epochs));
        if (epochs == NULL)
            return GV_ENOMEM;
        r->epochs = epochs;
        r->cap = cap;
    }
    int err = store_sqlite_col_text(ss, stmt, 0, r->ids[r->n], STORE_ID_MAX);
    if (err != 0)
        return err;
    r->epochs[r->n++] = with_epoch ? sqlite3_column_int64(stmt, 1) : 0;
    return 0;
}

/* Steps a bound statement to its end, keeping every row; resets it. 0 or GV_E*. */
static int le_rows_read(store_sqlite_t *ss, sqlite3_stmt *stmt, le_rows_t *r, int with_epoch)
{
    int err = 0, rc = SQLITE_DONE;
    while (err == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
        err = le_rows_push(ss, stmt, r, with_epoch);
    if (err == 0 && rc != SQLITE_DONE)
        err = store_sqlite_step_fail(ss, rc);
    return store_sqlite_done(stmt, err);
}

/* ---- leases -------------------------------------------------------------------------------- */

/* The statement runs to its end (its RETURNING row read on the way) before it is reset; when it
 * took nothing, a read tells a missing auction from another node's running lease. */
static int sqlite_lease_take(store_t *s, const char *auction_id, const char *node, int64_t ttl_ms,
                             int64_t *epoch)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_TAKE, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "tti", auction_id, node, ttl_ms);
    if (err != 0)
        return err;
    int taken = 0, rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        *epoch = sqlite3_column_int64(stmt, 0);
        taken = 1;
    }
    err = store_sqlite_done(stmt, rc == SQLITE_DONE ? 0 : store_sqlite_step_fail(ss, rc));
    if (err != 0 || taken)
        return err;
    err = store_sqlite_stmt(ss, SQL_EXISTS, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "t", auction_id);
    if (err != 0)
        return err;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        err = GV_ECONFLICT;
    else
        err = rc == SQLITE_DONE ? GV_ENOT_FOUND : store_sqlite_step_fail(ss, rc);
    return store_sqlite_done(stmt, err);
}

/* The renewal commits (its statement reset) before fn runs. */
static int sqlite_lease_renew(store_t *s, const char *node, int64_t ttl_ms, store_lease_renew_fn fn,
                              void *ctx)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    le_rows_t r = {NULL, NULL, 0, 0};
    int err = store_sqlite_stmt(ss, SQL_RENEW, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "ti", node, ttl_ms);
    if (err == 0)
        err = le_rows_read(ss, stmt, &r, 1);
    for (size_t i = 0; err == 0 && i < r.n; i++)
        err = fn(ctx, r.ids[i], r.epochs[i]);
    le_rows_free(&r);
    return err;
}

static int sqlite_lease_free_each(store_t *s, int limit, store_lease_free_fn fn, void *ctx)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    le_rows_t r = {NULL, NULL, 0, 0};
    int err = store_sqlite_stmt(ss, SQL_FREE, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "n", limit > 0 ? limit : -1);
    if (err == 0)
        err = le_rows_read(ss, stmt, &r, 0);
    for (size_t i = 0; err == 0 && i < r.n; i++)
        err = fn(ctx, r.ids[i]);
    le_rows_free(&r);
    return err;
}

static int sqlite_lease_get(store_t *s, const char *auction_id, store_lease_t *out)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_GET, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "t", auction_id);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        err = store_sqlite_col_text(ss, stmt, 0, out->owner, sizeof(out->owner));
        out->epoch = sqlite3_column_int64(stmt, 1);
        out->remaining_ms = sqlite3_column_int64(stmt, 2);
    } else {
        err = rc == SQLITE_DONE ? GV_ENOT_FOUND : store_sqlite_step_fail(ss, rc);
    }
    return store_sqlite_done(stmt, err);
}

/* No row changed (another epoch, another owner, no auction) is a success too. */
static int sqlite_lease_release(store_t *s, const char *auction_id, const char *node, int64_t epoch)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_RELEASE, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "tti", auction_id, node, epoch);
    return err != 0 ? err : store_sqlite_write(ss, stmt, NULL);
}

const struct store_lease_ops_s store_sqlite_lease_ops = {
    .take = sqlite_lease_take,
    .renew = sqlite_lease_renew,
    .free_each = sqlite_lease_free_each,
    .get = sqlite_lease_get,
    .release = sqlite_lease_release,
};
