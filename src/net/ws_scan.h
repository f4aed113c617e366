/* A WebSocket frame-header scanner for incoming bytes: it follows the frame boundaries of the
 * stream (before wslay reads it) so that a length over the message limit is refused as soon as
 * a header declares it, without waiting for or buffering the payload. Pure: no I/O. */
#ifndef GAVEL_NET_WS_SCAN_H
#define GAVEL_NET_WS_SCAN_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t hdr[14];       /* the header being read */
    size_t hdr_len;        /* bytes of it held */
    uint64_t skip;         /* payload bytes of the current frame still to pass */
    uint64_t msg_declared; /* payload declared so far by the current data message's frames */
    int refused;           /* a WS_SCAN_* verdict was given: the stream is not followed further */
} ws_scan_t;

enum {
    WS_SCAN_OK = 0,
    WS_SCAN_TOO_BIG = 1009, /* a data message declares more than the limit (close 1009) */
    WS_SCAN_PROTOCOL = 1002 /* a length that RFC 6455 forbids (the top bit set) */
};

/* ws_scan_init starts at a frame boundary. */
void ws_scan_init(ws_scan_t *s);

/* ws_scan_feed follows len more bytes of the stream; max_message is the limit on one data
 * message's payload (all its fragments). Returns WS_SCAN_OK, or a close code once a header
 * breaks the limit or the protocol (and the same code for every later call). */
int ws_scan_feed(ws_scan_t *s, const uint8_t *data, size_t len, uint64_t max_message);

#endif
