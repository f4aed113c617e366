/* The catalogue queries of the PostgreSQL backend: the same semantics and error codes as
 * store_sqlite_catalogue.c (sports, competitions with their asset counts, assets with keyset
 * paging and literal search, upserts that tell created, updated and unchanged apart, the meta
 * table), with $n parameters and statements prepared once per connection. Bound parameters only.
 *
 * SQLite's orders are reproduced byte for byte: text orders and keys compare under COLLATE "C",
 * and SQLite's NOCASE is lower(x COLLATE "C"), which folds the ASCII letters only, as NOCASE
 * does. No statement is expected to fail: a write checks first (inside a transaction a failed
 * statement would abort it) and reads the row it may change FOR UPDATE, so saves of one key on
 * several connections take turns and each reports what it did as SQLite's serialised writers
 * would. */
#include "store/store_catalogue_int.h"
#include "store/store_pg_int.h"

#include "core/err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prepared-statement slots (store_pg_runp), one per hot statement. */
enum {
    SLOT_SPORTS = STORE_PG_SLOT_CATALOGUE,
    SLOT_COMPS,
    SLOT_COMP_GET,
    SLOT_COMP_LOCK,
    SLOT_COMP_INSERT,
    SLOT_COMP_UPDATE,
    SLOT_SPORT_EXISTS,
    SLOT_COMP_SPORT,
    SLOT_ASSET_GET,
    SLOT_ASSET_LOCK,
    SLOT_ASSETS_LIST,
    SLOT_ASSET_INSERT,
    SLOT_ASSET_UPDATE,
    SLOT_CODES_GET,
    SLOT_CODES_DELETE,
    SLOT_CODES_INSERT,
    SLOT_END,
};
_Static_assert(SLOT_END <= STORE_PG_SLOT_CATALOGUE + 16, "the catalogue owns 16 slots");

/* store_pg_runp for a slot of this file. */
#define PGC_RUNP(sp, res, slot, sql, fmt, ...)                                                     \
    store_pg_runp((sp), (res), (slot), (sql), (fmt), __VA_ARGS__)

/* A row count as a LIMIT (bigint), never negative or wrapped. */
static int64_t pgc_limit(size_t max)
{
    return max >= (size_t)INT64_MAX ? INT64_MAX : (int64_t)max;
}

/* ---- sports and competitions ----------------------------------------------------------------- */

static int pgc_sport_row(store_pg_t *sp, const PGresult *r, int row, store_sport_t *o)
{
    int err = store_pg_col_text(sp, r, row, 0, o->key, sizeof(o->key));
    err = err ? err : store_pg_col_text(sp, r, row, 1, o->name, sizeof(o->name));
    err = err ? err : store_pg_col_text(sp, r, row, 2, o->asset_label, sizeof(o->asset_label));
    err = err ? err : store_pg_col_text(sp, r, row, 3, o->asset_plural, sizeof(o->asset_plural));
    return err ? err : store_pg_col_text(sp, r, row, 4, o->scoring, sizeof(o->scoring));
}

static int pgc_sports_list(store_t *s, store_sport_t *out, size_t max, size_t *n)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = PGC_RUNP(sp, &r, SLOT_SPORTS,
                       "SELECT key, name, asset_label, asset_plural, scoring FROM sports "
                       "ORDER BY key COLLATE \"C\" LIMIT $1",
                       "i", pgc_limit(max));
    if (err != 0)
        return err;
    for (int i = 0; err == 0 && i < PQntuples(r) && *n < max; i++)
        err = pgc_sport_row(sp, r, i, &out[(*n)++]);
    PQclear(r);
    return err;
}

static int pgc_comp_row(store_pg_t *sp, const PGresult *r, int row, store_competition_t *o)
{
    int err = store_pg_col_text(sp, r, row, 0, o->code, sizeof(o->code));
    err = err ? err : store_pg_col_text(sp, r, row, 1, o->sport, sizeof(o->sport));
    err = err ? err : store_pg_col_text(sp, r, row, 2, o->name, sizeof(o->name));
    err = err ? err : store_pg_col_text(sp, r, row, 3, o->season, sizeof(o->season));
    o->asset_count = (int)store_pg_col_i64(r, row, 4);
    return err;
}

#define SQL_COMP_COLS                                                                              \
    "c.code, c.sport, c.name, c.season, "                                                          \
    "(SELECT count(*) FROM asset_competitions ac WHERE ac.competition = c.code)"

