/* The auction service against a real store and a fake clock, on both backends
 * (tests/store_backend.h: SQLite in a temporary directory, PostgreSQL in a schema of its own), in
 * both of its commit modes (on the loop, and on its writer thread with its own connection):
 * nothing is visible before it is committed, a read waits for what is being written, a failed
 * commit fails what was decided after it too and reloads, idempotency outcomes are found while
 * pending and after the commit but not after a failure, deletion waits for the writer, a restart
 * recovers the same state, and a sinceSeq resume replays exactly the missed events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auction/service.h"
#include "auction/service_int.h"
#include "core/err.h"
#include "core/log.h"
#include "league/catalogue.h"
#include "store/store.h"

#include "../league_fixture.h"
#include "../store_backend.h"

#define T0 1767225600000LL
#define LEAGUE "lg_svc"

static const char *const users[] = {"usr_svccomm", "usr_svcmgr1", "usr_svcmgr2"};

typedef struct {
    uv_loop_t loop;
    gv_clock_t clock;
    store_t *store, *commit_store, *checkpoint_store;
    hub_t *hub;
    auction_service_t *svc;
    auction_live_t *live;
    int threaded;
    backend_db_t db;
} fx_t;

/* Runs the loop until nothing waits for a commit (the writer thread answers through the loop's
 * async handle, so each iteration may block until it does; a minute is a hang, not a slow disk). */
static void settle(fx_t *f)
{
    uint64_t deadline = uv_hrtime() + 60 * (uint64_t)1000000000;
    while (!auction_service_idle(f->svc)) {
        if (uv_hrtime() > deadline)
            fail_msg("the auction service did not settle");
        uv_run(&f->loop, UV_RUN_ONCE);
    }
}

static void service_start(fx_t *f)
{
    auction_deps_t deps = {&f->loop,
                           f->store,
                           f->threaded ? f->commit_store : NULL,
                           f->threaded ? f->checkpoint_store : NULL,
                           f->hub,
                           &f->clock};
    assert_int_equal(0, auction_service_new(&f->svc, &deps));
}

