/* Frame-header scanning of incoming WebSocket bytes (see ws_scan.h). */
#include "net/ws_scan.h"

#include <string.h>

void ws_scan_init(ws_scan_t *s)
{
    memset(s, 0, sizeof(*s));
}

/* The header's full length once its first two bytes are known. */
static size_t scan_header_len(const uint8_t *h)
{
    size_t len7 = h[1] & 0x7F;
    size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    return 2 + ext + ((h[1] & 0x80) ? 4 : 0);
}

static uint64_t scan_payload_len(const uint8_t *h)
{
    uint64_t len = h[1] & 0x7F;
    if (len == 126)
        return (uint64_t)h[2] << 8 | h[3];
    if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | h[2 + i];
    }
    return len;
}

/* Judges a complete header and sets up the skip over its payload. */
static int scan_header_done(ws_scan_t *s, uint64_t max_message)
{
    const uint8_t *h = s->hdr;
    int fin = h[0] & 0x80, opcode = h[0] & 0x0F;
    uint64_t len = scan_payload_len(h);
    s->hdr_len = 0;
    if (len >> 63)
        return WS_SCAN_PROTOCOL;
    s->skip = len;
    if (opcode >= 0x8)
        return WS_SCAN_OK; /* control frames: wslay checks their own rules */
    if (opcode != 0x0)
        s->msg_declared = 0; /* a new data message */
    if (len > max_message - s->msg_declared)
        return WS_SCAN_TOO_BIG;
    s->msg_declared = fin ? 0 : s->msg_declared + len;
    return WS_SCAN_OK;
}

int ws_scan_feed(ws_scan_t *s, const uint8_t *data, size_t len, uint64_t max_message)
{
    while (!s->refused && len > 0) {
        if (s->skip > 0) {
            size_t n = s->skip < len ? (size_t)s->skip : len;
            s->skip -= n, data += n, len -= n;
            continue;
        }
        s->hdr[s->hdr_len++] = *data++, len--;
        if (s->hdr_len >= 2 && s->hdr_len == scan_header_len(s->hdr))
            s->refused = scan_header_done(s, max_message);
    }
    return s->refused;
}
