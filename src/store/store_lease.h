/* The leases part of the store interface (included by store.h): which server node runs each
 * auction, for several nodes on one database. A lease is on the auction's row (a deleted auction
 * takes its lease with it): an owner, a fencing epoch that every take raises, and an end. Times
 * are the database's own clock, never the caller's, so that nodes whose clocks differ agree on
 * when a lease ends. The auction's group commit names the lease it writes under
 * (store_auction_update_fenced): a node that lost the lease can no longer commit. */
#ifndef GAVEL_STORE_STORE_LEASE_H
#define GAVEL_STORE_STORE_LEASE_H

#include <stdint.h>

typedef struct store_s store_t;

#define STORE_NODE_MAX 64              /* bytes of a node's id with its NUL */
#define STORE_LEASE_TTL_MAX 86400000LL /* the longest lease a take or renewal asks: a day */

typedef struct {
    char owner[STORE_NODE_MAX]; /* "" when no node holds it */
    int64_t epoch;              /* takes so far (0: never taken) */
    int64_t remaining_ms;       /* until it ends, by the database's clock; < 0: expired */
} store_lease_t;

/* store_lease_take makes node the owner of auction_id for ttl_ms (1..STORE_LEASE_TTL_MAX) when it
 * has no owner, its lease expired, or node already holds it; the epoch always goes up by one (a
 * new holder, or the same node id restarted, fences off whatever wrote before). *epoch: the new
 * epoch. One statement (atomic against other nodes racing for it). 0, GV_ECONFLICT (another
 * node's lease is still running), GV_ENOT_FOUND (no such auction), GV_EINVALID_REQUEST (node "")
 * or GV_ELIMIT (node too long), or GV_EDB*. */
int store_lease_take(store_t *s, const char *auction_id, const char *node, int64_t ttl_ms,
                     int64_t *epoch);

/* Called per lease by store_lease_renew; a nonzero return stops the walk and is returned. */
typedef int (*store_lease_renew_fn)(void *ctx, const char *auction_id, int64_t epoch);

/* store_lease_renew extends to now + ttl_ms every lease node holds (expired or not: its epoch
 * still stands until another node takes it) on auctions not completed, in one statement, then
 * calls fn(ctx, auction_id, epoch) for each, in no particular order (fn may use the store).
 * 0, fn's nonzero or GV_EDB*. */
int store_lease_renew(store_t *s, const char *node, int64_t ttl_ms, store_lease_renew_fn fn,
                      void *ctx);

/* Called per auction by store_lease_free_each; a nonzero return stops the walk and is returned. */
typedef int (*store_lease_free_fn)(void *ctx, const char *auction_id);

/* store_lease_free_each calls fn(ctx, auction_id) for up to limit (0: no limit; < 0:
 * GV_EINVALID_REQUEST) auctions that are not completed and whose lease is free (no owner) or
 * expired, oldest expiry first (then by id). Every id is read before fn runs: fn may take the
 * leases. 0, fn's nonzero or GV_EDB*. */
int store_lease_free_each(store_t *s, int limit, store_lease_free_fn fn, void *ctx);

/* store_lease_get reads the lease of auction_id (owner "" when none). 0, GV_ENOT_FOUND or
 * GV_EDB*. */
int store_lease_get(store_t *s, const char *auction_id, store_lease_t *out);

/* store_lease_release ends node's lease on auction_id at once when it still holds epoch (graceful
 * shutdown: another node may take it without waiting): no owner and ended, the epoch kept. 0 (also
 * when it no longer held it, or the auction is gone) or GV_EDB*. */
int store_lease_release(store_t *s, const char *auction_id, const char *node, int64_t epoch);

/* The lease a write is made under. */
typedef struct {
    const char *node;
    int64_t epoch;
} store_fence_t;

/* store_auction_update_fenced is store_auction_update that writes only while fence->node holds
 * the auction's lease at fence->epoch (expired or not: only a new take changes the epoch);
 * GV_EFENCED otherwise (nothing written; inside a transaction the caller rolls back). fence NULL:
 * store_auction_update. A missing auction is GV_ENOT_FOUND, as there. In a bulk transaction
 * (store_bulk, PostgreSQL) it is one statement that fails when it matches no row: the commit then
 * fails with GV_EFENCED, and nothing of the transaction is kept (a missing auction also reports
 * GV_EFENCED there: that statement cannot tell the two apart). */
int store_auction_update_fenced(store_t *s, const char *id, const char *status, int64_t seq,
                                int64_t now_ms, const store_fence_t *fence);

#endif
