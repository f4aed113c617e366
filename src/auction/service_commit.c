/* The group commit: every event of a loop turn goes into one batch; the batch is written in one
 * transaction by the writer thread while the loop goes on deciding the next turn's commands
 * (at most one batch in flight, so commits stay in seq order); when the writer is done, the loop
 * moves each auction's committed view forward and releases the batch: its answers, then its
 * broadcasts, then the room joins waiting for them, for at most release_budget_ns a turn and the
 * rest in the next turns. Meanwhile the next batch may be handed over, but what it decided is
 * taken back only after the release, and nothing that needs the view and the broadcasts to agree
 * (a join, a read with nothing to commit) is answered before the release ends. Nothing is
 * answered or broadcast before its commit; a failed commit fails everything decided after it too
 * and reloads the auctions it touched from the store. */
#include "auction/service_int.h"

#include "core/err.h"
#include "core/log.h"
#include "json/json_text.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double svc_batch_bounds[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};

/* ---- batches -------------------------------------------------------------------------------- */

static svc_batch_t *svc_batch_new(auction_service_t *svc)
{
    svc_batch_t *b = svc->spare ? svc->spare : calloc(1, sizeof(*b));
    svc->spare = NULL;
    if (b)
        b->gen = ++svc->next_gen;
    return b;
}

static void svc_outcome_unindex(auction_service_t *svc, svc_outcome_t *o)
{
    svc_outcome_t **pp = &svc->outcome_index[o->hash % SVC_BUCKETS];
    while (*pp && *pp != o)
        pp = &(*pp)->next_hash;
    if (*pp)
        *pp = o->next_hash;
}

/* Releases what b holds; its arrays are kept for the next batch when keep and none is kept. */
static void svc_batch_release(auction_service_t *svc, svc_batch_t *b, int keep)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_events; i++)
        free(b->events[i].json);
    for (size_t i = 0; i < b->n_outcomes; i++) {
        svc_outcome_unindex(svc, b->outcomes[i]);
        free(b->outcomes[i]->outcome);
        free(b->outcomes[i]);
    }
    if (keep && !svc->spare) {
        svc_batch_t kept = {.events = b->events,
                            .cap_events = b->cap_events,
                            .rows = b->rows,
                            .cap_rows = b->cap_rows,
                            .outcomes = b->outcomes,
                            .cap_outcomes = b->cap_outcomes,
                            .early = {b->early.v, 0, b->early.cap},
                            .late = {b->late.v, 0, b->late.cap}};
        *b = kept;
        svc->spare = b;
        return;
    }
    free(b->events);
    free(b->rows);
    free(b->outcomes);
    free(b->early.v);
    free(b->late.v);
    free(b);
}

static void svc_batch_free(auction_service_t *svc, svc_batch_t *b)
{
    svc_batch_release(svc, b, 0);
}

/* The batch filling this turn (made on first use). NULL when out of memory. */
static svc_batch_t *svc_cur(auction_service_t *svc)
{
    if (!svc->cur)
        svc->cur = svc_batch_new(svc);
    return svc->cur;
}

/* 1 when b has something to write (or must fail). */
static int svc_batch_writes(const svc_batch_t *b)
{
    return b && (b->n_events || b->n_outcomes || b->poisoned);
}

static int svc_batch_empty(const svc_batch_t *b)
{
    return !b || (!svc_batch_writes(b) && b->early.n == 0 && b->late.n == 0);
}

int svc_queue_events(auction_service_t *svc, auction_live_t *live, const engine_events_t *evs,
                     const char *actor)
{
    svc_batch_t *b = evs->n ? svc_cur(svc) : NULL;
    if (evs->n && !b)
        return GV_ENOMEM;
    for (int i = 0; i < evs->n; i++) {
        if (svc_grow((void **)&b->events, &b->cap_events, b->n_events, sizeof(*b->events)))
            return GV_ENOMEM;
        svc_pending_event_t *p = &b->events[b->n_events];
        json_t *o = svc_event_json(svc, live, &evs->ev[i]);
        p->json = o ? json_text(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!p->json)
            return GV_ENOMEM;
        p->live = live;
        p->ev = evs->ev[i];
        snprintf(p->actor, sizeof(p->actor), "%s", actor ? actor : "");
        p->epoch = live->epoch;
        b->n_events++;
        live->dirty = 1;
        live->pending_gen = b->gen;
        if (evs->ev[i].type == ENGINE_EV_RESET)
            live->epoch++;
    }
    if (evs->n)
        svc_wake(svc);
    return 0;
}

/* ---- replies -------------------------------------------------------------------------------- */

