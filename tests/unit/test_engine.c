/* Auction engine rules with a fake clock: one test per rule of PRODUCT.md "Auction" and per
 * failure of the system being replaced (issue 5), with the exact events and codes expected.
 * Every test's whole event log is replayed at the end and must reproduce the live state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "auction/engine.h"

#include <string.h>

#define T0 INT64_C(1000000)
#define LOT_MS INT64_C(30000)
#define GAP_MS INT64_C(3000)
#define LOG_MAX 8192

/* Every event of the current test, for the replay check in finish(). */
static engine_event_t g_log[LOG_MAX];
static int g_log_n;

static engine_config_t cfg_base(void)
{
    engine_config_t c = {.budget = 100,
                         .roster_size = 3,
                         .min_bid = 1,
                         .min_increment = 1,
                         .lot_ms = LOT_MS,
                         .anti_snipe_ms = 0,
                         .intermission_ms = GAP_MS,
                         .reoffer_unsold = 1,
                         .random_order = 0};
    return c;
}

static void log_events(const engine_events_t *out)
{
    for (int i = 0; i < out->n; i++) {
        assert_true(g_log_n < LOG_MAX);
        g_log[g_log_n++] = out->ev[i];
    }
}

static void start(engine_t *e, const engine_config_t *c, int n_assets, int n_managers)
{
    engine_events_t out = {.n = 0};
    g_log_n = 0;
    assert_int_equal(engine_init(e, c, n_assets, n_managers, 42, T0, &out), 0);
    assert_int_equal(out.n, 1);
    log_events(&out);
}

/* Applies a command with out emptied first. Checks what holds for every command: events are
 * numbered on from e->seq and stamped now; a refused command emits nothing and changes nothing. */
static int run(engine_t *e, const engine_cmd_t *c, int64_t now, engine_events_t *out)
{
    engine_t before;
    assert_int_equal(engine_clone(&before, e), 0);
    out->n = 0;
    int rc = engine_apply(e, c, now, out);
    if (rc != 0) {
        assert_int_equal(out->n, 0);
        assert_true(engine_equal(&before, e));
    }
    for (int i = 0; i < out->n; i++) {
        assert_int_equal(out->ev[i].seq, before.seq + 1 + i);
        assert_int_equal(out->ev[i].at_ms, now);
    }
    assert_int_equal(e->seq, before.seq + out->n);
    engine_deinit(&before);
    log_events(out);
    return rc;
}

static int cmd(engine_t *e, engine_cmd_type_t type, int64_t now, engine_events_t *out)
{
    engine_cmd_t c = {.type = type};
    return run(e, &c, now, out);
}

static int bid(engine_t *e, int m, int lot, int64_t amount, int64_t now, engine_events_t *out)
{
    engine_cmd_t c = {.type = ENGINE_CMD_BID, .manager = m, .lot = lot, .amount = amount};
    return run(e, &c, now, out);
}

/* Replays the test's log on a fresh engine, compares, and releases e. */
static void finish(engine_t *e)
{
    engine_t r;
    assert_int_equal(engine_replay_init(&r, &e->cfg, e->n_assets, e->n_managers, e->seed), 0);
    for (int i = 0; i < g_log_n; i++)
        assert_int_equal(engine_event_apply(&r, &g_log[i]), 0);
    assert_true(engine_equal(&r, e));
    engine_deinit(&r);
    engine_deinit(e);
}

static void expect_types(const engine_events_t *out, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    assert_int_equal(out->n, n);
    for (int i = 0; i < n; i++)
        assert_int_equal(out->ev[i].type, va_arg(ap, int));
    va_end(ap);
}

static void ev_opened(const engine_event_t *ev, int lot, int asset, int retry, int64_t ends)
{
    assert_int_equal(ev->type, ENGINE_EV_LOT_OPENED);
    assert_int_equal(ev->lot, lot);
    assert_int_equal(ev->asset, asset);
    assert_int_equal(ev->retry, retry);
    assert_int_equal(ev->ends_at_ms, ends);
}

static void ev_bid(const engine_event_t *ev, int lot, int m, int64_t amount, int64_t ends,
                   int extended)
{
    assert_int_equal(ev->type, ENGINE_EV_BID);
    assert_int_equal(ev->lot, lot);
    assert_int_equal(ev->manager, m);
    assert_int_equal(ev->actor, m);
    assert_int_equal(ev->amount, amount);
    assert_int_equal(ev->ends_at_ms, ends);
    assert_int_equal(ev->extended, extended);
}

static void ev_closed(const engine_event_t *ev, int lot, int asset, int m, int64_t amount,
                      int64_t budget_after)
{
    assert_int_equal(ev->type, ENGINE_EV_LOT_CLOSED);
    assert_int_equal(ev->lot, lot);
    assert_int_equal(ev->asset, asset);
    assert_int_equal(ev->sold, m >= 0);
    assert_int_equal(ev->manager, m);
    assert_int_equal(ev->amount, amount);
    assert_int_equal(ev->budget_after, budget_after);
}

static void ev_gap(const engine_event_t *ev, int next_lot, int64_t ends)
{
    assert_int_equal(ev->type, ENGINE_EV_INTERMISSION);
    assert_int_equal(ev->next_lot, next_lot);
    assert_int_equal(ev->ends_at_ms, ends);
}

static void ev_completed(const engine_event_t *ev, engine_reason_t reason, int sold, int unsold)
{
    assert_int_equal(ev->type, ENGINE_EV_COMPLETED);
    assert_int_equal(ev->reason, reason);
    assert_int_equal(ev->sold_count, sold);
    assert_int_equal(ev->unsold_count, unsold);
}

static void ev_undone(const engine_event_t *ev, int lot, int asset, int m, int64_t amount)
{
    assert_int_equal(ev->type, ENGINE_EV_LOT_UNDONE);
    assert_int_equal(ev->lot, lot);
    assert_int_equal(ev->asset, asset);
    assert_int_equal(ev->manager, m);
    assert_int_equal(ev->amount, amount);
}

/* Begins at T0 (lot 1 = asset 0 in fixed order, ends T0 + LOT_MS). */
static void begin(engine_t *e, engine_events_t *out)
{
    assert_int_equal(cmd(e, ENGINE_CMD_BEGIN, T0, out), 0);
    ev_opened(&out->ev[0], 1, e->order[0], 0, T0 + LOT_MS);
}

/* Manager m buys the lot on the block at amount: bid now, close at its deadline by a tick. */
static void buy(engine_t *e, int m, int64_t amount, engine_events_t *out)
{
    int64_t ends = e->ends_at_ms;
    assert_int_equal(bid(e, m, e->lot, amount, ends - 1, out), 0);
    assert_int_equal(cmd(e, ENGINE_CMD_TICK, e->ends_at_ms, out), 0);
    assert_int_equal(out->ev[0].type, ENGINE_EV_LOT_CLOSED);
    assert_int_equal(out->ev[0].manager, m);
}

/* Lets the lot on the block close unsold and the next one open (ticks at both deadlines). */
static void pass_lot(engine_t *e, engine_events_t *out)
{
    assert_int_equal(cmd(e, ENGINE_CMD_TICK, e->ends_at_ms, out), 0);
    if (e->status == ENGINE_RUNNING && e->phase == ENGINE_LOT_INTERMISSION)
        assert_int_equal(cmd(e, ENGINE_CMD_TICK, e->ends_at_ms, out), 0);
}

/* ---- creation and begin ------------------------------------------------------------------------
 */

