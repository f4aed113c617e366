/* The PostgreSQL backend (libpq): connection, errors, migrations (src/store/sql translated by
 * scripts/embed_sql.sh -p: the same versions), statements (prepared once per connection for the
 * hot ones), transactions and savepoints. Its queries are in store_pg_accounts.c,
 * store_pg_catalogue.c, store_pg_league.c, store_pg_auction.c, store_pg_season.c and
 * store_pg_lease.c; store_open chooses it for a postgres:// URI. */
#include "store/store_pg_int.h"

#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_PARAMS_MAX 16

static const store_ops_t pg_ops;
static int pg_configure(store_pg_t *sp);
static int pg_unpipe(store_pg_t *sp);
static int pg_claim_take(store_pg_t *sp);

/* ---- errors and statements ------------------------------------------------------------------ */

/* The SQLSTATE of res as a GV_E* code. */
static int pg_code(const char *state)
{
    if (state == NULL)
        return GV_EDB_BUSY; /* no server answer: the connection is gone */
    if (!strcmp(state, "55P03") || !strcmp(state, "40001") || !strcmp(state, "40P01") ||
        !strcmp(state, "57014") || !strncmp(state, "08", 2) || !strcmp(state, "57P01"))
        return GV_EDB_BUSY;
    if (!strcmp(state, "53100"))
        return GV_EDB_FULL;
    if (!strcmp(state, "53200"))
        return GV_ENOMEM;
    if (!strcmp(state, "XX001") || !strcmp(state, "XX002"))
        return GV_EDB_CORRUPT;
    return GV_EDB;
}

int store_pg_fail(store_pg_t *sp, const PGresult *res)
{
    const char *msg = res ? PQresultErrorMessage(res) : "";
    if (!msg || !*msg)
        msg = sp->conn ? PQerrorMessage(sp->conn) : "no connection";
    snprintf(sp->err, sizeof(sp->err), "%s", msg);
    size_t n = strlen(sp->err);
    while (n > 0 && (sp->err[n - 1] == '\n' || sp->err[n - 1] == ' '))
        sp->err[--n] = '\0';
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(sp->state, sizeof(sp->state), "%s", state ? state : "");
    int code = pg_code(state);
    if (code == GV_EDB_FULL)
        store_full_set(1);
    return code;
}

/* A lost connection is re-established before the next statement outside a transaction (inside
 * one, the transaction is gone with it: the caller sees the failure and rolls back). */
static void pg_reconnect(store_pg_t *sp)
{
    if (PQstatus(sp->conn) == CONNECTION_BAD && !sp->in_tx) {
        PQreset(sp->conn);
        sp->prepared[0] = sp->prepared[1] = 0; /* a new session has none, nor the settings */
        if (PQstatus(sp->conn) == CONNECTION_OK && pg_configure(sp) == 0 && sp->claim[0])
            sp->claim_lost = pg_claim_take(sp) != 0;
    }
}

/* Checks res: 0 when it is a success, else the mapped failure (res freed). */
static int pg_check(store_pg_t *sp, PGresult *res)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return 0;
    int err = store_pg_fail(sp, res);
    PQclear(res);
    return err;
}

/* Parameters of one statement, as libpq takes them. */
typedef struct {
    int n;
    const char *vals[PG_PARAMS_MAX];
    int lens[PG_PARAMS_MAX], fmts[PG_PARAMS_MAX];
    char nums[PG_PARAMS_MAX][24];
} pg_params_t;

