/* Shared by the store tests: a fixture with a temporary data directory and an open store, a
 * commit counter, and raw SQL helpers on the store's own connection. */
#ifndef GAVEL_TESTS_STORE_FIXTURE_H
#define GAVEL_TESTS_STORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store_int.h"
#include "league_fixture.h"

typedef struct {
    char base[64];
    char dir[128];
    store_t *store;
    int commits; /* counted by the commit observer */
} fixture_t;

static inline void count_commit(void *ctx, int64_t duration_us)
{
    assert_true(duration_us >= 0);
    ((fixture_t *)ctx)->commits++;
}

static inline sqlite3 *db_of(fixture_t *f)
{
    sqlite3 *db = store_sqlite_handle(f->store);
    assert_non_null(db);
    return db;
}

static inline void exec_sql(fixture_t *f, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db_of(f), sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, msg != NULL ? msg : "?");
}

/* The first column of the first row of sql as an integer (-1 when no row). */
static inline int64_t query_i64(fixture_t *f, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(SQLITE_OK, sqlite3_prepare_v2(db_of(f), sql, -1, &stmt, NULL));
    int rc = sqlite3_step(stmt);
    assert_true(rc == SQLITE_ROW || rc == SQLITE_DONE);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    return v;
}

#endif
