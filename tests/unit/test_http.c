/* The HTTP connection code end to end in-process: a socketpair adopted by a real server on a
 * real loop; checks limits (431, 413), pipelining order, deferred answers and error bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "net/http.h"

static http_resp_t *g_deferred;

static void h_echo(http_req_t *req, http_resp_t *resp, void *ctx)
{
    (void)ctx;
    char body[128];
    int n = snprintf(body, sizeof(body), "{\"id\":\"%s\",\"len\":%zu}",
                     http_req_param(req, "id") ? http_req_param(req, "id") : "-", req->body.len);
    http_resp_json(resp, 200, body, (size_t)n);
}

static void h_defer(http_req_t *req, http_resp_t *resp, void *ctx)
{
    (void)req, (void)ctx;
    http_resp_defer(resp);
    g_deferred = resp;
}

/* Defers and finishes within the same call (a commit that completed at once). */
static void h_defer_finish_now(http_req_t *req, http_resp_t *resp, void *ctx)
{
    (void)req, (void)ctx;
    http_resp_defer(resp);
    http_resp_json(resp, 200, "{\"now\":true}", 12);
    http_resp_finish(resp);
}

static void on_idle_finish(uv_idle_t *idle)
{
    if (g_deferred) {
        http_resp_t *resp = g_deferred;
        g_deferred = NULL;
        http_resp_json(resp, 202, "{\"later\":true}", 14);
        http_resp_finish(resp);
        uv_idle_stop(idle);
    }
}

typedef struct {
    uv_loop_t loop;
    router_t router;
    http_server_t *srv;
    int peer;
    int stopped; /* the server's shutdown completed */
    int shut;    /* the test shut the server down itself */
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    http_limits_t lim;
    int sv[2];
    log_threshold = LOG_OFF;
    uv_loop_init(&f->loop);
    router_init(&f->router);
    router_add(&f->router, HTTP_M_POST, "/things/{id}", h_echo, NULL, 1024);
    router_add(&f->router, HTTP_M_GET, "/things/{id}", h_echo, NULL, 0);
    router_add(&f->router, HTTP_M_GET, "/later", h_defer, NULL, 0);
    router_add(&f->router, HTTP_M_GET, "/now", h_defer_finish_now, NULL, 0);
    http_limits_defaults(&lim);
    lim.access_log = 0;
    f->srv = http_server_new(&f->loop, &f->router, &lim);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(http_server_adopt(f->srv, sv[0]), 0);
    f->peer = sv[1];
    *state = f;
    return 0;
}

static void on_stopped(http_server_t *s, void *ctx)
{
    (void)s;
    *(int *)ctx = 1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->peer >= 0)
        close(f->peer);
    if (!f->shut)
        http_server_shutdown(f->srv, on_stopped, &f->stopped);
    for (int i = 0; i < 1000 && !f->stopped; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_true(f->stopped);
    http_server_free(f->srv);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

/* Writes req, then runs the loop and reads until `want` responses (or EOF) arrived. */
static void exchange(fixture_t *f, const char *req, size_t len, int want, buf_t *out)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = send(f->peer, req + off, len - off, MSG_DONTWAIT);
        if (w > 0)
            off += (size_t)w;
        uv_run(&f->loop, UV_RUN_NOWAIT);
    }
    for (int i = 0; i < 20000; i++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        char tmp[65536];
        ssize_t n = recv(f->peer, tmp, sizeof(tmp), MSG_DONTWAIT);
        if (n == 0)
            return;
        if (n > 0)
            buf_append(out, tmp, (size_t)n);
        int seen = 0;
        for (const char *p = out->data; p && (p = strstr(p, "HTTP/1.1 ")); p++)
            seen++;
        if (seen >= want && out->len && strstr(out->data, "\r\n\r\n"))
            return;
    }
}

static void test_pipelined_in_order(void **state)
{
    fixture_t *f = *state;
    buf_t out;
    buf_init(&out);
    const char req[] = "GET /things/a HTTP/1.1\r\nHost: x\r\n\r\n"
                       "POST /things/b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                       "GET /things/c HTTP/1.1\r\nHost: x\r\n\r\n";
    exchange(f, req, sizeof(req) - 1, 3, &out);
    const char *a = strstr(out.data, "{\"id\":\"a\",\"len\":0}");
    const char *b = strstr(out.data, "{\"id\":\"b\",\"len\":3}");
    const char *c = strstr(out.data, "{\"id\":\"c\",\"len\":0}");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c);
    buf_deinit(&out);
}

/* Regression guard for write batching: the answers to requests parsed from one read go out in
 * one write, in order. */
static void test_pipelined_answers_share_one_write(void **state)
{
    fixture_t *f = *state;
    buf_t out;
    buf_init(&out);
    const char req[] = "GET /things/a HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /things/b HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /things/c HTTP/1.1\r\nHost: x\r\n\r\n";
    exchange(f, req, sizeof(req) - 1, 3, &out);
    const char *a = strstr(out.data, "{\"id\":\"a\"");
    const char *b = strstr(out.data, "{\"id\":\"b\"");
    const char *c = strstr(out.data, "{\"id\":\"c\"");
    assert_true(a && b && c && a < b && b < c);
    assert_int_equal(http_server_stats(f->srv)->http_writes, 1);
    buf_deinit(&out);
}

