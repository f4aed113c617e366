/* The store dispatcher: checks arguments, forwards each call to the backend's ops table and does
 * the backend-independent work (migration list checks, commit timing and its observer, the
 * transaction around a refresh-token rotation). */
#include "store/store_int.h"

#include "core/err.h"

#include <string.h>
#include <time.h>

static int64_t store_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int store_is_uri(const char *where)
{
    return where != NULL &&
           (!strncmp(where, "postgres://", 11) || !strncmp(where, "postgresql://", 13));
}

int store_open_why(store_t **out, const char *where, char *why, size_t why_len)
{
    if (why && why_len)
        why[0] = '\0';
    if (out == NULL)
        return GV_EINTERNAL;
    *out = NULL;
    if (where == NULL || where[0] == '\0')
        return GV_EIO;
    if (store_is_uri(where))
        return store_pg_open(out, where, why, why_len);
    return store_sqlite_open(out, where, why, why_len);
}

int store_open(store_t **out, const char *where)
{
    return store_open_why(out, where, NULL, 0);
}

int store_bulk(store_t *s, int on)
{
    if (s == NULL)
        return GV_EINTERNAL;
    return s->ops->bulk ? s->ops->bulk(s, on) : 0;
}

int store_lazy_commits(store_t *s)
{
    if (s == NULL)
        return GV_EINTERNAL;
    return s->ops->lazy_commits ? s->ops->lazy_commits(s) : 0;
}

int store_claim(store_t *s, const char *name)
{
    if (s == NULL || name == NULL)
        return GV_EINTERNAL;
    return s->ops->claim ? s->ops->claim(s, name) : 0;
}

void store_close(store_t *s)
{
    if (s != NULL)
        s->ops->close(s);
}

const char *store_kind(const store_t *s)
{
    return s->ops->kind;
}

const char *store_errmsg(const store_t *s)
{
    return s->ops->errmsg(s);
}

/* Versions must be positive and strictly increasing so "pending" is simply "above current". */
static int store_list_check(const store_migration_t *list, size_t n)
{
    int prev = 0;
    for (size_t i = 0; i < n; i++) {
        if (list[i].version <= prev || list[i].name == NULL || list[i].sql == NULL)
            return GV_EINTERNAL;
        prev = list[i].version;
    }
    return 0;
}

int store_migrate_list(store_t *s, const store_migration_t *list, size_t n, int *applied)
{
    int ignored;
    if (applied == NULL)
        applied = &ignored;
    *applied = 0;
    if (n > 0 && list == NULL)
        return GV_EINTERNAL;
    int rc = store_list_check(list, n);
    if (rc != 0)
        return rc;
    return s->ops->migrate_list(s, list, n, applied);
}

int store_migrate(store_t *s, int *applied)
{
    return store_migrate_list(s, s->ops->migrations, *s->ops->migrations_count, applied);
}

int store_schema_version(store_t *s, int *version)
{
    *version = 0;
    return s->ops->schema_version(s, version);
}

int store_integrity_check(store_t *s)
{
    return s->ops->integrity_check(s);
}

int store_checkpoint_auto(store_t *s, int on)
{
    return s->ops->checkpoint_auto(s, on);
}

int store_checkpoint(store_t *s, int restart, int *log_frames, int *copied)
{
    int frames = 0, done = 0;
    int rc = s->ops->checkpoint(s, restart, &frames, &done);
    if (log_frames)
        *log_frames = frames;
    if (copied)
        *copied = done;
    return rc;
}

uint64_t store_log_appended(store_t *s)
{
    return s->ops->log_appended(s);
}

int store_cache_limit(store_t *s, int kib)
{
    return kib > 0 ? s->ops->cache_limit(s, kib) : GV_EINVALID_REQUEST;
}

int store_health(store_t *s)
{
    return s->ops->health(s);
}

int store_change_stamp(store_t *s, uint64_t stamp[2])
{
    return stamp ? s->ops->change_stamp(s, stamp) : GV_EINTERNAL;
}

int store_tx_begin(store_t *s)
{
    return s->ops->tx_begin(s);
}

