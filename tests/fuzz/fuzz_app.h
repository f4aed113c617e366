/* Shared by the fuzz targets that drive the real application (fuzz_http, fuzz_router,
 * fuzz_ws_messages): the app of src/main.c built once per process on a private libuv loop, seeded
 * with users, leagues and a running auction, and put back into that seeded state after every
 * input that changed it, so that each input meets the same server (a crash reproduces alone).
 *
 * What is real: the configuration (config_defaults, development mode as `make run` uses it), a
 * SQLite store in a temporary directory (tmpfs when there is one) with every migration and the
 * shipped catalogue, the JWT secret through GAVEL_JWT_SECRET, api_auth_start, the hub, the auction
 * service with its group commit and recovery, every route of api_routes_register (with a small
 * web root for the static fallback), the HTTP server and the WebSocket layer with the API's
 * handlers. What is not: the clock is fake (FZ_T0 until an input advances it), rate limits are
 * off (--rate-limit-scale 0, as in the integration tests: buckets would carry over inputs), the
 * periodic sign-in link purge is stopped (it would fire at a random input), and connections are
 * socketpairs adopted by the server instead of accepted TCP.
 *
 * The seeded state: users usr_fzadmin (admin), usr_fzcomm, usr_fzmgr, usr_fzspec, usr_fzout;
 * league lg_fuzz (football, AFCON-2025; usr_fzcomm commissioner, usr_fzmgr manager, usr_fzspec
 * spectator; three fixtures, FZ_M003 scheduled (its random id: "@F"); invite code FUZZNVTEAAA2,
 * watch code FUZZWATCHAA2) with a running auction whose id is random per process (inputs write it
 * "@A"); leagues lg_fzsetup (football, EPL-2025, no auction yet; codes ending in 3) and lg_fzcrick
 * (cricket, NZENG-ODI-2025; codes ending in 4), both with usr_fzcomm commissioner and usr_fzmgr
 * manager; a sign-in link for fzlink@example.com (token FZ_MAGIC_TOKEN, code FZ_MAGIC_CODE) and a
 * refresh token FZ_REFRESH_TOKEN of usr_fzmgr. Access tokens: HS256 with FZ_KEY, iat FZ_T0, one
 * hour, jti "fz" (fz_app.tokens[user]; the same texts as the committed seeds). */
#ifndef GAVEL_TESTS_FUZZ_APP_H
#define GAVEL_TESTS_FUZZ_APP_H

#include "api/app.h"
#include "auction/service.h"
#include "auction/service_int.h"
#include "auth/jwt.h"
#include "auth/token.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "league/catalogue.h"
#include "season/season.h"
#include "store/store.h"
#include "store/store_int.h"

#include "../tmpdir.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define FZ_T0 1767225600000LL /* the fake clock's start: 2026-01-01T00:00:00Z */
#define FZ_KEY "gavel-fuzz-ws-messages-fixed-key-0123456789abcdef"
#define FZ_LEAGUE "lg_fuzz"
#define FZ_MAGIC_TOKEN "fuzz-magic-link-token-0001"
#define FZ_MAGIC_CODE "FZCDE234"
#define FZ_REFRESH_TOKEN "fuzz-refresh-token-0001"
#define FZ_MAX_ITERATIONS 200000  /* loop turns for one exchange before it counts as a hang */
#define FZ_MAX_OUTPUT (16u << 20) /* server output kept for the checks */

enum { FZ_ADMIN, FZ_COMM, FZ_MGR, FZ_SPEC, FZ_OUT, FZ_NUSERS };

static const char *const fz_user_ids[FZ_NUSERS] = {"usr_fzadmin", "usr_fzcomm", "usr_fzmgr",
                                                   "usr_fzspec", "usr_fzout"};

typedef struct {
    app_t app;
    uv_loop_t loop;
    char dir[64];
    char web[96];
    char auction[SVC_ID_MAX];            /* the running auction's id */
    char fixture[SVC_ID_MAX];            /* the id of lg_fuzz's fixture FZ_M003 */
    char tokens[FZ_NUSERS][JWT_MAX_LEN]; /* valid access tokens */
    char expired[JWT_MAX_LEN];           /* usr_fzmgr's, expired at FZ_T0 */
    sqlite3 *snapshot;                   /* the seeded database, in memory */
    uint64_t stamp[2];                   /* store_change_stamp of the seeded state */
    const char *who;                     /* the target's name, for messages */
    int restores;                        /* inputs that needed the state put back */
    int verbose;                         /* GAVEL_FUZZ_VERBOSE set: show what the server sent */
    int last_status;                     /* of the last final response fz_responses_check saw */
    void (*turn_hook)(void);             /* run after each loop turn of fz_app_settle */
} fz_app_t;

