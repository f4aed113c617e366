/* base64url (RFC 4648 §5) without padding, decoded strictly so each byte string has exactly one
 * accepted text form, and lower-case hex. Pure functions, no allocation. */
#include "core/b64.h"

#include <stdint.h>

#include "core/err.h"

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* b64url_value maps one text byte to its 6-bit value, or -1 when it is not in the alphabet. */
static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

size_t b64url_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
    if (n / 3 >= (SIZE_MAX - 8) / 4)
        return 0;
    size_t need = n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
    if (!out || cap < need + 1)
        return 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = b64url_alphabet[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = b64url_alphabet[v & 63];
    }
    out[o] = '\0';
    return o;
}

/* b64url_check validates every byte and the unused trailing bits without writing anything. */
static int b64url_check(const char *in, size_t n)
{
    if (n % 4 == 1)
        return GV_EINVALID_REQUEST;
    for (size_t i = 0; i < n; i++) {
        if (b64url_value((unsigned char)in[i]) < 0)
            return GV_EINVALID_REQUEST;
    }
    if (n % 4 == 0)
        return 0;
    /* The last character carries 4 (two chars) or 2 (three chars) bits that must be zero. */
    int last = b64url_value((unsigned char)in[n - 1]);
    int unused_mask = n % 4 == 2 ? 0x0f : 0x03;
    return (last & unused_mask) ? GV_EINVALID_REQUEST : 0;
}

int b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *out_len)
{
    if ((!in && n) || !out_len)
        return GV_EINVALID_REQUEST;
    int rc = b64url_check(in, n);
    if (rc)
        return rc;
    size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (need > cap || (!out && need))
        return GV_ELIMIT;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 6) | (uint32_t)b64url_value((unsigned char)in[i]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    *out_len = o;
    return 0;
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}
