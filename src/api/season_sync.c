/* The periodic Football-Data.org sync inside `gavel serve` (on with --football-data-token):
 * builds it from the flags, announces `standings_updated` to a league room when a sync changed
 * its fixtures, writes one log line per request, and renders its /metrics counters. */
#include "api/app.h"

#include "core/err.h"
#include "core/log.h"
#include "season/fd_sync.h"

#include <inttypes.h>
#include <stdio.h>

static const char *const sync_outcomes[FD_OUTCOMES] = {"ok", "malformed", "throttled", "failed"};

static void sync_changed(void *ctx, const char *league_id)
{
    api_league_publish(ctx, league_id, json_pack("{s:s}", "type", "standings_updated"));
}

static void sync_round(void *ctx, const fd_round_t *r)
{
    (void)ctx;
    if (r->outcome == FD_OK)
        log_info("football-data sync competition=%s season=%d outcome=ok status=%ld leagues=%d "
                 "created=%d updated=%d skipped=%d errors=%d ms=%" PRId64,
                 r->key.code, r->key.season, r->http_status, r->leagues, r->created, r->updated,
                 r->skipped, r->errors, r->duration_ms);
    else
        log_info("football-data sync competition=%s season=%d outcome=%s status=%ld "
                 "retry_after_ms=%" PRId64 " ms=%" PRId64 " error=\"%s\"",
                 r->key.code, r->key.season, sync_outcomes[r->outcome], r->http_status, r->retry_ms,
                 r->duration_ms, r->reason);
}

/* The sync's settings from the server's flags (borrowing their strings). */
static fd_sync_config_t sync_config(const config_t *c)
{
    return (fd_sync_config_t){.token = c->football_data_token,
                              .base_url = c->football_data_url,
                              .every_s = c->sync_every_s,
                              .max_requests = (int)c->sync_max_requests,
                              .window_s = c->sync_window_s,
                              .timeout_s = c->sync_timeout_s};
}

int api_season_sync_check(const config_t *c, char *why, size_t n)
{
    fd_sync_config_t cfg = sync_config(c);
    return c->football_data_token[0] ? fd_sync_config_check(&cfg, why, n) : 0;
}

int api_season_sync_start(app_t *app)
{
    const config_t *c = &app->cfg;
    if (!c->football_data_token[0])
        return 0;
    fd_sync_config_t cfg = sync_config(c);
    fd_sync_hooks_t hooks = {.changed = sync_changed, .round = sync_round, .ctx = app};
    char why[160];
    int rc = fd_sync_config_check(&cfg, why, sizeof(why));
    rc = rc ? rc : fd_sync_new(&app->fd_sync, app->loop, app->store, &app->clock, &cfg, &hooks);
    rc = rc ? rc : fd_sync_start(app->fd_sync);
    if (rc) {
        log_error("football-data sync not started err=%s detail=\"%s\"", err_name(rc),
                  rc == GV_EINVALID_REQUEST ? why : err_message(rc));
        fd_sync_stop(app->fd_sync);
        return rc;
    }
    log_info("football-data sync on url=%s every_s=%" PRId64 " max_requests=%" PRId64
             " window_s=%" PRId64,
             c->football_data_url, c->sync_every_s, c->sync_max_requests, c->sync_window_s);
    return 0;
}

void api_season_sync_stop(app_t *app)
{
    fd_sync_stop(app->fd_sync);
}

void api_season_sync_free(app_t *app)
{
    fd_sync_free(app->fd_sync);
    app->fd_sync = NULL;
}

int api_season_sync_metrics(app_t *app, buf_t *out)
{
    const fd_sync_stats_t *st = fd_sync_stats(app->fd_sync);
    int rc = metrics_type_write(out, "gavel_football_data_requests_total", "counter",
                                "Football-Data.org requests of the sync by outcome.");
    for (int i = 0; i < FD_OUTCOMES && !rc; i++)
        rc = buf_printf(out, "gavel_football_data_requests_total{outcome=\"%s\"} %llu\n",
                        sync_outcomes[i], (unsigned long long)st->requests[i]);
    rc = rc ? rc
            : metrics_type_write(out, "gavel_football_data_fixtures_total", "counter",
                                 "Fixtures the sync created or changed, over all leagues.");
    rc = rc ? rc
            : buf_printf(out,
                         "gavel_football_data_fixtures_total{change=\"created\"} %llu\n"
                         "gavel_football_data_fixtures_total{change=\"updated\"} %llu\n",
                         (unsigned long long)st->created, (unsigned long long)st->updated);
    rc = rc ? rc
            : metrics_type_write(out, "gavel_football_data_row_errors_total", "counter",
                                 "Matches of the provider's answers that could not be imported.");
    rc = rc ? rc
            : buf_printf(out, "gavel_football_data_row_errors_total %llu\n",
                         (unsigned long long)st->row_errors);
    return rc;
}