static fz_app_t fz_app;

/* ---- helpers --------------------------------------------------------------------------------- */

static inline void fz_die(const char *what, int rc)
{
    fprintf(stderr, "%s: %s failed: %s (%s)\n", fz_app.who, what, err_name(rc),
            fz_app.app.store ? store_errmsg(fz_app.app.store) : "-");
    abort();
}

static inline void fz_ok(int rc, const char *what)
{
    if (rc != 0)
        fz_die(what, rc);
}

/* Runs loop turns until nothing waits for a commit (and a few more for the writes). */
static inline void fz_app_settle(void)
{
    for (int i = 0; i < 1000; i++) {
        uv_run(&fz_app.loop, UV_RUN_NOWAIT);
        if (fz_app.turn_hook)
            fz_app.turn_hook();
        if (i >= 2 && auction_service_idle(fz_app.app.auctions))
            return;
    }
    fprintf(stderr, "%s: the auction service did not settle\n", fz_app.who);
    abort();
}

/* Advances the fake clock by ms and runs the auction timers that are then due, as the loop
 * would have (their callback, through libuv), until no auction is overdue; commits. The timers
 * are armed in real milliseconds from the fake time, so they are made due by re-arming them at
 * 0 with their own callback. */
static inline void fz_app_advance(int64_t ms)
{
    clock_fake_advance(&fz_app.app.clock, ms);
    int64_t now = clock_now_ms(&fz_app.app.clock);
    for (int round = 0; round < 100000; round++) {
        int due = 0;
        for (auction_live_t *l = fz_app.app.auctions->lives; l; l = l->next) {
            if (engine_next_deadline(&l->eng) > now || !uv_is_active((uv_handle_t *)&l->timer))
                continue;
            uv_timer_start(&l->timer, l->timer.timer_cb, 0, 0);
            due++;
        }
        if (!due)
            return;
        fz_app_settle();
    }
    fprintf(stderr, "%s: auction timers keep firing at one instant\n", fz_app.who);
    abort();
}

/* ---- the seeded state ------------------------------------------------------------------------ */

static inline void fz_user(int i, int admin)
{
    char email[64];
    store_user_t u;
    snprintf(email, sizeof(email), "%s@example.com", fz_user_ids[i]);
    fz_ok(store_user_ensure(fz_app.app.store, email, fz_user_ids[i], fz_user_ids[i] + 4, FZ_T0, &u,
                            NULL),
          "store_user_ensure");
    if (admin)
        fz_ok(store_user_set_admin(fz_app.app.store, email, 1), "store_user_set_admin");
}

static inline void fz_league(const char *id, const char *sport, const char *comp, const char *code,
                             const store_league_settings_t *settings)
{
    store_t *s = fz_app.app.store;
    store_league_t lg;
    memset(&lg, 0, sizeof(lg));
    snprintf(lg.id, sizeof(lg.id), "%s", id);
    snprintf(lg.name, sizeof(lg.name), "Fuzz %s", id + 3);
    snprintf(lg.sport, sizeof(lg.sport), "%s", sport);
    snprintf(lg.competition, sizeof(lg.competition), "%s", comp);
    snprintf(lg.commissioner_id, sizeof(lg.commissioner_id), "%s", fz_user_ids[FZ_COMM]);
    snprintf(lg.status, sizeof(lg.status), "setup");
    snprintf(lg.invite_code, sizeof(lg.invite_code), "FUZZNVTEAAA%s", code);
    snprintf(lg.watch_code, sizeof(lg.watch_code), "FUZZWATCHAA%s", code);
    lg.created_ms = FZ_T0;
    lg.settings = *settings;
    fz_ok(store_league_create(s, &lg), "store_league_create");
    if (store_member_add(s, id, fz_user_ids[FZ_MGR], STORE_ROLE_MANAGER, 8, FZ_T0) < 0)
        fz_die("store_member_add", GV_EDB);
}

