/* The service in a cluster of nodes on one PostgreSQL store: every live auction is run by the
 * node holding its lease (the owner: the clock, the engine, the commits, each commit fenced by
 * the lease's epoch); every other node follows it, applying the events the owner publishes on
 * the bus to a read-only copy and to its own clients, in seq order, repairing any gap from the
 * store. A lease is renewed every quarter of its time; a node takes free or expired leases at
 * the same pace, rebuilds the auction from its log and carries on from its durable state. */
#include "auction/cluster_msg.h"
#include "auction/service_int.h"

#include "core/err.h"
#include "core/log.h"
#include "net/bus.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SVC_TAKE_MAX 64      /* leases one look takes at most (the rest at the next) */
#define SVC_REPAIR_MAX 32    /* quiet followers one look reads the log of, at most */
#define SVC_PRESENCE_EVERY 8 /* looks between two tellings of a room's presence (two leases) */
#define SVC_PRESENCE_KEEP 3  /* leases another node's word on a room is kept */

static const double svc_lag_bounds[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                        0.05,   0.1,   0.25,  0.5,   1,    2.5};

int svc_clustered(const auction_service_t *svc)
{
    return svc->deps.node_id && svc->deps.node_id[0];
}

static int64_t svc_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t svc_mono_ms(void)
{
    return (int64_t)(uv_hrtime() / 1000000);
}

/* ---- the owner publishes ------------------------------------------------------------------- */

void svc_cluster_publish(auction_service_t *svc, const svc_batch_t *b)
{
    if (!svc_clustered(svc) || !svc->deps.bus)
        return;
    buf_t out;
    buf_init(&out);
    for (size_t i = 0, j; i < b->n_events; i = j) {
        for (j = i; j < b->n_events && b->events[j].live == b->events[i].live; j++)
            ;
        buf_consume(&out, out.len);
        int rc = cluster_events_begin(&out, b->events[i].live->id, svc_wall_us(), j - i);
        for (size_t k = i; !rc && k < j; k++)
            rc = cluster_events_add(&out, b->events[k].json, strlen(b->events[k].json));
        rc = rc ? rc : bus_publish(svc->deps.bus, "ev", out.data, out.len);
        if (rc)
            svc->stats.cluster.publish_failed++; /* the followers repair it from the store */
        else
            svc->stats.cluster.published += j - i;
    }
    buf_deinit(&out);
}

/* ---- followers ----------------------------------------------------------------------------- */

typedef struct {
    auction_service_t *svc;
    auction_live_t *live;
    uint64_t visible_ns;
    size_t applied;
    int gap;
} svc_follow_t;

/* Applies one committed event text of the owner to the follower: an event it has is skipped, a
 * gap refused (GV_ENOT_FOUND with gap set). */
static int svc_follow_one(void *ctx, const char *json, size_t len)
{
    svc_follow_t *f = ctx;
    auction_live_t *l = f->live;
    json_t *o = json_loadb(json, len, 0, NULL);
    engine_event_t ev;
    int rc = o ? svc_event_parse(l, o, &ev) : GV_EINVALID_REQUEST;
    json_decref(o);
    if (rc)
        return f->gap = 1, rc; /* not an event of it: its copy cannot follow */
    if (ev.seq <= l->view.seq)
        return 0;
    if (ev.seq != l->view.seq + 1)
        return f->gap = 1, GV_ENOT_FOUND;
    if (engine_event_apply(&l->eng, &ev) != 0 || engine_event_apply(&l->view, &ev) != 0)
        return f->gap = 1, GV_EDB;
    if (ev.type == ENGINE_EV_RESET) {
        l->epoch++;
        l->view_epoch++;
    }
    char room[HUB_ROOM_MAX];
    snprintf(room, sizeof(room), "auction:%s", l->id);
    hub_publish_committed(f->svc->deps.hub, room, json, len, f->visible_ns);
    char *text = malloc(len + 1);
    if (text) {
        memcpy(text, json, len);
        text[len] = '\0';
    }
    svc_ring_take(l, ev.seq, text);
    f->applied++;
    return 0;
}

static int svc_follow_row(void *ctx, const store_auction_event_t *row)
{
    return svc_follow_one(ctx, row->payload, strlen(row->payload));
}

