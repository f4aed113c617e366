/* Auction endpoints: create, read, the commissioner's controls, bids (idempotent by
 * clientBidId) and the log; every answer that shows auction state waits for the group commit. */
#include "api/authz.h"
#include "league/league_json.h"
#include "api/bids.h"
#include "api/forward.h"
#include "api/paging.h"

#include "auction/service.h"
#include "core/err.h"
#include "core/money.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A request waiting for the commit. */
typedef struct {
    app_t *app;
    http_resp_t *resp;
    auction_live_t *live;
    int status;         /* HTTP status of the answer */
    json_t *answer;     /* owned: sent as is (NULL: the AuctionState) */
    uint64_t bid_t0_ns; /* a bid's: when it was received (0: not a bid) */
    char user[40], cbid[AUCTION_CBID_MAX];
} auction_wait_t;

static void auction_after(void *ctx, int status)
{
    auction_wait_t *w = ctx;
    if (status != 0) {
        json_resp_err(w->resp, GV_EUNAVAILABLE);
    } else if (w->answer) {
        json_resp_send(w->resp, w->status, json_incref(w->answer));
    } else {
        json_resp_send(w->resp, w->status, auction_service_state(w->app->auctions, w->live));
    }
    if (w->bid_t0_ns)
        api_bid_answered(w->app, w->bid_t0_ns, status == 0 && w->status == 200);
    json_decref(w->answer);
    http_resp_finish(w->resp);
    free(w);
}

/* Defers resp until the pending commit; answer NULL sends the AuctionState. bid_t0_ns: a bid's
 * receipt time (its round trip is recorded with the answer), else 0. */
static void auction_reply_at(app_t *app, http_resp_t *resp, auction_live_t *live, int status,
                             json_t *answer, uint64_t bid_t0_ns)
{
    auction_wait_t *w = calloc(1, sizeof(*w));
    if (!w) {
        json_decref(answer);
        json_resp_err(resp, GV_ENOMEM);
        return;
    }
    w->app = app;
    w->resp = resp;
    w->live = live;
    w->status = status;
    w->answer = answer;
    w->bid_t0_ns = bid_t0_ns;
    http_resp_defer(resp);
    auction_service_after_commit(app->auctions, auction_after, w);
}

static void auction_reply(app_t *app, http_resp_t *resp, auction_live_t *live, int status,
                          json_t *answer)
{
    auction_reply_at(app, resp, live, status, answer, 0);
}

/* Loads the auction named in the path and checks the caller's membership (commissioner when
 * comm). Answers 404/403 itself. */
static int auction_access(app_t *app, http_req_t *req, http_resp_t *resp, int comm,
                          api_league_ctx_t *lc, auction_live_t **live)
{
    char uid[STORE_ID_MAX];
    int rc = api_authz_token(app, req, resp, uid);
    if (rc)
        return rc;
    rc = auction_service_get(app->auctions, http_req_param(req, "id"), live);
    if (rc) {
        http_resp_error(resp, rc, rc == GV_ENOT_FOUND ? "No such auction." : NULL, NULL);
        return rc;
    }
    const char *league = auction_live_league(*live);
    return comm ? api_authz_commissioner(app, req, resp, league, lc)
                : api_authz_league(app, req, resp, league, lc);
}

static void auction_create(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    auction_live_t *live = NULL;
    if (api_authz_commissioner(app, req, resp, http_req_param(req, "id"), &lc))
        return;
    if (auction_service_get_by_league(app->auctions, lc.league.id, &live) == 0) {
        json_resp_err(resp, GV_EAUCTION_EXISTS);
        return;
    }
    if (lc.league.member_count < lc.league.settings.min_managers) {
        json_resp_err(resp, GV_ENOT_ENOUGH_MANAGERS);
        return;
    }
    int rc = auction_service_create(app->auctions, lc.league.id, lc.user.id, &live);
    if (rc == GV_ECONFLICT)
        rc = GV_EAUCTION_EXISTS;
    if (rc == GV_ESELECTION_TOO_SMALL || rc == GV_ELIMIT) {
        json_resp_field_error(resp, "assetIds",
                              rc == GV_ELIMIT ? "Select at most 100,000 assets." : err_message(rc));
        return;
    }
    if (rc) {
        json_resp_err(resp, rc);
        return;
    }
    api_league_publish(
        app, lc.league.id,
        json_pack("{s:s, s:s}", "type", "auction_created", "auctionId", auction_live_id(live)));
    json_resp_send(resp, 201, auction_service_state(app->auctions, live));
}