static inline void fz_fixtures_import(void)
{
    static const char csv[] =
        "externalMatchId,startsAt,home,away,venue,round,status,homeGoals,awayGoals\n"
        "AFCON_M001,2025-12-21T19:00:00Z,Morocco,Comoros,Rabat,Group A MD1,finished,2,0\n"
        "AFCON_M002,2025-12-22T14:30:00Z,Mali,Zambia,Casablanca,Group A MD1,finished,1,1\n"
        "FZ_M003,2026-01-02T19:00:00Z,Morocco,Mali,Rabat,Round of 16,scheduled,,\n";
    store_league_t lg;
    season_report_t rep;
    season_report_init(&rep);
    fz_ok(store_league_get(fz_app.app.store, FZ_LEAGUE, &lg), "store_league_get");
    int rc = season_import_fixtures(fz_app.app.store, &lg, csv, sizeof(csv) - 1, 0, FZ_T0, &rep);
    if (rc == 0 && rep.error_count)
        rc = GV_EINVALID_REQUEST;
    if (rc && rep.nerrors)
        fprintf(stderr, "%s: fixture line %d: %s\n", fz_app.who, rep.errors[0].line,
                rep.errors[0].message);
    season_report_deinit(&rep);
    fz_ok(rc, "season_import_fixtures");
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(store_sqlite_handle(fz_app.app.store),
                       "SELECT id FROM fixtures WHERE external_id = 'FZ_M003'", -1, &st, NULL);
    if (!st || sqlite3_step(st) != SQLITE_ROW)
        fz_die("finding the fixture", GV_EDB);
    snprintf(fz_app.fixture, sizeof(fz_app.fixture), "%s", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* A sign-in link and a refresh token whose texts the inputs may know. */
static inline void fz_secrets(void)
{
    unsigned char hash[TOKEN_HASH_LEN], code[TOKEN_HASH_LEN];
    store_user_t u;
    fz_ok(store_user_ensure(fz_app.app.store, "fzlink@example.com", "usr_fzlink", "fzlink", FZ_T0,
                            &u, NULL),
          "store_user_ensure");
    token_hash(FZ_MAGIC_TOKEN, strlen(FZ_MAGIC_TOKEN), hash);
    token_hash(FZ_MAGIC_CODE, strlen(FZ_MAGIC_CODE), code);
    fz_ok(store_magic_link_insert(fz_app.app.store, hash, code, "usr_fzlink", FZ_T0 + 900000,
                                  "127.0.0.1", FZ_T0),
          "store_magic_link_insert");
    token_hash(FZ_REFRESH_TOKEN, strlen(FZ_REFRESH_TOKEN), hash);
    fz_ok(store_refresh_insert(fz_app.app.store, hash, fz_user_ids[FZ_MGR], "fam_fuzz",
                               FZ_T0 + 86400000, FZ_T0),
          "store_refresh_insert");
}

static inline void fz_tokens(void)
{
    for (int i = 0; i < FZ_NUSERS; i++) {
        jwt_claims_t c = {.iat = FZ_T0 / 1000, .exp = FZ_T0 / 1000 + 3600};
        snprintf(c.sub, sizeof(c.sub), "%s", fz_user_ids[i]);
        snprintf(c.jti, sizeof(c.jti), "fz");
        fz_ok(jwt_sign((const unsigned char *)FZ_KEY, strlen(FZ_KEY), &c, fz_app.tokens[i],
                       sizeof(fz_app.tokens[i])),
              "jwt_sign");
    }
    jwt_claims_t c = {.iat = FZ_T0 / 1000 - 3600, .exp = FZ_T0 / 1000};
    snprintf(c.sub, sizeof(c.sub), "%s", fz_user_ids[FZ_MGR]);
    snprintf(c.jti, sizeof(c.jti), "fz");
    fz_ok(jwt_sign((const unsigned char *)FZ_KEY, strlen(FZ_KEY), &c, fz_app.expired,
                   sizeof(fz_app.expired)),
          "jwt_sign");
}

static inline void fz_seed(void)
{
    store_league_settings_t st = {.budget = 100000,
                                  .currency = "GBP",
                                  .roster_size = 2,
                                  .min_managers = 1,
                                  .max_managers = 8,
                                  .lot_seconds = 30,
                                  .anti_snipe_seconds = 10,
                                  .min_bid = 1,
                                  .min_increment = 1,
                                  .intermission_seconds = 3,
                                  .lot_order_fixed = 1,
                                  .reoffer_unsold = 1};
    for (int i = 0; i < FZ_NUSERS; i++)
        fz_user(i, i == FZ_ADMIN);
    fz_league(FZ_LEAGUE, "football", "AFCON-2025", "2", &st);
    if (store_member_add(fz_app.app.store, FZ_LEAGUE, fz_user_ids[FZ_SPEC], STORE_ROLE_SPECTATOR, 8,
                         FZ_T0) < 0)
        fz_die("store_member_add", GV_EDB);
    st.min_managers = 2;
    fz_league("lg_fzsetup", "football", "EPL-2025", "3", &st);
    fz_league("lg_fzcrick", "cricket", "NZENG-ODI-2025", "4", &st);
    fz_fixtures_import();
    fz_secrets();
    auction_live_t *live;
    fz_ok(auction_service_create(fz_app.app.auctions, FZ_LEAGUE, fz_user_ids[FZ_COMM], &live),
          "auction_service_create");
    engine_cmd_t begin = {.type = ENGINE_CMD_BEGIN};
    fz_ok(auction_service_command(fz_app.app.auctions, live, &begin, fz_user_ids[FZ_COMM], NULL,
                                  NULL),
          "auction begin");
    snprintf(fz_app.auction, sizeof(fz_app.auction), "%s", auction_live_id(live));
    fz_app_settle();
}

/* ---- putting the seeded state back ---------------------------------------------------------- */

/* Copies database from into to (SQLite's online backup; to keeps its connection). */
static inline void fz_db_copy(sqlite3 *to, sqlite3 *from)
{
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    int rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(to);
    int fin = b ? sqlite3_backup_finish(b) : SQLITE_OK;
    if (rc != SQLITE_DONE || fin != SQLITE_OK) {
        fprintf(stderr, "%s: database copy failed: %s\n", fz_app.who, sqlite3_errmsg(to));
        abort();
    }
}

static inline void fz_service_free(void)
{
    auction_service_t *svc = fz_app.app.auctions;
    auction_service_stop(svc);
    for (auction_live_t *l = svc->lives; l; l = l->next)
        uv_close((uv_handle_t *)&l->timer, NULL);
    uv_close((uv_handle_t *)&svc->commit_hook, NULL);
    uv_close((uv_handle_t *)&svc->wake, NULL);
    uv_run(&fz_app.loop, UV_RUN_NOWAIT); /* runs the close callbacks */
    auction_service_free(svc);
    fz_app.app.auctions = NULL;
}

/* Puts the seeded state back when the input changed the database: the database from the
 * snapshot, a new auction service recovered from it (as at a restart), no cached season
 * documents; and the clock back at FZ_T0 in any case. The caller has closed its connections (or,
 * for WebSockets, left every room). */
static inline void fz_app_reset(void)
{
    uint64_t now[2];
    fz_app_settle();
    fz_ok(store_change_stamp(fz_app.app.store, now), "store_change_stamp");
    clock_fake_init(&fz_app.app.clock, FZ_T0);
    if (now[0] == fz_app.stamp[0] && now[1] == fz_app.stamp[1])
        return;
    fz_app.restores++;
    fz_service_free();
    fz_db_copy(store_sqlite_handle(fz_app.app.store), fz_app.snapshot);
    api_season_stop(&fz_app.app);
    fz_ok(auction_service_new(&fz_app.app.auctions, &(auction_deps_t){.loop = fz_app.app.loop,
                                                                      .store = fz_app.app.store,
                                                                      .hub = fz_app.app.hub,
                                                                      .clock = &fz_app.app.clock}),
          "auction_service_new");
    fz_ok(auction_service_recover(fz_app.app.auctions), "auction_service_recover");
    fz_app_settle();
    fz_ok(store_change_stamp(fz_app.app.store, fz_app.stamp), "store_change_stamp");
    if (!auction_service_find(fz_app.app.auctions, fz_app.auction)) {
        fprintf(stderr, "%s: the seeded auction did not come back\n", fz_app.who);
        abort();
    }
}

/* ---- set-up --------------------------------------------------------------------------------- */

/* A 5xx other than 503 is a bug of the server (as the API defines its errors). */
static inline void fz_observe(void *ctx, const router_route_t *route, int status, int64_t us)
{
    if (status >= 500 && status != 503) {
        fprintf(stderr, "%s: status %d from %s\n", fz_app.who, status,
                route ? route->pattern : "(no route)");
        abort();
    }
    api_ops_observe(ctx, route, status, us);
}

static inline void fz_write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        abort();
}

/* A tiny web root for the static fallback, its cache off so inputs leave nothing behind. */
static inline void fz_web_setup(void)
{
    char assets[128];
    snprintf(fz_app.web, sizeof(fz_app.web), "%s/web", fz_app.dir);
    snprintf(assets, sizeof(assets), "%s/assets", fz_app.web);
    if (mkdir(fz_app.web, 0700) != 0 || mkdir(assets, 0700) != 0)
        abort();
    fz_write_file(fz_app.web, "index.html", "<!doctype html><title>x</title>\n");
    fz_write_file(fz_app.web, "assets/app-1a2b3c4d.js", "export const x = 1;\n");
    fz_ok(static_site_new(&fz_app.app.site, fz_app.web), "static_site_new");
    static_site_cache_limit_set(fz_app.app.site, 0);
}

static inline void fz_app_cleanup(void)
{
    static_site_free(fz_app.app.site);
    fz_app.app.site = NULL;
    sqlite3_close(fz_app.snapshot);
    tmpdir_remove(fz_app.dir);
}

/* Removes the data directories of fuzz processes that died without cleaning up (a crash ends
 * the process without atexit handlers): gavel-fuzz-<pid>-* whose process is gone. */
static inline void fz_dir_sweep(const char *parent)
{
    DIR *d = opendir(parent);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char path[300];
        long pid = 0;
        if (sscanf(e->d_name, "gavel-fuzz-%ld-", &pid) != 1 || pid <= 0 ||
            kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* not ours, or its process is alive */
        snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
        tmpdir_remove(path);
    }
    if (d)
        closedir(d);
}

/* The data directory: tmpfs when there is one (every commit fsyncs), else /tmp. */
static inline void fz_dir_make(void)
{
    fz_dir_sweep("/dev/shm");
    fz_dir_sweep("/tmp");
    snprintf(fz_app.dir, sizeof(fz_app.dir), "/dev/shm/gavel-fuzz-%ld-XXXXXX", (long)getpid());
    if (mkdtemp(fz_app.dir))
        return;
    snprintf(fz_app.dir, sizeof(fz_app.dir), "/tmp/gavel-fuzz-%ld-XXXXXX", (long)getpid());
    if (!mkdtemp(fz_app.dir))
        abort();
}

static inline void fz_app_servers(const ws_handlers_t *wsh, void *ws_ctx, const ws_limits_t *wl)
{
    app_t *app = &fz_app.app;
    http_limits_t hl;
    http_limits_defaults(&hl);
    hl.max_connections = (size_t)app->cfg.max_connections;
    hl.header_timeout_ms = (uint64_t)app->cfg.header_timeout_ms;
    hl.idle_timeout_ms = (uint64_t)app->cfg.idle_timeout_ms;
    hl.cors_dev = app->cfg.dev;
    hl.access_log = 0;
    app->http = http_server_new(app->loop, &app->router, &hl);
    app->ws = app->http ? ws_server_new(app->http, wl, wsh ? wsh : api_ws_handlers(),
                                        ws_ctx ? ws_ctx : app)
                        : NULL;
    if (!app->ws)
        fz_die("the servers", GV_ENOMEM);
    http_server_set_observer(app->http, fz_observe, app);
    store_set_commit_observer(app->store, api_ops_db_commit, app);
}

/* fz_app_init builds the application once per process (call from LLVMFuzzerInitialize). wsh and
 * ws_ctx: the WebSocket message handlers (NULL: the API's, with the app); wl: the WebSocket
 * limits (NULL: those of the configuration). */
static inline void fz_app_init(const char *who, const ws_handlers_t *wsh, void *ws_ctx,
                               const ws_limits_t *wl)
{
    app_t *app = &fz_app.app;
    fz_app.who = who;
    fz_app.verbose = getenv("GAVEL_FUZZ_VERBOSE") != NULL;
    log_threshold = LOG_OFF;
    fz_dir_make();
    atexit(fz_app_cleanup);
    if (uv_loop_init(&fz_app.loop) != 0)
        abort();
    config_defaults(&app->cfg);
    snprintf(app->cfg.data_dir, sizeof(app->cfg.data_dir), "%s", fz_app.dir);
    app->cfg.dev = 1;
    app->cfg.rate_limit_scale = 0;
    app->cfg.access_log = 0;
    app->loop = &fz_app.loop;
    clock_fake_init(&app->clock, FZ_T0);
    int applied = 0;
    fz_ok(store_open(&app->store, fz_app.dir), "store_open");
    fz_ok(store_migrate(app->store, &applied), "store_migrate");
    catalogue_report_t rep;
    catalogue_report_init(&rep);
    fz_ok(catalogue_load_shipped(app->store, FZ_T0, &rep), "catalogue_load_shipped");
    catalogue_report_deinit(&rep);
    setenv("GAVEL_JWT_SECRET", FZ_KEY, 1);
    fz_ok(api_auth_start(app), "api_auth_start");
    uv_timer_stop(&app->purge_timer);
    fz_web_setup();
    app->hub = hub_new();
    if (!app->hub)
        abort();
    fz_ok(auction_service_new(&app->auctions, &(auction_deps_t){.loop = app->loop,
                                                                .store = app->store,
                                                                .hub = app->hub,
                                                                .clock = &app->clock}),
          "auction_service_new");
    fz_ok(auction_service_recover(app->auctions), "auction_service_recover");
    router_init(&app->router);
    fz_ok(api_routes_register(app), "api_routes_register");
    ws_limits_t wdef;
    ws_limits_defaults(&wdef);
    wdef.ping_interval_ms = (uint64_t)app->cfg.ws_ping_interval_ms;
    wdef.idle_timeout_ms = (uint64_t)app->cfg.ws_idle_timeout_ms;
    wdef.auth_timeout_ms = (uint64_t)app->cfg.ws_auth_timeout_ms;
    wdef.max_output = (size_t)app->cfg.ws_max_output_bytes;
    fz_app_servers(wsh, ws_ctx, wl ? wl : &wdef);
    fz_ok(api_season_sync_start(app), "api_season_sync_start"); /* off: no provider token */
    app->ready = 1;
    fz_tokens();
    fz_seed();
    if (sqlite3_open(":memory:", &fz_app.snapshot) != SQLITE_OK)
        abort();
    fz_db_copy(fz_app.snapshot, store_sqlite_handle(app->store));
    fz_ok(store_change_stamp(app->store, fz_app.stamp), "store_change_stamp");
}

/* ---- one HTTP exchange ----------------------------------------------------------------------- */

/* What "@c" stands for in an input: A the auction's id, F the fixture FZ_M003's id, 0..4 the
 * access token of usr_fzadmin, usr_fzcomm, usr_fzmgr, usr_fzspec, usr_fzout, 5 an expired one of
 * usr_fzmgr; NULL: itself. */
static inline const char *fz_placeholder(uint8_t c)
{
    if (c == 'A')
        return fz_app.auction;
    if (c == 'F')
        return fz_app.fixture;
    if (c >= '0' && c < '0' + FZ_NUSERS)
        return fz_app.tokens[c - '0'];
    return c == '0' + FZ_NUSERS ? fz_app.expired : NULL;
}

/* Replaces every placeholder "@c" of data (fz_placeholder). The result is exactly *out_len bytes
 * (no NUL after it, so ASan sees overreads); NULL when it would be longer than max. */
static inline char *fz_expand(const uint8_t *data, size_t size, size_t max, size_t *out_len)
{
    size_t len = 0;
    for (size_t i = 0; i < size; i++) {
        const char *r = i + 1 < size && data[i] == '@' ? fz_placeholder(data[i + 1]) : NULL;
        len += r ? strlen(r) : 1;
        i += r != NULL;
    }
    if (len > max)
        return NULL;
    char *text = malloc(len ? len : 1);
    if (!text)
        abort();
    size_t o = 0;
    for (size_t i = 0; i < size; i++) {
        const char *r = i + 1 < size && data[i] == '@' ? fz_placeholder(data[i + 1]) : NULL;
        if (r) {
            memcpy(text + o, r, strlen(r));
            o += strlen(r);
            i++;
        } else {
            text[o++] = (char)data[i];
        }
    }
    *out_len = len;
    return text;
}

/* Reads what the server sent into out (up to FZ_MAX_OUTPUT; the rest is dropped and *lost set);
 * returns 1 once the server closed its end. */
static inline int fz_read_all(int fd, buf_t *out, int *lost)
{
    static char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n > 0) {
            if (out->len + (size_t)n > FZ_MAX_OUTPUT)
                *lost = 1;
            else if (buf_append(out, chunk, (size_t)n) != 0)
                abort();
            continue;
        }
        if (n == 0)
            return 1;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
    }
}

