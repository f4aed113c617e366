/* Unit tests of the store's leagues on both backends (tests/store_backend.h: real SQLite in a
 * temporary directory, real PostgreSQL in a schema of its own): create and read back, codes
 * matched exactly and unique (also when connections race), seats (also raced), members read with
 * current names, keyset paging without loss, the asset selection, cascades, and atomicity inside
 * a caller's transaction. The catalogue rows are written with SQL (the catalogue store has its
 * own tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "store/store.h"
#include "store/store_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../league_fixture.h"
#include "../store_backend.h"

#define T0 1700000000000LL /* created_ms of the tests' leagues */
#define PAGE_MAX 100

/* The commits of the fixture's store, counted by its commit observer. */
static observed_t commits;

static void exec_sql(fixture_t *f, const char *sql)
{
    backend_exec(f->store, sql);
}

/* The first column of the first row of sql as an integer (-1 when no row). */
static int64_t query_i64(fixture_t *f, const char *sql)
{
    return backend_i64(f->store, sql, NULL);
}

/* 1 when a transaction is open on the fixture's store. */
static int tx_open(fixture_t *f)
{
    return f->store->ops->tx_open(f->store);
}

/* Creates the user "u-<tag>" named "User <tag>". */
static void make_user(fixture_t *f, const char *tag)
{
    char email[64], id[STORE_ID_MAX], name[64];
    snprintf(email, sizeof(email), "%s@example.com", tag);
    snprintf(id, sizeof(id), "u-%s", tag);
    snprintf(name, sizeof(name), "User %s", tag);
    store_user_t u;
    assert_int_equal(0, store_user_ensure(f->store, email, id, name, T0, &u, NULL));
}

/* AFCON-2025 has six football assets (two named alike but for case, one also in EPL-2025) and a
 * cricket asset that is not of the league's sport; EPL-2025 has two. */
static void make_catalogue(fixture_t *f)
{
    exec_sql(f, "INSERT INTO competitions(code, sport, name, season) VALUES"
                "('AFCON-2025', 'football', 'Africa Cup of Nations', '2025'),"
                "('EPL-2025', 'football', 'Premier League', '2025-26'),"
                "('EMPTY-2025', 'football', 'Nothing yet', '2025')");
    exec_sql(f, "INSERT INTO assets(id, sport, name, short_name, country, team, role, "
                "provider_ids, updated_ms) VALUES"
                "('fb-egy', 'football', 'egypt', 'EGY', 'Egypt', '', '', '{\"fd\":\"1\"}', 1),"
                "('fb-alg', 'football', 'Algeria', 'ALG', 'Algeria', '', '', '{}', 1),"
                "('fb-gha2', 'football', 'Ghana', 'GHA', 'Ghana', '', '', '{}', 1),"
                "('fb-gha1', 'football', 'ghana', 'GH1', 'Ghana', '', '', '{}', 1),"
                "('fb-ben', 'football', 'Benin', 'BEN', 'Benin', '', '', '{}', 1),"
                "('fb-ars', 'football', 'Arsenal', 'ARS', 'England', 'Arsenal', 'club', "
                "'{\"footballData\":\"57\"}', 1),"
                "('fb-che', 'football', 'Chelsea', 'CHE', 'England', '', '', '{}', 1),"
                "('cr-odd', 'cricket', 'Aardvark', '', '', '', 'bat', '{}', 1)");
    exec_sql(f, "INSERT INTO asset_competitions(competition, asset_id) VALUES"
                "('AFCON-2025', 'fb-egy'), ('AFCON-2025', 'fb-alg'), ('AFCON-2025', 'fb-gha2'),"
                "('AFCON-2025', 'fb-gha1'), ('AFCON-2025', 'fb-ben'), ('AFCON-2025', 'fb-ars'),"
                "('EPL-2025', 'fb-ars'), ('EPL-2025', 'fb-che'), ('AFCON-2025', 'cr-odd')");
}

/* The AFCON-2025 default selection: by name case-insensitively, then id. */
static const char *const afcon_order[] = {"fb-alg", "fb-ars",  "fb-ben",
                                          "fb-egy", "fb-gha1", "fb-gha2"};
#define AFCON_N 6

static int setup(void **state)
{
    if (setup_open(state) != 0)
        return -1;
    fixture_t *f = *state;
    if (store_migrate(f->store, NULL) != 0)
        return -1;
    commits = (observed_t){0, -1};
    store_set_commit_observer(f->store, observe_commit, &commits);
    make_catalogue(f);
    make_user(f, "alice");
    make_user(f, "bob");
    make_user(f, "carol");
    return 0;
}

/* A league of AFCON-2025 with the PRODUCT.md defaults. */
static store_league_t league_of(const char *id, const char *owner, const char *invite,
                                const char *watch)
{
    store_league_t lg;
    memset(&lg, 0, sizeof(lg));
    snprintf(lg.id, sizeof(lg.id), "%s", id);
    snprintf(lg.name, sizeof(lg.name), "League %s", id);
    snprintf(lg.sport, sizeof(lg.sport), "football");
    snprintf(lg.competition, sizeof(lg.competition), "AFCON-2025");
    snprintf(lg.commissioner_id, sizeof(lg.commissioner_id), "%s", owner);
    snprintf(lg.invite_code, sizeof(lg.invite_code), "%s", invite);
    snprintf(lg.watch_code, sizeof(lg.watch_code), "%s", watch);
    lg.settings = fixture_settings();
    lg.created_ms = T0;
    return lg;
}

/* Every value at the edge of its PRODUCT.md range, none equal to a default. */
static store_league_settings_t settings_unusual(void)
{
    return (store_league_settings_t){
        .budget = 1000000000000LL,
        .currency = "EUR",
        .roster_size = 50,
        .min_managers = 1,
        .max_managers = 64,
        .lot_seconds = 600,
        .anti_snipe_seconds = 0,
        .min_bid = 7,
        .min_increment = 3,
        .intermission_seconds = 30,
        .lot_order_fixed = 1,
        .reoffer_unsold = 5,
    };
}

static void assert_settings_equal(const store_league_settings_t *a,
                                  const store_league_settings_t *b)
{
    assert_int_equal(a->budget, b->budget);
    assert_string_equal(a->currency, b->currency);
    assert_int_equal(a->roster_size, b->roster_size);
    assert_int_equal(a->min_managers, b->min_managers);
    assert_int_equal(a->max_managers, b->max_managers);
    assert_int_equal(a->lot_seconds, b->lot_seconds);
    assert_int_equal(a->anti_snipe_seconds, b->anti_snipe_seconds);
    assert_int_equal(a->min_bid, b->min_bid);
    assert_int_equal(a->min_increment, b->min_increment);
    assert_int_equal(a->intermission_seconds, b->intermission_seconds);
    assert_int_equal(a->lot_order_fixed, b->lot_order_fixed);
    assert_int_equal(a->reoffer_unsold, b->reoffer_unsold);
}

/* The stored fields of a and b (not the counts). */
static void assert_league_equal(const store_league_t *a, const store_league_t *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->sport, b->sport);
    assert_string_equal(a->competition, b->competition);
    assert_string_equal(a->commissioner_id, b->commissioner_id);
    assert_string_equal(a->invite_code, b->invite_code);
    assert_string_equal(a->watch_code, b->watch_code);
    assert_int_equal(a->created_ms, b->created_ms);
    assert_settings_equal(&a->settings, &b->settings);
}

