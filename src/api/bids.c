/* The bid path shared by REST and WebSocket. */
#include "api/bids.h"

#include "core/err.h"
#include "core/money.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rejection of an engine code, with a human message and details. */
static void bid_rejection(const engine_t *e, int m, int code, const char *currency,
                          bid_outcome_t *o)
{
    char msg[200], money[48], details[64] = "";
    snprintf(msg, sizeof(msg), "%s", err_message(code));
    if (code == GV_EBID_TOO_LOW) {
        money_text(currency, engine_min_bid(e), money, sizeof(money));
        snprintf(msg, sizeof(msg), "Bid must be at least %s", money);
        snprintf(details, sizeof(details), "{\"minimum\":%lld}", (long long)engine_min_bid(e));
    } else if (code == GV_EOVER_MAX_BID) {
        int empty = e->cfg.roster_size - e->managers[m].roster_n;
        money_text(currency, engine_max_bid(e, m), money, sizeof(money));
        char keep[48];
        money_text(currency, e->cfg.min_bid, keep, sizeof(keep));
        snprintf(msg, sizeof(msg),
                 "You can bid at most %s: keep %s for each of your %d other empty slots", money,
                 keep, empty - 1);
        snprintf(details, sizeof(details), "{\"maxBid\":%lld}", (long long)engine_max_bid(e, m));
    }
    bid_outcome_rejected(o, err_http_status(code), err_api_code(code), msg,
                         details[0] ? details : NULL);
}

/* Runs a bid through the engine and records its outcome for the clientBidId (written in the same
 * commit as the bid's events). */
static void api_bid_apply(app_t *app, auction_live_t *live, const api_bid_t *b, bid_outcome_t *o)
{
    engine_cmd_t cmd = {.type = ENGINE_CMD_BID, .lot = b->lot, .amount = b->amount};
    cmd.manager = auction_live_manager(live, b->user);
    int rc = auction_service_command(app->auctions, live, &cmd, b->user, NULL, NULL);
    const engine_t *e = auction_live_working(live); /* what the bid was judged on */
    if (rc) {
        app->metrics.bids_rejected[-rc < APP_BID_CODES ? -rc : 0]++;
        bid_rejection(e, cmd.manager, rc, b->currency, o);
    } else {
        app->metrics.bids_accepted++;
        bid_outcome_accepted(o, e->seq, b->lot, b->amount, e->ends_at_ms);
    }
    /* Only a decision of the rules is the clientBidId's outcome: after a failure of ours (out of
     * memory, 5xx) a resend must be judged afresh, not answered with the failure. */
    if (o->status >= 500)
        return;
    buf_t rec;
    buf_init(&rec);
    int stored = bid_outcome_record(o, &rec) == 0 &&
                 auction_service_outcome_put(app->auctions, auction_live_id(live), b->user, b->cbid,
                                             rc ? 0 : e->seq, rec.data) == 0;
    buf_deinit(&rec);
    if (stored)
        return;
    /* The decision cannot be recorded with it: neither becomes durable, and the answer is ours. */
    if (rc == 0)
        auction_service_fail_turn(app->auctions, live);
    bid_rejection(e, cmd.manager, GV_ENOMEM, b->currency, o);
}

void api_bid_run(app_t *app, auction_live_t *live, const api_bid_t *b, bid_outcome_t *o)
{
    char prior[1024];
    int64_t retry = 0;
    if (auction_service_outcome_get(app->auctions, auction_live_id(live), b->user, b->cbid, prior,
                                    sizeof(prior)) == 0) {
        /* a replay: the first outcome, whatever it was */
        if (bid_outcome_parse(prior, o) != 0)
            bid_outcome_rejected(o, 500, err_api_code(GV_EINTERNAL), err_message(GV_EINTERNAL),
                                 NULL);
        return;
    }
    if (rl_take(app->rl.bid_user, b->user, clock_now_ms(&app->clock), 1, &retry) != 0) {
        app->metrics.bids_rejected[-GV_ERATE_LIMITED]++;
        char details[64];
        snprintf(details, sizeof(details), "{\"retryAfterMs\":%lld}", (long long)retry);
        bid_outcome_rejected(o, err_http_status(GV_ERATE_LIMITED), err_api_code(GV_ERATE_LIMITED),
                             err_message(GV_ERATE_LIMITED), details);
        o->retry_after_ms = retry;
        return;
    }
    api_bid_apply(app, live, b, o);
}

void api_bid_answered(app_t *app, uint64_t t0_ns, int accepted)
{
    uint64_t now = uv_hrtime();
    double s = now > t0_ns ? (double)(now - t0_ns) / 1e9 : 0;
    metrics_hist_observe(&app->metrics.bid_round_trip[accepted ? 0 : 1], s);
}
