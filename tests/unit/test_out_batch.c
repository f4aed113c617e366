/* The output batching module on its own: a socketpair opened as a libuv pipe on a real loop.
 * Checks that a turn's pieces go out in one write, in order, each released once; that what the
 * kernel refuses goes to one uv_write holding its pieces (and the owner) until it ends; that an
 * early write at the batch limit and an abandon leave nothing behind; that batches go out first
 * listed first, as many a turn as its time budget allows. */
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

#include "core/buf.h"
#include "core/err.h"
#include "net/out_batch.h"

typedef struct {
    uv_loop_t loop;
    uv_pipe_t pipe;
    int peer;
    out_flusher_t flusher;
    out_batch_t batch;
    uint64_t writes; /* the flusher's socket-write counter */
    int flushes, holds, written, last_status, releases, closed;
} fixture_t;

static void op_flush(void *owner)
{
    fixture_t *f = owner;
    f->flushes++;
    assert_int_equal(out_batch_write(&f->batch, (uv_stream_t *)&f->pipe), 0);
}

static void op_hold(void *owner)
{
    ((fixture_t *)owner)->holds++;
}

static void op_written(void *owner, int status)
{
    fixture_t *f = owner;
    f->written++;
    f->last_status = status;
}

static const out_ops_t ops = {op_flush, op_hold, op_written};

/* A piece of test data: counts its release. */
typedef struct {
    fixture_t *f;
    char *data;
} piece_t;

static void piece_release(void *ctx)
{
    piece_t *p = ctx;
    p->f->releases++;
    free(p->data);
    free(p);
}

/* Queues len bytes of the byte c. */
static void push(fixture_t *f, char c, size_t len)
{
    piece_t *p = malloc(sizeof(*p));
    assert_non_null(p);
    p->f = f;
    p->data = malloc(len);
    assert_non_null(p->data);
    memset(p->data, c, len);
    assert_int_equal(out_batch_push(&f->batch, p->data, len, piece_release, p), 0);
}

static void on_closed(void *ctx)
{
    ((fixture_t *)ctx)->closed++;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(uv_pipe_init(&f->loop, &f->pipe, 0), 0);
    assert_int_equal(uv_pipe_open(&f->pipe, sv[0]), 0);
    f->peer = sv[1];
    out_flusher_init(&f->flusher, &f->loop, &ops, 4, 64 * 1024, &f->writes);
    out_batch_init(&f->batch, &f->flusher, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    out_batch_abandon(&f->batch, NULL);
    uv_close((uv_handle_t *)&f->pipe, NULL);
    out_flusher_close(&f->flusher, on_closed, f);
    out_flusher_close(&f->flusher, on_closed, f); /* a second call is a no-op */
    assert_int_equal(f->closed, 0);               /* never inside the call */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(f->closed, 1);
    out_batch_deinit(&f->batch);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    close(f->peer);
    free(f);
    return 0;
}

/* Reads what the peer has without waiting, appending to out. */
static void peer_read(fixture_t *f, buf_t *out)
{
    char tmp[65536];
    ssize_t n;
    while ((n = recv(f->peer, tmp, sizeof(tmp), MSG_DONTWAIT)) > 0)
        buf_append(out, tmp, (size_t)n);
}

/* 1 when out holds the runs of bytes c[i] of lens[i], in order. */
static int holds_runs(const buf_t *out, const char *c, const size_t *lens, size_t n)
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < lens[i]; j++, at++)
            if (at >= out->len || out->data[at] != c[i])
                return 0;
    return at == out->len;
}

static void test_a_turn_goes_out_in_one_write(void **state)
{
    fixture_t *f = *state;
    buf_t out;
    buf_init(&out);
    push(f, 'a', 3);
    out_batch_flush_later(&f->batch);
    push(f, 'b', 5);
    out_batch_flush_later(&f->batch); /* listed once */
    assert_false(out_batch_full(&f->batch));
    assert_int_equal(out_batch_count(&f->batch), 2);
    assert_int_equal(out_batch_unsent(&f->batch), 8);
    assert_int_equal(f->writes, 0); /* nothing before the turn ends */
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(f->flushes, 1);
    assert_int_equal(f->writes, 1);
    assert_int_equal(f->releases, 2);
    assert_int_equal(f->holds, 0); /* the kernel took it all */
    assert_true(out_batch_idle(&f->batch));
    assert_false(uv_is_active((uv_handle_t *)&f->flusher.idle)); /* stops once the list is empty */
    peer_read(f, &out);
    const char c[] = {'a', 'b'};
    const size_t lens[] = {3, 5};
    assert_true(holds_runs(&out, c, lens, 2));
    buf_deinit(&out);
}

static void test_refused_rest_goes_to_one_uv_write(void **state)
{
    fixture_t *f = *state;
    buf_t out;
    buf_init(&out);
    const char c[] = {'x', 'y', 'z'};
    const size_t lens[] = {100000, 7, 50000}; /* far more than the socket buffers take */
    for (int i = 0; i < 3; i++)
        push(f, c[i], lens[i]);
    assert_true(out_batch_full(&f->batch)); /* over the byte limit */
    assert_int_equal(out_batch_write(&f->batch, (uv_stream_t *)&f->pipe), 0);
    assert_int_equal(f->writes, 2); /* uv_try_write, then uv_write for the rest */
    assert_int_equal(f->holds, 1);
    assert_int_equal(out_batch_count(&f->batch), 0);
    assert_true(out_batch_unsent(&f->batch) > 0 && out_batch_unsent(&f->batch) < 150007);
    assert_false(out_batch_idle(&f->batch));
    push(f, 'w', 2); /* queued while the write is in flight: no try_write (order) */
    assert_int_equal(out_batch_write(&f->batch, (uv_stream_t *)&f->pipe), 0);
    assert_int_equal(f->writes, 3);
    assert_int_equal(f->holds, 2);
    for (int i = 0; i < 100000 && f->written < 2; i++) {
        peer_read(f, &out);
        uv_run(&f->loop, UV_RUN_NOWAIT);
    }
    peer_read(f, &out);
    assert_int_equal(f->written, 2);
    assert_int_equal(f->last_status, 0);
    assert_int_equal(f->releases, 4);
    assert_int_equal(out_batch_unsent(&f->batch), 0);
    assert_true(out_batch_idle(&f->batch));
    const char c4[] = {'x', 'y', 'z', 'w'};
    const size_t lens4[] = {100000, 7, 50000, 2};
    assert_true(holds_runs(&out, c4, lens4, 4));
    buf_deinit(&out);
}

