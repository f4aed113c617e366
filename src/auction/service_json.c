/* The service's JSON: engine events as the API's event objects (and back, for replay from the
 * log), and the AuctionState snapshot. */
#include "auction/service_int.h"

#include "league/league_json.h"
#include "core/err.h"

#include <string.h>

static const char *const svc_reasons[] = {
    [ENGINE_REASON_NONE] = "none",
    [ENGINE_REASON_ROSTERS_FULL] = "rosters_full",
    [ENGINE_REASON_NO_LOTS_LEFT] = "no_lots_left",
    [ENGINE_REASON_ENDED] = "ended_by_commissioner",
};

json_t *svc_asset_json(auction_service_t *svc, auction_live_t *live, int i)
{
    if (i < 0 || i >= live->n_assets)
        return NULL;
    const char *id = live->assets[i];
    json_t *o = json_object_get(svc->assets, id);
    if (o)
        return o;
    store_asset_t a;
    o = store_asset_get(svc->deps.store, id, &a) == 0 ? asset_json(&a)
                                                      : json_pack("{s:s}", "id", id);
    /* the cache takes o (and drops it when it cannot keep it): borrowed from there */
    return o && json_object_set_new(svc->assets, id, o) == 0 ? o : NULL;
}

/* The asset's next fixture in the league (live, else the first scheduled from now) for the lot
 * card, or null when the league has none for it. */
static json_t *svc_next_fixture_json(auction_service_t *svc, auction_live_t *live, int i)
{
    store_fixture_t f;
    int64_t now = clock_now_ms(svc->deps.clock);
    if (store_fixture_next(svc->deps.store, live->league_id, live->assets[i], now, &f) != 0)
        return json_null();
    int home = !strcmp(f.home_asset_id, live->assets[i]);
    char at[32];
    clock_format_iso(f.starts_ms, at);
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "fixtureId", f.id, "startsAt", at,
                     "opponentId", home ? f.away_asset_id : f.home_asset_id, "opponentName",
                     home ? f.away_name : f.home_name, "home", home, "round", f.round, "status",
                     f.status);
}

/* The asset on the block: its Asset object with its nextFixture (a new reference, NULL when out
 * of memory). */
