/* multipart/form-data reading (see multipart.h). */
#include "net/multipart.h"

#include "core/err.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int multipart_boundary(const char *ct, char out[MULTIPART_BOUNDARY_MAX + 1])
{
    static const char type[] = "multipart/form-data";
    if (!ct || strncasecmp(ct, type, sizeof(type) - 1) ||
        (ct[sizeof(type) - 1] != ';' && ct[sizeof(type) - 1] != ' '))
        return GV_EINVALID_REQUEST;
    for (const char *p = ct + sizeof(type) - 1; (p = strchr(p, ';')) != NULL;) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, "boundary=", 9))
            continue;
        p += 9;
        int quoted = *p == '"';
        p += quoted;
        size_t n = quoted ? strcspn(p, "\"") : strcspn(p, "; \t");
        if (n == 0 || n > MULTIPART_BOUNDARY_MAX || (quoted && p[n] != '"'))
            return GV_EINVALID_REQUEST;
        memcpy(out, p, n);
        out[n] = '\0';
        return 0;
    }
    return GV_EINVALID_REQUEST;
}

/* Finds needle (n bytes) in hay[0..len); NULL when absent. */
static const char *mp_find(const char *hay, size_t len, const char *needle, size_t n)
{
    if (n == 0 || len < n)
        return NULL;
    for (const char *p = hay; p + n <= hay + len; p++) {
        p = memchr(p, needle[0], (size_t)(hay + len - p));
        if (!p || p + n > hay + len)
            return NULL;
        if (!memcmp(p, needle, n))
            return p;
    }
    return NULL;
}

/* 1 when the header block [h, h + n) has Content-Disposition: form-data with name="name". */
static int mp_named(const char *h, size_t n, const char *name)
{
    static const char cd[] = "content-disposition:";
    for (const char *line = h; line < h + n;) {
        const char *end = mp_find(line, (size_t)(h + n - line), "\r\n", 2);
        size_t ll = end ? (size_t)(end - line) : (size_t)(h + n - line);
        if (ll > sizeof(cd) - 1 && !strncasecmp(line, cd, sizeof(cd) - 1)) {
            char want[160];
            size_t wl = (size_t)snprintf(want, sizeof(want), "name=\"%s\"", name);
            const char *hit = wl < sizeof(want) ? mp_find(line, ll, want, wl) : NULL;
            /* name= must be its own parameter, not the tail of filename= */
            return hit && hit > line && (hit[-1] == ' ' || hit[-1] == ';');
        }
        line += ll + 2;
    }
    return 0;
}

int multipart_part(const char *body, size_t len, const char *boundary, const char *name,
                   const char **data, size_t *data_len)
{
    char delim[MULTIPART_BOUNDARY_MAX + 5];
    size_t bl = strlen(boundary);
    if (bl == 0 || bl > MULTIPART_BOUNDARY_MAX)
        return GV_EINVALID_REQUEST;
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, bl);
    size_t dl = bl + 4;
    /* the first delimiter may open the body without its CRLF */
    const char *p = len >= dl - 2 && !memcmp(body, delim + 2, dl - 2)
                        ? body + dl - 2
                        : mp_find(body, len, delim, dl);
    if (!p)
        return GV_EINVALID_REQUEST;
    if (p != body + dl - 2)
        p += dl;
    for (;;) {
        size_t left = (size_t)(body + len - p);
        if (left >= 2 && !memcmp(p, "--", 2))
            return GV_ENOT_FOUND; /* the closing delimiter */
        if (left < 2 || memcmp(p, "\r\n", 2))
            return GV_EINVALID_REQUEST;
        p += 2, left -= 2;
        const char *hend = mp_find(p, left, "\r\n\r\n", 4);
        const char *next = mp_find(p, left, delim, dl);
        /* the content lies between the header block's CRLFCRLF and the next delimiter; a
         * delimiter that overlaps the header's end leaves no room for it */
        if (!hend || !next || next < hend + 4)
            return GV_EINVALID_REQUEST;
        if (mp_named(p, (size_t)(hend - p), name)) {
            *data = hend + 4;
            *data_len = (size_t)(next - (hend + 4));
            return 0;
        }
        p = next + dl;
    }
}
