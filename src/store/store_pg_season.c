/* The season queries of the PostgreSQL backend (tables of sql/008_season.sql): fixtures with the
 * assets' current names, cricket lines, scoring overrides. The same semantics and error codes as
 * store_sqlite_season.c, with these differences of method: text keys are ordered and compared
 * byte-wise (COLLATE "C", SQLite's order); a write that SQLite lets fail on a constraint is
 * guarded here (a failed statement would abort the caller's transaction) and, when it writes
 * nothing, the reason is looked up in the order SQLite checks its constraints. Bound parameters
 * only; each statement has a prepared-statement slot of its own (see SE_RUN). */
#include "store/store_pg_int.h"
#include "store/store_season_int.h"

#include "core/err.h"

#include <stdio.h>
#include <string.h>

/* SE_RUN runs one of the statements below, prepared once per connection under its slot. */
#define SE_RUN(sp, res, slot, sql, ...) store_pg_runp((sp), (res), (slot), (sql), __VA_ARGS__)

/* Prepared-statement slots: STORE_PG_SLOT_SEASON + 0..15. */
enum {
    SE_FX_BY_ID = STORE_PG_SLOT_SEASON,
    SE_FX_BY_EXT,
    SE_FX_PAGE,
    SE_FX_NEXT,
    SE_FX_ALL,
    SE_FX_RESULTS,
    SE_FX_INSERT,
    SE_FX_UPDATE,
    SE_FX_DELETE,
    SE_CK_UPSERT,
    SE_CK_ALL,
    SE_CK_STATS,
    SE_SC_GET,
    SE_SC_SET,
    SE_SC_DEL,
};

#define FX_COLS                                                                                    \
    "SELECT f.id, f.league_id, f.external_id, f.starts_ms, f.home_asset_id, f.away_asset_id, "     \
    "h.name, a.name, f.venue, f.round, f.status, f.home_goals, f.away_goals FROM fixtures f "      \
    "JOIN assets h ON h.id = f.home_asset_id JOIN assets a ON a.id = f.away_asset_id "
#define FX_ORDER "ORDER BY f.starts_ms, f.id COLLATE \"C\" "

static const char SQL_FX_BY_ID[] = FX_COLS "WHERE f.league_id = $1::text AND f.id = $2::text";
static const char SQL_FX_BY_EXT[] =
    FX_COLS "WHERE f.league_id = $1::text AND f.external_id = $2::text";
static const char SQL_FX_PAGE[] =
    FX_COLS "WHERE f.league_id = $1::text AND "
            "(f.starts_ms, f.id COLLATE \"C\") > ($2::bigint, $3::text COLLATE \"C\") " FX_ORDER
            "LIMIT $4::bigint";
static const char SQL_FX_NEXT[] = FX_COLS
    "WHERE f.league_id = $1::text AND "
    "(f.home_asset_id = $2::text OR f.away_asset_id = $2::text) AND "
    "(f.status = 'live' OR (f.status = 'scheduled' AND f.starts_ms >= $3::bigint)) " FX_ORDER
    "LIMIT 1";
static const char SQL_FX_ALL[] = FX_COLS "WHERE f.league_id = $1::text " FX_ORDER;
static const char SQL_FX_RESULTS[] =
    "SELECT home_asset_id, away_asset_id, home_goals, away_goals, starts_ms FROM fixtures "
    "WHERE league_id = $1::text AND status = 'finished' AND home_goals IS NOT NULL AND "
    "away_goals IS NOT NULL ORDER BY starts_ms, id COLLATE \"C\"";