static void auction_get_by_league(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    auction_live_t *live;
    if (api_authz_league(app, req, resp, http_req_param(req, "id"), &lc))
        return;
    int rc = auction_service_get_by_league(app->auctions, lc.league.id, &live);
    if (rc)
        http_resp_error(resp, rc, rc == GV_ENOT_FOUND ? "This league has no auction." : NULL, NULL);
    else
        auction_reply(app, resp, live, 200, NULL);
}

static void auction_get(http_req_t *req, http_resp_t *resp, void *ctx)
{
    api_league_ctx_t lc;
    auction_live_t *live;
    if (auction_access(ctx, req, resp, 0, &lc, &live) == 0)
        auction_reply(ctx, resp, live, 200, NULL);
}

static void auction_delete(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    auction_live_t *live;
    if (auction_access(app, req, resp, 1, &lc, &live))
        return;
    int rc = auction_service_delete(app->auctions, live);
    if (rc)
        json_resp_err(resp, rc);
    else
        resp->status = 204;
}

/* ---- controls ------------------------------------------------------------------------------- */

/* A forwarded control's answer: the owner's AuctionState, or its refusal. */
static void auction_control_forwarded(void *ctx, int rc, const char *state, size_t len)
{
    http_resp_t *resp = ctx;
    json_t *o = rc ? NULL : json_loadb(state, len, 0, NULL);
    if (o)
        json_resp_send(resp, 200, o);
    else
        json_resp_err(resp, rc ? rc : GV_EINTERNAL);
    http_resp_finish(resp);
}

/* In a cluster, where the auction runs: 0 here; 1 when the command went to the node that runs it
 * (the answer comes later) or was answered (503: that node cannot be told now). */
static int auction_elsewhere(app_t *app, http_resp_t *resp, auction_live_t *live, char *owner,
                             size_t n)
{
    int own = auction_service_owner(app->auctions, live, owner, n);
    if (own < 0)
        json_resp_err(resp, own);
    return own != 0;
}

static void auction_control(http_req_t *req, http_resp_t *resp, app_t *app, engine_cmd_type_t t)
{
    api_league_ctx_t lc;
    auction_live_t *live;
    engine_cmd_t cmd = {.type = t, .manager = -1};
    char owner[STORE_NODE_MAX] = "";
    if (auction_access(app, req, resp, 1, &lc, &live) ||
        auction_elsewhere(app, resp, live, owner, sizeof(owner))) {
        if (owner[0]) {
            http_resp_defer(resp);
            api_forward_control(app, owner, auction_live_id(live), t, lc.user.id,
                                auction_control_forwarded, resp);
        }
        return;
    }
    int rc = auction_service_command(app->auctions, live, &cmd, lc.user.id, NULL, NULL);
    if (rc) {
        json_resp_err(resp, rc);
        return;
    }
    auction_reply(app, resp, live, 200, NULL);
}

#define AUCTION_CONTROL(fn, type)                                                                  \
    static void fn(http_req_t *req, http_resp_t *resp, void *ctx)                                  \
    {                                                                                              \
        auction_control(req, resp, ctx, type);                                                     \
    }
AUCTION_CONTROL(auction_begin, ENGINE_CMD_BEGIN)
AUCTION_CONTROL(auction_pause, ENGINE_CMD_PAUSE)
AUCTION_CONTROL(auction_resume, ENGINE_CMD_RESUME)
AUCTION_CONTROL(auction_close_lot, ENGINE_CMD_CLOSE_LOT)
AUCTION_CONTROL(auction_undo, ENGINE_CMD_UNDO)
AUCTION_CONTROL(auction_reset, ENGINE_CMD_RESET)
AUCTION_CONTROL(auction_end, ENGINE_CMD_END)

