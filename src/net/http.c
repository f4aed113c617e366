/* HTTP/1.1 connections: accept, read, parse with llhttp, enforce limits and timeouts, dispatch
 * through the router one request at a time (pipelined requests wait their turn), write. */
#include "net/http_int.h"

#include "core/random.h"
#include "core/err.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_LINGER_MS 2000
#define HTTP_READ_CHUNK 65536
#define HTTP_MAX_HEADERS 100

static void conn_process(http_conn_t *c);
static void conn_close(http_conn_t *c);
static void conn_finish_request(http_conn_t *c);
static void conn_read_start(http_conn_t *c);
static void conn_on_timer(uv_timer_t *t);

void http_limits_defaults(http_limits_t *l)
{
    memset(l, 0, sizeof(*l));
    l->max_header_bytes = 16 * 1024;
    l->max_connections = 20000;
    l->header_timeout_ms = 10000;
    l->idle_timeout_ms = 60000;
    l->max_pipeline_bytes = 1024 * 1024;
    l->access_log = 1;
    l->read_budget_ns = READ_BUDGET_NS;
}

/* ---- small accessors ------------------------------------------------------------------------ */

const char *http_req_header(const http_req_t *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

const char *http_req_param(const http_req_t *req, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < req->params.n; i++)
        if (req->params.name_lens[i] == n && memcmp(req->params.names[i], name, n) == 0)
            return req->params.values[i]; /* copied into the arena, NUL-terminated */
    return NULL;
}

uv_tcp_t *http_conn_stream(http_conn_t *c)
{
    return c->tcp;
}

http_server_t *http_conn_server(http_conn_t *c)
{
    return c->srv;
}

int http_server_read_budget_spent(http_server_t *s, uint64_t *put_off)
{
    return read_budget_spent(&s->reads, put_off);
}

uv_loop_t *http_server_loop(const http_server_t *s)
{
    return s->loop;
}

const http_stats_t *http_server_stats(const http_server_t *s)
{
    return &s->stats;
}

http_stats_t *http_server_stats_mut(http_server_t *s)
{
    return &s->stats;
}

const http_limits_t *http_server_limits(const http_server_t *s)
{
    return &s->lim;
}

/* ---- connection lifetime -------------------------------------------------------------------- */

static void server_on_flush_closed(void *ctx)
{
    http_server_t *s = ctx;
    void (*done)(http_server_t *, void *) = s->done;
    s->done = NULL;
    if (done)
        done(s, s->done_ctx);
}

static void server_on_reads_closed(void *ctx)
{
    http_server_t *s = ctx;
    out_flusher_close(&s->flush, server_on_flush_closed, s);
}

/* Shutting down and the last connection is gone: done runs once the read budget's and the flush
 * handle are closed. */
static void server_finish(http_server_t *s)
{
    read_budget_close(&s->reads, server_on_reads_closed, s);
}

static void conn_unref(http_conn_t *c)
{
    if (--c->refs > 0)
        return;
    http_server_t *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else if (s->conns == c)
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    out_batch_deinit(&c->out);
    if (c->req) {
        arena_deinit(&c->req->arena);
        buf_deinit(&c->req->body);
        free(c->req);
    }
    http_resp_deinit(&c->resp);
    buf_deinit(&c->in);
    buf_deinit(&c->field);
    buf_deinit(&c->value);
    buf_deinit(&c->url);
    if (!c->detached && !c->refused)
        s->stats.open_http--;
    free(c);
    if (s->shutting_down && !s->conns)
        server_finish(s);
}

static void conn_on_tcp_close(uv_handle_t *h)
{
    http_conn_t *c = h->data;
    free(h);
    conn_unref(c);
}

static void conn_on_timer_close(uv_handle_t *h)
{
    conn_unref(h->data);
}