static void test_create_emits_created_and_nothing_opens(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 2);
    assert_int_equal(g_log[0].type, ENGINE_EV_CREATED);
    assert_int_equal(g_log[0].seq, 1);
    assert_int_equal(g_log[0].at_ms, T0);
    assert_int_equal(g_log[0].seed, 42);
    assert_int_equal(e.status, ENGINE_WAITING);
    assert_int_equal(e.lot, 0);
    assert_int_equal(engine_queued(&e), 5);
    assert_true(engine_next_deadline(&e) == INT64_MAX);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + 1000000000, &out), 0);
    assert_int_equal(out.n, 0);
    assert_int_equal(bid(&e, 0, 1, 5, T0 + 1, &out), GV_EAUCTION_NOT_RUNNING);
    assert_int_equal(e.lot, 0);
    finish(&e);
}

static void test_init_rejects_bad_config(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out = {.n = 0};
    engine_config_t c = cfg_base();
    assert_int_equal(engine_init(&e, &c, 0, 2, 1, T0, &out), GV_EINVALID_REQUEST);
    assert_int_equal(engine_init(&e, &c, 3, 0, 1, T0, &out), GV_EINVALID_REQUEST);
    assert_int_equal(engine_init(&e, &c, 3, ENGINE_MAX_MANAGERS + 1, 1, T0, &out),
                     GV_EINVALID_REQUEST);
    assert_int_equal(engine_init(&e, &c, ENGINE_MAX_ASSETS + 1, 2, 1, T0, &out),
                     GV_EINVALID_REQUEST);
    c.min_bid = 0;
    assert_int_equal(engine_init(&e, &c, 3, 2, 1, T0, &out), GV_EINVALID_REQUEST);
    c = cfg_base();
    c.reoffer_unsold = 6;
    assert_int_equal(engine_init(&e, &c, 3, 2, 1, T0, &out), GV_EINVALID_REQUEST);
    c = cfg_base();
    c.lot_ms = 0;
    assert_int_equal(engine_init(&e, &c, 3, 2, 1, T0, &out), GV_EINVALID_REQUEST);
    assert_int_equal(out.n, 0);
}

static void test_begin_opens_lot_one(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 2);
    assert_int_equal(cmd(&e, ENGINE_CMD_BEGIN, T0 + 5, &out), 0);
    expect_types(&out, 1, ENGINE_EV_LOT_OPENED);
    ev_opened(&out.ev[0], 1, 0, 0, T0 + 5 + LOT_MS);
    assert_int_equal(out.ev[0].seq, 2);
    assert_int_equal(e.status, ENGINE_RUNNING);
    assert_int_equal(e.phase, ENGINE_LOT_RUNNING);
    assert_true(engine_next_deadline(&e) == T0 + 5 + LOT_MS);
    assert_int_equal(engine_queued(&e), 4);
    assert_int_equal(cmd(&e, ENGINE_CMD_BEGIN, T0 + 6, &out), GV_EINVALID_STATE);
    finish(&e);
}

static void test_invalid_transitions(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 3, 2);
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, T0, &out), GV_EINVALID_STATE);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESUME, T0, &out), GV_EINVALID_STATE);
    assert_int_equal(cmd(&e, ENGINE_CMD_CLOSE_LOT, T0, &out), GV_EINVALID_STATE);
    assert_int_equal(cmd(&e, ENGINE_CMD_UNDO, T0, &out), GV_EINVALID_STATE);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESET, T0, &out), GV_EINVALID_STATE);
    begin(&e, &out);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESUME, T0 + 1, &out), GV_EINVALID_STATE);
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, T0 + 1, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, T0 + 2, &out), GV_EINVALID_STATE);
    assert_int_equal(cmd(&e, ENGINE_CMD_BEGIN, T0 + 2, &out), GV_EINVALID_STATE);
    engine_cmd_t bad = {.type = (engine_cmd_type_t)99};
    assert_int_equal(run(&e, &bad, T0 + 3, &out), GV_EINVALID_REQUEST);
    out.n = ENGINE_MAX_EVENTS - ENGINE_CMD_MAX_EVENTS + 1; /* no room left for a command */
    engine_cmd_t tick = {.type = ENGINE_CMD_TICK};
    assert_int_equal(engine_apply(&e, &tick, T0 + 4, &out), GV_EINVALID_REQUEST);
    finish(&e);
}

/* ---- bids ------------------------------------------------------------------------------------ */

static void test_bid_accepted_moves_leader_and_price(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.min_bid = 10;
    c.min_increment = 5;
    start(&e, &c, 5, 2);
    begin(&e, &out);
    assert_int_equal(engine_min_bid(&e), 10);
    assert_int_equal(bid(&e, 0, 1, 9, T0 + 100, &out), GV_EBID_TOO_LOW);
    assert_int_equal(bid(&e, 0, 1, 10, T0 + 100, &out), 0);
    expect_types(&out, 1, ENGINE_EV_BID);
    ev_bid(&out.ev[0], 1, 0, 10, T0 + LOT_MS, 0);
    assert_int_equal(e.leader, 0);
    assert_int_equal(e.price, 10);
    assert_int_equal(engine_min_bid(&e), 15);
    assert_int_equal(bid(&e, 1, 1, 14, T0 + 200, &out), GV_EBID_TOO_LOW);
    assert_int_equal(bid(&e, 1, 1, 15, T0 + 200, &out), 0);
    ev_bid(&out.ev[0], 1, 1, 15, T0 + LOT_MS, 0);
    assert_int_equal(e.leader, 1);
    assert_int_equal(e.lot_bids, 2);
    finish(&e);
}

static void test_equal_or_lower_bid_refused_and_leader_kept(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 3);
    begin(&e, &out);
    assert_int_equal(bid(&e, 0, 1, 10, T0 + 1, &out), 0);
    assert_int_equal(bid(&e, 1, 1, 10, T0 + 2, &out), GV_EBID_TOO_LOW);
    assert_int_equal(bid(&e, 2, 1, 9, T0 + 3, &out), GV_EBID_TOO_LOW);
    assert_int_equal(e.leader, 0);
    assert_int_equal(e.price, 10);
    assert_int_equal(bid(&e, 1, 1, 11, T0 + 4, &out), 0);
    assert_int_equal(bid(&e, 0, 1, 11, T0 + 5, &out), GV_EBID_TOO_LOW);
    assert_int_equal(e.leader, 1);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS, &out), 0);
    ev_closed(&out.ev[0], 1, 0, 1, 11, 89);
    finish(&e);
}

static void test_simultaneous_equal_bids_exactly_first_wins(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 4);
    begin(&e, &out);
    /* the same instant, in arrival order: each is judged against the state left by the last */
    assert_int_equal(bid(&e, 2, 1, 20, T0 + 500, &out), 0);
    assert_int_equal(bid(&e, 1, 1, 20, T0 + 500, &out), GV_EBID_TOO_LOW);
    assert_int_equal(bid(&e, 3, 1, 20, T0 + 500, &out), GV_EBID_TOO_LOW);
    assert_int_equal(e.leader, 2);
    assert_int_equal(e.lot_bids, 1);
    finish(&e);
}

