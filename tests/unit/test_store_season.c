/* Unit tests of the store's season part (store_season.h) on both backends (tests/store_backend.h):
 * fixtures (upsert, get, update, delete, the next one of an asset, keyset pages, each), results,
 * cricket lines and their stats, scoring overrides, and the dispatcher's argument errors. The
 * prerequisite rows (user, competitions, leagues, assets) are plain SQL, so these tests need no
 * other part of the store. Expectations come from the inserted data (an oracle sorts it byte-wise
 * itself), never from the code under test.
 *
 * On PostgreSQL the season tables' text keys are given a linguistic collation ("und-x-icu") first:
 * the test server's default (C.UTF-8) sorts like bytes anyway, a production server's usually does
 * not, and the store must order by bytes (SQLite's order) on either. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "store/store.h"
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../store_backend.h"

#define T0 1700000000000LL /* "now" of the tests, ms */
#define HOUR_MS 3600000LL
#define MAX_FX 64

/* ---- fixture: a migrated store with two football leagues and a cricket one ------------------ */

static const char SEED_SQL[] =
    "INSERT INTO users(id, email, name, is_admin, created_ms) VALUES "
    "('u1', 'u1@example.com', 'User 1', 0, 1);"
    "INSERT INTO competitions(code, sport, name, season) VALUES "
    "('FB-1', 'football', 'Football One', '2025'), ('CR-1', 'cricket', 'Cricket One', '2025');"
    "INSERT INTO assets(id, sport, name, updated_ms) VALUES "
    "('T-ars', 'football', 'Arsenal', 1), ('T-che', 'football', 'Chelsea', 1), "
    "('t-liv', 'football', 'Liverpool', 1), ('t-mci', 'football', 'Man City', 1), "
    "('P-root', 'cricket', 'Joe Root', 1), ('p-anderson', 'cricket', 'James Anderson', 1), "
    "('P_stokes', 'cricket', 'Ben Stokes', 1), ('p-1', 'cricket', 'Someone', 1);"
    "INSERT INTO leagues(id, name, sport, competition, commissioner_id, budget, currency, "
    "roster_size, min_managers, max_managers, lot_seconds, anti_snipe_seconds, min_bid, "
    "min_increment, intermission_seconds, lot_order, reoffer_unsold, invite_code, watch_code, "
    "created_ms) VALUES "
    "('L1', 'League 1', 'football', 'FB-1', 'u1', 100, 'GBP', 4, 2, 8, 30, 10, 1, 1, 5, "
    "'fixed', 0, 'inv-1', 'wat-1', 1), "
    "('L2', 'League 2', 'football', 'FB-1', 'u1', 100, 'GBP', 4, 2, 8, 30, 10, 1, 1, 5, "
    "'fixed', 0, 'inv-2', 'wat-2', 1), "
    "('LC', 'Cricket', 'cricket', 'CR-1', 'u1', 100, 'GBP', 4, 2, 8, 30, 10, 1, 1, 5, "
    "'fixed', 0, 'inv-3', 'wat-3', 1)";

/* PostgreSQL only: keys that sort differently by language than by bytes (see the top). */
static const char PG_COLLATE_SQL[] =
    "ALTER TABLE fixtures ALTER COLUMN id TYPE TEXT COLLATE \"und-x-icu\", "
    "ALTER COLUMN external_id TYPE TEXT COLLATE \"und-x-icu\";"
    "ALTER TABLE cricket_lines ALTER COLUMN external_id TYPE TEXT COLLATE \"und-x-icu\", "
    "ALTER COLUMN asset_id TYPE TEXT COLLATE \"und-x-icu\"";

static int setup_season(void **state)
{
    if (setup_open(state) != 0)
        return -1;
    fixture_t *f = *state;
    int applied = 0;
    if (store_migrate(f->store, &applied) != 0 || store_test_exec(f->store, SEED_SQL) != 0)
        return -1;
    if (backend_kind == BACKEND_POSTGRES && store_test_exec(f->store, PG_COLLATE_SQL) != 0) {
        print_error("%s\n", store_errmsg(f->store));
        return -1;
    }
    return 0;
}

/* A fixture of league between home and away (no goals, status scheduled unless said). */
static store_fixture_t fx(const char *id, const char *league, const char *ext, int64_t starts_ms,
                          const char *home, const char *away)
{
    store_fixture_t x;
    memset(&x, 0, sizeof(x));
    snprintf(x.id, sizeof(x.id), "%s", id);
    snprintf(x.league_id, sizeof(x.league_id), "%s", league);
    snprintf(x.external_id, sizeof(x.external_id), "%s", ext);
    snprintf(x.home_asset_id, sizeof(x.home_asset_id), "%s", home);
    snprintf(x.away_asset_id, sizeof(x.away_asset_id), "%s", away);
    snprintf(x.venue, sizeof(x.venue), "Ground of %s", home);
    snprintf(x.round, sizeof(x.round), "Round %lld", (long long)(starts_ms / HOUR_MS % 100));
    snprintf(x.status, sizeof(x.status), "scheduled");
    x.starts_ms = starts_ms;
    x.home_goals = x.away_goals = -1;
    return x;
}

static store_fixture_t with_status(store_fixture_t x, const char *status, int hg, int ag)
{
    snprintf(x.status, sizeof(x.status), "%s", status);
    x.home_goals = hg;
    x.away_goals = ag;
    return x;
}

/* Upserts x, expecting outcome. */
static void put(fixture_t *f, const store_fixture_t *x, store_upsert_t want)
{
    store_upsert_t got = 0;
    assert_int_equal(0, store_fixture_upsert(f->store, x, T0, &got));
    assert_int_equal(want, got);
}

static const char *asset_name(const char *id)
{
    static const char *const names[][2] = {
        {"T-ars", "Arsenal"},
        {"T-che", "Chelsea"},
        {"t-liv", "Liverpool"},
        {"t-mci", "Man City"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(id, names[i][0]))
            return names[i][1];
    return "?";
}

/* Every field of got is what want says (names: the seeded assets'). */
static void assert_fixture(const store_fixture_t *want, const store_fixture_t *got)
{
    assert_string_equal(want->id, got->id);
    assert_string_equal(want->league_id, got->league_id);
    assert_string_equal(want->external_id, got->external_id);
    assert_int_equal(want->starts_ms, got->starts_ms);
    assert_string_equal(want->home_asset_id, got->home_asset_id);
    assert_string_equal(want->away_asset_id, got->away_asset_id);
    assert_string_equal(asset_name(want->home_asset_id), got->home_name);
    assert_string_equal(asset_name(want->away_asset_id), got->away_name);
    assert_string_equal(want->venue, got->venue);
    assert_string_equal(want->round, got->round);
    assert_string_equal(want->status, got->status);
    assert_int_equal(want->home_goals < 0 ? -1 : want->home_goals, got->home_goals);
    assert_int_equal(want->away_goals < 0 ? -1 : want->away_goals, got->away_goals);
}

static int64_t fixture_count(fixture_t *f)
{
    return backend_i64(f->store, "SELECT count(*) FROM fixtures", NULL);
}

static int64_t updated_ms_of(fixture_t *f, const char *id)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT updated_ms FROM fixtures WHERE id = '%s'", id);
    return backend_i64(f->store, sql, NULL);
}

