/* The Football-Data.org sync's pure parts with an injected clock: the sliding-window limit (exact
 * edges and a random run against a reference count), Retry-After and X-RequestCounter-Reset,
 * backoff, the competition table, the schedule (period, skip, 429 block, backoff, quota used up,
 * the set of competitions changing, a long simulated run that never exceeds the limit), how an
 * answer is judged, and the configuration check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "season/fd_fetch.h"
#include "season/fd_sched.h"
#include "season/fd_sync.h"

#define T0 1000000LL /* a monotonic start, ms */
#define MINUTE 60000LL

static fd_key_t key(const char *code, int season)
{
    fd_key_t k;
    memset(&k, 0, sizeof(k));
    snprintf(k.code, sizeof(k.code), "%s", code);
    k.season = season;
    return k;
}

/* ---- rate window ---------------------------------------------------------------------------- */

static void test_rate_ten_per_rolling_minute(void **state)
{
    (void)state;
    static fd_rate_t r;
    fd_rate_init(&r, 10, MINUTE);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(fd_rate_next_ms(&r, T0 + i * 1000), T0 + i * 1000);
        fd_rate_note(&r, T0 + i * 1000);
    }
    /* the 11th waits until the 1st has left the window, not for a refill */
    assert_int_equal(fd_rate_next_ms(&r, T0 + 10000), T0 + MINUTE);
    assert_int_equal(fd_rate_next_ms(&r, T0 + MINUTE - 1), T0 + MINUTE);
    assert_int_equal(fd_rate_next_ms(&r, T0 + MINUTE), T0 + MINUTE);
    fd_rate_note(&r, T0 + MINUTE);
    assert_int_equal(fd_rate_next_ms(&r, T0 + MINUTE), T0 + MINUTE + 1000); /* now the 2nd's turn */
    assert_int_equal(fd_rate_next_ms(&r, T0 + 5 * MINUTE), T0 + 5 * MINUTE);
}

static void test_rate_clamps_its_arguments(void **state)
{
    (void)state;
    static fd_rate_t r;
    fd_rate_init(&r, 0, 0);
    assert_int_equal(r.max, 1);
    assert_int_equal(r.window_ms, 1);
    fd_rate_init(&r, FD_RATE_MAX + 5, MINUTE);
    assert_int_equal(r.max, FD_RATE_MAX);
}

/* Requests sent whenever allowed at random times: no window ever holds more than max, and a
 * refusal is exactly when a reference count says the window is full. */
static void test_rate_random_against_a_count(void **state)
{
    (void)state;
    enum { N = 4000, MAX = 7, WINDOW = 5000 };
    static fd_rate_t r;
    static int64_t sent[N];
    size_t n = 0;
    int64_t now = T0;
    srand(7);
    fd_rate_init(&r, MAX, WINDOW);
    for (int step = 0; step < N && n < N; step++) {
        now += rand() % 900;
        int in_window = 0;
        for (size_t i = 0; i < n; i++)
            in_window += sent[i] > now - WINDOW;
        int64_t next = fd_rate_next_ms(&r, now);
        assert_int_equal(next == now, in_window < MAX);
        if (next == now)
            fd_rate_note(&r, sent[n++] = now);
    }
    for (size_t i = 0; i + MAX < n; i++)
        assert_true(sent[i + MAX] - sent[i] >= WINDOW);
    assert_true(n > 100);
}

/* ---- Retry-After, backoff, competitions ----------------------------------------------------- */

static void test_retry_after(void **state)
{
    (void)state;
    const int64_t now = 784111777000LL; /* Sun, 06 Nov 1994 08:49:37 GMT */
    assert_int_equal(fd_retry_after_ms("2", NULL, now), 2000);
    assert_int_equal(fd_retry_after_ms(" 27 ", NULL, now), 27000);
    assert_int_equal(fd_retry_after_ms(NULL, "13", now), 13000);
    assert_int_equal(fd_retry_after_ms("2", "13", now), 13000); /* the longer wait wins */
    assert_int_equal(fd_retry_after_ms("30", "13", now), 30000);
    assert_int_equal(fd_retry_after_ms("Sun, 06 Nov 1994 08:50:07 GMT", NULL, now), 30000);
    assert_int_equal(fd_retry_after_ms("Sun, 06 Nov 1994 08:40:00 GMT", NULL, now), 0); /* past */
    assert_int_equal(fd_retry_after_ms("0", NULL, now), 0);
    assert_int_equal(fd_retry_after_ms("99999999999999999999", NULL, now), FD_RETRY_MAX_MS);
    assert_int_equal(fd_retry_after_ms(NULL, NULL, now), -1);
    assert_int_equal(fd_retry_after_ms("soon", "-3", now), -1);
    assert_int_equal(fd_retry_after_ms("1.5", "", now), -1);
    assert_int_equal(fd_retry_after_ms("garbage", "4", now), 4000);
}

