/* Internals of the SQLite backend shared by its files (store_sqlite.c: connection, transactions,
 * migrations; store_sqlite_accounts.c: the accounts queries). Nothing outside them includes it. */
#ifndef GAVEL_STORE_STORE_SQLITE_INT_H
#define GAVEL_STORE_STORE_SQLITE_INT_H

#include "store/store_int.h"

#include <sqlite3.h>
#include <stdint.h>

/* Statements prepared on first use and cached for the store's life. Not at open: their tables do
 * not exist until store_migrate has run. */
typedef enum {
    STORE_SQ_USER_INSERT,
    STORE_SQ_USER_BY_ID,
    STORE_SQ_USER_BY_EMAIL,
    STORE_SQ_USER_SET_NAME,
    STORE_SQ_USER_SET_ADMIN,
    STORE_SQ_LINK_INSERT,
    STORE_SQ_LINK_CONSUME,
    STORE_SQ_LINK_CODE_CONSUME,
    STORE_SQ_LINK_PURGE,
    STORE_SQ_REFRESH_INSERT,
    STORE_SQ_REFRESH_FIND,
    STORE_SQ_REFRESH_MARK_ROTATED,
    STORE_SQ_REFRESH_INSERT_NEXT,
    STORE_SQ_REFRESH_REVOKE_FAMILY,
    STORE_SQ_HEALTH,
    STORE_SQ_COUNT
} store_sq_id_t;

/* The length a write-ahead log that started over is cut back to (SQLite's journal_size_limit):
 * at least what the auction service lets it grow to (SVC_CHECKPOINT_RESTART_FRAMES), so that
 * its file keeps its blocks and a commit's sync changes no file-system metadata. */
#define STORE_SQLITE_LOG_LIMIT_TEXT "536870912" /* 512 MiB */

#define STORE_SQLITE_STMT_SLOTS 512 /* statements cached by their SQL text's address */

typedef struct {
    const char *sql; /* a string literal: its address is the key */
    sqlite3_stmt *stmt;
} store_sqlite_slot_t;

typedef struct {
    store_t base; /* first, so a store_t * is a store_sqlite_t * */
    sqlite3 *db;
    sqlite3_stmt *begin; /* prepared at open: BEGIN IMMEDIATE, COMMIT, ROLLBACK */
    sqlite3_stmt *commit;
    sqlite3_stmt *rollback;
    sqlite3_stmt *cached[STORE_SQ_COUNT]; /* NULL until first used; finalized by close */
    store_sqlite_slot_t slots[STORE_SQLITE_STMT_SLOTS]; /* store_sqlite_stmt's cache */
    char err[256];                                      /* message of the last failure */
    int auto_frames;   /* a commit that leaves the log this long copies it back; 0: never */
    uint64_t written;  /* store_sqlite_walbuf_frames of the log's handle after the last commit */
    uint64_t appended; /* frames this connection's commits appended to the log (atomic) */
} store_sqlite_t;

static inline store_sqlite_t *store_sqlite_of(store_t *s)
{
    return (store_sqlite_t *)s;
}

/* store_sqlite_fail records the connection's message for the SQLite code rc in ss->err and
 * returns rc as a GV_E* code (busy/locked: GV_EDB_BUSY, out of memory: GV_ENOMEM, else GV_EDB). */
int store_sqlite_fail(store_sqlite_t *ss, int rc);

/* The name of the VFS of store_sqlite_walbuf.c: the default VFS, with each write-ahead log's
 * writes gathered until SQLite syncs it. Needs synchronous=FULL (or EXTRA) on every connection. */
#define STORE_SQLITE_WALBUF_VFS "gavel-walbuf"

/* store_sqlite_walbuf_vfs registers that VFS once per process (thread-safe) and returns
 * SQLITE_OK when it can be used. */
int store_sqlite_walbuf_vfs(void);

/* store_sqlite_walbuf_frames: the frames SQLite wrote through a write-ahead log's handle of that
 * VFS since it was opened, a frame rewritten in place before its commit reached the file
 * included; 0 for any other file. Only on the thread that uses the handle's connection. */
uint64_t store_sqlite_walbuf_frames(sqlite3_file *file);

/* store_sqlite_snapshot is the backend of store_snapshot (store_sqlite_backup.c). */
int store_sqlite_snapshot(store_t *s, const char *path, store_snapshot_method_t method,
                          store_progress_t progress, void *ctx, int *schema);

/* store_sqlite_prepare compiles sql into a persistent statement the caller finalizes. 0 or GV_E*.
 */
int store_sqlite_prepare(store_sqlite_t *ss, const char *sql, sqlite3_stmt **stmt);

