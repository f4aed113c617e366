/* Live auctions: commands through the engine, one timer per auction, group commit before any
 * reply or broadcast, and recovery from the event log. */
#include "auction/service_int.h"

#include "auth/token.h"
#include "core/random.h"
#include "core/err.h"
#include "core/log.h"
#include "json/json_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void svc_timer_arm(auction_live_t *live);
static void svc_on_commit_hook(uv_check_t *h);
static void svc_wake(auction_service_t *svc);

/* ---- accessors ------------------------------------------------------------------------------ */

const char *auction_live_id(const auction_live_t *live)
{
    return live->id;
}

const char *auction_live_league(const auction_live_t *live)
{
    return live->league_id;
}

const engine_t *auction_live_engine(const auction_live_t *live)
{
    return &live->eng;
}

int auction_live_epoch(const auction_live_t *live)
{
    return live->epoch;
}

int auction_live_manager(const auction_live_t *live, const char *user_id)
{
    for (int i = 0; i < live->n_managers; i++)
        if (strcmp(live->managers[i], user_id) == 0)
            return i;
    return -1;
}

const char *auction_live_asset_id(const auction_live_t *live, int i)
{
    return i >= 0 && i < live->n_assets ? live->assets[i] : NULL;
}

const char *auction_live_currency(const auction_live_t *live)
{
    return live->currency;
}

void auction_service_user_renamed(auction_service_t *svc, const char *user_id)
{
    for (auction_live_t *l = svc->lives; l; l = l->next) {
        int m = auction_live_manager(l, user_id);
        if (m >= 0)
            l->name_ok[m] = 0;
    }
}

const char *auction_live_manager_id(const auction_live_t *live, int i)
{
    return i >= 0 && i < live->n_managers ? live->managers[i] : NULL;
}

int auction_live_asset_index(const auction_live_t *live, const char *asset_id)
{
    for (int i = 0; i < live->n_assets; i++)
        if (strcmp(live->assets[i], asset_id) == 0)
            return i;
    return -1;
}

const char *auction_live_asset_status(const auction_live_t *live, const char *asset_id,
                                      const char **owner, int64_t *price)
{
    const engine_t *e = &live->eng;
    int i = auction_live_asset_index(live, asset_id);
    *owner = NULL;
    *price = 0;
    if (i < 0)
        return "available";
    if (e->owner[i] >= 0) {
        *owner = live->managers[e->owner[i]];
        *price = e->price_of[i];
        return "sold";
    }
    engine_phase_t ph = e->status == ENGINE_PAUSED ? e->paused_phase : e->phase;
    if (e->lot_asset == i && ph == ENGINE_LOT_RUNNING)
        return "on_block";
    for (int h = e->history_n - 1; h >= 0; h--)
        if (e->history[h].asset == i)
            return e->history[h].manager >= 0 ? "sold" : "unsold";
    return "available";
}

static size_t svc_bucket(const char *key)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211u;
    return (size_t)(h % SVC_BUCKETS);
}

auction_live_t *auction_service_find(auction_service_t *svc, const char *id)
{
    for (auction_live_t *l = svc->by_id[svc_bucket(id)]; l; l = l->next_id)
        if (strcmp(l->id, id) == 0)
            return l;
    return NULL;
}

auction_live_t *auction_service_by_league(auction_service_t *svc, const char *league_id)
{
    for (auction_live_t *l = svc->by_league[svc_bucket(league_id)]; l; l = l->next_league)
        if (strcmp(l->league_id, league_id) == 0)
            return l;
    return NULL;
}

/* ---- lifetime of a live auction ------------------------------------------------------------- */

static void svc_live_free(auction_live_t *live)
{
    for (int i = 0; i < SVC_RING; i++)
        free(live->ring[i]);
    for (int i = 0; i < live->n_assets; i++)
        json_decref(live->asset_json[i]);
    free(live->asset_json);
    free(live->assets);
    free(live->managers);
    free(live->names);
    free(live->name_ok);
    engine_deinit(&live->eng);
    free(live);
}

static void svc_live_release(uv_handle_t *h)
{
    svc_live_free(h->data);
}

/* Unlinks live and frees it once its timer handle is closed. */
static void svc_live_drop(auction_service_t *svc, auction_live_t *live)
{
    for (auction_live_t **pp = &svc->lives; *pp; pp = &(*pp)->next) {
        if (*pp == live) {
            *pp = live->next;
            break;
        }
    }
    auction_live_t **pp = &svc->by_id[svc_bucket(live->id)];
    while (*pp && *pp != live)
        pp = &(*pp)->next_id;
    if (*pp)
        *pp = live->next_id;
    pp = &svc->by_league[svc_bucket(live->league_id)];
    while (*pp && *pp != live)
        pp = &(*pp)->next_league;
    if (*pp)
        *pp = live->next_league;
    for (size_t i = 0; i < svc->n_presence; i++)
        if (svc->presence[i] == live)
            svc->presence[i--] = svc->presence[--svc->n_presence];
    uv_close((uv_handle_t *)&live->timer, svc_live_release);
}

