/* The auction room over WebSocket: join (snapshot, or the missed events after sinceSeq), leave,
 * bids through the same path as REST, presence. Everything sent waits for the group commit. */
#include "api/bids.h"
#include "api/forward.h"
#include "api/ws_api.h"
#include "json/json_text.h"

#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ws_api_error_reply(buf_t *reply, const char *code, const char *message, const char *auction)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "type", "error", "code", code, "message", message);
    if (o && auction)
        json_object_set_new(o, "auctionId", json_string(auction));
    char *text = o ? json_text(o, JSON_COMPACT) : NULL;
    json_decref(o);
    int rc = text ? buf_puts(reply, text) : GV_ENOMEM;
    free(text);
    return rc;
}

/* Finds the auction and checks the caller belongs to its league (any role). */
static int ws_auction_access(app_t *app, ws_api_session_t *session, const char *id,
                             auction_live_t **live, buf_t *reply)
{
    store_member_t m;
    if (!id || strlen(id) >= 40 || auction_service_get(app->auctions, id, live) != 0)
        return ws_api_error_reply(reply, "not_found", "No such auction.", id), GV_ENOT_FOUND;
    if (store_member_get(app->store, auction_live_league(*live), session->user_id, &m) != 0)
        return ws_api_error_reply(reply, "forbidden", "You are not a member of this league.", id),
               GV_EFORBIDDEN;
    return 0;
}

static void ws_room_name(const auction_live_t *live, char room[HUB_ROOM_MAX])
{
    snprintf(room, HUB_ROOM_MAX, "auction:%s", auction_live_id(live));
}

typedef struct {
    app_t *app;
    ws_conn_t *conn;
    auction_live_t *live;
    int64_t since;         /* -1: snapshot */
    bid_outcome_t outcome; /* bids: the outcome */
    uint64_t t0_ns;        /* bids: when the message was read */
    char cbid[AUCTION_CBID_MAX];
} ws_wait_t;

static void ws_send_text(void *ctx, const char *json, size_t len)
{
    ws_conn_send_text(ctx, json, len);
}

static void ws_send_json(ws_conn_t *c, json_t *o)
{
    char *text = o ? json_text(o, JSON_COMPACT) : NULL;
    if (text)
        ws_conn_send_text(c, text, strlen(text));
    free(text);
    json_decref(o);
}

/* After the commit: subscribe, then the missed events or a snapshot; then presence. */
static void ws_join_after(void *ctx, int status)
{
    ws_wait_t *w = ctx;
    ws_api_session_t *session = ws_conn_user(w->conn);
    char room[HUB_ROOM_MAX];
    ws_room_name(w->live, room);
    if (status == 0 && session && ws_conn_is_open(w->conn) &&
        hub_join(w->app->hub, room, w->conn, session->user_id) == 0) {
        int i = 0;
        while (i < session->n_auctions && strcmp(session->auctions[i], auction_live_id(w->live)))
            i++;
        if (i == session->n_auctions)
            snprintf(session->auctions[session->n_auctions++], 40, "%s", auction_live_id(w->live));
        w->app->metrics.ws_joins[APP_ROOM_AUCTION]++;
        if (w->since < 0 ||
            auction_service_missed(w->app->auctions, w->live, w->since, ws_send_text, w->conn) != 0)
            ws_send_json(w->conn, json_pack("{s:s, s:o}", "type", "snapshot", "auction",
                                            auction_service_state(w->app->auctions, w->live)));
        auction_service_presence_changed(w->app->auctions, w->live);
    }
    ws_conn_release(w->conn);
    free(w);
}

int ws_auction_join(app_t *app, ws_api_session_t *session, json_t *msg, buf_t *reply)
{
    const char *id = json_string_value(json_object_get(msg, "auctionId"));
    json_t *since = json_object_get(msg, "sinceSeq");
    auction_live_t *live;
    if (!session->conn)
        return ws_api_error_reply(reply, "unavailable", "No connection.", id);
    if (since && (!json_is_integer(since) || json_integer_value(since) < 0))
        return ws_api_error_reply(reply, "invalid_request", "sinceSeq must be a seq.", id);
    if (ws_auction_access(app, session, id, &live, reply) != 0)
        return 0;
    if (session->n_auctions >= WS_API_ROOMS)
        return ws_api_error_reply(reply, "invalid_request", "Too many auction rooms joined.", id);
    ws_wait_t *w = calloc(1, sizeof(*w));
    if (!w)
        return GV_ENOMEM;
    *w = (ws_wait_t){.app = app,
                     .conn = session->conn,
                     .live = live,
                     .since = since ? json_integer_value(since) : -1};
    ws_conn_ref(w->conn);
    auction_service_after_publish(app->auctions, ws_join_after, w);
    return 0;
}

