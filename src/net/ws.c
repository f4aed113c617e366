/* WebSocket connections: wslay parses frames and runs the control protocol; outgoing data frames
 * are built once and shared by reference between connections. */
#include "net/ws.h"

#include "core/err.h"
#include "core/utf8.h"
#include "net/out_batch.h"
#include "net/ws_scan.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wslay/wslay.h>

#define WS_CLOSE_GRACE_MS 2000 /* after our close frame: without write progress, give up */
#define WS_CLOSE_MAX_MS 20000  /* after our close frame: give up whatever the progress */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
/* Output queued during a loop turn goes out in one write at its end, or sooner once a batch is
 * this large (bounds the iovec and what waits). */
#define WS_BATCH_BUFS 64
#define WS_BATCH_BYTES (64 * 1024)

struct ws_frame_s {
    int refs;
    size_t len;
    char data[];
};

#define WS_READ_CHUNK 16384 /* bytes asked of one read */

struct ws_server_s {
    http_server_t *http;
    out_flusher_t flush; /* writes the connections' output of a turn before the poll */
    uint64_t *put_off;   /* counts reads put off by the loop's read budget (the HTTP server's) */
    ws_limits_t lim;
    ws_handlers_t h;
    void *ctx;
    ws_conn_t *conns;
    size_t live; /* allocated connections, closing ones included */
    int shutting_down;
    void (*done)(ws_server_t *s, void *ctx);
    void *done_ctx;
    char rbuf[WS_READ_CHUNK]; /* where every connection with nothing buffered reads into */
};

struct ws_conn_s {
    ws_server_t *srv;
    uv_tcp_t *tcp;
    uv_timer_t heartbeat; /* pings and the silence check */
    uv_timer_t deadline;  /* the auth deadline, then the close grace period */
    wslay_event_context_ptr wslay;
    buf_t in;       /* received bytes not yet taken by wslay */
    ws_scan_t scan; /* frame boundaries of the input, ahead of wslay */
    size_t in_off;
    buf_t wbuf;      /* bytes wslay wrote during one wslay_event_send */
    out_batch_t out; /* frames (shared) and owned bytes queued this turn, and writes in flight */
    uint64_t last_recv_ms;
    int refs;
    int authenticated;
    int close_queued;     /* a close frame is on its way: no more data frames */
    uint64_t close_by_ms; /* with close_queued: the latest the connection may live */
    int closed;           /* handles are closing */
    int put_off; /* the turn's read budget was spent: the next UV_ENOBUFS is not an error */
    void *user;
    char client_ip[64];
    char request_id[72];
    ws_conn_t *prev, *next;
};

static void ws_conn_teardown(ws_conn_t *c);
static void ws_conn_flush(ws_conn_t *c);
static void ws_conn_end_if_done(ws_conn_t *c);
static void ws_on_deadline(uv_timer_t *t);
static void ws_server_finish(ws_server_t *s);

void ws_limits_defaults(ws_limits_t *l)
{
    l->ping_interval_ms = 20000;
    l->idle_timeout_ms = 60000;
    l->auth_timeout_ms = 10000;
    l->max_message = 64 * 1024;
    l->max_output = 4 * 1024 * 1024;
}

/* ---- pure helpers --------------------------------------------------------------------------- */

int ws_accept_key(const char *key, char out[29])
{
    unsigned char raw[32];
    size_t klen = strlen(key);
    if (klen != 24 || key[22] != '=' || key[23] != '=')
        return GV_EINVALID_REQUEST;
    if (EVP_DecodeBlock(raw, (const unsigned char *)key, 24) != 18)
        return GV_EINVALID_REQUEST;
    for (size_t i = 0; i < 22; i++) {
        char ch = key[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '+' || ch == '/'))
            return GV_EINVALID_REQUEST;
    }
    char cat[24 + sizeof(WS_GUID)];
    memcpy(cat, key, 24);
    memcpy(cat + 24, WS_GUID, sizeof(WS_GUID));
    unsigned char sha[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)cat, 24 + sizeof(WS_GUID) - 1, sha);
    EVP_EncodeBlock((unsigned char *)out, sha, SHA_DIGEST_LENGTH);
    return 0;
}

