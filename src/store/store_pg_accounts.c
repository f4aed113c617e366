/* The accounts queries of the PostgreSQL backend: users, single-use sign-in links and rotating
 * refresh tokens (tables of sql/002_accounts.sql and 007), the same statements as the SQLite
 * backend's with $n parameters. Bound parameters only. */
#include "store/store_pg_int.h"

#include "core/err.h"

#include <stdio.h>
#include <string.h>

/* ---- users ---------------------------------------------------------------------------------- */

static const char SQL_USER_INSERT[] = "INSERT INTO users(id, email, name, is_admin, created_ms) "
                                      "VALUES($1, $2, $3, 0, $4) ON CONFLICT(email) DO NOTHING";
static const char SQL_USER_BY_ID[] =
    "SELECT id, email, name, is_admin, created_ms FROM users WHERE id = $1";
static const char SQL_USER_BY_EMAIL[] =
    "SELECT id, email, name, is_admin, created_ms FROM users WHERE email = $1";

/* Reads the user by sql (keyed by $1). 0, GV_ENOT_FOUND or GV_EDB*. */
static int acct_user_read(store_pg_t *sp, const char *sql, const char *key, store_user_t *out)
{
    PGresult *r = NULL;
    int err = store_pg_run(sp, &r, sql, "t", key);
    if (err != 0)
        return err;
    store_user_t u;
    if (PQntuples(r) == 0)
        err = GV_ENOT_FOUND;
    if (!err)
        err = store_pg_col_text(sp, r, 0, 0, u.id, sizeof(u.id));
    if (!err)
        err = store_pg_col_text(sp, r, 0, 1, u.email, sizeof(u.email));
    if (!err)
        err = store_pg_col_text(sp, r, 0, 2, u.name, sizeof(u.name));
    if (!err) {
        u.is_admin = store_pg_col_i64(r, 0, 3) != 0;
        u.created_ms = store_pg_col_i64(r, 0, 4);
        *out = u;
    }
    PQclear(r);
    return err;
}

int store_pg_user_ensure(store_t *s, const char *email, const char *new_id,
                         const char *default_name, int64_t now_ms, store_user_t *out, int *created)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = store_pg_run(sp, &r, SQL_USER_INSERT, "ttti", new_id, email, default_name, now_ms);
    if (err != 0)
        return err;
    int inserted = store_pg_changes(r) > 0; /* 0 when ON CONFLICT did nothing */
    PQclear(r);
    err = acct_user_read(sp, SQL_USER_BY_EMAIL, email, out);
    if (err == GV_ENOT_FOUND) {
        snprintf(sp->err, sizeof(sp->err), "user deleted while being ensured");
        err = GV_EDB;
    }
    if (err == 0)
        *created = inserted;
    return err;
}

int store_pg_user_get(store_t *s, const char *id, store_user_t *out)
{
    return acct_user_read(store_pg_of(s), SQL_USER_BY_ID, id, out);
}

/* Runs an UPDATE of one user keyed by $1 with $2 = value; no row: not found. */
static int acct_user_update(store_pg_t *sp, const char *sql, const char *key, const char *fmt2,
                            const char *text, int num)
{
    PGresult *r = NULL;
    int err = fmt2[0] == 't' ? store_pg_run(sp, &r, sql, "tt", key, text)
                             : store_pg_run(sp, &r, sql, "tn", key, num);
    if (err != 0)
        return err;
    err = store_pg_changes(r) == 0 ? GV_ENOT_FOUND : 0;
    PQclear(r);
    return err;
}

int store_pg_user_set_name(store_t *s, const char *id, const char *name)
{
    return acct_user_update(store_pg_of(s), "UPDATE users SET name = $2 WHERE id = $1", id, "t",
                            name, 0);
}

int store_pg_user_set_admin(store_t *s, const char *email, int is_admin)
{
    return acct_user_update(store_pg_of(s), "UPDATE users SET is_admin = $2 WHERE email = $1",
                            email, "n", NULL, is_admin != 0);
}

/* ---- magic links ---------------------------------------------------------------------------- */

int store_pg_magic_link_insert(store_t *s, const unsigned char *hash,
                               const unsigned char *code_hash, const char *user_id,
                               int64_t expires_ms, const char *ip, int64_t now_ms)
{
    return store_pg_run(store_pg_of(s), NULL,
                        "INSERT INTO magic_links(hash, user_id, expires_ms, ip, created_ms, "
                        "code_hash) VALUES($1, $2, $3, $4, $5, $6)",
                        "htitih", hash, user_id, expires_ms, ip, now_ms, code_hash);
}

/* The compare-and-set: one statement, so of concurrent consumers (any connection or node) exactly
 * one updates the row while used = 0 (the others wait for its row lock, then see used = 1). */
static const char SQL_LINK_CONSUME[] = "UPDATE magic_links SET used = 1, used_ms = $2 "
                                       "WHERE hash = $1 AND used = 0 AND expires_ms > $2 "
                                       "AND user_id = (SELECT id FROM users WHERE email = $3) "
                                       "RETURNING user_id";
static const char SQL_CODE_CONSUME[] = "UPDATE magic_links SET used = 1, used_ms = $2 "
                                       "WHERE code_hash = $1 AND used = 0 AND expires_ms > $2 "
                                       "AND user_id = (SELECT id FROM users WHERE email = $3) "
                                       "RETURNING user_id";

