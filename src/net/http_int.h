/* Internals shared by the HTTP server's files (connection state and response serialization). */
#ifndef GAVEL_NET_HTTP_INT_H
#define GAVEL_NET_HTTP_INT_H

#include "net/http.h"
#include "net/out_batch.h"
#include "net/read_budget.h"

#include <llhttp.h>

typedef enum {
    CONN_IDLE = 0, /* between requests */
    CONN_HEADERS,  /* reading a request line and headers */
    CONN_BODY,     /* reading a body */
    CONN_HANDLING, /* the request is with its handler */
} conn_state_t;

struct http_conn_s {
    http_server_t *srv;
    uv_tcp_t *tcp; /* malloc'ed; freed in its close callback unless detached */
    uv_timer_t timer;
    uv_shutdown_t shutdown_req;
    llhttp_t parser;
    buf_t in;    /* received, not yet parsed */
    buf_t field; /* header name being received */
    buf_t value; /* header value being received */
    buf_t url;
    http_req_t *req; /* the request being parsed or handled; owned */
    http_resp_t resp;
    conn_state_t state;
    size_t header_bytes;
    int err;         /* GV_E* found by a parser callback */
    int allow;       /* methods the path has when the method did not match */
    int refs;        /* open handles + a deferred response */
    int closing;     /* handles are being closed */
    int close_after; /* close once the pending writes are done */
    int lingering;   /* FIN sent: discard input until EOF or the linger timer */
    int reading;     /* uv_read_start active */
    int put_off;     /* the turn's read budget was spent: the next UV_ENOBUFS is not an error */
    int in_process;  /* inside conn_process (no re-entry) */
    int dispatching; /* inside a handler call */
    out_batch_t out; /* responses queued this loop turn, and the writes in flight */
    int detached;    /* socket handed to the WebSocket layer */
    int refused;     /* over the connection limit: answered 503, not counted */
    char peer_ip[64];
    http_conn_t *prev, *next; /* server's connection list */
};

struct http_server_s {
    uv_loop_t *loop;
    uv_tcp_t listener;
    int listening;
    const router_t *router;
    http_limits_t lim;
    http_stats_t stats;
    http_upgrade_fn upgrade;
    void *upgrade_ctx;
    http_observe_fn observe;
    void *observe_ctx;
    http_error_fn on_error;
    void *on_error_ctx;
    http_conn_t *conns;
    out_flusher_t flush; /* writes the connections' responses of a turn before the poll */
    read_budget_t reads; /* how long the connections' input is read in one turn */
    int shutting_down;
    void (*done)(http_server_t *s, void *ctx);
    void *done_ctx;
    uint64_t rid_counter;
    char rid_prefix[20];
    char date[40];
    uint64_t date_sec;
};

/* Serializes resp for req into one allocation and writes it on c. 0 or GV_E*. */
int http_conn_write_response(http_conn_t *c, http_req_t *req, http_resp_t *resp);

/* Queues data on c, taking ownership of it (malloc'ed; freed after the write). What is queued on
 * a connection during one loop turn goes out in one write before the loop next waits for I/O.
 * 0 or GV_E*. */
int http_conn_write_owned(http_conn_t *c, char *data, size_t len);

/* Queues raw bytes on c (copied), like http_conn_write_owned. 0 or GV_E*. */
int http_conn_write_raw(http_conn_t *c, const char *data, size_t len);

/* cors_origin_allowed: 1 when origin may use the API under lim's CORS settings. */
int http_cors_origin_allowed(const http_limits_t *lim, const char *origin);

/* Appends CORS response headers for req (when its Origin is allowed) to out. */
int http_cors_headers(const http_limits_t *lim, const http_req_t *req, buf_t *out);

/* Answers a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method). */
void http_cors_preflight(const http_limits_t *lim, http_req_t *req, http_resp_t *resp);

void http_resp_init(http_resp_t *resp);
void http_resp_deinit(http_resp_t *resp);

#endif
