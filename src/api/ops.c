/* Operations endpoints: health (a real database query), readiness, Prometheus metrics and the
 * OpenAPI description. */
#include "api/app.h"
#include "api/backups.h"
#include "api/forward.h"
#include "api/report_api.h"
#include "auction/service.h"

#include "core/err.h"
#include "core/log.h"
#include "json/json.h"
#include "net/bus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

extern const char api_openapi_json[];
extern const size_t api_openapi_json_len;

static double ops_now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Degraded (503) when the database does not answer a real query, or when its disk is full (a
 * write failed for lack of space and none succeeded since: bids are refused until space
 * returns). */
static void ops_health(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    (void)req;
    int db = store_health(app->store), full = store_disk_full();
    int bus_down = app->bus && !bus_up(app->bus); /* a cluster's node: forwarding needs it */
    double up = ops_now_s() - app->start_s;
    char body[384], cluster[128] = "";
    if (app->bus)
        snprintf(cluster, sizeof(cluster), ",\"redis\":\"%s\",\"leases\":\"%zu held\"",
                 bus_down ? "down" : "ok", auction_service_leases_held(app->auctions));
    int n =
        snprintf(body, sizeof(body),
                 "{\"status\":\"%s\",\"version\":\"%s\",\"uptimeS\":%lld,"
                 "\"checks\":{\"db\":\"%s\",\"disk\":\"%s\"%s}}",
                 db || full || bus_down ? "degraded" : "ok", gavel_version,
                 (long long)(up < 0 ? 0 : up), db ? "failed" : "ok", full ? "full" : "ok", cluster);
    http_resp_json(resp, db || full || bus_down ? 503 : 200, body, (size_t)n);
    http_resp_header(resp, "Cache-Control", "no-store");
}

static void ops_ready(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    (void)req;
    http_resp_header(resp, "Cache-Control", "no-store");
    json_resp_send(resp, app->ready ? 200 : 503,
                   json_pack("{s:s}", "status", app->ready ? "ready" : "starting"));
}

static void ops_openapi(http_req_t *req, http_resp_t *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    http_resp_json(resp, 200, api_openapi_json, api_openapi_json_len);
}

/* ---- metrics -------------------------------------------------------------------------------- */

void api_ops_observe(void *ctx, const router_route_t *route, int status, int64_t duration_us)
{
    app_t *app = ctx;
    app_metrics_t *m = &app->metrics;
    int slot = route ? route->index : ROUTER_MAX_ROUTES; /* unmatched: 404s, static, errors */
    app_route_counts_t *rc = &m->routes[slot];
    int i = 0;
    while (i < APP_STATUS_SLOTS - 1 && rc->status[i] != status && rc->status[i] != 0)
        i++;
    if (rc->status[i] == 0 || rc->status[i] == status)
        rc->status[i] = status;
    else
        rc->status[i] = -1; /* the last slot collects every further status as "other" */
    rc->count[i]++;
    if (status == 429) /* only a rate limit answers 429 (GV_ERATE_LIMITED) */
        m->rate_limited[slot]++;
    metrics_hist_observe(&m->http_latency, (double)duration_us / 1e6);
}

/* The loop thread's CPU time (ns); 0 if the clock is unavailable. */
static uint64_t ops_thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void api_ops_loop_turn(app_t *app)
{
    uint64_t now = uv_hrtime(), idle = uv_metrics_idle_time(app->loop), cpu = ops_thread_cpu_ns();
    app_metrics_t *m = &app->metrics;
    if (m->loop_last_cpu_ns && cpu >= m->loop_last_cpu_ns)
        metrics_hist_observe(&m->loop_turn_cpu, (double)(cpu - m->loop_last_cpu_ns) / 1e9);
    m->loop_last_cpu_ns = cpu;
    if (m->loop_last_ns) {
        uint64_t wall = now - m->loop_last_ns, waited = idle - m->loop_last_idle_ns;
        double busy = (double)(wall > waited ? wall - waited : 0) / 1e9;
        metrics_hist_observe(&m->loop_turn, busy);
        if (busy > m->loop_turn_max)
            m->loop_turn_max = busy;
    }
    m->loop_last_ns = now;
    m->loop_last_idle_ns = idle;
    if (app->hub) /* the write phase (idle handles) of this turn is over */
        hub_fanout_written(app->hub, now);
}