/* Reads what the follower misses from the log (a gap, a lost message, a reconnect). */
static int svc_follow_repair(auction_service_t *svc, auction_live_t *l)
{
    svc_follow_t f = {svc, l, uv_hrtime(), 0, 0};
    int rc = store_auction_events_each(svc->deps.store, l->id, l->view.seq, 0, svc_follow_row, &f);
    l->followed_ms = svc_mono_ms();
    if (f.applied) {
        svc->stats.cluster.repairs++;
        svc->stats.cluster.followed += f.applied;
        svc_tell_league(svc, l);
    }
    if (rc &&
        f.gap) /* the log itself has a gap or a row that cannot follow: rebuild, never guess */
        return svc_live_reload(svc, l);
    return rc;
}

int svc_cluster_rewind(auction_service_t *svc, auction_live_t *l)
{
    engine_deinit(&l->eng);
    l->dirty = 0;
    if (engine_clone(&l->eng, &l->view) != 0) {
        memset(&l->eng, 0, sizeof(l->eng)); /* (nothing to free) */
        return svc_live_reload(svc, l);
    }
    l->epoch = l->view_epoch;
    int rc = svc_follow_repair(svc, l); /* (may drop l when the log cannot be followed) */
    if (auction_service_find(svc, l->id) == l)
        svc_timer_arm(l);
    return rc;
}

void auction_service_cluster_events(auction_service_t *svc, const char *data, size_t len)
{
    cluster_events_t h;
    if (!svc_clustered(svc))
        return;
    if (cluster_events_read(data, len, &h, NULL, NULL) != 0) {
        svc->stats.cluster.bad_messages++;
        return;
    }
    auction_live_t *l = auction_service_find(svc, h.auction);
    if (!l || !l->follower || l->dirty)
        return; /* ours; or no one here looks at it (the store has it when they do); or it lost
                   its lease with a commit in flight, which fails and rewinds it to the log */
    int64_t lag = svc_wall_us() - h.sent_us;
    metrics_hist_observe(&svc->stats.cluster.publish_lag, lag > 0 ? (double)lag / 1e6 : 0);
    svc_follow_t f = {svc, l, uv_hrtime(), 0, 0};
    int rc = cluster_events_read(data, len, &h, svc_follow_one, &f);
    svc->stats.cluster.followed += f.applied;
    l->followed_ms = svc_mono_ms();
    if (f.applied)
        svc_tell_league(svc, l);
    if (rc) /* a gap, or a frame it cannot apply: the log says what it missed */
        svc_follow_repair(svc, l);
}

void auction_service_cluster_deleted(auction_service_t *svc, const char *auction_id)
{
    store_auction_t row;
    auction_live_t *l = svc_clustered(svc) ? auction_service_find(svc, auction_id) : NULL;
    if (!l)
        return;
    int rc = store_auction_get(svc->deps.store, auction_id, &row);
    if (rc == 0) /* the store still has it: not gone (a stale or stray word) */
        store_auction_free_fields(&row);
    else if (rc == GV_ENOT_FOUND)
        svc_live_gone(svc, l);
}

void auction_service_cluster_bus_up(auction_service_t *svc)
{
    if (!svc_clustered(svc))
        return;
    for (auction_live_t *l = svc->lives, *next; l; l = next) {
        next = l->next;
        if (l->follower && !l->dirty)
            svc_follow_repair(svc, l);
    }
}

/* ---- presence ------------------------------------------------------------------------------ */

void svc_cluster_presence_tell(auction_service_t *svc, auction_live_t *live, const int *online,
                               int spectators)
{
    if (!svc_clustered(svc) || !svc->deps.bus)
        return;
    cluster_presence_t p = {.spectators = spectators};
    snprintf(p.auction, sizeof(p.auction), "%s", live->id);
    snprintf(p.node, sizeof(p.node), "%s", svc->deps.node_id);
    for (int m = 0; m < live->n_managers && m < CLUSTER_MANAGERS_MAX; m++)
        p.online[m] = online[m] != 0;
    buf_t out;
    buf_init(&out);
    if (cluster_presence_write(&out, &p, live->n_managers) == 0)
        bus_publish(svc->deps.bus, "pr", out.data, out.len); /* lost: told again at the next look */
    buf_deinit(&out);
}

