/* Cricsheet scorecards as stats lines: every wicket kind credited as cricsheet.h says (bowler,
 * catcher, keeper, run-out fielders), runs summed per batter, extras never a batter's, people
 * outside info.players added, registry ids attached, the match id from date and teams; broken
 * cards refused with where and why. The cards are written out here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "season/cricsheet.h"

static int parse(const char *text, cricsheet_card_t *card)
{
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    assert_non_null(root);
    int rc = cricsheet_parse(root, card);
    json_decref(root);
    return rc;
}

static const cricsheet_line_t *line_of(const cricsheet_card_t *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->lines[i].name, name))
            return &c->lines[i];
    fail_msg("no line for %s", name);
    return NULL;
}

static void expect(const cricsheet_card_t *c, const char *name, int64_t runs, int64_t wickets,
                   int64_t catches, int64_t stumpings, int64_t run_outs)
{
    const cricsheet_line_t *l = line_of(c, name);
    assert_int_equal(runs, l->runs);
    assert_int_equal(wickets, l->wickets);
    assert_int_equal(catches, l->catches);
    assert_int_equal(stumpings, l->stumpings);
    assert_int_equal(run_outs, l->run_outs);
}

#define D(bat, bowl, runs, extra)                                                                  \
    "{\"batter\":\"" bat "\",\"bowler\":\"" bowl                                                   \
    "\",\"non_striker\":\"N\",\"runs\":{\"batter\":" #runs ",\"extras\":" #extra                   \
    ",\"total\":" #runs "}"
#define W(kind, out, fielders)                                                                     \
    ",\"wickets\":[{\"kind\":\"" kind "\",\"player_out\":\"" out "\"" fielders "}]}"

static const char card_text[] =
    "{\"info\":{\"dates\":[\"2026-01-04\",\"2026-01-05\"],\"teams\":[\"Australia\",\"England\"],"
    "\"players\":{\"Australia\":[\"A1\",\"A2\",\"A3\"],\"England\":[\"E1\",\"E2\",\"E3\"]},"
    "\"registry\":{\"people\":{\"A1\":\"aa11\",\"E2\":\"ee22\",\"Sub\":\"ss00\"}}},"
    "\"innings\":[{\"team\":\"Australia\",\"overs\":[{\"over\":0,\"deliveries\":[" D(
        "A1", "E1", 4, 0) "}," D("A1", "E1", 0, 1) "}," D("A1", "E1", 6, 0) "}," D("A1", "E1", 0, 0)
        W("caught", "A1", ",\"fielders\":[{\"name\":\"E2\"}]") "," D("A2", "E1", 1,
                                                                     0) "}," D("A2", "E1", 0, 0)
            W("lbw", "A2",
              "") "]},"
                  "{\"over\":1,\"deliveries\":[" D("A3", "E2", 2, 0) W(
                      "run out", "A3",
                      ",\"fielders\":[{\"name\":\"E3\"},{\"name\":\"E1\"}]") "," D("A3", "E2", 0, 0)
                      W("caught and bowled", "A3", "") "," D("A2", "E3", 0, 0) W(
                          "stumped", "A2", ",\"fielders\":[{\"name\":\"E1\"}]") "," D("A1", "E3", 0,
                                                                                      0)
                          W("caught", "A1",
                            ",\"fielders\":[{\"name\":\"Sub\",\"substitute\":true}]") "," D("A1",
                                                                                            "E3", 0,
                                                                                            0)
                              W("retired hurt", "A1", "") "," D("A1", "E3", 0, 0)
                                  W("hit wicket", "A1",
                                    "") "]}]},"
                                        "{\"team\":\"England\",\"forfeited\":true}]}";

static void credits_every_kind(void **state)
{
    (void)state;
    cricsheet_card_t c;
    assert_int_equal(0, parse(card_text, &c));
    assert_string_equal("2026-01-04-australia-england", c.match_id);
    assert_int_equal(7, c.n);
    assert_string_equal("A1", c.lines[0].name); /* info.players order, then the substitute */
    assert_string_equal("Sub", c.lines[6].name);
    expect(&c, "A1", 10, 0, 0, 0, 0); /* the wide (extras) is not his */
    expect(&c, "A2", 1, 0, 0, 0, 0);
    expect(&c, "A3", 2, 0, 0, 0, 0);
    expect(&c, "E1", 0, 2, 0, 1, 1);  /* caught A1 + lbw; stumped A2; run out A3 (with E3) */
    expect(&c, "E2", 0, 1, 2, 0, 0);  /* caught A1 off E1; c&b A3 */
    expect(&c, "E3", 0, 3, 0, 0, 1);  /* stumped, caught (sub), hit wicket; run out A3 */
    expect(&c, "Sub", 0, 0, 1, 0, 0); /* a substitute's catch is still a catch */
    assert_string_equal("aa11", line_of(&c, "A1")->registry);
    assert_string_equal("ee22", line_of(&c, "E2")->registry);
    assert_string_equal("ss00", line_of(&c, "Sub")->registry);
    assert_string_equal("", line_of(&c, "E3")->registry);
    cricsheet_free(&c);
}

