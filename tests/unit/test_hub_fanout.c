/* The hub's fan-out delay: one observation per committed event that reached at least one
 * subscriber (not one per socket, none for an empty room), measured from the event's commit to the
 * moment the write phase is over, with the times passed in. Real WebSocket connections (socketpairs
 * adopted by a real HTTP server on a real loop) are the subscribers. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "auction/hub.h"
#include "core/log.h"
#include "net/http.h"
#include "net/ws.h"

#define PEERS 2

typedef struct {
    uv_loop_t loop;
    router_t router;
    http_server_t *http;
    ws_server_t *ws;
    int peer[PEERS];
    ws_conn_t *conn[PEERS]; /* the server sides, in the order their first message came */
    int n_conns;
    hub_t *hub;
} fixture_t;

static void on_message(ws_conn_t *c, const char *text, size_t len, void *ctx)
{
    fixture_t *f = ctx;
    (void)text, (void)len;
    f->conn[f->n_conns++] = c;
}

static void on_close(ws_conn_t *c, void *ctx)
{
    fixture_t *f = ctx;
    hub_leave_conn(f->hub, c);
}

static const ws_handlers_t handlers = {on_message, on_close};

/* Upgrades a new socketpair with one masked text frame right after the request (the HTTP layer
 * hands it to the WebSocket layer), so that on_message names the connection. */
static void connect_peer(fixture_t *f, int i)
{
    static const char hs[] =
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
        "\x81\x82\x01\x02\x03\x04\x69\x6b"; /* "hi" masked */
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(http_server_adopt(f->http, sv[0]), 0);
    f->peer[i] = sv[1];
    assert_int_equal(send(sv[1], hs, sizeof(hs) - 1, 0), (ssize_t)(sizeof(hs) - 1));
    for (int k = 0; k < 1000 && f->n_conns == i; k++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(f->n_conns, i + 1);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    http_limits_t hl;
    ws_limits_t wl;
    log_threshold = LOG_OFF;
    uv_loop_init(&f->loop);
    router_init(&f->router);
    http_limits_defaults(&hl);
    hl.access_log = 0;
    ws_limits_defaults(&wl);
    f->http = http_server_new(&f->loop, &f->router, &hl);
    f->ws = ws_server_new(f->http, &wl, &handlers, f);
    f->hub = hub_new();
    assert_non_null(f->hub);
    for (int i = 0; i < PEERS; i++)
        connect_peer(f, i);
    *state = f;
    return 0;
}

static void on_stopped(void *ctx)
{
    *(int *)ctx += 1;
}

static void on_ws_stopped(ws_server_t *s, void *ctx)
{
    (void)s;
    on_stopped(ctx);
}

static void on_http_stopped(http_server_t *s, void *ctx)
{
    (void)s;
    on_stopped(ctx);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    int stopped = 0;
    for (int i = 0; i < PEERS; i++)
        close(f->peer[i]);
    ws_server_shutdown(f->ws, on_ws_stopped, &stopped);
    http_server_shutdown(f->http, on_http_stopped, &stopped);
    for (int i = 0; i < 100000 && stopped < 2; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(stopped, 2);
    ws_server_free(f->ws);
    http_server_free(f->http);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    hub_free(f->hub);
    free(f);
    return 0;
}

static void join_all(fixture_t *f, const char *room)
{
    for (int i = 0; i < PEERS; i++)
        assert_int_equal(hub_join(f->hub, room, f->conn[i], "u"), 0);
}

static void test_one_observation_per_event_from_its_commit(void **state)
{
    fixture_t *f = *state;
    const metrics_hist_t *h = hub_fanout_delay(f->hub);
    join_all(f, "auction:a");
    /* one commit of two events that became visible at 1 ms, a later one at 3 ms */
    assert_int_equal(hub_publish_committed(f->hub, "auction:a", "{\"seq\":1}", 9, 1000000), PEERS);
    assert_int_equal(hub_publish_committed(f->hub, "auction:a", "{\"seq\":2}", 9, 1000000), PEERS);
    assert_int_equal(hub_publish_committed(f->hub, "auction:a", "{\"seq\":3}", 9, 3000000), PEERS);
    assert_int_equal(hub_publish_committed(f->hub, "auction:empty", "{}", 2, 3000000), 0);
    assert_int_equal(hub_publish(f->hub, "auction:a", "{\"type\":\"presence\"}", 19), PEERS);
    assert_int_equal(h->count, 0); /* nothing before the write phase is over */
    uv_run(&f->loop, UV_RUN_NOWAIT);
    hub_fanout_written(f->hub, 5000000);
    assert_int_equal(h->count, 3); /* two sockets, three events: three; presence is not one */
    assert_true(h->sum > 0.0099999 && h->sum < 0.0100001); /* 4 + 4 + 2 ms */
    assert_int_equal(h->counts[5], 1);                     /* 2 ms: the 2.5 ms bucket */
    assert_int_equal(h->counts[6], 2);                     /* 4 ms: the 5 ms bucket */
    hub_fanout_written(f->hub, 9000000);
    assert_int_equal(h->count, 3); /* observed once */
}

static void test_many_commits_in_one_turn_are_all_counted(void **state)
{
    fixture_t *f = *state;
    const metrics_hist_t *h = hub_fanout_delay(f->hub);
    join_all(f, "auction:b");
    for (uint64_t i = 1; i <= 20; i++) /* more distinct commits than the hub keeps apart */
        hub_publish_committed(f->hub, "auction:b", "{}", 2, i * 1000000);
    hub_fanout_written(f->hub, 30000000);
    assert_int_equal(h->count, 20);
    assert_true(h->sum >= 20 * 0.010 - 1e-9); /* each at least 30 - 20 ms */
    assert_true(h->sum <= 20 * 0.029 + 1e-9); /* each at most 30 - 1 ms */
    /* a clock behind the commit's (another thread's reading) never gives a negative delay */
    hub_publish_committed(f->hub, "auction:b", "{}", 2, 50000000);
    hub_fanout_written(f->hub, 40000000);
    assert_int_equal(h->count, 21);
    assert_int_equal(h->counts[0], 1);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_observation_per_event_from_its_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_many_commits_in_one_turn_are_all_counted, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
