/* The data directory's lock and the restore of a backup into it (see datadir.h). */
#include "ops/datadir.h"

#include "core/err.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long lock_holder(int fd)
{
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    return n > 0 ? strtol(buf, NULL, 10) : 0;
}

/* mkdir -p with mode 0700 for what it creates. */
static int make_dirs(const char *dir)
{
    char path[4200];
    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
        return GV_EIO;
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        struct stat st;
        if (mkdir(path, 0700) != 0 &&
            (errno != EEXIST || stat(path, &st) != 0 || !S_ISDIR(st.st_mode)))
            return GV_EIO;
        *p = saved;
        if (!saved)
            return 0;
    }
}

int datadir_lock(const char *dir, int *fd, long *holder)
{
    char path[4200];
    *fd = -1;
    *holder = 0;
    if (make_dirs(dir) != 0)
        return GV_EIO;
    snprintf(path, sizeof(path), "%s/%s", dir, DATADIR_LOCK_FILE);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f < 0)
        return GV_EIO;
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        *holder = busy ? lock_holder(f) : 0;
        close(f);
        return busy ? GV_EDB_BUSY : GV_EIO;
    }
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, pid, (size_t)n, 0) != n) {
        close(f);
        return GV_EIO;
    }
    *fd = f;
    return 0;
}

void datadir_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* closing the last descriptor releases the flock */
}

/* ---- restore --------------------------------------------------------------------------------- */

/* What one restore made, so that a failure can take it back. */
typedef struct {
    const restore_opts_t *o;
    char tmp[4200];  /* the temporary directory inside dir */
    char copy[4300]; /* tmp/gavel.db */
    int made_dir, made_lock, made_tmp, lock;
} restore_t;

static void remove_db_files(const char *db)
{
    char side[4400];
    unlink(db);
    snprintf(side, sizeof(side), "%s-wal", db);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", db);
    unlink(side);
}

static void restore_undo(restore_t *r)
{
    char path[4300];
    if (r->made_tmp) {
        remove_db_files(r->copy);
        rmdir(r->tmp);
    }
    if (r->made_lock) {
        snprintf(path, sizeof(path), "%s/%s", r->o->dir, DATADIR_LOCK_FILE);
        unlink(path);
    }
    datadir_unlock(r->lock);
    r->lock = -1;
    if (r->made_dir)
        rmdir(r->o->dir);
}

static int file_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The directory exists (made when absent), is locked by us, and holds no database unless the
 * restore may replace it. */
static int restore_claim(restore_t *r, char *why, size_t wn)
{
    const char *dir = r->o->dir;
    char path[4300];
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || mkdir(dir, 0700) != 0)
            return backup_why(why, wn, GV_EIO, "cannot use the directory %s (%s)", dir,
                              strerror(errno));
        r->made_dir = 1;
    } else if (!S_ISDIR(st.st_mode)) {
        return backup_why(why, wn, GV_EIO, "%s is not a directory", dir);
    }
    snprintf(path, sizeof(path), "%s/%s", dir, DATADIR_LOCK_FILE);
    r->made_lock = !file_exists(path);
    long holder = 0;
    int rc = datadir_lock(dir, &r->lock, &holder);
    if (rc == GV_EDB_BUSY) {
        r->made_lock = 0;
        return backup_why(why, wn, rc,
                          "a gavel server (pid %ld) is using %s: stop it first, then restore",
                          holder, dir);
    }
    if (rc)
        return backup_why(why, wn, rc, "cannot lock the directory %s (%s)", dir, strerror(errno));
    snprintf(path, sizeof(path), "%s/%s", dir, STORE_DB_FILE);
    char wal[4400];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    if ((file_exists(path) || file_exists(wal)) && !r->o->force)
        return backup_why(
            why, wn, GV_ECONFLICT,
            "%s already holds a database (%s): restore into an empty directory, or pass "
            "--force to replace it (the current one is kept beside it)",
            dir, STORE_DB_FILE);
    return 0;
}

/* Opens the extracted copy as a store: schema no newer than ours, integrity, the caller's check. */
static int restore_verify(restore_t *r, char *why, size_t wn)
{
    store_t *s = NULL;
    char detail[256];
    int rc = store_open_why(&s, r->tmp, detail, sizeof(detail));
    if (rc)
        return backup_why(why, wn, rc, "the backup's database cannot be opened (%s)", detail);
    int schema = 0;
    rc = store_schema_version(s, &schema);
    if (rc == 0 && schema > store_schema_known())
        rc = backup_why(
            why, wn, GV_EINVALID_REQUEST,
            "the backup's schema version %d is newer than this gavel's %d: restore it with "
            "a newer gavel",
            schema, store_schema_known());
    else if (rc == 0 && (rc = store_integrity_check(s)) != 0)
        backup_why(why, wn, rc, "the backup's database fails the integrity check (%s)",
                   store_errmsg(s));
    else if (rc)
        backup_why(why, wn, rc, "the backup's database cannot be read (%s)", store_errmsg(s));
    store_close(s);
    if (rc == 0 && r->o->check)
        rc = r->o->check(r->o->check_ctx, r->tmp, why, wn);
    return rc;
}

