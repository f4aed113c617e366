/* WebSocket server (RFC 6455) on top of the HTTP server: handshake, wslay framing, limits,
 * heartbeats, output caps and shared reference-counted outgoing frames. */
#ifndef GAVEL_NET_WS_H
#define GAVEL_NET_WS_H

#include "net/http.h"

#include <stdint.h>

typedef struct ws_server_s ws_server_t;
typedef struct ws_conn_s ws_conn_t;

typedef struct {
    uint64_t ping_interval_ms; /* server pings this often */
    uint64_t idle_timeout_ms;  /* closed when nothing was received for this long */
    uint64_t auth_timeout_ms;  /* closed with 4401 when not authenticated by then */
    size_t max_message;        /* bytes; larger messages close with 1009 */
    size_t max_output;         /* unsent bytes; more closes with 1008 */
} ws_limits_t;

typedef struct {
    /* A complete, UTF-8-valid text message. */
    void (*on_message)(ws_conn_t *c, const char *text, size_t len, void *ctx);
    /* The connection is going away (called once, before it is freed). */
    void (*on_close)(ws_conn_t *c, void *ctx);
} ws_handlers_t;

/* A serialized frame shared by many connections (one event to a whole room). */
typedef struct ws_frame_s ws_frame_t;

void ws_limits_defaults(ws_limits_t *l);

/* ws_server_new makes the WebSocket layer of http (borrowed) and installs itself as its upgrade
 * handler for GET /ws. handlers and ctx are borrowed. NULL when out of memory. */
ws_server_t *ws_server_new(http_server_t *http, const ws_limits_t *lim, const ws_handlers_t *h,
                           void *ctx);

/* ws_server_shutdown closes every connection with 1001; done runs, from a later loop phase (never
 * inside this call), when all are gone and the server's own handle is closed. */
void ws_server_shutdown(ws_server_t *s, void (*done)(ws_server_t *s, void *ctx), void *ctx);

/* ws_server_free releases the server after shutdown completed (its done ran), or when the loop
 * will not run again. NULL is a no-op. */
void ws_server_free(ws_server_t *s);

/* ws_frame_text builds an unmasked text frame holding len bytes of text (refcount 1). */
ws_frame_t *ws_frame_text(const char *text, size_t len);
void ws_frame_ref(ws_frame_t *f);

/* ws_frame_bytes gives the frame's wire bytes (header + payload) and their count. */
const char *ws_frame_bytes(const ws_frame_t *f, size_t *len);
void ws_frame_unref(ws_frame_t *f);

/* ws_conn_send_frame queues f on c (taking its own reference). What is queued on a connection
 * during one loop turn goes out in one write before the loop next waits for I/O (after the check
 * callbacks), in order. A connection whose unsent output would pass the cap once this turn's
 * batch is written is closed with 1008 instead. Returns 0 or a GV_E* code. */
int ws_conn_send_frame(ws_conn_t *c, ws_frame_t *f);

/* ws_conn_send_text sends one text message (copied). 0 or GV_E*. */
int ws_conn_send_text(ws_conn_t *c, const char *text, size_t len);

/* ws_conn_ref / ws_conn_unref keep c's memory alive across an asynchronous step (a commit):
 * sending on a connection that closed meanwhile fails harmlessly with GV_EIO. */
void ws_conn_ref(ws_conn_t *c);
void ws_conn_release(ws_conn_t *c);

/* ws_conn_is_open: 0 once the connection is closing or closed. */
int ws_conn_is_open(const ws_conn_t *c);

/* ws_conn_close starts the close handshake with code and a short reason. */
void ws_conn_close(ws_conn_t *c, uint16_t code, const char *reason);

/* Marks c authenticated until expires_in_ms from now (its token's expiry): then it is closed with
 * 4401 unless this is called again with a later expiry. */
void ws_conn_set_authenticated(ws_conn_t *c, int yes, uint64_t expires_in_ms);
int ws_conn_authenticated(const ws_conn_t *c);

/* Per-connection application data (borrowed pointer kept for the caller). */
void ws_conn_set_user(ws_conn_t *c, void *user);
void *ws_conn_user(const ws_conn_t *c);
const char *ws_conn_client_ip(const ws_conn_t *c);
const char *ws_conn_request_id(const ws_conn_t *c);

/* ws_http_get answers a plain GET /ws (no upgrade headers) with 426; register it as the route's
 * handler so the path is known to the router. */
void ws_http_get(http_req_t *req, http_resp_t *resp, void *ctx);

/* ws_accept_key computes Sec-WebSocket-Accept for a client key into out (29 bytes with NUL).
 * Returns 0, or GV_EINVALID_REQUEST when key is not base64 of 16 bytes. */
int ws_accept_key(const char *key, char out[29]);

/* ws_handshake_check validates an upgrade request: GET, HTTP/1.1 headers Upgrade: websocket,
 * Connection: upgrade, Sec-WebSocket-Version: 13 and a valid key. 0 or GV_EINVALID_REQUEST. */
int ws_handshake_check(const http_req_t *req);

#endif
