/* The auction service as two nodes of a cluster on one store (both backends; one loop, one fake
 * clock, no bus: what the bus would carry is handed over by the test, or repaired from the
 * store): the node that creates an auction runs it and the other follows; a follower refuses
 * commands and names the owner; frames of events are applied once, in order, and a gap is
 * filled from the store; when the owner's lease runs out the other node takes the auction,
 * closes a lot whose endsAt passed and carries on; the deposed owner's late commit is fenced off
 * and it becomes a follower; a node that stops hands its leases over at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auction/cluster_msg.h"
#include "auction/service.h"
#include "auction/service_int.h"
#include "core/err.h"
#include "core/log.h"
#include "league/catalogue.h"
#include "store/store.h"

#include "../league_fixture.h"
#include "../store_backend.h"

#define T0 1767225600000LL
#define LEAGUE "lg_cluster"
#define LEASE_MS 600000 /* the periodic look never fires here: the tests call it */

static const char *const users[] = {"usr_clcomm", "usr_clmgr1", "usr_clmgr2"};

typedef struct {
    store_t *store, *commit_store;
    hub_t *hub;
    auction_service_t *svc;
    const char *id;
} node_t;

typedef struct {
    uv_loop_t loop;
    gv_clock_t clock;
    backend_db_t db;
    node_t n[2];
    char auction[40];
} fx_t;

static int idle(fx_t *f)
{
    for (int i = 0; i < 2; i++)
        if (f->n[i].svc && !auction_service_idle(f->n[i].svc))
            return 0;
    return 1;
}

static void settle(fx_t *f)
{
    uint64_t deadline = uv_hrtime() + 60 * (uint64_t)1000000000;
    while (!idle(f)) {
        if (uv_hrtime() > deadline)
            fail_msg("the auction services did not settle");
        uv_run(&f->loop, UV_RUN_ONCE);
    }
}

static void node_start(fx_t *f, int i)
{
    node_t *n = &f->n[i];
    auction_deps_t deps = {&f->loop,  n->store, n->commit_store, NULL, n->hub,
                           &f->clock, n->id,    LEASE_MS,        NULL};
    assert_int_equal(0, auction_service_new(&n->svc, &deps));
    assert_int_equal(0, auction_service_recover(n->svc));
}

static void close_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Stops node i gracefully (its leases handed back) and frees its service, while the other node
 * goes on on the same loop. */
static void node_stop(fx_t *f, int i)
{
    auction_service_t *svc = f->n[i].svc;
    auction_service_stop(svc);
    for (auction_live_t *l = svc->lives; l; l = l->next)
        uv_close((uv_handle_t *)&l->timer, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT); /* the close callbacks */
    auction_service_free(svc);
    f->n[i].svc = NULL;
}

static int fx_setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    int applied = 0;
    log_threshold = getenv("SVC_LOG") ? LOG_DEBUG : LOG_OFF;
    assert_int_equal(0, backend_db_make(&f->db));
    assert_int_equal(0, uv_loop_init(&f->loop));
    clock_fake_init(&f->clock, T0);
    for (int i = 0; i < 2; i++) {
        f->n[i].id = i ? "node-b" : "node-a";
        f->n[i].hub = hub_new();
        assert_int_equal(0, backend_db_open(&f->db, &f->n[i].store));
        assert_int_equal(0, backend_db_open(&f->db, &f->n[i].commit_store));
    }
    assert_int_equal(0, store_migrate(f->n[0].store, &applied));
    catalogue_report_t rep;
    catalogue_report_init(&rep);
    assert_int_equal(0, catalogue_load_shipped(f->n[0].store, T0, &rep));
    catalogue_report_deinit(&rep);
    fixture_auction_league(f->n[0].store, LEAGUE, users, 3, T0);
    node_start(f, 0);
    node_start(f, 1);
    auction_live_t *live;
    assert_int_equal(0, auction_service_create(f->n[0].svc, LEAGUE, users[0], &live));
    snprintf(f->auction, sizeof(f->auction), "%s", auction_live_id(live));
    engine_cmd_t begin = {.type = ENGINE_CMD_BEGIN};
    assert_int_equal(0, auction_service_command(f->n[0].svc, live, &begin, users[0], NULL, NULL));
    settle(f);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx_t *f = *state;
    for (int i = 0; i < 2; i++)
        if (f->n[i].svc)
            auction_service_stop(f->n[i].svc);
    uv_walk(&f->loop, close_handle, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 2; i++) {
        auction_service_free(f->n[i].svc);
        hub_free(f->n[i].hub);
        store_close(f->n[i].commit_store);
        store_close(f->n[i].store);
    }
    assert_int_equal(0, uv_loop_close(&f->loop));
    int rc = backend_db_drop(&f->db);
    free(f);
    return rc;
}

/* ---- helpers -------------------------------------------------------------------------------- */

static auction_live_t *live_on(fx_t *f, int i)
{
    auction_live_t *l = NULL;
    assert_int_equal(0, auction_service_get(f->n[i].svc, f->auction, &l));
    return l;
}

