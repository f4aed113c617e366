/* Shared by the backup, restore and snapshot tests: a fixture with a temporary directory and an
 * open, migrated store holding table t (and a backup of it), file and SQLite helpers, a hand-made
 * backup header and a recorder of backup progress. */
#ifndef GAVEL_TESTS_UNIT_BACKUP_FIXTURE_H
#define GAVEL_TESTS_UNIT_BACKUP_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ops/backup.h"
#include "store/store.h"
#include "store/store_int.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "../tmpdir.h"

#define ROWS 200          /* rows of table t in the fixture's database */
#define MAGIC 0x184D2A5Au /* the zstd skippable frame holding the header */

typedef struct {
    char base[64];     /* mkdtemp directory, removed in teardown */
    char data[128];    /* base/data: the store's data directory */
    char out[160];     /* base/b.gvbackup: the backup setup_backup makes */
    char target[160];  /* base/target: where restores go (absent at first) */
    store_t *store;    /* open and migrated, with table t of ROWS rows */
    backup_header_t h; /* the header of out (setup_backup) */
} fx_t;

/* ---- helpers ------------------------------------------------------------------------------- */

/* dir/name into out (size n); the test fails if it does not fit. */
static inline void join(char *out, size_t n, const char *dir, const char *name)
{
    assert_true((size_t)snprintf(out, n, "%s/%s", dir, name) < n);
}

/* 1 when path names anything, a dangling symbolic link included. */
static inline int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The whole file at path, malloc'd (the caller frees it), its size in *len. */
static inline unsigned char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(0, fseek(fp, 0, SEEK_END));
    long n = ftell(fp);
    assert_true(n >= 0);
    rewind(fp);
    unsigned char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal((size_t)n, fread(buf, 1, (size_t)n, fp));
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

/* Creates or truncates path and writes buf (len bytes) into it. */
static inline void write_all(const char *path, const void *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(len, fwrite(buf, 1, len, fp));
    assert_int_equal(0, fclose(fp));
}

/* Copies the file from into to (created or truncated). */
static inline void copy_file(const char *from, const char *to)
{
    size_t n = 0;
    unsigned char *b = read_all(from, &n);
    write_all(to, b, n);
    free(b);
}

/* The SHA-256 of buf as lower-case hex, computed here with OpenSSL: the oracle. */
static inline void sha256_hex(const void *buf, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    assert_int_equal(1, EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL));
    assert_int_equal(32, mdlen);
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* strcmp for qsort over the fixed-size names of dir_names. */
static inline int name_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The names in dir, sorted, joined with ','; "-" when dir does not exist. */
static inline void dir_names(const char *dir, char *out, size_t n)
{
    char names[64][256];
    int k = 0;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(out, n, "-");
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && k < 64)
            snprintf(names[k++], sizeof(names[0]), "%s", e->d_name);
    closedir(d);
    qsort(names, (size_t)k, sizeof(names[0]), name_cmp);
    out[0] = '\0';
    for (int i = 0; i < k; i++)
        snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "," : "", names[i]);
}

/* A connection of its own to path (the caller closes it), waiting up to 5 s for locks. */
static inline sqlite3 *db_open(const char *path, int flags)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK)
        fail_msg("open %s: %s", path, db ? sqlite3_errmsg(db) : "?");
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* Runs sql on db; the test fails if it fails. */
static inline void db_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* The first column of sql's first row on db (-1 when no row or the query fails). */
static inline int64_t db_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

/* sql's integer answer on the database file at path, opened read-only. */
static inline int64_t file_int(const char *path, const char *sql)
{
    sqlite3 *db = db_open(path, SQLITE_OPEN_READONLY);
    int64_t v = db_int(db, sql);
    sqlite3_close(db);
    return v;
}

/* 1 when SQLite's integrity check of the database file at path says "ok". */
static inline int is_integral(const char *path)
{
    sqlite3 *db = db_open(path, SQLITE_OPEN_READONLY);
    sqlite3_stmt *st = NULL;
    assert_int_equal(SQLITE_OK, sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL));
    int ok =
        sqlite3_step(st) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok;
}

/* The fixture's store's own connection (borrowed). */
static inline sqlite3 *store_db(fx_t *f)
{
    sqlite3 *db = store_sqlite_handle(f->store);
    assert_non_null(db);
    return db;
}

/* ---- a hand-made header -------------------------------------------------------------------- */

/* The text of a valid header (its size and SHA-256 those of an empty database file). */
static const char HEADER[] = "gavel-backup\nformat: 1\nschema: 8\ncreated: 2024-05-01T10:00:00Z\n"
                             "source: host:/srv/data\nmethod: pages\nbytes: 00000000000000004096\n"
                             "sha256: "
                             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n";

