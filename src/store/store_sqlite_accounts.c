/* The accounts queries of the SQLite backend: users, single-use sign-in links and rotating
 * refresh tokens (tables of sql/002_accounts.sql). Cached statements, bound parameters only. */
#include "store/store_sqlite_int.h"

#include "core/err.h"

#include <stdio.h>
#include <string.h>

static const char *const acct_sql[STORE_SQ_COUNT] = {
    [STORE_SQ_USER_INSERT] = "INSERT INTO users(id, email, name, is_admin, created_ms) "
                             "VALUES(?1, ?2, ?3, 0, ?4) ON CONFLICT(email) DO NOTHING",
    [STORE_SQ_USER_BY_ID] = "SELECT id, email, name, is_admin, created_ms FROM users WHERE id = ?1",
    [STORE_SQ_USER_BY_EMAIL] = "SELECT id, email, name, is_admin, created_ms FROM users "
                               "WHERE email = ?1",
    [STORE_SQ_USER_SET_NAME] = "UPDATE users SET name = ?2 WHERE id = ?1",
    [STORE_SQ_USER_SET_ADMIN] = "UPDATE users SET is_admin = ?2 WHERE email = ?1",
    [STORE_SQ_LINK_INSERT] = "INSERT INTO magic_links(hash, user_id, expires_ms, ip, created_ms, "
                             "code_hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    /* The compare-and-set: one statement, so of concurrent consumers (any connection or
     * process) exactly one sees used = 0 under the write lock and gets the row back. */
    [STORE_SQ_LINK_CONSUME] = "UPDATE magic_links SET used = 1, used_ms = ?2 "
                              "WHERE hash = ?1 AND used = 0 AND expires_ms > ?2 "
                              "AND user_id = (SELECT id FROM users WHERE email = ?3) "
                              "RETURNING user_id",
    /* The same compare-and-set by the link's code: the row holds both, so either uses both. */
    [STORE_SQ_LINK_CODE_CONSUME] = "UPDATE magic_links SET used = 1, used_ms = ?2 "
                                   "WHERE code_hash = ?1 AND used = 0 AND expires_ms > ?2 "
                                   "AND user_id = (SELECT id FROM users WHERE email = ?3) "
                                   "RETURNING user_id",
    [STORE_SQ_LINK_PURGE] = "DELETE FROM magic_links WHERE expires_ms <= ?1 "
                            "OR (used = 1 AND used_ms < ?1 - 86400000)",
    [STORE_SQ_REFRESH_INSERT] = "INSERT INTO refresh_tokens(hash, user_id, family_id, expires_ms, "
                                "created_ms) VALUES(?1, ?2, ?3, ?4, ?5)",
    [STORE_SQ_REFRESH_FIND] = "SELECT user_id, expires_ms, rotated_ms IS NOT NULL, "
                              "revoked_ms IS NOT NULL FROM refresh_tokens WHERE hash = ?1",
    [STORE_SQ_REFRESH_MARK_ROTATED] = "UPDATE refresh_tokens SET rotated_ms = ?2 WHERE hash = ?1",
    [STORE_SQ_REFRESH_INSERT_NEXT] = "INSERT INTO refresh_tokens(hash, user_id, family_id, "
                                     "expires_ms, created_ms) "
                                     "SELECT ?2, user_id, family_id, ?3, ?4 FROM refresh_tokens "
                                     "WHERE hash = ?1",
    /* Rows already revoked keep their first revocation time. */
    [STORE_SQ_REFRESH_REVOKE_FAMILY] = "UPDATE refresh_tokens SET revoked_ms = ?2 "
                                       "WHERE family_id = (SELECT family_id FROM refresh_tokens "
                                       "WHERE hash = ?1) AND revoked_ms IS NULL",
};

static int acct_stmt(store_sqlite_t *ss, store_sq_id_t id, sqlite3_stmt **stmt)
{
    return store_sqlite_cached(ss, id, acct_sql[id], stmt);
}

