/* Unit tests for net/static: path resolution against traversal, content types, hashed names,
 * gzip negotiation, and the handler through a fake in-process request on a temp web root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "net/static.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../tmpdir.h"

static char root_dir[PATH_MAX];    /* realpath of the web root */
static char outside_dir[PATH_MAX]; /* a directory next to it that must stay unreachable */

#define JS_PLAIN "console.log('plain');"
#define JS_GZ "GZIPPED-BYTES"
#define INDEX_BODY "<!doctype html><title>index</title>"
#define SECRET "top secret"
#define CSP                                                                                        \
    "Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self' "         \
    "'unsafe-inline'; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; "      \
    "form-action 'self'\r\n"

/* ---- fixture -------------------------------------------------------------------------------- */

static void file_write(const char *dir, const char *rel, const char *text)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void dir_make(const char *dir, const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

static void link_make(const char *target, const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", root_dir, rel);
    assert_int_equal(symlink(target, p), 0);
}

static void temp_dir_make(char *out)
{
    char tmpl[] = "/tmp/gavel-static-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    assert_non_null(realpath(tmpl, out));
}

static int fixture_setup(void **state)
{
    (void)state;
    char p[PATH_MAX];
    temp_dir_make(root_dir);
    temp_dir_make(outside_dir);
    file_write(outside_dir, "secret.txt", SECRET);
    file_write(root_dir, "index.html", INDEX_BODY);
    file_write(root_dir, "robots.txt", "User-agent: *\n");
    file_write(root_dir, "b", "bee");
    file_write(root_dir, ".env", "SECRET=1");
    dir_make(root_dir, "assets");
    file_write(root_dir, "assets/index-3f2a9c1b.js", JS_PLAIN);
    file_write(root_dir, "assets/index-3f2a9c1b.js.gz", JS_GZ);
    file_write(root_dir, "assets/app.8d9e0f1a2b.css", "body{}");
    file_write(root_dir, "assets/evil.js", "evil-plain");
    dir_make(root_dir, "docs");
    file_write(root_dir, "docs/index.html", "docs index");
    dir_make(root_dir, "empty");
    link_make(outside_dir, "escape");
    snprintf(p, sizeof(p), "%s/secret.txt", outside_dir);
    link_make(p, "escape_file");
    link_make(p, "assets/evil.js.gz");
    link_make("index.html", "inside_link");
    dir_make(root_dir, "docs2");
    link_make("../docs/index.html", "docs2/index.html");
    file_write(root_dir, "assets/linked.js", "linked-plain");
    link_make("index-3f2a9c1b.js.gz", "assets/linked.js.gz");
    file_write(root_dir, "assets/hard.js", "same bytes");
    snprintf(p, sizeof(p), "%s/assets/hard.js", root_dir);
    char q[PATH_MAX + 8];
    snprintf(q, sizeof(q), "%s.gz", p);
    assert_int_equal(link(p, q), 0);
    return 0;
}

static int fixture_teardown(void **state)
{
    (void)state;
    int a = tmpdir_remove(root_dir);
    int b = tmpdir_remove(outside_dir);
    return a || b ? -1 : 0;
}

/* ---- path resolution ------------------------------------------------------------------------ */

static int resolve(const char *url, char *out)
{
    return static_path_resolve(root_dir, url, out, PATH_MAX);
}

static void expect_resolved(const char *url, const char *rel)
{
    char out[PATH_MAX], want[PATH_MAX];
    snprintf(want, sizeof(want), "%s%s", root_dir, rel);
    assert_int_equal(resolve(url, out), 0);
    assert_string_equal(out, want);
}

static void test_resolve_normal(void **state)
{
    (void)state;
    expect_resolved("/index.html", "/index.html");
    expect_resolved("/", "");
    expect_resolved("/assets/", "/assets");
    expect_resolved("/assets/index-3f2a9c1b.js", "/assets/index-3f2a9c1b.js");
    expect_resolved("/ind%65x.html", "/index.html");
    expect_resolved("/inside_link", "/index.html"); /* a symlink that stays inside */
}

static void test_resolve_root_with_trailing_slash(void **state)
{
    (void)state;
    char root[PATH_MAX + 1], out[PATH_MAX], want[PATH_MAX];
    snprintf(root, sizeof(root), "%s/", root_dir);
    snprintf(want, sizeof(want), "%s/b", root_dir);
    assert_int_equal(static_path_resolve(root, "/b", out, sizeof(out)), 0);
    assert_string_equal(out, want);
}

static void test_resolve_dot_segments(void **state)
{
    (void)state;
    char out[PATH_MAX];
    assert_int_equal(resolve("/a/../b", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/..", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/../etc/passwd", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/./index.html", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/assets/..", out), GV_ETRAVERSAL);
}

static void test_resolve_encoded_dots(void **state)
{
    (void)state;
    char out[PATH_MAX];
    assert_int_equal(resolve("/%2e%2e/etc/passwd", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/%2E%2e/", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/assets/%2e%2e/%2e%2e/x", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/.%2e/x", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/..%2fetc%2fpasswd", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/..%2Fetc", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/assets%2f..%2f..%2fx", out), GV_ETRAVERSAL);
    /* an overlong UTF-8 '.' is not a dot, but it is not valid either */
    assert_int_equal(resolve("/%c0%ae%c0%ae/x", out), GV_EINVALID_REQUEST);
    /* decoded once only: a double-encoded dot is a literal "%2e" name, which does not exist */
    assert_int_equal(resolve("/%252e%252e/x", out), GV_ENOT_FOUND);
}

static void test_resolve_nul_and_bad_escapes(void **state)
{
    (void)state;
    char out[PATH_MAX];
    assert_int_equal(resolve("/index.html%00.png", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/%00", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/%zz", out), GV_EINVALID_REQUEST);
    assert_int_equal(resolve("/%2", out), GV_EINVALID_REQUEST);
    assert_int_equal(resolve("/%", out), GV_EINVALID_REQUEST);
    assert_int_equal(resolve("/%g0", out), GV_EINVALID_REQUEST);
    assert_int_equal(resolve("/a%0ab", out), GV_EINVALID_REQUEST);
    assert_int_equal(resolve("/\x7f", out), GV_EINVALID_REQUEST);
    assert_int_equal(resolve("/%ff", out), GV_EINVALID_REQUEST);
    assert_int_equal(resolve("/%ed%a0%80", out), GV_EINVALID_REQUEST); /* a surrogate */
    /* valid UTF-8 is fine (and missing) */
    assert_int_equal(resolve("/Jos%C3%A9", out), GV_ENOT_FOUND);
}

static void test_resolve_backslash_and_double_slash(void **state)
{
    (void)state;
    char out[PATH_MAX];
    assert_int_equal(resolve("/a\\..\\b", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/%5c..%5cb", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/..\\index.html", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("//etc/passwd", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/assets//index-3f2a9c1b.js", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/%2f%2fetc/passwd", out), GV_ETRAVERSAL);
    /* an encoded separator is refused even where it would lead somewhere harmless */
    assert_int_equal(resolve("/assets%2findex-3f2a9c1b.js", out), GV_ETRAVERSAL);
}

static void test_resolve_not_absolute(void **state)
{
    (void)state;
    char out[PATH_MAX];
    assert_int_equal(resolve("index.html", out), GV_EINVALID_REQUEST);
    assert_int_equal(resolve("", out), GV_EINVALID_REQUEST);
    assert_int_equal(resolve("%2findex.html", out), GV_EINVALID_REQUEST);
    assert_int_equal(static_path_resolve("relative", "/b", out, sizeof(out)), GV_EINVALID_REQUEST);
}

static void test_resolve_hidden_files(void **state)
{
    (void)state;
    char out[PATH_MAX];
    assert_int_equal(resolve("/.env", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/%2eenv", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/.git/config", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/.well-known/security.txt", out), GV_ENOT_FOUND);
}

static void test_resolve_symlink_escape(void **state)
{
    (void)state;
    char out[PATH_MAX];
    assert_int_equal(resolve("/escape/secret.txt", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/escape_file", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/escape", out), GV_ETRAVERSAL);
    /* a missing name behind an escaping link must not answer differently from an existing one */
    assert_int_equal(resolve("/escape/missing.txt", out), GV_ETRAVERSAL);
    assert_int_equal(resolve("/escape/missing/deeper", out), GV_ETRAVERSAL);
}

static void test_resolve_missing(void **state)
{
    (void)state;
    char out[PATH_MAX];
    assert_int_equal(resolve("/missing.js", out), GV_ENOT_FOUND);
    assert_int_equal(resolve("/assets/missing/x", out), GV_ENOT_FOUND);
    assert_int_equal(resolve("/b/x", out), GV_ENOT_FOUND); /* "b" is a file */
    assert_int_equal(resolve("/index.html/", out), GV_ENOT_FOUND);
}

static void test_resolve_long_paths(void **state)
{
    (void)state;
    char out[PATH_MAX];
    static char url[8192];
    /* over the URL limit */
    url[0] = '/';
    memset(url + 1, 'a', 5000);
    url[5001] = '\0';
    assert_int_equal(resolve(url, out), GV_EINVALID_REQUEST);
    /* one segment longer than NAME_MAX */
    url[300] = '\0';
    assert_int_equal(resolve(url, out), GV_EINVALID_REQUEST);
    /* many short segments within the limit: just missing */
    size_t n = 0;
    while (n + 10 < STATIC_URL_MAX)
        n += (size_t)snprintf(url + n, sizeof(url) - n, "/aaaaaaaa");
    assert_int_equal(resolve(url, out), GV_ENOT_FOUND);
    /* the same traversal attempt hidden at the end of a long path */
    snprintf(url + n - 9, sizeof(url) - n + 9, "/%%2e%%2e");
    assert_int_equal(resolve(url, out), GV_ETRAVERSAL);
    /* an output buffer too small for the real path */
    assert_int_equal(static_path_resolve(root_dir, "/index.html", out, 8), GV_EINVALID_REQUEST);
}

/* ---- content types, hashed names, negotiation ----------------------------------------------- */

static void test_content_types(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"/index.html", "text/html; charset=utf-8"},
        {"/x/PAGE.HTML", "text/html; charset=utf-8"},
        {"/a.js", "text/javascript; charset=utf-8"},
        {"/a.mjs", "text/javascript; charset=utf-8"},
        {"/a.css", "text/css; charset=utf-8"},
        {"/a.json", "application/json"},
        {"/a.js.map", "application/json"},
        {"/a.svg", "image/svg+xml"},
        {"/a.png", "image/png"},
        {"/a.jpg", "image/jpeg"},
        {"/a.jpeg", "image/jpeg"},
        {"/a.gif", "image/gif"},
        {"/a.webp", "image/webp"},
        {"/favicon.ico", "image/x-icon"},
        {"/f.woff", "font/woff"},
        {"/f.woff2", "font/woff2"},
        {"/robots.txt", "text/plain; charset=utf-8"},
        {"/m.wasm", "application/wasm"},
        {"/site.webmanifest", "application/manifest+json"},
        {"/noext", "application/octet-stream"},
        {"/dir.js/file", "application/octet-stream"},
        {"/a.unknown", "application/octet-stream"},
        {"/a.", "application/octet-stream"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(static_content_type(cases[i][0]), cases[i][1]);
}

static void test_hashed_assets(void **state)
{
    (void)state;
    assert_true(static_asset_is_hashed("/assets/index-3f2a9c1b.js"));
    assert_true(static_asset_is_hashed("/assets/app.8d9e0f1a2b.css"));
    assert_true(static_asset_is_hashed("index-DiwrgTda.css"));
    assert_true(static_asset_is_hashed("/assets/index-C-Wmcpb6.js")); /* base64url with '-' */
    assert_true(static_asset_is_hashed("/assets/logo-abc_defg.svg"));
    assert_false(static_asset_is_hashed("/index.html"));
    assert_false(static_asset_is_hashed("/sw-register.js"));
    assert_false(static_asset_is_hashed("/apple-touch-icon.png"));
    assert_false(static_asset_is_hashed("/favicon.ico"));
    assert_false(static_asset_is_hashed("/assets/index-3f2a9c1.js")); /* 7 characters */
    assert_false(static_asset_is_hashed("/3f2a9c1b.js"));             /* no separator */
    assert_false(static_asset_is_hashed("/assets.3f2a9c1b/app.js"));  /* the directory's */
    assert_false(static_asset_is_hashed("/index-3f2a!c1b.js"));
    assert_false(static_asset_is_hashed(""));
}

static void test_gzip_negotiation(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "gzip",
        "GZIP",
        "gzip, deflate, br",
        "x-gzip",
        "*",
        "gzip;q=0.001",
        "gzip;q=1.0",
        "gzip;q=1.",
        " br ; q=1 , gzip ; q=0.5 ",
        "*;q=0, gzip",
        "gzip;q=0.5;level=1",
        "br;q=0, *;q=0.2",
        "deflate,gzip",
    };
    static const char *const no[] = {
        "",
        "br",
        "identity",
        "gzipx",
        "gzip;q=0",
        "gzip; q=0.000",
        "gzip;q=1.5",
        "gzip;q=abc",
        "gzip;q=",
        "*;q=0",
        "gzip;q=0, *",
        "gzip;q=0.12345",
        "gzip;q=0.5, gzip;q=0",
    };
    assert_false(static_gzip_accepted(NULL));
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(static_gzip_accepted(yes[i]));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(static_gzip_accepted(no[i]));
}

static void test_etag_match(void **state)
{
    (void)state;
    const char *etag = "\"1f-abc-9\"";
    assert_false(static_etag_match(NULL, etag));
    assert_false(static_etag_match("", etag));
    assert_true(static_etag_match("\"1f-abc-9\"", etag));
    assert_true(static_etag_match("W/\"1f-abc-9\"", etag));
    assert_true(static_etag_match("\"x\", \"1f-abc-9\"", etag));
    assert_true(static_etag_match("*", etag));
    assert_false(static_etag_match("\"1f-abc-8\"", etag));
    assert_false(static_etag_match("\"1f-abc-9", etag));
    assert_false(static_etag_match("1f-abc-9", etag));
    assert_false(static_etag_match("\"1f-abc-9\"x", "\"other\""));
}

/* ---- the handler through a fake request ----------------------------------------------------- */

typedef struct {
    static_site_t *site;
    http_req_t req;
    http_resp_t resp;
} fake_t;

/* Builds a request; the variadic part is name/value pairs (names lower-case) ending in NULL. */
static void fake_init(fake_t *f, static_site_t *site, int method, const char *path, ...)
{
    memset(&f->req, 0, sizeof(f->req));
    memset(&f->resp, 0, sizeof(f->resp));
    f->site = site;
    arena_init(&f->req.arena);
    f->req.method = method;
    f->req.method_name = method == HTTP_M_HEAD ? "HEAD" : method == HTTP_M_GET ? "GET" : "POST";
    f->req.target = f->req.path = arena_strndup(&f->req.arena, path, strlen(path));
    f->req.query = "";
    f->req.headers_cap = 8;
    f->req.headers = arena_alloc(&f->req.arena, sizeof(http_header_t) * f->req.headers_cap);
    assert_non_null(f->req.headers);
    va_list ap;
    va_start(ap, path);
    const char *name;
    while ((name = va_arg(ap, const char *)) != NULL) {
        assert_true(f->req.nheaders < f->req.headers_cap);
        f->req.headers[f->req.nheaders].name = name;
        f->req.headers[f->req.nheaders++].value = va_arg(ap, const char *);
    }
    va_end(ap);
    f->resp.status = 200;
    buf_init(&f->resp.headers);
    buf_init(&f->resp.body);
    buf_init(&f->req.body);
    static_handle(&f->req, &f->resp, site);
}

static void fake_deinit(fake_t *f)
{
    buf_deinit(&f->resp.headers);
    buf_deinit(&f->resp.body);
    buf_deinit(&f->req.body);
    arena_deinit(&f->req.arena);
}

static const char *fake_headers(const fake_t *f)
{
    return f->resp.headers.data ? f->resp.headers.data : "";
}

static void expect_body(const fake_t *f, const char *text)
{
    assert_int_equal(f->resp.body.len, strlen(text));
    assert_memory_equal(f->resp.body.data, text, strlen(text));
}

static void expect_header(const fake_t *f, const char *line)
{
    if (!strstr(fake_headers(f), line))
        fail_msg("missing header line %s in:\n%s", line, fake_headers(f));
}

static void expect_no_header(const fake_t *f, const char *name)
{
    if (strstr(fake_headers(f), name))
        fail_msg("unexpected header %s in:\n%s", name, fake_headers(f));
}

static void expect_security_headers(const fake_t *f)
{
    expect_header(f, CSP);
    expect_header(f, "X-Content-Type-Options: nosniff\r\n");
    expect_header(f, "Referrer-Policy: no-referrer\r\n");
    expect_header(f, "X-Frame-Options: DENY\r\n");
    expect_header(f, "Vary: Accept-Encoding\r\n");
}

static void expect_not_found_json(const fake_t *f)
{
    assert_int_equal(f->resp.status, 404);
    assert_non_null(f->resp.content_type);
    assert_non_null(strstr(f->resp.content_type, "application/json"));
    assert_non_null(f->resp.body.data);
    assert_non_null(strstr(f->resp.body.data, "\"not_found\""));
    assert_null(strstr(f->resp.body.data, SECRET));
    expect_security_headers(f);
}

/* Copies the ETag value (with its quotes) out of the response headers. */
static void fake_etag(const fake_t *f, char *out, size_t n)
{
    const char *p = strstr(fake_headers(f), "ETag: ");
    assert_non_null(p);
    p += 6;
    const char *end = strstr(p, "\r\n");
    assert_non_null(end);
    assert_true((size_t)(end - p) < n);
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    assert_true(end - p > 2 && out[0] == '"' && out[end - p - 1] == '"');
}

static int site_setup(void **state)
{
    static_site_t *s = NULL;
    if (static_site_new(&s, root_dir) != 0)
        return -1;
    *state = s;
    return 0;
}

static int site_teardown(void **state)
{
    static_site_free(*state);
    return 0;
}

static void test_site_new_errors(void **state)
{
    (void)state;
    static_site_t *s = (static_site_t *)&s; /* must be reset */
    char p[PATH_MAX];
    assert_int_equal(static_site_new(&s, "/nonexistent/gavel/web"), GV_EIO);
    assert_null(s);
    snprintf(p, sizeof(p), "%s/index.html", root_dir);
    assert_int_equal(static_site_new(&s, p), GV_EIO);
    assert_null(s);
    static_site_free(NULL);
    assert_int_equal(static_site_new(&s, root_dir), 0);
    assert_string_equal(static_site_root(s), root_dir);
    static_site_free(s);
}

static void test_handle_200_with_etag(void **state)
{
    fake_t f;
    fake_init(&f, *state, HTTP_M_GET, "/assets/index-3f2a9c1b.js", NULL);
    assert_int_equal(f.resp.status, 200);
    assert_string_equal(f.resp.content_type, "text/javascript; charset=utf-8");
    expect_body(&f, JS_PLAIN);
    expect_header(&f, "ETag: \"");
    expect_header(&f, "Cache-Control: public, max-age=31536000, immutable\r\n");
    expect_no_header(&f, "Content-Encoding");
    expect_security_headers(&f);
    fake_deinit(&f);
}

static void test_handle_index_no_cache(void **state)
{
    fake_t f;
    fake_init(&f, *state, HTTP_M_GET, "/", NULL);
    assert_int_equal(f.resp.status, 200);
    assert_string_equal(f.resp.content_type, "text/html; charset=utf-8");
    expect_body(&f, INDEX_BODY);
    expect_header(&f, "Cache-Control: no-cache\r\n");
    expect_security_headers(&f);
    fake_deinit(&f);
    fake_init(&f, *state, HTTP_M_GET, "/docs", NULL);
    expect_body(&f, "docs index");
    fake_deinit(&f);
    fake_init(&f, *state, HTTP_M_GET, "/docs/", NULL);
    expect_body(&f, "docs index");
    fake_deinit(&f);
}

static void test_handle_head(void **state)
{
    fake_t f;
    fake_init(&f, *state, HTTP_M_HEAD, "/robots.txt", NULL);
    assert_int_equal(f.resp.status, 200);
    assert_string_equal(f.resp.content_type, "text/plain; charset=utf-8");
    expect_body(&f, "User-agent: *\n"); /* the HTTP layer drops it and keeps its length */
    expect_header(&f, "ETag: \"");
    fake_deinit(&f);
}

static void test_handle_304_on_if_none_match(void **state)
{
    fake_t f;
    char etag[128], list[300];
    fake_init(&f, *state, HTTP_M_GET, "/robots.txt", NULL);
    fake_etag(&f, etag, sizeof(etag));
    fake_deinit(&f);
    snprintf(list, sizeof(list), "\"nope\", W/%s", etag);
    const char *matching[] = {etag, list, "*"};
    for (size_t i = 0; i < 3; i++) {
        fake_init(&f, *state, HTTP_M_GET, "/robots.txt", "if-none-match", matching[i], NULL);
        assert_int_equal(f.resp.status, 304);
        assert_int_equal(f.resp.body.len, 0);
        assert_null(f.resp.content_type);
        expect_header(&f, etag);
        expect_header(&f, "Cache-Control: no-cache\r\n");
        expect_security_headers(&f);
        fake_deinit(&f);
    }
    fake_init(&f, *state, HTTP_M_GET, "/robots.txt", "if-none-match", "\"other\"", NULL);
    assert_int_equal(f.resp.status, 200);
    expect_body(&f, "User-agent: *\n");
    fake_deinit(&f);
}

static void test_handle_gzip_chosen_when_accepted(void **state)
{
    fake_t f;
    char plain_etag[128], gz_etag[128];
    fake_init(&f, *state, HTTP_M_GET, "/assets/index-3f2a9c1b.js", NULL);
    fake_etag(&f, plain_etag, sizeof(plain_etag));
    fake_deinit(&f);

    fake_init(&f, *state, HTTP_M_GET, "/assets/index-3f2a9c1b.js", "accept-encoding",
              "br, gzip;q=0.8", NULL);
    assert_int_equal(f.resp.status, 200);
    assert_string_equal(f.resp.content_type, "text/javascript; charset=utf-8");
    expect_body(&f, JS_GZ);
    expect_header(&f, "Content-Encoding: gzip\r\n");
    expect_header(&f, "Vary: Accept-Encoding\r\n");
    expect_header(&f, "Cache-Control: public, max-age=31536000, immutable\r\n");
    fake_etag(&f, gz_etag, sizeof(gz_etag));
    assert_string_not_equal(gz_etag, plain_etag);
    fake_deinit(&f);

    /* the gzip ETag validates the gzip variant only */
    fake_init(&f, *state, HTTP_M_GET, "/assets/index-3f2a9c1b.js", "accept-encoding", "gzip",
              "if-none-match", gz_etag, NULL);
    assert_int_equal(f.resp.status, 304);
    fake_deinit(&f);
    fake_init(&f, *state, HTTP_M_GET, "/assets/index-3f2a9c1b.js", "accept-encoding", "gzip",
              "if-none-match", plain_etag, NULL);
    assert_int_equal(f.resp.status, 200);
    expect_body(&f, JS_GZ);
    fake_deinit(&f);
}

static void test_handle_gzip_refused_with_q0(void **state)
{
    fake_t f;
    fake_init(&f, *state, HTTP_M_GET, "/assets/index-3f2a9c1b.js", "accept-encoding",
              "gzip;q=0, br", NULL);
    assert_int_equal(f.resp.status, 200);
    expect_body(&f, JS_PLAIN);
    expect_no_header(&f, "Content-Encoding");
    expect_header(&f, "Vary: Accept-Encoding\r\n");
    fake_deinit(&f);
    /* no .gz sibling: the plain file */
    fake_init(&f, *state, HTTP_M_GET, "/robots.txt", "accept-encoding", "gzip", NULL);
    expect_body(&f, "User-agent: *\n");
    expect_no_header(&f, "Content-Encoding");
    fake_deinit(&f);
}

static void test_handle_gzip_symlink_outside_ignored(void **state)
{
    fake_t f;
    fake_init(&f, *state, HTTP_M_GET, "/assets/evil.js", "accept-encoding", "gzip", NULL);
    assert_int_equal(f.resp.status, 200);
    expect_body(&f, "evil-plain");
    expect_no_header(&f, "Content-Encoding");
    fake_deinit(&f);
}

/* GETs path and checks the body. */
static void get_expect(static_site_t *s, const char *path, const char *body)
{
    fake_t f;
    fake_init(&f, s, HTTP_M_GET, path, NULL);
    assert_int_equal(f.resp.status, 200);
    expect_body(&f, body);
    fake_deinit(&f);
}

static void test_handle_symlinks_inside_root(void **state)
{
    fake_t f;
    char plain_etag[128], gz_etag[128];
    get_expect(*state, "/docs2/", "docs index"); /* index.html is a link to ../docs/index.html */
    fake_init(&f, *state, HTTP_M_GET, "/assets/linked.js", "accept-encoding", "gzip", NULL);
    expect_body(&f, JS_GZ);
    expect_header(&f, "Content-Encoding: gzip\r\n");
    fake_deinit(&f);
    /* hard-linked variants share inode, size and mtime: the ETags must still differ */
    fake_init(&f, *state, HTTP_M_GET, "/assets/hard.js", NULL);
    fake_etag(&f, plain_etag, sizeof(plain_etag));
    fake_deinit(&f);
    fake_init(&f, *state, HTTP_M_GET, "/assets/hard.js", "accept-encoding", "gzip", NULL);
    expect_header(&f, "Content-Encoding: gzip\r\n");
    fake_etag(&f, gz_etag, sizeof(gz_etag));
    fake_deinit(&f);
    assert_string_not_equal(plain_etag, gz_etag);
}

static void test_handle_spa_fallback(void **state)
{
    static const char *const routes[] = {"/leagues/42", "/leagues/", "/auction",
                                         "/empty",      "/apix",     "/Jos%C3%A9"};
    fake_t f;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        fake_init(&f, *state, HTTP_M_GET, routes[i], NULL);
        assert_int_equal(f.resp.status, 200);
        assert_string_equal(f.resp.content_type, "text/html; charset=utf-8");
        expect_body(&f, INDEX_BODY);
        expect_header(&f, "Cache-Control: no-cache\r\n");
        fake_deinit(&f);
    }
    /* a missing file name is a real 404 */
    fake_init(&f, *state, HTTP_M_GET, "/assets/missing-3f2a9c1b.js", NULL);
    expect_not_found_json(&f);
    fake_deinit(&f);
}

static void test_handle_api_never_falls_back(void **state)
{
    static const char *const paths[] = {"/api/x", "/api", "/api/", "/api/leagues/7"};
    fake_t f;
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        fake_init(&f, *state, HTTP_M_GET, paths[i], NULL);
        expect_not_found_json(&f);
        fake_deinit(&f);
    }
}

static void test_handle_traversal_is_404(void **state)
{
    static const char *const paths[] = {
        "/%2e%2e/%2e%2e/etc/passwd",
        "/../etc/passwd",
        "/escape/secret.txt",
        "/escape_file",
        "/escape/missing",
        "/.env",
        "/..%2fetc%2fpasswd",
        "/a%00b",
        "//etc/passwd",
        "/a\\..\\b",
        "/%zz",
    };
    fake_t f;
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        fake_init(&f, *state, HTTP_M_GET, paths[i], NULL);
        expect_not_found_json(&f);
        fake_deinit(&f);
    }
}

static void test_handle_method_not_allowed(void **state)
{
    fake_t f;
    fake_init(&f, *state, HTTP_M_POST, "/index.html", NULL);
    assert_int_equal(f.resp.status, 405);
    expect_header(&f, "Allow: GET, HEAD\r\n");
    fake_deinit(&f);
}

static void test_handle_too_large_is_404(void **state)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/big.bin", root_dir);
    int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)STATIC_FILE_MAX + 1), 0); /* sparse */
    close(fd);
    fake_t f;
    fake_init(&f, *state, HTTP_M_GET, "/big.bin", NULL);
    expect_not_found_json(&f);
    fake_deinit(&f);
    assert_int_equal(unlink(p), 0);
}