/* Queues done on the current batch's list (early or late): at once when nothing is pending. */
static void svc_reply_queue(auction_service_t *svc, int late, auction_done_fn done, void *ctx)
{
    if (!svc_batch_writes(svc->cur) && !svc->inflight && !svc->releasing) {
        done(ctx, 0);
        return;
    }
    svc_batch_t *b = svc_cur(svc);
    svc_reply_list_t *list = b ? late ? &b->late : &b->early : NULL;
    if (!list || svc_grow((void **)&list->v, &list->cap, list->n, sizeof(*list->v))) {
        done(ctx, GV_EUNAVAILABLE);
        return;
    }
    list->v[list->n].fn = done;
    list->v[list->n].ctx = ctx;
    list->n++;
    svc_wake(svc);
}

void auction_service_after_commit(auction_service_t *svc, auction_done_fn done, void *ctx)
{
    svc_reply_queue(svc, 0, done, ctx);
}

void auction_service_after_publish(auction_service_t *svc, auction_done_fn done, void *ctx)
{
    svc_reply_queue(svc, 1, done, ctx);
}

void auction_service_fail_turn(auction_service_t *svc, auction_live_t *live)
{
    svc_batch_t *b = svc_cur(svc);
    if (b)
        b->poisoned = 1;
    live->dirty = 1;
    svc_wake(svc);
}

/* Runs a reply list; replies may queue new commands: those go to the next batch. */
static void svc_replies_run(svc_reply_list_t *list, int status)
{
    for (size_t i = 0; i < list->n; i++)
        list->v[i].fn(list->v[i].ctx, status);
    list->n = 0;
}

/* ---- idempotency outcomes ------------------------------------------------------------------- */

static uint64_t svc_outcome_hash(const char *auction_id, const char *user, const char *cbid)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a over the three keys, 0-separated */
    const char *parts[3] = {auction_id, user, cbid};
    for (int i = 0; i < 3; i++) {
        for (const char *p = parts[i]; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211u;
        h = (h ^ 0xff) * 1099511628211u;
    }
    return h;
}

/* The Bloom filter of outcome keys: SVC_SEEN_BITS bits, SVC_SEEN_K probes by double hashing.
 * A key never put is answered "absent" without asking the store (the common case: a fresh
 * clientBidId); a false "maybe" only costs the store lookup it would have cost anyway. At a
 * million keys about 1 in 1,500 fresh keys is a false maybe; at five million, 1 in 20. */
#define SVC_SEEN_BITS (1u << 25) /* 4 MiB */
#define SVC_SEEN_K 3

static uint64_t svc_mix(uint64_t x) /* splitmix64's finaliser: a second, independent hash */
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

static void svc_seen_add(auction_service_t *svc, uint64_t h)
{
    uint64_t step = svc_mix(h) | 1;
    for (int i = 0; svc->seen && i < SVC_SEEN_K; i++) {
        uint32_t bit = (uint32_t)((h + (uint64_t)i * step) % SVC_SEEN_BITS);
        svc->seen[bit / 64] |= (uint64_t)1 << (bit % 64);
    }
}

static int svc_seen_maybe(const auction_service_t *svc, uint64_t h)
{
    uint64_t step = svc_mix(h) | 1;
    for (int i = 0; svc->seen && i < SVC_SEEN_K; i++) {
        uint32_t bit = (uint32_t)((h + (uint64_t)i * step) % SVC_SEEN_BITS);
        if (!(svc->seen[bit / 64] & ((uint64_t)1 << (bit % 64))))
            return 0;
    }
    return 1;
}

typedef struct {
    auction_service_t *svc;
    const char *auction_id;
} svc_known_t;

static int svc_known_one(void *ctx, const char *user, const char *cbid)
{
    svc_known_t *k = ctx;
    svc_seen_add(k->svc, svc_outcome_hash(k->auction_id, user, cbid));
    return 0;
}

int svc_outcomes_known(auction_service_t *svc, auction_live_t *live)
{
    svc_known_t k = {svc, live->id};
    return svc->seen ? store_bid_outcome_keys_each(svc->deps.store, live->id, svc_known_one, &k)
                     : 0;
}

int auction_service_outcome_get(auction_service_t *svc, const char *auction_id, const char *user,
                                const char *cbid, char *out, size_t n)
{
    uint64_t h = svc_outcome_hash(auction_id, user, cbid);
    for (svc_outcome_t *o = svc->outcome_index[h % SVC_BUCKETS]; o; o = o->next_hash) {
        if (o->hash == h && !strcmp(o->cbid, cbid) && !strcmp(o->user, user) &&
            !strcmp(o->auction, auction_id)) {
            snprintf(out, n, "%s", o->outcome);
            return 0;
        }
    }
    if (!svc_seen_maybe(svc, h))
        return GV_ENOT_FOUND; /* never recorded: no need to ask the store */
    int rc = store_bid_outcome_get(svc->deps.store, auction_id, user, cbid, out, n);
    return rc == 0 ? 0 : GV_ENOT_FOUND;
}