static void test_backoff_doubles_and_is_capped(void **state)
{
    (void)state;
    assert_int_equal(fd_backoff_ms(300000, 1), 600000);
    assert_int_equal(fd_backoff_ms(300000, 2), 1200000);
    assert_int_equal(fd_backoff_ms(300000, 3), 2400000);
    assert_int_equal(fd_backoff_ms(300000, 4), FD_BACKOFF_CAP_MS);
    assert_int_equal(fd_backoff_ms(300000, 1000), FD_BACKOFF_CAP_MS);
    assert_int_equal(fd_backoff_ms(1000, 3), 8000);
    assert_int_equal(fd_backoff_ms(7200000, 2), 7200000); /* a period over the cap is the cap */
}

static void test_competition_map(void **state)
{
    (void)state;
    fd_key_t k;
    assert_int_equal(fd_competition_map("EPL-2025", &k), 0);
    assert_string_equal(k.code, "PL");
    assert_int_equal(k.season, 2025);
    assert_int_equal(fd_competition_map("UCL-2025", &k), 0);
    assert_string_equal(k.code, "CL");
    assert_int_equal(fd_competition_map("WC-2026", &k), 0);
    assert_string_equal(k.code, "WC");
    assert_int_equal(k.season, 2026);
    assert_int_equal(fd_competition_map("EURO-2028", &k), 0);
    assert_string_equal(k.code, "EC");
    const char *none[] = {"AFCON-2025", "IPL-2026", "EPL", "EPL-25", "EPL-20x5",
                          "XEPL-2025",  "EP-2025",  "",    "-2025",  "EPL-20255"};
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        assert_int_equal(fd_competition_map(none[i], &k), GV_ENOT_FOUND);
    assert_int_equal(fd_competition_map(NULL, &k), GV_ENOT_FOUND);
}

/* ---- the schedule --------------------------------------------------------------------------- */

static fd_sched_t g_s;

static void sched_with(const char *const *codes, size_t n, int64_t period, int max, int64_t window)
{
    fd_key_t keys[8];
    fd_sched_init(&g_s, period, max, window);
    for (size_t i = 0; i < n; i++)
        keys[i] = key(codes[i], 2025);
    assert_int_equal(fd_sched_set(&g_s, keys, n, T0), 0);
}

static int pick(int64_t now, int64_t *wake)
{
    *wake = -1;
    return fd_sched_pick(&g_s, now, wake);
}

static void test_sched_once_per_period(void **state)
{
    (void)state;
    const char *codes[] = {"PL", "CL"};
    sched_with(codes, 2, 300000, 10, MINUTE);
    int64_t wake;
    assert_int_equal(pick(T0, &wake), 0);
    fd_sched_sent(&g_s, 0, T0);
    assert_int_equal(pick(T0, &wake), 1); /* PL is in flight: CL next */
    fd_sched_sent(&g_s, 1, T0);
    assert_int_equal(pick(T0, &wake), -1);
    fd_key_t pl = key("PL", 2025), cl = key("CL", 2025);
    fd_sched_done(&g_s, &pl, FD_OK, -1, T0 + 200);
    fd_sched_done(&g_s, &cl, FD_MALFORMED, -1, T0 + 300); /* malformed: the next period as usual */
    assert_int_equal(pick(T0 + 1000, &wake), -1);
    assert_int_equal(wake, T0 + 200 + 300000);
    assert_int_equal(pick(T0 + 200 + 300000, &wake), 0);
    assert_int_equal(pick(T0 + 300 + 300000, &wake), 0); /* the one due longest first */
    fd_sched_skip(&g_s, 0, T0 + 300 + 300000);           /* no league needs PL now */
    assert_int_equal(pick(T0 + 300 + 300000, &wake), 1);
}