/* Chunk sizes vary with the input so the parser sees requests split at many places. */
static inline size_t fz_chunk(uint32_t *state, size_t left)
{
    *state = *state * 1103515245u + 12345u;
    size_t n = 1 + (*state >> 16) % 700;
    return n < left ? n : left;
}

/* One piece of a client's input: advance_ms of fake time pass (with the auction timers then
 * due) once the server has done with what came before, then data is sent. */
typedef struct {
    const char *data;
    size_t len;
    int64_t advance_ms;
} fz_segment_t;

/* Loop turns until nothing waits for a commit and the server has sent nothing new for a few
 * turns: it has answered what it could of the input so far. Returns 1 once the server closed. */
static inline int fz_app_quiesce(int fd, buf_t *out, int *lost)
{
    int quiet = 0, eof = 0;
    for (int i = 0; i < 10000 && quiet < 3; i++) {
        size_t before = out->len;
        uv_run(&fz_app.loop, UV_RUN_NOWAIT);
        if (!eof)
            eof = fz_read_all(fd, out, lost);
        quiet = auction_service_idle(fz_app.app.auctions) && out->len == before ? quiet + 1 : 0;
    }
    return eof;
}

/* fz_app_exchange plays a client on a new connection: sends each segment in pieces (after its
 * time step), then shuts its write side down, and collects everything the server sends into out
 * until the server has closed, every connection is gone and nothing waits for a commit. 1 when
 * out holds all of it. */