static json_t *svc_lot_asset_json(auction_service_t *svc, auction_live_t *live, int i)
{
    json_t *a = json_copy(svc_asset_json(svc, live, i));
    if (a && json_object_set_new(a, "nextFixture", svc_next_fixture_json(svc, live, i)) != 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* The user's current name ("" if unknown). */
static void svc_user_name(auction_service_t *svc, const char *id, char *out, size_t n)
{
    store_user_t u;
    if (store_user_get(svc->deps.store, id, &u) == 0)
        snprintf(out, n, "%s", u.name);
    else if (n)
        out[0] = '\0';
}

const char *svc_manager_name(auction_service_t *svc, auction_live_t *live, int m)
{
    if (m < 0 || m >= live->n_managers)
        return "";
    if (!live->name_ok[m]) {
        svc_user_name(svc, live->managers[m], live->names[m], sizeof(live->names[m]));
        live->name_ok[m] = 1;
    }
    return live->names[m];
}

static const char *svc_mgr(const auction_live_t *live, int m)
{
    return m >= 0 && m < live->n_managers ? live->managers[m] : NULL;
}

static json_t *svc_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Sets o[k] = v (taking v); 1 when v is NULL or the set failed (out of memory), else 0. */
static int svc_put(json_t *o, const char *k, json_t *v)
{
    return json_object_set_new(o, k, v) != 0;
}

/* The fields of one event type (added to o). 0, or nonzero when any could not be made: an event
 * missing a field must never be logged. */
static int svc_event_fields(auction_service_t *svc, auction_live_t *live, const engine_event_t *ev,
                            json_t *o)
{
    char name[128];
    int bad = 0;
    switch (ev->type) {
    case ENGINE_EV_CREATED:
        bad |= svc_put(o, "status", json_string("waiting"));
        break;
    case ENGINE_EV_LOT_OPENED:
        bad |= svc_put(o, "lot",
                       json_pack("{s:i, s:o, s:b, s:I}", "number", ev->lot, "asset",
                                 svc_lot_asset_json(svc, live, ev->asset), "retry", ev->retry,
                                 "endsAtMs", (json_int_t)ev->ends_at_ms));
        break;
    case ENGINE_EV_BID:
        snprintf(name, sizeof(name), "%s", svc_manager_name(svc, live, ev->manager));
        bad |= svc_put(o, "lot", json_integer(ev->lot));
        bad |= svc_put(o, "amount", json_integer(ev->amount));
        bad |= svc_put(o, "leaderId", svc_str_or_null(svc_mgr(live, ev->manager)));
        bad |= svc_put(o, "leaderName", json_string(name));
        bad |= svc_put(o, "endsAtMs", json_integer(ev->ends_at_ms));
        bad |= svc_put(o, "extended", json_boolean(ev->extended));
        break;
    case ENGINE_EV_LOT_CLOSED:
        bad |= svc_put(o, "lot", json_integer(ev->lot));
        bad |= svc_put(o, "result", json_string(ev->sold ? "sold" : "unsold"));
        bad |= svc_put(o, "assetId", json_string(live->assets[ev->asset]));
        if (ev->sold) {
            bad |= svc_put(o, "winnerId", svc_str_or_null(svc_mgr(live, ev->manager)));
            bad |= svc_put(o, "price", json_integer(ev->amount));
            bad |= svc_put(o, "winnerBudgetRemaining", json_integer(ev->budget_after));
        }
        break;
    case ENGINE_EV_INTERMISSION:
        bad |= svc_put(o, "nextLot", ev->next_lot ? json_integer(ev->next_lot) : json_null());
        bad |= svc_put(o, "endsAtMs", json_integer(ev->ends_at_ms));
        break;
    case ENGINE_EV_PAUSED:
        bad |= svc_put(o, "remainingMs", json_integer(ev->remaining_ms));
        break;
    case ENGINE_EV_RESUMED:
        bad |= svc_put(o, "endsAtMs", json_integer(ev->ends_at_ms));
        break;
    case ENGINE_EV_LOT_UNDONE:
        bad |= svc_put(o, "lot", json_integer(ev->lot));
        bad |= svc_put(o, "assetId", json_string(live->assets[ev->asset]));
        bad |= svc_put(o, "refundedUserId", svc_str_or_null(svc_mgr(live, ev->manager)));
        bad |= svc_put(o, "amount", json_integer(ev->amount));
        break;
    case ENGINE_EV_COMPLETED:
        bad |= svc_put(o, "reason", json_string(svc_reasons[ev->reason]));
        bad |= svc_put(o, "sold", json_integer(ev->sold_count));
        bad |= svc_put(o, "unsold", json_integer(ev->unsold_count));
        break;
    case ENGINE_EV_RESET:
        break;
    }
    return bad;
}

json_t *svc_event_json(auction_service_t *svc, auction_live_t *live, const engine_event_t *ev)
{
    json_t *o =
        json_pack("{s:s, s:s, s:I, s:I}", "type", engine_event_name(ev->type), "auctionId",
                  live->id, "seq", (json_int_t)ev->seq, "serverTimeMs", (json_int_t)ev->at_ms);
    if (o && svc_event_fields(svc, live, ev, o) != 0) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* ---- back from the log ---------------------------------------------------------------------- */

static int svc_manager_of(const auction_live_t *live, json_t *v)
{
    const char *id = json_string_value(v);
    return id ? auction_live_manager(live, id) : -1;
}

static int svc_asset_of(const auction_live_t *live, json_t *v)
{
    const char *id = json_string_value(v);
    return id ? auction_live_asset_index(live, id) : -1;
}

static int64_t svc_int(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static void svc_parse_fields(const auction_live_t *live, json_t *o, engine_event_t *ev)
{
    json_t *lot = json_object_get(o, "lot");
    switch (ev->type) {
    case ENGINE_EV_LOT_OPENED:
        ev->lot = (int)svc_int(lot, "number");
        ev->asset = svc_asset_of(live, json_object_get(json_object_get(lot, "asset"), "id"));
        ev->retry = json_is_true(json_object_get(lot, "retry"));
        ev->ends_at_ms = svc_int(lot, "endsAtMs");
        break;
    case ENGINE_EV_BID:
        ev->lot = (int)json_integer_value(lot);
        ev->manager = svc_manager_of(live, json_object_get(o, "leaderId"));
        ev->amount = svc_int(o, "amount");
        ev->ends_at_ms = svc_int(o, "endsAtMs");
        ev->extended = json_is_true(json_object_get(o, "extended"));
        break;
    case ENGINE_EV_LOT_CLOSED:
        ev->lot = (int)json_integer_value(lot);
        ev->asset = svc_asset_of(live, json_object_get(o, "assetId"));
        ev->sold = strcmp(json_string_value(json_object_get(o, "result")) ?: "", "sold") == 0;
        ev->manager = ev->sold ? svc_manager_of(live, json_object_get(o, "winnerId")) : -1;
        ev->amount = ev->sold ? svc_int(o, "price") : 0;
        ev->budget_after = svc_int(o, "winnerBudgetRemaining");
        break;
    case ENGINE_EV_INTERMISSION:
        ev->next_lot = (int)svc_int(o, "nextLot");
        ev->ends_at_ms = svc_int(o, "endsAtMs");
        break;
    case ENGINE_EV_PAUSED:
        ev->remaining_ms = svc_int(o, "remainingMs");
        break;
    case ENGINE_EV_RESUMED:
        ev->ends_at_ms = svc_int(o, "endsAtMs");
        break;
    case ENGINE_EV_LOT_UNDONE:
        ev->lot = (int)json_integer_value(lot);
        ev->asset = svc_asset_of(live, json_object_get(o, "assetId"));
        ev->manager = svc_manager_of(live, json_object_get(o, "refundedUserId"));
        ev->amount = svc_int(o, "amount");
        break;
    case ENGINE_EV_COMPLETED:
        for (int r = ENGINE_REASON_ROSTERS_FULL; r <= ENGINE_REASON_ENDED; r++)
            if (strcmp(json_string_value(json_object_get(o, "reason")) ?: "", svc_reasons[r]) == 0)
                ev->reason = (engine_reason_t)r;
        ev->sold_count = (int)svc_int(o, "sold");
        ev->unsold_count = (int)svc_int(o, "unsold");
        break;
    default:
        break;
    }
}

int svc_event_parse(const auction_live_t *live, json_t *o, engine_event_t *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->actor = ev->manager = ev->asset = -1;
    ev->type = engine_event_type_of(json_string_value(json_object_get(o, "type")));
    ev->seq = svc_int(o, "seq");
    ev->at_ms = svc_int(o, "serverTimeMs");
    if (!ev->type || ev->seq < 1)
        return GV_EINVALID_REQUEST;
    svc_parse_fields(live, o, ev);
    int needs_asset = ev->type == ENGINE_EV_LOT_OPENED || ev->type == ENGINE_EV_LOT_CLOSED ||
                      ev->type == ENGINE_EV_LOT_UNDONE;
    if ((needs_asset && ev->asset < 0) || (ev->type == ENGINE_EV_BID && ev->manager < 0) ||
        (ev->type == ENGINE_EV_LOT_CLOSED && ev->sold && ev->manager < 0))
        return GV_EINVALID_REQUEST;
    return 0;
}

/* ---- presence ------------------------------------------------------------------------------ */

typedef struct {
    auction_live_t *live;
    int online[ENGINE_MAX_MANAGERS];
    int spectators;
} svc_presence_t;

static void svc_presence_user(void *ctx, const char *user)
{
    svc_presence_t *p = ctx;
    int m = auction_live_manager(p->live, user);
    if (m >= 0)
        p->online[m] = 1;
    else
        p->spectators++;
}

void svc_presence_local(auction_service_t *svc, auction_live_t *live, int *online, int *spectators)
{
    char room[HUB_ROOM_MAX];
    svc_presence_t p = {.live = live};
    snprintf(room, sizeof(room), "auction:%s", live->id);
    hub_room_each(svc->deps.hub, room, svc_presence_user, &p);
    memcpy(online, p.online, sizeof(p.online));
    *spectators = p.spectators;
}

json_t *svc_presence_json(auction_service_t *svc, auction_live_t *live, int *spectators)
{
    svc_presence_t p = {.live = live};
    svc_presence_local(svc, live, p.online, &p.spectators);
    if (live->presence_local) { /* the other nodes hear of this node's part only */
        live->presence_local = 0;
        svc_cluster_presence_tell(svc, live, p.online, p.spectators);
    }
    svc_cluster_presence_merge(svc, live, p.online, &p.spectators);
    json_t *online = json_array();
    for (int m = 0; m < live->n_managers; m++)
        if (p.online[m])
            json_array_append_new(online, json_string(live->managers[m]));
    *spectators = p.spectators;
    return json_pack("{s:s, s:s, s:I, s:o, s:i}", "type", "presence", "auctionId", live->id,
                     "serverTimeMs", (json_int_t)clock_now_ms(svc->deps.clock), "online", online,
                     "spectatorsOnline", p.spectators);
}

/* ---- AuctionState --------------------------------------------------------------------------- */

static json_t *svc_settings_json(const engine_config_t *c)
{
    return json_pack("{s:I, s:i, s:I, s:I, s:I, s:I, s:I}", "budget", (json_int_t)c->budget,
                     "rosterSize", c->roster_size, "minBid", (json_int_t)c->min_bid, "minIncrement",
                     (json_int_t)c->min_increment, "lotSeconds", (json_int_t)(c->lot_ms / 1000),
                     "antiSnipeSeconds", (json_int_t)(c->anti_snipe_ms / 1000),
                     "intermissionSeconds", (json_int_t)(c->intermission_ms / 1000));
}

/* The lot object: the lot on the block (running, intermission, or frozen while paused), the
 * last closed lot after completion, or null. */
static json_t *svc_lot_json(auction_service_t *svc, auction_live_t *live, int64_t now)
{
    const engine_t *e = &live->view;
    engine_phase_t phase = e->status == ENGINE_PAUSED ? e->paused_phase : e->phase;
    int asset = e->lot_asset;
    const char *state = phase == ENGINE_LOT_RUNNING ? "running" : "intermission";
    if (phase == ENGINE_LOT_NONE) {
        if (e->status != ENGINE_COMPLETED || e->history_n == 0)
            return json_null();
        asset = e->history[e->history_n - 1].asset;
        state = e->history[e->history_n - 1].manager >= 0 ? "sold" : "unsold";
    }
    if (asset < 0)
        return json_null();
    int running = phase == ENGINE_LOT_RUNNING, paused = e->status == ENGINE_PAUSED;
    int64_t ends = paused || phase == ENGINE_LOT_NONE ? -1 : e->ends_at_ms;
    int64_t left = paused ? e->remaining_ms : ends >= 0 ? (ends > now ? ends - now : 0) : -1;
    char name[128] = "";
    const char *leader = running && e->leader >= 0 ? live->managers[e->leader] : NULL;
    if (leader)
        snprintf(name, sizeof(name), "%s", svc_manager_name(svc, live, e->leader));
    return json_pack("{s:i, s:o, s:s, s:b, s:o, s:o, s:o, s:o, s:o}", "number", e->lot, "asset",
                     svc_lot_asset_json(svc, live, asset), "state", state, "retry", e->lot_retry,
                     "currentBid", leader ? json_integer(e->price) : json_null(), "leaderId",
                     svc_str_or_null(leader), "leaderName",
                     leader ? json_string(name) : json_null(), "endsAtMs",
                     ends >= 0 ? json_integer(ends) : json_null(), "remainingMs",
                     left >= 0 ? json_integer(left) : json_null());
}

static json_t *svc_manager_json(auction_service_t *svc, auction_live_t *live, int m,
                                const char *room)
{
    const engine_t *e = &live->view;
    const engine_manager_t *mg = &e->managers[m];
    char name[128];
    snprintf(name, sizeof(name), "%s", svc_manager_name(svc, live, m));
    json_t *roster = json_array();
    for (int i = 0; i < mg->roster_n; i++) {
        json_t *a = svc_asset_json(svc, live, mg->roster[i].asset);
        json_array_append_new(
            roster, json_pack("{s:s, s:O, s:I, s:i}", "assetId", live->assets[mg->roster[i].asset],
                              "name", json_object_get(a, "name"), "price",
                              (json_int_t)mg->roster[i].price, "lot", mg->roster[i].lot));
    }
    return json_pack("{s:s, s:s, s:I, s:I, s:i, s:o, s:b}", "userId", live->managers[m], "name",
                     name, "budgetRemaining", (json_int_t)mg->budget_remaining, "maxBid",
                     (json_int_t)engine_max_bid(e, m), "emptySlots",
                     e->cfg.roster_size - mg->roster_n, "roster", roster, "online",
                     hub_user_present(svc->deps.hub, room, live->managers[m]) ||
                         svc_cluster_peer_online(live, m));
}

json_t *auction_service_state(auction_service_t *svc, auction_live_t *live)
{
    const engine_t *e = &live->view;
    int64_t now = clock_now_ms(svc->deps.clock);
    char room[HUB_ROOM_MAX];
    snprintf(room, sizeof(room), "auction:%s", live->id);
    json_t *managers = json_array();
    for (int m = 0; m < live->n_managers; m++)
        json_array_append_new(managers, svc_manager_json(svc, live, m, room));
    int spectators = 0;
    json_decref(svc_presence_json(svc, live, &spectators));
    json_t *progress = json_pack("{s:i, s:i, s:i, s:i, s:i}", "lotsTotal", e->n_assets,
                                 "lotsClosed", e->lots_closed, "sold", engine_sold_count(e),
                                 "unsold", engine_unsold_count(e), "queued", engine_queued(e));
    return json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:i, s:o, s:o}", "id", live->id, "leagueId",
        live->league_id, "status", engine_status_name(e->status), "seq", (json_int_t)e->seq,
        "serverTimeMs", (json_int_t)now, "settings", svc_settings_json(&e->cfg), "lot",
        svc_lot_json(svc, live, now), "progress", progress, "spectatorsOnline", spectators,
        "managers", managers, "completedReason",
        e->status == ENGINE_COMPLETED ? json_string(svc_reasons[e->reason]) : json_null());
}
