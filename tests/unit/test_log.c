/* The logger: logfmt lines as before, --log-format json lines (each parsed back with jansson: the
 * message's words, its pairs as string members, quoted values, reserved names, escapes, bytes
 * that are not UTF-8, a message at the size limit), the buffered mode and the level threshold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "../stderr_capture.h"
#include "core/err.h"
#include "core/log.h"

/* Runs stmts under a stderr capture; text is what they wrote (free() it). */
#define CAPTURED(text, stmts)                                                                      \
    do {                                                                                           \
        stderr_capture_t cap_;                                                                     \
        assert_int_equal(stderr_capture_start(&cap_), 0);                                          \
        stmts;                                                                                     \
        (text) = stderr_capture_end(&cap_);                                                        \
        assert_non_null(text);                                                                     \
    } while (0)

static int setup(void **state)
{
    (void)state;
    log_threshold = LOG_DEBUG;
    log_set_buffered(0);
    log_set_format(LOG_FORMAT_LOGFMT);
    return 0;
}

/* Parses the only line of text as a JSON object (fails the test otherwise). */
static json_t *one_json_line(const char *text)
{
    size_t len = strlen(text);
    assert_true(len > 0 && text[len - 1] == '\n');
    assert_null(memchr(text, '\n', len - 1));
    json_error_t e;
    json_t *obj = json_loadb(text, len - 1, 0, &e);
    if (!obj)
        fail_msg("not JSON (%s): %s", e.text, text);
    assert_true(json_is_object(obj));
    return obj;
}

static const char *member(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    if (!json_is_string(v))
        fail_msg("member %s is missing or not a string", name);
    return json_string_value(v);
}

/* "2025-11-23T19:00:00.000Z", then the end or a blank */
static void assert_timestamp(const char *ts)
{
    assert_true(strlen(ts) >= 24 && (ts[24] == '\0' || ts[24] == ' '));
    assert_true(ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' && ts[13] == ':' && ts[16] == ':' &&
                ts[19] == '.' && ts[23] == 'Z');
}

static void test_format_parse(void **state)
{
    (void)state;
    log_format_t f = LOG_FORMAT_JSON;
    assert_int_equal(log_format_parse("logfmt", &f), 0);
    assert_int_equal(f, LOG_FORMAT_LOGFMT);
    assert_int_equal(log_format_parse("json", &f), 0);
    assert_int_equal(f, LOG_FORMAT_JSON);
    assert_int_equal(log_format_parse("JSON", &f), GV_EINVALID_REQUEST);
    assert_int_equal(log_format_parse("", &f), GV_EINVALID_REQUEST);
    assert_int_equal(log_format_parse("logfmt ", &f), GV_EINVALID_REQUEST);
}

static void test_logfmt_line_is_unchanged(void **state)
{
    (void)state;
    char *text;
    CAPTURED(text, log_info("bid accepted auction=%s amount=%d", "au_1", 5));
    assert_memory_equal(text, "ts=", 3);
    assert_timestamp(text + 3);
    assert_string_equal(text + 27, " level=info bid accepted auction=au_1 amount=5\n");
    free(text);
}

static void test_json_line_has_ts_level_msg_and_pairs(void **state)
{
    (void)state;
    char *text;
    log_set_format(LOG_FORMAT_JSON);
    CAPTURED(text, log_warn("store unusable step=%s dir=%s detail=\"%s\" and more n=%d", "opening",
                            "/var/x", "disk \\\"full\\\" now \\\\ yes", 42));
    json_t *obj = one_json_line(text);
    assert_timestamp(member(obj, "ts"));
    assert_string_equal(member(obj, "level"), "warn");
    assert_string_equal(member(obj, "msg"), "store unusable and more");
    assert_string_equal(member(obj, "step"), "opening");
    assert_string_equal(member(obj, "dir"), "/var/x");
    assert_string_equal(member(obj, "detail"), "disk \"full\" now \\ yes");
    assert_string_equal(member(obj, "n"), "42"); /* numbers stay strings: one type per key */
    assert_int_equal(json_object_size(obj), 7);
    /* the members keep the message's order: ts, level, msg, then the pairs */
    const char *keys[] = {"ts", "level", "msg", "step", "dir", "detail", "n"};
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) assert_string_equal(key, keys[i++]);
    json_decref(obj);
    free(text);
}

