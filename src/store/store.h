/* The storage interface: the only header callers include. A store_t is an opaque handle whose
 * backend (SQLite today, PostgreSQL later) is chosen at open time; callers never see which. */
#ifndef GAVEL_STORE_STORE_H
#define GAVEL_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct store_s store_t;

/* Called after each successful commit (store_tx_commit, and the transactions functions such as
 * store_refresh_rotate run themselves) with how long the COMMIT took (µs, >= 0). */
typedef void (*store_commit_observer_t)(void *ctx, int64_t duration_us);

/* store_open opens the store where says. A data directory: creates it (and missing parents,
 * mode 0700) if needed and opens the SQLite database where/gavel.db in WAL mode,
 * synchronous=FULL, foreign keys on, 5 s busy timeout. A postgres:// or postgresql:// URI
 * (store_is_uri): connects to that PostgreSQL database (durable commits, 5 s lock timeout); its
 * search_path (options=-csearch_path%3DNAME) chooses the schema.
 * On success *out is a new store the caller owns (store_close); on failure *out is NULL.
 * Returns 0, GV_EIO (directory), GV_EDB (database, or a server that cannot be reached),
 * GV_EDB_CORRUPT (a damaged file), GV_EDB_BUSY or GV_ENOMEM.
 * A store is used by one thread at a time; another thread opens its own. */
#define STORE_DB_FILE "gavel.db" /* the database file inside the data directory */

int store_open(store_t **out, const char *where);

/* store_is_uri: 1 when where names a PostgreSQL database rather than a data directory. */
int store_is_uri(const char *where);

/* store_open_why is store_open that, on failure, also writes the backend's reason into why (size
 * why_len; "" on success), since no store exists to ask store_errmsg. GV_EDB_CORRUPT: the
 * database file is damaged or is not a database. */
int store_open_why(store_t **out, const char *where, char *why, size_t why_len);

/* store_close rolls back any open transaction, releases everything and frees s. NULL is a
 * no-op. */
void store_close(store_t *s);

/* store_kind names the backend: "sqlite" or "postgres". Never NULL. */
const char *store_kind(const store_t *s);

/* store_errmsg gives the backend's message for the last failure on s (for the operator's log;
 * may quote SQL, never data). Empty when nothing failed yet. Valid until the next call on s. */
const char *store_errmsg(const store_t *s);

/* store_migrate applies, in one transaction, every migration this binary knows that the database
 * has not recorded; all or nothing. *applied is how many were applied now (0 when up to date).
 * Refuses with GV_EDB, changing nothing, when the database is newer than the binary. Must not be
 * called inside a transaction. Returns 0, GV_EDB, GV_EDB_BUSY or GV_ENOMEM. */
int store_migrate(store_t *s, int *applied);

/* store_schema_version sets *version to the highest applied migration (0 if none). 0 or GV_EDB. */
int store_schema_version(store_t *s, int *version);

/* store_health runs a real query against the database. 0, GV_EDB or GV_EDB_BUSY. */
int store_health(store_t *s);

/* store_change_stamp reads a stamp that changes whenever the database may have changed: a write
 * by this store (SQLite: its total changes) or a commit by any other connection or process
 * (PRAGMA data_version). Equal stamps mean nothing was written in between: what was computed
 * from the store then is still current. 0 or GV_EDB*. */
int store_change_stamp(store_t *s, uint64_t stamp[2]);

/* store_integrity_check runs the backend's full integrity check (SQLite: PRAGMA
 * integrity_check). 0, GV_EDB_CORRUPT with the finding in store_errmsg, or another GV_EDB* when
 * the check itself could not run. */
int store_integrity_check(store_t *s);

/* store_checkpoint_auto: on (the default) lets a commit on s that grows the write-ahead log past
 * its threshold copy the log back into the database itself, inside that commit; off leaves it
 * to store_checkpoint on another connection, so commits on s never wait for it. 0 or GV_EDB*. */
int store_checkpoint_auto(store_t *s, int on);

/* store_checkpoint copies what the write-ahead log holds back into the database. restart 0:
 * without blocking other connections' readers or writers (SQLite: a passive checkpoint), which
 * under a steady stream of commits never lets the log start over, so it grows; restart 1: waits
 * for the writer in progress, holds new writers off while the rest is copied, and makes the
 * next commit start the log from its beginning (SQLite: a restart checkpoint; a short stall of
 * writers). *log_frames and *copied receive the log's size and what is now copied (frames).
 * 0 (also when another connection kept it from finishing: try again later) or GV_EDB*. */
int store_checkpoint(store_t *s, int restart, int *log_frames, int *copied);