static inline int fz_app_exchange(const fz_segment_t *segs, size_t nsegs, buf_t *out)
{
    int sv[2], lost = 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        abort();
    if (http_server_adopt(fz_app.app.http, sv[0]) != 0)
        abort();
    const http_stats_t *st = http_server_stats(fz_app.app.http);
    uint32_t seed = 2654435761u;
    for (size_t i = 0; i < nsegs; i++)
        seed += (uint32_t)segs[i].len * 2654435761u;
    size_t seg = 0, off = 0, stepped = 0; /* segments [0, stepped) had their time step */
    int peer_eof = 0, shut = 0;
    for (long it = 0;
         !peer_eof || st->open_http + st->open_ws > 0 || !auction_service_idle(fz_app.app.auctions);
         it++) {
        if (it > FZ_MAX_ITERATIONS) {
            fprintf(stderr, "%s: connection still open after %d loop turns\n", fz_app.who,
                    FZ_MAX_ITERATIONS);
            abort();
        }
        if (seg < nsegs && stepped <= seg) {
            if (segs[seg].advance_ms > 0 && !peer_eof) {
                peer_eof = fz_app_quiesce(sv[1], out, &lost);
                fz_app_advance(segs[seg].advance_ms);
            }
            stepped = seg + 1;
        }
        if (seg < nsegs && off < segs[seg].len) {
            const fz_segment_t *g = &segs[seg];
            ssize_t w = send(sv[1], g->data + off, fz_chunk(&seed, g->len - off), MSG_NOSIGNAL);
            if (w > 0)
                off += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                seg = nsegs; /* the server closed; the rest cannot be sent */
        }
        if (seg < nsegs && off >= segs[seg].len)
            seg++, off = 0;
        if (seg >= nsegs && !shut) {
            shutdown(sv[1], SHUT_WR);
            shut = 1;
        }
        uv_run(&fz_app.loop, UV_RUN_NOWAIT);
        if (!peer_eof)
            peer_eof = fz_read_all(sv[1], out, &lost);
    }
    close(sv[1]);
    if (fz_app.verbose)
        fprintf(stderr, "--- %s: the server sent %zu bytes%s:\n%.*s\n", fz_app.who, out->len,
                lost ? " (more not kept)" : "", (int)out->len, out->data ? out->data : "");
    return !lost;
}

