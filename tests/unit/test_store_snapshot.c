/* Unit tests of the store's additions for backups (store/store_sqlite_backup.c): store_snapshot
 * (consistent while others commit, refusals, a target that cannot be written), store_schema_known,
 * store_busy_limit and store_disk_full, against real SQLite in a temporary directory. */
#include "backup_fixture.h"

#include "core/err.h"

#include <signal.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BIG_ROWS 3000 /* rows of 1000 random bytes: several snapshot steps of 256 pages */

/* ---- store_snapshot and the other store additions ------------------------------------------ */

typedef struct {
    sqlite3 *writer; /* another connection, committing while the snapshot runs */
    int calls, between, backwards;
    uint64_t last, total;
} concurrent_t;

static void commit_between_steps(void *ctx, uint64_t done, uint64_t total)
{
    concurrent_t *c = ctx;
    if (done < c->last)
        c->backwards = 1; /* a restarted copy */
    c->last = done, c->total = total;
    if (++c->calls > 1000)
        return; /* a copy that never ends: stop feeding it, the test fails on calls */
    if (done < total)
        c->between++;
    db_exec(c->writer, "INSERT INTO big(b) VALUES (randomblob(3000));"
                       "UPDATE t SET v = 'changed' WHERE id = 1");
}

static void snapshot_pages_is_consistent_while_others_commit(void **state)
{
    fx_t *f = *state;
    char snap[192], db[256], sql[256];
    int schema = 0;
    snprintf(sql, sizeof(sql),
             "CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB);"
             "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d) "
             "INSERT INTO big(b) SELECT randomblob(1000) FROM c",
             BIG_ROWS);
    db_exec(store_db(f), sql);
    int64_t pages = db_int(store_db(f), "PRAGMA page_count");
    int64_t page_size = db_int(store_db(f), "PRAGMA page_size");
    assert_true(pages > 3 * 256);
    join(snap, sizeof(snap), f->base, "snap.db");
    join(db, sizeof(db), f->data, STORE_DB_FILE);
    concurrent_t c = {.writer = db_open(db, SQLITE_OPEN_READWRITE)};
    assert_int_equal(
        0, store_snapshot(f->store, snap, STORE_SNAPSHOT_PAGES, commit_between_steps, &c, &schema));
    sqlite3_close(c.writer);
    assert_true(c.calls <= 1000);
    assert_false(c.backwards);
    assert_true(c.between >= 2);
    assert_int_equal((uint64_t)pages, c.total);
    assert_int_equal(store_schema_known(), schema);
    struct stat st;
    assert_int_equal(0, stat(snap, &st));
    assert_int_equal(pages * page_size, st.st_size);
    assert_true(is_integral(snap));
    assert_int_equal(BIG_ROWS, file_int(snap, "SELECT count(*) FROM big"));
    assert_int_equal(0, file_int(snap, "SELECT count(*) FROM t WHERE v = 'changed'"));
    assert_int_equal(ROWS, file_int(snap, "SELECT count(*) FROM t"));
    /* the source has all of them */
    assert_int_equal(BIG_ROWS + c.calls, db_int(store_db(f), "SELECT count(*) FROM big"));
    assert_int_equal(1, db_int(store_db(f), "SELECT count(*) FROM t WHERE v = 'changed'"));
}

static void snapshot_leaves_out_what_is_not_committed(void **state)
{
    fx_t *f = *state;
    char db[256];
    join(db, sizeof(db), f->data, STORE_DB_FILE);
    sqlite3 *w = db_open(db, SQLITE_OPEN_READWRITE);
    db_exec(w, "BEGIN IMMEDIATE; INSERT INTO t(v) VALUES ('uncommitted')");
    for (int m = STORE_SNAPSHOT_PAGES; m <= STORE_SNAPSHOT_VACUUM; m++) {
        char snap[192];
        int schema = 0;
        snprintf(snap, sizeof(snap), "%s/snap-%d.db", f->base, m);
        assert_int_equal(
            0, store_snapshot(f->store, snap, (store_snapshot_method_t)m, NULL, NULL, &schema));
        assert_int_equal(ROWS, file_int(snap, "SELECT count(*) FROM t"));
        assert_true(is_integral(snap));
    }
    db_exec(w, "COMMIT");
    sqlite3_close(w);
    assert_int_equal(ROWS + 1, db_int(store_db(f), "SELECT count(*) FROM t"));
}

