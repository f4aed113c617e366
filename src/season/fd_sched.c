/* The Football-Data.org sync's scheduling: competition mapping, the sliding-window limit,
 * Retry-After and backoff. Pure: time comes in as arguments. */
#include "season/fd_sched.h"

#include "core/err.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- rate window ---------------------------------------------------------------------------- */

void fd_rate_init(fd_rate_t *r, int max, int64_t window_ms)
{
    r->max = max < 1 ? 1 : max > FD_RATE_MAX ? FD_RATE_MAX : max;
    r->window_ms = window_ms < 1 ? 1 : window_ms;
    r->n = r->head = 0;
}

int64_t fd_rate_next_ms(const fd_rate_t *r, int64_t now_ms)
{
    if (r->n < r->max)
        return now_ms;
    /* The request max places back must have left the window: then no window holds max + 1. */
    int64_t free_at = r->sent_ms[r->head] + r->window_ms;
    return free_at > now_ms ? free_at : now_ms;
}

void fd_rate_note(fd_rate_t *r, int64_t at_ms)
{
    if (r->n < r->max) {
        r->sent_ms[(r->head + r->n) % r->max] = at_ms;
        r->n++;
        return;
    }
    r->sent_ms[r->head] = at_ms; /* overwrite the oldest */
    r->head = (r->head + 1) % r->max;
}

/* ---- competitions --------------------------------------------------------------------------- */

/* Catalogue competition (the code before the season) -> Football-Data.org v4 competition code. */
static const char *const fd_codes[][2] = {
    {"EPL", "PL"},  /* Premier League */
    {"UCL", "CL"},  /* UEFA Champions League */
    {"WC", "WC"},   /* FIFA World Cup */
    {"EURO", "EC"}, /* European Championship */
};

int fd_competition_map(const char *catalogue_code, fd_key_t *out)
{
    const char *dash = catalogue_code ? strrchr(catalogue_code, '-') : NULL;
    if (!dash || strlen(dash + 1) != 4)
        return GV_ENOT_FOUND;
    int season = 0;
    for (const char *p = dash + 1; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return GV_ENOT_FOUND;
        season = season * 10 + (*p - '0');
    }
    size_t len = (size_t)(dash - catalogue_code);
    for (size_t i = 0; i < sizeof(fd_codes) / sizeof(fd_codes[0]); i++) {
        if (strlen(fd_codes[i][0]) == len && !memcmp(fd_codes[i][0], catalogue_code, len)) {
            memset(out, 0, sizeof(*out));
            strcpy(out->code, fd_codes[i][1]);
            out->season = season;
            return 0;
        }
    }
    return GV_ENOT_FOUND;
}

/* ---- Retry-After and backoff ---------------------------------------------------------------- */

/* Whole seconds (surrounding blanks allowed) into *ms; 0 or -1. */
static int fd_seconds(const char *v, int64_t *ms)
{
    while (*v == ' ' || *v == '\t')
        v++;
    if (!isdigit((unsigned char)*v))
        return -1;
    int64_t s = 0;
    for (; isdigit((unsigned char)*v); v++)
        s = s < FD_RETRY_MAX_MS ? s * 10 + (*v - '0') : s; /* saturate: clamped below anyway */
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v)
        return -1;
    *ms = s * 1000;
    return 0;
}

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into milliseconds from now; 0 or -1. */
static int fd_http_date(const char *v, int64_t now_epoch_ms, int64_t *ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end)
        return -1;
    *ms = (int64_t)timegm(&tm) * 1000 - now_epoch_ms;
    return 0;
}

static int64_t fd_clamp_retry(int64_t ms)
{
    return ms < 0 ? 0 : ms > FD_RETRY_MAX_MS ? FD_RETRY_MAX_MS : ms;
}

int64_t fd_retry_after_ms(const char *retry_after, const char *counter_reset, int64_t now_epoch_ms)
{
    int64_t best = -1, ms;
    if (retry_after &&
        (fd_seconds(retry_after, &ms) == 0 || fd_http_date(retry_after, now_epoch_ms, &ms) == 0))
        best = fd_clamp_retry(ms);
    if (counter_reset && fd_seconds(counter_reset, &ms) == 0 && fd_clamp_retry(ms) > best)
        best = fd_clamp_retry(ms);
    return best;
}