/* Fills p from fmt (store_pg_run's letters) and ap. 0 or GV_EINTERNAL (too many). */
static int pg_params(pg_params_t *p, const char *fmt, va_list ap)
{
    p->n = (int)strlen(fmt);
    if (p->n > PG_PARAMS_MAX)
        return GV_EINTERNAL;
    for (int i = 0; i < p->n; i++) {
        p->lens[i] = 0;
        p->fmts[i] = 0;
        switch (fmt[i]) {
        case 't':
            p->vals[i] = va_arg(ap, const char *);
            break;
        case 'i':
            snprintf(p->nums[i], sizeof(p->nums[i]), "%lld", (long long)va_arg(ap, int64_t));
            p->vals[i] = p->nums[i];
            break;
        case 'n':
            snprintf(p->nums[i], sizeof(p->nums[i]), "%d", va_arg(ap, int));
            p->vals[i] = p->nums[i];
            break;
        default: /* 'h' */
            p->vals[i] = (const char *)va_arg(ap, const unsigned char *);
            p->lens[i] = STORE_HASH_LEN;
            p->fmts[i] = 1;
            break;
        }
    }
    return 0;
}

/* Checks r and hands it to *res (or frees it). */
static int pg_result(store_pg_t *sp, PGresult *r, PGresult **res)
{
    int err = pg_check(sp, r);
    if (err != 0)
        return err;
    if (res)
        *res = r;
    else
        PQclear(r);
    return 0;
}

int store_pg_run(store_pg_t *sp, PGresult **res, const char *sql, const char *fmt, ...)
{
    pg_params_t p;
    va_list ap;
    va_start(ap, fmt);
    int err = pg_params(&p, fmt, ap);
    va_end(ap);
    err = err ? err : pg_unpipe(sp);
    if (err != 0)
        return err;
    pg_reconnect(sp);
    PGresult *r = PQexecParams(sp->conn, sql, p.n, NULL, p.vals, p.lens, p.fmts, 0);
    return pg_result(sp, r, res);
}

static int pg_is_prepared(const store_pg_t *sp, int slot)
{
    return (sp->prepared[slot / 64] >> (slot % 64)) & 1;
}

static void pg_mark_prepared(store_pg_t *sp, int slot)
{
    sp->prepared[slot / 64] |= (uint64_t)1 << (slot % 64);
}

static void pg_slot_name(char name[8], int slot)
{
    snprintf(name, 8, "s%d", slot);
}

/* Runs sql (p's parameters) prepared under slot, preparing it first on this connection. */
static int pg_exec_prepared(store_pg_t *sp, PGresult **res, int slot, const char *sql,
                            const pg_params_t *p)
{
    pg_reconnect(sp);
    char name[8];
    pg_slot_name(name, slot);
    if (!pg_is_prepared(sp, slot)) {
        PGresult *prep = PQprepare(sp->conn, name, sql, p->n, NULL);
        int err = pg_check(sp, prep); /* frees prep on failure */
        if (err != 0)
            return err;
        PQclear(prep);
        pg_mark_prepared(sp, slot);
    }
    PGresult *r = PQexecPrepared(sp->conn, name, p->n, p->vals, p->lens, p->fmts, 0);
    return pg_result(sp, r, res);
}

int store_pg_runp(store_pg_t *sp, PGresult **res, int slot, const char *sql, const char *fmt, ...)
{
    pg_params_t p;
    va_list ap;
    va_start(ap, fmt);
    int err = slot < 0 || slot >= STORE_PG_SLOTS ? GV_EINTERNAL : pg_params(&p, fmt, ap);
    va_end(ap);
    err = err ? err : pg_unpipe(sp);
    return err ? err : pg_exec_prepared(sp, res, slot, sql, &p);
}

/* ---- pipelined (bulk) transactions ---------------------------------------------------------- */

/* What a queued statement is, besides a slot it prepares (>= 0). */
#define PG_Q_PLAIN (-1)        /* a statement whose success is all that counts */
#define PG_Q_COMMIT (-2)       /* the COMMIT: its tag must say COMMIT */
#define PG_Q_FENCE (-3)        /* a fenced write (store_pg_send_fence): its division by zero */
#define PG_PIPE_READ_EVERY 128 /* queued statements between two reads of what came back */

/* Makes room to record n more queued statements, before they are sent: once sent, a statement
 * must be recorded, or its answer would be read as another's. 0 or GV_ENOMEM. */