static void test_bid_at_ends_at_refused_even_before_close(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 2);
    begin(&e, &out);
    assert_int_equal(bid(&e, 0, 1, 5, T0 + LOT_MS, &out), GV_ELOT_CLOSED);
    assert_int_equal(bid(&e, 0, 1, 5, T0 + LOT_MS + 5000, &out), GV_ELOT_CLOSED);
    assert_int_equal(bid(&e, 0, 1, 5, T0 + LOT_MS - 1, &out), 0);
    assert_int_equal(bid(&e, 1, 1, 6, T0 + LOT_MS, &out), GV_ELOT_CLOSED);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS, &out), 0);
    ev_closed(&out.ev[0], 1, 0, 0, 5, 95);
    assert_int_equal(bid(&e, 1, 1, 6, T0 + LOT_MS, &out), GV_ELOT_CLOSED);
    finish(&e);
}

static void test_anti_snipe_reset_to_repeatable_uncapped(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.anti_snipe_ms = 10000;
    start(&e, &c, 5, 2);
    begin(&e, &out);
    assert_int_equal(bid(&e, 0, 1, 1, T0 + 15000, &out), 0);
    ev_bid(&out.ev[0], 1, 0, 1, T0 + LOT_MS, 0);
    assert_int_equal(bid(&e, 1, 1, 2, T0 + 20000, &out), 0); /* exactly 10 s left: no */
    ev_bid(&out.ev[0], 1, 1, 2, T0 + LOT_MS, 0);
    assert_int_equal(bid(&e, 0, 1, 3, T0 + 20001, &out), 0); /* 9.999 s left */
    ev_bid(&out.ev[0], 1, 0, 3, T0 + 30001, 1);
    assert_int_equal(bid(&e, 1, 1, 4, T0 + 29000, &out), 0); /* reset to now + 10 s, not added */
    ev_bid(&out.ev[0], 1, 1, 4, T0 + 39000, 1);
    int64_t now = T0 + 29000;
    for (int i = 0; i < 20; i++) { /* no cap: every last-second bid resets the clock */
        now = e.ends_at_ms - 1;
        assert_int_equal(bid(&e, i % 2, 1, 5 + i, now, &out), 0);
        ev_bid(&out.ev[0], 1, i % 2, 5 + i, now + 10000, 1);
    }
    assert_true(e.ends_at_ms > T0 + LOT_MS + 20 * 9999);
    assert_int_equal(bid(&e, 0, 1, 100, e.ends_at_ms, &out), GV_ELOT_CLOSED);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms - 1, &out), 0);
    assert_int_equal(out.n, 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
    ev_closed(&out.ev[0], 1, 0, 1, 24, 76);
    finish(&e);
}

static void test_anti_snipe_zero_is_off(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 2);
    begin(&e, &out);
    assert_int_equal(bid(&e, 0, 1, 1, T0 + LOT_MS - 1, &out), 0);
    ev_bid(&out.ev[0], 1, 0, 1, T0 + LOT_MS, 0);
    finish(&e);
}

static void test_max_bid_exact_limit_accepted_one_more_refused(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.min_bid = 10; /* budget 100, 3 slots: keep 10 for each of the 2 others */
    start(&e, &c, 5, 2);
    begin(&e, &out);
    assert_int_equal(engine_max_bid(&e, 0), 80);
    assert_int_equal(bid(&e, 0, 1, 81, T0 + 1, &out), GV_EOVER_MAX_BID);
    assert_int_equal(bid(&e, 0, 1, 80, T0 + 1, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS, &out), 0);
    ev_closed(&out.ev[0], 1, 0, 0, 80, 20);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS + GAP_MS, &out), 0);
    assert_int_equal(engine_max_bid(&e, 0), 10); /* 20 - 10 x (2 - 1) */
    assert_int_equal(bid(&e, 0, 2, 11, e.ends_at_ms - 1, &out), GV_EOVER_MAX_BID);
    buy(&e, 0, 10, &out);
    ev_closed(&out.ev[0], 2, 1, 0, 10, 10);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
    assert_int_equal(engine_max_bid(&e, 0), 10); /* last slot: all of it */
    buy(&e, 0, 10, &out);
    ev_closed(&out.ev[0], 3, 2, 0, 10, 0);
    assert_int_equal(engine_max_bid(&e, 0), 0); /* full */
    assert_int_equal(e.managers[0].budget_remaining, 0);
    finish(&e);
}

static void test_roster_full_refused(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.roster_size = 1;
    start(&e, &c, 5, 3);
    begin(&e, &out);
    buy(&e, 0, 5, &out);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
    assert_int_equal(e.lot, 2);
    assert_int_equal(bid(&e, 0, 2, 1, e.ends_at_ms - 1, &out), GV_EROSTER_FULL);
    assert_int_equal(bid(&e, 1, 2, 1, e.ends_at_ms - 1, &out), 0);
    finish(&e);
}

static void test_stale_lot_and_closed_lot(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 2);
    begin(&e, &out);
    assert_int_equal(bid(&e, 0, 2, 5, T0 + 1, &out), GV_ESTALE_LOT);
    assert_int_equal(bid(&e, 0, 0, 5, T0 + 1, &out), GV_ESTALE_LOT);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS, &out), 0);
    assert_int_equal(e.phase, ENGINE_LOT_INTERMISSION);
    /* intermission: the closed lot is "closed", the next one is not on the block yet */
    assert_int_equal(bid(&e, 0, 1, 5, T0 + LOT_MS + 1, &out), GV_ELOT_CLOSED);
    assert_int_equal(bid(&e, 0, 2, 5, T0 + LOT_MS + 1, &out), GV_ESTALE_LOT);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS + GAP_MS, &out), 0);
    assert_int_equal(bid(&e, 0, 1, 5, T0 + LOT_MS + GAP_MS, &out), GV_ESTALE_LOT);
    assert_int_equal(bid(&e, 0, 2, 5, T0 + LOT_MS + GAP_MS, &out), 0);
    finish(&e);
}

/* Several rules broken at once: the first in API.md's precedence is the one reported. */
static void test_rejection_precedence(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.roster_size = 2;
    c.min_bid = 10;
    start(&e, &c, 6, 3);
    /* waiting: not a manager beats not running; not running beats stale lot */
    assert_int_equal(bid(&e, 3, 9, 0, T0, &out), GV_ENOT_A_MANAGER);
    assert_int_equal(bid(&e, -1, 9, 0, T0, &out), GV_ENOT_A_MANAGER);
    assert_int_equal(bid(&e, 0, 9, 0, T0, &out), GV_EAUCTION_NOT_RUNNING);
    begin(&e, &out);
    buy(&e, 0, 50, &out); /* m0: 50 left, 1 slot */
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
    buy(&e, 0, 50, &out); /* m0 full */
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
    buy(&e, 1, 70, &out); /* m1: 30 left, 1 slot, maxBid 30 */
    /* intermission after lot 3: stale beats closed; closed beats roster full */
    int64_t gap = e.ends_at_ms - 1;
    assert_int_equal(bid(&e, 0, 4, 0, gap, &out), GV_ESTALE_LOT);
    assert_int_equal(bid(&e, 0, 3, 0, gap, &out), GV_ELOT_CLOSED);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
    int64_t end = e.ends_at_ms;
    assert_int_equal(bid(&e, 0, 4, 0, end, &out), GV_ELOT_CLOSED);
    /* roster full beats too low and over max */
    assert_int_equal(bid(&e, 0, 4, 0, end - 1, &out), GV_EROSTER_FULL);
    assert_int_equal(bid(&e, 0, 4, 1000, end - 1, &out), GV_EROSTER_FULL);
    /* already leading beats too low and over max */
    assert_int_equal(bid(&e, 2, 4, 60, end - 2, &out), 0);
    assert_int_equal(bid(&e, 2, 4, 1, end - 1, &out), GV_EALREADY_LEADING);
    assert_int_equal(bid(&e, 2, 4, 1000, end - 1, &out), GV_EALREADY_LEADING);
    /* too low (< 61) beats over max (> 30) */
    assert_int_equal(bid(&e, 1, 4, 40, end - 1, &out), GV_EBID_TOO_LOW);
    assert_int_equal(bid(&e, 1, 4, 61, end - 1, &out), GV_EOVER_MAX_BID);
    /* paused: not running beats stale lot */
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, end - 1, &out), 0);
    assert_int_equal(bid(&e, 1, 99, 61, end - 1, &out), GV_EAUCTION_NOT_RUNNING);
    assert_int_equal(bid(&e, 7, 99, 61, end - 1, &out), GV_ENOT_A_MANAGER);
    finish(&e);
}

