/* libFuzzer target: the real route table (every route of api_routes_register) and one
 * well-framed request through the real server to the real handlers (tests/fuzz/fuzz_app.h: a
 * seeded SQLite store, the auction service, the static fallback). Where fuzz_http spends most
 * inputs on HTTP framing, this one builds a valid request from the input so mutations go into
 * what the handlers read: the method, the path and query, the caller and the body.
 *
 * Input: one flags byte, the method, a NUL, the request target (path and query), a NUL, then the
 * body (no NUL: everything after the flags byte is the target of a GET). Method bytes that are
 * not token characters are sent as 'X'. Placeholders are
 * replaced in the target and the body (fz_expand: "@A" the auction's id, "@F" a fixture's,
 * "@0".."@5" tokens).
 * Flags: bits 0-2 the caller (0 none, 1..5 usr_fzadmin, usr_fzcomm, usr_fzmgr, usr_fzspec,
 * usr_fzout, 6 an expired token, 7 a malformed one); bits 3-4 the Content-Type (application/json,
 * text/csv, multipart/form-data with boundary "fz", none); bit 5 an allowed Origin (and, on
 * OPTIONS, Access-Control-Request-Method: POST: a CORS preflight); bit 6
 * Expect: 100-continue; bit 7 the body sent chunked. Bytes of the target that cannot appear in a
 * request line (controls, space, '#', non-ASCII) are sent percent-encoded.
 *
 * Checks: router_match on the path the server sees gives one of its documented outcomes, with
 * parameters that are non-empty slices of the path without '/'; the server answers with exactly
 * one well-formed response (fz_responses_check: no 5xx but 503, JSON error bodies); an unknown
 * path (other than GET/HEAD, which may be static files) is 404 and a known path with another
 * method 405; nothing crashes, leaks or trips a sanitizer. */
#include "fuzz_app.h"

#define FZ_MAX_PART (64 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_app_init("fuzz_router", NULL, NULL, NULL);
    return 0;
}

/* ---- the router ------------------------------------------------------------------------------ */

static void fz_check_params(const router_params_t *p, const char *path, size_t len)
{
    if (p->n < 0 || p->n > ROUTER_MAX_PARAMS)
        abort();
    for (int i = 0; i < p->n; i++) {
        const char *v = p->values[i];
        size_t n = p->value_lens[i];
        if (n == 0 || v < path || v + n > path + len || memchr(v, '/', n))
            abort();
        if (p->name_lens[i] == 0)
            abort();
    }
}

/* Matches path (path_len bytes, copied so ASan sees overreads); returns router_match's code. */
static int fz_route(int m, const char *path_in, size_t path_len)
{
    char *path = malloc(path_len ? path_len : 1);
    if (!path)
        abort();
    memcpy(path, path_in, path_len);
    const router_route_t *route = (const router_route_t *)1;
    router_params_t params;
    int allow = -1;
    int rc = router_match(&fz_app.app.router, m, path, path_len, &route, &params, &allow);
    if (rc == 0) {
        if (!route || (route->method != m && !(m == HTTP_M_HEAD && route->method == HTTP_M_GET)))
            abort();
        fz_check_params(&params, path, path_len);
    } else if (rc == GV_EMETHOD_NOT_ALLOWED) {
        if (route || allow <= 0 || (allow & m))
            abort();
        char text[80];
        router_allow_format(allow, text, sizeof(text));
        if (text[0] == '\0')
            abort();
    } else if (rc != GV_ENOT_FOUND || route) {
        abort();
    }
    free(path);
    return rc;
}

/* ---- the request ----------------------------------------------------------------------------- */

static void fz_put(buf_t *b, const void *p, size_t n)
{
    if (buf_append(b, p, n) != 0)
        abort();
}

static void fz_puts(buf_t *b, const char *s)
{
    fz_put(b, s, strlen(s));
}

/* The request target with the bytes a request line cannot carry percent-encoded. */
static void fz_target(buf_t *out, const char *t, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (n == 0)
        fz_puts(out, "/");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c <= 0x20 || c >= 0x7f || c == '#') {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            fz_put(out, e, 3);
        } else {
            fz_put(out, &c, 1);
        }
    }
}

static void fz_headers(buf_t *out, uint8_t flags, int m, size_t body_len)
{
    static const char *const types[] = {"application/json", "text/csv",
                                        "multipart/form-data; boundary=fz", NULL};
    int who = flags & 7;
    char line[64];
    fz_puts(out, "Host: fuzz\r\n");
    if (who >= 1 && who <= FZ_NUSERS + 1) {
        const char *tok = who <= FZ_NUSERS ? fz_app.tokens[who - 1] : fz_app.expired;
        fz_puts(out, "Authorization: Bearer ");
        fz_put(out, tok, strlen(tok));
        fz_puts(out, "\r\n");
    } else if (who == 7) {
        fz_puts(out, "Authorization: Bearer e30.e30.x\r\n");
    }
    const char *type = types[(flags >> 3) & 3];
    if (type && body_len) {
        int n = snprintf(line, sizeof(line), "Content-Type: %s\r\n", type);
        fz_put(out, line, (size_t)n);
    }
    if (flags & 0x20)
        fz_puts(out, "Origin: http://localhost:5173\r\n");
    if ((flags & 0x20) && m == HTTP_M_OPTIONS)
        fz_puts(out, "Access-Control-Request-Method: POST\r\n");
    if ((flags & 0x40) && body_len)
        fz_puts(out, "Expect: 100-continue\r\n");
}

