/* The season part of the store interface: fixtures and results, cricket match lines, and the
 * league's scoring overrides (included by store.h; callers include store.h). */
#ifndef GAVEL_STORE_STORE_SEASON_H
#define GAVEL_STORE_STORE_SEASON_H

#include "store/store_catalogue.h"

#include <stddef.h>
#include <stdint.h>

#define STORE_EXTERNAL_ID_MAX 128
#define STORE_SCORING_MAX 4096 /* bytes of a league's scoring overrides document */

typedef struct {
    char id[40];
    char league_id[40];
    char external_id[STORE_EXTERNAL_ID_MAX];
    int64_t starts_ms;
    char home_asset_id[STORE_ASSET_ID_MAX];
    char away_asset_id[STORE_ASSET_ID_MAX];
    char home_name[256]; /* read only: the assets' current names */
    char away_name[256];
    char venue[256];
    char round[128];
    char status[16]; /* scheduled | live | finished | postponed | cancelled */
    int home_goals;  /* -1: none */
    int away_goals;
} store_fixture_t;

typedef struct {
    char league_id[40];
    char external_id[STORE_EXTERNAL_ID_MAX];
    char asset_id[STORE_ASSET_ID_MAX];
    int64_t runs, wickets, catches, stumpings, run_outs;
} store_cricket_line_t;

typedef int (*store_fixture_fn)(void *ctx, const store_fixture_t *f);
typedef int (*store_cricket_fn)(void *ctx, const store_cricket_line_t *l);

/* store_fixture_upsert inserts f (its id) or updates the fixture of (league, external id) — the
 * import's key — saying what it did in *outcome (an equal row is UNCHANGED). Unknown league or
 * asset: GV_ENOT_FOUND. 0 or GV_E*. */
int store_fixture_upsert(store_t *s, const store_fixture_t *f, int64_t now_ms,
                         store_upsert_t *outcome);

/* store_fixture_get reads the fixture id of league_id. 0, GV_ENOT_FOUND or GV_EDB*. */
int store_fixture_get(store_t *s, const char *league_id, const char *id, store_fixture_t *out);

/* store_fixture_next reads asset_id's fixture in league_id that is live, else the first
 * scheduled one starting at or after now_ms. 0, GV_ENOT_FOUND (none) or GV_E*. */
int store_fixture_next(store_t *s, const char *league_id, const char *asset_id, int64_t now_ms,
                       store_fixture_t *out);

/* store_fixture_update writes every field of f (found by league and id). 0, GV_ENOT_FOUND,
 * GV_ECONFLICT (its external id is another fixture's) or GV_EDB*. */
int store_fixture_update(store_t *s, const store_fixture_t *f, int64_t now_ms);

/* store_fixture_delete removes the fixture id of league_id. 0, GV_ENOT_FOUND or GV_EDB*. */
int store_fixture_delete(store_t *s, const char *league_id, const char *id);

/* store_fixtures_list pages league_id's fixtures by (starts_ms, id) after the cursor
 * (after_id "" for the first page): at most limit rows into out, *more when others follow. */
int store_fixtures_list(store_t *s, const char *league_id, int64_t after_ms, const char *after_id,
                        int limit, store_fixture_t *out, size_t *n, int *more);

/* store_fixtures_each calls fn for every fixture of league_id in time order (fn may not write). */
int store_fixtures_each(store_t *s, const char *league_id, store_fixture_fn fn, void *ctx);

/* A finished fixture's result, all the standings need of it. */
typedef struct {
    const char *home_asset_id, *away_asset_id; /* valid during the callback */
    int home_goals, away_goals;
    int64_t starts_ms;
} store_result_t;
typedef int (*store_result_fn)(void *ctx, const store_result_t *r);

/* store_results_each calls fn for every finished fixture of league_id with both goals, in time
 * order (a cached statement: fn may not call the store). */
int store_results_each(store_t *s, const char *league_id, store_result_fn fn, void *ctx);

/* store_cricket_line_upsert inserts or updates the line of (league, external id, asset). */
int store_cricket_line_upsert(store_t *s, const store_cricket_line_t *l, int64_t now_ms,
                              store_upsert_t *outcome);

/* store_cricket_lines_each calls fn for every line of league_id (by match, then asset). */
int store_cricket_lines_each(store_t *s, const char *league_id, store_cricket_fn fn, void *ctx);

/* One cricket line's numbers, all the standings need of it. */
typedef struct {
    const char *asset_id; /* valid during the callback */
    int64_t runs, wickets, catches, stumpings, run_outs;
} store_cricket_stat_t;
typedef int (*store_cricket_stat_fn)(void *ctx, const store_cricket_stat_t *l);

/* store_cricket_stats_each calls fn for every line of league_id in no particular order (a cached
 * statement: fn may not call the store). Lighter than store_cricket_lines_each: no ids copied. */
int store_cricket_stats_each(store_t *s, const char *league_id, store_cricket_stat_fn fn,
                             void *ctx);

/* store_scoring_get copies league_id's overrides document into out (size cap; "" when none).
 * store_scoring_set replaces it ("" removes it). 0, GV_ELIMIT or GV_EDB*. */
int store_scoring_get(store_t *s, const char *league_id, char *out, size_t cap);
int store_scoring_set(store_t *s, const char *league_id, const char *doc);

#endif