int64_t fd_backoff_ms(int64_t period_ms, int failures)
{
    int64_t cap = period_ms > FD_BACKOFF_CAP_MS ? period_ms : FD_BACKOFF_CAP_MS;
    int64_t ms = period_ms;
    for (int i = 0; i < failures && ms < cap; i++)
        ms *= 2;
    return ms < cap ? ms : cap;
}

/* ---- the schedule --------------------------------------------------------------------------- */

void fd_sched_init(fd_sched_t *s, int64_t period_ms, int max_requests, int64_t window_ms)
{
    memset(s, 0, sizeof(*s));
    fd_rate_init(&s->rate, max_requests, window_ms);
    s->period_ms = period_ms < 1 ? 1 : period_ms;
}

static int fd_key_eq(const fd_key_t *a, const fd_key_t *b)
{
    return a->season == b->season && !strcmp(a->code, b->code);
}

int fd_sched_find(const fd_sched_t *s, const fd_key_t *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (fd_key_eq(&s->comps[i].key, key))
            return (int)i;
    return -1;
}

int fd_sched_set(fd_sched_t *s, const fd_key_t *keys, size_t n, int64_t now_ms)
{
    fd_comp_t next[FD_COMPS_MAX];
    size_t m = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        int dup = 0;
        for (size_t j = 0; j < m && !dup; j++)
            dup = fd_key_eq(&next[j].key, &keys[i]);
        if (dup)
            continue;
        if (m == FD_COMPS_MAX) {
            rc = GV_ELIMIT;
            break;
        }
        int old = fd_sched_find(s, &keys[i]);
        next[m] = old >= 0 ? s->comps[old] : (fd_comp_t){.key = keys[i], .due_ms = now_ms};
        m++;
    }
    memcpy(s->comps, next, m * sizeof(next[0]));
    s->n = m;
    return rc;
}

int fd_sched_pick(const fd_sched_t *s, int64_t now_ms, int64_t *wake_ms)
{
    int best = -1;
    for (size_t i = 0; i < s->n; i++)
        if (best < 0 || s->comps[i].due_ms < s->comps[best].due_ms)
            best = (int)i;
    int64_t at = best < 0 ? now_ms + s->period_ms : s->comps[best].due_ms;
    if (best >= 0 && at == INT64_MAX) /* only the one in flight: its answer wakes us */
        at = now_ms + s->period_ms;
    if (at < s->blocked_until_ms)
        at = s->blocked_until_ms;
    int64_t rate_at = fd_rate_next_ms(&s->rate, at > now_ms ? at : now_ms);
    if (rate_at > at)
        at = rate_at;
    if (best >= 0 && at <= now_ms)
        return best;
    *wake_ms = at > now_ms ? at : now_ms + 1;
    return -1;
}

void fd_sched_sent(fd_sched_t *s, size_t i, int64_t now_ms)
{
    fd_rate_note(&s->rate, now_ms);
    s->comps[i].due_ms = INT64_MAX;
}

void fd_sched_skip(fd_sched_t *s, size_t i, int64_t now_ms)
{
    s->comps[i].due_ms = now_ms + s->period_ms;
}

void fd_sched_done(fd_sched_t *s, const fd_key_t *key, fd_outcome_t o, int64_t retry_ms,
                   int64_t now_ms)
{
    if (o == FD_THROTTLED && retry_ms < 0)
        retry_ms = s->rate.window_ms;
    if (retry_ms > 0 && now_ms + retry_ms > s->blocked_until_ms)
        s->blocked_until_ms = now_ms + retry_ms;
    int i = fd_sched_find(s, key);
    if (i < 0)
        return;
    fd_comp_t *c = &s->comps[i];
    if (o == FD_THROTTLED) {
        c->due_ms = now_ms; /* due again as soon as the wait is over */
    } else if (o == FD_FAILED) {
        c->failures++;
        c->due_ms = now_ms + fd_backoff_ms(s->period_ms, c->failures);
    } else {
        c->failures = 0;
        c->due_ms = now_ms + s->period_ms;
    }
}
