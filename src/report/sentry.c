/* Sentry's side of a report, the pure parts: the DSN, the auth header, the envelope of one event
 * and the rate limit. */
#include "report/sentry.h"

#include "core/b64.h"
#include "core/err.h"
#include "core/random.h"
#include "json/json_text.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the DSN -------------------------------------------------------------------------------- */

static int dsn_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* 1 when s[0..n) is 1 to max characters that all satisfy ok (or are in extra). */
static int dsn_span_ok(const char *s, size_t n, size_t max, const char *extra)
{
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!dsn_alnum(s[i]) && !(extra && s[i] && strchr(extra, s[i])))
            return 0;
    return 1;
}

/* A host name, IPv4 address or [IPv6] address, then an optional :port (1-65535). */
static int dsn_host_ok(const char *h, size_t n)
{
    size_t i = 0;
    if (n && h[0] == '[') {
        const char *close = memchr(h, ']', n);
        if (!close || !dsn_span_ok(h + 1, (size_t)(close - h) - 1, 64, ":."))
            return 0;
        i = (size_t)(close - h) + 1;
    } else {
        while (i < n && (dsn_alnum(h[i]) || h[i] == '.' || h[i] == '-'))
            i++;
        if (i == 0 || i > 253)
            return 0;
    }
    if (i == n)
        return 1;
    if (h[i] != ':' || !dsn_span_ok(h + i + 1, n - i - 1, 5, NULL))
        return 0;
    long port = strtol(h + i + 1, NULL, 10);
    for (size_t k = i + 1; k < n; k++)
        if (h[k] < '0' || h[k] > '9')
            return 0;
    return port >= 1 && port <= 65535;
}

int sentry_dsn_parse(const char *text, sentry_dsn_t *out)
{
    memset(out, 0, sizeof(*out));
    size_t tl = strlen(text), skip = !strncmp(text, "https://", 8)  ? 8
                                     : !strncmp(text, "http://", 7) ? 7
                                                                    : 0;
    if (!skip || tl >= sizeof(out->text))
        return GV_EINVALID_REQUEST;
    const char *p = text + skip, *at = strchr(p, '@'), *slash = strchr(p, '/');
    const char *last = strrchr(p, '/');
    if (!at || !slash || at > slash)
        return GV_EINVALID_REQUEST;
    size_t klen = (size_t)(at - p), hlen = (size_t)(slash - at - 1);
    size_t plen = (size_t)(last - slash), idlen = strlen(last + 1);
    if (!dsn_span_ok(p, klen, sizeof(out->key) - 1, NULL) || !dsn_host_ok(at + 1, hlen) ||
        !dsn_span_ok(last + 1, idlen, sizeof(out->project) - 1, NULL) ||
        strspn(last + 1, "0123456789") != idlen ||
        (plen && !dsn_span_ok(slash, plen, sizeof(out->url) / 2, "/._~-")))
        return GV_EINVALID_REQUEST;
    memcpy(out->text, text, tl);
    memcpy(out->key, p, klen);
    memcpy(out->project, last + 1, idlen);
    snprintf(out->url, sizeof(out->url), "%.*s%.*s%.*s/api/%s/envelope/", (int)skip, text,
             (int)hlen, at + 1, (int)plen, slash, out->project);
    return 0;
}

int sentry_auth_header(const sentry_dsn_t *dsn, const char *release, char *out, size_t n)
{
    int w = snprintf(out, n,
                     "X-Sentry-Auth: Sentry sentry_version=7, sentry_key=%s, "
                     "sentry_client=gavel/%s",
                     dsn->key, release);
    return w > 0 && (size_t)w < n ? 0 : GV_ELIMIT;
}

/* ---- the envelope --------------------------------------------------------------------------- */

int sentry_event_id(char id[33])
{
    unsigned char raw[16];
    if (random_bytes(raw, sizeof(raw)) != 0)
        return GV_EINTERNAL;
    hex_encode(raw, sizeof(raw), id);
    return 0;
}

/* RFC 3339 in UTC with milliseconds: "2025-11-23T19:00:00.000Z". */
static void sentry_time(int64_t ms, char *out, size_t n)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* The event's title, what Sentry groups by: stable parts only (no ids, no path, no context). */
static void sentry_title(const report_t *r, const char *code, char *out, size_t n)
{
    if (r->kind == REPORT_HTTP_5XX)
        snprintf(out, n, "%s %d %s %s %s", report_kind_name(r->kind), r->status, code,
                 or_dash(r->method), or_dash(r->route));
    else
        snprintf(out, n, "%s %s: %s", report_kind_name(r->kind), code, or_dash(r->context));
}

static json_t *sentry_event_json(const report_t *r, const sentry_meta_t *meta, const char *ts)
{
    char title[REPORT_TEXT_MAX + 128], status[16], release[160];
    const char *code = r->err ? err_api_code(r->err) : "-";
    sentry_title(r, code, title, sizeof(title));
    snprintf(status, sizeof(status), "%d", r->status);
    snprintf(release, sizeof(release), "gavel@%s", meta->release);
    json_t *tags = json_pack("{s:s, s:s, s:s, s:s}", "kind", report_kind_name(r->kind), "route",
                             or_dash(r->route), "status", r->status ? status : "-", "code", code);
    json_t *extra = json_pack("{s:s, s:s, s:s, s:s, s:s}", "rid", or_dash(r->rid), "method",
                              or_dash(r->method), "path", or_dash(r->path), "err",
                              r->err ? err_name(r->err) : "-", "context", or_dash(r->context));
    if (!tags || !extra) {
        json_decref(tags);
        json_decref(extra);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s}", "event_id",
                     meta->event_id, "timestamp", ts, "level",
                     r->kind == REPORT_FATAL_SIGNAL ? "fatal" : "error", "platform", "c", "logger",
                     "gavel", "message", title, "tags", tags, "extra", extra, "release", release,
                     "server_name", or_dash(meta->server_name));
}

int sentry_envelope_build(const sentry_dsn_t *dsn, const report_t *r, const sentry_meta_t *meta,
                          buf_t *out)
{
    char ts[80]; /* room for any year gmtime_r may give */
    sentry_time(meta->now_ms, ts, sizeof(ts));
    json_t *ev = sentry_event_json(r, meta, ts);
    json_t *head =
        json_pack("{s:s, s:s, s:s}", "event_id", meta->event_id, "dsn", dsn->text, "sent_at", ts);
    char *evs = ev ? json_text(ev, JSON_COMPACT) : NULL;
    char *hs = head ? json_text(head, JSON_COMPACT) : NULL;
    int rc = evs && hs ? buf_printf(out, "%s\n{\"type\":\"event\",\"length\":%zu}\n%s\n", hs,
                                    strlen(evs), evs)
                       : GV_ENOMEM;
    free(evs);
    free(hs);
    json_decref(ev);
    json_decref(head);
    return rc;
}

/* ---- the rate limit ------------------------------------------------------------------------- */

int sentry_rate_allow(sentry_rate_t *r, int64_t now_ms)
{
    if (r->n == SENTRY_RATE_MAX && now_ms - r->at_ms[r->next] < SENTRY_RATE_WINDOW_MS)
        return 0; /* the oldest of the last SENTRY_RATE_MAX is still inside the window */
    r->at_ms[r->next] = now_ms;
    r->next = (r->next + 1) % SENTRY_RATE_MAX;
    if (r->n < SENTRY_RATE_MAX)
        r->n++;
    return 1;
}