static void conn_close(http_conn_t *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    /* what is still queued goes out if the kernel takes it at once (a client that half-closed
     * after its request still reads the answer); the rest is dropped */
    out_batch_abandon(&c->out, (uv_stream_t *)c->tcp);
    uv_close((uv_handle_t *)&c->timer, conn_on_timer_close);
    if (c->tcp)
        uv_close((uv_handle_t *)c->tcp, conn_on_tcp_close);
}

uv_tcp_t *http_conn_detach(http_conn_t *c)
{
    uv_tcp_t *tcp = c->tcp;
    /* answers before the upgrade go first; a failure shows up later */
    (void)out_batch_write(&c->out, (uv_stream_t *)tcp);
    uv_read_stop((uv_stream_t *)tcp);
    c->tcp = NULL;
    c->detached = 1;
    c->srv->stats.open_http--;
    c->refs--; /* the socket's reference now belongs to the caller */
    conn_close(c);
    return tcp;
}

static void conn_timer_arm(http_conn_t *c, uint64_t ms)
{
    if (!c->closing)
        uv_timer_start(&c->timer, conn_on_timer, ms, 0);
}

/* ---- writing -------------------------------------------------------------------------------- */

/* Responses queued during a loop turn go out in one write at its end, or sooner once a batch is
 * this large (bounds the iovec and what waits). */
#define HTTP_BATCH_BUFS 16
#define HTTP_BATCH_BYTES (64 * 1024)

static void conn_on_shutdown(uv_shutdown_t *req, int status)
{
    http_conn_t *c = req->data;
    (void)status;
    conn_timer_arm(c, HTTP_LINGER_MS); /* wait for the peer's EOF, then close */
    conn_unref(c);
}

/* Half-closes after the last write so a client still sending gets the response, not a reset. */
static void conn_linger(http_conn_t *c)
{
    if (c->lingering || c->closing)
        return;
    c->lingering = 1;
    c->shutdown_req.data = c;
    c->refs++;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)c->tcp, conn_on_shutdown) != 0) {
        c->refs--;
        conn_close(c);
    }
}

/* Writes what is queued on c; closes it on a failure, half-closes it when it was its last. */
static void conn_out_flush(void *conn)
{
    http_conn_t *c = conn;
    if (c->closing || !c->tcp)
        return;
    if (out_batch_write(&c->out, (uv_stream_t *)c->tcp) != 0)
        conn_close(c);
    else if (c->close_after && out_batch_idle(&c->out))
        conn_linger(c);
}

/* A uv_write of c's output holds a reference until it ends. */
static void conn_out_hold(void *conn)
{
    ((http_conn_t *)conn)->refs++;
}

static void conn_out_written(void *conn, int status)
{
    http_conn_t *c = conn;
    if (status < 0)
        conn_close(c);
    else if (c->close_after && out_batch_idle(&c->out))
        conn_linger(c);
    conn_unref(c);
}

static const out_ops_t conn_out_ops = {conn_out_flush, conn_out_hold, conn_out_written};

int http_conn_write_owned(http_conn_t *c, char *data, size_t len)
{
    if (c->closing || !c->tcp) {
        free(data);
        return GV_EIO;
    }
    if (out_batch_push(&c->out, data, len, free, data) != 0) {
        conn_close(c);
        return GV_ENOMEM;
    }
    if (out_batch_full(&c->out))
        conn_out_flush(c);
    else
        out_batch_flush_later(&c->out);
    return 0;
}

int http_conn_write_raw(http_conn_t *c, const char *data, size_t len)
{
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return GV_ENOMEM;
    memcpy(copy, data, len);
    return http_conn_write_owned(c, copy, len);
}

/* ---- parser callbacks ----------------------------------------------------------------------- */

static http_conn_t *conn_of(llhttp_t *p)
{
    return p->data;
}

static int conn_fail_cb(http_conn_t *c, int err)
{
    c->err = err;
    return HPE_USER;
}

static int conn_count_header_bytes(http_conn_t *c, size_t len)
{
    c->header_bytes += len;
    return c->header_bytes > c->srv->lim.max_header_bytes ? GV_EHEADERS_TOO_LARGE : 0;
}