/* The event loop's and the group commit's health. */
static int ops_write_loop(app_t *app, buf_t *out)
{
    const auction_service_stats_t *st = auction_service_stats(app->auctions);
    int rc = metrics_hist_family_write(out, "gavel_loop_turn_seconds",
                                       "Busy time of one event-loop iteration (all but the wait).",
                                       &app->metrics.loop_turn);
    rc = rc ? rc
            : metrics_hist_family_write(out, "gavel_loop_turn_cpu_seconds",
                                        "CPU time the event-loop thread used in one iteration: the "
                                        "busy time less what the system gave to other threads.",
                                        &app->metrics.loop_turn_cpu);
    rc = rc ? rc
            : metrics_type_write(out, "gavel_loop_turn_max_seconds", "gauge",
                                 "The longest event-loop iteration since start.");
    rc =
        rc ? rc : buf_printf(out, "gavel_loop_turn_max_seconds %.6f\n", app->metrics.loop_turn_max);
    rc = rc ? rc
            : metrics_hist_family_write(out, "gavel_auction_commit_seconds",
                                        "One group commit of auction events (writer thread).",
                                        &st->commit_seconds);
    rc = rc ? rc
            : metrics_hist_family_write(out, "gavel_auction_commit_batch_events",
                                        "Auction events per group commit.", &st->batch_events);
    rc = rc ? rc
            : metrics_type_write(out, "gavel_db_checkpoints_total", "counter",
                                 "Write-ahead log checkpoints copied back off the commit path.");
    rc = rc ? rc
            : buf_printf(out, "gavel_db_checkpoints_total{mode=\"passive\"} %llu\n",
                         (unsigned long long)__atomic_load_n(&st->checkpoints, __ATOMIC_RELAXED));
    rc = rc ? rc
            : buf_printf(
                  out, "gavel_db_checkpoints_total{mode=\"restart\"} %llu\n",
                  (unsigned long long)__atomic_load_n(&st->checkpoint_restarts, __ATOMIC_RELAXED));
    rc = rc ? rc
            : buf_printf(
                  out, "gavel_db_checkpoints_total{mode=\"writer_catch_up\"} %llu\n",
                  (unsigned long long)__atomic_load_n(&st->checkpoint_catch_ups, __ATOMIC_RELAXED));
    rc = rc ? rc
            : metrics_type_write(out, "gavel_auction_release_turns_total", "counter",
                                 "Loop iterations that sent out part of a committed batch (its "
                                 "answers and broadcasts, at most 1 ms of them an iteration).");
    rc = rc ? rc
            : buf_printf(out, "gavel_auction_release_turns_total %llu\n",
                         (unsigned long long)st->release_turns);
    rc = rc ? rc
            : metrics_type_write(out, "gavel_auction_events_published_total", "counter",
                                 "Committed auction events broadcast to their rooms.");
    rc = rc ? rc
            : buf_printf(out, "gavel_auction_events_published_total %llu\n",
                         (unsigned long long)st->events_published);
    return rc;
}

