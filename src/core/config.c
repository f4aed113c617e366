/* Table-driven flags: one row per flag gives its type, field and help. */
#include "core/config.h"

#include "core/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { CFG_STR, CFG_INT, CFG_BOOL, CFG_DOUBLE } cfg_type_t;

typedef struct {
    const char *name; /* flag without "--" */
    cfg_type_t type;
    size_t offset;
    size_t size; /* for strings */
    int64_t min, max;
    const char *help;
} cfg_flag_t;

static const cfg_flag_t cfg_flags[] = {
    {"listen", CFG_STR, offsetof(config_t, listen), sizeof(((config_t *)0)->listen), 0, 0,
     "host:port to listen on (port 0 picks a free one)"},
    {"data", CFG_STR, offsetof(config_t, data_dir), sizeof(((config_t *)0)->data_dir), 0, 0,
     "directory of the database and generated secrets"},
    {"store", CFG_STR, offsetof(config_t, store), sizeof(((config_t *)0)->store), 0, 0,
     "a postgres:// URI: the database is PostgreSQL's, not SQLite's in --data"},
    {"web", CFG_STR, offsetof(config_t, web_dir), sizeof(((config_t *)0)->web_dir), 0, 0,
     "directory of the built web app to serve"},
    {"dev", CFG_BOOL, offsetof(config_t, dev), 0, 0, 1, "development mode"},
    {"magic-link-ttl-s", CFG_INT, offsetof(config_t, magic_link_ttl_s), 0, 1, 86400,
     "sign-in link lifetime"},
    {"access-ttl-s", CFG_INT, offsetof(config_t, access_ttl_s), 0, 1, 86400, "access token life"},
    {"refresh-ttl-s", CFG_INT, offsetof(config_t, refresh_ttl_s), 0, 1, 31536000,
     "refresh token lifetime"},
    {"rate-limit-scale", CFG_DOUBLE, offsetof(config_t, rate_limit_scale), 0, 0, 1000000,
     "multiplies every rate limit; 0 turns them off (tests only)"},
    {"cors-origin", CFG_STR, offsetof(config_t, cors_origin), sizeof(((config_t *)0)->cors_origin),
     0, 0, "comma-separated origins allowed by CORS"},
    {"trust-proxy", CFG_BOOL, offsetof(config_t, trust_proxy), 0, 0, 1,
     "take the client address from X-Forwarded-For"},
    {"smtp-url", CFG_STR, offsetof(config_t, smtp_url), sizeof(((config_t *)0)->smtp_url), 0, 0,
     "smtp:// or smtps:// server for sign-in mail"},
    {"mail-from", CFG_STR, offsetof(config_t, mail_from), sizeof(((config_t *)0)->mail_from), 0, 0,
     "sender address of sign-in mail"},
    {"public-url", CFG_STR, offsetof(config_t, public_url), sizeof(((config_t *)0)->public_url), 0,
     0, "the URL users reach the app at"},
    {"admin-email", CFG_STR, offsetof(config_t, admin_email), sizeof(((config_t *)0)->admin_email),
     0, 0, "make this user an admin at start"},
    {"max-connections", CFG_INT, offsetof(config_t, max_connections), 0, 1, 1000000,
     "HTTP + WebSocket connections before new ones are refused"},
    {"header-timeout-ms", CFG_INT, offsetof(config_t, header_timeout_ms), 0, 1, 3600000,
     "time allowed for a request's headers"},
    {"idle-timeout-ms", CFG_INT, offsetof(config_t, idle_timeout_ms), 0, 1, 3600000,
     "keep-alive idle and body inactivity timeout"},
    {"ws-ping-interval-ms", CFG_INT, offsetof(config_t, ws_ping_interval_ms), 0, 1, 3600000,
     "WebSocket ping interval"},
    {"ws-idle-timeout-ms", CFG_INT, offsetof(config_t, ws_idle_timeout_ms), 0, 1, 3600000,
     "close WebSockets silent this long"},
    {"ws-auth-timeout-ms", CFG_INT, offsetof(config_t, ws_auth_timeout_ms), 0, 1, 3600000,
     "time allowed for a WebSocket's auth message"},
    {"ws-max-output-bytes", CFG_INT, offsetof(config_t, ws_max_output_bytes), 0, 1024, 1073741824,
     "unsent output that closes a WebSocket with 1008"},
    {"log-level", CFG_STR, offsetof(config_t, log_level), sizeof(((config_t *)0)->log_level), 0, 0,
     "debug, info, warn, error or off"},
    {"access-log", CFG_BOOL, offsetof(config_t, access_log), 0, 0, 1,
     "one log line per HTTP request (default on)"},
    {"league", CFG_STR, offsetof(config_t, league), sizeof(((config_t *)0)->league), 0, 0,
     "fixtures or stats import: the league's id"},
    {"provider", CFG_STR, offsetof(config_t, provider), sizeof(((config_t *)0)->provider), 0, 0,
     "fixtures import: csv or football-data; stats import: csv or cricsheet"},
    {"match-id", CFG_STR, offsetof(config_t, match_id), sizeof(((config_t *)0)->match_id), 0, 0,
     "stats import --provider cricsheet: the external match id (default: date and teams)"},
    {"partial", CFG_BOOL, offsetof(config_t, partial), 0, 0, 1,
     "fixtures or stats import: keep the good rows when some are bad"},
    {"football-data-token", CFG_STR, offsetof(config_t, football_data_token),
     sizeof(((config_t *)0)->football_data_token), 0, 0,
     "turns the periodic Football-Data.org sync on (prefer the env var)"},
    {"football-data-url", CFG_STR, offsetof(config_t, football_data_url),
     sizeof(((config_t *)0)->football_data_url), 0, 0, "Football-Data.org base URL"},
    {"sync-every-s", CFG_INT, offsetof(config_t, sync_every_s), 0, 1, 86400,
     "sync: each competition once per this many seconds"},
    {"sync-max-requests", CFG_INT, offsetof(config_t, sync_max_requests), 0, 1, 1000,
     "sync: at most this many provider requests per window"},
    {"sync-window-s", CFG_INT, offsetof(config_t, sync_window_s), 0, 1, 3600,
     "sync: the rate-limit window"},
    {"sync-timeout-s", CFG_INT, offsetof(config_t, sync_timeout_s), 0, 1, 600,
     "sync: time allowed for one provider request"},
    {"log-format", CFG_STR, offsetof(config_t, log_format), sizeof(((config_t *)0)->log_format), 0,
     0, "logfmt (key=value, default) or json (one object per line)"},
    {"sentry-dsn", CFG_STR, offsetof(config_t, sentry_dsn), sizeof(((config_t *)0)->sentry_dsn), 0,
     0, "also send error reports to this Sentry DSN (prefer the env var)"},
    {"backup-dir", CFG_STR, offsetof(config_t, backup_dir), sizeof(((config_t *)0)->backup_dir), 0,
     0, "directory of scheduled backups (serve), of backup list and restore --from latest"},
    {"backup-every-s", CFG_INT, offsetof(config_t, backup_every_s), 0, 0, 604800,
     "serve: take a backup into --backup-dir every N seconds (0: never)"},
    {"backup-keep", CFG_INT, offsetof(config_t, backup_keep), 0, 1, 100000,
     "serve: keep the newest N scheduled backups"},
    {"out", CFG_STR, offsetof(config_t, out), sizeof(((config_t *)0)->out), 0, 0,
     "backup: the file to write"},
    {"from", CFG_STR, offsetof(config_t, from), sizeof(((config_t *)0)->from), 0, 0,
     "restore: the backup file, or latest (the newest in --backup-dir)"},
    {"backup-method", CFG_STR, offsetof(config_t, backup_method),
     sizeof(((config_t *)0)->backup_method), 0, 0,
     "backup: pages (online copy, default) or vacuum (a compacted copy)"},
    {"force", CFG_BOOL, offsetof(config_t, force), 0, 0, 1,
     "restore: replace the database in --data (the old one is kept aside)"},
    {"node-id", CFG_STR, offsetof(config_t, node_id), sizeof(((config_t *)0)->node_id), 0, 0,
     "serve: this node's name in a cluster (with --store postgres://... and --redis)"},
    {"redis", CFG_STR, offsetof(config_t, redis), sizeof(((config_t *)0)->redis), 0, 0,
     "serve: redis://HOST:PORT carrying events and forwarded commands between nodes"},
    {"lease-ms", CFG_INT, offsetof(config_t, lease_ms), 0, 300, 600000,
     "serve: an auction's owner node must renew its lease within this time"},
};