/* Byte order of (starts_ms, id): SQLite's, the store's on both backends. */
static int fx_cmp(const void *a, const void *b)
{
    const store_fixture_t *x = a, *y = b;
    if (x->starts_ms != y->starts_ms)
        return x->starts_ms < y->starts_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* ---- upsert and get ------------------------------------------------------------------------- */

static void fixture_upsert_creates_and_get_reads_every_field(void **state)
{
    fixture_t *f = *state;
    store_fixture_t a = fx("fx-1", "L1", "ext-1", T0 + HOUR_MS, "T-ars", "t-liv"), got;
    store_fixture_t b =
        with_status(fx("fx-2", "L1", "ext-2", T0 - HOUR_MS, "T-che", "T-ars"), "finished", 2, 0);
    put(f, &a, STORE_UPSERT_CREATED);
    put(f, &b, STORE_UPSERT_CREATED);
    assert_int_equal(0, store_fixture_get(f->store, "L1", "fx-1", &got));
    assert_fixture(&a, &got);
    assert_int_equal(0, store_fixture_get(f->store, "L1", "fx-2", &got));
    assert_fixture(&b, &got);
    assert_int_equal(T0, updated_ms_of(f, "fx-1"));
    assert_int_equal(1, backend_i64(f->store,
                                    "SELECT count(*) FROM fixtures WHERE home_goals IS NULL "
                                    "AND away_goals IS NULL",
                                    NULL));
    assert_int_equal(2, fixture_count(f));
}

static void fixture_get_not_found(void **state)
{
    fixture_t *f = *state;
    store_fixture_t a = fx("fx-1", "L1", "ext-1", T0, "T-ars", "t-liv"), got;
    put(f, &a, STORE_UPSERT_CREATED);
    assert_int_equal(GV_ENOT_FOUND, store_fixture_get(f->store, "L1", "fx-9", &got));
    assert_int_equal(GV_ENOT_FOUND, store_fixture_get(f->store, "L2", "fx-1", &got));
    assert_int_equal(GV_ENOT_FOUND, store_fixture_get(f->store, "L9", "fx-1", &got));
    assert_int_equal(GV_ENOT_FOUND, store_fixture_get(f->store, "l1", "fx-1", &got));
    assert_int_equal(GV_ENOT_FOUND, store_fixture_get(f->store, "L1", "FX-1", &got));
    assert_int_equal(GV_ENOT_FOUND, store_fixture_get(f->store, "L1", "ext-1", &got)); /* not id */
    assert_int_equal(GV_ENOT_FOUND, store_fixture_get(f->store, "", "fx-1", &got));
    assert_int_equal(GV_ENOT_FOUND, store_fixture_get(f->store, "L1", "", &got));
    char long_id[64];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    assert_int_equal(GV_ENOT_FOUND, store_fixture_get(f->store, "L1", long_id, &got));
    assert_int_equal(GV_EINTERNAL, store_fixture_get(f->store, "L1", "fx-1", NULL));
    assert_int_equal(GV_EINTERNAL, store_fixture_get(f->store, NULL, "fx-1", &got));
}

/* The import's key is (league, external id): an equal row is unchanged, a different one updated
 * in place (the first id kept), the same external id in another league another fixture. */
static void fixture_upsert_by_external_id(void **state)
{
    fixture_t *f = *state;
    store_fixture_t a = fx("fx-1", "L1", "ext-1", T0, "T-ars", "t-liv"), got;
    put(f, &a, STORE_UPSERT_CREATED);

    store_fixture_t same = a;
    snprintf(same.id, sizeof(same.id), "fx-other"); /* the id aside, equal */
    assert_int_equal(0, store_fixture_upsert(f->store, &same, T0 + 5, NULL));
    store_upsert_t out = 0;
    assert_int_equal(0, store_fixture_upsert(f->store, &same, T0 + 5, &out));
    assert_int_equal(STORE_UPSERT_UNCHANGED, out);
    assert_int_equal(T0, updated_ms_of(f, "fx-1"));

    store_fixture_t changed =
        with_status(fx("fx-new", "L1", "ext-1", T0 + 7, "t-mci", "T-che"), "finished", 1, 3);
    assert_int_equal(0, store_fixture_upsert(f->store, &changed, T0 + 9, &out));
    assert_int_equal(STORE_UPSERT_UPDATED, out);
    assert_int_equal(GV_ENOT_FOUND, store_fixture_get(f->store, "L1", "fx-new", &got));
    assert_int_equal(0, store_fixture_get(f->store, "L1", "fx-1", &got));
    store_fixture_t want = changed;
    snprintf(want.id, sizeof(want.id), "fx-1");
    assert_fixture(&want, &got);
    assert_int_equal(T0 + 9, updated_ms_of(f, "fx-1"));

    /* each field alone makes a difference */
    store_fixture_t v = want;
    const char *what[] = {"venue", "round", "status", "home_goals", "starts_ms", "away_asset_id"};
    for (size_t i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
        if (i == 0)
            snprintf(v.venue, sizeof(v.venue), "Elsewhere");
        if (i == 1)
            snprintf(v.round, sizeof(v.round), "Final");
        if (i == 2)
            snprintf(v.status, sizeof(v.status), "live");
        if (i == 3)
            v.home_goals = -1;
        if (i == 4)
            v.starts_ms++;
        if (i == 5)
            snprintf(v.away_asset_id, sizeof(v.away_asset_id), "T-ars");
        assert_int_equal(0, store_fixture_upsert(f->store, &v, T0, &out));
        assert_int_equal(STORE_UPSERT_UPDATED, out);
        assert_int_equal(0, store_fixture_upsert(f->store, &v, T0, &out));
        assert_int_equal(STORE_UPSERT_UNCHANGED, out);
        assert_int_equal(0, store_fixture_get(f->store, "L1", "fx-1", &got));
        assert_fixture(&v, &got);
    }

    store_fixture_t other = fx("fx-l2", "L2", "ext-1", T0, "T-ars", "t-liv");
    put(f, &other, STORE_UPSERT_CREATED);
    assert_int_equal(0, store_fixture_get(f->store, "L2", "fx-l2", &got));
    assert_fixture(&other, &got);
    assert_int_equal(0, store_fixture_get(f->store, "L1", "fx-1", &got));
    assert_fixture(&v, &got);
    assert_int_equal(2, fixture_count(f));
}

static void fixture_upsert_refusals(void **state)
{
    fixture_t *f = *state;
    store_fixture_t a = fx("fx-1", "L1", "ext-1", T0, "T-ars", "t-liv"), x;
    put(f, &a, STORE_UPSERT_CREATED);
    store_upsert_t out = 0;

    x = fx("fx-2", "L9", "ext-2", T0, "T-ars", "t-liv"); /* unknown league */
    assert_int_equal(GV_ENOT_FOUND, store_fixture_upsert(f->store, &x, T0, &out));
    x = fx("fx-2", "L1", "ext-2", T0, "T-nope", "t-liv"); /* unknown home */
    assert_int_equal(GV_ENOT_FOUND, store_fixture_upsert(f->store, &x, T0, &out));
    x = fx("fx-2", "L1", "ext-2", T0, "T-ars", "t-nope"); /* unknown away */
    assert_int_equal(GV_ENOT_FOUND, store_fixture_upsert(f->store, &x, T0, &out));
    x = fx("fx-1", "L2", "ext-2", T0, "T-ars", "t-liv"); /* id of L1's fixture */
    assert_int_equal(GV_ECONFLICT, store_fixture_upsert(f->store, &x, T0, &out));
    x = with_status(fx("fx-2", "L1", "ext-2", T0, "T-ars", "t-liv"), "abandoned", -1, -1);
    assert_int_equal(GV_EINVALID_REQUEST, store_fixture_upsert(f->store, &x, T0, &out));
    x = with_status(a, "over", -1, -1); /* the existing one, updated to a bad status */
    assert_int_equal(GV_EINVALID_REQUEST, store_fixture_upsert(f->store, &x, T0, &out));

    /* the dispatcher's checks */
    x = fx("", "L1", "ext-2", T0, "T-ars", "t-liv");
    assert_int_equal(GV_EINVALID_REQUEST, store_fixture_upsert(f->store, &x, T0, &out));
    x = fx("fx-2", "L1", "", T0, "T-ars", "t-liv");
    assert_int_equal(GV_EINVALID_REQUEST, store_fixture_upsert(f->store, &x, T0, &out));
    x = fx("fx-2", "L1", "ext-2", T0, "", "t-liv");
    assert_int_equal(GV_EINVALID_REQUEST, store_fixture_upsert(f->store, &x, T0, &out));
    x = with_status(fx("fx-2", "L1", "ext-2", T0, "T-ars", "t-liv"), "", -1, -1);
    assert_int_equal(GV_EINVALID_REQUEST, store_fixture_upsert(f->store, &x, T0, &out));
    x = fx("fx-2", "L1", "ext-2", T0, "T-ars", "t-liv");
    memset(x.venue, 'v', sizeof(x.venue)); /* no NUL in its field */
    assert_int_equal(GV_ELIMIT, store_fixture_upsert(f->store, &x, T0, &out));
    x = fx("fx-2", "L1", "ext-2", T0, "T-ars", "t-liv");
    memset(x.external_id, 'e', sizeof(x.external_id));
    assert_int_equal(GV_ELIMIT, store_fixture_upsert(f->store, &x, T0, &out));
    assert_int_equal(GV_EINTERNAL, store_fixture_upsert(f->store, NULL, T0, &out));

    assert_int_equal(1, fixture_count(f));
    store_fixture_t got;
    assert_int_equal(0, store_fixture_get(f->store, "L1", "fx-1", &got));
    assert_fixture(&a, &got);
}

/* ---- update and delete ---------------------------------------------------------------------- */

static void fixture_update_writes_every_field(void **state)
{
    fixture_t *f = *state;
    store_fixture_t a = fx("fx-1", "L1", "ext-1", T0, "T-ars", "t-liv"), got;
    store_fixture_t b = fx("fx-2", "L1", "ext-2", T0, "T-che", "t-mci");
    put(f, &a, STORE_UPSERT_CREATED);
    put(f, &b, STORE_UPSERT_CREATED);
    store_fixture_t n =
        with_status(fx("fx-1", "L1", "ext-1b", T0 + 3 * HOUR_MS, "t-mci", "T-che"), "live", 0, 1);
    snprintf(n.venue, sizeof(n.venue), "Etihad \xc3\x89");
    assert_int_equal(0, store_fixture_update(f->store, &n, T0 + 11));
    assert_int_equal(0, store_fixture_get(f->store, "L1", "fx-1", &got));
    assert_fixture(&n, &got);
    assert_int_equal(T0 + 11, updated_ms_of(f, "fx-1"));
    assert_int_equal(0, store_fixture_get(f->store, "L1", "fx-2", &got));
    assert_fixture(&b, &got);

    /* the same values again: still a write (found), keeps its own external id */
    assert_int_equal(0, store_fixture_update(f->store, &n, T0 + 12));
    assert_int_equal(T0 + 12, updated_ms_of(f, "fx-1"));
    /* goals cleared */
    n.home_goals = n.away_goals = -1;
    assert_int_equal(0, store_fixture_update(f->store, &n, T0 + 13));
    assert_int_equal(0, store_fixture_get(f->store, "L1", "fx-1", &got));
    assert_fixture(&n, &got);
}

static void fixture_update_refusals(void **state)
{
    fixture_t *f = *state;
    store_fixture_t a = fx("fx-1", "L1", "ext-1", T0, "T-ars", "t-liv"), got;
    store_fixture_t b = fx("fx-2", "L1", "ext-2", T0, "T-che", "t-mci");
    put(f, &a, STORE_UPSERT_CREATED);
    put(f, &b, STORE_UPSERT_CREATED);
    store_fixture_t x = a;
    snprintf(x.id, sizeof(x.id), "fx-9");
    assert_int_equal(GV_ENOT_FOUND, store_fixture_update(f->store, &x, T0));
    x = a;
    snprintf(x.league_id, sizeof(x.league_id), "L2");
    assert_int_equal(GV_ENOT_FOUND, store_fixture_update(f->store, &x, T0));
    x = a;
    snprintf(x.external_id, sizeof(x.external_id), "ext-2");
    assert_int_equal(GV_ECONFLICT, store_fixture_update(f->store, &x, T0));
    x = a;
    snprintf(x.home_asset_id, sizeof(x.home_asset_id), "T-nope");
    assert_int_equal(GV_ENOT_FOUND, store_fixture_update(f->store, &x, T0));
    x = a;
    snprintf(x.away_asset_id, sizeof(x.away_asset_id), "t-nope");
    assert_int_equal(GV_ENOT_FOUND, store_fixture_update(f->store, &x, T0));
    x = with_status(a, "void", -1, -1);
    assert_int_equal(GV_EINVALID_REQUEST, store_fixture_update(f->store, &x, T0));
    snprintf(x.id, sizeof(x.id), "fx-9"); /* no row to check: not found first */
    assert_int_equal(GV_ENOT_FOUND, store_fixture_update(f->store, &x, T0));
    x = a;
    x.round[0] = '\0'; /* empty venue and round are allowed */
    x.venue[0] = '\0';
    assert_int_equal(0, store_fixture_update(f->store, &x, T0 + 1));
    assert_int_equal(0, store_fixture_get(f->store, "L1", "fx-1", &got));
    assert_fixture(&x, &got);
    a = x;
    x.status[0] = '\0';
    assert_int_equal(GV_EINVALID_REQUEST, store_fixture_update(f->store, &x, T0));
    assert_int_equal(GV_EINTERNAL, store_fixture_update(f->store, NULL, T0));

    assert_int_equal(0, store_fixture_get(f->store, "L1", "fx-1", &got));
    assert_fixture(&a, &got);
    assert_int_equal(0, store_fixture_get(f->store, "L1", "fx-2", &got));
    assert_fixture(&b, &got);
}

static void fixture_delete_removes_one(void **state)
{
    fixture_t *f = *state;
    store_fixture_t a = fx("fx-1", "L1", "ext-1", T0, "T-ars", "t-liv"), got;
    store_fixture_t b = fx("fx-2", "L1", "ext-2", T0, "T-che", "t-mci");
    put(f, &a, STORE_UPSERT_CREATED);
    put(f, &b, STORE_UPSERT_CREATED);
    assert_int_equal(GV_ENOT_FOUND, store_fixture_delete(f->store, "L2", "fx-1"));
    assert_int_equal(GV_ENOT_FOUND, store_fixture_delete(f->store, "L1", "fx-9"));
    assert_int_equal(GV_ENOT_FOUND, store_fixture_delete(f->store, "L1", ""));
    assert_int_equal(GV_ENOT_FOUND, store_fixture_delete(f->store, "", "fx-1"));
    assert_int_equal(GV_EINTERNAL, store_fixture_delete(f->store, "L1", NULL));
    assert_int_equal(2, fixture_count(f));
    assert_int_equal(0, store_fixture_delete(f->store, "L1", "fx-1"));
    assert_int_equal(GV_ENOT_FOUND, store_fixture_get(f->store, "L1", "fx-1", &got));
    assert_int_equal(GV_ENOT_FOUND, store_fixture_delete(f->store, "L1", "fx-1"));
    assert_int_equal(0, store_fixture_get(f->store, "L1", "fx-2", &got));
    assert_fixture(&b, &got);
    assert_int_equal(1, fixture_count(f));
    put(f, &a, STORE_UPSERT_CREATED); /* its external id is free again */
}

/* Refusals inside a caller's transaction leave it usable (PostgreSQL aborts a transaction in
 * which a statement failed): the commit keeps everything that succeeded. */
static void refusals_inside_a_transaction_keep_it_usable(void **state)
{
    fixture_t *f = *state;
    store_fixture_t a = fx("fx-1", "L1", "ext-1", T0, "T-ars", "t-liv"), got;
    store_fixture_t b = fx("fx-2", "L1", "ext-2", T0, "T-che", "t-mci");
    put(f, &a, STORE_UPSERT_CREATED);
    assert_int_equal(0, store_tx_begin(f->store));
    put(f, &b, STORE_UPSERT_CREATED);
    store_fixture_t x = a;
    snprintf(x.external_id, sizeof(x.external_id), "ext-2");
    assert_int_equal(GV_ECONFLICT, store_fixture_update(f->store, &x, T0));
    x = a;
    snprintf(x.home_asset_id, sizeof(x.home_asset_id), "T-nope");
    assert_int_equal(GV_ENOT_FOUND, store_fixture_update(f->store, &x, T0));
    x = with_status(a, "void", -1, -1);
    assert_int_equal(GV_EINVALID_REQUEST, store_fixture_update(f->store, &x, T0));
    x = fx("fx-1", "L2", "ext-9", T0, "T-ars", "t-liv");
    assert_int_equal(GV_ECONFLICT, store_fixture_upsert(f->store, &x, T0, NULL));
    x = fx("fx-3", "L9", "ext-9", T0, "T-ars", "t-liv");
    assert_int_equal(GV_ENOT_FOUND, store_fixture_upsert(f->store, &x, T0, NULL));
    store_cricket_line_t l = {"LC", "m1", "P-nope", 1, 0, 0, 0, 0};
    assert_int_equal(GV_ENOT_FOUND, store_cricket_line_upsert(f->store, &l, T0, NULL));
    assert_int_equal(GV_ENOT_FOUND, store_scoring_set(f->store, "L9", "{}"));
    store_fixture_t c = fx("fx-3", "L1", "ext-3", T0, "T-ars", "T-che");
    put(f, &c, STORE_UPSERT_CREATED);
    assert_int_equal(0, store_tx_commit(f->store));
    assert_int_equal(3, fixture_count(f));
    assert_int_equal(0, store_fixture_get(f->store, "L1", "fx-3", &got));
    assert_fixture(&c, &got);
    assert_int_equal(0, store_fixture_get(f->store, "L1", "fx-1", &got));
    assert_fixture(&a, &got);
}

/* ---- the next fixture of an asset ----------------------------------------------------------- */

static void fixture_next_prefers_live_then_next_scheduled(void **state)
{
    fixture_t *f = *state;
    store_fixture_t got;
    store_fixture_t done =
        with_status(fx("n-0", "L1", "e0", T0 - 9 * HOUR_MS, "T-ars", "t-liv"), "finished", 1, 1);
    store_fixture_t past = fx("n-1", "L1", "e1", T0 - 5 * HOUR_MS, "T-ars", "T-che"); /* stale */
    store_fixture_t live =
        with_status(fx("n-2", "L1", "e2", T0 - HOUR_MS, "t-mci", "T-ars"), "live", 0, 0);
    store_fixture_t soon = fx("n-3", "L1", "e3", T0 + HOUR_MS, "T-ars", "t-mci");
    store_fixture_t later = fx("n-4", "L1", "e4", T0 + 2 * HOUR_MS, "t-liv", "T-ars");
    store_fixture_t off =
        with_status(fx("n-5", "L1", "e5", T0 + 30, "T-ars", "t-liv"), "postponed", -1, -1);
    store_fixture_t other = fx("n-6", "L2", "e6", T0 + 10, "T-ars", "t-liv"); /* other league */
    store_fixture_t *all[] = {&done, &past, &live, &soon, &later, &off, &other};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        put(f, all[i], STORE_UPSERT_CREATED);

    assert_int_equal(0, store_fixture_next(f->store, "L1", "T-ars", T0, &got));
    assert_fixture(&live, &got); /* away side, live */
    assert_int_equal(0, store_fixture_next(f->store, "L1", "t-mci", T0, &got));
    assert_fixture(&live, &got);

    live = with_status(live, "finished", 2, 1);
    assert_int_equal(0, store_fixture_update(f->store, &live, T0));
    assert_int_equal(0, store_fixture_next(f->store, "L1", "T-ars", T0, &got));
    assert_fixture(&soon, &got);
    assert_int_equal(0, store_fixture_next(f->store, "L1", "T-ars", T0 + HOUR_MS, &got));
    assert_fixture(&soon, &got); /* starting now counts */
    assert_int_equal(0, store_fixture_next(f->store, "L1", "T-ars", T0 + HOUR_MS + 1, &got));
    assert_fixture(&later, &got);
    assert_int_equal(0, store_fixture_next(f->store, "L1", "t-mci", T0, &got));
    assert_fixture(&soon, &got);
    assert_int_equal(0, store_fixture_next(f->store, "L2", "t-liv", T0, &got));
    assert_fixture(&other, &got);

    assert_int_equal(GV_ENOT_FOUND,
                     store_fixture_next(f->store, "L1", "T-ars", T0 + 2 * HOUR_MS + 1, &got));
    assert_int_equal(GV_ENOT_FOUND, store_fixture_next(f->store, "L1", "T-che", T0, &got));
    assert_int_equal(GV_ENOT_FOUND, store_fixture_next(f->store, "L2", "T-che", T0, &got));
    assert_int_equal(GV_ENOT_FOUND, store_fixture_next(f->store, "L9", "T-ars", T0, &got));
    assert_int_equal(GV_ENOT_FOUND, store_fixture_next(f->store, "L1", "", T0, &got));
    assert_int_equal(GV_ENOT_FOUND, store_fixture_next(f->store, "", "T-ars", T0, &got));
    assert_int_equal(GV_EINTERNAL, store_fixture_next(f->store, "L1", "T-ars", T0, NULL));
}

/* Of fixtures starting together, the first by id in byte order ("B" before "a"). */
static void fixture_next_ties_break_by_id_bytes(void **state)
{
    fixture_t *f = *state;
    store_fixture_t got;
    store_fixture_t x = fx("a-1", "L1", "ea", T0 + HOUR_MS, "T-ars", "t-liv");
    store_fixture_t y = fx("B-1", "L1", "eb", T0 + HOUR_MS, "T-che", "T-ars");
    put(f, &x, STORE_UPSERT_CREATED);
    put(f, &y, STORE_UPSERT_CREATED);
    assert_int_equal(0, store_fixture_next(f->store, "L1", "T-ars", T0, &got));
    assert_fixture(&y, &got);
}

/* ---- pages and each ------------------------------------------------------------------------- */

/* Inserts n fixtures into L1 (ids and times chosen so byte order and case-blind order differ and
 * several start together) and one into L2; *all gets L1's sorted by the oracle. */
static size_t make_season(fixture_t *f, store_fixture_t *all, size_t cap)
{
    static const char *const ids[] = {"a1", "B1", "a-b", "ab", "Z9", "_x", "z", "A",
                                      "b2", "B2", "c",   "C",  "0",  "10", "9", "aa",
                                      "Ab", "a_", "bb",  "Ba", "x",  "X",  "y"};
    const char *teams[] = {"T-ars", "T-che", "t-liv", "t-mci"};
    size_t n = sizeof(ids) / sizeof(ids[0]);
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        char ext[32];
        snprintf(ext, sizeof(ext), "ext-%zu", i);
        int64_t starts = T0 + (int64_t)(i * 7 % 5) * HOUR_MS; /* five distinct times */
        all[i] = fx(ids[i], "L1", ext, starts, teams[i % 4], teams[(i + 1) % 4]);
        if (i % 3 == 0)
            all[i] = with_status(all[i], "finished", (int)i % 4, (int)i % 3);
        put(f, &all[i], STORE_UPSERT_CREATED);
    }
    store_fixture_t other = fx("a0", "L2", "ext-0", T0, "T-ars", "t-liv");
    put(f, &other, STORE_UPSERT_CREATED);
    qsort(all, n, sizeof(all[0]), fx_cmp);
    return n;
}

