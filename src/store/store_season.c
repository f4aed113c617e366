/* The season dispatcher: checks arguments and forwards each call of store_season.h to the
 * backend's season operations; a fixture upsert (read, compare, write) runs as one unit. */
#include "store/store_season_int.h"

#include "core/err.h"

#include <string.h>

static int se_fixture_check(const store_fixture_t *f)
{
    if (f == NULL)
        return GV_EINTERNAL;
    int err = store_key_check(f->id, sizeof(f->id));
    err = err ? err : store_key_check(f->league_id, sizeof(f->league_id));
    err = err ? err : store_key_check(f->external_id, sizeof(f->external_id));
    err = err ? err : store_key_check(f->home_asset_id, sizeof(f->home_asset_id));
    err = err ? err : store_key_check(f->away_asset_id, sizeof(f->away_asset_id));
    err = err ? err : store_str_check(f->venue, sizeof(f->venue));
    err = err ? err : store_str_check(f->round, sizeof(f->round));
    err = err ? err : store_key_check(f->status, sizeof(f->status));
    return err;
}

/* 1 when the stored row already says what f says (its id and names aside). */
static int se_fixture_same(const store_fixture_t *a, const store_fixture_t *b)
{
    return a->starts_ms == b->starts_ms && a->home_goals == b->home_goals &&
           a->away_goals == b->away_goals && !strcmp(a->home_asset_id, b->home_asset_id) &&
           !strcmp(a->away_asset_id, b->away_asset_id) && !strcmp(a->venue, b->venue) &&
           !strcmp(a->round, b->round) && !strcmp(a->status, b->status);
}

static int se_fixture_upsert_unit(store_t *s, const store_fixture_t *f, int64_t now_ms,
                                  store_upsert_t *outcome)
{
    store_fixture_t cur;
    int err = s->season->fixture_get(s, f->league_id, f->external_id, 1, &cur);
    if (err == GV_ENOT_FOUND) {
        *outcome = STORE_UPSERT_CREATED;
        return s->season->fixture_insert(s, f, now_ms);
    }
    if (err != 0)
        return err;
    if (se_fixture_same(&cur, f)) {
        *outcome = STORE_UPSERT_UNCHANGED;
        return 0;
    }
    store_fixture_t next = *f;
    memcpy(next.id, cur.id, sizeof(next.id)); /* the fixture keeps its id */
    *outcome = STORE_UPSERT_UPDATED;
    return s->season->fixture_update(s, &next, now_ms);
}

int store_fixture_upsert(store_t *s, const store_fixture_t *f, int64_t now_ms,
                         store_upsert_t *outcome)
{
    store_upsert_t ignored;
    int err = se_fixture_check(f);
    if (err != 0)
        return err;
    int own = 0;
    err = store_unit_begin(s, &own);
    if (err != 0)
        return err;
    return store_unit_end(s, own,
                          se_fixture_upsert_unit(s, f, now_ms, outcome ? outcome : &ignored));
}

int store_fixture_get(store_t *s, const char *league_id, const char *id, store_fixture_t *out)
{
    int err = store_lookup_check(league_id, sizeof(out->league_id));
    err = err ? err : store_lookup_check(id, sizeof(out->id));
    return err ? err : out ? s->season->fixture_get(s, league_id, id, 0, out) : GV_EINTERNAL;
}

int store_fixture_next(store_t *s, const char *league_id, const char *asset_id, int64_t now_ms,
                       store_fixture_t *out)
{
    int err = store_lookup_check(league_id, sizeof(out->league_id));
    err = err ? err : store_lookup_check(asset_id, sizeof(out->home_asset_id));
    return err   ? err
           : out ? s->season->fixture_next(s, league_id, asset_id, now_ms, out)
                 : GV_EINTERNAL;
}

int store_fixture_update(store_t *s, const store_fixture_t *f, int64_t now_ms)
{
    int err = se_fixture_check(f);
    return err ? err : s->season->fixture_update(s, f, now_ms);
}

int store_fixture_delete(store_t *s, const char *league_id, const char *id)
{
    int err = store_lookup_check(league_id, 40);
    err = err ? err : store_lookup_check(id, 40);
    return err ? err : s->season->fixture_delete(s, league_id, id);
}

int store_fixtures_list(store_t *s, const char *league_id, int64_t after_ms, const char *after_id,
                        int limit, store_fixture_t *out, size_t *n, int *more)
{
    if (out == NULL || n == NULL || more == NULL || after_id == NULL || limit < 1)
        return GV_EINTERNAL;
    int err = store_lookup_check(league_id, 40);
    if (err == GV_ENOT_FOUND) {
        *n = 0, *more = 0;
        return 0;
    }
    return err ? err
               : s->season->fixtures_list(s, league_id, after_ms, after_id, limit, out, n, more);
}

int store_fixtures_each(store_t *s, const char *league_id, store_fixture_fn fn, void *ctx)
{
    if (fn == NULL)
        return GV_EINTERNAL;
    int err = store_lookup_check(league_id, 40);
    return err == GV_ENOT_FOUND ? 0 : err ? err : s->season->fixtures_each(s, league_id, fn, ctx);
}

int store_cricket_stats_each(store_t *s, const char *league_id, store_cricket_stat_fn fn, void *ctx)
{
    if (fn == NULL)
        return GV_EINTERNAL;
    int err = store_lookup_check(league_id, 40);
    return err == GV_ENOT_FOUND ? 0
           : err                ? err
                                : s->season->cricket_stats_each(s, league_id, fn, ctx);
}

int store_results_each(store_t *s, const char *league_id, store_result_fn fn, void *ctx)
{
    if (fn == NULL)
        return GV_EINTERNAL;
    int err = store_lookup_check(league_id, 40);
    return err == GV_ENOT_FOUND ? 0 : err ? err : s->season->results_each(s, league_id, fn, ctx);
}

int store_cricket_line_upsert(store_t *s, const store_cricket_line_t *l, int64_t now_ms,
                              store_upsert_t *outcome)
{
    store_upsert_t ignored;
    if (l == NULL)
        return GV_EINTERNAL;
    int err = store_key_check(l->league_id, sizeof(l->league_id));
    err = err ? err : store_key_check(l->external_id, sizeof(l->external_id));
    err = err ? err : store_key_check(l->asset_id, sizeof(l->asset_id));
    if (!err &&
        (l->runs < 0 || l->wickets < 0 || l->catches < 0 || l->stumpings < 0 || l->run_outs < 0))
        err = GV_EINVALID_REQUEST;
    return err ? err : s->season->cricket_upsert(s, l, now_ms, outcome ? outcome : &ignored);
}

int store_cricket_lines_each(store_t *s, const char *league_id, store_cricket_fn fn, void *ctx)
{
    if (fn == NULL)
        return GV_EINTERNAL;
    int err = store_lookup_check(league_id, 40);
    return err == GV_ENOT_FOUND ? 0 : err ? err : s->season->cricket_each(s, league_id, fn, ctx);
}

int store_scoring_get(store_t *s, const char *league_id, char *out, size_t cap)
{
    if (out == NULL || cap == 0)
        return GV_EINTERNAL;
    out[0] = '\0';
    int err = store_lookup_check(league_id, 40);
    return err == GV_ENOT_FOUND ? 0 : err ? err : s->season->scoring_get(s, league_id, out, cap);
}

int store_scoring_set(store_t *s, const char *league_id, const char *doc)
{
    int err = store_key_check(league_id, 40);
    err = err ? err : store_str_check(doc, STORE_SCORING_MAX);
    return err ? err : s->season->scoring_set(s, league_id, doc);
}