static void close_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void service_end(fx_t *f)
{
    auction_service_stop(f->svc);
    uv_walk(&f->loop, close_handle, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    auction_service_free(f->svc);
    f->svc = NULL;
    f->live = NULL;
}

static void fx_league(fx_t *f)
{
    fixture_auction_league(f->store, LEAGUE, users, 3, T0);
    assert_int_equal(0, auction_service_create(f->svc, LEAGUE, users[0], &f->live));
    engine_cmd_t begin = {.type = ENGINE_CMD_BEGIN};
    assert_int_equal(0, auction_service_command(f->svc, f->live, &begin, users[0], NULL, NULL));
    settle(f);
}

static int setup_mode(void **state, int threaded)
{
    fx_t *f = calloc(1, sizeof(*f));
    int applied = 0;
    log_threshold = getenv("SVC_LOG") ? LOG_DEBUG : LOG_OFF;
    f->threaded = threaded;
    assert_int_equal(0, backend_db_make(&f->db));
    assert_int_equal(0, uv_loop_init(&f->loop));
    clock_fake_init(&f->clock, T0);
    f->hub = hub_new();
    assert_int_equal(0, backend_db_open(&f->db, &f->store));
    assert_int_equal(0, store_migrate(f->store, &applied));
    assert_int_equal(0, backend_db_open(&f->db, &f->commit_store));
    assert_int_equal(0, backend_db_open(&f->db, &f->checkpoint_store));
    catalogue_report_t rep;
    catalogue_report_init(&rep);
    assert_int_equal(0, catalogue_load_shipped(f->store, T0, &rep));
    catalogue_report_deinit(&rep);
    service_start(f);
    fx_league(f);
    *state = f;
    return 0;
}

static int setup_loop(void **state)
{
    return setup_mode(state, 0);
}

static int setup_thread(void **state)
{
    return setup_mode(state, 1);
}

static int svc_teardown(void **state)
{
    fx_t *f = *state;
    if (f->svc)
        service_end(f);
    assert_int_equal(0, uv_loop_close(&f->loop));
    hub_free(f->hub);
    store_close(f->commit_store);
    store_close(f->checkpoint_store);
    store_close(f->store);
    int rc = backend_db_drop(&f->db);
    free(f);
    return rc;
}

/* ---- helpers -------------------------------------------------------------------------------- */

typedef struct {
    int calls;
    int status;
    fx_t *f;
    int64_t view_seq, stored_seq; /* what a reader saw when answered */
} done_t;

static int64_t stored_seq(fx_t *f)
{
    store_auction_t row;
    assert_int_equal(0, store_auction_get(f->store, auction_live_id(f->live), &row));
    int64_t seq = row.seq;
    store_auction_free_fields(&row);
    return seq;
}

static void on_done(void *ctx, int status)
{
    done_t *d = ctx;
    d->calls++;
    d->status = status;
    if (d->f && status == 0) {
        d->view_seq = auction_live_engine(d->f->live)->seq;
        d->stored_seq = stored_seq(d->f);
    }
}

static int bid(fx_t *f, int manager, int64_t amount, done_t *d)
{
    engine_cmd_t cmd = {.type = ENGINE_CMD_BID, .manager = manager, .lot = 1, .amount = amount};
    return auction_service_command(f->svc, f->live, &cmd, users[manager + 1], on_done, d);
}

/* One loop iteration: the commit hook hands this turn's batch over. */
static void one_turn(fx_t *f)
{
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_nothing_visible_before_the_commit(void **state)
{
    fx_t *f = *state;
    int64_t seq = stored_seq(f);
    done_t d = {0};
    assert_int_equal(0, bid(f, 1, 5, &d));
    /* decided at once on the working state, visible nowhere yet */
    assert_int_equal(seq + 1, auction_live_working(f->live)->seq);
    assert_int_equal(seq, auction_live_engine(f->live)->seq);
    assert_int_equal(0, auction_live_engine(f->live)->price);
    assert_int_equal(seq, stored_seq(f));
    assert_int_equal(0, d.calls);
    settle(f);
    assert_int_equal(1, d.calls);
    assert_int_equal(0, d.status);
    assert_int_equal(seq + 1, auction_live_engine(f->live)->seq);
    assert_int_equal(5, auction_live_engine(f->live)->price);
    assert_int_equal(seq + 1, stored_seq(f));
}

static void test_a_read_sees_only_what_is_durable(void **state)
{
    fx_t *f = *state;
    done_t b1 = {0}, b2 = {0}, read = {.f = f};
    assert_int_equal(0, bid(f, 0, 5, &b1));
    one_turn(f); /* the first bid's batch goes to the writer (or is written now) */
    auction_service_after_commit(f->svc, on_done, &read);
    assert_int_equal(0, bid(f, 1, 6, &b2));
    settle(f);
    assert_int_equal(1, read.calls);
    assert_int_equal(0, read.status);
    assert_int_equal(read.view_seq, read.stored_seq); /* what it saw was on disk */
    assert_int_equal(stored_seq(f), auction_live_engine(f->live)->seq);
    assert_int_equal(6, auction_live_engine(f->live)->price);
    assert_true(b1.calls == 1 && b1.status == 0 && b2.calls == 1 && b2.status == 0);
}

static void test_a_failed_commit_fails_what_was_decided_after_it(void **state)
{
    fx_t *f = *state;
    int64_t seq = stored_seq(f);
    done_t b1 = {0}, b2 = {0};
    assert_int_equal(0, bid(f, 0, 5, &b1));
    auction_service_fail_turn(f->svc, f->live); /* this turn's commit must fail */
    one_turn(f);
    int written_here = b1.calls == 1; /* no writer thread: the failure is already known */
    assert_int_equal(0, bid(f, 1, 6, &b2));
    settle(f);
    assert_int_equal(1, b1.calls);
    assert_int_equal(GV_EUNAVAILABLE, b1.status);
    assert_int_equal(1, b2.calls);
    /* with a writer, the second bid was decided on the failed first one: it fails too; without
     * one, it was decided on the reloaded state and is accepted */
    assert_int_equal(written_here ? 0 : GV_EUNAVAILABLE, b2.status);
    assert_int_equal(f->threaded, !written_here);
    int64_t now = stored_seq(f);
    assert_int_equal(written_here ? seq + 1 : seq, now);
    assert_int_equal(now, auction_live_working(f->live)->seq);
    assert_int_equal(now, auction_live_engine(f->live)->seq);
    done_t b3 = {0};
    assert_int_equal(0, bid(f, 0, 7, &b3)); /* the auction goes on from the store's state */
    settle(f);
    assert_int_equal(0, b3.status);
    assert_int_equal(now + 1, stored_seq(f));
    assert_int_equal(7, auction_live_engine(f->live)->price);
}

static void test_outcomes_pending_committed_and_forgotten_on_failure(void **state)
{
    fx_t *f = *state;
    char out[256];
    const char *aid = auction_live_id(f->live);
    assert_int_equal(0, auction_service_outcome_put(f->svc, aid, users[1], "c1", 0, "{\"a\":1}"));
    assert_int_equal(0, auction_service_outcome_get(f->svc, aid, users[1], "c1", out, sizeof(out)));
    assert_string_equal("{\"a\":1}", out);
    assert_int_equal(GV_ENOT_FOUND,
                     auction_service_outcome_get(f->svc, aid, users[2], "c1", out, sizeof(out)));
    one_turn(f);
    /* while being written: still found */
    assert_int_equal(0, auction_service_outcome_get(f->svc, aid, users[1], "c1", out, sizeof(out)));
    settle(f);
    assert_int_equal(0, auction_service_outcome_get(f->svc, aid, users[1], "c1", out, sizeof(out)));
    assert_string_equal("{\"a\":1}", out);
    assert_int_equal(0, auction_service_outcome_put(f->svc, aid, users[1], "c2", 0, "{\"b\":2}"));
    auction_service_fail_turn(f->svc, f->live);
    settle(f);
    assert_int_equal(GV_ENOT_FOUND,
                     auction_service_outcome_get(f->svc, aid, users[1], "c2", out, sizeof(out)));
    assert_int_equal(0, auction_service_outcome_get(f->svc, aid, users[1], "c1", out, sizeof(out)));
}

static void test_delete_while_a_batch_is_being_written(void **state)
{
    fx_t *f = *state;
    done_t d = {0};
    char id[64];
    snprintf(id, sizeof(id), "%s", auction_live_id(f->live));
    assert_int_equal(0, bid(f, 0, 5, &d));
    one_turn(f);
    assert_int_equal(0, auction_service_delete(f->svc, f->live));
    f->live = NULL;
    assert_int_equal(1, d.calls); /* the bid was answered (committed) before the deletion */
    assert_int_equal(0, d.status);
    settle(f);
    store_auction_t row;
    assert_int_equal(GV_ENOT_FOUND, store_auction_get(f->store, id, &row));
    assert_null(auction_service_find(f->svc, id));
}

static void test_a_restart_recovers_the_same_state(void **state)
{
    fx_t *f = *state;
    done_t d[6] = {{0}};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(0, bid(f, i % 2, 10 + i, &d[i]));
        if (i % 2)
            one_turn(f);
    }
    assert_int_equal(0, auction_service_outcome_put(f->svc, auction_live_id(f->live), users[1],
                                                    "before-restart", 0, "{\"kept\":1}"));
    settle(f);
    char id[64], out[64];
    snprintf(id, sizeof(id), "%s", auction_live_id(f->live));
    int64_t seq = auction_live_engine(f->live)->seq;
    int leader = auction_live_engine(f->live)->leader;
    service_end(f);
    service_start(f);
    assert_int_equal(0, auction_service_recover(f->svc));
    f->live = auction_service_find(f->svc, id);
    assert_non_null(f->live);
    assert_int_equal(seq, auction_live_engine(f->live)->seq);
    assert_int_equal(seq, auction_live_working(f->live)->seq);
    assert_int_equal(15, auction_live_engine(f->live)->price);
    assert_int_equal(leader, auction_live_engine(f->live)->leader);
    assert_int_equal(seq, stored_seq(f));
    /* an outcome recorded before the restart is still the clientBidId's answer */
    assert_int_equal(
        0, auction_service_outcome_get(f->svc, id, users[1], "before-restart", out, sizeof(out)));
    assert_string_equal("{\"kept\":1}", out);
    assert_int_equal(GV_ENOT_FOUND,
                     auction_service_outcome_get(f->svc, id, users[1], "never", out, sizeof(out)));
}

/* What auction_service_missed replayed: the seq of each event, in order, and its text. */
typedef struct {
    int n;
    int64_t seq[1100];
    char *text[1100];
} replay_t;

static void on_missed(void *ctx, const char *json, size_t len)
{
    replay_t *r = ctx;
    const char *s = strstr(json, "\"seq\":");
    assert_true(r->n < 1100 && s != NULL && strlen(json) == len);
    r->seq[r->n] = strtoll(s + 6, NULL, 10);
    r->text[r->n++] = strdup(json);
}

static void replay_free(replay_t *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->text[i]);
    r->n = 0;
}