/* The whole selection of league_id, paged by limit, into ids (cap entries); checks positions. */
static size_t selection_of(fixture_t *f, const char *league_id, int limit,
                           char ids[][STORE_ASSET_ID_MAX], size_t cap)
{
    static store_asset_t page[PAGE_MAX];
    int pos[PAGE_MAX];
    size_t total = 0;
    int after = -1;
    for (int more = 1; more;) {
        size_t n = 0;
        assert_int_equal(0, store_league_assets_list(f->store, league_id, after, limit, page, pos,
                                                     PAGE_MAX, &n, &more));
        assert_true(n <= (size_t)limit);
        assert_true(n > 0 || !more);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(pos[i], (int)total); /* positions 0, 1, 2, ... without gaps */
            assert_true(total < cap);
            memcpy(ids[total++], page[i].id, STORE_ASSET_ID_MAX);
            after = pos[i];
        }
    }
    return total;
}

static int64_t count_where_league(fixture_t *f, const char *table, const char *league_id)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE league_id = '%s'", table, league_id);
    return query_i64(f, sql);
}

/* ---- create and read ----------------------------------------------------------------------- */

static void create_then_get_round_trips(void **state)
{
    fixture_t *f = *state;
    store_league_t lg = league_of("lg-1", "u-alice", "ABCDEFGHJK", "MNPQRSTUVW");
    snprintf(lg.name, sizeof(lg.name), "Ligue d\xe2\x80\x99\xc3\xa9t\xc3\xa9 \xe2\x9a\xbd");
    lg.settings = settings_unusual();
    lg.created_ms = T0 + 123;
    assert_int_equal(0, store_league_create(f->store, &lg));
    assert_int_equal(1, commits.calls); /* its own transaction, committed through store_tx_commit */
    assert_true(commits.last_us >= 0);

    store_league_t got;
    assert_int_equal(0, store_league_get(f->store, "lg-1", &got));
    assert_league_equal(&lg, &got);
    assert_string_equal("setup", got.status);
    assert_int_equal(1, got.member_count);
    assert_int_equal(0, got.spectator_count);

    store_member_t m;
    assert_int_equal(0, store_member_get(f->store, "lg-1", "u-alice", &m));
    assert_int_equal(STORE_ROLE_COMMISSIONER, m.role);
    assert_int_equal(T0 + 123, m.joined_ms);
    assert_string_equal("User alice", m.name);
}

static void default_selection_is_the_competition_by_name(void **state)
{
    fixture_t *f = *state;
    store_league_t lg = league_of("lg-1", "u-alice", "ABCDEFGHJK", "MNPQRSTUVW");
    assert_int_equal(0, store_league_create(f->store, &lg));
    char ids[16][STORE_ASSET_ID_MAX];
    assert_int_equal(AFCON_N, selection_of(f, "lg-1", 100, ids, 16));
    for (size_t i = 0; i < AFCON_N; i++)
        assert_string_equal(afcon_order[i], ids[i]);
    int count = -1;
    assert_int_equal(0, store_league_assets_count(f->store, "lg-1", &count));
    assert_int_equal(AFCON_N, count);

    /* Every field of an asset, its competitions as a sorted JSON array. */
    store_asset_t a[2];
    int pos[2];
    size_t n = 0;
    int more = 0;
    assert_int_equal(0, store_league_assets_list(f->store, "lg-1", 0, 1, a, pos, 2, &n, &more));
    assert_int_equal(1, n);
    assert_int_equal(1, more);
    assert_int_equal(1, pos[0]);
    assert_string_equal("fb-ars", a[0].id);
    assert_string_equal("football", a[0].sport);
    assert_string_equal("Arsenal", a[0].name);
    assert_string_equal("ARS", a[0].short_name);
    assert_string_equal("England", a[0].country);
    assert_string_equal("Arsenal", a[0].team);
    assert_string_equal("club", a[0].role);
    assert_string_equal("{\"footballData\":\"57\"}", a[0].provider_ids);
    assert_string_equal("[\"AFCON-2025\",\"EPL-2025\"]", a[0].competitions);

    /* Another competition, another default; an empty competition gives an empty selection. */
    store_league_t epl = league_of("lg-2", "u-bob", "EPLINVITE2", "EPLWATCH22");
    snprintf(epl.competition, sizeof(epl.competition), "EPL-2025");
    assert_int_equal(0, store_league_create(f->store, &epl));
    assert_int_equal(2, selection_of(f, "lg-2", 1, ids, 16));
    assert_string_equal("fb-ars", ids[0]);
    assert_string_equal("fb-che", ids[1]);
    store_league_t none = league_of("lg-3", "u-bob", "EMPTYINV33", "EMPTYWAT33");
    snprintf(none.competition, sizeof(none.competition), "EMPTY-2025");
    assert_int_equal(0, store_league_create(f->store, &none));
    assert_int_equal(0, selection_of(f, "lg-3", 5, ids, 16));
}

/* The name order folds ASCII case only (SQLite's NOCASE), then compares bytes: "\xc3\x89bc"
 * (E acute, C3 89) sorts before "\xc3\xa9ab" (e acute, C3 A9), which full case folding would
 * put first. */