static int pg_queue_room(store_pg_t *sp, size_t n)
{
    if (sp->queued + n <= sp->queue_cap)
        return 0;
    size_t cap = sp->queue_cap ? 2 * sp->queue_cap : 256;
    int16_t *q = realloc(sp->queue, cap * sizeof(*q));
    if (q == NULL)
        return GV_ENOMEM;
    sp->queue = q;
    sp->queue_cap = cap;
    return 0;
}

/* Records what the statement just sent is (room was made by pg_queue_room). */
static void pg_queue(store_pg_t *sp, int kind)
{
    sp->queue[sp->queued++] = (int16_t)kind;
    /* the server's answers are read as they come, so it never blocks writing them while this
     * side blocks sending */
    if (sp->queued % PG_PIPE_READ_EVERY == 0)
        PQconsumeInput(sp->conn);
}

/* The failure of a queued statement whose answer is r (NULL: the connection). */
static int pg_pipe_failed(store_pg_t *sp, const PGresult *r)
{
    if (r && PQresultStatus(r) == PGRES_PIPELINE_ABORTED) {
        snprintf(sp->err, sizeof(sp->err), "a statement before this one failed");
        return GV_EDB;
    }
    return store_pg_fail(sp, r);
}

/* A fenced write matched no row (its division by zero): GV_EFENCED, with a message that says so
 * rather than the division's. */
static int pg_fenced(store_pg_t *sp)
{
    snprintf(sp->err, sizeof(sp->err),
             "a fenced write found its lease held by another node or at another epoch");
    return GV_EFENCED;
}

/* Reads the answer of one queued statement of kind (and the NULL that ends it). 0 or the first
 * failure, which err already holds. */
static int pg_pipe_answer(store_pg_t *sp, int kind, int err)
{
    PGresult *r = PQgetResult(sp->conn);
    if (r == NULL)
        return err ? err : pg_pipe_failed(sp, NULL);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok && kind >= 0) /* marked when queued, for the statements queued after it */
        sp->prepared[kind / 64] &= ~((uint64_t)1 << (kind % 64));
    if (ok && kind == PG_Q_COMMIT && strcmp(PQcmdStatus(r), "COMMIT") != 0 && !err) {
        snprintf(sp->err, sizeof(sp->err), "the transaction was rolled back: %s", PQcmdStatus(r));
        err = GV_EDB;
    }
    if (!ok && !err) { /* the first failure: this statement's own */
        err = pg_pipe_failed(sp, r);
        if (kind == PG_Q_FENCE && store_pg_is(sp, "22012"))
            err = pg_fenced(sp);
    }
    PQclear(r);
    PQclear(PQgetResult(sp->conn)); /* the end of this statement's answers */
    return err;
}

/* Sends the pipeline's sync, reads every queued answer and leaves pipeline mode. 0 or the first
 * failure (the transaction, if any, is then aborted on the server and must be rolled back). */
static int pg_pipe_drain(store_pg_t *sp)
{
    int err = PQpipelineSync(sp->conn) ? 0 : pg_pipe_failed(sp, NULL);
    int lost = err != 0;
    for (size_t i = 0; i < sp->queued && !lost; i++) {
        err = pg_pipe_answer(sp, sp->queue[i], err);
        lost = PQstatus(sp->conn) == CONNECTION_BAD;
    }
    if (!lost) {
        PGresult *r = PQgetResult(sp->conn); /* PGRES_PIPELINE_SYNC */
        if (PQresultStatus(r) != PGRES_PIPELINE_SYNC && !err)
            err = pg_pipe_failed(sp, r);
        PQclear(r);
    }
    sp->queued = 0;
    sp->piped = 0;
    if (!PQexitPipelineMode(sp->conn) && !err)
        err = pg_pipe_failed(sp, NULL);
    return err;
}

/* Queues sql (p's parameters) under slot, prepared first on this connection if it is not; its
 * answer is read as kind's (PG_Q_PLAIN or PG_Q_FENCE). */
