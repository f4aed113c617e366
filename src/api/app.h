/* The server's application context: configuration, store, clock, router, servers and the
 * counters /metrics reports. One per process, owned by main. */
#ifndef GAVEL_API_APP_H
#define GAVEL_API_APP_H

#include "auction/hub.h"
#include "auth/mailer.h"
#include "auth/ratelimit.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/metrics.h"
#include "net/http.h"
#include "net/router.h"
#include "net/static.h"
#include "net/ws.h"
#include "store/store.h"

#include <jansson.h>
#include <uv.h>

#define APP_STATUS_SLOTS 12
#define APP_BID_CODES 64

typedef struct {
    int status[APP_STATUS_SLOTS];
    uint64_t count[APP_STATUS_SLOTS];
} app_route_counts_t;

/* The kinds of client error reports counted apart (the web app's); any other kind counts as the
 * last, "other". Defined in client_errors_api.c. */
#define APP_CLIENT_ERROR_KINDS 7
extern const char *const api_client_error_kinds[APP_CLIENT_ERROR_KINDS];

/* Rooms of WebSocket joins and roles of league joins, for their counters' labels. */
enum { APP_ROOM_AUCTION, APP_ROOM_LEAGUE, APP_ROOMS };
enum { APP_JOINED_MANAGER, APP_JOINED_SPECTATOR, APP_JOINED_ROLES };

typedef struct {
    app_route_counts_t routes[ROUTER_MAX_ROUTES + 2]; /* + unmatched, + static */
    uint64_t rate_limited[ROUTER_MAX_ROUTES + 2];     /* HTTP 429 answers, by the same slots */
    uint64_t rate_limited_ws_bid;                     /* WebSocket bids refused by the bid rate */
    metrics_hist_t http_latency;
    metrics_hist_t db_commit;
    metrics_hist_t loop_turn; /* busy time of one loop iteration (everything but the wait) */
    double loop_turn_max;     /* the longest, in seconds */
    uint64_t loop_last_ns, loop_last_idle_ns;
    metrics_hist_t loop_turn_cpu; /* the loop thread's CPU time in one iteration */
    uint64_t loop_last_cpu_ns;
    uint64_t ws_messages;
    uint64_t bids_accepted;
    uint64_t bids_rejected[APP_BID_CODES]; /* by -GV_E* code */
    uint64_t ws_rejected_auth;
    uint64_t client_errors[APP_CLIENT_ERROR_KINDS]; /* reports the web app sent, by kind */
    uint64_t ws_joins[APP_ROOMS];                   /* successful WebSocket room joins */
    uint64_t members_joined[APP_JOINED_ROLES];      /* new league members, by how they joined */
    int64_t leagues;                                /* leagues in the database */
    metrics_hist_t bid_round_trip[2]; /* bid received -> answer queued: [0] accepted, [1] not */
} app_metrics_t;

/* The rate limits of API.md, each a token bucket per key. */
typedef struct {
    rl_t *link_email;  /* magic-link requests per e-mail: 5/min */
    rl_t *link_ip;     /* magic-link requests per IP: 60/min (a pub on one Wi-Fi) */
    rl_t *verify_ip;   /* verify attempts per IP: 60/min */
    rl_t *verify_fail; /* failed verifications per e-mail: 10 per 15 min */
    rl_t *refresh_ip;  /* refreshes per IP: 60/min */
    rl_t *league_user; /* league creations per user: 10/hour */
    rl_t *bid_user;    /* bids per user: 20/s */
    rl_t *report_ip;   /* client error reports per IP: 30/min */
} app_limits_t;

/* Season documents computed from the store, kept while the store's change stamp says they are
 * still current (any write, by this process or another, makes them stale). */
#define APP_SEASON_CACHE 32
typedef struct {
    char league_id[40];
    int kind;          /* which document */
    uint64_t stamp[2]; /* store_change_stamp when it was computed */
    char *text;        /* the JSON text, owned */
    size_t len;
    uint64_t used; /* for replacing the least recently used */
} app_season_entry_t;