/* 1 when the comma-separated header value has token (case-insensitive). */
static int ws_header_has_token(const char *value, const char *token)
{
    size_t tn = strlen(token);
    for (const char *p = value; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m && (p[m - 1] == ' ' || p[m - 1] == '\t'))
            m--;
        if (m == tn && strncasecmp(p, token, tn) == 0)
            return 1;
        p += n;
    }
    return 0;
}

int ws_handshake_check(const http_req_t *req)
{
    const char *upgrade = http_req_header(req, "upgrade");
    const char *connection = http_req_header(req, "connection");
    const char *version = http_req_header(req, "sec-websocket-version");
    const char *key = http_req_header(req, "sec-websocket-key");
    char accept[29];
    if (req->method != HTTP_M_GET || !upgrade || !connection || !version || !key)
        return GV_EINVALID_REQUEST;
    if (!ws_header_has_token(upgrade, "websocket") || !ws_header_has_token(connection, "upgrade"))
        return GV_EINVALID_REQUEST;
    if (strcmp(version, "13") != 0 || ws_accept_key(key, accept) != 0)
        return GV_EINVALID_REQUEST;
    return 0;
}

/* ---- shared frames -------------------------------------------------------------------------- */

ws_frame_t *ws_frame_text(const char *text, size_t len)
{
    size_t hdr = len < 126 ? 2 : len <= 0xFFFF ? 4 : 10;
    ws_frame_t *f = malloc(sizeof(*f) + hdr + len);
    if (!f)
        return NULL;
    unsigned char *p = (unsigned char *)f->data;
    p[0] = 0x81; /* FIN + text */
    if (len < 126) {
        p[1] = (unsigned char)len;
    } else if (len <= 0xFFFF) {
        p[1] = 126;
        p[2] = (unsigned char)(len >> 8);
        p[3] = (unsigned char)len;
    } else {
        p[1] = 127;
        for (int i = 0; i < 8; i++)
            p[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    }
    memcpy(p + hdr, text, len);
    f->len = hdr + len;
    f->refs = 1;
    return f;
}

const char *ws_frame_bytes(const ws_frame_t *f, size_t *len)
{
    *len = f->len;
    return f->data;
}

void ws_frame_ref(ws_frame_t *f)
{
    f->refs++;
}

void ws_frame_unref(ws_frame_t *f)
{
    if (f && --f->refs == 0)
        free(f);
}

/* ---- writing -------------------------------------------------------------------------------- */

static void ws_frame_release(void *f)
{
    ws_frame_unref(f);
}

static void ws_conn_unref(ws_conn_t *c)
{
    if (--c->refs > 0)
        return;
    ws_server_t *s = c->srv;
    out_batch_deinit(&c->out);
    buf_deinit(&c->in);
    buf_deinit(&c->wbuf);
    if (c->wslay)
        wslay_event_context_free(c->wslay);
    free(c);
    if (--s->live == 0 && s->shutting_down)
        ws_server_finish(s);
}

/* A slow reader still draining what was queued before our close frame keeps its grace period
 * (so it gets the close code), up to WS_CLOSE_MAX_MS in all. */
static void ws_conn_write_progress(ws_conn_t *c)
{
    if (!c->close_queued || c->closed)
        return;
    uint64_t now = uv_now(c->tcp->loop), left = c->close_by_ms > now ? c->close_by_ms - now : 0;
    uv_timer_start(&c->deadline, ws_on_deadline,
                   left < WS_CLOSE_GRACE_MS ? left : WS_CLOSE_GRACE_MS, 0);
}

/* Writes c's queued output (see out_batch_write). A failed write tears c down. */
static void ws_conn_write_pending(ws_conn_t *c)
{
    if (c->closed)
        return;
    size_t unsent = out_batch_unsent(&c->out);
    if (out_batch_write(&c->out, (uv_stream_t *)c->tcp) != 0)
        ws_conn_teardown(c);
    else if (out_batch_unsent(&c->out) < unsent)
        ws_conn_write_progress(c); /* the kernel took some at once */
}

/* Queues one piece of output for the end of the loop turn, taking it (release(ctx) frees it);
 * a full batch is written at once. 0, or GV_EIO / GV_ENOMEM when c is (now) gone. */
static int ws_conn_queue(ws_conn_t *c, const char *data, size_t len, void (*release)(void *),
                         void *ctx)
{
    if (c->closed) {
        release(ctx);
        return GV_EIO;
    }
    if (out_batch_push(&c->out, data, len, release, ctx) != 0) {
        out_batch_drop(&c->out);
        ws_conn_teardown(c);
        return GV_ENOMEM;
    }
    if (out_batch_full(&c->out))
        ws_conn_write_pending(c);
    else
        out_batch_flush_later(&c->out);
    return c->closed ? GV_EIO : 0;
}

/* Queues bytes c owns (malloc'ed), like ws_conn_queue. */
static int ws_conn_queue_owned(ws_conn_t *c, char *data, size_t len)
{
    return ws_conn_queue(c, data, len, free, data);
}

int ws_conn_send_frame(ws_conn_t *c, ws_frame_t *f)
{
    if (c->closed || c->close_queued)
        return GV_EIO;
    /* the cap is on what the kernel refused, not on this turn's batch: write that first */
    if (out_batch_unsent(&c->out) + f->len > c->srv->lim.max_output && out_batch_count(&c->out)) {
        ws_conn_write_pending(c);
        if (c->closed)
            return GV_EIO;
    }
    if (out_batch_unsent(&c->out) + f->len > c->srv->lim.max_output) {
        http_server_stats_mut(c->srv->http)->ws_cutoffs++;
        ws_conn_close(c, WSLAY_CODE_POLICY_VIOLATION, "output limit");
        return GV_ELIMIT;
    }
    ws_frame_ref(f);
    return ws_conn_queue(c, f->data, f->len, ws_frame_release, f);
}

int ws_conn_send_text(ws_conn_t *c, const char *text, size_t len)
{
    ws_frame_t *f = ws_frame_text(text, len);
    if (!f)
        return GV_ENOMEM;
    int rc = ws_conn_send_frame(c, f);
    ws_frame_unref(f);
    return rc;
}

/* wslay's writer: collect into wbuf; ws_conn_flush queues it once wslay is done. */
static ssize_t ws_cb_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                          void *user)
{
    ws_conn_t *c = user;
    (void)flags;
    if (buf_append(&c->wbuf, data, len) != 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

/* Tears c down once the close frames were exchanged (or wslay gave up) and everything queued,
 * the close frame included, reached the kernel. */
static void ws_conn_end_if_done(ws_conn_t *c)
{
    if (!c->closed && out_batch_unsent(&c->out) == 0 && !wslay_event_want_read(c->wslay) &&
        !wslay_event_want_write(c->wslay))
        ws_conn_teardown(c);
}

/* Runs wslay's sender and queues what it produced (after the data frames queued before it);
 * closes when the protocol is finished. */
static void ws_conn_flush(ws_conn_t *c)
{
    if (c->closed)
        return;
    if (wslay_event_send(c->wslay) != 0) {
        ws_conn_teardown(c);
        return;
    }
    if (c->wbuf.len) {
        size_t len = c->wbuf.len;
        ws_conn_queue_owned(c, buf_steal(&c->wbuf), len);
    }
    ws_conn_end_if_done(c);
}

/* Before the loop polls: c's output of the turn in one write. */
static void ws_conn_out_flush(void *conn)
{
    ws_conn_t *c = conn;
    ws_conn_write_pending(c);
    ws_conn_end_if_done(c); /* the close frame that just went out may finish c */
}

/* A uv_write of c's output holds a reference until it ends. */
static void ws_conn_out_hold(void *conn)
{
    ((ws_conn_t *)conn)->refs++;
}

static void ws_conn_out_written(void *conn, int status)
{
    ws_conn_t *c = conn;
    if (status < 0) {
        ws_conn_teardown(c);
    } else {
        ws_conn_write_progress(c);
        ws_conn_end_if_done(c);
    }
    ws_conn_unref(c);
}

static const out_ops_t ws_out_ops = {ws_conn_out_flush, ws_conn_out_hold, ws_conn_out_written};

void ws_conn_close(ws_conn_t *c, uint16_t code, const char *reason)
{
    if (c->closed || c->close_queued)
        return;
    c->close_queued = 1;
    c->close_by_ms = uv_now(c->tcp->loop) + WS_CLOSE_MAX_MS;
    wslay_event_queue_close(c->wslay, code, (const uint8_t *)reason, reason ? strlen(reason) : 0);
    uv_timer_start(&c->deadline, ws_on_deadline, WS_CLOSE_GRACE_MS, 0);
    ws_conn_flush(c);
}

/* ---- reading -------------------------------------------------------------------------------- */

static ssize_t ws_cb_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                          void *user)
{
    ws_conn_t *c = user;
    (void)flags;
    size_t avail = c->in.len - c->in_off;
    if (avail == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = avail < len ? avail : len;
    memcpy(buf, c->in.data + c->in_off, n);
    c->in_off += n;
    return (ssize_t)n;
}

static void ws_cb_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *user)
{
    ws_conn_t *c = user;
    (void)ctx;
    if (c->close_queued || c->closed)
        return;
    if (arg->opcode == WSLAY_BINARY_FRAME) {
        ws_conn_close(c, WSLAY_CODE_UNSUPPORTED_DATA, "text frames only");
    } else if (arg->opcode == WSLAY_TEXT_FRAME) {
        if (!utf8_valid(arg->msg, arg->msg_length))
            ws_conn_close(c, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, "invalid UTF-8");
        else if (c->srv->h.on_message)
            c->srv->h.on_message(c, (const char *)arg->msg, arg->msg_length, c->srv->ctx);
    }
}

/* A connection with no partial frame buffered reads into the server's one buffer (10,000 idle
 * sockets then hold no read buffer at all); one in the middle of a frame reads after it. */
static void ws_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    ws_conn_t *c = h->data;
    (void)suggested;
    if (http_server_read_budget_spent(c->srv->http, c->srv->put_off)) {
        c->put_off = 1; /* still readable: the next turns read it */
        *out = uv_buf_init(NULL, 0);
        return;
    }
    if (c->in.len == 0) {
        *out = uv_buf_init(c->srv->rbuf, sizeof(c->srv->rbuf));
        return;
    }
    if (buf_reserve(&c->in, WS_READ_CHUNK) != 0) {
        *out = uv_buf_init(NULL, 0);
        return;
    }
    *out = uv_buf_init(c->in.data + c->in.len, WS_READ_CHUNK);
}

