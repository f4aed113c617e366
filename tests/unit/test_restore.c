/* Unit tests of the data directory's lock (datadir_lock) and of restore_run (ops/datadir.c): a
 * backup restored into an absent, empty or occupied directory, and every refusal leaving the
 * directory as it was, against real SQLite, real files and real zstd in a temporary directory. */
#include "backup_fixture.h"

#include "core/err.h"
#include "ops/datadir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

/* ---- datadir_lock -------------------------------------------------------------------------- */

static void lock_file_text(const char *dir, char *out, size_t n)
{
    char path[256];
    join(path, sizeof(path), dir, DATADIR_LOCK_FILE);
    size_t len = 0;
    unsigned char *b = read_all(path, &len);
    assert_true(len < n);
    memcpy(out, b, len);
    out[len] = '\0';
    free(b);
}

static void lock_makes_the_directory_and_writes_the_pid(void **state)
{
    fx_t *f = *state;
    char dir[192], top[192], text[64], pid[32], path[256];
    struct stat st;
    join(top, sizeof(top), f->base, "a");
    join(dir, sizeof(dir), f->base, "a/b/c");
    int fd = -1;
    long holder = -1;
    assert_int_equal(0, datadir_lock(dir, &fd, &holder));
    assert_true(fd >= 0);
    assert_int_equal(0, holder);
    assert_int_equal(0, stat(dir, &st));
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(0700, st.st_mode & 0777);
    assert_int_equal(0, stat(top, &st));
    assert_int_equal(0700, st.st_mode & 0777);
    lock_file_text(dir, text, sizeof(text));
    snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    assert_string_equal(pid, text);
    join(path, sizeof(path), dir, DATADIR_LOCK_FILE);
    assert_int_equal(0, stat(path, &st));
    assert_int_equal(0600, st.st_mode & 0777);
    datadir_unlock(fd);
    datadir_unlock(-1); /* nothing */
}

static void lock_twice_is_busy_and_names_the_holder(void **state)
{
    fx_t *f = *state;
    int fd = -1, fd2 = 7;
    long holder = -1;
    assert_int_equal(0, datadir_lock(f->target, &fd, &holder));
    assert_int_equal(GV_EDB_BUSY, datadir_lock(f->target, &fd2, &holder));
    assert_int_equal(-1, fd2);
    assert_int_equal((long)getpid(), holder);
    datadir_unlock(fd);
    holder = -1;
    assert_int_equal(0, datadir_lock(f->target, &fd2, &holder));
    assert_true(fd2 >= 0);
    assert_int_equal(0, holder);
    datadir_unlock(fd2);
}

static void lock_holder_is_unknown_without_a_pid(void **state)
{
    fx_t *f = *state;
    char path[256];
    assert_int_equal(0, mkdir(f->target, 0700));
    join(path, sizeof(path), f->target, DATADIR_LOCK_FILE);
    int other = open(path, O_RDWR | O_CREAT, 0600); /* someone holding it without a pid */
    assert_true(other >= 0);
    assert_int_equal(0, flock(other, LOCK_EX | LOCK_NB));
    int fd = 7;
    long holder = -1;
    assert_int_equal(GV_EDB_BUSY, datadir_lock(f->target, &fd, &holder));
    assert_int_equal(-1, fd);
    assert_int_equal(0, holder);
    close(other);
}

static void lock_replaces_a_stale_pid(void **state)
{
    fx_t *f = *state;
    char path[256], text[64], pid[32];
    assert_int_equal(0, mkdir(f->target, 0700));
    join(path, sizeof(path), f->target, DATADIR_LOCK_FILE);
    write_all(path, "1234567890123\nleft by a dead server\n", 36);
    int fd = -1;
    long holder = -1;
    assert_int_equal(0, datadir_lock(f->target, &fd, &holder));
    lock_file_text(f->target, text, sizeof(text));
    snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    assert_string_equal(pid, text);
    datadir_unlock(fd);
}

static void lock_refuses_a_directory_it_cannot_use(void **state)
{
    fx_t *f = *state;
    char dir[192];
    int fd = 7;
    long holder = -1;
    assert_int_equal(GV_EIO, datadir_lock(f->out, &fd, &holder)); /* a file */
    assert_int_equal(-1, fd);
    join(dir, sizeof(dir), f->out, "below");
    assert_int_equal(GV_EIO, datadir_lock(dir, &fd, &holder)); /* below a file */
    assert_int_equal(-1, fd);
}