/* Pages through L1 with limit, checking each page against the oracle's slice. */
static void page_through(fixture_t *f, const store_fixture_t *all, size_t n, int limit)
{
    store_fixture_t page[MAX_FX];
    int64_t after_ms = 0;
    char after_id[40] = "";
    size_t seen = 0;
    for (int pages = 0;; pages++) {
        assert_true(pages <= (int)n);
        size_t got = 99;
        int more = -1;
        assert_int_equal(
            0, store_fixtures_list(f->store, "L1", after_ms, after_id, limit, page, &got, &more));
        size_t want = n - seen < (size_t)limit ? n - seen : (size_t)limit;
        assert_int_equal(want, got);
        for (size_t i = 0; i < got; i++)
            assert_fixture(&all[seen + i], &page[i]);
        seen += got;
        assert_int_equal(seen < n, more);
        if (!more)
            break;
        after_ms = page[got - 1].starts_ms;
        snprintf(after_id, sizeof(after_id), "%s", page[got - 1].id);
    }
    assert_int_equal(n, seen);
}

static void fixtures_list_pages_in_byte_order(void **state)
{
    fixture_t *f = *state;
    store_fixture_t all[MAX_FX];
    size_t n = make_season(f, all, MAX_FX);
    int limits[] = {1, 2, 3, 5, 7, 22, 23, 24, 50};
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
        page_through(f, all, n, limits[i]);
}

