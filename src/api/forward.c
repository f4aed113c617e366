/* Commands forwarded between the nodes of a cluster, and the bus's messages routed to the auction
 * service. Requests and answers are small JSON objects:
 *   {"k":"bid","r":ID,"from":NODE,"a":AUCTION,"u":USER,"lot":N,"amount":N,"cb":CLIENT_BID_ID}
 *   {"k":"ctl","r":ID,"from":NODE,"a":AUCTION,"u":USER,"t":ENGINE_CMD}
 *   {"k":"re","r":ID,"rec":BID_RECORD,"ra":RETRY_AFTER_MS} or {"k":"re","r":ID,"rc":GV_E,"state":S}
 */
#include "api/forward.h"

#include "auction/service.h"
#include "core/err.h"
#include "core/log.h"
#include "json/json_text.h"
#include "net/bus.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FWD_BUCKETS 1024
#define FWD_NODE_MAX STORE_NODE_MAX

typedef struct {
    app_t *app;
    size_t i; /* which of fwd_limits */
} fwd_limit_ctx_t;

#define FWD_LIMITS_MAX 8

typedef struct fwd_wait_s {
    struct fwd_wait_s *next;
    uint64_t id;
    uv_timer_t timer;
    struct api_forward_s *fw;
    fwd_bid_fn bid;
    fwd_control_fn control;
    void *ctx;
    int unsent; /* the bus did not take it: answered 503 on the next turn */
} fwd_wait_t;

struct api_forward_s {
    app_t *app;
    fwd_wait_t *waits[FWD_BUCKETS];
    uint64_t next_id;
    uint64_t sent[2];    /* forwarded by this node: [0] bids, [1] controls */
    uint64_t decided[2]; /* decided here for another node */
    uint64_t timeouts, unsent, unheard, bad;
    uint64_t limits_told, limits_heard; /* rate-limit takes sent to and heard from the others */
    fwd_limit_ctx_t limit_ctx[FWD_LIMITS_MAX];
};

/* ---- waiting for answers ------------------------------------------------------------------- */

static void fwd_wait_free(uv_handle_t *h)
{
    free(h->data);
}

static fwd_wait_t *fwd_take(struct api_forward_s *fw, uint64_t id)
{
    for (fwd_wait_t **pp = &fw->waits[id % FWD_BUCKETS]; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            fwd_wait_t *w = *pp;
            *pp = w->next;
            return w;
        }
    }
    return NULL;
}

/* Ends w with an outcome (bid) or a control's result; w is freed with its timer. */
static void fwd_end(fwd_wait_t *w, const bid_outcome_t *o, int rc, const char *state, size_t len)
{
    uv_timer_stop(&w->timer);
    if (w->bid)
        w->bid(w->ctx, o);
    else
        w->control(w->ctx, rc, state, len);
    uv_close((uv_handle_t *)&w->timer, fwd_wait_free);
}

static void fwd_fail(fwd_wait_t *w)
{
    bid_outcome_t o;
    bid_outcome_rejected(&o, 503, err_api_code(GV_EUNAVAILABLE),
                         "The auction's server did not answer; try again.", NULL);
    fwd_end(w, &o, GV_EUNAVAILABLE, NULL, 0);
}

static void fwd_on_timeout(uv_timer_t *t)
{
    fwd_wait_t *w = t->data;
    if (!w->unsent) /* (an unsent one was counted as such) */
        w->fw->timeouts++;
    fwd_fail(fwd_take(w->fw, w->id));
}

/* Redis's count of who heard a command: nobody (the owner's process is gone, its connection
 * with it) ends the wait at once with a 503, rather than at its timeout. */
static void fwd_on_delivered(void *ctx, uint64_t id, long long receivers)
{
    struct api_forward_s *fw = ctx;
    fwd_wait_t *w = receivers == 0 ? fwd_take(fw, id) : NULL;
    if (!w)
        return;
    fw->unheard++;
    fwd_fail(w);
}