static void fz_body(buf_t *out, uint8_t flags, const char *body, size_t len)
{
    char line[48];
    if (!(flags & 0x80)) {
        int n = snprintf(line, sizeof(line), "Content-Length: %zu\r\n\r\n", len);
        fz_put(out, line, (size_t)n);
        fz_put(out, body, len);
        return;
    }
    fz_puts(out, "Transfer-Encoding: chunked\r\n\r\n");
    for (size_t off = 0; off < len;) { /* chunks of 1, 2, 4, ... bytes */
        size_t n = off + 1 < len - off ? off + 1 : len - off;
        int k = snprintf(line, sizeof(line), "%zx\r\n", n);
        fz_put(out, line, (size_t)k);
        fz_put(out, body + off, n);
        fz_puts(out, "\r\n");
        off += n;
    }
    fz_puts(out, "0\r\n\r\n");
}

/* Splits the input into method, target and body (see the top of the file). */
static void fz_split(const uint8_t *d, size_t n, const uint8_t **m, size_t *mlen, const uint8_t **t,
                     size_t *tlen, const uint8_t **b, size_t *blen)
{
    const uint8_t *nul = memchr(d, 0, n);
    const uint8_t *nul2 = nul ? memchr(nul + 1, 0, n - (size_t)(nul + 1 - d)) : NULL;
    *m = d, *mlen = nul ? (size_t)(nul - d) : 0;
    *t = nul ? nul + 1 : d;
    *tlen = nul2 ? (size_t)(nul2 - *t) : n - (size_t)(*t - d);
    *b = nul2 ? nul2 + 1 : d + n;
    *blen = (size_t)(d + n - *b);
}

/* What the router decided must show in the status (when the request itself is well formed). */
static void fz_status_check(int route_rc, int m, uint8_t flags)
{
    int s = fz_app.last_status;
    if (!m || m == HTTP_M_OPTIONS || s == 400 || s == 413 || s == 417)
        return; /* unknown methods, CORS preflights and framing errors answer first */
    if (route_rc == GV_EMETHOD_NOT_ALLOWED && s != 405 && !((flags & 0x20) && s == 403)) {
        fprintf(stderr, "fuzz_router: %d for a path without this method (want 405)\n", s);
        abort();
    }
    if (route_rc == GV_ENOT_FOUND && !(m & (HTTP_M_GET | HTTP_M_HEAD)) && s != 404) {
        fprintf(stderr, "fuzz_router: %d for an unknown path (want 404)\n", s);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    const uint8_t *mp, *tp, *bp;
    size_t ml, tl, bl, tlen = 0, blen = 0;
    fz_split(data + 1, size - 1, &mp, &ml, &tp, &tl, &bp, &bl);
    char *target = fz_expand(tp, tl, FZ_MAX_PART, &tlen);
    char *body = target ? fz_expand(bp, bl, FZ_MAX_PART, &blen) : NULL;
    if (!target || !body || ml > 32) {
        free(target);
        free(body);
        return 0;
    }
    buf_t req, out;
    buf_init(&req);
    buf_init(&out);
    for (size_t i = 0; i < ml; i++) /* a token, so the request line stays one request */
        fz_put(&req,
               isalnum(mp[i]) || strchr("!#$%&'*+-.^_`|~", mp[i]) ? (const char *)&mp[i] : "X", 1);
    if (!ml)
        fz_puts(&req, "GET");
    fz_puts(&req, " ");
    size_t path_at = req.len;
    fz_target(&req, target, tlen);
    const char *q = memchr(req.data + path_at, '?', req.len - path_at);
    size_t path_len = (q ? (size_t)(q - req.data) : req.len) - path_at;
    char method[33];
    snprintf(method, sizeof(method), "%.*s", (int)(path_at - 1), req.data);
    int m = router_method_parse(method, strlen(method));
    int route_rc = fz_route(m ? m : HTTP_M_GET, req.data + path_at, path_len);
    fz_puts(&req, " HTTP/1.1\r\n");
    fz_headers(&req, flags, m, blen);
    fz_body(&req, flags, body, blen);
    fz_segment_t seg = {req.data, req.len, 0};
    if (fz_app_exchange(&seg, 1, &out)) {
        int n = fz_responses_check(out.data, out.len);
        if (n != 1) {
            fprintf(stderr, "fuzz_router: %d responses to one request\n", n);
            abort();
        }
        fz_status_check(route_rc, m, flags);
    }
    buf_deinit(&req);
    buf_deinit(&out);
    free(target);
    free(body);
    fz_app_reset();
    return 0;
}