static void snapshot_refuses_an_existing_path(void **state)
{
    fx_t *f = *state;
    char path[192], link_path[192];
    int schema = -1;
    join(path, sizeof(path), f->base, "there.db");
    write_all(path, "mine", 4);
    join(link_path, sizeof(link_path), f->base, "link.db");
    assert_int_equal(0, symlink("nowhere.db", link_path));
    for (int m = STORE_SNAPSHOT_PAGES; m <= STORE_SNAPSHOT_VACUUM; m++) {
        assert_int_equal(GV_EIO, store_snapshot(f->store, path, (store_snapshot_method_t)m, NULL,
                                                NULL, &schema));
        assert_int_equal(0, schema);
        assert_int_equal(GV_EIO, store_snapshot(f->store, link_path, (store_snapshot_method_t)m,
                                                NULL, NULL, &schema));
    }
    size_t n = 0;
    unsigned char *b = read_all(path, &n); /* not removed, not written */
    assert_int_equal(4, n);
    assert_memory_equal("mine", b, 4);
    free(b);
    join(path, sizeof(path), f->base, "nowhere.db");
    assert_false(exists(path));
}

/* The snapshot with method m into path under the file size limit fsize (0: none). */
static int snapshot_limited(fx_t *f, const char *path, int m, rlim_t fsize)
{
    struct rlimit old, lim;
    int schema = 0;
    assert_int_equal(0, getrlimit(RLIMIT_FSIZE, &old));
    lim = old;
    lim.rlim_cur = fsize ? fsize : old.rlim_cur;
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails with EFBIG */
    assert_int_equal(0, setrlimit(RLIMIT_FSIZE, &lim));
    int rc = store_snapshot(f->store, path, (store_snapshot_method_t)m, NULL, NULL, &schema);
    assert_int_equal(0, setrlimit(RLIMIT_FSIZE, &old));
    signal(SIGXFSZ, was);
    return rc;
}

/* A target that cannot be written (its directory missing; a write cut short by the file size
 * limit, as by a full disk) is GV_EIO with nothing left, whichever the method, and is not the
 * data directory's disk being full. */
static void snapshot_onto_a_target_that_cannot_be_written_is_eio(void **state)
{
    fx_t *f = *state;
    char missing[192], path[192], names[512];
    join(missing, sizeof(missing), f->base, "missing/snap.db");
    join(path, sizeof(path), f->base, "snap.db");
    int rc[2][2];
    for (int m = STORE_SNAPSHOT_PAGES; m <= STORE_SNAPSHOT_VACUUM; m++) {
        rc[m][0] = snapshot_limited(f, missing, m, 0);
        rc[m][1] = snapshot_limited(f, path, m, 10000); /* a few pages fit, not all */
        assert_int_equal(0, store_disk_full());
        dir_names(f->base, names, sizeof(names));
        assert_string_equal("data", names);
    }
    char wrong[256] = "";
    for (int m = STORE_SNAPSHOT_PAGES; m <= STORE_SNAPSHOT_VACUUM; m++)
        for (int i = 0; i < 2; i++)
            if (rc[m][i] != GV_EIO)
                snprintf(wrong + strlen(wrong), sizeof(wrong) - strlen(wrong), " %s/%s: %s",
                         m ? "vacuum" : "pages", i ? "cut short" : "no directory",
                         err_name(rc[m][i]));
    if (wrong[0])
        fail_msg("not EIO:%s", wrong);
    assert_int_equal(0, snapshot_limited(f, path, STORE_SNAPSHOT_PAGES, 0)); /* the control */
}

static void snapshot_refuses_a_transaction_and_bad_arguments(void **state)
{
    fx_t *f = *state;
    char path[192], names[512];
    int schema = -1;
    join(path, sizeof(path), f->base, "snap.db");
    assert_int_equal(0, store_tx_begin(f->store));
    assert_int_equal(GV_EDB,
                     store_snapshot(f->store, path, STORE_SNAPSHOT_PAGES, NULL, NULL, &schema));
    assert_int_equal(0, schema);
    assert_int_equal(0, store_tx_rollback(f->store));
    assert_int_equal(GV_EINTERNAL, store_snapshot(f->store, path, (store_snapshot_method_t)7, NULL,
                                                  NULL, &schema));
    assert_int_equal(GV_EINTERNAL,
                     store_snapshot(f->store, "", STORE_SNAPSHOT_PAGES, NULL, NULL, &schema));
    assert_int_equal(GV_EINTERNAL,
                     store_snapshot(f->store, NULL, STORE_SNAPSHOT_PAGES, NULL, NULL, &schema));
    dir_names(f->base, names, sizeof(names));
    assert_string_equal("data", names);
    /* and after all that, a snapshot works, twice in a row */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(0,
                         store_snapshot(f->store, path, STORE_SNAPSHOT_PAGES, NULL, NULL, &schema));
        assert_int_equal(store_schema_known(), schema);
        assert_int_equal(0, unlink(path));
    }
}

