/* Sign-in mail: formats a multipart/alternative RFC 5322 message and delivers it over SMTP with
 * libcurl on libuv's thread pool, retrying a few times. Never logs: failures come back to the
 * loop thread as a status and a short detail that holds no secret. */
#include "auth/mailer.h"

#include "core/random.h"
#include "core/err.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAILER_MAX_ATTEMPTS 10
#define MAILER_MAX_TIMEOUT_S 300
#define MAILER_BACKOFF_MS 200
#define MAILER_BACKOFF_MAX_MS 2000
#define MAILER_ADDR_MAX 254
#define MAILER_DETAIL_MAX 256
#define MAILER_MSGID_MAX (2 + 32 + 1 + MAILER_ADDR_MAX + 1)
#define QP_LINE_MAX 76   /* RFC 2045 6.7: encoded lines at most 76 chars */
#define SUBJECT_CHUNK 39 /* bytes per encoded-word: 52 base64 chars, fits a 78-col line */
#define SUBJECT_ASCII_MAX 200

/* What one SMTP transaction needs. The mailer owns one; each job owns a copy, so a queued job
 * never reads the mailer. */
typedef struct {
    char *url;
    char *mail_from; /* "<from>" for MAIL FROM */
    char *user;      /* NULL when unset */
    char *password;  /* NULL when unset */
    int max_attempts;
    int timeout_s;
    bool implicit_tls; /* smtps:// */
} smtp_conf_t;

struct mailer_s {
    uv_loop_t *loop;
    char *from; /* bare address, for the From header */
    char *host; /* domain of from, for Message-IDs */
    smtp_conf_t conf;
};

typedef struct {
    uv_work_t req;
    smtp_conf_t conf;
    char *rcpt; /* "<to>" */
    char *to;   /* bare, only to keep it out of detail */
    buf_t msg;
    size_t off; /* read position of the current attempt */
    int status;
    char detail[MAILER_DETAIL_MAX];
    mailer_done_fn done;
    void *ctx;
} mailer_job_t;

static uv_once_t curl_once = UV_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

/* ---- validation ------------------------------------------------------------------------ */

static bool has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static bool has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* A bare addr-spec without spaces, brackets or other specials that would let it escape the
 * "<...>" of the SMTP envelope or a header. ASCII only (no SMTPUTF8). */
static bool addr_plausible(const char *s)
{
    size_t n = strlen(s);
    const char *at = strrchr(s, '@');
    if (n < 3 || n > MAILER_ADDR_MAX || !at || at == s || at[1] == '\0')
        return false;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || strchr("<>()[],;:\\\"", c))
            return false;
    }
    return strchr(at + 1, '@') == NULL;
}

/* smtp:// or smtps:// (any case), a host, no credentials in the URL (they come from the
 * config, so they can never show up in an error text that quotes the URL). */
static bool url_ok(const char *url, bool *implicit_tls)
{
    size_t skip;
    if (strncasecmp(url, "smtp://", 7) == 0)
        skip = 7, *implicit_tls = false;
    else if (strncasecmp(url, "smtps://", 8) == 0)
        skip = 8, *implicit_tls = true;
    else
        return false;
    const char *auth = url + skip;
    size_t auth_len = strcspn(auth, "/?#");
    if (auth_len == 0 || memchr(auth, '@', auth_len))
        return false;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    return true;
}

/* ---- config copies --------------------------------------------------------------------- */

