/* Static file serving for the web app: URL paths that cannot leave the web root, precompressed
 * variants, validators and cache headers, and an LRU cache of file bodies checked by stat. */
#include "net/static.h"

#include "core/err.h"
#include "core/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATIC_BUCKETS 256
#define STATIC_ETAG_LEN 80
#define STATIC_IMMUTABLE "public, max-age=31536000, immutable"
#define STATIC_CSP                                                                                 \
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "                 \
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

typedef struct static_entry_s static_entry_t;

/* One cached body; the path and the bytes live in the same allocation as the entry. */
struct static_entry_s {
    static_entry_t *chain;       /* next in its hash bucket */
    static_entry_t *prev, *next; /* LRU list, most recently used first */
    uint64_t hash;
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
    int64_t ctime_ns;
    size_t cost; /* bytes charged to the cache */
    size_t len;
    char *data;
    char path[];
};

struct static_site_s {
    char root[PATH_MAX];
    size_t root_len;
    static_entry_t *buckets[STATIC_BUCKETS];
    static_entry_t *lru_head, *lru_tail;
    size_t max_bytes;
    static_stats_t stats;
};

static const char *const static_security_headers[][2] = {
    {"Content-Security-Policy", STATIC_CSP},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"X-Frame-Options", "DENY"},
    {"Vary", "Accept-Encoding"},
};

/* ---- path resolution ------------------------------------------------------------------------ */

/* Percent-decodes url once into out. Bytes that never belong in a served file name are refused
 * here, decoded or not, so no later step can reinterpret them. */
static int static_url_decode(const char *url, char *out, size_t out_len)
{
    size_t n = 0;
    for (const char *p = url; *p; p++) {
        int c = (unsigned char)*p;
        if (c == '%') {
            int hi = hex_value((unsigned char)p[1]);
            int lo = hi < 0 ? -1 : hex_value((unsigned char)p[2]);
            if (hi < 0 || lo < 0)
                return GV_EINVALID_REQUEST;
            c = hi * 16 + lo;
            p += 2;
            if (c == '/')
                return GV_ETRAVERSAL; /* "..%2f" and friends */
        }
        if (c == '\0' || c == '\\')
            return GV_ETRAVERSAL;
        if (c < 0x20 || c == 0x7f)
            return GV_EINVALID_REQUEST;
        if (n + 1 >= out_len)
            return GV_EINVALID_REQUEST;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return 0;
}

/* Strict UTF-8: no overlong forms (so "%c0%ae" is not a disguised '.'), no surrogates. */
static int static_utf8_valid(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s, cp, min;
        size_t len;
        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            len = 2, cp = c & 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0)
            len = 3, cp = c & 0x0f, min = 0x800;
        else if (c >= 0xf0 && c <= 0xf4)
            len = 4, cp = c & 0x07, min = 0x10000;
        else
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[k] & 0xc0) != 0x80) /* also stops at the NUL */
                return 0;
            cp = (cp << 6) | (s[k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        s += len;
    }
    return 1;
}

/* Checks the segments of a decoded absolute path: no empty segment except a trailing one, no
 * "." or "..", no hidden names other than ".well-known", none longer than NAME_MAX. */
static int static_segments_check(const char *p)
{
    while (*p == '/') {
        const char *seg = p + 1;
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 && end)
            return GV_ETRAVERSAL;
        if (n > 0 && seg[0] == '.' && !(n == 11 && memcmp(seg, ".well-known", 11) == 0))
            return GV_ETRAVERSAL;
        if (n > NAME_MAX)
            return GV_EINVALID_REQUEST;
        p = seg + n;
    }
    return 0;
}

/* Length of root without trailing slashes ("/" stays 1). */
static size_t static_root_len(const char *root)
{
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    return n;
}

static int static_path_under(const char *root, size_t root_len, const char *p)
{
    if (root_len == 1 && root[0] == '/')
        return p[0] == '/';
    return strncmp(p, root, root_len) == 0 && (p[root_len] == '/' || p[root_len] == '\0');
}

/* realpath failed on joined (root + decoded path) with err. When something is missing, the part
 * that exists must still be under the root, so a symlink cannot probe for files elsewhere. */