/* ---- bids ----------------------------------------------------------------------------------- */

/* A bid body's fields into b: 0, or GV_EINVALID_REQUEST with the field and why. */
static int auction_bid_fields(json_t *body, api_bid_t *b, const char **field, const char **why)
{
    static const char *const fields[] = {"lot", "amount", "clientBidId", NULL};
    json_t *lot = json_object_get(body, "lot"), *amount = json_object_get(body, "amount");
    b->cbid = json_string_value(json_object_get(body, "clientBidId"));
    if (json_fields_allowed(body, fields, field))
        *why = "This field is not allowed here.";
    else if (!json_is_integer(lot) || json_integer_value(lot) < 1 ||
             json_integer_value(lot) > 1000000)
        *field = "lot", *why = "lot must be the lot number on the block.";
    else if (!json_is_integer(amount) || json_integer_value(amount) < 1 ||
             json_integer_value(amount) > 9007199254740991LL)
        *field = "amount", *why = "amount must be a positive whole number.";
    else if (!b->cbid || !*b->cbid || strlen(b->cbid) >= AUCTION_CBID_MAX)
        *field = "clientBidId", *why = "clientBidId must be 1 to 79 characters.";
    else
        *field = NULL;
    if (*field)
        return GV_EINVALID_REQUEST;
    b->lot = (int)json_integer_value(lot);
    b->amount = json_integer_value(amount);
    return 0;
}

/* The bid body, answering 400 itself — unless the bidder's role or the auction's state refuses
 * any bid, which API.md's precedence puts first (403 not_a_manager, 409 auction_not_running).
 * A valid body goes to the engine, which checks the same in the same order (so a resent
 * clientBidId still gets its first outcome). */
static int auction_bid_body(http_req_t *req, http_resp_t *resp, auction_live_t *live,
                            const char *user, json_t **body, api_bid_t *b)
{
    const char *field = NULL, *why = NULL;
    int rc = json_body_object(req, body);
    if (rc)
        return json_resp_err(resp, rc), rc;
    if (auction_bid_fields(*body, b, &field, &why) == 0)
        return 0;
    const engine_t *e = auction_live_working(live);
    int gate = auction_live_manager(live, user) < 0 ? GV_ENOT_A_MANAGER
               : e->status != ENGINE_RUNNING        ? GV_EAUCTION_NOT_RUNNING
                                                    : 0;
    if (gate)
        json_resp_err(resp, gate);
    else
        json_resp_field_error(resp, field, why);
    return gate ? gate : GV_EINVALID_REQUEST;
}

typedef struct {
    app_t *app;
    http_resp_t *resp;
    uint64_t t0_ns;
} auction_bid_wait_t;

/* Answers a bid from its outcome (REST body, or 429 with Retry-After). */
static void auction_bid_answer(app_t *app, http_resp_t *resp, const bid_outcome_t *o, uint64_t t0)
{
    buf_t text;
    buf_init(&text);
    json_t *answer = o->status == 429 || bid_outcome_body(o, &text) != 0
                         ? NULL
                         : json_loadb(text.data, text.len, 0, NULL);
    buf_deinit(&text);
    if (o->status == 429)
        api_rate_limited(resp, o->retry_after_ms);
    else if (answer)
        json_resp_send(resp, o->status, answer);
    else
        json_resp_err(resp, GV_ENOMEM);
    api_bid_answered(app, t0, o->status == 200);
}

static void auction_bid_forwarded(void *ctx, const bid_outcome_t *o)
{
    auction_bid_wait_t *w = ctx;
    auction_bid_answer(w->app, w->resp, o, w->t0_ns);
    http_resp_finish(w->resp);
    free(w);
}

/* Sends b to the node running live (cluster); answers 503/500 itself when it cannot. */
static void auction_bid_forward(app_t *app, http_resp_t *resp, auction_live_t *live,
                                const char *owner, const api_bid_t *b, uint64_t t0)
{
    auction_bid_wait_t *w = calloc(1, sizeof(*w));
    if (!w) {
        json_resp_err(resp, GV_ENOMEM);
        return;
    }
    *w = (auction_bid_wait_t){app, resp, t0};
    http_resp_defer(resp);
    api_forward_bid(app, owner, auction_live_id(live), b, auction_bid_forwarded, w);
}