/* A cursor that is no row's: the page starts at the first row after it. */
static void fixtures_list_cursor_between_rows(void **state)
{
    fixture_t *f = *state;
    store_fixture_t all[MAX_FX], page[MAX_FX];
    size_t n = make_season(f, all, MAX_FX), got = 0;
    int more = -1;
    store_fixture_t cursor = all[n / 2];
    snprintf(cursor.id, sizeof(cursor.id), "%s~", all[n / 2].id); /* just after it */
    size_t first = n / 2 + 1;
    while (first < n && fx_cmp(&all[first], &cursor) <= 0)
        first++;
    assert_int_equal(0, store_fixtures_list(f->store, "L1", cursor.starts_ms, cursor.id, MAX_FX,
                                            page, &got, &more));
    assert_int_equal(n - first, got);
    assert_int_equal(0, more);
    for (size_t i = 0; i < got; i++)
        assert_fixture(&all[first + i], &page[i]);

    /* before every row, and after the last */
    assert_int_equal(0, store_fixtures_list(f->store, "L1", T0, "", 3, page, &got, &more));
    assert_int_equal(3, got);
    assert_int_equal(1, more);
    assert_fixture(&all[0], &page[0]);
    assert_int_equal(0, store_fixtures_list(f->store, "L1", all[n - 1].starts_ms, all[n - 1].id, 3,
                                            page, &got, &more));
    assert_int_equal(0, got);
    assert_int_equal(0, more);
}