#define CFG_NFLAGS (sizeof(cfg_flags) / sizeof(cfg_flags[0]))

const char *config_store_where(const config_t *c)
{
    return c->store[0] ? c->store : c->data_dir;
}

const char *config_cluster_check(const config_t *c)
{
    if (!c->node_id[0])
        return c->redis[0] ? "--redis is for a cluster: give this node a --node-id too." : "";
    if (strspn(c->node_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
        strlen(c->node_id))
        return "--node-id is 1 to 40 letters, digits, '_' or '-'.";
    if (strncmp(c->store, "postgres://", 11) != 0 && strncmp(c->store, "postgresql://", 13) != 0)
        return "A cluster node needs the shared database: --store postgres://...";
    if (!c->redis[0])
        return "A cluster node needs --redis redis://HOST:PORT.";
    return "";
}

void config_defaults(config_t *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->listen, sizeof(c->listen), "127.0.0.1:8080");
    snprintf(c->data_dir, sizeof(c->data_dir), "./var");
    snprintf(c->log_level, sizeof(c->log_level), "info");
    c->magic_link_ttl_s = 900;
    c->access_ttl_s = 900;
    c->refresh_ttl_s = 2592000;
    c->rate_limit_scale = 1.0;
    c->max_connections = 20000;
    c->header_timeout_ms = 10000;
    c->idle_timeout_ms = 60000;
    c->ws_ping_interval_ms = 20000;
    c->ws_idle_timeout_ms = 60000;
    c->ws_auth_timeout_ms = 10000;
    c->ws_max_output_bytes = 4 * 1024 * 1024;
    c->access_log = 1;
    snprintf(c->football_data_url, sizeof(c->football_data_url), "https://api.football-data.org");
    c->sync_every_s = 300;
    c->sync_max_requests = 10; /* the provider's free tier: 10 requests a minute */
    c->sync_window_s = 60;
    c->sync_timeout_s = 30;
    c->lease_ms = 5000;
    snprintf(c->log_format, sizeof(c->log_format), "logfmt");
    c->backup_every_s = 0;
    c->backup_keep = 7;
    snprintf(c->backup_method, sizeof(c->backup_method), "pages");
}