/* Registers a wait and sends msg (taken) to owner; a send that fails ends it on the next turn. */
static void fwd_send(app_t *app, const char *owner, json_t *msg, fwd_wait_t *w)
{
    struct api_forward_s *fw = app->forward;
    w->fw = fw;
    w->id = ++fw->next_id;
    uv_timer_init(app->loop, &w->timer);
    w->timer.data = w;
    w->next = fw->waits[w->id % FWD_BUCKETS];
    fw->waits[w->id % FWD_BUCKETS] = w;
    char channel[64];
    snprintf(channel, sizeof(channel), "node:%s", owner);
    int ok = json_object_set_new(msg, "r", json_integer((json_int_t)w->id)) == 0;
    char *text = ok ? json_text(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    int rc = !text      ? GV_ENOMEM
             : app->bus ? bus_publish_counted(app->bus, channel, text, strlen(text),
                                              fwd_on_delivered, fw, w->id)
                        : GV_EUNAVAILABLE;
    free(text);
    if (rc) {
        fw->unsent++;
        w->unsent = 1;
    }
    /* unsent: answered 503 from the timer on the next turn, never inside the caller */
    uv_timer_start(&w->timer, fwd_on_timeout, rc ? 0 : FWD_TIMEOUT_MS, 0);
}

static fwd_wait_t *fwd_wait_new(void *ctx)
{
    fwd_wait_t *w = calloc(1, sizeof(*w));
    if (w)
        w->ctx = ctx;
    return w;
}

void api_forward_bid(app_t *app, const char *owner, const char *auction_id, const api_bid_t *b,
                     fwd_bid_fn done, void *ctx)
{
    fwd_wait_t *w = fwd_wait_new(ctx);
    json_t *msg = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:s}", "k", "bid", "from",
                            app->cfg.node_id, "a", auction_id, "u", b->user, "lot", b->lot,
                            "amount", (json_int_t)b->amount, "cb", b->cbid);
    if (!w || !msg) {
        bid_outcome_t o;
        bid_outcome_rejected(&o, 500, err_api_code(GV_ENOMEM), err_message(GV_ENOMEM), NULL);
        json_decref(msg);
        free(w);
        done(ctx, &o); /* out of memory: at once, the one exception */
        return;
    }
    w->bid = done;
    app->forward->sent[0]++;
    fwd_send(app, owner, msg, w);
}

void api_forward_control(app_t *app, const char *owner, const char *auction_id, engine_cmd_type_t t,
                         const char *user_id, fwd_control_fn done, void *ctx)
{
    fwd_wait_t *w = fwd_wait_new(ctx);
    json_t *msg = json_pack("{s:s, s:s, s:s, s:s, s:i}", "k", "ctl", "from", app->cfg.node_id, "a",
                            auction_id, "u", user_id, "t", (int)t);
    if (!w || !msg) {
        json_decref(msg);
        free(w);
        done(ctx, GV_ENOMEM, NULL, 0);
        return;
    }
    w->control = done;
    app->forward->sent[1]++;
    fwd_send(app, owner, msg, w);
}

/* An answer to one of ours. */
static void fwd_answer(struct api_forward_s *fw, json_t *m)
{
    json_int_t id = json_integer_value(json_object_get(m, "r"));
    fwd_wait_t *w = id > 0 ? fwd_take(fw, (uint64_t)id) : NULL;
    if (!w)
        return; /* timed out meanwhile (answered 503): the client retries with its clientBidId */
    const char *rec = json_string_value(json_object_get(m, "rec"));
    json_t *state = json_object_get(m, "state");
    bid_outcome_t o;
    if (w->bid && (!rec || bid_outcome_parse(rec, &o) != 0)) {
        fw->bad++;
        fwd_fail(w);
        return;
    }
    if (w->bid) {
        o.retry_after_ms = json_integer_value(json_object_get(m, "ra"));
        fwd_end(w, &o, 0, NULL, 0);
        return;
    }
    int rc = (int)json_integer_value(json_object_get(m, "rc"));
    if (rc > 0 || rc < -1000 || (rc == 0 && !json_is_string(state)))
        rc = GV_EINTERNAL;
    fwd_end(w, NULL, rc, rc ? NULL : json_string_value(state), rc ? 0 : json_string_length(state));
}

/* ---- deciding for another node ------------------------------------------------------------- */

typedef struct {
    app_t *app;
    char from[FWD_NODE_MAX];
    json_int_t id;
    auction_live_t *live;
    bid_outcome_t o;
} fwd_job_t;