static void fixtures_list_empty_and_argument_errors(void **state)
{
    fixture_t *f = *state;
    store_fixture_t all[MAX_FX], page[4];
    make_season(f, all, MAX_FX);
    size_t got = 99;
    int more = -1;
    assert_int_equal(0, store_fixtures_list(f->store, "LC", 0, "", 4, page, &got, &more));
    assert_int_equal(0, got);
    assert_int_equal(0, more);
    got = 99, more = -1;
    assert_int_equal(0, store_fixtures_list(f->store, "L9", 0, "", 4, page, &got, &more));
    assert_int_equal(0, got);
    assert_int_equal(0, more);
    got = 99, more = -1;
    assert_int_equal(0, store_fixtures_list(f->store, "", 0, "", 4, page, &got, &more));
    assert_int_equal(0, got);
    assert_int_equal(0, more);
    assert_int_equal(0, store_fixtures_list(f->store, "L2", 0, "", 4, page, &got, &more));
    assert_int_equal(1, got);
    assert_string_equal("a0", page[0].id);
    assert_int_equal(GV_EINTERNAL,
                     store_fixtures_list(f->store, "L1", 0, "", 0, page, &got, &more));
    assert_int_equal(GV_EINTERNAL,
                     store_fixtures_list(f->store, "L1", 0, "", -1, page, &got, &more));
    assert_int_equal(GV_EINTERNAL,
                     store_fixtures_list(f->store, "L1", 0, NULL, 4, page, &got, &more));
    assert_int_equal(GV_EINTERNAL,
                     store_fixtures_list(f->store, "L1", 0, "", 4, NULL, &got, &more));
    assert_int_equal(GV_EINTERNAL,
                     store_fixtures_list(f->store, "L1", 0, "", 4, page, NULL, &more));
    assert_int_equal(GV_EINTERNAL, store_fixtures_list(f->store, "L1", 0, "", 4, page, &got, NULL));
    assert_int_equal(GV_EINTERNAL,
                     store_fixtures_list(f->store, NULL, 0, "", 4, page, &got, &more));
}

typedef struct {
    store_t *store;
    store_fixture_t seen[MAX_FX];
    size_t n;
    int stop_at; /* 1-based call that answers GV_ECONFLICT; 0: never */
} fx_sink_t;