static void default_selection_folds_ascii_case_only(void **state)
{
    fixture_t *f = *state;
    exec_sql(f, "INSERT INTO competitions(code, sport, name, season) VALUES"
                "('ACCENT-2025', 'football', 'Accents', '2025')");
    exec_sql(f, "INSERT INTO assets(id, sport, name, updated_ms) VALUES"
                "('na-1', 'football', '\xc3\x89"
                "bc', 1), ('na-2', 'football', '\xc3\xa9"
                "ab', 1),"
                "('na-3', 'football', 'Zed', 1), ('na-4', 'football', 'alpha', 1)");
    exec_sql(f, "INSERT INTO asset_competitions(competition, asset_id) VALUES"
                "('ACCENT-2025', 'na-1'), ('ACCENT-2025', 'na-2'), ('ACCENT-2025', 'na-3'),"
                "('ACCENT-2025', 'na-4')");
    store_league_t lg = league_of("lg-1", "u-alice", "ABCDEFGHJK", "MNPQRSTUVW");
    snprintf(lg.competition, sizeof(lg.competition), "ACCENT-2025");
    assert_int_equal(0, store_league_create(f->store, &lg));
    char ids[8][STORE_ASSET_ID_MAX];
    assert_int_equal(4, selection_of(f, "lg-1", 3, ids, 8));
    const char *want[] = {"na-4", "na-3", "na-1", "na-2"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(want[i], ids[i]);
}

/* Nothing of a refused league is in any table, and lg-1 is as it was. */
static void assert_only_lg1(fixture_t *f)
{
    assert_int_equal(1, query_i64(f, "SELECT count(*) FROM leagues"));
    assert_int_equal(1, query_i64(f, "SELECT count(*) FROM league_members"));
    assert_int_equal(AFCON_N, query_i64(f, "SELECT count(*) FROM league_assets"));
    store_league_t got;
    assert_int_equal(0, store_league_get(f->store, "lg-1", &got));
    assert_string_equal("League lg-1", got.name);
    assert_string_equal("u-alice", got.commissioner_id);
}

static void taken_id_or_code_is_a_conflict_and_writes_nothing(void **state)
{
    fixture_t *f = *state;
    store_league_t a = league_of("lg-1", "u-alice", "INVITEAAAA", "WATCHAAAAA");
    assert_int_equal(0, store_league_create(f->store, &a));
    const char *clash[][3] = {
        {"lg-2", "INVITEAAAA", "WATCHBBBBB"}, /* same invite code */
        {"lg-2", "INVITEBBBB", "WATCHAAAAA"}, /* same watch code */
        {"lg-2", "WATCHAAAAA", "WATCHBBBBB"}, /* invite = another league's watch code */
        {"lg-2", "INVITEBBBB", "INVITEAAAA"}, /* watch = another league's invite code */
        {"lg-2", "SAMESAMESA", "SAMESAMESA"}, /* one code for both */
        {"lg-1", "INVITEBBBB", "WATCHBBBBB"}, /* same id */
    };
    for (size_t i = 0; i < sizeof(clash) / sizeof(clash[0]); i++) {
        store_league_t b = league_of(clash[i][0], "u-bob", clash[i][1], clash[i][2]);
        assert_int_equal(GV_ECONFLICT, store_league_create(f->store, &b));
        assert_only_lg1(f);
        assert_non_null(store_errmsg(f->store));
    }
    store_league_t b = league_of("lg-2", "u-bob", "INVITEBBBB", "WATCHBBBBB");
    assert_int_equal(0, store_league_create(f->store, &b));
}

static void unknown_reference_is_invalid_and_writes_nothing(void **state)
{
    fixture_t *f = *state;
    store_league_t a = league_of("lg-1", "u-alice", "INVITEAAAA", "WATCHAAAAA");
    assert_int_equal(0, store_league_create(f->store, &a));
    for (int i = 0; i < 3; i++) {
        store_league_t b = league_of("lg-2", "u-bob", "INVITEBBBB", "WATCHBBBBB");
        if (i == 0)
            snprintf(b.sport, sizeof(b.sport), "curling");
        else if (i == 1)
            snprintf(b.competition, sizeof(b.competition), "NOPE-2025");
        else
            snprintf(b.commissioner_id, sizeof(b.commissioner_id), "u-nobody");
        assert_int_equal(GV_EINVALID_REQUEST, store_league_create(f->store, &b));
        assert_only_lg1(f);
    }
}

/* A failure after the league row was written (the selection refused by a trigger) undoes the
 * whole create: alone, and inside a caller's transaction whose other work survives. */
static void late_failure_rolls_back_the_whole_create(void **state)
{
    fixture_t *f = *state;
    exec_sql(f, backend_sql("CREATE TRIGGER refuse_selection BEFORE INSERT ON league_assets "
                            "WHEN NEW.league_id = 'lg-bad' BEGIN SELECT RAISE(ABORT, 'refused'); "
                            "END",
                            "CREATE FUNCTION refuse_selection() RETURNS trigger LANGUAGE plpgsql "
                            "AS $$ BEGIN IF NEW.league_id = 'lg-bad' THEN RAISE EXCEPTION "
                            "'refused' USING ERRCODE = 'integrity_constraint_violation'; END IF; "
                            "RETURN NEW; END $$; CREATE TRIGGER refuse_selection BEFORE INSERT "
                            "ON league_assets FOR EACH ROW EXECUTE FUNCTION refuse_selection()"));
    store_league_t bad = league_of("lg-bad", "u-alice", "BADINVITE1", "BADWATCH11");
    assert_int_equal(GV_EINVALID_REQUEST, store_league_create(f->store, &bad));
    assert_int_equal(0, query_i64(f, "SELECT count(*) FROM leagues"));
    assert_int_equal(0, query_i64(f, "SELECT count(*) FROM league_members"));
    assert_int_equal(0, tx_open(f)); /* no transaction left open */
    assert_int_equal(0, commits.calls);

    store_league_t ok1 = league_of("lg-ok1", "u-alice", "OKINVITE11", "OKWATCH111");
    store_league_t ok2 = league_of("lg-ok2", "u-bob", "OKINVITE22", "OKWATCH222");
    assert_int_equal(0, store_tx_begin(f->store));
    assert_int_equal(0, store_league_create(f->store, &ok1));
    assert_int_equal(GV_EINVALID_REQUEST, store_league_create(f->store, &bad));
    assert_int_equal(1, tx_open(f)); /* the caller's is still open */
    assert_int_equal(GV_ECONFLICT, store_league_create(f->store, &ok1));
    assert_int_equal(0, store_league_create(f->store, &ok2));
    assert_int_equal(0, commits.calls); /* nothing committed behind the caller's back */
    assert_int_equal(0, store_tx_commit(f->store));
    assert_int_equal(1, commits.calls);

    store_league_t got;
    assert_int_equal(GV_ENOT_FOUND, store_league_get(f->store, "lg-bad", &got));
    assert_int_equal(0, store_league_get(f->store, "lg-ok1", &got));
    assert_int_equal(1, got.member_count);
    assert_int_equal(0, store_league_get(f->store, "lg-ok2", &got));
    assert_int_equal(2, query_i64(f, "SELECT count(*) FROM league_members"));
    assert_int_equal(2 * AFCON_N, query_i64(f, "SELECT count(*) FROM league_assets"));

    /* A caller's rollback takes a create made inside its transaction with it. */
    store_league_t ok3 = league_of("lg-ok3", "u-bob", "OKINVITE33", "OKWATCH333");
    assert_int_equal(0, store_tx_begin(f->store));
    assert_int_equal(0, store_league_create(f->store, &ok3));
    assert_int_equal(0, store_tx_rollback(f->store));
    assert_int_equal(GV_ENOT_FOUND, store_league_get(f->store, "lg-ok3", &got));
}

/* ---- walking a sport ----------------------------------------------------------------------- */

/* What each_visit saw; it stops the walk (returning 42) after stop_after leagues. */
typedef struct {
    store_t *store;
    int seen;
    int stop_after;
    int added; /* carol joined a league she was not in */
    char ids[8][STORE_ID_MAX];
} walk_t;

/* Records the league and writes to the store meanwhile: carol joins it as a spectator (or is
 * found there already). */
static int each_visit(void *ctx, const store_league_t *lg)
{
    walk_t *w = ctx;
    assert_true(w->seen < 8);
    memcpy(w->ids[w->seen++], lg->id, STORE_ID_MAX);
    assert_string_equal("football", lg->sport);
    int rc = store_member_add(w->store, lg->id, "u-carol", STORE_ROLE_SPECTATOR, 8, T0);
    assert_true(rc == 0 || rc == 1);
    w->added += rc == 0;
    return w->seen == w->stop_after ? 42 : 0;
}

static void leagues_each_walks_a_sport_by_id_and_counts_all(void **state)
{
    fixture_t *f = *state;
    const char *ids[] = {"lg-b", "lg-B", "lg-a", "lg-c"}; /* byte order: lg-B, lg-a, lg-b, lg-c */
    for (size_t i = 0; i < 4; i++) {
        char inv[16], wat[16];
        snprintf(inv, sizeof(inv), "EINV%06zu", i);
        snprintf(wat, sizeof(wat), "EWAT%06zu", i);
        store_league_t lg = league_of(ids[i], "u-alice", inv, wat);
        assert_int_equal(0, store_league_create(f->store, &lg));
    }
    int64_t count = -1;
    assert_int_equal(0, store_league_count(f->store, &count));
    assert_int_equal(4, count);

    walk_t w = {.store = f->store, .stop_after = 0};
    assert_int_equal(0, store_leagues_each(f->store, "football", each_visit, &w));
    assert_int_equal(4, w.seen);
    assert_int_equal(4, w.added);
    const char *want[] = {"lg-B", "lg-a", "lg-b", "lg-c"};
    for (int i = 0; i < 4; i++)
        assert_string_equal(want[i], w.ids[i]);
    assert_int_equal(4, query_i64(f, "SELECT count(*) FROM league_members "
                                     "WHERE user_id = 'u-carol' AND role = 'spectator'"));

    walk_t stop = {.store = f->store, .stop_after = 2};
    assert_int_equal(42, store_leagues_each(f->store, "football", each_visit, &stop));
    assert_int_equal(2, stop.seen);
    assert_int_equal(0, stop.added);
    assert_string_equal("lg-a", stop.ids[1]);
    walk_t none = {.store = f->store};
    assert_int_equal(0, store_leagues_each(f->store, "cricket", each_visit, &none));
    assert_int_equal(0, none.seen);
}

/* ---- codes --------------------------------------------------------------------------------- */

static void code_matches_exactly_and_nothing_else(void **state)
{
    fixture_t *f = *state;
    store_league_t a = league_of("lg-1", "u-alice", "ABCDEFGHJK", "MNPQRSTUVW");
    store_league_t b = league_of("lg-2", "u-bob", "ZYXWVUTSRQ", "PNMKJHGFED");
    assert_int_equal(0, store_league_create(f->store, &a));
    assert_int_equal(0, store_league_create(f->store, &b));
    store_league_t got;
    assert_int_equal(0, store_league_by_code(f->store, "ABCDEFGHJK", 0, &got));
    assert_string_equal("lg-1", got.id);
    assert_int_equal(1, got.member_count);
    assert_int_equal(0, store_league_by_code(f->store, "MNPQRSTUVW", 1, &got));
    assert_string_equal("lg-1", got.id);
    assert_int_equal(0, store_league_by_code(f->store, "PNMKJHGFED", 1, &got));
    assert_string_equal("lg-2", got.id);
    /* The other kind of code, patterns, prefixes, case and padding find nothing. */
    assert_int_equal(GV_ENOT_FOUND, store_league_by_code(f->store, "ABCDEFGHJK", 1, &got));
    assert_int_equal(GV_ENOT_FOUND, store_league_by_code(f->store, "MNPQRSTUVW", 0, &got));
    const char *wrong[] = {"%",
                           ".*",
                           "*",
                           "ABCDEFGHJ",
                           "ABCDEFGHJ%",
                           "ABCDEFGHJ_",
                           "ABCDEFGHJ*",
                           "[A]BCDEFGHJK",
                           "abcdefghjk",
                           "ABCDEFGHJK ",
                           " ABCDEFGHJK",
                           "ABCDEFGHJK%",
                           "^ABCDEFGHJK",
                           "(.*)",
                           "",
                           "A"};
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        assert_int_equal(GV_ENOT_FOUND, store_league_by_code(f->store, wrong[i], 0, &got));
        assert_int_equal(GV_ENOT_FOUND, store_league_by_code(f->store, wrong[i], 1, &got));
    }
    char longer[200];
    memset(longer, 'A', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(GV_ENOT_FOUND, store_league_by_code(f->store, longer, 0, &got));
}

static void set_code_replaces_the_old_one_at_once(void **state)
{
    fixture_t *f = *state;
    store_league_t a = league_of("lg-1", "u-alice", "OLDINVITE1", "OLDWATCH11");
    store_league_t b = league_of("lg-2", "u-bob", "BINVITE222", "BWATCH2222");
    assert_int_equal(0, store_league_create(f->store, &a));
    assert_int_equal(0, store_league_create(f->store, &b));
    store_league_t got;
    assert_int_equal(0, store_league_set_code(f->store, "lg-1", 0, "NEWINVITE1"));
    assert_int_equal(GV_ENOT_FOUND, store_league_by_code(f->store, "OLDINVITE1", 0, &got));
    assert_int_equal(0, store_league_by_code(f->store, "NEWINVITE1", 0, &got));
    assert_string_equal("lg-1", got.id);
    assert_string_equal("NEWINVITE1", got.invite_code);
    assert_string_equal("OLDWATCH11", got.watch_code); /* the other code is untouched */

    assert_int_equal(0, store_league_set_code(f->store, "lg-1", 1, "NEWWATCH11"));
    assert_int_equal(GV_ENOT_FOUND, store_league_by_code(f->store, "OLDWATCH11", 1, &got));
    assert_int_equal(0, store_league_by_code(f->store, "NEWWATCH11", 1, &got));
    assert_string_equal("lg-1", got.id);
    assert_string_equal("NEWINVITE1", got.invite_code);

    /* Taken codes, of either kind and either league, are refused and change nothing. */
    assert_int_equal(GV_ECONFLICT, store_league_set_code(f->store, "lg-1", 0, "BINVITE222"));
    assert_int_equal(GV_ECONFLICT, store_league_set_code(f->store, "lg-1", 0, "BWATCH2222"));
    assert_int_equal(GV_ECONFLICT, store_league_set_code(f->store, "lg-1", 1, "BINVITE222"));
    assert_int_equal(GV_ECONFLICT, store_league_set_code(f->store, "lg-1", 1, "NEWINVITE1"));
    assert_int_equal(GV_ECONFLICT, store_league_set_code(f->store, "lg-1", 0, "NEWWATCH11"));
    assert_int_equal(0, store_league_get(f->store, "lg-1", &got));
    assert_string_equal("NEWINVITE1", got.invite_code);
    assert_string_equal("NEWWATCH11", got.watch_code);
    assert_int_equal(GV_ENOT_FOUND, store_league_set_code(f->store, "lg-9", 0, "FRESHCODE9"));
    assert_int_equal(GV_ENOT_FOUND, store_league_by_code(f->store, "FRESHCODE9", 0, &got));
}

/* ---- members ------------------------------------------------------------------------------- */

static void manager_seats_are_limited_and_spectators_are_not(void **state)
{
    fixture_t *f = *state;
    store_league_t lg = league_of("lg-1", "u-alice", "INVITEAAAA", "WATCHAAAAA");
    lg.settings.max_managers = 3;
    assert_int_equal(0, store_league_create(f->store, &lg));
    char tag[16];
    for (int i = 0; i < 8; i++) {
        snprintf(tag, sizeof(tag), "m%d", i);
        make_user(f, tag);
    }
    assert_int_equal(0, store_member_add(f->store, "lg-1", "u-m0", STORE_ROLE_MANAGER, 3, T0 + 1));
    assert_int_equal(0, store_member_add(f->store, "lg-1", "u-m1", STORE_ROLE_MANAGER, 3, T0 + 2));
    assert_int_equal(GV_ECONFLICT,
                     store_member_add(f->store, "lg-1", "u-m2", STORE_ROLE_MANAGER, 3, T0 + 3));
    store_member_t m;
    assert_int_equal(GV_ENOT_FOUND, store_member_get(f->store, "lg-1", "u-m2", &m));
    for (int i = 2; i < 8; i++) {
        snprintf(tag, sizeof(tag), "u-m%d", i);
        assert_int_equal(
            0, store_member_add(f->store, "lg-1", tag, STORE_ROLE_SPECTATOR, 3, T0 + 10 + i));
    }
    store_league_t got;
    assert_int_equal(0, store_league_get(f->store, "lg-1", &got));
    assert_int_equal(3, got.member_count);
    assert_int_equal(6, got.spectator_count);

    /* Existing members are reported and left as they were, whatever role is asked for. */
    assert_int_equal(1, store_member_add(f->store, "lg-1", "u-m0", STORE_ROLE_SPECTATOR, 3, T0));
    assert_int_equal(1, store_member_add(f->store, "lg-1", "u-m2", STORE_ROLE_MANAGER, 99, T0));
    assert_int_equal(1, store_member_add(f->store, "lg-1", "u-alice", STORE_ROLE_MANAGER, 3, T0));
    assert_int_equal(0, store_member_get(f->store, "lg-1", "u-m0", &m));
    assert_int_equal(STORE_ROLE_MANAGER, m.role);
    assert_int_equal(T0 + 1, m.joined_ms);
    assert_int_equal(0, store_member_get(f->store, "lg-1", "u-m2", &m));
    assert_int_equal(STORE_ROLE_SPECTATOR, m.role);
    assert_int_equal(0, store_member_get(f->store, "lg-1", "u-alice", &m));
    assert_int_equal(STORE_ROLE_COMMISSIONER, m.role);

    /* A seat freed is a seat taken again. */
    assert_int_equal(0, store_member_remove(f->store, "lg-1", "u-m1"));
    assert_int_equal(GV_ENOT_FOUND, store_member_remove(f->store, "lg-1", "u-m1"));
    assert_int_equal(0, store_member_add(f->store, "lg-1", "u-bob", STORE_ROLE_MANAGER, 3, T0));
    assert_int_equal(0, store_league_get(f->store, "lg-1", &got));
    assert_int_equal(3, got.member_count);

    assert_int_equal(GV_ENOT_FOUND,
                     store_member_add(f->store, "lg-9", "u-carol", STORE_ROLE_MANAGER, 3, T0));
    assert_int_equal(GV_ENOT_FOUND,
                     store_member_add(f->store, "lg-9", "u-carol", STORE_ROLE_SPECTATOR, 3, T0));
    assert_int_equal(GV_EINVALID_REQUEST,
                     store_member_add(f->store, "lg-1", "u-nobody", STORE_ROLE_SPECTATOR, 3, T0));
}

static void spectator_is_promoted_only_to_a_free_seat(void **state)
{
    fixture_t *f = *state;
    store_league_t lg = league_of("lg-1", "u-alice", "INVITEAAAA", "WATCHAAAAA");
    assert_int_equal(0, store_league_create(f->store, &lg));
    assert_int_equal(0, store_member_add(f->store, "lg-1", "u-bob", STORE_ROLE_SPECTATOR, 2, T0));
    assert_int_equal(0, store_member_add(f->store, "lg-1", "u-carol", STORE_ROLE_SPECTATOR, 2, T0));
    assert_int_equal(0, store_member_promote(f->store, "lg-1", "u-bob", 2));
    store_member_t m;
    assert_int_equal(0, store_member_get(f->store, "lg-1", "u-bob", &m));
    assert_int_equal(STORE_ROLE_MANAGER, m.role);
    assert_int_equal(GV_ECONFLICT, store_member_promote(f->store, "lg-1", "u-carol", 2));
    assert_int_equal(0, store_member_get(f->store, "lg-1", "u-carol", &m));
    assert_int_equal(STORE_ROLE_SPECTATOR, m.role);
    assert_int_equal(1, store_member_promote(f->store, "lg-1", "u-bob", 8));
    assert_int_equal(1, store_member_promote(f->store, "lg-1", "u-alice", 8));
    assert_int_equal(0, store_member_get(f->store, "lg-1", "u-alice", &m));
    assert_int_equal(STORE_ROLE_COMMISSIONER, m.role);
    assert_int_equal(GV_ENOT_FOUND, store_member_promote(f->store, "lg-1", "u-nobody", 2));
    assert_int_equal(GV_ENOT_FOUND, store_member_promote(f->store, "lg-9", "u-bob", 2));
    store_league_t got;
    assert_int_equal(0, store_league_get(f->store, "lg-1", &got));
    assert_int_equal(2, got.member_count);
    assert_int_equal(1, got.spectator_count);
}

static void member_names_follow_a_rename(void **state)
{
    fixture_t *f = *state;
    store_league_t lg = league_of("lg-1", "u-alice", "INVITEAAAA", "WATCHAAAAA");
    assert_int_equal(0, store_league_create(f->store, &lg));
    assert_int_equal(0, store_member_add(f->store, "lg-1", "u-bob", STORE_ROLE_MANAGER, 8, T0 + 1));
    assert_int_equal(0, store_user_set_name(f->store, "u-bob", "Robert"));
    assert_int_equal(0, store_user_set_name(f->store, "u-alice", "Al"));
    store_member_t m[4];
    assert_int_equal(0, store_member_get(f->store, "lg-1", "u-bob", &m[0]));
    assert_string_equal("Robert", m[0].name);
    size_t n = 0;
    int more = 1;
    assert_int_equal(0, store_members_list(f->store, "lg-1", 0, 0, "", 4, m, 4, &n, &more));
    assert_int_equal(2, n);
    assert_int_equal(0, more);
    assert_string_equal("u-alice", m[0].user_id);
    assert_string_equal("Al", m[0].name);
    assert_string_equal("u-bob", m[1].user_id);
    assert_string_equal("Robert", m[1].name);
}

/* Pages members of lg-1 (which) by limit 7; checks the order and counts the roles seen. */
static size_t members_paged(fixture_t *f, int which, int *spectators, char seen[][STORE_ID_MAX])
{
    store_member_t page[7];
    size_t total = 0;
    int64_t after_ms = 0;
    char after_id[STORE_ID_MAX] = "";
    *spectators = 0;
    for (int more = 1; more;) {
        size_t n = 0;
        assert_int_equal(0, store_members_list(f->store, "lg-1", which, after_ms, after_id, 7, page,
                                               7, &n, &more));
        assert_true(n == 7 || !more);
        for (size_t i = 0; i < n; i++) {
            /* strictly after the previous row: no repeat, no reordering */
            assert_true(total == 0 || page[i].joined_ms > after_ms ||
                        (page[i].joined_ms == after_ms && strcmp(page[i].user_id, after_id) > 0));
            *spectators += page[i].role == STORE_ROLE_SPECTATOR;
            after_ms = page[i].joined_ms;
            memcpy(after_id, page[i].user_id, sizeof(after_id));
            memcpy(seen[total++], page[i].user_id, STORE_ID_MAX);
        }
    }
    return total;
}

static void members_list_filters_and_pages_without_loss(void **state)
{
    fixture_t *f = *state;
    store_league_t lg = league_of("lg-1", "u-alice", "INVITEAAAA", "WATCHAAAAA");
    lg.settings.max_managers = 64;
    assert_int_equal(0, store_league_create(f->store, &lg));
    /* 129 more: 63 managers fill the seats, 66 spectators; joined_ms repeats so that the user id
     * breaks ties, and ids are added out of order. */
    assert_int_equal(0, store_tx_begin(f->store));
    for (int k = 0; k < 129; k++) {
        int i = (k * 37) % 129;
        char tag[16], id[STORE_ID_MAX];
        snprintf(tag, sizeof(tag), "p%03d", i);
        snprintf(id, sizeof(id), "u-%s", tag);
        make_user(f, tag);
        store_role_t role = i % 2 == 0 && i < 126 ? STORE_ROLE_MANAGER : STORE_ROLE_SPECTATOR;
        assert_int_equal(0, store_member_add(f->store, "lg-1", id, role, 64, T0 + i % 5));
    }
    assert_int_equal(0, store_tx_commit(f->store));

    static char seen[200][STORE_ID_MAX];
    int spectators = 0;
    assert_int_equal(130, members_paged(f, 2, &spectators, seen));
    assert_int_equal(66, spectators);
    for (size_t i = 0; i < 130; i++) /* each exactly once */
        for (size_t j = i + 1; j < 130; j++)
            assert_string_not_equal(seen[i], seen[j]);
    assert_int_equal(64, members_paged(f, 0, &spectators, seen));
    assert_int_equal(0, spectators);
    assert_string_equal("u-alice", seen[0]); /* T0, and "u-alice" < "u-p..." */
    assert_int_equal(66, members_paged(f, 1, &spectators, seen));
    assert_int_equal(66, spectators);

    store_league_t got;
    assert_int_equal(0, store_league_get(f->store, "lg-1", &got));
    assert_int_equal(64, got.member_count);
    assert_int_equal(66, got.spectator_count);
}

/* ---- races between connections ------------------------------------------------------------ */

#define RACERS 6
#define ROUNDS 8

/* One thread on a connection of its own: at each round's start, one call of op. */
typedef struct racer_s {
    store_t *store;
    pthread_barrier_t *go;
    int t; /* which racer */
    int (*op)(const struct racer_s *r, int round);
    int rc[ROUNDS];
} racer_t;

static void *racer_main(void *arg)
{
    racer_t *r = arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_barrier_wait(r->go);
        r->rc[i] = r->op(r, i);
    }
    return NULL;
}

