/* Catalogue loading and queries on both store backends (tests/store_backend.h: real SQLite in
 * a temporary directory, real PostgreSQL in a schema of its own): the shipped data and its
 * counts, idempotent reloads, per-row and whole-file errors, partial imports, JSON imports,
 * keyset paging without loss, literal search with ASCII case folding, upserts inside a
 * transaction (a refusal leaves it usable), what each save reports, the meta table, and saves of
 * one key racing on two connections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "league/catalogue.h"
#include "store/store.h"
#include "store/store_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../store_backend.h"

#define T0 1700000000000LL

/* A database of its own, a migrated store on it and an import report. */
typedef struct {
    backend_db_t db; /* dropped in teardown */
    store_t *store;
    catalogue_report_t rep;
} cat_fixture_t;

static int cat_setup(void **state)
{
    cat_fixture_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    *state = f;
    catalogue_report_init(&f->rep);
    if (backend_db_make(&f->db) != 0 || backend_db_open(&f->db, &f->store) != 0)
        return -1;
    int applied = 0;
    return store_migrate(f->store, &applied) == 0 ? 0 : -1;
}

/* cat_setup plus the shipped catalogue. */
static int cat_setup_loaded(void **state)
{
    if (cat_setup(state) != 0)
        return -1;
    cat_fixture_t *f = *state;
    int rc = catalogue_load_shipped(f->store, T0, &f->rep);
    catalogue_report_deinit(&f->rep);
    return rc;
}

static int cat_teardown(void **state)
{
    cat_fixture_t *f = *state;
    catalogue_report_deinit(&f->rep);
    if (f->store != NULL)
        store_close(f->store);
    int rc = backend_db_drop(&f->db);
    free(f);
    return rc;
}

static int import_str(cat_fixture_t *f, const char *kind, const char *text, int flags)
{
    catalogue_report_deinit(&f->rep);
    return catalogue_import(f->store, kind, text, strlen(text), flags, T0 + 1000, &f->rep);
}

static int comp_count(cat_fixture_t *f, const char *code)
{
    store_competition_t c;
    assert_int_equal(store_competition_get(f->store, code, &c), 0);
    return c.asset_count;
}

/* Every id of the assets matching q, paged with limit; checks order and no repeats. */
static size_t list_all(cat_fixture_t *f, store_asset_query_t q, char ids[][STORE_ASSET_ID_MAX],
                       size_t cap)
{
    store_asset_t *page = calloc((size_t)q.limit, sizeof(*page));
    char name[STORE_TEXT_MAX] = "", id[STORE_ASSET_ID_MAX] = "";
    size_t total = 0, n;
    int more = 1;
    assert_non_null(page);
    while (more) {
        q.after_name = name;
        q.after_id = id;
        assert_int_equal(store_assets_list(f->store, &q, page, (size_t)q.limit, &n, &more), 0);
        assert_true(n <= (size_t)q.limit);
        assert_true(!more || n == (size_t)q.limit);
        for (size_t i = 0; i < n; i++) {
            int cmp = strcasecmp(name, page[i].name);
            assert_true(total == 0 || cmp < 0 || (cmp == 0 && strcmp(id, page[i].id) < 0));
            assert_true(total < cap);
            snprintf(ids[total++], STORE_ASSET_ID_MAX, "%s", page[i].id);
            snprintf(name, sizeof(name), "%s", page[i].name);
            snprintf(id, sizeof(id), "%s", page[i].id);
        }
    }
    free(page);
    return total;
}

/* ---- the shipped catalogue ------------------------------------------------------------------- */

