/* Scheduled backups and the data directory's gauges (see backups.h). */
#include "api/backups.h"

#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "ops/backup.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define BACKUP_BUSY_MS 50 /* the backup's reads never wait long for a lock */

typedef struct api_backups_s {
    app_t *app;
    uv_timer_t timer;
    uv_async_t done; /* the backup's thread says it finished */
    uv_thread_t thread;
    int running;  /* a backup's thread runs (joined by the done callback or the stop) */
    int stopping; /* no further backup */
    store_snapshot_method_t method;
    /* one backup: its file, outcome and numbers (written by the thread, read after it) */
    char out[4400], source[600], why[512];
    int rc, pruned;
    double took_s;
    backup_header_t hdr;
    /* for /metrics */
    double last_success_s, last_duration_s;
    uint64_t last_size, ok, failed;
} api_backups_t;

static double now_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int api_backups_check(const config_t *cfg, char *why, size_t n)
{
    store_snapshot_method_t m;
    if (backup_method_parse(cfg->backup_method, &m) != 0) {
        snprintf(why, n, "--backup-method must be pages or vacuum");
        return -1;
    }
    if (cfg->backup_every_s > 0 && !cfg->backup_dir[0]) {
        snprintf(why, n, "--backup-every-s needs --backup-dir DIR");
        return -1;
    }
    return 0;
}

/* A thread of its own at a lower priority: its own connection, one backup, then the oldest
 * pruned. */
static void backup_main(void *arg)
{
    api_backups_t *b = arg;
    pthread_setname_np(pthread_self(), "gavel-backup");
    backup_yield_priority();
    const config_t *cfg = &b->app->cfg;
    backup_dated_path(cfg->backup_dir, b->out, sizeof(b->out));
    double t0 = now_mono_s();
    store_t *s = NULL;
    char detail[256];
    b->rc = store_open_why(&s, cfg->data_dir, detail, sizeof(detail));
    if (b->rc)
        snprintf(b->why, sizeof(b->why), "cannot open the database (%s)", detail);
    b->rc = b->rc ? b->rc : store_busy_limit(s, BACKUP_BUSY_MS);
    if (b->rc == 0)
        b->rc = backup_create(s, b->out, b->source, b->method, NULL, NULL, &b->hdr, b->why,
                              sizeof(b->why));
    store_close(s);
    b->pruned = 0;
    if (b->rc == 0)
        backup_prune(cfg->backup_dir, (int)cfg->backup_keep, &b->pruned);
    b->took_s = now_mono_s() - t0;
    uv_async_send(&b->done);
}

static void backup_done(uv_async_t *a)
{
    api_backups_t *b = a->data;
    if (!b->running)
        return;
    uv_thread_join(&b->thread);
    b->running = 0;
    if (b->rc != 0) {
        b->failed++;
        log_error("backup failed file=%s err=%s detail=\"%s\"", b->out, err_name(b->rc), b->why);
        return;
    }
    b->ok++;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    b->last_success_s = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    b->last_duration_s = b->took_s;
    b->last_size = b->hdr.file_size;
    log_info("backup done file=%s bytes=%llu database_bytes=%llu schema=%d seconds=%.3f pruned=%d",
             b->out, (unsigned long long)b->hdr.file_size, (unsigned long long)b->hdr.bytes,
             b->hdr.schema, b->took_s, b->pruned);
}

static void on_backup_timer(uv_timer_t *t)
{
    api_backups_t *b = t->data;
    if (b->running || b->stopping)
        return; /* the previous one is still going: skip this turn rather than pile up */
    b->running = 1;
    if (uv_thread_create(&b->thread, backup_main, b) != 0) {
        b->running = 0;
        b->failed++;
        log_error("backup failed err=no_thread");
    }
}

