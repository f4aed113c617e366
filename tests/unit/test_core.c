/* Core: the error table, buffers and arenas, the fake clock, flags and env, histograms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/metrics.h"

static void test_err_table(void **state)
{
    (void)state;
    assert_int_equal(err_http_status(GV_ENOT_FOUND), 404);
    assert_string_equal(err_api_code(GV_ENOT_FOUND), "not_found");
    assert_int_equal(err_http_status(GV_EPAYLOAD_TOO_LARGE), 413);
    assert_int_equal(err_http_status(GV_EHEADERS_TOO_LARGE), 431);
    assert_int_equal(err_http_status(GV_ERATE_LIMITED), 429);
    assert_string_equal(err_api_code(GV_EINVALID_JSON), "invalid_json");
    assert_string_equal(err_api_code(GV_EBAD_HTTP), "invalid_request");
    assert_string_equal(err_name(GV_EDB), "DB");
    assert_string_equal(err_name(0), "OK");
    /* internal failures never reveal themselves */
    assert_string_equal(err_api_code(GV_EDB), "internal");
    assert_int_equal(err_http_status(GV_EDB), 500);
    /* a lease lost to another node: the client tries again (and reaches the new owner) */
    assert_int_equal(err_http_status(GV_EFENCED), 503);
    assert_string_equal(err_api_code(GV_EFENCED), "unavailable");
    assert_string_equal(err_name(GV_EFENCED), "FENCED");
    assert_non_null(strstr(err_message(GV_EFENCED), "no longer runs the auction"));
    /* unknown codes are internal errors */
    assert_int_equal(err_http_status(-9999), 500);
    assert_string_equal(err_api_code(-9999), "internal");
    assert_string_equal(err_name(-9999), "UNKNOWN");
    assert_non_null(strstr(err_message(-9999), "wrong"));
}

static void test_buf(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    assert_int_equal(buf_puts(&b, "hello"), 0);
    assert_int_equal(buf_printf(&b, " %d %s", 42, "x"), 0);
    assert_string_equal(b.data, "hello 42 x");
    char big[1000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(buf_printf(&b, "%s", big), 0); /* longer than the stack buffer */
    assert_int_equal(b.len, 10 + 999);
    buf_consume(&b, 6);
    assert_memory_equal(b.data, "42 xaaa", 7);
    buf_consume(&b, 5000);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_reserve(&b, (size_t)-1), GV_ENOMEM);
    assert_int_equal(buf_append(&b, "z", 1), 0);
    char *p = buf_steal(&b);
    assert_string_equal(p, "z");
    assert_null(b.data);
    free(p);
    buf_deinit(&b);
}

static void test_arena(void **state)
{
    (void)state;
    arena_t a;
    arena_init(&a);
    char *s = arena_strndup(&a, "abcdef", 3);
    assert_string_equal(s, "abc");
    void *big = arena_alloc(&a, 100000);
    assert_non_null(big);
    memset(big, 1, 100000);
    for (int i = 0; i < 1000; i++) {
        unsigned char *q = arena_alloc(&a, 17);
        assert_non_null(q);
        assert_int_equal((uintptr_t)q % 16, 0);
    }
    assert_null(arena_alloc(&a, (size_t)-1));
    arena_deinit(&a);
}

static void test_fake_clock(void **state)
{
    (void)state;
    gv_clock_t c;
    clock_fake_init(&c, 1700000000000);
    assert_int_equal(clock_now_ms(&c), 1700000000000);
    assert_int_equal(clock_mono_us(&c), 0);
    clock_fake_advance(&c, 1500);
    assert_int_equal(clock_now_ms(&c), 1700000001500);
    assert_int_equal(clock_mono_us(&c), 1500000);
    gv_clock_t r;
    clock_real_init(&r);
    assert_true(clock_now_ms(&r) > 1700000000000);
    int64_t a = clock_mono_us(&r), b = clock_mono_us(&r);
    assert_true(b >= a);
}

static void test_config(void **state)
{
    (void)state;
    config_t c;
    char err[256], *pos[2];
    int npos;
    char *argv[] = {"gavel",          "serve",
                    "--listen",       "0.0.0.0:9",
                    "--dev",          "--rate-limit-scale=0",
                    "--access-ttl-s", "60",
                    "--access-log",   "0",
                    "--trust-proxy",  "extra"};
    int argc = (int)(sizeof(argv) / sizeof(argv[0]));
    setenv("GAVEL_ACCESS_TTL_S", "120", 1);
    setenv("GAVEL_DATA", "/tmp/from-env", 1);
    config_defaults(&c);
    assert_int_equal(c.magic_link_ttl_s, 900);
    assert_int_equal(config_parse(&c, argc, argv, 2, pos, 2, &npos, err, sizeof(err)), 0);
    assert_int_equal(c.access_log, 0);  /* a boolean takes a following 0/1 */
    assert_int_equal(c.trust_proxy, 1); /* ... but not a following non-boolean word */
    assert_string_equal(c.listen, "0.0.0.0:9");
    assert_int_equal(c.dev, 1);
    assert_true(c.rate_limit_scale == 0.0);
    assert_int_equal(c.access_ttl_s, 60); /* the flag wins over the environment */
    assert_string_equal(c.data_dir, "/tmp/from-env");
    assert_int_equal(npos, 1);
    assert_string_equal(pos[0], "extra");
    unsetenv("GAVEL_ACCESS_TTL_S");
    unsetenv("GAVEL_DATA");
}

