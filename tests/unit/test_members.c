/* Unit tests of the membership rules (league/members) against a real SQLite store in a temporary
 * directory, without HTTP: finding a league by code, joining as a manager (seats, stage,
 * promotion of spectators, idempotence), watching, leaving and removal with its refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "league/members.h"
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../store_fixture.h"
#include "../tmpdir.h"

#define T0 1700000000000LL /* "now" of the tests, ms */
#define INVITE "ABCDEFGHJKLM"
#define WATCH "NPQRSTUVWXYZ"
#define LG "lg-1"

static void make_user(fixture_t *f, const char *id)
{
    char email[64];
    store_user_t u;
    snprintf(email, sizeof(email), "%s@example.com", id);
    assert_int_equal(0, store_user_ensure(f->store, email, id, id, T0, &u, NULL));
}

/* A football league LG of commissioner "comm" with seats for the commissioner and 2 managers. */
static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    *state = f;
    if (tmpdir_make(f->base, sizeof(f->base), "members") != 0)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "%s/data", f->base);
    if (store_open(&f->store, f->dir) != 0 || store_migrate(f->store, NULL) != 0)
        return -1;
    exec_sql(f, "INSERT INTO competitions(code, sport, name, season) VALUES "
                "('AFCON-2025', 'football', 'Africa Cup of Nations', '2025')");
    const char *users[] = {"comm", "ann", "bob", "cat", "dan"};
    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++)
        make_user(f, users[i]);
    store_league_t lg;
    memset(&lg, 0, sizeof(lg));
    snprintf(lg.id, sizeof(lg.id), LG);
    snprintf(lg.name, sizeof(lg.name), "Sunday Five");
    snprintf(lg.sport, sizeof(lg.sport), "football");
    snprintf(lg.competition, sizeof(lg.competition), "AFCON-2025");
    snprintf(lg.commissioner_id, sizeof(lg.commissioner_id), "comm");
    snprintf(lg.invite_code, sizeof(lg.invite_code), INVITE);
    snprintf(lg.watch_code, sizeof(lg.watch_code), WATCH);
    lg.settings = fixture_settings();
    lg.settings.max_managers = 3;
    lg.created_ms = T0;
    return store_league_create(f->store, &lg);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    store_close(f->store);
    int rc = f->base[0] != '\0' ? tmpdir_remove(f->base) : 0;
    free(f);
    return rc;
}

/* LG as the store has it now. */
static store_league_t league(fixture_t *f)
{
    store_league_t lg;
    assert_int_equal(0, store_league_get(f->store, LG, &lg));
    return lg;
}

/* user_id's role in LG, or 0 when not a member. */
static int role_of(fixture_t *f, const char *user_id)
{
    store_member_t m;
    int rc = store_member_get(f->store, LG, user_id, &m);
    if (rc == GV_ENOT_FOUND)
        return 0;
    assert_int_equal(rc, 0);
    return (int)m.role;
}

static int64_t joined_ms_of(fixture_t *f, const char *user_id)
{
    store_member_t m;
    assert_int_equal(0, store_member_get(f->store, LG, user_id, &m));
    return m.joined_ms;
}

static void start_auction(fixture_t *f)
{
    exec_sql(f, "UPDATE leagues SET status = 'auction' WHERE id = '" LG "'");
}

static void join_ok(fixture_t *f, const char *user_id)
{
    store_league_t lg = league(f);
    int joined = -1;
    assert_int_equal(0, league_member_join(f->store, &lg, user_id, T0, &joined));
    assert_int_equal(joined, 1);
}

static void watch_ok(fixture_t *f, const char *user_id)
{
    store_league_t lg = league(f);
    int joined = -1;
    assert_int_equal(0, league_member_watch(f->store, &lg, user_id, T0, &joined));
    assert_int_equal(joined, 1);
}

/* ---- codes ---------------------------------------------------------------------------------- */

static void invite_find_by_either_code(void **state)
{
    fixture_t *f = *state;
    store_league_t lg;
    assert_int_equal(0, league_invite_find(f->store, "abcdefghjklm", 0, &lg)); /* case forgiven */
    assert_string_equal(lg.id, LG);
    assert_int_equal(lg.member_count, 1);
    assert_int_equal(0, league_invite_find(f->store, WATCH, 1, &lg));
    assert_string_equal(lg.id, LG);
    /* each code only for its own use */
    assert_int_equal(GV_ENOT_FOUND, league_invite_find(f->store, INVITE, 1, &lg));
    assert_int_equal(GV_ENOT_FOUND, league_invite_find(f->store, WATCH, 0, &lg));
}

