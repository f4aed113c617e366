/* `gavel check`: every stored auction's log replayed and compared with its derived rows. */
#include "auction/service_int.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    auction_service_t *svc;
    FILE *out;
    int bad;
} svc_verify_t;

static int svc_count_bid(void *ctx, const store_bid_row_t *b)
{
    (void)b;
    ++*(int *)ctx;
    return 0;
}

static int svc_count_bid_event(void *ctx, const store_auction_event_t *ev)
{
    *(int *)ctx += strcmp(ev->type, "bid") == 0;
    return 0;
}

typedef struct {
    auction_live_t *live;
    int rows, wrong;
} svc_roster_check_t;

/* Each stored roster row must be what the replayed engine says the asset's owner and price are. */
static int svc_check_roster_row(void *ctx, const store_roster_row_t *r)
{
    svc_roster_check_t *c = ctx;
    int a = auction_live_asset_index(c->live, r->asset_id);
    int m = r->user_id ? auction_live_manager(c->live, r->user_id) : -1;
    c->rows++;
    c->wrong +=
        a < 0 || m < 0 || c->live->eng.owner[a] != m || c->live->eng.price_of[a] != r->price;
    return 0;
}

static int svc_check_rosters(auction_service_t *svc, auction_live_t *live)
{
    svc_roster_check_t c = {live, 0, 0};
    store_auction_rosters_each(svc->deps.store, live->id, svc_check_roster_row, &c);
    return !c.wrong && c.rows == engine_sold_count(&live->eng);
}

static int svc_verify_one(void *ctx, const store_auction_t *row)
{
    svc_verify_t *v = ctx;
    auction_live_t *live = NULL;
    const char *why = NULL;
    int bids = 0, bid_events = 0;
    int rc = svc_live_load(v->svc, row, &live);
    if (rc) {
        why = "the event log does not replay";
    } else {
        for (int epoch = 0; epoch <= live->epoch; epoch++)
            store_auction_bids_each(v->svc->deps.store, row->id, epoch, 0, svc_count_bid, &bids);
        store_auction_events_each(v->svc->deps.store, row->id, 0, 0, svc_count_bid_event,
                                  &bid_events);
        if (live->eng.seq != row->seq)
            why = "seq differs from the log";
        else if (strcmp(engine_status_name(live->eng.status), row->status) != 0)
            why = "status differs from the log";
        else if (bids != bid_events)
            why = "accepted bids differ from the log";
        else if (!svc_check_rosters(v->svc, live))
            why = "rosters differ from the log";
    }
    fprintf(v->out, "auction %s: %s\n", row->id, why ? why : "ok");
    v->bad += why != NULL;
    if (live)
        svc_live_drop(v->svc, live);
    return 0;
}

int auction_service_verify(auction_service_t *svc, void *out, int *bad)
{
    svc_verify_t v = {svc, out, 0};
    int rc = store_auctions_each(svc->deps.store, 1, svc_verify_one, &v);
    *bad = v.bad;
    return rc;
}
