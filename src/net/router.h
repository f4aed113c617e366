/* Request router: method + path patterns with `{name}` parameters. Pure, no I/O. */
#ifndef GAVEL_NET_ROUTER_H
#define GAVEL_NET_ROUTER_H

#include <stddef.h>

enum {
    HTTP_M_GET = 1 << 0,
    HTTP_M_HEAD = 1 << 1,
    HTTP_M_POST = 1 << 2,
    HTTP_M_PUT = 1 << 3,
    HTTP_M_PATCH = 1 << 4,
    HTTP_M_DELETE = 1 << 5,
    HTTP_M_OPTIONS = 1 << 6,
};

#define ROUTER_MAX_PARAMS 8
#define ROUTER_MAX_SEGMENTS 16
#define ROUTER_MAX_ROUTES 256

struct http_req_s;
struct http_resp_s;

/* A handler answers req through resp (or defers it). ctx is the route's registration context. */
typedef void (*router_handler_fn)(struct http_req_s *req, struct http_resp_s *resp, void *ctx);

typedef struct {
    int method;          /* one HTTP_M_* bit */
    const char *pattern; /* "/api/leagues/{id}"; borrowed, static */
    router_handler_fn fn;
    void *ctx;
    size_t body_limit; /* bytes; 0 = the route takes no body (one sent is read and ignored) */
    int index;         /* position in the router, for per-route metrics */
} router_route_t;

typedef struct {
    int n;
    const char *names[ROUTER_MAX_PARAMS]; /* borrowed from the pattern */
    size_t name_lens[ROUTER_MAX_PARAMS];
    const char *values[ROUTER_MAX_PARAMS]; /* point into the matched path */
    size_t value_lens[ROUTER_MAX_PARAMS];
} router_params_t;

typedef struct {
    router_route_t routes[ROUTER_MAX_ROUTES];
    int n;
    router_handler_fn fallback; /* GET/HEAD requests no route matches (static files); may be NULL */
    void *fallback_ctx;
    size_t fallback_prefix_len;
} router_t;

void router_init(router_t *r);

/* router_add registers method+pattern. Patterns start with '/', segments are literals or
 * `{name}`. Returns 0, GV_EINVALID_REQUEST for a bad pattern or GV_ELIMIT when full. */
int router_add(router_t *r, int method, const char *pattern, router_handler_fn fn, void *ctx,
               size_t body_limit);

/* router_match finds the route for method and path (no query). On success returns 0, sets
 * *route and fills params. Returns GV_ENOT_FOUND when no pattern matches the path, or
 * GV_EMETHOD_NOT_ALLOWED with *allow set to the methods the path has (HEAD implied by GET). */
int router_match(const router_t *r, int method, const char *path, size_t path_len,
                 const router_route_t **route, router_params_t *params, int *allow);

/* router_method_parse maps a method name to its HTTP_M_* bit (0 when unknown). */
int router_method_parse(const char *name, size_t len);

/* router_allow_format writes "GET, HEAD, POST" for an allow mask into out (size n). */
void router_allow_format(int allow, char *out, size_t n);

#endif
