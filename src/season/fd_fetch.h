/* One Football-Data.org request with libcurl, meant for a worker thread: a GET with the token in
 * X-Auth-Token, connect and total time-outs, a cap on the body, cancellation from another thread,
 * and the answer judged (usable, malformed, throttled, failed) with a secret-free reason. */
#ifndef GAVEL_SEASON_FD_FETCH_H
#define GAVEL_SEASON_FD_FETCH_H

#include "core/buf.h"
#include "season/fd_sched.h"

#include <stdatomic.h>
#include <stdint.h>

#define FD_FETCH_MAX_BYTES (16 * 1024 * 1024) /* a whole season is well under 1 MiB */
#define FD_FETCH_CONNECT_TIMEOUT_S 10
#define FD_FETCH_HEADER_MAX 64
#define FD_FETCH_REASON_MAX 160

typedef struct {
    const char *url;          /* the whole URL */
    const char *token;        /* sent as X-Auth-Token; never in a reason */
    long timeout_s;           /* the whole request; connecting takes at most 10 s of it */
    size_t max_bytes;         /* a longer body is malformed (too_large) */
    const atomic_int *cancel; /* non-zero: give up (checked about once a second, or sooner) */
} fd_fetch_req_t;

typedef struct {
    long status;                             /* HTTP status, 0 when no answer came */
    buf_t body;                              /* owned: buf_deinit it (fd_fetch_result_deinit) */
    char retry_after[FD_FETCH_HEADER_MAX];   /* Retry-After, "" when absent */
    char counter_reset[FD_FETCH_HEADER_MAX]; /* X-RequestCounter-Reset, "" when absent */
    int exhausted;                           /* X-Requests-Available-Minute: 0 */
    int cancelled;
    fd_outcome_t outcome;
    int64_t retry_ms;                 /* the provider's wait (see fd_sched_done), -1 when none */
    char reason[FD_FETCH_REASON_MAX]; /* why it is not usable: "" when FD_OK */
} fd_fetch_result_t;

/* fd_fetch_global_init runs curl_global_init once; call it on the loop thread before any fetch
 * (curl_global_init is not thread-safe). 0 or GV_EINTERNAL. */
int fd_fetch_global_init(void);

/* fd_fetch_run performs req, blocking, and fills res (initialised here; deinit it after) with
 * the answer judged by fd_fetch_judge against now_epoch_ms. Never logs. */
void fd_fetch_run(const fd_fetch_req_t *req, int64_t now_epoch_ms, fd_fetch_result_t *res);

/* fd_fetch_judge sets res->outcome, retry_ms and reason from status, headers and body (already
 * in res): 200 with a JSON object holding a "matches" array is FD_OK; 429 FD_THROTTLED; 5xx,
 * other 4xx and no answer FD_FAILED; another 200 FD_MALFORMED. Pure. */
void fd_fetch_judge(fd_fetch_result_t *res, int64_t now_epoch_ms);

/* fd_fetch_result_deinit frees the body. */
void fd_fetch_result_deinit(fd_fetch_result_t *res);

#endif
