/* gavel: the command line (serve, migrate, version) and the server's start and graceful stop. */
#include "api/app.h"
#include "api/backups.h"
#include "api/forward.h"
#include "net/bus.h"
#include "api/report_api.h"
#include "auth/account.h"
#include "auction/service.h"
#include "auth/token.h"
#include "cli/cli.h"
#include "core/err.h"
#include "core/log.h"
#include "league/catalogue.h"
#include "ops/datadir.h"
#include "report/crash.h"
#include "season/season.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_MS 10000

static app_t g_app;

static int make_admin(app_t *app, const char *raw);
static uv_signal_t g_sigterm, g_sigint;
static uv_timer_t g_force;
static uv_prepare_t g_log_flush;
static int g_pending_stops;

static void usage(FILE *f)
{
    fprintf(f, "usage: gavel serve [flags] | gavel migrate --data DIR | gavel user admin EMAIL "
               "--data DIR | gavel import --data DIR KIND FILE | gavel fixtures import --data DIR "
               "--league ID [--provider csv|football-data] [--partial 1] FILE | gavel stats "
               "import --data DIR --league ID [--provider csv|cricsheet] [--match-id ID] "
               "[--partial 1] FILE | gavel check --data DIR | gavel backup --data DIR --out FILE | "
               "gavel backup list --backup-dir DIR | gavel restore --data DIR --from FILE|latest "
               "[--force] | gavel version\n\nflags (each also "
               "GAVEL_<FLAG>):\n");
    config_usage(f);
}

/* Splits "host:port" or "[v6]:port". 0 or GV_EINVALID_REQUEST. */
static int parse_listen(const char *s, char *host, size_t n, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return GV_EINVALID_REQUEST;
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']')
        h++, hl -= 2;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (hl == 0 || hl >= n || *end || end == colon + 1 || p < 0 || p > 65535)
        return GV_EINVALID_REQUEST;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)p;
    return 0;
}

/* Tells the operator, in one sentence on stderr (and one log line), why the store cannot be used:
 * which file, what the database said, and what to do next. */
static void store_failure(const app_t *app, const char *step, int rc, const char *detail)
{
    const char *dir = app->cfg.data_dir;
    char file[600], say[2400];
    snprintf(file, sizeof(file), "%.500s/%s", dir, STORE_DB_FILE);
    char one_line[512];
    snprintf(one_line, sizeof(one_line), "%s", detail && detail[0] ? detail : err_message(rc));
    for (char *c = one_line; *c; c++)
        *c = (unsigned char)*c < 0x20 ? ' ' : *c; /* SQLite's findings may span lines */
    detail = one_line;
    if (app->cfg.store[0]) /* the URI may hold a password: not repeated */
        snprintf(say, sizeof(say),
                 "%s the PostgreSQL database of --store failed (%s: %s). Check that the server "
                 "runs, that --store names it, and that this user may create tables there.",
                 step, err_name(rc), detail);
    else if (rc == GV_EDB_CORRUPT)
        snprintf(say, sizeof(say),
                 "the database file %s is damaged or is not a Gavel database (SQLite: %s). Nothing "
                 "was changed. Stop every gavel using --data %s, then restore the file from your "
                 "last backup, or move it aside to start with an empty database.",
                 file, detail, dir);
    else if (rc == GV_EDB_BUSY)
        snprintf(say, sizeof(say),
                 "the database file %s is locked by another process (SQLite: %s). Stop the other "
                 "gavel using --data %s, then try again.",
                 file, detail, dir);
    else if (rc == GV_EIO)
        snprintf(say, sizeof(say),
                 "the data directory %s cannot be used (%s). Check that it exists and that this "
                 "user may write to it.",
                 dir, detail);
    else
        snprintf(say, sizeof(say), "%s failed for the database file %s (%s: %s).", step, file,
                 err_name(rc), detail);
    log_error("store unusable step=%s dir=%s err=%s detail=\"%s\"", step, dir, err_name(rc),
              detail);
    log_flush();
    fprintf(stderr, "gavel: %s\n", say);
}

/* Refuses what works on SQLite's file only when --store names PostgreSQL: backup, restore and
 * check, and scheduled backups (PostgreSQL's own tools back it up and check it). 0 or -1 after
 * saying why. */