/* Allocates a live auction with n_assets / n_managers id slots (not linked, no timer yet). */
static auction_live_t *svc_live_alloc(int n_assets, int n_managers)
{
    auction_live_t *live = calloc(1, sizeof(*live));
    if (!live)
        return NULL;
    live->n_assets = n_assets;
    live->n_managers = n_managers;
    live->assets = calloc((size_t)(n_assets ? n_assets : 1), sizeof(*live->assets));
    live->asset_json = calloc((size_t)(n_assets ? n_assets : 1), sizeof(*live->asset_json));
    live->managers = calloc((size_t)(n_managers ? n_managers : 1), sizeof(*live->managers));
    live->names = calloc((size_t)(n_managers ? n_managers : 1), sizeof(*live->names));
    live->name_ok = calloc((size_t)(n_managers ? n_managers : 1), 1);
    if (!live->assets || !live->asset_json || !live->managers || !live->names || !live->name_ok) {
        free(live->assets);
        free(live->asset_json);
        free(live->managers);
        free(live->names);
        free(live->name_ok);
        free(live);
        return NULL;
    }
    return live;
}

static void svc_live_link(auction_service_t *svc, auction_live_t *live)
{
    live->svc = svc;
    live->status_told = live->eng.status;
    uv_timer_init(svc->app->loop, &live->timer);
    live->timer.data = live;
    live->next = svc->lives;
    svc->lives = live;
    size_t b = svc_bucket(live->id), lb = svc_bucket(live->league_id);
    live->next_id = svc->by_id[b];
    svc->by_id[b] = live;
    live->next_league = svc->by_league[lb];
    svc->by_league[lb] = live;
}

/* ---- the pending batch ---------------------------------------------------------------------- */

