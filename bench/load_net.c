/* gavel-load network layer: keep-alive HTTP client pool and client WebSocket on libuv. */
#include "load.h"

#include <llhttp.h>
#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

uint64_t lg_ws_bytes_in, lg_ws_frames_in, lg_ws_bytes_out, lg_ws_frames_out;

/* One read buffer for every connection: data is parsed inside the read callback and only a partial
 * frame or response is copied into the connection's own buffer. */
#define LG_READ_BUF (256 * 1024)
static char lg_read_buf[LG_READ_BUF];

static void lg_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    b->base = lg_read_buf;
    b->len = sizeof(lg_read_buf);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "gavel-load: out of memory\n");
        abort();
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "gavel-load: out of memory\n");
        abort();
    }
    return p;
}

/* Appends n bytes to a growable buffer. */
static void bappend(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *len + n + 1)
            c *= 2;
        *buf = xrealloc(*buf, c);
        *cap = c;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = 0;
}

/* ================================================================================================
 * HTTP pool
 * ============================================================================================== */

typedef struct lg_req {
    struct lg_req *next;
    char *data;
    size_t len;
    lg_http_cb cb;
    void *ud;
    int tries;
} lg_req_t;

enum { HC_CLOSED, HC_CONNECTING, HC_IDLE, HC_BUSY, HC_CLOSING };

typedef struct {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    uv_timer_t timer;
    llhttp_t parser;
    lg_pool_t *pool;
    lg_req_t *cur;
    char *body;
    size_t body_len, body_cap;
    int state;
    int complete, status, keepalive, got_bytes, reused;
} lg_hconn_t;

struct lg_pool {
    uv_loop_t *loop;
    struct sockaddr_in addr;
    char host[128];
    lg_hconn_t *conns;
    int n;
    lg_req_t *head, *tail;
    size_t queued, inflight;
    uint64_t timeout_ms;
    lg_pool_stats_t st;
    int freeing, open_handles;
    llhttp_settings_t settings;
};

static void pool_dispatch(lg_pool_t *p);

static int hc_on_body(llhttp_t *h, const char *at, size_t len)
{
    lg_hconn_t *c = h->data;
    bappend(&c->body, &c->body_len, &c->body_cap, at, len);
    return 0;
}

static int hc_on_message_begin(llhttp_t *h)
{
    lg_hconn_t *c = h->data;
    c->body_len = 0;
    if (c->body)
        c->body[0] = 0;
    return 0;
}

static int hc_on_message_complete(llhttp_t *h)
{
    lg_hconn_t *c = h->data;
    c->complete = 1;
    c->status = h->status_code;
    c->keepalive = llhttp_should_keep_alive(h);
    return HPE_PAUSED;
}

static void pool_handle_closed(uv_handle_t *h)
{
    lg_hconn_t *c = h->data;
    lg_pool_t *p = c->pool;
    if ((uv_handle_t *)&c->tcp == h)
        c->state = HC_CLOSED;
    if (--p->open_handles == 0 && p->freeing) {
        for (int i = 0; i < p->n; i++)
            free(p->conns[i].body);
        free(p->conns);
        free(p);
        return;
    }
    if (!p->freeing)
        pool_dispatch(p);
}

static void hc_close(lg_hconn_t *c)
{
    if (c->state == HC_CLOSED || c->state == HC_CLOSING)
        return;
    uv_timer_stop(&c->timer);
    c->state = HC_CLOSING;
    uv_close((uv_handle_t *)&c->tcp, pool_handle_closed);
}

/* The request on c failed: retried once when nothing came back on a reused connection (the server
 * may have closed it while idle), else reported as -1. */