/* Feeds buffered input to wslay, then sends whatever it queued in reply. */
static void ws_conn_pump(ws_conn_t *c)
{
    c->refs++; /* the message handler may close c */
    if (wslay_event_recv(c->wslay) != 0 && !c->closed)
        ws_conn_teardown(c);
    buf_consume(&c->in, c->in_off);
    c->in_off = 0;
    if (c->in.len == 0)
        buf_deinit(&c->in); /* all taken: the next read goes to the shared buffer */
    ws_conn_flush(c);
    ws_conn_unref(c);
}

/* A header declared what will never be accepted (a message over the limit, a forbidden length):
 * close at once with code, reading nothing more; the connection ends when the close frame is
 * written (the peer, mid-frame, cannot answer it). */
static void ws_conn_refuse(ws_conn_t *c, uint16_t code)
{
    buf_consume(&c->in, c->in.len);
    c->in_off = 0;
    ws_conn_close(c, code, code == WS_SCAN_TOO_BIG ? "message too big" : "protocol error");
    if (!c->closed) {
        wslay_event_shutdown_read(c->wslay);
        ws_conn_flush(c);
    }
}

static void ws_on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *b)
{
    ws_conn_t *c = stream->data;
    if (n == UV_ENOBUFS && c->put_off) {
        c->put_off = 0;
        return;
    }
    if (n < 0) {
        ws_conn_teardown(c);
        return;
    }
    if (n == 0 || c->closed)
        return;
    c->last_recv_ms = uv_now(c->tcp->loop);
    if (c->scan.refused)
        return; /* refused input is dropped while the close frame goes out */
    int verdict =
        ws_scan_feed(&c->scan, (const uint8_t *)b->base, (size_t)n, c->srv->lim.max_message);
    if (verdict != WS_SCAN_OK) {
        ws_conn_refuse(c, (uint16_t)verdict);
        return;
    }
    if (b->base != c->srv->rbuf) /* read in place, after what was buffered */
        c->in.len += (size_t)n;
    else if (buf_append(&c->in, b->base, (size_t)n) != 0) { /* taken from the shared buffer */
        ws_conn_teardown(c);
        return;
    }
    ws_conn_pump(c);
}

