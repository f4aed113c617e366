/* The catalogue operations a backend provides (the vtable behind store_catalogue.h). Arguments
 * are already checked by store_catalogue.c; included by the dispatcher and the backends only. */
#ifndef GAVEL_STORE_STORE_CATALOGUE_INT_H
#define GAVEL_STORE_STORE_CATALOGUE_INT_H

#include "store/store_int.h"

#include <stddef.h>
#include <stdint.h>

struct store_catalogue_ops_s {
    int (*sports_list)(store_t *s, store_sport_t *out, size_t max, size_t *n);
    int (*competitions_list)(store_t *s, const char *sport, store_competition_t *out, size_t max,
                             size_t *n);
    int (*competition_get)(store_t *s, const char *code, store_competition_t *out);
    int (*asset_get)(store_t *s, const char *id, store_asset_t *out);
    /* q->sport, competition, q may be NULL (no filter); after_name is NULL on the first page;
     * q->q is the raw search text (the backend makes its wildcards literal). max >= 1 and
     * max <= q->limit. */
    int (*assets_list)(store_t *s, const store_asset_query_t *q, store_asset_t *out, size_t max,
                       size_t *n, int *more);
    /* The writes, run inside a transaction (the caller's or one store_catalogue.c opened).
     * They check everything before their first write, so a refusal (GV_EINVALID_REQUEST,
     * GV_ECONFLICT) changes nothing; after any other failure the transaction must be rolled
     * back. For an asset, codes are sorted and unique and provider_ids is canonical. */
    int (*competition_save_tx)(store_t *s, const store_competition_t *c, store_upsert_t *outcome);
    int (*asset_save_tx)(store_t *s, const store_asset_t *a, const char *const *codes, size_t n,
                         int64_t now_ms, store_upsert_t *outcome);
    /* 1 when a transaction is open on s. */
    int (*in_tx)(store_t *s);
    int (*meta_get)(store_t *s, const char *key, char *out, size_t cap);
    int (*meta_set)(store_t *s, const char *key, const char *value);
    /* Sets key to value only when key has no value yet (one statement: of racing callers on any
     * connection, one wins). */
    int (*meta_add)(store_t *s, const char *key, const char *value);
};

#endif