typedef struct app_s {
    config_t cfg;
    unsigned char jwt_key[64];
    size_t jwt_key_len;
    app_limits_t rl;
    app_season_entry_t season_cache[APP_SEASON_CACHE];
    uint64_t season_cache_clock;
    mailer_t *mailer;          /* NULL in development mode */
    struct fd_sync_s *fd_sync; /* the Football-Data.org sync; NULL when off */
    uv_timer_t purge_timer;
    uv_loop_t *loop;
    store_t *store;
    store_t *commit_store;     /* the auction service's writer thread's own connection */
    store_t *checkpoint_store; /* and its checkpointer's */
    store_t *look_store;       /* a cluster's node: the periodic look at the leases' own */
    gv_clock_t clock;
    router_t router;
    http_server_t *http;
    ws_server_t *ws;
    hub_t *hub; /* WebSocket rooms: "league:<id>" and "auction:<id>" */
    struct auction_service_s *auctions;
    static_site_t *site;
    int ready;
    double start_s;
    app_metrics_t metrics;
    int data_lock;                 /* the data directory's lock (held until exit) */
    struct api_backups_s *backups; /* scheduled backups; NULL when off */
    struct bus_s *bus;             /* a cluster's node: messages to the other nodes; else NULL */
    struct api_forward_s *forward; /* a cluster's node: commands forwarded; else NULL */
} app_t;

/* The build's version (git describe), from core/version.c. */
extern const char gavel_version[];

/* Body limits of API.md: 1 MiB of JSON, 10 MiB of CSV. */
#define APP_JSON_LIMIT (1024 * 1024)
#define APP_CSV_LIMIT (10 * 1024 * 1024)

/* api_routes_register adds every route of the API to app->router. 0 or GV_E*. */
int api_routes_register(app_t *app);

/* api_ops_register adds /api/health, /api/ready, /metrics and /api/openapi.json. */
int api_ops_register(app_t *app);

/* api_season_register adds fixtures, stats, scoring, standings and asset points. */
int api_season_register(app_t *app);

/* api_season_stop frees the season documents kept in app. */
void api_season_stop(app_t *app);

/* api_season_sync_check checks the sync's flags (nothing to check without a token): 0, or
 * GV_EINVALID_REQUEST with why (size n) saying what is wrong. */
int api_season_sync_check(const config_t *c, char *why, size_t n);

/* api_season_sync_start starts the periodic Football-Data.org sync when --football-data-token is
 * set (else does nothing). 0, or GV_E* with a log line saying why. */
int api_season_sync_start(app_t *app);

/* api_season_sync_stop cancels the sync's request in flight and closes its timer (shutdown). */
void api_season_sync_stop(app_t *app);

/* api_season_sync_free releases the sync once the loop has ended. */
void api_season_sync_free(app_t *app);

/* api_season_sync_metrics appends the sync's counters (zero when off) to a /metrics body. */
int api_season_sync_metrics(app_t *app, buf_t *out);

/* api_client_errors_register adds POST /api/client-errors (errors the web app caught). */
int api_client_errors_register(app_t *app);

/* api_ops_observe is the HTTP server's per-response observer (ctx = app). */
void api_ops_observe(void *ctx, const router_route_t *route, int status, int64_t duration_us);

/* api_ops_loop_turn measures the loop iteration that just ended and closes the fan-out delay
 * of the broadcasts whose frames its write phase handed to the sockets (call it from a prepare
 * handle, which runs after that phase; the loop must be configured with UV_METRICS_IDLE_TIME). */
void api_ops_loop_turn(app_t *app);

/* api_ops_db_commit is the store's commit observer (ctx = app). */
void api_ops_db_commit(void *ctx, int64_t duration_us);

/* api_auth_register adds the sign-in routes and /api/me. */
int api_auth_register(app_t *app);

/* api_auth_start loads the JWT secret, makes the rate limiters and the mailer and starts the
 * purge timer. 0 or GV_E* (with a log line saying why). */
int api_auth_start(app_t *app);

/* api_auth_stop releases what api_auth_start made (the purge timer is closed by the caller's
 * loop walk). */
void api_auth_stop(app_t *app);

/* api_league_register adds the league, invite, watch, member and selection routes. */
int api_league_register(app_t *app);

/* api_members_register adds invites, watch codes, members and the asset selection (called by
 * api_league_register). */
int api_members_register(app_t *app);

/* api_auction_register adds the auction routes. */
int api_auction_register(app_t *app);

/* api_league_publish sends a league event (JSON object text) to the league's room. */
void api_league_publish(app_t *app, const char *league_id, json_t *event);

/* api_catalogue_register adds /api/sports, /api/competitions, /api/assets and the admin import
 * POST /api/admin/assets. */
int api_catalogue_register(app_t *app);

/* api_ws_handlers gives the WebSocket message handlers of the API (ctx = app). */
const ws_handlers_t *api_ws_handlers(void);

#endif