/* Replays (since, last] and checks it is exactly those seqs in order. */
static void replay_expect(fx_t *f, int64_t since, replay_t *r)
{
    int64_t last = auction_live_engine(f->live)->seq;
    replay_free(r);
    assert_int_equal(0, auction_service_missed(f->svc, f->live, since, on_missed, r));
    assert_int_equal(last - since, r->n);
    for (int i = 0; i < r->n; i++)
        assert_int_equal(since + 1 + i, r->seq[i]);
}

static void test_a_resume_replays_recent_events_from_memory_and_older_from_the_log(void **state)
{
    fx_t *f = *state;
    done_t d = {0};
    for (int i = 0; i < 1100; i++) {
        assert_int_equal(0, bid(f, i % 2, 1 + i, &d));
        if (i % 7 == 0)
            settle(f);
    }
    settle(f);
    assert_int_equal(1100, d.calls);
    int64_t last = auction_live_engine(f->live)->seq;
    assert_true(last > 1100);
    replay_t *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    replay_expect(f, last, a); /* nothing missed */
    replay_expect(f, last - 10, a);
    replay_expect(f, last - 64, a);
    replay_expect(f, last - 65, a);
    replay_expect(f, last - 1000, a);
    replay_expect(f, last - 1024, a);
    /* more than the API promises: a snapshot instead, and nothing replayed */
    replay_free(a);
    assert_int_equal(GV_ENOT_FOUND,
                     auction_service_missed(f->svc, f->live, last - 1025, on_missed, a));
    assert_int_equal(0, a->n);
    /* the log's text of an event is the text sent live: after a restart (nothing in memory yet
     * but what recovery read) the same 1,000 events replay byte for byte */
    replay_expect(f, last - 1000, a);
    char id[64];
    snprintf(id, sizeof(id), "%s", auction_live_id(f->live));
    service_end(f);
    service_start(f);
    assert_int_equal(0, auction_service_recover(f->svc));
    f->live = auction_service_find(f->svc, id);
    assert_non_null(f->live);
    replay_expect(f, last - 1000, b);
    for (int i = 0; i < 1000; i++)
        assert_string_equal(a->text[i], b->text[i]);
    replay_free(a);
    replay_free(b);
    free(a);
    free(b);
}