/* A cluster's node: its leases and the events it exchanged with the other nodes. */
static int ops_write_cluster(app_t *app, buf_t *out)
{
    if (!app->bus)
        return 0;
    const auction_service_stats_t *st = auction_service_stats(app->auctions);
    int rc = buf_printf(
        out,
        "# HELP gavel_cluster_leases_held Auctions this node runs (holds the lease of)\n"
        "# TYPE gavel_cluster_leases_held gauge\ngavel_cluster_leases_held %zu\n"
        "# HELP gavel_cluster_lease_changes_total Leases this node took, and lost to another\n"
        "# TYPE gavel_cluster_lease_changes_total counter\n"
        "gavel_cluster_lease_changes_total{change=\"taken\"} %llu\n"
        "gavel_cluster_lease_changes_total{change=\"lost\"} %llu\n"
        "# HELP gavel_cluster_events_total Committed events sent to the other nodes, taken from "
        "them, and their frames the bus refused (followers read those from the store)\n"
        "# TYPE gavel_cluster_events_total counter\n"
        "gavel_cluster_events_total{way=\"published\"} %llu\n"
        "gavel_cluster_events_total{way=\"followed\"} %llu\n"
        "gavel_cluster_events_total{way=\"publish_failed\"} %llu\n"
        "# HELP gavel_cluster_gap_repairs_total Gaps in another node's events filled from the "
        "store\n# TYPE gavel_cluster_gap_repairs_total counter\n"
        "gavel_cluster_gap_repairs_total %llu\n",
        auction_service_leases_held(app->auctions), (unsigned long long)st->cluster.takes,
        (unsigned long long)st->cluster.losses, (unsigned long long)st->cluster.published,
        (unsigned long long)st->cluster.followed, (unsigned long long)st->cluster.publish_failed,
        (unsigned long long)st->cluster.repairs);
    rc = rc ? rc
            : metrics_hist_family_write(out, "gavel_cluster_publish_lag_seconds",
                                        "From an owner's publish of events to their receipt by "
                                        "another node (wall clocks).",
                                        &st->cluster.publish_lag);
    rc = rc ? rc
            : metrics_hist_family_write(out, "gavel_cluster_look_seconds",
                                        "One periodic look at the leases, followers and rooms, "
                                        "on the loop thread.",
                                        &st->cluster.look_seconds);
    return rc ? GV_ENOMEM : api_forward_metrics(app, out);
}

void api_ops_db_commit(void *ctx, int64_t duration_us)
{
    app_t *app = ctx;
    metrics_hist_observe(&app->metrics.db_commit, (double)duration_us / 1e6);
}