/* Writes only when the league and both assets exist and no key is taken: else nothing. */
static const char SQL_FX_INSERT[] =
    "INSERT INTO fixtures(id, league_id, external_id, starts_ms, home_asset_id, away_asset_id, "
    "venue, round, status, home_goals, away_goals, updated_ms) "
    "SELECT $1::text, $2::text, $3::text, $4::bigint, $5::text, $6::text, $7::text, $8::text, "
    "$9::text, $10::bigint, $11::bigint, $12::bigint "
    "WHERE EXISTS (SELECT 1 FROM leagues WHERE id = $2::text) "
    "AND EXISTS (SELECT 1 FROM assets WHERE id = $5::text) "
    "AND EXISTS (SELECT 1 FROM assets WHERE id = $6::text) ON CONFLICT DO NOTHING";
/* Writes only when both assets exist and the external id is no other fixture's. */
static const char SQL_FX_UPDATE[] =
    "UPDATE fixtures SET external_id = $3::text, starts_ms = $4::bigint, "
    "home_asset_id = $5::text, away_asset_id = $6::text, venue = $7::text, round = $8::text, "
    "status = $9::text, home_goals = $10::bigint, away_goals = $11::bigint, "
    "updated_ms = $12::bigint WHERE id = $1::text AND league_id = $2::text "
    "AND EXISTS (SELECT 1 FROM assets WHERE id = $5::text) "
    "AND EXISTS (SELECT 1 FROM assets WHERE id = $6::text) "
    "AND NOT EXISTS (SELECT 1 FROM fixtures o WHERE o.league_id = $2::text "
    "AND o.external_id = $3::text AND o.id <> $1::text)";
/* Why a fixture write wrote nothing: which of its keys and references are there. */
static const char SQL_FX_WHY[] =
    "SELECT (SELECT count(*) FROM fixtures WHERE id = $1::text), "
    "(SELECT count(*) FROM fixtures WHERE id = $1::text AND league_id = $2::text), "
    "(SELECT count(*) FROM fixtures WHERE league_id = $2::text AND external_id = $3::text "
    "AND id <> $1::text), "
    "(SELECT count(*) FROM leagues WHERE id = $2::text), "
    "(SELECT count(*) FROM assets WHERE id = $4::text), "
    "(SELECT count(*) FROM assets WHERE id = $5::text)";
static const char SQL_FX_DELETE[] =
    "DELETE FROM fixtures WHERE league_id = $1::text AND id = $2::text";

/* One statement: whether the line was there before (the statement's snapshot) and whether the
 * upsert wrote (an equal line is not rewritten). A line whose league or asset is missing is not
 * written and was not there. */
static const char SQL_CK_UPSERT[] =
    "WITH prev AS (SELECT 1 FROM cricket_lines WHERE league_id = $1::text "
    "AND external_id = $2::text AND asset_id = $3::text), "
    "up AS (INSERT INTO cricket_lines(league_id, external_id, asset_id, runs, wickets, catches, "
    "stumpings, run_outs, updated_ms) SELECT $1::text, $2::text, $3::text, $4::bigint, "
    "$5::bigint, $6::bigint, $7::bigint, $8::bigint, $9::bigint "
    "WHERE EXISTS (SELECT 1 FROM leagues WHERE id = $1::text) "
    "AND EXISTS (SELECT 1 FROM assets WHERE id = $3::text) "
    "ON CONFLICT (league_id, external_id, asset_id) DO UPDATE SET runs = excluded.runs, "
    "wickets = excluded.wickets, catches = excluded.catches, stumpings = excluded.stumpings, "
    "run_outs = excluded.run_outs, updated_ms = excluded.updated_ms "
    "WHERE (cricket_lines.runs, cricket_lines.wickets, cricket_lines.catches, "
    "cricket_lines.stumpings, cricket_lines.run_outs) IS DISTINCT FROM (excluded.runs, "
    "excluded.wickets, excluded.catches, excluded.stumpings, excluded.run_outs) RETURNING 1) "
    "SELECT (SELECT count(*) FROM prev), (SELECT count(*) FROM up)";
static const char SQL_CK_ALL[] =
    "SELECT league_id, external_id, asset_id, runs, wickets, catches, stumpings, run_outs "
    "FROM cricket_lines WHERE league_id = $1::text "
    "ORDER BY external_id COLLATE \"C\", asset_id COLLATE \"C\"";
