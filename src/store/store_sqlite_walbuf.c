/* The "gavel-walbuf" VFS: the platform's default VFS, except that writes to a write-ahead log
 * are gathered in memory and reach the file in one write when SQLite syncs it.
 *
 * Why: SQLite writes each WAL frame with two writes (its 24-byte header, then the page), so a
 * group commit of 70 pages costs 140 system calls before its fsync; the profile of the seed
 * scenario showed them as a third of the writer thread's time. Gathered, it is one.
 *
 * Why it is safe: SQLite makes frames visible to other connections only through the WAL index,
 * which it updates after it has synced the log (every Gavel connection runs synchronous=FULL:
 * store_sqlite.c refuses to open one otherwise). Until then only the writing connection can look at
 * them, through this very handle, and every read, size, truncate, sync and close of the handle
 * writes the gathered bytes out first. A write that does not extend or overwrite the gathered
 * range writes them out first too, so the file always receives the same bytes at the same
 * offsets in the same order a plain VFS would give it; only the number of calls changes. */
#include "store/store_sqlite_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WALBUF_MAX (8u << 20) /* gathered bytes beyond which a write goes out at once */
/* The unix VFS writes at most 0x1ffff bytes per call (it masks the length with it: a longer
 * write would be cut short, and one of 128 KiB would write nothing and report the disk full), so
 * everything goes out in pieces of 124 KiB. */
#define WALBUF_PIECE ((size_t)0x1f000)
#define WALBUF_FRAME_HEADER 24

typedef struct {
    sqlite3_file base;  /* first: SQLite's handle; pMethods = &walbuf_methods */
    sqlite3_file *real; /* the default VFS's handle, in the same allocation after this struct */
    unsigned char *buf; /* gathered bytes, to go to offset `at` */
    sqlite3_int64 at;
    size_t len, cap;
    uint64_t frames; /* frames written through this handle: SQLite writes each frame's 24-byte
                        header apart from its page */
} walbuf_file_t;

static sqlite3_vfs walbuf_vfs;
static sqlite3_vfs *walbuf_real;
static pthread_once_t walbuf_once = PTHREAD_ONCE_INIT;
static int walbuf_rc = SQLITE_ERROR;

static walbuf_file_t *wf_of(sqlite3_file *f)
{
    return (walbuf_file_t *)f;
}

/* Writes len bytes at off through the default VFS, in pieces of at most WALBUF_PIECE. */
static int wf_put(walbuf_file_t *f, const unsigned char *data, size_t len, sqlite3_int64 off)
{
    int rc = SQLITE_OK;
    for (size_t done = 0; done < len && rc == SQLITE_OK; done += WALBUF_PIECE) {
        size_t n = len - done < WALBUF_PIECE ? len - done : WALBUF_PIECE;
        rc = f->real->pMethods->xWrite(f->real, data + done, (int)n, off + (sqlite3_int64)done);
    }
    return rc;
}

/* Writes the gathered bytes out; empties the buffer whether or not that worked. */
static int wf_flush(walbuf_file_t *f)
{
    int rc = wf_put(f, f->buf, f->len, f->at);
    f->len = 0;
    return rc;
}

static int wf_reserve(walbuf_file_t *f, size_t need)
{
    if (need <= f->cap)
        return SQLITE_OK;
    size_t cap = f->cap ? f->cap : 256u << 10;
    while (cap < need)
        cap *= 2;
    unsigned char *p = realloc(f->buf, cap);
    if (p == NULL)
        return SQLITE_NOMEM;
    f->buf = p;
    f->cap = cap;
    return SQLITE_OK;
}

static int wf_close(sqlite3_file *file)
{
    walbuf_file_t *f = wf_of(file);
    int rc = wf_flush(f);
    int rc2 = f->real->pMethods->xClose(f->real);
    free(f->buf);
    f->buf = NULL;
    f->cap = 0;
    return rc != SQLITE_OK ? rc : rc2;
}

static int wf_read(sqlite3_file *file, void *out, int n, sqlite3_int64 off)
{
    walbuf_file_t *f = wf_of(file);
    int rc = wf_flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, n, off);
}

/* Extends the gathered range, overwrites inside it, or writes it out and starts a new one. */
static int wf_write(sqlite3_file *file, const void *in, int n, sqlite3_int64 off)
{
    walbuf_file_t *f = wf_of(file);
    size_t un = (size_t)n;
    sqlite3_int64 end = f->at + (sqlite3_int64)f->len;
    if (f->len > 0 && off >= f->at && off + n <= end) {
        memcpy(f->buf + (off - f->at), in, un);
        return SQLITE_OK;
    }
    if (n == WALBUF_FRAME_HEADER)
        f->frames++;
    if (f->len > 0 && (off != end || f->len + un > WALBUF_MAX)) {
        int rc = wf_flush(f);
        if (rc != SQLITE_OK)
            return rc;
    }
    if (un > WALBUF_PIECE) /* never from SQLite, whose writes are a page at most */
        return wf_put(f, in, un, off);
    int rc = wf_reserve(f, f->len + un);
    if (rc != SQLITE_OK) {
        int frc = wf_flush(f);
        return frc != SQLITE_OK ? frc : wf_put(f, in, un, off);
    }
    if (f->len == 0)
        f->at = off;
    memcpy(f->buf + f->len, in, un);
    f->len += un;
    return SQLITE_OK;
}