/* Readies stmt for its next use and drops the borrowed bindings; passes err through. */
static int acct_done(sqlite3_stmt *stmt, int err)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return err;
}

/* Steps stmt to completion (it returns no rows) and resets it. */
static int acct_run(store_sqlite_t *ss, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    return acct_done(stmt, rc == SQLITE_DONE ? 0 : store_sqlite_fail(ss, rc));
}

/* Copies text column col into dst (cap bytes with the NUL). NULL, an embedded NUL or a value
 * that does not fit is a database error: never truncated silently. */
static int acct_col_text(store_sqlite_t *ss, sqlite3_stmt *stmt, int col, char *dst, size_t cap)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    int len = sqlite3_column_bytes(stmt, col);
    if (text == NULL) {
        if (sqlite3_column_type(stmt, col) != SQLITE_NULL)
            return store_sqlite_fail(ss, SQLITE_NOMEM);
        snprintf(ss->err, sizeof(ss->err), "column %s is NULL", sqlite3_column_name(stmt, col));
        return GV_EDB;
    }
    if ((size_t)len >= cap || memchr(text, '\0', (size_t)len) != NULL) {
        snprintf(ss->err, sizeof(ss->err), "column %s does not fit in %zu bytes",
                 sqlite3_column_name(stmt, col), cap);
        return GV_EDB;
    }
    memcpy(dst, text, (size_t)len);
    dst[len] = '\0';
    return 0;
}

/* ---- users --------------------------------------------------------------------------------- */

static int acct_user_row(store_sqlite_t *ss, sqlite3_stmt *stmt, store_user_t *out)
{
    store_user_t u;
    int err = acct_col_text(ss, stmt, 0, u.id, sizeof(u.id));
    if (err == 0)
        err = acct_col_text(ss, stmt, 1, u.email, sizeof(u.email));
    if (err == 0)
        err = acct_col_text(ss, stmt, 2, u.name, sizeof(u.name));
    if (err != 0)
        return err;
    u.is_admin = sqlite3_column_int(stmt, 3) != 0;
    u.created_ms = sqlite3_column_int64(stmt, 4);
    *out = u;
    return 0;
}

/* Reads the user whose id or email (by which) is key. 0, GV_ENOT_FOUND or GV_EDB*. */
static int acct_user_read(store_sqlite_t *ss, store_sq_id_t by, const char *key, store_user_t *out)
{
    sqlite3_stmt *stmt = NULL;
    int err = acct_stmt(ss, by, &stmt);
    if (err != 0)
        return err;
    err = store_sqlite_bind(ss, stmt, "t", key);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        err = acct_user_row(ss, stmt, out);
    else
        err = rc == SQLITE_DONE ? GV_ENOT_FOUND : store_sqlite_fail(ss, rc);
    return acct_done(stmt, err);
}

int store_sqlite_user_ensure(store_t *s, const char *email, const char *new_id,
                             const char *default_name, int64_t now_ms, store_user_t *out,
                             int *created)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = acct_stmt(ss, STORE_SQ_USER_INSERT, &stmt);
    if (err != 0)
        return err;
    err = store_sqlite_bind(ss, stmt, "ttti", new_id, email, default_name, now_ms);
    if (err != 0)
        return err;
    err = acct_run(ss, stmt);
    if (err != 0)
        return err;
    int inserted = sqlite3_changes(ss->db) > 0; /* 0 when ON CONFLICT did nothing */
    err = acct_user_read(ss, STORE_SQ_USER_BY_EMAIL, email, out);
    if (err == GV_ENOT_FOUND) {
        snprintf(ss->err, sizeof(ss->err), "user deleted while being ensured");
        err = GV_EDB;
    }
    if (err == 0)
        *created = inserted;
    return err;
}

int store_sqlite_user_get(store_t *s, const char *id, store_user_t *out)
{
    return acct_user_read(store_sqlite_of(s), STORE_SQ_USER_BY_ID, id, out);
}

