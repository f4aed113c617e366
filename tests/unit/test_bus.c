/* The Redis bus against a real redis-server started here on a free loopback port (no mocks):
 * binary messages in order and exactly once, publishing while down, URLs, Redis killed and
 * restarted under two buses (both reconnect and re-subscribe by themselves), and closing with
 * messages in flight or from inside a callback (ASan/LSan see that nothing leaks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tmpdir.h"
#include "core/err.h"
#include "net/bus.h"

#define DEADLINE_MS 20000 /* generous: the machine is shared */
#define N_MSGS 1000

/* ---- redis-server ------------------------------------------------------------------------- */

typedef struct {
    pid_t pid;
    int port;
    char dir[64];
    char url[64];
} redis_t;

static redis_t rs;

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static void redis_exec(const redis_t *r)
{
    char port[16], log[128];
    snprintf(port, sizeof(port), "%d", r->port);
    snprintf(log, sizeof(log), "%s/redis.log", r->dir);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives a test that crashed */
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
    }
    execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--daemonize", "no", "--dir", r->dir, (char *)NULL);
    _exit(127);
}

/* 1 when the server on r->port answers PING. */
static int redis_answers(const redis_t *r)
{
    struct timeval tv = {0, 200000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
    int ok = 0;
    if (c && !c->err) {
        redisReply *reply = redisCommand(c, "PING");
        ok = reply && reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "PONG") == 0;
        freeReplyObject(reply);
    }
    redisFree(c);
    return ok;
}

/* Starts redis-server on r->port and waits until it answers. 0 or -1. */
static int redis_start(redis_t *r)
{
    r->pid = fork();
    if (r->pid < 0)
        return -1;
    if (r->pid == 0)
        redis_exec(r);
    struct timespec pause = {0, 20 * 1000 * 1000};
    for (int i = 0; i < DEADLINE_MS / 20; i++) {
        if (redis_answers(r))
            return 0;
        if (waitpid(r->pid, NULL, WNOHANG) == r->pid) { /* it died: no redis-server, or the port */
            r->pid = 0;
            return -1;
        }
        nanosleep(&pause, NULL);
    }
    return -1;
}

static void redis_kill(redis_t *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGKILL);
        waitpid(r->pid, NULL, 0);
    }
    r->pid = 0;
}

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN); /* hiredis writes with write(2) */
    if (tmpdir_make(rs.dir, sizeof(rs.dir), "bus") != 0)
        return -1;
    for (int attempt = 0; attempt < 5; attempt++) { /* a free port may be taken meanwhile */
        rs.port = free_port();
        if (rs.port > 0 && redis_start(&rs) == 0) {
            snprintf(rs.url, sizeof(rs.url), "redis://127.0.0.1:%d", rs.port);
            return 0;
        }
    }
    fprintf(stderr, "test_bus: redis-server could not be started (see %s/redis.log)\n", rs.dir);
    return -1;
}

static int group_teardown(void **state)
{
    (void)state;
    redis_kill(&rs);
    tmpdir_remove(rs.dir);
    return 0;
}

/* ---- the loop and two nodes ---------------------------------------------------------------- */

typedef struct {
    bus_t *bus;
    int ups, downs;
    size_t got;       /* messages received */
    size_t bad;       /* received but not the one expected next */
    size_t close_at;  /* bus_close from on_msg at this count (0: never) */
    int close_on_up;  /* bus_close from on_state(1) */
    int ordered;      /* the messages are msg_make(got) on "x" */
    char last[64];    /* the last message, as text */
    char channel[64]; /* its channel */
} node_t;

typedef struct {
    uv_loop_t loop;
    node_t a, b;
} world_t;

/* Message i of a sequence: varied lengths (0 to 299), every byte value, NULs included. */
static size_t msg_make(size_t i, char *buf)
{
    size_t len = (i * 37) % 300;
    for (size_t k = 0; k < len; k++)
        buf[k] = (char)((i * 31 + k * 7) & 0xff);
    if (len > 2)
        buf[len / 2] = '\0';
    return len;
}

static void on_msg(void *ctx, const char *channel, const char *data, size_t len)
{
    node_t *n = ctx;
    char want[300];
    if (n->ordered) {
        size_t wlen = msg_make(n->got, want);
        if (strcmp(channel, "x") != 0 || len != wlen || memcmp(data, want, len) != 0)
            n->bad++;
    }
    n->got++;
    snprintf(n->channel, sizeof(n->channel), "%s", channel);
    snprintf(n->last, sizeof(n->last), "%.*s", (int)(len < 63 ? len : 63), data);
    if (n->close_at && n->got == n->close_at)
        bus_close(n->bus);
}