static int ops_write_requests(app_t *app, buf_t *out)
{
    int rc = metrics_type_write(out, "gavel_http_requests_total", "counter",
                                "HTTP requests by route and status.");
    for (int r = 0; r <= ROUTER_MAX_ROUTES && !rc; r++) {
        const app_route_counts_t *c = &app->metrics.routes[r];
        char route[160];
        metrics_label_escape(r < app->router.n ? app->router.routes[r].pattern : "unmatched", route,
                             sizeof(route));
        for (int i = 0; i < APP_STATUS_SLOTS && !rc && c->count[i]; i++) {
            if (c->status[i] > 0)
                rc = buf_printf(out, "gavel_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                                route, c->status[i], (unsigned long long)c->count[i]);
            else
                rc = buf_printf(out,
                                "gavel_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                                route, (unsigned long long)c->count[i]);
        }
    }
    return rc;
}

static int ops_write_gauges(app_t *app, buf_t *out)
{
    const http_stats_t *st = http_server_stats(app->http);
    const struct {
        const char *name, *type, *help;
        uint64_t value;
    } rows[] = {
        {"gavel_http_connections_open", "gauge", "Open HTTP connections.", st->open_http},
        {"gavel_ws_connections_open", "gauge", "Open WebSocket connections.", st->open_ws},
        {"gavel_connections_refused_total", "counter",
         "Connections refused at the connection limit.", st->refused},
        {"gavel_http_parse_errors_total", "counter",
         "Requests rejected as malformed or over a limit.", st->parse_errors},
        {"gavel_http_timeouts_total", "counter",
         "Connections closed by the header or body timeout.", st->timeouts},
        {"gavel_ws_output_cutoffs_total", "counter",
         "WebSockets closed (1008) because a slow reader reached the output cap.", st->ws_cutoffs},
        {"gavel_ws_messages_total", "counter", "WebSocket messages received.",
         app->metrics.ws_messages},
        {"gavel_http_socket_writes_total", "counter",
         "Socket writes of HTTP responses (the answers of one loop turn go out together).",
         st->http_writes},
        {"gavel_ws_socket_writes_total", "counter",
         "Socket writes of WebSocket output (one per connection per loop turn at most).",
         st->ws_writes},
        {"gavel_http_reads_put_off_total", "counter",
         "HTTP socket reads put off to a later loop turn: the turn's read budget was spent.",
         st->http_reads_put_off},
        {"gavel_ws_reads_put_off_total", "counter",
         "WebSocket reads put off to a later loop turn: the turn's read budget was spent.",
         st->ws_reads_put_off},
        {"gavel_auction_commits_failed_total", "counter",
         "Group commits that failed (answered 503, auctions reloaded).",
         auction_service_stats(app->auctions)->commits_failed},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) && !rc; i++) {
        rc = metrics_type_write(out, rows[i].name, rows[i].type, rows[i].help);
        rc =
            rc ? rc : buf_printf(out, "%s %llu\n", rows[i].name, (unsigned long long)rows[i].value);
    }
    return rc;
}

static int ops_write_bids(app_t *app, buf_t *out)
{
    int rc = metrics_type_write(out, "gavel_bids_total", "counter",
                                "Bid attempts by outcome (accepted or the rejection code).");
    rc = rc ? rc
            : buf_printf(out, "gavel_bids_total{outcome=\"accepted\"} %llu\n",
                         (unsigned long long)app->metrics.bids_accepted);
    for (int i = 1; i < APP_BID_CODES && !rc; i++)
        if (app->metrics.bids_rejected[i])
            rc = buf_printf(out, "gavel_bids_total{outcome=\"%s\"} %llu\n", err_api_code(-i),
                            (unsigned long long)app->metrics.bids_rejected[i]);
    return rc;
}

/* ---- what an operator alerts on ------------------------------------------------------------ */

static int ops_write_gauge(buf_t *out, const char *name, const char *help, long long value)
{
    int rc = metrics_type_write(out, name, "gauge", help);
    return rc ? rc : buf_printf(out, "%s %lld\n", name, value);
}

/* One counter family with one label: n values named by names. */
static int ops_write_labelled(buf_t *out, const char *name, const char *help, const char *label,
                              const char *const *names, const uint64_t *values, size_t n)
{
    int rc = metrics_type_write(out, name, "counter", help);
    for (size_t i = 0; i < n && !rc; i++)
        rc = buf_printf(out, "%s{%s=\"%s\"} %llu\n", name, label, names[i],
                        (unsigned long long)values[i]);
    return rc;
}

/* 429s by route pattern (HTTP, routes that refused at least once) and WebSocket bids. */
static int ops_write_rate_limited(app_t *app, buf_t *out)
{
    const app_metrics_t *m = &app->metrics;
    int rc = metrics_type_write(out, "gavel_rate_limited_total", "counter",
                                "Requests refused by a rate limit (429), by route pattern; "
                                "WebSocket bids as route \"ws:bid\".");
    for (int r = 0; r <= ROUTER_MAX_ROUTES && !rc; r++) {
        char route[160];
        if (!m->rate_limited[r])
            continue;
        metrics_label_escape(r < app->router.n ? app->router.routes[r].pattern : "unmatched", route,
                             sizeof(route));
        rc = buf_printf(out, "gavel_rate_limited_total{route=\"%s\"} %llu\n", route,
                        (unsigned long long)m->rate_limited[r]);
    }
    return rc ? rc
              : buf_printf(out, "gavel_rate_limited_total{route=\"ws:bid\"} %llu\n",
                           (unsigned long long)m->rate_limited_ws_bid);
}

/* The bid round trip (by outcome) and the fan-out delay. */
static int ops_write_latencies(app_t *app, buf_t *out)
{
    const char *name = "gavel_bid_round_trip_seconds";
    int rc = metrics_type_write(out, name, "histogram",
                                "From a bid's receipt (request or message read) to its answer "
                                "queued after the commit, by outcome.");
    rc =
        rc ? rc
           : metrics_hist_write(out, name, "outcome=\"accepted\"", &app->metrics.bid_round_trip[0]);
    rc =
        rc ? rc
           : metrics_hist_write(out, name, "outcome=\"rejected\"", &app->metrics.bid_round_trip[1]);
    return rc ? rc
              : metrics_hist_family_write(
                    out, "gavel_fanout_delay_seconds",
                    "From an auction event's commit to its frame handed to the sockets of its "
                    "room (one observation per event).",
                    hub_fanout_delay(app->hub));
}

static int ops_write_activity(app_t *app, buf_t *out)
{
    static const char *const rooms[APP_ROOMS] = {"auction", "league"};
    static const char *const roles[APP_JOINED_ROLES] = {"manager", "spectator"};
    const app_metrics_t *m = &app->metrics;
    int rc = ops_write_gauge(out, "gavel_auctions_live",
                             "Auctions the server holds that have begun and not completed "
                             "(running or paused).",
                             (long long)auction_service_live_count(app->auctions));
    rc = rc ? rc
            : ops_write_gauge(out, "gavel_leagues", "Leagues in the database.",
                              (long long)m->leagues);
    rc = rc ? rc
            : ops_write_labelled(out, "gavel_league_members_joined_total",
                                 "Members who joined a league: managers by invite code, "
                                 "spectators by watch code.",
                                 "role", roles, m->members_joined, APP_JOINED_ROLES);
    rc = rc ? rc
            : ops_write_labelled(out, "gavel_ws_joins_total",
                                 "Successful WebSocket room joins, by kind of room.", "room", rooms,
                                 m->ws_joins, APP_ROOMS);
    rc = rc ? rc
            : ops_write_labelled(out, "gavel_client_errors_total",
                                 "Errors reported by the web app, by kind (unknown kinds as "
                                 "\"other\").",
                                 "kind", api_client_error_kinds, m->client_errors,
                                 APP_CLIENT_ERROR_KINDS);
    rc = rc ? rc : ops_write_rate_limited(app, out);
    return rc ? rc : ops_write_latencies(app, out);
}

static void ops_metrics(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    buf_t *out = &resp->body;
    (void)req;
    int rc = ops_write_requests(app, out);
    rc = rc ? rc
            : metrics_hist_family_write(out, "gavel_http_request_duration_seconds",
                                        "Time from a request's first byte to its response.",
                                        &app->metrics.http_latency);
    rc = rc ? rc
            : metrics_hist_family_write(out, "gavel_db_commit_duration_seconds",
                                        "Duration of database commits (fsync included).",
                                        &app->metrics.db_commit);
    rc = rc ? rc : ops_write_loop(app, out);
    rc = rc ? rc : ops_write_gauges(app, out);
    rc = rc ? rc : ops_write_bids(app, out);
    rc = rc ? rc : ops_write_activity(app, out);
    rc = rc ? rc : ops_write_cluster(app, out);
    rc = rc ? rc : api_season_sync_metrics(app, out);
    rc = rc ? rc : api_backups_metrics(app, out);
    rc = rc ? rc : api_report_metrics(app, out);
    rc = rc ? rc : metrics_process_write(out, app->start_s);
    if (rc) {
        http_resp_error(resp, GV_EINTERNAL, NULL, NULL);
        return;
    }
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    http_resp_header(resp, "Cache-Control", "no-store");
}

/* Counts the leagues in the store (every league has one of the catalogue's sports): once, at
 * start; creations and deletions keep the count after that. 0 or GV_E*. */
int api_ops_register(app_t *app)
{
    router_t *r = &app->router;
    app_metrics_t *m = &app->metrics;
    metrics_hist_init(&m->http_latency, metrics_latency_bounds, metrics_latency_nbounds);
    metrics_hist_init(&m->db_commit, metrics_latency_bounds, metrics_latency_nbounds);
    metrics_hist_init(&m->loop_turn, metrics_latency_bounds, metrics_latency_nbounds);
    metrics_hist_init(&m->loop_turn_cpu, metrics_latency_bounds, metrics_latency_nbounds);
    for (int i = 0; i < 2; i++)
        metrics_hist_init(&m->bid_round_trip[i], metrics_latency_bounds, metrics_latency_nbounds);
    app->start_s = ops_now_s();
    int rc = store_league_count(app->store, &m->leagues);
    if (rc)
        log_error("league count failed err=%s detail=\"%s\"", err_name(rc),
                  store_errmsg(app->store));
    rc = rc ? rc : router_add(r, HTTP_M_GET, "/api/health", ops_health, app, 0);
    rc = rc ? rc : router_add(r, HTTP_M_GET, "/api/ready", ops_ready, app, 0);
    rc = rc ? rc : router_add(r, HTTP_M_GET, "/metrics", ops_metrics, app, 0);
    rc = rc ? rc : router_add(r, HTTP_M_GET, "/api/openapi.json", ops_openapi, app, 0);
    return rc;
}
