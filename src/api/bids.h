/* Bids from REST and WebSocket alike: idempotency by clientBidId, the per-user rate limit, the
 * engine, human rejection messages, and the outcome recorded with the bid's commit. */
#ifndef GAVEL_API_BIDS_H
#define GAVEL_API_BIDS_H

#include "api/app.h"
#include "api/bid_outcome.h"
#include "auction/service.h"

typedef struct {
    const char *user; /* the bidder's user id */
    int lot;
    int64_t amount;
    const char *cbid;     /* clientBidId, 1..AUCTION_CBID_MAX-1 bytes */
    const char *currency; /* the league's, for messages */
} api_bid_t;

/* api_bid_run places b in live: a clientBidId seen before gets its first outcome again; a user
 * over the bid rate gets 429 (o->retry_after_ms); else the engine decides, and its decision is
 * recorded for the clientBidId with the bid's commit. Fills *o (a failure of ours is a 5xx
 * outcome). The caller answers only after the commit (auction_service_after_commit). */
void api_bid_run(app_t *app, auction_live_t *live, const api_bid_t *b, bid_outcome_t *o);

/* api_bid_answered records the round trip of a bid that api_bid_run decided, from t0_ns
 * (uv_hrtime when its request or message was read) to now, when its answer was just queued;
 * accepted says what the answer said. */
void api_bid_answered(app_t *app, uint64_t t0_ns, int accepted);

#endif
