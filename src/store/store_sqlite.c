/* The SQLite backend of store.h: one connection to data_dir/gavel.db in WAL mode with
 * synchronous=FULL, cached statements, transactions and the all-or-nothing migrator. The
 * accounts queries are in store_sqlite_accounts.c. */
#include "store/store_sqlite_int.h"

#include "core/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SQLITE_BUSY_TIMEOUT_MS 5000

static const store_ops_t sqlite_ops;

/* SQLite result codes (primary or extended) to GV_E*. */
static int sqlite_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return GV_EDB_BUSY;
    case SQLITE_NOMEM:
        return GV_ENOMEM;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return GV_EDB_CORRUPT;
    case SQLITE_FULL:
        return GV_EDB_FULL;
    default:
        return GV_EDB;
    }
}

int store_sqlite_fail(store_sqlite_t *ss, int rc)
{
    const char *msg = ss->db != NULL ? sqlite3_errmsg(ss->db) : sqlite3_errstr(rc);
    snprintf(ss->err, sizeof(ss->err), "%s", msg);
    int code = sqlite_code(rc);
    if (code == GV_EDB_FULL)
        store_full_set(1);
    return code;
}

static int sqlite_exec(store_sqlite_t *ss, const char *sql)
{
    int rc = sqlite3_exec(ss->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_sqlite_fail(ss, rc);
}

int store_sqlite_prepare(store_sqlite_t *ss, const char *sql, sqlite3_stmt **stmt)
{
    int rc = sqlite3_prepare_v3(ss->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL);
    return rc == SQLITE_OK ? 0 : store_sqlite_fail(ss, rc);
}

int store_sqlite_cached(store_sqlite_t *ss, store_sq_id_t id, const char *sql, sqlite3_stmt **stmt)
{
    if (ss->cached[id] == NULL) {
        int err = store_sqlite_prepare(ss, sql, &ss->cached[id]);
        if (err != 0)
            return err;
    }
    *stmt = ss->cached[id];
    return 0;
}

static int sqlite_bind_va(store_sqlite_t *ss, sqlite3_stmt *stmt, int col, const char *fmt,
                          va_list ap)
{
    int rc = SQLITE_OK;
    for (; *fmt && rc == SQLITE_OK; fmt++, col++) {
        switch (*fmt) {
        case 't':
            rc = sqlite3_bind_text(stmt, col, va_arg(ap, const char *), -1, SQLITE_STATIC);
            break;
        case 'i':
            rc = sqlite3_bind_int64(stmt, col, va_arg(ap, int64_t));
            break;
        case 'n':
            rc = sqlite3_bind_int(stmt, col, va_arg(ap, int));
            break;
        case 'h':
            rc = sqlite3_bind_blob(stmt, col, va_arg(ap, const unsigned char *), STORE_HASH_LEN,
                                   SQLITE_STATIC);
            break;
        default:
            rc = SQLITE_MISUSE;
        }
    }
    if (rc == SQLITE_OK)
        return 0;
    int err = store_sqlite_fail(ss, rc);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return err;
}

int store_sqlite_bind(store_sqlite_t *ss, sqlite3_stmt *stmt, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int err = sqlite_bind_va(ss, stmt, 1, fmt, ap);
    va_end(ap);
    return err;
}

int store_sqlite_bind_from(store_sqlite_t *ss, sqlite3_stmt *stmt, int first, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int err = sqlite_bind_va(ss, stmt, first, fmt, ap);
    va_end(ap);
    return err;
}

int store_sqlite_stmt(store_sqlite_t *ss, const char *sql, sqlite3_stmt **stmt)
{
    uintptr_t h = (uintptr_t)sql;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15u;
    size_t i = (size_t)(h >> 7) % STORE_SQLITE_STMT_SLOTS;
    for (size_t probe = 0; probe < STORE_SQLITE_STMT_SLOTS; probe++) {
        store_sqlite_slot_t *slot = &ss->slots[(i + probe) % STORE_SQLITE_STMT_SLOTS];
        if (slot->sql == sql) {
            *stmt = slot->stmt;
            return 0;
        }
        if (slot->sql == NULL) {
            int err = store_sqlite_prepare(ss, sql, &slot->stmt);
            if (err != 0)
                return err;
            slot->sql = sql;
            *stmt = slot->stmt;
            return 0;
        }
    }
    return GV_EINTERNAL; /* more distinct statements than slots: raise the constant */
}

int store_sqlite_done(sqlite3_stmt *stmt, int err)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return err;
}