/* Runs RACERS threads of op, each on its own store on f's database, for ROUNDS rounds; rc[t][i]
 * is racer t's result in round i. */
static void race(fixture_t *f, int (*op)(const racer_t *r, int round), int rc[RACERS][ROUNDS])
{
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, RACERS);
    racer_t racers[RACERS];
    pthread_t tids[RACERS];
    for (int t = 0; t < RACERS; t++) {
        racers[t] = (racer_t){.store = NULL, .go = &go, .t = t, .op = op};
        assert_int_equal(0, backend_db_open(&f->db, &racers[t].store));
    }
    for (int t = 0; t < RACERS; t++)
        assert_int_equal(0, pthread_create(&tids[t], NULL, racer_main, &racers[t]));
    for (int t = 0; t < RACERS; t++)
        pthread_join(tids[t], NULL);
    pthread_barrier_destroy(&go);
    for (int t = 0; t < RACERS; t++) {
        memcpy(rc[t], racers[t].rc, sizeof(racers[t].rc));
        store_close(racers[t].store);
    }
}

/* Round i's league is "lg-r<i>"; racer t's user "u-r<t>". */
static void racer_ids(int t, int round, char league[16], char user[16])
{
    snprintf(league, 16, "lg-r%d", round);
    snprintf(user, 16, "u-r%d", t);
}

