/* Scoring rules, points and ranks (season/scoring.c) and the season's time parser, with every
 * expectation worked out by hand from PRODUCT.md "Season". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "season/scoring.h"
#include "season/season.h"

static void football_defaults_and_points(void **state)
{
    (void)state;
    scoring_rules_t r;
    assert_int_equal(0, scoring_defaults("football", &r));
    assert_int_equal(3 + 2, scoring_football(&r, 2, 0)); /* win + 2 goals */
    assert_int_equal(1 + 1, scoring_football(&r, 1, 1)); /* draw + 1 goal */
    assert_int_equal(0 + 1, scoring_football(&r, 1, 3)); /* loss + 1 goal */
    assert_int_equal(1, scoring_football(&r, 0, 0));     /* goalless draw */
    assert_int_equal(GV_EINVALID_REQUEST, scoring_defaults("curling", &r));
}

static void cricket_milestones_stack(void **state)
{
    (void)state;
    scoring_rules_t r;
    char field[64];
    json_t *over = json_object();
    assert_int_equal(0, scoring_defaults("cricket", &r));
    scoring_line_t l = {.runs = 104, .wickets = 5, .catches = 1, .stumpings = 0, .run_outs = 1};
    assert_int_equal(104 + 100 + 10 + 20, scoring_cricket(&r, &l)); /* milestones off */
    json_t *patch = json_loads("{\"milestones\":{\"halfCentury\":{\"enabled\":true},"
                               "\"century\":{\"enabled\":true},"
                               "\"fiveWicketHaul\":{\"enabled\":true,\"points\":30}}}",
                               0, NULL);
    assert_int_equal(0, scoring_overrides_merge("cricket", over, patch, &r, field, sizeof(field)));
    /* 104 runs pass 50 and 100: both stack; 5 wickets pass the haul (30 now) */
    assert_int_equal(104 + 100 + 10 + 20 + 10 + 25 + 30, scoring_cricket(&r, &l));
    scoring_line_t fifty = {.runs = 50};
    assert_int_equal(50 + 10, scoring_cricket(&r, &fifty));
    scoring_line_t fortynine = {.runs = 49, .wickets = 4};
    assert_int_equal(49 + 80, scoring_cricket(&r, &fortynine));
    json_decref(patch);
    json_decref(over);
}

static void overrides_merge_and_null_restores(void **state)
{
    (void)state;
    scoring_rules_t r;
    char field[64];
    json_t *over = json_object();
    json_t *p1 = json_loads("{\"rules\":{\"win\":5,\"goal\":2}}", 0, NULL);
    assert_int_equal(0, scoring_overrides_merge("football", over, p1, &r, field, sizeof(field)));
    assert_int_equal(5, r.win);
    assert_int_equal(2, r.goal);
    assert_int_equal(1, r.draw);
    json_t *p2 = json_loads("{\"rules\":{\"win\":null}, \"sport\":\"football\"}", 0, NULL);
    assert_int_equal(0, scoring_overrides_merge("football", over, p2, &r, field, sizeof(field)));
    assert_int_equal(3, r.win); /* back to the default */
    assert_int_equal(2, r.goal);
    assert_null(json_object_get(over, "sport"));
    json_t *doc = scoring_document(&r);
    assert_int_equal(2, json_integer_value(json_object_get(json_object_get(doc, "rules"), "goal")));
    json_decref(doc);
    json_decref(p1);
    json_decref(p2);
    json_decref(over);
}

/* RFC 7386: a null inside an object the overrides do not have yet is applied (nothing to
 * restore), never stored as a value. */
static void null_in_a_new_object_is_not_stored(void **state)
{
    (void)state;
    scoring_rules_t r;
    char field[64];
    json_t *over = json_object();
    json_t *p = json_loads("{\"rules\":{\"draw\":null,\"goal\":4}}", 0, NULL);
    assert_int_equal(0, scoring_overrides_merge("football", over, p, &r, field, sizeof(field)));
    assert_int_equal(1, r.draw);
    assert_int_equal(4, r.goal);
    assert_null(json_object_get(json_object_get(over, "rules"), "draw"));
    json_decref(p);
    json_decref(over);
}

