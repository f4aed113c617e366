/* The periodic Football-Data.org sync of `gavel serve`: every football league whose competition
 * the provider covers gets that competition's matches once per period. The loop thread only
 * schedules and applies; the HTTP request runs on libuv's thread pool. Never logs: each request's
 * round is reported to a hook, and a league whose results changed to another. */
#ifndef GAVEL_SEASON_FD_SYNC_H
#define GAVEL_SEASON_FD_SYNC_H

#include "core/clock.h"
#include "season/fd_sched.h"
#include "store/store.h"

#include <stdint.h>
#include <uv.h>

typedef struct fd_sync_s fd_sync_t;

typedef struct {
    const char *token;    /* required: printable ASCII, no blanks, at most 255 bytes */
    const char *base_url; /* http(s)://host[:port][/path], no credentials */
    int64_t every_s;      /* each competition once per this many seconds (>= 1) */
    int max_requests;     /* at most this many requests ... */
    int64_t window_s;     /* ... in any window of this many seconds */
    int64_t timeout_s;    /* one request, all included */
} fd_sync_config_t;

/* One request for one competition and what came of it. */
typedef struct {
    fd_key_t key;
    fd_outcome_t outcome;
    long http_status;                      /* 0: no answer */
    int leagues;                           /* leagues the answer was applied to */
    int created, updated, skipped, errors; /* summed over the leagues; errors: rows and leagues */
    int64_t retry_ms;                      /* the provider's wait, -1 when none */
    int64_t duration_ms;                   /* of the request */
    const char *reason;                    /* secret-free; "" when FD_OK */
} fd_round_t;

typedef struct {
    void (*changed)(void *ctx, const char *league_id); /* fixtures created or updated */
    void (*round)(void *ctx, const fd_round_t *r);     /* once per request */
    void *ctx;
} fd_sync_hooks_t;

/* Counters for /metrics. */
typedef struct {
    uint64_t requests[FD_OUTCOMES];
    uint64_t created, updated, row_errors;
} fd_sync_stats_t;

/* fd_sync_config_check validates cfg (token, URL, ranges): 0 or GV_EINVALID_REQUEST with what is
 * wrong in why (size n; never quotes the token). */
int fd_sync_config_check(const fd_sync_config_t *cfg, char *why, size_t n);

/* fd_sync_new makes a sync on loop over store (both borrowed, used on the loop thread only) with
 * clock (borrowed) and a copy of cfg and hooks. Nothing runs before fd_sync_start. 0,
 * GV_EINVALID_REQUEST (see fd_sync_config_check), GV_EINTERNAL (curl) or GV_ENOMEM. */
int fd_sync_new(fd_sync_t **out, uv_loop_t *loop, store_t *store, const gv_clock_t *clock,
                const fd_sync_config_t *cfg, const fd_sync_hooks_t *hooks);

/* fd_sync_start arms the timer: the first look at the leagues is at once. 0 or GV_EINTERNAL. */
int fd_sync_start(fd_sync_t *s);

/* fd_sync_stop cancels the request in flight (it ends within about a second; its answer is
 * dropped) and closes the timer; no hook is called afterwards. Idempotent; NULL is a no-op. */
void fd_sync_stop(fd_sync_t *s);

/* fd_sync_free releases s, once the loop ran after fd_sync_stop until nothing of s was left
 * pending (uv_run returned). NULL is a no-op. */
void fd_sync_free(fd_sync_t *s);

/* fd_sync_stats gives the counters (all zero for NULL). */
const fd_sync_stats_t *fd_sync_stats(const fd_sync_t *s);

#endif