static void invite_find_refuses_wrong_codes_alike(void **state)
{
    fixture_t *f = *state;
    store_league_t lg;
    const char *bad[] = {"",  "ABC",         "ABCDEFGHJKLMN", "ABCDEFGHJKL%", "ABCDEFGHJKL0",
                         "%", "ZZZZZZZZZZZZ"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(GV_ENOT_FOUND, league_invite_find(f->store, bad[i], 0, &lg));
        assert_int_equal(GV_ENOT_FOUND, league_invite_find(f->store, bad[i], 1, &lg));
    }
}

static void join_open_says_why_not(void **state)
{
    fixture_t *f = *state;
    store_league_t lg = league(f);
    assert_int_equal(0, league_join_open(&lg));
    lg.member_count = 3;
    assert_int_equal(GV_ELEAGUE_FULL, league_join_open(&lg));
    snprintf(lg.status, sizeof(lg.status), "auction");
    assert_int_equal(GV_EAUCTION_STARTED, league_join_open(&lg)); /* the stage first */
    lg.member_count = 1;
    assert_int_equal(GV_EAUCTION_STARTED, league_join_open(&lg));
}

/* ---- join ----------------------------------------------------------------------------------- */

static void join_adds_a_manager(void **state)
{
    fixture_t *f = *state;
    store_league_t lg = league(f);
    int joined = -1;
    assert_int_equal(0, league_member_join(f->store, &lg, "ann", T0 + 7, &joined));
    assert_int_equal(joined, 1);
    assert_int_equal(role_of(f, "ann"), STORE_ROLE_MANAGER);
    assert_int_equal(joined_ms_of(f, "ann"), T0 + 7);
    assert_int_equal(league(f).member_count, 2);
}

static void join_again_changes_nothing(void **state)
{
    fixture_t *f = *state;
    join_ok(f, "ann");
    store_league_t lg = league(f);
    int joined = -1;
    assert_int_equal(0, league_member_join(f->store, &lg, "ann", T0 + 9, &joined));
    assert_int_equal(joined, 0);
    assert_int_equal(joined_ms_of(f, "ann"), T0);
    assert_int_equal(0, league_member_join(f->store, &lg, "comm", T0, &joined));
    assert_int_equal(joined, 0);
    assert_int_equal(role_of(f, "comm"), STORE_ROLE_COMMISSIONER);
    /* a member already is answered before the stage or the seats are looked at */
    join_ok(f, "bob"); /* now full */
    start_auction(f);
    lg = league(f);
    assert_int_equal(0, league_member_join(f->store, &lg, "ann", T0, &joined));
    assert_int_equal(joined, 0);
    assert_int_equal(league(f).member_count, 3);
}

static void join_promotes_a_spectator_keeping_their_place(void **state)
{
    fixture_t *f = *state;
    watch_ok(f, "dan");
    store_league_t lg = league(f);
    int joined = -1;
    assert_int_equal(0, league_member_join(f->store, &lg, "dan", T0 + 5000, &joined));
    assert_int_equal(joined, 1);
    assert_int_equal(role_of(f, "dan"), STORE_ROLE_MANAGER);
    assert_int_equal(joined_ms_of(f, "dan"), T0);
    assert_int_equal(league(f).spectator_count, 0);
}

static void join_refused_once_the_auction_started(void **state)
{
    fixture_t *f = *state;
    watch_ok(f, "dan");
    start_auction(f);
    store_league_t lg = league(f);
    int joined = -1;
    assert_int_equal(GV_EAUCTION_STARTED, league_member_join(f->store, &lg, "ann", T0, &joined));
    assert_int_equal(joined, 0);
    assert_int_equal(role_of(f, "ann"), 0);
    assert_int_equal(GV_EAUCTION_STARTED, league_member_join(f->store, &lg, "dan", T0, &joined));
    assert_int_equal(role_of(f, "dan"), STORE_ROLE_SPECTATOR);
}