static void slugs_the_teams(void **state)
{
    (void)state;
    cricsheet_card_t c;
    assert_int_equal(0, parse("{\"info\":{\"dates\":[\"2025-10-26\"],\"teams\":[\"New Zealand\","
                              "\"Sri Lanka (A) \"]},\"innings\":[]}",
                              &c));
    assert_string_equal("2025-10-26-new-zealand-sri-lanka-a", c.match_id);
    assert_int_equal(0, c.n);
    cricsheet_free(&c);
}

static void refuses_broken_cards(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int where;
    } bad[] = {
        {"{\"innings\":[]}", 0},
        {"{\"info\":{\"dates\":[\"2025-10-26\"],\"teams\":[\"A\",\"B\"]}}", 0},
        {"{\"info\":{\"dates\":[\"26/10/2025\"],\"teams\":[\"A\",\"B\"]},\"innings\":[]}", 0},
        {"{\"info\":{\"dates\":[\"2025-10-26\"],\"teams\":[\"A\"]},\"innings\":[]}", 0},
        {"{\"info\":{\"dates\":[\"2025-10-26\"],\"teams\":[\"A\",\"B\"],\"players\":{\"A\":[1]}},"
         "\"innings\":[]}",
         0},
        {"{\"info\":{\"dates\":[\"2025-10-26\"],\"teams\":[\"A\",\"B\"]},\"innings\":[{\"overs\":"
         "[{\"deliveries\":[]}]},{\"overs\":[{\"deliveries\":[{\"batter\":\"x\",\"bowler\":\"y\","
         "\"runs\":{\"batter\":-1}}]}]}]}",
         2},
        {"{\"info\":{\"dates\":[\"2025-10-26\"],\"teams\":[\"A\",\"B\"]},\"innings\":[{\"overs\":"
         "[{\"deliveries\":[{\"batter\":\"x\",\"bowler\":\"y\",\"runs\":{\"batter\":1},"
         "\"wickets\":[{\"kind\":\"timed in\",\"player_out\":\"x\"}]}]}]}]}",
         1},
        {"{\"info\":{\"dates\":[\"2025-10-26\"],\"teams\":[\"A\",\"B\"]},\"innings\":[{\"overs\":"
         "[{\"deliveries\":[{\"batter\":\"x\",\"bowler\":\"y\",\"runs\":{\"batter\":1},"
         "\"wickets\":[{\"kind\":\"caught\",\"player_out\":\"x\",\"fielders\":[{}]}]}]}]}]}",
         1},
        {"{\"info\":{\"dates\":[\"2025-10-26\"],\"teams\":[\"A\",\"B\"]},\"innings\":[{\"overs\":"
         "[{\"deliveries\":[{\"batter\":\"\",\"bowler\":\"y\",\"runs\":{\"batter\":1}}]}]}]}",
         1},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cricsheet_card_t c;
        assert_int_equal(GV_EINVALID_REQUEST, parse(bad[i].text, &c));
        assert_int_equal(bad[i].where, c.where);
        assert_true(strlen(c.why) > 10);
        cricsheet_free(&c);
    }
}

static void caps_the_people_of_a_match(void **state)
{
    (void)state;
    char text[64 * 1024] = "{\"info\":{\"dates\":[\"2025-10-26\"],\"teams\":[\"A\",\"B\"],"
                           "\"players\":{\"A\":[";
    for (int i = 0; i <= CRICSHEET_PLAYERS_MAX; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s\"p%d\"", i ? "," : "", i);
    strcat(text, "]}},\"innings\":[]}");
    cricsheet_card_t c;
    assert_int_equal(GV_EINVALID_REQUEST, parse(text, &c));
    assert_non_null(strstr(c.why, "More than"));
    cricsheet_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(credits_every_kind),
        cmocka_unit_test(slugs_the_teams),
        cmocka_unit_test(refuses_broken_cards),
        cmocka_unit_test(caps_the_people_of_a_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