static int static_realpath_fail(const char *root, size_t root_len, char *joined, int err)
{
    if (err == ENAMETOOLONG)
        return GV_EINVALID_REQUEST;
    if (err == ELOOP)
        return GV_ETRAVERSAL;
    if (err == EACCES)
        return GV_ENOT_FOUND;
    if (err != ENOENT && err != ENOTDIR)
        return GV_EIO;
    char real[PATH_MAX];
    char *cut;
    while ((cut = strrchr(joined, '/')) != NULL && (size_t)(cut - joined) > root_len) {
        *cut = '\0';
        if (realpath(joined, real))
            return static_path_under(root, root_len, real) ? GV_ENOT_FOUND : GV_ETRAVERSAL;
        if (errno == ELOOP)
            return GV_ETRAVERSAL;
        if (errno != ENOENT && errno != ENOTDIR)
            return GV_ENOT_FOUND;
    }
    return GV_ENOT_FOUND;
}

int static_path_resolve(const char *root_real, const char *url_path, char *out, size_t out_len)
{
    char decoded[STATIC_URL_MAX + 1], joined[PATH_MAX], real[PATH_MAX];
    size_t root_len = static_root_len(root_real);
    if (root_real[0] != '/' || url_path[0] != '/')
        return GV_EINVALID_REQUEST;
    if (strnlen(url_path, STATIC_URL_MAX + 1) > STATIC_URL_MAX)
        return GV_EINVALID_REQUEST;
    int rc = static_url_decode(url_path, decoded, sizeof(decoded));
    if (rc)
        return rc;
    if (!static_utf8_valid((const unsigned char *)decoded))
        return GV_EINVALID_REQUEST;
    if ((rc = static_segments_check(decoded)) != 0)
        return rc;
    int n = snprintf(joined, sizeof(joined), "%.*s%s", (int)root_len, root_real, decoded);
    if (n < 0 || (size_t)n >= sizeof(joined))
        return GV_EINVALID_REQUEST;
    if (!realpath(joined, real))
        return static_realpath_fail(root_real, root_len, joined, errno);
    if (!static_path_under(root_real, root_len, real))
        return GV_ETRAVERSAL;
    size_t len = strlen(real);
    if (len >= out_len)
        return GV_EINVALID_REQUEST;
    memcpy(out, real, len + 1);
    return 0;
}

/* ---- content types, hashed names, negotiation ----------------------------------------------- */

static const struct {
    const char *ext;
    const char *type;
} static_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"webmanifest", "application/manifest+json"},
};

/* The file name part of path. */
static const char *static_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

const char *static_content_type(const char *path)
{
    const char *dot = strrchr(static_basename(path), '.');
    if (dot) {
        for (size_t i = 0; i < sizeof(static_types) / sizeof(static_types[0]); i++)
            if (strcasecmp(dot + 1, static_types[i].ext) == 0)
                return static_types[i].type;
    }
    return "application/octet-stream";
}

/* 1 when s[0..n) is made of hash characters with at least one digit, capital or '_'. */
static int static_hash_run(const char *s, size_t n, int allow_dash)
{
    int strong = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int digit = c >= '0' && c <= '9', upper = c >= 'A' && c <= 'Z';
        if (!digit && !upper && c != '_' && !(c >= 'a' && c <= 'z') && !(allow_dash && c == '-'))
            return 0;
        strong |= digit || upper || c == '_';
    }
    return strong;
}

int static_asset_is_hashed(const char *path)
{
    const char *name = static_basename(path);
    const char *dot = strrchr(name, '.');
    size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
    size_t sep = stem;
    while (sep > 0 && name[sep - 1] != '-' && name[sep - 1] != '.')
        sep--;
    if (sep > 0 && stem - sep >= 8 && static_hash_run(name + sep, stem - sep, 0))
        return 1;
    /* base64url hashes (Vite 5) may contain '-': accept an 8-character tail after a separator */
    return stem >= 9 && (name[stem - 9] == '-' || name[stem - 9] == '.') &&
           static_hash_run(name + stem - 8, 8, 1);
}

