/* Membership rules, without HTTP: finding a league by invite or watch code, joining as a manager
 * or a spectator, leaving, and the commissioner removing a member. Time is passed in. */
#ifndef GAVEL_LEAGUE_MEMBERS_H
#define GAVEL_LEAGUE_MEMBERS_H

#include "store/store.h"

#include <stdint.h>

/* league_invite_find finds the league of an invite code (watch = 0) or a watch code (watch = 1)
 * as typed (case forgiven). 0 with *out; GV_ENOT_FOUND for every wrong code, malformed ones
 * included; or the store's error. */
int league_invite_find(store_t *s, const char *code, int watch, store_league_t *out);

/* league_join_open says whether lg takes a new manager: 0, GV_EAUCTION_STARTED (no longer in
 * setup; checked first) or GV_ELEAGUE_FULL (maxManagers reached). */
int league_join_open(const store_league_t *lg);

/* league_member_join makes user_id a manager of lg at now_ms. Already the commissioner or a
 * manager: nothing changes (*joined = 0). Otherwise the league must be open (league_join_open);
 * a spectator is promoted, keeping their place. *joined is 1 when user_id became a manager.
 * 0; GV_EAUCTION_STARTED; GV_ELEAGUE_FULL (also when the last seat went meanwhile); or the
 * store's error. */
int league_member_join(store_t *s, const store_league_t *lg, const char *user_id, int64_t now_ms,
                       int *joined);

/* league_member_watch makes user_id a spectator of lg at now_ms, at any stage and however full
 * the league; a member already (any role) stays as they are. *joined is 1 when user_id is a new
 * spectator. 0 or the store's error. */
int league_member_watch(store_t *s, const store_league_t *lg, const char *user_id, int64_t now_ms,
                        int *joined);

/* What league_member_remove removed, or why it refused. */
typedef struct {
    store_role_t role;   /* the removed member's role */
    const char *message; /* a refusal's own sentence (static), or NULL for the error's */
} league_removal_t;

/* league_member_remove removes user_id from lg on behalf of caller_id (whose role in lg is
 * caller_role): anyone may leave, only the commissioner removes others; the commissioner never
 * leaves; a manager only before the auction begins (spectators at any time). Checked in that
 * order. 0 with out->role; GV_EFORBIDDEN, GV_ENOT_FOUND (not a member), GV_ECONFLICT (the
 * commissioner) with out->message; GV_EAUCTION_STARTED; or the store's error. */
int league_member_remove(store_t *s, const store_league_t *lg, const char *caller_id,
                         store_role_t caller_role, const char *user_id, league_removal_t *out);

#endif