static void hc_fail(lg_hconn_t *c)
{
    lg_pool_t *p = c->pool;
    lg_req_t *r = c->cur;
    c->cur = NULL;
    int retry = r && !c->got_bytes && c->reused && r->tries < 2 && !p->freeing;
    hc_close(c);
    if (!r)
        return;
    p->inflight--;
    if (retry) {
        p->st.retries++;
        r->next = p->head;
        p->head = r;
        if (!p->tail)
            p->tail = r;
        p->queued++;
        return; /* dispatched when the connection's handle is closed */
    }
    p->st.failures++;
    r->cb(r->ud, -1, "", 0);
    free(r->data);
    free(r);
}

static void hc_timeout(uv_timer_t *t)
{
    hc_fail(t->data);
}

static void hc_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    lg_hconn_t *c = s->data;
    if (nread == 0)
        return;
    if (nread < 0 || !c->cur) {
        hc_fail(c);
        return;
    }
    c->got_bytes = 1;
    llhttp_errno_t e = llhttp_execute(&c->parser, b->base, (size_t)nread);
    if (e != HPE_OK && e != HPE_PAUSED) {
        hc_fail(c);
        return;
    }
    if (!c->complete)
        return;
    lg_pool_t *p = c->pool;
    lg_req_t *r = c->cur;
    c->cur = NULL;
    p->inflight--;
    p->st.responses++;
    uv_timer_stop(&c->timer);
    llhttp_init(&c->parser, HTTP_RESPONSE, &p->settings);
    c->parser.data = c;
    if (c->keepalive && !p->freeing) {
        c->state = HC_IDLE;
    } else {
        hc_close(c);
    }
    r->cb(r->ud, c->status, c->body ? c->body : "", c->body_len);
    free(r->data);
    free(r);
    pool_dispatch(p);
}

static void hc_written(uv_write_t *w, int status)
{
    lg_hconn_t *c = w->data;
    if (status < 0 && c->cur)
        hc_fail(c);
}

static void hc_send(lg_hconn_t *c)
{
    lg_pool_t *p = c->pool;
    lg_req_t *r = p->head;
    p->head = r->next;
    if (!p->head)
        p->tail = NULL;
    p->queued--;
    p->inflight++;
    r->next = NULL;
    r->tries++;
    c->cur = r;
    c->state = HC_BUSY;
    c->complete = 0;
    c->got_bytes = 0;
    c->body_len = 0;
    uv_buf_t b = uv_buf_init(r->data, (unsigned)r->len);
    c->wreq.data = c;
    uv_timer_start(&c->timer, hc_timeout, p->timeout_ms, 0);
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, hc_written) != 0)
        hc_fail(c);
}

/* A connection could not be made: fails one queued request, so a dead server cannot make the
 * caller wait forever. */
static void pool_fail_one(lg_pool_t *p)
{
    if (!p->head)
        return;
    lg_req_t *r = p->head;
    p->head = r->next;
    if (!p->head)
        p->tail = NULL;
    p->queued--;
    r->cb(r->ud, -1, "", 0);
    free(r->data);
    free(r);
}

static void hc_connected(uv_connect_t *creq, int status)
{
    lg_hconn_t *c = creq->data;
    lg_pool_t *p = c->pool;
    if (c->state != HC_CONNECTING)
        return;
    uv_timer_stop(&c->timer);
    if (status < 0) {
        p->st.failures++;
        hc_close(c);
        pool_fail_one(p);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    c->reused = 0;
    c->state = HC_IDLE;
    uv_read_start((uv_stream_t *)&c->tcp, lg_alloc, hc_read);
    pool_dispatch(p);
}

static void hc_connect_timeout(uv_timer_t *t)
{
    lg_hconn_t *c = t->data;
    hc_close(c); /* the connect callback then sees UV_ECANCELED */
    c->pool->st.failures++;
    pool_fail_one(c->pool);
}

static void hc_connect(lg_hconn_t *c)
{
    lg_pool_t *p = c->pool;
    uv_tcp_init(p->loop, &c->tcp);
    p->open_handles++;
    c->tcp.data = c;
    c->creq.data = c;
    c->state = HC_CONNECTING;
    p->st.connects++;
    llhttp_init(&c->parser, HTTP_RESPONSE, &p->settings);
    c->parser.data = c;
    uv_timer_start(&c->timer, hc_connect_timeout, p->timeout_ms, 0);
    if (uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&p->addr, hc_connected) != 0) {
        p->st.failures++;
        hc_close(c);
    }
}