static int pg_pipe_send(store_pg_t *sp, int slot, int kind, const char *sql, const pg_params_t *p)
{
    char name[8];
    pg_slot_name(name, slot);
    int err = pg_queue_room(sp, 2);
    if (err != 0)
        return err;
    if (!pg_is_prepared(sp, slot)) {
        if (!PQsendPrepare(sp->conn, name, sql, p->n, NULL))
            return pg_pipe_failed(sp, NULL);
        pg_queue(sp, slot);
        pg_mark_prepared(sp, slot); /* for the statements queued next; undone if it failed */
    }
    if (!PQsendQueryPrepared(sp->conn, name, p->n, p->vals, p->lens, p->fmts, 0))
        return pg_pipe_failed(sp, NULL);
    pg_queue(sp, kind);
    return 0;
}

/* Sends one statement: executed at once outside a pipeline, queued as kind inside one. A fenced
 * statement's division by zero is GV_EFENCED. */
static int pg_send_v(store_pg_t *sp, int slot, int kind, const char *sql, const char *fmt,
                     va_list ap)
{
    pg_params_t p;
    int err = slot < 0 || slot >= STORE_PG_SLOTS ? GV_EINTERNAL : pg_params(&p, fmt, ap);
    if (err != 0)
        return err;
    if (sp->piped)
        return pg_pipe_send(sp, slot, kind, sql, &p);
    err = pg_exec_prepared(sp, NULL, slot, sql, &p);
    return kind == PG_Q_FENCE && err == GV_EDB && store_pg_is(sp, "22012") ? pg_fenced(sp) : err;
}

int store_pg_send(store_pg_t *sp, int slot, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int err = pg_send_v(sp, slot, PG_Q_PLAIN, sql, fmt, ap);
    va_end(ap);
    return err;
}

int store_pg_send_fence(store_pg_t *sp, int slot, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int err = pg_send_v(sp, slot, PG_Q_FENCE, sql, fmt, ap);
    va_end(ap);
    return err;
}

/* Ends a pipelined transaction's pipeline before a statement that needs its answer. */
static int pg_unpipe(store_pg_t *sp)
{
    return sp->piped ? pg_pipe_drain(sp) : 0;
}

/* Queues a statement without parameters (BEGIN, COMMIT, a savepoint) of kind. */
static int pg_pipe_plain(store_pg_t *sp, const char *sql, int kind)
{
    int err = pg_queue_room(sp, 1);
    if (err != 0)
        return err;
    if (!PQsendQueryParams(sp->conn, sql, 0, NULL, NULL, NULL, NULL, 0))
        return pg_pipe_failed(sp, NULL);
    pg_queue(sp, kind);
    return 0;
}

int store_pg_is(const store_pg_t *sp, const char *state)
{
    return strcmp(sp->state, state) == 0;
}

int store_pg_exec(store_pg_t *sp, const char *sql)
{
    int err0 = pg_unpipe(sp);
    if (err0 != 0)
        return err0;
    pg_reconnect(sp);
    PGresult *r = PQexec(sp->conn, sql);
    int err = pg_check(sp, r);
    if (err == 0)
        PQclear(r);
    return err;
}

int store_pg_col_text(store_pg_t *sp, const PGresult *res, int row, int col, char *dst, size_t cap)
{
    if (PQgetisnull(res, row, col)) {
        snprintf(sp->err, sizeof(sp->err), "column %s is NULL", PQfname(res, col));
        return GV_EDB;
    }
    size_t len = (size_t)PQgetlength(res, row, col);
    if (len >= cap) {
        snprintf(sp->err, sizeof(sp->err), "column %s does not fit in %zu bytes", PQfname(res, col),
                 cap);
        return GV_EDB;
    }
    memcpy(dst, PQgetvalue(res, row, col), len);
    dst[len] = '\0';
    return 0;
}

