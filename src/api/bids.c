/* The bid path shared by REST and WebSocket. */
#include "api/bids.h"

#include "core/err.h"
#include "core/money.h"
#include "json/json_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rejection body of an engine code, with a human message and details. */
static json_t *auction_rejection(const engine_t *e, int m, int code, const char *currency)
{
    char msg[200], money[48];
    json_t *details = json_object();
    snprintf(msg, sizeof(msg), "%s", err_message(code));
    if (code == GV_EBID_TOO_LOW) {
        money_text(currency, engine_min_bid(e), money, sizeof(money));
        snprintf(msg, sizeof(msg), "Bid must be at least %s", money);
        json_object_set_new(details, "minimum", json_integer(engine_min_bid(e)));
    } else if (code == GV_EOVER_MAX_BID) {
        int empty = e->cfg.roster_size - e->managers[m].roster_n;
        money_text(currency, engine_max_bid(e, m), money, sizeof(money));
        char keep[48];
        money_text(currency, e->cfg.min_bid, keep, sizeof(keep));
        snprintf(msg, sizeof(msg),
                 "You can bid at most %s: keep %s for each of your %d other empty slots", money,
                 keep, empty - 1);
        json_object_set_new(details, "maxBid", json_integer(engine_max_bid(e, m)));
    }
    return json_pack("{s:{s:s, s:s, s:o}}", "error", "code", err_api_code(code), "message", msg,
                     "details", details);
}

/* Runs a bid through the engine and records its outcome for the clientBidId (written in the same
 * commit as the bid's events). */
static json_t *api_bid_apply(app_t *app, auction_live_t *live, const api_bid_t *b)
{
    engine_cmd_t cmd = {.type = ENGINE_CMD_BID, .lot = b->lot, .amount = b->amount};
    cmd.manager = auction_live_manager(live, b->user);
    int rc = auction_service_command(app->auctions, live, &cmd, b->user, NULL, NULL);
    const engine_t *e = auction_live_working(live); /* what the bid was judged on */
    json_t *out;
    if (rc) {
        app->metrics.bids_rejected[-rc < APP_BID_CODES ? -rc : 0]++;
        out = json_pack("{s:i, s:o}", "status", err_http_status(rc), "body",
                        auction_rejection(e, cmd.manager, rc, b->currency));
    } else {
        app->metrics.bids_accepted++;
        out = json_pack("{s:i, s:{s:b, s:I, s:i, s:I, s:I}}", "status", 200, "body", "accepted", 1,
                        "seq", (json_int_t)e->seq, "lot", b->lot, "amount", (json_int_t)b->amount,
                        "endsAtMs", (json_int_t)e->ends_at_ms);
    }
    /* Only a decision of the rules is the clientBidId's outcome: after a failure of ours (out of
     * memory, 5xx) a resend must be judged afresh, not answered with the failure. */
    if (err_http_status(rc) >= 500)
        return out;
    char *text = out ? json_text(out, JSON_COMPACT) : NULL;
    int stored = text && auction_service_outcome_put(app->auctions, auction_live_id(live), b->user,
                                                     b->cbid, rc ? 0 : e->seq, text) == 0;
    free(text);
    if (stored)
        return out;
    /* The decision cannot be recorded with it: neither becomes durable, and the answer is ours. */
    if (rc == 0)
        auction_service_fail_turn(app->auctions, live);
    json_decref(out);
    return json_pack("{s:i, s:o}", "status", 500, "body",
                     auction_rejection(e, cmd.manager, GV_ENOMEM, b->currency));
}

json_t *api_bid_run(app_t *app, auction_live_t *live, const api_bid_t *b)
{
    char prior[1024];
    int64_t retry = 0;
    if (auction_service_outcome_get(app->auctions, auction_live_id(live), b->user, b->cbid, prior,
                                    sizeof(prior)) == 0)
        return json_loads(prior, 0, NULL); /* a replay: the first outcome, whatever it was */
    if (rl_take(app->rl.bid_user, b->user, clock_now_ms(&app->clock), 1, &retry) != 0) {
        app->metrics.bids_rejected[-GV_ERATE_LIMITED]++;
        char details[64];
        snprintf(details, sizeof(details), "{\"retryAfterMs\":%lld}", (long long)retry);
        return json_pack("{s:i, s:{s:{s:s, s:s, s:o}}}", "status", 429, "body", "error", "code",
                         "rate_limited", "message", err_message(GV_ERATE_LIMITED), "details",
                         json_loads(details, 0, NULL));
    }
    return api_bid_apply(app, live, b);
}

void api_bid_answered(app_t *app, uint64_t t0_ns, int accepted)
{
    uint64_t now = uv_hrtime();
    double s = now > t0_ns ? (double)(now - t0_ns) / 1e9 : 0;
    metrics_hist_observe(&app->metrics.bid_round_trip[accepted ? 0 : 1], s);
}