static void pool_dispatch(lg_pool_t *p)
{
    for (int i = 0; i < p->n && p->head && !p->freeing; i++) {
        lg_hconn_t *c = &p->conns[i];
        if (c->state == HC_IDLE) {
            hc_send(c);
            c->reused = 1;
        }
    }
    size_t want = p->queued;
    for (int i = 0; i < p->n && want > 0 && !p->freeing; i++) {
        if (p->conns[i].state == HC_CLOSED) {
            hc_connect(&p->conns[i]);
            want--;
        }
    }
}

lg_pool_t *lg_pool_new(uv_loop_t *loop, const struct sockaddr_in *addr, const char *host, int conns,
                       uint64_t timeout_ms)
{
    lg_pool_t *p = xmalloc(sizeof(*p));
    memset(p, 0, sizeof(*p));
    p->loop = loop;
    p->addr = *addr;
    snprintf(p->host, sizeof(p->host), "%s", host);
    p->n = conns;
    p->timeout_ms = timeout_ms;
    p->conns = xmalloc(sizeof(*p->conns) * (size_t)conns);
    memset(p->conns, 0, sizeof(*p->conns) * (size_t)conns);
    llhttp_settings_init(&p->settings);
    p->settings.on_body = hc_on_body;
    p->settings.on_message_begin = hc_on_message_begin;
    p->settings.on_message_complete = hc_on_message_complete;
    for (int i = 0; i < conns; i++) {
        lg_hconn_t *c = &p->conns[i];
        c->pool = p;
        c->state = HC_CLOSED;
        uv_timer_init(loop, &c->timer);
        c->timer.data = c;
        p->open_handles++;
    }
    return p;
}

void lg_pool_request(lg_pool_t *p, const char *method, const char *path, const char *token,
                     const char *body, lg_http_cb cb, void *ud)
{
    size_t blen = body ? strlen(body) : 0;
    size_t cap =
        strlen(method) + strlen(path) + strlen(p->host) + (token ? strlen(token) : 0) + blen + 256;
    lg_req_t *r = xmalloc(sizeof(*r));
    r->next = NULL;
    r->cb = cb;
    r->ud = ud;
    r->tries = 0;
    r->data = xmalloc(cap);
    int n =
        snprintf(r->data, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s%s", method, path, p->host,
                 token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "");
    if (body)
        n +=
            snprintf(r->data + n, cap - (size_t)n,
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", blen, body);
    else if (strcmp(method, "GET") != 0)
        n += snprintf(r->data + n, cap - (size_t)n, "Content-Length: 0\r\n\r\n");
    else
        n += snprintf(r->data + n, cap - (size_t)n, "\r\n");
    r->len = (size_t)n;
    p->st.requests++;
    if (p->freeing) {
        p->st.failures++;
        cb(ud, -1, "", 0);
        free(r->data);
        free(r);
        return;
    }
    if (p->tail)
        p->tail->next = r;
    else
        p->head = r;
    p->tail = r;
    p->queued++;
    pool_dispatch(p);
}

size_t lg_pool_pending(const lg_pool_t *p)
{
    return p->queued + p->inflight;
}

lg_pool_stats_t lg_pool_stats(const lg_pool_t *p)
{
    return p->st;
}

void lg_pool_free(lg_pool_t *p)
{
    p->freeing = 1;
    while (p->head) {
        lg_req_t *r = p->head;
        p->head = r->next;
        p->st.failures++;
        r->cb(r->ud, -1, "", 0);
        free(r->data);
        free(r);
    }
    p->tail = NULL;
    p->queued = 0;
    for (int i = 0; i < p->n; i++) {
        lg_hconn_t *c = &p->conns[i];
        if (c->cur)
            hc_fail(c);
        hc_close(c);
        uv_close((uv_handle_t *)&c->timer, pool_handle_closed);
    }
}

/* ================================================================================================
 * WebSocket client
 * ============================================================================================== */

enum { WS_CONNECTING, WS_HANDSHAKE, WS_OPEN, WS_CLOSING, WS_CLOSED };

struct lg_ws {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_timer_t timer;
    const lg_ws_handlers_t *h;
    void *ud;
    int state;
    int handles;
    int close_code;
    const char *why;
    char accept[32];
    char *in;
    size_t in_len, in_cap;
    char *frag;
    size_t frag_len, frag_cap;
    size_t queued;
    char *hs; /* the handshake request until it is written */
};

typedef struct {
    uv_write_t w;
    lg_ws_t *ws;
    size_t len;
    char data[];
} lg_wreq_t;

static uint64_t lg_rand_state;

static uint64_t lg_rand(void)
{
    if (!lg_rand_state)
        lg_rand_state = uv_hrtime() | 1;
    uint64_t x = lg_rand_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return lg_rand_state = x;
}

static void ws_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);

