/* When the Football-Data.org sync may ask the provider for what, without any I/O: which catalogue
 * competitions the provider covers, a sliding-window request limit, Retry-After, and a backoff per
 * competition. Time is passed in (monotonic ms); nothing here reads a clock, allocates or logs. */
#ifndef GAVEL_SEASON_FD_SCHED_H
#define GAVEL_SEASON_FD_SCHED_H

#include <stddef.h>
#include <stdint.h>

#define FD_RATE_MAX 1000          /* most requests one window may allow */
#define FD_COMPS_MAX 32           /* provider competitions tracked at once */
#define FD_CODE_MAX 8             /* a provider competition code ("PL") with its NUL */
#define FD_RETRY_MAX_MS 3600000   /* a Retry-After is believed up to an hour */
#define FD_BACKOFF_CAP_MS 3600000 /* backoff never waits longer than this (or the period) */

/* What one request came to, as the scheduler sees it. */
typedef enum {
    FD_OK = 0,    /* a usable answer (applied, or nothing to apply) */
    FD_MALFORMED, /* not JSON, no matches, too large: nothing written; next period as usual */
    FD_THROTTLED, /* 429: no request at all until the provider's retry time */
    FD_FAILED,    /* 5xx, timeout, network, another 4xx: this competition backs off */
    FD_OUTCOMES
} fd_outcome_t;

/* At most max requests in any window of window_ms: a log of the last max send times. */
typedef struct {
    int max;
    int64_t window_ms;
    int64_t sent_ms[FD_RATE_MAX]; /* ring; the oldest at head once full */
    int n, head;
} fd_rate_t;

/* fd_rate_init allows max (clamped to 1..FD_RATE_MAX) requests per window_ms (>= 1). */
void fd_rate_init(fd_rate_t *r, int max, int64_t window_ms);

/* fd_rate_next_ms is the earliest time >= now_ms at which one more request keeps every window
 * of window_ms at max requests or fewer. */
int64_t fd_rate_next_ms(const fd_rate_t *r, int64_t now_ms);

/* fd_rate_note records a request sent at at_ms (times never decrease). */
void fd_rate_note(fd_rate_t *r, int64_t at_ms);

/* One provider competition and season, e.g. {"PL", 2025}. */
typedef struct {
    char code[FD_CODE_MAX];
    int season;
} fd_key_t;

/* fd_competition_map gives the provider competition of a catalogue competition code
 * ("EPL-2025" -> PL season 2025, "UCL-2025" -> CL, "WC-2026" -> WC, "EURO-2028" -> EC): the
 * part before the last '-' names the competition, the digits after it the season's first year.
 * 0, or GV_ENOT_FOUND when the provider does not cover it. */
int fd_competition_map(const char *catalogue_code, fd_key_t *out);

/* fd_retry_after_ms reads how long a 429 asks us to wait from the Retry-After value (seconds,
 * or an HTTP date judged against now_epoch_ms) and the provider's X-RequestCounter-Reset
 * (seconds); either may be NULL. The longer of the two, clamped to 0..FD_RETRY_MAX_MS; -1 when
 * neither says anything usable. */
int64_t fd_retry_after_ms(const char *retry_after, const char *counter_reset, int64_t now_epoch_ms);

/* fd_backoff_ms is the wait after `failures` (>= 1) failures in a row: period_ms doubled per
 * failure, at most FD_BACKOFF_CAP_MS (or period_ms when that is longer). */
int64_t fd_backoff_ms(int64_t period_ms, int failures);

typedef struct {
    fd_key_t key;
    int64_t due_ms; /* not fetched before; INT64_MAX while a fetch is in flight */
    int failures;   /* in a row */
} fd_comp_t;

typedef struct {
    fd_rate_t rate;
    int64_t period_ms;
    int64_t blocked_until_ms; /* no request before (a 429's retry time) */
    fd_comp_t comps[FD_COMPS_MAX];
    size_t n;
} fd_sched_t;

/* fd_sched_init: every competition once per period_ms, at most max_requests per window_ms. */
void fd_sched_init(fd_sched_t *s, int64_t period_ms, int max_requests, int64_t window_ms);

/* fd_sched_set makes keys[0..n) the tracked competitions: those already tracked keep their state,
 * new ones are due at now_ms, the others are forgotten. Duplicates count once. 0, or GV_ELIMIT
 * when more than FD_COMPS_MAX remain (the first FD_COMPS_MAX are kept). */
int fd_sched_set(fd_sched_t *s, const fd_key_t *keys, size_t n, int64_t now_ms);

/* fd_sched_find gives the index of key, or -1. */
int fd_sched_find(const fd_sched_t *s, const fd_key_t *key);

/* fd_sched_pick gives the index of the competition to fetch at now_ms (the one due longest, if
 * no 429 blocks and the rate limit allows a request), or -1 with *wake_ms set to when to look
 * again (> now_ms). Does not change s: call fd_sched_sent when the request goes out. */
int fd_sched_pick(const fd_sched_t *s, int64_t now_ms, int64_t *wake_ms);

/* fd_sched_sent records that competition i's request goes out at now_ms. */
void fd_sched_sent(fd_sched_t *s, size_t i, int64_t now_ms);

/* fd_sched_skip puts competition i off by a period without a request (nothing needs it now). */
void fd_sched_skip(fd_sched_t *s, size_t i, int64_t now_ms);

/* fd_sched_done records what key's request came to at now_ms. retry_ms (-1: none) is the
 * provider's wait: after a 429 (the window when absent) nothing is sent before it expires and key
 * is due again then; after another answer it still holds every request back when > 0 (the quota
 * is used up). FD_FAILED backs key off; FD_OK and FD_MALFORMED bring it back in a period. A key
 * no longer tracked only applies the wait. */
void fd_sched_done(fd_sched_t *s, const fd_key_t *key, fd_outcome_t o, int64_t retry_ms,
                   int64_t now_ms);

#endif