static void on_state(void *ctx, int up)
{
    node_t *n = ctx;
    if (up)
        n->ups++;
    else
        n->downs++;
    if (up && n->close_on_up)
        bus_close(n->bus);
}

static void on_tick(uv_timer_t *t)
{
    (void)t; /* wakes UV_RUN_ONCE up to look at the condition */
}

/* Runs w's loop until pred(w) holds or DEADLINE_MS passed. Returns pred(w). */
static int run_until(world_t *w, int (*pred)(world_t *))
{
    uv_timer_t tick;
    uv_timer_init(&w->loop, &tick);
    uv_timer_start(&tick, on_tick, 10, 10);
    uint64_t until = uv_hrtime() + (uint64_t)DEADLINE_MS * 1000000;
    int ok;
    while (!(ok = pred(w)) && uv_hrtime() < until)
        uv_run(&w->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&w->loop, UV_RUN_NOWAIT);
    return ok;
}

static int both_up(world_t *w)
{
    return bus_up(w->a.bus) && bus_up(w->b.bus) && w->a.ups && w->b.ups;
}

static int both_down(world_t *w)
{
    return w->a.downs == 1 && w->b.downs == 1;
}

static int both_up_again(world_t *w)
{
    return w->a.ups == 2 && w->b.ups == 2 && bus_up(w->a.bus) && bus_up(w->b.bus);
}

static int all_received(world_t *w)
{
    return w->b.got >= N_MSGS && bus_stats(w->a.bus)->published >= N_MSGS;
}

static int b_got_one_more(world_t *w)
{
    return w->b.got == N_MSGS + 1;
}

static int b_got_any(world_t *w)
{
    return w->b.got > 0;
}

static world_t *world_new(void)
{
    world_t *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    assert_int_equal(uv_loop_init(&w->loop), 0);
    return w;
}

static void world_node(world_t *w, node_t *n, const char *url)
{
    assert_int_equal(bus_new(&n->bus, &w->loop, url, "gavel", on_msg, on_state, n), 0);
}

/* Closes both buses and runs the loop to its end. */
static void world_close(world_t *w)
{
    bus_close(w->a.bus);
    bus_close(w->b.bus);
    uv_run(&w->loop, UV_RUN_DEFAULT);
}

/* world_close, then frees the buses: the loop must then close cleanly (no handle left). */
static void world_free(world_t *w)
{
    world_close(w);
    bus_free(w->a.bus);
    bus_free(w->b.bus);
    assert_int_equal(uv_loop_close(&w->loop), 0);
    free(w);
}