/* ---- closing, intermission, next lot ------------------------------------------------------------
 */

static void test_tick_nothing_due_emits_nothing(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 2);
    begin(&e, &out);
    int64_t seq = e.seq;
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS - 1, &out), 0);
    assert_int_equal(out.n, 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS, &out), 0);
    expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_INTERMISSION);
    ev_closed(&out.ev[0], 1, 0, -1, 0, 0);
    ev_gap(&out.ev[1], 2, T0 + LOT_MS + GAP_MS);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS + GAP_MS - 1, &out), 0);
    assert_int_equal(out.n, 0);
    assert_int_equal(e.seq, seq + 2);
    assert_true(engine_next_deadline(&e) == T0 + LOT_MS + GAP_MS);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS + GAP_MS, &out), 0);
    expect_types(&out, 1, ENGINE_EV_LOT_OPENED);
    ev_opened(&out.ev[0], 2, 1, 0, T0 + 2 * LOT_MS + GAP_MS);
    finish(&e);
}

static void test_zero_intermission_opens_next_lot_in_same_step(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.intermission_ms = 0;
    start(&e, &c, 5, 2);
    begin(&e, &out);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS, &out), 0);
    expect_types(&out, 3, ENGINE_EV_LOT_CLOSED, ENGINE_EV_INTERMISSION, ENGINE_EV_LOT_OPENED);
    ev_gap(&out.ev[1], 2, T0 + LOT_MS);
    ev_opened(&out.ev[2], 2, 1, 0, T0 + 2 * LOT_MS);
    finish(&e);
}

/* "A server restart left a running lot with nobody to close it": a tick long after the deadline
 * closes the lot with the bids it had, skips the elapsed intermission, and gives the next lot
 * its whole clock. */
static void test_tick_after_outage_closes_overdue_lot_with_its_bids(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 2);
    begin(&e, &out);
    assert_int_equal(bid(&e, 0, 1, 5, T0 + 100, &out), 0);
    assert_int_equal(bid(&e, 1, 1, 6, T0 + 200, &out), 0);
    int64_t late = T0 + 3600000;
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, late, &out), 0);
    expect_types(&out, 3, ENGINE_EV_LOT_CLOSED, ENGINE_EV_INTERMISSION, ENGINE_EV_LOT_OPENED);
    ev_closed(&out.ev[0], 1, 0, 1, 6, 94);
    ev_gap(&out.ev[1], 2, T0 + LOT_MS + GAP_MS);
    ev_opened(&out.ev[2], 2, 1, 0, late + LOT_MS);
    assert_int_equal(bid(&e, 0, 2, 5, late + 1, &out), 0);
    finish(&e);
}

static void test_late_tick_in_intermission_opens_with_full_clock(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 2);
    begin(&e, &out);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS + 60000, &out), 0);
    expect_types(&out, 1, ENGINE_EV_LOT_OPENED);
    ev_opened(&out.ev[0], 2, 1, 0, T0 + 2 * LOT_MS + 60000);
    finish(&e);
}

/* "The first bid on the final lot ended the auction and the lot was never awarded". */
static void test_first_bid_on_final_lot_does_not_end_auction(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.roster_size = 1;
    c.reoffer_unsold = 0;
    start(&e, &c, 2, 2);
    begin(&e, &out);
    assert_int_equal(bid(&e, 0, 1, 5, T0 + 1, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS, &out), 0);
    expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_INTERMISSION);
    ev_closed(&out.ev[0], 1, 0, 0, 5, 95);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS + GAP_MS, &out), 0);
    ev_opened(&out.ev[0], 2, 1, 0, T0 + 2 * LOT_MS + GAP_MS);
    /* the final lot, the only manager who can still bid: the bid alone ends nothing */
    assert_int_equal(bid(&e, 1, 2, 7, T0 + 40000, &out), 0);
    expect_types(&out, 1, ENGINE_EV_BID);
    assert_int_equal(e.status, ENGINE_RUNNING);
    assert_int_equal(e.phase, ENGINE_LOT_RUNNING);
    assert_int_equal(e.completions, 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + 2 * LOT_MS + GAP_MS - 1, &out), 0);
    assert_int_equal(out.n, 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + 2 * LOT_MS + GAP_MS, &out), 0);
    expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_COMPLETED);
    ev_closed(&out.ev[0], 2, 1, 1, 7, 93);
    ev_completed(&out.ev[1], ENGINE_REASON_ROSTERS_FULL, 2, 0);
    assert_int_equal(e.owner[1], 1);
    assert_int_equal(e.managers[1].roster[0].asset, 1);
    assert_int_equal(e.managers[1].roster[0].lot, 2);
    assert_int_equal(e.managers[1].roster[0].price, 7);
    assert_true(engine_next_deadline(&e) == INT64_MAX);
    finish(&e);
}

/* "The final sale was sometimes never announced": the award precedes completion on every path
 * (timer, hammer, end). */
static void test_final_sale_always_announced_before_completion(void **state)
{
    (void)state;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.reoffer_unsold = 0;
    for (int path = 0; path < 3; path++) {
        engine_t e;
        start(&e, &c, 1, 2);
        begin(&e, &out);
        assert_int_equal(bid(&e, 1, 1, 9, T0 + 10, &out), 0);
        engine_cmd_type_t t = path == 0   ? ENGINE_CMD_TICK
                              : path == 1 ? ENGINE_CMD_CLOSE_LOT
                                          : ENGINE_CMD_END;
        assert_int_equal(cmd(&e, t, path == 0 ? T0 + LOT_MS : T0 + 20, &out), 0);
        expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_COMPLETED);
        ev_closed(&out.ev[0], 1, 0, 1, 9, 91);
        ev_completed(&out.ev[1], path == 2 ? ENGINE_REASON_ENDED : ENGINE_REASON_NO_LOTS_LEFT, 1,
                     0);
        assert_int_equal(out.ev[1].seq, out.ev[0].seq + 1);
        assert_int_equal(e.status, ENGINE_COMPLETED);
        finish(&e);
    }
}

static void test_completion_when_rosters_full(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.roster_size = 1;
    start(&e, &c, 5, 2);
    begin(&e, &out);
    buy(&e, 0, 5, &out);
    expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_INTERMISSION);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
    buy(&e, 1, 5, &out);
    expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_COMPLETED);
    ev_completed(&out.ev[1], ENGINE_REASON_ROSTERS_FULL, 2, 3);
    assert_int_equal(e.reason, ENGINE_REASON_ROSTERS_FULL);
    assert_int_equal(engine_queued(&e), 3); /* never offered */
    assert_int_equal(engine_sold_count(&e), 2);
    assert_int_equal(engine_unsold_count(&e), 0);
    assert_int_equal(e.lots_closed, 2);
    finish(&e);
}

