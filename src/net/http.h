/* HTTP/1.1 server on libuv + llhttp: connections, limits, timeouts, pipelining in order, CORS,
 * request ids, access log, and the hand-over of upgraded connections to the WebSocket layer. */
#ifndef GAVEL_NET_HTTP_H
#define GAVEL_NET_HTTP_H

#include "core/buf.h"
#include "net/router.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct http_server_s http_server_t;
typedef struct http_conn_s http_conn_t;

typedef struct {
    const char *name;  /* lower-cased, arena-owned */
    const char *value; /* trimmed, arena-owned */
} http_header_t;

typedef struct http_req_s {
    arena_t arena;           /* owns every string of the request; freed after the response */
    int method;              /* HTTP_M_* bit, 0 for a method the server does not know */
    const char *method_name; /* "GET", ... */
    const char *target;      /* raw request target */
    const char *path;        /* target up to '?' (not decoded) */
    const char *query;       /* after '?', "" when absent */
    http_header_t *headers;
    size_t nheaders;
    size_t headers_cap;
    buf_t body;        /* kept only for routes that take a body */
    size_t body_bytes; /* received so far, kept or discarded */
    char request_id[72];
    char client_ip[64];
    const router_route_t *route; /* NULL when unmatched */
    router_params_t params;
    int keep_alive;
    int64_t start_us;
    http_conn_t *conn;
    void *user; /* for the API layer: the authenticated principal, per request */
} http_req_t;

typedef struct http_resp_s {
    int status;
    const char *content_type; /* static string; NULL for no body type */
    buf_t headers;            /* extra header lines, each "Name: value\r\n" */
    buf_t body;
    int close;    /* close the connection after this response */
    int deferred; /* set by http_resp_defer; the handler finishes later */
    int head;     /* a HEAD request: headers only */
    int error;    /* the GV_E* code of http_resp_error; 0 for a body set otherwise */
} http_resp_t;

typedef struct {
    size_t max_header_bytes;    /* request line + headers; over → 431 */
    size_t max_connections;     /* HTTP + WebSocket; over → 503 and close */
    uint64_t header_timeout_ms; /* first byte of a request → end of its headers */
    uint64_t idle_timeout_ms;   /* keep-alive idle and body inactivity */
    size_t max_pipeline_bytes;  /* unparsed input held while a response is pending */
    int trust_proxy;            /* take the client IP from X-Forwarded-For's last hop */
    int cors_dev;               /* allow http://localhost:* and http://127.0.0.1:* */
    const char *cors_origins;   /* comma-separated exact origins, or NULL */
    int access_log;             /* one log line per request */
    uint64_t read_budget_ns;    /* reading, WebSockets too, stops for the turn after this (ns) */
} http_limits_t;

/* The WebSocket layer's entry: called for a request whose headers ask to upgrade. It validates
 * the handshake and either takes the connection (returns 0; the HTTP layer then forgets the
 * socket) or returns an error code: GV_ENOT_FOUND lets the request be routed as usual; for
 * others the HTTP layer answers with resp when the callee filled its body, else with the code's
 * error body. `rest` is input after the request. */
typedef int (*http_upgrade_fn)(http_conn_t *conn, http_req_t *req, http_resp_t *resp,
                               const char *rest, size_t rest_len, void *ctx);

/* Statistics the server keeps for /metrics. */
typedef struct {
    uint64_t accepted;
    uint64_t refused;
    uint64_t open_http;
    uint64_t open_ws;
    uint64_t parse_errors;
    uint64_t timeouts;
    uint64_t ws_cutoffs;  /* WebSockets closed with 1008 at the output cap */
    uint64_t http_writes; /* socket writes (uv_try_write, uv_write) of HTTP responses */
    uint64_t ws_writes;   /* socket writes of WebSocket output (one per batch of a loop turn) */
    uint64_t http_reads_put_off; /* reads put off to a later loop turn (read_budget.h) */
    uint64_t ws_reads_put_off;
} http_stats_t;

/* Called once per finished response with its route (NULL: unmatched), status and duration. */
typedef void (*http_observe_fn)(void *ctx, const router_route_t *route, int status,
                                int64_t duration_us);

/* Called once per finished response with a status of 500 or more, with its request and response
 * (both borrowed for the call): the hook of error reports. */
typedef void (*http_error_fn)(void *ctx, const http_req_t *req, const http_resp_t *resp);

void http_limits_defaults(http_limits_t *l);

/* http_server_new allocates a server on loop that dispatches through router (borrowed; must
 * outlive the server). Returns NULL when out of memory. */