static const char SQL_CK_STATS[] = "SELECT asset_id, runs, wickets, catches, stumpings, run_outs "
                                   "FROM cricket_lines WHERE league_id = $1::text";
static const char SQL_SC_GET[] = "SELECT doc FROM scoring_overrides WHERE league_id = $1::text";
/* Writes only when the league exists (nothing written: not found). */
static const char SQL_SC_SET[] =
    "INSERT INTO scoring_overrides(league_id, doc) SELECT $1::text, $2::text "
    "WHERE EXISTS (SELECT 1 FROM leagues WHERE id = $1::text) "
    "ON CONFLICT (league_id) DO UPDATE SET doc = excluded.doc";
static const char SQL_SC_DEL[] = "DELETE FROM scoring_overrides WHERE league_id = $1::text";

/* ---- fixtures ------------------------------------------------------------------------------- */

/* A failed write's constraint as SQLite's backend reports it (a race past the guards). */
static int se_write_fail(store_pg_t *sp, int err)
{
    if (store_pg_is(sp, "23505"))
        return GV_ECONFLICT;
    if (store_pg_is(sp, "23503"))
        return GV_ENOT_FOUND;
    if (store_pg_is(sp, "23514") || store_pg_is(sp, "23502"))
        return GV_EINVALID_REQUEST;
    return err;
}

static int se_int_or_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? -1 : (int)store_pg_col_i64(r, row, col);
}

/* Copies row of r (FX_COLS) into *f. 0 or GV_EDB. */
static int se_fixture_row(store_pg_t *sp, const PGresult *r, int row, store_fixture_t *f)
{
    memset(f, 0, sizeof(*f));
    struct {
        char *dst;
        size_t cap;
        int col;
    } texts[] = {
        {f->id, sizeof(f->id), 0},
        {f->league_id, sizeof(f->league_id), 1},
        {f->external_id, sizeof(f->external_id), 2},
        {f->home_asset_id, sizeof(f->home_asset_id), 4},
        {f->away_asset_id, sizeof(f->away_asset_id), 5},
        {f->home_name, sizeof(f->home_name), 6},
        {f->away_name, sizeof(f->away_name), 7},
        {f->venue, sizeof(f->venue), 8},
        {f->round, sizeof(f->round), 9},
        {f->status, sizeof(f->status), 10},
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        int err = store_pg_col_text(sp, r, row, texts[i].col, texts[i].dst, texts[i].cap);
        if (err != 0)
            return err;
    }
    f->starts_ms = store_pg_col_i64(r, row, 3);
    f->home_goals = se_int_or_null(r, row, 11);
    f->away_goals = se_int_or_null(r, row, 12);
    return 0;
}

/* Reads the first row of a fixture query into *out: 0, GV_ENOT_FOUND (no row) or GV_EDB*. */
static int se_fixture_one(store_pg_t *sp, PGresult *r, store_fixture_t *out)
{
    int err = PQntuples(r) == 0 ? GV_ENOT_FOUND : se_fixture_row(sp, r, 0, out);
    PQclear(r);
    return err;
}

static int se_fixture_get(store_t *s, const char *league_id, const char *key, int by_external,
                          store_fixture_t *out)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = by_external ? SE_RUN(sp, &r, SE_FX_BY_EXT, SQL_FX_BY_EXT, "tt", league_id, key)
                          : SE_RUN(sp, &r, SE_FX_BY_ID, SQL_FX_BY_ID, "tt", league_id, key);
    return err ? err : se_fixture_one(sp, r, out);
}

static int se_fixture_next(store_t *s, const char *league_id, const char *asset_id, int64_t now_ms,
                           store_fixture_t *out)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = SE_RUN(sp, &r, SE_FX_NEXT, SQL_FX_NEXT, "tti", league_id, asset_id, now_ms);
    return err ? err : se_fixture_one(sp, r, out);
}