static void file_mtime_set(const char *rel, const struct timespec *ts)
{
    char p[PATH_MAX];
    struct timespec times[2] = {*ts, *ts};
    snprintf(p, sizeof(p), "%s/%s", root_dir, rel);
    assert_int_equal(utimensat(AT_FDCWD, p, times, 0), 0);
}

static void test_handle_cache_hit(void **state)
{
    static_site_t *s = *state;
    const static_stats_t *st = static_site_stats(s);
    uint64_t hits = st->hits, misses = st->misses;
    get_expect(s, "/docs/index.html", "docs index");
    get_expect(s, "/docs/index.html", "docs index");
    get_expect(s, "/docs/", "docs index");
    assert_int_equal(st->misses, misses + 1);
    assert_int_equal(st->hits, hits + 2);
    assert_true(st->entries >= 1);
}

static void test_handle_cache_sees_change_on_disk(void **state)
{
    static_site_t *s = *state;
    char p[PATH_MAX], tmp[PATH_MAX];
    struct stat st;
    snprintf(p, sizeof(p), "%s/live.txt", root_dir);
    file_write(root_dir, "live.txt", "version-1");
    assert_int_equal(stat(p, &st), 0);
    get_expect(s, "/live.txt", "version-1");
    get_expect(s, "/live.txt", "version-1");
    uint64_t hits = static_site_stats(s)->hits;
    assert_true(hits >= 1);

    /* same size, rewritten in place, mtime moved */
    file_write(root_dir, "live.txt", "version-2");
    struct timespec later = {st.st_mtim.tv_sec + 5, st.st_mtim.tv_nsec};
    file_mtime_set("live.txt", &later);
    get_expect(s, "/live.txt", "version-2");

    /* different size */
    file_write(root_dir, "live.txt", "version-three");
    file_mtime_set("live.txt", &later);
    get_expect(s, "/live.txt", "version-three");

    /* same size and mtime, but a new inode renamed over it (how deploys replace files) */
    file_write(root_dir, "live.tmp", "version-fours");
    file_mtime_set("live.tmp", &later);
    snprintf(tmp, sizeof(tmp), "%s/live.tmp", root_dir);
    assert_int_equal(rename(tmp, p), 0);
    get_expect(s, "/live.txt", "version-fours");
    assert_int_equal(static_site_stats(s)->hits, hits);
    assert_int_equal(unlink(p), 0);
}