/* text with key's value replaced by value, into out (size n). */
static inline void with_field(const char *text, const char *key, const char *value, char *out,
                              size_t n)
{
    const char *p = strstr(text, key);
    while (p && !(p[strlen(key)] == ':' && (p == text || p[-1] == '\n')))
        p = strstr(p + 1, key);
    assert_non_null(p);
    const char *v = p + strlen(key) + 2, *e = strchr(v, '\n');
    assert_true((size_t)snprintf(out, n, "%.*s%s%s", (int)(v - text), text, value, e) < n);
}

/* Writes a header frame holding text (its length field: frame_len, or strlen(text) when < 0),
 * followed by tail. */
static inline void write_frame(const char *path, const char *text, long frame_len, const void *tail,
                               size_t tail_len)
{
    size_t tl = strlen(text);
    uint32_t len = frame_len < 0 ? (uint32_t)tl : (uint32_t)frame_len;
    unsigned char *buf = malloc(8 + tl + tail_len + 1);
    assert_non_null(buf);
    for (int i = 0; i < 4; i++) {
        buf[i] = (unsigned char)(MAGIC >> (8 * i));
        buf[4 + i] = (unsigned char)(len >> (8 * i));
    }
    memcpy(buf + 8, text, tl);
    if (tail_len)
        memcpy(buf + 8 + tl, tail, tail_len);
    write_all(path, buf, 8 + tl + tail_len);
    free(buf);
}

/* ---- fixtures ------------------------------------------------------------------------------ */

/* Closes the store and removes the temporary directory with all in it. */
static inline int teardown(void **state)
{
    fx_t *f = *state;
    store_close(f->store);
    int rc = tmpdir_remove(f->base);
    free(f);
    return rc;
}

/* A temporary directory with a store in base/data, migrated, holding table t of ROWS rows. */
static inline int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    *state = f;
    int applied = 0;
    char sql[256];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL);"
             "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d) "
             "INSERT INTO t(v) SELECT 'row ' || i FROM c",
             ROWS);
    if (tmpdir_make(f->base, sizeof(f->base), "backup") != 0) {
        free(f);
        return -1;
    }
    snprintf(f->data, sizeof(f->data), "%s/data", f->base);
    snprintf(f->out, sizeof(f->out), "%s/b.gvbackup", f->base);
    snprintf(f->target, sizeof(f->target), "%s/target", f->base);
    if (store_open(&f->store, f->data) != 0 || store_migrate(f->store, &applied) != 0 ||
        sqlite3_exec(store_sqlite_handle(f->store), sql, NULL, NULL, NULL) != SQLITE_OK) {
        teardown(state);
        return -1;
    }
    return 0;
}

/* setup, then a backup of the store (method pages) at out, its header in h. */
static inline int setup_backup(void **state)
{
    if (setup(state) != 0)
        return -1;
    fx_t *f = *state;
    char why[256];
    if (backup_create(f->store, f->out, "host:/srv/data", STORE_SNAPSHOT_PAGES, NULL, NULL, &f->h,
                      why, sizeof(why)) != 0) {
        teardown(state);
        return -1;
    }
    return 0;
}

/* ---- backup progress and headers ----------------------------------------------------------- */

typedef struct {
    int snapshot, compress, restore; /* calls per phase */
    uint64_t compress_total, last_done[3];
    int backwards; /* done went down within a phase */
} progress_log_t;

/* A progress callback counting the calls of each phase into the progress_log_t ctx. */
static inline void on_progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    progress_log_t *p = ctx;
    int i = !strcmp(phase, "snapshot") ? 0 : !strcmp(phase, "compress") ? 1 : 2;
    if (i == 2)
        assert_string_equal("restore", phase);
    assert_true(done <= total);
    if (done < p->last_done[i])
        p->backwards = 1;
    p->last_done[i] = done;
    if (i == 0)
        p->snapshot++;
    else if (i == 1)
        p->compress++, p->compress_total = total;
    else
        p->restore++;
}

/* a and b are the same header; with_size: file_size too (backup_extract and so restore_run leave
 * it to backup_read_header, backup.h says). */
static inline void assert_same_header(const backup_header_t *a, const backup_header_t *b,
                                      int with_size)
{
    assert_int_equal(a->format, b->format);
    assert_int_equal(a->schema, b->schema);
    assert_string_equal(a->created, b->created);
    assert_string_equal(a->source, b->source);
    assert_string_equal(a->method, b->method);
    assert_int_equal(a->bytes, b->bytes);
    assert_string_equal(a->sha256, b->sha256);
    if (with_size)
        assert_int_equal(a->file_size, b->file_size);
}

#endif