/* Keeps each fixture and reads it back through the store (fn may read). */
static int fx_collect(void *ctx, const store_fixture_t *x)
{
    fx_sink_t *k = ctx;
    if (k->stop_at && (int)k->n + 1 == k->stop_at)
        return GV_ECONFLICT;
    store_fixture_t again;
    if (store_fixture_get(k->store, x->league_id, x->id, &again) != 0 ||
        strcmp(again.external_id, x->external_id) != 0)
        return GV_EINTERNAL;
    assert_true(k->n < MAX_FX);
    k->seen[k->n++] = *x;
    return 0;
}

static void fixtures_each_in_time_order(void **state)
{
    fixture_t *f = *state;
    store_fixture_t all[MAX_FX];
    size_t n = make_season(f, all, MAX_FX);
    fx_sink_t *k = calloc(1, sizeof(*k));
    k->store = f->store;
    assert_int_equal(0, store_fixtures_each(f->store, "L1", fx_collect, k));
    assert_int_equal(n, k->n);
    for (size_t i = 0; i < n; i++)
        assert_fixture(&all[i], &k->seen[i]);

    memset(k, 0, sizeof(*k));
    k->store = f->store;
    k->stop_at = 4;
    assert_int_equal(GV_ECONFLICT, store_fixtures_each(f->store, "L1", fx_collect, k));
    assert_int_equal(3, k->n);

    memset(k, 0, sizeof(*k));
    k->store = f->store;
    assert_int_equal(0, store_fixtures_each(f->store, "LC", fx_collect, k));
    assert_int_equal(0, store_fixtures_each(f->store, "L9", fx_collect, k));
    assert_int_equal(0, store_fixtures_each(f->store, "", fx_collect, k));
    assert_int_equal(0, k->n);
    assert_int_equal(GV_EINTERNAL, store_fixtures_each(f->store, "L1", NULL, k));
    free(k);
}

typedef struct {
    char home[MAX_FX][32], away[MAX_FX][32];
    int hg[MAX_FX], ag[MAX_FX];
    int64_t starts[MAX_FX];
    size_t n;
} result_sink_t;

static int result_collect(void *ctx, const store_result_t *r)
{
    result_sink_t *k = ctx;
    assert_true(k->n < MAX_FX);
    snprintf(k->home[k->n], sizeof(k->home[0]), "%s", r->home_asset_id);
    snprintf(k->away[k->n], sizeof(k->away[0]), "%s", r->away_asset_id);
    k->hg[k->n] = r->home_goals;
    k->ag[k->n] = r->away_goals;
    k->starts[k->n++] = r->starts_ms;
    return 0;
}

static int result_stop(void *ctx, const store_result_t *r)
{
    (void)r;
    return ++*(int *)ctx == 2 ? GV_ELIMIT : 0;
}

/* Only finished fixtures with both goals, in the fixtures' order. */
static void results_each_finished_with_goals(void **state)
{
    fixture_t *f = *state;
    store_fixture_t all[MAX_FX];
    size_t n = make_season(f, all, MAX_FX);
    /* one finished without goals, one with a goal missing, one live with goals */
    store_fixture_t x =
        with_status(fx("r-1", "L1", "r-1", T0, "T-ars", "t-liv"), "finished", -1, -1);
    store_fixture_t y =
        with_status(fx("r-2", "L1", "r-2", T0, "T-ars", "t-liv"), "finished", 2, -1);
    store_fixture_t z = with_status(fx("r-3", "L1", "r-3", T0, "T-ars", "t-liv"), "live", 2, 2);
    put(f, &x, STORE_UPSERT_CREATED);
    put(f, &y, STORE_UPSERT_CREATED);
    put(f, &z, STORE_UPSERT_CREATED);
    result_sink_t *k = calloc(1, sizeof(*k));
    assert_int_equal(0, store_results_each(f->store, "L1", result_collect, k));
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(all[i].status, "finished") != 0)
            continue;
        assert_true(j < k->n);
        assert_string_equal(all[i].home_asset_id, k->home[j]);
        assert_string_equal(all[i].away_asset_id, k->away[j]);
        assert_int_equal(all[i].home_goals, k->hg[j]);
        assert_int_equal(all[i].away_goals, k->ag[j]);
        assert_int_equal(all[i].starts_ms, k->starts[j]);
        j++;
    }
    assert_int_equal(j, k->n);
    assert_true(j >= 5);
    int calls = 0;
    assert_int_equal(GV_ELIMIT, store_results_each(f->store, "L1", result_stop, &calls));
    assert_int_equal(2, calls);
    memset(k, 0, sizeof(*k));
    assert_int_equal(0, store_results_each(f->store, "LC", result_collect, k));
    assert_int_equal(0, store_results_each(f->store, "", result_collect, k));
    assert_int_equal(0, k->n);
    assert_int_equal(GV_EINTERNAL, store_results_each(f->store, "L1", NULL, k));
    free(k);
}

/* ---- cricket lines -------------------------------------------------------------------------- */

static store_cricket_line_t line(const char *league, const char *match, const char *asset,
                                 int64_t runs, int64_t wickets, int64_t catches, int64_t stumpings,
                                 int64_t run_outs)
{
    store_cricket_line_t l;
    memset(&l, 0, sizeof(l));
    snprintf(l.league_id, sizeof(l.league_id), "%s", league);
    snprintf(l.external_id, sizeof(l.external_id), "%s", match);
    snprintf(l.asset_id, sizeof(l.asset_id), "%s", asset);
    l.runs = runs, l.wickets = wickets, l.catches = catches, l.stumpings = stumpings;
    l.run_outs = run_outs;
    return l;
}

static store_upsert_t upsert_line(fixture_t *f, const store_cricket_line_t *l, int64_t now_ms)
{
    store_upsert_t out = 0;
    assert_int_equal(0, store_cricket_line_upsert(f->store, l, now_ms, &out));
    return out;
}

static int64_t line_updated_ms(fixture_t *f, const char *match, const char *asset)
{
    char sql[192];
    snprintf(sql, sizeof(sql),
             "SELECT updated_ms FROM cricket_lines WHERE external_id = '%s' AND asset_id = '%s'",
             match, asset);
    return backend_i64(f->store, sql, NULL);
}

static void cricket_upsert_created_updated_unchanged(void **state)
{
    fixture_t *f = *state;
    store_cricket_line_t l = line("LC", "m1", "P-root", 50, 1, 2, 0, 1);
    assert_int_equal(STORE_UPSERT_CREATED, upsert_line(f, &l, T0));
    assert_int_equal(STORE_UPSERT_UNCHANGED, upsert_line(f, &l, T0 + 1));
    assert_int_equal(T0, line_updated_ms(f, "m1", "P-root"));
    int64_t *field[] = {&l.runs, &l.wickets, &l.catches, &l.stumpings, &l.run_outs};
    for (int i = 0; i < 5; i++) {
        (*field[i])++;
        assert_int_equal(STORE_UPSERT_UPDATED, upsert_line(f, &l, T0 + 10 + i));
        assert_int_equal(T0 + 10 + i, line_updated_ms(f, "m1", "P-root"));
        assert_int_equal(STORE_UPSERT_UNCHANGED, upsert_line(f, &l, T0 + 20 + i));
        assert_int_equal(T0 + 10 + i, line_updated_ms(f, "m1", "P-root"));
    }
    assert_int_equal(59, backend_i64(f->store,
                                     "SELECT runs + wickets + catches + stumpings + run_outs "
                                     "FROM cricket_lines",
                                     NULL));
    l.runs = 0; /* back down is a change too */
    assert_int_equal(STORE_UPSERT_UPDATED, upsert_line(f, &l, T0 + 30));
    /* another match, another player, another league: new lines */
    store_cricket_line_t m2 = line("LC", "m2", "P-root", 0, 0, 0, 0, 0);
    store_cricket_line_t p2 = line("LC", "m1", "p-1", 0, 0, 0, 0, 0);
    store_cricket_line_t l1 = line("L1", "m1", "P-root", 0, 0, 0, 0, 0);
    assert_int_equal(STORE_UPSERT_CREATED, upsert_line(f, &m2, T0));
    assert_int_equal(STORE_UPSERT_CREATED, upsert_line(f, &p2, T0));
    assert_int_equal(STORE_UPSERT_CREATED, upsert_line(f, &l1, T0));
    assert_int_equal(STORE_UPSERT_UNCHANGED, upsert_line(f, &m2, T0));
    assert_int_equal(4, backend_i64(f->store, "SELECT count(*) FROM cricket_lines", NULL));
    assert_int_equal(0, store_cricket_line_upsert(f->store, &m2, T0, NULL));
}