static void test_json_reserved_names_and_odd_values(void **state)
{
    (void)state;
    char *text;
    log_set_format(LOG_FORMAT_JSON);
    CAPTURED(text, log_error("x msg=\"hi there\" ts=1 level=z empty= 9bad=1 -d=2 q=\"open end"));
    json_t *obj = one_json_line(text);
    assert_string_equal(member(obj, "level"), "error");
    assert_string_equal(member(obj, "_msg"), "hi there");
    assert_string_equal(member(obj, "_ts"), "1");
    assert_string_equal(member(obj, "_level"), "z");
    assert_string_equal(member(obj, "empty"), "");
    assert_string_equal(member(obj, "q"), "open end"); /* no closing quote: the rest of the line */
    /* words that are not key=value pairs (a key starts with a letter or '_') join the message */
    assert_string_equal(member(obj, "msg"), "x 9bad=1 -d=2");
    json_decref(obj);
    free(text);
}

static void test_json_escapes_and_bad_utf8(void **state)
{
    (void)state;
    char *text;
    log_set_format(LOG_FORMAT_JSON);
    CAPTURED(text, log_info("tab\there caf\xc3\xa9 bad\xff\xfe path=C:\\dir ctl=\"a\x01"
                            "b\" nl=x\ny"));
    json_t *obj = one_json_line(text); /* jansson refuses text that is not UTF-8 */
    assert_string_equal(member(obj, "msg"), "tab\there caf\xc3\xa9 bad\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(member(obj, "path"), "C:\\dir");
    assert_string_equal(member(obj, "ctl"), "a\x01"
                                            "b");
    assert_string_equal(member(obj, "nl"), "x\ny"); /* one line all the same */
    json_decref(obj);
    free(text);
}

static void test_json_line_of_a_message_at_the_limit(void **state)
{
    (void)state;
    char big[3000], *text;
    memset(big, 1, sizeof(big) - 1); /* every byte escaped as \u0001: six times longer */
    big[sizeof(big) - 1] = '\0';
    log_set_format(LOG_FORMAT_JSON);
    CAPTURED(text, log_info("k=%s", big));
    json_t *obj = one_json_line(text);
    size_t n = strlen(member(obj, "k"));
    assert_true(n > 2000 && n < 2048); /* the message is cut at 2 KiB, the line stays whole */
    json_decref(obj);
    free(text);
    char *words;
    CAPTURED(words, log_info("%s", big));
    obj = one_json_line(words);
    assert_true(strlen(member(obj, "msg")) > 2000);
    json_decref(obj);
    free(words);
}

static void test_buffered_lines_wait_for_the_flush(void **state)
{
    (void)state;
    char *before, *after, *crash;
    log_set_format(LOG_FORMAT_JSON);
    log_set_buffered(1);
    CAPTURED(before, log_info("one a=1"); log_info("two b=2"));
    assert_string_equal(before, "");
    CAPTURED(after, log_flush());
    assert_non_null(strstr(after, "\"msg\":\"one\",\"a\":\"1\"}\n"));
    assert_non_null(strstr(after, "\"msg\":\"two\",\"b\":\"2\"}\n"));
    assert_ptr_equal(strchr(strchr(after, '\n') + 1, '\n'), after + strlen(after) - 1);
    /* a fatal-signal handler writes what is buffered without the lock */
    CAPTURED(crash, log_info("three"); log_flush_in_signal());
    assert_non_null(strstr(crash, "\"msg\":\"three\"}\n"));
    char *rest;
    CAPTURED(rest, log_set_buffered(0));
    free(rest);
    free(before);
    free(after);
    free(crash);
}

static void test_threshold_silences_lower_levels(void **state)
{
    (void)state;
    char *text;
    log_threshold = LOG_WARN;
    log_set_format(LOG_FORMAT_JSON);
    CAPTURED(text, log_info("quiet"); log_error("loud"));
    assert_null(strstr(text, "quiet"));
    json_t *obj = one_json_line(text);
    assert_string_equal(member(obj, "msg"), "loud");
    json_decref(obj);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_format_parse, setup),
        cmocka_unit_test_setup(test_logfmt_line_is_unchanged, setup),
        cmocka_unit_test_setup(test_json_line_has_ts_level_msg_and_pairs, setup),
        cmocka_unit_test_setup(test_json_reserved_names_and_odd_values, setup),
        cmocka_unit_test_setup(test_json_escapes_and_bad_utf8, setup),
        cmocka_unit_test_setup(test_json_line_of_a_message_at_the_limit, setup),
        cmocka_unit_test_setup(test_buffered_lines_wait_for_the_flush, setup),
        cmocka_unit_test_setup(test_threshold_silences_lower_levels, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