void svc_cluster_presence_merge(auction_service_t *svc, auction_live_t *live, int *online,
                                int *spectators)
{
    int64_t now = svc_mono_ms();
    for (int i = 0; i < live->n_peers; i++) {
        const svc_peer_presence_t *p = &live->peers[i];
        if (p->until_ms <= now)
            continue;
        *spectators += p->spectators;
        for (int m = 0; m < live->n_managers; m++)
            online[m] |= p->online[m];
    }
    (void)svc;
}

int svc_cluster_peer_online(const auction_live_t *live, int m)
{
    int64_t now = live->n_peers ? svc_mono_ms() : 0;
    for (int i = 0; i < live->n_peers; i++)
        if (live->peers[i].until_ms > now && live->peers[i].online[m])
            return 1;
    return 0;
}

/* The entry of node in live's peers (added when missing); NULL when out of memory. */
static svc_peer_presence_t *svc_peer(auction_live_t *live, const char *node)
{
    for (int i = 0; i < live->n_peers; i++)
        if (!strcmp(live->peers[i].node, node))
            return &live->peers[i];
    svc_peer_presence_t *v = realloc(live->peers, (size_t)(live->n_peers + 1) * sizeof(*v));
    if (!v)
        return NULL;
    live->peers = v;
    svc_peer_presence_t *p = &v[live->n_peers++];
    memset(p, 0, sizeof(*p));
    snprintf(p->node, sizeof(p->node), "%s", node);
    return p;
}

void auction_service_cluster_presence(auction_service_t *svc, const char *data, size_t len)
{
    cluster_presence_t in;
    if (!svc_clustered(svc))
        return;
    if (cluster_presence_read(data, len, &in) != 0) {
        svc->stats.cluster.bad_messages++;
        return;
    }
    auction_live_t *l = auction_service_find(svc, in.auction);
    if (!l || !strcmp(in.node, svc->deps.node_id))
        return; /* no one here looks at it (or it is this node's own word) */
    svc_peer_presence_t *p = svc_peer(l, in.node);
    if (!p)
        return;
    int changed = p->until_ms <= svc_mono_ms() || p->spectators != in.spectators;
    for (int m = 0; m < l->n_managers && m < CLUSTER_MANAGERS_MAX; m++) {
        changed |= p->online[m] != in.online[m];
        p->online[m] = in.online[m];
    }
    p->spectators = in.spectators;
    p->until_ms = svc_mono_ms() + SVC_PRESENCE_KEEP * svc->deps.lease_ms;
    if (changed)
        svc_presence_schedule(svc, l);
}

/* Tells the other nodes again who is in l's room here, on its turn (every SVC_PRESENCE_EVERY
 * looks, two leases, spread over the looks by its id: a node that missed it, or loaded the
 * auction since, learns it; all rooms at once would queue a burst of frames on the bus ahead of
 * the events, 120 ms of fan-out p99 at 1,000 rooms a node), and publishes l's room when another
 * node's word ran out (SVC_PRESENCE_KEEP leases: the people of a node that died drop off). */
static void svc_presence_look(auction_service_t *svc, auction_live_t *l, uint64_t round)
{
    char room[HUB_ROOM_MAX];
    snprintf(room, sizeof(room), "auction:%s", l->id);
    uint64_t turn = 0;
    for (const char *c = l->id; *c; c++)
        turn = turn * 31 + (unsigned char)*c;
    if ((turn + round) % SVC_PRESENCE_EVERY == 0 && hub_room_size(svc->deps.hub, room) > 0) {
        int online[ENGINE_MAX_MANAGERS], spectators;
        svc_presence_local(svc, l, online, &spectators);
        svc_cluster_presence_tell(svc, l, online, spectators);
    }
    int64_t now = svc_mono_ms();
    for (int i = 0; i < l->n_peers; i++) {
        if (l->peers[i].until_ms > now)
            continue;
        l->peers[i--] = l->peers[--l->n_peers]; /* forgotten: the room changed */
        svc_presence_schedule(svc, l);
    }
}

/* ---- leases -------------------------------------------------------------------------------- */