static int store_full; /* see store_disk_full; accessed atomically */

void store_full_set(int on)
{
    if (__atomic_load_n(&store_full, __ATOMIC_RELAXED) != on)
        __atomic_store_n(&store_full, on, __ATOMIC_RELAXED);
}

int store_disk_full(void)
{
    return __atomic_load_n(&store_full, __ATOMIC_RELAXED);
}

int store_busy_limit(store_t *s, int ms)
{
    return ms < 0 ? GV_EINTERNAL : s->ops->busy_limit(s, ms);
}

int store_schema_known(void)
{
    return store_migrations_count ? store_migrations[store_migrations_count - 1].version : 0;
}

int store_snapshot(store_t *s, const char *path, store_snapshot_method_t method,
                   store_progress_t progress, void *ctx, int *schema)
{
    *schema = 0;
    if (path == NULL || !path[0] ||
        (method != STORE_SNAPSHOT_PAGES && method != STORE_SNAPSHOT_VACUUM))
        return GV_EINTERNAL;
    if (s->ops->tx_open(s))
        return GV_EDB;
    return s->ops->snapshot(s, path, method, progress, ctx, schema);
}

int store_tx_commit(store_t *s)
{
    int64_t start_us = store_mono_us();
    int rc = s->ops->tx_commit(s);
    if (rc == 0)
        store_full_set(0);
    if (rc == 0 && s->commit_fn != NULL) {
        int64_t took_us = store_mono_us() - start_us;
        s->commit_fn(s->commit_ctx, took_us < 0 ? 0 : took_us);
    }
    return rc;
}

int store_tx_rollback(store_t *s)
{
    return s->ops->tx_rollback(s);
}

void store_set_commit_observer(store_t *s, store_commit_observer_t fn, void *ctx)
{
    s->commit_fn = fn;
    s->commit_ctx = ctx;
}

/* ---- accounts ------------------------------------------------------------------------------ */

int store_str_check(const char *str, size_t cap)
{
    if (str == NULL)
        return GV_EINTERNAL;
    return strnlen(str, cap) < cap ? 0 : GV_ELIMIT;
}

int store_key_check(const char *str, size_t cap)
{
    int err = store_str_check(str, cap);
    return err == 0 && str[0] == '\0' ? GV_EINVALID_REQUEST : err;
}

int store_lookup_check(const char *key, size_t cap)
{
    if (key == NULL)
        return GV_EINTERNAL;
    return key[0] != '\0' && strnlen(key, cap) < cap ? 0 : GV_ENOT_FOUND;
}

int store_user_ensure(store_t *s, const char *email, const char *new_id, const char *default_name,
                      int64_t now_ms, store_user_t *out, int *created)
{
    int ignored;
    int err = store_str_check(email, STORE_EMAIL_MAX);
    if (err == 0)
        err = store_str_check(new_id, STORE_ID_MAX);
    if (err == 0)
        err = store_str_check(default_name, STORE_NAME_MAX);
    if (err == 0 && out == NULL)
        err = GV_EINTERNAL;
    if (err != 0)
        return err;
    return s->ops->user_ensure(s, email, new_id, default_name, now_ms, out,
                               created != NULL ? created : &ignored);
}

int store_user_get(store_t *s, const char *id, store_user_t *out)
{
    if (id == NULL || out == NULL)
        return GV_EINTERNAL;
    return s->ops->user_get(s, id, out);
}

int store_user_set_name(store_t *s, const char *id, const char *name)
{
    int err = store_str_check(name, STORE_NAME_MAX);
    if (err == 0 && id == NULL)
        err = GV_EINTERNAL;
    return err != 0 ? err : s->ops->user_set_name(s, id, name);
}

int store_user_set_admin(store_t *s, const char *email, int is_admin)
{
    if (email == NULL)
        return GV_EINTERNAL;
    return s->ops->user_set_admin(s, email, is_admin != 0);
}