int64_t store_pg_col_i64(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int store_pg_changes(const PGresult *res)
{
    return atoi(PQcmdTuples((PGresult *)res));
}

/* ---- open and close ------------------------------------------------------------------------- */

static void pg_close(store_t *s)
{
    store_pg_t *sp = store_pg_of(s);
    if (sp->conn && sp->piped)
        pg_pipe_drain(sp);
    if (sp->conn && sp->in_tx)
        PQclear(PQexec(sp->conn, "ROLLBACK"));
    free(sp->queue);
    PQfinish(sp->conn);
    free(sp);
}

/* Session settings: errors only as results (no notices on stderr), waits for a lock bounded
 * like SQLite's busy timeout, durable commits. */
static int pg_configure(store_pg_t *sp)
{
    return store_pg_exec(sp, sp->lazy ? "SET client_min_messages = warning; SET lock_timeout = "
                                        "'5s'; SET synchronous_commit = off; SET TIME ZONE 'UTC'"
                                      : "SET client_min_messages = warning; SET lock_timeout = "
                                        "'5s'; SET synchronous_commit = on; SET TIME ZONE 'UTC'");
}

static int pg_lazy_commits(store_t *s)
{
    store_pg_t *sp = store_pg_of(s);
    sp->lazy = 1;
    return pg_configure(sp);
}

static void pg_no_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int store_pg_open(store_t **out, const char *conninfo, char *why, size_t why_len)
{
    *out = NULL;
    store_pg_t *sp = calloc(1, sizeof(*sp));
    if (sp == NULL)
        return GV_ENOMEM;
    sp->base.ops = &pg_ops;
    sp->base.cat = &store_pg_catalogue_ops;
    sp->base.league = &store_pg_league_ops;
    sp->base.auction = &store_pg_auction_ops;
    sp->base.season = &store_pg_season_ops;
    sp->base.lease = &store_pg_lease_ops;
    sp->conn = PQconnectdb(conninfo);
    int err = sp->conn ? 0 : GV_ENOMEM;
    if (!err && PQstatus(sp->conn) != CONNECTION_OK)
        err = store_pg_fail(sp, NULL) == GV_ENOMEM ? GV_ENOMEM : GV_EDB;
    if (!err) {
        PQsetNoticeProcessor(sp->conn, pg_no_notices, NULL);
        err = pg_configure(sp);
    }
    if (err) {
        if (why && why_len)
            snprintf(why, why_len, "%s", sp->err);
        pg_close(&sp->base);
        return err;
    }
    *out = &sp->base;
    return 0;
}

static const char *pg_errmsg(const store_t *s)
{
    return ((const store_pg_t *)s)->err;
}

/* ---- transactions --------------------------------------------------------------------------- */

static int pg_tx_begin(store_t *s)
{
    store_pg_t *sp = store_pg_of(s);
    if (sp->in_tx) {
        snprintf(sp->err, sizeof(sp->err), "a transaction is already open");
        return GV_EDB;
    }
    if (sp->bulk) {
        pg_reconnect(sp);
        if (!PQenterPipelineMode(sp->conn))
            return pg_pipe_failed(sp, NULL);
        sp->piped = 1;
        int err = pg_pipe_plain(sp, "BEGIN", PG_Q_PLAIN);
        if (err != 0) {
            pg_pipe_drain(sp);
            return err;
        }
        sp->in_tx = 1;
        return 0;
    }
    int err = store_pg_exec(sp, "BEGIN");
    sp->in_tx = err == 0;
    return err;
}

static int pg_tx_rollback(store_t *s)
{
    store_pg_t *sp = store_pg_of(s);
    if (!sp->in_tx)
        return 0;
    sp->in_tx = 0;
    pg_unpipe(sp); /* what it failed of is being undone */
    if (PQstatus(sp->conn) == CONNECTION_BAD)
        return 0; /* the server rolled it back when the connection went */
    return store_pg_exec(sp, "ROLLBACK");
}

/* Rolls back after a failure, keeping the failure's message rather than the rollback's. */
static void pg_rollback_after(store_pg_t *sp)
{
    char saved[sizeof(sp->err)];
    memcpy(saved, sp->err, sizeof(saved));
    pg_tx_rollback(&sp->base);
    memcpy(sp->err, saved, sizeof(saved));
}

/* COMMIT of a transaction in which a statement failed answers ROLLBACK (and succeeds): that is
 * a failed commit too. */
static int pg_tx_commit(store_t *s)
{
    store_pg_t *sp = store_pg_of(s);
    if (!sp->in_tx) {
        snprintf(sp->err, sizeof(sp->err), "no transaction is open");
        return GV_EDB;
    }
    if (sp->piped) {
        int err = pg_pipe_plain(sp, "COMMIT", PG_Q_COMMIT);
        int drained = pg_pipe_drain(sp);
        err = err ? err : drained;
        if (err == 0 || PQtransactionStatus(sp->conn) == PQTRANS_IDLE)
            sp->in_tx = 0;
        else
            pg_rollback_after(sp);
        return err;
    }
    PGresult *r = PQexec(sp->conn, "COMMIT");
    int err = pg_check(sp, r);
    if (err == 0 && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        snprintf(sp->err, sizeof(sp->err), "the transaction was rolled back: %s", PQcmdStatus(r));
        err = GV_EDB;
    }
    if (err == 0)
        PQclear(r);
    if (err == 0 || PQtransactionStatus(sp->conn) == PQTRANS_IDLE)
        sp->in_tx = 0;
    else
        pg_rollback_after(sp);
    return err;
}

static int pg_bulk(store_t *s, int on)
{
    store_pg_of(s)->bulk = on != 0;
    return 0;
}

static int pg_tx_open(store_t *s)
{
    store_pg_t *sp = store_pg_of(s);
    return sp->in_tx;
}

/* A rollback keeps the message of the failure that caused it. */
static int pg_savepoint(store_t *s, store_sp_op_t op)
{
    store_pg_t *sp = store_pg_of(s);
    if (op != STORE_SP_ROLLBACK && sp->piped)
        return pg_pipe_plain(
            sp, op == STORE_SP_BEGIN ? "SAVEPOINT store_unit" : "RELEASE SAVEPOINT store_unit",
            PG_Q_PLAIN);
    if (op == STORE_SP_BEGIN)
        return store_pg_exec(sp, "SAVEPOINT store_unit");
    if (op == STORE_SP_RELEASE)
        return store_pg_exec(sp, "RELEASE SAVEPOINT store_unit");
    char saved[sizeof(sp->err)];
    memcpy(saved, sp->err, sizeof(saved));
    int err = store_pg_exec(sp, "ROLLBACK TO SAVEPOINT store_unit; RELEASE SAVEPOINT store_unit");
    memcpy(sp->err, saved, sizeof(saved));
    return err;
}

/* ---- migrations ----------------------------------------------------------------------------- */

static int pg_query_int(store_pg_t *sp, const char *sql, int *out)
{
    PGresult *r = NULL;
    int err = store_pg_run(sp, &r, sql, "");
    if (err != 0)
        return err;
    *out = PQntuples(r) > 0 ? (int)store_pg_col_i64(r, 0, 0) : 0;
    PQclear(r);
    return 0;
}

/* Prefixes sp->err with which migration failed. */
static int pg_migration_fail(store_pg_t *sp, const store_migration_t *m, int err)
{
    char cause[sizeof(sp->err)];
    memcpy(cause, sp->err, sizeof(cause));
    snprintf(sp->err, sizeof(sp->err), "migration %d (%s): %.*s", m->version, m->name,
             (int)(sizeof(sp->err) / 2), cause);
    return err;
}

static int pg_migration_apply(store_pg_t *sp, const store_migration_t *m)
{
    int err = store_pg_exec(sp, m->sql);
    if (err == 0 && PQtransactionStatus(sp->conn) != PQTRANS_INTRANS) {
        snprintf(sp->err, sizeof(sp->err), "must not end the transaction");
        err = GV_EDB;
    }
    if (err == 0)
        err = store_pg_run(sp, NULL,
                           "INSERT INTO schema_version(version, name, applied_at) "
                           "VALUES($1, $2, to_char(now() AT TIME ZONE 'UTC', "
                           "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))",
                           "nt", m->version, m->name);
    return err ? pg_migration_fail(sp, m, err) : 0;
}

/* Inside the open transaction: one migrator at a time (nodes may start together), the version
 * table, a newer database refused, what is pending applied. */
static int pg_migrate_pending(store_pg_t *sp, const store_migration_t *list, size_t n, int *applied)
{
    int current = 0, known = n > 0 ? list[n - 1].version : 0;
    /* 7347712: this migrator's advisory lock key, held until the transaction ends */
    int err = store_pg_exec(sp, "SELECT pg_advisory_xact_lock(7347712); "
                                "CREATE TABLE IF NOT EXISTS schema_version("
                                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                                "applied_at TEXT NOT NULL)");
    if (err == 0)
        err = pg_query_int(sp, "SELECT coalesce(max(version), 0) FROM schema_version", &current);
    if (err == 0 && current > known) {
        snprintf(sp->err, sizeof(sp->err),
                 "database schema version %d is newer than this binary's %d", current, known);
        return GV_EDB;
    }
    for (size_t i = 0; err == 0 && i < n; i++) {
        if (list[i].version <= current)
            continue;
        err = pg_migration_apply(sp, &list[i]);
        if (err == 0)
            (*applied)++;
    }
    return err;
}

static int pg_migrate_list(store_t *s, const store_migration_t *list, size_t n, int *applied)
{
    store_pg_t *sp = store_pg_of(s);
    int err = pg_tx_begin(s);
    if (err != 0)
        return err;
    err = pg_migrate_pending(sp, list, n, applied);
    if (err == 0)
        err = pg_tx_commit(s);
    if (err != 0) {
        pg_rollback_after(sp);
        *applied = 0;
    }
    return err;
}

static int pg_schema_version(store_t *s, int *version)
{
    store_pg_t *sp = store_pg_of(s);
    int exists = 0;
    int err = pg_query_int(sp,
                           "SELECT count(*) FROM pg_tables WHERE tablename = 'schema_version' "
                           "AND schemaname = current_schema()",
                           &exists);
    if (err == 0 && exists)
        err = pg_query_int(sp, "SELECT coalesce(max(version), 0) FROM schema_version", version);
    return err;
}

/* ---- health and the rest -------------------------------------------------------------------- */

/* Tries the session lock of sp->claim: 0, GV_ECONFLICT (another session holds it) or GV_EDB*. */
static int pg_claim_take(store_pg_t *sp)
{
    PGresult *r = NULL;
    int err = store_pg_run(
        sp, &r, "SELECT pg_try_advisory_lock(7347714, hashtext($1 || ' in ' || current_schema()))",
        "t", sp->claim);
    if (err != 0)
        return err;
    err = strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? 0 : GV_ECONFLICT;
    PQclear(r);
    if (err != 0)
        snprintf(sp->err, sizeof(sp->err), "another session holds %s", sp->claim);
    return err;
}

static int pg_claim(store_t *s, const char *name)
{
    store_pg_t *sp = store_pg_of(s);
    if (strlen(name) >= sizeof(sp->claim))
        return GV_ELIMIT;
    snprintf(sp->claim, sizeof(sp->claim), "%s", name);
    int err = pg_claim_take(sp);
    if (err != 0)
        sp->claim[0] = '\0';
    return err;
}

static int pg_health(store_t *s)
{
    store_pg_t *sp = store_pg_of(s);
    int schemas = 0; /* the schema it works in must exist, not only the server answer */
    int err = pg_query_int(
        sp, "SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = current_schema()",
        &schemas);
    if (err == 0 && schemas != 1) {
        snprintf(sp->err, sizeof(sp->err), "the schema of the search path does not exist");
        err = GV_EDB;
    }
    if (err == 0 && sp->claim_lost) {
        snprintf(sp->err, sizeof(sp->err), "another session took %s while this one reconnected",
                 sp->claim);
        err = GV_ECONFLICT;
    }
    return err;
}

/* The write-ahead log's insert position moves with every write of any connection to the
 * cluster: equal stamps mean nothing was written in between. */
static int pg_change_stamp(store_t *s, uint64_t stamp[2])
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = store_pg_run(sp, &r, "SELECT pg_current_wal_insert_lsn() - '0/0'", "");
    if (err != 0)
        return err;
    stamp[0] = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    stamp[1] = 0;
    PQclear(r);
    return 0;
}