/* Marks l run here, under the lease this node took at epoch. */
static void svc_mark_owned(auction_service_t *svc, auction_live_t *l, int64_t epoch)
{
    l->follower = 0;
    l->lease_epoch = epoch;
    snprintf(l->owner, sizeof(l->owner), "%s", svc->deps.node_id);
    svc->stats.cluster.takes++;
}

/* Makes this node the owner of l at epoch: a follower's copy is rebuilt from the store first
 * (what the last owner committed), then lots overdue close and the clock runs. */
static int svc_promote(auction_service_t *svc, auction_live_t *l, int64_t epoch)
{
    if (l->follower) {
        /* what it missed goes to its clients first (a reload would jump over it); then the
         * outcomes the last owner recorded are known here */
        int rc = svc_follow_repair(svc, l);
        if (rc)
            return rc; /* (its lease is held: the next renewal takes it again) */
        rc = svc_outcomes_known(svc, l);
        if (rc)
            return rc;
    }
    svc_mark_owned(svc, l, epoch);
    engine_cmd_t tick = {.type = ENGINE_CMD_TICK}; /* lots whose endsAt passed close now */
    auction_service_command(svc, l, &tick, NULL, NULL, NULL);
    svc_timer_arm(l);
    log_info("cluster lease taken auction=%s epoch=%lld seq=%lld", l->id, (long long)epoch,
             (long long)l->eng.seq);
    return 0;
}

/* Another node holds l now: stop its clock; a pending commit of it is fenced off and reloaded. */
static void svc_demote(auction_service_t *svc, auction_live_t *l)
{
    l->follower = 1;
    l->lease_epoch = 0;
    l->owner[0] = '\0';
    l->owner_until_ms = 0;
    uv_timer_stop(&l->timer);
    svc->stats.cluster.losses++;
    log_warn("cluster lease lost auction=%s", l->id);
}

/* Takes the lease of auction id for this node and runs it. 0, GV_ECONFLICT (another node holds
 * it) or GV_E*. */
static int svc_take(auction_service_t *svc, const char *id)
{
    int64_t epoch = 0;
    auction_live_t *l = auction_service_find(svc, id);
    if (l && l->dirty)
        return GV_EUNAVAILABLE; /* a commit of it in flight: once it is known (next look) */
    int rc = store_lease_take(svc->deps.store, id, svc->deps.node_id, svc->deps.lease_ms, &epoch);
    if (rc)
        return rc;
    if (!l) {
        store_auction_t row;
        rc = store_auction_get(svc->deps.store, id, &row);
        if (rc)
            return rc;
        rc = svc_live_load(svc, &row, &l);
        store_auction_free_fields(&row);
        if (rc)
            return rc;
        l->follower = 0; /* just read from the store: nothing to rebuild */
    }
    return svc_promote(svc, l, epoch);
}

typedef struct {
    struct {
        char id[SVC_ID_MAX];
        int64_t epoch;
    } * v;
    size_t n, cap;
} svc_id_list_t;

static int svc_id_add(svc_id_list_t *l, const char *id, int64_t epoch)
{
    if (svc_grow((void **)&l->v, &l->cap, l->n, sizeof(*l->v)))
        return GV_ENOMEM;
    snprintf(l->v[l->n].id, SVC_ID_MAX, "%s", id);
    l->v[l->n++].epoch = epoch;
    return 0;
}

static void svc_id_free(svc_id_list_t *l)
{
    free(l->v);
    *l = (svc_id_list_t){0};
}

static int svc_renewed_one(void *ctx, const char *id, int64_t epoch)
{
    return svc_id_add(ctx, id, epoch);
}

static int svc_free_one(void *ctx, const char *id)
{
    return svc_id_add(ctx, id, 0);
}

/* What a look reads from the store: this node's renewed leases and free or expired ones. Read
 * on the loop's connection (svc_cluster_look), or on the look's own connection on a thread of
 * the pool (the periodic look: a renewal waits for the row locks of this node's writer's
 * commit in flight, and its own commit flushes the log, tens of milliseconds under load that
 * the loop would not serve). */
