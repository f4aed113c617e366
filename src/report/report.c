/* Error reports: scrubbing, the one log line of a report, and the hand-off to the Sentry sender
 * (process-wide: one sender, started and stopped by the server shell). */
#include "report/report.h"

#include "core/err.h"
#include "core/log.h"
#include "core/utf8.h"
#include "report/sentry.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#define REPORT_TOKEN_RUN 20 /* base64url characters in a row that look like a secret */

static sentry_sender_t *g_sender;
static sentry_dsn_t g_dsn;
static char g_release[128];
static char g_host[256];
static report_stats_t g_final; /* the sender's counts once it stopped */

const char *report_kind_name(report_kind_t kind)
{
    static const char *const names[] = {"http_5xx", "invariant", "fatal_signal"};
    return (unsigned)kind < 3 ? names[kind] : "unknown";
}

/* ---- scrubbing ------------------------------------------------------------------------------ */

static int b64url_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* 1 when the run s[0..n) is one of the server's ids: [a-z]{1,8} '_' then 20 lower-case hex. */
static int scrub_is_id(const char *s, size_t n)
{
    size_t p = 0;
    while (p < n && p < 9 && s[p] >= 'a' && s[p] <= 'z')
        p++;
    if (p == 0 || p > 8 || p + 1 + 20 != n || s[p] != '_')
        return 0;
    for (size_t i = p + 1; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* 1 when the run s[0..n) is only lower-case letters, '_' and '-' (a name, not a secret). */
static int scrub_is_name(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

/* 1 when the word w[0..n) holds a run of REPORT_TOKEN_RUN or more base64url characters that is
 * neither an id nor a name. */
static int scrub_has_token(const char *w, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && b64url_char(w[j]))
            j++;
        if (j - i >= REPORT_TOKEN_RUN && !scrub_is_id(w + i, j - i) && !scrub_is_name(w + i, j - i))
            return 1;
        i = j > i ? j : i + 1;
    }
    return 0;
}

/* A bounded writer that never splits a UTF-8 sequence and keeps room for the NUL. */
typedef struct {
    char *p;
    size_t len, cap;
} scrub_out_t;

static void scrub_put(scrub_out_t *o, const char *s, size_t n)
{
    if (o->len + n < o->cap) {
        memcpy(o->p + o->len, s, n);
        o->len += n;
    } else {
        o->cap = o->len + 1; /* full: nothing more fits, even shorter pieces */
    }
}

/* Copies one word: quotes and backslashes dropped, control characters as spaces, bytes that are
 * not UTF-8 as '?'. */
static void scrub_word_copy(scrub_out_t *o, const char *w, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)w[i];
        size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
        if (c >= 0x80 && (i + k > n || !utf8_valid((const unsigned char *)w + i, k))) {
            scrub_put(o, "?", 1);
            i++;
            continue;
        }
        if (c != '"' && c != '\\')
            scrub_put(o, c < 0x20 || c == 0x7f ? " " : w + i, c < 0x20 || c == 0x7f ? 1 : k);
        i += k;
    }
}

static int scrub_is_auth_scheme(const char *w, size_t n)
{
    return (n == 6 && !strncasecmp(w, "Bearer", 6)) || (n == 5 && !strncasecmp(w, "Basic", 5));
}

void report_text_scrub(const char *in, char *out, size_t n)
{
    scrub_out_t o = {out, 0, n};
    int after_scheme = 0;
    in = in ? in : "";
    while (*in) {
        size_t blanks = strspn(in, " \t\r\n"), w;
        for (size_t i = 0; i < blanks; i++)
            scrub_put(&o, " ", 1);
        in += blanks;
        if (!*in || !(w = strcspn(in, " \t\r\n")))
            break;
        if (memchr(in, '@', w))
            scrub_put(&o, "[email]", 7);
        else if (after_scheme || scrub_has_token(in, w))
            scrub_put(&o, "[redacted]", 10);
        else
            scrub_word_copy(&o, in, w);
        after_scheme = scrub_is_auth_scheme(in, w);
        in += w;
    }
    out[o.len] = '\0';
}

