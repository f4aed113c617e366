/* Internals of the PostgreSQL backend (libpq), shared by its files: the connection, the error
 * mapping and one way to run a statement with bound parameters. Same contracts as the SQLite
 * backend's (store.h); what the accounts part implements so far is listed in store_pg.c. */
#ifndef GAVEL_STORE_STORE_PG_INT_H
#define GAVEL_STORE_STORE_PG_INT_H

#include "store/store_int.h"

#include <libpq-fe.h>
#include <stdint.h>

typedef struct {
    store_t base; /* first, so a store_t * is a store_pg_t * */
    PGconn *conn;
    int in_tx;            /* a transaction this store began is open */
    int bulk;             /* store_bulk: its transactions are pipelined */
    int lazy;             /* store_lazy_commits: synchronous_commit off */
    int piped;            /* this transaction's statements are queued, answers unread */
    uint64_t prepared[2]; /* bit n: statement slot n is prepared on this connection */
    int16_t *queue;       /* what each queued statement is (a slot it prepares, or PG_Q_*) */
    size_t queued, queue_cap;
    char claim[64]; /* store_claim's name ("" none), taken again after a reconnect */
    int claim_lost; /* another session holds it now */
    char state[6];  /* SQLSTATE of the last failure ("" when it had none) */
    char err[256];  /* message of the last failure */
} store_pg_t;

/* Prepared-statement slots (store_pg_runp): each file owns a range, so names never clash. */
enum {
    STORE_PG_SLOT_CATALOGUE = 0,     /* 0..15 */
    STORE_PG_SLOT_LEAGUE = 16,       /* 16..31 */
    STORE_PG_SLOT_AUCTION = 32,      /* 32..47 */
    STORE_PG_SLOT_SEASON = 48,       /* 48..63 */
    STORE_PG_SLOT_AUCTION_BULK = 64, /* 64..79: the auctions' writes in a bulk transaction */
    STORE_PG_SLOT_LEASE = 80,        /* 80..95: the leases (store_pg_lease.c) */
    STORE_PG_SLOTS = 128,
};

static inline store_pg_t *store_pg_of(store_t *s)
{
    return (store_pg_t *)s;
}

/* store_pg_fail records why res (NULL: the connection) failed in sp->err and maps its SQLSTATE:
 * a lock or serialization wait that gave up is GV_EDB_BUSY, a full disk GV_EDB_FULL, out of
 * memory GV_ENOMEM, a lost connection GV_EDB_BUSY (the next call reconnects), anything else
 * GV_EDB. res is not freed. */
int store_pg_fail(store_pg_t *sp, const PGresult *res);

/* store_pg_run runs sql with the parameters fmt describes, one letter each: 't' text
 * (const char *, NULL: SQL NULL), 'i' int64_t, 'n' int, 'h' a STORE_HASH_LEN-byte hash
 * (const unsigned char *, NULL: SQL NULL). On success *res (may be NULL: not wanted) holds the
 * result, which the caller frees with PQclear. 0 or GV_EDB*. */
int store_pg_run(store_pg_t *sp, PGresult **res, const char *sql, const char *fmt, ...);

/* store_pg_runp is store_pg_run for a hot statement: sql is prepared once per connection under
 * slot (0 <= slot < STORE_PG_SLOTS; one sql per slot for the program's life) and then only
 * executed. */
int store_pg_runp(store_pg_t *sp, PGresult **res, int slot, const char *sql, const char *fmt, ...);

/* store_pg_send runs a write whose answer the caller does not need: in a bulk transaction
 * (store_pg_piped) it is queued, prepared under slot like store_pg_runp, and its failure fails the
 * transaction's commit (so it must fail rather than do nothing when the write is wrong); outside
 * one it is store_pg_runp with no result. 0 or GV_EDB* (a connection that fails at once). */
int store_pg_send(store_pg_t *sp, int slot, const char *sql, const char *fmt, ...);

/* store_pg_send_fence is store_pg_send for a fenced write: one statement that divides by zero
 * (SQLSTATE 22012, nothing else in it can) when its fence does not hold, like BULK_ONE in
 * store_pg_auction.c. That failure is GV_EFENCED rather than GV_EDB: in a bulk transaction the
 * commit's (it is told by which queued statement failed, not by the code alone), outside one its
 * own. */
int store_pg_send_fence(store_pg_t *sp, int slot, const char *sql, const char *fmt, ...);

/* store_pg_piped: 1 while sp's transaction is pipelined (store_bulk on, and nothing since its
 * BEGIN needed an answer); store_pg_run, store_pg_runp and store_pg_exec first read every
 * queued answer and end the pipeline (a queued failure is then their failure). */
static inline int store_pg_piped(const store_pg_t *sp)
{
    return sp->piped;
}

/* store_pg_is: 1 when the last failure's SQLSTATE is state (e.g. "23505", a unique key taken;
 * "23503", a foreign key with no row). Inside a transaction a failed statement aborts it: use
 * ON CONFLICT or a savepoint rather than a failure that is expected. */
int store_pg_is(const store_pg_t *sp, const char *state);

/* store_pg_exec runs sql (no parameters; may hold several statements). 0 or GV_EDB*. */
int store_pg_exec(store_pg_t *sp, const char *sql);

/* store_pg_col_text copies text column col of row into dst (cap bytes with the NUL): NULL or a
 * value that does not fit is GV_EDB, never truncated. */
int store_pg_col_text(store_pg_t *sp, const PGresult *res, int row, int col, char *dst, size_t cap);

/* store_pg_col_i64 reads integer column col of row (NULL reads 0). */
int64_t store_pg_col_i64(const PGresult *res, int row, int col);

/* store_pg_changes: rows an INSERT, UPDATE or DELETE touched. */
int store_pg_changes(const PGresult *res);

/* The accounts queries (store_pg_accounts.c): the contracts of store_ops_t. */
int store_pg_user_ensure(store_t *s, const char *email, const char *new_id,
                         const char *default_name, int64_t now_ms, store_user_t *out, int *created);
int store_pg_user_get(store_t *s, const char *id, store_user_t *out);
int store_pg_user_set_name(store_t *s, const char *id, const char *name);
int store_pg_user_set_admin(store_t *s, const char *email, int is_admin);
int store_pg_magic_link_insert(store_t *s, const unsigned char *hash,
                               const unsigned char *code_hash, const char *user_id,
                               int64_t expires_ms, const char *ip, int64_t now_ms);
int store_pg_magic_link_consume(store_t *s, const unsigned char *hash, int by_code,
                                const char *email, int64_t now_ms, char *user_id);
int store_pg_magic_link_purge(store_t *s, int64_t now_ms, int *purged);
int store_pg_refresh_insert(store_t *s, const unsigned char *hash, const char *user_id,
                            const char *family_id, int64_t expires_ms, int64_t now_ms);
int store_pg_refresh_rotate_tx(store_t *s, const unsigned char *old_hash,
                               const unsigned char *new_hash, int64_t new_expires_ms,
                               int64_t now_ms, char *user_id, int *commit);
int store_pg_refresh_revoke(store_t *s, const unsigned char *hash, int64_t now_ms);

/* The domain tables (store_pg_catalogue.c, store_pg_league.c, store_pg_auction.c,
 * store_pg_season.c, store_pg_lease.c): the contracts of store_*_int.h. */
extern const struct store_catalogue_ops_s store_pg_catalogue_ops;
extern const struct store_league_ops_s store_pg_league_ops;
extern const struct store_auction_ops_s store_pg_auction_ops;
extern const struct store_season_ops_s store_pg_season_ops;
extern const struct store_lease_ops_s store_pg_lease_ops;

#endif