static void test_full_by_pieces(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 3; i++)
        push(f, 'p', 1);
    assert_false(out_batch_full(&f->batch));
    push(f, 'p', 1);
    assert_true(out_batch_full(&f->batch)); /* at the flusher's 4 pieces */
}

static void test_abandon_tries_once_then_drops(void **state)
{
    fixture_t *f = *state;
    buf_t out;
    buf_init(&out);
    push(f, 'q', 10);
    push(f, 'r', 200000);
    out_batch_flush_later(&f->batch);
    out_batch_abandon(&f->batch, (uv_stream_t *)&f->pipe);
    assert_int_equal(f->writes, 1);
    assert_int_equal(f->releases, 2);
    assert_true(out_batch_idle(&f->batch));
    assert_int_equal(out_batch_unsent(&f->batch), 0);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(f->flushes, 0); /* unlisted */
    peer_read(f, &out);
    assert_true(out.len >= 10 && out.len < 200010);
    assert_int_equal(memcmp(out.data, "qqqqqqqqqq", 10), 0);
    buf_deinit(&out);
}

static void test_a_failed_write_drops_the_pieces(void **state)
{
    fixture_t *f = *state;
    push(f, 's', 4);
    shutdown(f->peer, SHUT_RD);
    close(f->peer);
    f->peer = socket(AF_UNIX, SOCK_STREAM, 0); /* something for teardown to close */
    int rc = 0;
    for (int i = 0; i < 4 && rc == 0; i++) { /* the first write may land in a buffer */
        rc = out_batch_write(&f->batch, (uv_stream_t *)&f->pipe);
        if (rc == 0)
            push(f, 's', 4);
    }
    assert_int_equal(rc, GV_EIO);
    assert_int_equal(out_batch_count(&f->batch), 0);
    assert_int_equal(out_batch_unsent(&f->batch), 0);
}

/* Several owners on a flusher of their own: each flush is logged by owner, its pieces dropped. */
typedef struct {
    out_batch_t batch;
    char name;
    char *log;
} owner_t;

static void owner_flush(void *owner)
{
    owner_t *o = owner;
    size_t n = strlen(o->log);
    o->log[n] = o->name;
    o->log[n + 1] = 0;
    out_batch_drop(&o->batch);
}

static void owner_nop(void *owner)
{
    (void)owner;
}

static void owner_written(void *owner, int status)
{
    (void)owner;
    (void)status;
}

static const out_ops_t owner_ops = {owner_flush, owner_nop, owner_written};

static void owner_queue(owner_t *o)
{
    assert_int_equal(out_batch_push(&o->batch, "x", 1, NULL, NULL), 0);
    out_batch_flush_later(&o->batch);
}

static void test_batches_go_out_first_listed_first_within_a_turns_budget(void **state)
{
    fixture_t *f = *state;
    char log[32] = "";
    uint64_t writes = 0;
    out_flusher_t fl;
    owner_t o[4];
    out_flusher_init(&fl, &f->loop, &owner_ops, 4, 1024, &writes);
    for (int i = 0; i < 4; i++) {
        o[i] = (owner_t){.name = (char)('a' + i), .log = log};
        out_batch_init(&o[i].batch, &fl, &o[i]);
    }
    /* within the budget: all of them in one turn, in the order listed */
    for (int i = 0; i < 4; i++)
        owner_queue(&o[(i + 2) % 4]);
    owner_queue(&o[2]); /* listed already: keeps its place */
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_string_equal(log, "cdab");
    assert_false(uv_is_active((uv_handle_t *)&fl.idle));
    /* no budget: one batch a turn; one listed again meanwhile goes behind the others */
    log[0] = 0;
    fl.budget_ns = 0;
    for (int i = 0; i < 4; i++)
        owner_queue(&o[i]);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_string_equal(log, "a");
    assert_true(uv_is_active((uv_handle_t *)&fl.idle));
    owner_queue(&o[0]);
    for (int turn = 0; turn < 4; turn++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_string_equal(log, "abcda");
    assert_false(uv_is_active((uv_handle_t *)&fl.idle));
    /* an owner that goes away while listed is never flushed */
    owner_queue(&o[1]);
    owner_queue(&o[3]);
    out_batch_abandon(&o[3].batch, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_string_equal(log, "abcdab");
    assert_false(uv_is_active((uv_handle_t *)&fl.idle));
    for (int i = 0; i < 4; i++)
        out_batch_deinit(&o[i].batch);
    out_flusher_close(&fl, NULL, NULL);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_turn_goes_out_in_one_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_rest_goes_to_one_uv_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_by_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abandon_tries_once_then_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_failed_write_drops_the_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_batches_go_out_first_listed_first_within_a_turns_budget, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