int store_sqlite_exec_stmt(store_sqlite_t *ss, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    return store_sqlite_done(stmt, rc == SQLITE_DONE ? 0 : store_sqlite_fail(ss, rc));
}

int store_sqlite_step_fail(store_sqlite_t *ss, int rc)
{
    int err = store_sqlite_fail(ss, rc);
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return GV_ECONFLICT;
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return GV_ENOT_FOUND;
    return (rc & 0xff) == SQLITE_CONSTRAINT ? GV_EINVALID_REQUEST : err;
}

int store_sqlite_write(store_sqlite_t *ss, sqlite3_stmt *stmt, int *changes)
{
    int rc = sqlite3_step(stmt);
    int err = rc == SQLITE_DONE ? 0 : store_sqlite_step_fail(ss, rc);
    if (changes != NULL)
        *changes = err == 0 ? sqlite3_changes(ss->db) : 0;
    return store_sqlite_done(stmt, err);
}

int store_sqlite_col_text(store_sqlite_t *ss, sqlite3_stmt *stmt, int col, char *dst, size_t cap)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    size_t len = (size_t)sqlite3_column_bytes(stmt, col);
    if (text == NULL) {
        dst[0] = '\0';
        return 0;
    }
    if (len >= cap || strlen((const char *)text) != len) {
        snprintf(ss->err, sizeof(ss->err), "column %d does not fit its field", col);
        return GV_EDB;
    }
    memcpy(dst, text, len + 1);
    return 0;
}

/* Runs a cached statement that returns no rows, leaving it reset for the next use. */
static int sqlite_step_reset(store_sqlite_t *ss, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    int err = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : store_sqlite_fail(ss, rc);
    sqlite3_reset(stmt);
    return err;
}

/* Runs a one-row, one-column integer query and stores the value in *out. */
static int sqlite_query_int(store_sqlite_t *ss, const char *sql, int *out)
{
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_prepare(ss, sql, &stmt);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(stmt, 0);
    else
        err = rc == SQLITE_DONE ? GV_EDB : store_sqlite_fail(ss, rc);
    sqlite3_finalize(stmt);
    return err;
}

/* ---- opening ------------------------------------------------------------------------------- */

static int sqlite_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Creates path and its missing parents with mode 0700; an existing directory is fine. */
static int sqlite_dir_make(const char *path)
{
    char *tmp = strdup(path);
    if (tmp == NULL)
        return GV_ENOMEM;
    int err = 0;
    for (char *p = tmp + 1; err == 0; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && !sqlite_is_dir(tmp))
            err = GV_EIO;
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(tmp);
    return err;
}

/* journal_mode answers with the mode in force: anything but "wal" is a failure. */
static int sqlite_wal_set(store_sqlite_t *ss)
{
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_prepare(ss, "PRAGMA journal_mode=WAL", &stmt);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        err = store_sqlite_fail(ss, rc);
    } else if (sqlite3_stricmp((const char *)sqlite3_column_text(stmt, 0), "wal") != 0) {
        snprintf(ss->err, sizeof(ss->err), "journal_mode=WAL refused");
        err = GV_EDB;
    }
    sqlite3_finalize(stmt);
    return err;
}

/* The connection syncs its log at every commit (synchronous FULL or EXTRA), or it is refused. */
static int sqlite_sync_check(store_sqlite_t *ss)
{
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_prepare(ss, "PRAGMA synchronous", &stmt);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        err = store_sqlite_fail(ss, rc);
    } else if (sqlite3_column_int(stmt, 0) < 2) {
        snprintf(ss->err, sizeof(ss->err), "synchronous=FULL refused");
        err = GV_EDB;
    }
    sqlite3_finalize(stmt);
    return err;
}