/* Under a steady stream of commits the log never stops growing by itself: the checkpointer asks
 * the writer to copy back the last frames between two commits, and the next commit starts the
 * log over, with no restart checkpoint (which would hold the writer off). */
static void test_the_writer_lets_the_log_start_over_under_steady_commits(void **state)
{
    fx_t *f = *state;
    const auction_service_stats_t *st = auction_service_stats(f->svc);
    done_t d = {0};
    int i = 0;
    auction_service_set_log_limits(f->svc, 8192, 16384); /* 32 and 64 MiB: a short test */
    /* about 5 pages a commit: 6,000 commits are some 30,000 frames, far past both lengths */
    for (; i < 6000 && __atomic_load_n(&st->checkpoint_catch_ups, __ATOMIC_RELAXED) == 0; i++) {
        assert_int_equal(0, bid(f, i % 2, 1 + i, &d));
        settle(f);
    }
    assert_int_equal(i, d.calls);
    assert_int_equal(0, d.status);
    assert_true(__atomic_load_n(&st->checkpoint_catch_ups, __ATOMIC_RELAXED) >= 1);
    assert_int_equal(0, __atomic_load_n(&st->checkpoint_restarts, __ATOMIC_RELAXED));
    /* the next commit starts the log over: it holds that commit's frames only */
    assert_int_equal(0, bid(f, i % 2, 1 + i, &d));
    settle(f);
    int frames = 0, copied = 0;
    assert_int_equal(0, store_checkpoint(f->store, 0, &frames, &copied));
    assert_in_range(frames, 1, 64);
    assert_int_equal(i + 1, d.calls);
    assert_int_equal(1 + i, auction_live_engine(f->live)->price);
}