typedef struct {
    uv_work_t req;
    auction_service_t *svc;
    store_t *st;
    svc_id_list_t held, free_ids;
    int renew_rc, free_rc;
    uint64_t t0; /* when the look began (uv_hrtime) */
} svc_look_t;

static void svc_look_read(svc_look_t *k)
{
    auction_service_t *svc = k->svc;
    k->renew_rc =
        store_lease_renew(k->st, svc->deps.node_id, svc->deps.lease_ms, svc_renewed_one, &k->held);
    k->free_rc = store_lease_free_each(k->st, SVC_TAKE_MAX, svc_free_one, &k->free_ids);
}

/* Acts on a renewal: an auction this node runs whose lease is not among the renewed ones (or at
 * another epoch) is lost; a lease it holds but does not run (a restart under the same node id)
 * is taken again, with a new epoch. */
static void svc_renewed(auction_service_t *svc, const svc_id_list_t *held)
{
    uint64_t round = ++svc->lease_round;
    for (size_t i = 0; i < held->n; i++) {
        auction_live_t *l = auction_service_find(svc, held->v[i].id);
        if (l && !l->follower && l->lease_epoch == held->v[i].epoch)
            l->lease_round = round;
        else
            svc_take(svc, held->v[i].id);
    }
    for (auction_live_t *l = svc->lives; l; l = l->next)
        if (!l->follower && l->lease_round != round && l->eng.status != ENGINE_COMPLETED)
            svc_demote(svc, l);
}

/* Reads who runs follower l (cached until its lease would run out). */
static void svc_owner_read(auction_service_t *svc, auction_live_t *l)
{
    store_lease_t lease;
    if (store_lease_get(svc->deps.store, l->id, &lease) != 0)
        return;
    snprintf(l->owner, sizeof(l->owner), "%s", lease.remaining_ms > 0 ? lease.owner : "");
    l->owner_until_ms = lease.remaining_ms > 0 ? svc_mono_ms() + lease.remaining_ms : 0;
}

/* The rest of a look, on the loop, once the store was read: the renewal acted on (skipped when
 * the store is away: nothing can commit then; look again next time), free leases taken, each
 * room's presence told (once a lease), and followers that heard nothing for a lease read from
 * the log (a gap shows only at the next frame; at most SVC_REPAIR_MAX a look, so a node
 * following thousands of quiet auctions spends little of a loop turn on them; a follower's
 * owner is read only when a command needs it: auction_service_owner). */
static void svc_look_apply(svc_look_t *k)
{
    auction_service_t *svc = k->svc;
    if (k->renew_rc == 0)
        svc_renewed(svc, &k->held);
    for (size_t i = 0; k->free_rc == 0 && i < k->free_ids.n; i++)
        svc_take(svc, k->free_ids.v[i].id);
    int64_t now = svc_mono_ms();
    int repairs = 0;
    uint64_t round = svc->look_round++;
    for (auction_live_t *l = svc->lives, *next; l; l = next) {
        next = l->next;
        svc_presence_look(svc, l, round);
        if (l->follower && !l->dirty && repairs < SVC_REPAIR_MAX &&
            now - l->followed_ms >= svc->deps.lease_ms) {
            repairs++;
            svc_follow_repair(svc, l); /* may drop l */
        }
    }
    metrics_hist_observe(&svc->stats.cluster.look_seconds, (double)(uv_hrtime() - k->t0) / 1e9);
    svc_id_free(&k->held);
    svc_id_free(&k->free_ids);
}

void svc_cluster_look(auction_service_t *svc)
{
    if (!svc_clustered(svc) || svc->stopped)
        return;
    svc_look_t k = {.svc = svc, .st = svc->deps.store, .t0 = uv_hrtime()};
    svc_look_read(&k);
    svc_look_apply(&k);
}

static void svc_look_work(uv_work_t *req)
{
    svc_look_read(req->data);
}

static void svc_look_done(uv_work_t *req, int status)
{
    svc_look_t *k = req->data;
    auction_service_t *svc = k->svc;
    svc->look_busy = 0;
    if (status == 0 && !svc->stopped)
        svc_look_apply(k);
    svc_id_free(&k->held);
    svc_id_free(&k->free_ids);
    free(k);
}

/* The periodic look: its store part on the pool with the look's own connection when there is one
 * (one look at a time), else all on the loop. */