/* 1 when the fixture table's CHECK accepts status. */
static int se_status_ok(const char *status)
{
    static const char *const ok[] = {"scheduled", "live", "finished", "postponed", "cancelled"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!strcmp(status, ok[i]))
            return 1;
    return 0;
}

/* Why writing f (update: an existing fixture's) wrote nothing, checked in SQLite's order: the
 * row to update, the CHECK constraints, the unique keys, then the foreign keys. A guard that
 * failed for a reason gone by now is a concurrent change: GV_EDB_BUSY, to be retried. */
static int se_fixture_why(store_pg_t *sp, const store_fixture_t *f, int update)
{
    PGresult *r = NULL;
    int err = store_pg_run(sp, &r, SQL_FX_WHY, "ttttt", f->id, f->league_id, f->external_id,
                           f->home_asset_id, f->away_asset_id);
    if (err != 0)
        return err;
    int64_t c[6];
    for (int i = 0; i < 6; i++)
        c[i] = store_pg_col_i64(r, 0, i);
    PQclear(r);
    int id_taken = c[0] > 0, in_league = c[1] > 0, ext_taken = c[2] > 0;
    int refs_ok = (update || c[3] > 0) && c[4] > 0 && c[5] > 0;
    if (update && !in_league)
        return GV_ENOT_FOUND;
    if (!se_status_ok(f->status))
        return GV_EINVALID_REQUEST;
    if (ext_taken || (!update && id_taken))
        return GV_ECONFLICT;
    if (!refs_ok)
        return GV_ENOT_FOUND;
    snprintf(sp->err, sizeof(sp->err), "fixture %s changed while being written", f->id);
    return GV_EDB_BUSY;
}

/* Runs the guarded insert or update of f: 0 when it wrote the row, else why it did not. */
static int se_fixture_write(store_t *s, int update, const store_fixture_t *f, int64_t now_ms)
{
    store_pg_t *sp = store_pg_of(s);
    if (!se_status_ok(f->status))
        return se_fixture_why(sp, f, update); /* SQLite's CHECK, after the row is found */
    char goals[2][16];
    const char *g[2] = {NULL, NULL}; /* NULL: no goals */
    int v[2] = {f->home_goals, f->away_goals};
    for (int i = 0; i < 2; i++)
        if (v[i] >= 0) {
            snprintf(goals[i], sizeof(goals[i]), "%d", v[i]);
            g[i] = goals[i];
        }
    PGresult *r = NULL;
    int err =
        SE_RUN(sp, &r, update ? SE_FX_UPDATE : SE_FX_INSERT, update ? SQL_FX_UPDATE : SQL_FX_INSERT,
               "tttittttttti", f->id, f->league_id, f->external_id, f->starts_ms, f->home_asset_id,
               f->away_asset_id, f->venue, f->round, f->status, g[0], g[1], now_ms);
    if (err != 0)
        return se_write_fail(sp, err);
    int changes = store_pg_changes(r);
    PQclear(r);
    return changes == 1 ? 0 : se_fixture_why(sp, f, update);
}

static int se_fixture_insert(store_t *s, const store_fixture_t *f, int64_t now_ms)
{
    return se_fixture_write(s, 0, f, now_ms);
}

static int se_fixture_update(store_t *s, const store_fixture_t *f, int64_t now_ms)
{
    return se_fixture_write(s, 1, f, now_ms);
}

static int se_fixture_delete(store_t *s, const char *league_id, const char *id)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = SE_RUN(sp, &r, SE_FX_DELETE, SQL_FX_DELETE, "tt", league_id, id);
    if (err != 0)
        return se_write_fail(sp, err);
    err = store_pg_changes(r) == 1 ? 0 : GV_ENOT_FOUND;
    PQclear(r);
    return err;
}