/* Even racers join as managers; odd ones, spectators already, ask to be promoted. */
static int seat_op(const racer_t *r, int round)
{
    char league[16], user[16];
    racer_ids(r->t, round, league, user);
    if (r->t % 2 == 0)
        return store_member_add(r->store, league, user, STORE_ROLE_MANAGER, 3, T0 + round);
    return store_member_promote(r->store, league, user, 3);
}

static void last_seats_are_taken_once_by_racing_connections(void **state)
{
    fixture_t *f = *state;
    char league[16], user[16], inv[16], wat[16];
    for (int t = 0; t < RACERS; t++) {
        snprintf(user, sizeof(user), "r%d", t);
        make_user(f, user);
    }
    /* Each round's league: the commissioner and two free seats for six who want one. */
    for (int i = 0; i < ROUNDS; i++) {
        racer_ids(0, i, league, user);
        snprintf(inv, sizeof(inv), "RINV%06d", i);
        snprintf(wat, sizeof(wat), "RWAT%06d", i);
        store_league_t lg = league_of(league, "u-alice", inv, wat);
        lg.settings.max_managers = 3;
        assert_int_equal(0, store_league_create(f->store, &lg));
        for (int t = 1; t < RACERS; t += 2) {
            racer_ids(t, i, league, user);
            assert_int_equal(0,
                             store_member_add(f->store, league, user, STORE_ROLE_SPECTATOR, 3, T0));
        }
    }
    int rc[RACERS][ROUNDS];
    race(f, seat_op, rc);
    for (int i = 0; i < ROUNDS; i++) {
        int seated = 0, promoted = 0;
        for (int t = 0; t < RACERS; t++) {
            assert_true(rc[t][i] == 0 || rc[t][i] == GV_ECONFLICT);
            seated += rc[t][i] == 0;
            promoted += rc[t][i] == 0 && t % 2 == 1;
        }
        assert_int_equal(2, seated);
        store_league_t got;
        racer_ids(0, i, league, user);
        assert_int_equal(0, store_league_get(f->store, league, &got));
        assert_int_equal(3, got.member_count);
        assert_int_equal(RACERS / 2 - promoted, got.spectator_count);
        for (int t = 0; t < RACERS; t++) { /* each racer's outcome is what is stored */
            store_member_t m;
            racer_ids(t, i, league, user);
            int found = store_member_get(f->store, league, user, &m);
            if (rc[t][i] == 0)
                assert_true(found == 0 && m.role == STORE_ROLE_MANAGER);
            else if (t % 2 == 0)
                assert_int_equal(GV_ENOT_FOUND, found);
            else
                assert_true(found == 0 && m.role == STORE_ROLE_SPECTATOR);
        }
    }
}