/* store_sqlite_cached sets *stmt to the cached statement id (borrowed: reset it after use),
 * compiling sql the first time. 0 or GV_E*. */
int store_sqlite_cached(store_sqlite_t *ss, store_sq_id_t id, const char *sql, sqlite3_stmt **stmt);

/* store_sqlite_stmt sets *stmt to the cached statement for sql — a string literal, looked up by
 * its address — compiling it on first use (borrowed: reset it after use). 0 or GV_E*. */
int store_sqlite_stmt(store_sqlite_t *ss, const char *sql, sqlite3_stmt **stmt);

/* store_sqlite_done resets stmt and clears its bindings; returns err unchanged. */
int store_sqlite_done(sqlite3_stmt *stmt, int err);

/* store_sqlite_exec_stmt steps stmt to completion (no rows expected) and resets it. */
int store_sqlite_exec_stmt(store_sqlite_t *ss, sqlite3_stmt *stmt);

/* store_sqlite_step_fail maps a failed step of a domain statement: a taken key (unique or
 * primary key) is GV_ECONFLICT, a reference to a missing row (foreign key) GV_ENOT_FOUND, any
 * other constraint GV_EINVALID_REQUEST, the rest as store_sqlite_fail does. The message is
 * recorded either way. */
int store_sqlite_step_fail(store_sqlite_t *ss, int rc);

/* store_sqlite_write steps a write returning no rows and resets stmt; *changes (may be NULL) is
 * how many rows it wrote. 0 or the mapped failure. */
int store_sqlite_write(store_sqlite_t *ss, sqlite3_stmt *stmt, int *changes);

/* store_sqlite_col_text copies text column col into dst (cap bytes with the NUL); NULL gives "".
 * A value that does not fit is GV_EDB: never truncated silently. */
int store_sqlite_col_text(store_sqlite_t *ss, sqlite3_stmt *stmt, int col, char *dst, size_t cap);

/* The domain operation tables of this backend (store_sqlite_catalogue.c, store_sqlite_league.c,
 * store_sqlite_auction.c, store_sqlite_season.c, store_sqlite_lease.c). */
extern const struct store_catalogue_ops_s store_sqlite_catalogue_ops;
extern const struct store_league_ops_s store_sqlite_league_ops;
extern const struct store_auction_ops_s store_sqlite_auction_ops;
extern const struct store_season_ops_s store_sqlite_season_ops;
extern const struct store_lease_ops_s store_sqlite_lease_ops;

/* store_sqlite_bind binds the arguments to stmt's parameters 1, 2, ... by fmt, one letter each:
 * 't' text (const char *), 'i' int64_t, 'n' int, 'h' a STORE_HASH_LEN-byte blob
 * (const unsigned char *). Values are borrowed until the statement is reset. On failure stmt is
 * reset and the mapped GV_E* code returned; else 0. */
int store_sqlite_bind(store_sqlite_t *ss, sqlite3_stmt *stmt, const char *fmt, ...);

/* store_sqlite_bind_from is store_sqlite_bind starting at parameter `first`. */
int store_sqlite_bind_from(store_sqlite_t *ss, sqlite3_stmt *stmt, int first, const char *fmt, ...);

/* The accounts operations of the ops table (store_sqlite_accounts.c). */
int store_sqlite_user_ensure(store_t *s, const char *email, const char *new_id,
                             const char *default_name, int64_t now_ms, store_user_t *out,
                             int *created);
int store_sqlite_user_get(store_t *s, const char *id, store_user_t *out);
int store_sqlite_user_set_name(store_t *s, const char *id, const char *name);
int store_sqlite_user_set_admin(store_t *s, const char *email, int is_admin);
int store_sqlite_magic_link_insert(store_t *s, const unsigned char *hash,
                                   const unsigned char *code_hash, const char *user_id,
                                   int64_t expires_ms, const char *ip, int64_t now_ms);
int store_sqlite_magic_link_consume(store_t *s, const unsigned char *hash, int by_code,
                                    const char *email, int64_t now_ms, char *user_id);
int store_sqlite_magic_link_purge(store_t *s, int64_t now_ms, int *purged);
int store_sqlite_refresh_insert(store_t *s, const unsigned char *hash, const char *user_id,
                                const char *family_id, int64_t expires_ms, int64_t now_ms);
int store_sqlite_refresh_rotate_tx(store_t *s, const unsigned char *old_hash,
                                   const unsigned char *new_hash, int64_t new_expires_ms,
                                   int64_t now_ms, char *user_id, int *commit);
int store_sqlite_refresh_revoke(store_t *s, const unsigned char *hash, int64_t now_ms);

#endif