/* store_log_appended: how many pages (SQLite: write-ahead log frames) the commits on s have
 * appended to the log since s was opened; callable from any thread while s commits. The rate of
 * the log's growth, which is what a checkpoint has to copy. 0 on a store without such a log. */
uint64_t store_log_appended(store_t *s);

/* store_cache_limit bounds the memory s keeps of the database's pages to kib KiB (the default is
 * 64 MiB per connection; a connection that only appends or checkpoints needs far less). 0 or
 * GV_EDB*. */
int store_cache_limit(store_t *s, int kib);

/* store_busy_limit sets how long a call on s waits for another connection's lock before it gives
 * up with GV_EDB_BUSY (5 s by default). A checkpointer gives a short limit so that a restart
 * checkpoint waiting for a long reader (a backup) never holds the writers off for long. 0 or
 * GV_EDB*. */
int store_busy_limit(store_t *s, int ms);

/* store_schema_known is the schema version this binary's migrations reach. */
int store_schema_known(void);

/* How store_snapshot copies. */
typedef enum {
    STORE_SNAPSHOT_PAGES = 0, /* page by page (SQLite's online backup), one read transaction */
    STORE_SNAPSHOT_VACUUM,    /* a compacted copy (SQLite's VACUUM INTO) in one statement */
} store_snapshot_method_t;

/* Called while a snapshot is copied with how far it is (done of total, in pages). */
typedef void (*store_progress_t)(void *ctx, uint64_t done, uint64_t total);

/* store_snapshot writes a consistent copy of the whole database as of one moment into a new
 * file at path (which must not exist), inside one read transaction on s: other connections keep
 * reading and committing meanwhile. progress (may be NULL) is called with ctx as pages are
 * copied. *schema receives the copy's schema version. Must not be called inside a transaction.
 * On failure the partial file is removed. 0, GV_EIO (path exists or cannot be written), GV_EDB*
 * or GV_ENOMEM. */
int store_snapshot(store_t *s, const char *path, store_snapshot_method_t method,
                   store_progress_t progress, void *ctx, int *schema);

/* store_disk_full is 1 while the last write to a database of this process failed because its
 * disk is full (GV_EDB_FULL) and no commit has succeeded since; else 0. Any thread. */
int store_disk_full(void);

/* store_bulk (on = 1) lets s's next transactions send their writes without waiting for each
 * answer (PostgreSQL's pipeline: one round trip a transaction instead of one a statement). A
 * write that is wrong then fails store_tx_commit (which undoes everything) rather than its own
 * call; a read inside the transaction waits for what was sent before it. For a connection that
 * only writes group commits (the auction writer's). SQLite has no round trips: nothing changes.
 * 0 or GV_E*. */
int store_bulk(store_t *s, int on);

/* store_lazy_commits makes s's commits return before they are on disk (PostgreSQL's
 * synchronous_commit off, kept across reconnects: a crash of the database may lose the last ones,
 * whole, never a part; and a transaction holds its row locks only until its commit is written,
 * not flushed). For a connection whose writes may be lost: a cluster's lease renewals. SQLite:
 * nothing changes. 0 or GV_E*. */
int store_lazy_commits(store_t *s);

/* store_claim makes s the only holder of name on its database for as long as s is open: a claim of
 * the same name by another store (another process, another machine) fails with GV_ECONFLICT.
 * PostgreSQL: a session lock, taken again after a reconnect; when another holder took it
 * meanwhile, store_health fails. SQLite: nothing (the data directory is locked by its one
 * server). 0, GV_ECONFLICT or GV_EDB*. */
int store_claim(store_t *s, const char *name);

/* store_tx_begin starts a write transaction (SQLite: BEGIN IMMEDIATE, so it takes the write lock
 * now or fails with GV_EDB_BUSY after the busy timeout). No nesting: GV_EDB if one is open. */
int store_tx_begin(store_t *s);

/* store_tx_commit makes the transaction durable and reports the commit's duration to the commit
 * observer. On failure the transaction has been rolled back: nothing of it is visible.
 * Returns 0, GV_EDB, GV_EDB_BUSY or GV_ENOMEM; in a bulk transaction also the failure of a write
 * it sent, e.g. GV_EFENCED (store_auction_update_fenced, store_lease.h). */
int store_tx_commit(store_t *s);

/* store_tx_rollback undoes the open transaction. Returns 0 also when none is open, so cleanup
 * paths may call it unconditionally; GV_EDB on a backend failure. */
int store_tx_rollback(store_t *s);

/* store_set_commit_observer installs fn (NULL removes it), called with ctx (borrowed) after every
 * successful store_tx_commit, on the committing thread. */