/* A manager whose budget cannot cover minBid (here: the reserve for the other empty slots leaves
 * less than minBid, possible only below the league's budget range) cannot bid any more. */
static void test_budget_below_min_bid_counts_as_unable_to_bid(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.budget = 5;
    c.min_bid = 3;
    c.roster_size = 2;
    start(&e, &c, 4, 2);
    begin(&e, &out);
    assert_int_equal(engine_max_bid(&e, 0), 2);
    assert_int_equal(bid(&e, 0, 1, 3, T0 + 1, &out), GV_EOVER_MAX_BID);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS, &out), 0);
    expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_COMPLETED);
    ev_closed(&out.ev[0], 1, 0, -1, 0, 0);
    ev_completed(&out.ev[1], ENGINE_REASON_ROSTERS_FULL, 0, 4);
    finish(&e);
}

/* "Unsold lots were re-offered forever": at most reoffer_unsold extra passes, each flagged retry,
 * each with a new lot number, then no_lots_left. */
static void test_unsold_reoffered_at_most_reoffer_passes(void **state)
{
    (void)state;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.intermission_ms = 0;
    for (int passes = 0; passes <= 2; passes++) {
        engine_t e;
        c.reoffer_unsold = passes;
        start(&e, &c, 2, 2);
        begin(&e, &out);
        int lots = 2 * (passes + 1);
        for (int lot = 1; lot < lots; lot++) {
            int64_t end = e.ends_at_ms;
            assert_int_equal(cmd(&e, ENGINE_CMD_TICK, end, &out), 0);
            expect_types(&out, 3, ENGINE_EV_LOT_CLOSED, ENGINE_EV_INTERMISSION,
                         ENGINE_EV_LOT_OPENED);
            ev_closed(&out.ev[0], lot, (lot - 1) % 2, -1, 0, 0);
            ev_opened(&out.ev[2], lot + 1, lot % 2, lot >= 2, end + LOT_MS);
        }
        assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
        expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_COMPLETED);
        ev_closed(&out.ev[0], lots, 1, -1, 0, 0);
        ev_completed(&out.ev[1], ENGINE_REASON_NO_LOTS_LEFT, 0, 2);
        assert_int_equal(e.lots_closed, lots);
        assert_int_equal(engine_unsold_count(&e), 2);
        assert_int_equal(engine_queued(&e), 0);
        finish(&e);
    }
}

static void test_reoffer_pass_offers_only_unsold_in_order(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 4, 2);
    begin(&e, &out);
    pass_lot(&e, &out);  /* lot 1: asset 0 unsold */
    buy(&e, 0, 5, &out); /* lot 2: asset 1 sold */
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
    pass_lot(&e, &out); /* lot 3: asset 2 unsold */
    assert_int_equal(engine_unsold_count(&e), 2);
    assert_int_equal(engine_queued(&e), 0);
    assert_int_equal(e.lot_asset, 3);
    pass_lot(&e, &out); /* lot 4: asset 3 unsold; pass 1 begins */
    ev_opened(&out.ev[0], 5, 0, 1, e.ends_at_ms);
    assert_int_equal(engine_queued(&e), 2);
    assert_int_equal(engine_unsold_count(&e), 3);
    pass_lot(&e, &out);
    ev_opened(&out.ev[0], 6, 2, 1, e.ends_at_ms);
    pass_lot(&e, &out);
    ev_opened(&out.ev[0], 7, 3, 1, e.ends_at_ms);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
    expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_COMPLETED);
    ev_completed(&out.ev[1], ENGINE_REASON_NO_LOTS_LEFT, 1, 3);
    finish(&e);
}

/* "Queues over 100 assets were cut silently". */
static void test_queue_of_300_assets_offered_in_full(void **state)
{
    (void)state;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.intermission_ms = 0;
    c.reoffer_unsold = 0;
    for (int random = 0; random <= 1; random++) {
        engine_t e;
        int seen[300] = {0};
        c.random_order = random;
        start(&e, &c, 300, 2);
        begin(&e, &out);
        seen[out.ev[0].asset]++;
        for (int lot = 1; lot < 300; lot++) {
            assert_int_equal(engine_queued(&e), 300 - lot);
            assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
            assert_int_equal(out.n, 3);
            assert_int_equal(out.ev[2].lot, lot + 1);
            assert_int_equal(out.ev[2].asset, e.order[lot]);
            if (!random)
                assert_int_equal(out.ev[2].asset, lot);
            seen[out.ev[2].asset]++;
        }
        for (int i = 0; i < 300; i++)
            assert_int_equal(seen[i], 1);
        assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
        expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_COMPLETED);
        assert_int_equal(out.ev[0].lot, 300);
        ev_completed(&out.ev[1], ENGINE_REASON_NO_LOTS_LEFT, 0, 300);
        finish(&e);
    }
}

static void test_close_lot_hammers_now(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 2);
    begin(&e, &out);
    assert_int_equal(bid(&e, 0, 1, 5, T0 + 100, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_CLOSE_LOT, T0 + 1000, &out), 0);
    expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_INTERMISSION);
    ev_closed(&out.ev[0], 1, 0, 0, 5, 95);
    ev_gap(&out.ev[1], 2, T0 + 1000 + GAP_MS); /* from the hammer, not the old deadline */
    assert_int_equal(cmd(&e, ENGINE_CMD_CLOSE_LOT, T0 + 1001, &out), GV_EINVALID_STATE);
    assert_int_equal(bid(&e, 1, 1, 6, T0 + 1001, &out), GV_ELOT_CLOSED);
    finish(&e);
}

static void test_close_lot_while_paused_stays_paused(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 2);
    begin(&e, &out);
    assert_int_equal(bid(&e, 0, 1, 5, T0 + 100, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, T0 + 1000, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_CLOSE_LOT, T0 + 2000, &out), 0);
    expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_INTERMISSION);
    ev_closed(&out.ev[0], 1, 0, 0, 5, 95);
    ev_gap(&out.ev[1], 2, T0 + 2000 + GAP_MS);
    assert_int_equal(e.status, ENGINE_PAUSED);
    assert_int_equal(e.paused_phase, ENGINE_LOT_INTERMISSION);
    assert_int_equal(e.remaining_ms, GAP_MS);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + 100000, &out), 0);
    assert_int_equal(out.n, 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESUME, T0 + 10000, &out), 0);
    expect_types(&out, 1, ENGINE_EV_RESUMED);
    assert_int_equal(out.ev[0].ends_at_ms, T0 + 10000 + GAP_MS);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + 10000 + GAP_MS, &out), 0);
    ev_opened(&out.ev[0], 2, 1, 0, T0 + 10000 + GAP_MS + LOT_MS);
    finish(&e);
}

/* ---- pause and resume ------------------------------------------------------------------------ */

static void test_pause_freezes_running_lot(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 2);
    begin(&e, &out);
    assert_int_equal(bid(&e, 0, 1, 5, T0 + 1000, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, T0 + 10000, &out), 0);
    expect_types(&out, 1, ENGINE_EV_PAUSED);
    assert_int_equal(out.ev[0].remaining_ms, 20000);
    assert_int_equal(e.status, ENGINE_PAUSED);
    assert_int_equal(e.paused_phase, ENGINE_LOT_RUNNING);
    assert_true(engine_next_deadline(&e) == INT64_MAX);
    assert_int_equal(bid(&e, 1, 1, 6, T0 + 10001, &out), GV_EAUCTION_NOT_RUNNING);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + 100000, &out), 0);
    assert_int_equal(out.n, 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESUME, T0 + 200000, &out), 0);
    expect_types(&out, 1, ENGINE_EV_RESUMED);
    assert_int_equal(out.ev[0].ends_at_ms, T0 + 220000);
    assert_int_equal(bid(&e, 1, 1, 6, T0 + 219999, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + 220000, &out), 0);
    ev_closed(&out.ev[0], 1, 0, 1, 6, 94);
    finish(&e);
}

