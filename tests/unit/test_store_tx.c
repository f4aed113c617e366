/* Unit tests of the store's generic operations on both backends (tests/store_backend.h: real
 * SQLite in a temporary directory, real PostgreSQL in a schema of its own): migrations (all or
 * nothing, a newer database refused, only what is pending applied), health, transactions and
 * their commit observer, and a close that rolls back. What only SQLite has (its directory, its
 * pragmas, its write lock, the walbuf VFS) is in test_store.c. */
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

static void migrate_applies_all_then_is_idempotent(void **state)
{
    fixture_t *f = *state;
    int version = -1, applied = -1;
    const store_migration_t *list = f->store->ops->migrations;
    int n = (int)*f->store->ops->migrations_count;
    assert_true(n >= 1);
    assert_int_equal(1, list[0].version);
    assert_string_equal("init", list[0].name);
    assert_int_equal(0, store_schema_version(f->store, &version));
    assert_int_equal(0, version);

    assert_int_equal(0, store_migrate(f->store, &applied));
    assert_int_equal(n, applied);
    assert_int_equal(0, store_schema_version(f->store, &version));
    assert_int_equal(list[n - 1].version, version);
    assert_int_equal(n, backend_i64(f->store, "SELECT count(*) FROM schema_version", NULL));
    assert_int_equal(1, backend_i64(f->store,
                                    "SELECT count(*) FROM schema_version "
                                    "WHERE version = 1 AND name = 'init'",
                                    NULL));
    assert_int_equal(1, backend_i64(f->store,
                                    "SELECT count(*) FROM schema_version "
                                    "WHERE version = 1 AND applied_at LIKE '____-__-__T__:__:__%Z'",
                                    NULL));
    assert_int_equal(1, backend_table_exists(f->store, "meta"));

    assert_int_equal(0, store_migrate(f->store, &applied));
    assert_int_equal(0, applied);
    assert_int_equal(n, backend_i64(f->store, "SELECT count(*) FROM schema_version", NULL));
}

static void migrate_applies_only_pending(void **state)
{
    fixture_t *f = *state;
    const store_migration_t list[] = {
        {1, "one", "CREATE TABLE t1(x INTEGER);"},
        {2, "two", "CREATE TABLE t2(x INTEGER);\nINSERT INTO t2 VALUES (2);"},
    };
    int applied = -1;
    assert_int_equal(0, store_migrate_list(f->store, list, 1, &applied));
    assert_int_equal(1, applied);
    assert_int_equal(0, store_migrate_list(f->store, list, 2, &applied));
    assert_int_equal(1, applied);
    assert_int_equal(2, backend_i64(f->store, "SELECT x FROM t2", NULL));
    assert_int_equal(1, backend_i64(f->store,
                                    "SELECT count(*) FROM schema_version "
                                    "WHERE version = 2 AND name = 'two'",
                                    NULL));
}

static void migrate_failure_changes_nothing(void **state)
{
    fixture_t *f = *state;
    const store_migration_t list[] = {
        {1, "good", "CREATE TABLE t1(x INTEGER);"},
        {2, "bad", "CREATE TABEL t2(x INTEGER);"},
    };
    int applied = -1, version = -1;
    assert_int_equal(GV_EDB, store_migrate_list(f->store, list, 2, &applied));
    assert_non_null(strstr(store_errmsg(f->store), "migration 2 (bad)"));
    assert_int_equal(0, applied);
    assert_int_equal(0, backend_table_exists(f->store, "t1"));
    assert_int_equal(0, store_schema_version(f->store, &version));
    assert_int_equal(0, version);
    /* The store is still usable: no transaction was left open. */
    assert_false(f->store->ops->tx_open(f->store));
    assert_int_equal(0, store_migrate_list(f->store, list, 1, &applied));
    assert_int_equal(1, applied);
}

static void migrate_failure_keeps_earlier_versions(void **state)
{
    fixture_t *f = *state;
    const store_migration_t list[] = {
        {1, "one", "CREATE TABLE t1(x INTEGER);"},
        {2, "two", "CREATE TABLE t2(x INTEGER);"},
        {3, "bad", "INSERT INTO nowhere VALUES (1);"},
    };
    int applied = -1, version = -1;
    assert_int_equal(0, store_migrate_list(f->store, list, 1, &applied));
    assert_int_equal(GV_EDB, store_migrate_list(f->store, list, 3, &applied));
    assert_int_equal(0, applied);
    assert_int_equal(0, backend_table_exists(f->store, "t2"));
    assert_int_equal(1, backend_table_exists(f->store, "t1"));
    assert_int_equal(0, store_schema_version(f->store, &version));
    assert_int_equal(1, version);
}

static void migrate_refuses_newer_database(void **state)
{
    fixture_t *f = *state;
    int applied = -1, version = -1;
    assert_int_equal(0, store_migrate(f->store, &applied));
    backend_exec(f->store,
                 "INSERT INTO schema_version VALUES (9999, 'future', '2100-01-01T00:00:00Z')");
    assert_int_equal(GV_EDB, store_migrate(f->store, &applied));
    assert_int_equal(0, applied);
    assert_int_equal(0, store_schema_version(f->store, &version));
    assert_int_equal(9999, version);
    assert_int_equal((int)*f->store->ops->migrations_count + 1,
                     backend_i64(f->store, "SELECT count(*) FROM schema_version", NULL));
    assert_non_null(strstr(store_errmsg(f->store), "newer"));
}