/* Runs an UPDATE of one user keyed by text ?1 with ?2 bound by the caller; no row: not found. */
static int acct_user_update(store_sqlite_t *ss, sqlite3_stmt *stmt, const char *key)
{
    int err = store_sqlite_bind(ss, stmt, "t", key);
    if (err != 0)
        return err;
    err = acct_run(ss, stmt);
    if (err == 0 && sqlite3_changes(ss->db) == 0)
        err = GV_ENOT_FOUND;
    return err;
}

int store_sqlite_user_set_name(store_t *s, const char *id, const char *name)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = acct_stmt(ss, STORE_SQ_USER_SET_NAME, &stmt);
    if (err != 0)
        return err;
    err = store_sqlite_bind_from(ss, stmt, 2, "t", name);
    if (err != 0)
        return err;
    return acct_user_update(ss, stmt, id);
}

int store_sqlite_user_set_admin(store_t *s, const char *email, int is_admin)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = acct_stmt(ss, STORE_SQ_USER_SET_ADMIN, &stmt);
    if (err != 0)
        return err;
    err = store_sqlite_bind_from(ss, stmt, 2, "n", is_admin != 0);
    if (err != 0)
        return err;
    return acct_user_update(ss, stmt, email);
}

/* ---- magic links --------------------------------------------------------------------------- */

int store_sqlite_magic_link_insert(store_t *s, const unsigned char *hash,
                                   const unsigned char *code_hash, const char *user_id,
                                   int64_t expires_ms, const char *ip, int64_t now_ms)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = acct_stmt(ss, STORE_SQ_LINK_INSERT, &stmt);
    if (err != 0)
        return err;
    /* a NULL code_hash binds NULL (sqlite3_bind_blob), so a cached statement keeps no old code */
    err = store_sqlite_bind(ss, stmt, "htitih", hash, user_id, expires_ms, ip, now_ms, code_hash);
    if (err != 0)
        return err;
    return acct_run(ss, stmt);
}

int store_sqlite_magic_link_consume(store_t *s, const unsigned char *hash, int by_code,
                                    const char *email, int64_t now_ms, char *user_id)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = acct_stmt(ss, by_code ? STORE_SQ_LINK_CODE_CONSUME : STORE_SQ_LINK_CONSUME, &stmt);
    if (err != 0)
        return err;
    err = store_sqlite_bind(ss, stmt, "hit", hash, now_ms, email);
    if (err != 0)
        return err;
    char id[STORE_ID_MAX];
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
        return acct_done(stmt, GV_EUNAUTHORIZED);
    if (rc != SQLITE_ROW)
        return acct_done(stmt, store_sqlite_fail(ss, rc));
    err = acct_col_text(ss, stmt, 0, id, sizeof(id));
    /* Stepping to the end completes the statement, hence its autocommit: a failure there means
     * the link was not consumed. */
    rc = sqlite3_step(stmt);
    if (err == 0 && rc != SQLITE_DONE)
        err = store_sqlite_fail(ss, rc);
    if (err == 0)
        memcpy(user_id, id, sizeof(id));
    return acct_done(stmt, err);
}

int store_sqlite_magic_link_purge(store_t *s, int64_t now_ms, int *purged)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = acct_stmt(ss, STORE_SQ_LINK_PURGE, &stmt);
    if (err != 0)
        return err;
    err = store_sqlite_bind(ss, stmt, "i", now_ms);
    if (err != 0)
        return err;
    err = acct_run(ss, stmt);
    if (err == 0)
        *purged = sqlite3_changes(ss->db);
    return err;
}

/* ---- refresh tokens ------------------------------------------------------------------------ */

int store_sqlite_refresh_insert(store_t *s, const unsigned char *hash, const char *user_id,
                                const char *family_id, int64_t expires_ms, int64_t now_ms)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = acct_stmt(ss, STORE_SQ_REFRESH_INSERT, &stmt);
    if (err != 0)
        return err;
    err = store_sqlite_bind(ss, stmt, "httii", hash, user_id, family_id, expires_ms, now_ms);
    if (err != 0)
        return err;
    return acct_run(ss, stmt);
}