int auction_service_outcome_put(auction_service_t *svc, const char *auction_id, const char *user,
                                const char *cbid, int64_t seq, const char *outcome)
{
    svc_batch_t *b = svc_cur(svc);
    if (!b || strlen(cbid) >= AUCTION_CBID_MAX ||
        svc_grow((void **)&b->outcomes, &b->cap_outcomes, b->n_outcomes, sizeof(*b->outcomes)))
        return GV_ENOMEM;
    svc_outcome_t *o = calloc(1, sizeof(*o));
    char *text = o ? strdup(outcome) : NULL;
    if (!text) {
        free(o);
        return GV_ENOMEM;
    }
    o->outcome = text;
    o->seq = seq;
    snprintf(o->auction, sizeof(o->auction), "%s", auction_id);
    snprintf(o->user, sizeof(o->user), "%s", user);
    snprintf(o->cbid, sizeof(o->cbid), "%s", cbid);
    o->hash = svc_outcome_hash(auction_id, user, cbid);
    svc_seen_add(svc, o->hash);
    o->next_hash = svc->outcome_index[o->hash % SVC_BUCKETS];
    svc->outcome_index[o->hash % SVC_BUCKETS] = o;
    b->outcomes[b->n_outcomes++] = o;
    svc_wake(svc);
    return 0;
}

/* ---- writing a batch (on the writer thread, or on the loop without one) --------------------- */