static int on_message_begin(llhttp_t *p)
{
    http_conn_t *c = conn_of(p);
    http_req_t *req = calloc(1, sizeof(*req));
    if (!req)
        return conn_fail_cb(c, GV_ENOMEM);
    arena_init(&req->arena);
    buf_init(&req->body);
    req->conn = c;
    req->start_us = (int64_t)uv_hrtime() / 1000;
    c->req = req;
    c->state = CONN_HEADERS;
    c->header_bytes = 0;
    c->url.len = c->field.len = c->value.len = 0;
    conn_timer_arm(c, c->srv->lim.header_timeout_ms);
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    http_conn_t *c = conn_of(p);
    if (conn_count_header_bytes(c, len))
        return conn_fail_cb(c, GV_EHEADERS_TOO_LARGE);
    return buf_append(&c->url, at, len) ? conn_fail_cb(c, GV_ENOMEM) : 0;
}

/* Stores the header received so far (name lower-cased, value trimmed) in the request. */
static int conn_header_store(http_conn_t *c)
{
    http_req_t *req = c->req;
    if (c->field.len == 0)
        return 0;
    if (req->nheaders >= HTTP_MAX_HEADERS)
        return GV_EHEADERS_TOO_LARGE;
    if (req->nheaders == req->headers_cap) {
        size_t cap = req->headers_cap ? req->headers_cap * 2 : 16;
        http_header_t *h = arena_alloc(&req->arena, cap * sizeof(*h));
        if (!h)
            return GV_ENOMEM;
        if (req->nheaders)
            memcpy(h, req->headers, req->nheaders * sizeof(*h));
        req->headers = h;
        req->headers_cap = cap;
    }
    char *name = arena_strndup(&req->arena, c->field.data, c->field.len);
    const char *v = c->value.len ? c->value.data : "";
    size_t vn = c->value.len;
    while (vn && (*v == ' ' || *v == '\t'))
        v++, vn--;
    while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
        vn--;
    char *value = arena_strndup(&req->arena, v, vn);
    if (!name || !value)
        return GV_ENOMEM;
    for (char *q = name; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q + 32);
    req->headers[req->nheaders].name = name;
    req->headers[req->nheaders].value = value;
    req->nheaders++;
    c->field.len = c->value.len = 0;
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    http_conn_t *c = conn_of(p);
    int rc = conn_count_header_bytes(c, len);
    if (!rc)
        rc = buf_append(&c->field, at, len);
    return rc ? conn_fail_cb(c, rc) : 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    http_conn_t *c = conn_of(p);
    int rc = conn_count_header_bytes(c, len);
    if (!rc)
        rc = buf_append(&c->value, at, len);
    return rc ? conn_fail_cb(c, rc) : 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    http_conn_t *c = conn_of(p);
    int rc = conn_header_store(c);
    return rc ? conn_fail_cb(c, rc) : 0;
}

/* A client-supplied X-Request-Id is echoed when it is short and plain; otherwise one is made. */
static void conn_request_id(http_conn_t *c, http_req_t *req)
{
    const char *rid = http_req_header(req, "x-request-id");
    size_t n = rid ? strlen(rid) : 0;
    int ok = n > 0 && n <= 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = (rid[i] >= 'a' && rid[i] <= 'z') || (rid[i] >= 'A' && rid[i] <= 'Z') ||
             (rid[i] >= '0' && rid[i] <= '9') || strchr("-_.:", rid[i]);
    if (ok)
        memcpy(req->request_id, rid, n + 1);
    else
        snprintf(req->request_id, sizeof(req->request_id), "%s-%06llx", c->srv->rid_prefix,
                 (unsigned long long)++c->srv->rid_counter);
}