static void test_sched_429_blocks_every_request(void **state)
{
    (void)state;
    const char *codes[] = {"PL", "CL"};
    sched_with(codes, 2, 1000, 10, MINUTE);
    int64_t wake;
    fd_key_t pl = key("PL", 2025);
    assert_int_equal(pick(T0, &wake), 0);
    fd_sched_sent(&g_s, 0, T0);
    fd_sched_done(&g_s, &pl, FD_THROTTLED, 2000, T0 + 50);
    assert_int_equal(pick(T0 + 50, &wake), -1); /* CL is due, but nothing goes before the time */
    assert_int_equal(wake, T0 + 2050);
    assert_int_equal(pick(T0 + 2049, &wake), -1);
    assert_int_equal(pick(T0 + 2050, &wake), 1); /* CL was due first, then PL */
    fd_sched_sent(&g_s, 1, T0 + 2050);
    assert_int_equal(pick(T0 + 2050, &wake), 0);
    /* a 429 without Retry-After waits a whole window */
    fd_sched_sent(&g_s, 0, T0 + 2050);
    fd_sched_done(&g_s, &pl, FD_THROTTLED, -1, T0 + 2100);
    assert_int_equal(pick(T0 + 2100, &wake), -1);
    assert_int_equal(wake, T0 + 2100 + MINUTE);
    /* a shorter wait never shortens a longer one */
    fd_sched_done(&g_s, &pl, FD_THROTTLED, 5, T0 + 2200);
    assert_int_equal(pick(T0 + 2300, &wake), -1);
    assert_int_equal(wake, T0 + 2100 + MINUTE);
}

static void test_sched_quota_used_up_holds_back(void **state)
{
    (void)state;
    const char *codes[] = {"PL", "CL"};
    sched_with(codes, 2, 1000, 10, MINUTE);
    int64_t wake;
    fd_key_t pl = key("PL", 2025);
    fd_sched_sent(&g_s, 0, T0);
    fd_sched_done(&g_s, &pl, FD_OK, 7000, T0 + 10); /* X-Requests-Available-Minute: 0 */
    assert_int_equal(pick(T0 + 10, &wake), -1);
    assert_int_equal(wake, T0 + 7010);
    assert_int_equal(pick(T0 + 7010, &wake), 1);
}

static void test_sched_failures_back_off_and_success_resets(void **state)
{
    (void)state;
    const char *codes[] = {"PL"};
    sched_with(codes, 1, 1000, 100, MINUTE);
    fd_key_t pl = key("PL", 2025);
    int64_t wake, now = T0;
    int64_t waits[] = {2000, 4000, 8000, 16000};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(pick(now, &wake), 0);
        fd_sched_sent(&g_s, 0, now);
        fd_sched_done(&g_s, &pl, FD_FAILED, -1, now);
        assert_int_equal(pick(now, &wake), -1);
        assert_int_equal(wake, now + waits[i]);
        now = wake;
    }
    assert_int_equal(pick(now, &wake), 0);
    fd_sched_sent(&g_s, 0, now);
    fd_sched_done(&g_s, &pl, FD_OK, -1, now);
    assert_int_equal(g_s.comps[0].failures, 0);
    assert_int_equal(pick(now, &wake), -1);
    assert_int_equal(wake, now + 1000);
}

static void test_sched_set_keeps_state_and_forgets_the_rest(void **state)
{
    (void)state;
    const char *codes[] = {"PL", "CL"};
    sched_with(codes, 2, 1000, 100, MINUTE);
    fd_key_t pl = key("PL", 2025), wc = key("WC", 2026), cl = key("CL", 2025);
    fd_sched_sent(&g_s, 0, T0);
    fd_sched_done(&g_s, &pl, FD_FAILED, -1, T0);
    fd_key_t keys[] = {wc, pl, pl, wc};
    assert_int_equal(fd_sched_set(&g_s, keys, 4, T0 + 5), 0);
    assert_int_equal(g_s.n, 2);
    assert_int_equal(fd_sched_find(&g_s, &cl), -1);
    int i = fd_sched_find(&g_s, &pl), j = fd_sched_find(&g_s, &wc);
    assert_int_equal(g_s.comps[i].failures, 1); /* kept */
    assert_int_equal(g_s.comps[j].due_ms, T0 + 5);
    fd_sched_done(&g_s, &cl, FD_THROTTLED, 3000, T0 + 10); /* gone, but its wait still holds */
    int64_t wake;
    assert_int_equal(pick(T0 + 10, &wake), -1);
    assert_int_equal(wake, T0 + 3010);
    /* more than FD_COMPS_MAX: the first are kept */
    fd_key_t many[FD_COMPS_MAX + 3];
    for (int k = 0; k < FD_COMPS_MAX + 3; k++)
        many[k] = key("PL", 1900 + k);
    assert_int_equal(fd_sched_set(&g_s, many, FD_COMPS_MAX + 3, T0), GV_ELIMIT);
    assert_int_equal(g_s.n, FD_COMPS_MAX);
    fd_sched_set(&g_s, NULL, 0, T0);
    assert_int_equal(pick(T0 + 5000, &wake), -1); /* nothing tracked: look again in a period */
    assert_int_equal(wake, T0 + 6000);
}

