/* WebSocket connections end to end in-process: a socketpair adopted by a real HTTP server, upgraded
 * by the real WebSocket layer on a real loop. Checks that what one loop turn queues on a
 * connection goes out in one write, in order, close frame last, and that the output cap still cuts
 * a reader that stopped reading (but not a burst the kernel takes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "net/http.h"
#include "net/ws.h"

typedef struct {
    uv_loop_t loop;
    router_t router;
    http_server_t *http;
    ws_server_t *ws;
    int peer;
    ws_conn_t *conn;  /* the server side, known from its first message */
    buf_t in;         /* what the server sent after the handshake, not yet parsed */
    int replies;      /* frames the message handler sends back per message */
    int closes;       /* on_close calls */
    int msgs;         /* messages "m<i>" received */
    int out_of_order; /* of those, how many did not carry the next i */
} fixture_t;

static size_t g_max_output = 4 * 1024 * 1024;
static uint64_t g_read_budget_ns; /* 0: the default */

static void on_message(ws_conn_t *c, const char *text, size_t len, void *ctx)
{
    fixture_t *f = ctx;
    f->conn = c;
    if (len > 1 && len < 16 && text[0] == 'm') { /* text is not NUL-terminated */
        char num[16];
        memcpy(num, text + 1, len - 1);
        num[len - 1] = '\0';
        if (atoi(num) != f->msgs)
            f->out_of_order++;
        f->msgs++;
    }
    for (int i = 0; i < f->replies; i++) {
        char r[16];
        int n = snprintf(r, sizeof(r), "r%d", i);
        ws_conn_send_text(c, r, (size_t)n);
    }
}

static void on_close(ws_conn_t *c, void *ctx)
{
    fixture_t *f = ctx;
    if (f->conn == c)
        f->conn = NULL;
    f->closes++;
}

static const ws_handlers_t handlers = {on_message, on_close};