/* The client's address: the peer, or with --trust-proxy the last X-Forwarded-For hop. */
static void conn_client_ip(http_conn_t *c, http_req_t *req)
{
    snprintf(req->client_ip, sizeof(req->client_ip), "%s", c->peer_ip);
    const char *xff = c->srv->lim.trust_proxy ? http_req_header(req, "x-forwarded-for") : NULL;
    if (!xff)
        return;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ')
        last++;
    char ip[64];
    size_t n = strcspn(last, " ");
    if (n == 0 || n >= sizeof(ip))
        return;
    memcpy(ip, last, n);
    ip[n] = '\0';
    unsigned char tmp[16];
    if (inet_pton(AF_INET, ip, tmp) == 1 || inet_pton(AF_INET6, ip, tmp) == 1)
        memcpy(req->client_ip, ip, n + 1);
}

/* Splits the target into path and query and finds the route. */
static int conn_route(http_conn_t *c, http_req_t *req, int *allow)
{
    req->target = arena_strndup(&req->arena, c->url.data ? c->url.data : "", c->url.len);
    if (!req->target)
        return GV_ENOMEM;
    const char *q = strchr(req->target, '?');
    size_t plen = q ? (size_t)(q - req->target) : strlen(req->target);
    req->path = arena_strndup(&req->arena, req->target, plen);
    req->query = q ? q + 1 : "";
    if (!req->path)
        return GV_ENOMEM;
    if (req->path[0] != '/')
        return GV_EBAD_HTTP;
    int rc = router_match(c->srv->router, req->method, req->path, plen, &req->route, &req->params,
                          allow);
    for (int i = 0; rc == 0 && i < req->params.n; i++) {
        req->params.values[i] =
            arena_strndup(&req->arena, req->params.values[i], req->params.value_lens[i]);
        if (!req->params.values[i])
            return GV_ENOMEM;
    }
    return rc;
}

/* A body sent to a route that takes none (body_limit 0), or with a request that matches no
 * route, is read and discarded, never buffered, so that it changes nothing: the request is
 * answered as if it had none (401 before anything else). Only one larger than this is 413. */
#define HTTP_IGNORED_BODY_MAX (1024 * 1024)

/* 1 when the request's route reads its body (the bytes are kept in req->body). */
static int conn_body_kept(const http_req_t *req)
{
    return req->route && req->route->body_limit > 0;
}

static size_t conn_body_limit(const http_req_t *req)
{
    return conn_body_kept(req) ? req->route->body_limit : HTTP_IGNORED_BODY_MAX;
}

static int on_headers_complete(llhttp_t *p)
{
    http_conn_t *c = conn_of(p);
    http_req_t *req = c->req;
    int allow = 0;
    req->method =
        router_method_parse(llhttp_method_name(p->method), strlen(llhttp_method_name(p->method)));
    req->method_name = llhttp_method_name(p->method);
    req->keep_alive = llhttp_should_keep_alive(p);
    conn_request_id(c, req);
    conn_client_ip(c, req);
    int rc = conn_route(c, req, &allow);
    c->allow = allow;
    if (rc == GV_ENOMEM || rc == GV_EBAD_HTTP)
        return conn_fail_cb(c, rc);
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > conn_body_limit(req))
        return conn_fail_cb(c, GV_EPAYLOAD_TOO_LARGE);
    const char *expect = http_req_header(req, "expect");
    if (expect && strcasecmp(expect, "100-continue") != 0)
        return conn_fail_cb(c, GV_EEXPECTATION_FAILED);
    if (expect && !p->upgrade)
        http_conn_write_raw(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    c->state = CONN_BODY;
    conn_timer_arm(c, c->srv->lim.idle_timeout_ms);
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    http_conn_t *c = conn_of(p);
    http_req_t *req = c->req;
    if (len > conn_body_limit(req) - req->body_bytes)
        return conn_fail_cb(c, GV_EPAYLOAD_TOO_LARGE);
    req->body_bytes += len;
    if (!conn_body_kept(req))
        return 0;
    return buf_append(&req->body, at, len) ? conn_fail_cb(c, GV_ENOMEM) : 0;
}

