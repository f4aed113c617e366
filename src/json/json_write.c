/* JSON text written directly: string escaping and numbers. */
#include "json/json_write.h"

#include "core/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int jw_str(buf_t *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    /* worst case: every byte a \u00XX escape, plus the quotes */
    if (buf_reserve(b, strlen(s) * 6 + 2) != 0)
        return GV_ENOMEM;
    char *o = b->data + b->len;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else if (c < 0x20) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

int jw_key(buf_t *b, const char *key)
{
    int rc = jw_str(b, key);
    return rc ? rc : buf_append(b, ":", 1);
}

int jw_int(buf_t *b, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRId64, v);
    return buf_append(b, num, (size_t)n);
}
