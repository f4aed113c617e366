/* Query-string access: finds a parameter and percent-decodes its value ('+' is a space). */
#include "net/http.h"

#include "core/err.h"
#include "core/hex.h"

#include <string.h>

/* Decodes s[0..len) into out (size n). 0 or GV_EINVALID_REQUEST. */
static int query_decode(const char *s, size_t len, char *out, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len || hex_value((unsigned char)s[i + 1]) < 0 ||
                hex_value((unsigned char)s[i + 2]) < 0)
                return GV_EINVALID_REQUEST;
            c = (char)(hex_value((unsigned char)s[i + 1]) * 16 +
                       hex_value((unsigned char)s[i + 2]));
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == '\0' || j + 1 >= n)
            return GV_EINVALID_REQUEST;
        out[j++] = c;
    }
    out[j] = '\0';
    return 0;
}

int http_req_query(const http_req_t *req, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = req->query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t kl = eq ? (size_t)(eq - p) : len;
        if (kl == nl && memcmp(p, name, nl) == 0) {
            const char *v = eq ? eq + 1 : p + len;
            int rc = query_decode(v, (size_t)(p + len - v), out, n);
            return rc ? rc : 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}