void store_set_commit_observer(store_t *s, store_commit_observer_t fn, void *ctx);

/* ---- accounts ------------------------------------------------------------------------------ */

#define STORE_ID_MAX 40
#define STORE_EMAIL_MAX 256
#define STORE_NAME_MAX 128 /* bytes; names are 2..30 characters of UTF-8 */
#define STORE_HASH_LEN 32  /* SHA-256 of a token */

typedef struct {
    char id[STORE_ID_MAX];
    char email[STORE_EMAIL_MAX]; /* normalised: trimmed, lower case */
    char name[STORE_NAME_MAX];
    int is_admin;
    int64_t created_ms;
} store_user_t;

/* store_user_ensure returns the user with email, creating it (with new_id, default_name, not an
 * admin, created at now_ms) when missing; *created tells which. 0, GV_ELIMIT (a string longer
 * than its field) or GV_EDB*. */
int store_user_ensure(store_t *s, const char *email, const char *new_id, const char *default_name,
                      int64_t now_ms, store_user_t *out, int *created);

/* store_user_get reads a user by id. 0, GV_ENOT_FOUND or GV_EDB*. */
int store_user_get(store_t *s, const char *id, store_user_t *out);

/* store_user_set_name renames a user. 0, GV_ENOT_FOUND, GV_ELIMIT (too long) or GV_EDB*. */
int store_user_set_name(store_t *s, const char *id, const char *name);

/* store_user_set_admin sets or clears the admin flag of the user with email. 0, GV_ENOT_FOUND
 * or GV_EDB*. */
int store_user_set_admin(store_t *s, const char *email, int is_admin);

/* store_magic_link_insert records a sign-in token by its hash, and its short code by the code's
 * hash (NULL: none), for user_id, valid until expires_ms, with the requester's IP. 0 or GV_EDB*. */
int store_magic_link_insert(store_t *s, const unsigned char hash[STORE_HASH_LEN],
                            const unsigned char *code_hash, const char *user_id, int64_t expires_ms,
                            const char *ip, int64_t now_ms);

/* store_magic_link_consume is the single compare-and-set of a sign-in:
 * UPDATE ... SET used = 1 WHERE hash = ? AND used = 0 AND expires_ms > now AND the user's email
 * is email. On success the user's id is copied to user_id and 0 returned; an unknown, expired,
 * used or someone else's token gives GV_EUNAUTHORIZED. */
int store_magic_link_consume(store_t *s, const unsigned char hash[STORE_HASH_LEN],
                             const char *email, int64_t now_ms, char user_id[STORE_ID_MAX]);

/* store_magic_code_consume is store_magic_link_consume by the link's code hash: the same row, so
 * using the code also uses the link and the other way round. */
int store_magic_code_consume(store_t *s, const unsigned char code_hash[STORE_HASH_LEN],
                             const char *email, int64_t now_ms, char user_id[STORE_ID_MAX]);

/* store_magic_link_purge deletes links expired before now_ms (and used ones older than a day);
 * *purged counts them. 0 or GV_EDB*. */
int store_magic_link_purge(store_t *s, int64_t now_ms, int *purged);

/* store_refresh_insert records a refresh token by its hash in family (a new family for a new
 * sign-in), valid until expires_ms. 0 or GV_EDB*. */
int store_refresh_insert(store_t *s, const unsigned char hash[STORE_HASH_LEN], const char *user_id,
                         const char *family_id, int64_t expires_ms, int64_t now_ms);

/* store_refresh_rotate uses a refresh token, atomically (one transaction): a current, unexpired,
 * unrevoked token is marked rotated and new_hash is inserted in its family with new_expires_ms;
 * the user's id is copied to user_id and 0 returned. A token already rotated (reuse: theft)
 * revokes its whole family, commits that, and returns GV_EUNAUTHORIZED; unknown, expired or
 * revoked tokens return GV_EUNAUTHORIZED. GV_EDB* on failure. */
int store_refresh_rotate(store_t *s, const unsigned char old_hash[STORE_HASH_LEN],
                         const unsigned char new_hash[STORE_HASH_LEN], int64_t new_expires_ms,
                         int64_t now_ms, char user_id[STORE_ID_MAX]);

/* store_refresh_revoke revokes the family of the token with hash (logout). 0 also when the token
 * is unknown (logout reveals nothing); GV_EDB* on failure. */
int store_refresh_revoke(store_t *s, const unsigned char hash[STORE_HASH_LEN], int64_t now_ms);

#include "store/store_catalogue.h"
#include "store/store_league.h"
#include "store/store_auction.h"
#include "store/store_season.h"
#include "store/store_lease.h"

#endif