static void auction_bid(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    auction_live_t *live;
    json_t *body = NULL;
    api_bid_t b = {0};
    uint64_t t0 = uv_hrtime();
    if (auction_access(app, req, resp, 0, &lc, &live) ||
        auction_bid_body(req, resp, live, lc.user.id, &body, &b)) {
        json_decref(body);
        return;
    }
    b.user = lc.user.id;
    b.currency = lc.league.settings.currency;
    char owner[STORE_NODE_MAX] = "";
    if (auction_elsewhere(app, resp, live, owner, sizeof(owner))) {
        if (owner[0])
            auction_bid_forward(app, resp, live, owner, &b, t0);
        json_decref(body);
        return;
    }
    bid_outcome_t o;
    api_bid_run(app, live, &b, &o);
    buf_t text;
    buf_init(&text);
    json_t *answer = o.status == 429 || bid_outcome_body(&o, &text) != 0
                         ? NULL
                         : json_loadb(text.data, text.len, 0, NULL);
    buf_deinit(&text);
    if (o.status == 429) {
        api_rate_limited(resp, o.retry_after_ms);
        api_bid_answered(app, t0, 0);
    } else if (answer) {
        auction_reply_at(app, resp, live, o.status, answer, t0);
    } else {
        json_resp_err(resp, GV_ENOMEM);
        api_bid_answered(app, t0, 0);
    }
    json_decref(body);
}

/* ---- the log, bids and results -------------------------------------------------------------- */

typedef struct {
    app_t *app;
    json_t *items;
    int64_t last_seq;
} auction_rows_t;

static int auction_bid_row(void *ctx, const store_bid_row_t *b)
{
    auction_rows_t *r = ctx;
    store_user_t u;
    const char *name = store_user_get(r->app->store, b->user_id, &u) == 0 ? u.name : "";
    json_array_append_new(r->items,
                          json_pack("{s:I, s:i, s:s, s:s, s:I, s:I}", "seq", (json_int_t)b->seq,
                                    "lot", b->lot, "userId", b->user_id, "name", name, "amount",
                                    (json_int_t)b->amount, "atMs", (json_int_t)b->at_ms));
    return 0;
}

static void auction_bids(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    auction_live_t *live;
    char lot_text[16];
    int lot = 0;
    if (auction_access(app, req, resp, 0, &lc, &live))
        return;
    int q = http_req_query(req, "lot", lot_text, sizeof(lot_text));
    if (q < 0 || (q == 1 && (sscanf(lot_text, "%d", &lot) != 1 || lot < 1))) {
        json_resp_field_error(resp, "lot", "lot must be a lot number.");
        return;
    }
    auction_rows_t r = {app, json_array(), 0};
    int rc = store_auction_bids_each(app->store, auction_live_id(live), auction_live_epoch(live),
                                     lot, auction_bid_row, &r);
    if (rc) {
        json_decref(r.items);
        json_resp_err(resp, rc);
        return;
    }
    auction_reply(app, resp, live, 200, json_pack("{s:o, s:n}", "items", r.items, "nextCursor"));
}

static int auction_event_row(void *ctx, const store_auction_event_t *ev)
{
    auction_rows_t *r = ctx;
    json_t *o = json_loads(ev->payload, 0, NULL);
    if (o)
        json_array_append_new(r->items, o);
    r->last_seq = ev->seq;
    return 0;
}