/* ---- checking what the server sent -------------------------------------------------------- */

static inline void fz_bad_output(const char *why, const char *all, size_t len, size_t at)
{
    fprintf(stderr, "%s: malformed response (%s) at byte %zu of:\n%.*s\n", fz_app.who, why, at,
            (int)(len < 4000 ? len : 4000), all);
    abort();
}

/* The value of header name (lower-case match) in head[0..n), copied into out; 1 when found. */
static inline int fz_header(const char *head, size_t n, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = memmem(head, n, "\r\n", 2), *end = head + n;
    while (p && p + 2 < end) {
        const char *line = p + 2;
        const char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
        if (!eol)
            break;
        if ((size_t)(eol - line) > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
            const char *v = line + nl + 1;
            while (v < eol && *v == ' ')
                v++;
            snprintf(out, cap, "%.*s", (int)(eol - v), v);
            return 1;
        }
        p = eol;
    }
    return 0;
}

/* Status line and header lines: "HTTP/1.1 DDD Reason", then "Name: value" with a token name and
 * a value without control characters. Returns the status. */
static inline int fz_head_check(const char *all, size_t len, size_t at, size_t head_len)
{
    const char *h = all + at;
    if (head_len < 16 || memcmp(h, "HTTP/1.1 ", 9) != 0 || h[12] != ' ' || h[9] < '1' ||
        h[9] > '5' || h[10] < '0' || h[10] > '9' || h[11] < '0' || h[11] > '9')
        fz_bad_output("status line", all, len, at);
    int status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
    for (size_t i = 13, line_start = 0; i < head_len - 2; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c == '\r') {
            if (h[i + 1] != '\n')
                fz_bad_output("bare CR", all, len, at + i);
            line_start = i + 2;
            i++;
            continue;
        }
        if (c == '\n' || (c < 0x20 && c != '\t') || c == 0x7f)
            fz_bad_output("control byte in the head", all, len, at + i);
        if (line_start && i == line_start) { /* a header line: token ':' */
            size_t k = i;
            while (k < head_len &&
                   (isalnum((unsigned char)h[k]) || strchr("!#$%&'*+-.^_`|~", h[k])))
                k++;
            if (k == i || h[k] != ':')
                fz_bad_output("header name", all, len, at + i);
        }
    }
    return status;
}