/* "Pausing during the gap between lots and resuming left the auction stuck". */
static void test_pause_in_intermission_then_resume_opens_next_lot_on_time(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 2);
    begin(&e, &out);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, T0 + LOT_MS + 1000, &out), 0);
    assert_int_equal(out.ev[0].remaining_ms, 2000);
    assert_int_equal(e.paused_phase, ENGINE_LOT_INTERMISSION);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS + 5000, &out), 0);
    assert_int_equal(out.n, 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESUME, T0 + 80000, &out), 0);
    expect_types(&out, 1, ENGINE_EV_RESUMED);
    assert_int_equal(out.ev[0].ends_at_ms, T0 + 82000);
    assert_int_equal(e.phase, ENGINE_LOT_INTERMISSION);
    assert_true(engine_next_deadline(&e) == T0 + 82000);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + 81999, &out), 0);
    assert_int_equal(out.n, 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + 82000, &out), 0);
    expect_types(&out, 1, ENGINE_EV_LOT_OPENED);
    ev_opened(&out.ev[0], 2, 1, 0, T0 + 82000 + LOT_MS);
    finish(&e);
}

static void test_pause_at_deadline_resume_closes_at_once(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 2);
    begin(&e, &out);
    assert_int_equal(bid(&e, 1, 1, 4, T0 + 5, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, T0 + LOT_MS + 1000, &out), 0); /* timer late */
    assert_int_equal(out.ev[0].remaining_ms, 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESUME, T0 + 50000, &out), 0);
    expect_types(&out, 3, ENGINE_EV_RESUMED, ENGINE_EV_LOT_CLOSED, ENGINE_EV_INTERMISSION);
    assert_int_equal(out.ev[0].ends_at_ms, T0 + 50000);
    ev_closed(&out.ev[1], 1, 0, 1, 4, 96);
    ev_gap(&out.ev[2], 2, T0 + 50000 + GAP_MS);
    finish(&e);
}

/* ---- undo ----------------------------------------------------------------------------------- */

static void test_undo_sold_lot_refunds_and_reoffers_with_new_number(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 3, 2);
    begin(&e, &out);
    assert_int_equal(bid(&e, 0, 1, 7, T0 + 1, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_UNDO, T0 + LOT_MS + 1, &out), GV_EINVALID_STATE);
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, T0 + LOT_MS + 1000, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_UNDO, T0 + LOT_MS + 2000, &out), 0);
    expect_types(&out, 1, ENGINE_EV_LOT_UNDONE);
    ev_undone(&out.ev[0], 1, 0, 0, 7);
    assert_int_equal(e.status, ENGINE_PAUSED);
    assert_int_equal(e.managers[0].budget_remaining, 100);
    assert_int_equal(e.managers[0].roster_n, 0);
    assert_int_equal(e.owner[0], -1);
    assert_int_equal(engine_sold_count(&e), 0);
    assert_int_equal(engine_queued(&e), 3);
    assert_int_equal(e.lots_closed, 1); /* undone lots stay counted */
    assert_int_equal(e.lot, 1);         /* numbers never go back */
    assert_int_equal(cmd(&e, ENGINE_CMD_UNDO, T0 + LOT_MS + 2001, &out), GV_EINVALID_STATE);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESUME, T0 + 40000, &out), 0);
    expect_types(&out, 2, ENGINE_EV_RESUMED, ENGINE_EV_LOT_OPENED);
    assert_int_equal(out.ev[0].ends_at_ms, T0 + 40000);
    ev_opened(&out.ev[1], 2, 0, 0, T0 + 40000 + LOT_MS);
    assert_int_equal(bid(&e, 1, 2, 3, T0 + 40001, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + 40000 + LOT_MS, &out), 0);
    ev_closed(&out.ev[0], 2, 0, 1, 3, 97);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
    ev_opened(&out.ev[0], 3, 1, 0, e.ends_at_ms);
    finish(&e);
}

static void test_undo_unsold_lot_takes_it_off_unsold_list(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 3, 2);
    begin(&e, &out);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS, &out), 0);
    assert_int_equal(engine_unsold_count(&e), 1);
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, T0 + LOT_MS, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_UNDO, T0 + LOT_MS, &out), 0);
    ev_undone(&out.ev[0], 1, 0, -1, 0);
    assert_int_equal(e.unsold_n, 0);
    assert_int_equal(engine_unsold_count(&e), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESUME, T0 + 50000, &out), 0);
    expect_types(&out, 2, ENGINE_EV_RESUMED, ENGINE_EV_LOT_OPENED);
    ev_opened(&out.ev[1], 2, 0, 0, T0 + 50000 + LOT_MS);
    finish(&e);
}

static void test_undo_puts_open_lot_without_bids_back_behind_undone_asset(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 4, 2);
    begin(&e, &out);
    buy(&e, 0, 5, &out);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0); /* lot 2: asset 1 */
    int64_t now = e.ends_at_ms - 10;
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, now, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_UNDO, now, &out), 0);
    ev_undone(&out.ev[0], 1, 0, 0, 5);
    assert_int_equal(engine_queued(&e), 4);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESUME, now, &out), 0);
    ev_opened(&out.ev[1], 3, 0, 0, now + LOT_MS);
    pass_lot(&e, &out);
    ev_opened(&out.ev[0], 4, 1, 0, e.ends_at_ms);
    pass_lot(&e, &out);
    ev_opened(&out.ev[0], 5, 2, 0, e.ends_at_ms);
    finish(&e);
}

static void test_undo_refused_with_a_bid_on_the_open_lot(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 4, 2);
    begin(&e, &out);
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, T0 + 1, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_UNDO, T0 + 1, &out), GV_EINVALID_STATE); /* none */
    assert_int_equal(cmd(&e, ENGINE_CMD_RESUME, T0 + 2, &out), 0);
    buy(&e, 0, 5, &out);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
    assert_int_equal(bid(&e, 1, 2, 5, e.ends_at_ms - 5, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_UNDO, e.ends_at_ms - 5, &out), GV_EINVALID_STATE);
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, e.ends_at_ms - 5, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_UNDO, T0 + 100000, &out), GV_EINVALID_STATE);
    finish(&e);
}

static void test_undo_after_completion_completes_again_once(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.reoffer_unsold = 0;
    start(&e, &c, 1, 2);
    begin(&e, &out);
    assert_int_equal(bid(&e, 0, 1, 5, T0 + 1, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS, &out), 0);
    expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_COMPLETED);
    assert_int_equal(e.completions, 1);
    assert_int_equal(cmd(&e, ENGINE_CMD_UNDO, T0 + 60000, &out), 0);
    ev_undone(&out.ev[0], 1, 0, 0, 5);
    assert_int_equal(e.status, ENGINE_PAUSED);
    assert_int_equal(e.reason, ENGINE_REASON_NONE);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESUME, T0 + 70000, &out), 0);
    expect_types(&out, 2, ENGINE_EV_RESUMED, ENGINE_EV_LOT_OPENED);
    ev_opened(&out.ev[1], 2, 0, 0, T0 + 70000 + LOT_MS);
    assert_int_equal(bid(&e, 1, 2, 6, T0 + 70001, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + 70000 + LOT_MS, &out), 0);
    expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_COMPLETED);
    ev_closed(&out.ev[0], 2, 0, 1, 6, 94);
    ev_completed(&out.ev[1], ENGINE_REASON_NO_LOTS_LEFT, 1, 0);
    assert_int_equal(e.completions, 2);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + 999999, &out), 0);
    assert_int_equal(out.n, 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_END, T0 + 999999, &out), GV_EINVALID_STATE);
    assert_int_equal(e.completions, 2);
    finish(&e);
}

