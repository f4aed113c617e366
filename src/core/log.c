/* Line-oriented logger writing to stderr with an ISO-8601 UTC timestamp, as logfmt or as one JSON
 * object per line (the logfmt message's pairs become its members). */
#include "core/log.h"

#include "core/err.h"
#include "core/utf8.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

log_level_t log_threshold = LOG_INFO;

#define LOG_BUF_MAX 65536
#define LOG_MSG_MAX 2048
#define LOG_JSON_MAX (12 * LOG_MSG_MAX) /* every byte escaped as \u00XX, with pairs' overhead */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[LOG_BUF_MAX];
static size_t log_len;
static int log_buffered;
static log_format_t log_format = LOG_FORMAT_LOGFMT;

static void log_flush_locked(void)
{
    if (log_len)
        fwrite(log_buf, 1, log_len, stderr);
    __atomic_store_n(&log_len, 0, __ATOMIC_RELAXED); /* read without the lock by a crash */
}

void log_flush(void)
{
    pthread_mutex_lock(&log_mu);
    log_flush_locked();
    pthread_mutex_unlock(&log_mu);
}

void log_flush_in_signal(void)
{
    size_t n = __atomic_load_n(&log_len, __ATOMIC_RELAXED);
    if (n > LOG_BUF_MAX)
        n = LOG_BUF_MAX;
    for (size_t off = 0; off < n;) {
        ssize_t w = write(STDERR_FILENO, log_buf + off, n - off);
        if (w <= 0)
            return;
        off += (size_t)w;
    }
}

void log_set_buffered(int on)
{
    pthread_mutex_lock(&log_mu);
    log_buffered = on;
    if (!on)
        log_flush_locked();
    pthread_mutex_unlock(&log_mu);
}

/* Appends one line, writing through when unbuffered or when the buffer is full. */
static void log_emit(const char *line, size_t len)
{
    pthread_mutex_lock(&log_mu);
    if (log_len + len > LOG_BUF_MAX || !log_buffered)
        log_flush_locked();
    if (log_buffered && len <= LOG_BUF_MAX) {
        memcpy(log_buf + log_len, line, len);
        __atomic_store_n(&log_len, log_len + len, __ATOMIC_RELAXED);
    } else {
        fwrite(line, 1, len, stderr);
    }
    pthread_mutex_unlock(&log_mu);
}

static const char *const log_names[] = {"debug", "info", "warn", "error", "off"};

int log_level_parse(const char *s, log_level_t *out)
{
    for (int i = 0; i <= LOG_OFF; i++) {
        if (strcmp(s, log_names[i]) == 0) {
            *out = (log_level_t)i;
            return 0;
        }
    }
    return GV_EINVALID_REQUEST;
}

int log_format_parse(const char *s, log_format_t *out)
{
    if (strcmp(s, "logfmt") == 0)
        *out = LOG_FORMAT_LOGFMT;
    else if (strcmp(s, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return GV_EINVALID_REQUEST;
    return 0;
}

void log_set_format(log_format_t f)
{
    log_format = f;
}

log_format_t log_get_format(void)
{
    return log_format;
}

/* ---- JSON lines ----------------------------------------------------------------------------- */

/* A bounded output: an append that does not fit sets `full` and writes nothing. */
typedef struct {
    char *p;
    size_t len, cap;
    int full;
} log_out_t;

static void out_put(log_out_t *o, const char *s, size_t n)
{
    if (o->full || n > o->cap - o->len) {
        o->full = 1;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void out_puts(log_out_t *o, const char *s)
{
    out_put(o, s, strlen(s));
}

/* The length of the UTF-8 sequence starting at s (at most n bytes), 0 when it is not one. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    size_t want = s[0] < 0x80             ? 1
                  : (s[0] & 0xE0) == 0xC0 ? 2
                  : (s[0] & 0xF0) == 0xE0 ? 3
                  : (s[0] & 0xF8) == 0xF0 ? 4
                                          : 0;
    return want && want <= n && utf8_valid(s, want) ? want : 0;
}

/* Appends s[0..n) as JSON string content: quotes, backslashes and control characters escaped,
 * bytes that are not UTF-8 as U+FFFD. */
static void out_json_chars(log_out_t *o, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq_len(u + i, n - i);
        char esc[8];
        if (k == 0) {
            out_puts(o, "\\ufffd");
            k = 1;
        } else if (u[i] == '"' || u[i] == '\\') {
            esc[0] = '\\', esc[1] = (char)u[i];
            out_put(o, esc, 2);
        } else if (u[i] < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", u[i]);
            out_put(o, esc, 6);
        } else {
            out_put(o, s + i, k);
        }
        i += k;
    }
}

/* Appends quoted-value text as JSON string content: \" and \\ stand for " and \. */
static void out_json_unquoted(log_out_t *o, const char *v, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && v[j] != '\\')
            j++;
        out_json_chars(o, v + i, j - i);
        if (j + 1 < n && (v[j + 1] == '"' || v[j + 1] == '\\'))
            j++; /* the escaped character stands for itself */
        if (j < n)
            out_json_chars(o, v + j, 1);
        i = j + 1;
    }
}

/* One token of a logfmt message: a key=value pair (key set) or a bare word (key NULL). */
typedef struct {
    const char *key, *val;
    size_t klen, vlen;
    int quoted;
} logfmt_tok_t;

static int logfmt_key_char(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && ((c >= '0' && c <= '9') || c == '.' || c == '-'));
}

