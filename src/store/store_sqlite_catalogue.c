/* The catalogue queries of the SQLite backend: sports, competitions with their asset counts,
 * assets with keyset paging (name case-insensitively, then id) and literal substring search,
 * idempotent upserts that tell created, updated and unchanged apart, and the meta table. */
#include "store/store_catalogue_int.h"
#include "store/store_sqlite_int.h"

#include "core/err.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_ASSET_COLS                                                                             \
    "a.id, a.sport, a.name, a.short_name, a.country, a.team, a.role, a.provider_ids, "             \
    "(SELECT json_group_array(competition) FROM (SELECT competition FROM asset_competitions "      \
    "WHERE asset_id = a.id ORDER BY competition))"

static int sq_limit(size_t max)
{
    return max > INT_MAX ? INT_MAX : (int)max;
}

/* Steps a statement expected to give one row: 0 on a row (left unreset), GV_ENOT_FOUND on none
 * (reset), GV_E* on failure (reset). */
static int sq_row(store_sqlite_t *ss, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        return 0;
    return store_sqlite_done(stmt, rc == SQLITE_DONE ? GV_ENOT_FOUND : store_sqlite_fail(ss, rc));
}

/* ---- sports and competitions ----------------------------------------------------------------- */

static int sq_sport_row(store_sqlite_t *ss, sqlite3_stmt *st, store_sport_t *o)
{
    int err = store_sqlite_col_text(ss, st, 0, o->key, sizeof(o->key));
    err = err ? err : store_sqlite_col_text(ss, st, 1, o->name, sizeof(o->name));
    err = err ? err : store_sqlite_col_text(ss, st, 2, o->asset_label, sizeof(o->asset_label));
    err = err ? err : store_sqlite_col_text(ss, st, 3, o->asset_plural, sizeof(o->asset_plural));
    return err ? err : store_sqlite_col_text(ss, st, 4, o->scoring, sizeof(o->scoring));
}

static int sq_sports_list(store_t *s, store_sport_t *out, size_t max, size_t *n)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *st;
    int err = store_sqlite_stmt(ss,
                                "SELECT key, name, asset_label, asset_plural, scoring FROM sports "
                                "ORDER BY key LIMIT ?1",
                                &st);
    err = err ? err : store_sqlite_bind(ss, st, "n", sq_limit(max));
    if (err != 0)
        return err;
    int rc = SQLITE_DONE;
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        err = sq_sport_row(ss, st, &out[(*n)++]);
    if (err == 0 && rc != SQLITE_DONE)
        err = store_sqlite_fail(ss, rc);
    return store_sqlite_done(st, err);
}

static int sq_comp_row(store_sqlite_t *ss, sqlite3_stmt *st, store_competition_t *o)
{
    int err = store_sqlite_col_text(ss, st, 0, o->code, sizeof(o->code));
    err = err ? err : store_sqlite_col_text(ss, st, 1, o->sport, sizeof(o->sport));
    err = err ? err : store_sqlite_col_text(ss, st, 2, o->name, sizeof(o->name));
    err = err ? err : store_sqlite_col_text(ss, st, 3, o->season, sizeof(o->season));
    o->asset_count = sqlite3_column_int(st, 4);
    return err;
}

#define SQL_COMP_COLS                                                                              \
    "c.code, c.sport, c.name, c.season, "                                                          \
    "(SELECT count(*) FROM asset_competitions ac WHERE ac.competition = c.code)"

static int sq_competitions_list(store_t *s, const char *sport, store_competition_t *out, size_t max,
                                size_t *n)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *st;
    int err = store_sqlite_stmt(ss,
                                "SELECT " SQL_COMP_COLS " FROM competitions c "
                                "WHERE ?1 IS NULL OR c.sport = ?1 ORDER BY c.code LIMIT ?2",
                                &st);
    err = err ? err : store_sqlite_bind(ss, st, "tn", sport, sq_limit(max));
    if (err != 0)
        return err;
    int rc = SQLITE_DONE;
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        err = sq_comp_row(ss, st, &out[(*n)++]);
    if (err == 0 && rc != SQLITE_DONE)
        err = store_sqlite_fail(ss, rc);
    return store_sqlite_done(st, err);
}

static int sq_competition_get(store_t *s, const char *code, store_competition_t *out)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *st;
    int err =
        store_sqlite_stmt(ss, "SELECT " SQL_COMP_COLS " FROM competitions c WHERE code = ?1", &st);
    err = err ? err : store_sqlite_bind(ss, st, "t", code);
    err = err ? err : sq_row(ss, st);
    if (err != 0)
        return err;
    return store_sqlite_done(st, sq_comp_row(ss, st, out));
}

