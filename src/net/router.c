/* Router: linear match over segment patterns; patterns are validated when added. */
#include "net/router.h"

#include "core/err.h"

#include <stdio.h>
#include <string.h>

void router_init(router_t *r)
{
    memset(r, 0, sizeof(*r));
}

static int router_pattern_valid(const char *p)
{
    if (p[0] != '/')
        return 0;
    int segs = 0;
    for (const char *s = p + 1; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 && e)
            return 0;
        if (n && s[0] == '{' && (n < 3 || s[n - 1] != '}'))
            return 0;
        if (++segs > ROUTER_MAX_SEGMENTS)
            return 0;
        s += n + (e ? 1 : 0);
    }
    return 1;
}

int router_add(router_t *r, int method, const char *pattern, router_handler_fn fn, void *ctx,
               size_t body_limit)
{
    if (!router_pattern_valid(pattern) || !fn || method == 0 || (method & (method - 1)))
        return GV_EINVALID_REQUEST;
    if (r->n >= ROUTER_MAX_ROUTES)
        return GV_ELIMIT;
    router_route_t *rt = &r->routes[r->n];
    rt->method = method;
    rt->pattern = pattern;
    rt->fn = fn;
    rt->ctx = ctx;
    rt->body_limit = body_limit;
    rt->index = r->n++;
    return 0;
}

/* Matches one pattern against path; fills params on success. */
static int router_pattern_match(const char *pat, const char *path, size_t path_len,
                                router_params_t *params)
{
    const char *pe = path + path_len;
    params->n = 0;
    while (*pat && path < pe) {
        if (*pat != '/' || *path != '/')
            return 0;
        pat++;
        path++;
        const char *pat_end = strchr(pat, '/');
        size_t pn = pat_end ? (size_t)(pat_end - pat) : strlen(pat);
        const char *seg_end = memchr(path, '/', (size_t)(pe - path));
        size_t sn = seg_end ? (size_t)(seg_end - path) : (size_t)(pe - path);
        if (pn && pat[0] == '{') {
            if (sn == 0 || params->n >= ROUTER_MAX_PARAMS)
                return 0;
            int i = params->n++;
            params->names[i] = pat + 1;
            params->name_lens[i] = pn - 2;
            params->values[i] = path;
            params->value_lens[i] = sn;
        } else if (pn != sn || memcmp(pat, path, sn) != 0) {
            return 0;
        }
        pat += pn;
        path += sn;
    }
    return *pat == '\0' && path == pe;
}

int router_match(const router_t *r, int method, const char *path, size_t path_len,
                 const router_route_t **route, router_params_t *params, int *allow)
{
    int mask = 0;
    router_params_t tmp;
    int want = method == HTTP_M_HEAD ? HTTP_M_GET : method;
    *route = NULL;
    for (int i = 0; i < r->n; i++) {
        const router_route_t *rt = &r->routes[i];
        if (!router_pattern_match(rt->pattern, path, path_len, &tmp))
            continue;
        mask |= rt->method;
        if (rt->method != method && rt->method != want)
            continue;
        /* exact method beats GET-for-HEAD; then literal segments beat parameters */
        int better = !*route || (rt->method == method && (*route)->method != method) ||
                     (rt->method == (*route)->method && tmp.n < params->n);
        if (better) {
            *route = rt;
            *params = tmp;
        }
    }
    if (*route)
        return 0;
    if (mask & HTTP_M_GET)
        mask |= HTTP_M_HEAD;
    *allow = mask;
    return mask ? GV_EMETHOD_NOT_ALLOWED : GV_ENOT_FOUND;
}

static const struct {
    const char *name;
    int bit;
} router_methods[] = {
    {"GET", HTTP_M_GET},         {"HEAD", HTTP_M_HEAD},   {"POST", HTTP_M_POST},
    {"PUT", HTTP_M_PUT},         {"PATCH", HTTP_M_PATCH}, {"DELETE", HTTP_M_DELETE},
    {"OPTIONS", HTTP_M_OPTIONS},
};

int router_method_parse(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(router_methods) / sizeof(router_methods[0]); i++)
        if (strlen(router_methods[i].name) == len && memcmp(router_methods[i].name, name, len) == 0)
            return router_methods[i].bit;
    return 0;
}

void router_allow_format(int allow, char *out, size_t n)
{
    size_t used = 0;
    if (n)
        out[0] = '\0';
    for (size_t i = 0; i < sizeof(router_methods) / sizeof(router_methods[0]); i++) {
        if (!(allow & router_methods[i].bit))
            continue;
        int w = snprintf(out + used, n - used, "%s%s", used ? ", " : "", router_methods[i].name);
        if (w < 0 || (size_t)w >= n - used)
            return;
        used += (size_t)w;
    }
}