static int on_message_complete(llhttp_t *p)
{
    /* Upgrades stop the parser by themselves (HPE_PAUSED_UPGRADE); others pause here so that
     * one request is handled at a time and pipelined ones wait in the input buffer. */
    return p->upgrade ? 0 : HPE_PAUSED;
}

static const llhttp_settings_t conn_parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- dispatch and respond ------------------------------------------------------------------- */

static void conn_log(http_conn_t *c, const http_req_t *req, const http_resp_t *resp, int64_t us)
{
    if (!c->srv->lim.access_log)
        return;
    log_info("http method=%s path=%.200s status=%d bytes=%zu us=%lld rid=%s ip=%s",
             req->method_name ? req->method_name : "-", req->path ? req->path : "-", resp->status,
             resp->body.len, (long long)us, req->request_id, req->client_ip);
}

/* Sends c->resp for c->req, frees the request and moves to the next one. */
static void conn_respond(http_conn_t *c)
{
    http_req_t *req = c->req;
    http_resp_t *resp = &c->resp;
    http_server_t *s = c->srv;
    if (!req->keep_alive || s->shutting_down || c->err)
        resp->close = 1;
    resp->head = req->method == HTTP_M_HEAD;
    int64_t us = (int64_t)uv_hrtime() / 1000 - req->start_us;
    if (!c->closing && http_conn_write_response(c, req, resp) != 0)
        conn_close(c);
    if (s->observe)
        s->observe(s->observe_ctx, req->route, resp->status, us);
    if (s->on_error && resp->status >= 500)
        s->on_error(s->on_error_ctx, req, resp);
    conn_log(c, req, resp, us);
    if (resp->close)
        c->close_after = 1;
    conn_finish_request(c);
}

static void conn_finish_request(http_conn_t *c)
{
    arena_deinit(&c->req->arena);
    buf_deinit(&c->req->body);
    free(c->req);
    c->req = NULL;
    http_resp_deinit(&c->resp);
    http_resp_init(&c->resp);
    c->state = CONN_IDLE;
    if (c->close_after) {
        if (out_batch_idle(&c->out))
            conn_linger(c);
        return;
    }
    conn_timer_arm(c, c->srv->lim.idle_timeout_ms);
}

static void conn_dispatch_route(http_conn_t *c, http_req_t *req, http_resp_t *resp)
{
    const router_t *r = c->srv->router;
    int allow = c->allow;
    if (!allow && r->fallback && (req->method & (HTTP_M_GET | HTTP_M_HEAD))) {
        r->fallback(req, resp, r->fallback_ctx);
        return;
    }
    if (!allow) {
        http_resp_error(resp, GV_ENOT_FOUND, NULL, NULL);
        return;
    }
    char methods[80];
    router_allow_format(allow, methods, sizeof(methods));
    http_resp_error(resp, GV_EMETHOD_NOT_ALLOWED, NULL, NULL);
    http_resp_header(resp, "Allow", methods);
}

/* Hands a complete request to CORS, its route, the fallback or an error. */
static void conn_dispatch(http_conn_t *c)
{
    http_req_t *req = c->req;
    http_resp_t *resp = &c->resp;
    c->state = CONN_HANDLING;
    uv_timer_stop(&c->timer);
    c->dispatching = 1;
    if (req->method == HTTP_M_OPTIONS && http_req_header(req, "origin") &&
        http_req_header(req, "access-control-request-method"))
        http_cors_preflight(&c->srv->lim, req, resp);
    else if (req->route)
        req->route->fn(req, resp, req->route->ctx);
    else if (req->path)
        conn_dispatch_route(c, req, resp);
    else
        http_resp_error(resp, GV_EBAD_HTTP, NULL, NULL);
    c->dispatching = 0;
    if (!resp->deferred)
        conn_respond(c);
}

void http_resp_defer(http_resp_t *resp)
{
    http_conn_t *c = (http_conn_t *)((char *)resp - offsetof(http_conn_t, resp));
    resp->deferred = 1;
    c->refs++;
}