static void auction_events(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    auction_live_t *live;
    page_t page;
    char text[32];
    long long after = 0;
    if (auction_access(app, req, resp, 0, &lc, &live) || page_parse(req, resp, &page))
        return;
    int q = http_req_query(req, "afterSeq", text, sizeof(text));
    if (q < 0 || (q == 1 && (sscanf(text, "%lld", &after) != 1 || after < 0))) {
        json_resp_field_error(resp, "afterSeq", "afterSeq must be a sequence number.");
        return;
    }
    if (page.after[0] && sscanf(page.after, "%lld", &after) != 1) {
        json_resp_field_error(resp, "cursor", "This cursor is not valid.");
        return;
    }
    auction_rows_t r = {app, json_array(), 0};
    int rc = store_auction_events_each(app->store, auction_live_id(live), after, page.limit + 1,
                                       auction_event_row, &r);
    if (rc) {
        json_decref(r.items);
        json_resp_err(resp, rc);
        return;
    }
    int more = (int)json_array_size(r.items) > page.limit;
    char next[32] = "";
    if (more) {
        json_array_remove(r.items, (size_t)page.limit);
        json_t *last = json_array_get(r.items, (size_t)page.limit - 1);
        snprintf(next, sizeof(next), "%lld",
                 (long long)json_integer_value(json_object_get(last, "seq")));
    }
    auction_reply(app, resp, live, 200,
                  json_pack("{s:o, s:o}", "items", r.items, "nextCursor",
                            page_cursor_json(more ? next : NULL)));
}

/* The results: every closed lot (in order) and every manager's roster, spent and remaining. */
static json_t *auction_results_json(app_t *app, auction_live_t *live)
{
    const engine_t *e = auction_live_engine(live);
    json_t *lots = json_array(), *managers = json_array();
    store_asset_t a;
    store_user_t u;
    for (int i = 0; i < e->history_n; i++) {
        const char *aid = auction_live_asset_id(live, e->history[i].asset);
        const char *wid = auction_live_manager_id(live, e->history[i].manager);
        int sold = e->history[i].manager >= 0;
        json_array_append_new(
            lots,
            json_pack("{s:i, s:s, s:s, s:s, s:o, s:o, s:o}", "lot", e->history[i].lot, "assetId",
                      aid, "assetName", store_asset_get(app->store, aid, &a) == 0 ? a.name : aid,
                      "result", sold ? "sold" : "unsold", "winnerId",
                      sold ? json_string(wid) : json_null(), "winnerName",
                      sold && store_user_get(app->store, wid, &u) == 0 ? json_string(u.name)
                                                                       : json_null(),
                      "price", sold ? json_integer(e->history[i].price) : json_null()));
    }
    for (int m = 0; m < e->n_managers; m++) {
        const engine_manager_t *mg = &e->managers[m];
        json_t *roster = json_array();
        for (int k = 0; k < mg->roster_n; k++) {
            const char *aid = auction_live_asset_id(live, mg->roster[k].asset);
            json_array_append_new(
                roster, json_pack("{s:s, s:s, s:I, s:i}", "assetId", aid, "name",
                                  store_asset_get(app->store, aid, &a) == 0 ? a.name : aid, "price",
                                  (json_int_t)mg->roster[k].price, "lot", mg->roster[k].lot));
        }
        const char *uid = auction_live_manager_id(live, m);
        json_array_append_new(
            managers, json_pack("{s:s, s:s, s:o, s:I, s:I}", "userId", uid, "name",
                                store_user_get(app->store, uid, &u) == 0 ? u.name : "", "roster",
                                roster, "spent", (json_int_t)(e->cfg.budget - mg->budget_remaining),
                                "remaining", (json_int_t)mg->budget_remaining));
    }
    return json_pack("{s:s, s:s, s:o, s:o}", "auctionId", auction_live_id(live), "status",
                     engine_status_name(e->status), "lots", lots, "managers", managers);
}

/* Appends one CSV field, quoted when it needs to be. */
static void auction_csv_field(buf_t *out, const char *s, int last)
{
    if (strpbrk(s, ",\"\r\n")) {
        buf_puts(out, "\"");
        for (; *s; s++)
            buf_append(out, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1);
        buf_puts(out, "\"");
    } else {
        buf_puts(out, s);
    }
    buf_puts(out, last ? "\r\n" : ",");
}

