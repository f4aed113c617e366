/* League rules: settings defaults, ranges and cross-field checks; invite codes; names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "league/codes.h"
#include "league/settings.h"

static const char *const ignore[] = {"name", "sport", "competition", NULL};

/* Applies the JSON text to defaults; returns the code and the offending field. */
static int apply(const char *text, store_league_settings_t *s, league_error_t *e)
{
    json_t *o = json_loads(text, 0, NULL);
    assert_non_null(o);
    league_settings_defaults(s);
    memset(e, 0, sizeof(*e));
    int rc = league_settings_apply(s, o, ignore, e);
    json_decref(o);
    return rc;
}

static void test_defaults(void **state)
{
    (void)state;
    store_league_settings_t s;
    league_error_t e;
    assert_int_equal(apply("{\"name\":\"x\",\"sport\":\"football\"}", &s, &e), 0);
    assert_int_equal(s.budget, 500000000);
    assert_string_equal(s.currency, "GBP");
    assert_int_equal(s.roster_size, 3);
    assert_int_equal(s.min_managers, 2);
    assert_int_equal(s.max_managers, 8);
    assert_int_equal(s.lot_seconds, 30);
    assert_int_equal(s.anti_snipe_seconds, 10);
    assert_int_equal(s.min_bid, 1000000);
    assert_int_equal(s.min_increment, 1000000);
    assert_int_equal(s.intermission_seconds, 3);
    assert_int_equal(s.lot_order_fixed, 0);
    assert_int_equal(s.reoffer_unsold, 1);
}

static void test_values_applied(void **state)
{
    (void)state;
    store_league_settings_t s;
    league_error_t e;
    assert_int_equal(apply("{\"rosterSize\":5,\"lotSeconds\":20,\"antiSnipeSeconds\":5,"
                           "\"lotOrder\":\"fixed\",\"currency\":\"EUR\",\"budget\":1000000000000}",
                           &s, &e),
                     0);
    assert_int_equal(s.roster_size, 5);
    assert_int_equal(s.lot_seconds, 20);
    assert_int_equal(s.anti_snipe_seconds, 5);
    assert_int_equal(s.lot_order_fixed, 1);
    assert_string_equal(s.currency, "EUR");
    assert_int_equal(s.budget, 1000000000000LL);
}

static void test_each_range(void **state)
{
    (void)state;
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"{\"rosterSize\":0}", "rosterSize"},
        {"{\"rosterSize\":51}", "rosterSize"},
        {"{\"rosterSize\":\"3\"}", "rosterSize"},
        {"{\"rosterSize\":3.5}", "rosterSize"},
        {"{\"lotSeconds\":4}", "lotSeconds"},
        {"{\"lotSeconds\":601}", "lotSeconds"},
        {"{\"antiSnipeSeconds\":-1}", "antiSnipeSeconds"},
        {"{\"antiSnipeSeconds\":30}", "antiSnipeSeconds"}, /* not < lotSeconds (30) */
        {"{\"minManagers\":9}", "minManagers"},            /* > maxManagers (8) */
        {"{\"maxManagers\":65}", "maxManagers"},
        {"{\"minBid\":0}", "minBid"},
        {"{\"minIncrement\":0}", "minIncrement"},
        {"{\"intermissionSeconds\":31}", "intermissionSeconds"},
        {"{\"reofferUnsold\":6}", "reofferUnsold"},
        {"{\"lotOrder\":\"shuffled\"}", "lotOrder"},
        {"{\"currency\":\"gbp\"}", "currency"},
        {"{\"currency\":\"POUND\"}", "currency"},
        {"{\"budget\":2999999}", "budget"}, /* < minBid x rosterSize = 3,000,000 */
        {"{\"budget\":1000000000001}", "budget"},
        {"{\"minBid\":1000000000000,\"rosterSize\":50}", "budget"},
        {"{\"admin\":true}", "admin"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        store_league_settings_t s;
        league_error_t e;
        assert_int_equal(apply(bad[i].json, &s, &e), GV_EINVALID_REQUEST);
        assert_string_equal(e.field, bad[i].field);
        assert_true(strlen(e.message) > 10);
    }
}

static void test_range_message_names_the_range(void **state)
{
    (void)state;
    store_league_settings_t s;
    league_error_t e;
    assert_int_equal(apply("{\"lotSeconds\":1}", &s, &e), GV_EINVALID_REQUEST);
    assert_non_null(strstr(e.message, "5"));
    assert_non_null(strstr(e.message, "600"));
}

static void test_codes(void **state)
{
    (void)state;
    char a[LEAGUE_CODE_LEN + 1], b[LEAGUE_CODE_LEN + 1], n[LEAGUE_CODE_LEN + 1];
    assert_int_equal(league_code_new(a), 0);
    assert_int_equal(league_code_new(b), 0);
    assert_int_equal(strlen(a), LEAGUE_CODE_LEN);
    assert_string_not_equal(a, b);
    assert_int_equal(strspn(a, LEAGUE_CODE_ALPHABET), LEAGUE_CODE_LEN);
    assert_int_equal(strlen(LEAGUE_CODE_ALPHABET), 32);
    assert_null(strpbrk(LEAGUE_CODE_ALPHABET, "01IO"));
    /* every symbol appears over many codes (no stuck bits) */
    int seen[256] = {0};
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(league_code_new(a), 0);
        for (int k = 0; k < LEAGUE_CODE_LEN; k++)
            seen[(unsigned char)a[k]]++;
    }
    for (const char *p = LEAGUE_CODE_ALPHABET; *p; p++)
        assert_true(seen[(unsigned char)*p] > 0);
    assert_int_equal(league_code_normalize("abcdefghjk23", n), 0);
    assert_string_equal(n, "ABCDEFGHJK23");
    const char *bad[] = {"",
                         ".*",
                         "%",
                         "ABCDEFGHJK2",
                         "ABCDEFGHJK234",
                         "ABCDEFGHJK2O",
                         "ABCDEFGHJK2%",
                         "(.*)(.*)(.*",
                         "ABCDEFGHJK\n2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(league_code_normalize(bad[i], n), GV_ENOT_FOUND);
}

static void test_names(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(league_name_normalize("  Sunday Five ", out, sizeof(out)), 0);
    assert_string_equal(out, "Sunday Five");
    char sixty[200] = "";
    for (int i = 0; i < 60; i++)
        strcat(sixty, "\xc3\xa9"); /* é: 60 characters, 120 bytes */
    assert_int_equal(league_name_normalize(sixty, out, sizeof(out)), 0);
    strcat(sixty, "x");
    assert_int_equal(league_name_normalize(sixty, out, sizeof(out)), GV_EINVALID_REQUEST);
    assert_int_equal(league_name_normalize("   ", out, sizeof(out)), GV_EINVALID_REQUEST);
    assert_int_equal(league_name_normalize("a\x01b", out, sizeof(out)), GV_EINVALID_REQUEST);
    assert_int_equal(league_name_normalize("\xff", out, sizeof(out)), GV_EINVALID_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),   cmocka_unit_test(test_values_applied),
        cmocka_unit_test(test_each_range), cmocka_unit_test(test_range_message_names_the_range),
        cmocka_unit_test(test_codes),      cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
