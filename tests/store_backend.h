/* The store's test matrix: a test group runs once on SQLite (a temporary data directory) and
 * once on PostgreSQL (a schema of its own, dropped afterwards, in the server GAVEL_TEST_PG
 * names: `make test` starts a throwaway one with scripts/pg-test.sh). A test makes a database,
 * opens as many stores on it as it needs (connections, threads, processes) and drops it. */
#ifndef GAVEL_TESTS_STORE_BACKEND_H
#define GAVEL_TESTS_STORE_BACKEND_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "store/store_int.h"
#include "tmpdir.h"

typedef enum { BACKEND_SQLITE, BACKEND_POSTGRES } backend_kind_t;

static backend_kind_t backend_kind;

typedef struct {
    char base[64];      /* SQLite: the temporary directory */
    char dir[128];      /* SQLite: base/data, the data directory */
    char schema[48];    /* PostgreSQL: this database's schema */
    char conninfo[768]; /* PostgreSQL: GAVEL_TEST_PG with search_path set to schema */
} backend_db_t;

/* Runs sql on a connection of its own to GAVEL_TEST_PG. 0 or -1 (printed). */
static inline int backend_pg_admin(const char *sql)
{
    PGconn *c = PQconnectdb(getenv("GAVEL_TEST_PG"));
    if (PQstatus(c) == CONNECTION_OK) /* no "drop cascades to ..." notices on stderr */
        PQclear(PQexec(c, "SET client_min_messages = warning"));
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        print_error("%s: %s\n", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

/* Makes an empty database for one test. 0 or -1. */
static inline int backend_db_make(backend_db_t *db)
{
    static int n;
    memset(db, 0, sizeof(*db));
    if (backend_kind == BACKEND_SQLITE) {
        if (tmpdir_make(db->base, sizeof(db->base), "store") != 0)
            return -1;
        snprintf(db->dir, sizeof(db->dir), "%s/data", db->base);
        return 0;
    }
    const char *url = getenv("GAVEL_TEST_PG");
    snprintf(db->schema, sizeof(db->schema), "t_%d_%d", (int)getpid(), ++n);
    snprintf(db->conninfo, sizeof(db->conninfo), "%s%coptions=-csearch_path%%3D%s", url,
             strchr(url, '?') ? '&' : '?', db->schema);
    char sql[96];
    snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", db->schema);
    return backend_pg_admin(sql);
}

/* Opens a store on db (another connection each call). 0 or GV_E*. */
static inline int backend_db_open(const backend_db_t *db, store_t **out)
{
    if (backend_kind == BACKEND_SQLITE)
        return store_open(out, db->dir);
    return store_pg_open(out, db->conninfo, NULL, 0);
}

/* Drops db (every store on it closed). 0 or -1. */
static inline int backend_db_drop(backend_db_t *db)
{
    if (backend_kind == BACKEND_SQLITE)
        return db->base[0] ? tmpdir_remove(db->base) : 0;
    char sql[96];
    snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", db->schema);
    return db->schema[0] ? backend_pg_admin(sql) : 0;
}

/* The first column of the first row of sql on s's own connection, $1 bound to hash when not
 * NULL, as an integer (-1: no row); a failure fails the test. */
static inline int64_t backend_i64(store_t *s, const char *sql, const unsigned char *hash)
{
    int64_t v = -1;
    if (store_test_i64(s, sql, hash, &v) != 0)
        fail_msg("%s: %s", sql, store_errmsg(s));
    return v;
}

/* Runs sql on s's own connection; a failure fails the test. */
static inline void backend_exec(store_t *s, const char *sql)
{
    if (store_test_exec(s, sql) != 0)
        fail_msg("%s: %s", sql, store_errmsg(s));
}

/* 1 when the table exists (a query of it works), else 0 (and the store's message is the
 * query's). */
static inline int backend_table_exists(store_t *s, const char *name)
{
    char sql[96];
    int64_t v = -1;
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", name);
    return store_test_i64(s, sql, NULL, &v) == 0;
}

/* A commit observer that counts the commits and keeps the last duration. */
typedef struct {
    int calls;
    int64_t last_us;
} observed_t;

static inline void observe_commit(void *ctx, int64_t duration_us)
{
    observed_t *o = ctx;
    o->calls++;
    o->last_us = duration_us;
}

/* The backend's spelling of one statement where the dialects differ. */
static inline const char *backend_sql(const char *sqlite, const char *postgres)
{
    return backend_kind == BACKEND_SQLITE ? sqlite : postgres;
}

/* The usual fixture: a database of its own and a store open on it (not migrated). */
typedef struct {
    backend_db_t db; /* dropped in teardown */
    store_t *store;
} fixture_t;

static inline int setup_open(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    *state = f;
    if (backend_db_make(&f->db) != 0)
        return -1;
    return backend_db_open(&f->db, &f->store) == 0 ? 0 : -1;
}

static inline int teardown(void **state)
{
    fixture_t *f = *state;
    store_close(f->store);
    int rc = backend_db_drop(&f->db);
    free(f);
    return rc;
}

/* Group setups: the matrix's two runs. PostgreSQL without GAVEL_TEST_PG fails the group. */
static inline int backend_group_sqlite(void **state)
{
    (void)state;
    backend_kind = BACKEND_SQLITE;
    return 0;
}

static inline int backend_group_postgres(void **state)
{
    (void)state;
    if (!getenv("GAVEL_TEST_PG")) {
        print_error("GAVEL_TEST_PG is not set: `make test` starts a server for it "
                    "(scripts/pg-test.sh start DIR prints one)\n");
        return -1;
    }
    backend_kind = BACKEND_POSTGRES;
    return 0;
}

/* Runs tests on both backends. */
#define BACKEND_RUN_BOTH(name, tests)                                                              \
    (cmocka_run_group_tests_name(name " on SQLite", tests, backend_group_sqlite, NULL) |           \
     cmocka_run_group_tests_name(name " on PostgreSQL", tests, backend_group_postgres, NULL))

#endif