static int store_conflict(const config_t *cfg, const char *cmd)
{
    if (cfg->store[0] && !store_is_uri(cfg->store)) {
        fprintf(stderr, "gavel: --store must be a postgres:// or postgresql:// URI (without it, "
                        "the database is SQLite's, in --data)\n");
        return -1;
    }
    int file_only = !strcmp(cmd, "backup") || !strcmp(cmd, "restore") || !strcmp(cmd, "check");
    if (cfg->store[0] && (file_only || cfg->backup_every_s > 0)) {
        fprintf(stderr,
                "gavel: %s works on the SQLite database in --data; a PostgreSQL store is "
                "backed up with pg_dump and checked with PostgreSQL's own tools\n",
                file_only ? cmd : "--backup-every-s");
        return -1;
    }
    return 0;
}

static int open_store(app_t *app)
{
    int applied = 0;
    char why[256];
    int rc = store_open_why(&app->store, config_store_where(&app->cfg), why, sizeof(why));
    if (rc) {
        store_failure(app, "opening", rc, why);
        return rc;
    }
    rc = store_migrate(app->store, &applied);
    if (rc) {
        store_failure(app, "migrating", rc, store_errmsg(app->store));
        store_close(app->store);
        app->store = NULL;
        return rc;
    }
    log_info("store ready kind=%s dir=%s migrations_applied=%d", store_kind(app->store),
             app->cfg.store[0] ? "-" : app->cfg.data_dir, applied);
    return 0;
}

static void stop_step_done(void)
{
    if (--g_pending_stops > 0)
        return;
    auction_service_stop(g_app.auctions); /* flushes what is pending, stops the timers */
    api_forward_stop(&g_app);             /* what waits for another node: 503 */
    if (g_app.bus)
        bus_close(g_app.bus);
    uv_timer_stop(&g_force);
    uv_close((uv_handle_t *)&g_force, NULL);
    uv_close((uv_handle_t *)&g_log_flush, NULL);
    uv_close((uv_handle_t *)&g_sigterm, NULL);
    uv_close((uv_handle_t *)&g_sigint, NULL);
}

static void on_http_stopped(http_server_t *s, void *ctx)
{
    (void)s;
    (void)ctx;
    stop_step_done();
}

static void on_ws_stopped(ws_server_t *s, void *ctx)
{
    (void)s;
    (void)ctx;
    stop_step_done();
}

static void on_force(uv_timer_t *t)
{
    (void)t;
    log_warn("shutdown grace period over; exiting");
    uv_stop(t->loop);
}

static void on_signal(uv_signal_t *sig, int signum)
{
    app_t *app = sig->data;
    if (g_pending_stops)
        return;
    log_info("shutdown signal=%d", signum);
    app->ready = 0;
    g_pending_stops = 2;
    api_season_sync_stop(app); /* a request in flight gives up within about a second */
    api_backups_stop(app);     /* one in progress finishes first */
    uv_timer_start(&g_force, on_force, SHUTDOWN_GRACE_MS, 0);
    ws_server_shutdown(app->ws, on_ws_stopped, app);
    http_server_shutdown(app->http, on_http_stopped, app);
}

static void app_limits(const config_t *cfg, http_limits_t *hl, ws_limits_t *wl)
{
    http_limits_defaults(hl);
    hl->max_connections = (size_t)cfg->max_connections;
    hl->header_timeout_ms = (uint64_t)cfg->header_timeout_ms;
    hl->idle_timeout_ms = (uint64_t)cfg->idle_timeout_ms;
    hl->trust_proxy = cfg->trust_proxy;
    hl->cors_dev = cfg->dev;
    hl->cors_origins = cfg->cors_origin[0] ? cfg->cors_origin : NULL;
    hl->access_log = cfg->access_log;
    ws_limits_defaults(wl);
    wl->ping_interval_ms = (uint64_t)cfg->ws_ping_interval_ms;
    wl->idle_timeout_ms = (uint64_t)cfg->ws_idle_timeout_ms;
    wl->auth_timeout_ms = (uint64_t)cfg->ws_auth_timeout_ms;
    wl->max_output = (size_t)cfg->ws_max_output_bytes;
}

