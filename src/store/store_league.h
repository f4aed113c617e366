/* The leagues part of the store interface: leagues, members, invite and watch codes, and the
 * selected assets (included by store.h; callers include store.h). */
#ifndef GAVEL_STORE_STORE_LEAGUE_H
#define GAVEL_STORE_STORE_LEAGUE_H

#include "store/store_catalogue.h"

#include <stddef.h>
#include <stdint.h>

#define STORE_CODE_MAX 32
#define STORE_LEAGUE_NAME_MAX 256 /* bytes: 1..60 characters of UTF-8 */

typedef enum { STORE_ROLE_COMMISSIONER = 1, STORE_ROLE_MANAGER, STORE_ROLE_SPECTATOR } store_role_t;

typedef struct {
    int64_t budget;
    char currency[4]; /* ISO 4217 code */
    int roster_size;
    int min_managers;
    int max_managers;
    int lot_seconds;
    int anti_snipe_seconds;
    int64_t min_bid;
    int64_t min_increment;
    int intermission_seconds;
    int lot_order_fixed; /* 0: random, 1: fixed */
    int reoffer_unsold;
} store_league_settings_t;

typedef struct {
    char id[40];
    char name[STORE_LEAGUE_NAME_MAX];
    char sport[STORE_KEY_MAX];
    char competition[STORE_KEY_MAX];
    char commissioner_id[40];
    char status[16]; /* setup | auction | season */
    store_league_settings_t settings;
    char invite_code[STORE_CODE_MAX];
    char watch_code[STORE_CODE_MAX];
    int64_t created_ms;
    int member_count;        /* read only: commissioner + managers */
    int spectator_count;     /* read only */
    char auction_id[40];     /* read only: the league's auction, "" when it has none */
    char auction_status[16]; /* read only: waiting | running | paused | completed, or "" */
} store_league_t;

typedef struct {
    char user_id[40];
    char name[128]; /* the user's current name (read time, never a stale copy) */
    store_role_t role;
    int64_t joined_ms;
} store_member_t;

typedef struct {
    store_league_t league;
    store_role_t role; /* the caller's */
} store_my_league_t;

/* store_league_create inserts lg (id, name, sport, competition, commissioner, settings, codes,
 * created_ms; status setup), its commissioner as first member, and the default asset selection
 * (every asset of the competition, ordered by name then id), in one transaction.
 * GV_ECONFLICT when an id or code is taken (nothing written); 0 or GV_EDB*. */
int store_league_create(store_t *s, const store_league_t *lg);

/* store_league_get reads a league with its member and spectator counts. 0, GV_ENOT_FOUND or
 * GV_EDB*. */
int store_league_get(store_t *s, const char *id, store_league_t *out);

/* store_leagues_each calls fn for every league of sport, by id (a statement of its own: fn may
 * read the store). fn's nonzero return stops the walk and is returned. 0 or GV_E*. */
typedef int (*store_league_fn)(void *ctx, const store_league_t *lg);
int store_leagues_each(store_t *s, const char *sport, store_league_fn fn, void *ctx);

/* store_league_count counts every league. 0 or GV_EDB*. */
int store_league_count(store_t *s, int64_t *count);

/* store_league_by_code finds the league whose invite code (watch = 0) or watch code (watch = 1)
 * is exactly code (bound as a value: never a pattern). 0, GV_ENOT_FOUND or GV_EDB*. */
int store_league_by_code(store_t *s, const char *code, int watch, store_league_t *out);

/* store_league_update writes lg's name and settings. 0, GV_ENOT_FOUND or GV_EDB*. */
int store_league_update(store_t *s, const store_league_t *lg);

/* store_league_set_code replaces the invite (watch = 0) or watch code: the old one stops
 * matching at once. 0, GV_ECONFLICT (code taken), GV_ENOT_FOUND or GV_EDB*. */
int store_league_set_code(store_t *s, const char *id, int watch, const char *code);

/* store_league_delete removes a league with its members and selection. 0, GV_ENOT_FOUND or
 * GV_EDB*. */
int store_league_delete(store_t *s, const char *id);

/* store_leagues_for_user pages the leagues user_id belongs to (any role), ordered by league id,
 * starting strictly after after_id ("" for the first page); at most limit (<= max) rows; *more
 * is 1 when more follow. 0 or GV_EDB*. */
int store_leagues_for_user(store_t *s, const char *user_id, const char *after_id, int limit,
                           store_my_league_t *out, size_t max, size_t *n, int *more);

/* store_member_get reads user_id's membership of league_id. 0, GV_ENOT_FOUND or GV_EDB*. */
int store_member_get(store_t *s, const char *league_id, const char *user_id, store_member_t *out);

/* store_member_add adds user_id with role at now_ms. A manager is added only while the league
 * has fewer than max_managers commissioner+managers, checked in the same statement. Returns 0
 * when added, 1 when user_id was already a member (left unchanged), GV_ECONFLICT when the league
 * is full, or GV_EDB*. */
int store_member_add(store_t *s, const char *league_id, const char *user_id, store_role_t role,
                     int max_managers, int64_t now_ms);

/* store_member_promote makes the spectator user_id of league_id a manager (joined_ms kept) while
 * the league has fewer than max_managers commissioner+managers, checked in the same statement.
 * Returns 0 when promoted, 1 when user_id already was the commissioner or a manager (unchanged),
 * GV_ECONFLICT when the league is full, GV_ENOT_FOUND when user_id is not a member, or GV_EDB*. */
int store_member_promote(store_t *s, const char *league_id, const char *user_id, int max_managers);

/* store_member_remove removes user_id from league_id. 0, GV_ENOT_FOUND or GV_EDB*. */
int store_member_remove(store_t *s, const char *league_id, const char *user_id);

/* store_members_list pages members of league_id: which = 0 commissioner and managers, 1
 * spectators, 2 everyone; ordered by (joined_ms, user_id); strictly after (after_ms, after_id)
 * when after_id is not ""; at most limit (<= max); *more as above. 0 or GV_EDB*. */
int store_members_list(store_t *s, const char *league_id, int which, int64_t after_ms,
                       const char *after_id, int limit, store_member_t *out, size_t max, size_t *n,
                       int *more);

/* store_league_assets_set replaces the selection of league_id with ids[0..n) in that order, in
 * one transaction (the caller validated the ids). 0 or GV_EDB*. */
int store_league_assets_set(store_t *s, const char *league_id, const char *const *ids, size_t n);

/* store_league_assets_list pages the selection of league_id in order, from position after_pos
 * + 1 (after_pos = -1 for the first page), at most limit (<= max); pos[i] is each row's
 * position. 0 or GV_EDB*. */
int store_league_assets_list(store_t *s, const char *league_id, int after_pos, int limit,
                             store_asset_t *out, int *pos, size_t max, size_t *n, int *more);

/* store_league_assets_count counts the selection. 0 or GV_EDB*. */
int store_league_assets_count(store_t *s, const char *league_id, int *count);

#endif