static void turns(fixture_t *f, int n)
{
    for (int i = 0; i < n; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
}

/* Reads what the peer has without waiting; returns 1 at EOF. */
static int peer_read(fixture_t *f)
{
    char tmp[65536];
    for (;;) {
        ssize_t n = recv(f->peer, tmp, sizeof(tmp), MSG_DONTWAIT);
        if (n == 0)
            return 1;
        if (n < 0)
            return 0;
        buf_append(&f->in, tmp, (size_t)n);
    }
}

/* Sends one masked text frame (short payload) from the peer. */
static void peer_send_text(fixture_t *f, const char *text)
{
    size_t n = strlen(text);
    unsigned char fr[2 + 4 + 125], mask[4] = {1, 2, 3, 4};
    assert_true(n < 126);
    fr[0] = 0x81;
    fr[1] = (unsigned char)(0x80 | n);
    memcpy(fr + 2, mask, 4);
    for (size_t i = 0; i < n; i++)
        fr[6 + i] = (unsigned char)text[i] ^ mask[i % 4];
    assert_int_equal(send(f->peer, fr, 6 + n, 0), (ssize_t)(6 + n));
}

/* Takes the next whole frame from f->in: its opcode and payload (copied into out, NUL-terminated
 * when it fits). Returns 0 when no whole frame is buffered yet. */
static int peer_frame(fixture_t *f, int *op, char *out, size_t cap, size_t *plen)
{
    const unsigned char *p = (const unsigned char *)f->in.data;
    size_t n = f->in.len, hdr = 2, len;
    if (n < 2)
        return 0;
    len = p[1] & 0x7f;
    if (len == 126) {
        hdr = 4;
        if (n < hdr)
            return 0;
        len = (size_t)p[2] << 8 | p[3];
    } else if (len == 127) {
        hdr = 10;
        if (n < hdr)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | p[2 + i];
    }
    if (n < hdr + len)
        return 0;
    *op = p[0] & 0x0f;
    *plen = len;
    if (out && cap) {
        size_t k = len < cap - 1 ? len : cap - 1;
        memcpy(out, p + hdr, k);
        out[k] = '\0';
    }
    buf_consume(&f->in, hdr + len);
    return 1;
}

static void expect_text(fixture_t *f, const char *want)
{
    char got[256];
    int op = 0;
    size_t len = 0;
    assert_true(peer_frame(f, &op, got, sizeof(got), &len));
    assert_int_equal(op, 1);
    assert_string_equal(got, want);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    http_limits_t hl;
    ws_limits_t wl;
    int sv[2];
    log_threshold = LOG_OFF;
    uv_loop_init(&f->loop);
    router_init(&f->router);
    http_limits_defaults(&hl);
    hl.access_log = 0;
    if (g_read_budget_ns)
        hl.read_budget_ns = g_read_budget_ns; /* the loop's one budget, WebSockets included */
    ws_limits_defaults(&wl);
    wl.max_output = g_max_output;
    f->http = http_server_new(&f->loop, &f->router, &hl);
    f->ws = ws_server_new(f->http, &wl, &handlers, f);
    buf_init(&f->in);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(http_server_adopt(f->http, sv[0]), 0);
    f->peer = sv[1];
    static const char hs[] =
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n";
    assert_int_equal(send(f->peer, hs, sizeof(hs) - 1, 0), (ssize_t)(sizeof(hs) - 1));
    const char *end = NULL;
    for (int i = 0; i < 1000 && !end; i++) {
        turns(f, 1);
        peer_read(f);
        end = f->in.data ? strstr(f->in.data, "\r\n\r\n") : NULL;
    }
    assert_non_null(end);
    assert_memory_equal(f->in.data, "HTTP/1.1 101 ", 13);
    buf_consume(&f->in, (size_t)(end + 4 - f->in.data));
    peer_send_text(f, "hello"); /* tells the test its connection */
    for (int i = 0; i < 1000 && !f->conn; i++)
        turns(f, 1);
    assert_non_null(f->conn);
    *state = f;
    return 0;
}

static void on_ws_stopped(ws_server_t *s, void *ctx)
{
    (void)s;
    *(int *)ctx += 1;
}

static void on_http_stopped(http_server_t *s, void *ctx)
{
    (void)s;
    *(int *)ctx += 1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    int stopped = 0;
    if (f->peer >= 0)
        close(f->peer);
    ws_server_shutdown(f->ws, on_ws_stopped, &stopped);
    http_server_shutdown(f->http, on_http_stopped, &stopped);
    for (int i = 0; i < 100000 && stopped < 2; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(stopped, 2);
    ws_server_free(f->ws);
    http_server_free(f->http);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    buf_deinit(&f->in);
    free(f);
    g_max_output = 4 * 1024 * 1024;
    g_read_budget_ns = 0;
    return 0;
}

static uint64_t ws_writes(fixture_t *f)
{
    return http_server_stats(f->http)->ws_writes;
}

/* Three frames queued outside any callback of the connection (as the group commit's broadcast
 * does): nothing is written until the loop turns, then one write carries all three, in order. */
static void test_frames_of_one_turn_go_out_in_one_write(void **state)
{
    fixture_t *f = *state;
    peer_read(f);
    f->in.len = 0;
    uint64_t before = ws_writes(f);
    assert_int_equal(ws_conn_send_text(f->conn, "a", 1), 0);
    assert_int_equal(ws_conn_send_text(f->conn, "bb", 2), 0);
    assert_int_equal(ws_conn_send_text(f->conn, "ccc", 3), 0);
    peer_read(f);
    assert_int_equal(f->in.len, 0); /* held for the end of the turn */
    turns(f, 1);
    assert_int_equal(ws_writes(f) - before, 1);
    peer_read(f);
    expect_text(f, "a");
    expect_text(f, "bb");
    expect_text(f, "ccc");
    assert_int_equal(f->in.len, 0);
}

/* The replies a message handler sends during the poll phase share one write too. */
static void test_replies_to_a_message_share_one_write(void **state)
{
    fixture_t *f = *state;
    f->replies = 4;
    turns(f, 2);
    peer_read(f);
    f->in.len = 0;
    uint64_t before = ws_writes(f);
    peer_send_text(f, "go");
    for (int i = 0; i < 100 && f->in.len < 16; i++) {
        turns(f, 1);
        peer_read(f);
    }
    assert_int_equal(ws_writes(f) - before, 1);
    expect_text(f, "r0");
    expect_text(f, "r1");
    expect_text(f, "r2");
    expect_text(f, "r3");
}

static int g_check_sends;
static void on_check_send(uv_check_t *h)
{
    fixture_t *f = h->data;
    if (g_check_sends-- > 0) {
        ws_conn_send_text(f->conn, "x1", 2);
        ws_conn_send_text(f->conn, "x2", 2);
    }
}

/* Frames queued from a check callback (where the auction service used to publish its group
 * commit, after this turn's flush) go out early in the next turn, in one write. */
static void test_frames_queued_in_a_check_callback_go_out_next_turn(void **state)
{
    fixture_t *f = *state;
    static uv_check_t check; /* outlives the test until its close completes */
    peer_read(f);
    f->in.len = 0;
    uint64_t before = ws_writes(f);
    g_check_sends = 1;
    uv_check_init(&f->loop, &check);
    check.data = f;
    uv_check_start(&check, on_check_send);
    turns(f, 1); /* the check callback queues at the end of this turn */
    peer_read(f);
    assert_int_equal(f->in.len, 0);
    uv_check_stop(&check);
    turns(f, 1); /* written before this turn's poll */
    peer_read(f);
    assert_int_equal(ws_writes(f) - before, 1);
    expect_text(f, "x1");
    expect_text(f, "x2");
    uv_close((uv_handle_t *)&check, NULL);
}

static void on_prepare_send(uv_prepare_t *h)
{
    fixture_t *f = h->data;
    ws_conn_send_text(f->conn, "p1", 2);
    uv_prepare_stop(h);
}

static void on_guard(uv_timer_t *t)
{
    (void)t;
}

/* Frames queued by a callback that runs after the flush of its turn (a prepare callback) do not
 * wait in a blocking poll for unrelated I/O: the loop turns again at once and writes them. */
static void test_frames_queued_after_the_flush_do_not_wait_for_io(void **state)
{
    fixture_t *f = *state;
    static uv_prepare_t prep; /* outlive the test until their close completes */
    static uv_timer_t guard;
    turns(f, 2);
    peer_read(f);
    f->in.len = 0;
    uv_prepare_init(&f->loop, &prep);
    prep.data = f;
    uv_prepare_start(&prep, on_prepare_send);
    uv_timer_init(&f->loop, &guard);
    uv_timer_start(&guard, on_guard, 3000, 0); /* the longest a blocking poll could wait here */
    uint64_t t0 = uv_hrtime();
    uv_run(&f->loop, UV_RUN_ONCE);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_true(uv_hrtime() - t0 < 1000000000ull);
    peer_read(f);
    expect_text(f, "p1");
    uv_close((uv_handle_t *)&prep, NULL);
    uv_close((uv_handle_t *)&guard, NULL);
}

/* A close frame queued after data frames goes out after them, in the same write. */
static void test_close_frame_follows_queued_frames(void **state)
{
    fixture_t *f = *state;
    peer_read(f);
    f->in.len = 0;
    uint64_t before = ws_writes(f);
    ws_conn_send_text(f->conn, "one", 3);
    ws_conn_send_text(f->conn, "two", 3);
    ws_conn_close(f->conn, 4000, "bye");
    assert_int_equal(ws_conn_send_text(f->conn, "late", 4), GV_EIO);
    turns(f, 1);
    assert_int_equal(ws_writes(f) - before, 1);
    peer_read(f);
    expect_text(f, "one");
    expect_text(f, "two");
    char payload[64];
    int op = 0;
    size_t len = 0;
    assert_true(peer_frame(f, &op, payload, sizeof(payload), &len));
    assert_int_equal(op, 8);
    assert_int_equal(len, 5);
    assert_int_equal(((unsigned char)payload[0] << 8) | (unsigned char)payload[1], 4000);
    assert_memory_equal(payload + 2, "bye", 3);
    assert_int_equal(f->in.len, 0);
}

static int setup_small_cap(void **state)
{
    g_max_output = 64 * 1024;
    return setup(state);
}

static int setup_tiny_cap(void **state)
{
    g_max_output = 16 * 1024; /* under the size of a batch */
    return setup(state);
}

/* A reader that stopped reading is still cut at the output cap with 1008 (counted), after the
 * frames it had: once it reads again it gets them in order, then the close frame. */
static void test_slow_reader_is_cut_at_the_cap(void **state)
{
    fixture_t *f = *state;
    char text[1000];
    int sent = 0, rc = 0;
    int rcvbuf = 4096;
    setsockopt(f->peer, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    peer_read(f);
    f->in.len = 0;
    uint64_t cutoffs = http_server_stats(f->http)->ws_cutoffs;
    while (sent < 100000) {
        snprintf(text, sizeof(text), "%06d", sent);
        memset(text + 6, 'p', sizeof(text) - 7);
        text[sizeof(text) - 1] = '\0';
        rc = ws_conn_send_text(f->conn, text, sizeof(text) - 1);
        if (rc != 0)
            break;
        sent++;
        if (sent % 8 == 0)
            turns(f, 1); /* several frames per turn, the kernel fills up */
    }
    assert_int_equal(rc, GV_ELIMIT);
    assert_int_equal(http_server_stats(f->http)->ws_cutoffs, cutoffs + 1);
    assert_true((size_t)sent * sizeof(text) > 64 * 1024); /* the kernel took some */
    int got = 0, code = 0, eof = 0;
    for (int i = 0; i < 100000 && !code && !eof; i++) {
        turns(f, 1);
        eof = peer_read(f);
        char payload[1100];
        int op;
        size_t len;
        while (!code && peer_frame(f, &op, payload, sizeof(payload), &len)) {
            if (op == 8) {
                code = ((unsigned char)payload[0] << 8) | (unsigned char)payload[1];
            } else {
                char want[8];
                snprintf(want, sizeof(want), "%06d", got++);
                assert_int_equal(op, 1);
                assert_memory_equal(payload, want, 6);
            }
        }
    }
    assert_int_equal(code, 1008);
    assert_int_equal(got, sent); /* every frame accepted before the cut, in order */
}

/* One turn queueing more than the cap, on a connection whose kernel buffer takes it, is not cut:
 * the cap is on what the kernel refused (a resume replaying many events). */
static void test_burst_over_the_cap_that_the_kernel_takes_is_not_cut(void **state)
{
    fixture_t *f = *state;
    char text[1000];
    int rcvbuf = 1024 * 1024;
    setsockopt(f->peer, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    peer_read(f);
    f->in.len = 0;
    uint64_t before = ws_writes(f);
    memset(text, 'q', sizeof(text));
    for (int i = 0; i < 100; i++) /* about 100 KB in one turn */
        assert_int_equal(ws_conn_send_text(f->conn, text, sizeof(text)), 0);
    turns(f, 1);
    assert_int_equal(http_server_stats(f->http)->ws_cutoffs, 0);
    assert_true(ws_writes(f) - before <= 8); /* written when the cap is near, not frame by frame */
    int frames = 0;
    for (int i = 0; i < 1000 && frames < 100; i++) {
        char payload[8];
        int op;
        size_t len;
        turns(f, 1);
        peer_read(f);
        while (peer_frame(f, &op, payload, sizeof(payload), &len)) {
            assert_int_equal(op, 1);
            assert_int_equal(len, sizeof(text));
            frames++;
        }
    }
    assert_int_equal(frames, 100);
    assert_non_null(f->conn);
    assert_true(ws_conn_is_open(f->conn));
}

/* A peer that sends a message and half-closes still gets the replies queued in that turn: a
 * message that fills the read buffer exactly makes libuv read on and see the end of input in the
 * same callback chain, which tears the connection down before the turn's flush. */
static void test_replies_reach_a_peer_that_half_closed(void **state)
{
    fixture_t *f = *state;
    enum { WHOLE = 16384, PAYLOAD = WHOLE - 8 }; /* the server reads 16 KiB at a time */
    static unsigned char fr[WHOLE];
    f->replies = 2;
    peer_read(f);
    f->in.len = 0;
    fr[0] = 0x81;
    fr[1] = 0x80 | 126;
    fr[2] = PAYLOAD >> 8;
    fr[3] = PAYLOAD & 0xff;
    memset(fr + 4, 0, 4); /* a zero mask */
    memset(fr + 8, 'm', PAYLOAD);
    assert_int_equal(send(f->peer, fr, sizeof(fr), 0), (ssize_t)sizeof(fr));
    shutdown(f->peer, SHUT_WR);
    int eof = 0;
    for (int i = 0; i < 1000 && !eof; i++) {
        turns(f, 1);
        eof = peer_read(f);
    }
    assert_true(eof);
    expect_text(f, "r0");
    expect_text(f, "r1");
    assert_int_equal(f->closes, 1);
}

/* Frames still queued when the connection goes away are released (ASan: no leak, no use after
 * free), and sending on it afterwards fails harmlessly. */
static void test_teardown_with_queued_frames_frees_them(void **state)
{
    fixture_t *f = *state;
    ws_conn_t *c = f->conn;
    ws_conn_ref(c);
    ws_conn_send_text(c, "gone", 4);
    ws_conn_send_text(c, "too", 3);
    close(f->peer);
    f->peer = -1;
    for (int i = 0; i < 100 && f->closes == 0; i++) {
        ws_conn_send_text(c, "more", 4);
        turns(f, 1);
    }
    assert_int_equal(f->closes, 1);
    assert_int_equal(ws_conn_send_text(c, "after", 5), GV_EIO);
    ws_conn_release(c);
}

/* An answer queued on the HTTP connection before a pipelined upgrade goes out before the 101. */
static void test_answer_before_a_pipelined_upgrade_comes_first(void **state)
{
    fixture_t *f = *state;
    int sv[2];
    buf_t out;
    buf_init(&out);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(http_server_adopt(f->http, sv[0]), 0);
    static const char req[] =
        "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n";
    assert_int_equal(send(sv[1], req, sizeof(req) - 1, 0), (ssize_t)(sizeof(req) - 1));
    const char *ws = NULL;
    for (int i = 0; i < 1000 && !(ws && strstr(ws, "\r\n\r\n")); i++) {
        char tmp[4096];
        turns(f, 1);
        ssize_t n = recv(sv[1], tmp, sizeof(tmp), MSG_DONTWAIT);
        if (n > 0)
            buf_append(&out, tmp, (size_t)n);
        ws = out.data ? strstr(out.data, "HTTP/1.1 101 ") : NULL;
    }
    assert_non_null(ws);
    assert_memory_equal(out.data, "HTTP/1.1 404 ", 13);
    close(sv[1]);
    buf_deinit(&out);
}

static int setup_tiny_read_budget(void **state)
{
    g_read_budget_ns = 1; /* every read after a turn's first is put off to a later turn */
    return setup(state);
}

/* Input larger than one read, with a read budget that lets one read through per turn: it is read
 * over several turns, every message arrives once and in order, and the connection stays open
 * (a put-off read is not an error). */
static void test_input_over_the_read_budget_is_read_in_later_turns(void **state)
{
    fixture_t *f = *state;
    const int n = 4000; /* about 48 KB: three reads of 16 KB at least */
    uint64_t before = http_server_stats(f->http)->ws_reads_put_off;
    buf_t all;
    buf_init(&all);
    for (int i = 0; i < n; i++) { /* masked text frames "m<i>", all in one buffer */
        char m[16];
        unsigned char hdr[6] = {0x81, 0, 1, 2, 3, 4};
        int len = snprintf(m, sizeof(m), "m%d", i);
        hdr[1] = (unsigned char)(0x80 | len);
        for (int k = 0; k < len; k++)
            m[k] = (char)(m[k] ^ hdr[2 + k % 4]);
        buf_append(&all, (const char *)hdr, sizeof(hdr));
        buf_append(&all, m, (size_t)len);
    }
    for (size_t off = 0; off < all.len;) { /* in as few sends as the socket takes */
        ssize_t k = send(f->peer, all.data + off, all.len - off, MSG_DONTWAIT);
        if (k > 0)
            off += (size_t)k;
        else
            turns(f, 1);
    }
    buf_deinit(&all);
    for (int i = 0; i < 10000 && f->msgs < n; i++)
        turns(f, 1);
    assert_int_equal(f->msgs, n);
    assert_int_equal(f->out_of_order, 0);
    assert_true(http_server_stats(f->http)->ws_reads_put_off > before);
    assert_int_equal(f->closes, 0);
    assert_non_null(f->conn);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_frames_of_one_turn_go_out_in_one_write, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_replies_to_a_message_share_one_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frames_queued_in_a_check_callback_go_out_next_turn,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_frames_queued_after_the_flush_do_not_wait_for_io,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_frame_follows_queued_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_reader_is_cut_at_the_cap, setup_small_cap,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_burst_over_the_cap_that_the_kernel_takes_is_not_cut,
                                        setup_tiny_cap, teardown),
        cmocka_unit_test_setup_teardown(test_replies_reach_a_peer_that_half_closed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_teardown_with_queued_frames_frees_them, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_answer_before_a_pipelined_upgrade_comes_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_input_over_the_read_budget_is_read_in_later_turns,
                                        setup_tiny_read_budget, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