static void ws_handle_closed(uv_handle_t *h)
{
    lg_ws_t *ws = h->data;
    if (--ws->handles > 0)
        return;
    if (ws->h->on_close)
        ws->h->on_close(ws, ws->ud, ws->close_code, ws->why ? ws->why : "closed");
    free(ws->in);
    free(ws->frag);
    free(ws->hs);
    free(ws);
}

static void ws_finish(lg_ws_t *ws, const char *why)
{
    if (ws->state == WS_CLOSED)
        return;
    ws->state = WS_CLOSED;
    if (!ws->why)
        ws->why = why;
    uv_timer_stop(&ws->timer);
    uv_close((uv_handle_t *)&ws->tcp, ws_handle_closed);
    uv_close((uv_handle_t *)&ws->timer, ws_handle_closed);
}

static void ws_written(uv_write_t *w, int status)
{
    lg_wreq_t *r = (lg_wreq_t *)w;
    r->ws->queued -= r->len;
    if (status < 0 && status != UV_ECANCELED)
        ws_finish(r->ws, "write error");
    free(r);
}

/* Writes bytes in order: uv_try_write when nothing is queued, the rest through uv_write. */
static int ws_write_raw(lg_ws_t *ws, const char *data, size_t len)
{
    size_t off = 0;
    int n = uv_try_write((uv_stream_t *)&ws->tcp, &(uv_buf_t){.base = (char *)data, .len = len}, 1);
    if (n > 0)
        off = (size_t)n;
    else if (n != UV_EAGAIN && n != UV_ENOSYS) {
        ws_finish(ws, "write error");
        return -1;
    }
    if (off == len)
        return 0;
    lg_wreq_t *r = xmalloc(sizeof(*r) + len - off);
    r->ws = ws;
    r->len = len - off;
    memcpy(r->data, data + off, len - off);
    ws->queued += r->len;
    uv_buf_t b = uv_buf_init(r->data, (unsigned)r->len);
    if (uv_write(&r->w, (uv_stream_t *)&ws->tcp, &b, 1, ws_written) != 0) {
        ws->queued -= r->len;
        free(r);
        ws_finish(ws, "write error");
        return -1;
    }
    return 0;
}