static int pgc_competitions_list(store_t *s, const char *sport, store_competition_t *out,
                                 size_t max, size_t *n)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = PGC_RUNP(sp, &r, SLOT_COMPS,
                       "SELECT " SQL_COMP_COLS " FROM competitions c "
                       "WHERE $1::text IS NULL OR c.sport = $1 "
                       "ORDER BY c.code COLLATE \"C\" LIMIT $2",
                       "ti", sport, pgc_limit(max));
    if (err != 0)
        return err;
    for (int i = 0; err == 0 && i < PQntuples(r) && *n < max; i++)
        err = pgc_comp_row(sp, r, i, &out[(*n)++]);
    PQclear(r);
    return err;
}

static int pgc_competition_get(store_t *s, const char *code, store_competition_t *out)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = PGC_RUNP(sp, &r, SLOT_COMP_GET,
                       "SELECT " SQL_COMP_COLS " FROM competitions c WHERE c.code = $1", "t", code);
    if (err != 0)
        return err;
    err = PQntuples(r) == 0 ? GV_ENOT_FOUND : pgc_comp_row(sp, r, 0, out);
    PQclear(r);
    return err;
}

/* The sport of competition code into sport (STORE_KEY_MAX). 0, GV_ENOT_FOUND or GV_EDB*. */
static int pgc_comp_sport(store_pg_t *sp, const char *code, char *sport)
{
    PGresult *r = NULL;
    int err = PGC_RUNP(sp, &r, SLOT_COMP_SPORT, "SELECT sport FROM competitions WHERE code = $1",
                       "t", code);
    if (err != 0)
        return err;
    err = PQntuples(r) == 0 ? GV_ENOT_FOUND : store_pg_col_text(sp, r, 0, 0, sport, STORE_KEY_MAX);
    PQclear(r);
    return err;
}

/* 0 when sport exists, GV_EINVALID_REQUEST when not. */
static int pgc_sport_exists(store_pg_t *sp, const char *sport)
{
    PGresult *r = NULL;
    int err =
        PGC_RUNP(sp, &r, SLOT_SPORT_EXISTS, "SELECT 1 FROM sports WHERE key = $1", "t", sport);
    if (err != 0)
        return err;
    err = PQntuples(r) == 0 ? GV_EINVALID_REQUEST : 0;
    PQclear(r);
    return err;
}

/* Reads competition code's sport, name and season into cur, locking its row until the
 * transaction ends. 0, GV_ENOT_FOUND or GV_EDB*. */
static int pgc_comp_lock(store_pg_t *sp, const char *code, store_competition_t *cur)
{
    PGresult *r = NULL;
    int err = PGC_RUNP(sp, &r, SLOT_COMP_LOCK,
                       "SELECT sport, name, season FROM competitions WHERE code = $1 "
                       "FOR UPDATE",
                       "t", code);
    if (err != 0)
        return err;
    err = PQntuples(r) == 0 ? GV_ENOT_FOUND : 0;
    err = err ? err : store_pg_col_text(sp, r, 0, 0, cur->sport, sizeof(cur->sport));
    err = err ? err : store_pg_col_text(sp, r, 0, 1, cur->name, sizeof(cur->name));
    err = err ? err : store_pg_col_text(sp, r, 0, 2, cur->season, sizeof(cur->season));
    PQclear(r);
    return err;
}

/* Inserts c unless its code is taken (by a save on another connection since it was looked
 * up): *inserted tells. */
static int pgc_comp_insert(store_pg_t *sp, const store_competition_t *c, int *inserted)
{
    PGresult *r = NULL;
    int err = PGC_RUNP(sp, &r, SLOT_COMP_INSERT,
                       "INSERT INTO competitions(code, sport, name, season) "
                       "VALUES($1, $2, $3, $4) ON CONFLICT(code) DO NOTHING",
                       "tttt", c->code, c->sport, c->name, c->season);
    if (err != 0)
        return err;
    *inserted = store_pg_changes(r) > 0;
    PQclear(r);
    return 0;
}

/* One attempt at saving c: *retry is set when another connection created it meanwhile. */
static int pgc_comp_save_once(store_pg_t *sp, const store_competition_t *c, store_upsert_t *outcome,
                              int *retry)
{
    store_competition_t cur;
    int inserted = 0;
    int err = pgc_comp_lock(sp, c->code, &cur);
    if (err == GV_ENOT_FOUND) {
        err = pgc_comp_insert(sp, c, &inserted);
        *retry = err == 0 && !inserted;
        *outcome = STORE_UPSERT_CREATED;
        return err;
    }
    if (err != 0)
        return err;
    if (strcmp(cur.sport, c->sport) != 0)
        return GV_ECONFLICT;
    if (strcmp(cur.name, c->name) == 0 && strcmp(cur.season, c->season) == 0) {
        *outcome = STORE_UPSERT_UNCHANGED;
        return 0;
    }
    *outcome = STORE_UPSERT_UPDATED;
    return PGC_RUNP(sp, NULL, SLOT_COMP_UPDATE,
                    "UPDATE competitions SET name = $2, season = $3 WHERE code = $1", "ttt",
                    c->code, c->name, c->season);
}