/* ---- timers and teardown -------------------------------------------------------------------- */

static void ws_on_heartbeat(uv_timer_t *t)
{
    ws_conn_t *c = t->data;
    uint64_t now = uv_now(t->loop);
    if (now - c->last_recv_ms >= c->srv->lim.idle_timeout_ms) {
        ws_conn_teardown(c); /* silent peer: nothing to hand-shake with */
        return;
    }
    struct wslay_event_msg ping = {WSLAY_PING, (const uint8_t *)"hb", 2};
    if (!c->close_queued && wslay_event_queue_msg(c->wslay, &ping) == 0)
        ws_conn_flush(c);
}

static void ws_on_deadline(uv_timer_t *t)
{
    ws_conn_t *c = t->data;
    if (!c->close_queued) /* no auth in time, or the token expired without renewal */
        ws_conn_close(c, 4401, c->authenticated ? "token expired" : "authentication required");
    else
        ws_conn_teardown(c); /* the peer did not answer our close frame in time */
}

static void ws_on_handle_close(uv_handle_t *h)
{
    ws_conn_t *c = h->data;
    if ((uv_handle_t *)c->tcp == h)
        free(h);
    ws_conn_unref(c);
}

/* Closes the socket and timers; memory goes when the last write and handle are done. */
static void ws_conn_teardown(ws_conn_t *c)
{
    if (c->closed)
        return;
    c->closed = 1;
    ws_server_t *s = c->srv;
    if (s->h.on_close)
        s->h.on_close(c, s->ctx);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    /* what is still queued goes out if the kernel takes it at once (a peer that half-closed
     * still reads it); the rest is dropped with the connection */
    out_batch_abandon(&c->out, (uv_stream_t *)c->tcp);
    http_server_stats_mut(s->http)->open_ws--;
    uv_close((uv_handle_t *)&c->heartbeat, ws_on_handle_close);
    uv_close((uv_handle_t *)&c->deadline, ws_on_handle_close);
    uv_close((uv_handle_t *)c->tcp, ws_on_handle_close);
}