/* ---- restore_run --------------------------------------------------------------------------- */

static int restore(fx_t *f, int force, restore_check_t check, void *ctx, backup_header_t *h,
                   char *aside, size_t an, char *why, size_t wn)
{
    restore_opts_t o = {
        .dir = f->target, .from = f->out, .force = force, .check = check, .check_ctx = ctx};
    why[0] = '\0';
    return restore_run(&o, h, aside, an, why, wn);
}

/* The lock of target is free again (restore_run released it). */
static void assert_unlocked(fx_t *f)
{
    int fd = -1;
    long holder = 0;
    assert_int_equal(0, datadir_lock(f->target, &fd, &holder));
    datadir_unlock(fd);
}

static void assert_restored(fx_t *f, const backup_header_t *h)
{
    char db[256];
    join(db, sizeof(db), f->target, STORE_DB_FILE);
    assert_same_header(&f->h, h, 0);
    assert_true(is_integral(db));
    assert_int_equal(ROWS, file_int(db, "SELECT count(*) FROM t"));
    assert_int_equal(f->h.schema, file_int(db, "SELECT max(version) FROM schema_version"));
    store_t *s = NULL;
    assert_int_equal(0, store_open(&s, f->target));
    int applied = -1;
    assert_int_equal(0, store_migrate(s, &applied));
    assert_int_equal(0, applied);
    store_close(s);
}

static void restore_into_an_absent_directory(void **state)
{
    fx_t *f = *state;
    backup_header_t h;
    char aside[256] = "x", why[256], names[512];
    progress_log_t p = {0};
    restore_opts_t o = {
        .dir = f->target, .from = f->out, .progress = on_progress, .progress_ctx = &p};
    assert_int_equal(0, restore_run(&o, &h, aside, sizeof(aside), why, sizeof(why)));
    assert_string_equal("", aside);
    assert_true(p.restore >= 1);
    assert_int_equal(f->h.bytes, p.last_done[2]);
    dir_names(f->target, names, sizeof(names));
    assert_string_equal("gavel.db,gavel.lock", names);
    struct stat st;
    assert_int_equal(0, stat(f->target, &st));
    assert_int_equal(0700, st.st_mode & 0777);
    assert_unlocked(f);
    assert_restored(f, &h);
}

static void restore_into_an_empty_directory(void **state)
{
    fx_t *f = *state;
    backup_header_t h;
    char aside[256], why[256], names[512];
    assert_int_equal(0, mkdir(f->target, 0700));
    assert_int_equal(0, restore(f, 0, NULL, NULL, &h, aside, sizeof(aside), why, sizeof(why)));
    dir_names(f->target, names, sizeof(names));
    assert_string_equal("gavel.db,gavel.lock", names);
    assert_unlocked(f);
    assert_restored(f, &h);
}

static void restore_refuses_a_directory_with_a_database(void **state)
{
    fx_t *f = *state;
    backup_header_t h;
    char aside[256], why[256], db[256], before[512], after[512], sha0[65], sha1[65];
    assert_int_equal(0, mkdir(f->target, 0700));
    join(db, sizeof(db), f->target, STORE_DB_FILE);
    write_all(db, "the current database", 20);
    sha256_hex("the current database", 20, sha0);
    dir_names(f->target, before, sizeof(before));
    assert_int_equal(GV_ECONFLICT,
                     restore(f, 0, NULL, NULL, &h, aside, sizeof(aside), why, sizeof(why)));
    assert_non_null(strstr(why, "--force"));
    dir_names(f->target, after, sizeof(after));
    assert_string_equal(before, after);
    size_t n = 0;
    unsigned char *b = read_all(db, &n);
    sha256_hex(b, n, sha1);
    free(b);
    assert_string_equal(sha0, sha1);
    assert_unlocked(f);
}