static void migrate_refuses_newer_database_without_touching_it(void **state)
{
    fixture_t *f = *state;
    const store_migration_t one[] = {{1, "one", "CREATE TABLE t1(x INTEGER);"}};
    const store_migration_t two[] = {
        {1, "one", "CREATE TABLE t1(x INTEGER);"},
        {2, "two", "CREATE TABLE t2(x INTEGER);"},
    };
    int applied = -1;
    assert_int_equal(0, store_migrate_list(f->store, two, 2, &applied));
    assert_int_equal(GV_EDB, store_migrate_list(f->store, one, 1, &applied));
    assert_int_equal(GV_EDB, store_migrate_list(f->store, NULL, 0, &applied));
    assert_int_equal(2, backend_i64(f->store, "SELECT count(*) FROM schema_version", NULL));
}

static void migrate_rejects_unordered_list(void **state)
{
    fixture_t *f = *state;
    const store_migration_t list[] = {
        {2, "two", "CREATE TABLE t2(x INTEGER);"},
        {1, "one", "CREATE TABLE t1(x INTEGER);"},
    };
    int applied = -1;
    assert_int_equal(GV_EINTERNAL, store_migrate_list(f->store, list, 2, &applied));
    assert_int_equal(0, backend_table_exists(f->store, "schema_version"));
    assert_int_equal(0, backend_table_exists(f->store, "t2"));
}

static void migrate_rejects_sql_that_commits(void **state)
{
    fixture_t *f = *state;
    const store_migration_t list[] = {{1, "sneaky", "CREATE TABLE t1(x INTEGER); COMMIT;"}};
    int applied = -1;
    assert_int_equal(GV_EDB, store_migrate_list(f->store, list, 1, &applied));
    assert_int_equal(0, applied);
    assert_non_null(strstr(store_errmsg(f->store), "must not end the transaction"));
}

static void migrate_inside_transaction_fails(void **state)
{
    fixture_t *f = *state;
    int applied = -1;
    assert_int_equal(0, store_tx_begin(f->store));
    assert_int_equal(GV_EDB, store_migrate(f->store, &applied));
    assert_int_equal(0, store_tx_rollback(f->store));
}

static void health_ok_on_open_store(void **state)
{
    fixture_t *f = *state;
    int applied;
    assert_int_equal(0, store_health(f->store));
    assert_int_equal(0, store_migrate(f->store, &applied));
    assert_int_equal(0, store_health(f->store));
}

static void tx_commit_and_rollback(void **state)
{
    fixture_t *f = *state;
    observed_t seen = {0, -1};
    int applied;
    assert_int_equal(0, store_migrate(f->store, &applied));
    store_set_commit_observer(f->store, observe_commit, &seen);

    assert_int_equal(0, store_tx_begin(f->store));
    backend_exec(f->store, "INSERT INTO meta VALUES ('kept', 'yes')");
    assert_int_equal(0, store_tx_commit(f->store));
    assert_int_equal(1, seen.calls);
    assert_true(seen.last_us >= 0);

    assert_int_equal(0, store_tx_begin(f->store));
    backend_exec(f->store, "INSERT INTO meta VALUES ('dropped', 'yes')");
    assert_int_equal(0, store_tx_rollback(f->store));
    assert_int_equal(1, seen.calls);

    assert_int_equal(1,
                     backend_i64(f->store, "SELECT count(*) FROM meta WHERE key = 'kept'", NULL));
    assert_int_equal(
        0, backend_i64(f->store, "SELECT count(*) FROM meta WHERE key = 'dropped'", NULL));
    assert_int_equal(0, store_tx_rollback(f->store)); /* none open: still 0 */

    store_set_commit_observer(f->store, NULL, NULL);
    assert_int_equal(0, store_tx_begin(f->store));
    assert_int_equal(0, store_tx_commit(f->store));
    assert_int_equal(1, seen.calls);
}

static void tx_errors_are_mapped(void **state)
{
    fixture_t *f = *state;
    observed_t seen = {0, -1};
    store_set_commit_observer(f->store, observe_commit, &seen);
    assert_int_equal(GV_EDB, store_tx_commit(f->store)); /* nothing to commit */
    assert_int_equal(0, seen.calls);
    assert_int_equal(0, store_tx_begin(f->store));
    assert_int_equal(GV_EDB, store_tx_begin(f->store)); /* no nesting */
    assert_int_equal(0, store_tx_rollback(f->store));
}

static void close_rolls_back_open_transaction(void **state)
{
    fixture_t *f = *state;
    int applied;
    assert_int_equal(0, store_migrate(f->store, &applied));
    assert_int_equal(0, store_tx_begin(f->store));
    backend_exec(f->store, "INSERT INTO meta VALUES ('lost', 'yes')");
    store_close(f->store);
    f->store = NULL;
    assert_int_equal(0, backend_db_open(&f->db, &f->store));
    assert_int_equal(0, backend_i64(f->store, "SELECT count(*) FROM meta", NULL));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_open, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(migrate_applies_all_then_is_idempotent),
        T(migrate_applies_only_pending),
        T(migrate_failure_changes_nothing),
        T(migrate_failure_keeps_earlier_versions),
        T(migrate_refuses_newer_database),
        T(migrate_refuses_newer_database_without_touching_it),
        T(migrate_rejects_unordered_list),
        T(migrate_rejects_sql_that_commits),
        T(migrate_inside_transaction_fails),
        T(health_ok_on_open_store),
        T(tx_commit_and_rollback),
        T(tx_errors_are_mapped),
        T(close_rolls_back_open_transaction),
    };
    return BACKEND_RUN_BOTH("store", tests);
}
