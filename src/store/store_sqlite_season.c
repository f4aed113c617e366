/* The season queries of the SQLite backend (tables of sql/008_season.sql): fixtures with the
 * assets' current names, cricket lines, scoring overrides. Cached statements, bound parameters. */
#include "store/store_season_int.h"
#include "store/store_sqlite_int.h"

#include "core/err.h"

#include <string.h>

#define FX_COLS                                                                                    \
    "SELECT f.id, f.league_id, f.external_id, f.starts_ms, f.home_asset_id, f.away_asset_id, "     \
    "h.name, a.name, f.venue, f.round, f.status, f.home_goals, f.away_goals FROM fixtures f "      \
    "JOIN assets h ON h.id = f.home_asset_id JOIN assets a ON a.id = f.away_asset_id "

static const char SQL_FX_BY_ID[] = FX_COLS "WHERE f.league_id = ?1 AND f.id = ?2";
static const char SQL_FX_BY_EXT[] = FX_COLS "WHERE f.league_id = ?1 AND f.external_id = ?2";
static const char SQL_FX_PAGE[] =
    FX_COLS "WHERE f.league_id = ?1 AND (f.starts_ms, f.id) > (?2, ?3) "
            "ORDER BY f.starts_ms, f.id LIMIT ?4";
static const char SQL_FX_NEXT[] =
    FX_COLS "WHERE f.league_id = ?1 AND (f.home_asset_id = ?2 OR f.away_asset_id = ?2) AND "
            "(f.status = 'live' OR (f.status = 'scheduled' AND f.starts_ms >= ?3)) "
            "ORDER BY f.starts_ms, f.id LIMIT 1";
static const char SQL_FX_ALL[] = FX_COLS "WHERE f.league_id = ?1 ORDER BY f.starts_ms, f.id";
static const char SQL_FX_RESULTS[] =
    "SELECT home_asset_id, away_asset_id, home_goals, away_goals, starts_ms FROM fixtures "
    "WHERE league_id = ?1 AND status = 'finished' AND home_goals IS NOT NULL AND "
    "away_goals IS NOT NULL ORDER BY starts_ms, id";
static const char SQL_FX_INSERT[] =
    "INSERT INTO fixtures(id, league_id, external_id, starts_ms, home_asset_id, away_asset_id, "
    "venue, round, status, home_goals, away_goals, updated_ms) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
static const char SQL_FX_UPDATE[] =
    "UPDATE fixtures SET external_id = ?3, starts_ms = ?4, home_asset_id = ?5, "
    "away_asset_id = ?6, venue = ?7, round = ?8, status = ?9, home_goals = ?10, "
    "away_goals = ?11, updated_ms = ?12 WHERE id = ?1 AND league_id = ?2";
static const char SQL_FX_DELETE[] = "DELETE FROM fixtures WHERE league_id = ?1 AND id = ?2";
static const char SQL_CK_UPSERT[] =
    "INSERT INTO cricket_lines(league_id, external_id, asset_id, runs, wickets, catches, "
    "stumpings, run_outs, updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT(league_id, external_id, asset_id) DO UPDATE SET runs = excluded.runs, "
    "wickets = excluded.wickets, catches = excluded.catches, stumpings = excluded.stumpings, "
    "run_outs = excluded.run_outs, updated_ms = excluded.updated_ms "
    "WHERE (runs, wickets, catches, stumpings, run_outs) IS NOT (excluded.runs, "
    "excluded.wickets, excluded.catches, excluded.stumpings, excluded.run_outs)";
static const char SQL_CK_EXISTS[] = "SELECT 1 FROM cricket_lines WHERE league_id = ?1 AND "
                                    "external_id = ?2 AND asset_id = ?3";
static const char SQL_CK_ALL[] =
    "SELECT league_id, external_id, asset_id, runs, wickets, catches, stumpings, run_outs "
    "FROM cricket_lines WHERE league_id = ?1 ORDER BY external_id, asset_id";
static const char SQL_CK_STATS[] = "SELECT asset_id, runs, wickets, catches, stumpings, run_outs "
                                   "FROM cricket_lines WHERE league_id = ?1";
static const char SQL_SC_GET[] = "SELECT doc FROM scoring_overrides WHERE league_id = ?1";
static const char SQL_SC_SET[] = "INSERT INTO scoring_overrides(league_id, doc) VALUES(?1, ?2) "
                                 "ON CONFLICT(league_id) DO UPDATE SET doc = excluded.doc";
static const char SQL_SC_DEL[] = "DELETE FROM scoring_overrides WHERE league_id = ?1";

static int se_int_or_null(sqlite3_stmt *stmt, int col)
{
    return sqlite3_column_type(stmt, col) == SQLITE_NULL ? -1 : sqlite3_column_int(stmt, col);
}