static int svc_grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *p = realloc(*arr, ncap * sz);
    if (!p)
        return GV_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* Queues the events of one command (already applied to live's engine) for the commit. */
static int svc_queue_events(auction_service_t *svc, auction_live_t *live,
                            const engine_events_t *evs, const char *actor)
{
    for (int i = 0; i < evs->n; i++) {
        if (svc_grow((void **)&svc->events, &svc->cap_events, svc->n_events, sizeof(*svc->events)))
            return GV_ENOMEM;
        svc_pending_event_t *p = &svc->events[svc->n_events];
        json_t *o = svc_event_json(svc, live, &evs->ev[i]);
        p->json = o ? json_text(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!p->json)
            return GV_ENOMEM;
        p->live = live;
        p->ev = evs->ev[i];
        snprintf(p->actor, sizeof(p->actor), "%s", actor ? actor : "");
        p->epoch = live->epoch;
        svc->n_events++;
        if (evs->ev[i].type == ENGINE_EV_RESET)
            live->epoch++;
    }
    live->dirty = live->dirty || evs->n > 0;
    if (evs->n)
        svc_wake(svc);
    return 0;
}

/* Queues done on list (early or late replies). */
static void svc_reply_queue(auction_service_t *svc, svc_reply_list_t *list, auction_done_fn done,
                            void *ctx)
{
    int nothing = svc->n_events == 0 && !svc->poisoned;
    if (nothing || svc_grow((void **)&list->v, &list->cap, list->n, sizeof(*list->v))) {
        done(ctx, nothing ? 0 : GV_EUNAVAILABLE);
        return;
    }
    list->v[list->n].fn = done;
    list->v[list->n].ctx = ctx;
    list->n++;
    svc_wake(svc);
}

void auction_service_after_commit(auction_service_t *svc, auction_done_fn done, void *ctx)
{
    svc_reply_queue(svc, &svc->early, done, ctx);
}

void auction_service_after_publish(auction_service_t *svc, auction_done_fn done, void *ctx)
{
    svc_reply_queue(svc, &svc->late, done, ctx);
}

void auction_service_fail_turn(auction_service_t *svc, auction_live_t *live)
{
    svc->poisoned = 1;
    live->dirty = 1;
    svc_wake(svc);
}

int auction_service_command(auction_service_t *svc, auction_live_t *live, const engine_cmd_t *cmd,
                            const char *actor_id, auction_done_fn done, void *ctx)
{
    engine_events_t evs = {.n = 0};
    int rc = engine_apply(&live->eng, cmd, clock_now_ms(&svc->app->clock), &evs);
    if (rc)
        return rc;
    rc = svc_queue_events(svc, live, &evs, actor_id);
    if (rc) /* the engine moved on without its events */
        auction_service_fail_turn(svc, live);
    svc_timer_arm(live);
    if (done)
        auction_service_after_commit(svc, done, ctx);
    return rc == 0 ? 0 : rc;
}

/* ---- group commit --------------------------------------------------------------------------- */

/* Writes one pending event and the rows derived from it. */
static int svc_write_event(auction_service_t *svc, const svc_pending_event_t *p)
{
    store_t *st = svc->app->store;
    auction_live_t *live = p->live;
    const engine_event_t *ev = &p->ev;
    store_auction_event_t row = {ev->seq, engine_event_name(ev->type), p->json, ev->at_ms,
                                 p->actor[0] ? p->actor : NULL};
    int rc = store_auction_event_append(st, live->id, &row);
    int epoch = p->epoch;
    if (!rc && ev->type == ENGINE_EV_BID) {
        store_bid_row_t b = {ev->seq, ev->lot, live->managers[ev->manager], ev->amount, ev->at_ms};
        rc = store_auction_bid_insert(st, live->id, epoch, &b);
    } else if (!rc && ev->type == ENGINE_EV_LOT_CLOSED) {
        rc = store_auction_lot_closed(
            st, live->id, epoch, ev->lot, live->assets[ev->asset], ev->sold ? "sold" : "unsold",
            ev->sold ? live->managers[ev->manager] : NULL, ev->amount, ev->at_ms);
        if (!rc && ev->sold)
            rc = store_auction_roster_set(st, live->id, live->assets[ev->asset],
                                          live->managers[ev->manager], ev->amount, ev->lot);
    } else if (!rc && ev->type == ENGINE_EV_LOT_UNDONE) {
        rc = store_auction_lot_undone(st, live->id, epoch, ev->lot);
        if (!rc && ev->manager >= 0)
            rc = store_auction_roster_set(st, live->id, live->assets[ev->asset], NULL, 0, 0);
    } else if (!rc && ev->type == ENGINE_EV_RESET) {
        rc = store_auction_roster_clear(st, live->id);
    }
    return rc;
}

int auction_service_outcome_get(auction_service_t *svc, const char *auction_id, const char *user,
                                const char *cbid, char *out, size_t n)
{
    for (size_t i = 0; i < svc->n_outcomes; i++) {
        svc_pending_outcome_t *o = &svc->outcomes[i];
        if (!strcmp(o->auction, auction_id) && !strcmp(o->user, user) && !strcmp(o->cbid, cbid)) {
            snprintf(out, n, "%s", o->outcome);
            return 0;
        }
    }
    int rc = store_bid_outcome_get(svc->app->store, auction_id, user, cbid, out, n);
    return rc == 0 ? 0 : GV_ENOT_FOUND;
}

int auction_service_outcome_put(auction_service_t *svc, const char *auction_id, const char *user,
                                const char *cbid, const char *outcome)
{
    if (strlen(cbid) >= AUCTION_CBID_MAX || svc_grow((void **)&svc->outcomes, &svc->cap_outcomes,
                                                     svc->n_outcomes, sizeof(*svc->outcomes)))
        return GV_ENOMEM;
    svc_pending_outcome_t *o = &svc->outcomes[svc->n_outcomes];
    o->outcome = strdup(outcome);
    if (!o->outcome)
        return GV_ENOMEM;
    snprintf(o->auction, sizeof(o->auction), "%s", auction_id);
    snprintf(o->user, sizeof(o->user), "%s", user);
    snprintf(o->cbid, sizeof(o->cbid), "%s", cbid);
    svc->n_outcomes++;
    svc_wake(svc);
    return 0;
}

static int svc_write_batch(auction_service_t *svc)
{
    store_t *st = svc->app->store;
    int64_t now = clock_now_ms(&svc->app->clock);
    int rc = svc->poisoned ? GV_EINTERNAL : store_tx_begin(st);
    for (size_t i = 0; !rc && i < svc->n_events; i++)
        rc = svc_write_event(svc, &svc->events[i]);
    for (size_t i = 0; !rc && i < svc->n_events; i++) { /* each changed auction's row, once */
        auction_live_t *l = svc->events[i].live;
        if (l->dirty == 1) {
            l->dirty = 2;
            rc =
                store_auction_update(st, l->id, engine_status_name(l->eng.status), l->eng.seq, now);
        }
    }
    for (size_t i = 0; !rc && i < svc->n_outcomes; i++) {
        svc_pending_outcome_t *o = &svc->outcomes[i];
        rc = store_bid_outcome_put(st, o->auction, o->user, o->cbid, o->outcome);
    }
    rc = rc ? rc : store_tx_commit(st);
    if (rc && !svc->poisoned)
        store_tx_rollback(st);
    return rc;
}

static int svc_replay(auction_service_t *svc, auction_live_t *live, const store_auction_t *row);

/* Replays l from the store; an auction that cannot be reloaded is taken offline (and its later
 * pending rows voided). */
static void svc_reload_one(auction_service_t *svc, auction_live_t *l, size_t from)
{
    store_auction_t row;
    int rc = store_auction_get(svc->app->store, l->id, &row);
    if (!rc) {
        engine_deinit(&l->eng);
        rc = svc_replay(svc, l, &row);
        store_auction_free_fields(&row);
    }
    l->dirty = 0;
    if (rc) {
        log_error("auction reload failed auction=%s err=%s detail=\"%s\": taken offline", l->id,
                  err_name(rc), store_errmsg(svc->app->store));
        for (size_t k = from; k < svc->n_events; k++) /* later rows of it are void */
            if (svc->events[k].live == l)
                svc->events[k].live = NULL;
        svc_live_drop(svc, l);
    } else {
        svc_timer_arm(l);
    }
}

/* After a failed commit: every auction with pending events goes back to what the store holds,
 * and so does one whose events could not even be queued (dirty, but in no pending row). */
static void svc_reload_dirty(auction_service_t *svc)
{
    for (size_t i = 0; i < svc->n_events; i++) {
        auction_live_t *l = svc->events[i].live;
        if (l && l->dirty)
            svc_reload_one(svc, l, i);
    }
    for (auction_live_t *l = svc->lives, *next; l; l = next) {
        next = l->next;
        if (l->dirty)
            svc_reload_one(svc, l, svc->n_events);
    }
}

/* Keeps a committed event in live's ring of recent events. */
static void svc_ring_push(auction_live_t *live, int64_t seq, const char *json)
{
    int slot = (int)(seq % SVC_RING);
    free(live->ring[slot]);
    live->ring[slot] = strdup(json);
    if (!live->ring[slot]) {
        live->ring_first = seq + 1; /* out of memory: what came before is no longer contiguous */
        return;
    }
    if (live->ring_first == 0 || live->ring_first > seq)
        live->ring_first = seq;
    if (seq - live->ring_first >= SVC_RING)
        live->ring_first = seq - SVC_RING + 1;
}

int auction_service_missed(auction_service_t *svc, auction_live_t *live, int64_t since,
                           void (*fn)(void *ctx, const char *json, size_t len), void *ctx)
{
    (void)svc;
    int64_t last = live->eng.seq;
    if (since >= last)
        return 0;
    if (live->ring_first == 0 || since + 1 < live->ring_first)
        return GV_ENOT_FOUND;
    for (int64_t q = since + 1; q <= last; q++)
        if (!live->ring[q % SVC_RING])
            return GV_ENOT_FOUND;
    for (int64_t q = since + 1; q <= last; q++)
        fn(ctx, live->ring[q % SVC_RING], strlen(live->ring[q % SVC_RING]));
    return 0;
}

/* Tells the league room `auction_status {auctionId, status}` when live's status is not the one
 * it was last told (begin, pause, resume, completion, reset), so league pages need not poll. */
/* Publishes o (taken; NULL when it could not be made: nothing is sent) to the room kind:id of an
 * ephemeral message. */
static void svc_publish_json(auction_service_t *svc, const char *kind, const char *id, json_t *o)
{
    char room[HUB_ROOM_MAX];
    char *text = o ? json_text(o, JSON_COMPACT) : NULL;
    json_decref(o);
    snprintf(room, sizeof(room), "%s:%s", kind, id);
    if (text)
        hub_publish(svc->app->hub, room, text, strlen(text));
    free(text);
}

static void svc_tell_league(auction_service_t *svc, auction_live_t *live)
{
    if (live->status_told == live->eng.status)
        return;
    svc_publish_json(svc, "league", live->league_id,
                     json_pack("{s:s, s:s, s:s, s:s}", "type", "auction_status", "leagueId",
                               live->league_id, "auctionId", live->id, "status",
                               engine_status_name(live->eng.status)));
    live->status_told = live->eng.status;
}

/* Sends n committed events, in seq order, to their rooms (and a changed status to the
 * league's). */
static void svc_publish(auction_service_t *svc, svc_pending_event_t *batch, size_t n)
{
    char room[HUB_ROOM_MAX];
    for (size_t i = 0; i < n; i++) {
        svc_pending_event_t *p = &batch[i];
        snprintf(room, sizeof(room), "auction:%s", p->live->id);
        svc_ring_push(p->live, p->ev.seq, p->json);
        hub_publish(svc->app->hub, room, p->json, strlen(p->json));
        if (i + 1 == n || batch[i + 1].live != p->live)
            svc_tell_league(svc, p->live);
    }
}

/* One presence event per room that changed this turn (ephemeral: no seq, not logged). */
static void svc_publish_presence(auction_service_t *svc)
{
    for (size_t i = 0; i < svc->n_presence; i++) {
        auction_live_t *l = svc->presence[i];
        l->presence_dirty = 0;
        int spectators;
        svc_publish_json(svc, "auction", l->id, svc_presence_json(svc, l, &spectators));
    }
    svc->n_presence = 0;
}

/* The commit step, once per loop turn after I/O: one transaction for every pending event, then
 * the broadcasts and the replies (or, on failure, reloads and `unavailable`). */
/* Runs and empties a reply list; replies may queue new commands: those wait a turn. */
static void svc_replies_run(svc_reply_list_t *list, int status)
{
    svc_reply_list_t mine = *list;
    memset(list, 0, sizeof(*list));
    for (size_t i = 0; i < mine.n; i++)
        mine.v[i].fn(mine.v[i].ctx, status);
    free(mine.v);
}

int auction_service_idle(const auction_service_t *svc)
{
    return svc->n_events == 0 && svc->early.n == 0 && svc->late.n == 0 && svc->n_outcomes == 0 &&
           svc->n_presence == 0 && !svc->poisoned;
}

/* The commit step, once per loop turn after I/O: one transaction for every pending event; then
 * the callers' answers, the broadcasts in seq order, presence, and the room joins (which must
 * come after the broadcasts they already include). On failure: reloads and `unavailable`. */
static void svc_flush(auction_service_t *svc)
{
    if (auction_service_idle(svc))
        return;
    int rc = svc->n_events || svc->n_outcomes || svc->poisoned ? svc_write_batch(svc) : 0;
    if (rc) {
        log_error("auction commit failed events=%zu err=%s detail=\"%s\"", svc->n_events,
                  err_name(rc), store_errmsg(svc->app->store));
        svc_reload_dirty(svc);
    } else {
        for (size_t i = 0; i < svc->n_events; i++)
            svc->events[i].live->dirty = 0;
    }
    for (size_t i = 0; i < svc->n_outcomes; i++)
        free(svc->outcomes[i].outcome);
    svc->n_outcomes = 0;
    svc->poisoned = 0;
    /* Take the batch out: answers below may queue new commands for the next turn. */
    svc_pending_event_t *batch = svc->events;
    size_t n = svc->n_events, cap = svc->cap_events;
    svc->events = NULL;
    svc->n_events = svc->cap_events = 0;
    svc_replies_run(&svc->early, rc ? GV_EUNAVAILABLE : 0);
    if (!rc)
        svc_publish(svc, batch, n);
    for (size_t i = 0; i < n; i++)
        free(batch[i].json);
    if (svc->events == NULL) { /* keep the array for the next turn */
        svc->events = batch;
        svc->cap_events = cap;
    } else {
        free(batch);
    }
    svc_publish_presence(svc);
    svc_replies_run(&svc->late, rc ? GV_EUNAVAILABLE : 0);
    if (auction_service_idle(svc))
        uv_idle_stop(&svc->wake);
}

void auction_service_presence_changed(auction_service_t *svc, auction_live_t *live)
{
    if (live->presence_dirty || svc_grow((void **)&svc->presence, &svc->cap_presence,
                                         svc->n_presence, sizeof(*svc->presence)))
        return;
    live->presence_dirty = 1;
    svc->presence[svc->n_presence++] = live;
    svc_wake(svc);
}

/* Keeps the loop from blocking in poll while something waits for the commit (events queued by a
 * timer callback would otherwise wait for the next I/O). */
static void svc_on_wake(uv_idle_t *h)
{
    (void)h;
}

static void svc_wake(auction_service_t *svc)
{
    if (!svc->stopped)
        uv_idle_start(&svc->wake, svc_on_wake);
}

static void svc_on_commit_hook(uv_check_t *h)
{
    svc_flush(h->data);
}

/* ---- timers --------------------------------------------------------------------------------- */

static void svc_on_timer(uv_timer_t *t)
{
    auction_live_t *live = t->data;
    engine_cmd_t tick = {.type = ENGINE_CMD_TICK};
    auction_service_command(live->svc, live, &tick, NULL, NULL, NULL);
    svc_timer_arm(live); /* also when the tick came a little early: wait the rest */
}

static void svc_timer_arm(auction_live_t *live)
{
    int64_t deadline = engine_next_deadline(&live->eng);
    if (deadline == INT64_MAX || live->svc->stopped) {
        uv_timer_stop(&live->timer);
        return;
    }
    int64_t delay = deadline - clock_now_ms(&live->svc->app->clock);
    uv_timer_start(&live->timer, svc_on_timer, (uint64_t)(delay > 0 ? delay : 0), 0);
}

/* ---- building a live auction from its stored row -------------------------------------------- */

static int svc_config_parse(const char *text, engine_config_t *c)
{
    json_t *o = json_loads(text, 0, NULL);
    memset(c, 0, sizeof(*c));
    int rc = json_unpack(o, "{s:I, s:i, s:I, s:I, s:I, s:I, s:I, s:i, s:b}", "budget", &c->budget,
                         "rosterSize", &c->roster_size, "minBid", &c->min_bid, "minIncrement",
                         &c->min_increment, "lotMs", &c->lot_ms, "antiSnipeMs", &c->anti_snipe_ms,
                         "intermissionMs", &c->intermission_ms, "reofferUnsold", &c->reoffer_unsold,
                         "randomOrder", &c->random_order);
    json_decref(o);
    return rc ? GV_EDB : 0;
}

static json_t *svc_config_json(const engine_config_t *c)
{
    return json_pack("{s:I, s:i, s:I, s:I, s:I, s:I, s:I, s:i, s:b}", "budget",
                     (json_int_t)c->budget, "rosterSize", c->roster_size, "minBid",
                     (json_int_t)c->min_bid, "minIncrement", (json_int_t)c->min_increment, "lotMs",
                     (json_int_t)c->lot_ms, "antiSnipeMs", (json_int_t)c->anti_snipe_ms,
                     "intermissionMs", (json_int_t)c->intermission_ms, "reofferUnsold",
                     c->reoffer_unsold, "randomOrder", c->random_order);
}

/* Copies a JSON array of strings into fixed slots; 0 or GV_EDB. */
static int svc_ids_parse(const char *text, char *slots, size_t slot, int n)
{
    json_t *a = json_loads(text, 0, NULL);
    int rc = json_is_array(a) && (int)json_array_size(a) == n ? 0 : GV_EDB;
    for (int i = 0; !rc && i < n; i++) {
        const char *s = json_string_value(json_array_get(a, (size_t)i));
        if (!s || strlen(s) >= slot)
            rc = GV_EDB;
        else
            memcpy(slots + (size_t)i * slot, s, strlen(s) + 1);
    }
    json_decref(a);
    return rc;
}

typedef struct {
    auction_live_t *live;
    int rc;
} svc_replay_t;

static int svc_replay_one(void *ctx, const store_auction_event_t *row)
{
    svc_replay_t *r = ctx;
    json_t *o = json_loads(row->payload, 0, NULL);
    engine_event_t ev;
    int rc = o ? svc_event_parse(r->live, o, &ev) : GV_EDB;
    json_decref(o);
    if (rc || ev.seq != r->live->eng.seq + 1 || engine_event_apply(&r->live->eng, &ev) != 0)
        return r->rc = GV_EDB; /* a gap or a row that cannot follow: never guess */
    if (ev.type == ENGINE_EV_RESET)
        r->live->epoch++;
    svc_ring_push(r->live, ev.seq, row->payload);
    return 0;
}

/* Rebuilds live's engine from the log of row (the engine is uninitialised storage). */
static int svc_replay(auction_service_t *svc, auction_live_t *live, const store_auction_t *row)
{
    engine_config_t cfg;
    int rc = svc_config_parse(row->config, &cfg);
    rc = rc ? rc
         : engine_replay_init(&live->eng, &cfg, live->n_assets, live->n_managers, row->seed)
             ? GV_EDB
             : 0;
    if (rc)
        return rc;
    live->epoch = 0;
    svc_replay_t r = {live, 0};
    rc = store_auction_events_each(svc->app->store, live->id, 0, 0, svc_replay_one, &r);
    return rc ? rc : r.rc;
}

/* Counts the entries of a JSON array text (-1 when it is not one). */
static int svc_json_count(const char *text)
{
    json_t *a = json_loads(text, 0, NULL);
    int n = json_is_array(a) ? (int)json_array_size(a) : -1;
    json_decref(a);
    return n;
}

/* Makes a live auction of a stored row by replaying its log. */
static int svc_live_load(auction_service_t *svc, const store_auction_t *row, auction_live_t **out)
{
    int na = svc_json_count(row->asset_ids), nm = svc_json_count(row->manager_ids);
    if (na < 0 || nm < 0 || nm > ENGINE_MAX_MANAGERS || na > ENGINE_MAX_ASSETS)
        return GV_EDB;
    auction_live_t *live = svc_live_alloc(na, nm);
    if (!live)
        return GV_ENOMEM;
    snprintf(live->id, sizeof(live->id), "%s", row->id);
    snprintf(live->league_id, sizeof(live->league_id), "%s", row->league_id);
    store_league_t lg;
    int rc = store_league_get(svc->app->store, row->league_id, &lg);
    if (!rc)
        memcpy(live->currency, lg.settings.currency, sizeof(live->currency));
    rc = rc ? rc : svc_ids_parse(row->asset_ids, (char *)live->assets, SVC_ASSET_MAX, na);
    rc = rc ? rc : svc_ids_parse(row->manager_ids, (char *)live->managers, SVC_ID_MAX, nm);
    rc = rc ? rc : svc_replay(svc, live, row);
    if (rc) {
        svc_live_free(live);
        return rc;
    }
    svc_live_link(svc, live);
    *out = live;
    return 0;
}

/* ---- create, recover, delete ---------------------------------------------------------------- */

/* Collects the league's selection (in order) and its commissioner + managers as JSON arrays. */
static int svc_collect(store_t *st, const char *league_id, json_t *assets, json_t *managers)
{
    enum { PAGE = 500 };
    store_asset_t *rows = calloc(PAGE, sizeof(*rows));
    store_member_t *mem = calloc(ENGINE_MAX_MANAGERS, sizeof(*mem));
    int pos[PAGE], after = -1, more = 1, rc = rows && mem ? 0 : GV_ENOMEM;
    size_t n = 0;
    while (!rc && more) {
        rc = store_league_assets_list(st, league_id, after, PAGE, rows, pos, PAGE, &n, &more);
        for (size_t i = 0; !rc && i < n; i++)
            rc = json_array_append_new(assets, json_string(rows[i].id)) ? GV_ENOMEM : 0;
        after = n ? pos[n - 1] : after;
        more = more && n;
    }
    rc = rc ? rc
            : store_members_list(st, league_id, 0, 0, "", ENGINE_MAX_MANAGERS, mem,
                                 ENGINE_MAX_MANAGERS, &n, &more);
    for (size_t i = 0; !rc && i < n; i++)
        rc = json_array_append_new(managers, json_string(mem[i].user_id)) ? GV_ENOMEM : 0;
    free(rows);
    free(mem);
    return rc;
}

static void svc_config_from(const store_league_settings_t *s, engine_config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->budget = s->budget;
    c->roster_size = s->roster_size;
    c->min_bid = s->min_bid;
    c->min_increment = s->min_increment;
    c->lot_ms = (int64_t)s->lot_seconds * 1000;
    c->anti_snipe_ms = (int64_t)s->anti_snipe_seconds * 1000;
    c->intermission_ms = (int64_t)s->intermission_seconds * 1000;
    c->reoffer_unsold = s->reoffer_unsold;
    c->random_order = !s->lot_order_fixed;
}

/* Stores the new auction row and its CREATED event in one transaction. */
static int svc_store_new(auction_service_t *svc, store_auction_t *row, auction_live_t *live,
                         const engine_event_t *created, const char *actor)
{
    store_t *st = svc->app->store;
    json_t *o = svc_event_json(svc, live, created);
    char *payload = o ? json_text(o, JSON_COMPACT) : NULL;
    json_decref(o);
    store_auction_event_t ev = {created->seq, "auction_created", payload, created->at_ms, actor};
    int rc = payload ? store_tx_begin(st) : GV_ENOMEM;
    rc = rc ? rc : store_auction_create(st, row);
    rc = rc ? rc : store_auction_event_append(st, row->id, &ev);
    rc = rc ? rc : store_tx_commit(st);
    if (rc && payload)
        store_tx_rollback(st);
    free(payload);
    return rc;
}

static int svc_live_new(auction_service_t *svc, const store_league_t *lg, json_t *assets,
                        json_t *managers, const char *actor, auction_live_t **out)
{
    int na = (int)json_array_size(assets), nm = (int)json_array_size(managers);
    engine_config_t cfg;
    engine_events_t evs = {.n = 0};
    uint64_t seed = 0;
    svc_config_from(&lg->settings, &cfg);
    auction_live_t *live = svc_live_alloc(na, nm);
    if (!live)
        return GV_ENOMEM;
    for (int i = 0; i < na; i++)
        snprintf(live->assets[i], SVC_ASSET_MAX, "%s",
                 json_string_value(json_array_get(assets, (size_t)i)));
    for (int i = 0; i < nm; i++)
        snprintf(live->managers[i], SVC_ID_MAX, "%s",
                 json_string_value(json_array_get(managers, (size_t)i)));
    snprintf(live->league_id, sizeof(live->league_id), "%s", lg->id);
    memcpy(live->currency, lg->settings.currency, sizeof(live->currency));
    int rc = token_id(live->id, "au_");
    rc = rc ? rc : random_bytes(&seed, sizeof(seed));
    rc =
        rc ? rc : engine_init(&live->eng, &cfg, na, nm, seed, clock_now_ms(&svc->app->clock), &evs);
    json_t *cj = svc_config_json(&cfg);
    char *ctext = cj ? json_text(cj, JSON_COMPACT) : NULL;
    char *atext = json_text(assets, JSON_COMPACT), *mtext = json_text(managers, JSON_COMPACT);
    store_auction_t row = {.seq = 1,
                           .seed = seed,
                           .config = ctext,
                           .asset_ids = atext,
                           .manager_ids = mtext,
                           .created_ms = clock_now_ms(&svc->app->clock)};
    snprintf(row.id, sizeof(row.id), "%s", live->id);
    snprintf(row.league_id, sizeof(row.league_id), "%s", lg->id);
    snprintf(row.status, sizeof(row.status), "waiting");
    rc = rc                        ? rc
         : ctext && atext && mtext ? svc_store_new(svc, &row, live, &evs.ev[0], actor)
                                   : GV_ENOMEM;
    json_decref(cj);
    free(ctext);
    free(atext);
    free(mtext);
    if (rc) {
        svc_live_free(live);
        return rc;
    }
    svc_live_link(svc, live);
    *out = live;
    return 0;
}

int auction_service_create(auction_service_t *svc, const char *league_id, const char *actor_id,
                           auction_live_t **out)
{
    store_league_t lg;
    json_t *assets = json_array(), *managers = json_array();
    int rc = store_league_get(svc->app->store, league_id, &lg);
    rc = rc ? rc : svc_collect(svc->app->store, league_id, assets, managers);
    if (!rc && !(assets && managers))
        rc = GV_ENOMEM;
    if (!rc && json_array_size(assets) < (size_t)lg.settings.roster_size)
        rc = GV_ESELECTION_TOO_SMALL;
    if (!rc && json_array_size(assets) > ENGINE_MAX_ASSETS)
        rc = GV_ELIMIT;
    rc = rc ? rc : svc_live_new(svc, &lg, assets, managers, actor_id, out);
    json_decref(assets);
    json_decref(managers);
    return rc;
}

static int svc_recover_one(void *ctx, const store_auction_t *row)
{
    auction_service_t *svc = ctx;
    auction_live_t *live;
    int rc = svc_live_load(svc, row, &live);
    if (rc) {
        log_error("auction recovery failed auction=%s err=%s", row->id, err_name(rc));
        return 0; /* one broken auction must not keep the others down */
    }
    engine_cmd_t tick = {.type = ENGINE_CMD_TICK}; /* lots overdue while the server was down */
    auction_service_command(svc, live, &tick, NULL, NULL, NULL);
    log_info("auction recovered auction=%s status=%d seq=%lld", live->id, live->eng.status,
             (long long)live->eng.seq);
    return 0;
}

int auction_service_recover(auction_service_t *svc)
{
    int rc = store_auctions_each(svc->app->store, 0, svc_recover_one, svc);
    svc_flush(svc);
    for (auction_live_t *l = svc->lives; l; l = l->next)
        svc_timer_arm(l);
    return rc;
}

/* Loads a stored auction into memory (a completed one after a restart). */
static int svc_get_row(auction_service_t *svc, store_auction_t *row, int rc, auction_live_t **out)
{
    if (rc)
        return rc;
    rc = svc_live_load(svc, row, out);
    store_auction_free_fields(row);
    if (!rc)
        svc_timer_arm(*out);
    return rc;
}

int auction_service_get(auction_service_t *svc, const char *id, auction_live_t **out)
{
    store_auction_t row;
    *out = auction_service_find(svc, id);
    return *out ? 0 : svc_get_row(svc, &row, store_auction_get(svc->app->store, id, &row), out);
}

int auction_service_get_by_league(auction_service_t *svc, const char *league_id,
                                  auction_live_t **out)
{
    store_auction_t row;
    *out = auction_service_by_league(svc, league_id);
    return *out ? 0
                : svc_get_row(svc, &row, store_auction_by_league(svc->app->store, league_id, &row),
                              out);
}

int auction_service_delete(auction_service_t *svc, auction_live_t *live)
{
    svc_flush(svc); /* nothing pending may point at the auction we drop */
    int rc = store_auction_delete(svc->app->store, live->id);
    if (rc)
        return rc;
    char room[HUB_ROOM_MAX], text[160];
    snprintf(room, sizeof(room), "auction:%s", live->id);
    int n = snprintf(text, sizeof(text),
                     "{\"type\":\"auction_deleted\",\"auctionId\":\"%s\",\"serverTimeMs\":%lld}",
                     live->id, (long long)clock_now_ms(&svc->app->clock));
    hub_publish(svc->app->hub, room, text, (size_t)n);
    hub_close_room(svc->app->hub, room);
    svc_live_drop(svc, live);
    return 0;
}

/* ---- the service ---------------------------------------------------------------------------- */

int auction_service_new(auction_service_t **out, struct app_s *app)
{
    auction_service_t *svc = calloc(1, sizeof(*svc));
    if (!svc)
        return GV_ENOMEM;
    svc->app = app;
    uv_check_init(app->loop, &svc->commit_hook);
    svc->commit_hook.data = svc;
    uv_check_start(&svc->commit_hook, svc_on_commit_hook);
    uv_unref((uv_handle_t *)&svc->commit_hook);
    uv_idle_init(app->loop, &svc->wake);
    svc->wake.data = svc;
    *out = svc;
    return 0;
}

void auction_service_stop(auction_service_t *svc)
{
    if (!svc || svc->stopped)
        return;
    svc_flush(svc);
    svc->stopped = 1;
    uv_idle_stop(&svc->wake);
    for (auction_live_t *l = svc->lives; l; l = l->next)
        uv_timer_stop(&l->timer);
    uv_check_stop(&svc->commit_hook);
}

void auction_service_free(auction_service_t *svc)
{
    if (!svc)
        return;
    for (auction_live_t *l = svc->lives, *next; l; l = next) {
        next = l->next;
        svc_live_free(l); /* the loop is closed: the timer handles are gone with it */
    }
    for (size_t i = 0; i < svc->n_events; i++)
        free(svc->events[i].json);
    for (size_t i = 0; i < svc->n_outcomes; i++)
        free(svc->outcomes[i].outcome);
    free(svc->events);
    free(svc->early.v);
    free(svc->late.v);
    free(svc->outcomes);
    free(svc->presence);
    free(svc);
}

/* ---- gavel check ---------------------------------------------------------------------------- */

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
    store_auction_rosters_each(svc->app->store, live->id, svc_check_roster_row, &c);
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
            store_auction_bids_each(v->svc->app->store, row->id, epoch, 0, svc_count_bid, &bids);
        store_auction_events_each(v->svc->app->store, row->id, 0, 0, svc_count_bid_event,
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
    int rc = store_auctions_each(svc->app->store, 1, svc_verify_one, &v);
    *bad = v.bad;
    return rc;
}
