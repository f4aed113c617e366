/* Live auctions: the tables, commands through the engine, one timer per auction, creation and
 * deletion, and the service's lifetime (the commit is in service_commit.c, loading in
 * service_load.c). */
#include "auction/service_int.h"

#include "auth/token.h"
#include "core/random.h"
#include "core/err.h"
#include "core/log.h"
#include "json/json_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    return &live->view;
}

const engine_t *auction_live_working(const auction_live_t *live)
{
    return &live->eng;
}

int auction_live_epoch(const auction_live_t *live)
{
    return live->view_epoch;
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

size_t auction_service_live_count(const auction_service_t *svc)
{
    size_t n = 0;
    for (const auction_live_t *l = svc->lives; l; l = l->next)
        n += l->view.status == ENGINE_RUNNING || l->view.status == ENGINE_PAUSED;
    return n;
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
    const engine_t *e = &live->view;
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

void svc_live_free(auction_live_t *live)
{
    for (int i = 0; i < SVC_RING; i++)
        free(live->ring[i]);
    free(live->assets);
    free(live->managers);
    free(live->names);
    free(live->name_ok);
    free(live->peers);
    engine_deinit(&live->eng);
    engine_deinit(&live->view);
    free(live);
}

static void svc_live_release(uv_handle_t *h)
{
    svc_live_free(h->data);
}

void svc_live_drop(auction_service_t *svc, auction_live_t *live)
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

auction_live_t *svc_live_alloc(int n_assets, int n_managers)
{
    auction_live_t *live = calloc(1, sizeof(*live));
    if (!live)
        return NULL;
    live->n_assets = n_assets;
    live->n_managers = n_managers;
    live->assets = calloc((size_t)(n_assets ? n_assets : 1), sizeof(*live->assets));
    live->managers = calloc((size_t)(n_managers ? n_managers : 1), sizeof(*live->managers));
    live->names = calloc((size_t)(n_managers ? n_managers : 1), sizeof(*live->names));
    live->name_ok = calloc((size_t)(n_managers ? n_managers : 1), 1);
    if (!live->assets || !live->managers || !live->names || !live->name_ok) {
        free(live->assets);
        free(live->managers);
        free(live->names);
        free(live->name_ok);
        free(live);
        return NULL;
    }
    return live;
}

void svc_live_link(auction_service_t *svc, auction_live_t *live)
{
    live->svc = svc;
    live->status_told = live->view.status;
    uv_timer_init(svc->deps.loop, &live->timer);
    live->timer.data = live;
    live->next = svc->lives;
    svc->lives = live;
    size_t b = svc_bucket(live->id), lb = svc_bucket(live->league_id);
    live->next_id = svc->by_id[b];
    svc->by_id[b] = live;
    live->next_league = svc->by_league[lb];
    svc->by_league[lb] = live;
}

int svc_view_reset(auction_live_t *live)
{
    engine_deinit(&live->view);
    live->view_epoch = live->epoch;
    return engine_clone(&live->view, &live->eng) ? GV_ENOMEM : 0;
}

int svc_grow(void **arr, size_t *cap, size_t n, size_t sz)
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

/* ---- commands ------------------------------------------------------------------------------ */

int auction_service_command(auction_service_t *svc, auction_live_t *live, const engine_cmd_t *cmd,
                            const char *actor_id, auction_done_fn done, void *ctx)
{
    engine_events_t evs = {.n = 0};
    if (live->follower) /* another node runs it: the API forwards commands there */
        return GV_EUNAVAILABLE;
    int rc = engine_apply(&live->eng, cmd, clock_now_ms(svc->deps.clock), &evs);
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

/* ---- timers --------------------------------------------------------------------------------- */

static void svc_on_timer(uv_timer_t *t)
{
    auction_live_t *live = t->data;
    engine_cmd_t tick = {.type = ENGINE_CMD_TICK};
    auction_service_command(live->svc, live, &tick, NULL, NULL, NULL);
    svc_timer_arm(live); /* also when the tick came a little early: wait the rest */
}

void svc_timer_arm(auction_live_t *live)
{
    int64_t deadline = engine_next_deadline(&live->eng);
    if (deadline == INT64_MAX || live->svc->stopped || live->follower) {
        uv_timer_stop(&live->timer);
        return;
    }
    int64_t delay = deadline - clock_now_ms(live->svc->deps.clock);
    uv_timer_start(&live->timer, svc_on_timer, (uint64_t)(delay > 0 ? delay : 0), 0);
}

/* ---- building a live auction from its stored row -------------------------------------------- */

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
    store_t *st = svc->deps.store;
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
    rc = rc ? rc : engine_init(&live->eng, &cfg, na, nm, seed, clock_now_ms(svc->deps.clock), &evs);
    rc = rc ? rc : svc_view_reset(live); /* what is stored next is committed at once */
    json_t *cj = svc_config_json(&cfg);
    char *ctext = cj ? json_text(cj, JSON_COMPACT) : NULL;
    char *atext = json_text(assets, JSON_COMPACT), *mtext = json_text(managers, JSON_COMPACT);
    store_auction_t row = {.seq = 1,
                           .seed = seed,
                           .config = ctext,
                           .asset_ids = atext,
                           .manager_ids = mtext,
                           .created_ms = clock_now_ms(svc->deps.clock)};
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
    return svc_cluster_created(svc, live);
}

int auction_service_create(auction_service_t *svc, const char *league_id, const char *actor_id,
                           auction_live_t **out)
{
    store_league_t lg;
    json_t *assets = json_array(), *managers = json_array();
    int rc = store_league_get(svc->deps.store, league_id, &lg);
    rc = rc ? rc : svc_collect(svc->deps.store, league_id, assets, managers);
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

int auction_service_delete(auction_service_t *svc, auction_live_t *live)
{
    svc_commit_now(svc); /* nothing pending or being written may point at the auction we drop */
    int rc = store_auction_delete(svc->deps.store, live->id);
    if (rc)
        return rc;
    if (svc_clustered(svc) && svc->deps.bus) /* the other nodes drop it too (their rooms) */
        bus_publish(svc->deps.bus, "del", live->id, strlen(live->id));
    svc_live_gone(svc, live);
    return 0;
}

void svc_live_gone(auction_service_t *svc, auction_live_t *live)
{
    char room[HUB_ROOM_MAX], text[160];
    snprintf(room, sizeof(room), "auction:%s", live->id);
    int n = snprintf(text, sizeof(text),
                     "{\"type\":\"auction_deleted\",\"auctionId\":\"%s\",\"serverTimeMs\":%lld}",
                     live->id, (long long)clock_now_ms(svc->deps.clock));
    hub_publish(svc->deps.hub, room, text, (size_t)n);
    hub_close_room(svc->deps.hub, room);
    svc_live_drop(svc, live);
}

/* ---- the service ---------------------------------------------------------------------------- */

int auction_service_new(auction_service_t **out, const auction_deps_t *deps)
{
    auction_service_t *svc = calloc(1, sizeof(*svc));
    if (!svc)
        return GV_ENOMEM;
    svc->deps = *deps;
    svc->assets = json_object();
    if (!svc->assets) {
        free(svc);
        *out = NULL;
        return GV_ENOMEM;
    }
    svc_commit_init(svc);
    int rc = svc_commit_start(svc);
    rc = rc ? rc : svc_cluster_start(svc);
    if (rc) {
        uv_close((uv_handle_t *)&svc->commit_hook, NULL);
        uv_close((uv_handle_t *)&svc->wake, NULL);
        svc->stopped = 1;
        /* the handles are closed by the loop; svc is freed with auction_service_free */
    }
    *out = svc;
    return rc;
}

void auction_service_stop(auction_service_t *svc)
{
    if (!svc || svc->stopped)
        return;
    svc_commit_stop(svc);
    svc_cluster_stop(svc);
    svc->stopped = 1;
    for (auction_live_t *l = svc->lives; l; l = l->next)
        uv_timer_stop(&l->timer);
}

void auction_service_free(auction_service_t *svc)
{
    if (!svc)
        return;
    for (auction_live_t *l = svc->lives, *next; l; l = next) {
        next = l->next;
        svc_live_free(l); /* the loop is closed: the timer handles are gone with it */
    }
    svc_commit_free(svc);
    json_decref(svc->assets);
    free(svc);
}

void auction_service_assets_changed(auction_service_t *svc)
{
    json_object_clear(svc->assets);
}