/* The sport of competition code into sport (STORE_KEY_MAX). 0, GV_ENOT_FOUND or GV_EDB*. */
static int sq_comp_sport(store_sqlite_t *ss, const char *code, char *sport)
{
    sqlite3_stmt *st;
    int err = store_sqlite_stmt(ss, "SELECT sport FROM competitions WHERE code = ?1", &st);
    err = err ? err : store_sqlite_bind(ss, st, "t", code);
    err = err ? err : sq_row(ss, st);
    return err ? err
               : store_sqlite_done(st, store_sqlite_col_text(ss, st, 0, sport, STORE_KEY_MAX));
}

/* 0 when sport exists, GV_EINVALID_REQUEST when not. */
static int sq_sport_exists(store_sqlite_t *ss, const char *sport)
{
    sqlite3_stmt *st;
    int err = store_sqlite_stmt(ss, "SELECT 1 FROM sports WHERE key = ?1", &st);
    err = err ? err : store_sqlite_bind(ss, st, "t", sport);
    err = err ? err : sq_row(ss, st);
    if (err == GV_ENOT_FOUND)
        return GV_EINVALID_REQUEST;
    return err ? err : store_sqlite_done(st, 0);
}

static int sq_competition_save_tx(store_t *s, const store_competition_t *c, store_upsert_t *outcome)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    store_competition_t cur;
    sqlite3_stmt *st;
    int err = sq_sport_exists(ss, c->sport);
    err = err ? err : sq_competition_get(s, c->code, &cur);
    if (err != 0 && err != GV_ENOT_FOUND)
        return err;
    if (err == 0 && strcmp(cur.sport, c->sport) != 0)
        return GV_ECONFLICT;
    if (err == 0 && strcmp(cur.name, c->name) == 0 && strcmp(cur.season, c->season) == 0) {
        *outcome = STORE_UPSERT_UNCHANGED;
        return 0;
    }
    *outcome = err == 0 ? STORE_UPSERT_UPDATED : STORE_UPSERT_CREATED;
    err = store_sqlite_stmt(ss,
                            "INSERT INTO competitions(code, sport, name, season) "
                            "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(code) DO UPDATE SET "
                            "name = excluded.name, season = excluded.season",
                            &st);
    err = err ? err : store_sqlite_bind(ss, st, "tttt", c->code, c->sport, c->name, c->season);
    return err ? err : store_sqlite_exec_stmt(ss, st);
}

/* ---- assets ---------------------------------------------------------------------------------- */

static int sq_asset_row(store_sqlite_t *ss, sqlite3_stmt *st, store_asset_t *o)
{
    struct {
        char *dst;
        size_t cap;
    } cols[] = {
        {o->id, sizeof(o->id)},
        {o->sport, sizeof(o->sport)},
        {o->name, sizeof(o->name)},
        {o->short_name, sizeof(o->short_name)},
        {o->country, sizeof(o->country)},
        {o->team, sizeof(o->team)},
        {o->role, sizeof(o->role)},
        {o->provider_ids, sizeof(o->provider_ids)},
        {o->competitions, sizeof(o->competitions)},
    };
    int err = 0;
    for (int i = 0; err == 0 && i < (int)(sizeof(cols) / sizeof(cols[0])); i++)
        err = store_sqlite_col_text(ss, st, i, cols[i].dst, cols[i].cap);
    return err;
}

static int sq_asset_get(store_t *s, const char *id, store_asset_t *out)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *st;
    int err = store_sqlite_stmt(ss, "SELECT " SQL_ASSET_COLS " FROM assets a WHERE a.id = ?1", &st);
    err = err ? err : store_sqlite_bind(ss, st, "t", id);
    err = err ? err : sq_row(ss, st);
    return err ? err : store_sqlite_done(st, sq_asset_row(ss, st, out));
}

/* q as a LIKE pattern matching it literally anywhere: %q% with %, _ and \ escaped by \. The
 * caller frees the result. */
static char *sq_like_pattern(const char *q)
{
    size_t n = strlen(q);
    char *p = malloc(2 * n + 3);
    if (p == NULL)
        return NULL;
    size_t j = 0;
    p[j++] = '%';
    for (size_t i = 0; i < n; i++) {
        if (q[i] == '%' || q[i] == '_' || q[i] == '\\')
            p[j++] = '\\';
        p[j++] = q[i];
    }
    p[j++] = '%';
    p[j] = '\0';
    return p;
}

