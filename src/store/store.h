/* The storage interface: the only header callers include. A store_t is an opaque handle whose
 * backend (SQLite today, PostgreSQL later) is chosen at open time; callers never see which. */
#ifndef GAVEL_STORE_STORE_H
#define GAVEL_STORE_STORE_H

#include <stdint.h>

typedef struct store_s store_t;

/* Called after each successful store_tx_commit with how long the COMMIT took (µs, >= 0). */
typedef void (*store_commit_observer_t)(void *ctx, int64_t duration_us);

/* store_open creates data_dir (and missing parents, mode 0700) if needed and opens the SQLite
 * database data_dir/gavel.db in WAL mode, synchronous=FULL, foreign keys on, 5 s busy timeout.
 * On success *out is a new store the caller owns (store_close); on failure *out is NULL.
 * Returns 0, GV_EIO (directory), GV_EDB (database), GV_EDB_BUSY or GV_ENOMEM.
 * A store is used by one thread at a time; another thread opens its own. */
int store_open(store_t **out, const char *data_dir);

/* store_close rolls back any open transaction, releases everything and frees s. NULL is a
 * no-op. */
void store_close(store_t *s);

/* store_kind names the backend: "sqlite". Never NULL. */
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

/* store_tx_begin starts a write transaction (SQLite: BEGIN IMMEDIATE, so it takes the write lock
 * now or fails with GV_EDB_BUSY after the busy timeout). No nesting: GV_EDB if one is open. */
int store_tx_begin(store_t *s);

/* store_tx_commit makes the transaction durable and reports the commit's duration to the commit
 * observer. On failure the transaction has been rolled back: nothing of it is visible.
 * Returns 0, GV_EDB, GV_EDB_BUSY or GV_ENOMEM. */
int store_tx_commit(store_t *s);

/* store_tx_rollback undoes the open transaction. Returns 0 also when none is open, so cleanup
 * paths may call it unconditionally; GV_EDB on a backend failure. */
int store_tx_rollback(store_t *s);

/* store_set_commit_observer installs fn (NULL removes it), called with ctx (borrowed) after every
 * successful store_tx_commit, on the committing thread. */
void store_set_commit_observer(store_t *s, store_commit_observer_t fn, void *ctx);

#endif