static void fwd_reply(app_t *app, const char *to, json_t *msg)
{
    char channel[64], *text = NULL;
    snprintf(channel, sizeof(channel), "node:%s", to);
    if (msg)
        text = json_text(msg, JSON_COMPACT);
    json_decref(msg);
    if (text && app->bus) /* not sent (the bus is down): the sender times out: 503 */
        bus_publish(app->bus, channel, text, strlen(text));
    free(text);
}

static void fwd_reply_bid(fwd_job_t *j)
{
    buf_t rec;
    buf_init(&rec);
    if (bid_outcome_record(&j->o, &rec) == 0)
        fwd_reply(j->app, j->from,
                  json_pack("{s:s, s:I, s:s, s:I}", "k", "re", "r", j->id, "rec", rec.data, "ra",
                            (json_int_t)j->o.retry_after_ms));
    buf_deinit(&rec);
    free(j);
}

static void fwd_bid_committed(void *ctx, int status)
{
    fwd_job_t *j = ctx;
    if (status != 0)
        bid_outcome_rejected(&j->o, 503, err_api_code(GV_EUNAVAILABLE),
                             "The bid could not be recorded; try again.", NULL);
    fwd_reply_bid(j);
}

static void fwd_reply_rc(app_t *app, const char *to, json_int_t id, int rc)
{
    fwd_reply(app, to, json_pack("{s:s, s:I, s:i}", "k", "re", "r", id, "rc", rc));
}

static void fwd_control_committed(void *ctx, int status)
{
    fwd_job_t *j = ctx;
    json_t *state = status ? NULL : auction_service_state(j->app->auctions, j->live);
    char *text = state ? json_text(state, JSON_COMPACT) : NULL;
    json_decref(state);
    if (text)
        fwd_reply(j->app, j->from,
                  json_pack("{s:s, s:I, s:i, s:s}", "k", "re", "r", j->id, "rc", 0, "state", text));
    else
        fwd_reply_rc(j->app, j->from, j->id, status ? GV_EUNAVAILABLE : GV_ENOMEM);
    free(text);
    free(j);
}

/* The live auction of a command, when this node runs it (else the answer is 503: the sender's
 * client retries and reaches whoever runs it then). */
static auction_live_t *fwd_live(app_t *app, const char *auction_id)
{
    char owner[FWD_NODE_MAX];
    auction_live_t *live = auction_service_find(app->auctions, auction_id);
    return live && auction_service_owner(app->auctions, live, owner, sizeof(owner)) == 0 ? live
                                                                                         : NULL;
}

static void fwd_decide(app_t *app, json_t *m, fwd_job_t *j)
{
    const char *kind = json_string_value(json_object_get(m, "k"));
    const char *aid = NULL, *user = NULL, *cbid = NULL;
    json_int_t lot = 0, amount = 0, t = 0;
    int bid = kind && !strcmp(kind, "bid");
    int bad = bid ? json_unpack(m, "{s:s, s:s, s:I, s:I, s:s}", "a", &aid, "u", &user, "lot", &lot,
                                "amount", &amount, "cb", &cbid)
                  : json_unpack(m, "{s:s, s:s, s:I}", "a", &aid, "u", &user, "t", &t);
    if (bad ||
        (bid &&
         (lot < 1 || lot > 1000000 || amount < 1 || !*cbid || strlen(cbid) >= AUCTION_CBID_MAX)) ||
        (!bid && (t == ENGINE_CMD_BID || t == ENGINE_CMD_TICK || t < ENGINE_CMD_BEGIN ||
                  t > ENGINE_CMD_END))) {
        app->forward->bad++;
        free(j);
        return;
    }
    app->forward->decided[bid ? 0 : 1]++;
    j->live = fwd_live(app, aid);
    if (!j->live) {
        bid_outcome_rejected(&j->o, 503, err_api_code(GV_EUNAVAILABLE),
                             "The auction is moving to another server; try again.", NULL);
        if (bid) {
            fwd_reply_bid(j);
        } else {
            fwd_reply_rc(app, j->from, j->id, GV_EUNAVAILABLE);
            free(j);
        }
        return;
    }
    if (bid) {
        api_bid_t b = {user, (int)lot, amount, cbid, auction_live_currency(j->live)};
        api_bid_run(app, j->live, &b, &j->o);
        if (j->o.status == 429)
            fwd_reply_bid(j);
        else
            auction_service_after_commit(app->auctions, fwd_bid_committed, j);
        return;
    }
    engine_cmd_t cmd = {.type = (engine_cmd_type_t)t, .manager = -1};
    int rc = auction_service_command(app->auctions, j->live, &cmd, user, NULL, NULL);
    if (rc) {
        fwd_reply_rc(app, j->from, j->id, rc);
        free(j);
    } else {
        auction_service_after_commit(app->auctions, fwd_control_committed, j);
    }
}