/* Checks the sport, then creates or updates c (its row locked); a code created by another
 * connection between the lookup and the insert is looked up again. */
static int pgc_competition_save_tx(store_t *s, const store_competition_t *c,
                                   store_upsert_t *outcome)
{
    store_pg_t *sp = store_pg_of(s);
    int err = pgc_sport_exists(sp, c->sport);
    int retry = 1;
    for (int attempt = 0; err == 0 && retry && attempt < 2; attempt++) {
        retry = 0;
        err = pgc_comp_save_once(sp, c, outcome, &retry);
    }
    if (err == 0 && retry) {
        snprintf(sp->err, sizeof(sp->err), "competition %s changes concurrently", c->code);
        err = GV_EDB_BUSY;
    }
    return err;
}

/* ---- assets ---------------------------------------------------------------------------------- */

/* The asset columns with its competition codes as a compact JSON array, sorted by byte. */
#define SQL_ASSET_COLS                                                                             \
    "a.id, a.sport, a.name, a.short_name, a.country, a.team, a.role, a.provider_ids, "             \
    "(SELECT '[' || coalesce(string_agg(to_json(ac.competition)::text, ',' "                       \
    "ORDER BY ac.competition COLLATE \"C\"), '') || ']' "                                          \
    "FROM asset_competitions ac WHERE ac.asset_id = a.id)"

static int pgc_asset_row(store_pg_t *sp, const PGresult *r, int row, store_asset_t *o)
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
        err = store_pg_col_text(sp, r, row, i, cols[i].dst, cols[i].cap);
    return err;
}

/* Reads asset id; lock also locks its row until the transaction ends. 0, GV_ENOT_FOUND or
 * GV_EDB*. */
static int pgc_asset_read(store_pg_t *sp, const char *id, int lock, store_asset_t *out)
{
    PGresult *r = NULL;
    int err = lock ? PGC_RUNP(sp, &r, SLOT_ASSET_LOCK,
                              "SELECT " SQL_ASSET_COLS " FROM assets a WHERE a.id = $1 "
                              "FOR UPDATE OF a",
                              "t", id)
                   : PGC_RUNP(sp, &r, SLOT_ASSET_GET,
                              "SELECT " SQL_ASSET_COLS " FROM assets a WHERE a.id = $1", "t", id);
    if (err != 0)
        return err;
    err = PQntuples(r) == 0 ? GV_ENOT_FOUND : pgc_asset_row(sp, r, 0, out);
    PQclear(r);
    return err;
}

static int pgc_asset_get(store_t *s, const char *id, store_asset_t *out)
{
    return pgc_asset_read(store_pg_of(s), id, 0, out);
}

/* q as a LIKE pattern matching it literally anywhere: %q% with %, _ and \ escaped by \. The
 * caller frees the result. */
static char *pgc_like_pattern(const char *q)
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

/* One page, ordered like SQLite's (name COLLATE NOCASE, id): LIMIT max + 1 tells whether more
 * rows follow, and the key comparison uses the ORDER BY's expressions and collations, so a page
 * starts exactly after the last row of the previous one. The search folds ASCII case only, as
 * SQLite's LIKE does. */
static const char SQL_ASSETS_LIST[] =
    "SELECT " SQL_ASSET_COLS " FROM assets a "
    "WHERE ($1::text IS NULL OR a.sport = $1) "
    "AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM asset_competitions c "
    "WHERE c.competition = $2 AND c.asset_id = a.id)) "
    "AND ($3::text IS NULL OR lower(a.name COLLATE \"C\") LIKE lower($3 COLLATE \"C\") "
    "ESCAPE '\\') "
    "AND ($4::text IS NULL OR (lower(a.name COLLATE \"C\"), a.id COLLATE \"C\") > "
    "(lower($4 COLLATE \"C\"), $5::text COLLATE \"C\")) "
    "ORDER BY lower(a.name COLLATE \"C\"), a.id COLLATE \"C\" LIMIT $6";

