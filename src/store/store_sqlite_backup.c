/* The SQLite backend's online snapshot: a copy of the whole database as of one moment, taken in
 * one read transaction on the caller's connection while other connections keep committing
 * (write-ahead log mode lets readers and the writer proceed together). */
#include "store/store_sqlite_int.h"

#include "core/err.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAPSHOT_STEP_PAGES 256 /* pages per step: 1 MiB at 4 KiB pages, then a progress call */

static int snapshot_schema(store_sqlite_t *ss, int *schema)
{
    sqlite3_stmt *stmt = NULL;
    int err =
        store_sqlite_prepare(ss, "SELECT coalesce(max(version), 0) FROM schema_version", &stmt);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *schema = sqlite3_column_int(stmt, 0);
    else
        err = store_sqlite_fail(ss, rc);
    sqlite3_finalize(stmt);
    return err;
}

/* A failure of the snapshot's own file: GV_EIO (GV_ENOMEM), its message kept; never recorded as
 * the data directory's disk being full. */
static int snapshot_target_fail(store_sqlite_t *ss, sqlite3 *db, int rc)
{
    snprintf(ss->err, sizeof(ss->err), "snapshot file: %s",
             db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return rc == SQLITE_NOMEM ? GV_ENOMEM : GV_EIO;
}

static int target_error(int rc)
{
    int base = rc & 0xff;
    return base == SQLITE_CANTOPEN || base == SQLITE_FULL || base == SQLITE_IOERR;
}

/* Copies every page into the new database file at path with SQLite's online backup. The caller's
 * read transaction pins the snapshot: steps never restart when others commit in between. */
static int snapshot_pages(store_sqlite_t *ss, const char *path, store_progress_t progress,
                          void *ctx)
{
    sqlite3 *dst = NULL;
    int rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    /* a scratch copy: the backup file made from it is what gets synced */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(dst, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", NULL, NULL, NULL);
    sqlite3_backup *b = rc == SQLITE_OK ? sqlite3_backup_init(dst, "main", ss->db, "main") : NULL;
    if (b == NULL) {
        snprintf(ss->err, sizeof(ss->err), "snapshot file: %s",
                 dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
        sqlite3_close(dst);
        return rc == SQLITE_NOMEM ? GV_ENOMEM : GV_EIO;
    }
    do {
        rc = sqlite3_backup_step(b, SNAPSHOT_STEP_PAGES);
        int total = sqlite3_backup_pagecount(b);
        if (progress)
            progress(ctx, (uint64_t)(total - sqlite3_backup_remaining(b)), (uint64_t)total);
    } while (rc == SQLITE_OK);
    sqlite3_backup_finish(b);
    int err = rc == SQLITE_DONE  ? 0
              : target_error(rc) ? snapshot_target_fail(ss, dst, rc)
                                 : store_sqlite_fail(ss, rc);
    if (err == 0 && sqlite3_errcode(dst) != SQLITE_OK && sqlite3_errcode(dst) != SQLITE_DONE)
        err = snapshot_target_fail(ss, dst, sqlite3_errcode(dst));
    if (sqlite3_close(dst) != SQLITE_OK && err == 0)
        err = GV_EIO;
    return err;
}

/* A compacted copy in one statement (no progress: SQLite reports none). */
static int snapshot_vacuum(store_sqlite_t *ss, const char *path)
{
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_prepare(ss, "VACUUM INTO ?1", &stmt);
    if (err != 0)
        return err;
    sqlite3_bind_text(stmt, 1, path, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    err = rc == SQLITE_DONE  ? 0
          : target_error(rc) ? snapshot_target_fail(ss, ss->db, rc)
                             : store_sqlite_fail(ss, rc);
    sqlite3_finalize(stmt);
    return err;
}

/* A file left by the copy: the database and the journals SQLite may have made beside it. */
static void snapshot_remove(const char *path)
{
    char side[4200];
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-journal", path);
    unlink(side);
}

int store_sqlite_snapshot(store_t *s, const char *path, store_snapshot_method_t method,
                          store_progress_t progress, void *ctx, int *schema)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    struct stat st;
    if (strlen(path) > 4000 || lstat(path, &st) == 0) {
        snprintf(ss->err, sizeof(ss->err), "the snapshot file exists already");
        return GV_EIO;
    }
    if (method == STORE_SNAPSHOT_VACUUM) { /* one statement: its own read transaction */
        int err = snapshot_schema(ss, schema);
        err = err ? err : snapshot_vacuum(ss, path);
        if (err != 0)
            snapshot_remove(path);
        return err;
    }
    /* BEGIN is deferred: the first read takes the snapshot the whole copy then sees */
    int rc = sqlite3_exec(ss->db, "BEGIN", NULL, NULL, NULL);
    int err = rc == SQLITE_OK ? snapshot_schema(ss, schema) : store_sqlite_fail(ss, rc);
    if (err == 0)
        err = snapshot_pages(ss, path, progress, ctx);
    if (rc == SQLITE_OK)
        sqlite3_exec(ss->db, "COMMIT", NULL, NULL, NULL); /* ends a read: cannot fail to commit */
    if (err != 0)
        snapshot_remove(path);
    return err;
}