static int wf_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    walbuf_file_t *f = wf_of(file);
    int rc = wf_flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int wf_sync(sqlite3_file *file, int flags)
{
    walbuf_file_t *f = wf_of(file);
    int rc = wf_flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int wf_size(sqlite3_file *file, sqlite3_int64 *size)
{
    walbuf_file_t *f = wf_of(file);
    int rc = wf_flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int wf_lock(sqlite3_file *file, int level)
{
    return wf_of(file)->real->pMethods->xLock(wf_of(file)->real, level);
}

static int wf_unlock(sqlite3_file *file, int level)
{
    return wf_of(file)->real->pMethods->xUnlock(wf_of(file)->real, level);
}

static int wf_check_lock(sqlite3_file *file, int *out)
{
    return wf_of(file)->real->pMethods->xCheckReservedLock(wf_of(file)->real, out);
}

static int wf_control(sqlite3_file *file, int op, void *arg)
{
    walbuf_file_t *f = wf_of(file);
    int rc = wf_flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileControl(f->real, op, arg);
}

static int wf_sector(sqlite3_file *file)
{
    return wf_of(file)->real->pMethods->xSectorSize(wf_of(file)->real);
}

static int wf_caps(sqlite3_file *file)
{
    return wf_of(file)->real->pMethods->xDeviceCharacteristics(wf_of(file)->real);
}

/* A WAL file has no shared memory or mapping of its own (those belong to the database file, which
 * this VFS does not wrap), so the version-1 methods are all it needs. */
static const sqlite3_io_methods walbuf_methods = {
    .iVersion = 1,
    .xClose = wf_close,
    .xRead = wf_read,
    .xWrite = wf_write,
    .xTruncate = wf_truncate,
    .xSync = wf_sync,
    .xFileSize = wf_size,
    .xLock = wf_lock,
    .xUnlock = wf_unlock,
    .xCheckReservedLock = wf_check_lock,
    .xFileControl = wf_control,
    .xSectorSize = wf_sector,
    .xDeviceCharacteristics = wf_caps,
};

uint64_t store_sqlite_walbuf_frames(sqlite3_file *file)
{
    return file && file->pMethods == &walbuf_methods ? wf_of(file)->frames : 0;
}

/* A WAL file is wrapped; any other file is the default VFS's own handle, opened in place (this
 * VFS's szOsFile is larger than the default's, so it fits). */
static int walbuf_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
                       int *out_flags)
{
    (void)vfs;
    if (!(flags & SQLITE_OPEN_WAL))
        return walbuf_real->xOpen(walbuf_real, name, file, flags, out_flags);
    walbuf_file_t *f = wf_of(file);
    memset(f, 0, sizeof(*f));
    f->real = (sqlite3_file *)(f + 1);
    int rc = walbuf_real->xOpen(walbuf_real, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        /* SQLite calls xClose only when pMethods is set; the real handle is closed if opened. */
        if (f->real->pMethods != NULL)
            f->real->pMethods->xClose(f->real);
        f->base.pMethods = NULL;
        return rc;
    }
    f->base.pMethods = &walbuf_methods;
    return SQLITE_OK;
}

static int walbuf_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return walbuf_real->xDelete(walbuf_real, name, sync_dir);
}

static int walbuf_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return walbuf_real->xAccess(walbuf_real, name, flags, out);
}

static int walbuf_fullpath(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return walbuf_real->xFullPathname(walbuf_real, name, n, out);
}

static int walbuf_random(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return walbuf_real->xRandomness(walbuf_real, n, out);
}

static int walbuf_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return walbuf_real->xSleep(walbuf_real, us);
}

static int walbuf_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return walbuf_real->xCurrentTime(walbuf_real, out);
}

static int walbuf_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return walbuf_real->xGetLastError(walbuf_real, n, out);
}

static void *walbuf_dlopen(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return walbuf_real->xDlOpen(walbuf_real, name);
}

static void walbuf_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    walbuf_real->xDlError(walbuf_real, n, out);
}

static void (*walbuf_dlsym(sqlite3_vfs *vfs, void *lib, const char *sym))(void)
{
    (void)vfs;
    return walbuf_real->xDlSym(walbuf_real, lib, sym);
}

static void walbuf_dlclose(sqlite3_vfs *vfs, void *lib)
{
    (void)vfs;
    walbuf_real->xDlClose(walbuf_real, lib);
}

static int walbuf_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return walbuf_real->xCurrentTimeInt64(walbuf_real, out);
}

static void walbuf_register(void)
{
    walbuf_real = sqlite3_vfs_find(NULL);
    if (walbuf_real == NULL || walbuf_real->iVersion < 2)
        return;
    walbuf_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(walbuf_file_t) + walbuf_real->szOsFile,
        .mxPathname = walbuf_real->mxPathname,
        .zName = STORE_SQLITE_WALBUF_VFS,
        .xOpen = walbuf_open,
        .xDelete = walbuf_delete,
        .xAccess = walbuf_access,
        .xFullPathname = walbuf_fullpath,
        .xDlOpen = walbuf_dlopen,
        .xDlError = walbuf_dlerror,
        .xDlSym = walbuf_dlsym,
        .xDlClose = walbuf_dlclose,
        .xRandomness = walbuf_random,
        .xSleep = walbuf_sleep,
        .xCurrentTime = walbuf_time,
        .xGetLastError = walbuf_last_error,
        .xCurrentTimeInt64 = walbuf_time64,
    };
    walbuf_rc = sqlite3_vfs_register(&walbuf_vfs, 0);
}

int store_sqlite_walbuf_vfs(void)
{
    pthread_once(&walbuf_once, walbuf_register);
    return walbuf_rc;
}