void http_resp_finish(http_resp_t *resp)
{
    http_conn_t *c = (http_conn_t *)((char *)resp - offsetof(http_conn_t, resp));
    resp->deferred = 0;
    if (c->dispatching) {
        c->refs--; /* finished inside its own handler: conn_dispatch sends it */
        return;
    }
    if (c->closing) {
        conn_finish_request(c);
    } else {
        conn_respond(c);
        conn_process(c);
    }
    conn_unref(c);
}

/* Answers a request the parser refused (malformed, too large, ...) and closes. */
static void conn_reject(http_conn_t *c, int err)
{
    http_server_t *s = c->srv;
    s->stats.parse_errors++;
    if (!c->req) {
        on_message_begin(&c->parser);
        if (!c->req) {
            conn_close(c);
            return;
        }
    }
    c->err = err;
    http_req_t *req = c->req;
    if (!req->request_id[0])
        conn_request_id(c, req);
    if (!req->client_ip[0])
        snprintf(req->client_ip, sizeof(req->client_ip), "%s", c->peer_ip);
    http_resp_deinit(&c->resp);
    http_resp_init(&c->resp);
    http_resp_error(&c->resp, err == GV_ENOMEM ? GV_EINTERNAL : err, NULL, NULL);
    c->state = CONN_HANDLING;
    conn_respond(c);
}

static int conn_errno_to_err(http_conn_t *c)
{
    if (c->err)
        return c->err; /* set by our callback, whichever HPE_CB_* llhttp reports it as */
    return GV_EBAD_HTTP;
}

/* Hands an upgrade request to the WebSocket layer; others are answered and closed. */
static void conn_upgrade(http_conn_t *c, size_t used)
{
    http_server_t *s = c->srv;
    const char *rest = c->in.data + used;
    size_t rest_len = c->in.len - used;
    int rc = s->upgrade ? s->upgrade(c, c->req, &c->resp, rest, rest_len, s->upgrade_ctx)
                        : GV_ENOT_FOUND;
    if (rc == 0)
        return; /* detached: c is closing and no longer ours to touch beyond this point */
    c->in.len = 0;
    c->req->keep_alive = 0;
    if (rc == GV_ENOT_FOUND) {
        conn_dispatch(c);
        return;
    }
    if (c->resp.body.len == 0)
        http_resp_error(&c->resp, rc, NULL, NULL);
    c->state = CONN_HANDLING;
    conn_respond(c);
}

static void conn_process(http_conn_t *c)
{
    if (c->in_process)
        return;
    c->in_process = 1;
    while (!c->closing && !c->close_after && c->state != CONN_HANDLING && c->in.len > 0) {
        llhttp_errno_t e = llhttp_execute(&c->parser, c->in.data, c->in.len);
        size_t used = c->in.len;
        if (e != HPE_OK)
            used = (size_t)(llhttp_get_error_pos(&c->parser) - c->in.data);
        if (e == HPE_PAUSED) {
            buf_consume(&c->in, used);
            llhttp_resume(&c->parser);
            conn_dispatch(c);
        } else if (e == HPE_PAUSED_UPGRADE) {
            c->in_process = 0;
            conn_upgrade(c, used);
            return;
        } else if (e != HPE_OK) {
            c->in.len = 0;
            conn_reject(c, conn_errno_to_err(c));
        } else {
            c->in.len = 0;
        }
    }
    c->in_process = 0;
    if (!c->closing && !c->reading && c->in.len < c->srv->lim.max_pipeline_bytes)
        conn_read_start(c);
}

/* ---- reading -------------------------------------------------------------------------------- */