/* An error body: application/json, {"error":{"code":"...","message":"..."}}. */
static inline void fz_error_body_check(const char *all, size_t len, size_t at, const char *head,
                                       size_t head_len, size_t body_len)
{
    char ct[128];
    if (!fz_header(head, head_len, "content-type", ct, sizeof(ct)) ||
        strncmp(ct, "application/json", 16) != 0)
        fz_bad_output("error without a JSON content type", all, len, at);
    json_t *o = json_loadb(all + at, body_len, 0, NULL);
    json_t *e = json_object_get(o, "error");
    if (!json_is_string(json_object_get(e, "code")) ||
        !json_is_string(json_object_get(e, "message")))
        fz_bad_output("error body", all, len, at);
    json_decref(o);
}

/* A body sent as application/json parses as JSON. */
static inline void fz_json_body_check(const char *all, size_t len, size_t at, const char *head,
                                      size_t head_len, size_t body_len)
{
    char ct[128];
    if (!body_len || !fz_header(head, head_len, "content-type", ct, sizeof(ct)) ||
        strncmp(ct, "application/json", 16) != 0)
        return;
    json_t *v = json_loadb(all + at, body_len, JSON_DECODE_ANY, NULL);
    if (!v)
        fz_bad_output("a JSON body that does not parse", all, len, at);
    json_decref(v);
}

