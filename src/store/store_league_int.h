/* Internals of the leagues part of the store: the table of operations a backend provides for
 * store_league.h (store_league.c dispatches through it). Only src/store and tests include it. */
#ifndef GAVEL_STORE_STORE_LEAGUE_INT_H
#define GAVEL_STORE_STORE_LEAGUE_INT_H

#include "store/store_int.h"

#include <stddef.h>
#include <stdint.h>

/* The leagues operations of a backend. Arguments are already checked by store_league.c (NULLs,
 * lengths, limits, enums). The *_tx functions are the bodies of multi-statement operations:
 * store_league.c runs them inside a transaction it began (committed by store_tx_commit, so the
 * commit is timed and observed in one place) or, when the caller has one open, inside a
 * savepoint of it; they neither begin nor end transactions themselves. */
struct store_league_ops_s {

    int (*create_tx)(store_t *s, const store_league_t *lg);
    int (*get)(store_t *s, const char *id, store_league_t *out);
    int (*each)(store_t *s, const char *sport, store_league_fn fn, void *ctx);
    int (*count)(store_t *s, int64_t *count);
    int (*by_code)(store_t *s, const char *code, int watch, store_league_t *out);
    int (*update)(store_t *s, const store_league_t *lg);
    int (*set_code)(store_t *s, const char *id, int watch, const char *code);
    int (*del)(store_t *s, const char *id);
    int (*for_user)(store_t *s, const char *user_id, const char *after_id, int limit,
                    store_my_league_t *out, size_t *n, int *more);
    int (*member_get)(store_t *s, const char *league_id, const char *user_id, store_member_t *out);
    int (*member_add)(store_t *s, const char *league_id, const char *user_id, store_role_t role,
                      int max_managers, int64_t now_ms);
    int (*member_promote)(store_t *s, const char *league_id, const char *user_id, int max_managers);
    int (*member_remove)(store_t *s, const char *league_id, const char *user_id);
    int (*members_list)(store_t *s, const char *league_id, int which, int64_t after_ms,
                        const char *after_id, int limit, store_member_t *out, size_t *n, int *more);
    int (*assets_set_tx)(store_t *s, const char *league_id, const char *const *ids, size_t n);
    int (*assets_list)(store_t *s, const char *league_id, int after_pos, int limit,
                       store_asset_t *out, int *pos, size_t *n, int *more);
    int (*assets_count)(store_t *s, const char *league_id, int *count);
};

#endif
