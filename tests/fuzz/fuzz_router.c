/* libFuzzer target: router_match on arbitrary method and path bytes. Checks that a match's
 * parameters are non-empty, lie inside the path and hold no '/', and that the answer is one of
 * the three documented outcomes. Input: method bytes, one NUL, then the path. */
#include "core/err.h"
#include "net/router.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static router_t fz_router;

static void fz_noop(struct http_req_s *req, struct http_resp_s *resp, void *ctx)
{
    (void)req;
    (void)resp;
    (void)ctx;
}

static const struct {
    int method;
    const char *pattern;
} fz_routes[] = {
    {HTTP_M_GET, "/"},
    {HTTP_M_GET, "/api/health"},
    {HTTP_M_GET, "/api/things"},
    {HTTP_M_POST, "/api/things"},
    {HTTP_M_GET, "/api/things/{id}"},
    {HTTP_M_PATCH, "/api/things/{id}"},
    {HTTP_M_DELETE, "/api/things/{id}"},
    {HTTP_M_GET, "/api/things/{id}/parts/{part}"},
    {HTTP_M_PUT, "/api/things/{id}/parts/{part}"},
    {HTTP_M_POST, "/api/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}"},
    {HTTP_M_OPTIONS, "/api/x/"},
    {HTTP_M_GET, "/ws"},
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    router_init(&fz_router);
    for (size_t i = 0; i < sizeof(fz_routes) / sizeof(fz_routes[0]); i++)
        if (router_add(&fz_router, fz_routes[i].method, fz_routes[i].pattern, fz_noop, NULL, 0))
            abort();
    return 0;
}

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t mlen = nul ? (size_t)(nul - data) : 0;
    size_t off = nul ? mlen + 1 : 0;
    size_t plen = size - off;
    /* Copies so ASan sees reads past either buffer's end. */
    char *method = malloc(mlen ? mlen : 1);
    char *path = malloc(plen ? plen : 1);
    if (!method || !path)
        abort();
    memcpy(method, data, mlen);
    memcpy(path, data + off, plen);
    int m = router_method_parse(method, mlen);
    if (!nul)
        m = HTTP_M_GET;
    const router_route_t *route = (const router_route_t *)1;
    router_params_t params;
    int allow = -1;
    int rc = router_match(&fz_router, m, path, plen, &route, &params, &allow);
    if (rc == 0) {
        if (!route || (route->method != m && !(m == HTTP_M_HEAD && route->method == HTTP_M_GET)))
            abort();
        fz_check_params(&params, path, plen);
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
    free(method);
    free(path);
    return 0;
}