static void test_handle_cache_bounded(void **state)
{
    static_site_t *s = *state;
    const static_stats_t *st = static_site_stats(s);
    get_expect(s, "/robots.txt", "User-agent: *\n");
    get_expect(s, "/b", "bee");
    assert_true(st->entries >= 2);
    static_site_cache_limit_set(s, 0);
    assert_int_equal(st->entries, 0);
    assert_int_equal(st->bytes, 0);
    uint64_t misses = st->misses;
    get_expect(s, "/b", "bee");
    get_expect(s, "/b", "bee");
    assert_int_equal(st->misses, misses + 2);
    assert_int_equal(st->entries, 0);
    /* room for about one small entry: never over the bound */
    static_site_cache_limit_set(s, 400);
    get_expect(s, "/b", "bee");
    get_expect(s, "/robots.txt", "User-agent: *\n");
    get_expect(s, "/docs/", "docs index");
    assert_true(st->bytes <= 400);
    assert_true(st->entries >= 1);
    static_site_cache_limit_set(s, STATIC_CACHE_MAX);
}

static void test_handle_cache_evicts_least_recently_used(void **state)
{
    static_site_t *s = *state;
    const static_stats_t *st = static_site_stats(s);
    size_t before = st->bytes;
    get_expect(s, "/b", "bee");
    size_t a = st->bytes - before;
    get_expect(s, "/robots.txt", "User-agent: *\n");
    size_t b = st->bytes - before - a;
    get_expect(s, "/docs/index.html", "docs index");
    size_t c = st->bytes - before - a - b;
    assert_true(a > 0 && b > 0 && c > 0);
    static_site_cache_limit_set(s, 0);
    static_site_cache_limit_set(s, a + b + c - 1); /* any two fit, not three */
    get_expect(s, "/b", "bee");
    get_expect(s, "/robots.txt", "User-agent: *\n");
    get_expect(s, "/b", "bee"); /* now the most recently used */
    get_expect(s, "/docs/index.html", "docs index");
    uint64_t hits = st->hits;
    get_expect(s, "/b", "bee");
    assert_int_equal(st->hits, hits + 1);
    assert_int_equal(st->entries, 2);
    uint64_t misses = st->misses;
    get_expect(s, "/robots.txt", "User-agent: *\n"); /* the one evicted */
    assert_int_equal(st->misses, misses + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_normal),
        cmocka_unit_test(test_resolve_root_with_trailing_slash),
        cmocka_unit_test(test_resolve_dot_segments),
        cmocka_unit_test(test_resolve_encoded_dots),
        cmocka_unit_test(test_resolve_nul_and_bad_escapes),
        cmocka_unit_test(test_resolve_backslash_and_double_slash),
        cmocka_unit_test(test_resolve_not_absolute),
        cmocka_unit_test(test_resolve_hidden_files),
        cmocka_unit_test(test_resolve_symlink_escape),
        cmocka_unit_test(test_resolve_missing),
        cmocka_unit_test(test_resolve_long_paths),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_hashed_assets),
        cmocka_unit_test(test_gzip_negotiation),
        cmocka_unit_test(test_etag_match),
        cmocka_unit_test(test_site_new_errors),
        cmocka_unit_test_setup_teardown(test_handle_200_with_etag, site_setup, site_teardown),
        cmocka_unit_test_setup_teardown(test_handle_index_no_cache, site_setup, site_teardown),
        cmocka_unit_test_setup_teardown(test_handle_head, site_setup, site_teardown),
        cmocka_unit_test_setup_teardown(test_handle_304_on_if_none_match, site_setup,
                                        site_teardown),
        cmocka_unit_test_setup_teardown(test_handle_gzip_chosen_when_accepted, site_setup,
                                        site_teardown),
        cmocka_unit_test_setup_teardown(test_handle_gzip_refused_with_q0, site_setup,
                                        site_teardown),
        cmocka_unit_test_setup_teardown(test_handle_gzip_symlink_outside_ignored, site_setup,
                                        site_teardown),
        cmocka_unit_test_setup_teardown(test_handle_symlinks_inside_root, site_setup,
                                        site_teardown),
        cmocka_unit_test_setup_teardown(test_handle_spa_fallback, site_setup, site_teardown),
        cmocka_unit_test_setup_teardown(test_handle_api_never_falls_back, site_setup,
                                        site_teardown),
        cmocka_unit_test_setup_teardown(test_handle_traversal_is_404, site_setup, site_teardown),
        cmocka_unit_test_setup_teardown(test_handle_method_not_allowed, site_setup, site_teardown),
        cmocka_unit_test_setup_teardown(test_handle_too_large_is_404, site_setup, site_teardown),
        cmocka_unit_test_setup_teardown(test_handle_cache_hit, site_setup, site_teardown),
        cmocka_unit_test_setup_teardown(test_handle_cache_sees_change_on_disk, site_setup,
                                        site_teardown),
        cmocka_unit_test_setup_teardown(test_handle_cache_bounded, site_setup, site_teardown),
        cmocka_unit_test_setup_teardown(test_handle_cache_evicts_least_recently_used, site_setup,
                                        site_teardown),
    };
    return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