/* Racer t gives league "lg-c<t>" the code of round i, as its invite code (t even) or watch
 * code (t odd). */
static int code_op(const racer_t *r, int round)
{
    char league[16], code[16];
    snprintf(league, sizeof(league), "lg-c%d", r->t);
    snprintf(code, sizeof(code), "RACED%05d", round);
    return store_league_set_code(r->store, league, r->t % 2, code);
}

static void a_raced_code_is_given_once(void **state)
{
    fixture_t *f = *state;
    for (int t = 0; t < RACERS; t++) {
        char league[16], inv[16], wat[16];
        snprintf(league, sizeof(league), "lg-c%d", t);
        snprintf(inv, sizeof(inv), "CINV%06d", t);
        snprintf(wat, sizeof(wat), "CWAT%06d", t);
        store_league_t lg = league_of(league, "u-alice", inv, wat);
        assert_int_equal(0, store_league_create(f->store, &lg));
    }
    int rc[RACERS][ROUNDS];
    race(f, code_op, rc);
    int winner[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
        int given = 0;
        for (int t = 0; t < RACERS; t++) {
            assert_true(rc[t][i] == 0 || rc[t][i] == GV_ECONFLICT);
            given += rc[t][i] == 0;
            if (rc[t][i] == 0)
                winner[i] = t;
        }
        assert_int_equal(1, given);
    }
    /* Round i's code is held by its winner's league, unless that racer won again later. */
    for (int i = 0; i < ROUNDS; i++) {
        int replaced = 0;
        for (int j = i + 1; j < ROUNDS; j++)
            replaced |= winner[j] == winner[i];
        char sql[200];
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM leagues WHERE (id = 'lg-c%d' AND %s = 'RACED%05d') "
                 "OR invite_code = 'RACED%05d' OR watch_code = 'RACED%05d'",
                 winner[i], winner[i] % 2 ? "watch_code" : "invite_code", i, i, i);
        assert_int_equal(replaced ? 0 : 1, query_i64(f, sql));
    }
    assert_int_equal(0, query_i64(f, "SELECT count(*) FROM (SELECT c FROM (SELECT invite_code "
                                     "AS c FROM leagues UNION ALL SELECT watch_code FROM leagues) "
                                     "x GROUP BY c HAVING count(*) > 1) y"));
}

/* ---- leagues of a user --------------------------------------------------------------------- */

#define MANY 1050

/* League i: alice is commissioner when i % 3 == 0, else bob is and alice is a manager
 * (i % 3 == 1) or a spectator (i % 3 == 2). Created in one transaction, ids out of order. */
static void make_many_leagues(fixture_t *f)
{
    assert_int_equal(0, store_tx_begin(f->store));
    for (int k = 0; k < MANY; k++) {
        int i = (k * 11) % MANY;
        char id[16], inv[16], wat[16];
        snprintf(id, sizeof(id), "lg-%04d", i);
        snprintf(inv, sizeof(inv), "INV%07d", i);
        snprintf(wat, sizeof(wat), "WAT%07d", i);
        store_league_t lg = league_of(id, i % 3 == 0 ? "u-alice" : "u-bob", inv, wat);
        snprintf(lg.competition, sizeof(lg.competition), "EMPTY-2025");
        assert_int_equal(0, store_league_create(f->store, &lg));
        if (i % 3 != 0)
            assert_int_equal(
                0, store_member_add(f->store, id, "u-alice",
                                    i % 3 == 1 ? STORE_ROLE_MANAGER : STORE_ROLE_SPECTATOR, 8,
                                    T0 + 1));
    }
    assert_int_equal(0, store_tx_commit(f->store));
}

/* Pages user_id's leagues by limit; returns how many, checking order and each role. */
static int leagues_paged(fixture_t *f, const char *user_id, int limit, int alice)
{
    static store_my_league_t page[PAGE_MAX];
    char after[STORE_ID_MAX] = "";
    int total = 0;
    for (int more = 1; more;) {
        size_t n = 0;
        assert_int_equal(
            0, store_leagues_for_user(f->store, user_id, after, limit, page, PAGE_MAX, &n, &more));
        assert_true(n == (size_t)limit || !more);
        for (size_t j = 0; j < n; j++) {
            const store_league_t *lg = &page[j].league;
            assert_true(strcmp(lg->id, after) > 0);
            int i = atoi(lg->id + 3);
            store_role_t want = i % 3 == 0 ? STORE_ROLE_COMMISSIONER
                                : alice ? (i % 3 == 1 ? STORE_ROLE_MANAGER : STORE_ROLE_SPECTATOR)
                                        : STORE_ROLE_COMMISSIONER;
            assert_int_equal(want, page[j].role);
            assert_int_equal(i % 3 == 1 ? 2 : 1, lg->member_count);
            assert_int_equal(i % 3 == 2 ? 1 : 0, lg->spectator_count);
            memcpy(after, lg->id, sizeof(after));
            total++;
        }
    }
    return total;
}

