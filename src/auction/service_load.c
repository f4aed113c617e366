/* Building a live auction from its stored row (replaying its event log), recovery at start and
 * loading an auction that is not in memory. */
#include "auction/service_int.h"

#include "core/err.h"
#include "core/log.h"
#include "json/json_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int svc_config_parse(const char *text, engine_config_t *c)
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

json_t *svc_config_json(const engine_config_t *c)
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

int svc_replay(auction_service_t *svc, auction_live_t *live, const store_auction_t *row)
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
    rc = store_auction_events_each(svc->deps.store, live->id, 0, 0, svc_replay_one, &r);
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

int svc_live_load(auction_service_t *svc, const store_auction_t *row, auction_live_t **out)
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
    int rc = store_league_get(svc->deps.store, row->league_id, &lg);
    if (!rc)
        memcpy(live->currency, lg.settings.currency, sizeof(live->currency));
    rc = rc ? rc : svc_ids_parse(row->asset_ids, (char *)live->assets, SVC_ASSET_MAX, na);
    rc = rc ? rc : svc_ids_parse(row->manager_ids, (char *)live->managers, SVC_ID_MAX, nm);
    rc = rc ? rc : svc_replay(svc, live, row);
    rc = rc ? rc : svc_view_reset(live);
    rc = rc ? rc : svc_outcomes_known(svc, live);
    if (rc) {
        svc_live_free(live);
        return rc;
    }
    svc_live_link(svc, live);
    svc_cluster_loaded(svc, live);
    *out = live;
    return 0;
}

/* ---- create, recover, delete ---------------------------------------------------------------- */

static int svc_recover_one(void *ctx, const store_auction_t *row)
{
    auction_service_t *svc = ctx;
    auction_live_t *live;
    int rc = svc_live_load(svc, row, &live);
    if (rc) {
        log_error("auction recovery failed auction=%s err=%s", row->id, err_name(rc));
        return 0; /* one broken auction must not keep the others down */
    }
    if (!svc_cluster_recover_one(svc, live))
        return 0;                                  /* another node runs it */
    engine_cmd_t tick = {.type = ENGINE_CMD_TICK}; /* lots overdue while the server was down */
    auction_service_command(svc, live, &tick, NULL, NULL, NULL);
    log_info("auction recovered auction=%s status=%d seq=%lld", live->id, live->eng.status,
             (long long)live->eng.seq);
    return 0;
}

int auction_service_recover(auction_service_t *svc)
{
    int rc = store_auctions_each(svc->deps.store, 0, svc_recover_one, svc);
    svc_commit_now(svc);
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
    return *out ? 0 : svc_get_row(svc, &row, store_auction_get(svc->deps.store, id, &row), out);
}

int auction_service_get_by_league(auction_service_t *svc, const char *league_id,
                                  auction_live_t **out)
{
    store_auction_t row;
    *out = auction_service_by_league(svc, league_id);
    return *out ? 0
                : svc_get_row(svc, &row, store_auction_by_league(svc->deps.store, league_id, &row),
                              out);
}