/* Two up buses on the running Redis: B subscribed to "x", A only publishes. */
static world_t *world_up(void)
{
    world_t *w = world_new();
    world_node(w, &w->a, rs.url);
    world_node(w, &w->b, rs.url);
    assert_int_equal(bus_subscribe(w->b.bus, "x"), 0);
    assert_int_equal(bus_subscribe(w->b.bus, "x"), 0); /* once is enough */
    assert_true(run_until(w, both_up));
    return w;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_a_thousand_binary_messages_arrive_in_order_exactly_once(void **state)
{
    (void)state;
    world_t *w = world_up();
    w->b.ordered = 1;
    char buf[300];
    for (size_t i = 0; i < N_MSGS; i++) {
        size_t len = msg_make(i, buf);
        assert_int_equal(bus_publish(w->a.bus, "x", buf, len), 0);
    }
    assert_true(run_until(w, all_received));
    w->b.ordered = 0;
    /* A last one: anything repeated would have come before it. */
    assert_int_equal(bus_publish(w->a.bus, "x", "end", 3), 0);
    assert_true(run_until(w, b_got_one_more));
    assert_int_equal(w->b.bad, 0);
    assert_string_equal(w->b.last, "end");
    assert_string_equal(w->b.channel, "x");
    const bus_stats_t *sa = bus_stats(w->a.bus), *sb = bus_stats(w->b.bus);
    assert_int_equal(sa->published, N_MSGS + 1);
    assert_int_equal(sa->publish_failed, 0);
    assert_int_equal(sa->received, 0);
    assert_int_equal(sb->received, N_MSGS + 1);
    assert_int_equal(w->a.ups, 1);
    assert_int_equal(w->b.ups, 1);
    assert_int_equal(w->a.downs + w->b.downs, 0);
    world_free(w);
}

static void test_publish_before_up_is_unavailable(void **state)
{
    (void)state;
    world_t *w = world_new();
    world_node(w, &w->a, rs.url);
    assert_false(bus_up(w->a.bus));
    assert_int_equal(bus_publish(w->a.bus, "x", "early", 5), GV_EUNAVAILABLE);
    assert_int_equal(bus_stats(w->a.bus)->publish_failed, 1);
    assert_int_equal(bus_stats(w->a.bus)->published, 0);
    assert_int_equal(w->a.ups + w->a.downs, 0); /* nothing called back from bus_new */
    world_free(w);
}

static int a_published_7(world_t *w)
{
    return bus_stats(w->a.bus)->published == 7;
}

/* Redis slower than the publisher: past BUS_PENDING_MAX unacknowledged bytes, publishing fails
 * at once (nothing grows without bound), and works again once Redis caught up. */
static void test_publishes_past_the_pending_limit_are_refused(void **state)
{
    (void)state;
    world_t *w = world_up();
    size_t len = 1u << 20;
    char *big = calloc(1, len);
    assert_non_null(big);
    for (int i = 0; i < 7; i++)
        assert_int_equal(bus_publish(w->a.bus, "x", big, len), 0);
    assert_int_equal(bus_publish(w->a.bus, "x", big, len), GV_ELIMIT);
    assert_int_equal(bus_publish(w->a.bus, "x", big, BUS_PENDING_MAX + 1), GV_ELIMIT);
    assert_int_equal(bus_stats(w->a.bus)->publish_failed, 2);
    assert_true(run_until(w, a_published_7));
    assert_int_equal(bus_publish(w->a.bus, "x", big, len), 0);
    free(big);
    world_free(w);
}

static void test_bad_urls_and_names_are_invalid(void **state)
{
    (void)state;
    static const char *bad[] = {
        NULL,
        "",
        "redis://",
        "http://127.0.0.1:6379",
        "rediss://127.0.0.1:6379",
        "redis://127.0.0.1:",
        "redis://127.0.0.1:0",
        "redis://127.0.0.1:65536",
        "redis://127.0.0.1:12ab",
        "redis://127.0.0.1:6379/0",
        "redis://:secret@127.0.0.1:6379",
        "redis://user@host",
        "redis://host]",
        "redis://[::1",
        "redis://[]:6379",
        "redis://[::1]x",
        "redis://host name",
        "127.0.0.1:6379",
    };
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bus_t *b = (bus_t *)&loop; /* overwritten */
        assert_int_equal(bus_new(&b, &loop, bad[i], "gavel", on_msg, NULL, NULL),
                         GV_EINVALID_REQUEST);
        assert_null(b);
    }
    bus_t *b;
    assert_int_equal(bus_new(&b, &loop, rs.url, NULL, on_msg, NULL, NULL), GV_EINVALID_REQUEST);
    assert_int_equal(bus_new(&b, &loop, rs.url, "", on_msg, NULL, NULL), GV_EINVALID_REQUEST);
    /* (names that resolve without DNS: closing waits for a look-up in flight) */
    static const char *good[] = {"redis://127.0.0.1", "redis://localhost:6379", "redis://[::1]:1"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(bus_new(&b, &loop, good[i], "gavel", on_msg, NULL, NULL), 0);
        assert_int_equal(bus_subscribe(b, ""), GV_EINVALID_REQUEST);
        assert_int_equal(bus_publish(b, NULL, "x", 1), GV_EINVALID_REQUEST);
        bus_close(b);
        uv_run(&loop, UV_RUN_DEFAULT);
        bus_free(b);
    }
    bus_free(NULL);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Nobody listens on the port: attempts go on at the backoff, and on_state is never called. A
 * refused connect is a poll error in libuv, which hiredis's own adapter left hanging. */
static int a_retried_twice(world_t *w)
{
    return bus_stats(w->a.bus)->reconnects >= 2;
}

static void test_no_server_retries_without_reporting(void **state)
{
    (void)state;
    int port = free_port();
    assert_true(port > 0);
    char url[64];
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", port);
    world_t *w = world_new();
    world_node(w, &w->a, url);
    uint64_t t0 = uv_hrtime();
    assert_true(run_until(w, a_retried_twice));
    /* 100 + 200 ms of backoff: far less than an attempt's deadline (BUS_ATTEMPT_MS) */
    assert_true(uv_hrtime() - t0 < (uint64_t)BUS_ATTEMPT_MS * 1000000);
    assert_false(bus_up(w->a.bus));
    assert_int_equal(w->a.ups + w->a.downs, 0);
    world_free(w);
}

static void test_redis_killed_and_restarted_both_buses_come_back(void **state)
{
    (void)state;
    world_t *w = world_up();
    redis_kill(&rs);
    assert_true(run_until(w, both_down));
    assert_false(bus_up(w->a.bus));
    assert_false(bus_up(w->b.bus));
    assert_int_equal(bus_publish(w->a.bus, "x", "lost", 4), GV_EUNAVAILABLE);
    assert_int_equal(redis_start(&rs), 0);
    assert_true(run_until(w, both_up_again));
    assert_int_equal(bus_publish(w->a.bus, "x", "after", 5), 0);
    assert_true(run_until(w, b_got_any));
    assert_string_equal(w->b.last, "after");
    assert_string_equal(w->b.channel, "x");
    assert_int_equal(w->a.downs, 1); /* once per loss, though both connections went */
    assert_int_equal(w->b.downs, 1);
    assert_true(bus_stats(w->a.bus)->reconnects > 0);
    assert_true(bus_stats(w->b.bus)->reconnects > 0);
    world_free(w);
}

static void test_close_with_messages_in_flight_leaks_nothing(void **state)
{
    (void)state;
    world_t *w = world_up();
    for (int i = 0; i < 500; i++)
        assert_int_equal(bus_publish(w->a.bus, "x", "in flight", 9), 0);
    uv_run(&w->loop, UV_RUN_NOWAIT); /* some go out, maybe some are acknowledged */
    bus_close(w->a.bus);
    bus_close(w->a.bus); /* a second close is a no-op */
    assert_false(bus_up(w->a.bus));
    assert_int_equal(bus_publish(w->a.bus, "x", "late", 4), GV_EUNAVAILABLE);
    const bus_stats_t *sa = bus_stats(w->a.bus);
    assert_int_equal(sa->published + sa->publish_failed, 501); /* each one accounted for */
    uint64_t published = sa->published;
    int ups = w->a.ups, downs = w->a.downs;
    world_close(w);
    assert_int_equal(sa->published, published); /* nothing called back after the close */
    assert_int_equal(w->a.ups, ups);
    assert_int_equal(w->a.downs, downs);
    assert_int_equal(w->b.downs, 0);
    world_free(w);
}

static int a_published_100_b_closed(world_t *w)
{
    return bus_stats(w->a.bus)->published == 100 && w->b.got >= 10;
}

/* B closes itself from on_msg (hiredis is inside its read callback then) and from on_state. */
static void test_close_from_callbacks(void **state)
{
    (void)state;
    world_t *w = world_up();
    w->b.close_at = 10;
    for (int i = 0; i < 100; i++)
        assert_int_equal(bus_publish(w->a.bus, "x", "m", 1), 0);
    assert_true(run_until(w, a_published_100_b_closed));
    uv_run(&w->loop, UV_RUN_NOWAIT);
    assert_int_equal(w->b.got, 10); /* nothing after the close, though 90 more were sent */
    assert_false(bus_up(w->b.bus));
    assert_int_equal(w->b.downs, 0);
    world_free(w);

    w = world_new();
    w->a.close_on_up = 1;
    world_node(w, &w->a, rs.url);
    assert_int_equal(bus_subscribe(w->a.bus, "y"), 0);
    uv_run(&w->loop, UV_RUN_DEFAULT); /* ends once A closed itself on its first up */
    assert_int_equal(w->a.ups, 1);
    assert_int_equal(w->a.downs, 0);
    bus_free(w->a.bus);
    assert_int_equal(uv_loop_close(&w->loop), 0);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_thousand_binary_messages_arrive_in_order_exactly_once),
        cmocka_unit_test(test_publish_before_up_is_unavailable),
        cmocka_unit_test(test_publishes_past_the_pending_limit_are_refused),
        cmocka_unit_test(test_bad_urls_and_names_are_invalid),
        cmocka_unit_test(test_no_server_retries_without_reporting),
        cmocka_unit_test(test_redis_killed_and_restarted_both_buses_come_back),
        cmocka_unit_test(test_close_with_messages_in_flight_leaks_nothing),
        cmocka_unit_test(test_close_from_callbacks),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
