/* Error reports of the application: every 5xx response the HTTP server sends (with its request id,
 * route, status and error code) and every failed group commit of the auction service (its
 * waiting commands were answered unavailable, its auctions reloaded from the store). */
#include "api/report_api.h"

#include "auction/service.h"
#include "core/err.h"
#include "core/log.h"
#include "report/report.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static uv_prepare_t g_watch;      /* looks at the failed-commit count once per loop turn */
static uint64_t g_commits_failed; /* the count already reported */

/* The context of a 5xx: its error body's message, else a short JSON body as it is (health's
 * "degraded" with its checks); "" otherwise. */
static void report_api_context(const http_resp_t *resp, char *out, size_t n)
{
    out[0] = '\0';
    if (!resp->body.len)
        return;
    json_t *root = json_loadb(resp->body.data, resp->body.len, 0, NULL);
    json_t *msg = json_object_get(json_object_get(root, "error"), "message");
    if (json_is_string(msg))
        snprintf(out, n, "%s", json_string_value(msg));
    else if (root && resp->body.len < n)
        snprintf(out, n, "%.*s", (int)resp->body.len, resp->body.data);
    json_decref(root);
}

/* The GV_E* code of a 5xx whose body was not made by http_resp_error. */
static int report_api_err_of(int status)
{
    return status == 503 ? GV_EUNAVAILABLE : status == 501 ? GV_ENOT_IMPLEMENTED : GV_EINTERNAL;
}

static void report_api_on_http_error(void *ctx, const http_req_t *req, const http_resp_t *resp)
{
    (void)ctx;
    const char *route = req->route ? req->route->pattern : NULL;
    if (route && resp->status == 503 && !strcmp(route, "/api/ready"))
        return; /* starting or stopping: the state the probe asks about, not a failure */
    char context[REPORT_TEXT_MAX];
    report_api_context(resp, context, sizeof(context));
    report_t r = {.kind = REPORT_HTTP_5XX,
                  .rid = req->request_id,
                  .method = req->method_name,
                  .route = route,
                  .path = req->path,
                  .status = resp->status,
                  .err = resp->error ? resp->error : report_api_err_of(resp->status),
                  .context = context};
    report_error(&r);
}

/* A failed group commit is reported once, whichever requests or sockets were waiting on it. */
static void report_api_watch(uv_prepare_t *h)
{
    app_t *app = h->data;
    uint64_t failed = auction_service_stats(app->auctions)->commits_failed;
    if (failed == g_commits_failed)
        return;
    g_commits_failed = failed;
    report_t r = {.kind = REPORT_INVARIANT,
                  .err = GV_EUNAVAILABLE,
                  .context = "auction group commit failed: its commands were answered "
                             "unavailable and its auctions reloaded from the store"};
    report_error(&r);
}

int api_report_check(const config_t *cfg, char *why, size_t n)
{
    return report_sentry_check(cfg->sentry_dsn, why, n);
}

int api_report_start(app_t *app)
{
    int rc = report_sentry_start(app->cfg.sentry_dsn, gavel_version);
    if (rc) {
        log_error("error reports: the Sentry sender cannot start err=%s", err_name(rc));
        return rc;
    }
    http_server_set_error_observer(app->http, report_api_on_http_error, app);
    g_commits_failed = auction_service_stats(app->auctions)->commits_failed;
    uv_prepare_init(app->loop, &g_watch);
    g_watch.data = app;
    uv_prepare_start(&g_watch, report_api_watch);
    uv_unref((uv_handle_t *)&g_watch);
    if (app->cfg.sentry_dsn[0])
        log_info("error reports also go to Sentry");
    return 0;
}

void api_report_stop(app_t *app)
{
    (void)app;
    report_sentry_stop();
}

int api_report_metrics(app_t *app, buf_t *out)
{
    static const char *const outcomes[] = {"sent", "dropped", "failed"};
    report_stats_t st;
    (void)app;
    report_stats_get(&st);
    const uint64_t counts[] = {st.sent, st.dropped, st.failed};
    int rc =
        metrics_type_write(out, "gavel_error_reports_total", "counter",
                           "Error reports meant for Sentry: sent (accepted), dropped (over the "
                           "rate limit, queue full, or at shutdown), failed (no answer or not "
                           "2xx).");
    for (size_t i = 0; i < 3 && !rc; i++)
        rc = buf_printf(out, "gavel_error_reports_total{outcome=\"%s\"} %llu\n", outcomes[i],
                        (unsigned long long)counts[i]);
    return rc;
}