/* Undo of the last lot of a pass while the re-offer pass's first lot is open (no bids): the pass
 * is reverted, so the undone asset is offered as a first-pass lot and re-offered later. */
static void test_undo_reverts_a_reoffer_pass_that_just_began(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.intermission_ms = 0;
    start(&e, &c, 2, 2);
    begin(&e, &out);
    pass_lot(&e, &out);
    pass_lot(&e, &out);
    ev_opened(&out.ev[2], 3, 0, 1, e.ends_at_ms); /* pass 1 */
    assert_int_equal(e.pass, 1);
    int64_t now = e.ends_at_ms - 1;
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, now, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_UNDO, now, &out), 0);
    ev_undone(&out.ev[0], 2, 1, -1, 0);
    assert_int_equal(e.pass, 0);
    assert_int_equal(engine_unsold_count(&e), 1);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESUME, now, &out), 0);
    ev_opened(&out.ev[1], 4, 1, 0, now + LOT_MS);
    pass_lot(&e, &out);
    ev_opened(&out.ev[2], 5, 0, 1, e.ends_at_ms);
    pass_lot(&e, &out);
    ev_opened(&out.ev[2], 6, 1, 1, e.ends_at_ms);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
    expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_COMPLETED);
    ev_completed(&out.ev[1], ENGINE_REASON_NO_LOTS_LEFT, 0, 2);
    finish(&e);
}

static void test_consecutive_undos_requeue_in_order(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.intermission_ms = 0;
    start(&e, &c, 3, 2);
    begin(&e, &out);
    buy(&e, 0, 5, &out);
    buy(&e, 1, 6, &out);
    int64_t now = e.ends_at_ms - 1; /* lot 3 (asset 2) open, no bids */
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, now, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_UNDO, now, &out), 0);
    ev_undone(&out.ev[0], 2, 1, 1, 6);
    assert_int_equal(cmd(&e, ENGINE_CMD_UNDO, now, &out), 0);
    ev_undone(&out.ev[0], 1, 0, 0, 5);
    assert_int_equal(cmd(&e, ENGINE_CMD_UNDO, now, &out), GV_EINVALID_STATE);
    assert_int_equal(engine_queued(&e), 3);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESUME, now, &out), 0);
    ev_opened(&out.ev[1], 4, 0, 0, now + LOT_MS);
    pass_lot(&e, &out);
    ev_opened(&out.ev[2], 5, 1, 0, e.ends_at_ms);
    pass_lot(&e, &out);
    ev_opened(&out.ev[2], 6, 2, 0, e.ends_at_ms);
    finish(&e);
}

/* ---- reset and end ------------------------------------------------------------------------- */

static void test_reset_restores_everything_and_seq_continues(void **state)
{
    (void)state;
    engine_t e, fresh;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.random_order = 1;
    start(&e, &c, 6, 3);
    assert_int_equal(engine_clone(&fresh, &e), 0);
    begin(&e, &out);
    int first = out.ev[0].asset;
    buy(&e, 0, 5, &out);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
    assert_int_equal(bid(&e, 1, 2, 9, e.ends_at_ms - 1, &out), 0);
    int64_t seq = e.seq;
    assert_int_equal(cmd(&e, ENGINE_CMD_RESET, T0 + 100000, &out), 0);
    expect_types(&out, 1, ENGINE_EV_RESET);
    assert_int_equal(out.ev[0].seq, seq + 1);
    assert_int_equal(e.status, ENGINE_WAITING);
    fresh.seq = e.seq;
    assert_true(engine_equal(&fresh, &e)); /* budgets, rosters, owners, lots, queue, order */
    assert_int_equal(cmd(&e, ENGINE_CMD_BEGIN, T0 + 200000, &out), 0);
    ev_opened(&out.ev[0], 1, first, 0, T0 + 200000 + LOT_MS);
    /* from paused and from completed too */
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, T0 + 200001, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESET, T0 + 200002, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESET, T0 + 200003, &out), GV_EINVALID_STATE);
    assert_int_equal(cmd(&e, ENGINE_CMD_END, T0 + 200004, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESET, T0 + 200005, &out), 0);
    assert_int_equal(e.status, ENGINE_WAITING);
    fresh.seq = e.seq;
    fresh.completions = e.completions;
    assert_true(engine_equal(&fresh, &e));
    engine_deinit(&fresh);
    finish(&e);
}

static void test_end_sells_lot_to_leader_then_completes(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 2);
    begin(&e, &out);
    assert_int_equal(bid(&e, 0, 1, 5, T0 + 10, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_END, T0 + 100, &out), 0);
    expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_COMPLETED);
    ev_closed(&out.ev[0], 1, 0, 0, 5, 95);
    ev_completed(&out.ev[1], ENGINE_REASON_ENDED, 1, 4);
    assert_int_equal(e.reason, ENGINE_REASON_ENDED);
    assert_int_equal(engine_queued(&e), 4);
    assert_int_equal(engine_unsold_count(&e), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_END, T0 + 200, &out), GV_EINVALID_STATE);
    finish(&e);
}

static void test_end_without_leader_leaves_lot_unsold(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 2);
    begin(&e, &out);
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, T0 + 50, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_END, T0 + 100, &out), 0);
    expect_types(&out, 2, ENGINE_EV_LOT_CLOSED, ENGINE_EV_COMPLETED);
    ev_closed(&out.ev[0], 1, 0, -1, 0, 0);
    ev_completed(&out.ev[1], ENGINE_REASON_ENDED, 0, 5);
    assert_int_equal(engine_unsold_count(&e), 1);
    assert_int_equal(engine_queued(&e), 4);
    finish(&e);
}

static void test_end_from_waiting_and_intermission(void **state)
{
    (void)state;
    engine_t e;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 5, 2);
    assert_int_equal(cmd(&e, ENGINE_CMD_END, T0, &out), 0);
    expect_types(&out, 1, ENGINE_EV_COMPLETED);
    ev_completed(&out.ev[0], ENGINE_REASON_ENDED, 0, 5);
    assert_int_equal(cmd(&e, ENGINE_CMD_UNDO, T0, &out), GV_EINVALID_STATE);
    assert_int_equal(cmd(&e, ENGINE_CMD_BEGIN, T0, &out), GV_EINVALID_STATE);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESET, T0, &out), 0);
    begin(&e, &out);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, T0 + LOT_MS, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_END, T0 + LOT_MS + 1, &out), 0);
    expect_types(&out, 1, ENGINE_EV_COMPLETED);
    ev_completed(&out.ev[0], ENGINE_REASON_ENDED, 0, 5);
    finish(&e);
}

/* ---- lot order, progress, replay --------------------------------------------------------------
 */