http_server_t *http_server_new(uv_loop_t *loop, const router_t *router, const http_limits_t *lim);

/* http_server_set_upgrade installs the WebSocket hand-over (see http_upgrade_fn). */
void http_server_set_upgrade(http_server_t *s, http_upgrade_fn fn, void *ctx);

/* http_server_set_observer installs the per-response metrics callback. */
void http_server_set_observer(http_server_t *s, http_observe_fn fn, void *ctx);

/* http_server_set_error_observer installs the callback of 5xx responses (see http_error_fn). */
void http_server_set_error_observer(http_server_t *s, http_error_fn fn, void *ctx);

/* http_server_listen binds host:port (port 0 picks one) and starts accepting; the bound port is
 * stored in *bound_port. Returns 0 or a GV_E* code. */
int http_server_listen(http_server_t *s, const char *host, int port, int *bound_port);

/* http_server_adopt serves an already connected stream socket fd (tests, fuzzing, socket
 * activation); the server takes ownership of fd. 0 or GV_E*. */
int http_server_adopt(http_server_t *s, uv_os_sock_t fd);

/* http_server_shutdown stops accepting and closes idle connections; busy ones close after their
 * current response. `done` runs, from a later loop phase (never inside this call), once every
 * HTTP connection is gone and the server's own handles are closed (WebSockets are the WS layer's
 * to close). */
void http_server_shutdown(http_server_t *s, void (*done)(http_server_t *s, void *ctx), void *ctx);

/* http_server_free releases the server after shutdown completed (its done ran), or when the
 * loop will not run again. NULL is a no-op. */
void http_server_free(http_server_t *s);

/* The loop the server runs on. */
uv_loop_t *http_server_loop(const http_server_t *s);

/* http_server_read_budget_spent: whether the loop turn's read budget (read_budget.h; the limits'
 * read_budget_ns) is spent, for the alloc callback of a connection this server accepted, the
 * WebSocket ones included: one budget for every socket of the loop. When it is, *put_off (may be
 * NULL) counts one read put off. */
int http_server_read_budget_spent(http_server_t *s, uint64_t *put_off);

const http_stats_t *http_server_stats(const http_server_t *s);
http_stats_t *http_server_stats_mut(http_server_t *s);
const http_limits_t *http_server_limits(const http_server_t *s);

/* http_req_header returns the value of the first header called name (lower case), or NULL. */
const char *http_req_header(const http_req_t *req, const char *name);

/* http_req_query finds the query parameter name and percent-decodes its value into out (size
 * n; '+' is a space). Returns 1 when found, 0 when absent, GV_EINVALID_REQUEST for a bad escape,
 * an embedded NUL or a value too long for out. Keys are matched as sent (not decoded). */
int http_req_query(const http_req_t *req, const char *name, char *out, size_t n);

/* http_req_param returns the path parameter called name, or NULL. */
const char *http_req_param(const http_req_t *req, const char *name);

/* http_resp_header appends "name: value" to the response's headers; 0 or GV_ENOMEM. Values
 * containing CR or LF are refused with GV_EINVALID_REQUEST. */
int http_resp_header(http_resp_t *resp, const char *name, const char *value);

/* http_resp_json sets status, the JSON content type and takes body text (copied). */
int http_resp_json(http_resp_t *resp, int status, const char *json, size_t len);

/* http_resp_error fills the API error body for code (a GV_E* value) with an optional message
 * override (NULL: the table's) and optional details object text (NULL: none). */
int http_resp_error(http_resp_t *resp, int code, const char *message, const char *details_json);

/* http_resp_defer marks the response as finished later by http_resp_finish (the request and
 * connection stay alive until then, even if the peer goes away). */
void http_resp_defer(http_resp_t *resp);

/* http_resp_finish sends a deferred response. */
void http_resp_finish(http_resp_t *resp);

/* The stream of a connection (for the WebSocket layer after it takes over). */
uv_tcp_t *http_conn_stream(http_conn_t *c);

/* The server a connection belongs to. */
http_server_t *http_conn_server(http_conn_t *c);

/* http_conn_detach hands the socket to the caller: the HTTP layer stops reading, cancels its
 * timers and frees its own state without closing the socket. The caller owns the uv_tcp_t,
 * which was allocated with malloc and must be closed with uv_close and then freed. */
uv_tcp_t *http_conn_detach(http_conn_t *c);

/* http_status_text gives the reason phrase of a status ("OK", "Not Found", ...). */
const char *http_status_text(int status);

#endif
