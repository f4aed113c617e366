/* Static files of the web app (`gavel serve --web DIR`): traversal-safe path resolution, content
 * types, strong ETags, precompressed .gz variants, cache headers and a small validated cache. */
#ifndef GAVEL_NET_STATIC_H
#define GAVEL_NET_STATIC_H

#include "net/http.h"

#include <stddef.h>
#include <stdint.h>

#define STATIC_URL_MAX 2048                      /* longest raw URL path served */
#define STATIC_FILE_MAX ((size_t)64 << 20)       /* larger files answer 404 */
#define STATIC_CACHE_MAX ((size_t)32 << 20)      /* default cache bound, bytes */
#define STATIC_CACHE_ENTRY_MAX ((size_t)8 << 20) /* larger files are read on every request */

typedef struct static_site_s static_site_t;

typedef struct {
    uint64_t hits;      /* bodies served from memory */
    uint64_t misses;    /* bodies read from disk */
    uint64_t evictions; /* entries dropped for room or found stale */
    size_t entries;
    size_t bytes; /* cached file bytes plus bookkeeping */
} static_stats_t;

/* static_site_new resolves root with realpath (it must be a directory) and allocates a site
 * serving it, with an empty cache bounded by STATIC_CACHE_MAX. The caller owns *out and frees it
 * with static_site_free. Returns 0, GV_EIO (root missing or not a directory) or GV_ENOMEM. */
int static_site_new(static_site_t **out, const char *root);

/* static_site_free releases the site and its cache. NULL is a no-op. */
void static_site_free(static_site_t *s);

/* static_site_root gives the site's real root directory (owned by the site). */
const char *static_site_root(const static_site_t *s);

/* static_site_cache_limit_set bounds the cache to max_bytes (0 disables it), evicting the least
 * recently used entries as needed. */
void static_site_cache_limit_set(static_site_t *s, size_t max_bytes);

/* static_site_stats gives the cache counters (owned by the site). */
const static_stats_t *static_site_stats(const static_site_t *s);

/* static_path_resolve maps url_path (raw, absolute, no query) onto a file under root_real (a
 * realpath'ed directory). It percent-decodes once and refuses NUL, encoded '/', backslashes,
 * control bytes, invalid UTF-8, empty, "." and ".." segments and hidden segments (a leading '.',
 * except ".well-known"); the joined path is realpath'ed and must stay under root_real (symlinks
 * included). On 0, out holds the real path. Returns GV_ENOT_FOUND when nothing exists there,
 * GV_ETRAVERSAL for an escape attempt, GV_EINVALID_REQUEST for a malformed or over-long path,
 * GV_EIO for other file system errors. Touches the file system only through realpath(3). */
int static_path_resolve(const char *root_real, const char *url_path, char *out, size_t out_len);

/* static_content_type gives the Content-Type for path's extension (case-insensitive);
 * "application/octet-stream" when unknown. Returns a string literal. */
const char *static_content_type(const char *path);

/* static_asset_is_hashed returns 1 when path's file name carries a content hash before its
 * extension: a '-' or '.' followed by 8 or more characters of [A-Za-z0-9_] (Vite's base64url
 * hashes may also contain '-': an 8-character tail is accepted then), including at least one
 * digit, upper-case letter or '_' (so "sw-register.js" is not taken for a hash). */
int static_asset_is_hashed(const char *path);

/* static_gzip_accepted returns 1 when an Accept-Encoding value (NULL: absent) allows gzip with a
 * non-zero q-value, directly ("gzip", "x-gzip") or through "*". Malformed q-values refuse. */
int static_gzip_accepted(const char *accept_encoding);

/* static_etag_match returns 1 when an If-None-Match value lists etag (weak comparison) or is
 * "*". */
int static_etag_match(const char *if_none_match, const char *etag);

/* static_handle is the router_handler_fn for the web app; ctx is a static_site_t*. GET and HEAD
 * only (405 otherwise). Serves the file for req->path (a directory's index.html), with
 * precompressed <file>.gz when the client accepts gzip; a missing path whose last segment has no
 * '.' falls back to /index.html (SPA routes) except under /api; anything else is the API's 404
 * JSON. 304 when If-None-Match matches. Every response carries the security headers. */
void static_handle(http_req_t *req, http_resp_t *resp, void *ctx);

#endif