static void join_refused_when_full(void **state)
{
    fixture_t *f = *state;
    watch_ok(f, "dan");
    join_ok(f, "ann");
    join_ok(f, "bob");
    store_league_t lg = league(f);
    int joined = -1;
    assert_int_equal(GV_ELEAGUE_FULL, league_member_join(f->store, &lg, "cat", T0, &joined));
    assert_int_equal(role_of(f, "cat"), 0);
    assert_int_equal(GV_ELEAGUE_FULL, league_member_join(f->store, &lg, "dan", T0, &joined));
    assert_int_equal(role_of(f, "dan"), STORE_ROLE_SPECTATOR);
    assert_int_equal(league(f).member_count, 3);
}

static void join_refused_when_the_last_seat_went_meanwhile(void **state)
{
    fixture_t *f = *state;
    join_ok(f, "ann");
    watch_ok(f, "dan");
    store_league_t stale = league(f); /* 2 of 3 seats taken when read */
    int joined = -1;
    assert_int_equal(0, league_member_join(f->store, &stale, "bob", T0, &joined));
    /* the store counts again in the statement that adds */
    assert_int_equal(GV_ELEAGUE_FULL, league_member_join(f->store, &stale, "cat", T0, &joined));
    assert_int_equal(role_of(f, "cat"), 0);
    assert_int_equal(GV_ELEAGUE_FULL, league_member_join(f->store, &stale, "dan", T0, &joined));
    assert_int_equal(role_of(f, "dan"), STORE_ROLE_SPECTATOR);
    assert_int_equal(league(f).member_count, 3);
}

/* ---- watch ---------------------------------------------------------------------------------- */

static void watch_adds_a_spectator_at_any_stage(void **state)
{
    fixture_t *f = *state;
    join_ok(f, "ann");
    join_ok(f, "bob"); /* full */
    start_auction(f);
    store_league_t lg = league(f);
    int joined = -1;
    assert_int_equal(0, league_member_watch(f->store, &lg, "dan", T0 + 3, &joined));
    assert_int_equal(joined, 1);
    assert_int_equal(role_of(f, "dan"), STORE_ROLE_SPECTATOR);
    assert_int_equal(joined_ms_of(f, "dan"), T0 + 3);
    assert_int_equal(league(f).spectator_count, 1);
    assert_int_equal(league(f).member_count, 3);
}

static void watch_leaves_members_as_they_are(void **state)
{
    fixture_t *f = *state;
    join_ok(f, "ann");
    watch_ok(f, "dan");
    store_league_t lg = league(f);
    int joined = -1;
    assert_int_equal(0, league_member_watch(f->store, &lg, "ann", T0 + 1, &joined));
    assert_int_equal(joined, 0);
    assert_int_equal(role_of(f, "ann"), STORE_ROLE_MANAGER);
    assert_int_equal(0, league_member_watch(f->store, &lg, "comm", T0 + 1, &joined));
    assert_int_equal(joined, 0);
    assert_int_equal(role_of(f, "comm"), STORE_ROLE_COMMISSIONER);
    assert_int_equal(0, league_member_watch(f->store, &lg, "dan", T0 + 1, &joined));
    assert_int_equal(joined, 0);
    assert_int_equal(joined_ms_of(f, "dan"), T0);
}

/* ---- leave and remove ----------------------------------------------------------------------- */

/* Removes user_id on behalf of caller_id; returns the code and fills *out. */
static int remove_as(fixture_t *f, const char *caller_id, const char *user_id,
                     league_removal_t *out)
{
    store_league_t lg = league(f);
    int caller_role = role_of(f, caller_id);
    assert_true(caller_role != 0);
    return league_member_remove(f->store, &lg, caller_id, (store_role_t)caller_role, user_id, out);
}

static void commissioner_removes_a_member(void **state)
{
    fixture_t *f = *state;
    league_removal_t out;
    join_ok(f, "ann");
    watch_ok(f, "dan");
    assert_int_equal(0, remove_as(f, "comm", "ann", &out));
    assert_int_equal(out.role, STORE_ROLE_MANAGER);
    assert_int_equal(role_of(f, "ann"), 0);
    assert_int_equal(0, remove_as(f, "comm", "dan", &out));
    assert_int_equal(out.role, STORE_ROLE_SPECTATOR);
    assert_int_equal(role_of(f, "dan"), 0);
    assert_int_equal(league(f).member_count, 1);
}