/* Runs after every commit on the connection: counts the frames the commit wrote to the log
 * (SQLite's own count, the log's length, cannot tell a log that started over) and, while
 * automatic checkpoints are on, copies a log of auto_frames or more back as SQLite's own hook
 * would. */
static int sqlite_wal_hook(void *arg, sqlite3 *db, const char *schema, int frames)
{
    store_sqlite_t *ss = arg;
    sqlite3_file *log = NULL;
    if (sqlite3_file_control(db, schema, SQLITE_FCNTL_JOURNAL_POINTER, &log) == SQLITE_OK) {
        uint64_t n = store_sqlite_walbuf_frames(log);
        uint64_t added = n >= ss->written ? n - ss->written : n; /* a new handle counts from 0 */
        ss->written = n;
        __atomic_fetch_add(&ss->appended, added, __ATOMIC_RELAXED);
    }
    if (ss->auto_frames > 0 && frames >= ss->auto_frames)
        sqlite3_wal_checkpoint(db, schema);
    return SQLITE_OK;
}

static int sqlite_configure(store_sqlite_t *ss)
{
    ss->auto_frames = 1000; /* SQLite's default */
    sqlite3_wal_hook(ss->db, sqlite_wal_hook, ss);
    int rc = sqlite3_busy_timeout(ss->db, SQLITE_BUSY_TIMEOUT_MS);
    if (rc != SQLITE_OK)
        return store_sqlite_fail(ss, rc);
    /* synchronous first: no frame is written to the log before it is FULL, as the walbuf VFS
     * needs (store_sqlite_walbuf.c). */
    int err = sqlite_exec(ss, "PRAGMA synchronous=FULL");
    if (err == 0)
        err = sqlite_sync_check(ss);
    if (err == 0)
        err = sqlite_wal_set(ss);
    if (err == 0)
        err = sqlite_exec(ss, "PRAGMA foreign_keys=ON; "
                              "PRAGMA cache_size=-65536; PRAGMA mmap_size=0; "
                              "PRAGMA journal_size_limit=" STORE_SQLITE_LOG_LIMIT_TEXT);
    if (err == 0)
        err = store_sqlite_prepare(ss, "BEGIN IMMEDIATE", &ss->begin);
    if (err == 0)
        err = store_sqlite_prepare(ss, "COMMIT", &ss->commit);
    if (err == 0)
        err = store_sqlite_prepare(ss, "ROLLBACK", &ss->rollback);
    return err;
}

static int sqlite_connect(store_sqlite_t *ss, const char *data_dir)
{
    char *path = sqlite3_mprintf("%s/%s", data_dir, STORE_DB_FILE);
    if (path == NULL)
        return GV_ENOMEM;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = store_sqlite_walbuf_vfs();
    if (rc == SQLITE_OK)
        rc = sqlite3_open_v2(path, &ss->db, flags, STORE_SQLITE_WALBUF_VFS);
    sqlite3_free(path);
    if (rc != SQLITE_OK)
        return store_sqlite_fail(ss, rc);
    sqlite3_extended_result_codes(ss->db, 1);
    return sqlite_configure(ss);
}

static void sqlite_close(store_t *s)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    /* Closing ends any open transaction; SQLite rolls it back. */
    sqlite3_finalize(ss->begin);
    sqlite3_finalize(ss->commit);
    sqlite3_finalize(ss->rollback);
    for (int i = 0; i < STORE_SQ_COUNT; i++)
        sqlite3_finalize(ss->cached[i]);
    for (int i = 0; i < STORE_SQLITE_STMT_SLOTS; i++)
        sqlite3_finalize(ss->slots[i].stmt);
    sqlite3_close_v2(ss->db);
    free(ss);
}