/* Three competitions every second, at most 3 requests in any 2 s: over 10 simulated minutes the
 * limit holds in every window, it is reached, and every competition gets its turns. */
static void test_sched_simulated_run_never_exceeds_the_limit(void **state)
{
    (void)state;
    enum { MAXREQ = 3, WINDOW = 2000, SENDS = 4000 };
    const char *codes[] = {"PL", "CL", "WC"};
    sched_with(codes, 3, 1000, MAXREQ, WINDOW);
    static int64_t sent[SENDS];
    int per[3] = {0, 0, 0};
    size_t n = 0;
    int64_t now = T0;
    srand(11);
    while (now < T0 + 10 * MINUTE && n < SENDS) {
        int64_t wake;
        int i = pick(now, &wake);
        if (i < 0) {
            assert_true(wake > now);
            now = wake + rand() % 3; /* timers fire a little late */
            continue;
        }
        fd_sched_sent(&g_s, (size_t)i, now);
        sent[n++] = now;
        per[i]++;
        now += 1 + rand() % 400; /* the request takes a while */
        fd_key_t k = g_s.comps[i].key;
        fd_sched_done(&g_s, &k, rand() % 10 ? FD_OK : FD_FAILED, -1, now);
    }
    for (size_t i = 0; i + MAXREQ < n; i++)
        assert_true(sent[i + MAXREQ] - sent[i] >= WINDOW);
    assert_true(n >= (10 * MINUTE / WINDOW) * MAXREQ * 9 / 10); /* the limit is what binds */
    for (int i = 0; i < 3; i++)
        assert_true(per[i] > (int)n / 6);
}

/* ---- judging an answer ---------------------------------------------------------------------- */

static void judge(fd_fetch_result_t *r, long status, const char *body, const char *retry_after,
                  const char *reset, int exhausted)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body);
    if (body)
        assert_int_equal(buf_puts(&r->body, body), 0);
    r->status = status;
    snprintf(r->retry_after, sizeof(r->retry_after), "%s", retry_after ? retry_after : "");
    snprintf(r->counter_reset, sizeof(r->counter_reset), "%s", reset ? reset : "");
    r->exhausted = exhausted;
    fd_fetch_judge(r, 0);
}

static void test_judge_answers(void **state)
{
    (void)state;
    fd_fetch_result_t r;
    judge(&r, 200, "{\"filters\":{},\"matches\":[]}", NULL, NULL, 0);
    assert_int_equal(r.outcome, FD_OK);
    assert_string_equal(r.reason, "");
    assert_int_equal(r.retry_ms, -1);
    fd_fetch_result_deinit(&r);
    judge(&r, 200, "<html>Bad gateway</html>", NULL, NULL, 0);
    assert_int_equal(r.outcome, FD_MALFORMED);
    assert_memory_equal(r.reason, "invalid_json: ", 14);
    fd_fetch_result_deinit(&r);
    judge(&r, 200, "", NULL, NULL, 0);
    assert_int_equal(r.outcome, FD_MALFORMED);
    fd_fetch_result_deinit(&r);
    judge(&r, 200, "[1,2]", NULL, NULL, 0);
    assert_string_equal(r.reason, "invalid_json: not a JSON object");
    fd_fetch_result_deinit(&r);
    judge(&r, 200, "{\"message\":\"\\\"quoted\\\"\",\"matches\":{}}", NULL, NULL, 0);
    assert_int_equal(r.outcome, FD_MALFORMED);
    assert_string_equal(r.reason, "missing_matches: no matches array");
    fd_fetch_result_deinit(&r);
    judge(&r, 429, "{\"message\":\"You reached your request limit.\"}", "2", NULL, 0);
    assert_int_equal(r.outcome, FD_THROTTLED);
    assert_int_equal(r.retry_ms, 2000);
    fd_fetch_result_deinit(&r);
    judge(&r, 429, NULL, NULL, "31", 0);
    assert_int_equal(r.retry_ms, 31000);
    fd_fetch_result_deinit(&r);
    judge(&r, 429, NULL, NULL, NULL, 0);
    assert_int_equal(r.outcome, FD_THROTTLED);
    assert_int_equal(r.retry_ms, -1);
    fd_fetch_result_deinit(&r);
    judge(&r, 200, "{\"matches\":[]}", NULL, "40", 1); /* the quota is used up */
    assert_int_equal(r.outcome, FD_OK);
    assert_int_equal(r.retry_ms, 40000);
    fd_fetch_result_deinit(&r);
    judge(&r, 200, "{\"matches\":[]}", NULL, "40", 0);
    assert_int_equal(r.retry_ms, -1);
    fd_fetch_result_deinit(&r);
    long failed[] = {500, 502, 503, 403, 404, 301};
    for (size_t i = 0; i < sizeof(failed) / sizeof(failed[0]); i++) {
        judge(&r, failed[i], "{\"matches\":[]}", NULL, NULL, 0);
        assert_int_equal(r.outcome, FD_FAILED);
        fd_fetch_result_deinit(&r);
    }
    judge(&r, 0, NULL, NULL, NULL, 0);
    assert_int_equal(r.outcome, FD_FAILED);
    assert_string_equal(r.reason, "no answer");
    fd_fetch_result_deinit(&r);
}