/* ---- accepting ------------------------------------------------------------------------------ */

static const struct wslay_event_callbacks ws_callbacks = {
    .recv_callback = ws_cb_recv,
    .send_callback = ws_cb_send,
    .on_msg_recv_callback = ws_cb_msg,
};

static ws_conn_t *ws_conn_new(ws_server_t *s, const http_req_t *req)
{
    ws_conn_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    if (wslay_event_context_server_init(&c->wslay, &ws_callbacks, c) != 0) {
        free(c);
        return NULL;
    }
    wslay_event_config_set_max_recv_msg_length(c->wslay, s->lim.max_message);
    ws_scan_init(&c->scan);
    c->srv = s;
    out_batch_init(&c->out, &s->flush, c);
    snprintf(c->client_ip, sizeof(c->client_ip), "%s", req->client_ip);
    snprintf(c->request_id, sizeof(c->request_id), "%s", req->request_id);
    buf_init(&c->in);
    buf_init(&c->wbuf);
    s->live++;
    return c;
}

/* Starts timers and reading on an accepted connection and links it into the server. */
static void ws_conn_start(ws_server_t *s, ws_conn_t *c, uv_tcp_t *tcp)
{
    uv_loop_t *loop = tcp->loop;
    c->tcp = tcp;
    tcp->data = c;
    uv_timer_init(loop, &c->heartbeat);
    uv_timer_init(loop, &c->deadline);
    c->heartbeat.data = c->deadline.data = c;
    c->refs = 3; /* socket and two timers */
    c->last_recv_ms = uv_now(loop);
    int sndbuf = 256 * 1024; /* bound what a stalled peer can hold in the kernel, beyond our cap */
    uv_send_buffer_size((uv_handle_t *)tcp, &sndbuf);
    uv_timer_start(&c->heartbeat, ws_on_heartbeat, s->lim.ping_interval_ms,
                   s->lim.ping_interval_ms);
    uv_timer_start(&c->deadline, ws_on_deadline, s->lim.auth_timeout_ms, 0);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    http_server_stats_mut(s->http)->open_ws++;
    uv_read_start((uv_stream_t *)tcp, ws_on_alloc, ws_on_read);
}

