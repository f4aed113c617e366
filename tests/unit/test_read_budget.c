/* The read budget (net/read_budget.c) on a real loop: a turn's first read starts its clock, reads
 * after the budget are put off and counted, the next turn starts a new budget, and a budget of 0
 * never puts a read off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net/read_budget.h"

static void closed(void *ctx)
{
    (*(int *)ctx)++;
}

static void close_and_finish(uv_loop_t *loop, read_budget_t *rb)
{
    int done = 0;
    read_budget_close(rb, closed, &done);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(done, 1);
    assert_int_equal(uv_loop_close(loop), 0);
}

static void timer_never(uv_timer_t *t)
{
    (void)t;
    fail();
}

static void wait_past(uint64_t t0, uint64_t ns)
{
    while (uv_hrtime() - t0 <= ns) {
    }
}

static void test_reads_after_the_budget_wait_for_the_next_turn(void **state)
{
    (void)state;
    uv_loop_t loop;
    read_budget_t rb;
    uv_timer_t alive; /* a loop with nothing referenced would not turn at all */
    uint64_t put_off = 0;
    uv_loop_init(&loop);
    uv_timer_init(&loop, &alive);
    uv_timer_start(&alive, timer_never, 60000, 0);
    read_budget_init(&rb, &loop, 1000); /* 1 µs */
    uint64_t t0 = uv_hrtime();
    assert_int_equal(read_budget_spent(&rb, &put_off),
                     0); /* the turn's first read starts the clock */
    wait_past(t0, 1000);
    assert_int_equal(read_budget_spent(&rb, &put_off), 1);
    assert_int_equal(read_budget_spent(&rb, &put_off), 1);
    assert_int_equal(put_off, 2);
    uv_run(&loop, UV_RUN_NOWAIT); /* the turn ends: its check handle resets the budget */
    assert_int_equal(read_budget_spent(&rb, &put_off), 0);
    assert_int_equal(put_off, 2);
    uv_close((uv_handle_t *)&alive, NULL);
    close_and_finish(&loop, &rb);
}

static void test_a_budget_not_yet_spent_lets_reads_through(void **state)
{
    (void)state;
    uv_loop_t loop;
    read_budget_t rb;
    uv_loop_init(&loop);
    read_budget_init(&rb, &loop, 60ull * 1000000000u); /* a minute */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(read_budget_spent(&rb, NULL), 0);
    close_and_finish(&loop, &rb);
}

static void test_a_budget_of_zero_never_puts_a_read_off(void **state)
{
    (void)state;
    uv_loop_t loop;
    read_budget_t rb;
    uint64_t put_off = 0;
    uv_loop_init(&loop);
    read_budget_init(&rb, &loop, 0);
    uint64_t t0 = uv_hrtime();
    assert_int_equal(read_budget_spent(&rb, &put_off), 0);
    wait_past(t0, 100000);
    assert_int_equal(read_budget_spent(&rb, &put_off), 0);
    assert_int_equal(put_off, 0);
    close_and_finish(&loop, &rb);
}

/* Its check handle does not keep the loop alive: a loop with nothing else to do returns. */
static void test_the_budget_does_not_keep_the_loop_running(void **state)
{
    (void)state;
    uv_loop_t loop;
    read_budget_t rb;
    uv_loop_init(&loop);
    read_budget_init(&rb, &loop, 1000);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    close_and_finish(&loop, &rb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_after_the_budget_wait_for_the_next_turn),
        cmocka_unit_test(test_a_budget_not_yet_spent_lets_reads_through),
        cmocka_unit_test(test_a_budget_of_zero_never_puts_a_read_off),
        cmocka_unit_test(test_the_budget_does_not_keep_the_loop_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