/* ---- configuration -------------------------------------------------------------------------- */

static int check(const char *token, const char *url, int64_t every, int max)
{
    char why[160] = "";
    fd_sync_config_t c = {.token = token,
                          .base_url = url,
                          .every_s = every,
                          .max_requests = max,
                          .window_s = 60,
                          .timeout_s = 30};
    int rc = fd_sync_config_check(&c, why, sizeof(why));
    assert_int_equal(rc != 0, why[0] != '\0');
    if (token && token[0])
        assert_null(strstr(why, token)); /* the token is never quoted */
    return rc;
}

static void test_config_check(void **state)
{
    (void)state;
    assert_int_equal(check("abc123", "https://api.football-data.org", 300, 10), 0);
    assert_int_equal(check("abc123", "http://127.0.0.1:8000/", 1, 1000), 0);
    assert_int_equal(check("abc123", "HTTPS://example.org/prefix", 1, 1), 0);
    assert_int_equal(check("", "https://x.org", 300, 10), GV_EINVALID_REQUEST);
    assert_int_equal(check("abc\r\nX-Evil: 1", "https://x.org", 300, 10), GV_EINVALID_REQUEST);
    assert_int_equal(check("a b", "https://x.org", 300, 10), GV_EINVALID_REQUEST);
    char longtok[300];
    memset(longtok, 'a', sizeof(longtok) - 1);
    longtok[sizeof(longtok) - 1] = '\0';
    assert_int_equal(check(longtok, "https://x.org", 300, 10), GV_EINVALID_REQUEST);
    assert_int_equal(check("abc", "ftp://x.org", 300, 10), GV_EINVALID_REQUEST);
    assert_int_equal(check("abc", "https://user:pw@x.org", 300, 10), GV_EINVALID_REQUEST);
    assert_int_equal(check("abc", "https://", 300, 10), GV_EINVALID_REQUEST);
    assert_int_equal(check("abc", "https://x.org/a b", 300, 10), GV_EINVALID_REQUEST);
    assert_int_equal(check("abc", "https://x.org/?q=1", 300, 10), GV_EINVALID_REQUEST);
    assert_int_equal(check("abc", "https://x.org", 0, 10), GV_EINVALID_REQUEST);
    assert_int_equal(check("abc", "https://x.org", 300, 0), GV_EINVALID_REQUEST);
    assert_int_equal(check("abc", "https://x.org", 300, FD_RATE_MAX + 1), GV_EINVALID_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_ten_per_rolling_minute),
        cmocka_unit_test(test_rate_clamps_its_arguments),
        cmocka_unit_test(test_rate_random_against_a_count),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_backoff_doubles_and_is_capped),
        cmocka_unit_test(test_competition_map),
        cmocka_unit_test(test_sched_once_per_period),
        cmocka_unit_test(test_sched_429_blocks_every_request),
        cmocka_unit_test(test_sched_quota_used_up_holds_back),
        cmocka_unit_test(test_sched_failures_back_off_and_success_resets),
        cmocka_unit_test(test_sched_set_keeps_state_and_forgets_the_rest),
        cmocka_unit_test(test_sched_simulated_run_never_exceeds_the_limit),
        cmocka_unit_test(test_judge_answers),
        cmocka_unit_test(test_config_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