static int ws_send_frame(lg_ws_t *ws, int opcode, const char *payload, size_t len)
{
    char stack[2048];
    size_t hl = 2 + (len < 126 ? 0 : len < 65536 ? 2 : 8) + 4;
    char *f = hl + len <= sizeof(stack) ? stack : xmalloc(hl + len);
    size_t i = 0;
    f[i++] = (char)(0x80 | opcode);
    if (len < 126) {
        f[i++] = (char)(0x80 | len);
    } else if (len < 65536) {
        f[i++] = (char)(0x80 | 126);
        f[i++] = (char)(len >> 8);
        f[i++] = (char)len;
    } else {
        f[i++] = (char)(0x80 | 127);
        for (int k = 7; k >= 0; k--)
            f[i++] = (char)((uint64_t)len >> (8 * k));
    }
    uint32_t m = (uint32_t)lg_rand();
    unsigned char mask[4] = {(unsigned char)m, (unsigned char)(m >> 8), (unsigned char)(m >> 16),
                             (unsigned char)(m >> 24)};
    memcpy(f + i, mask, 4);
    i += 4;
    for (size_t k = 0; k < len; k++)
        f[i + k] = (char)(payload[k] ^ mask[k & 3]);
    int rc = ws_write_raw(ws, f, i + len);
    lg_ws_frames_out++;
    lg_ws_bytes_out += i + len;
    if (f != stack)
        free(f);
    return rc;
}

int lg_ws_send_text(lg_ws_t *ws, const char *text, size_t len)
{
    if (!ws || ws->state != WS_OPEN)
        return -1;
    return ws_send_frame(ws, 0x1, text, len);
}

void lg_ws_pause(lg_ws_t *ws, int paused)
{
    if (!ws || (ws->state != WS_OPEN && ws->state != WS_CLOSING))
        return;
    if (paused) {
        int small = 4096; /* no receive-buffer autotuning: the server's output backs up soon */
        uv_recv_buffer_size((uv_handle_t *)&ws->tcp, &small);
        uv_read_stop((uv_stream_t *)&ws->tcp);
    } else {
        uv_read_start((uv_stream_t *)&ws->tcp, lg_alloc, ws_read);
    }
}

size_t lg_ws_queued(const lg_ws_t *ws)
{
    return ws ? ws->queued : 0;
}

static void ws_close_timeout(uv_timer_t *t)
{
    ws_finish(t->data, "close timeout");
}

void lg_ws_close(lg_ws_t *ws, int code, uint64_t timeout_ms)
{
    if (!ws || ws->state == WS_CLOSED || ws->state == WS_CLOSING)
        return;
    if (ws->state != WS_OPEN) {
        ws_finish(ws, "closed before open");
        return;
    }
    char p[2] = {(char)(code >> 8), (char)code};
    ws->state = WS_CLOSING;
    if (ws_send_frame(ws, 0x8, p, 2) != 0)
        return;
    uv_timer_start(&ws->timer, ws_close_timeout, timeout_ms, 0);
}

/* Handles one complete frame; 0 to go on, -1 when the connection is finished. */
static int ws_frame(lg_ws_t *ws, int fin, int op, const char *pl, size_t len)
{
    lg_ws_frames_in++;
    switch (op) {
    case 0x0: /* continuation */
    case 0x1:
    case 0x2:
        if (op != 0 && ws->frag_len) {
            ws_finish(ws, "protocol error: interleaved fragments");
            return -1;
        }
        if (fin && !ws->frag_len) {
            if (ws->h->on_text && ws->state == WS_OPEN)
                ws->h->on_text(ws, ws->ud, pl, len);
        } else {
            bappend(&ws->frag, &ws->frag_len, &ws->frag_cap, pl, len);
            if (fin) {
                if (ws->h->on_text && ws->state == WS_OPEN)
                    ws->h->on_text(ws, ws->ud, ws->frag, ws->frag_len);
                ws->frag_len = 0;
            }
        }
        return ws->state == WS_CLOSED ? -1 : 0;
    case 0x8: {
        int code = len >= 2 ? ((unsigned char)pl[0] << 8) | (unsigned char)pl[1] : 1005;
        ws->close_code = code;
        if (ws->state == WS_OPEN) {
            char p[2] = {(char)(code >> 8), (char)code};
            if (code == 1005)
                ws_send_frame(ws, 0x8, NULL, 0);
            else
                ws_send_frame(ws, 0x8, p, 2);
            ws->why = "closed by server";
        } else if (!ws->why) {
            ws->why = "closed";
        }
        ws_finish(ws, "closed by server");
        return -1;
    }
    case 0x9:
        if (ws->state == WS_OPEN)
            ws_send_frame(ws, 0xA, pl, len);
        return 0;
    case 0xA:
        return 0;
    default:
        ws_finish(ws, "protocol error: opcode");
        return -1;
    }
}

