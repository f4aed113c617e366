/* The command line's operations commands (backup, restore, check), apart from serve. Each
 * prints what it did on stdout and one clear sentence on stderr when it fails, and returns the
 * process's exit status. */
#ifndef GAVEL_CLI_CLI_H
#define GAVEL_CLI_CLI_H

#include "core/config.h"
#include "store/store.h"

#include <stdio.h>

/* cli_replay replays every auction's event log of the store st against its derived rows and
 * prints each finding on report; *bad counts auctions that disagree. 0 or GV_E* (the replay
 * could not run). Runs its own event loop, so it can be called from any command. */
int cli_replay(store_t *st, FILE *report, int *bad);

/* gavel backup --data DIR (--out FILE | --backup-dir BDIR) [--backup-method pages|vacuum] and
 * gavel backup list --backup-dir BDIR. pos/npos: the positional arguments after "backup". */
int cli_backup(const config_t *cfg, char **pos, int npos);

/* gavel restore --data DIR --from FILE|latest [--backup-dir BDIR] [--force]. */
int cli_restore(const config_t *cfg);

#endif