static int cfg_bool(const char *v, int *out)
{
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
        *out = 1;
    else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
        *out = 0;
    else
        return GV_EINVALID_REQUEST;
    return 0;
}

/* Stores the text value v into the field of flag f. */
static int cfg_set(config_t *c, const cfg_flag_t *f, const char *v, char *err, size_t n)
{
    char *field = (char *)c + f->offset;
    char *end = NULL;
    errno = 0;
    switch (f->type) {
    case CFG_STR:
        if (strlen(v) >= f->size)
            break;
        memcpy(field, v, strlen(v) + 1);
        return 0;
    case CFG_BOOL:
        if (cfg_bool(v, (int *)(void *)field) == 0)
            return 0;
        break;
    case CFG_INT: {
        long long x = strtoll(v, &end, 10);
        if (errno || end == v || *end || x < f->min || x > f->max)
            break;
        *(int64_t *)(void *)field = x;
        return 0;
    }
    case CFG_DOUBLE: {
        double x = strtod(v, &end);
        if (errno || end == v || *end || !(x >= (double)f->min && x <= (double)f->max))
            break;
        *(double *)(void *)field = x;
        return 0;
    }
    }
    snprintf(err, n, "invalid value for --%s: %.100s", f->name, v);
    return GV_EINVALID_REQUEST;
}

static const cfg_flag_t *cfg_find(const char *name, size_t len)
{
    for (size_t i = 0; i < CFG_NFLAGS; i++)
        if (strlen(cfg_flags[i].name) == len && !memcmp(cfg_flags[i].name, name, len))
            return &cfg_flags[i];
    return NULL;
}

static int cfg_from_env(config_t *c, char *err, size_t n)
{
    for (size_t i = 0; i < CFG_NFLAGS; i++) {
        char var[64] = "GAVEL_";
        size_t k = 6;
        for (const char *p = cfg_flags[i].name; *p && k < sizeof(var) - 1; p++)
            var[k++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        var[k] = '\0';
        const char *v = getenv(var);
        if (v && *v && cfg_set(c, &cfg_flags[i], v, err, n) != 0)
            return GV_EINVALID_REQUEST;
    }
    return 0;
}

int config_parse(config_t *c, int argc, char **argv, int first, char **pos, int max_pos, int *npos,
                 char *err, size_t n)
{
    *npos = 0;
    if (cfg_from_env(c, err, n) != 0)
        return GV_EINVALID_REQUEST;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            if (*npos >= max_pos) {
                snprintf(err, n, "unexpected argument: %.100s", a);
                return GV_EINVALID_REQUEST;
            }
            pos[(*npos)++] = argv[i];
            continue;
        }
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        const cfg_flag_t *f = cfg_find(a + 2, len);
        if (!f) {
            snprintf(err, n, "unknown flag: %.100s", a);
            return GV_EINVALID_REQUEST;
        }
        const char *v = eq ? eq + 1 : NULL;
        int flag_only = 0;
        if (!v && f->type == CFG_BOOL) /* "--dev" alone, or "--access-log 0" */
            flag_only = i + 1 >= argc || cfg_bool(argv[i + 1], &(int){0}) != 0;
        if (flag_only)
            v = "1";
        else if (!v && i + 1 < argc)
            v = argv[++i];
        if (!v) {
            snprintf(err, n, "--%s needs a value", f->name);
            return GV_EINVALID_REQUEST;
        }
        if (cfg_set(c, f, v, err, n) != 0)
            return GV_EINVALID_REQUEST;
    }
    return 0;
}

void config_usage(void *fp)
{
    FILE *f = fp;
    for (size_t i = 0; i < CFG_NFLAGS; i++)
        fprintf(f, "  --%-22s %s\n", cfg_flags[i].name, cfg_flags[i].help);
}