static int pgc_assets_list(store_t *s, const store_asset_query_t *q, store_asset_t *out, size_t max,
                           size_t *n, int *more)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    char *like = q->q != NULL ? pgc_like_pattern(q->q) : NULL;
    if (q->q != NULL && like == NULL)
        return GV_ENOMEM;
    int err = PGC_RUNP(sp, &r, SLOT_ASSETS_LIST, SQL_ASSETS_LIST, "ttttti", q->sport,
                       q->competition, like, q->after_name, q->after_id,
                       pgc_limit(max) < INT64_MAX ? pgc_limit(max) + 1 : INT64_MAX);
    free(like);
    if (err != 0)
        return err;
    int rows = PQntuples(r);
    for (int i = 0; err == 0 && i < rows && *n < max; i++)
        err = pgc_asset_row(sp, r, i, &out[(*n)++]);
    if (err == 0 && (size_t)rows > max)
        *more = 1;
    PQclear(r);
    return err;
}

/* Each code must name a competition of sport. */
static int pgc_codes_check(store_pg_t *sp, const char *sport, const char *const *codes, size_t n)
{
    char comp_sport[STORE_KEY_MAX];
    for (size_t i = 0; i < n; i++) {
        int err = pgc_comp_sport(sp, codes[i], comp_sport);
        if (err == GV_ENOT_FOUND || (err == 0 && strcmp(comp_sport, sport) != 0))
            return GV_EINVALID_REQUEST;
        if (err != 0)
            return err;
    }
    return 0;
}

/* *same is 1 when the asset's memberships are exactly codes (sorted by byte, unique). */
static int pgc_codes_same(store_pg_t *sp, const char *id, const char *const *codes, size_t n,
                          int *same)
{
    PGresult *r = NULL;
    int err = PGC_RUNP(sp, &r, SLOT_CODES_GET,
                       "SELECT competition FROM asset_competitions WHERE asset_id = $1 "
                       "ORDER BY competition COLLATE \"C\"",
                       "t", id);
    if (err != 0)
        return err;
    int rows = PQntuples(r);
    *same = (size_t)rows == n;
    for (int i = 0; *same && i < rows; i++)
        *same = !PQgetisnull(r, i, 0) && strcmp(PQgetvalue(r, i, 0), codes[i]) == 0;
    PQclear(r);
    return 0;
}

/* Replaces the asset's memberships with codes (each checked to exist first). */
static int pgc_codes_write(store_pg_t *sp, const char *id, const char *const *codes, size_t n)
{
    int err = PGC_RUNP(sp, NULL, SLOT_CODES_DELETE,
                       "DELETE FROM asset_competitions WHERE asset_id = $1", "t", id);
    for (size_t i = 0; err == 0 && i < n; i++)
        err = PGC_RUNP(sp, NULL, SLOT_CODES_INSERT,
                       "INSERT INTO asset_competitions(competition, asset_id) "
                       "VALUES($1, $2)",
                       "tt", codes[i], id);
    return err;
}

static int pgc_asset_fields_same(const store_asset_t *a, const store_asset_t *b)
{
    return strcmp(a->name, b->name) == 0 && strcmp(a->short_name, b->short_name) == 0 &&
           strcmp(a->country, b->country) == 0 && strcmp(a->team, b->team) == 0 &&
           strcmp(a->role, b->role) == 0 && strcmp(a->provider_ids, b->provider_ids) == 0;
}

/* Inserts a unless its id is taken (by a save on another connection since it was looked up):
 * *inserted tells. */
static int pgc_asset_insert(store_pg_t *sp, const store_asset_t *a, int64_t now_ms, int *inserted)
{
    PGresult *r = NULL;
    int err = PGC_RUNP(
        sp, &r, SLOT_ASSET_INSERT,
        "INSERT INTO assets(id, sport, name, short_name, country, team, role, provider_ids, "
        "updated_ms) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT(id) DO NOTHING",
        "tttttttti", a->id, a->sport, a->name, a->short_name, a->country, a->team, a->role,
        a->provider_ids, now_ms);
    if (err != 0)
        return err;
    *inserted = store_pg_changes(r) > 0;
    PQclear(r);
    return 0;
}

static int pgc_asset_update(store_pg_t *sp, const store_asset_t *a, int64_t now_ms)
{
    return PGC_RUNP(sp, NULL, SLOT_ASSET_UPDATE,
                    "UPDATE assets SET name = $2, short_name = $3, country = $4, team = $5, "
                    "role = $6, provider_ids = $7, updated_ms = $8 WHERE id = $1",
                    "ttttttti", a->id, a->name, a->short_name, a->country, a->team, a->role,
                    a->provider_ids, now_ms);
}