void api_forward_message(app_t *app, const char *data, size_t len)
{
    json_t *m = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
    const char *kind = json_string_value(json_object_get(m, "k"));
    const char *from = json_string_value(json_object_get(m, "from"));
    json_int_t id = json_integer_value(json_object_get(m, "r"));
    if (kind && !strcmp(kind, "re")) {
        fwd_answer(app->forward, m);
    } else if (kind && from && *from && strlen(from) < FWD_NODE_MAX && id > 0) {
        fwd_job_t *j = calloc(1, sizeof(*j));
        if (j) {
            j->app = app;
            j->id = id;
            snprintf(j->from, sizeof(j->from), "%s", from);
            fwd_decide(app, m, j);
        }
    } else {
        app->forward->bad++;
    }
    json_decref(m);
}

/* ---- league rooms across nodes ------------------------------------------------------------- */

void api_forward_league(app_t *app, const char *league_id, const char *text, const char *kick,
                        int close)
{
    if (!app->bus)
        return;
    json_t *m = json_pack("{s:s, s:s}", "l", league_id, "n", app->cfg.node_id);
    if (m && text)
        json_object_set_new(m, "t", json_string(text));
    if (m && kick)
        json_object_set_new(m, "kick", json_string(kick));
    if (m && close)
        json_object_set_new(m, "close", json_true());
    char *out = m ? json_text(m, JSON_COMPACT) : NULL;
    json_decref(m);
    if (out) /* lost with the bus: the league pages read the state again when they reconnect */
        bus_publish(app->bus, "lg", out, strlen(out));
    free(out);
}

/* Another node's word to a league room: the same event, kick or closing here. */
static void fwd_league_message(app_t *app, const char *data, size_t len)
{
    json_t *m = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
    const char *league = json_string_value(json_object_get(m, "l"));
    const char *text = json_string_value(json_object_get(m, "t"));
    const char *kick = json_string_value(json_object_get(m, "kick"));
    const char *node = json_string_value(json_object_get(m, "n"));
    char room[HUB_ROOM_MAX];
    if (node && !strcmp(node, app->cfg.node_id)) {
        /* this node's own word, back from the bus: done already */
    } else if (!league || !node ||
               snprintf(room, sizeof(room), "league:%s", league) >= (int)sizeof(room)) {
        app->forward->bad++;
    } else {
        if (text)
            hub_publish(app->hub, room, text, json_string_length(json_object_get(m, "t")));
        if (kick)
            hub_kick(app->hub, room, kick);
        if (json_is_true(json_object_get(m, "close")))
            hub_close_room(app->hub, room);
    }
    json_decref(m);
}

/* ---- rate limits across nodes -------------------------------------------------------------- */

/* The limits shared by the nodes, by name (bids are not: the node running an auction decides
 * every bid of it, so its limit is already the cluster's). */
typedef struct {
    const char *name;
    size_t offset; /* of the rl_t * in app_t */
} fwd_limit_t;

static const fwd_limit_t fwd_limits[] = {
    {"link_email", offsetof(app_t, rl.link_email)},
    {"link_ip", offsetof(app_t, rl.link_ip)},
    {"verify_ip", offsetof(app_t, rl.verify_ip)},
    {"verify_fail", offsetof(app_t, rl.verify_fail)},
    {"refresh_ip", offsetof(app_t, rl.refresh_ip)},
    {"league_user", offsetof(app_t, rl.league_user)},
    {"report_ip", offsetof(app_t, rl.report_ip)},
};
#define FWD_NLIMITS (sizeof(fwd_limits) / sizeof(fwd_limits[0]))
_Static_assert(FWD_NLIMITS <= FWD_LIMITS_MAX, "room for every shared limit's context");