static void anyone_leaves(void **state)
{
    fixture_t *f = *state;
    league_removal_t out;
    join_ok(f, "ann");
    watch_ok(f, "dan");
    assert_int_equal(0, remove_as(f, "ann", "ann", &out));
    assert_int_equal(out.role, STORE_ROLE_MANAGER);
    assert_null(out.message);
    assert_int_equal(role_of(f, "ann"), 0);
    assert_int_equal(0, remove_as(f, "dan", "dan", &out));
    assert_int_equal(out.role, STORE_ROLE_SPECTATOR);
    assert_int_equal(role_of(f, "dan"), 0);
}

static void only_the_commissioner_removes_others(void **state)
{
    fixture_t *f = *state;
    league_removal_t out;
    join_ok(f, "ann");
    join_ok(f, "bob");
    watch_ok(f, "dan");
    assert_int_equal(GV_EFORBIDDEN, remove_as(f, "ann", "bob", &out));
    assert_string_equal(out.message, "Only the commissioner can remove others.");
    assert_int_equal(GV_EFORBIDDEN, remove_as(f, "dan", "ann", &out));
    assert_int_equal(GV_EFORBIDDEN, remove_as(f, "ann", "comm", &out));
    /* refused before the target is looked up: a non-member is no different */
    assert_int_equal(GV_EFORBIDDEN, remove_as(f, "ann", "nobody", &out));
    assert_int_equal(role_of(f, "bob"), STORE_ROLE_MANAGER);
    assert_int_equal(role_of(f, "ann"), STORE_ROLE_MANAGER);
    assert_int_equal(role_of(f, "comm"), STORE_ROLE_COMMISSIONER);
}

static void removing_a_non_member_is_not_found(void **state)
{
    fixture_t *f = *state;
    league_removal_t out;
    assert_int_equal(GV_ENOT_FOUND, remove_as(f, "comm", "ann", &out));
    assert_string_equal(out.message, "No such member.");
    assert_int_equal(GV_ENOT_FOUND, remove_as(f, "comm", "nobody", &out));
}

static void the_commissioner_never_leaves(void **state)
{
    fixture_t *f = *state;
    league_removal_t out;
    assert_int_equal(GV_ECONFLICT, remove_as(f, "comm", "comm", &out));
    assert_string_equal(out.message,
                        "The commissioner cannot leave the league; delete it instead.");
    assert_int_equal(role_of(f, "comm"), STORE_ROLE_COMMISSIONER);
}

static void managers_stay_once_the_auction_started(void **state)
{
    fixture_t *f = *state;
    league_removal_t out;
    join_ok(f, "ann");
    watch_ok(f, "dan");
    watch_ok(f, "cat");
    start_auction(f);
    assert_int_equal(GV_EAUCTION_STARTED, remove_as(f, "comm", "ann", &out));
    assert_null(out.message);
    assert_int_equal(GV_EAUCTION_STARTED, remove_as(f, "ann", "ann", &out));
    assert_int_equal(role_of(f, "ann"), STORE_ROLE_MANAGER);
    /* the commissioner's refusal comes first */
    assert_int_equal(GV_ECONFLICT, remove_as(f, "comm", "comm", &out));
    /* spectators leave, or are removed, at any time */
    assert_int_equal(0, remove_as(f, "dan", "dan", &out));
    assert_int_equal(out.role, STORE_ROLE_SPECTATOR);
    assert_int_equal(role_of(f, "dan"), 0);
    assert_int_equal(0, remove_as(f, "comm", "cat", &out));
    assert_int_equal(role_of(f, "cat"), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(invite_find_by_either_code),
        T(invite_find_refuses_wrong_codes_alike),
        T(join_open_says_why_not),
        T(join_adds_a_manager),
        T(join_again_changes_nothing),
        T(join_promotes_a_spectator_keeping_their_place),
        T(join_refused_once_the_auction_started),
        T(join_refused_when_full),
        T(join_refused_when_the_last_seat_went_meanwhile),
        T(watch_adds_a_spectator_at_any_stage),
        T(watch_leaves_members_as_they_are),
        T(commissioner_removes_a_member),
        T(anyone_leaves),
        T(only_the_commissioner_removes_others),
        T(removing_a_non_member_is_not_found),
        T(the_commissioner_never_leaves),
        T(managers_stay_once_the_auction_started),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