static int ws_server_upgrade(http_conn_t *hc, http_req_t *req, http_resp_t *resp, const char *rest,
                             size_t rest_len, void *ctx)
{
    ws_server_t *s = ctx;
    if (strcmp(req->path, "/ws") != 0)
        return GV_ENOT_FOUND;
    if (s->shutting_down)
        return GV_EUNAVAILABLE;
    int rc = ws_handshake_check(req);
    const char *version = http_req_header(req, "sec-websocket-version");
    if (rc != 0 && version && strcmp(version, "13") != 0) {
        ws_http_get(req, resp, ctx); /* RFC 6455 4.4: 426 naming the version we speak */
        return rc;
    }
    if (rc != 0)
        return rc;
    char accept[29];
    ws_accept_key(http_req_header(req, "sec-websocket-key"), accept);
    ws_conn_t *c = ws_conn_new(s, req);
    if (!c || buf_append(&c->in, rest, rest_len) != 0) {
        if (c)
            ws_conn_unref(c);
        return GV_ENOMEM;
    }
    ws_conn_start(s, c, http_conn_detach(hc));
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nX-Request-Id: %s\r\n\r\n",
                     accept, c->request_id);
    char *copy = malloc((size_t)n);
    if (copy) {
        memcpy(copy, head, (size_t)n);
        ws_conn_queue_owned(c, copy, (size_t)n);
    }
    if (c->in.len)
        ws_conn_pump(c);
    return 0;
}

void ws_http_get(http_req_t *req, http_resp_t *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    http_resp_error(resp, GV_EINVALID_REQUEST, "This endpoint speaks WebSocket only.", NULL);
    resp->status = 426;
    http_resp_header(resp, "Upgrade", "websocket");
    http_resp_header(resp, "Sec-WebSocket-Version", "13");
}

ws_server_t *ws_server_new(http_server_t *http, const ws_limits_t *lim, const ws_handlers_t *h,
                           void *ctx)
{
    ws_server_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->http = http;
    s->lim = *lim;
    s->h = *h;
    s->ctx = ctx;
    out_flusher_init(&s->flush, http_server_loop(http), &ws_out_ops, WS_BATCH_BUFS, WS_BATCH_BYTES,
                     &http_server_stats_mut(http)->ws_writes);
    s->put_off = &http_server_stats_mut(http)->ws_reads_put_off;
    http_server_set_upgrade(http, ws_server_upgrade, s);
    return s;
}

static void ws_server_on_flush_closed(void *ctx)
{
    ws_server_t *s = ctx;
    void (*done)(ws_server_t *, void *) = s->done;
    s->done = NULL;
    if (done)
        done(s, s->done_ctx);
}

/* Shutting down and the last connection is gone: done runs once the flush handle closed. */
static void ws_server_finish(ws_server_t *s)
{
    out_flusher_close(&s->flush, ws_server_on_flush_closed, s);
}

void ws_server_shutdown(ws_server_t *s, void (*done)(ws_server_t *s, void *ctx), void *ctx)
{
    s->shutting_down = 1;
    s->done = done;
    s->done_ctx = ctx;
    for (ws_conn_t *c = s->conns, *next; c; c = next) {
        next = c->next;
        ws_conn_close(c, WSLAY_CODE_GOING_AWAY, "server shutting down");
    }
    if (s->live == 0)
        ws_server_finish(s);
}

void ws_server_free(ws_server_t *s)
{
    free(s);
}

void ws_conn_set_authenticated(ws_conn_t *c, int yes, uint64_t expires_in_ms)
{
    c->authenticated = yes;
    if (yes && !c->close_queued && !c->closed)
        uv_timer_start(&c->deadline, ws_on_deadline, expires_in_ms, 0);
}

int ws_conn_authenticated(const ws_conn_t *c)
{
    return c->authenticated;
}

void ws_conn_set_user(ws_conn_t *c, void *user)
{
    c->user = user;
}

void *ws_conn_user(const ws_conn_t *c)
{
    return c->user;
}

const char *ws_conn_client_ip(const ws_conn_t *c)
{
    return c->client_ip;
}

const char *ws_conn_request_id(const ws_conn_t *c)
{
    return c->request_id;
}

void ws_conn_ref(ws_conn_t *c)
{
    c->refs++;
}

void ws_conn_release(ws_conn_t *c)
{
    ws_conn_unref(c);
}

int ws_conn_is_open(const ws_conn_t *c)
{
    return !c->closed && !c->close_queued;
}
