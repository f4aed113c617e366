/* gavel backup, gavel backup list and gavel restore (see cli.h). */
#include "cli/cli.h"

#include "core/err.h"
#include "ops/backup.h"
#include "ops/datadir.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A progress line on a terminal: the phase and its percentage, redrawn in place. */
static void on_progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    int *last = ctx;
    int pct = total ? (int)(done * 100 / total) : 100;
    int key = (phase[0] << 8) | pct;
    if (key == *last)
        return;
    *last = key;
    fprintf(stderr, "\r\033[K%s %3d%%", phase, pct);
    fflush(stderr);
}

static void progress_end(int tty)
{
    if (tty)
        fprintf(stderr, "\r\033[K");
}

static void print_header(const char *name, const backup_header_t *h)
{
    printf("%s  created %s  schema %d  database %llu bytes  file %llu bytes  from %s\n", name,
           h->created, h->schema, (unsigned long long)h->bytes, (unsigned long long)h->file_size,
           h->source);
}

static int backup_list_cmd(const config_t *cfg)
{
    if (!cfg->backup_dir[0]) {
        fprintf(stderr, "usage: gavel backup list --backup-dir DIR\n");
        return 2;
    }
    backup_entry_t *v = NULL;
    size_t n = 0;
    int rc = backup_list(cfg->backup_dir, &v, &n);
    if (rc) {
        fprintf(stderr, "gavel: cannot list the backups in %s (%s)\n", cfg->backup_dir,
                rc == GV_ENOT_FOUND ? "no such directory" : err_name(rc));
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        print_header(v[i].name, &v[i].hdr);
    if (n == 0)
        printf("no backups in %s\n", cfg->backup_dir);
    free(v);
    return 0;
}

/* Opens the existing database of data_dir without creating one. 0 or 1 after saying why. */
static int open_existing(const char *data_dir, store_t **s)
{
    char db[4200], why[256];
    struct stat st;
    snprintf(db, sizeof(db), "%s/%s", data_dir, STORE_DB_FILE);
    if (stat(db, &st) != 0) {
        fprintf(stderr, "gavel: there is no database to back up in %s (no %s)\n", data_dir,
                STORE_DB_FILE);
        return 1;
    }
    int rc = store_open_why(s, data_dir, why, sizeof(why));
    if (rc)
        fprintf(stderr, "gavel: cannot open the database %s (%s)\n", db, why);
    return rc ? 1 : 0;
}

int cli_backup(const config_t *cfg, char **pos, int npos)
{
    store_snapshot_method_t method;
    if (npos == 1 && !strcmp(pos[0], "list"))
        return backup_list_cmd(cfg);
    if (npos != 0 || (!cfg->out[0] && !cfg->backup_dir[0]) ||
        backup_method_parse(cfg->backup_method, &method) != 0) {
        fprintf(stderr, "usage: gavel backup --data DIR (--out FILE | --backup-dir DIR) "
                        "[--backup-method pages|vacuum] | gavel backup list --backup-dir DIR\n");
        return 2;
    }
    char out[4200], source[600], why[512];
    if (cfg->out[0])
        snprintf(out, sizeof(out), "%s", cfg->out);
    else
        backup_dated_path(cfg->backup_dir, out, sizeof(out));
    store_t *s = NULL;
    if (open_existing(cfg->data_dir, &s) != 0)
        return 1;
    backup_source_of(cfg->data_dir, source, sizeof(source));
    backup_yield_priority(); /* a server may be taking bids on this database */
    int tty = isatty(STDERR_FILENO), last = -1;
    backup_header_t h;
    double t0 = mono_s();
    int rc = backup_create(s, out, source, method, tty ? on_progress : NULL, &last, &h, why,
                           sizeof(why));
    progress_end(tty);
    store_close(s);
    if (rc) {
        fprintf(stderr, "gavel: backup to %s failed: %s\n", out, why);
        return 1;
    }
    printf("backup %s: schema %d, database %llu bytes, file %llu bytes, sha256 %s, %.2f s\n", out,
           h.schema, (unsigned long long)h.bytes, (unsigned long long)h.file_size, h.sha256,
           mono_s() - t0);
    return 0;
}

/* restore's further check of the copy: every auction's log replays to its derived rows. */
static int replay_check(void *ctx, const char *dir, char *why, size_t n)
{
    (void)ctx;
    store_t *s = NULL;
    char detail[256];
    int bad = 0;
    int rc = store_open_why(&s, dir, detail, sizeof(detail));
    rc = rc ? rc : cli_replay(s, stderr, &bad);
    store_close(s);
    if (rc)
        snprintf(why, n, "the backup's auction logs cannot be replayed (%s)", err_name(rc));
    else if (bad)
        snprintf(why, n, "%d auction(s) of the backup disagree with their event log", bad);
    return rc ? rc : bad ? GV_EDB_CORRUPT : 0;
}

/* --from latest: the newest backup of --backup-dir. 0 or 1 after saying why. */
static int resolve_latest(const config_t *cfg, char *out, size_t n)
{
    backup_entry_t *v = NULL;
    size_t count = 0;
    if (!cfg->backup_dir[0]) {
        fprintf(stderr, "gavel: --from latest needs --backup-dir DIR\n");
        return 1;
    }
    int rc = backup_list(cfg->backup_dir, &v, &count);
    if (rc || count == 0)
        fprintf(stderr, "gavel: no backup found in %s\n", cfg->backup_dir);
    else
        snprintf(out, n, "%s/%s", cfg->backup_dir, v[0].name);
    free(v);
    return rc || count == 0 ? 1 : 0;
}

int cli_restore(const config_t *cfg)
{
    char from[4400], why[600], aside[4400];
    if (!cfg->from[0]) {
        fprintf(stderr, "usage: gavel restore --data DIR --from FILE|latest [--backup-dir DIR] "
                        "[--force]\n");
        return 2;
    }
    if (!strcmp(cfg->from, "latest")) {
        if (resolve_latest(cfg, from, sizeof(from)) != 0)
            return 1;
    } else {
        snprintf(from, sizeof(from), "%s", cfg->from);
    }
    int tty = isatty(STDERR_FILENO), last = -1;
    restore_opts_t o = {.dir = cfg->data_dir,
                        .from = from,
                        .force = cfg->force,
                        .progress = tty ? on_progress : NULL,
                        .progress_ctx = &last,
                        .check = replay_check};
    backup_header_t h;
    double t0 = mono_s();
    int rc = restore_run(&o, &h, aside, sizeof(aside), why, sizeof(why));
    progress_end(tty);
    if (rc && aside[0]) /* it failed after the database there was moved aside */
        fprintf(stderr, "gavel: restore from %s failed: %s. The previous database is %s.\n", from,
                why, aside);
    else if (rc)
        fprintf(stderr, "gavel: restore from %s refused: %s. %s was not changed.\n", from, why,
                cfg->data_dir);
    if (rc)
        return 1;
    printf("restored %s (created %s, schema %d, %llu bytes) into %s in %.2f s\n", from, h.created,
           h.schema, (unsigned long long)h.bytes, cfg->data_dir, mono_s() - t0);
    if (aside[0])
        printf("the previous database is kept as %s\n", aside);
    return 0;
}