static void conn_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    http_conn_t *c = h->data;
    (void)suggested;
    if (read_budget_spent(&c->srv->reads, &c->srv->stats.http_reads_put_off)) {
        c->put_off = 1; /* still readable: the next turns read it */
        *out = uv_buf_init(NULL, 0);
        return;
    }
    if (buf_reserve(&c->in, HTTP_READ_CHUNK) != 0) {
        *out = uv_buf_init(NULL, 0);
        return;
    }
    *out = uv_buf_init(c->in.data + c->in.len, HTTP_READ_CHUNK);
}

static void conn_on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *b)
{
    http_conn_t *c = stream->data;
    (void)b;
    if (n == UV_ENOBUFS && c->put_off) {
        c->put_off = 0;
        return;
    }
    if (n < 0) {
        conn_close(c); /* EOF or error; a deferred response keeps c alive until it finishes */
        return;
    }
    if (n == 0 || c->closing)
        return;
    if (c->lingering || c->close_after)
        return; /* discard what a closing peer still sends */
    c->in.len += (size_t)n;
    c->in.data[c->in.len] = '\0';
    if (c->state == CONN_BODY)
        conn_timer_arm(c, c->srv->lim.idle_timeout_ms);
    if (c->in.len >= c->srv->lim.max_pipeline_bytes && c->state == CONN_HANDLING) {
        uv_read_stop(stream); /* back-pressure: resume when the queue drains */
        c->reading = 0;
    }
    conn_process(c);
}

static void conn_read_start(http_conn_t *c)
{
    if (uv_read_start((uv_stream_t *)c->tcp, conn_on_alloc, conn_on_read) == 0)
        c->reading = 1;
}

static void conn_on_timer(uv_timer_t *t)
{
    http_conn_t *c = t->data;
    if (c->lingering || c->state == CONN_IDLE || c->state == CONN_HEADERS) {
        if (c->state == CONN_HEADERS)
            c->srv->stats.timeouts++;
        conn_close(c); /* idle keep-alive, slow headers (slowloris) or a finished linger */
        return;
    }
    if (c->state == CONN_BODY) {
        c->srv->stats.timeouts++;
        c->in.len = 0;
        conn_reject(c, GV_ETIMEOUT);
    }
}

/* ---- accepting ------------------------------------------------------------------------------ */

static void conn_peer_ip(http_conn_t *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    snprintf(c->peer_ip, sizeof(c->peer_ip), "-");
    if (uv_tcp_getpeername(c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET)
        uv_ip4_name((struct sockaddr_in *)&ss, c->peer_ip, sizeof(c->peer_ip));
    else if (ss.ss_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)&ss, c->peer_ip, sizeof(c->peer_ip));
}

static http_conn_t *conn_new(http_server_t *s)
{
    http_conn_t *c = calloc(1, sizeof(*c));
    uv_tcp_t *tcp = malloc(sizeof(*tcp));
    if (!c || !tcp || uv_tcp_init(s->loop, tcp) != 0) {
        free(c);
        free(tcp);
        return NULL;
    }
    c->srv = s;
    c->tcp = tcp;
    tcp->data = c;
    out_batch_init(&c->out, &s->flush, c);
    uv_timer_init(s->loop, &c->timer);
    c->timer.data = c;
    c->refs = 2; /* the socket and the timer */
    http_resp_init(&c->resp);
    llhttp_init(&c->parser, HTTP_REQUEST, &conn_parser_settings);
    c->parser.data = c;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->stats.open_http++;
    return c;
}

