/* Sentry delivery of error reports: the DSN, the envelope (pure builders), a sliding-window rate
 * limit, and one sender thread with a bounded queue that posts envelopes with libcurl. */
#ifndef GAVEL_REPORT_SENTRY_H
#define GAVEL_REPORT_SENTRY_H

#include "core/buf.h"
#include "report/report.h"

#include <stddef.h>
#include <stdint.h>

#define SENTRY_QUEUE_MAX 64         /* envelopes waiting for the sender; more are dropped */
#define SENTRY_RATE_MAX 10          /* envelopes accepted ... */
#define SENTRY_RATE_WINDOW_MS 10000 /* ... in any window of this many milliseconds */
#define SENTRY_TIMEOUT_MS 5000      /* one POST, all included */
#define SENTRY_CONNECT_TIMEOUT_MS 2000
#define SENTRY_STOP_GRACE_MS 2000 /* at shutdown: time left to send what is queued */

/* A parsed DSN: {scheme}://{key}@{host}[:{port}][/{path}]/{project}. */
typedef struct {
    char text[512];   /* the DSN as given */
    char key[128];    /* the public key */
    char url[768];    /* {scheme}://{host}[:{port}][/{path}]/api/{project}/envelope/ */
    char project[24]; /* the numeric project id */
} sentry_dsn_t;

/* sentry_dsn_parse reads text (http:// or https://, a public key without a secret, a host name,
 * IPv4 or [IPv6] address, an optional port 1-65535, an optional path, a numeric project id; no
 * query or fragment) into out. 0 or GV_EINVALID_REQUEST. */
int sentry_dsn_parse(const char *text, sentry_dsn_t *out);

/* sentry_auth_header writes "X-Sentry-Auth: Sentry sentry_version=7, sentry_key=<key>,
 * sentry_client=gavel/<release>" into out (size n). 0, or GV_ELIMIT when it does not fit. */
int sentry_auth_header(const sentry_dsn_t *dsn, const char *release, char *out, size_t n);

/* What an event carries besides the report. */
typedef struct {
    char event_id[33];       /* 32 lower-case hex digits */
    int64_t now_ms;          /* wall clock: the event's timestamp and the envelope's sent_at */
    const char *release;     /* the build's version; sent as "gavel@<release>" */
    const char *server_name; /* the host name */
} sentry_meta_t;

/* sentry_event_id fills id with 32 random lower-case hex digits and a NUL. 0 or GV_EINTERNAL. */
int sentry_event_id(char id[33]);

/* sentry_envelope_build appends the envelope of the (already scrubbed) report r to out: the
 * header line {"event_id","dsn","sent_at"}, the item header {"type":"event","length":N} and the
 * event {"event_id","timestamp","level","platform":"c","logger":"gavel","message",
 * "tags":{"kind","route","status","code"},"extra":{"rid","method","path","err","context"},
 * "release","server_name"}, each followed by '\n'. 0 or GV_ENOMEM. */
int sentry_envelope_build(const sentry_dsn_t *dsn, const report_t *r, const sentry_meta_t *meta,
                          buf_t *out);

/* A sliding-window limit: at most SENTRY_RATE_MAX admissions in any SENTRY_RATE_WINDOW_MS. */
typedef struct {
    int64_t at_ms[SENTRY_RATE_MAX]; /* the last admissions, a ring */
    size_t next, n;
} sentry_rate_t;

/* sentry_rate_allow: 1 (and counts it) when one more is admitted at now_ms (a monotonic clock),
 * else 0. */
int sentry_rate_allow(sentry_rate_t *r, int64_t now_ms);

typedef struct sentry_sender_s sentry_sender_t;

/* sentry_sender_new starts the sender thread posting to dsn (copied). Call curl_global_init
 * first. 0 or GV_E*. */
int sentry_sender_new(sentry_sender_t **out, const sentry_dsn_t *dsn, const char *release);

/* sentry_sender_post queues data (len bytes, malloc'ed; ownership taken in every case) for the
 * thread. Never blocks on the network. 0, or GV_ELIMIT when over the rate limit or the queue is
 * full (data freed, counted as dropped). */
int sentry_sender_post(sentry_sender_t *s, char *data, size_t len);

/* sentry_sender_stats copies the sender's counts into out (any time, from any thread). */
void sentry_sender_stats(const sentry_sender_t *s, report_stats_t *out);

/* sentry_sender_stop lets the thread send what is queued for at most SENTRY_STOP_GRACE_MS (a
 * transfer in flight is cut at the deadline), drops the rest (counted) and joins the thread;
 * later posts are dropped. */
void sentry_sender_stop(sentry_sender_t *s);

/* sentry_sender_free stops s when it still runs and frees it. NULL is a no-op. */
void sentry_sender_free(sentry_sender_t *s);

#endif
