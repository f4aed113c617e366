/* Internals of the season part of the store: the operations a backend provides for
 * store_season.h (store_season.c checks arguments and dispatches). Only src/store includes it. */
#ifndef GAVEL_STORE_STORE_SEASON_INT_H
#define GAVEL_STORE_STORE_SEASON_INT_H

#include "store/store_int.h"

/* Arguments are checked by store_season.c. Upserts run inside a unit it opened. */
struct store_season_ops_s {
    /* by_external = 1: find by (league, external id), else by (league, id). */
    int (*fixture_get)(store_t *s, const char *league_id, const char *key, int by_external,
                       store_fixture_t *out);
    /* The asset's live fixture or next scheduled one from now_ms, GV_ENOT_FOUND if none. */
    int (*fixture_next)(store_t *s, const char *league_id, const char *asset_id, int64_t now_ms,
                        store_fixture_t *out);
    int (*fixture_insert)(store_t *s, const store_fixture_t *f, int64_t now_ms);
    int (*fixture_update)(store_t *s, const store_fixture_t *f, int64_t now_ms);
    int (*fixture_delete)(store_t *s, const char *league_id, const char *id);
    int (*fixtures_list)(store_t *s, const char *league_id, int64_t after_ms, const char *after_id,
                         int limit, store_fixture_t *out, size_t *n, int *more);
    int (*fixtures_each)(store_t *s, const char *league_id, store_fixture_fn fn, void *ctx);
    int (*results_each)(store_t *s, const char *league_id, store_result_fn fn, void *ctx);
    /* *outcome from SQLite's view: created, updated or unchanged. */
    int (*cricket_upsert)(store_t *s, const store_cricket_line_t *l, int64_t now_ms,
                          store_upsert_t *outcome);
    int (*cricket_each)(store_t *s, const char *league_id, store_cricket_fn fn, void *ctx);
    int (*cricket_stats_each)(store_t *s, const char *league_id, store_cricket_stat_fn fn,
                              void *ctx);
    int (*scoring_get)(store_t *s, const char *league_id, char *out, size_t cap);
    int (*scoring_set)(store_t *s, const char *league_id, const char *doc);
};

#endif
