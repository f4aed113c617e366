/* Property test of the auction engine: thousands of random command sequences (bidders, amounts,
 * times, ticks, pauses, hammer, undo, reset, end) from a fixed seed, with the invariants of
 * STYLE.md "Tests" checked after every step and the event log replayed against the live state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "auction/engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEQUENCES 3000
#define STEPS 160
#define MASTER_SEED UINT64_C(0x5EED0FA11C7105ED)
#define LOG_CAP 8192
#define MAX_ASSETS 40
#define MAX_MANAGERS 8

/* What the test tracks by itself, from the events, to check the engine against. */
typedef struct {
    uint64_t seed; /* this sequence's seed: printed on failure */
    int step;
    int64_t now;
    int64_t last_seq;
    int lot_leader; /* the highest accepted bid of the lot on the block */
    int64_t lot_high;
    int lot_bids;      /* accepted bids on the lot on the block */
    int lots_closed;   /* since the last reset */
    int64_t frozen_ms; /* while paused: the time resume must give back */
    int last_lot;      /* the highest lot number opened since the last reset */
    int completed;     /* a completion stands (not since reverted by undo or reset) */
    int completions;   /* COMPLETED events seen */
    engine_event_t *log;
    int log_n;
} model_t;

static uint64_t g_rng;