/* The length of a key at s followed by '=' ([A-Za-z_][A-Za-z0-9_.-]*=), or 0. */
static size_t logfmt_key_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && logfmt_key_char(s[i], i == 0))
        i++;
    return i > 0 && i < n && s[i] == '=' ? i : 0;
}

/* The length of a quoted value's text starting after its opening quote: up to the closing quote
 * (one not escaped and followed by a blank or the end), or all of s[0..n) when there is none. */
static size_t logfmt_quoted_len(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n)
            i++;
        else if (s[i] == '"' && (i + 1 == n || s[i + 1] == ' '))
            return i;
    }
    return n;
}

static size_t logfmt_word_len(const char *s, size_t n)
{
    const char *sp = memchr(s, ' ', n);
    return sp ? (size_t)(sp - s) : n;
}

/* Reads the token at msg[i] (blanks skipped) into t; returns the index after it (len at the end,
 * with t->vlen 0 and no key). */
static size_t logfmt_next(const char *msg, size_t len, size_t i, logfmt_tok_t *t)
{
    while (i < len && msg[i] == ' ')
        i++;
    memset(t, 0, sizeof(*t));
    size_t k = logfmt_key_len(msg + i, len - i);
    if (k) {
        t->key = msg + i, t->klen = k;
        i += k + 1;
    }
    t->val = msg + i;
    if (k && i < len && msg[i] == '"') {
        t->quoted = 1;
        t->val++;
        t->vlen = logfmt_quoted_len(msg + i + 1, len - i - 1);
        return i + 1 + t->vlen + (i + 1 + t->vlen < len); /* and the closing quote */
    }
    t->vlen = logfmt_word_len(msg + i, len - i);
    return i + t->vlen;
}

/* Appends ,"name":"value"; the names ts, level and msg become _ts, _level and _msg. */
static void out_json_member(log_out_t *o, const logfmt_tok_t *t)
{
    static const char *const reserved[] = {"ts", "level", "msg"};
    out_puts(o, ",\"");
    for (size_t r = 0; r < 3; r++)
        if (t->klen == strlen(reserved[r]) && !memcmp(t->key, reserved[r], t->klen))
            out_puts(o, "_");
    out_json_chars(o, t->key, t->klen);
    out_puts(o, "\":\"");
    if (t->quoted)
        out_json_unquoted(o, t->val, t->vlen);
    else
        out_json_chars(o, t->val, t->vlen);
    out_puts(o, "\"");
}

/* Writes {"ts":..,"level":..,"msg":..,pairs...}\n for the logfmt message msg into o: the bare
 * words first (joined by one space), then the pairs in order. */
static void log_json_line(log_out_t *o, const char *ts, const char *level, const char *msg,
                          size_t len)
{
    logfmt_tok_t t;
    int words = 0;
    out_puts(o, "{\"ts\":\"");
    out_puts(o, ts);
    out_puts(o, "\",\"level\":\"");
    out_puts(o, level);
    out_puts(o, "\",\"msg\":\"");
    for (size_t i = 0; i < len;) {
        i = logfmt_next(msg, len, i, &t);
        if (!t.key && t.vlen) {
            out_puts(o, words++ ? " " : "");
            out_json_chars(o, t.val, t.vlen);
        }
    }
    out_puts(o, "\"");
    for (size_t i = 0; i < len;) {
        i = logfmt_next(msg, len, i, &t);
        if (t.key)
            out_json_member(o, &t);
    }
    out_puts(o, "}\n");
}

/* ---- writing -------------------------------------------------------------------------------- */

static void log_timestamp(char *out, size_t n)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

static void log_write_logfmt(const char *ts, log_level_t level, const char *msg, size_t mlen)
{
    char line[LOG_MSG_MAX];
    int n = snprintf(line, sizeof(line), "ts=%s level=%s ", ts, log_names[level]);
    size_t len = (size_t)n + mlen;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    memcpy(line + n, msg, len - (size_t)n);
    line[len++] = '\n';
    log_emit(line, len);
}

static void log_write_json(const char *ts, log_level_t level, const char *msg, size_t mlen)
{
    char line[LOG_JSON_MAX];
    log_out_t o = {line, 0, sizeof(line), 0};
    log_json_line(&o, ts, log_names[level], msg, mlen);
    if (o.full) { /* cannot happen with LOG_JSON_MAX; a valid line all the same */
        o = (log_out_t){line, 0, sizeof(line), 0};
        log_json_line(&o, ts, log_names[level], "log line too long", 17);
    }
    log_emit(line, o.len);
}

void log_write(log_level_t level, const char *fmt, ...)
{
    char msg[LOG_MSG_MAX], ts[80]; /* room for any year gmtime_r may give */
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t mlen = m < 0 ? 0 : (size_t)m < sizeof(msg) ? (size_t)m : sizeof(msg) - 1;
    log_timestamp(ts, sizeof(ts));
    if (log_format == LOG_FORMAT_JSON)
        log_write_json(ts, level, msg, mlen);
    else
        log_write_logfmt(ts, level, msg, mlen);
}