static int se_fixture_row(store_sqlite_t *ss, sqlite3_stmt *stmt, store_fixture_t *f)
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
        int err = store_sqlite_col_text(ss, stmt, texts[i].col, texts[i].dst, texts[i].cap);
        if (err != 0)
            return err;
    }
    f->starts_ms = sqlite3_column_int64(stmt, 3);
    f->home_goals = se_int_or_null(stmt, 11);
    f->away_goals = se_int_or_null(stmt, 12);
    return 0;
}

static int se_fixture_get(store_t *s, const char *league_id, const char *key, int by_external,
                          store_fixture_t *out)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, by_external ? SQL_FX_BY_EXT : SQL_FX_BY_ID, &stmt);
    err = err ? err : store_sqlite_bind(ss, stmt, "tt", league_id, key);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        err = se_fixture_row(ss, stmt, out);
    else
        err = rc == SQLITE_DONE ? GV_ENOT_FOUND : store_sqlite_step_fail(ss, rc);
    return store_sqlite_done(stmt, err);
}

static int se_fixture_next(store_t *s, const char *league_id, const char *asset_id, int64_t now_ms,
                           store_fixture_t *out)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_FX_NEXT, &stmt);
    err = err ? err : store_sqlite_bind(ss, stmt, "tti", league_id, asset_id, now_ms);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        err = se_fixture_row(ss, stmt, out);
    else
        err = rc == SQLITE_DONE ? GV_ENOT_FOUND : store_sqlite_step_fail(ss, rc);
    return store_sqlite_done(stmt, err);
}

/* Binds f's columns as parameters 1..12 of the insert and update statements. */
static int se_fixture_bind(store_sqlite_t *ss, sqlite3_stmt *stmt, const store_fixture_t *f,
                           int64_t now_ms)
{
    int err =
        store_sqlite_bind(ss, stmt, "tttittttt", f->id, f->league_id, f->external_id, f->starts_ms,
                          f->home_asset_id, f->away_asset_id, f->venue, f->round, f->status);
    int goals[2] = {f->home_goals, f->away_goals};
    for (int i = 0; err == 0 && i < 2; i++) {
        int rc = goals[i] < 0 ? sqlite3_bind_null(stmt, 10 + i)
                              : sqlite3_bind_int(stmt, 10 + i, goals[i]);
        err = rc == SQLITE_OK ? 0 : store_sqlite_done(stmt, store_sqlite_fail(ss, rc));
    }
    return err ? err : store_sqlite_bind_from(ss, stmt, 12, "i", now_ms);
}

static int se_fixture_write(store_t *s, const char *sql, const store_fixture_t *f, int64_t now_ms)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int changes = 0;
    int err = store_sqlite_stmt(ss, sql, &stmt);
    err = err ? err : se_fixture_bind(ss, stmt, f, now_ms);
    err = err ? err : store_sqlite_write(ss, stmt, &changes);
    return err ? err : changes == 1 ? 0 : GV_ENOT_FOUND;
}

static int se_fixture_insert(store_t *s, const store_fixture_t *f, int64_t now_ms)
{
    return se_fixture_write(s, SQL_FX_INSERT, f, now_ms);
}

static int se_fixture_update(store_t *s, const store_fixture_t *f, int64_t now_ms)
{
    return se_fixture_write(s, SQL_FX_UPDATE, f, now_ms);
}

static int se_fixture_delete(store_t *s, const char *league_id, const char *id)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int changes = 0;
    int err = store_sqlite_stmt(ss, SQL_FX_DELETE, &stmt);
    err = err ? err : store_sqlite_bind(ss, stmt, "tt", league_id, id);
    err = err ? err : store_sqlite_write(ss, stmt, &changes);
    return err ? err : changes == 1 ? 0 : GV_ENOT_FOUND;
}

static int se_fixtures_list(store_t *s, const char *league_id, int64_t after_ms,
                            const char *after_id, int limit, store_fixture_t *out, size_t *n,
                            int *more)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_FX_PAGE, &stmt);
    err = err ? err : store_sqlite_bind(ss, stmt, "titn", league_id, after_ms, after_id, limit + 1);
    if (err != 0)
        return err;
    int rc = SQLITE_DONE;
    *n = 0;
    *more = 0;
    while (err == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*n == (size_t)limit) {
            *more = 1;
            break;
        }
        err = se_fixture_row(ss, stmt, &out[*n]);
        *n += err == 0;
    }
    if (err == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        err = store_sqlite_step_fail(ss, rc);
    return store_sqlite_done(stmt, err);
}

/* Reads rows with a private statement, so fn may call back into the store. */
static int se_fixtures_each(store_t *s, const char *league_id, store_fixture_fn fn, void *ctx)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_prepare(ss, SQL_FX_ALL, &stmt);
    err = err ? err : store_sqlite_bind(ss, stmt, "t", league_id);
    int rc = SQLITE_ROW;
    store_fixture_t f;
    while (err == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        err = se_fixture_row(ss, stmt, &f);
        err = err ? err : fn(ctx, &f);
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = store_sqlite_step_fail(ss, rc);
    sqlite3_finalize(stmt);
    return err;
}