static void str_free_secret(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static char *str_dup_opt(const char *s, bool *failed)
{
    if (!s || !s[0])
        return NULL;
    char *d = strdup(s);
    if (!d)
        *failed = true;
    return d;
}

static void conf_deinit(smtp_conf_t *c)
{
    free(c->url);
    free(c->mail_from);
    str_free_secret(c->user);
    str_free_secret(c->password);
    memset(c, 0, sizeof(*c));
}

/* conf_copy deep-copies src into dst (zeroed first); 0 or GV_ENOMEM (dst left empty). */
static int conf_copy(smtp_conf_t *dst, const smtp_conf_t *src)
{
    bool failed = false;
    *dst = *src;
    dst->url = str_dup_opt(src->url, &failed);
    dst->mail_from = str_dup_opt(src->mail_from, &failed);
    dst->user = str_dup_opt(src->user, &failed);
    dst->password = str_dup_opt(src->password, &failed);
    if (failed) {
        conf_deinit(dst);
        return GV_ENOMEM;
    }
    return 0;
}

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- mailer ---------------------------------------------------------------------------- */

static int limits_apply(smtp_conf_t *c, const mailer_config_t *cfg)
{
    c->max_attempts = cfg->max_attempts ? cfg->max_attempts : 3;
    c->timeout_s = cfg->timeout_s ? cfg->timeout_s : 10;
    if (c->max_attempts < 1 || c->max_attempts > MAILER_MAX_ATTEMPTS || c->timeout_s < 1 ||
        c->timeout_s > MAILER_MAX_TIMEOUT_S)
        return GV_EINVALID_REQUEST;
    return 0;
}

static int mailer_fill(mailer_t *m, const mailer_config_t *cfg, bool implicit_tls)
{
    smtp_conf_t view = {.url = (char *)cfg->smtp_url,
                        .user = (char *)cfg->user,
                        .password = (char *)cfg->password,
                        .implicit_tls = implicit_tls};
    int rc = limits_apply(&view, cfg);
    if (rc)
        return rc;
    size_t n = strlen(cfg->from) + 3;
    view.mail_from = malloc(n);
    if (!view.mail_from)
        return GV_ENOMEM;
    snprintf(view.mail_from, n, "<%s>", cfg->from);
    rc = conf_copy(&m->conf, &view);
    free(view.mail_from);
    m->from = strdup(cfg->from);
    m->host = strdup(strrchr(cfg->from, '@') + 1);
    if (rc == 0 && (!m->from || !m->host))
        rc = GV_ENOMEM;
    return rc;
}

int mailer_new(mailer_t **out, uv_loop_t *loop, const mailer_config_t *cfg)
{
    bool implicit_tls = false;
    *out = NULL;
    if (!loop || !cfg || !cfg->smtp_url || !cfg->from || !url_ok(cfg->smtp_url, &implicit_tls) ||
        !addr_plausible(cfg->from))
        return GV_EINVALID_REQUEST;
    /* curl_global_init is not thread-safe: run it here, on the loop thread, once. */
    uv_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return GV_EINTERNAL;
    mailer_t *m = calloc(1, sizeof(*m));
    if (!m)
        return GV_ENOMEM;
    m->loop = loop;
    int rc = mailer_fill(m, cfg, implicit_tls);
    if (rc) {
        mailer_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void mailer_free(mailer_t *m)
{
    if (!m)
        return;
    conf_deinit(&m->conf);
    free(m->from);
    free(m->host);
    free(m);
}

/* ---- message format -------------------------------------------------------------------- */

static int fmt_date(buf_t *out, int64_t now_ms)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return GV_EINVALID_REQUEST;
    return buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday],
                      tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                      tm.tm_sec);
}

static bool subject_needs_encoding(const char *s)
{
    if (strlen(s) > SUBJECT_ASCII_MAX || strstr(s, "=?"))
        return true;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return true;
    return false;
}

/* RFC 2047 B encoded-words of at most SUBJECT_CHUNK bytes each, never splitting a UTF-8
 * sequence, folded onto continuation lines. */