static void schema_known_is_the_last_migration(void **state)
{
    fx_t *f = *state;
    int version = 0;
    assert_true(store_migrations_count >= 1);
    assert_int_equal(store_migrations[store_migrations_count - 1].version, store_schema_known());
    assert_int_equal(0, store_schema_version(f->store, &version));
    assert_int_equal(store_schema_known(), version);
}

static void busy_limit_bounds_the_wait_for_a_lock(void **state)
{
    fx_t *f = *state;
    char db[256];
    assert_int_equal(GV_EINTERNAL, store_busy_limit(f->store, -1));
    assert_int_equal(5000, db_int(store_db(f), "PRAGMA busy_timeout"));
    assert_int_equal(0, store_busy_limit(f->store, 50));
    assert_int_equal(50, db_int(store_db(f), "PRAGMA busy_timeout"));
    join(db, sizeof(db), f->data, STORE_DB_FILE);
    sqlite3 *w = db_open(db, SQLITE_OPEN_READWRITE);
    db_exec(w, "BEGIN IMMEDIATE");
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(GV_EDB_BUSY, store_tx_begin(f->store));
    clock_gettime(CLOCK_MONOTONIC, &b);
    double waited = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    assert_true(waited >= 0.04 && waited < 2.5); /* about 50 ms, far from the default 5 s */
    db_exec(w, "ROLLBACK");
    sqlite3_close(w);
    assert_int_equal(0, store_busy_limit(f->store, 0));
    assert_int_equal(0, db_int(store_db(f), "PRAGMA busy_timeout"));
}

static void disk_full_is_set_by_a_full_write_and_cleared_by_a_commit(void **state)
{
    fx_t *f = *state;
    char sql[64];
    assert_int_equal(0, store_disk_full());
    assert_int_equal(0, store_tx_begin(f->store));
    assert_int_equal(0, store_tx_commit(f->store));
    assert_int_equal(0, store_disk_full());
    /* SQLite's own "database or disk is full": no room for one more page */
    snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
             (long long)db_int(store_db(f), "PRAGMA page_count"));
    db_int(store_db(f), sql);
    int rc = 0;
    for (int i = 0; i < 2000 && rc == 0; i++) {
        char email[64], id[32];
        snprintf(email, sizeof(email), "user%d@example.com", i);
        snprintf(id, sizeof(id), "u%d", i);
        store_user_t u;
        rc = store_user_ensure(f->store, email, id, "User", 1700000000000LL, &u, NULL);
    }
    assert_int_equal(GV_EDB_FULL, rc);
    assert_int_equal(1, store_disk_full());
    db_int(store_db(f), "PRAGMA max_page_count = 1073741823");
    assert_int_equal(0, store_tx_begin(f->store));
    assert_int_equal(1, store_disk_full()); /* still: nothing committed yet */
    assert_int_equal(0, store_tx_commit(f->store));
    assert_int_equal(0, store_disk_full());
}

int main(void)
{
#define T(name, set) cmocka_unit_test_setup_teardown(name, set, teardown)
    const struct CMUnitTest tests[] = {
        T(snapshot_pages_is_consistent_while_others_commit, setup),
        T(snapshot_leaves_out_what_is_not_committed, setup),
        T(snapshot_refuses_an_existing_path, setup),
        T(snapshot_onto_a_target_that_cannot_be_written_is_eio, setup),
        T(snapshot_refuses_a_transaction_and_bad_arguments, setup),
        T(schema_known_is_the_last_migration, setup),
        T(busy_limit_bounds_the_wait_for_a_lock, setup),
        T(disk_full_is_set_by_a_full_write_and_cleared_by_a_commit, setup),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