static int se_results_each(store_t *s, const char *league_id, store_result_fn fn, void *ctx)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_FX_RESULTS, &stmt);
    err = err ? err : store_sqlite_bind(ss, stmt, "t", league_id);
    if (err != 0)
        return err;
    int rc = SQLITE_ROW;
    while (err == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(stmt, 0);
        const char *a = (const char *)sqlite3_column_text(stmt, 1);
        store_result_t r = {h ? h : "", a ? a : "", sqlite3_column_int(stmt, 2),
                            sqlite3_column_int(stmt, 3), sqlite3_column_int64(stmt, 4)};
        err = fn(ctx, &r);
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = store_sqlite_step_fail(ss, rc);
    return store_sqlite_done(stmt, err);
}

static int se_cricket_upsert(store_t *s, const store_cricket_line_t *l, int64_t now_ms,
                             store_upsert_t *outcome)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int existed = 0, changes = 0;
    int err = store_sqlite_stmt(ss, SQL_CK_EXISTS, &stmt);
    err = err ? err : store_sqlite_bind(ss, stmt, "ttt", l->league_id, l->external_id, l->asset_id);
    if (err == 0) {
        int rc = sqlite3_step(stmt);
        existed = rc == SQLITE_ROW;
        err = store_sqlite_done(
            stmt, rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_sqlite_step_fail(ss, rc));
    }
    err = err ? err : store_sqlite_stmt(ss, SQL_CK_UPSERT, &stmt);
    err =
        err ? err
            : store_sqlite_bind(ss, stmt, "tttiiiiii", l->league_id, l->external_id, l->asset_id,
                                l->runs, l->wickets, l->catches, l->stumpings, l->run_outs, now_ms);
    err = err ? err : store_sqlite_write(ss, stmt, &changes);
    if (err == 0)
        *outcome = !existed  ? STORE_UPSERT_CREATED
                   : changes ? STORE_UPSERT_UPDATED
                             : STORE_UPSERT_UNCHANGED;
    return err;
}

static int se_cricket_each(store_t *s, const char *league_id, store_cricket_fn fn, void *ctx)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_prepare(ss, SQL_CK_ALL, &stmt);
    err = err ? err : store_sqlite_bind(ss, stmt, "t", league_id);
    int rc = SQLITE_ROW;
    while (err == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        store_cricket_line_t l;
        memset(&l, 0, sizeof(l));
        err = store_sqlite_col_text(ss, stmt, 0, l.league_id, sizeof(l.league_id));
        err = err ? err : store_sqlite_col_text(ss, stmt, 1, l.external_id, sizeof(l.external_id));
        err = err ? err : store_sqlite_col_text(ss, stmt, 2, l.asset_id, sizeof(l.asset_id));
        int64_t *v[] = {&l.runs, &l.wickets, &l.catches, &l.stumpings, &l.run_outs};
        for (int i = 0; i < 5; i++)
            *v[i] = sqlite3_column_int64(stmt, 3 + i);
        err = err ? err : fn(ctx, &l);
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = store_sqlite_step_fail(ss, rc);
    sqlite3_finalize(stmt);
    return err;
}

static int se_cricket_stats_each(store_t *s, const char *league_id, store_cricket_stat_fn fn,
                                 void *ctx)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_CK_STATS, &stmt);
    err = err ? err : store_sqlite_bind(ss, stmt, "t", league_id);
    if (err != 0)
        return err;
    int rc = SQLITE_ROW;
    while (err == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(stmt, 0);
        store_cricket_stat_t st = {a ? a : "",
                                   sqlite3_column_int64(stmt, 1),
                                   sqlite3_column_int64(stmt, 2),
                                   sqlite3_column_int64(stmt, 3),
                                   sqlite3_column_int64(stmt, 4),
                                   sqlite3_column_int64(stmt, 5)};
        err = fn(ctx, &st);
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = store_sqlite_step_fail(ss, rc);
    return store_sqlite_done(stmt, err);
}

static int se_scoring_get(store_t *s, const char *league_id, char *out, size_t cap)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_SC_GET, &stmt);
    err = err ? err : store_sqlite_bind(ss, stmt, "t", league_id);
    if (err != 0)
        return err;
    out[0] = '\0';
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        err = store_sqlite_col_text(ss, stmt, 0, out, cap);
    else if (rc != SQLITE_DONE)
        err = store_sqlite_step_fail(ss, rc);
    return store_sqlite_done(stmt, err);
}

static int se_scoring_set(store_t *s, const char *league_id, const char *doc)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, doc[0] ? SQL_SC_SET : SQL_SC_DEL, &stmt);
    err = err      ? err
          : doc[0] ? store_sqlite_bind(ss, stmt, "tt", league_id, doc)
                   : store_sqlite_bind(ss, stmt, "t", league_id);
    return err ? err : store_sqlite_write(ss, stmt, NULL);
}

const struct store_season_ops_s store_sqlite_season_ops = {
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
