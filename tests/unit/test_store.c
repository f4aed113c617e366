/* Unit tests of what only the SQLite backend has, against real SQLite in a temporary directory:
 * opening its data directory, its pragmas, the write lock and the walbuf VFS. The generic
 * operations (migrations, health, transactions) run on both backends in test_store_tx.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "store/store.h"
#include "store/store_int.h"

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../tmpdir.h"

typedef struct {
    char base[64];  /* mkdtemp directory, removed in teardown */
    char dir[128];  /* base/data: the data dir, created by store_open */
    store_t *store; /* opened by setup_open */
} fixture_t;

static int setup_dir(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    snprintf(f->base, sizeof(f->base), "/tmp/gavel-store-XXXXXX");
    if (mkdtemp(f->base) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "%s/data", f->base);
    *state = f;
    return 0;
}

static int setup_open(void **state)
{
    if (setup_dir(state) != 0)
        return -1;
    fixture_t *f = *state;
    return store_open(&f->store, f->dir) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    store_close(f->store);
    int rc = tmpdir_remove(f->base);
    free(f);
    return rc;
}

static sqlite3 *db_of(fixture_t *f)
{
    sqlite3 *db = store_sqlite_handle(f->store);
    assert_non_null(db);
    return db;
}

/* Runs a query on the store's connection and returns its first column as text (static buffer). */
static const char *query_text(fixture_t *f, const char *sql)
{
    static char out[128];
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(SQLITE_OK, sqlite3_prepare_v2(db_of(f), sql, -1, &stmt, NULL));
    assert_int_equal(SQLITE_ROW, sqlite3_step(stmt));
    snprintf(out, sizeof(out), "%s", (const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    return out;
}

static int query_int(fixture_t *f, const char *sql)
{
    return atoi(query_text(f, sql));
}

static void exec_ok(fixture_t *f, const char *sql)
{
    assert_int_equal(SQLITE_OK, sqlite3_exec(db_of(f), sql, NULL, NULL, NULL));
}

/* ---- open ---------------------------------------------------------------------------------- */

static void open_creates_dir_and_db(void **state)
{
    fixture_t *f = *state;
    struct stat st;
    assert_int_not_equal(0, stat(f->dir, &st));
    assert_int_equal(0, store_open(&f->store, f->dir));
    assert_non_null(f->store);
    assert_int_equal(0, stat(f->dir, &st));
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(0700, st.st_mode & 0777);
    char path[192];
    snprintf(path, sizeof(path), "%s/gavel.db", f->dir);
    assert_int_equal(0, stat(path, &st));
    assert_true(S_ISREG(st.st_mode));
    assert_string_equal("sqlite", store_kind(f->store));
}

static void open_creates_missing_parents(void **state)
{
    fixture_t *f = *state;
    char deep[192];
    snprintf(deep, sizeof(deep), "%s/a/b", f->dir);
    assert_int_equal(0, store_open(&f->store, deep));
    struct stat st;
    assert_int_equal(0, stat(f->dir, &st));
    assert_int_equal(0700, st.st_mode & 0777);
}

static void open_reopens_existing_dir(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(0, store_open(&f->store, f->dir));
    store_close(f->store);
    f->store = NULL;
    assert_int_equal(0, store_open(&f->store, f->dir));
    assert_non_null(f->store);
}

static void open_fails_when_dir_is_a_file(void **state)
{
    fixture_t *f = *state;
    FILE *fp = fopen(f->dir, "w");
    assert_non_null(fp);
    fclose(fp);
    f->store = (store_t *)f; /* must be reset to NULL on failure */
    assert_int_equal(GV_EIO, store_open(&f->store, f->dir));
    assert_null(f->store);
}

static void open_fails_on_a_corrupt_db(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(0, mkdir(f->dir, 0700));
    char path[192];
    snprintf(path, sizeof(path), "%s/gavel.db", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 512; i++)
        fputs("not a database ", fp);
    fclose(fp);
    assert_int_equal(GV_EDB_CORRUPT, store_open(&f->store, f->dir));
    assert_null(f->store);
}

static void open_sets_pragmas(void **state)
{
    fixture_t *f = *state;
    assert_string_equal("wal", query_text(f, "PRAGMA journal_mode"));
    assert_int_equal(1, query_int(f, "PRAGMA foreign_keys"));
    assert_int_equal(2, query_int(f, "PRAGMA synchronous"));
    assert_int_equal(5000, query_int(f, "PRAGMA busy_timeout"));
    assert_int_equal(512 * 1024 * 1024, query_int(f, "PRAGMA journal_size_limit"));
}

static void close_null_is_noop(void **state)
{
    (void)state;
    store_close(NULL);
}

/* ---- the write lock ------------------------------------------------------------------------ */

static void tx_begin_busy_when_another_writer_holds_the_lock(void **state)
{
    fixture_t *f = *state;
    store_t *other = NULL;
    assert_int_equal(0, store_open(&other, f->dir));
    sqlite3_busy_timeout(store_sqlite_handle(other), 0); /* fail fast instead of waiting 5 s */
    assert_int_equal(0, store_tx_begin(f->store));
    assert_int_equal(GV_EDB_BUSY, store_tx_begin(other));
    assert_int_equal(0, store_health(other)); /* WAL: readers are not blocked by the writer */
    assert_int_equal(0, store_tx_commit(f->store));
    assert_int_equal(0, store_tx_begin(other));
    assert_int_equal(0, store_tx_commit(other));
    store_close(other);
}

/* ---- the walbuf VFS (store_sqlite_walbuf.c) ------------------------------------------------ */

static void walbuf_is_the_connections_vfs(void **state)
{
    fixture_t *f = *state;
    sqlite3_vfs *vfs = NULL;
    assert_int_equal(SQLITE_OK,
                     sqlite3_file_control(db_of(f), "main", SQLITE_FCNTL_VFS_POINTER, &vfs));
    assert_non_null(vfs);
    assert_string_equal("gavel-walbuf", vfs->zName);
}

/* Every commit, of several pages each, is seen by another connection as soon as it returns: the
 * gathered frames reach the log before SQLite publishes them. */
static void walbuf_commits_are_seen_at_once_by_another_connection(void **state)
{
    fixture_t *f = *state;
    int applied;
    assert_int_equal(0, store_migrate(f->store, &applied));
    exec_ok(f, "CREATE TABLE blobs (i INTEGER PRIMARY KEY, v BLOB NOT NULL)");
    store_t *other = NULL;
    assert_int_equal(0, store_open(&other, f->dir));
    sqlite3 *odb = store_sqlite_handle(other);
    for (int i = 1; i <= 150; i++) {
        assert_int_equal(0, store_tx_begin(f->store));
        char sql[160];
        /* three rows of 3,000 bytes: several frames per commit, each row on pages of its own */
        snprintf(sql, sizeof(sql),
                 "INSERT INTO blobs (v) VALUES (zeroblob(3000)), (zeroblob(3000)), "
                 "(randomblob(3000))");
        exec_ok(f, sql);
        assert_int_equal(0, store_tx_commit(f->store));
        sqlite3_stmt *stmt = NULL;
        assert_int_equal(
            SQLITE_OK,
            sqlite3_prepare_v2(odb, "SELECT count(*), sum(length(v)) FROM blobs", -1, &stmt, NULL));
        assert_int_equal(SQLITE_ROW, sqlite3_step(stmt));
        assert_int_equal(3 * i, sqlite3_column_int(stmt, 0));
        assert_int_equal(9000 * i, sqlite3_column_int(stmt, 1));
        sqlite3_finalize(stmt);
    }
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(SQLITE_OK, sqlite3_prepare_v2(odb, "PRAGMA integrity_check", -1, &stmt, NULL));
    assert_int_equal(SQLITE_ROW, sqlite3_step(stmt));
    assert_string_equal("ok", (const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    store_close(other);
}

/* The expected sum of the test's rows, computed here rather than by SQLite: row i holds 1,000
 * copies of the letter 'A' + i % 26. */
static long long walbuf_letters_sum(int rows)
{
    long long sum = 0;
    for (int i = 1; i <= rows; i++)
        sum += 'A' + i % 26;
    return sum;
}

static void walbuf_rows_check(sqlite3 *db, int rows)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(SQLITE_OK, sqlite3_prepare_v2(db,
                                                   "SELECT count(*), sum(length(v)), "
                                                   "sum(unicode(substr(v, 1 + i % 1000, 1))) "
                                                   "FROM letters",
                                                   -1, &stmt, NULL));
    assert_int_equal(SQLITE_ROW, sqlite3_step(stmt));
    assert_int_equal(rows, sqlite3_column_int(stmt, 0));
    assert_int_equal(1000 * rows, sqlite3_column_int(stmt, 1));
    assert_int_equal(walbuf_letters_sum(rows), sqlite3_column_int64(stmt, 2));
    sqlite3_finalize(stmt);
}

/* A transaction larger than its page cache spills pages to the log before it commits and reads
 * them back from there: those reads see what was written, before and after the commit, and after
 * the store is closed and opened again. */
static void walbuf_a_transaction_larger_than_its_cache_reads_its_own_frames(void **state)
{
    fixture_t *f = *state;
    int applied;
    const int rows = 3000;
    assert_int_equal(0, store_migrate(f->store, &applied));
    exec_ok(f, "CREATE TABLE letters (i INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    exec_ok(f, "PRAGMA cache_size=16");
    assert_int_equal(0, store_tx_begin(f->store));
    exec_ok(f, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
               "INSERT INTO letters SELECT i, printf('%.*c', 1000, char(65 + i % 26)) FROM n");
    walbuf_rows_check(db_of(f), rows);
    assert_int_equal(0, store_tx_commit(f->store));
    walbuf_rows_check(db_of(f), rows);
    store_close(f->store);
    f->store = NULL;
    assert_int_equal(0, store_open(&f->store, f->dir));
    walbuf_rows_check(db_of(f), rows);
    assert_string_equal("ok", query_text(f, "PRAGMA integrity_check"));
}

/* ---- the log's growth (store_log_appended) and automatic checkpoints ---------------------- */

/* One transaction that inserts `rows` rows of 3,000 random bytes: a page of its own each. */
static void log_commit_rows(fixture_t *f, int rows)
{
    assert_int_equal(0, store_tx_begin(f->store));
    for (int i = 0; i < rows; i++)
        exec_ok(f, "INSERT INTO blobs (v) VALUES (randomblob(3000))");
    assert_int_equal(0, store_tx_commit(f->store));
}

/* What the commits appended is what the log holds, counted by SQLite itself on another
 * connection; after the log started over, a commit adds what the new log holds. */
static void log_appended_counts_every_commits_frames(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(0, store_checkpoint_auto(f->store, 0));
    exec_ok(f, "CREATE TABLE blobs (i INTEGER PRIMARY KEY, v BLOB NOT NULL)");
    store_t *other = NULL;
    assert_int_equal(0, store_open(&other, f->dir));
    assert_int_equal(0, store_checkpoint_auto(other, 0));
    int log = 0, copied = 0;
    assert_int_equal(0, store_checkpoint(other, 0, &log, &copied)); /* all copied: starts over */
    uint64_t a0 = store_log_appended(f->store);
    for (int i = 1; i <= 20; i++)
        log_commit_rows(f, i % 4 + 1);
    uint64_t a1 = store_log_appended(f->store);
    assert_int_equal(0, store_checkpoint(other, 0, &log, &copied));
    assert_true(log > 50); /* at least a page per row: 50 rows */
    assert_int_equal(log, copied);
    assert_int_equal((uint64_t)log, a1 - a0);
    /* everything is copied back: the next commit writes the log from its start */
    log_commit_rows(f, 3);
    uint64_t a2 = store_log_appended(f->store);
    assert_int_equal(0, store_checkpoint(other, 0, &log, &copied));
    assert_in_range(log, 3, 20);
    assert_int_equal((uint64_t)log, a2 - a1);
    store_close(other);
}

/* Automatic checkpoints (on by default) keep the log near SQLite's 1,000 pages; off, it grows. */
static void log_auto_checkpoint_on_and_off(void **state)
{
    fixture_t *f = *state;
    exec_ok(f, "CREATE TABLE blobs (i INTEGER PRIMARY KEY, v BLOB NOT NULL)");
    store_t *other = NULL;
    assert_int_equal(0, store_open(&other, f->dir));
    assert_int_equal(0, store_checkpoint_auto(other, 0));
    int log = 0, copied = 0;
    for (int i = 0; i < 60; i++)
        log_commit_rows(f, 40); /* some 2,400 pages in all */
    assert_int_equal(0, store_checkpoint(other, 0, &log, &copied));
    assert_in_range(log, 1, 1100); /* started over at least once */
    assert_int_equal(0, store_checkpoint_auto(f->store, 0));
    for (int i = 0; i < 60; i++)
        log_commit_rows(f, 40);
    assert_int_equal(0, store_checkpoint(other, 0, &log, &copied));
    assert_true(log >= 2400);
    store_close(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(open_creates_dir_and_db, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(open_creates_missing_parents, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(open_reopens_existing_dir, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(open_fails_when_dir_is_a_file, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(open_fails_on_a_corrupt_db, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(open_sets_pragmas, setup_open, teardown),
        cmocka_unit_test(close_null_is_noop),
        cmocka_unit_test_setup_teardown(tx_begin_busy_when_another_writer_holds_the_lock,
                                        setup_open, teardown),
        cmocka_unit_test_setup_teardown(walbuf_is_the_connections_vfs, setup_open, teardown),
        cmocka_unit_test_setup_teardown(walbuf_commits_are_seen_at_once_by_another_connection,
                                        setup_open, teardown),
        cmocka_unit_test_setup_teardown(
            walbuf_a_transaction_larger_than_its_cache_reads_its_own_frames, setup_open, teardown),
        cmocka_unit_test_setup_teardown(log_appended_counts_every_commits_frames, setup_open,
                                        teardown),
        cmocka_unit_test_setup_teardown(log_auto_checkpoint_on_and_off, setup_open, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
