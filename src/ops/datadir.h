/* The data directory: one server at a time (a lock the server holds while it runs), and the
 * restore of a backup into it. */
#ifndef GAVEL_OPS_DATADIR_H
#define GAVEL_OPS_DATADIR_H

#include "ops/backup.h"

#include <stddef.h>

#define DATADIR_LOCK_FILE "gavel.lock"

/* datadir_lock takes the exclusive lock of dir (made with its parents, mode 0700, when missing;
 * the file dir/gavel.lock, created if missing,
 * holding the taker's pid) for as long as the process lives or until datadir_unlock. *fd
 * receives the lock's descriptor. 0; GV_EDB_BUSY when another process holds it (*holder: the
 * pid it wrote, 0 when unknown); GV_EIO when dir cannot be used. */
int datadir_lock(const char *dir, int *fd, long *holder);

/* datadir_unlock releases a lock taken by datadir_lock (fd < 0: nothing). */
void datadir_unlock(int fd);

/* Checks a restored copy further (e.g. replays its auction logs): 0 when it may be used, else a
 * GV_E* code with why (size n) set. data_dir holds the copy as STORE_DB_FILE. */
typedef int (*restore_check_t)(void *ctx, const char *data_dir, char *why, size_t n);

typedef struct {
    const char *dir;  /* the data directory restored into */
    const char *from; /* the backup file */
    int force;        /* replace a database dir holds (kept aside) */
    backup_progress_t progress;
    void *progress_ctx;
    restore_check_t check; /* may be NULL */
    void *check_ctx;
} restore_opts_t;

/* restore_run restores the backup o->from into o->dir: refuses while a server holds dir, or
 * when dir holds a database and o->force is 0; extracts into a temporary directory inside dir
 * checking size and SHA-256, refuses a schema newer than this binary's, runs the integrity check
 * and o->check on the copy, then moves it into place with a rename and syncs the directory. With
 * o->force the replaced database is renamed to aside (written, size aside_len). On failure dir is
 * left as it was (created for nothing: removed again) and why says what happened. On success
 * *hdr is the backup's header. 0; GV_EDB_BUSY (a server holds dir), GV_ECONFLICT (a database is
 * there), GV_EINVALID_REQUEST (not a usable backup), GV_ENOT_FOUND, GV_EDB_CORRUPT, GV_EIO or
 * GV_ENOMEM. */
int restore_run(const restore_opts_t *o, backup_header_t *hdr, char *aside, size_t aside_len,
                char *why, size_t why_len);

#endif