/* A large committed batch goes out over several loop turns, at most one step a turn with no
 * budget: first the answers in the order they were queued, then the broadcasts; a join queued
 * meanwhile is answered only once every event is broadcast, and a read with nothing to commit
 * only after the release too, so the view it sees is what the rooms were sent. */
typedef struct {
    fx_t *f;
    int *order;      /* the next answer's position */
    int pos;         /* this one's position (-1: not answered) */
    uint64_t events; /* events broadcast when it was answered */
    int64_t view_seq;
} ordered_t;

static void on_ordered(void *ctx, int status)
{
    ordered_t *o = ctx;
    assert_int_equal(0, status);
    o->pos = (*o->order)++;
    o->events = auction_service_stats(o->f->svc)->events_published;
    o->view_seq = auction_live_engine(o->f->live)->seq;
}

static void test_a_large_batch_is_released_over_several_turns(void **state)
{
    enum { N = 40 };
    fx_t *f = *state;
    const auction_service_stats_t *st = auction_service_stats(f->svc);
    auction_service_set_release_budget(f->svc, 0);
    int64_t seq0 = stored_seq(f);
    uint64_t events0 = st->events_published, turns0 = st->release_turns;
    int order = 0;
    ordered_t bids[N], join = {f, &order, -1, 0, 0}, read = {f, &order, -1, 0, 0};
    for (int i = 0; i < N; i++) {
        bids[i] = (ordered_t){f, &order, -1, 0, 0};
        engine_cmd_t cmd = {.type = ENGINE_CMD_BID, .manager = i % 2, .lot = 1, .amount = 10 + i};
        assert_int_equal(0, auction_service_command(f->svc, f->live, &cmd, users[i % 2 + 1],
                                                    on_ordered, &bids[i]));
    }
    int64_t last = auction_live_working(f->live)->seq;
    assert_int_equal(seq0 + N, last); /* one event per bid */
    uint64_t deadline = uv_hrtime() + 60 * (uint64_t)1000000000;
    while (order == 0) { /* until the writer is done and the first step went out */
        if (uv_hrtime() > deadline)
            fail_msg("the batch was never released");
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    assert_int_equal(AUCTION_RELEASE_STEP, order); /* one step this turn, no broadcast yet */
    assert_int_equal(events0, st->events_published);
    assert_int_equal(last, auction_live_engine(f->live)->seq); /* the view moved at once */
    auction_service_after_publish(f->svc, on_ordered, &join);
    auction_service_after_commit(f->svc, on_ordered, &read);
    int answered = order;
    uint64_t published = st->events_published;
    while (join.pos < 0) {
        if (uv_hrtime() > deadline)
            fail_msg("the release never ended");
        one_turn(f);
        int step = (order - answered) + (int)(st->events_published - published);
        assert_true(step <= AUCTION_RELEASE_STEP + 2); /* + the read and the join at the end */
        answered = order;
        published = st->events_published;
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(i, bids[i].pos);          /* in the order they were decided */
        assert_int_equal(events0, bids[i].events); /* every answer before the first broadcast */
        assert_int_equal(last, bids[i].view_seq);
    }
    assert_int_equal(events0 + N, join.events);
    assert_int_equal(events0 + N, read.events);
    assert_int_equal(last, read.view_seq);
    assert_true(st->release_turns - turns0 >=
                (2 * N + AUCTION_RELEASE_STEP - 1) / AUCTION_RELEASE_STEP);
    settle(f);
    assert_int_equal(last, stored_seq(f));
}

/* The checkpointer's rule: at once after enough frames appended to the log (a heavy load keeps
 * its log short), else every 3 s when something was committed (a light load's commits
 * seldom wait behind a checkpoint's sync); one frame or one nanosecond less is not enough. */
static void test_a_checkpoint_is_due_after_enough_frames_or_the_idle_time(void **state)
{
    (void)state;
    const uint64_t idle = (uint64_t)SVC_CHECKPOINT_IDLE_MS * 1000000u, t0 = 7 * idle + 12345;
    const uint64_t r0 = 4321;
    assert_false(svc_checkpoint_due(r0, r0, t0, t0));
    assert_false(svc_checkpoint_due(r0 + SVC_CHECKPOINT_FRAMES - 1, r0, t0 + idle - 1, t0));
    assert_true(svc_checkpoint_due(r0 + SVC_CHECKPOINT_FRAMES, r0, t0, t0));
    assert_true(svc_checkpoint_due(r0, r0, t0 + idle, t0));
    assert_true(SVC_CHECKPOINT_MS < SVC_CHECKPOINT_IDLE_MS); /* it looks more often than that */
}

#define BOTH(t)                                                                                    \
    {#t " (commits on the loop)", t, setup_loop, svc_teardown, NULL},                              \
    {                                                                                              \
#t " (commits on the writer thread)", t, setup_thread, svc_teardown, NULL                  \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_nothing_visible_before_the_commit),
        BOTH(test_a_read_sees_only_what_is_durable),
        BOTH(test_a_failed_commit_fails_what_was_decided_after_it),
        BOTH(test_outcomes_pending_committed_and_forgotten_on_failure),
        BOTH(test_delete_while_a_batch_is_being_written),
        BOTH(test_a_restart_recovers_the_same_state),
        BOTH(test_a_resume_replays_recent_events_from_memory_and_older_from_the_log),
        BOTH(test_a_large_batch_is_released_over_several_turns),
        cmocka_unit_test(test_a_checkpoint_is_due_after_enough_frames_or_the_idle_time),
    };
    /* SQLite's write-ahead log: PostgreSQL's server manages its own */
    const struct CMUnitTest sqlite_tests[] = {
        cmocka_unit_test_setup_teardown(
            test_the_writer_lets_the_log_start_over_under_steady_commits, setup_thread,
            svc_teardown),
    };
    return BACKEND_RUN_BOTH("auction service", tests) |
           cmocka_run_group_tests_name("auction service, SQLite's log", sqlite_tests,
                                       backend_group_sqlite, NULL);
}