static void test_random_order_is_a_deterministic_permutation_per_seed(void **state)
{
    (void)state;
    engine_config_t c = cfg_base();
    c.random_order = 1;
    engine_t a, b, d;
    engine_events_t out = {.n = 0};
    assert_int_equal(engine_init(&a, &c, 50, 2, 7, T0, &out), 0);
    out.n = 0;
    assert_int_equal(engine_init(&b, &c, 50, 2, 7, T0 + 99, &out), 0);
    out.n = 0;
    assert_int_equal(engine_init(&d, &c, 50, 2, 8, T0, &out), 0);
    int seen[50] = {0}, same = 1, moved = 0;
    for (int i = 0; i < 50; i++) {
        seen[a.order[i]]++;
        assert_int_equal(a.order[i], b.order[i]);
        same = same && a.order[i] == d.order[i];
        moved += a.order[i] != i;
    }
    for (int i = 0; i < 50; i++)
        assert_int_equal(seen[i], 1);
    assert_false(same);
    assert_true(moved > 10);
    engine_deinit(&a);
    engine_deinit(&b);
    engine_deinit(&d);
}

static void test_fixed_order_is_selection_order(void **state)
{
    (void)state;
    engine_t e;
    engine_config_t c = cfg_base();
    start(&e, &c, 20, 2);
    for (int i = 0; i < 20; i++)
        assert_int_equal(e.order[i], i);
    finish(&e);
}

static void test_event_apply_refuses_events_that_do_not_fit(void **state)
{
    (void)state;
    engine_t e, copy;
    engine_events_t out;
    engine_config_t c = cfg_base();
    start(&e, &c, 3, 2);
    begin(&e, &out);
    assert_int_equal(engine_clone(&copy, &e), 0);
    engine_event_t ev = {.type = ENGINE_EV_LOT_CLOSED, .seq = e.seq + 2, .lot = 1, .asset = 0};
    assert_int_equal(engine_event_apply(&e, &ev), GV_EINVALID_REQUEST); /* seq gap */
    ev.seq = e.seq + 1;
    ev.asset = 2; /* not the lot on the block */
    assert_int_equal(engine_event_apply(&e, &ev), GV_EINVALID_REQUEST);
    ev.asset = 0;
    ev.sold = 1;
    ev.manager = 9;
    assert_int_equal(engine_event_apply(&e, &ev), GV_EINVALID_REQUEST);
    engine_event_t undo = {.type = ENGINE_EV_LOT_UNDONE, .seq = e.seq + 1, .lot = 1};
    assert_int_equal(engine_event_apply(&e, &undo), GV_EINVALID_REQUEST); /* nothing closed */
    engine_event_t bad = {.type = (engine_event_type_t)77, .seq = e.seq + 1};
    assert_int_equal(engine_event_apply(&e, &bad), GV_EINVALID_REQUEST);
    assert_true(engine_equal(&copy, &e));
    engine_deinit(&copy);
    finish(&e);
}

static void test_replay_reproduces_state_and_equal_sees_differences(void **state)
{
    (void)state;
    engine_t e, copy;
    engine_events_t out;
    engine_config_t c = cfg_base();
    c.random_order = 1;
    c.anti_snipe_ms = 5000;
    start(&e, &c, 6, 3);
    begin(&e, &out);
    buy(&e, 2, 9, &out);
    assert_int_equal(cmd(&e, ENGINE_CMD_PAUSE, e.ends_at_ms - 100, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_RESUME, e.ends_at_ms + 5000, &out), 0);
    assert_int_equal(cmd(&e, ENGINE_CMD_TICK, e.ends_at_ms, &out), 0);
    assert_int_equal(bid(&e, 1, 2, 3, e.ends_at_ms - 1, &out), 0);
    assert_int_equal(engine_clone(&copy, &e), 0);
    assert_true(engine_equal(&copy, &e));
    copy.managers[1].budget_remaining--;
    assert_false(engine_equal(&copy, &e));
    copy.managers[1].budget_remaining++;
    copy.order[copy.order_pos] ^= 1;
    assert_false(engine_equal(&copy, &e));
    engine_deinit(&copy);
    finish(&e); /* replays g_log and compares */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_emits_created_and_nothing_opens),
        cmocka_unit_test(test_init_rejects_bad_config),
        cmocka_unit_test(test_begin_opens_lot_one),
        cmocka_unit_test(test_invalid_transitions),
        cmocka_unit_test(test_bid_accepted_moves_leader_and_price),
        cmocka_unit_test(test_equal_or_lower_bid_refused_and_leader_kept),
        cmocka_unit_test(test_simultaneous_equal_bids_exactly_first_wins),
        cmocka_unit_test(test_bid_at_ends_at_refused_even_before_close),
        cmocka_unit_test(test_anti_snipe_reset_to_repeatable_uncapped),
        cmocka_unit_test(test_anti_snipe_zero_is_off),
        cmocka_unit_test(test_max_bid_exact_limit_accepted_one_more_refused),
        cmocka_unit_test(test_roster_full_refused),
        cmocka_unit_test(test_stale_lot_and_closed_lot),
        cmocka_unit_test(test_rejection_precedence),
        cmocka_unit_test(test_tick_nothing_due_emits_nothing),
        cmocka_unit_test(test_zero_intermission_opens_next_lot_in_same_step),
        cmocka_unit_test(test_tick_after_outage_closes_overdue_lot_with_its_bids),
        cmocka_unit_test(test_late_tick_in_intermission_opens_with_full_clock),
        cmocka_unit_test(test_first_bid_on_final_lot_does_not_end_auction),
        cmocka_unit_test(test_final_sale_always_announced_before_completion),
        cmocka_unit_test(test_completion_when_rosters_full),
        cmocka_unit_test(test_budget_below_min_bid_counts_as_unable_to_bid),
        cmocka_unit_test(test_unsold_reoffered_at_most_reoffer_passes),
        cmocka_unit_test(test_reoffer_pass_offers_only_unsold_in_order),
        cmocka_unit_test(test_queue_of_300_assets_offered_in_full),
        cmocka_unit_test(test_close_lot_hammers_now),
        cmocka_unit_test(test_close_lot_while_paused_stays_paused),
        cmocka_unit_test(test_pause_freezes_running_lot),
        cmocka_unit_test(test_pause_in_intermission_then_resume_opens_next_lot_on_time),
        cmocka_unit_test(test_pause_at_deadline_resume_closes_at_once),
        cmocka_unit_test(test_undo_sold_lot_refunds_and_reoffers_with_new_number),
        cmocka_unit_test(test_undo_unsold_lot_takes_it_off_unsold_list),
        cmocka_unit_test(test_undo_puts_open_lot_without_bids_back_behind_undone_asset),
        cmocka_unit_test(test_undo_refused_with_a_bid_on_the_open_lot),
        cmocka_unit_test(test_undo_after_completion_completes_again_once),
        cmocka_unit_test(test_undo_reverts_a_reoffer_pass_that_just_began),
        cmocka_unit_test(test_consecutive_undos_requeue_in_order),
        cmocka_unit_test(test_reset_restores_everything_and_seq_continues),
        cmocka_unit_test(test_end_sells_lot_to_leader_then_completes),
        cmocka_unit_test(test_end_without_leader_leaves_lot_unsold),
        cmocka_unit_test(test_end_from_waiting_and_intermission),
        cmocka_unit_test(test_random_order_is_a_deterministic_permutation_per_seed),
        cmocka_unit_test(test_fixed_order_is_selection_order),
        cmocka_unit_test(test_event_apply_refuses_events_that_do_not_fit),
        cmocka_unit_test(test_replay_reproduces_state_and_equal_sees_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
