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

/* What the test tracks by itself, from the events, to check the engine against. */
typedef struct {
    uint64_t seed; /* this sequence's seed: printed on failure */
    int step;
    int64_t now;
    int64_t last_seq;
    int lot_leader; /* the highest accepted bid of the lot on the block */
    int64_t lot_high;
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

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            print_message("property failed: %s (line %d) sequence seed=%" PRIu64               \
                          " step=%d\n",                                                        \
                          #cond, __LINE__, g_model->seed, g_model->step);                      \
            fail();                                                                            \
        }                                                                                      \
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
    int *where = calloc((size_t)e->n_assets, sizeof(*where));
    CHECK(where != NULL);
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
    free(where);
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
    CHECK((e->status == ENGINE_COMPLETED) == md->completed);
    CHECK(e->completions == md->completions);
    if (e->phase == ENGINE_LOT_RUNNING) {
        CHECK(e->leader == md->lot_leader);
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

static void model_event(model_t *md, const engine_t *before, const engine_event_t *ev,
                        const engine_event_t *prev)
{
    CHECK(ev->seq == md->last_seq + 1);
    CHECK(ev->at_ms == md->now);
    md->last_seq = ev->seq;
    CHECK(md->log_n < LOG_CAP);
    md->log[md->log_n++] = *ev;
    switch (ev->type) {
    case ENGINE_EV_LOT_OPENED:
        CHECK(ev->lot == md->last_lot + 1);
        CHECK(ev->ends_at_ms == md->now + before->cfg.lot_ms);
        md->last_lot = ev->lot;
        md->lot_leader = -1;
        md->lot_high = 0;
        break;
    case ENGINE_EV_BID:
        CHECK(ev->amount > md->lot_high); /* strictly higher than every accepted bid */
        md->lot_leader = ev->manager;
        md->lot_high = ev->amount;
        break;
    case ENGINE_EV_LOT_CLOSED:
        CHECK(ev->manager == md->lot_leader);
        CHECK(ev->amount == (md->lot_leader >= 0 ? md->lot_high : 0));
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
        md->lot_high = 0;
        break;
    case ENGINE_EV_RESET:
        md->completed = 0;
        md->last_lot = 0;
        md->lot_leader = -1;
        md->lot_high = 0;
        break;
    default:
        break;
    }
}

/* An accepted bid obeyed every rule, judged on the state before it. */
static void check_accepted_bid(const engine_t *b, const engine_cmd_t *c)
{
    const engine_manager_t *mg = &b->managers[c->manager];
    int empty = b->cfg.roster_size - mg->roster_n;
    int64_t min = b->leader < 0 ? b->cfg.min_bid : b->price + b->cfg.min_increment;
    CHECK(b->status == ENGINE_RUNNING && b->phase == ENGINE_LOT_RUNNING);
    CHECK(c->lot == b->lot && g_model->now < b->ends_at_ms);
    CHECK(empty > 0 && b->leader != c->manager);
    CHECK(c->amount >= min);
    CHECK(c->amount <= mg->budget_remaining - b->cfg.min_bid * (empty - 1));
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

static engine_cmd_t random_cmd(const engine_t *e)
{
    engine_cmd_t c = {.type = ENGINE_CMD_BID};
    int r = rnd_below(100);
    if (r < 55) {
        c.manager = (int)rnd_range(-1, e->n_managers);
        c.lot = rnd_below(8) == 0 ? e->lot + (int)rnd_range(-1, 1) : e->lot;
        c.amount = random_amount(e, c.manager);
        return c;
    }
    static const engine_cmd_type_t others[] = {
        ENGINE_CMD_TICK,   ENGINE_CMD_TICK,      ENGINE_CMD_TICK,  ENGINE_CMD_TICK,
        ENGINE_CMD_TICK,   ENGINE_CMD_BEGIN,     ENGINE_CMD_PAUSE, ENGINE_CMD_RESUME,
        ENGINE_CMD_RESUME, ENGINE_CMD_CLOSE_LOT, ENGINE_CMD_UNDO,  ENGINE_CMD_UNDO,
        ENGINE_CMD_RESET,  ENGINE_CMD_END,
    };
    c.type = others[rnd_below((int)(sizeof(others) / sizeof(others[0])))];
    if (c.type == ENGINE_CMD_RESET && rnd_below(4) != 0) /* rarer, so auctions get far */
        c.type = ENGINE_CMD_TICK;
    return c;
}

/* Time moves on: not at all, a little, to the deadline or just before it, or far. */
static void advance_time(model_t *md, const engine_t *e)
{
    int64_t d = engine_next_deadline(e);
    switch (rnd_below(8)) {
    case 0:
        break;
    case 1:
    case 2:
        md->now += rnd_range(1, 3000);
        break;
    case 3:
        if (d != INT64_MAX && d - 1 > md->now)
            md->now = d - 1;
        break;
    case 4:
    case 5:
        if (d != INT64_MAX && d > md->now)
            md->now = d;
        break;
    case 6:
        md->now += rnd_range(1, 300);
        break;
    default:
        md->now += rnd_below(50) == 0 ? rnd_range(60000, 3600000) : rnd_range(0, 10000);
    }
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

/* Applies c at md->now and checks everything that must hold afterwards. */
static void step(engine_t *e, model_t *md, const engine_cmd_t *c)
{
    engine_t before;
    engine_events_t out = {.n = 0};
    CHECK(engine_clone(&before, e) == 0);
    int rc = engine_apply(e, c, md->now, &out);
    if (rc != 0) {
        CHECK(rc < 0 && out.n == 0);
        CHECK(engine_equal(&before, e)); /* a refused command changes nothing */
    } else if (c->type == ENGINE_CMD_BID) {
        CHECK(out.n == 1 && out.ev[0].type == ENGINE_EV_BID);
        check_accepted_bid(&before, c);
    }
    CHECK(out.n <= ENGINE_CMD_MAX_EVENTS);
    for (int i = 0; i < out.n; i++)
        model_event(md, &before, &out.ev[i], i > 0 ? &out.ev[i - 1] : NULL);
    engine_deinit(&before);
    check_invariants(e, md);
}

/* From any state, resume and ticks alone must finish the auction (nothing is ever stuck). */
static void drive_to_completion(engine_t *e, model_t *md)
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
        step(e, md, &c);
    }
    CHECK(e->status == ENGINE_COMPLETED);
}

static void run_sequence(uint64_t seed, engine_event_t *log)
{
    model_t md = {.seed = seed, .now = INT64_C(1700000000000), .lot_leader = -1, .log = log};
    g_model = &md;
    g_rng = seed;
    engine_config_t cfg = random_config();
    int n_assets = (int)rnd_range(1, 40), n_managers = (int)rnd_range(1, 8);
    engine_t e;
    engine_events_t out = {.n = 0};
    CHECK(engine_init(&e, &cfg, n_assets, n_managers, rnd(), md.now, &out) == 0);
    CHECK(out.n == 1 && out.ev[0].seq == 1);
    model_event(&md, &e, &out.ev[0], NULL);
    check_invariants(&e, &md);
    for (md.step = 1; md.step <= STEPS; md.step++) {
        advance_time(&md, &e);
        engine_cmd_t c = random_cmd(&e);
        step(&e, &md, &c);
        if (rnd_below(40) == 0)
            replay_check(&e, &md);
    }
    drive_to_completion(&e, &md);
    replay_check(&e, &md);
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