/* Parses frames from data; returns the bytes consumed, or -1 when finished. */
static ssize_t ws_parse(lg_ws_t *ws, char *data, size_t len)
{
    size_t off = 0;
    while (ws->state == WS_OPEN || ws->state == WS_CLOSING) {
        const unsigned char *d = (const unsigned char *)data + off;
        size_t avail = len - off;
        if (avail < 2)
            break;
        int fin = d[0] >> 7, op = d[0] & 0x0f, masked = d[1] >> 7;
        uint64_t plen = d[1] & 0x7f;
        size_t hl = 2;
        if (plen == 126) {
            if (avail < 4)
                break;
            plen = ((uint64_t)d[2] << 8) | d[3];
            hl = 4;
        } else if (plen == 127) {
            if (avail < 10)
                break;
            plen = 0;
            for (int k = 0; k < 8; k++)
                plen = (plen << 8) | d[2 + k];
            hl = 10;
        }
        if (plen > (64u << 20)) {
            ws_finish(ws, "frame too large");
            return -1;
        }
        size_t mk = masked ? 4 : 0;
        if (avail < hl + mk + plen)
            break;
        char *pl = data + off + hl + mk;
        if (masked)
            for (size_t k = 0; k < plen; k++)
                pl[k] ^= (char)d[hl + (k & 3)];
        off += hl + mk + plen;
        if (ws_frame(ws, fin, op, pl, (size_t)plen) != 0)
            return -1;
    }
    return ws->state == WS_CLOSED ? -1 : (ssize_t)off;
}

/* Handshake: the server's 101 with the right Sec-WebSocket-Accept; returns header bytes or 0
 * when incomplete, -1 when refused. */
static ssize_t ws_handshake(lg_ws_t *ws, const char *data, size_t len)
{
    const char *end = NULL;
    for (size_t i = 3; i < len; i++)
        if (data[i] == '\n' && data[i - 1] == '\r' && data[i - 2] == '\n' && data[i - 3] == '\r') {
            end = data + i + 1;
            break;
        }
    if (!end)
        return len > 16384 ? -1 : 0;
    if (len < 12 || strncmp(data, "HTTP/1.1 101", 12) != 0)
        return -1;
    const char *p = data;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        if ((size_t)(eol - p) > 21 && strncasecmp(p, "sec-websocket-accept:", 21) == 0) {
            const char *v = p + 21;
            while (*v == ' ')
                v++;
            size_t al = strlen(ws->accept);
            if ((size_t)(eol - v) >= al && memcmp(v, ws->accept, al) == 0)
                return end - data;
            return -1;
        }
        p = eol + 1;
    }
    return -1;
}

static void ws_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    lg_ws_t *ws = s->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        ws_finish(ws, ws->state == WS_CLOSING ? "closed" : nread == UV_EOF ? "eof" : "read error");
        return;
    }
    lg_ws_bytes_in += (uint64_t)nread;
    char *data = b->base;
    size_t len = (size_t)nread;
    int own = 0;
    if (ws->in_len) {
        bappend(&ws->in, &ws->in_len, &ws->in_cap, b->base, len);
        data = ws->in;
        len = ws->in_len;
        own = 1;
    }
    size_t off = 0;
    if (ws->state == WS_HANDSHAKE) {
        ssize_t hl = ws_handshake(ws, data, len);
        if (hl < 0) {
            ws_finish(ws, "handshake refused");
            return;
        }
        if (hl == 0) {
            if (!own)
                bappend(&ws->in, &ws->in_len, &ws->in_cap, data, len);
            return;
        }
        off = (size_t)hl;
        ws->state = WS_OPEN;
        uv_timer_stop(&ws->timer);
        if (ws->h->on_open)
            ws->h->on_open(ws, ws->ud);
        if (ws->state != WS_OPEN)
            return;
    }
    ssize_t used = ws_parse(ws, data + off, len - off);
    if (used < 0)
        return;
    off += (size_t)used;
    size_t rest = len - off;
    if (own) {
        memmove(ws->in, ws->in + off, rest);
        ws->in_len = rest;
    } else if (rest) {
        ws->in_len = 0;
        bappend(&ws->in, &ws->in_len, &ws->in_cap, data + off, rest);
    }
    if (ws->in_len == 0 && ws->in_cap > 65536) { /* a big snapshot passed: give the memory back */
        free(ws->in);
        ws->in = NULL;
        ws->in_cap = 0;
    }
}

