/* The leagues dispatcher: checks arguments, forwards each call of store_league.h to the backend's
 * leagues operations, and runs the multi-statement ones atomically (their own transaction, or a
 * savepoint of the caller's). */
#include "store/store_league_int.h"

#include "core/err.h"

#include <limits.h>
#include <string.h>

/* The page arguments shared by the list functions. */
static int lg_page_check(int limit, const void *out, size_t max, const size_t *n)
{
    if (out == NULL || n == NULL)
        return GV_EINTERNAL;
    return limit >= 1 && (size_t)limit <= max ? 0 : GV_EINVALID_REQUEST;
}

/* Every text of lg that create (create = 1) or update (0: id, name, settings) stores. */
static int lg_league_check(const store_league_t *lg, int create)
{
    if (lg == NULL)
        return GV_EINTERNAL;
    int err = store_key_check(lg->id, sizeof(lg->id));
    if (err == 0)
        err = store_str_check(lg->name, sizeof(lg->name));
    if (err == 0)
        err = store_str_check(lg->settings.currency, sizeof(lg->settings.currency));
    if (err == 0 && create)
        err = store_key_check(lg->sport, sizeof(lg->sport));
    if (err == 0 && create)
        err = store_key_check(lg->competition, sizeof(lg->competition));
    if (err == 0 && create)
        err = store_key_check(lg->commissioner_id, sizeof(lg->commissioner_id));
    if (err == 0 && create)
        err = store_key_check(lg->invite_code, sizeof(lg->invite_code));
    if (err == 0 && create)
        err = store_key_check(lg->watch_code, sizeof(lg->watch_code));
    return err;
}

int store_league_create(store_t *s, const store_league_t *lg)
{
    int err = lg_league_check(lg, 1);
    if (err != 0)
        return err;
    int own = 0;
    err = store_unit_begin(s, &own);
    if (err != 0)
        return err;
    return store_unit_end(s, own, s->league->create_tx(s, lg));
}

int store_league_count(store_t *s, int64_t *count)
{
    *count = 0;
    return s->league->count(s, count);
}

int store_leagues_each(store_t *s, const char *sport, store_league_fn fn, void *ctx)
{
    int err = store_lookup_check(sport, 32);
    if (err == 0 && fn == NULL)
        err = GV_EINTERNAL;
    return err == GV_ENOT_FOUND ? 0 : err != 0 ? err : s->league->each(s, sport, fn, ctx);
}

int store_league_get(store_t *s, const char *id, store_league_t *out)
{
    int err = store_lookup_check(id, STORE_ID_MAX);
    if (err == 0 && out == NULL)
        err = GV_EINTERNAL;
    return err != 0 ? err : s->league->get(s, id, out);
}

int store_league_by_code(store_t *s, const char *code, int watch, store_league_t *out)
{
    int err = store_lookup_check(code, STORE_CODE_MAX);
    if (err == 0 && out == NULL)
        err = GV_EINTERNAL;
    return err != 0 ? err : s->league->by_code(s, code, watch != 0, out);
}

int store_league_update(store_t *s, const store_league_t *lg)
{
    int err = lg_league_check(lg, 0);
    return err != 0 ? err : s->league->update(s, lg);
}

int store_league_set_code(store_t *s, const char *id, int watch, const char *code)
{
    int err = store_key_check(code, STORE_CODE_MAX);
    if (err == 0)
        err = store_lookup_check(id, STORE_ID_MAX);
    return err != 0 ? err : s->league->set_code(s, id, watch != 0, code);
}

int store_league_delete(store_t *s, const char *id)
{
    int err = store_lookup_check(id, STORE_ID_MAX);
    return err != 0 ? err : s->league->del(s, id);
}

int store_leagues_for_user(store_t *s, const char *user_id, const char *after_id, int limit,
                           store_my_league_t *out, size_t max, size_t *n, int *more)
{
    int ignored;
    int err = lg_page_check(limit, out, max, n);
    if (err == 0 && (user_id == NULL || after_id == NULL))
        err = GV_EINTERNAL;
    if (err != 0)
        return err;
    *n = 0;
    return s->league->for_user(s, user_id, after_id, limit, out, n, more != NULL ? more : &ignored);
}