static void leagues_for_user_pages_through_all(void **state)
{
    fixture_t *f = *state;
    make_many_leagues(f);
    assert_int_equal(MANY, leagues_paged(f, "u-alice", 100, 1));
    assert_int_equal(MANY, leagues_paged(f, "u-alice", 7, 1));
    assert_int_equal(MANY * 2 / 3, leagues_paged(f, "u-bob", 100, 0));
    assert_int_equal(0, leagues_paged(f, "u-carol", 100, 0));

    /* The league found by code among the many is the right one. */
    store_league_t got;
    assert_int_equal(0, store_league_by_code(f->store, "INV0000777", 0, &got));
    assert_string_equal("lg-0777", got.id);
    assert_int_equal(0, store_league_by_code(f->store, "WAT0000778", 1, &got));
    assert_string_equal("lg-0778", got.id);
}

/* ---- asset selection ----------------------------------------------------------------------- */

#define EXTRA 40

/* Adds EXTRA football assets x000.. to the catalogue. */
static void make_extra_assets(fixture_t *f)
{
    for (int i = 0; i < EXTRA; i++) {
        char sql[200];
        snprintf(sql, sizeof(sql),
                 "INSERT INTO assets(id, sport, name, updated_ms) VALUES('x%03d', 'football', "
                 "'Extra %03d', 1)",
                 i, i);
        exec_sql(f, sql);
    }
}

static void assets_set_keeps_order_and_pages(void **state)
{
    fixture_t *f = *state;
    make_extra_assets(f);
    store_league_t lg = league_of("lg-1", "u-alice", "INVITEAAAA", "WATCHAAAAA");
    assert_int_equal(0, store_league_create(f->store, &lg));
    store_league_t other = league_of("lg-2", "u-bob", "INVITEBBBB", "WATCHBBBBB");
    assert_int_equal(0, store_league_create(f->store, &other));

    char idbuf[EXTRA][8];
    const char *ids[EXTRA];
    for (int k = 0; k < EXTRA; k++) { /* an order that is neither by id nor by name */
        snprintf(idbuf[k], sizeof(idbuf[k]), "x%03d", (k * 13) % EXTRA);
        ids[k] = idbuf[k];
    }
    commits.calls = 0;
    assert_int_equal(0, store_league_assets_set(f->store, "lg-1", ids, EXTRA));
    assert_int_equal(1, commits.calls);
    static char got[64][STORE_ASSET_ID_MAX];
    for (int limit = 1; limit <= 41; limit += 6) {
        assert_int_equal(EXTRA, selection_of(f, "lg-1", limit, got, 64));
        for (int k = 0; k < EXTRA; k++)
            assert_string_equal(ids[k], got[k]);
    }
    int count = 0;
    assert_int_equal(0, store_league_assets_count(f->store, "lg-1", &count));
    assert_int_equal(EXTRA, count);
    assert_int_equal(AFCON_N, selection_of(f, "lg-2", 100, got, 64)); /* the other untouched */

    /* A shorter selection replaces the longer one entirely; so does an empty one. */
    const char *three[] = {"fb-che", "x007", "fb-alg"};
    assert_int_equal(0, store_league_assets_set(f->store, "lg-1", three, 3));
    assert_int_equal(3, selection_of(f, "lg-1", 2, got, 64));
    for (int k = 0; k < 3; k++)
        assert_string_equal(three[k], got[k]);
    assert_int_equal(0, store_league_assets_set(f->store, "lg-1", NULL, 0));
    assert_int_equal(0, store_league_assets_count(f->store, "lg-1", &count));
    assert_int_equal(0, count);
    assert_int_equal(GV_ENOT_FOUND, store_league_assets_set(f->store, "lg-9", three, 3));
}

static void failed_assets_set_keeps_the_previous_selection(void **state)
{
    fixture_t *f = *state;
    store_league_t lg = league_of("lg-1", "u-alice", "INVITEAAAA", "WATCHAAAAA");
    assert_int_equal(0, store_league_create(f->store, &lg));
    static char got[16][STORE_ASSET_ID_MAX];
    const char *unknown[] = {"fb-che", "fb-nope"};
    const char *twice[] = {"fb-che", "fb-ars", "fb-che"};
    assert_int_equal(GV_EINVALID_REQUEST, store_league_assets_set(f->store, "lg-1", unknown, 2));
    assert_int_equal(GV_ECONFLICT, store_league_assets_set(f->store, "lg-1", twice, 3));
    assert_int_equal(0, tx_open(f));
    assert_int_equal(AFCON_N, selection_of(f, "lg-1", 4, got, 16));
    for (int k = 0; k < AFCON_N; k++)
        assert_string_equal(afcon_order[k], got[k]);

    /* Inside a caller's transaction: the failed call is undone, the caller's work is kept. */
    const char *two[] = {"fb-che", "fb-ars"};
    assert_int_equal(0, store_tx_begin(f->store));
    assert_int_equal(0, store_league_set_code(f->store, "lg-1", 0, "ROTATED000"));
    assert_int_equal(GV_EINVALID_REQUEST, store_league_assets_set(f->store, "lg-1", unknown, 2));
    assert_int_equal(AFCON_N, selection_of(f, "lg-1", 4, got, 16));
    assert_int_equal(0, store_league_assets_set(f->store, "lg-1", two, 2));
    assert_int_equal(0, store_tx_commit(f->store));
    assert_int_equal(2, selection_of(f, "lg-1", 4, got, 16));
    assert_string_equal("fb-che", got[0]);
    assert_string_equal("fb-ars", got[1]);
    store_league_t l;
    assert_int_equal(0, store_league_by_code(f->store, "ROTATED000", 0, &l));
}

/* ---- update and delete --------------------------------------------------------------------- */

static void update_writes_name_and_settings_only(void **state)
{
    fixture_t *f = *state;
    store_league_t lg = league_of("lg-1", "u-alice", "INVITEAAAA", "WATCHAAAAA");
    assert_int_equal(0, store_league_create(f->store, &lg));
    store_league_t upd = lg;
    snprintf(upd.name, sizeof(upd.name), "Renamed");
    upd.settings = settings_unusual();
    /* Fields update does not write: ignored. */
    snprintf(upd.invite_code, sizeof(upd.invite_code), "IGNORED111");
    snprintf(upd.commissioner_id, sizeof(upd.commissioner_id), "u-bob");
    upd.created_ms = 1;
    assert_int_equal(0, store_league_update(f->store, &upd));
    store_league_t got;
    assert_int_equal(0, store_league_get(f->store, "lg-1", &got));
    assert_string_equal("Renamed", got.name);
    assert_settings_equal(&upd.settings, &got.settings);
    assert_string_equal("INVITEAAAA", got.invite_code);
    assert_string_equal("u-alice", got.commissioner_id);
    assert_int_equal(T0, got.created_ms);

    upd.settings.lot_order_fixed = 0; /* and back */
    upd.settings.anti_snipe_seconds = 120;
    assert_int_equal(0, store_league_update(f->store, &upd));
    assert_int_equal(0, store_league_get(f->store, "lg-1", &got));
    assert_settings_equal(&upd.settings, &got.settings);

    store_league_t ghost = league_of("lg-9", "u-alice", "X", "Y");
    assert_int_equal(GV_ENOT_FOUND, store_league_update(f->store, &ghost));
}