/* Writes one pending event and the rows derived from it. */
static int svc_write_event(store_t *st, const svc_pending_event_t *p)
{
    const auction_live_t *live = p->live;
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

/* One transaction for the batch: events, derived rows, each auction's row, outcomes. */
static int svc_batch_write(store_t *st, svc_batch_t *b)
{
    uint64_t t0 = uv_hrtime();
    int rc = b->poisoned ? GV_EINTERNAL : store_tx_begin(st);
    int began = !b->poisoned && rc == 0;
    for (size_t i = 0; !rc && i < b->n_events; i++)
        rc = svc_write_event(st, &b->events[i]);
    for (size_t i = 0; !rc && i < b->n_rows; i++) {
        store_fence_t fence = {b->node, b->rows[i].lease_epoch};
        rc = store_auction_update_fenced(st, b->rows[i].live->id, b->rows[i].status, b->rows[i].seq,
                                         b->now_ms, b->node ? &fence : NULL);
    }
    for (size_t i = 0; !rc && i < b->n_outcomes; i++) {
        svc_outcome_t *o = b->outcomes[i];
        rc = o->seq > 0
                 ? store_bid_outcome_on_bid(st, o->auction, o->seq, o->user, o->cbid, o->outcome)
                 : store_bid_outcome_put(st, o->auction, o->user, o->cbid, o->outcome);
    }
    rc = rc ? rc : store_tx_commit(st);
    if (rc && began)
        store_tx_rollback(st);
    b->visible_ns = uv_hrtime();
    b->commit_us = (int64_t)((b->visible_ns - t0) / 1000);
    return rc;
}

static int svc_row_order(const void *a, const void *b)
{
    return strcmp(((const svc_pending_row_t *)a)->live->id,
                  ((const svc_pending_row_t *)b)->live->id);
}

/* Snapshots, on the loop, each changed auction's row as of the end of the batch, in id order:
 * the order every transaction that writes several auctions' rows locks them in (the lease
 * renewal of store_pg_lease.c too), so that two of them never wait for each other. */
static int svc_batch_rows(auction_service_t *svc, svc_batch_t *b)
{
    b->now_ms = clock_now_ms(svc->deps.clock);
    b->node = svc_clustered(svc) ? svc->deps.node_id : NULL;
    for (size_t i = 0; i < b->n_events; i++) {
        auction_live_t *l = b->events[i].live;
        if (l->row_gen == b->gen)
            continue;
        if (svc_grow((void **)&b->rows, &b->cap_rows, b->n_rows, sizeof(*b->rows)))
            return GV_ENOMEM;
        l->row_gen = b->gen;
        b->rows[b->n_rows++] =
            (svc_pending_row_t){l, engine_status_name(l->eng.status), l->eng.seq, l->lease_epoch};
    }
    if (b->n_rows > 1)
        qsort(b->rows, b->n_rows, sizeof(*b->rows), svc_row_order);
    return 0;
}

static void *svc_writer_take(svc_writer_t *w)
{
    while (!w->job && !w->quit)
        uv_cond_wait(&w->cv, &w->mu);
    return w->job;
}

/* When the checkpointer has copied back all of the log it saw, the frames committed since are
 * few: the writer copies them itself (a passive checkpoint on its connection, nothing else
 * writes meanwhile), so the whole log is in the database and this batch's commit starts the
 * log over. A restart checkpoint would do the same while holding every commit off for its
 * whole run, waits for readers included (5-18 ms measured at 1,000 bids/s). */
static void svc_writer_catch_up(svc_writer_t *w)
{
    if (!__atomic_exchange_n(&w->catch_up, 0, __ATOMIC_ACQ_REL))
        return;
    int frames = 0, copied = 0;
    if (store_checkpoint(w->st, 0, &frames, &copied) == 0 && copied > 0 && copied == frames)
        __atomic_fetch_add(w->catch_ups, 1, __ATOMIC_RELAXED);
}

static void svc_writer_main(void *arg)
{
    svc_writer_t *w = arg;
    pthread_setname_np(pthread_self(), "gavel-writer"); /* top -H, perf, gdb */
    uv_mutex_lock(&w->mu);
    svc_batch_t *b;
    while ((b = svc_writer_take(w)) != NULL) {
        uv_mutex_unlock(&w->mu);
        svc_writer_catch_up(w);
        b->rc = svc_batch_write(w->st, b);
        uv_mutex_lock(&w->mu);
        w->job = NULL;
        w->done = b;
        uv_cond_broadcast(&w->cv);
        uv_async_send(&w->async);
    }
    uv_mutex_unlock(&w->mu);
}

/* Tells a thread waiting on cv under mu to quit, waits for it and destroys mu and cv. */
static void svc_thread_end(uv_thread_t *t, uv_mutex_t *mu, uv_cond_t *cv, int *quit)
{
    uv_mutex_lock(mu);
    *quit = 1;
    uv_cond_broadcast(cv);
    uv_mutex_unlock(mu);
    uv_thread_join(t);
    uv_cond_destroy(cv);
    uv_mutex_destroy(mu);
}

/* ---- the checkpointer ---------------------------------------------------------------------- */

int svc_checkpoint_due(uint64_t frames, uint64_t frames_then, uint64_t ns, uint64_t ns_then)
{
    return frames - frames_then >= SVC_CHECKPOINT_FRAMES ||
           ns - ns_then >= (uint64_t)SVC_CHECKPOINT_IDLE_MS * 1000000u;
}

/* One look's copy: a passive checkpoint and, while the log is long enough to start over and each
 * pass copied all it saw, up to SVC_CHECKPOINT_PASSES more for what was committed during the
 * last, so that the writer's catch-up has a commit or two left to copy. *log and *copied are
 * the last pass's. */
static int svc_checkpoint_passes(svc_checkpointer_t *c, int catch_up, int *log, int *copied)
{
    int rc = store_checkpoint(c->st, 0, log, copied);
    for (int i = 0; rc == 0 && i < SVC_CHECKPOINT_PASSES && *copied == *log && *log >= catch_up;
         i++) {
        int before = *log;
        rc = store_checkpoint(c->st, 0, log, copied);
        if (*log - before < SVC_CHECKPOINT_PASS_MIN) /* the next would be as short: stop */
            break;
    }
    return rc;
}

static void svc_checkpointer_main(void *arg)
{
    svc_checkpointer_t *c = arg;
    uint64_t seen[2] = {0, 0}, now[2], frames_then = 0, ns_then = uv_hrtime();
    pthread_setname_np(pthread_self(), "gavel-ckpt");
    uv_mutex_lock(&c->mu);
    while (!c->quit) {
        uv_cond_timedwait(&c->cv, &c->mu, (uint64_t)SVC_CHECKPOINT_MS * 1000000u);
        if (c->quit)
            break;
        uint64_t frames = store_log_appended(c->log), ns = uv_hrtime();
        if (!svc_checkpoint_due(frames, frames_then, ns, ns_then))
            continue;
        uv_mutex_unlock(&c->mu);
        int catch_up = __atomic_load_n(&c->catch_up_frames, __ATOMIC_RELAXED);
        int restart = __atomic_load_n(&c->restart_frames, __ATOMIC_RELAXED);
        int log = 0, copied = 0;
        if (store_change_stamp(c->st, now) == 0 && (now[0] != seen[0] || now[1] != seen[1]) &&
            svc_checkpoint_passes(c, catch_up, &log, &copied) == 0) {
            memcpy(seen, now, sizeof(seen));
            if (copied == log) { /* else a reader kept part of it: again at the next look */
                frames_then = frames;
                ns_then = ns;
            }
            if (copied > 0)
                __atomic_fetch_add(c->count, 1, __ATOMIC_RELAXED);
            /* all it saw is copied: the writer copies the rest between two commits */
            if (copied == log && log >= catch_up)
                __atomic_store_n(c->catch_up, 1, __ATOMIC_RELEASE);
            if (log > restart && store_checkpoint(c->st, 1, &log, &copied) == 0)
                __atomic_fetch_add(c->restarts, 1, __ATOMIC_RELAXED);
        }
        uv_mutex_lock(&c->mu);
    }
    uv_mutex_unlock(&c->mu);
}

static int svc_checkpointer_start(auction_service_t *svc)
{
    svc_checkpointer_t *c = &svc->checkpointer;
    if (!svc->deps.checkpoint_store || !svc->deps.commit_store)
        return 0;
    c->st = svc->deps.checkpoint_store;
    c->count = &svc->stats.checkpoints;
    c->restarts = &svc->stats.checkpoint_restarts;
    c->catch_up = &svc->writer.catch_up;
    c->log = svc->deps.commit_store;
    c->catch_up_frames = SVC_CHECKPOINT_CATCH_UP_FRAMES;
    c->restart_frames = SVC_CHECKPOINT_RESTART_FRAMES;
    if (uv_mutex_init(&c->mu) != 0)
        return GV_ENOMEM;
    if (uv_cond_init(&c->cv) != 0 || uv_thread_create(&c->thread, svc_checkpointer_main, c) != 0) {
        uv_mutex_destroy(&c->mu);
        return GV_ENOMEM;
    }
    c->running = 1;
    /* from now on no commit copies the log back itself */
    int rc = store_checkpoint_auto(svc->deps.commit_store, 0);
    return rc ? rc : store_checkpoint_auto(svc->deps.store, 0);
}

static void svc_checkpointer_stop(auction_service_t *svc)
{
    svc_checkpointer_t *c = &svc->checkpointer;
    if (!c->running)
        return;
    svc_thread_end(&c->thread, &c->mu, &c->cv, &c->quit);
    c->running = 0;
    store_checkpoint_auto(svc->deps.store, 1);
}

/* ---- after the commit ----------------------------------------------------------------------- */

void svc_ring_push(auction_live_t *live, int64_t seq, const char *json)
{
    svc_ring_take(live, seq, strdup(json));
}

void svc_ring_take(auction_live_t *live, int64_t seq, char *json)
{
    int slot = (int)(seq % SVC_RING);
    free(live->ring[slot]);
    live->ring[slot] = json;
    if (!live->ring[slot]) {
        live->ring_first = seq + 1; /* out of memory: what came before is no longer contiguous */
        return;
    }
    if (live->ring_first == 0 || live->ring_first > seq)
        live->ring_first = seq;
    if (seq - live->ring_first >= SVC_RING)
        live->ring_first = seq - SVC_RING + 1;
}

/* The events read from the log: want of them from seq next on, kept in order. */
typedef struct {
    char **json;
    int64_t next; /* the seq expected next */
    size_t n, want;
} svc_log_read_t;

static int svc_log_read_one(void *ctx, const store_auction_event_t *row)
{
    svc_log_read_t *r = ctx;
    if (row->seq != r->next || r->n == r->want)
        return GV_ENOT_FOUND; /* a gap (never guess), or more than asked for */
    r->json[r->n] = strdup(row->payload);
    if (!r->json[r->n])
        return GV_ENOMEM;
    r->n++;
    r->next++;
    return 0;
}

/* Calls fn for the events (since, until] of the log, once all of them are read. */
static int svc_missed_from_log(auction_service_t *svc, auction_live_t *live, int64_t since,
                               int64_t until, void (*fn)(void *, const char *, size_t), void *ctx)
{
    size_t want = (size_t)(until - since);
    svc_log_read_t r = {calloc(want, sizeof(char *)), since + 1, 0, want};
    if (!r.json)
        return GV_ENOMEM;
    int rc = store_auction_events_each(svc->deps.store, live->id, since, (int)want,
                                       svc_log_read_one, &r);
    if (rc == 0 && r.n != want)
        rc = GV_ENOT_FOUND;
    for (size_t i = 0; i < r.n; i++) {
        if (rc == 0)
            fn(ctx, r.json[i], strlen(r.json[i]));
        free(r.json[i]);
    }
    free(r.json);
    return rc;
}

/* 1 when the ring holds every event of (since, last]. */
static int svc_ring_holds(const auction_live_t *live, int64_t since, int64_t last)
{
    if (live->ring_first == 0 || since + 1 < live->ring_first)
        return 0;
    for (int64_t q = since + 1; q <= last; q++)
        if (!live->ring[q % SVC_RING])
            return 0;
    return 1;
}

int auction_service_missed(auction_service_t *svc, auction_live_t *live, int64_t since,
                           void (*fn)(void *ctx, const char *json, size_t len), void *ctx)
{
    int64_t last = live->view.seq;
    if (since >= last)
        return 0;
    if (last - since > SVC_RESUME_MAX)
        return GV_ENOT_FOUND;
    if (!svc_ring_holds(live, since, last))
        return svc_missed_from_log(svc, live, since, last, fn, ctx);
    for (int64_t q = since + 1; q <= last; q++)
        fn(ctx, live->ring[q % SVC_RING], strlen(live->ring[q % SVC_RING]));
    return 0;
}

void svc_publish_json(auction_service_t *svc, const char *kind, const char *id, json_t *o)
{
    char room[HUB_ROOM_MAX];
    char *text = o ? json_text(o, JSON_COMPACT) : NULL;
    json_decref(o);
    snprintf(room, sizeof(room), "%s:%s", kind, id);
    if (text)
        hub_publish(svc->deps.hub, room, text, strlen(text));
    free(text);
}

/* Tells the league room `auction_status {auctionId, status}` when live's committed status is not
 * the one it was last told (begin, pause, resume, completion, reset), so league pages need not
 * poll. */
void svc_tell_league(auction_service_t *svc, auction_live_t *live)
{
    if (live->status_told == live->view.status)
        return;
    svc_publish_json(svc, "league", live->league_id,
                     json_pack("{s:s, s:s, s:s, s:s}", "type", "auction_status", "leagueId",
                               live->league_id, "auctionId", live->id, "status",
                               engine_status_name(live->view.status)));
    live->status_told = live->view.status;
}

/* Moves each auction's committed view over the batch's events. */
static void svc_views_advance(svc_batch_t *b)
{
    for (size_t i = 0; i < b->n_events; i++) {
        svc_pending_event_t *p = &b->events[i];
        if (engine_event_apply(&p->live->view, &p->ev) != 0)
            log_error("auction view cannot follow auction=%s seq=%lld", p->live->id,
                      (long long)p->ev.seq);
        if (p->ev.type == ENGINE_EV_RESET)
            p->live->view_epoch++;
        if (p->live->pending_gen <= b->gen)
            p->live->dirty = 0;
    }
}

/* Sends b's committed event i to its room (and a changed status to the league's after the last
 * event of an auction in a row). */
static void svc_publish_one(auction_service_t *svc, svc_batch_t *b, size_t i)
{
    char room[HUB_ROOM_MAX];
    svc_pending_event_t *p = &b->events[i];
    snprintf(room, sizeof(room), "auction:%s", p->live->id);
    hub_publish_committed(svc->deps.hub, room, p->json, strlen(p->json), b->visible_ns);
    svc_ring_take(p->live, p->ev.seq, p->json); /* the ring keeps the text */
    p->json = NULL;
    svc->stats.events_published++;
    if (i + 1 == b->n_events || b->events[i + 1].live != p->live)
        svc_tell_league(svc, p->live);
}

/* One presence event per room that changed (ephemeral: no seq, not logged). */
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

int svc_live_reload(auction_service_t *svc, auction_live_t *l)
{
    store_auction_t row;
    int rc = store_auction_get(svc->deps.store, l->id, &row);
    if (!rc) {
        engine_deinit(&l->eng);
        rc = svc_replay(svc, l, &row);
        store_auction_free_fields(&row);
    }
    rc = rc ? rc : svc_view_reset(l);
    l->dirty = 0;
    if (rc) {
        log_error("auction reload failed auction=%s err=%s detail=\"%s\": taken offline", l->id,
                  err_name(rc), store_errmsg(svc->deps.store));
        svc_live_drop(svc, l);
    } else {
        svc_timer_arm(l);
    }
    return rc;
}

/* After a failed commit (nothing of it or after it is written): every auction whose working
 * state is ahead of the store goes back to what the store holds. */
static void svc_reload_dirty(auction_service_t *svc)
{
    for (auction_live_t *l = svc->lives, *next; l; l = next) {
        next = l->next;
        if (l->dirty && svc_clustered(svc))
            svc_cluster_rewind(svc, l); /* another node may have written since */
        else if (l->dirty)
            svc_live_reload(svc, l);
    }
}

static void svc_publish_presence(auction_service_t *svc);

/* Releases the next part of the batch being released: an early answer, else an event, else the
 * end (presence, room joins, the batch freed). 0 when nothing is being released. A reply may
 * reach svc_commit_now, which releases the rest first: the cursors move before each call. */
static int svc_release_next(auction_service_t *svc)
{
    svc_batch_t *b = svc->releasing;
    if (!b)
        return 0;
    if (svc->rel_reply < b->early.n) {
        svc_pending_reply_t r = b->early.v[svc->rel_reply++];
        r.fn(r.ctx, 0);
        return 1;
    }
    if (svc->rel_event < b->n_events) {
        svc_publish_one(svc, b, svc->rel_event++);
        return 1;
    }
    svc->releasing = NULL;
    b->early.n = 0;
    svc_publish_presence(svc);
    svc_replies_run(&b->late, 0);
    svc_batch_release(svc, b, 1);
    return 1;
}

/* One loop turn's share of the release: steps of AUCTION_RELEASE_STEP until the budget is spent
 * (at least one step). */
static void svc_release_some(auction_service_t *svc)
{
    uint64_t t0 = uv_hrtime();
    svc->stats.release_turns++;
    do {
        for (int i = 0; i < AUCTION_RELEASE_STEP; i++) {
            if (!svc_release_next(svc) || !svc->releasing)
                return;
        }
    } while (uv_hrtime() - t0 < svc->release_budget_ns);
    svc_wake(svc);
}

/* Releases what is left of the batch being released, at once. */
static void svc_release_all(auction_service_t *svc)
{
    while (svc_release_next(svc))
        ;
}

/* Ends a batch whose commit is known (rc) or that had nothing to write. A committed batch with
 * writes moves the views forward and is released from the next check on (svc_release_some); the
 * rest is answered here, and the batch freed. */
static void svc_batch_finish(auction_service_t *svc, svc_batch_t *b, int rc)
{
    if (svc_batch_writes(b) && !rc) {
        metrics_hist_observe(&svc->stats.commit_seconds, (double)b->commit_us / 1e6);
        metrics_hist_observe(&svc->stats.batch_events, (double)b->n_events);
        svc_views_advance(b);
        svc_cluster_publish(svc, b);
        svc->releasing = b;
        svc->rel_reply = svc->rel_event = 0;
        svc_wake(svc);
        return;
    }
    svc_replies_run(&b->early, rc ? GV_EUNAVAILABLE : 0);
    svc_publish_presence(svc);
    svc_replies_run(&b->late, rc ? GV_EUNAVAILABLE : 0);
    svc_batch_release(svc, b, 1);
}

/* The writer is done with inflight: finish it; on failure fail the batch decided after it too
 * and reload. */
static void svc_inflight_done(auction_service_t *svc, svc_batch_t *b)
{
    svc->inflight = NULL;
    if (!b->rc) {
        svc_batch_finish(svc, b, 0);
        return;
    }
    svc->stats.commits_failed++;
    log_error("auction commit failed events=%zu err=%s detail=\"%s\"", b->n_events, err_name(b->rc),
              store_errmsg(svc->deps.commit_store ? svc->deps.commit_store : svc->deps.store));
    svc_batch_t *after = svc->cur; /* decided on top of what failed: it fails too */
    svc->cur = NULL;
    svc_reload_dirty(svc);  /* before any answer, so a command it queues sees the store's state */
    if (svc_clustered(svc)) /* another node may have taken an auction of it: stop its clock */
        svc_cluster_look(svc);
    svc_batch_finish(svc, b, GV_EUNAVAILABLE);
    if (after)
        svc_batch_finish(svc, after, GV_EUNAVAILABLE);
}

/* Hands the current batch to the writer (or writes it here without one); a batch with nothing
 * to write is finished at once. */
static void svc_handoff(auction_service_t *svc, int sync)
{
    svc_batch_t *b = svc->cur;
    int here = sync || !svc->writer.running; /* finished at once, so after the release */
    if (!b || svc->inflight || (svc->releasing && (here || !svc_batch_writes(b))))
        return;
    svc->cur = NULL;
    if (!svc_batch_writes(b)) {
        svc_batch_finish(svc, b, 0);
        return;
    }
    if (svc_batch_rows(svc, b))
        b->poisoned = 1;
    svc->inflight = b;
    if (here) {
        b->rc = svc_batch_write(svc->deps.store, b);
        svc_inflight_done(svc, b);
        if (!sync && svc->releasing)
            svc_release_some(svc); /* in this turn, as the writer thread's batches are */
        return;
    }
    uv_mutex_lock(&svc->writer.mu);
    svc->writer.job = b;
    uv_cond_broadcast(&svc->writer.cv);
    uv_mutex_unlock(&svc->writer.mu);
}

/* Takes back a batch the writer finished (waiting for it when wait); none while another is
 * being released. */
static void svc_writer_collect(auction_service_t *svc, int wait)
{
    svc_writer_t *w = &svc->writer;
    if (!w->running || svc->releasing)
        return;
    uv_mutex_lock(&w->mu);
    while (wait && svc->inflight && !w->done)
        uv_cond_wait(&w->cv, &w->mu);
    svc_batch_t *b = w->done;
    w->done = NULL;
    uv_mutex_unlock(&w->mu);
    if (b)
        svc_inflight_done(svc, b);
}

static void svc_on_written(uv_async_t *h)
{
    auction_service_t *svc = h->data;
    svc_writer_collect(svc, 0);
    if (!svc->inflight)
        svc_handoff(svc, 0);
    if (auction_service_idle(svc))
        uv_idle_stop(&svc->wake);
}

int auction_service_idle(const auction_service_t *svc)
{
    return svc_batch_empty(svc->cur) && !svc->inflight && !svc->releasing && svc->n_presence == 0;
}

void auction_service_set_release_budget(auction_service_t *svc, uint64_t ns)
{
    svc->release_budget_ns = ns;
}

void auction_service_set_log_limits(auction_service_t *svc, int catch_up_frames, int restart_frames)
{
    __atomic_store_n(&svc->checkpointer.catch_up_frames, catch_up_frames, __ATOMIC_RELAXED);
    __atomic_store_n(&svc->checkpointer.restart_frames, restart_frames, __ATOMIC_RELAXED);
}

void svc_commit_now(auction_service_t *svc)
{
    svc_release_all(svc);
    svc_writer_collect(svc, 1);
    svc_release_all(svc);
    svc_handoff(svc, 1);
    svc_release_all(svc);
    if (svc->n_presence)
        svc_publish_presence(svc);
}

void svc_presence_schedule(auction_service_t *svc, auction_live_t *live)
{
    if (live->presence_dirty || svc_grow((void **)&svc->presence, &svc->cap_presence,
                                         svc->n_presence, sizeof(*svc->presence)))
        return;
    live->presence_dirty = 1;
    svc->presence[svc->n_presence++] = live;
    svc_wake(svc);
}

void auction_service_presence_changed(auction_service_t *svc, auction_live_t *live)
{
    live->presence_local = 1; /* a cluster's other nodes hear of it */
    svc_presence_schedule(svc, live);
}

/* Keeps the loop from blocking in poll while something of this turn waits for the commit hook
 * (events queued by a timer callback would otherwise wait for the next I/O). */
static void svc_on_wake(uv_idle_t *h)
{
    (void)h;
}

void svc_wake(auction_service_t *svc)
{
    if (!svc->stopped)
        uv_idle_start(&svc->wake, svc_on_wake);
}

/* Once per loop turn, after I/O: hand this turn's batch over when the writer is free (else it
 * goes when the writer is done); presence with nothing to commit goes out now. */
static void svc_on_commit_hook(uv_check_t *h)
{
    auction_service_t *svc = h->data;
    if (svc->releasing) {
        svc_release_some(svc);
        svc_writer_collect(svc, 0); /* what the writer finished meanwhile (its async is spent) */
    }
    if (!svc->inflight)
        svc_handoff(svc, 0);
    if (!svc->inflight && !svc->releasing && svc->n_presence)
        svc_publish_presence(svc);
    /* Nothing can progress before the writer's answer: poll may block until its async. */
    if (!svc->releasing && (svc->inflight || auction_service_idle(svc)))
        uv_idle_stop(&svc->wake);
}

/* ---- lifetime ------------------------------------------------------------------------------- */

void svc_commit_init(auction_service_t *svc)
{
    svc->seen =
        calloc(SVC_SEEN_BITS / 64, sizeof(uint64_t)); /* NULL: every lookup asks the store */
    uv_check_init(svc->deps.loop, &svc->commit_hook);
    svc->commit_hook.data = svc;
    uv_check_start(&svc->commit_hook, svc_on_commit_hook);
    uv_unref((uv_handle_t *)&svc->commit_hook);
    uv_idle_init(svc->deps.loop, &svc->wake);
    svc->wake.data = svc;
    svc->release_budget_ns = AUCTION_RELEASE_BUDGET_NS;
    metrics_hist_init(&svc->stats.commit_seconds, metrics_latency_bounds, metrics_latency_nbounds);
    metrics_hist_init(&svc->stats.batch_events, svc_batch_bounds,
                      sizeof(svc_batch_bounds) / sizeof(svc_batch_bounds[0]));
}

int svc_commit_start(auction_service_t *svc)
{
    svc_writer_t *w = &svc->writer;
    if (!svc->deps.commit_store)
        return 0;
    w->st = svc->deps.commit_store;
    w->catch_ups = &svc->stats.checkpoint_catch_ups;
    /* the writer's connection only writes batches: no answer is needed before the commit's */
    int rc = store_bulk(w->st, 1);
    if (rc != 0)
        return rc;
    if (uv_mutex_init(&w->mu) != 0)
        return GV_ENOMEM;
    if (uv_cond_init(&w->cv) != 0) {
        uv_mutex_destroy(&w->mu);
        return GV_ENOMEM;
    }
    uv_async_init(svc->deps.loop, &w->async, svc_on_written);
    w->async.data = svc;
    uv_unref((uv_handle_t *)&w->async);
    if (uv_thread_create(&w->thread, svc_writer_main, w) != 0) {
        uv_close((uv_handle_t *)&w->async, NULL);
        uv_cond_destroy(&w->cv);
        uv_mutex_destroy(&w->mu);
        return GV_ENOMEM;
    }
    w->running = 1;
    return svc_checkpointer_start(svc);
}

void svc_commit_stop(auction_service_t *svc)
{
    svc_writer_t *w = &svc->writer;
    svc_commit_now(svc);
    uv_idle_stop(&svc->wake);
    uv_check_stop(&svc->commit_hook);
    if (!w->running)
        return;
    svc_thread_end(&w->thread, &w->mu, &w->cv, &w->quit);
    w->running = 0;
    svc_checkpointer_stop(svc);
    uv_close((uv_handle_t *)&w->async, NULL);
}

void svc_commit_free(auction_service_t *svc)
{
    svc_batch_free(svc, svc->releasing);
    svc_batch_free(svc, svc->inflight);
    svc_batch_free(svc, svc->cur);
    svc_batch_free(svc, svc->spare);
    svc->inflight = svc->cur = svc->spare = NULL;
    free(svc->presence);
    free(svc->seen);
}

const auction_service_stats_t *auction_service_stats(const auction_service_t *svc)
{
    return &svc->stats;
}