/* Builds the servers and starts listening; prints the URL. */
static int app_start(app_t *app, const char *host, int port)
{
    http_limits_t hl;
    ws_limits_t wl;
    app_limits(&app->cfg, &hl, &wl);
    router_init(&app->router);
    if (app->cfg.web_dir[0] && static_site_new(&app->site, app->cfg.web_dir) != 0) {
        log_error("web directory unusable dir=%s", app->cfg.web_dir);
        return GV_EIO;
    }
    app->hub = hub_new();
    const char *where = config_store_where(&app->cfg);
    int rc = app->hub ? store_open(&app->commit_store, where) : GV_ENOMEM;
    /* SQLite's log is copied back by a checkpointer of its own; PostgreSQL checkpoints itself */
    if (!rc && !store_is_uri(where))
        rc = store_open(&app->checkpoint_store, where);
    /* the writer appends (it needs the upper levels of the trees), the checkpointer copies */
    rc = rc ? rc : store_cache_limit(app->commit_store, 16 * 1024);
    if (!rc && app->checkpoint_store) {
        rc = store_cache_limit(app->checkpoint_store, 1024);
        /* a restart checkpoint holds writers off while it waits for readers: never for long (a
         * backup's read transaction may last seconds) */
        rc = rc ? rc : store_busy_limit(app->checkpoint_store, 5);
    }
    /* a cluster's node: the periodic look at the leases reads on a connection of its own */
    if (!rc && app->cfg.node_id[0]) {
        rc = store_open(&app->look_store, where);
        /* a renewal lost in a crash only shortens a lease; one that waited for its flush would
         * hold every row of this node's auctions from the writer meanwhile */
        rc = rc ? rc : store_lazy_commits(app->look_store);
    }
    auction_deps_t deps = {app->loop, app->store,     app->commit_store, app->checkpoint_store,
                           app->hub,  &app->clock,    app->cfg.node_id,  app->cfg.lease_ms,
                           NULL,      app->look_store};
    rc = rc ? rc : api_forward_start(app);
    rc = rc ? rc : api_forward_bus_new(app);
    deps.bus = app->bus;
    rc = rc ? rc : auction_service_new(&app->auctions, &deps);
    rc = rc ? rc : auction_service_recover(app->auctions);
    if (rc) {
        log_error("auction recovery failed err=%s", err_name(rc));
        return rc;
    }
    rc = api_routes_register(app);
    if (rc)
        return rc;
    app->http = http_server_new(app->loop, &app->router, &hl);
    app->ws = app->http ? ws_server_new(app->http, &wl, api_ws_handlers(), app) : NULL;
    if (!app->ws)
        return GV_ENOMEM;
    http_server_set_observer(app->http, api_ops_observe, app);
    store_set_commit_observer(app->store, api_ops_db_commit, app);
    int bound = 0;
    rc = http_server_listen(app->http, host, port, &bound);
    if (rc) {
        log_error("listen failed address=%s", app->cfg.listen);
        return rc;
    }
    int v6 = strchr(host, ':') != NULL;
    if (!app->cfg.public_url[0]) /* development mode: links point at this server */
        snprintf(app->cfg.public_url, sizeof(app->cfg.public_url), "http://%s%s%s:%d",
                 v6 ? "[" : "", host, v6 ? "]" : "", bound);
    printf("gavel listening on http://%s%s%s:%d\n", v6 ? "[" : "", host, v6 ? "]" : "", bound);
    fflush(stdout);
    log_info("listening host=%s port=%d version=%s", host, bound, gavel_version);
    return 0;
}

/* Access-log lines of one loop turn go out in one write, just before the loop waits. */
static void on_log_flush(uv_prepare_t *p)
{
    api_ops_loop_turn(p->data);
    log_flush();
}

static void app_signals(app_t *app)
{
    uv_prepare_init(app->loop, &g_log_flush);
    g_log_flush.data = app;
    uv_prepare_start(&g_log_flush, on_log_flush);
    log_set_buffered(1);
    uv_signal_init(app->loop, &g_sigterm);
    uv_signal_init(app->loop, &g_sigint);
    uv_timer_init(app->loop, &g_force);
    g_sigterm.data = g_sigint.data = app;
    uv_signal_start(&g_sigterm, on_signal, SIGTERM);
    uv_signal_start(&g_sigint, on_signal, SIGINT);
}