int store_sqlite_open(store_t **out, const char *data_dir, char *why, size_t why_len)
{
    *out = NULL;
    int err = sqlite_dir_make(data_dir);
    if (err != 0) {
        if (why && why_len)
            snprintf(why, why_len, "cannot create the directory: %s", strerror(errno));
        return err;
    }
    store_sqlite_t *ss = calloc(1, sizeof(*ss));
    if (ss == NULL)
        return GV_ENOMEM;
    ss->base.ops = &sqlite_ops;
    ss->base.cat = &store_sqlite_catalogue_ops;
    ss->base.league = &store_sqlite_league_ops;
    ss->base.auction = &store_sqlite_auction_ops;
    ss->base.season = &store_sqlite_season_ops;
    ss->base.lease = &store_sqlite_lease_ops;
    err = sqlite_connect(ss, data_dir);
    if (err != 0) {
        if (why && why_len)
            snprintf(why, why_len, "%s", ss->err);
        sqlite_close(&ss->base);
        return err;
    }
    *out = &ss->base;
    return 0;
}

/* ---- transactions -------------------------------------------------------------------------- */

static int sqlite_tx_begin(store_t *s)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    return sqlite_step_reset(ss, ss->begin);
}

static int sqlite_tx_rollback(store_t *s)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    if (sqlite3_get_autocommit(ss->db))
        return 0; /* nothing open (or SQLite already rolled it back after an error) */
    return sqlite_step_reset(ss, ss->rollback);
}

/* Rolls back after a failure, keeping the failure's message rather than the rollback's. */
static void sqlite_rollback_after(store_sqlite_t *ss)
{
    char saved[sizeof(ss->err)];
    memcpy(saved, ss->err, sizeof(saved));
    sqlite_tx_rollback(&ss->base);
    memcpy(ss->err, saved, sizeof(saved));
}

/* A failed COMMIT may leave the transaction open (e.g. SQLITE_BUSY): roll it back so the
 * contract is simple, committed or not there at all. The commit's error is what is reported. */
static int sqlite_tx_commit(store_t *s)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    int err = sqlite_step_reset(ss, ss->commit);
    if (err != 0)
        sqlite_rollback_after(ss);
    return err;
}

/* ---- migrations and queries ---------------------------------------------------------------- */

static int sqlite_version_max(store_sqlite_t *ss, int *version)
{
    return sqlite_query_int(ss, "SELECT coalesce(max(version), 0) FROM schema_version", version);
}

static int sqlite_version_record(store_sqlite_t *ss, const store_migration_t *m)
{
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_prepare(ss,
                                   "INSERT INTO schema_version(version, name, applied_at) "
                                   "VALUES(?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                                   &stmt);
    if (err != 0)
        return err;
    sqlite3_bind_int(stmt, 1, m->version);
    sqlite3_bind_text(stmt, 2, m->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        err = store_sqlite_fail(ss, rc);
    sqlite3_finalize(stmt);
    return err;
}

/* Prefixes ss->err with which migration failed (truncating the cause if needed). */
static int sqlite_migration_fail(store_sqlite_t *ss, const store_migration_t *m, int err)
{
    char cause[sizeof(ss->err)];
    memcpy(cause, ss->err, sizeof(cause));
    int n = snprintf(ss->err, sizeof(ss->err), "migration %d (%s): ", m->version, m->name);
    if (n < 0 || (size_t)n >= sizeof(ss->err))
        return err;
    size_t len = strnlen(cause, sizeof(ss->err) - (size_t)n - 1);
    memcpy(ss->err + n, cause, len);
    ss->err[(size_t)n + len] = '\0';
    return err;
}

static int sqlite_migration_apply(store_sqlite_t *ss, const store_migration_t *m)
{
    int err = sqlite_exec(ss, m->sql);
    if (err != 0)
        return sqlite_migration_fail(ss, m, err);
    if (sqlite3_get_autocommit(ss->db)) {
        /* The SQL ended the migrator's transaction (COMMIT/ROLLBACK): atomicity is lost. */
        snprintf(ss->err, sizeof(ss->err), "must not end the transaction");
        return sqlite_migration_fail(ss, m, GV_EDB);
    }
    return sqlite_version_record(ss, m);
}

/* Inside the open transaction: creates the version table, refuses a newer database, applies
 * what is pending. *applied counts the migrations applied. */
static int sqlite_migrate_pending(store_sqlite_t *ss, const store_migration_t *list, size_t n,
                                  int *applied)
{
    int current = 0;
    int known = n > 0 ? list[n - 1].version : 0;
    int err = sqlite_exec(ss, "CREATE TABLE IF NOT EXISTS schema_version("
                              "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                              "applied_at TEXT NOT NULL)");
    if (err == 0)
        err = sqlite_version_max(ss, &current);
    if (err == 0 && current > known) {
        snprintf(ss->err, sizeof(ss->err),
                 "database schema version %d is newer than this binary's %d", current, known);
        return GV_EDB;
    }
    for (size_t i = 0; err == 0 && i < n; i++) {
        if (list[i].version <= current)
            continue;
        err = sqlite_migration_apply(ss, &list[i]);
        if (err == 0)
            (*applied)++;
    }
    return err;
}

static int sqlite_migrate_list(store_t *s, const store_migration_t *list, size_t n, int *applied)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    int err = sqlite_tx_begin(s);
    if (err != 0)
        return err;
    err = sqlite_migrate_pending(ss, list, n, applied);
    if (err == 0)
        err = sqlite_tx_commit(s);
    if (err != 0) {
        sqlite_rollback_after(ss);
        *applied = 0;
    }
    return err;
}

static int sqlite_schema_version(store_t *s, int *version)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    int exists = 0;
    int err = sqlite_query_int(ss,
                               "SELECT count(*) FROM sqlite_master "
                               "WHERE type = 'table' AND name = 'schema_version'",
                               &exists);
    if (err != 0 || !exists)
        return err;
    return sqlite_version_max(ss, version);
}