static void svc_on_cluster_timer(uv_timer_t *t)
{
    auction_service_t *svc = t->data;
    if (!svc->deps.look_store) {
        svc_cluster_look(svc);
        return;
    }
    svc_look_t *k = svc->look_busy ? NULL : calloc(1, sizeof(*k));
    if (!k)
        return; /* the last one still reads (or out of memory): next time */
    *k = (svc_look_t){.svc = svc, .st = svc->deps.look_store, .t0 = uv_hrtime()};
    k->req.data = k;
    if (uv_queue_work(svc->deps.loop, &k->req, svc_look_work, svc_look_done) != 0) {
        free(k);
        return;
    }
    svc->look_busy = 1;
}

int svc_cluster_start(auction_service_t *svc)
{
    metrics_hist_init(&svc->stats.cluster.publish_lag, svc_lag_bounds,
                      sizeof(svc_lag_bounds) / sizeof(svc_lag_bounds[0]));
    metrics_hist_init(&svc->stats.cluster.look_seconds, svc_lag_bounds,
                      sizeof(svc_lag_bounds) / sizeof(svc_lag_bounds[0]));
    if (!svc_clustered(svc))
        return 0;
    uv_timer_init(svc->deps.loop, &svc->cluster_timer);
    svc->cluster_timer.data = svc;
    svc->cluster_timer_on = 1;
    uint64_t every = (uint64_t)(svc->deps.lease_ms / 4);
    return uv_timer_start(&svc->cluster_timer, svc_on_cluster_timer, every, every) ? GV_EINTERNAL
                                                                                   : 0;
}

void svc_cluster_stop(auction_service_t *svc)
{
    if (!svc->cluster_timer_on)
        return;
    uv_close((uv_handle_t *)&svc->cluster_timer, NULL);
    svc->cluster_timer_on = 0;
    for (auction_live_t *l = svc->lives; l; l = l->next)
        if (!l->follower && l->lease_epoch > 0) /* another node may take it at once */
            store_lease_release(svc->deps.store, l->id, svc->deps.node_id, l->lease_epoch);
}

void svc_cluster_loaded(auction_service_t *svc, auction_live_t *l)
{
    if (!svc_clustered(svc))
        return;
    l->follower = 1;
    l->followed_ms = svc_mono_ms();
    svc_owner_read(svc, l);
}

/* Takes l's lease for this node and marks it run here (its state is the store's: nothing to
 * rebuild). 0, or GV_ECONFLICT when another node runs it (l is left a follower), or GV_E*. */
static int svc_hold(auction_service_t *svc, auction_live_t *l)
{
    int64_t epoch = 0;
    int rc =
        store_lease_take(svc->deps.store, l->id, svc->deps.node_id, svc->deps.lease_ms, &epoch);
    if (rc) {
        l->follower = 1; /* until a look takes it */
        return rc;
    }
    svc_mark_owned(svc, l, epoch);
    return 0;
}

int svc_cluster_created(auction_service_t *svc, auction_live_t *l)
{
    if (svc_clustered(svc))
        svc_hold(svc, l);
    return 0;
}

int svc_cluster_recover_one(auction_service_t *svc, auction_live_t *l)
{
    return !svc_clustered(svc) || svc_hold(svc, l) == 0;
}

int auction_service_owner(auction_service_t *svc, auction_live_t *live, char *owner, size_t n)
{
    if (!live->follower)
        return 0;
    if (!live->owner[0] || svc_mono_ms() >= live->owner_until_ms)
        svc_owner_read(svc, live);
    if (!live->owner[0]) { /* no one runs it (its owner died): run it here */
        int rc = svc_take(svc, live->id);
        if (rc == 0)
            return 0;
        svc_owner_read(svc, live);
        if (!live->owner[0])
            return GV_EUNAVAILABLE;
    }
    snprintf(owner, n, "%s", live->owner);
    return 1;
}

size_t auction_service_leases_held(const auction_service_t *svc)
{
    size_t n = 0;
    for (const auction_live_t *l = svc->lives; l; l = l->next)
        n += svc_clustered(svc) && !l->follower && l->lease_epoch > 0;
    return n;
}