/* ---- the log line --------------------------------------------------------------------------- */

/* Copies a request id keeping only the characters the HTTP layer accepts in one. */
static void report_rid_copy(const char *rid, char *out, size_t n)
{
    size_t j = 0;
    for (; rid && *rid && j + 1 < n; rid++)
        if (b64url_char(*rid) || *rid == '.' || *rid == ':')
            out[j++] = *rid;
    if (j == 0 && n > 1)
        out[j++] = '-';
    out[j] = '\0';
}

static const char *dash(const char *s)
{
    return s && *s ? s : "-";
}

static void report_log(const report_t *r)
{
    char status[16] = "-";
    if (r->status)
        snprintf(status, sizeof(status), "%d", r->status);
    log_error("error report kind=%s rid=%s method=%s route=\"%s\" path=\"%s\" status=%s code=%s "
              "err=%s context=\"%s\"",
              report_kind_name(r->kind), r->rid, dash(r->method), dash(r->route), dash(r->path),
              status, r->err ? err_api_code(r->err) : "-", r->err ? err_name(r->err) : "-",
              dash(r->context));
    log_flush();
}

static int64_t report_wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Builds the envelope of the scrubbed report and queues it (counted as dropped when it cannot
 * be built: the sender has no say in that). */
static void report_send(const report_t *r)
{
    sentry_meta_t meta = {.now_ms = report_wall_ms(), .release = g_release, .server_name = g_host};
    buf_t env;
    buf_init(&env);
    if (sentry_event_id(meta.event_id) != 0 || sentry_envelope_build(&g_dsn, r, &meta, &env)) {
        buf_deinit(&env);
        g_final.dropped++;
        return;
    }
    size_t len = env.len;
    sentry_sender_post(g_sender, buf_steal(&env), len);
}

void report_error(const report_t *r)
{
    char rid[80], method[24], path[REPORT_TEXT_MAX], context[REPORT_TEXT_MAX];
    report_rid_copy(r->rid, rid, sizeof(rid));
    report_rid_copy(r->method, method, sizeof(method));
    report_text_scrub(r->path, path, sizeof(path));
    report_text_scrub(r->context, context, sizeof(context));
    report_t clean = *r;
    clean.rid = rid, clean.method = method, clean.path = path, clean.context = context;
    report_log(&clean);
    if (g_sender)
        report_send(&clean);
}

/* ---- Sentry --------------------------------------------------------------------------------- */

void report_stats_get(report_stats_t *out)
{
    *out = g_final;
    if (!g_sender)
        return;
    report_stats_t live;
    sentry_sender_stats(g_sender, &live);
    out->sent += live.sent, out->dropped += live.dropped, out->failed += live.failed;
}

int report_sentry_check(const char *dsn, char *why, size_t n)
{
    sentry_dsn_t parsed;
    if (!dsn[0] || sentry_dsn_parse(dsn, &parsed) == 0)
        return 0;
    snprintf(why, n, "--sentry-dsn must look like https://PUBLIC_KEY@HOST[:PORT]/PROJECT_ID");
    return GV_EINVALID_REQUEST;
}

int report_sentry_start(const char *dsn, const char *release)
{
    if (!dsn[0] || g_sender)
        return 0;
    int rc = sentry_dsn_parse(dsn, &g_dsn);
    if (rc)
        return rc;
    snprintf(g_release, sizeof(g_release), "%s", release);
    if (gethostname(g_host, sizeof(g_host) - 1) != 0)
        g_host[0] = '\0';
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return GV_EINTERNAL;
    return sentry_sender_new(&g_sender, &g_dsn, g_release);
}

void report_sentry_stop(void)
{
    if (!g_sender)
        return;
    sentry_sender_stop(g_sender);
    report_stats_get(&g_final); /* the counts stay readable once the sender is gone */
    sentry_sender_free(g_sender);
    g_sender = NULL;
}