/* Starts serving c: refuses it at the connection limit, else arms the header timer and reads. */
static void conn_start(http_server_t *s, http_conn_t *c)
{
    s->stats.accepted++;
    uv_tcp_nodelay(c->tcp, 1);
    conn_peer_ip(c);
    if (s->stats.open_http + s->stats.open_ws > s->lim.max_connections || s->shutting_down) {
        s->stats.refused++;
        static const char body[] = "{\"error\":{\"code\":\"unavailable\",\"message\":\"The "
                                   "server is at its connection limit.\"}}";
        char busy[256];
        int n = snprintf(busy, sizeof(busy),
                         "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; "
                         "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                         sizeof(body) - 1, body);
        c->close_after = 1;
        c->refused = 1;
        s->stats.open_http--; /* a refused connection never counts toward the limit */
        http_conn_write_raw(c, busy, (size_t)n);
        conn_read_start(c); /* to see the peer's EOF and free the slot at once */
        return;
    }
    conn_timer_arm(c, s->lim.header_timeout_ms);
    conn_read_start(c);
}

static void server_on_connection(uv_stream_t *listener, int status)
{
    http_server_t *s = listener->data;
    if (status < 0)
        return;
    http_conn_t *c = conn_new(s);
    if (!c)
        return;
    if (uv_accept(listener, (uv_stream_t *)c->tcp) != 0) {
        conn_close(c);
        return;
    }
    conn_start(s, c);
}

int http_server_adopt(http_server_t *s, uv_os_sock_t fd)
{
    http_conn_t *c = conn_new(s);
    if (!c)
        return GV_ENOMEM;
    if (uv_tcp_open(c->tcp, fd) != 0) {
        conn_close(c);
        return GV_EIO;
    }
    conn_start(s, c);
    return 0;
}

/* ---- server --------------------------------------------------------------------------------- */

http_server_t *http_server_new(uv_loop_t *loop, const router_t *router, const http_limits_t *lim)
{
    http_server_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->loop = loop;
    s->router = router;
    s->lim = *lim;
    out_flusher_init(&s->flush, loop, &conn_out_ops, HTTP_BATCH_BUFS, HTTP_BATCH_BYTES,
                     &s->stats.http_writes);
    read_budget_init(&s->reads, loop, s->lim.read_budget_ns);
    unsigned char rnd[4] = {0};
    (void)random_bytes(rnd, sizeof(rnd)); /* a request-id prefix: zeros are harmless */
    snprintf(s->rid_prefix, sizeof(s->rid_prefix), "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
             rnd[3]);
    return s;
}

void http_server_set_upgrade(http_server_t *s, http_upgrade_fn fn, void *ctx)
{
    s->upgrade = fn;
    s->upgrade_ctx = ctx;
}

void http_server_set_observer(http_server_t *s, http_observe_fn fn, void *ctx)
{
    s->observe = fn;
    s->observe_ctx = ctx;
}

void http_server_set_error_observer(http_server_t *s, http_error_fn fn, void *ctx)
{
    s->on_error = fn;
    s->on_error_ctx = ctx;
}

int http_server_listen(http_server_t *s, const char *host, int port, int *bound_port)
{
    struct sockaddr_storage addr;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr) != 0)
        return GV_EINVALID_REQUEST;
    if (uv_tcp_init(s->loop, &s->listener) != 0)
        return GV_EIO;
    s->listener.data = s;
    s->listening = 1;
    if (uv_tcp_bind(&s->listener, (struct sockaddr *)&addr, 0) != 0 ||
        uv_listen((uv_stream_t *)&s->listener, 1024, server_on_connection) != 0)
        return GV_EIO;
    int len = sizeof(addr);
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&addr, &len);
    *bound_port = ntohs(addr.ss_family == AF_INET ? ((struct sockaddr_in *)&addr)->sin_port
                                                  : ((struct sockaddr_in6 *)&addr)->sin6_port);
    return 0;
}

void http_server_shutdown(http_server_t *s, void (*done)(http_server_t *s, void *ctx), void *ctx)
{
    s->shutting_down = 1;
    s->done = done;
    s->done_ctx = ctx;
    if (s->listening) {
        uv_close((uv_handle_t *)&s->listener, NULL);
        s->listening = 0;
    }
    for (http_conn_t *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (c->state != CONN_IDLE || c->in.len)
            continue; /* busy ones close after their response (Connection: close) */
        if (out_batch_idle(&c->out))
            conn_close(c);
        else
            c->close_after = 1; /* once its last answer is written */
    }
    if (!s->conns)
        server_finish(s);
}

void http_server_free(http_server_t *s)
{
    free(s);
}