static void test_config_errors(void **state)
{
    (void)state;
    config_t c;
    char err[256], *pos[1];
    int npos;
    char *bad_flag[] = {"gavel", "serve", "--nope"};
    char *bad_int[] = {"gavel", "serve", "--access-ttl-s", "12x"};
    char *range[] = {"gavel", "serve", "--access-ttl-s", "0"};
    char *missing[] = {"gavel", "serve", "--listen"};
    char *bad_bool[] = {"gavel", "serve", "--dev=maybe"};
    config_defaults(&c);
    assert_int_equal(config_parse(&c, 3, bad_flag, 2, pos, 0, &npos, err, sizeof(err)),
                     GV_EINVALID_REQUEST);
    assert_non_null(strstr(err, "--nope"));
    assert_int_equal(config_parse(&c, 4, bad_int, 2, pos, 0, &npos, err, sizeof(err)),
                     GV_EINVALID_REQUEST);
    assert_int_equal(config_parse(&c, 4, range, 2, pos, 0, &npos, err, sizeof(err)),
                     GV_EINVALID_REQUEST);
    assert_int_equal(config_parse(&c, 3, missing, 2, pos, 0, &npos, err, sizeof(err)),
                     GV_EINVALID_REQUEST);
    assert_int_equal(config_parse(&c, 3, bad_bool, 2, pos, 0, &npos, err, sizeof(err)),
                     GV_EINVALID_REQUEST);
    setenv("GAVEL_MAX_CONNECTIONS", "lots", 1);
    char *ok[] = {"gavel", "serve"};
    assert_int_equal(config_parse(&c, 2, ok, 2, pos, 0, &npos, err, sizeof(err)),
                     GV_EINVALID_REQUEST);
    unsetenv("GAVEL_MAX_CONNECTIONS");
}

static void test_histogram(void **state)
{
    (void)state;
    static const double bounds[] = {0.001, 0.01};
    metrics_hist_t h;
    metrics_hist_init(&h, bounds, 2);
    metrics_hist_observe(&h, 0.0005);
    metrics_hist_observe(&h, 0.001); /* le is inclusive */
    metrics_hist_observe(&h, 0.005);
    metrics_hist_observe(&h, 3);
    buf_t b;
    buf_init(&b);
    assert_int_equal(metrics_hist_write(&b, "x_seconds", "route=\"/a\"", &h), 0);
    assert_non_null(strstr(b.data, "x_seconds_bucket{route=\"/a\",le=\"0.001\"} 2\n"));
    assert_non_null(strstr(b.data, "x_seconds_bucket{route=\"/a\",le=\"0.01\"} 3\n"));
    assert_non_null(strstr(b.data, "x_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"));
    assert_non_null(strstr(b.data, "x_seconds_count{route=\"/a\"} 4\n"));
    b.len = 0;
    assert_int_equal(metrics_hist_write(&b, "y", "", &h), 0);
    assert_non_null(strstr(b.data, "y_bucket{le=\"+Inf\"} 4\n"));
    assert_non_null(strstr(b.data, "y_count 4\n"));
    b.len = 0;
    assert_int_equal(metrics_process_write(&b, 1.0), 0);
    assert_non_null(strstr(b.data, "process_resident_memory_bytes "));
    assert_null(strstr(b.data, "process_resident_memory_bytes 0\n"));
    buf_deinit(&b);
    char esc[32];
    metrics_label_escape("a\"b\\c\nd", esc, sizeof(esc));
    assert_string_equal(esc, "a\\\"b\\\\c\\nd");
}

/* The test's own count of its descriptors: every entry of /proc/self/fd but ".", ".." and the
 * one the listing itself holds. */
static int fds_listed(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    assert_non_null(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3;
}

static void test_open_fds_counts_descriptors_opened_and_closed(void **state)
{
    (void)state;
    int before = metrics_open_fds();
    assert_int_equal(before, fds_listed());
    int fds[40];
    for (int i = 0; i < 40; i++) {
        fds[i] = dup(2);
        assert_true(fds[i] >= 0);
    }
    assert_int_equal(metrics_open_fds(), before + 40);
    assert_int_equal(metrics_open_fds(), fds_listed());
    for (int i = 0; i < 40; i++)
        close(fds[i]);
    assert_int_equal(metrics_open_fds(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_table),
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_fake_clock),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_open_fds_counts_descriptors_opened_and_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