static rl_t *fwd_limit(app_t *app, size_t i)
{
    return *(rl_t **)((char *)app + fwd_limits[i].offset);
}

/* A take this node allowed: "<node> <limit> <cost> <key>" to the others (lost while the bus is
 * down: each node then limits alone, never failing a request for it). */
static void fwd_on_take(void *ctx, const char *key, double cost)
{
    fwd_limit_ctx_t *lc = ctx;
    buf_t out;
    buf_init(&out);
    if (buf_printf(&out, "%s %s %.6g %s", lc->app->cfg.node_id, fwd_limits[lc->i].name, cost,
                   key) == 0 &&
        bus_publish(lc->app->bus, "rl", out.data, out.len) == 0)
        lc->app->forward->limits_told++;
    buf_deinit(&out);
}

/* Another node's take: the same key here loses as many tokens. */
static void fwd_limit_message(app_t *app, const char *data, size_t len)
{
    char text[512], node[STORE_NODE_MAX], name[32];
    double cost = 0;
    int key_at = 0;
    if (len >= sizeof(text) || memchr(data, '\0', len)) {
        app->forward->bad++;
        return;
    }
    memcpy(text, data, len);
    text[len] = '\0';
    if (sscanf(text, "%63s %31s %lf %n", node, name, &cost, &key_at) != 3 || !key_at ||
        !text[key_at] || !(cost > 0 && cost <= 1e6)) {
        app->forward->bad++;
        return;
    }
    if (!strcmp(node, app->cfg.node_id))
        return; /* this node's own take, back from the bus */
    for (size_t i = 0; i < FWD_NLIMITS; i++) {
        if (!strcmp(fwd_limits[i].name, name)) {
            rl_debit(fwd_limit(app, i), text + key_at, clock_now_ms(&app->clock), cost);
            app->forward->limits_heard++;
            return;
        }
    }
    app->forward->bad++;
}

/* Tells the other nodes of every take of the shared limits. */
static void fwd_limits_share(app_t *app)
{
    for (size_t i = 0; i < FWD_NLIMITS; i++) {
        app->forward->limit_ctx[i] = (fwd_limit_ctx_t){app, i};
        if (fwd_limit(app, i))
            rl_set_observer(fwd_limit(app, i), fwd_on_take, &app->forward->limit_ctx[i]);
    }
}

/* ---- the bus ------------------------------------------------------------------------------- */

void api_forward_dispatch(app_t *app, const char *channel, const char *data, size_t len)
{
    if (!strcmp(channel, "ev")) {
        auction_service_cluster_events(app->auctions, data, len);
    } else if (!strcmp(channel, "rl")) {
        fwd_limit_message(app, data, len);
    } else if (!strcmp(channel, "lg")) {
        fwd_league_message(app, data, len);
    } else if (!strcmp(channel, "pr")) {
        auction_service_cluster_presence(app->auctions, data, len);
    } else if (!strcmp(channel, "del")) {
        char id[40];
        if (len > 0 && len < sizeof(id)) {
            memcpy(id, data, len);
            id[len] = '\0';
            auction_service_cluster_deleted(app->auctions, id);
        }
    } else if (!strncmp(channel, "node:", 5)) {
        api_forward_message(app, data, len);
    }
}

static void fwd_on_bus(void *ctx, const char *channel, const char *data, size_t len)
{
    api_forward_dispatch(ctx, channel, data, len);
}

static void fwd_on_bus_state(void *ctx, int up)
{
    app_t *app = ctx;
    if (up) /* messages may have been missed while it was away: read them from the store */
        auction_service_cluster_bus_up(app->auctions);
    log_info("cluster bus %s", up ? "up" : "down");
}

int api_forward_bus_new(app_t *app)
{
    if (!app->cfg.node_id[0])
        return 0;
    char mine[64];
    snprintf(mine, sizeof(mine), "node:%s", app->cfg.node_id);
    int rc =
        bus_new(&app->bus, app->loop, app->cfg.redis, "gavel", fwd_on_bus, fwd_on_bus_state, app);
    rc = rc ? rc : bus_subscribe(app->bus, "ev");
    rc = rc ? rc : bus_subscribe(app->bus, "del");
    rc = rc ? rc : bus_subscribe(app->bus, "pr");
    rc = rc ? rc : bus_subscribe(app->bus, "lg");
    rc = rc ? rc : bus_subscribe(app->bus, "rl");
    if (!rc)
        fwd_limits_share(app);
    rc = rc ? rc : bus_subscribe(app->bus, mine);
    return rc;
}

