/* The leases dispatcher: checks arguments and forwards each call of store_lease.h to the
 * backend's leases operations (store_auction_update_fenced is in store_auction.c, next to
 * store_auction_update). */
#include "store/store_lease_int.h"

#include "core/err.h"

#include <string.h>

/* A lease's length: positive and at most STORE_LEASE_TTL_MAX (a bug otherwise). */
static int le_ttl_check(int64_t ttl_ms)
{
    return ttl_ms >= 1 && ttl_ms <= STORE_LEASE_TTL_MAX ? 0 : GV_EINTERNAL;
}

int store_lease_take(store_t *s, const char *auction_id, const char *node, int64_t ttl_ms,
                     int64_t *epoch)
{
    if (epoch == NULL)
        return GV_EINTERNAL;
    int err = le_ttl_check(ttl_ms);
    if (err == 0)
        err = store_key_check(node, STORE_NODE_MAX);
    if (err == 0)
        err = store_lookup_check(auction_id, STORE_ID_MAX);
    return err != 0 ? err : s->lease->take(s, auction_id, node, ttl_ms, epoch);
}

int store_lease_renew(store_t *s, const char *node, int64_t ttl_ms, store_lease_renew_fn fn,
                      void *ctx)
{
    if (fn == NULL)
        return GV_EINTERNAL;
    int err = le_ttl_check(ttl_ms);
    if (err == 0)
        err = store_key_check(node, STORE_NODE_MAX);
    return err != 0 ? err : s->lease->renew(s, node, ttl_ms, fn, ctx);
}

int store_lease_free_each(store_t *s, int limit, store_lease_free_fn fn, void *ctx)
{
    if (fn == NULL)
        return GV_EINTERNAL;
    if (limit < 0)
        return GV_EINVALID_REQUEST;
    return s->lease->free_each(s, limit, fn, ctx);
}

/* *out is cleared first: an unowned lease whatever the result. */
int store_lease_get(store_t *s, const char *auction_id, store_lease_t *out)
{
    if (out == NULL)
        return GV_EINTERNAL;
    memset(out, 0, sizeof(*out));
    int err = store_lookup_check(auction_id, STORE_ID_MAX);
    return err != 0 ? err : s->lease->get(s, auction_id, out);
}

/* An id or a node that cannot be stored cannot hold a lease: nothing to release. */
int store_lease_release(store_t *s, const char *auction_id, const char *node, int64_t epoch)
{
    if (auction_id == NULL || node == NULL)
        return GV_EINTERNAL;
    if (store_lookup_check(auction_id, STORE_ID_MAX) != 0 ||
        store_lookup_check(node, STORE_NODE_MAX) != 0)
        return 0;
    return s->lease->release(s, auction_id, node, epoch);
}