/* One attempt at saving a over the current row cur (locked, or absent): *retry is set when
 * another connection created it meanwhile. */
static int pgc_asset_save_once(store_pg_t *sp, const store_asset_t *a, const char *const *codes,
                               size_t n, int64_t now_ms, store_asset_t *cur,
                               store_upsert_t *outcome, int *retry)
{
    int same_codes = 0, inserted = 0;
    int err = pgc_asset_read(sp, a->id, 1, cur);
    if (err == GV_ENOT_FOUND) {
        *outcome = STORE_UPSERT_CREATED;
        err = pgc_asset_insert(sp, a, now_ms, &inserted);
        *retry = err == 0 && !inserted;
        return err || !inserted ? err : pgc_codes_write(sp, a->id, codes, n);
    }
    if (err != 0)
        return err;
    if (strcmp(cur->sport, a->sport) != 0)
        return GV_ECONFLICT;
    err = pgc_codes_same(sp, a->id, codes, n, &same_codes);
    if (err != 0)
        return err;
    int fields_same = pgc_asset_fields_same(cur, a);
    *outcome = fields_same && same_codes ? STORE_UPSERT_UNCHANGED : STORE_UPSERT_UPDATED;
    err = fields_same ? 0 : pgc_asset_update(sp, a, now_ms);
    return err || same_codes ? err : pgc_codes_write(sp, a->id, codes, n);
}

/* Checks the sport and the codes, then creates or updates a (its row locked) and its
 * memberships; updated_ms changes only with the fields. An id created by another connection
 * between the lookup and the insert is looked up again. */
static int pgc_asset_save_tx(store_t *s, const store_asset_t *a, const char *const *codes, size_t n,
                             int64_t now_ms, store_upsert_t *outcome)
{
    store_pg_t *sp = store_pg_of(s);
    store_asset_t *cur = malloc(sizeof(*cur));
    if (cur == NULL)
        return GV_ENOMEM;
    int err = pgc_sport_exists(sp, a->sport);
    err = err ? err : pgc_codes_check(sp, a->sport, codes, n);
    int retry = 1;
    for (int attempt = 0; err == 0 && retry && attempt < 2; attempt++) {
        retry = 0;
        err = pgc_asset_save_once(sp, a, codes, n, now_ms, cur, outcome, &retry);
    }
    free(cur);
    if (err == 0 && retry) {
        snprintf(sp->err, sizeof(sp->err), "asset %s changes concurrently", a->id);
        err = GV_EDB_BUSY;
    }
    return err;
}

/* ---- transactions and metadata --------------------------------------------------------------- */

static int pgc_in_tx(store_t *s)
{
    return store_pg_of(s)->in_tx;
}

static int pgc_meta_get(store_t *s, const char *key, char *out, size_t cap)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = store_pg_run(sp, &r, "SELECT value FROM meta WHERE key = $1", "t", key);
    if (err != 0)
        return err;
    if (PQntuples(r) == 0)
        err = GV_ENOT_FOUND;
    else if (PQgetisnull(r, 0, 0))
        err = GV_EDB;
    else if ((size_t)PQgetlength(r, 0, 0) >= cap)
        err = GV_ELIMIT;
    else
        memcpy(out, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0) + 1);
    PQclear(r);
    return err;
}

static int pgc_meta_set(store_t *s, const char *key, const char *value)
{
    return store_pg_run(store_pg_of(s), NULL,
                        "INSERT INTO meta(key, value) VALUES($1, $2) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        "tt", key, value);
}

static int pgc_meta_add(store_t *s, const char *key, const char *value)
{
    return store_pg_run(store_pg_of(s), NULL,
                        "INSERT INTO meta(key, value) VALUES($1, $2) ON CONFLICT(key) DO NOTHING",
                        "tt", key, value);
}

const struct store_catalogue_ops_s store_pg_catalogue_ops = {
    .sports_list = pgc_sports_list,
    .competitions_list = pgc_competitions_list,
    .competition_get = pgc_competition_get,
    .asset_get = pgc_asset_get,
    .assets_list = pgc_assets_list,
    .competition_save_tx = pgc_competition_save_tx,
    .asset_save_tx = pgc_asset_save_tx,
    .in_tx = pgc_in_tx,
    .meta_get = pgc_meta_get,
    .meta_set = pgc_meta_set,
    .meta_add = pgc_meta_add,
};