int api_forward_start(app_t *app)
{
    if (!app->cfg.node_id[0])
        return 0;
    app->forward = calloc(1, sizeof(*app->forward));
    if (!app->forward)
        return GV_ENOMEM;
    app->forward->app = app;
    return 0;
}

void api_forward_stop(app_t *app)
{
    struct api_forward_s *fw = app->forward;
    for (size_t i = 0; fw && i < FWD_BUCKETS; i++) {
        while (fw->waits[i]) {
            fwd_wait_t *w = fw->waits[i];
            fw->waits[i] = w->next;
            fwd_fail(w);
        }
    }
}

void api_forward_free(app_t *app)
{
    free(app->forward);
    app->forward = NULL;
    bus_free(app->bus);
    app->bus = NULL;
}

int api_forward_metrics(app_t *app, buf_t *out)
{
    struct api_forward_s *fw = app->forward;
    if (!fw)
        return 0;
    const bus_stats_t *bs = bus_stats(app->bus);
    int rc = metrics_type_write(out, "gavel_cluster_forwarded_total", "counter",
                                "Commands sent to the node running their auction, by kind");
    rc = rc ? rc
            : buf_printf(out,
                         "gavel_cluster_forwarded_total{kind=\"bid\"} %llu\n"
                         "gavel_cluster_forwarded_total{kind=\"control\"} %llu\n",
                         (unsigned long long)fw->sent[0], (unsigned long long)fw->sent[1]);
    rc = rc ? rc
            : metrics_type_write(out, "gavel_cluster_decided_for_others_total", "counter",
                                 "Commands another node forwarded here, by kind");
    rc = rc ? rc
            : buf_printf(out,
                         "gavel_cluster_decided_for_others_total{kind=\"bid\"} %llu\n"
                         "gavel_cluster_decided_for_others_total{kind=\"control\"} %llu\n",
                         (unsigned long long)fw->decided[0], (unsigned long long)fw->decided[1]);
    rc = rc ? rc
            : buf_printf(out,
                         "# HELP gavel_cluster_forward_failures_total Forwarded commands answered "
                         "503: no answer in time, or not sent\n"
                         "# TYPE gavel_cluster_forward_failures_total counter\n"
                         "gavel_cluster_forward_failures_total{why=\"timeout\"} %llu\n"
                         "gavel_cluster_forward_failures_total{why=\"unsent\"} %llu\n"
                         "gavel_cluster_forward_failures_total{why=\"nobody_listening\"} %llu\n"
                         "# HELP gavel_cluster_bus_up 1 when the bus to the other nodes is up\n"
                         "# TYPE gavel_cluster_bus_up gauge\ngavel_cluster_bus_up %d\n"
                         "# HELP gavel_cluster_bus_reconnects_total Reconnections to the bus\n"
                         "# TYPE gavel_cluster_bus_reconnects_total counter\n"
                         "gavel_cluster_bus_reconnects_total %llu\n"
                         "# HELP gavel_cluster_bad_messages_total Bus messages that were not "
                         "one\n# TYPE gavel_cluster_bad_messages_total counter\n"
                         "gavel_cluster_bad_messages_total %llu\n"
                         "# HELP gavel_cluster_rate_limit_takes_total Rate-limit takes told to "
                         "the other nodes, and heard from them\n"
                         "# TYPE gavel_cluster_rate_limit_takes_total counter\n"
                         "gavel_cluster_rate_limit_takes_total{way=\"told\"} %llu\n"
                         "gavel_cluster_rate_limit_takes_total{way=\"heard\"} %llu\n",
                         (unsigned long long)fw->timeouts, (unsigned long long)fw->unsent,
                         (unsigned long long)fw->unheard, bus_up(app->bus),
                         (unsigned long long)bs->reconnects, (unsigned long long)fw->bad,
                         (unsigned long long)fw->limits_told, (unsigned long long)fw->limits_heard);
    return rc ? GV_ENOMEM : 0;
}
