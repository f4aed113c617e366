/* One Football-Data.org GET with libcurl on the calling (worker) thread, and the judgement of its
 * answer. Never logs; the token is only ever in the request header list, wiped after use. */
#include "season/fd_fetch.h"

#include "core/err.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

static uv_once_t fd_curl_once = UV_ONCE_INIT;
static CURLcode fd_curl_rc = CURLE_FAILED_INIT;

static void fd_curl_init(void)
{
    fd_curl_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int fd_fetch_global_init(void)
{
    uv_once(&fd_curl_once, fd_curl_init);
    return fd_curl_rc == CURLE_OK ? 0 : GV_EINTERNAL;
}

/* What the curl callbacks write into while a request runs. */
typedef struct {
    fd_fetch_result_t *res;
    size_t max_bytes;
    int too_large;
    const atomic_int *cancel;
} fd_xfer_t;

static size_t fd_on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    fd_xfer_t *x = ud;
    size_t n = size * nmemb;
    if (x->res->body.len + n > x->max_bytes) {
        x->too_large = 1;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    return buf_append(&x->res->body, p, n) == 0 ? n : 0;
}

/* Copies the header value (blanks and CRLF trimmed) of line into out when its name is name. */
static void fd_header_take(const char *line, size_t n, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    if (n <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
        return;
    const char *v = line + nl + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t len = (size_t)(end - v) < cap - 1 ? (size_t)(end - v) : cap - 1;
    memcpy(out, v, len);
    out[len] = '\0';
}

static size_t fd_on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    fd_xfer_t *x = ud;
    fd_fetch_result_t *r = x->res;
    size_t n = size * nmemb;
    char avail[16] = "";
    if (n >= 5 && !memcmp(p, "HTTP/", 5)) { /* a new response: forget an earlier one's */
        r->retry_after[0] = r->counter_reset[0] = '\0';
        r->exhausted = 0;
    }
    fd_header_take(p, n, "Retry-After", r->retry_after, sizeof(r->retry_after));
    fd_header_take(p, n, "X-RequestCounter-Reset", r->counter_reset, sizeof(r->counter_reset));
    fd_header_take(p, n, "X-Requests-Available-Minute", avail, sizeof(avail));
    if (avail[0])
        r->exhausted = !strcmp(avail, "0");
    return n;
}

static int fd_on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    const fd_xfer_t *x = ud;
    return x->cancel && atomic_load(x->cancel) ? 1 : 0;
}

#define FD_SETOPT(c, opt, val)                                                                     \
    do {                                                                                           \
        CURLcode e_ = curl_easy_setopt((c), (opt), (val));                                         \
        if (e_ != CURLE_OK)                                                                        \
            return e_;                                                                             \
    } while (0)