/* fz_responses_check parses everything the server sent on a connection: responses in a row
 * (interim 100s allowed), each well formed, with a Content-Length its body matches, no 5xx but
 * 503, the API's JSON error body on every 4xx/5xx and JSON that parses in every other
 * application/json body; a 101 ends the HTTP part. A response with
 * Content-Length but no body after it (the end of the output or the next response right after
 * its head) is taken for the answer to a HEAD request. Returns the number of final responses. */
static inline int fz_responses_check(const char *all, size_t len)
{
    size_t at = 0;
    int n = 0;
    fz_app.last_status = 0;
    while (at < len) {
        const char *h = all + at;
        const char *end = memmem(h, len - at, "\r\n\r\n", 4);
        if (!end)
            fz_bad_output("no end of head", all, len, at);
        size_t head_len = (size_t)(end - h) + 4;
        int status = fz_head_check(all, len, at, head_len);
        at += head_len;
        if (status == 101) {
            fz_app.last_status = status;
            return n + 1; /* WebSocket frames follow */
        }
        if (status < 200) {
            if (status != 100)
                fz_bad_output("interim status", all, len, at - head_len);
            continue;
        }
        n++;
        fz_app.last_status = status;
        if (status >= 500 && status != 503)
            fz_bad_output("5xx", all, len, at - head_len);
        char cl[32];
        size_t body = 0;
        if (status != 204 && status != 304) {
            char *e;
            if (!fz_header(h, head_len, "content-length", cl, sizeof(cl)) || !cl[0])
                fz_bad_output("no Content-Length", all, len, at - head_len);
            body = strtoul(cl, &e, 10);
            if (*e)
                fz_bad_output("Content-Length", all, len, at - head_len);
        }
        int head_only =
            body > 0 && (at == len || (len - at >= 9 && !memcmp(all + at, "HTTP/1.1 ", 9)));
        if (head_only)
            continue;
        if (len - at < body)
            fz_bad_output("body shorter than Content-Length", all, len, at - head_len);
        if (status >= 400 && body == 0)
            fz_bad_output("error without a body", all, len, at - head_len);
        if (status >= 400)
            fz_error_body_check(all, len, at, h, head_len, body);
        else
            fz_json_body_check(all, len, at, h, head_len, body);
        at += body;
    }
    return n;
}

#endif