static void app_free(app_t *app)
{
    api_backups_free(app);
    api_season_sync_free(app);
    api_auth_stop(app);
    api_season_stop(app);
    auction_service_free(app->auctions);
    app->auctions = NULL;
    api_forward_free(app);
    store_close(app->commit_store);
    store_close(app->checkpoint_store);
    store_close(app->look_store);
    app->commit_store = app->checkpoint_store = app->look_store = NULL;
    ws_server_free(app->ws);
    hub_free(app->hub);
    http_server_free(app->http);
    static_site_free(app->site);
    store_close(app->store);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Loads the catalogue built into the binary on first start, or when the shipped data changed. */
static int load_catalogue(app_t *app)
{
    catalogue_report_t rep;
    catalogue_report_init(&rep);
    int rc = catalogue_load_shipped(app->store, clock_now_ms(&app->clock), &rep);
    if (rc)
        log_error("catalogue load failed err=%s detail=\"%s\"", err_name(rc),
                  rep.nerrors ? rep.errors[0].message : store_errmsg(app->store));
    else
        log_info("catalogue ready up_to_date=%d rows=%d created=%d updated=%d skipped=%d",
                 rep.up_to_date, rep.rows, rep.created, rep.updated, rep.skipped);
    catalogue_report_deinit(&rep);
    return rc;
}

/* The Football-Data.org sync's flags, checked before anything starts. 0, or -1 after saying why
 * on stderr. */
static int sync_flags_check(const config_t *c)
{
    char why[160];
    if (api_season_sync_check(c, why, sizeof(why)) == 0)
        return 0;
    fprintf(stderr, "gavel: %s\n", why);
    return -1;
}

/* One server per data directory: the lock is held until the process exits. */
static int lock_data_dir(app_t *app)
{
    long holder = 0;
    int rc = datadir_lock(app->cfg.data_dir, &app->data_lock, &holder);
    if (rc == GV_EDB_BUSY)
        fprintf(stderr, "gavel: another gavel (pid %ld) is serving %s: stop it first\n", holder,
                app->cfg.data_dir);
    else if (rc)
        fprintf(stderr,
                "gavel: the data directory %s cannot be used (cannot create or lock %s/%s)\n",
                app->cfg.data_dir, app->cfg.data_dir, DATADIR_LOCK_FILE);
    if (rc)
        log_error("data directory unusable dir=%s err=%s holder=%ld", app->cfg.data_dir,
                  err_name(rc), holder);
    return rc;
}

/* One server per database: a second one on the same PostgreSQL database would run the same
 * auctions' clocks and fan-out apart from the first (auctions have no owner node yet). */
static int claim_store(app_t *app)
{
    char name[64];
    snprintf(name, sizeof(name), "gavel serve %s", app->cfg.node_id); /* a cluster: per node */
    int rc = store_claim(app->store, name);
    if (rc == GV_ECONFLICT && app->cfg.node_id[0])
        fprintf(stderr,
                "gavel: another gavel serve runs as node %s on this database: each node "
                "of a cluster needs an --node-id of its own\n",
                app->cfg.node_id);
    else if (rc == GV_ECONFLICT)
        fprintf(stderr, "gavel: another gavel serve already uses this PostgreSQL database and "
                        "schema; one server per schema until auctions have owner nodes (stop the "
                        "other, or give this one a schema of its own)\n");
    else if (rc)
        fprintf(stderr, "gavel: the database could not be claimed (%s: %s)\n", err_name(rc),
                store_errmsg(app->store));
    if (rc)
        log_error("store claim failed err=%s", err_name(rc));
    return rc;
}

static int cmd_serve(app_t *app)
{
    char host[128];
    int port;
    if (parse_listen(app->cfg.listen, host, sizeof(host), &port) != 0) {
        fprintf(stderr, "gavel: --listen must be host:port, got %s\n", app->cfg.listen);
        return 2;
    }
    if (sync_flags_check(&app->cfg) != 0)
        return 2;
    if (config_cluster_check(&app->cfg)[0]) {
        fprintf(stderr, "gavel: %s\n", config_cluster_check(&app->cfg));
        return 2;
    }
    char why[160];
    if (api_backups_check(&app->cfg, why, sizeof(why)) != 0) {
        fprintf(stderr, "gavel: %s\n", why);
        return 2;
    }
    if (api_report_check(&app->cfg, why, sizeof(why)) != 0) {
        fprintf(stderr, "gavel: %s\n", why);
        return 2;
    }
    if (crash_handler_install(log_get_format(), gavel_version) != 0)
        log_warn("fatal signals will not be reported");
    if (app->cfg.dev)
        log_warn("DEVELOPMENT MODE: sign-in tokens are returned in responses and logged; "
                 "CORS allows localhost. Never run --dev in production.");
    signal(SIGPIPE, SIG_IGN);
    setenv("UV_THREADPOOL_SIZE", "8", 0); /* mail sends may wait on a slow SMTP server */
    app->loop = uv_default_loop();
    uv_loop_configure(app->loop, UV_METRICS_IDLE_TIME);
    clock_real_init(&app->clock);
    int rc = lock_data_dir(app);
    rc = rc ? rc : open_store(app);
    rc = rc ? rc : claim_store(app);
    if (!rc)
        rc = load_catalogue(app);
    if (!rc && app->cfg.admin_email[0])
        rc = make_admin(app, app->cfg.admin_email);
    if (!rc)
        rc = api_auth_start(app);
    if (!rc)
        rc = app_start(app, host, port);
    if (!rc)
        rc = api_season_sync_start(app);
    if (!rc)
        rc = api_backups_start(app);
    if (!rc)
        rc = api_report_start(app);
    if (rc) {
        if (app->bus) { /* closed on the loop before it is freed */
            bus_close(app->bus);
            uv_walk(app->loop, close_walk, NULL);
            uv_run(app->loop, UV_RUN_DEFAULT);
        }
        app_free(app);
        return 1;
    }
    app_signals(app);
    app->ready = 1;
    uv_run(app->loop, UV_RUN_DEFAULT);
    uv_walk(app->loop, close_walk, NULL); /* after a forced stop, release what is left */
    uv_run(app->loop, UV_RUN_DEFAULT);
    uv_loop_close(app->loop);
    api_report_stop(app);
    log_set_buffered(0);
    app_free(app);
    log_info("stopped");
    return 0;
}

/* Makes the user with email (created when missing) an administrator. */
static int make_admin(app_t *app, const char *raw)
{
    char email[ACCOUNT_EMAIL_MAX + 1], name[STORE_NAME_MAX], id[STORE_ID_MAX];
    store_user_t user;
    int created;
    if (account_email_normalize(raw, email, sizeof(email)) != 0) {
        log_error("not a valid e-mail address for an admin");
        return GV_EINVALID_REQUEST;
    }
    account_default_name(email, name, sizeof(name));
    int rc = token_id(id, "usr_");
    rc = rc ? rc
            : store_user_ensure(app->store, email, id, name, clock_now_ms(&app->clock), &user,
                                &created);
    rc = rc ? rc : store_user_set_admin(app->store, email, 1);
    if (rc)
        log_error("could not make the admin err=%s", err_name(rc));
    else
        log_info("admin user=%s created=%d", user.id, created);
    return rc;
}

static int cmd_user(app_t *app, char **pos, int npos)
{
    if (npos != 2 || strcmp(pos[0], "admin") != 0) {
        fprintf(stderr, "usage: gavel user admin EMAIL [--data DIR]\n");
        return 2;
    }
    clock_real_init(&app->clock);
    int rc = open_store(app);
    rc = rc ? rc : make_admin(app, pos[1]);
    store_close(app->store);
    if (!rc)
        printf("%s is an administrator\n", pos[1]);
    return rc ? 1 : 0;
}

/* gavel import --data DIR KIND FILE: the shipped catalogue first (competitions the file may
 * name), then FILE, all or nothing; the report on stdout, row errors on stderr. */
static int cmd_import(app_t *app, char **pos, int npos)
{
    if (npos != 2 || !catalogue_kind_known(pos[0])) {
        fprintf(stderr, "usage: gavel import --data DIR KIND FILE (KIND: assets, competitions, "
                        "football_clubs, national_teams, cricket_players)\n");
        return 2;
    }
    catalogue_report_t rep;
    catalogue_report_init(&rep);
    clock_real_init(&app->clock);
    int rc = open_store(app);
    rc = rc ? rc : load_catalogue(app);
    rc = rc ? rc : catalogue_import_file(app->store, pos[0], pos[1], &rep);
    for (size_t i = 0; i < rep.nerrors; i++)
        fprintf(stderr, "%s:%d: %s: %s\n", pos[1], rep.errors[i].line, rep.errors[i].code,
                rep.errors[i].message);
    if (!rc)
        printf("rows=%d created=%d updated=%d skipped=%d\n", rep.rows, rep.created, rep.updated,
               rep.skipped);
    else if (rep.error_count)
        fprintf(stderr, "gavel: %zu error(s); nothing was imported\n", rep.error_count);
    catalogue_report_deinit(&rep);
    store_close(app->store);
    return rc ? 1 : 0;
}

/* Reads a whole file of at most max bytes into a new buffer (free() it). 0 or GV_E*. */
static int read_file(const char *path, size_t max, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return GV_ENOT_FOUND;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    int rc = !buf ? GV_ENOMEM : ferror(f) ? GV_EIO : n > max ? GV_ELIMIT : 0;
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf, *len = n;
    return 0;
}

/* One import of the command line: which reader, by command and provider. */
typedef struct {
    const char *cmd;      /* "fixtures" or "stats" */
    const char *provider; /* "csv" or the provider's name */
} cli_import_t;

static int cli_import_run(app_t *app, const cli_import_t *k, const store_league_t *lg,
                          const char *text, size_t len, season_report_t *rep)
{
    int flags = app->cfg.partial ? SEASON_PARTIAL : 0;
    int64_t now = clock_now_ms(&app->clock);
    if (!strcmp(k->provider, "football-data"))
        return season_import_football_data(app->store, lg, text, len, flags, now, rep);
    if (!strcmp(k->provider, "cricsheet"))
        return season_import_cricsheet(app->store, lg, text, len, app->cfg.match_id, flags, now,
                                       rep);
    return !strcmp(k->cmd, "stats")
               ? season_import_stats(app->store, lg, text, len, flags, now, rep)
               : season_import_fixtures(app->store, lg, text, len, flags, now, rep);
}

/* The report of the API on the terminal: row errors on stderr as FILE:LINE: code: message, the
 * counts on stdout, unmatched scorecard names on stderr. */
static void cli_import_report(const char *file, int rc, const season_report_t *rep,
                              const char *league)
{
    for (size_t i = 0; i < rep->nerrors; i++)
        fprintf(stderr, "%s:%d: %s: %s\n", file, rep->errors[i].line, rep->errors[i].code,
                rep->errors[i].message);
    for (size_t i = 0; i < json_array_size(rep->unmatched); i++)
        fprintf(stderr, "%s: unmatched: %s\n", file,
                json_string_value(json_array_get(rep->unmatched, i)));
    if (!rc)
        printf("created=%d updated=%d skipped=%d errors=%zu%s%s\n", rep->created, rep->updated,
               rep->skipped, rep->error_count, rep->match_id[0] ? " match=" : "", rep->match_id);
    else if (rc == GV_ENOT_FOUND)
        fprintf(stderr, "gavel: no league %s\n", league);
    else if (rep->error_count)
        fprintf(stderr, "gavel: %zu error(s); nothing was imported\n", rep->error_count);
}

/* gavel fixtures import --data DIR --league ID [--provider csv|football-data] [--partial 1] FILE
 * and gavel stats import --data DIR --league ID [--provider csv|cricsheet] [--match-id ID]
 * [--partial 1] FILE: a league's fixtures or cricket stats from a file, with the report of the
 * API, and a progress line while it works when stderr is a terminal. */
static int cmd_season_import(app_t *app, const char *cmd, char **pos, int npos)
{
    cli_import_t k = {cmd, app->cfg.provider[0] ? app->cfg.provider : "csv"};
    int stats = !strcmp(cmd, "stats");
    const char *alt = stats ? "cricsheet" : "football-data";
    if (npos != 2 || strcmp(pos[0], "import") || !app->cfg.league[0] ||
        (strcmp(k.provider, "csv") && strcmp(k.provider, alt))) {
        fprintf(stderr,
                "usage: gavel %s import --data DIR --league ID [--provider csv|%s]%s "
                "[--partial 1] FILE\n",
                cmd, alt, stats ? " [--match-id ID]" : "");
        return 2;
    }
    char *text = NULL;
    size_t len = 0;
    store_league_t lg;
    season_report_t rep;
    season_report_init(&rep);
    clock_real_init(&app->clock);
    int rc = read_file(pos[1], 10 * 1024 * 1024, &text, &len);
    if (rc) {
        fprintf(stderr, "gavel: cannot read %s (%s)\n", pos[1],
                rc == GV_ELIMIT       ? "over 10 MiB"
                : rc == GV_ENOT_FOUND ? "no such file"
                                      : err_name(rc));
        return 1;
    }
    int tty = isatty(STDERR_FILENO);
    if (tty)
        fprintf(stderr, "importing %s (%zu KiB) into %s...", pos[1], (len + 1023) / 1024,
                app->cfg.league);
    rc = open_store(app);
    rc = rc ? rc : store_league_get(app->store, app->cfg.league, &lg);
    if (!rc && stats && strcmp(lg.sport, "cricket") != 0) {
        fprintf(stderr, "gavel: league %s is not a cricket league\n", lg.id);
        rc = GV_EINVALID_REQUEST;
    } else if (!rc) {
        rc = cli_import_run(app, &k, &lg, text, len, &rep);
    }
    if (tty)
        fprintf(stderr, "\r\033[K");
    cli_import_report(pos[1], rc, &rep, app->cfg.league);
    season_report_deinit(&rep);
    free(text);
    store_close(app->store);
    return rc ? 1 : 0;
}

/* gavel check --data DIR: SQLite's integrity check, then every auction's log replayed against
 * its derived rows. Exit 0 when all is consistent. */
static int cmd_check(app_t *app)
{
    int bad = 0;
    clock_real_init(&app->clock);
    int rc = open_store(app);
    if (!rc && (rc = store_integrity_check(app->store)) != 0)
        store_failure(app, "the integrity check", rc, store_errmsg(app->store));
    if (!rc && (rc = cli_replay(app->store, stdout, &bad)) != 0)
        store_failure(app, "replaying the auction logs", rc, store_errmsg(app->store));
    store_close(app->store);
    if (!rc)
        printf("%s\n", bad ? "check failed" : "check ok");
    return rc || bad ? 1 : 0;
}

static int cmd_migrate(app_t *app)
{
    int rc = open_store(app);
    int version = 0;
    if (!rc)
        rc = store_schema_version(app->store, &version);
    if (!rc)
        printf("schema version %d\n", version);
    store_close(app->store);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    app_t *app = &g_app;
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("gavel %s (built %s %s)\n", gavel_version, __DATE__, __TIME__);
        return 0;
    }
    if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "migrate") != 0 && strcmp(cmd, "user") != 0 &&
        strcmp(cmd, "backup") != 0 && strcmp(cmd, "restore") != 0 && strcmp(cmd, "check") != 0 &&
        strcmp(cmd, "import") != 0 && strcmp(cmd, "fixtures") != 0 && strcmp(cmd, "stats") != 0) {
        usage(!strcmp(cmd, "help") || !strcmp(cmd, "--help") ? stdout : stderr);
        return !strcmp(cmd, "help") || !strcmp(cmd, "--help") ? 0 : 2;
    }
    char err[256], *pos[2];
    int npos;
    config_defaults(&app->cfg);
    int max_pos = !strcmp(cmd, "user") || !strcmp(cmd, "import") || !strcmp(cmd, "fixtures") ||
                          !strcmp(cmd, "stats")
                      ? 2
                      : !strcmp(cmd, "backup");
    if (config_parse(&app->cfg, argc, argv, 2, pos, max_pos, &npos, err, sizeof(err)) != 0) {
        fprintf(stderr, "gavel: %s\n", err);
        return 2;
    }
    log_level_t level;
    if (log_level_parse(app->cfg.log_level, &level) != 0) {
        fprintf(stderr, "gavel: --log-level must be debug, info, warn, error or off\n");
        return 2;
    }
    log_threshold = level;
    log_format_t format;
    if (log_format_parse(app->cfg.log_format, &format) != 0) {
        fprintf(stderr, "gavel: --log-format must be logfmt or json\n");
        return 2;
    }
    log_set_format(format);
    if (store_conflict(&app->cfg, cmd) != 0)
        return 2;
    if (!strcmp(cmd, "user"))
        return cmd_user(app, pos, npos);
    if (!strcmp(cmd, "check"))
        return cmd_check(app);
    if (!strcmp(cmd, "backup"))
        return cli_backup(&app->cfg, pos, npos);
    if (!strcmp(cmd, "restore"))
        return cli_restore(&app->cfg);
    if (!strcmp(cmd, "import"))
        return cmd_import(app, pos, npos);
    if (!strcmp(cmd, "fixtures") || !strcmp(cmd, "stats"))
        return cmd_season_import(app, cmd, pos, npos);
    return !strcmp(cmd, "serve") ? cmd_serve(app) : cmd_migrate(app);
}