/* Reads one row more than limit to know whether more follow. */
static int se_fixtures_list(store_t *s, const char *league_id, int64_t after_ms,
                            const char *after_id, int limit, store_fixture_t *out, size_t *n,
                            int *more)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    *n = 0;
    *more = 0;
    int err = SE_RUN(sp, &r, SE_FX_PAGE, SQL_FX_PAGE, "titi", league_id, after_ms, after_id,
                     (int64_t)limit + 1);
    if (err != 0)
        return err;
    int rows = PQntuples(r);
    for (int i = 0; err == 0 && i < rows && i < limit; i++) {
        err = se_fixture_row(sp, r, i, &out[i]);
        *n += err == 0;
    }
    *more = err == 0 && rows > limit;
    PQclear(r);
    return err;
}

/* All rows are read before fn runs, so fn may call back into the store. */
static int se_fixtures_each(store_t *s, const char *league_id, store_fixture_fn fn, void *ctx)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = SE_RUN(sp, &r, SE_FX_ALL, SQL_FX_ALL, "t", league_id);
    if (err != 0)
        return err;
    store_fixture_t f;
    for (int i = 0, rows = PQntuples(r); err == 0 && i < rows; i++) {
        err = se_fixture_row(sp, r, i, &f);
        err = err ? err : fn(ctx, &f);
    }
    PQclear(r);
    return err;
}

static int se_results_each(store_t *s, const char *league_id, store_result_fn fn, void *ctx)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = SE_RUN(sp, &r, SE_FX_RESULTS, SQL_FX_RESULTS, "t", league_id);
    if (err != 0)
        return err;
    for (int i = 0, rows = PQntuples(r); err == 0 && i < rows; i++) {
        store_result_t res = {PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                              (int)store_pg_col_i64(r, i, 2), (int)store_pg_col_i64(r, i, 3),
                              store_pg_col_i64(r, i, 4)};
        err = fn(ctx, &res);
    }
    PQclear(r);
    return err;
}

/* ---- cricket lines -------------------------------------------------------------------------- */

/* Why an upsert neither found nor wrote l: an equal line committed by another connection after
 * the statement's snapshot (unchanged), else its league or asset is missing (SQLite's foreign
 * key: GV_ENOT_FOUND). */
static int se_cricket_unwritten(store_pg_t *sp, const store_cricket_line_t *l,
                                store_upsert_t *outcome)
{
    PGresult *r = NULL;
    int err = store_pg_run(sp, &r,
                           "SELECT count(*) FROM cricket_lines WHERE league_id = $1::text "
                           "AND external_id = $2::text AND asset_id = $3::text",
                           "ttt", l->league_id, l->external_id, l->asset_id);
    if (err != 0)
        return err;
    int there = store_pg_col_i64(r, 0, 0) > 0;
    PQclear(r);
    if (there)
        *outcome = STORE_UPSERT_UNCHANGED;
    return there ? 0 : GV_ENOT_FOUND;
}

/* Created when the line was not there before, updated when the upsert wrote, else unchanged;
 * neither there nor written: its league or asset is missing (SQLite's foreign key). */
static int se_cricket_upsert(store_t *s, const store_cricket_line_t *l, int64_t now_ms,
                             store_upsert_t *outcome)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err =
        SE_RUN(sp, &r, SE_CK_UPSERT, SQL_CK_UPSERT, "tttiiiiii", l->league_id, l->external_id,
               l->asset_id, l->runs, l->wickets, l->catches, l->stumpings, l->run_outs, now_ms);
    if (err != 0)
        return se_write_fail(sp, err);
    int existed = store_pg_col_i64(r, 0, 0) > 0, wrote = store_pg_col_i64(r, 0, 1) > 0;
    PQclear(r);
    if (!existed && !wrote)
        return se_cricket_unwritten(sp, l, outcome);
    *outcome = !existed ? STORE_UPSERT_CREATED
               : wrote  ? STORE_UPSERT_UPDATED
                        : STORE_UPSERT_UNCHANGED;
    return 0;
}