int store_member_get(store_t *s, const char *league_id, const char *user_id, store_member_t *out)
{
    int err = store_lookup_check(league_id, STORE_ID_MAX);
    if (err == 0)
        err = store_lookup_check(user_id, STORE_ID_MAX);
    if (err == 0 && out == NULL)
        err = GV_EINTERNAL;
    return err != 0 ? err : s->league->member_get(s, league_id, user_id, out);
}

int store_member_add(store_t *s, const char *league_id, const char *user_id, store_role_t role,
                     int max_managers, int64_t now_ms)
{
    int err = store_lookup_check(league_id, STORE_ID_MAX);
    if (err == 0)
        err = store_key_check(user_id, STORE_ID_MAX);
    if (err == 0 && (role < STORE_ROLE_COMMISSIONER || role > STORE_ROLE_SPECTATOR))
        err = GV_EINTERNAL;
    return err != 0 ? err
                    : s->league->member_add(s, league_id, user_id, role, max_managers, now_ms);
}

int store_member_promote(store_t *s, const char *league_id, const char *user_id, int max_managers)
{
    int err = store_lookup_check(league_id, STORE_ID_MAX);
    if (err == 0)
        err = store_lookup_check(user_id, STORE_ID_MAX);
    return err != 0 ? err : s->league->member_promote(s, league_id, user_id, max_managers);
}

int store_member_remove(store_t *s, const char *league_id, const char *user_id)
{
    int err = store_lookup_check(league_id, STORE_ID_MAX);
    if (err == 0)
        err = store_lookup_check(user_id, STORE_ID_MAX);
    return err != 0 ? err : s->league->member_remove(s, league_id, user_id);
}

int store_members_list(store_t *s, const char *league_id, int which, int64_t after_ms,
                       const char *after_id, int limit, store_member_t *out, size_t max, size_t *n,
                       int *more)
{
    int ignored;
    int err = lg_page_check(limit, out, max, n);
    if (err == 0 && (league_id == NULL || after_id == NULL || which < 0 || which > 2))
        err = GV_EINTERNAL;
    if (err != 0)
        return err;
    *n = 0;
    return s->league->members_list(s, league_id, which, after_ms, after_id, limit, out, n,
                                   more != NULL ? more : &ignored);
}

int store_league_assets_set(store_t *s, const char *league_id, const char *const *ids, size_t n)
{
    int err = store_lookup_check(league_id, STORE_ID_MAX);
    if (err == 0 && n > 0 && ids == NULL)
        err = GV_EINTERNAL;
    if (err == 0 && n > (size_t)INT_MAX)
        err = GV_ELIMIT;
    for (size_t i = 0; err == 0 && i < n; i++)
        err = store_key_check(ids[i], STORE_ASSET_ID_MAX);
    if (err != 0)
        return err;
    int own = 0;
    err = store_unit_begin(s, &own);
    if (err != 0)
        return err;
    return store_unit_end(s, own, s->league->assets_set_tx(s, league_id, ids, n));
}

int store_league_assets_list(store_t *s, const char *league_id, int after_pos, int limit,
                             store_asset_t *out, int *pos, size_t max, size_t *n, int *more)
{
    int ignored;
    int err = lg_page_check(limit, out, max, n);
    if (err == 0 && league_id == NULL)
        err = GV_EINTERNAL;
    if (err != 0)
        return err;
    *n = 0;
    return s->league->assets_list(s, league_id, after_pos, limit, out, pos, n,
                                  more != NULL ? more : &ignored);
}

int store_league_assets_count(store_t *s, const char *league_id, int *count)
{
    if (league_id == NULL || count == NULL)
        return GV_EINTERNAL;
    *count = 0;
    return s->league->assets_count(s, league_id, count);
}
