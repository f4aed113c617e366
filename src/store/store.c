/* The store dispatcher: checks arguments, forwards each call to the backend's ops table and does
 * the backend-independent work (migration list checks, commit timing and its observer). */
#include "store/store_int.h"

#include "core/err.h"

#include <time.h>

static int64_t store_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int store_open(store_t **out, const char *data_dir)
{
    if (out == NULL)
        return GV_EINTERNAL;
    *out = NULL;
    if (data_dir == NULL || data_dir[0] == '\0')
        return GV_EIO;
    return store_sqlite_open(out, data_dir);
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
    return store_migrate_list(s, store_migrations, store_migrations_count, applied);
}

int store_schema_version(store_t *s, int *version)
{
    *version = 0;
    return s->ops->schema_version(s, version);
}

int store_health(store_t *s)
{
    return s->ops->health(s);
}

int store_tx_begin(store_t *s)
{
    return s->ops->tx_begin(s);
}

int store_tx_commit(store_t *s)
{
    int64_t start_us = store_mono_us();
    int rc = s->ops->tx_commit(s);
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