/* Reads until EOF (or a bounded number of turns); 1 at EOF. */
static int read_to_eof(fixture_t *f, buf_t *out)
{
    for (int i = 0; i < 20000; i++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        char tmp[65536];
        ssize_t n = recv(f->peer, tmp, sizeof(tmp), MSG_DONTWAIT);
        if (n == 0)
            return 1;
        if (n > 0)
            buf_append(out, tmp, (size_t)n);
    }
    return 0;
}

/* A pipelined request asking to close: both answers (in one write), then the server's FIN. */
static void test_close_after_pipelined_answers(void **state)
{
    fixture_t *f = *state;
    buf_t out;
    buf_init(&out);
    const char req[] = "GET /things/a HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /things/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(send(f->peer, req, sizeof(req) - 1, 0), (ssize_t)(sizeof(req) - 1));
    assert_true(read_to_eof(f, &out));
    const char *a = strstr(out.data, "{\"id\":\"a\"");
    const char *b = strstr(out.data, "{\"id\":\"b\"");
    assert_true(a && b && a < b);
    assert_non_null(strstr(out.data, "Connection: close"));
    assert_int_equal(http_server_stats(f->srv)->http_writes, 1);
    buf_deinit(&out);
}

/* A client that sends its request and half-closes still gets the answer, even when the end of
 * its input is read in the same turn as the request (a request that fills the read buffer
 * exactly makes libuv read on): the answer was still queued for the end of that turn. */
static void test_answer_reaches_a_client_that_half_closed(void **state)
{
    fixture_t *f = *state;
    buf_t req, out;
    buf_init(&req);
    buf_init(&out);
    enum { WHOLE = 65536 }; /* the server reads 64 KiB at a time */
    const char *head = "GET /things/h HTTP/1.1\r\nHost: x\r\nContent-Length: ";
    size_t body = WHOLE - strlen(head) - 5 - 4; /* a 5-digit length, then CRLFCRLF */
    buf_printf(&req, "%s%zu\r\n\r\n", head, body);
    assert_int_equal(req.len + body, WHOLE);
    for (size_t i = 0; i < body; i++)
        buf_puts(&req, "z");
    size_t off = 0;
    while (off < req.len) {
        ssize_t w = send(f->peer, req.data + off, req.len - off, 0);
        assert_true(w > 0);
        off += (size_t)w;
    }
    shutdown(f->peer, SHUT_WR);
    assert_true(read_to_eof(f, &out));
    assert_non_null(out.data);
    assert_non_null(strstr(out.data, "HTTP/1.1 200 "));
    assert_non_null(strstr(out.data, "{\"id\":\"h\",\"len\":0}"));
    buf_deinit(&req);
    buf_deinit(&out);
}

/* Shutting down while an idle connection's answer is still queued: the answer goes out, then
 * the connection closes (it is not left open until its idle timeout). */
static void test_shutdown_sends_a_queued_answer_then_closes(void **state)
{
    fixture_t *f = *state;
    buf_t out;
    buf_init(&out);
    const char req[] = "GET /things/q HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send(f->peer, req, sizeof(req) - 1, 0), (ssize_t)(sizeof(req) - 1));
    uv_run(&f->loop, UV_RUN_NOWAIT); /* read and answered; the write waits for the next turn */
    f->shut = 1;
    http_server_shutdown(f->srv, on_stopped, &f->stopped);
    assert_false(f->stopped); /* done never runs inside the call */
    assert_true(read_to_eof(f, &out));
    assert_non_null(out.data);
    assert_non_null(strstr(out.data, "{\"id\":\"q\""));
    close(f->peer);
    f->peer = -1;
    for (int i = 0; i < 1000 && !f->stopped; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_true(f->stopped);
    buf_deinit(&out);
}

static void test_header_limit_431(void **state)
{
    fixture_t *f = *state;
    buf_t req, out;
    buf_init(&req);
    buf_init(&out);
    buf_puts(&req, "GET /things/a HTTP/1.1\r\nHost: x\r\nX-Big: ");
    for (int i = 0; i < 17 * 1024; i++)
        buf_puts(&req, "a");
    buf_puts(&req, "\r\n\r\n");
    exchange(f, req.data, req.len, 1, &out);
    assert_non_null(strstr(out.data, "HTTP/1.1 431 "));
    assert_non_null(strstr(out.data, "\"code\":\"headers_too_large\""));
    assert_non_null(strstr(out.data, "Connection: close"));
    buf_deinit(&req);
    buf_deinit(&out);
}

static void test_body_limit_413(void **state)
{
    fixture_t *f = *state;
    buf_t out;
    buf_init(&out);
    const char req[] = "POST /things/a HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n";
    exchange(f, req, sizeof(req) - 1, 1, &out);
    assert_non_null(strstr(out.data, "HTTP/1.1 413 "));
    assert_non_null(strstr(out.data, "\"code\":\"payload_too_large\""));
    buf_deinit(&out);
}

static void test_chunked_body_limit_413(void **state)
{
    fixture_t *f = *state;
    buf_t req, out;
    buf_init(&req);
    buf_init(&out);
    buf_puts(&req, "POST /things/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; i++) {
        buf_puts(&req, "200\r\n");
        for (int k = 0; k < 512; k++)
            buf_puts(&req, "z");
        buf_puts(&req, "\r\n");
    }
    buf_puts(&req, "0\r\n\r\n");
    exchange(f, req.data, req.len, 1, &out);
    assert_non_null(strstr(out.data, "HTTP/1.1 413 "));
    buf_deinit(&req);
    buf_deinit(&out);
}

/* A route that takes no body ignores a small one (read, discarded, never 413) and the next
 * pipelined request is parsed where that body ends; the handler sees no body. */
static void test_body_on_bodyless_route_is_ignored(void **state)
{
    fixture_t *f = *state;
    buf_t out;
    buf_init(&out);
    const char req[] = "GET /things/a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
                       "GET /things/b HTTP/1.1\r\nHost: x\r\n\r\n";
    exchange(f, req, sizeof(req) - 1, 2, &out);
    assert_null(strstr(out.data, " 413 "));
    const char *a = strstr(out.data, "{\"id\":\"a\",\"len\":0}");
    const char *b = strstr(out.data, "{\"id\":\"b\",\"len\":0}");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a < b);
    buf_deinit(&out);
}