/* Reads the schema b-tree: touches the file and the WAL, and works before any migration. */
/* A real read of the schema through a cached statement: health is polled often. */
static const char SQL_DATA_VERSION[] = "PRAGMA data_version";

static int sqlite_change_stamp(store_t *s, uint64_t stamp[2])
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_DATA_VERSION, &stmt);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    stamp[0] = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(stmt, 0) : 0;
    stamp[1] = (uint64_t)sqlite3_total_changes64(ss->db);
    return store_sqlite_done(stmt, rc == SQLITE_ROW ? 0 : store_sqlite_fail(ss, rc));
}

static int sqlite_health(store_t *s)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt;
    int err = store_sqlite_cached(ss, STORE_SQ_HEALTH, "SELECT count(*) FROM sqlite_master", &stmt);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    err = rc == SQLITE_ROW ? 0 : store_sqlite_fail(ss, rc);
    sqlite3_reset(stmt);
    return err;
}

static int sqlite_integrity_check(store_t *s)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_prepare(ss, "PRAGMA integrity_check", &stmt);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    const char *text = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
    err = text && strcmp(text, "ok") == 0 ? 0 : text ? GV_EDB_CORRUPT : store_sqlite_fail(ss, rc);
    if (err && text)
        snprintf(ss->err, sizeof(ss->err), "integrity check: %.200s", text);
    sqlite3_finalize(stmt);
    return err;
}

/* Not sqlite3_wal_autocheckpoint: that would replace sqlite_wal_hook, which does its work. */
static int sqlite_checkpoint_auto(store_t *s, int on)
{
    store_sqlite_of(s)->auto_frames = on ? 1000 : 0;
    return 0;
}

static uint64_t sqlite_log_appended(store_t *s)
{
    return __atomic_load_n(&store_sqlite_of(s)->appended, __ATOMIC_RELAXED);
}

static int sqlite_checkpoint(store_t *s, int restart, int *log_frames, int *copied)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    int mode = restart ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE;
    int rc = sqlite3_wal_checkpoint_v2(ss->db, NULL, mode, log_frames, copied);
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : store_sqlite_fail(ss, rc);
}

static int sqlite_cache_limit(store_t *s, int kib)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%d", kib);
    return sqlite_exec(store_sqlite_of(s), sql);
}

static int sqlite_busy_limit(store_t *s, int ms)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    int rc = sqlite3_busy_timeout(ss->db, ms);
    return rc == SQLITE_OK ? 0 : store_sqlite_fail(ss, rc);
}