/* PostgreSQL checks its pages itself (checksums, amcheck on the server): a query that reads the
 * catalog is what this store can check. */
static int pg_integrity_check(store_t *s)
{
    return pg_health(s);
}

/* The server checkpoints its own log; a connection's cache is the server's. */
static int pg_checkpoint_auto(store_t *s, int on)
{
    (void)s;
    (void)on;
    return 0;
}

static int pg_checkpoint(store_t *s, int restart, int *log_frames, int *copied)
{
    (void)s;
    (void)restart;
    *log_frames = *copied = 0;
    return 0;
}

static uint64_t pg_log_appended(store_t *s)
{
    (void)s;
    return 0;
}

static int pg_cache_limit(store_t *s, int kib)
{
    (void)s;
    (void)kib;
    return 0;
}

static int pg_busy_limit(store_t *s, int ms)
{
    store_pg_t *sp = store_pg_of(s);
    char sql[64];
    snprintf(sql, sizeof(sql), "SET lock_timeout = %d", ms);
    return store_pg_exec(sp, sql);
}

/* Backups of a PostgreSQL store are the server's (pg_dump, base backups). */
static int pg_snapshot(store_t *s, const char *path, store_snapshot_method_t method,
                       store_progress_t progress, void *ctx, int *schema)
{
    (void)path;
    (void)method;
    (void)progress;
    (void)ctx;
    (void)schema;
    snprintf(store_pg_of(s)->err, sizeof(store_pg_of(s)->err),
             "snapshots of a PostgreSQL store are taken with pg_dump");
    return GV_ENOT_IMPLEMENTED;
}