typedef struct {
    char user_id[STORE_ID_MAX];
    int64_t expires_ms;
    int rotated;
    int revoked;
} acct_refresh_t;

/* Reads the token with hash. 0, GV_EUNAUTHORIZED (unknown) or GV_EDB*. */
static int acct_refresh_find(store_sqlite_t *ss, const unsigned char *hash, acct_refresh_t *out)
{
    sqlite3_stmt *stmt = NULL;
    int err = acct_stmt(ss, STORE_SQ_REFRESH_FIND, &stmt);
    if (err != 0)
        return err;
    err = store_sqlite_bind(ss, stmt, "h", hash);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
        return acct_done(stmt, GV_EUNAUTHORIZED);
    if (rc != SQLITE_ROW)
        return acct_done(stmt, store_sqlite_fail(ss, rc));
    err = acct_col_text(ss, stmt, 0, out->user_id, sizeof(out->user_id));
    out->expires_ms = sqlite3_column_int64(stmt, 1);
    out->rotated = sqlite3_column_int(stmt, 2);
    out->revoked = sqlite3_column_int(stmt, 3);
    return acct_done(stmt, err);
}

/* Runs one of the refresh statements keyed by hash ?1 and now ?2. */
static int acct_refresh_by_hash(store_sqlite_t *ss, store_sq_id_t id, const unsigned char *hash,
                                int64_t now_ms)
{
    sqlite3_stmt *stmt = NULL;
    int err = acct_stmt(ss, id, &stmt);
    if (err != 0)
        return err;
    err = store_sqlite_bind(ss, stmt, "hi", hash, now_ms);
    if (err != 0)
        return err;
    return acct_run(ss, stmt);
}

/* Inserts new_hash in old_hash's family, for its user. */
static int acct_refresh_insert_next(store_sqlite_t *ss, const unsigned char *old_hash,
                                    const unsigned char *new_hash, int64_t expires_ms,
                                    int64_t now_ms)
{
    sqlite3_stmt *stmt = NULL;
    int err = acct_stmt(ss, STORE_SQ_REFRESH_INSERT_NEXT, &stmt);
    if (err != 0)
        return err;
    err = store_sqlite_bind(ss, stmt, "hhii", old_hash, new_hash, expires_ms, now_ms);
    if (err != 0)
        return err;
    err = acct_run(ss, stmt);
    if (err == 0 && sqlite3_changes(ss->db) != 1) {
        snprintf(ss->err, sizeof(ss->err), "refresh token vanished during rotation");
        err = GV_EDB;
    }
    return err;
}

int store_sqlite_refresh_rotate_tx(store_t *s, const unsigned char *old_hash,
                                   const unsigned char *new_hash, int64_t new_expires_ms,
                                   int64_t now_ms, char *user_id, int *commit)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    acct_refresh_t tok;
    *commit = 0;
    int err = acct_refresh_find(ss, old_hash, &tok);
    if (err != 0)
        return err;
    if (tok.rotated) {
        /* A used token came back: one of its holders is a thief. End every session of it. */
        err = acct_refresh_by_hash(ss, STORE_SQ_REFRESH_REVOKE_FAMILY, old_hash, now_ms);
        if (err != 0)
            return err;
        *commit = 1;
        return GV_EUNAUTHORIZED;
    }
    if (tok.revoked || tok.expires_ms <= now_ms)
        return GV_EUNAUTHORIZED;
    err = acct_refresh_by_hash(ss, STORE_SQ_REFRESH_MARK_ROTATED, old_hash, now_ms);
    if (err == 0)
        err = acct_refresh_insert_next(ss, old_hash, new_hash, new_expires_ms, now_ms);
    if (err != 0)
        return err;
    memcpy(user_id, tok.user_id, sizeof(tok.user_id));
    *commit = 1;
    return 0;
}

int store_sqlite_refresh_revoke(store_t *s, const unsigned char *hash, int64_t now_ms)
{
    return acct_refresh_by_hash(store_sqlite_of(s), STORE_SQ_REFRESH_REVOKE_FAMILY, hash, now_ms);
}
