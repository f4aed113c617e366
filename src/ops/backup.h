/* Backup files: a consistent snapshot of the database, compressed with zstd, behind a header that
 * says what it is (format, schema version, when, from where) and carries a SHA-256 of the
 * database it holds. The header is a zstd skippable frame, so the whole file is also a valid
 * .zst stream: `zstd -d` alone gives the database back. */
#ifndef GAVEL_OPS_BACKUP_H
#define GAVEL_OPS_BACKUP_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define BACKUP_FORMAT 1           /* the file format this binary writes and reads */
#define BACKUP_SUFFIX ".gvbackup" /* the name scheduled backups end with */

typedef struct {
    int format;
    int schema;         /* the database's schema version */
    char created[32];   /* UTC, "YYYY-MM-DDTHH:MM:SSZ" */
    char source[256];   /* host:data directory it was taken from */
    char method[16];    /* "pages" or "vacuum" */
    uint64_t bytes;     /* the database's size */
    char sha256[65];    /* lower-case hex SHA-256 of the database's bytes */
    uint64_t file_size; /* the backup file's size (filled by backup_read_header) */
} backup_header_t;

/* What a long step is doing: phase "snapshot" (pages) or "compress"/"restore" (bytes). */
typedef void (*backup_progress_t)(void *ctx, const char *phase, uint64_t done, uint64_t total);

/* backup_why formats a message into why (size n) and returns rc: the failure paths of this
 * module and of restore (datadir.c) say what went wrong in one line. */
int backup_why(char *why, size_t n, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* backup_dated_path writes dir/gavel-<UTC time>BACKUP_SUFFIX, the name of a new backup in dir
 * (names sort by time), into out (size n). */
void backup_dated_path(const char *dir, char *out, size_t n);

/* backup_source_of writes "host:/absolute/data/dir", where a backup of data_dir comes from, into
 * out (size n). */
void backup_source_of(const char *data_dir, char *out, size_t n);

/* backup_method_parse maps "pages" or "vacuum" (--backup-method). 0 or GV_EINVALID_REQUEST. */
int backup_method_parse(const char *text, store_snapshot_method_t *out);

/* backup_create writes a backup of the database behind s to the file out: a snapshot (method)
 * into out.snapshot, compressed with its header into out.partial, fsynced, renamed to out and
 * the directory fsynced; the snapshot is removed. source names where it comes from (<= 255
 * bytes, no control characters are kept). progress may be NULL. On success *hdr describes the
 * file. On failure nothing is left behind, out is untouched, why (size why_len) says what went
 * wrong, and the result is GV_EIO (a file), GV_EDB* (the database) or GV_ENOMEM. */
int backup_create(store_t *s, const char *out, const char *source, store_snapshot_method_t method,
                  backup_progress_t progress, void *ctx, backup_header_t *hdr, char *why,
                  size_t why_len);

/* backup_read_header reads and checks the header of the backup file at path into *hdr. 0;
 * GV_ENOT_FOUND (no such file), GV_EIO (unreadable) or GV_EINVALID_REQUEST (not a Gavel backup,
 * or of a newer format), with why set. */
int backup_read_header(const char *path, backup_header_t *hdr, char *why, size_t why_len);

/* backup_extract decompresses the backup at path into the new file dest (created with mode 0600;
 * must not exist), checking on the way that the content is complete and matches the header's
 * size and SHA-256, then fsyncs dest. On success *hdr is the header. On failure dest is removed
 * and the result is GV_EINVALID_REQUEST (damaged, truncated or not a backup), GV_ENOT_FOUND,
 * GV_EIO or GV_ENOMEM, with why set. */
int backup_extract(const char *path, const char *dest, backup_progress_t progress, void *ctx,
                   backup_header_t *hdr, char *why, size_t why_len);

/* One backup of a directory, for backup_list. */
typedef struct {
    char name[256]; /* the file's name inside the directory */
    backup_header_t hdr;
} backup_entry_t;

/* backup_list finds the backup files of dir (any regular file whose header reads; others are
 * ignored), newest first (by the header's created time, then name). *out is a new array the
 * caller frees (NULL when none), *n its length. 0, GV_ENOT_FOUND (no directory), GV_EIO or
 * GV_ENOMEM. */
int backup_list(const char *dir, backup_entry_t **out, size_t *n);

/* backup_prune removes the oldest backups of dir whose names end with BACKUP_SUFFIX beyond the
 * newest keep (>= 1). *removed counts them. 0 or GV_E* of the listing. */
int backup_prune(const char *dir, int keep, int *removed);

/* backup_yield_priority lowers the calling thread's CPU and disk priority (nice 10, the lowest
 * best-effort I/O level), so that a backup gives way to the server's loop and its commits. Only
 * ever lowers; failures are ignored (a backup still runs at the normal priority). */
void backup_yield_priority(void);

/* backup_fsync_dir makes a rename or a new file in dir durable. 0 or GV_EIO. */
int backup_fsync_dir(const char *dir);

#endif