/* One page: LIMIT max + 1 tells whether more rows follow. The key comparison uses the ORDER
 * BY's collation, so a page starts exactly after the last row of the previous one. */
static int sq_assets_list(store_t *s, const store_asset_query_t *q, store_asset_t *out, size_t max,
                          size_t *n, int *more)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *st = NULL;
    char *like = q->q != NULL ? sq_like_pattern(q->q) : NULL;
    if (q->q != NULL && like == NULL)
        return GV_ENOMEM;
    int err = store_sqlite_stmt(ss,
                                "SELECT " SQL_ASSET_COLS " FROM assets a "
                                "WHERE (?1 IS NULL OR a.sport = ?1) "
                                "AND (?2 IS NULL OR EXISTS (SELECT 1 FROM asset_competitions c "
                                "WHERE c.competition = ?2 AND c.asset_id = a.id)) "
                                "AND (?3 IS NULL OR a.name LIKE ?3 ESCAPE '\\') "
                                "AND (?4 IS NULL OR (a.name COLLATE NOCASE, a.id) > (?4, ?5)) "
                                "ORDER BY a.name COLLATE NOCASE, a.id LIMIT ?6",
                                &st);
    err = err ? err
              : store_sqlite_bind(ss, st, "tttttn", q->sport, q->competition, like, q->after_name,
                                  q->after_id, sq_limit(max) + 1);
    int rc = SQLITE_DONE;
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == max) {
            *more = 1;
            break;
        }
        err = sq_asset_row(ss, st, &out[(*n)++]);
    }
    if (err == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        err = store_sqlite_fail(ss, rc);
    if (st != NULL)
        store_sqlite_done(st, 0);
    free(like);
    return err;
}

/* Each code must name a competition of sport. */
static int sq_codes_check(store_sqlite_t *ss, const char *sport, const char *const *codes, size_t n)
{
    char comp_sport[STORE_KEY_MAX];
    for (size_t i = 0; i < n; i++) {
        int err = sq_comp_sport(ss, codes[i], comp_sport);
        if (err == GV_ENOT_FOUND || (err == 0 && strcmp(comp_sport, sport) != 0))
            return GV_EINVALID_REQUEST;
        if (err != 0)
            return err;
    }
    return 0;
}

/* *same is 1 when the asset's memberships are exactly codes (sorted, unique). */
static int sq_codes_same(store_sqlite_t *ss, const char *id, const char *const *codes, size_t n,
                         int *same)
{
    sqlite3_stmt *st;
    int err = store_sqlite_stmt(ss,
                                "SELECT competition FROM asset_competitions WHERE asset_id = ?1 "
                                "ORDER BY competition",
                                &st);
    err = err ? err : store_sqlite_bind(ss, st, "t", id);
    if (err != 0)
        return err;
    size_t i = 0;
    int rc = SQLITE_DONE;
    *same = 1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *same) {
        const char *code = (const char *)sqlite3_column_text(st, 0);
        *same = i < n && code != NULL && strcmp(code, codes[i]) == 0;
        i++;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return store_sqlite_done(st, store_sqlite_fail(ss, rc));
    *same = *same && i == n;
    return store_sqlite_done(st, 0);
}

static int sq_codes_write(store_sqlite_t *ss, const char *id, const char *const *codes, size_t n)
{
    sqlite3_stmt *del, *ins;
    int err = store_sqlite_stmt(ss, "DELETE FROM asset_competitions WHERE asset_id = ?1", &del);
    err = err ? err
              : store_sqlite_stmt(ss,
                                  "INSERT INTO asset_competitions(competition, asset_id) "
                                  "VALUES(?1, ?2)",
                                  &ins);
    err = err ? err : store_sqlite_bind(ss, del, "t", id);
    err = err ? err : store_sqlite_exec_stmt(ss, del);
    for (size_t i = 0; err == 0 && i < n; i++) {
        err = store_sqlite_bind(ss, ins, "tt", codes[i], id);
        err = err ? err : store_sqlite_exec_stmt(ss, ins);
    }
    return err;
}

static int sq_asset_fields_same(const store_asset_t *a, const store_asset_t *b)
{
    return strcmp(a->name, b->name) == 0 && strcmp(a->short_name, b->short_name) == 0 &&
           strcmp(a->country, b->country) == 0 && strcmp(a->team, b->team) == 0 &&
           strcmp(a->role, b->role) == 0 && strcmp(a->provider_ids, b->provider_ids) == 0;
}