static int fmt_subject(buf_t *out, const char *s)
{
    if (!subject_needs_encoding(s))
        return buf_printf(out, "Subject: %s\r\n", s);
    int rc = buf_puts(out, "Subject:");
    size_t len = strlen(s), at = 0;
    while (rc == 0 && at < len) {
        size_t end = at + SUBJECT_CHUNK < len ? at + SUBJECT_CHUNK : len;
        while (end > at && end < len && ((unsigned char)s[end] & 0xC0) == 0x80)
            end--;
        if (end == at) /* not UTF-8: a run of continuation bytes; cut anywhere */
            end = at + SUBJECT_CHUNK < len ? at + SUBJECT_CHUNK : len;
        unsigned char b64[4 * ((SUBJECT_CHUNK + 2) / 3) + 1];
        EVP_EncodeBlock(b64, (const unsigned char *)s + at, (int)(end - at));
        rc = buf_printf(out, "%s=?UTF-8?B?%s?=", at ? "\r\n " : " ", (const char *)b64);
        at = end;
    }
    return rc ? rc : buf_puts(out, "\r\n");
}

static bool at_line_end(const char *p)
{
    return p[0] == '\0' || p[0] == '\n' || (p[0] == '\r' && p[1] == '\n');
}

/* qp_token writes the encoding of c into tok and returns its length (1 or 3). */
static size_t qp_token(unsigned char c, bool before_eol, char tok[4])
{
    static const char hex[] = "0123456789ABCDEF";
    bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !before_eol);
    if (literal) {
        tok[0] = (char)c;
        return 1;
    }
    tok[0] = '=';
    tok[1] = hex[c >> 4];
    tok[2] = hex[c & 15];
    return 3;
}

/* Quoted-printable (RFC 2045 6.7): LF or CRLF become CRLF, soft breaks keep lines <= 76. No
 * CRLF after the last line: the multipart delimiter brings its own. */
static int qp_encode(buf_t *out, const char *s)
{
    size_t col = 0;
    int rc = 0;
    for (size_t i = 0; s[i] && rc == 0; i++) {
        if (s[i] == '\n' || (s[i] == '\r' && s[i + 1] == '\n')) {
            i += s[i] == '\r';
            rc = buf_append(out, "\r\n", 2);
            col = 0;
            continue;
        }
        char tok[4];
        size_t n = qp_token((unsigned char)s[i], at_line_end(s + i + 1), tok);
        if (col + n > QP_LINE_MAX - 1) {
            rc = buf_append(out, "=\r\n", 3);
            col = 0;
        }
        rc = rc ? rc : buf_append(out, tok, n);
        col += n;
    }
    return rc;
}

/* The boundary starts with "=_", which quoted-printable output can never contain ('=' is only
 * ever followed by a hex digit or CRLF there), so it cannot occur inside either body. */
static void make_boundary(char out[32], const char *message_id)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a: distinct per message, still pure */
    for (const char *p = message_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    snprintf(out, 32, "=_gavel_%016llx", (unsigned long long)h);
}