static void test_shipped_load_counts(void **state)
{
    cat_fixture_t *f = *state;
    assert_int_equal(catalogue_load_shipped(f->store, T0, &f->rep), 0);
    assert_int_equal(f->rep.up_to_date, 0);
    assert_int_equal(f->rep.rows, 7 + 50 + 60 + 285);
    assert_int_equal(f->rep.created, f->rep.rows);
    assert_int_equal(f->rep.error_count, 0);
    assert_int_equal(comp_count(f, "AFCON-2025"), 24);
    assert_int_equal(comp_count(f, "EPL-2025"), 20);
    assert_int_equal(comp_count(f, "UCL-2025"), 36);
    assert_int_equal(comp_count(f, "WC-2026"), 42);
    assert_int_equal(comp_count(f, "ASHES-2025"), 30);
    assert_int_equal(comp_count(f, "NZENG-ODI-2025"), 30);
    assert_int_equal(comp_count(f, "IPL-2026"), 251);
    store_competition_t comps[16];
    size_t n = 0;
    assert_int_equal(store_competitions_list(f->store, "cricket", comps, 16, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(comps[0].code, "ASHES-2025"); /* by code */
    assert_string_equal(comps[0].season, "2025/26");
    store_sport_t sports[4];
    assert_int_equal(store_sports_list(f->store, sports, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(sports[0].key, "cricket");
    assert_string_equal(sports[1].asset_label, "Team");
    char version[64], want[64];
    catalogue_shipped_version(want, sizeof(want));
    assert_int_equal(store_meta_get(f->store, CATALOGUE_VERSION_KEY, version, sizeof(version)), 0);
    assert_string_equal(version, want);
}

static void test_shipped_mapping(void **state)
{
    cat_fixture_t *f = *state;
    store_asset_t a;
    assert_int_equal(store_asset_get(f->store, "fb-arsenal-fc", &a), 0);
    assert_string_equal(a.sport, "football");
    assert_string_equal(a.name, "Arsenal FC");
    assert_string_equal(a.short_name, "ARS");
    assert_string_equal(a.country, "England");
    assert_string_equal(a.provider_ids, "{\"footballData\":\"57\"}");
    assert_string_equal(a.competitions, "[\"EPL-2025\",\"UCL-2025\"]");
    assert_int_equal(store_asset_get(f->store, "fb-afc-ajax", &a), 0);
    assert_string_equal(a.short_name, "");
    assert_int_equal(store_asset_get(f->store, "nt-c-te-d-ivoire", &a), 0);
    assert_string_equal(a.name, "Côte d'Ivoire");
    assert_string_equal(a.country, "Côte d'Ivoire");
    assert_string_equal(a.provider_ids, "{}");
    assert_string_equal(a.competitions, "[\"WC-2026\"]");
    assert_int_equal(store_asset_get(f->store, "ck-travis-head", &a), 0);
    assert_string_equal(a.sport, "cricket");
    assert_string_equal(a.team, "Sunrisers Hyderabad");
    assert_string_equal(a.country, "Australia");
    assert_string_equal(a.role, "Batsman");
    assert_string_equal(a.competitions, "[\"ASHES-2025\",\"IPL-2026\"]");
    assert_int_equal(store_asset_get(f->store, "nope", &a), GV_ENOT_FOUND);
}

static void test_shipped_load_is_idempotent(void **state)
{
    cat_fixture_t *f = *state;
    assert_int_equal(catalogue_load_shipped(f->store, T0 + 5, &f->rep), 0);
    assert_int_equal(f->rep.up_to_date, 1);
    assert_int_equal(f->rep.rows, 0);
    /* Forgetting the version re-imports everything: nothing changes. */
    assert_int_equal(store_meta_set(f->store, CATALOGUE_VERSION_KEY, "0-old"), 0);
    catalogue_report_deinit(&f->rep);
    assert_int_equal(catalogue_load_shipped(f->store, T0 + 6, &f->rep), 0);
    assert_int_equal(f->rep.up_to_date, 0);
    assert_int_equal(f->rep.created + f->rep.updated, 0);
    assert_int_equal(f->rep.skipped, 402);
    assert_int_equal(comp_count(f, "IPL-2026"), 251);
}

/* ---- files with errors ----------------------------------------------------------------------- */

static void test_bad_row_reports_its_line_and_writes_nothing(void **state)
{
    cat_fixture_t *f = *state;
    const char *csv = "id,sport,name,competitions\n"
                      "x-one,football,One FC,EPL-2025\n"
                      "\"x-two\",football,\"Two\nLines\",EPL-2025\n" /* lines 3 and 4 */
                      "x-three,football,Three FC,NOPE-2025\n"        /* line 5 */
                      "x-four,football,Four FC,IPL-2026\n"           /* cricket competition */
                      "x-one,football,Again,\n"                      /* duplicate id */
                      "x-five,golf,Five,\n"
                      "x-six,football,,\n"
                      "x-seven,football\n";
    store_asset_t a;
    assert_int_equal(import_str(f, "assets", csv, 0), GV_EINVALID_REQUEST);
    assert_int_equal(f->rep.file_error, 0);
    assert_int_equal(f->rep.error_count, 7);
    assert_int_equal(f->rep.errors[0].line, 3);
    assert_string_equal(f->rep.errors[0].code, "invalid_value"); /* a newline in a name */
    assert_int_equal(f->rep.errors[1].line, 5);
    assert_string_equal(f->rep.errors[1].code, "unknown_competition");
    assert_non_null(strstr(f->rep.errors[1].message, "NOPE-2025"));
    assert_string_equal(f->rep.errors[2].code, "wrong_sport");
    assert_int_equal(f->rep.errors[3].line, 7);
    assert_string_equal(f->rep.errors[3].code, "duplicate_id");
    assert_string_equal(f->rep.errors[4].code, "unknown_sport");
    assert_string_equal(f->rep.errors[5].code, "missing_field");
    assert_int_equal(f->rep.errors[6].line, 10);
    assert_string_equal(f->rep.errors[6].code, "field_count");
    assert_int_equal(f->rep.rows, 8);
    assert_int_equal(f->rep.created, 0);
    assert_int_equal(store_asset_get(f->store, "x-one", &a), GV_ENOT_FOUND);
}

static void test_partial_writes_the_good_rows(void **state)
{
    cat_fixture_t *f = *state;
    const char *csv = "id,sport,name,competitions,provider_ids\r\n"
                      "x-one,football,One FC,EPL-2025;UCL-2025,footballData=1;opta=t9\r\n"
                      "x-bad,football,Bad FC,NOPE\r\n"
                      "x-two,cricket,Two,IPL-2026,\r\n";
    store_asset_t a;
    assert_int_equal(import_str(f, "assets", csv, CATALOGUE_PARTIAL), 0);
    assert_int_equal(f->rep.created, 2);
    assert_int_equal(f->rep.error_count, 1);
    assert_int_equal(f->rep.errors[0].line, 3);
    assert_int_equal(store_asset_get(f->store, "x-one", &a), 0);
    assert_string_equal(a.provider_ids, "{\"footballData\":\"1\",\"opta\":\"t9\"}");
    assert_int_equal(comp_count(f, "EPL-2025"), 21);
    /* The same file again: nothing new, nothing changed. */
    assert_int_equal(import_str(f, "assets", csv, CATALOGUE_PARTIAL), 0);
    assert_int_equal(f->rep.created + f->rep.updated, 0);
    assert_int_equal(f->rep.skipped, 2);
    /* A changed row is an update; its memberships follow. */
    assert_int_equal(
        import_str(f, "assets", "id,sport,name,competitions\nx-one,football,One,EPL-2025\n", 0), 0);
    assert_int_equal(f->rep.updated, 1);
    assert_int_equal(store_asset_get(f->store, "x-one", &a), 0);
    assert_string_equal(a.competitions, "[\"EPL-2025\"]");
    assert_string_equal(a.provider_ids, "{}");
    assert_int_equal(comp_count(f, "UCL-2025"), 36);
    /* An asset keeps its sport. */
    assert_int_equal(import_str(f, "assets", "id,sport,name\nx-one,cricket,One\n", 0),
                     GV_EINVALID_REQUEST);
    assert_string_equal(f->rep.errors[0].code, "conflict");
}

static void check_file_error(cat_fixture_t *f, const char *kind, const char *csv, const char *code,
                             int line)
{
    assert_int_equal(import_str(f, kind, csv, CATALOGUE_PARTIAL), GV_EINVALID_REQUEST);
    assert_int_equal(f->rep.file_error, 1);
    assert_int_equal(f->rep.nerrors, 1);
    assert_string_equal(f->rep.errors[0].code, code);
    assert_int_equal(f->rep.errors[0].line, line);
    assert_int_equal(f->rep.created, 0);
}

static void test_header_and_file_errors(void **state)
{
    cat_fixture_t *f = *state;
    check_file_error(f, "assets", "id,sport,name,colour\nx,football,X,red\n", "unknown_column", 1);
    check_file_error(f, "assets", "id,sport,name,name\n", "duplicate_column", 1);
    check_file_error(f, "assets", "id,name\nx,X\n", "missing_column", 1);
    check_file_error(f, "competitions", "", "missing_header", 1);
    check_file_error(f, "assets", "id,sport,name\nx,football,\xC3\x28\n", "invalid_csv", 2);
    check_file_error(f, "assets", "id,sport,name\nx,football,\"open\n", "invalid_csv", 2);
    check_file_error(f, "players", "id\n", "unknown_kind", 0);
    /* the header is matched case-insensitively, spaces around ignored, any order, BOM skipped */
    assert_int_equal(import_str(f, "football_clubs", "\xEF\xBB\xBF Name ,ID\nX FC,fb-x\n\n", 0), 0);
    assert_int_equal(f->rep.created, 1);
    assert_int_equal(f->rep.rows, 1); /* the blank line is not a row */
}

static void test_competitions_import(void **state)
{
    cat_fixture_t *f = *state;
    assert_int_equal(import_str(f, "competitions",
                                "code,sport,name,season\nEPL-2025,football,English Premier "
                                "League,2025/26\nLIGA-2025,football,La Liga,2025/26\n",
                                0),
                     0);
    assert_int_equal(f->rep.skipped, 1);
    assert_int_equal(f->rep.created, 1);
    assert_int_equal(import_str(f, "competitions", "code,sport,name\nEPL-2025,cricket,EPL\n", 0),
                     GV_EINVALID_REQUEST);
    assert_string_equal(f->rep.errors[0].code, "conflict");
    assert_int_equal(import_str(f, "competitions", "code,sport,name\nbad code,football,X\n", 0),
                     GV_EINVALID_REQUEST);
    assert_string_equal(f->rep.errors[0].code, "invalid_value");
}

static void test_json_import(void **state)
{
    cat_fixture_t *f = *state;
    json_t *items = json_loads(
        "[{\"id\":\"j-one\",\"sport\":\"cricket\",\"name\":\"J One\",\"team\":\"Team\","
        "\"role\":\"Bowler\",\"providerIds\":{\"b\":\"2\",\"a\":\"1\"},"
        "\"competitions\":[\"IPL-2026\",\"IPL-2026\"]},"
        "{\"id\":\"j-two\",\"sport\":\"cricket\",\"name\":\"J Two\",\"colour\":\"red\"},"
        "{\"id\":\"j-three\",\"sport\":\"cricket\",\"name\":5},"
        "7,"
        "{\"id\":\"j-four\",\"sport\":\"cricket\",\"name\":\"J Four\",\"shortName\":null}]",
        0, NULL);
    assert_non_null(items);
    catalogue_report_deinit(&f->rep);
    assert_int_equal(catalogue_import_json(f->store, items, 0, T0, &f->rep), GV_EINVALID_REQUEST);
    assert_int_equal(f->rep.error_count, 3);
    assert_int_equal(f->rep.errors[0].line, 2);
    assert_string_equal(f->rep.errors[0].code, "unknown_field");
    assert_int_equal(f->rep.errors[1].line, 3);
    assert_int_equal(f->rep.errors[2].line, 4);
    catalogue_report_deinit(&f->rep);
    assert_int_equal(catalogue_import_json(f->store, items, CATALOGUE_PARTIAL, T0, &f->rep), 0);
    assert_int_equal(f->rep.created, 2);
    store_asset_t a;
    assert_int_equal(store_asset_get(f->store, "j-one", &a), 0);
    assert_string_equal(a.provider_ids, "{\"a\":\"1\",\"b\":\"2\"}");
    assert_string_equal(a.competitions, "[\"IPL-2026\"]");
    json_decref(items);
}

/* ---- queries --------------------------------------------------------------------------------- */

static void test_paging_has_no_gaps_or_repeats(void **state)
{
    cat_fixture_t *f = *state;
    /* names equal but for case, and equal names: the id breaks the tie */
    assert_int_equal(import_str(f, "assets",
                                "id,sport,name\nz-1,cricket,abc\nz-2,cricket,ABC\nz-0,cricket,"
                                "Abc\nz-3,cricket,abc\n",
                                0),
                     0);
    static char a[400][STORE_ASSET_ID_MAX], b[400][STORE_ASSET_ID_MAX];
    store_asset_query_t q = {.sport = "cricket", .limit = 7};
    size_t n7 = list_all(f, q, a, 400);
    q.limit = 500;
    size_t n500 = list_all(f, q, b, 400);
    assert_int_equal(n7, 285 + 4);
    assert_int_equal(n500, n7);
    for (size_t i = 0; i < n7; i++) {
        assert_string_equal(a[i], b[i]);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(a[i], a[j]);
    }
    q = (store_asset_query_t){.competition = "AFCON-2025", .limit = 10};
    assert_int_equal(list_all(f, q, a, 400), 24);
    q = (store_asset_query_t){.limit = 3};
    assert_int_equal(list_all(f, q, a, 400), 395 + 4);
    q = (store_asset_query_t){.limit = 0};
    store_asset_t one;
    size_t n;
    int more;
    assert_int_equal(store_assets_list(f->store, &q, &one, 1, &n, &more), GV_EINVALID_REQUEST);
}

static size_t search(cat_fixture_t *f, const char *text, char ids[][STORE_ASSET_ID_MAX])
{
    store_asset_query_t q = {.q = text, .limit = 50};
    return list_all(f, q, ids, 400);
}

static void test_search_is_literal_and_case_insensitive(void **state)
{
    cat_fixture_t *f = *state;
    static char ids[400][STORE_ASSET_ID_MAX];
    assert_int_equal(import_str(f, "assets",
                                "id,sport,name\nm-pct,football,100% Club\nm-und,football,A_B "
                                "United\nm-bs,football,Back\\slash FC\nm-dot,football,Dot.Star*\n",
                                0),
                     0);
    assert_int_equal(search(f, "arsenal", ids), 1);
    assert_string_equal(ids[0], "fb-arsenal-fc");
    assert_int_equal(search(f, "ARSENAL fc", ids), 1);
    assert_int_equal(search(f, "%", ids), 1);
    assert_string_equal(ids[0], "m-pct");
    assert_int_equal(search(f, "_", ids), 1);
    assert_string_equal(ids[0], "m-und");
    assert_int_equal(search(f, "\\", ids), 1);
    assert_string_equal(ids[0], "m-bs");
    assert_int_equal(search(f, ".*", ids), 0);
    assert_int_equal(search(f, "t.S", ids), 1);
    assert_int_equal(search(f, "[a-z]", ids), 0);
    assert_int_equal(search(f, "%%", ids), 0);
    assert_int_equal(search(f, "a%b", ids), 0);
    assert_int_equal(search(f, "d'Iv", ids), 1);
    /* search with the other filters */
    store_asset_query_t q = {.q = "united", .competition = "EPL-2025", .limit = 50};
    assert_int_equal(list_all(f, q, ids, 400), 4); /* Leeds, Man Utd, Newcastle, West Ham */
}

/* ---- the store's upsert ---------------------------------------------------------------------- */

static void test_upsert_inside_and_outside_a_transaction(void **state)
{
    cat_fixture_t *f = *state;
    store_asset_t a, got;
    memset(&a, 0, sizeof(a));
    snprintf(a.id, sizeof(a.id), "u-one");
    snprintf(a.sport, sizeof(a.sport), "football");
    snprintf(a.name, sizeof(a.name), "U One");
    snprintf(a.provider_ids, sizeof(a.provider_ids), "{\"z\":\"1\", \"a\":\"2\"}");
    const char *codes[] = {"UCL-2025", "EPL-2025", "UCL-2025"};
    int created = -1;
    assert_int_equal(store_tx_begin(f->store), 0);
    assert_int_equal(store_asset_upsert(f->store, &a, codes, 3, T0, &created), 0);
    assert_int_equal(created, 1);
    assert_int_equal(store_asset_get(f->store, "u-one", &got), 0);
    assert_int_equal(store_tx_rollback(f->store), 0);
    assert_int_equal(store_asset_get(f->store, "u-one", &got), GV_ENOT_FOUND);
    /* outside a transaction: its own */
    assert_int_equal(store_asset_upsert(f->store, &a, codes, 3, T0, &created), 0);
    assert_int_equal(created, 1);
    assert_int_equal(store_asset_get(f->store, "u-one", &got), 0);
    assert_string_equal(got.provider_ids, "{\"a\":\"2\",\"z\":\"1\"}");
    assert_string_equal(got.competitions, "[\"EPL-2025\",\"UCL-2025\"]");
    store_upsert_t outcome = 0;
    assert_int_equal(store_asset_save(f->store, &a, codes + 1, 2, T0 + 1, &outcome), 0);
    assert_int_equal(outcome, STORE_UPSERT_UNCHANGED);
    /* refusals change nothing */
    const char *cricket[] = {"EPL-2025", "IPL-2026"};
    assert_int_equal(store_asset_save(f->store, &a, cricket, 2, T0, &outcome), GV_EINVALID_REQUEST);
    snprintf(a.provider_ids, sizeof(a.provider_ids), "[1]");
    assert_int_equal(store_asset_save(f->store, &a, codes, 1, T0, &outcome), GV_EINVALID_REQUEST);
    snprintf(a.provider_ids, sizeof(a.provider_ids), "{}");
    snprintf(a.sport, sizeof(a.sport), "cricket");
    assert_int_equal(store_asset_save(f->store, &a, NULL, 0, T0, &outcome), GV_ECONFLICT);
    assert_int_equal(store_asset_get(f->store, "u-one", &got), 0);
    assert_string_equal(got.sport, "football");
    assert_string_equal(got.competitions, "[\"EPL-2025\",\"UCL-2025\"]");
}

/* ---- what each save reports ------------------------------------------------------------------ */

static store_competition_t comp_of(const char *code, const char *sport, const char *name,
                                   const char *season)
{
    store_competition_t c;
    memset(&c, 0, sizeof(c));
    snprintf(c.code, sizeof(c.code), "%s", code);
    snprintf(c.sport, sizeof(c.sport), "%s", sport);
    snprintf(c.name, sizeof(c.name), "%s", name);
    snprintf(c.season, sizeof(c.season), "%s", season);
    return c;
}

static store_asset_t asset_of(const char *id, const char *sport, const char *name)
{
    store_asset_t a;
    memset(&a, 0, sizeof(a));
    snprintf(a.id, sizeof(a.id), "%s", id);
    snprintf(a.sport, sizeof(a.sport), "%s", sport);
    snprintf(a.name, sizeof(a.name), "%s", name);
    snprintf(a.provider_ids, sizeof(a.provider_ids), "{}");
    return a;
}

static void test_competition_save_outcomes(void **state)
{
    cat_fixture_t *f = *state;
    store_competition_t c = comp_of("ZZ-1", "football", "Zed League", "2025"), got;
    store_upsert_t outcome = 0;
    assert_int_equal(store_competition_get(f->store, "ZZ-1", &got), GV_ENOT_FOUND);
    assert_int_equal(store_competition_save(f->store, &c, &outcome), 0);
    assert_int_equal(outcome, STORE_UPSERT_CREATED);
    assert_int_equal(store_competition_save(f->store, &c, &outcome), 0);
    assert_int_equal(outcome, STORE_UPSERT_UNCHANGED);
    snprintf(c.season, sizeof(c.season), "2025/26");
    assert_int_equal(store_competition_save(f->store, &c, &outcome), 0);
    assert_int_equal(outcome, STORE_UPSERT_UPDATED);
    snprintf(c.name, sizeof(c.name), "Zed League 2");
    assert_int_equal(store_competition_upsert(f->store, &c), 0);
    assert_int_equal(store_competition_get(f->store, "ZZ-1", &got), 0);
    assert_string_equal(got.sport, "football");
    assert_string_equal(got.name, "Zed League 2");
    assert_string_equal(got.season, "2025/26");
    assert_int_equal(got.asset_count, 0);
    /* refusals change nothing */
    store_competition_t other = comp_of("ZZ-1", "cricket", "Other", "");
    assert_int_equal(store_competition_save(f->store, &other, &outcome), GV_ECONFLICT);
    other = comp_of("ZZ-2", "golf", "Other", "");
    assert_int_equal(store_competition_save(f->store, &other, &outcome), GV_EINVALID_REQUEST);
    other = comp_of("ZZ-1", "golf", "Other", ""); /* the sport is checked first */
    assert_int_equal(store_competition_save(f->store, &other, &outcome), GV_EINVALID_REQUEST);
    other = comp_of("ZZ-3", "football", "", "");
    assert_int_equal(store_competition_save(f->store, &other, &outcome), GV_EINVALID_REQUEST);
    assert_int_equal(store_competition_get(f->store, "ZZ-1", &got), 0);
    assert_string_equal(got.name, "Zed League 2");
    assert_int_equal(store_competition_get(f->store, "ZZ-2", &got), GV_ENOT_FOUND);
    /* every sport's, by code in byte order (capitals before lower case), with their counts */
    c = comp_of("aa-1", "cricket", "Lower", "");
    assert_int_equal(store_competition_save(f->store, &c, &outcome), 0);
    store_asset_t a = asset_of("zz-a", "cricket", "A");
    const char *codes[] = {"aa-1"};
    assert_int_equal(store_asset_save(f->store, &a, codes, 1, T0, &outcome), 0);
    store_competition_t comps[4];
    size_t n = 0;
    assert_int_equal(store_competitions_list(f->store, NULL, comps, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(comps[0].code, "ZZ-1");
    assert_string_equal(comps[1].code, "aa-1");
    assert_int_equal(comps[1].asset_count, 1);
    assert_int_equal(store_competitions_list(f->store, "cricket", comps, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_competitions_list(f->store, "football", comps, 1, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(comps[0].code, "ZZ-1");
    assert_int_equal(store_competitions_list(f->store, "golf", comps, 4, &n), 0);
    assert_int_equal(n, 0);
    store_sport_t sports[2];
    assert_int_equal(store_sports_list(f->store, sports, 1, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(sports[0].key, "cricket");
    assert_non_null(strstr(sports[0].scoring, "\"wicket\":20"));
}

static int64_t updated_ms(cat_fixture_t *f, const char *id)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT updated_ms FROM assets WHERE id = '%s'", id);
    return backend_i64(f->store, sql, NULL);
}

static void test_asset_save_outcomes(void **state)
{
    cat_fixture_t *f = *state;
    store_asset_t a = asset_of("o-one", "football", "O One"), got;
    store_upsert_t outcome = 0;
    const char *both[] = {"UCL-2025", "EPL-2025"}, *one[] = {"EPL-2025"};
    assert_int_equal(store_asset_save(f->store, &a, both, 2, T0, &outcome), 0);
    assert_int_equal(outcome, STORE_UPSERT_CREATED);
    assert_int_equal(updated_ms(f, "o-one"), T0);
    assert_int_equal(store_asset_save(f->store, &a, both, 2, T0 + 1, &outcome), 0);
    assert_int_equal(outcome, STORE_UPSERT_UNCHANGED);
    assert_int_equal(updated_ms(f, "o-one"), T0);
    /* memberships alone: an update that leaves the row's time */
    assert_int_equal(store_asset_save(f->store, &a, one, 1, T0 + 2, &outcome), 0);
    assert_int_equal(outcome, STORE_UPSERT_UPDATED);
    assert_int_equal(updated_ms(f, "o-one"), T0);
    assert_int_equal(store_asset_get(f->store, "o-one", &got), 0);
    assert_string_equal(got.competitions, "[\"EPL-2025\"]");
    /* a field: the row's time moves, the memberships stay */
    snprintf(a.team, sizeof(a.team), "Team \xc3\x89");
    assert_int_equal(store_asset_save(f->store, &a, one, 1, T0 + 3, &outcome), 0);
    assert_int_equal(outcome, STORE_UPSERT_UPDATED);
    assert_int_equal(updated_ms(f, "o-one"), T0 + 3);
    assert_int_equal(store_asset_get(f->store, "o-one", &got), 0);
    assert_string_equal(got.team, "Team \xc3\x89");
    assert_string_equal(got.competitions, "[\"EPL-2025\"]");
    /* provider ids compare canonically: key order and spacing do not make a change */
    snprintf(a.provider_ids, sizeof(a.provider_ids), "{\"b\":\"2\",\"a\":\"1\"}");
    assert_int_equal(store_asset_save(f->store, &a, one, 1, T0 + 4, &outcome), 0);
    assert_int_equal(outcome, STORE_UPSERT_UPDATED);
    snprintf(a.provider_ids, sizeof(a.provider_ids), "{ \"a\" : \"1\", \"b\" : \"2\" }");
    assert_int_equal(store_asset_save(f->store, &a, one, 1, T0 + 5, &outcome), 0);
    assert_int_equal(outcome, STORE_UPSERT_UNCHANGED);
    /* no memberships at all */
    assert_int_equal(store_asset_save(f->store, &a, NULL, 0, T0 + 6, &outcome), 0);
    assert_int_equal(outcome, STORE_UPSERT_UPDATED);
    assert_int_equal(store_asset_get(f->store, "o-one", &got), 0);
    assert_string_equal(got.competitions, "[]");
    assert_string_equal(got.provider_ids, "{\"a\":\"1\",\"b\":\"2\"}");
    assert_int_equal(comp_count(f, "EPL-2025"), 20); /* the shipped 20, without o-one */
    /* an unknown sport or competition is refused */
    store_asset_t bad = asset_of("o-two", "golf", "Two");
    assert_int_equal(store_asset_save(f->store, &bad, NULL, 0, T0, &outcome), GV_EINVALID_REQUEST);
    bad = asset_of("o-two", "football", "Two");
    const char *nope[] = {"NOPE"};
    assert_int_equal(store_asset_save(f->store, &bad, nope, 1, T0, &outcome), GV_EINVALID_REQUEST);
    assert_int_equal(store_asset_get(f->store, "o-two", &got), GV_ENOT_FOUND);
}

/* A refusal inside the caller's transaction leaves it usable: what came before and after it
 * commits (on PostgreSQL no statement may have failed in it). */
static void test_refusal_keeps_the_transaction(void **state)
{
    cat_fixture_t *f = *state;
    store_asset_t a = asset_of("t-one", "football", "T One"), got;
    store_competition_t c = comp_of("EPL-2025", "cricket", "EPL", "");
    store_upsert_t outcome = 0;
    const char *cricket[] = {"IPL-2026"};
    assert_int_equal(store_tx_begin(f->store), 0);
    assert_int_equal(store_asset_save(f->store, &a, NULL, 0, T0, &outcome), 0);
    assert_int_equal(store_asset_save(f->store, &a, cricket, 1, T0, &outcome), GV_EINVALID_REQUEST);
    snprintf(a.sport, sizeof(a.sport), "cricket");
    assert_int_equal(store_asset_save(f->store, &a, NULL, 0, T0, &outcome), GV_ECONFLICT);
    assert_int_equal(store_competition_save(f->store, &c, &outcome), GV_ECONFLICT);
    store_asset_t b = asset_of("t-two", "cricket", "T Two");
    assert_int_equal(store_asset_save(f->store, &b, cricket, 1, T0, &outcome), 0);
    assert_int_equal(outcome, STORE_UPSERT_CREATED);
    assert_int_equal(store_meta_set(f->store, "t-key", "t-value"), 0);
    assert_int_equal(store_tx_commit(f->store), 0);
    assert_int_equal(store_asset_get(f->store, "t-one", &got), 0);
    assert_string_equal(got.sport, "football");
    assert_int_equal(store_asset_get(f->store, "t-two", &got), 0);
    assert_string_equal(got.competitions, "[\"IPL-2026\"]");
    char v[16];
    assert_int_equal(store_meta_get(f->store, "t-key", v, sizeof(v)), 0);
    assert_string_equal(v, "t-value");
    assert_int_equal(comp_count(f, "EPL-2025"), 20);
}

static void test_meta(void **state)
{
    cat_fixture_t *f = *state;
    char v[8];
    assert_int_equal(store_meta_get(f->store, "m-key", v, sizeof(v)), GV_ENOT_FOUND);
    assert_int_equal(store_meta_set(f->store, "m-key", "one"), 0);
    assert_int_equal(store_meta_get(f->store, "m-key", v, sizeof(v)), 0);
    assert_string_equal(v, "one");
    assert_int_equal(store_meta_set(f->store, "m-key", "1234567"), 0); /* replaced; just fits */
    assert_int_equal(store_meta_get(f->store, "m-key", v, sizeof(v)), 0);
    assert_string_equal(v, "1234567");
    assert_int_equal(store_meta_set(f->store, "m-key", "12345678"), 0);
    assert_int_equal(store_meta_get(f->store, "m-key", v, sizeof(v)), GV_ELIMIT);
    assert_int_equal(store_meta_set(f->store, "m-empty", ""), 0);
    assert_int_equal(store_meta_get(f->store, "m-empty", v, sizeof(v)), 0);
    assert_string_equal(v, "");
    assert_int_equal(backend_i64(f->store, "SELECT count(*) FROM meta WHERE key LIKE 'm-%'", NULL),
                     2);
}

/* A claim sets a key only when it has no value; every claimant, on any connection, reads the
 * first one's value; a value that does not fit is GV_ELIMIT and claims nothing more. */
static void test_meta_claim_keeps_the_first(void **state)
{
    cat_fixture_t *f = *state;
    store_t *other = NULL;
    assert_int_equal(backend_db_open(&f->db, &other), 0);
    char v[8];
    assert_int_equal(store_meta_claim(f->store, "c-key", "first", v, sizeof(v)), 0);
    assert_string_equal(v, "first");
    assert_int_equal(store_meta_claim(other, "c-key", "second", v, sizeof(v)), 0);
    assert_string_equal(v, "first");
    assert_int_equal(store_meta_claim(f->store, "c-key", "third", v, sizeof(v)), 0);
    assert_string_equal(v, "first");
    assert_int_equal(store_meta_claim(other, "c-long", "12345678", v, sizeof(v)), GV_ELIMIT);
    assert_int_equal(store_meta_claim(f->store, "c-long", "short", v, sizeof(v)), GV_ELIMIT);
    assert_int_equal(backend_i64(f->store, "SELECT count(*) FROM meta WHERE key LIKE 'c-%'", NULL),
                     2);
    store_close(other);
}

/* Names that differ only in the case of a letter outside ASCII are not folded together, in the
 * order nor in the search (SQLite's NOCASE and LIKE fold ASCII only); paging one by one sees
 * the same order. */
static void test_case_folding_is_ascii_only(void **state)
{
    cat_fixture_t *f = *state;
    struct {
        const char *id, *name;
    } rows[] = {
        {"e-1", "\xc3\xa9mile"}, /* émile */
        {"e-2", "\xc3\x89mile"}, /* Émile */
        {"e-3", "EMILE"},        {"e-4", "emile"}, {"e-5", "Zola"}, {"e-6", "_mile"},
    };
    store_upsert_t outcome;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        store_asset_t a = asset_of(rows[i].id, "football", rows[i].name);
        assert_int_equal(store_asset_save(f->store, &a, NULL, 0, T0, &outcome), 0);
    }
    static char ids[16][STORE_ASSET_ID_MAX];
    const char *want[] = {"e-6", "e-3", "e-4", "e-5", "e-2", "e-1"}; /* _ < e; Z < é */
    store_asset_query_t q = {.sport = "football", .limit = 1};
    assert_int_equal(list_all(f, q, ids, 16), 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(ids[i], want[i]);
    assert_int_equal(search(f, "\xc3\xa9MILE", ids), 1); /* the ASCII letters fold */
    assert_string_equal(ids[0], "e-1");
    assert_int_equal(search(f, "\xc3\x89mile", ids), 1);
    assert_string_equal(ids[0], "e-2");
    assert_int_equal(search(f, "Mile", ids), 5);
    assert_int_equal(search(f, "_m", ids), 1);
    assert_string_equal(ids[0], "e-6");
    /* a key inside the ties: the page starts after it */
    store_asset_t page[4];
    size_t n = 0;
    int more = 0;
    q = (store_asset_query_t){.after_name = "EMILE", .after_id = "e-3", .limit = 4};
    assert_int_equal(store_assets_list(f->store, &q, page, 4, &n, &more), 0);
    assert_int_equal(n, 4);
    assert_int_equal(more, 0);
    assert_string_equal(page[0].id, "e-4");
    assert_string_equal(page[3].id, "e-1");
    q.limit = 5;
    assert_int_equal(store_assets_list(f->store, &q, page, 3, &n, &more), 0);
    assert_int_equal(n, 3); /* max caps the page below the limit */
    assert_int_equal(more, 1);
    assert_string_equal(page[2].id, "e-2");
    q = (store_asset_query_t){.after_name = "", .after_id = "e-3", .limit = 4};
    assert_int_equal(store_assets_list(f->store, &q, page, 4, &n, &more), GV_EINVALID_REQUEST);
}

/* ---- saves racing on two connections ----------------------------------------------------------
 */

typedef struct {
    store_t *store;
    int is_asset;
    int rc;
    store_upsert_t outcome;
} racer_t;

/* Saves the racing row (a different name from the first saver's) on its own connection. */
static void *race_save(void *arg)
{
    racer_t *r = arg;
    if (r->is_asset) {
        store_asset_t a = asset_of("r-one", "football", "Second");
        const char *codes[] = {"EPL-2025"};
        r->rc = store_asset_save(r->store, &a, codes, 1, T0 + 1, &r->outcome);
    } else {
        store_competition_t c = comp_of("R-1", "football", "Second", "");
        r->rc = store_competition_save(r->store, &c, &r->outcome);
    }
    return NULL;
}

/* The first saver creates the row in a transaction it holds open while the second saves the
 * same key: the second waits, then finds the row and updates it. */
static void race_once(cat_fixture_t *f, int is_asset)
{
    racer_t r = {.is_asset = is_asset, .rc = -1};
    assert_int_equal(backend_db_open(&f->db, &r.store), 0);
    store_asset_t a = asset_of("r-one", "football", "First");
    store_competition_t c = comp_of("R-1", "football", "First", "");
    store_upsert_t outcome = 0;
    assert_int_equal(store_tx_begin(f->store), 0);
    if (is_asset)
        assert_int_equal(store_asset_save(f->store, &a, NULL, 0, T0, &outcome), 0);
    else
        assert_int_equal(store_competition_save(f->store, &c, &outcome), 0);
    assert_int_equal(outcome, STORE_UPSERT_CREATED);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, race_save, &r), 0);
    usleep(300 * 1000); /* the second saver is waiting for the first's lock */
    assert_int_equal(store_tx_commit(f->store), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    store_close(r.store);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.outcome, STORE_UPSERT_UPDATED);
    if (is_asset) {
        assert_int_equal(store_asset_get(f->store, "r-one", &a), 0);
        assert_string_equal(a.name, "Second");
        assert_string_equal(a.competitions, "[\"EPL-2025\"]");
    } else {
        assert_int_equal(store_competition_get(f->store, "R-1", &c), 0);
        assert_string_equal(c.name, "Second");
    }
}

static void test_saves_race_on_two_connections(void **state)
{
    cat_fixture_t *f = *state;
    race_once(f, 0);
    race_once(f, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shipped_load_counts, cat_setup, cat_teardown),
        cmocka_unit_test_setup_teardown(test_shipped_mapping, cat_setup_loaded, cat_teardown),
        cmocka_unit_test_setup_teardown(test_shipped_load_is_idempotent, cat_setup_loaded,
                                        cat_teardown),
        cmocka_unit_test_setup_teardown(test_bad_row_reports_its_line_and_writes_nothing,
                                        cat_setup_loaded, cat_teardown),
        cmocka_unit_test_setup_teardown(test_partial_writes_the_good_rows, cat_setup_loaded,
                                        cat_teardown),
        cmocka_unit_test_setup_teardown(test_header_and_file_errors, cat_setup_loaded,
                                        cat_teardown),
        cmocka_unit_test_setup_teardown(test_competitions_import, cat_setup_loaded, cat_teardown),
        cmocka_unit_test_setup_teardown(test_json_import, cat_setup_loaded, cat_teardown),
        cmocka_unit_test_setup_teardown(test_paging_has_no_gaps_or_repeats, cat_setup_loaded,
                                        cat_teardown),
        cmocka_unit_test_setup_teardown(test_search_is_literal_and_case_insensitive,
                                        cat_setup_loaded, cat_teardown),
        cmocka_unit_test_setup_teardown(test_upsert_inside_and_outside_a_transaction,
                                        cat_setup_loaded, cat_teardown),
        cmocka_unit_test_setup_teardown(test_competition_save_outcomes, cat_setup, cat_teardown),
        cmocka_unit_test_setup_teardown(test_asset_save_outcomes, cat_setup_loaded, cat_teardown),
        cmocka_unit_test_setup_teardown(test_refusal_keeps_the_transaction, cat_setup_loaded,
                                        cat_teardown),
        cmocka_unit_test_setup_teardown(test_meta, cat_setup, cat_teardown),
        cmocka_unit_test_setup_teardown(test_meta_claim_keeps_the_first, cat_setup, cat_teardown),
        cmocka_unit_test_setup_teardown(test_case_folding_is_ascii_only, cat_setup, cat_teardown),
        cmocka_unit_test_setup_teardown(test_saves_race_on_two_connections, cat_setup_loaded,
                                        cat_teardown),
    };
    return BACKEND_RUN_BOTH("catalogue", tests);
}