static CURLcode fd_setup(CURL *c, const fd_fetch_req_t *req, struct curl_slist *hdrs, fd_xfer_t *x,
                         char *errbuf)
{
    FD_SETOPT(c, CURLOPT_ERRORBUFFER, errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
    FD_SETOPT(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    FD_SETOPT(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    FD_SETOPT(c, CURLOPT_URL, req->url);
    FD_SETOPT(c, CURLOPT_HTTPHEADER, hdrs);
    FD_SETOPT(c, CURLOPT_USERAGENT, "gavel");
    FD_SETOPT(c, CURLOPT_ACCEPT_ENCODING, ""); /* whatever curl can decode */
    FD_SETOPT(c, CURLOPT_NOSIGNAL, 1L);
    FD_SETOPT(c, CURLOPT_TIMEOUT, req->timeout_s);
    FD_SETOPT(c, CURLOPT_CONNECTTIMEOUT,
              req->timeout_s < FD_FETCH_CONNECT_TIMEOUT_S ? req->timeout_s
                                                          : (long)FD_FETCH_CONNECT_TIMEOUT_S);
    FD_SETOPT(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_bytes);
    FD_SETOPT(c, CURLOPT_WRITEFUNCTION, fd_on_body);
    FD_SETOPT(c, CURLOPT_WRITEDATA, x);
    FD_SETOPT(c, CURLOPT_HEADERFUNCTION, fd_on_header);
    FD_SETOPT(c, CURLOPT_HEADERDATA, x);
    FD_SETOPT(c, CURLOPT_XFERINFOFUNCTION, fd_on_progress);
    FD_SETOPT(c, CURLOPT_XFERINFODATA, x);
    FD_SETOPT(c, CURLOPT_NOPROGRESS, 0L);
    return CURLE_OK;
}

/* The header list holding the token; its text is wiped before it is freed. */
static struct curl_slist *fd_headers(const char *token)
{
    char line[320];
    int n = snprintf(line, sizeof(line), "X-Auth-Token: %s", token);
    struct curl_slist *h = n > 0 && (size_t)n < sizeof(line) ? curl_slist_append(NULL, line) : NULL;
    OPENSSL_cleanse(line, sizeof(line));
    struct curl_slist *more = h ? curl_slist_append(h, "Accept: application/json") : NULL;
    if (h && !more) {
        OPENSSL_cleanse(h->data, strlen(h->data));
        curl_slist_free_all(h);
    }
    return more;
}

static void fd_headers_free(struct curl_slist *h)
{
    for (struct curl_slist *p = h; p; p = p->next)
        OPENSSL_cleanse(p->data, strlen(p->data));
    curl_slist_free_all(h);
}

/* Sets the reason "prefix: detail", fit for one log line: printable ASCII, no double quotes. */
static void fd_reason_set(fd_fetch_result_t *res, const char *prefix, const char *detail)
{
    snprintf(res->reason, sizeof(res->reason), "%s%s%.*s", prefix, detail ? ": " : "",
             (int)(sizeof(res->reason) - 1), detail ? detail : "");
    for (char *p = res->reason; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || *p == '"')
            *p = *p == '"' ? '\'' : '?';
}

static void fd_curl_failed(fd_fetch_result_t *res, CURLcode code, const fd_xfer_t *x,
                           const char *errbuf)
{
    res->status = 0;
    if (code == CURLE_ABORTED_BY_CALLBACK) {
        res->cancelled = 1;
        fd_reason_set(res, "cancelled", NULL);
    } else if (x->too_large || code == CURLE_FILESIZE_EXCEEDED) {
        snprintf(res->reason, sizeof(res->reason), "too_large: over %zu bytes", x->max_bytes);
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
        fd_reason_set(res, "timeout", errbuf[0] ? errbuf : curl_easy_strerror(code));
    } else {
        fd_reason_set(res, "network", errbuf[0] ? errbuf : curl_easy_strerror(code));
    }
}

void fd_fetch_run(const fd_fetch_req_t *req, int64_t now_epoch_ms, fd_fetch_result_t *res)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    memset(res, 0, sizeof(*res));
    buf_init(&res->body);
    fd_xfer_t x = {.res = res, .max_bytes = req->max_bytes, .cancel = req->cancel};
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = c ? fd_headers(req->token) : NULL;
    CURLcode code = hdrs ? fd_setup(c, req, hdrs, &x, errbuf) : CURLE_OUT_OF_MEMORY;
    if (code == CURLE_OK)
        code = curl_easy_perform(c);
    if (code == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    else
        fd_curl_failed(res, code, &x, errbuf);
    fd_headers_free(hdrs);
    curl_easy_cleanup(c);
    if (x.too_large || code == CURLE_FILESIZE_EXCEEDED) {
        res->outcome = FD_MALFORMED;
        res->retry_ms = -1;
        return;
    }
    fd_fetch_judge(res, now_epoch_ms);
}

/* A 2xx body: a JSON object with a "matches" array, else FD_MALFORMED with the reason. */
static void fd_judge_body(fd_fetch_result_t *res)
{
    json_error_t err;
    json_t *root = json_loadb(res->body.data ? res->body.data : "", res->body.len, 0, &err);
    if (!root) {
        char what[200];
        snprintf(what, sizeof(what), "%.120s (line %d)", err.text, err.line);
        fd_reason_set(res, "invalid_json", what);
    } else if (!json_is_object(root)) {
        fd_reason_set(res, "invalid_json", "not a JSON object");
    } else if (!json_is_array(json_object_get(root, "matches"))) {
        fd_reason_set(res, "missing_matches", "no matches array");
    }
    res->outcome = res->reason[0] ? FD_MALFORMED : FD_OK;
    json_decref(root);
}

void fd_fetch_judge(fd_fetch_result_t *res, int64_t now_epoch_ms)
{
    const char *ra = res->retry_after[0] ? res->retry_after : NULL;
    const char *reset = res->counter_reset[0] ? res->counter_reset : NULL;
    res->retry_ms = -1;
    if (res->status == 0) {
        res->outcome = FD_FAILED;
        if (!res->reason[0])
            fd_reason_set(res, "no answer", NULL);
    } else if (res->status == 429) {
        res->outcome = FD_THROTTLED;
        res->retry_ms = fd_retry_after_ms(ra, reset, now_epoch_ms);
        snprintf(res->reason, sizeof(res->reason), "throttled: http 429");
    } else if (res->status >= 200 && res->status < 300) {
        res->reason[0] = '\0';
        fd_judge_body(res);
        if (res->exhausted) /* the quota is used up: wait for the counter's reset */
            res->retry_ms = fd_retry_after_ms(NULL, reset, now_epoch_ms);
    } else {
        res->outcome = FD_FAILED;
        snprintf(res->reason, sizeof(res->reason), "http %ld", res->status);
    }
}

void fd_fetch_result_deinit(fd_fetch_result_t *res)
{
    buf_deinit(&res->body);
}