/* Moves the database dir holds (and its write-ahead log) aside under a name with the time. */
static int restore_set_aside(restore_t *r, char *aside, size_t an, char *why, size_t wn)
{
    char db[4300], from[4400], to[4400], stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(db, sizeof(db), "%s/%s", r->o->dir, STORE_DB_FILE);
    snprintf(from, sizeof(from), "%s-wal", db);
    if (!file_exists(db) && !file_exists(from)) {
        aside[0] = '\0';
        return 0;
    }
    snprintf(aside, an, "%s/%s.replaced-%s", r->o->dir, STORE_DB_FILE, stamp);
    for (int k = 2; file_exists(aside) && k < 1000; k++)
        snprintf(aside, an, "%s/%s.replaced-%s-%d", r->o->dir, STORE_DB_FILE, stamp, k);
    snprintf(to, sizeof(to), "%s-wal", aside);
    if (file_exists(from) && rename(from, to) != 0)
        return backup_why(why, wn, GV_EIO, "cannot move %s aside (%s)", from, strerror(errno));
    snprintf(from, sizeof(from), "%s-shm", db);
    unlink(from);
    if (file_exists(db) && rename(db, aside) != 0)
        return backup_why(why, wn, GV_EIO, "cannot move %s aside (%s)", db, strerror(errno));
    return 0;
}

/* Syncs the checked copy, sets aside what dir holds, renames the copy into place and syncs dir. */
static int restore_swap(restore_t *r, char *aside, size_t an, char *why, size_t wn)
{
    char db[4300], side[4400];
    snprintf(side, sizeof(side), "%s-wal", r->copy);
    if (file_exists(side)) /* the check's close did not fold its log back: never split them */
        return backup_why(why, wn, GV_EIO, "the restored copy was not closed cleanly (%s remains)",
                          side);
    snprintf(side, sizeof(side), "%s-shm", r->copy);
    unlink(side);
    int fd = open(r->copy, O_RDONLY | O_CLOEXEC);
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : GV_EIO;
    if (fd >= 0)
        close(fd);
    if (rc)
        return backup_why(why, wn, rc, "cannot sync the restored database (%s)", strerror(errno));
    rc = restore_set_aside(r, aside, an, why, wn);
    if (rc)
        return rc;
    snprintf(db, sizeof(db), "%s/%s", r->o->dir, STORE_DB_FILE);
    if (rename(r->copy, db) != 0)
        return backup_why(why, wn, GV_EIO, "cannot move the restored database into place (%s)%s%s",
                          strerror(errno), aside[0] ? "; the previous one is " : "", aside);
    rmdir(r->tmp);
    r->made_tmp = 0;
    if (backup_fsync_dir(r->o->dir) != 0)
        return backup_why(why, wn, GV_EIO, "cannot sync the directory %s (%s)", r->o->dir,
                          strerror(errno));
    datadir_unlock(r->lock);
    r->lock = -1;
    return 0;
}

int restore_run(const restore_opts_t *o, backup_header_t *hdr, char *aside, size_t aside_len,
                char *why, size_t why_len)
{
    restore_t r = {.o = o, .lock = -1};
    aside[0] = '\0';
    int rc = backup_read_header(o->from, hdr, why, why_len);
    if (rc == 0 && hdr->schema > store_schema_known())
        rc = backup_why(
            why, why_len, GV_EINVALID_REQUEST,
            "the backup's schema version %d is newer than this gavel's %d: restore it with a "
            "newer gavel",
            hdr->schema, store_schema_known());
    rc = rc ? rc : restore_claim(&r, why, why_len);
    if (rc == 0) {
        snprintf(r.tmp, sizeof(r.tmp), "%s/.restore-%ld", o->dir, (long)getpid());
        snprintf(r.copy, sizeof(r.copy), "%s/%s", r.tmp, STORE_DB_FILE);
        remove_db_files(r.copy);
        rmdir(r.tmp);
        r.made_tmp = mkdir(r.tmp, 0700) == 0;
        if (!r.made_tmp)
            rc = backup_why(why, why_len, GV_EIO, "cannot create %s (%s)", r.tmp, strerror(errno));
    }
    rc = rc ? rc : backup_extract(o->from, r.copy, o->progress, o->progress_ctx, hdr, why, why_len);
    rc = rc ? rc : restore_verify(&r, why, why_len);
    if (rc == 0 && (rc = restore_swap(&r, aside, aside_len, why, why_len)) != 0 && !r.made_tmp) {
        datadir_unlock(r.lock); /* past the point of no return: dir keeps what is now there */
        return rc;
    }
    if (rc)
        restore_undo(&r);
    return rc;
}