/* ... up to 1 MiB (the JSON body limit): a larger declared length is 413 at the header. */
static void test_body_on_bodyless_route_over_1mib_is_413(void **state)
{
    fixture_t *f = *state;
    buf_t out;
    buf_init(&out);
    const char req[] = "GET /things/a HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n";
    exchange(f, req, sizeof(req) - 1, 1, &out);
    assert_non_null(strstr(out.data, "HTTP/1.1 413 "));
    buf_deinit(&out);
}

static void test_smuggling_refused(void **state)
{
    fixture_t *f = *state;
    buf_t out;
    buf_init(&out);
    const char req[] = "POST /things/a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    exchange(f, req, sizeof(req) - 1, 1, &out);
    assert_non_null(strstr(out.data, "HTTP/1.1 400 "));
    assert_non_null(strstr(out.data, "Connection: close"));
    assert_null(strstr(out.data, "\"id\":"));
    buf_deinit(&out);
}

static void test_deferred_answer(void **state)
{
    fixture_t *f = *state;
    buf_t out;
    buf_init(&out);
    static uv_idle_t idle; /* outlives the test until its close completes */
    uv_idle_init(&f->loop, &idle);
    uv_idle_start(&idle, on_idle_finish);
    const char req[] = "GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET /things/z HTTP/1.1\r\n\r\n";
    exchange(f, req, sizeof(req) - 1, 2, &out);
    const char *later = strstr(out.data, "{\"later\":true}");
    const char *z = strstr(out.data, "{\"id\":\"z\"");
    assert_non_null(strstr(out.data, "HTTP/1.1 202 "));
    assert_non_null(later);
    assert_non_null(z);
    assert_true(later < z); /* the pipelined request waited for the deferred one */
    uv_close((uv_handle_t *)&idle, NULL);
    buf_deinit(&out);
}

static void test_deferred_peer_gone(void **state)
{
    fixture_t *f = *state;
    const char req[] = "GET /later HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send(f->peer, req, sizeof(req) - 1, 0), (ssize_t)(sizeof(req) - 1));
    for (int i = 0; i < 100 && !g_deferred; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_non_null(g_deferred);
    close(f->peer); /* the client leaves while the answer is pending */
    f->peer = -1;
    for (int i = 0; i < 100; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    http_resp_t *resp = g_deferred;
    g_deferred = NULL;
    http_resp_json(resp, 200, "{}", 2);
    http_resp_finish(resp); /* must not touch freed memory (ASan) nor leak */
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

/* Regression (found by fuzz_http): a handler finishing its deferred answer inside its own call
 * made the connection answer twice and touch the freed request. */
static void test_deferred_finished_in_handler(void **state)
{
    fixture_t *f = *state;
    buf_t out;
    buf_init(&out);
    const char req[] = "GET /now HTTP/1.1\r\nHost: x\r\n\r\nGET /things/y HTTP/1.1\r\n\r\n";
    exchange(f, req, sizeof(req) - 1, 2, &out);
    const char *now = strstr(out.data, "{\"now\":true}");
    assert_non_null(now);
    assert_null(strstr(now + 1, "{\"now\":true}")); /* answered exactly once */
    assert_non_null(strstr(out.data, "{\"id\":\"y\""));
    buf_deinit(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pipelined_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_answers_share_one_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_after_pipelined_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_reaches_a_client_that_half_closed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_sends_a_queued_answer_then_closes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_header_limit_431, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_limit_413, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunked_body_limit_413, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_on_bodyless_route_is_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_on_bodyless_route_over_1mib_is_413, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_smuggling_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_peer_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_finished_in_handler, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