static void ws_hs_written(uv_write_t *w, int status)
{
    lg_ws_t *ws = w->data;
    free(w);
    free(ws->hs);
    ws->hs = NULL;
    if (status < 0 && status != UV_ECANCELED)
        ws_finish(ws, "handshake write error");
}

static void ws_connected(uv_connect_t *c, int status)
{
    lg_ws_t *ws = c->data;
    if (ws->state != WS_CONNECTING)
        return;
    if (status < 0) {
        ws_finish(ws, status == UV_ECANCELED ? "connect timeout" : "connect error");
        return;
    }
    uv_tcp_nodelay(&ws->tcp, 1);
    ws->state = WS_HANDSHAKE;
    uv_write_t *w = xmalloc(sizeof(*w));
    w->data = ws;
    uv_buf_t b = uv_buf_init(ws->hs, (unsigned)strlen(ws->hs));
    if (uv_write(w, (uv_stream_t *)&ws->tcp, &b, 1, ws_hs_written) != 0) {
        free(w);
        ws_finish(ws, "handshake write error");
        return;
    }
    uv_read_start((uv_stream_t *)&ws->tcp, lg_alloc, ws_read);
}

static void ws_hs_timeout(uv_timer_t *t)
{
    lg_ws_t *ws = t->data;
    ws_finish(ws, ws->state == WS_CONNECTING ? "connect timeout" : "handshake timeout");
}

lg_ws_t *lg_ws_connect(uv_loop_t *loop, const struct sockaddr_in *addr, const char *host,
                       const char *path, const lg_ws_handlers_t *h, void *ud,
                       uint64_t handshake_timeout_ms)
{
    lg_ws_t *ws = xmalloc(sizeof(*ws));
    memset(ws, 0, sizeof(*ws));
    ws->h = h;
    ws->ud = ud;
    unsigned char raw[16];
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = lg_rand();
        memcpy(raw + i, &r, 8);
    }
    char key[32];
    EVP_EncodeBlock((unsigned char *)key, raw, 16);
    char cat[80];
    snprintf(cat, sizeof(cat), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_Digest(cat, strlen(cat), md, &mdlen, EVP_sha1(), NULL);
    EVP_EncodeBlock((unsigned char *)ws->accept, md, (int)mdlen);
    size_t cap = strlen(host) + strlen(path) + 256;
    ws->hs = xmalloc(cap);
    snprintf(ws->hs, cap,
             "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
             path, host, key);
    uv_tcp_init(loop, &ws->tcp);
    uv_timer_init(loop, &ws->timer);
    ws->handles = 2;
    ws->tcp.data = ws;
    ws->timer.data = ws;
    ws->creq.data = ws;
    ws->state = WS_CONNECTING;
    uv_timer_start(&ws->timer, ws_hs_timeout, handshake_timeout_ms, 0);
    int rc = uv_tcp_connect(&ws->creq, &ws->tcp, (const struct sockaddr *)addr, ws_connected);
    if (rc != 0) {
        ws->why = "connect error";
        ws_finish(ws, "connect error"); /* on_close follows from the loop */
    }
    return ws;
}