static uint64_t rnd(void)
{
    uint64_t z = (g_rng += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* 0..n-1 */
static int rnd_below(int n)
{
    return (int)(rnd() % (uint64_t)n);
}

static int64_t rnd_range(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static model_t *g_model; /* for the failure message */

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            print_message("property failed: %s (line %d) sequence seed=%" PRIu64 " step=%d\n",     \
                          #cond, __LINE__, g_model->seed, g_model->step);                          \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

static engine_config_t random_config(void)
{
    engine_config_t c;
    memset(&c, 0, sizeof(c));
    c.roster_size = (int)rnd_range(1, 5);
    c.min_bid = rnd_range(1, 10);
    c.min_increment = rnd_range(1, 5);
    c.budget = c.min_bid * c.roster_size + rnd_range(0, 120);
    if (rnd_below(10) == 0) /* below the league's range too: minBid reserve bites */
        c.budget = rnd_range(0, c.min_bid * c.roster_size);
    c.lot_ms = rnd_range(1000, 30000);
    c.anti_snipe_ms = rnd_below(3) == 0 ? 0 : rnd_range(1, c.lot_ms - 1 > 0 ? c.lot_ms - 1 : 1);
    c.intermission_ms = rnd_below(4) == 0 ? 0 : rnd_range(1, 5000);
    c.reoffer_unsold = (int)rnd_range(0, 3);
    c.random_order = rnd_below(2);
    return c;
}

/* ---- invariants ---------------------------------------------------------------------------- */

static void check_managers(const engine_t *e)
{
    for (int m = 0; m < e->n_managers; m++) {
        const engine_manager_t *mg = &e->managers[m];
        CHECK(mg->budget_remaining >= 0);
        CHECK(mg->budget_remaining <= e->cfg.budget);
        CHECK(mg->roster_n >= 0 && mg->roster_n <= e->cfg.roster_size);
        int64_t spent = 0;
        for (int i = 0; i < mg->roster_n; i++) {
            int a = mg->roster[i].asset;
            CHECK(a >= 0 && a < e->n_assets);
            CHECK(e->owner[a] == m);
            CHECK(e->price_of[a] == mg->roster[i].price);
            spent += mg->roster[i].price;
        }
        CHECK(spent + mg->budget_remaining == e->cfg.budget);
    }
}

/* Every asset is exactly one of: owned, unsold in this pass, queued in this pass, on the block. */
static void check_assets(const engine_t *e)
{
    int where[MAX_ASSETS] = {0};
    for (int m = 0; m < e->n_managers; m++)
        for (int i = 0; i < e->managers[m].roster_n; i++)
            where[e->managers[m].roster[i].asset]++;
    for (int i = 0; i < e->unsold_n; i++)
        where[e->unsold[i]]++;
    for (int i = e->order_pos; i < e->order_n; i++)
        where[e->order[i]]++;
    if (e->phase == ENGINE_LOT_RUNNING)
        where[e->lot_asset]++;
    for (int a = 0; a < e->n_assets; a++) {
        CHECK(where[a] == 1);
        CHECK((e->owner[a] >= 0) == (e->price_of[a] > 0)); /* prices are >= minBid >= 1 */
    }
}

static void check_status(const engine_t *e, const model_t *md)
{
    CHECK(e->seq == md->last_seq);
    CHECK(e->history_n >= 0 && e->history_n <= e->history_cap);
    CHECK(e->pass >= 0 && e->pass <= e->cfg.reoffer_unsold);
    switch (e->status) {
    case ENGINE_WAITING:
        CHECK(e->phase == ENGINE_LOT_NONE && e->lot == 0 && e->history_n == 0);
        break;
    case ENGINE_RUNNING:
        CHECK(e->phase == ENGINE_LOT_RUNNING || e->phase == ENGINE_LOT_INTERMISSION);
        CHECK(e->paused_phase == ENGINE_LOT_NONE);
        CHECK(engine_next_deadline(e) == e->ends_at_ms);
        break;
    case ENGINE_PAUSED:
        CHECK(e->phase != ENGINE_LOT_NONE && e->paused_phase == e->phase);
        CHECK(e->remaining_ms >= 0);
        CHECK(engine_next_deadline(e) == INT64_MAX);
        break;
    case ENGINE_COMPLETED:
        CHECK(e->phase == ENGINE_LOT_NONE && e->reason != ENGINE_REASON_NONE);
        break;
    }
    CHECK(e->status == ENGINE_COMPLETED || e->reason == ENGINE_REASON_NONE);
    CHECK((e->status == ENGINE_COMPLETED) == md->completed);
    CHECK(e->completions == md->completions);
    CHECK(e->lots_closed == md->lots_closed);
    if (e->phase == ENGINE_LOT_RUNNING) {
        CHECK(e->leader == md->lot_leader);
        CHECK(e->lot_bids == md->lot_bids);
        CHECK(e->lot == md->last_lot);
        CHECK(e->leader < 0 ? e->price == 0 && e->lot_bids == 0 : e->price == md->lot_high);
    }
}

static void check_invariants(const engine_t *e, const model_t *md)
{
    check_managers(e);
    check_assets(e);
    check_status(e, md);
}

/* ---- events against the model ---------------------------------------------------------------- */

/* No manager has an empty slot and room under maxBid for minBid. */
static int nobody_can_bid(const engine_t *e)
{
    for (int m = 0; m < e->n_managers; m++) {
        const engine_manager_t *mg = &e->managers[m];
        int empty = e->cfg.roster_size - mg->roster_n;
        if (empty > 0 && mg->budget_remaining - e->cfg.min_bid * (empty - 1) >= e->cfg.min_bid)
            return 0;
    }
    return 1;
}

/* A re-offer is an asset that closed unsold earlier (since the reset, not undone). e: the state
 * after the command (its history holds a close earlier in the same command). */
static int closed_before(const engine_t *e, int asset)
{
    for (int i = 0; i < e->history_n; i++)
        if (e->history[i].asset == asset)
            return 1;
    return 0;
}

/* Timing of the events a command produced: lots get their whole clock, intermissions run from the
 * lot's deadline (from now for a hammer or a resume), pause and resume keep the frozen time. */
static void model_timing(model_t *md, const engine_t *b, engine_cmd_type_t cmd,
                         const engine_event_t *ev)
{
    switch (ev->type) {
    case ENGINE_EV_LOT_OPENED:
        CHECK(ev->ends_at_ms == md->now + b->cfg.lot_ms);
        break;
    case ENGINE_EV_INTERMISSION:
        CHECK(ev->ends_at_ms ==
              (cmd == ENGINE_CMD_TICK ? b->ends_at_ms : md->now) + b->cfg.intermission_ms);
        if (b->status == ENGINE_PAUSED)
            md->frozen_ms = b->cfg.intermission_ms;
        break;
    case ENGINE_EV_PAUSED:
        CHECK(ev->remaining_ms == (b->ends_at_ms > md->now ? b->ends_at_ms - md->now : 0));
        md->frozen_ms = ev->remaining_ms;
        break;
    case ENGINE_EV_RESUMED:
        CHECK(ev->ends_at_ms == md->now + md->frozen_ms);
        break;
    case ENGINE_EV_LOT_UNDONE:
        md->frozen_ms = 0; /* resume opens the undone asset at once */
        break;
    default:
        break;
    }
}

static void model_event(model_t *md, const engine_t *before, engine_cmd_type_t cmd,
                        const engine_event_t *ev, const engine_event_t *prev)
{
    model_timing(md, before, cmd, ev);
    CHECK(ev->seq == md->last_seq + 1);
    CHECK(ev->at_ms == md->now);
    md->last_seq = ev->seq;
    CHECK(md->log_n < LOG_CAP);
    md->log[md->log_n++] = *ev;
    switch (ev->type) {
    case ENGINE_EV_LOT_OPENED:
        CHECK(ev->lot == md->last_lot + 1);
        md->last_lot = ev->lot;
        md->lot_leader = -1;
        md->lot_high = 0;
        md->lot_bids = 0;
        break;
    case ENGINE_EV_BID:
        CHECK(ev->amount > md->lot_high); /* strictly higher than every accepted bid */
        md->lot_leader = ev->manager;
        md->lot_high = ev->amount;
        md->lot_bids++;
        break;
    case ENGINE_EV_LOT_CLOSED:
        CHECK(ev->manager == md->lot_leader);
        CHECK(ev->amount == (md->lot_leader >= 0 ? md->lot_high : 0));
        CHECK(ev->budget_after ==
              (ev->sold ? before->managers[ev->manager].budget_remaining - ev->amount : 0));
        md->lots_closed++;
        break;
    case ENGINE_EV_COMPLETED:
        CHECK(!md->completed); /* once per completion */
        CHECK(ev->reason == ENGINE_REASON_ENDED ||
              (prev && prev->type == ENGINE_EV_LOT_CLOSED)); /* the award comes first */
        md->completed = 1;
        md->completions++;
        break;
    case ENGINE_EV_LOT_UNDONE:
        md->completed = 0;
        md->lot_leader = -1;
        md->lot_high = md->lot_bids = 0;
        break;
    case ENGINE_EV_RESET:
        md->completed = 0;
        md->last_lot = 0;
        md->lots_closed = 0;
        md->lot_leader = -1;
        md->lot_high = md->lot_bids = 0;
        break;
    default:
        break;
    }
}

/* The oracle: what a bid must get, from the rules in API.md's precedence, judged on the state
 * before it and on what the test tracked (leader, highest bid, lot number). */
static int expected_bid_rc(const engine_t *b, const model_t *md, const engine_cmd_t *c)
{
    if (c->manager < 0 || c->manager >= b->n_managers)
        return GV_ENOT_A_MANAGER;
    if (b->status != ENGINE_RUNNING)
        return GV_EAUCTION_NOT_RUNNING;
    if (c->lot != md->last_lot)
        return GV_ESTALE_LOT;
    if (b->phase != ENGINE_LOT_RUNNING || md->now >= b->ends_at_ms)
        return GV_ELOT_CLOSED;
    const engine_manager_t *mg = &b->managers[c->manager];
    int empty = b->cfg.roster_size - mg->roster_n;
    if (empty <= 0)
        return GV_EROSTER_FULL;
    if (md->lot_leader == c->manager)
        return GV_EALREADY_LEADING;
    if (c->amount < (md->lot_leader < 0 ? b->cfg.min_bid : md->lot_high + b->cfg.min_increment))
        return GV_EBID_TOO_LOW;
    if (c->amount > mg->budget_remaining - b->cfg.min_bid * (empty - 1))
        return GV_EOVER_MAX_BID;
    return 0;
}

/* The oracle for the other commands: when each control applies (else invalid_state). */
static int expected_rc(const engine_t *b, const model_t *md, const engine_cmd_t *c)
{
    engine_status_t st = b->status;
    int ok = 1;
    switch (c->type) {
    case ENGINE_CMD_BID:
        return expected_bid_rc(b, md, c);
    case ENGINE_CMD_BEGIN:
        ok = st == ENGINE_WAITING;
        break;
    case ENGINE_CMD_PAUSE:
        ok = st == ENGINE_RUNNING;
        break;
    case ENGINE_CMD_RESUME:
        ok = st == ENGINE_PAUSED;
        break;
    case ENGINE_CMD_CLOSE_LOT:
        ok = (st == ENGINE_RUNNING || st == ENGINE_PAUSED) && b->phase == ENGINE_LOT_RUNNING;
        break;
    case ENGINE_CMD_UNDO:
        ok = (st == ENGINE_PAUSED || st == ENGINE_COMPLETED) && b->history_n > 0 &&
             !(b->phase == ENGINE_LOT_RUNNING && md->lot_bids > 0);
        break;
    case ENGINE_CMD_RESET:
        ok = st != ENGINE_WAITING;
        break;
    case ENGINE_CMD_END:
        ok = st != ENGINE_COMPLETED;
        break;
    case ENGINE_CMD_TICK:
        break;
    }
    return ok ? 0 : GV_EINVALID_STATE;
}

/* ---- commands ------------------------------------------------------------------------------ */

static int64_t random_amount(const engine_t *e, int m)
{
    int64_t min = engine_min_bid(e), max = engine_max_bid(e, m);
    switch (rnd_below(6)) {
    case 0:
        return max;
    case 1:
        return max + 1;
    case 2:
        return min - 1;
    case 3:
        return rnd_range(-5, 200);
    default:
        return min + rnd_range(0, 6);
    }
}

static engine_cmd_t random_bid(const engine_t *e)
{
    engine_cmd_t c = {.type = ENGINE_CMD_BID};
    c.manager = rnd_below(12) == 0 ? (int)rnd_range(-1, e->n_managers) : rnd_below(e->n_managers);
    c.lot = rnd_below(12) == 0 ? e->lot + (int)rnd_range(-1, 1) : e->lot;
    c.amount = random_amount(e, c.manager);
    return c;
}

/* Weighted by status, so that auctions run, get bids and reach every control in every state. */
static engine_cmd_t random_cmd(const engine_t *e)
{
    static const engine_cmd_type_t any[] = {
        ENGINE_CMD_BEGIN,     ENGINE_CMD_TICK, ENGINE_CMD_PAUSE, ENGINE_CMD_RESUME,
        ENGINE_CMD_CLOSE_LOT, ENGINE_CMD_UNDO, ENGINE_CMD_END,
    };
    engine_cmd_t c = {.type = ENGINE_CMD_TICK};
    int r = rnd_below(100);
    if (r < 3)
        c.type = r == 0 ? ENGINE_CMD_RESET : any[rnd_below((int)(sizeof(any) / sizeof(any[0])))];
    else if (r < 8)
        return random_bid(e);
    else if (e->status == ENGINE_WAITING)
        c.type = ENGINE_CMD_BEGIN;
    else if (e->status == ENGINE_PAUSED)
        c.type = r < 50 ? ENGINE_CMD_RESUME : r < 75 ? ENGINE_CMD_UNDO : ENGINE_CMD_CLOSE_LOT;
    else if (e->status == ENGINE_COMPLETED)
        c.type = r < 30 ? ENGINE_CMD_UNDO : r < 35 ? ENGINE_CMD_RESET : ENGINE_CMD_TICK;
    else if (r < 75 && (e->phase == ENGINE_LOT_RUNNING || r < 20))
        return random_bid(e);
    else
        c.type = r < 88   ? ENGINE_CMD_TICK
                 : r < 93 ? ENGINE_CMD_PAUSE
                 : r < 97 ? ENGINE_CMD_CLOSE_LOT
                          : ENGINE_CMD_END;
    return c;
}

/* Time moves on: a little (most often), to the deadline or just before it, or far. */
static void advance_time(model_t *md, const engine_t *e)
{
    int64_t d = engine_next_deadline(e);
    int r = rnd_below(100);
    if (r < 40)
        md->now += rnd_range(0, 300);
    else if (r < 60)
        md->now += rnd_range(1, 3000);
    else if (r < 70 && d != INT64_MAX && d - 1 > md->now)
        md->now = d - 1;
    else if (r < 85 && d != INT64_MAX && d > md->now)
        md->now = d;
    else if (r < 98)
        md->now += rnd_range(0, 10000);
    else
        md->now += rnd_range(60000, 3600000); /* an outage */
}

static void replay_check(const engine_t *e, const model_t *md)
{
    engine_t r;
    CHECK(engine_replay_init(&r, &e->cfg, e->n_assets, e->n_managers, e->seed) == 0);
    for (int i = 0; i < md->log_n; i++)
        CHECK(engine_event_apply(&r, &md->log[i]) == 0);
    CHECK(engine_equal(&r, e));
    engine_deinit(&r);
}

/* Copies src into dst, a clone of an engine of the same sizes, without allocating (engine_clone
 * per step would dominate the run time under ASan). */
static void copy_into(engine_t *dst, const engine_t *src)
{
    engine_t arrays = *dst;
    *dst = *src;
    size_t na = (size_t)src->n_assets;
    dst->order = memcpy(arrays.order, src->order, na * sizeof(*src->order));
    dst->unsold = memcpy(arrays.unsold, src->unsold, na * sizeof(*src->unsold));
    dst->owner = memcpy(arrays.owner, src->owner, na * sizeof(*src->owner));
    dst->price_of = memcpy(arrays.price_of, src->price_of, na * sizeof(*src->price_of));
    dst->history =
        memcpy(arrays.history, src->history, (size_t)src->history_cap * sizeof(*src->history));
    for (int m = 0; m < src->n_managers; m++)
        dst->managers[m].roster =
            memcpy(arrays.managers[m].roster, src->managers[m].roster,
                   (size_t)src->cfg.roster_size * sizeof(*src->managers[m].roster));
}

/* Applies c at md->now and checks everything that must hold afterwards. before: scratch
 * storage, a clone of e. */
static void step(engine_t *e, engine_t *before_buf, model_t *md, const engine_cmd_t *c)
{
    engine_t *before = before_buf;
    engine_events_t out = {.n = 0};
    copy_into(before, e);
    int rc = engine_apply(e, c, md->now, &out);
    CHECK(rc == expected_rc(before, md, c));
    if (rc != 0) {
        CHECK(out.n == 0);
        CHECK(engine_equal(before, e)); /* a refused command changes nothing */
    } else if (c->type == ENGINE_CMD_BID) {
        CHECK(out.n == 1 && out.ev[0].type == ENGINE_EV_BID);
    }
    CHECK(out.n <= ENGINE_CMD_MAX_EVENTS);
    for (int i = 0; i < out.n; i++) {
        model_event(md, before, c->type, &out.ev[i], i > 0 ? &out.ev[i - 1] : NULL);
        /* completion after a close exactly when nobody can bid or no lot is left */
        if (out.ev[i].type == ENGINE_EV_INTERMISSION)
            CHECK(!nobody_can_bid(e));
        if (out.ev[i].type == ENGINE_EV_LOT_OPENED)
            CHECK(out.ev[i].retry == closed_before(e, out.ev[i].asset));
        if (out.ev[i].type == ENGINE_EV_COMPLETED && out.ev[i].reason != ENGINE_REASON_ENDED)
            CHECK(nobody_can_bid(e) == (out.ev[i].reason == ENGINE_REASON_ROSTERS_FULL));
    }
    check_invariants(e, md);
}

/* From any state, resume and ticks alone must finish the auction (nothing is ever stuck). */
static void drive_to_completion(engine_t *e, engine_t *before, model_t *md)
{
    int limit = 4 * e->history_cap + 16;
    for (int i = 0; i < limit && e->status != ENGINE_COMPLETED; i++) {
        engine_cmd_t c = {.type = ENGINE_CMD_TICK};
        if (e->status == ENGINE_WAITING)
            c.type = ENGINE_CMD_BEGIN;
        else if (e->status == ENGINE_PAUSED)
            c.type = ENGINE_CMD_RESUME;
        else if (engine_next_deadline(e) > md->now)
            md->now = engine_next_deadline(e);
        md->step++;
        step(e, before, md, &c);
    }
    CHECK(e->status == ENGINE_COMPLETED);
}

static void run_sequence(uint64_t seed, engine_event_t *log)
{
    model_t md = {.seed = seed, .now = INT64_C(1700000000000), .lot_leader = -1, .log = log};
    g_model = &md;
    g_rng = seed;
    engine_config_t cfg = random_config();
    int n_assets = (int)rnd_range(1, MAX_ASSETS), n_managers = (int)rnd_range(1, MAX_MANAGERS);
    engine_t e;
    engine_events_t out = {.n = 0};
    CHECK(engine_init(&e, &cfg, n_assets, n_managers, rnd(), md.now, &out) == 0);
    CHECK(out.n == 1 && out.ev[0].seq == 1);
    model_event(&md, &e, ENGINE_CMD_BEGIN, &out.ev[0], NULL);
    check_invariants(&e, &md);
    engine_t before;
    CHECK(engine_clone(&before, &e) == 0);
    for (md.step = 1; md.step <= STEPS; md.step++) {
        advance_time(&md, &e);
        engine_cmd_t c = random_cmd(&e);
        step(&e, &before, &md, &c);
        if (rnd_below(40) == 0)
            replay_check(&e, &md);
    }
    drive_to_completion(&e, &before, &md);
    replay_check(&e, &md);
    engine_deinit(&before);
    engine_deinit(&e);
}

static void test_random_sequences_keep_invariants(void **state)
{
    (void)state;
    engine_event_t *log = malloc(LOG_CAP * sizeof(*log));
    assert_non_null(log);
    uint64_t master = MASTER_SEED;
    const char *env = getenv("ENGINE_PROPERTY_SEED"); /* rerun one failing sequence */
    if (env) {
        run_sequence(strtoull(env, NULL, 0), log);
    } else {
        for (int i = 0; i < SEQUENCES; i++) {
            g_rng = master;
            uint64_t seed = rnd();
            master = g_rng;
            run_sequence(seed, log);
        }
    }
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_sequences_keep_invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