static void auction_results_csv(json_t *results, http_resp_t *resp)
{
    buf_t *out = &resp->body;
    size_t i;
    json_t *lot;
    buf_puts(out, "lot,asset_id,asset_name,result,winner_id,winner_name,price\r\n");
    json_array_foreach(json_object_get(results, "lots"), i, lot)
    {
        char num[32], price[32];
        snprintf(num, sizeof(num), "%lld",
                 (long long)json_integer_value(json_object_get(lot, "lot")));
        json_t *p = json_object_get(lot, "price");
        snprintf(price, sizeof(price), "%lld", (long long)json_integer_value(p));
        auction_csv_field(out, num, 0);
        auction_csv_field(out, json_string_value(json_object_get(lot, "assetId")), 0);
        auction_csv_field(out, json_string_value(json_object_get(lot, "assetName")), 0);
        auction_csv_field(out, json_string_value(json_object_get(lot, "result")), 0);
        auction_csv_field(out, json_string_value(json_object_get(lot, "winnerId")) ?: "", 0);
        auction_csv_field(out, json_string_value(json_object_get(lot, "winnerName")) ?: "", 0);
        auction_csv_field(out, json_is_integer(p) ? price : "", 1);
    }
    resp->status = 200;
    resp->content_type = "text/csv; charset=utf-8";
    http_resp_header(resp, "Content-Disposition", "attachment; filename=\"results.csv\"");
}

typedef struct {
    app_t *app;
    http_resp_t *resp;
    auction_live_t *live;
    int csv;
} auction_results_wait_t;

static void auction_results_after(void *ctx, int status)
{
    auction_results_wait_t *w = ctx;
    json_t *results = status ? NULL : auction_results_json(w->app, w->live);
    if (!results)
        json_resp_err(w->resp, status ? status : GV_ENOMEM);
    else if (w->csv)
        auction_results_csv(results, w->resp);
    else
        json_resp_send(w->resp, 200, json_incref(results));
    json_decref(results);
    http_resp_finish(w->resp);
    free(w);
}

static void auction_results(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    auction_live_t *live;
    char format[8] = "";
    if (auction_access(app, req, resp, 0, &lc, &live))
        return;
    http_req_query(req, "format", format, sizeof(format));
    auction_results_wait_t *w = calloc(1, sizeof(*w));
    if (!w) {
        json_resp_err(resp, GV_ENOMEM);
        return;
    }
    *w = (auction_results_wait_t){app, resp, live, strcmp(format, "csv") == 0};
    http_resp_defer(resp);
    auction_service_after_commit(app->auctions, auction_results_after, w);
}

int api_auction_register(app_t *app)
{
    static const struct {
        int method;
        const char *path;
        router_handler_fn fn;
        size_t limit;
    } routes[] = {
        {HTTP_M_POST, "/api/leagues/{id}/auction", auction_create, 1024},
        {HTTP_M_GET, "/api/leagues/{id}/auction", auction_get_by_league, 0},
        {HTTP_M_GET, "/api/auctions/{id}", auction_get, 0},
        {HTTP_M_DELETE, "/api/auctions/{id}", auction_delete, 0},
        {HTTP_M_POST, "/api/auctions/{id}/begin", auction_begin, 1024},
        {HTTP_M_POST, "/api/auctions/{id}/pause", auction_pause, 1024},
        {HTTP_M_POST, "/api/auctions/{id}/resume", auction_resume, 1024},
        {HTTP_M_POST, "/api/auctions/{id}/close-lot", auction_close_lot, 1024},
        {HTTP_M_POST, "/api/auctions/{id}/undo", auction_undo, 1024},
        {HTTP_M_POST, "/api/auctions/{id}/reset", auction_reset, 1024},
        {HTTP_M_POST, "/api/auctions/{id}/end", auction_end, 1024},
        {HTTP_M_POST, "/api/auctions/{id}/bids", auction_bid, 4096},
        {HTTP_M_GET, "/api/auctions/{id}/bids", auction_bids, 0},
        {HTTP_M_GET, "/api/auctions/{id}/events", auction_events, 0},
        {HTTP_M_GET, "/api/auctions/{id}/results", auction_results, 0},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]) && !rc; i++)
        rc = router_add(&app->router, routes[i].method, routes[i].path, routes[i].fn, app,
                        routes[i].limit);
    return rc;
}