static int fmt_part(buf_t *out, const char *boundary, const char *type, const char *body)
{
    int rc = buf_printf(out,
                        "\r\n--%s\r\nContent-Type: %s; charset=utf-8\r\n"
                        "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                        boundary, type);
    return rc ? rc : qp_encode(out, body ? body : "");
}

static int fmt_headers(buf_t *out, const char *from, const char *to, const char *subject,
                       int64_t now_ms, const char *message_id)
{
    int rc = buf_printf(out, "From: %s\r\nTo: %s\r\n", from, to);
    rc = rc ? rc : fmt_subject(out, subject);
    rc = rc ? rc : fmt_date(out, now_ms);
    rc = rc ? rc : buf_printf(out, "Message-ID: %s\r\nMIME-Version: 1.0\r\n", message_id);
    return rc;
}

int mailer_format(buf_t *out, const char *from, const char *to, const char *subject,
                  const char *text, const char *html, int64_t now_ms, const char *message_id)
{
    if (!from || !to || !subject || !message_id || has_ctl(from) || has_ctl(to) ||
        has_ctl(message_id) || has_crlf(subject))
        return GV_EINVALID_REQUEST;
    size_t start = out->len;
    char boundary[32];
    make_boundary(boundary, message_id);
    int rc = fmt_headers(out, from, to, subject, now_ms, message_id);
    rc = rc ? rc
            : buf_printf(out, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n", boundary);
    rc = rc ? rc : fmt_part(out, boundary, "text/plain", text);
    rc = rc ? rc : fmt_part(out, boundary, "text/html", html);
    rc = rc ? rc : buf_printf(out, "\r\n--%s--\r\n", boundary);
    if (rc && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

/* ---- SMTP transaction (thread pool) ---------------------------------------------------- */

static size_t job_read(char *dst, size_t size, size_t nmemb, void *userdata)
{
    mailer_job_t *job = userdata;
    size_t want = size * nmemb, left = job->msg.len - job->off;
    size_t n = want < left ? want : left;
    memcpy(dst, job->msg.data + job->off, n);
    job->off += n;
    return n;
}

#define SETOPT(c, opt, val)                                                                        \
    do {                                                                                           \
        CURLcode e_ = curl_easy_setopt((c), (opt), (val));                                         \
        if (e_ != CURLE_OK)                                                                        \
            return e_;                                                                             \
    } while (0)

static CURLcode smtp_setup(CURL *c, mailer_job_t *job, struct curl_slist *rcpt, char *errbuf)
{
    const smtp_conf_t *conf = &job->conf;
    bool creds = conf->user || conf->password;
    SETOPT(c, CURLOPT_ERRORBUFFER, errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
    SETOPT(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
    SETOPT(c, CURLOPT_URL, conf->url);
    SETOPT(c, CURLOPT_MAIL_FROM, conf->mail_from);
    SETOPT(c, CURLOPT_MAIL_RCPT, rcpt);
    SETOPT(c, CURLOPT_READFUNCTION, job_read);
    SETOPT(c, CURLOPT_READDATA, job);
    SETOPT(c, CURLOPT_UPLOAD, 1L);
    SETOPT(c, CURLOPT_NOSIGNAL, 1L);
    SETOPT(c, CURLOPT_TIMEOUT, (long)conf->timeout_s);
    SETOPT(c, CURLOPT_CONNECTTIMEOUT, (long)conf->timeout_s);
    /* STARTTLS when offered; but never send credentials over a connection that could not be
     * upgraded (a stripped STARTTLS would otherwise expose the password). */
    SETOPT(c, CURLOPT_USE_SSL,
           (long)(conf->implicit_tls || creds ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    if (conf->user)
        SETOPT(c, CURLOPT_USERNAME, conf->user);
    if (conf->password)
        SETOPT(c, CURLOPT_PASSWORD, conf->password);
    return CURLE_OK;
}

/* One attempt on a fresh handle, so a retry never reuses a connection left in a bad state. */
static CURLcode smtp_attempt(mailer_job_t *job, struct curl_slist *rcpt, char *errbuf)
{
    errbuf[0] = '\0';
    job->off = 0;
    CURL *c = curl_easy_init();
    if (!c)
        return CURLE_FAILED_INIT;
    CURLcode rc = smtp_setup(c, job, rcpt, errbuf);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    return rc;
}

static bool contains_secret(const char *text, const mailer_job_t *job)
{
    const char *secrets[] = {job->conf.password, job->conf.user, job->to};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        if (secrets[i] && secrets[i][0] && strstr(text, secrets[i]))
            return true;
    return false;
}

/* The detail is curl's error text, which names the server and the SMTP reply code but never the
 * message or the credentials; checked anyway, falling back to curl's fixed text. */
static void job_detail_set(mailer_job_t *job, int attempts, CURLcode code, const char *errbuf)
{
    const char *why =
        errbuf[0] && !contains_secret(errbuf, job) ? errbuf : curl_easy_strerror(code);
    snprintf(job->detail, sizeof(job->detail), "smtp failed after %d attempt%s: %s (curl %d)",
             attempts, attempts == 1 ? "" : "s", why, (int)code);
    for (char *p = job->detail; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '?';
}

static void backoff_sleep(int attempt)
{
    long ms = (long)MAILER_BACKOFF_MS << (attempt - 1);
    if (ms > MAILER_BACKOFF_MAX_MS)
        ms = MAILER_BACKOFF_MAX_MS;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void job_work(uv_work_t *req)
{
    mailer_job_t *job = req->data;
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode code = CURLE_OUT_OF_MEMORY;
    int attempt = 0;
    struct curl_slist *rcpt = curl_slist_append(NULL, job->rcpt);
    while (rcpt && attempt < job->conf.max_attempts) {
        if (attempt > 0)
            backoff_sleep(attempt);
        attempt++;
        code = smtp_attempt(job, rcpt, errbuf);
        if (code == CURLE_OK)
            break;
    }
    curl_slist_free_all(rcpt);
    job->status = code == CURLE_OK ? 0 : GV_EUNAVAILABLE;
    if (code != CURLE_OK)
        job_detail_set(job, attempt, code, errbuf);
}

/* ---- jobs (loop thread) ---------------------------------------------------------------- */

static void job_free(mailer_job_t *job)
{
    conf_deinit(&job->conf);
    free(job->rcpt);
    free(job->to);
    if (job->msg.data) /* the message carries a sign-in token */
        OPENSSL_cleanse(job->msg.data, job->msg.len);
    buf_deinit(&job->msg);
    free(job);
}

static void job_after(uv_work_t *req, int status)
{
    mailer_job_t *job = req->data;
    if (status != 0) { /* cancelled: the work never ran */
        job->status = GV_EUNAVAILABLE;
        snprintf(job->detail, sizeof(job->detail), "smtp send cancelled");
    }
    job->done(job->status, job->status ? job->detail : NULL, job->ctx);
    job_free(job);
}

/* "<32 random hex digits@host>" */
static int make_message_id(char *out, size_t cap, const char *host)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char rnd[16];
    char digits[33];
    if (random_bytes(rnd, sizeof(rnd)) != 0)
        return GV_EINTERNAL;
    for (size_t i = 0; i < sizeof(rnd); i++) {
        digits[2 * i] = hex[rnd[i] >> 4];
        digits[2 * i + 1] = hex[rnd[i] & 15];
    }
    digits[32] = '\0';
    snprintf(out, cap, "<%s@%s>", digits, host);
    return 0;
}

static int job_fill(mailer_job_t *job, const mailer_t *m, const char *to, const char *subject,
                    const char *text, const char *html)
{
    char msgid[MAILER_MSGID_MAX];
    int rc = make_message_id(msgid, sizeof(msgid), m->host);
    if (rc)
        return rc;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    rc = mailer_format(&job->msg, m->from, to, subject, text, html, now_ms, msgid);
    rc = rc ? rc : conf_copy(&job->conf, &m->conf);
    if (rc)
        return rc;
    size_t n = strlen(to) + 3;
    job->rcpt = malloc(n);
    job->to = strdup(to);
    if (!job->rcpt || !job->to)
        return GV_ENOMEM;
    snprintf(job->rcpt, n, "<%s>", to);
    return 0;
}

int mailer_send(mailer_t *m, const char *to, const char *subject, const char *text,
                const char *html, mailer_done_fn done, void *ctx)
{
    if (!m || !to || !subject || !done || has_crlf(to) || has_crlf(subject) || !addr_plausible(to))
        return GV_EINVALID_REQUEST;
    mailer_job_t *job = calloc(1, sizeof(*job));
    if (!job)
        return GV_ENOMEM;
    buf_init(&job->msg);
    int rc = job_fill(job, m, to, subject, text, html);
    if (rc) {
        job_free(job);
        return rc;
    }
    job->req.data = job;
    job->done = done;
    job->ctx = ctx;
    if (uv_queue_work(m->loop, &job->req, job_work, job_after) != 0) {
        job_free(job);
        return GV_EINTERNAL;
    }
    return 0;
}
