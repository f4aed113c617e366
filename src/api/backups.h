/* Scheduled backups inside `gavel serve` (--backup-dir, --backup-every-s, --backup-keep), taken on
 * the thread pool with their own database connection so no loop turn waits for them, and the
 * data directory's health: free space and whether the database takes writes. */
#ifndef GAVEL_API_BACKUPS_H
#define GAVEL_API_BACKUPS_H

#include "api/app.h"

/* api_backups_check validates the backup flags of cfg before anything starts: 0, or -1 with why
 * (size n) set. */
int api_backups_check(const config_t *cfg, char *why, size_t n);

/* api_backups_start arms the schedule when --backup-every-s > 0 (app->backups stays NULL
 * otherwise). 0 or GV_ENOMEM / GV_EIO (the backup directory cannot be made). */
int api_backups_start(app_t *app);

/* api_backups_stop stops the schedule; a backup in progress finishes (the loop runs until it
 * does). */
void api_backups_stop(app_t *app);

/* api_backups_free releases what api_backups_start made, after the loop ended. */
void api_backups_free(app_t *app);

/* api_backups_metrics appends the backup series (when scheduled) and the data directory's
 * gauges (gavel_data_free_bytes, gavel_data_writable) to a /metrics body. 0 or GV_ENOMEM. */
int api_backups_metrics(app_t *app, buf_t *out);

#endif
