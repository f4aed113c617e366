/* Server configuration: command-line flags, each also read from GAVEL_<FLAG> (flags win). */
#ifndef GAVEL_CORE_CONFIG_H
#define GAVEL_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char listen[128];
    char data_dir[512];
    char store[1024]; /* "" (SQLite in data_dir) or a postgres:// URI */
    char web_dir[512];
    int dev;
    int64_t magic_link_ttl_s;
    int64_t access_ttl_s;
    int64_t refresh_ttl_s;
    double rate_limit_scale;
    char cors_origin[1024];
    int trust_proxy;
    char smtp_url[512];
    char mail_from[256];
    char public_url[512];
    char admin_email[256];
    int64_t max_connections;
    int64_t header_timeout_ms;
    int64_t idle_timeout_ms;
    int64_t ws_ping_interval_ms;
    int64_t ws_idle_timeout_ms;
    int64_t ws_auth_timeout_ms;
    int64_t ws_max_output_bytes;
    char log_level[16];
    int access_log;
    char league[64];               /* gavel fixtures import: the league */
    char provider[32];             /* gavel fixtures|stats import: csv (default) or a provider */
    char match_id[128];            /* gavel stats import --provider cricsheet: the match's id */
    int partial;                   /* gavel fixtures import: keep the good rows */
    char football_data_token[256]; /* serve: turns the Football-Data.org sync on */
    char football_data_url[512];   /* serve: the provider's base URL */
    int64_t sync_every_s;          /* serve: each competition once per this many seconds */
    int64_t sync_max_requests;     /* serve: at most this many provider requests ... */
    int64_t sync_window_s;         /* serve: ... in any window of this many seconds */
    int64_t sync_timeout_s;        /* serve: one provider request, all included */
    char log_format[16];           /* logfmt (default) or json */
    char sentry_dsn[512];          /* serve: error reports also sent to this Sentry DSN */
    char backup_dir[512];   /* serve: scheduled backups; backup list; restore --from latest */
    int64_t backup_every_s; /* serve: one backup per this many seconds (0: none) */
    int64_t backup_keep;    /* serve: the newest this many scheduled backups are kept */
    char out[512];          /* gavel backup: the file written */
    char from[512];         /* gavel restore: a backup file, or "latest" of --backup-dir */
    int force;              /* gavel restore: replace an existing database */
    char backup_method[16]; /* gavel backup, scheduled backups: pages or vacuum */
    char node_id[41];       /* serve: this node's name in a cluster ("" : one node alone) */
    char redis[512];        /* serve: redis://HOST:PORT, the cluster's messages */
    int64_t lease_ms;       /* serve: how long an auction's owner holds it without renewing */
} config_t;

/* config_defaults fills every field with its documented default. */
void config_defaults(config_t *c);

/* config_parse reads the environment (GAVEL_*) then argv[first..argc) flags into c. On error
 * writes a human message into err (size n) and returns GV_EINVALID_REQUEST. Positional
 * arguments are stored in pos (up to max_pos) and counted in *npos. */
int config_parse(config_t *c, int argc, char **argv, int first, char **pos, int max_pos, int *npos,
                 char *err, size_t n);

/* config_store_where: where the store lives, as store_open takes it (store.h): --store when
 * given, else the data directory. */
const char *config_store_where(const config_t *c);

/* config_cluster_check: "" when the cluster flags fit together (--node-id needs --store
 * postgres://... and --redis; --redis needs --node-id; a node id is 1-40 bytes of
 * [A-Za-z0-9_-]), else the reason (static text). */
const char *config_cluster_check(const config_t *c);

/* config_usage writes the flag list with defaults to f (a FILE*). */
void config_usage(void *f);

#endif