static int64_t stored_seq(fx_t *f)
{
    store_auction_t row;
    assert_int_equal(0, store_auction_get(f->n[0].store, f->auction, &row));
    int64_t seq = row.seq;
    store_auction_free_fields(&row);
    return seq;
}

typedef struct {
    int calls, status;
} done_t;

static void on_done(void *ctx, int status)
{
    done_t *d = ctx;
    d->calls++;
    d->status = status;
}

/* Manager m (0 or 1) bids amount on the lot on the block, through node i. */
static int bid_on(fx_t *f, int i, int m, int64_t amount, done_t *d)
{
    auction_live_t *l = live_on(f, i);
    engine_cmd_t cmd = {.type = ENGINE_CMD_BID,
                        .manager = m,
                        .lot = auction_live_working(l)->lot,
                        .amount = amount};
    return auction_service_command(f->n[i].svc, l, &cmd, users[m + 1], on_done, d);
}

/* Ends the lease of the auction now, as if its owner had stopped renewing it long ago. */
static void lease_runs_out(fx_t *f)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "UPDATE auctions SET lease_until_ms = 0 WHERE id = '%s'",
             f->auction);
    backend_exec(f->n[0].store, sql);
}

typedef struct {
    buf_t frame;
    int64_t skip; /* an event left out (a gap), 0: none */
    size_t n;
} frame_t;

static int frame_row(void *ctx, const store_auction_event_t *ev)
{
    frame_t *fr = ctx;
    if (ev->seq != fr->skip) {
        fr->n++;
        assert_int_equal(0, cluster_events_add(&fr->frame, ev->payload, strlen(ev->payload)));
    }
    return 0;
}

/* The frame an owner would publish of the stored events after seq `after`, one left out. */
static void frame_of(fx_t *f, int64_t after, int64_t skip, buf_t *out)
{
    frame_t count = {.skip = skip};
    buf_init(&count.frame);
    assert_int_equal(
        0, store_auction_events_each(f->n[0].store, f->auction, after, 0, frame_row, &count));
    buf_init(out);
    assert_int_equal(0, cluster_events_begin(out, f->auction, 1, count.n));
    assert_int_equal(0, buf_append(out, count.frame.data, count.frame.len));
    buf_deinit(&count.frame);
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_the_creator_runs_it_and_the_other_node_follows(void **state)
{
    fx_t *f = *state;
    char owner[STORE_NODE_MAX];
    auction_live_t *a = live_on(f, 0), *b = live_on(f, 1);
    assert_int_equal(0, auction_service_owner(f->n[0].svc, a, owner, sizeof(owner)));
    assert_int_equal(1, auction_service_owner(f->n[1].svc, b, owner, sizeof(owner)));
    assert_string_equal("node-a", owner);
    assert_int_equal(1, auction_service_leases_held(f->n[0].svc));
    assert_int_equal(0, auction_service_leases_held(f->n[1].svc));
    done_t d = {0};
    assert_int_equal(GV_EUNAVAILABLE, bid_on(f, 1, 0, 5, &d)); /* never decided on a copy */
    assert_int_equal(0, d.calls);
    assert_int_equal(stored_seq(f), auction_live_engine(b)->seq);
}

static void test_frames_are_applied_once_in_order_and_a_gap_is_read_from_the_store(void **state)
{
    fx_t *f = *state;
    auction_live_t *b = live_on(f, 1);
    int64_t start = auction_live_engine(b)->seq;
    done_t d[3] = {{0}};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(0, bid_on(f, 0, i % 2, 5 + i, &d[i]));
        settle(f);
        assert_int_equal(0, d[i].status);
    }
    assert_int_equal(start, auction_live_engine(b)->seq); /* no bus: nothing came yet */
    buf_t whole, gap;
    frame_of(f, start, start + 2, &gap); /* the second bid's frame was lost */
    auction_service_cluster_events(f->n[1].svc, gap.data, gap.len);
    assert_int_equal(start + 3, auction_live_engine(b)->seq); /* repaired from the store */
    assert_int_equal(7, auction_live_engine(b)->price);
    frame_of(f, start, 0, &whole);
    auction_service_cluster_events(f->n[1].svc, whole.data, whole.len); /* again: no change */
    assert_int_equal(start + 3, auction_live_engine(b)->seq);
    assert_int_equal(auction_live_engine(live_on(f, 0))->leader, auction_live_engine(b)->leader);
    char junk[] = "E not a frame";
    auction_service_cluster_events(f->n[1].svc, junk, sizeof(junk) - 1);
    assert_int_equal(1, auction_service_stats(f->n[1].svc)->cluster.bad_messages);
    buf_deinit(&whole);
    buf_deinit(&gap);
}