/* A database as a crash left it: its last commits only in its write-ahead log. */
static void crash_image(fx_t *f, const char *into)
{
    char dir[192], db[256], wal[256], to[256];
    join(dir, sizeof(dir), f->base, "crash");
    assert_int_equal(0, mkdir(dir, 0700));
    join(db, sizeof(db), dir, STORE_DB_FILE);
    snprintf(wal, sizeof(wal), "%s-wal", db);
    sqlite3 *c = db_open(db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    db_exec(c, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
               "CREATE TABLE w(x INTEGER); INSERT INTO w VALUES (1), (2), (3), (4), (5)");
    assert_true(exists(wal));
    join(to, sizeof(to), into, STORE_DB_FILE);
    copy_file(db, to);
    snprintf(to + strlen(to), sizeof(to) - strlen(to), "-wal");
    copy_file(wal, to);
    sqlite3_close(c);
}

static void restore_with_force_keeps_the_old_database_and_its_log(void **state)
{
    fx_t *f = *state;
    backup_header_t h;
    char aside[256] = "", why[256], names[512], wal[300], db_wal[256], expect[300];
    assert_int_equal(0, mkdir(f->target, 0700));
    crash_image(f, f->target);
    join(db_wal, sizeof(db_wal), f->target, STORE_DB_FILE "-wal");
    time_t t0 = time(NULL);
    assert_int_equal(0, restore(f, 1, NULL, NULL, &h, aside, sizeof(aside), why, sizeof(why)));
    time_t t1 = time(NULL);
    /* aside is DIR/gavel.db.replaced-<UTC time> */
    int ok = 0;
    for (time_t t = t0; t <= t1; t++) {
        struct tm tm;
        char stamp[32];
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
        snprintf(expect, sizeof(expect), "%s/gavel.db.replaced-%s", f->target, stamp);
        ok |= !strcmp(expect, aside);
    }
    if (!ok)
        fail_msg("aside is %s", aside);
    snprintf(wal, sizeof(wal), "%s-wal", aside);
    assert_true(exists(aside));
    assert_true(exists(wal));
    assert_false(exists(db_wal));
    dir_names(f->target, names, sizeof(names));
    snprintf(expect, sizeof(expect), "gavel.db,%s,%s-wal,gavel.lock", strrchr(aside, '/') + 1,
             strrchr(aside, '/') + 1);
    assert_string_equal(expect, names);
    /* the old database with its log: what was committed only in the log is there */
    assert_int_equal(5, file_int(aside, "SELECT count(*) FROM w"));
    assert_unlocked(f);
    assert_restored(f, &h);
}

static void restore_with_force_twice_keeps_both_replaced_databases(void **state)
{
    fx_t *f = *state;
    backup_header_t h;
    char aside[256], why[256], db[256];
    assert_int_equal(0, restore(f, 0, NULL, NULL, &h, aside, sizeof(aside), why, sizeof(why)));
    join(db, sizeof(db), f->target, STORE_DB_FILE);
    sqlite3 *c = db_open(db, SQLITE_OPEN_READWRITE);
    db_exec(c, "INSERT INTO t(v) VALUES ('only in the first database')");
    sqlite3_close(c);
    assert_int_equal(0, restore(f, 1, NULL, NULL, &h, aside, sizeof(aside), why, sizeof(why)));
    assert_int_equal(1, file_int(aside, "SELECT count(*) FROM t WHERE v LIKE 'only%'"));
    assert_int_equal(0, restore(f, 1, NULL, NULL, &h, aside, sizeof(aside), why, sizeof(why)));
    /* two restores within the same second: the first replaced database must survive the second */
    DIR *d = opendir(f->target);
    assert_non_null(d);
    struct dirent *e;
    int asides = 0, found = 0;
    while ((e = readdir(d)) != NULL) {
        char path[512];
        if (strncmp(e->d_name, "gavel.db.replaced-", 18) || strstr(e->d_name, "-wal") ||
            strstr(e->d_name, "-shm"))
            continue;
        asides++;
        snprintf(path, sizeof(path), "%s/%s", f->target, e->d_name);
        found += (int)file_int(path, "SELECT count(*) FROM t WHERE v LIKE 'only%'");
    }
    closedir(d);
    assert_int_equal(2, asides);
    assert_int_equal(1, found);
    assert_restored(f, &h);
}

static void restore_leaves_no_stale_log_beside_the_restored_database(void **state)
{
    fx_t *f = *state;
    backup_header_t h;
    char aside[256], why[256], db[256];
    assert_int_equal(0, mkdir(f->target, 0700));
    crash_image(f, f->target);
    join(db, sizeof(db), f->target, STORE_DB_FILE);
    assert_int_equal(0, unlink(db)); /* the database removed by hand, its log left behind */
    int rc = restore(f, 0, NULL, NULL, &h, aside, sizeof(aside), why, sizeof(why));
    if (rc == 0) { /* restored: then what opens is the backup, not the old log replayed on it */
        assert_int_equal(-1, file_int(db, "SELECT count(*) FROM w"));
        assert_restored(f, &h);
    } else { /* or refused, with the directory as it was */
        char names[512];
        dir_names(f->target, names, sizeof(names));
        assert_string_equal("gavel.db-wal", names);
    }
}

static void restore_refused_while_the_directory_is_locked(void **state)
{
    fx_t *f = *state;
    backup_header_t h;
    char aside[256], why[256], before[512], after[512], pid[64];
    int fd = -1;
    long holder = 0;
    assert_int_equal(0, datadir_lock(f->target, &fd, &holder)); /* a server */
    dir_names(f->target, before, sizeof(before));
    for (int force = 0; force <= 1; force++) {
        assert_int_equal(GV_EDB_BUSY,
                         restore(f, force, NULL, NULL, &h, aside, sizeof(aside), why, sizeof(why)));
        snprintf(pid, sizeof(pid), "pid %ld", (long)getpid());
        assert_non_null(strstr(why, pid));
        dir_names(f->target, after, sizeof(after));
        assert_string_equal(before, after);
    }
    int fd2 = -1;
    assert_int_equal(GV_EDB_BUSY, datadir_lock(f->target, &fd2, &holder)); /* still held */
    datadir_unlock(fd);
    assert_int_equal(0, restore(f, 0, NULL, NULL, &h, aside, sizeof(aside), why, sizeof(why)));
    assert_restored(f, &h);
}

/* restore refuses the backup at from with rc into an absent and into an empty target, leaving
 * each as it was. */
static void refused_both_ways(fx_t *f, int rc, const char *word, restore_check_t check, void *ctx)
{
    backup_header_t h;
    char aside[256], why[256], names[512];
    for (int empty = 0; empty <= 1; empty++) {
        if (empty)
            assert_int_equal(0, mkdir(f->target, 0700));
        int got = restore(f, 0, check, ctx, &h, aside, sizeof(aside), why, sizeof(why));
        if (got != rc)
            fail_msg("restore: %s (%s), not %s", err_name(got), why, err_name(rc));
        if (word && !strstr(why, word))
            fail_msg("why '%s' does not say '%s'", why, word);
        assert_string_equal("", aside);
        dir_names(f->target, names, sizeof(names));
        assert_string_equal(empty ? "" : "-", names);
    }
    assert_int_equal(0, rmdir(f->target));
}

static void restore_of_a_damaged_backup_leaves_the_directory_as_it_was(void **state)
{
    fx_t *f = *state;
    size_t n = 0;
    unsigned char *b = read_all(f->out, &n);
    b[n / 2] ^= 0x55;
    write_all(f->out, b, n);
    refused_both_ways(f, GV_EINVALID_REQUEST, NULL, NULL, NULL);
    b[n / 2] ^= 0x55;
    write_all(f->out, b, n - 100);
    refused_both_ways(f, GV_EINVALID_REQUEST, "truncated", NULL, NULL);
    write_all(f->out, "not a backup", 12);
    refused_both_ways(f, GV_EINVALID_REQUEST, "not a Gavel backup", NULL, NULL);
    assert_int_equal(0, unlink(f->out));
    refused_both_ways(f, GV_ENOT_FOUND, NULL, NULL, NULL);
    free(b);
}

/* A backup whose database is not one: header and SHA-256 right, content not SQLite. */
static void restore_of_a_backup_that_is_not_a_database(void **state)
{
    fx_t *f = *state;
    char text[4200], sha[65], v[32];
    static char junk[8192];
    memset(junk, 'j', sizeof(junk));
    sha256_hex(junk, sizeof(junk), sha);
    unsigned char z[1024];
    size_t zn = ZSTD_compress(z, sizeof(z), junk, sizeof(junk), 3);
    assert_false(ZSTD_isError(zn));
    char t1[4200];
    with_field(HEADER, "sha256", sha, t1, sizeof(t1));
    snprintf(v, sizeof(v), "%020zu", sizeof(junk));
    with_field(t1, "bytes", v, text, sizeof(text));
    write_frame(f->out, text, -1, z, zn);
    refused_both_ways(f, GV_EDB_CORRUPT, NULL, NULL, NULL);
}

typedef struct {
    int calls, rows;
    char seen[512];
} check_log_t;

static int failing_check(void *ctx, const char *data_dir, char *why, size_t n)
{
    check_log_t *c = ctx;
    char db[600];
    c->calls++;
    snprintf(c->seen, sizeof(c->seen), "%s", data_dir);
    snprintf(db, sizeof(db), "%s/%s", data_dir, STORE_DB_FILE);
    c->rows = (int)file_int(db, "SELECT count(*) FROM t");
    snprintf(why, n, "the replay disagrees");
    return GV_EDB_CORRUPT;
}

static int passing_check(void *ctx, const char *data_dir, char *why, size_t n)
{
    (void)why;
    (void)n;
    check_log_t *c = ctx;
    c->calls++;
    snprintf(c->seen, sizeof(c->seen), "%s", data_dir);
    return 0;
}

static void restore_refused_by_its_check_leaves_the_directory_as_it_was(void **state)
{
    fx_t *f = *state;
    check_log_t c = {0};
    char prefix[256];
    refused_both_ways(f, GV_EDB_CORRUPT, "the replay disagrees", failing_check, &c);
    assert_int_equal(2, c.calls);
    assert_int_equal(ROWS, c.rows); /* it saw the extracted copy */
    join(prefix, sizeof(prefix), f->target, ".restore-");
    assert_memory_equal(prefix, c.seen, strlen(prefix));

    backup_header_t h;
    char aside[256], why[256];
    c = (check_log_t){0};
    assert_int_equal(0,
                     restore(f, 0, passing_check, &c, &h, aside, sizeof(aside), why, sizeof(why)));
    assert_int_equal(1, c.calls);
    assert_restored(f, &h);
}

static void restore_refuses_a_newer_schema(void **state)
{
    fx_t *f = *state;
    char why[256];
    db_exec(store_db(f), "INSERT INTO schema_version(version, name, applied_at) "
                         "VALUES (9999, 'future', '2099-01-01T00:00:00Z')");
    assert_int_equal(0, backup_create(f->store, f->out, "s", STORE_SNAPSHOT_VACUUM, NULL, NULL,
                                      &f->h, why, sizeof(why)));
    assert_int_equal(9999, f->h.schema);
    refused_both_ways(f, GV_EINVALID_REQUEST, "9999 is newer", NULL, NULL);
}

static void restore_refuses_a_file_as_its_directory(void **state)
{
    fx_t *f = *state;
    backup_header_t h;
    char aside[256], why[256];
    write_all(f->target, "a file", 6);
    assert_int_equal(GV_EIO, restore(f, 1, NULL, NULL, &h, aside, sizeof(aside), why, sizeof(why)));
    size_t n = 0;
    unsigned char *b = read_all(f->target, &n);
    assert_int_equal(6, n);
    free(b);
}

int main(void)
{
#define T(name, set) cmocka_unit_test_setup_teardown(name, set, teardown)
    const struct CMUnitTest tests[] = {
        T(lock_makes_the_directory_and_writes_the_pid, setup),
        T(lock_twice_is_busy_and_names_the_holder, setup),
        T(lock_holder_is_unknown_without_a_pid, setup),
        T(lock_replaces_a_stale_pid, setup),
        T(lock_refuses_a_directory_it_cannot_use, setup_backup),
        T(restore_into_an_absent_directory, setup_backup),
        T(restore_into_an_empty_directory, setup_backup),
        T(restore_refuses_a_directory_with_a_database, setup_backup),
        T(restore_with_force_keeps_the_old_database_and_its_log, setup_backup),
        T(restore_with_force_twice_keeps_both_replaced_databases, setup_backup),
        T(restore_leaves_no_stale_log_beside_the_restored_database, setup_backup),
        T(restore_refused_while_the_directory_is_locked, setup_backup),
        T(restore_of_a_damaged_backup_leaves_the_directory_as_it_was, setup_backup),
        T(restore_of_a_backup_that_is_not_a_database, setup_backup),
        T(restore_refused_by_its_check_leaves_the_directory_as_it_was, setup_backup),
        T(restore_refuses_a_newer_schema, setup),
        T(restore_refuses_a_file_as_its_directory, setup_backup),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