int store_pg_magic_link_consume(store_t *s, const unsigned char *hash, int by_code,
                                const char *email, int64_t now_ms, char *user_id)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = store_pg_run(sp, &r, by_code ? SQL_CODE_CONSUME : SQL_LINK_CONSUME, "hit", hash,
                           now_ms, email);
    if (err != 0)
        return err;
    char id[STORE_ID_MAX];
    err = PQntuples(r) == 0 ? GV_EUNAUTHORIZED : store_pg_col_text(sp, r, 0, 0, id, sizeof(id));
    if (err == 0)
        memcpy(user_id, id, sizeof(id));
    PQclear(r);
    return err;
}

int store_pg_magic_link_purge(store_t *s, int64_t now_ms, int *purged)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = store_pg_run(sp, &r,
                           "DELETE FROM magic_links WHERE expires_ms <= $1 "
                           "OR (used = 1 AND used_ms < $1 - 86400000)",
                           "i", now_ms);
    if (err == 0) {
        *purged = store_pg_changes(r);
        PQclear(r);
    }
    return err;
}

/* ---- refresh tokens ------------------------------------------------------------------------- */

int store_pg_refresh_insert(store_t *s, const unsigned char *hash, const char *user_id,
                            const char *family_id, int64_t expires_ms, int64_t now_ms)
{
    return store_pg_run(store_pg_of(s), NULL,
                        "INSERT INTO refresh_tokens(hash, user_id, family_id, expires_ms, "
                        "created_ms) VALUES($1, $2, $3, $4, $5)",
                        "httii", hash, user_id, family_id, expires_ms, now_ms);
}

typedef struct {
    char user_id[STORE_ID_MAX];
    int64_t expires_ms;
    int rotated;
    int revoked;
} acct_refresh_t;

/* Reads the token with hash, locking its row until the transaction ends, so two rotations of
 * one token on two connections take turns and the second sees it rotated. 0, GV_EUNAUTHORIZED
 * (unknown) or GV_EDB*. */
static int acct_refresh_find(store_pg_t *sp, const unsigned char *hash, acct_refresh_t *out)
{
    PGresult *r = NULL;
    int err = store_pg_run(sp, &r,
                           "SELECT user_id, expires_ms, (rotated_ms IS NOT NULL)::int, "
                           "(revoked_ms IS NOT NULL)::int FROM refresh_tokens WHERE hash = $1 "
                           "FOR UPDATE",
                           "h", hash);
    if (err != 0)
        return err;
    err = PQntuples(r) == 0 ? GV_EUNAUTHORIZED
                            : store_pg_col_text(sp, r, 0, 0, out->user_id, sizeof(out->user_id));
    if (err == 0) {
        out->expires_ms = store_pg_col_i64(r, 0, 1);
        out->rotated = (int)store_pg_col_i64(r, 0, 2);
        out->revoked = (int)store_pg_col_i64(r, 0, 3);
    }
    PQclear(r);
    return err;
}

/* Rows already revoked keep their first revocation time. */
static const char SQL_REVOKE_FAMILY[] = "UPDATE refresh_tokens SET revoked_ms = $2 "
                                        "WHERE family_id = (SELECT family_id FROM refresh_tokens "
                                        "WHERE hash = $1) AND revoked_ms IS NULL";

/* Inserts new_hash in old_hash's family, for its user. */
static int acct_refresh_insert_next(store_pg_t *sp, const unsigned char *old_hash,
                                    const unsigned char *new_hash, int64_t expires_ms,
                                    int64_t now_ms)
{
    PGresult *r = NULL;
    int err = store_pg_run(sp, &r,
                           "INSERT INTO refresh_tokens(hash, user_id, family_id, expires_ms, "
                           "created_ms) SELECT $2, user_id, family_id, $3, $4 "
                           "FROM refresh_tokens WHERE hash = $1",
                           "hhii", old_hash, new_hash, expires_ms, now_ms);
    if (err != 0)
        return err;
    if (store_pg_changes(r) != 1) {
        snprintf(sp->err, sizeof(sp->err), "refresh token vanished during rotation");
        err = GV_EDB;
    }
    PQclear(r);
    return err;
}

int store_pg_refresh_rotate_tx(store_t *s, const unsigned char *old_hash,
                               const unsigned char *new_hash, int64_t new_expires_ms,
                               int64_t now_ms, char *user_id, int *commit)
{
    store_pg_t *sp = store_pg_of(s);
    acct_refresh_t tok;
    *commit = 0;
    int err = acct_refresh_find(sp, old_hash, &tok);
    if (err != 0)
        return err;
    if (tok.rotated) {
        /* A used token came back: one of its holders is a thief. End every session of it. */
        err = store_pg_run(sp, NULL, SQL_REVOKE_FAMILY, "hi", old_hash, now_ms);
        if (err != 0)
            return err;
        *commit = 1;
        return GV_EUNAUTHORIZED;
    }
    if (tok.revoked || tok.expires_ms <= now_ms)
        return GV_EUNAUTHORIZED;
    err = store_pg_run(sp, NULL, "UPDATE refresh_tokens SET rotated_ms = $2 WHERE hash = $1", "hi",
                       old_hash, now_ms);
    if (err == 0)
        err = acct_refresh_insert_next(sp, old_hash, new_hash, new_expires_ms, now_ms);
    if (err != 0)
        return err;
    memcpy(user_id, tok.user_id, sizeof(tok.user_id));
    *commit = 1;
    return 0;
}

int store_pg_refresh_revoke(store_t *s, const unsigned char *hash, int64_t now_ms)
{
    return store_pg_run(store_pg_of(s), NULL, SQL_REVOKE_FAMILY, "hi", hash, now_ms);
}