/* Copies row of r (SQL_CK_ALL) into *l. 0 or GV_EDB. */
static int se_cricket_row(store_pg_t *sp, const PGresult *r, int row, store_cricket_line_t *l)
{
    memset(l, 0, sizeof(*l));
    int err = store_pg_col_text(sp, r, row, 0, l->league_id, sizeof(l->league_id));
    err = err ? err : store_pg_col_text(sp, r, row, 1, l->external_id, sizeof(l->external_id));
    err = err ? err : store_pg_col_text(sp, r, row, 2, l->asset_id, sizeof(l->asset_id));
    int64_t *v[] = {&l->runs, &l->wickets, &l->catches, &l->stumpings, &l->run_outs};
    for (int i = 0; i < 5; i++)
        *v[i] = store_pg_col_i64(r, row, 3 + i);
    return err;
}

/* All rows are read before fn runs, so fn may call back into the store. */
static int se_cricket_each(store_t *s, const char *league_id, store_cricket_fn fn, void *ctx)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = SE_RUN(sp, &r, SE_CK_ALL, SQL_CK_ALL, "t", league_id);
    if (err != 0)
        return err;
    store_cricket_line_t l;
    for (int i = 0, rows = PQntuples(r); err == 0 && i < rows; i++) {
        err = se_cricket_row(sp, r, i, &l);
        err = err ? err : fn(ctx, &l);
    }
    PQclear(r);
    return err;
}

static int se_cricket_stats_each(store_t *s, const char *league_id, store_cricket_stat_fn fn,
                                 void *ctx)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = SE_RUN(sp, &r, SE_CK_STATS, SQL_CK_STATS, "t", league_id);
    if (err != 0)
        return err;
    for (int i = 0, rows = PQntuples(r); err == 0 && i < rows; i++) {
        store_cricket_stat_t st = {PQgetvalue(r, i, 0),       store_pg_col_i64(r, i, 1),
                                   store_pg_col_i64(r, i, 2), store_pg_col_i64(r, i, 3),
                                   store_pg_col_i64(r, i, 4), store_pg_col_i64(r, i, 5)};
        err = fn(ctx, &st);
    }
    PQclear(r);
    return err;
}

/* ---- scoring overrides ---------------------------------------------------------------------- */

static int se_scoring_get(store_t *s, const char *league_id, char *out, size_t cap)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    out[0] = '\0';
    int err = SE_RUN(sp, &r, SE_SC_GET, SQL_SC_GET, "t", league_id);
    if (err != 0)
        return err;
    if (PQntuples(r) > 0)
        err = store_pg_col_text(sp, r, 0, 0, out, cap);
    if (err != 0)
        out[0] = '\0';
    PQclear(r);
    return err;
}

/* "" deletes the document (no league: nothing to delete, 0); a document for a league that does
 * not exist is GV_ENOT_FOUND (SQLite's foreign key). */
static int se_scoring_set(store_t *s, const char *league_id, const char *doc)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = doc[0] ? SE_RUN(sp, &r, SE_SC_SET, SQL_SC_SET, "tt", league_id, doc)
                     : SE_RUN(sp, &r, SE_SC_DEL, SQL_SC_DEL, "t", league_id);
    if (err != 0)
        return se_write_fail(sp, err);
    err = doc[0] && store_pg_changes(r) == 0 ? GV_ENOT_FOUND : 0;
    PQclear(r);
    return err;
}

const struct store_season_ops_s store_pg_season_ops = {
    .fixture_get = se_fixture_get,
    .fixture_next = se_fixture_next,
    .fixture_insert = se_fixture_insert,
    .fixture_update = se_fixture_update,
    .fixture_delete = se_fixture_delete,
    .fixtures_list = se_fixtures_list,
    .fixtures_each = se_fixtures_each,
    .results_each = se_results_each,
    .cricket_upsert = se_cricket_upsert,
    .cricket_each = se_cricket_each,
    .cricket_stats_each = se_cricket_stats_each,
    .scoring_get = se_scoring_get,
    .scoring_set = se_scoring_set,
};