static const char *sqlite_errmsg(const store_t *s)
{
    return ((const store_sqlite_t *)s)->err;
}

struct sqlite3 *store_sqlite_handle(store_t *s)
{
    return s->ops == &sqlite_ops ? store_sqlite_of(s)->db : NULL;
}

static const char SQL_SP_BEGIN[] = "SAVEPOINT store_unit";
static const char SQL_SP_RELEASE[] = "RELEASE store_unit";
static const char SQL_SP_ROLLBACK[] = "ROLLBACK TO store_unit";

static int sqlite_tx_open(store_t *s)
{
    return !sqlite3_get_autocommit(store_sqlite_of(s)->db);
}

/* A rollback keeps the message of the failure that caused it. */
/* A rollback keeps the message of the failure that caused it. */
static int sqlite_savepoint(store_t *s, store_sp_op_t op)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    const char *sql = op == STORE_SP_BEGIN     ? SQL_SP_BEGIN
                      : op == STORE_SP_RELEASE ? SQL_SP_RELEASE
                                               : SQL_SP_ROLLBACK;
    char saved[sizeof(ss->err)];
    memcpy(saved, ss->err, sizeof(saved));
    int err = store_sqlite_stmt(ss, sql, &stmt);
    if (err == 0)
        err = store_sqlite_exec_stmt(ss, stmt);
    if (op == STORE_SP_ROLLBACK) {
        /* ROLLBACK TO keeps the savepoint open: release it (now empty) too. */
        if (err == 0)
            err = store_sqlite_stmt(ss, SQL_SP_RELEASE, &stmt);
        if (err == 0)
            err = store_sqlite_exec_stmt(ss, stmt);
        memcpy(ss->err, saved, sizeof(saved));
    }
    return err;
}

static int sqlite_test_i64(store_t *s, const char *sql, const unsigned char *hash, int64_t *out)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_prepare(ss, sql, &stmt);
    if (err != 0)
        return err;
    if (hash)
        sqlite3_bind_blob(stmt, 1, hash, STORE_HASH_LEN, SQLITE_TRANSIENT);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(stmt, 0);
    else if (rc != SQLITE_DONE)
        err = store_sqlite_fail(ss, rc);
    sqlite3_finalize(stmt);
    return err;
}

static int sqlite_test_exec(store_t *s, const char *sql)
{
    return sqlite_exec(store_sqlite_of(s), sql);
}

static const store_ops_t sqlite_ops = {
    .kind = "sqlite",
    .migrations = store_migrations,
    .migrations_count = &store_migrations_count,
    .close = sqlite_close,
    .errmsg = sqlite_errmsg,
    .migrate_list = sqlite_migrate_list,
    .schema_version = sqlite_schema_version,
    .health = sqlite_health,
    .change_stamp = sqlite_change_stamp,
    .integrity_check = sqlite_integrity_check,
    .checkpoint_auto = sqlite_checkpoint_auto,
    .checkpoint = sqlite_checkpoint,
    .log_appended = sqlite_log_appended,
    .cache_limit = sqlite_cache_limit,
    .busy_limit = sqlite_busy_limit,
    .snapshot = store_sqlite_snapshot,
    .tx_begin = sqlite_tx_begin,
    .tx_commit = sqlite_tx_commit,
    .tx_rollback = sqlite_tx_rollback,
    .tx_open = sqlite_tx_open,
    .savepoint = sqlite_savepoint,
    .user_ensure = store_sqlite_user_ensure,
    .user_get = store_sqlite_user_get,
    .user_set_name = store_sqlite_user_set_name,
    .user_set_admin = store_sqlite_user_set_admin,
    .magic_link_insert = store_sqlite_magic_link_insert,
    .magic_link_consume = store_sqlite_magic_link_consume,
    .magic_link_purge = store_sqlite_magic_link_purge,
    .refresh_insert = store_sqlite_refresh_insert,
    .refresh_rotate_tx = store_sqlite_refresh_rotate_tx,
    .refresh_revoke = store_sqlite_refresh_revoke,
    .test_i64 = sqlite_test_i64,
    .test_exec = sqlite_test_exec,
};