static void cricket_upsert_refusals(void **state)
{
    fixture_t *f = *state;
    store_upsert_t out = 0;
    store_cricket_line_t l = line("LC", "m1", "P-nope", 1, 0, 0, 0, 0);
    assert_int_equal(GV_ENOT_FOUND, store_cricket_line_upsert(f->store, &l, T0, &out));
    l = line("L9", "m1", "P-root", 1, 0, 0, 0, 0);
    assert_int_equal(GV_ENOT_FOUND, store_cricket_line_upsert(f->store, &l, T0, &out));
    int64_t *field[] = {&l.runs, &l.wickets, &l.catches, &l.stumpings, &l.run_outs};
    for (int i = 0; i < 5; i++) {
        l = line("LC", "m1", "P-root", 1, 1, 1, 1, 1);
        *field[i] = -1;
        assert_int_equal(GV_EINVALID_REQUEST, store_cricket_line_upsert(f->store, &l, T0, &out));
    }
    l = line("", "m1", "P-root", 1, 0, 0, 0, 0);
    assert_int_equal(GV_EINVALID_REQUEST, store_cricket_line_upsert(f->store, &l, T0, &out));
    l = line("LC", "", "P-root", 1, 0, 0, 0, 0);
    assert_int_equal(GV_EINVALID_REQUEST, store_cricket_line_upsert(f->store, &l, T0, &out));
    l = line("LC", "m1", "", 1, 0, 0, 0, 0);
    assert_int_equal(GV_EINVALID_REQUEST, store_cricket_line_upsert(f->store, &l, T0, &out));
    l = line("LC", "m1", "P-root", 1, 0, 0, 0, 0);
    memset(l.external_id, 'm', sizeof(l.external_id));
    assert_int_equal(GV_ELIMIT, store_cricket_line_upsert(f->store, &l, T0, &out));
    assert_int_equal(GV_EINTERNAL, store_cricket_line_upsert(f->store, NULL, T0, &out));
    assert_int_equal(0, backend_i64(f->store, "SELECT count(*) FROM cricket_lines", NULL));
}

typedef struct {
    store_cricket_line_t seen[MAX_FX];
    size_t n;
} line_sink_t;

static int line_collect(void *ctx, const store_cricket_line_t *l)
{
    line_sink_t *k = ctx;
    assert_true(k->n < MAX_FX);
    k->seen[k->n++] = *l;
    return 0;
}

static int line_cmp(const void *a, const void *b)
{
    const store_cricket_line_t *x = a, *y = b;
    int c = strcmp(x->external_id, y->external_id);
    return c ? c : strcmp(x->asset_id, y->asset_id);
}

static const char *const PLAYERS[] = {"P-root", "p-anderson", "P_stokes", "p-1"};
#define N_PLAYERS 4

/* Lines of LC for matches whose ids sort differently by bytes and by language, plus one line of
 * L1; *all gets LC's sorted by the oracle. */
static size_t make_lines(fixture_t *f, store_cricket_line_t *all)
{
    static const char *const matches[] = {"m10", "M9", "m-2", "m2", "Ma", "m_1"};
    size_t n = 0;
    for (size_t m = 0; m < sizeof(matches) / sizeof(matches[0]); m++)
        for (size_t p = 0; p < N_PLAYERS; p++) {
            if ((m + p) % 3 == 2)
                continue; /* not every player plays every match */
            int64_t k = (int64_t)(m * 4 + p);
            all[n] =
                line("LC", matches[m], PLAYERS[p], k * 7 % 60, k % 4, k % 3, k % 2, (k + 1) % 2);
            assert_int_equal(STORE_UPSERT_CREATED, upsert_line(f, &all[n], T0));
            n++;
        }
    store_cricket_line_t other = line("L1", "m1", "P-root", 500, 9, 9, 9, 9);
    assert_int_equal(STORE_UPSERT_CREATED, upsert_line(f, &other, T0));
    qsort(all, n, sizeof(all[0]), line_cmp);
    return n;
}

static void cricket_lines_each_by_match_then_asset(void **state)
{
    fixture_t *f = *state;
    store_cricket_line_t all[MAX_FX];
    size_t n = make_lines(f, all);
    line_sink_t *k = calloc(1, sizeof(*k));
    assert_int_equal(0, store_cricket_lines_each(f->store, "LC", line_collect, k));
    assert_int_equal(n, k->n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(all[i].league_id, k->seen[i].league_id);
        assert_string_equal(all[i].external_id, k->seen[i].external_id);
        assert_string_equal(all[i].asset_id, k->seen[i].asset_id);
        assert_int_equal(all[i].runs, k->seen[i].runs);
        assert_int_equal(all[i].wickets, k->seen[i].wickets);
        assert_int_equal(all[i].catches, k->seen[i].catches);
        assert_int_equal(all[i].stumpings, k->seen[i].stumpings);
        assert_int_equal(all[i].run_outs, k->seen[i].run_outs);
    }
    memset(k, 0, sizeof(*k));
    assert_int_equal(0, store_cricket_lines_each(f->store, "L2", line_collect, k));
    assert_int_equal(0, store_cricket_lines_each(f->store, "", line_collect, k));
    assert_int_equal(0, k->n);
    assert_int_equal(0, store_cricket_lines_each(f->store, "L1", line_collect, k));
    assert_int_equal(1, k->n);
    assert_int_equal(500, k->seen[0].runs);
    assert_int_equal(GV_EINTERNAL, store_cricket_lines_each(f->store, "LC", NULL, k));
    free(k);
}

typedef struct {
    int64_t sum[N_PLAYERS][5];
    int lines[N_PLAYERS];
    int unknown, calls, stop_at;
} stat_sink_t;

/* Sums each player's numbers (order-free). */
static int stat_sum(void *ctx, const store_cricket_stat_t *st)
{
    stat_sink_t *k = ctx;
    if (++k->calls == k->stop_at)
        return GV_ETIMEOUT;
    for (int p = 0; p < N_PLAYERS; p++)
        if (!strcmp(st->asset_id, PLAYERS[p])) {
            int64_t v[5] = {st->runs, st->wickets, st->catches, st->stumpings, st->run_outs};
            for (int i = 0; i < 5; i++)
                k->sum[p][i] += v[i];
            k->lines[p]++;
            return 0;
        }
    k->unknown++;
    return 0;
}