int api_backups_start(app_t *app)
{
    const config_t *cfg = &app->cfg;
    if (cfg->backup_every_s <= 0)
        return 0;
    if (mkdir(cfg->backup_dir, 0700) != 0 && access(cfg->backup_dir, W_OK) != 0) {
        log_error("backup directory unusable dir=%s", cfg->backup_dir);
        return GV_EIO;
    }
    api_backups_t *b = calloc(1, sizeof(*b));
    if (!b)
        return GV_ENOMEM;
    b->app = app;
    backup_method_parse(cfg->backup_method, &b->method);
    backup_source_of(cfg->data_dir, b->source, sizeof(b->source));
    if (uv_async_init(app->loop, &b->done, backup_done) != 0) {
        free(b);
        return GV_ENOMEM;
    }
    b->done.data = b;
    uv_timer_init(app->loop, &b->timer);
    b->timer.data = b;
    uv_unref((uv_handle_t *)&b->done);
    uint64_t every_ms = (uint64_t)cfg->backup_every_s * 1000;
    uv_timer_start(&b->timer, on_backup_timer, every_ms, every_ms);
    uv_unref((uv_handle_t *)&b->timer);
    app->backups = b;
    log_info("backups scheduled dir=%s every_s=%lld keep=%lld method=%s", cfg->backup_dir,
             (long long)cfg->backup_every_s, (long long)cfg->backup_keep, cfg->backup_method);
    return 0;
}

void api_backups_stop(app_t *app)
{
    api_backups_t *b = app->backups;
    if (!b || b->stopping)
        return;
    b->stopping = 1;
    uv_timer_stop(&b->timer);
    uv_close((uv_handle_t *)&b->timer, NULL);
    if (b->running) /* a backup in progress finishes first (its file is kept) */
        backup_done(&b->done);
    uv_close((uv_handle_t *)&b->done, NULL);
}

void api_backups_free(app_t *app)
{
    free(app->backups);
    app->backups = NULL;
}

static int backups_series(api_backups_t *b, buf_t *out)
{
    const struct {
        const char *name, *type, *help, *labels;
        double value;
    } rows[] = {
        {"gavel_backup_last_success_timestamp_seconds", "gauge",
         "When the last scheduled backup succeeded (0: none yet).", "", b->last_success_s},
        {"gavel_backup_last_duration_seconds", "gauge", "How long the last successful backup took.",
         "", b->last_duration_s},
        {"gavel_backup_last_size_bytes", "gauge", "Size of the last successful backup file.", "",
         (double)b->last_size},
        {"gavel_backups_total", "counter", "Scheduled backups by outcome.", "{outcome=\"ok\"}",
         (double)b->ok},
        {"gavel_backups_total", NULL, NULL, "{outcome=\"failed\"}", (double)b->failed},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) && !rc; i++) {
        if (rows[i].type)
            rc = metrics_type_write(out, rows[i].name, rows[i].type, rows[i].help);
        rc = rc ? rc : buf_printf(out, "%s%s %.3f\n", rows[i].name, rows[i].labels, rows[i].value);
    }
    return rc;
}

int api_backups_metrics(app_t *app, buf_t *out)
{
    struct statvfs vfs;
    unsigned long long free_bytes =
        statvfs(app->cfg.data_dir, &vfs) == 0 ? (unsigned long long)vfs.f_bavail * vfs.f_frsize : 0;
    int rc = app->backups ? backups_series(app->backups, out) : 0;
    rc = rc ? rc
            : metrics_type_write(out, "gavel_data_free_bytes", "gauge",
                                 "Free bytes on the data directory's filesystem.");
    rc = rc ? rc : buf_printf(out, "gavel_data_free_bytes %llu\n", free_bytes);
    rc = rc ? rc
            : metrics_type_write(out, "gavel_data_writable", "gauge",
                                 "1 while the database takes writes; 0 after a write failed for "
                                 "a full disk, until a commit succeeds again.");
    rc = rc ? rc : buf_printf(out, "gavel_data_writable %d\n", store_disk_full() ? 0 : 1);
    return rc;
}
