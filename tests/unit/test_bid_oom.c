/* Out of memory on the bid path, against the real service and SQLite store: an allocator that
 * fails the Nth JSON allocation (jansson's, where the bid's event is built and a replayed
 * outcome is read back) is swept over every N of one bid. Whatever N: the answer is the bid's rule
 * decision or a 5xx `internal`, never another rule's code (before one error space, a failed
 * queueing was answered 409 stale_lot); a 5xx is never stored as the clientBidId's outcome (a
 * resend is judged afresh); the memory and the store agree afterwards (the seq and the leader), and
 * the auction takes the next bid with the next seq. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/app.h"
#include "api/bids.h"
#include "auction/service.h"
#include "core/err.h"
#include "core/log.h"
#include "league/catalogue.h"
#include "store/store.h"

#include "../store_fixture.h"
#include "../tmpdir.h"

#define T0 1767225600000LL
#define LEAGUE "lg_oom"

static const char *const users[] = {"usr_oomcomm", "usr_oommgr"};

/* ---- the failing allocator ------------------------------------------------------------------ */

static long oom_count;
static long oom_fail_at = -1; /* the allocation (0-based, counted from arming) that fails */

static void *oom_malloc(size_t n)
{
    if (oom_fail_at >= 0 && oom_count++ == oom_fail_at)
        return NULL;
    return malloc(n);
}

static void oom_arm(long n)
{
    oom_count = 0;
    oom_fail_at = n;
}

/* ---- the application ------------------------------------------------------------------------ */

typedef struct {
    app_t app;
    uv_loop_t loop;
    char dir[64];
    auction_live_t *live;
} fx_t;

static void settle(fx_t *f)
{
    for (int i = 0; i < 100; i++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        if (auction_service_idle(f->app.auctions))
            return;
    }
    fail_msg("the auction service did not settle");
}

static void fx_league(fx_t *f)
{
    fixture_auction_league(f->app.store, LEAGUE, users, 2, T0);
    assert_int_equal(0, auction_service_create(f->app.auctions, LEAGUE, users[0], &f->live));
    engine_cmd_t begin = {.type = ENGINE_CMD_BEGIN};
    assert_int_equal(
        0, auction_service_command(f->app.auctions, f->live, &begin, users[0], NULL, NULL));
    settle(f);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    int applied = 0;
    log_threshold = getenv("OOM_LOG") ? LOG_DEBUG : LOG_OFF;
    assert_int_equal(0, tmpdir_make(f->dir, sizeof(f->dir), "bid-oom"));
    assert_int_equal(0, uv_loop_init(&f->loop));
    config_defaults(&f->app.cfg);
    f->app.loop = &f->loop;
    clock_fake_init(&f->app.clock, T0);
    f->app.rl.bid_user = rl_new(20, 20, 0, 1024); /* scale 0: off */
    f->app.hub = hub_new();
    assert_int_equal(0, store_open(&f->app.store, f->dir));
    assert_int_equal(0, store_migrate(f->app.store, &applied));
    catalogue_report_t rep;
    catalogue_report_init(&rep);
    assert_int_equal(0, catalogue_load_shipped(f->app.store, T0, &rep));
    catalogue_report_deinit(&rep);
    assert_int_equal(
        0, auction_service_new(&f->app.auctions, &(auction_deps_t){.loop = f->app.loop,
                                                                   .store = f->app.store,
                                                                   .hub = f->app.hub,
                                                                   .clock = &f->app.clock}));
    fx_league(f);
    json_set_alloc_funcs(oom_malloc, free);
    *state = f;
    return 0;
}

static void close_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static int teardown(void **state)
{
    fx_t *f = *state;
    json_set_alloc_funcs(malloc, free);
    auction_service_stop(f->app.auctions);
    uv_walk(&f->loop, close_handle, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(0, uv_loop_close(&f->loop));
    auction_service_free(f->app.auctions);
    hub_free(f->app.hub);
    rl_free(f->app.rl.bid_user);
    store_close(f->app.store);
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

/* ---- the sweep ------------------------------------------------------------------------------ */

static int64_t stored_seq(fx_t *f)
{
    store_auction_t row;
    assert_int_equal(0, store_auction_get(f->app.store, auction_live_id(f->live), &row));
    int64_t seq = row.seq;
    store_auction_free_fields(&row);
    return seq;
}

/* Places a bid with the allocation fail_at failing (-1: none) and settles; *hit tells whether
 * that allocation was reached. */
static void place(fx_t *f, const char *user, int64_t amount, const char *cbid, long fail_at,
                  int *hit, bid_outcome_t *out)
{
    api_bid_t b = {.user = user, .lot = 1, .amount = amount, .cbid = cbid, .currency = "GBP"};
    oom_arm(fail_at);
    api_bid_run(&f->app, f->live, &b, out);
    *hit = fail_at >= 0 && oom_count > fail_at;
    oom_arm(-1);
    settle(f);
}

static void assert_same_outcome(const bid_outcome_t *a, const bid_outcome_t *b)
{
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->lot, b->lot);
    assert_int_equal(a->amount, b->amount);
    assert_int_equal(a->ends_at_ms, b->ends_at_ms);
    assert_string_equal(a->code, b->code);
    assert_string_equal(a->message, b->message);
    assert_string_equal(a->details, b->details);
}

static void test_out_of_memory_on_every_allocation_of_a_bid(void **state)
{
    fx_t *f = *state;
    int64_t amount = 10, seq = auction_live_engine(f->live)->seq;
    int failures = 0;
    for (long n = 0;; n++) {
        const char *user = users[n % 2]; /* alternate, so each fresh decision is an acceptance */
        char cbid[32];
        snprintf(cbid, sizeof(cbid), "bid-%ld", n);
        int hit, again_hit;
        bid_outcome_t out, again;
        place(f, user, amount, cbid, n, &hit, &out);
        if (out.status != 200) {
            assert_int_equal(500, out.status);
            assert_string_equal("internal", out.code);
        }
        /* memory and store agree once settled */
        assert_int_equal(stored_seq(f), auction_live_engine(f->live)->seq);
        place(f, user, amount, cbid, -1, &again_hit, &again);
        if (out.status == 200) { /* a decision: the resend gets it again, identically */
            assert_same_outcome(&out, &again);
        } else { /* a failure of ours: judged afresh, and accepted now */
            failures++;
            assert_int_equal(200, again.status);
        }
        assert_int_equal(++seq, again.seq);
        assert_int_equal(stored_seq(f), seq);
        assert_int_equal(auction_live_engine(f->live)->price, amount);
        amount++;
        if (!hit)
            break; /* this bid needed fewer than n + 1 allocations: every one was failed */
    }
    assert_true(failures > 3); /* the sweep reached the event's allocations */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_out_of_memory_on_every_allocation_of_a_bid, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
