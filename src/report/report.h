/* Error reports: one structured log line at level error for every 5xx response and every broken
 * invariant, scrubbed of e-mail addresses and secrets, and the same report sent to Sentry when a
 * DSN is configured (off the loop, rate-limited, never blocking). Process-wide, like the log. */
#ifndef GAVEL_REPORT_REPORT_H
#define GAVEL_REPORT_REPORT_H

#include <stddef.h>
#include <stdint.h>

typedef enum { REPORT_HTTP_5XX = 0, REPORT_INVARIANT, REPORT_FATAL_SIGNAL } report_kind_t;

/* What happened. Every pointer is borrowed for the call; NULL (or 0) means "none". */
typedef struct {
    report_kind_t kind;
    const char *rid;     /* the request id */
    const char *method;  /* the request's method */
    const char *route;   /* the route pattern ("/api/leagues/{id}"): what groups reports */
    const char *path;    /* the request path without its query (scrubbed here) */
    int status;          /* the HTTP status */
    int err;             /* the GV_E* code */
    const char *context; /* a short free text (scrubbed here) */
} report_t;

/* Size of each scrubbed text of a report (path, context), NUL included. */
#define REPORT_TEXT_MAX 300

/* report_kind_name gives "http_5xx", "invariant" or "fatal_signal". */
const char *report_kind_name(report_kind_t kind);

/* report_text_scrub copies in into out (size n, at least 16) fit for one quoted logfmt value and
 * free of personal data and secrets: double quotes and backslashes are dropped, control
 * characters become spaces, every blank-separated word containing '@' becomes "[email]", the
 * word after "Bearer" or "Basic" becomes "[redacted]", and so does every run of 20 or more
 * base64url characters [A-Za-z0-9_-] (tokens, hex keys, JWT parts) except the server's own ids
 * (a lower-case prefix, '_' and 20 hex digits: "lg_0123456789abcdef0123") and runs of lower-case
 * letters, '_' and '-' only (names such as "auction_commit_failed"). Cut at a character boundary
 * to fit; always NUL-terminated. */
void report_text_scrub(const char *in, char *out, size_t n);

/* report_error scrubs r and writes it as one log line at level error, then flushes the log:
 *   error report kind=http_5xx rid=.. method=.. route="/api/leagues/{id}" path=".." status=500
 *   code=internal err=INTERNAL context=".."
 * (absent values as "-"), and queues it for Sentry when report_sentry_start ran (never waits
 * for the network; dropped and counted when over the rate limit or the queue is full). Call it
 * from the loop thread (any one thread). */
void report_error(const report_t *r);

/* Counts of the reports meant for Sentry (all zero without a DSN). */
typedef struct {
    uint64_t sent;    /* accepted by Sentry (HTTP 2xx) */
    uint64_t dropped; /* over the rate limit, the queue full, or still queued at shutdown */
    uint64_t failed;  /* the request failed: no connection, a timeout, a status other than 2xx */
} report_stats_t;

/* report_stats_get copies the counts into out. */
void report_stats_get(report_stats_t *out);

/* report_sentry_check: 0 when dsn is empty (Sentry off) or a usable DSN; otherwise
 * GV_EINVALID_REQUEST with why (size n) saying what a DSN must look like. */
int report_sentry_check(const char *dsn, char *why, size_t n);

/* report_sentry_start parses dsn (empty: nothing to do) and starts the sender thread; release is
 * the build's version. Call once, from the thread that later calls report_error. 0 or GV_E*. */
int report_sentry_start(const char *dsn, const char *release);

/* report_sentry_stop gives the queued reports a short grace (about 2 s, a transfer in flight
 * included), drops the rest and stops the thread. No-op when not started. */
void report_sentry_stop(void);

#endif