int store_magic_link_insert(store_t *s, const unsigned char hash[STORE_HASH_LEN],
                            const unsigned char *code_hash, const char *user_id, int64_t expires_ms,
                            const char *ip, int64_t now_ms)
{
    if (hash == NULL || user_id == NULL || ip == NULL)
        return GV_EINTERNAL;
    return s->ops->magic_link_insert(s, hash, code_hash, user_id, expires_ms, ip, now_ms);
}

int store_magic_link_consume(store_t *s, const unsigned char hash[STORE_HASH_LEN],
                             const char *email, int64_t now_ms, char user_id[STORE_ID_MAX])
{
    if (hash == NULL || email == NULL || user_id == NULL)
        return GV_EINTERNAL;
    return s->ops->magic_link_consume(s, hash, 0, email, now_ms, user_id);
}

int store_magic_code_consume(store_t *s, const unsigned char code_hash[STORE_HASH_LEN],
                             const char *email, int64_t now_ms, char user_id[STORE_ID_MAX])
{
    if (code_hash == NULL || email == NULL || user_id == NULL)
        return GV_EINTERNAL;
    return s->ops->magic_link_consume(s, code_hash, 1, email, now_ms, user_id);
}

int store_magic_link_purge(store_t *s, int64_t now_ms, int *purged)
{
    int ignored;
    return s->ops->magic_link_purge(s, now_ms, purged != NULL ? purged : &ignored);
}

int store_refresh_insert(store_t *s, const unsigned char hash[STORE_HASH_LEN], const char *user_id,
                         const char *family_id, int64_t expires_ms, int64_t now_ms)
{
    if (hash == NULL || user_id == NULL || family_id == NULL)
        return GV_EINTERNAL;
    return s->ops->refresh_insert(s, hash, user_id, family_id, expires_ms, now_ms);
}

/* The backend does the reads and writes; the transaction is here so that its commit is timed
 * and observed by store_tx_commit like any other. */
int store_refresh_rotate(store_t *s, const unsigned char old_hash[STORE_HASH_LEN],
                         const unsigned char new_hash[STORE_HASH_LEN], int64_t new_expires_ms,
                         int64_t now_ms, char user_id[STORE_ID_MAX])
{
    if (old_hash == NULL || new_hash == NULL || user_id == NULL)
        return GV_EINTERNAL;
    /* Fails (GV_EDB) inside the caller's transaction, which is left as it was. */
    int err = store_tx_begin(s);
    if (err != 0)
        return err;
    char id[STORE_ID_MAX];
    int commit = 0;
    int result =
        s->ops->refresh_rotate_tx(s, old_hash, new_hash, new_expires_ms, now_ms, id, &commit);
    if (!commit) {
        err = s->ops->tx_rollback(s);
        /* A refusal whose rollback failed would leave the transaction open: report that. */
        return result == GV_EUNAUTHORIZED && err != 0 ? err : result;
    }
    err = store_tx_commit(s);
    if (err != 0)
        return err;
    if (result == 0)
        memcpy(user_id, id, sizeof(id));
    return result;
}

int store_refresh_revoke(store_t *s, const unsigned char hash[STORE_HASH_LEN], int64_t now_ms)
{
    if (hash == NULL)
        return GV_EINTERNAL;
    return s->ops->refresh_revoke(s, hash, now_ms);
}

int store_test_i64(store_t *s, const char *sql, const unsigned char *hash, int64_t *out)
{
    *out = -1;
    return s->ops->test_i64(s, sql, hash, out);
}

int store_test_exec(store_t *s, const char *sql)
{
    return s->ops->test_exec(s, sql);
}

int store_unit_begin(store_t *s, int *own)
{
    *own = !s->ops->tx_open(s);
    return *own ? store_tx_begin(s) : s->ops->savepoint(s, STORE_SP_BEGIN);
}

int store_unit_end(store_t *s, int own, int result)
{
    if (own) {
        if (result == 0)
            return store_tx_commit(s);
        store_tx_rollback(s);
        return result;
    }
    if (result == 0) {
        int err = s->ops->savepoint(s, STORE_SP_RELEASE);
        if (err == 0)
            return 0;
        result = err;
    }
    s->ops->savepoint(s, STORE_SP_ROLLBACK);
    return result;
}
