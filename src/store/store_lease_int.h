/* Internals of the leases part of the store: the table of operations a backend provides for
 * store_lease.h (store_lease.c checks arguments and dispatches through it). The fenced update of
 * an auction's row is the auctions' update_tx with a fence (store_auction_int.h). Only src/store
 * and tests include it. */
#ifndef GAVEL_STORE_STORE_LEASE_INT_H
#define GAVEL_STORE_STORE_LEASE_INT_H

#include "store/store_int.h"

#include <stdint.h>

/* The leases operations of a backend, each one statement (and, when it changed no row, a read
 * that tells why). Arguments are already checked by store_lease.c. "Now" is the database's clock:
 * the backends never take a time from the caller. */
struct store_lease_ops_s {
    int (*take)(store_t *s, const char *auction_id, const char *node, int64_t ttl_ms,
                int64_t *epoch);
    /* Reads every renewed lease first, then calls fn per lease. */
    int (*renew)(store_t *s, const char *node, int64_t ttl_ms, store_lease_renew_fn fn, void *ctx);
    /* limit 0: no limit. Reads every id first, then calls fn per id. */
    int (*free_each)(store_t *s, int limit, store_lease_free_fn fn, void *ctx);
    int (*get)(store_t *s, const char *auction_id, store_lease_t *out);
    int (*release)(store_t *s, const char *auction_id, const char *node, int64_t epoch);
};

#endif