static int pg_test_i64(store_t *s, const char *sql, const unsigned char *hash, int64_t *out)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = hash ? store_pg_run(sp, &r, sql, "h", hash) : store_pg_run(sp, &r, sql, "");
    if (err != 0)
        return err;
    if (PQntuples(r) > 0)
        *out = store_pg_col_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

static int pg_test_exec(store_t *s, const char *sql)
{
    return store_pg_exec(store_pg_of(s), sql);
}

static const store_ops_t pg_ops = {
    .kind = "postgres",
    .migrations = store_pg_migrations,
    .migrations_count = &store_pg_migrations_count,
    .close = pg_close,
    .errmsg = pg_errmsg,
    .migrate_list = pg_migrate_list,
    .schema_version = pg_schema_version,
    .health = pg_health,
    .change_stamp = pg_change_stamp,
    .integrity_check = pg_integrity_check,
    .checkpoint_auto = pg_checkpoint_auto,
    .checkpoint = pg_checkpoint,
    .log_appended = pg_log_appended,
    .cache_limit = pg_cache_limit,
    .busy_limit = pg_busy_limit,
    .snapshot = pg_snapshot,
    .tx_begin = pg_tx_begin,
    .tx_commit = pg_tx_commit,
    .tx_rollback = pg_tx_rollback,
    .tx_open = pg_tx_open,
    .savepoint = pg_savepoint,
    .bulk = pg_bulk,
    .lazy_commits = pg_lazy_commits,
    .claim = pg_claim,
    .user_ensure = store_pg_user_ensure,
    .user_get = store_pg_user_get,
    .user_set_name = store_pg_user_set_name,
    .user_set_admin = store_pg_user_set_admin,
    .magic_link_insert = store_pg_magic_link_insert,
    .magic_link_consume = store_pg_magic_link_consume,
    .magic_link_purge = store_pg_magic_link_purge,
    .refresh_insert = store_pg_refresh_insert,
    .refresh_rotate_tx = store_pg_refresh_rotate_tx,
    .refresh_revoke = store_pg_refresh_revoke,
    .test_i64 = pg_test_i64,
    .test_exec = pg_test_exec,
};