static void delete_cascades_to_members_and_selection(void **state)
{
    fixture_t *f = *state;
    store_league_t a = league_of("lg-1", "u-alice", "INVITEAAAA", "WATCHAAAAA");
    store_league_t b = league_of("lg-2", "u-alice", "INVITEBBBB", "WATCHBBBBB");
    assert_int_equal(0, store_league_create(f->store, &a));
    assert_int_equal(0, store_league_create(f->store, &b));
    assert_int_equal(0, store_member_add(f->store, "lg-1", "u-bob", STORE_ROLE_MANAGER, 8, T0));
    assert_int_equal(0, store_member_add(f->store, "lg-1", "u-carol", STORE_ROLE_SPECTATOR, 8, T0));
    assert_int_equal(0, store_member_add(f->store, "lg-2", "u-bob", STORE_ROLE_MANAGER, 8, T0));
    assert_int_equal(3, count_where_league(f, "league_members", "lg-1"));
    assert_int_equal(AFCON_N, count_where_league(f, "league_assets", "lg-1"));

    assert_int_equal(0, store_league_delete(f->store, "lg-1"));
    store_league_t got;
    assert_int_equal(GV_ENOT_FOUND, store_league_get(f->store, "lg-1", &got));
    assert_int_equal(GV_ENOT_FOUND, store_league_by_code(f->store, "INVITEAAAA", 0, &got));
    assert_int_equal(0, count_where_league(f, "league_members", "lg-1"));
    assert_int_equal(0, count_where_league(f, "league_assets", "lg-1"));
    assert_int_equal(GV_ENOT_FOUND, store_league_delete(f->store, "lg-1"));

    /* The other league and the users are untouched. */
    assert_int_equal(0, store_league_get(f->store, "lg-2", &got));
    assert_int_equal(2, got.member_count);
    assert_int_equal(AFCON_N, count_where_league(f, "league_assets", "lg-2"));
    store_user_t u;
    assert_int_equal(0, store_user_get(f->store, "u-bob", &u));
    size_t n = 0;
    int more = 1;
    store_my_league_t mine[4];
    assert_int_equal(0, store_leagues_for_user(f->store, "u-bob", "", 4, mine, 4, &n, &more));
    assert_int_equal(1, n);
    assert_string_equal("lg-2", mine[0].league.id);
}

/* ---- arguments ----------------------------------------------------------------------------- */

static void bad_arguments_are_refused_before_the_database(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    store_league_t lg = league_of("lg-1", "u-alice", "INVITEAAAA", "WATCHAAAAA");
    assert_int_equal(GV_EINTERNAL, store_league_create(s, NULL));
    store_league_t bad = lg;
    memset(bad.name, 'n', sizeof(bad.name)); /* no room for the NUL */
    assert_int_equal(GV_ELIMIT, store_league_create(s, &bad));
    assert_int_equal(GV_ELIMIT, store_league_update(s, &bad));
    bad = lg;
    memset(bad.invite_code, 'C', sizeof(bad.invite_code));
    assert_int_equal(GV_ELIMIT, store_league_create(s, &bad));
    bad = lg;
    bad.watch_code[0] = '\0';
    assert_int_equal(GV_EINVALID_REQUEST, store_league_create(s, &bad));
    assert_int_equal(0, query_i64(f, "SELECT count(*) FROM leagues"));
    assert_int_equal(0, store_league_create(s, &lg));

    char longer[STORE_CODE_MAX + 1];
    memset(longer, 'C', STORE_CODE_MAX);
    longer[STORE_CODE_MAX] = '\0';
    assert_int_equal(GV_ELIMIT, store_league_set_code(s, "lg-1", 0, longer));
    assert_int_equal(GV_EINVALID_REQUEST, store_league_set_code(s, "lg-1", 0, ""));
    assert_int_equal(GV_EINTERNAL, store_league_set_code(s, "lg-1", 0, NULL));
    store_league_t got;
    assert_int_equal(GV_EINTERNAL, store_league_get(s, "lg-1", NULL));
    assert_int_equal(GV_EINTERNAL, store_league_get(s, NULL, &got));
    assert_int_equal(GV_EINTERNAL, store_league_by_code(s, NULL, 0, &got));
    assert_int_equal(GV_EINTERNAL, store_member_add(s, "lg-1", "u-bob", (store_role_t)7, 8, T0));

    store_my_league_t mine[4];
    store_member_t mem[4];
    store_asset_t assets[4];
    size_t n = 99;
    int more = 0;
    assert_int_equal(GV_EINVALID_REQUEST,
                     store_leagues_for_user(s, "u-alice", "", 0, mine, 4, &n, &more));
    assert_int_equal(GV_EINVALID_REQUEST,
                     store_leagues_for_user(s, "u-alice", "", 5, mine, 4, &n, &more));
    assert_int_equal(GV_EINTERNAL,
                     store_leagues_for_user(s, "u-alice", NULL, 4, mine, 4, &n, &more));
    assert_int_equal(GV_EINVALID_REQUEST,
                     store_members_list(s, "lg-1", 0, 0, "", 5, mem, 4, &n, &more));
    assert_int_equal(GV_EINTERNAL, store_members_list(s, "lg-1", 3, 0, "", 4, mem, 4, &n, &more));
    assert_int_equal(GV_EINVALID_REQUEST,
                     store_league_assets_list(s, "lg-1", -1, 5, assets, NULL, 4, &n, &more));
    assert_int_equal(GV_EINTERNAL,
                     store_league_assets_list(s, "lg-1", -1, 4, NULL, NULL, 4, &n, &more));

    /* Selection ids that could not be read back are refused, and nothing changes. */
    char long_id[STORE_ASSET_ID_MAX + 1];
    memset(long_id, 'a', STORE_ASSET_ID_MAX);
    long_id[STORE_ASSET_ID_MAX] = '\0';
    const char *ids[] = {"fb-che", long_id};
    assert_int_equal(GV_ELIMIT, store_league_assets_set(s, "lg-1", ids, 2));
    const char *with_null[] = {"fb-che", NULL};
    assert_int_equal(GV_EINTERNAL, store_league_assets_set(s, "lg-1", with_null, 2));
    assert_int_equal(GV_EINTERNAL, store_league_assets_set(s, "lg-1", NULL, 1));
    assert_int_equal(AFCON_N, count_where_league(f, "league_assets", "lg-1"));

    /* Paging works with more = NULL and pos = NULL. */
    assert_int_equal(0, store_league_assets_list(s, "lg-1", -1, 4, assets, NULL, 4, &n, NULL));
    assert_int_equal(4, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_then_get_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(default_selection_is_the_competition_by_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(default_selection_folds_ascii_case_only, setup, teardown),
        cmocka_unit_test_setup_teardown(taken_id_or_code_is_a_conflict_and_writes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unknown_reference_is_invalid_and_writes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(late_failure_rolls_back_the_whole_create, setup, teardown),
        cmocka_unit_test_setup_teardown(leagues_each_walks_a_sport_by_id_and_counts_all, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(code_matches_exactly_and_nothing_else, setup, teardown),
        cmocka_unit_test_setup_teardown(set_code_replaces_the_old_one_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(manager_seats_are_limited_and_spectators_are_not, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(spectator_is_promoted_only_to_a_free_seat, setup, teardown),
        cmocka_unit_test_setup_teardown(member_names_follow_a_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(members_list_filters_and_pages_without_loss, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(last_seats_are_taken_once_by_racing_connections, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_raced_code_is_given_once, setup, teardown),
        cmocka_unit_test_setup_teardown(leagues_for_user_pages_through_all, setup, teardown),
        cmocka_unit_test_setup_teardown(assets_set_keeps_order_and_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_assets_set_keeps_the_previous_selection, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(update_writes_name_and_settings_only, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_cascades_to_members_and_selection, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_arguments_are_refused_before_the_database, setup,
                                        teardown),
    };
    return BACKEND_RUN_BOTH("store league", tests);
}