static void cricket_stats_each_sums_per_player(void **state)
{
    fixture_t *f = *state;
    store_cricket_line_t all[MAX_FX];
    size_t n = make_lines(f, all);
    /* an update counts once, with its new numbers */
    all[0].runs += 100;
    assert_int_equal(STORE_UPSERT_UPDATED, upsert_line(f, &all[0], T0 + 1));
    stat_sink_t want, got;
    memset(&want, 0, sizeof(want));
    memset(&got, 0, sizeof(got));
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < N_PLAYERS; p++)
            if (!strcmp(all[i].asset_id, PLAYERS[p])) {
                int64_t v[5] = {all[i].runs, all[i].wickets, all[i].catches, all[i].stumpings,
                                all[i].run_outs};
                for (int j = 0; j < 5; j++)
                    want.sum[p][j] += v[j];
                want.lines[p]++;
            }
    assert_int_equal(0, store_cricket_stats_each(f->store, "LC", stat_sum, &got));
    assert_int_equal(n, got.calls);
    assert_int_equal(0, got.unknown);
    for (int p = 0; p < N_PLAYERS; p++) {
        assert_int_equal(want.lines[p], got.lines[p]);
        for (int j = 0; j < 5; j++)
            assert_int_equal(want.sum[p][j], got.sum[p][j]);
    }
    memset(&got, 0, sizeof(got));
    got.stop_at = 3;
    assert_int_equal(GV_ETIMEOUT, store_cricket_stats_each(f->store, "LC", stat_sum, &got));
    assert_int_equal(3, got.calls);
    memset(&got, 0, sizeof(got));
    assert_int_equal(0, store_cricket_stats_each(f->store, "L2", stat_sum, &got));
    assert_int_equal(0, store_cricket_stats_each(f->store, "", stat_sum, &got));
    assert_int_equal(0, got.calls);
    assert_int_equal(GV_EINTERNAL, store_cricket_stats_each(f->store, "LC", NULL, &got));
}

/* ---- scoring overrides ---------------------------------------------------------------------- */

static void scoring_set_get_replace_remove(void **state)
{
    fixture_t *f = *state;
    char out[STORE_SCORING_MAX];
    memset(out, 'x', sizeof(out));
    assert_int_equal(0, store_scoring_get(f->store, "L1", out, sizeof(out)));
    assert_string_equal("", out);
    const char *doc = "{\"rules\":{\"win\":4,\"name\":\"\xc3\xa9t\xc3\xa9\"}}";
    assert_int_equal(0, store_scoring_set(f->store, "L1", doc));
    assert_int_equal(0, store_scoring_get(f->store, "L1", out, sizeof(out)));
    assert_string_equal(doc, out);
    assert_int_equal(0, store_scoring_get(f->store, "L2", out, sizeof(out)));
    assert_string_equal("", out);
    assert_int_equal(0, store_scoring_set(f->store, "L1", "{\"rules\":{\"win\":5}}"));
    assert_int_equal(0, store_scoring_set(f->store, "L2", "{}"));
    assert_int_equal(0, store_scoring_get(f->store, "L1", out, sizeof(out)));
    assert_string_equal("{\"rules\":{\"win\":5}}", out);
    assert_int_equal(0, store_scoring_get(f->store, "L2", out, sizeof(out)));
    assert_string_equal("{}", out);
    assert_int_equal(2, backend_i64(f->store, "SELECT count(*) FROM scoring_overrides", NULL));
    assert_int_equal(0, store_scoring_set(f->store, "L1", ""));
    assert_int_equal(0, store_scoring_get(f->store, "L1", out, sizeof(out)));
    assert_string_equal("", out);
    assert_int_equal(0, store_scoring_set(f->store, "L1", "")); /* none to remove */
    assert_int_equal(0, store_scoring_get(f->store, "L2", out, sizeof(out)));
    assert_string_equal("{}", out);
    assert_int_equal(1, backend_i64(f->store, "SELECT count(*) FROM scoring_overrides", NULL));
}

static void scoring_not_found_and_limits(void **state)
{
    fixture_t *f = *state;
    char out[64];
    assert_int_equal(GV_ENOT_FOUND, store_scoring_set(f->store, "L9", "{}"));
    assert_int_equal(0, store_scoring_set(f->store, "L9", "")); /* nothing to remove */
    strcpy(out, "junk");
    assert_int_equal(0, store_scoring_get(f->store, "L9", out, sizeof(out)));
    assert_string_equal("", out);
    strcpy(out, "junk");
    assert_int_equal(0, store_scoring_get(f->store, "", out, sizeof(out)));
    assert_string_equal("", out);
    assert_int_equal(GV_EINVALID_REQUEST, store_scoring_set(f->store, "", "{}"));
    assert_int_equal(GV_EINTERNAL, store_scoring_set(f->store, "L1", NULL));
    assert_int_equal(GV_EINTERNAL, store_scoring_get(f->store, "L1", NULL, 8));
    assert_int_equal(GV_EINTERNAL, store_scoring_get(f->store, "L1", out, 0));
    char *big = malloc(STORE_SCORING_MAX + 1);
    memset(big, ' ', STORE_SCORING_MAX);
    big[0] = '{';
    big[STORE_SCORING_MAX - 2] = '}';
    big[STORE_SCORING_MAX - 1] = '\0'; /* the longest that fits */
    assert_int_equal(0, store_scoring_set(f->store, "L1", big));
    big[STORE_SCORING_MAX - 1] = ' ';
    big[STORE_SCORING_MAX] = '\0';
    assert_int_equal(GV_ELIMIT, store_scoring_set(f->store, "L1", big));
    char *back = malloc(STORE_SCORING_MAX);
    assert_int_equal(0, store_scoring_get(f->store, "L1", back, STORE_SCORING_MAX));
    assert_int_equal(STORE_SCORING_MAX - 1, strlen(back));
    /* a document longer than the caller's buffer is a store error on both backends, never a
     * truncated document */
    strcpy(out, "junk");
    assert_int_equal(GV_EDB, store_scoring_get(f->store, "L1", out, sizeof(out)));
    assert_string_equal("", out);
    free(back);
    free(big);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_season, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(fixture_upsert_creates_and_get_reads_every_field),
        T(fixture_get_not_found),
        T(fixture_upsert_by_external_id),
        T(fixture_upsert_refusals),
        T(fixture_update_writes_every_field),
        T(fixture_update_refusals),
        T(fixture_delete_removes_one),
        T(refusals_inside_a_transaction_keep_it_usable),
        T(fixture_next_prefers_live_then_next_scheduled),
        T(fixture_next_ties_break_by_id_bytes),
        T(fixtures_list_pages_in_byte_order),
        T(fixtures_list_cursor_between_rows),
        T(fixtures_list_empty_and_argument_errors),
        T(fixtures_each_in_time_order),
        T(results_each_finished_with_goals),
        T(cricket_upsert_created_updated_unchanged),
        T(cricket_upsert_refusals),
        T(cricket_lines_each_by_match_then_asset),
        T(cricket_stats_each_sums_per_player),
        T(scoring_set_get_replace_remove),
        T(scoring_not_found_and_limits),
    };
    return BACKEND_RUN_BOTH("season store", tests);
}