static void static_trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t'))
        (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* A qvalue ("0", "0.5", "1.000") in thousandths, or -1 when malformed. */
static int static_qvalue_parse(const char *s, size_t n)
{
    if (n == 0 || (s[0] != '0' && s[0] != '1'))
        return -1;
    int q = (s[0] - '0') * 1000;
    if (n == 1)
        return q;
    if (s[1] != '.' || n > 5)
        return -1;
    int scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        q += (s[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

/* Splits one Accept-Encoding element s[0..n) into its coding name and its q in thousandths
 * (1000 when absent, -1 when malformed). */
static int static_element_q(const char *s, size_t n, const char **name, size_t *name_len)
{
    const char *semi = memchr(s, ';', n);
    *name = s;
    *name_len = semi ? (size_t)(semi - s) : n;
    static_trim(name, name_len);
    int q = 1000;
    while (semi) {
        const char *p = semi + 1;
        size_t rest = n - (size_t)(p - s);
        semi = memchr(p, ';', rest);
        size_t pn = semi ? (size_t)(semi - p) : rest;
        static_trim(&p, &pn);
        if (pn >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
            q = static_qvalue_parse(p + 2, pn - 2);
    }
    return q;
}

static int static_token_is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

int static_gzip_accepted(const char *accept_encoding)
{
    int gzip_q = INT_MAX, star_q = INT_MAX; /* INT_MAX: not listed */
    for (const char *p = accept_encoding; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *name;
        size_t name_len;
        int q = static_element_q(p, n, &name, &name_len);
        /* listed twice: the most restrictive listing wins */
        if (static_token_is(name, name_len, "gzip") || static_token_is(name, name_len, "x-gzip"))
            gzip_q = q < gzip_q ? q : gzip_q;
        else if (static_token_is(name, name_len, "*"))
            star_q = q < star_q ? q : star_q;
        p = comma ? comma + 1 : p + n;
    }
    if (gzip_q != INT_MAX)
        return gzip_q > 0;
    return star_q != INT_MAX && star_q > 0;
}

int static_etag_match(const char *if_none_match, const char *etag)
{
    size_t elen = strlen(etag);
    for (const char *p = if_none_match; p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2; /* If-None-Match compares weakly */
        const char *end = *p == '"' ? strchr(p + 1, '"') : NULL;
        if (!end)
            return 0;
        if ((size_t)(end + 1 - p) == elen && memcmp(p, etag, elen) == 0)
            return 1;
        p = end + 1;
    }
    return 0;
}

/* ---- cache ---------------------------------------------------------------------------------- */

static uint64_t static_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static int64_t static_ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* The entry still describes the file stat'ed as st: same inode, size, mtime and ctime. */
static int static_entry_fresh(const static_entry_t *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtime_ns == static_ts_ns(&st->st_mtim) && e->ctime_ns == static_ts_ns(&st->st_ctim);
}

static static_entry_t *static_cache_find(const static_site_t *s, const char *path, uint64_t h)
{
    for (static_entry_t *e = s->buckets[h % STATIC_BUCKETS]; e; e = e->chain)
        if (e->hash == h && strcmp(e->path, path) == 0)
            return e;
    return NULL;
}

static void static_lru_unlink(static_site_t *s, static_entry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        s->lru_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        s->lru_tail = e->prev;
    e->prev = e->next = NULL;
}

static void static_lru_push(static_site_t *s, static_entry_t *e)
{
    e->prev = NULL;
    e->next = s->lru_head;
    if (s->lru_head)
        s->lru_head->prev = e;
    s->lru_head = e;
    if (!s->lru_tail)
        s->lru_tail = e;
}

static void static_cache_remove(static_site_t *s, static_entry_t *e)
{
    static_entry_t **pp = &s->buckets[e->hash % STATIC_BUCKETS];
    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    static_lru_unlink(s, e);
    s->stats.bytes -= e->cost;
    s->stats.entries--;
    s->stats.evictions++;
    free(e);
}

/* Evicts least recently used entries until at most limit bytes are cached. */
static void static_cache_trim(static_site_t *s, size_t limit)
{
    while (s->stats.bytes > limit && s->lru_tail)
        static_cache_remove(s, s->lru_tail);
}

/* Caches a copy of data as the body of path (stat'ed as st). Best effort: a body too large for
 * the cache, or a failed allocation, is simply not cached. */
static void static_cache_put(static_site_t *s, const char *path, uint64_t h, const struct stat *st,
                             const char *data, size_t len)
{
    size_t plen = strlen(path);
    size_t cost = sizeof(static_entry_t) + plen + 1 + len;
    if (len > STATIC_CACHE_ENTRY_MAX || cost > s->max_bytes)
        return;
    static_cache_trim(s, s->max_bytes - cost);
    static_entry_t *e = malloc(cost);
    if (!e)
        return;
    memcpy(e->path, path, plen + 1);
    e->data = e->path + plen + 1;
    memcpy(e->data, data, len);
    e->len = len;
    e->cost = cost;
    e->hash = h;
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    e->mtime_ns = static_ts_ns(&st->st_mtim);
    e->ctime_ns = static_ts_ns(&st->st_ctim);
    e->chain = s->buckets[h % STATIC_BUCKETS];
    s->buckets[h % STATIC_BUCKETS] = e;
    static_lru_push(s, e);
    s->stats.bytes += cost;
    s->stats.entries++;
}

/* Reads the whole regular file behind fd onto the end of body; *st gets its fstat. */
static int static_fd_read(int fd, struct stat *st, buf_t *body)
{
    if (fstat(fd, st) != 0)
        return GV_EIO;
    if (!S_ISREG(st->st_mode) || (uint64_t)st->st_size > STATIC_FILE_MAX)
        return GV_ENOT_FOUND;
    size_t size = (size_t)st->st_size, start = body->len, got = 0;
    if (buf_reserve(body, size) != 0)
        return GV_ENOMEM;
    while (got < size) {
        ssize_t n = read(fd, body->data + start + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) { /* an error, or the file shrank while being read */
            body->data[start] = '\0';
            return GV_EIO;
        }
        got += (size_t)n;
    }
    body->len = start + size;
    body->data[body->len] = '\0';
    return 0;
}

static int static_file_read(const char *path, struct stat *st, buf_t *body)
{
    /* O_NOFOLLOW: path is already real; O_NONBLOCK: a FIFO swapped in must not block the loop */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno == EMFILE || errno == ENFILE || errno == EIO ? GV_EIO : GV_ENOT_FOUND;
    int rc = static_fd_read(fd, st, body);
    close(fd);
    return rc;
}

/* Appends path's body (just stat'ed as *st) to body: from the cache when the entry is still
 * fresh, else from disk, caching what was read. *st is updated to describe what was read. */
static int static_body_fill(static_site_t *s, const char *path, struct stat *st, buf_t *body)
{
    uint64_t h = static_hash(path);
    static_entry_t *e = static_cache_find(s, path, h);
    if (e && static_entry_fresh(e, st)) {
        s->stats.hits++;
        static_lru_unlink(s, e);
        static_lru_push(s, e);
        return buf_append(body, e->data, e->len);
    }
    if (e)
        static_cache_remove(s, e);
    size_t start = body->len;
    int rc = static_file_read(path, st, body);
    if (rc)
        return rc;
    s->stats.misses++;
    static_cache_put(s, path, h, st, body->data + start, body->len - start);
    return 0;
}

/* ---- site ----------------------------------------------------------------------------------- */

int static_site_new(static_site_t **out, const char *root)
{
    char real[PATH_MAX];
    struct stat st;
    *out = NULL;
    if (!root || !realpath(root, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
        return GV_EIO;
    static_site_t *s = calloc(1, sizeof(*s));
    if (!s)
        return GV_ENOMEM;
    memcpy(s->root, real, strlen(real) + 1);
    s->root_len = static_root_len(s->root);
    s->max_bytes = STATIC_CACHE_MAX;
    *out = s;
    return 0;
}

void static_site_free(static_site_t *s)
{
    if (!s)
        return;
    for (static_entry_t *e = s->lru_head, *next; e; e = next) {
        next = e->next;
        free(e);
    }
    free(s);
}

const char *static_site_root(const static_site_t *s)
{
    return s->root;
}

void static_site_cache_limit_set(static_site_t *s, size_t max_bytes)
{
    s->max_bytes = max_bytes;
    static_cache_trim(s, max_bytes);
}

const static_stats_t *static_site_stats(const static_site_t *s)
{
    return &s->stats;
}

/* ---- handler -------------------------------------------------------------------------------- */

static int static_is_api(const char *url)
{
    return strncmp(url, "/api", 4) == 0 && (url[4] == '\0' || url[4] == '/');
}

/* A client-side route of the single-page app: the last segment has no '.' (not a file name). */
static int static_is_spa_route(const char *url)
{
    return strchr(static_basename(url), '.') == NULL;
}

/* Stats path, a name inside a real directory of the site: a regular file, or a symlink to a
 * regular file under the root (path is then replaced by the target). 0 or GV_ENOT_FOUND. */
static int static_child_stat(const static_site_t *s, char *path, size_t len, struct stat *st)
{
    if (lstat(path, st) != 0)
        return GV_ENOT_FOUND;
    if (S_ISLNK(st->st_mode)) {
        char real[PATH_MAX];
        if (!realpath(path, real) || !static_path_under(s->root, s->root_len, real) ||
            strlen(real) >= len || stat(real, st) != 0)
            return GV_ENOT_FOUND;
        memcpy(path, real, strlen(real) + 1);
    }
    return S_ISREG(st->st_mode) ? 0 : GV_ENOT_FOUND;
}

/* path is real and under the root: a regular file stays, a directory becomes its index.html. */
static int static_file_or_index(const static_site_t *s, char *path, size_t len, struct stat *st)
{
    static const char index[] = "/index.html";
    if (stat(path, st) != 0)
        return GV_ENOT_FOUND;
    if (S_ISDIR(st->st_mode)) {
        size_t n = strlen(path);
        if (n + sizeof(index) > len)
            return GV_ENOT_FOUND;
        memcpy(path + n, index, sizeof(index));
        return static_child_stat(s, path, len, st);
    }
    return S_ISREG(st->st_mode) ? 0 : GV_ENOT_FOUND;
}

/* Finds the file answering url: the file itself, a directory's index, or the SPA's index. */
static int static_target_find(const static_site_t *s, const char *url, char *path, size_t len,
                              struct stat *st)
{
    if (static_is_api(url))
        return GV_ENOT_FOUND;
    int rc = static_path_resolve(s->root, url, path, len);
    if (rc == 0)
        rc = static_file_or_index(s, path, len, st);
    if (rc == GV_ENOT_FOUND && static_is_spa_route(url)) {
        rc = static_path_resolve(s->root, "/index.html", path, len);
        if (rc == 0)
            rc = static_file_or_index(s, path, len, st);
    }
    return rc;
}

static void static_etag_format(const struct stat *st, int gz, char *out, size_t len)
{
    snprintf(out, len, "\"%llx-%llx-%llx%s\"", (unsigned long long)st->st_size,
             (unsigned long long)static_ts_ns(&st->st_mtim), (unsigned long long)st->st_ino,
             gz ? "-gz" : "");
}

static int static_validators_set(http_resp_t *resp, const char *etag, const char *cache_control)
{
    int rc = http_resp_header(resp, "ETag", etag);
    if (!rc)
        rc = http_resp_header(resp, "Cache-Control", cache_control);
    return rc;
}

/* Answers with the file at path (stat'ed as *st), or its .gz sibling when gzip is accepted. */
static int static_file_serve(static_site_t *s, http_req_t *req, http_resp_t *resp, const char *path,
                             struct stat *st)
{
    const char *type = static_content_type(path);
    const char *cache = static_asset_is_hashed(path) ? STATIC_IMMUTABLE : "no-cache";
    char gz_path[PATH_MAX], etag[STATIC_ETAG_LEN];
    struct stat gz_st;
    int gz = 0;
    if (static_gzip_accepted(http_req_header(req, "accept-encoding")) &&
        snprintf(gz_path, sizeof(gz_path), "%s.gz", path) < (int)sizeof(gz_path) &&
        static_child_stat(s, gz_path, sizeof(gz_path), &gz_st) == 0) {
        path = gz_path;
        *st = gz_st;
        gz = 1;
    }
    if ((uint64_t)st->st_size > STATIC_FILE_MAX)
        return GV_ENOT_FOUND;
    static_etag_format(st, gz, etag, sizeof(etag));
    if (static_etag_match(http_req_header(req, "if-none-match"), etag)) {
        resp->status = 304;
        resp->content_type = NULL;
        buf_consume(&resp->body, resp->body.len);
        return static_validators_set(resp, etag, cache);
    }
    int rc = static_body_fill(s, path, st, &resp->body);
    if (rc)
        return rc;
    static_etag_format(st, gz, etag, sizeof(etag)); /* of what was read */
    resp->status = 200;
    resp->content_type = type;
    rc = static_validators_set(resp, etag, cache);
    if (!rc && gz)
        rc = http_resp_header(resp, "Content-Encoding", "gzip");
    return rc;
}

void static_handle(http_req_t *req, http_resp_t *resp, void *ctx)
{
    static_site_t *s = ctx;
    char path[PATH_MAX];
    struct stat st;
    for (size_t i = 0; i < sizeof(static_security_headers) / sizeof(static_security_headers[0]);
         i++)
        http_resp_header(resp, static_security_headers[i][0], static_security_headers[i][1]);
    if (req->method != HTTP_M_GET && req->method != HTTP_M_HEAD) {
        http_resp_header(resp, "Allow", "GET, HEAD");
        http_resp_error(resp, GV_EMETHOD_NOT_ALLOWED, NULL, NULL);
        return;
    }
    int rc = static_target_find(s, req->path, path, sizeof(path), &st);
    if (!rc)
        rc = static_file_serve(s, req, resp, path, &st);
    if (rc == GV_ETRAVERSAL || rc == GV_EINVALID_REQUEST)
        rc = GV_ENOT_FOUND; /* never tell a probe why */
    if (rc)
        http_resp_error(resp, rc, NULL, NULL);
}
