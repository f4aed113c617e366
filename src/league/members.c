/* Membership rules: who may join, watch, leave or be removed, and when. The seat count is
 * checked again by the store in the same statement that adds a manager (no race past the cap). */
#include "league/members.h"

#include "core/err.h"
#include "league/codes.h"

#include <string.h>

int league_invite_find(store_t *s, const char *code, int watch, store_league_t *out)
{
    char norm[LEAGUE_CODE_LEN + 1];
    int rc = league_code_normalize(code, norm);
    return rc ? rc : store_league_by_code(s, norm, watch, out);
}

int league_join_open(const store_league_t *lg)
{
    if (strcmp(lg->status, "setup") != 0)
        return GV_EAUCTION_STARTED;
    if (lg->member_count >= lg->settings.max_managers)
        return GV_ELEAGUE_FULL;
    return 0;
}

int league_member_join(store_t *s, const store_league_t *lg, const char *user_id, int64_t now_ms,
                       int *joined)
{
    store_member_t m;
    *joined = 0;
    int rc = store_member_get(s, lg->id, user_id, &m);
    if (rc == 0 && m.role != STORE_ROLE_SPECTATOR)
        return 0; /* already a member: idempotent */
    if (rc != 0 && rc != GV_ENOT_FOUND)
        return rc;
    int open = league_join_open(lg);
    if (open)
        return open;
    if (rc == 0) /* a spectator becomes a manager, keeping their place */
        rc = store_member_promote(s, lg->id, user_id, lg->settings.max_managers);
    else
        rc = store_member_add(s, lg->id, user_id, STORE_ROLE_MANAGER, lg->settings.max_managers,
                              now_ms);
    if (rc == GV_ECONFLICT)
        return GV_ELEAGUE_FULL;
    if (rc < 0)
        return rc;
    *joined = 1;
    return 0;
}

int league_member_watch(store_t *s, const store_league_t *lg, const char *user_id, int64_t now_ms,
                        int *joined)
{
    *joined = 0;
    int rc = store_member_add(s, lg->id, user_id, STORE_ROLE_SPECTATOR, 0, now_ms);
    if (rc < 0)
        return rc;
    *joined = rc == 0; /* 1: already a member, left as they were */
    return 0;
}

int league_member_remove(store_t *s, const store_league_t *lg, const char *caller_id,
                         store_role_t caller_role, const char *user_id, league_removal_t *out)
{
    store_member_t target;
    memset(out, 0, sizeof(*out));
    if (strcmp(user_id, caller_id) != 0 && caller_role != STORE_ROLE_COMMISSIONER) {
        out->message = "Only the commissioner can remove others.";
        return GV_EFORBIDDEN;
    }
    int rc = store_member_get(s, lg->id, user_id, &target);
    if (rc) {
        out->message = rc == GV_ENOT_FOUND ? "No such member." : NULL;
        return rc;
    }
    if (target.role == STORE_ROLE_COMMISSIONER) {
        out->message = "The commissioner cannot leave the league; delete it instead.";
        return GV_ECONFLICT;
    }
    if (target.role == STORE_ROLE_MANAGER && strcmp(lg->status, "setup") != 0)
        return GV_EAUCTION_STARTED;
    out->role = target.role;
    return store_member_remove(s, lg->id, user_id);
}