int ws_auction_leave(app_t *app, ws_api_session_t *session, json_t *msg, buf_t *reply)
{
    const char *id = json_string_value(json_object_get(msg, "auctionId"));
    auction_live_t *live = id ? auction_service_find(app->auctions, id) : NULL;
    (void)reply;
    for (int i = 0; i < session->n_auctions; i++) {
        if (id && strcmp(session->auctions[i], id) == 0) {
            memmove(session->auctions[i], session->auctions[session->n_auctions - 1], 40);
            session->n_auctions--;
            break;
        }
    }
    if (live) {
        char room[HUB_ROOM_MAX];
        ws_room_name(live, room);
        hub_leave(app->hub, room, session->conn);
        auction_service_presence_changed(app->auctions, live);
    }
    return 0;
}

void ws_auction_closed(app_t *app, ws_api_session_t *session)
{
    for (int i = 0; i < session->n_auctions; i++) {
        auction_live_t *live = auction_service_find(app->auctions, session->auctions[i]);
        if (live)
            auction_service_presence_changed(app->auctions, live);
    }
    session->n_auctions = 0;
}

static void ws_bid_after(void *ctx, int status)
{
    ws_wait_t *w = ctx;
    if (ws_conn_is_open(w->conn)) {
        buf_t text;
        buf_init(&text);
        bid_outcome_t failed;
        if (status != 0)
            bid_outcome_rejected(&failed, 503, "unavailable",
                                 "The bid could not be recorded; try again.", NULL);
        if (bid_outcome_result(status == 0 ? &w->outcome : &failed, w->cbid, &text) == 0)
            ws_conn_send_text(w->conn, text.data, text.len);
        buf_deinit(&text);
        api_bid_answered(w->app, w->t0_ns, status == 0 && w->outcome.status == 200);
    }
    ws_conn_release(w->conn);
    free(w);
}

/* A forwarded bid's outcome (cluster): answered like one decided here. */
static void ws_bid_forwarded(void *ctx, const bid_outcome_t *o)
{
    ws_wait_t *w = ctx;
    w->outcome = *o;
    ws_bid_after(w, 0);
}

/* Reads the bid fields; answers a bid_result with invalid_request when they are wrong. */
static int ws_bid_fields(json_t *msg, api_bid_t *b, buf_t *reply)
{
    json_t *lot = json_object_get(msg, "lot"), *amount = json_object_get(msg, "amount");
    b->cbid = json_string_value(json_object_get(msg, "clientBidId"));
    if (!b->cbid || !*b->cbid || strlen(b->cbid) >= AUCTION_CBID_MAX)
        return ws_api_error_reply(reply, "invalid_request", "clientBidId is required.", NULL),
               GV_EINVALID_REQUEST;
    if (!json_is_integer(lot) || json_integer_value(lot) < 1 || json_integer_value(lot) > 1000000 ||
        !json_is_integer(amount) || json_integer_value(amount) < 1 ||
        json_integer_value(amount) > 9007199254740991LL) {
        json_t *r =
            json_pack("{s:s, s:s, s:b, s:s, s:s, s:{}}", "type", "bid_result", "clientBidId",
                      b->cbid, "accepted", 0, "code", "invalid_request", "message",
                      "lot and amount must be positive whole numbers.", "details");
        char *text = r ? json_text(r, JSON_COMPACT) : NULL;
        json_decref(r);
        if (text)
            buf_puts(reply, text);
        free(text);
        return GV_EINVALID_REQUEST;
    }
    b->lot = (int)json_integer_value(lot);
    b->amount = json_integer_value(amount);
    return 0;
}

int ws_auction_bid(app_t *app, ws_api_session_t *session, json_t *msg, buf_t *reply)
{
    const char *id = json_string_value(json_object_get(msg, "auctionId"));
    auction_live_t *live = id ? auction_service_find(app->auctions, id) : NULL;
    api_bid_t b = {.user = session->user_id};
    uint64_t t0 = uv_hrtime();
    if (!session->conn)
        return ws_api_error_reply(reply, "unavailable", "No connection.", id);
    if (ws_bid_fields(msg, &b, reply) != 0)
        return 0;
    /* The auction's managers are members by construction: only others need the store. */
    if ((!live || auction_live_manager(live, b.user) < 0) &&
        ws_auction_access(app, session, id, &live, reply))
        return 0;
    b.currency = auction_live_currency(live);
    char owner[STORE_NODE_MAX];
    int own = auction_service_owner(app->auctions, live, owner, sizeof(owner));
    if (own < 0) {
        bid_outcome_t o;
        bid_outcome_rejected(&o, 503, "unavailable", "The bid could not be placed; try again.",
                             NULL);
        return bid_outcome_result(&o, b.cbid, reply);
    }
    ws_wait_t *w = calloc(1, sizeof(*w));
    if (!w)
        return GV_ENOMEM;
    w->t0_ns = t0;
    w->app = app;
    w->conn = session->conn;
    w->live = live;
    snprintf(w->cbid, sizeof(w->cbid), "%s", b.cbid);
    ws_conn_ref(w->conn);
    if (own == 1) { /* another node runs the auction */
        api_forward_bid(app, owner, auction_live_id(live), &b, ws_bid_forwarded, w);
        return 0;
    }
    api_bid_run(app, live, &b, &w->outcome);
    if (w->outcome.status == 429)
        app->metrics.rate_limited_ws_bid++;
    auction_service_after_commit(app->auctions, ws_bid_after, w);
    return 0;
}