static void test_a_follower_catches_up_from_the_store_on_its_own(void **state)
{
    fx_t *f = *state;
    auction_live_t *b = live_on(f, 1);
    done_t d = {0};
    assert_int_equal(0, bid_on(f, 0, 1, 9, &d));
    settle(f);
    svc_cluster_look(f->n[1].svc); /* heard from lately: the look leaves it be */
    assert_int_equal(stored_seq(f) - 1, auction_live_engine(b)->seq);
    b->followed_ms -= LEASE_MS; /* a lease's time without a word: the last one may be lost */
    svc_cluster_look(f->n[1].svc);
    assert_int_equal(stored_seq(f), auction_live_engine(b)->seq);
    assert_int_equal(9, auction_live_engine(b)->price);
}

static void test_an_expired_lease_is_taken_and_the_old_owner_is_fenced_off(void **state)
{
    fx_t *f = *state;
    done_t d0 = {0};
    assert_int_equal(0, bid_on(f, 0, 0, 5, &d0));
    settle(f);
    int64_t before = stored_seq(f);
    lease_runs_out(f);
    svc_cluster_look(f->n[1].svc); /* node-b takes it, rebuilt from the log */
    char owner[STORE_NODE_MAX];
    auction_live_t *b = live_on(f, 1);
    assert_int_equal(0, auction_service_owner(f->n[1].svc, b, owner, sizeof(owner)));
    assert_int_equal(1, auction_service_leases_held(f->n[1].svc));
    assert_int_equal(before, auction_live_engine(b)->seq);
    assert_int_equal(5, auction_live_engine(b)->price);
    /* node-a has not looked yet: it still decides a bid, whose commit the fence refuses */
    done_t late = {0}, next = {0};
    assert_int_equal(0, bid_on(f, 0, 1, 6, &late));
    settle(f);
    assert_int_equal(1, late.calls);
    assert_int_equal(GV_EUNAVAILABLE, late.status);
    assert_int_equal(before, stored_seq(f)); /* nothing of it was kept */
    assert_int_equal(1, auction_service_owner(f->n[0].svc, live_on(f, 0), owner, sizeof(owner)));
    assert_string_equal("node-b", owner); /* and it knows who runs it now */
    assert_int_equal(0, auction_service_leases_held(f->n[0].svc));
    /* the new owner goes on from the durable state; the old one follows it */
    assert_int_equal(0, bid_on(f, 1, 1, 6, &next));
    settle(f);
    assert_int_equal(0, next.status);
    assert_int_equal(before + 1, stored_seq(f));
    live_on(f, 0)->followed_ms -= LEASE_MS; /* no bus here: quiet for a lease, read the log */
    svc_cluster_look(f->n[0].svc);
    assert_int_equal(before + 1, auction_live_engine(live_on(f, 0))->seq);
    assert_int_equal(6, auction_live_engine(live_on(f, 0))->price);
}

static void test_a_lot_whose_end_passed_closes_when_taken_over(void **state)
{
    fx_t *f = *state;
    done_t d = {0};
    assert_int_equal(0, bid_on(f, 0, 1, 8, &d));
    settle(f);
    auction_live_t *a = live_on(f, 0);
    int lot = auction_live_engine(a)->lot;
    int64_t ends = auction_live_engine(a)->ends_at_ms;
    /* the owner dies before its timer fires; its lease runs out after the lot's end */
    node_stop(f, 0); /* (a graceful stop hands the lease over at once, as the next test shows) */
    clock_fake_advance(&f->clock, ends - clock_now_ms(&f->clock) + 1000);
    lease_runs_out(f);
    svc_cluster_look(f->n[1].svc);
    settle(f);
    auction_live_t *b = live_on(f, 1);
    const engine_t *e = auction_live_engine(b);
    assert_true(e->lot > lot || e->history_n > 0);
    assert_int_equal(lot, e->history[e->history_n - 1].lot);
    assert_int_equal(1, e->history[e->history_n - 1].manager); /* sold to manager 1 for 8 */
    assert_int_equal(stored_seq(f), e->seq);
}

static void test_a_stopping_node_hands_its_leases_over_at_once(void **state)
{
    fx_t *f = *state;
    node_stop(f, 0);
    svc_cluster_look(f->n[1].svc); /* no waiting for the lease to run out */
    assert_int_equal(1, auction_service_leases_held(f->n[1].svc));
    done_t d = {0};
    assert_int_equal(0, bid_on(f, 1, 0, 5, &d));
    settle(f);
    assert_int_equal(0, d.status);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_the_creator_runs_it_and_the_other_node_follows,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_frames_are_applied_once_in_order_and_a_gap_is_read_from_the_store, fx_setup,
            fx_teardown),
        cmocka_unit_test_setup_teardown(test_a_follower_catches_up_from_the_store_on_its_own,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_an_expired_lease_is_taken_and_the_old_owner_is_fenced_off, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_a_lot_whose_end_passed_closes_when_taken_over,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_a_stopping_node_hands_its_leases_over_at_once,
                                        fx_setup, fx_teardown),
    };
    return BACKEND_RUN_BOTH("auction service in a cluster", tests);
}