static void overrides_refuse_bad_values(void **state)
{
    (void)state;
    static const struct {
        const char *sport, *patch, *field;
    } bad[] = {
        {"football", "{\"rules\":{\"win\":-1}}", "rules.win"},
        {"football", "{\"rules\":{\"win\":1.5}}", "rules.win"},
        {"football", "{\"rules\":{\"win\":\"3\"}}", "rules.win"},
        {"football", "{\"rules\":{\"win\":1000001}}", "rules.win"},
        {"football", "{\"rules\":{\"run\":1}}", "rules.run"},
        {"football", "{\"milestones\":{}}", "milestones"},
        {"football", "{\"sport\":\"cricket\"}", "sport"},
        {"football", "{\"extra\":1}", "extra"},
        {"football", "{\"rules\":[]}", "rules"},
        {"cricket", "{\"milestones\":{\"century\":{\"enabled\":1}}}", "milestones.century.enabled"},
        {"cricket", "{\"milestones\":{\"century\":{\"threshold\":0}}}",
         "milestones.century.threshold"},
        {"cricket", "{\"milestones\":{\"double\":{\"enabled\":true}}}", "milestones.double"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        scoring_rules_t r;
        char field[64];
        json_t *over = json_object(), *p = json_loads(bad[i].patch, 0, NULL);
        assert_non_null(p);
        assert_int_equal(GV_EINVALID_REQUEST,
                         scoring_overrides_merge(bad[i].sport, over, p, &r, field, sizeof(field)));
        assert_string_equal(bad[i].field, field);
        json_decref(p);
        json_decref(over);
    }
}

static void ranks_are_shared_and_tie_breaks_apply(void **state)
{
    (void)state;
    scoring_row_t rows[] = {
        {.points = 10, .tb1 = 3, .tb2 = 1, .key = "dee"},
        {.points = 12, .key = "ann"},
        {.points = 10, .tb1 = 4, .tb2 = 0, .key = "cai"},
        {.points = 10, .tb1 = 3, .tb2 = 1, .key = "bob"},
        {.points = 10, .tb1 = 3, .tb2 = 2, .key = "eve"},
        {.points = 0, .key = "zed"},
    };
    for (size_t i = 0; i < 6; i++)
        rows[i].index = i;
    scoring_rank(rows, 6);
    const char *order[] = {"ann", "cai", "eve", "bob", "dee", "zed"};
    const int ranks[] = {1, 2, 3, 4, 4, 6};
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(order[i], rows[i].key);
        assert_int_equal(ranks[i], rows[i].rank);
    }
}

static void times_parse_with_zones_only(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(0, season_parse_time("2025-12-21T19:00:00Z", &ms));
    assert_int_equal(1766343600000LL, ms);
    assert_int_equal(0, season_parse_time("2025-12-21T20:00+01:00", &ms));
    assert_int_equal(1766343600000LL, ms);
    assert_int_equal(0, season_parse_time("2025-12-21T14:30:00.250-04:30", &ms));
    assert_int_equal(1766343600000LL + 250, ms);
    assert_int_equal(0, season_parse_time("2024-02-29T00:00:00Z", &ms));
    assert_int_equal(1709164800000LL, ms);
    const char *bad[] = {"2025-12-21T19:00:00",
                         "2025-13-01T00:00Z",
                         "2025-02-29T00:00Z",
                         "2025-12-21 19:00Z x",
                         "2025-12-21T24:00Z",
                         "21/12/2025 19:00",
                         "",
                         "2025-12-21T19:00:00.Z",
                         "1969-12-31T23:59Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(GV_EINVALID_REQUEST, season_parse_time(bad[i], &ms));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(football_defaults_and_points),
        cmocka_unit_test(cricket_milestones_stack),
        cmocka_unit_test(overrides_merge_and_null_restores),
        cmocka_unit_test(null_in_a_new_object_is_not_stored),
        cmocka_unit_test(overrides_refuse_bad_values),
        cmocka_unit_test(ranks_are_shared_and_tie_breaks_apply),
        cmocka_unit_test(times_parse_with_zones_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
