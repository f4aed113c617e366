/* libFuzzer target: multipart/form-data reading on arbitrary bytes. The first line of the input
 * is the Content-Type, the rest the body. Checks: a found part lies inside the body; the same
 * body wrapped by this target in a well-formed envelope is found again, byte for byte. */
#include "core/err.h"
#include "net/multipart.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    size_t tl = nl ? (size_t)(nl - (const char *)data) : size;
    char *ct = malloc(tl + 1), boundary[MULTIPART_BOUNDARY_MAX + 1];
    if (!ct)
        abort();
    memcpy(ct, data, tl);
    ct[tl] = '\0';
    const char *body = nl ? nl + 1 : (const char *)data + size;
    size_t len = (size_t)((const char *)data + size - body);
    char *copy = malloc(len ? len : 1); /* exactly len bytes: reads past are caught */
    if (!copy)
        abort();
    memcpy(copy, body, len);
    const char *part;
    size_t plen;
    if (strlen(ct) == tl && multipart_boundary(ct, boundary) == 0 &&
        multipart_part(copy, len, boundary, "file", &part, &plen) == 0 &&
        (part < copy || part + plen > copy + len))
        abort();
    /* round trip: content that cannot contain a delimiter comes back exactly */
    const char *b = "fZbOuNdArY";
    char delim[32];
    snprintf(delim, sizeof(delim), "\r\n--%s", b);
    /* (content that starts with "--boundary" would meet the header's final CRLF: a delimiter) */
    if (!memmem(copy, len, delim, strlen(delim)) &&
        !(len >= strlen(delim) - 2 && !memcmp(copy, delim + 2, strlen(delim) - 2))) {
        size_t cap = len + 200;
        char *env = malloc(cap);
        if (!env)
            abort();
        int h =
            snprintf(env, cap, "--%s\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n", b);
        memcpy(env + h, copy, len);
        int t = snprintf(env + h + len, cap - h - len, "\r\n--%s--\r\n", b);
        if (multipart_part(env, (size_t)h + len + (size_t)t, b, "file", &part, &plen) != 0 ||
            plen != len || memcmp(part, copy, len) != 0)
            abort();
        free(env);
    }
    free(copy);
    free(ct);
    return 0;
}