static int sq_asset_write(store_sqlite_t *ss, const store_asset_t *a, int64_t now_ms)
{
    sqlite3_stmt *st;
    int err = store_sqlite_stmt(
        ss,
        "INSERT INTO assets(id, sport, name, short_name, country, team, role, provider_ids, "
        "updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(id) DO UPDATE SET "
        "name = excluded.name, short_name = excluded.short_name, country = excluded.country, "
        "team = excluded.team, role = excluded.role, provider_ids = excluded.provider_ids, "
        "updated_ms = excluded.updated_ms",
        &st);
    err = err ? err
              : store_sqlite_bind(ss, st, "tttttttti", a->id, a->sport, a->name, a->short_name,
                                  a->country, a->team, a->role, a->provider_ids, now_ms);
    return err ? err : store_sqlite_exec_stmt(ss, st);
}

static int sq_asset_save_tx(store_t *s, const store_asset_t *a, const char *const *codes, size_t n,
                            int64_t now_ms, store_upsert_t *outcome)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    store_asset_t *cur = malloc(sizeof(*cur));
    if (cur == NULL)
        return GV_ENOMEM;
    int same_codes = 0;
    int err = sq_sport_exists(ss, a->sport);
    err = err ? err : sq_codes_check(ss, a->sport, codes, n);
    err = err ? err : sq_asset_get(s, a->id, cur);
    int exists = err == 0;
    if (err == GV_ENOT_FOUND)
        err = 0;
    if (err == 0 && exists && strcmp(cur->sport, a->sport) != 0)
        err = GV_ECONFLICT;
    err = err || !exists ? err : sq_codes_same(ss, a->id, codes, n, &same_codes);
    int fields_same = err == 0 && exists && sq_asset_fields_same(cur, a);
    free(cur);
    if (err != 0)
        return err;
    *outcome = !exists                     ? STORE_UPSERT_CREATED
               : fields_same && same_codes ? STORE_UPSERT_UNCHANGED
                                           : STORE_UPSERT_UPDATED;
    if (*outcome == STORE_UPSERT_UNCHANGED)
        return 0;
    err = fields_same ? 0 : sq_asset_write(ss, a, now_ms);
    return err || same_codes ? err : sq_codes_write(ss, a->id, codes, n);
}

/* ---- transactions and metadata --------------------------------------------------------------- */

static int sq_in_tx(store_t *s)
{
    return !sqlite3_get_autocommit(store_sqlite_of(s)->db);
}

static int sq_meta_get(store_t *s, const char *key, char *out, size_t cap)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *st;
    int err = store_sqlite_stmt(ss, "SELECT value FROM meta WHERE key = ?1", &st);
    err = err ? err : store_sqlite_bind(ss, st, "t", key);
    err = err ? err : sq_row(ss, st);
    if (err != 0)
        return err;
    const char *v = (const char *)sqlite3_column_text(st, 0);
    size_t len = (size_t)sqlite3_column_bytes(st, 0);
    if (v == NULL || len >= cap)
        return store_sqlite_done(st, v == NULL ? GV_EDB : GV_ELIMIT);
    memcpy(out, v, len + 1);
    return store_sqlite_done(st, 0);
}

static int sq_meta_set(store_t *s, const char *key, const char *value)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *st;
    int err = store_sqlite_stmt(ss,
                                "INSERT INTO meta(key, value) VALUES(?1, ?2) "
                                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                &st);
    err = err ? err : store_sqlite_bind(ss, st, "tt", key, value);
    return err ? err : store_sqlite_exec_stmt(ss, st);
}

static int sq_meta_add(store_t *s, const char *key, const char *value)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *st;
    int err = store_sqlite_stmt(
        ss, "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO NOTHING", &st);
    err = err ? err : store_sqlite_bind(ss, st, "tt", key, value);
    return err ? err : store_sqlite_exec_stmt(ss, st);
}

const struct store_catalogue_ops_s store_sqlite_catalogue_ops = {
    .sports_list = sq_sports_list,
    .competitions_list = sq_competitions_list,
    .competition_get = sq_competition_get,
    .asset_get = sq_asset_get,
    .assets_list = sq_assets_list,
    .competition_save_tx = sq_competition_save_tx,
    .asset_save_tx = sq_asset_save_tx,
    .in_tx = sq_in_tx,
    .meta_get = sq_meta_get,
    .meta_set = sq_meta_set,
    .meta_add = sq_meta_add,
};
