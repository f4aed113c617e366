/* The auction engine: validates a command against one auction's state and turns it into events.
 * The state changes only in engine_event_apply, so replaying the log reproduces it exactly.
 * Rules: PRODUCT.md "Auction"; decisions where it is silent: docs/auction.md and the comments. */
#include "auction/engine.h"

#include <stdlib.h>
#include <string.h>

#define ENGINE_MONEY_MAX INT64_C(1000000000000000) /* 10^15: minBid x rosterSize fits int64 */
#define ENGINE_ROSTER_MAX 1000
#define ENGINE_MS_MAX (INT64_C(1) << 40) /* ~35 years */
#define ENGINE_REOFFER_MAX 5

/* ---- lot order ---------------------------------------------------------------------------- */

static const char *const engine_status_names[] = {
    [ENGINE_WAITING] = "waiting",
    [ENGINE_RUNNING] = "running",
    [ENGINE_PAUSED] = "paused",
    [ENGINE_COMPLETED] = "completed",
};

static const char *const engine_event_names[] = {
    [ENGINE_EV_CREATED] = "auction_created",
    [ENGINE_EV_LOT_OPENED] = "lot_opened",
    [ENGINE_EV_BID] = "bid",
    [ENGINE_EV_LOT_CLOSED] = "lot_closed",
    [ENGINE_EV_INTERMISSION] = "intermission",
    [ENGINE_EV_PAUSED] = "paused",
    [ENGINE_EV_RESUMED] = "resumed",
    [ENGINE_EV_LOT_UNDONE] = "lot_undone",
    [ENGINE_EV_COMPLETED] = "auction_completed",
    [ENGINE_EV_RESET] = "auction_reset",
};

const char *engine_status_name(engine_status_t s)
{
    return (unsigned)s < sizeof(engine_status_names) / sizeof(engine_status_names[0])
               ? engine_status_names[s]
               : "";
}

const char *engine_event_name(engine_event_type_t t)
{
    const size_t n = sizeof(engine_event_names) / sizeof(engine_event_names[0]);
    return (unsigned)t < n && engine_event_names[t] ? engine_event_names[t] : "";
}

engine_event_type_t engine_event_type_of(const char *name)
{
    for (int t = ENGINE_EV_CREATED; name && t <= ENGINE_EV_RESET; t++)
        if (!strcmp(name, engine_event_names[t]))
            return (engine_event_type_t)t;
    return (engine_event_type_t)0;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* The recorded lot order: the selection order, or a Fisher-Yates shuffle of it driven by a
 * splitmix64 stream seeded with the auction's seed (a pure function of seed and n_assets). */
static void order_fill(engine_t *e)
{
    for (int i = 0; i < e->n_assets; i++)
        e->order[i] = i;
    if (!e->cfg.random_order)
        return;
    uint64_t s = e->seed;
    for (int i = e->n_assets - 1; i > 0; i--) {
        int j = (int)(splitmix64(&s) % (uint64_t)(i + 1));
        int t = e->order[i];
        e->order[i] = e->order[j];
        e->order[j] = t;
    }
}

/* ---- queries ------------------------------------------------------------------------------- */

int64_t engine_min_bid(const engine_t *e)
{
    return e->leader < 0 ? e->cfg.min_bid : e->price + e->cfg.min_increment;
}

int64_t engine_max_bid(const engine_t *e, int m)
{
    if (m < 0 || m >= e->n_managers)
        return 0;
    const engine_manager_t *mg = &e->managers[m];
    int empty = e->cfg.roster_size - mg->roster_n;
    if (empty <= 0)
        return 0;
    int64_t max = mg->budget_remaining - e->cfg.min_bid * (empty - 1);
    return max > 0 ? max : 0;
}

/* A manager can still bid when they have an empty slot and could place the lowest opening bid.
 * With budget >= minBid x rosterSize (the league's range) this is "budget >= minBid"; it also
 * covers configurations where the reserve for the other empty slots leaves less than minBid. */
static int manager_can_bid(const engine_t *e, int m)
{
    return e->managers[m].roster_n < e->cfg.roster_size && engine_max_bid(e, m) >= e->cfg.min_bid;
}

int64_t engine_next_deadline(const engine_t *e)
{
    if (e->status != ENGINE_RUNNING || e->phase == ENGINE_LOT_NONE)
        return INT64_MAX;
    return e->ends_at_ms;
}

int engine_queued(const engine_t *e)
{
    /* after completion only a first pass's remainder was never offered */
    if (e->status == ENGINE_COMPLETED && e->pass > 0)
        return 0;
    return e->order_n - e->order_pos;
}

int engine_sold_count(const engine_t *e)
{
    int n = 0;
    for (int m = 0; m < e->n_managers; m++)
        n += e->managers[m].roster_n;
    return n;
}

int engine_unsold_count(const engine_t *e)
{
    /* in a re-offer pass every asset has been offered once, so every unowned one closed unsold */
    if (e->pass > 0)
        return e->n_assets - engine_sold_count(e);
    return e->unsold_n;
}

/* The asset the next lot offers and whether it is a re-offer: the current pass's queue, else
 * the first of its unsold list (a new pass). -1 when none is left. */
static int next_asset(const engine_t *e, int *retry)
{
    if (e->order_pos < e->order_n) {
        *retry = e->pass > 0;
        return e->order[e->order_pos];
    }
    *retry = 1;
    return e->unsold_n > 0 && e->pass < e->cfg.reoffer_unsold ? e->unsold[0] : -1;
}

static engine_reason_t completion_reason(const engine_t *e)
{
    int m = 0;
    while (m < e->n_managers && !manager_can_bid(e, m))
        m++;
    if (m == e->n_managers)
        return ENGINE_REASON_ROSTERS_FULL;
    int retry;
    if (next_asset(e, &retry) < 0)
        return ENGINE_REASON_NO_LOTS_LEFT;
    return ENGINE_REASON_NONE;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

/* The state of a fresh (or reset) auction, before begin. seq and completions are kept. */
static void state_clear(engine_t *e)
{
    order_fill(e);
    e->order_n = e->n_assets;
    e->order_pos = 0;
    e->pass = 0;
    e->unsold_n = 0;
    e->status = ENGINE_WAITING;
    e->reason = ENGINE_REASON_NONE;
    e->phase = e->paused_phase = ENGINE_LOT_NONE;
    e->lot = 0;
    e->lot_asset = e->leader = -1;
    e->lot_retry = e->lot_bids = 0;
    e->price = e->ends_at_ms = e->remaining_ms = 0;
    for (int i = 0; i < e->n_assets; i++) {
        e->owner[i] = -1;
        e->price_of[i] = 0;
    }
    e->lots_closed = e->history_n = 0;
    for (int m = 0; m < e->n_managers; m++) {
        e->managers[m].budget_remaining = e->cfg.budget;
        e->managers[m].roster_n = 0;
    }
}

static int config_valid(const engine_config_t *c)
{
    return c->budget >= 0 && c->budget <= ENGINE_MONEY_MAX && c->roster_size >= 1 &&
           c->roster_size <= ENGINE_ROSTER_MAX && c->min_bid >= 1 &&
           c->min_bid <= ENGINE_MONEY_MAX && c->min_increment >= 1 &&
           c->min_increment <= ENGINE_MONEY_MAX && c->lot_ms >= 1 && c->lot_ms <= ENGINE_MS_MAX &&
           c->anti_snipe_ms >= 0 && c->anti_snipe_ms <= ENGINE_MS_MAX && c->intermission_ms >= 0 &&
           c->intermission_ms <= ENGINE_MS_MAX && c->reoffer_unsold >= 0 &&
           c->reoffer_unsold <= ENGINE_REOFFER_MAX;
}

void engine_deinit(engine_t *e)
{
    free(e->order);
    free(e->unsold);
    free(e->owner);
    free(e->price_of);
    free(e->history);
    free(e->managers[0].roster); /* one block for every roster, starting at manager 0's */
    memset(e, 0, sizeof(*e));
}

/* Allocates e's arrays for the sizes already in e. 0 or GV_ENOMEM (e then deinitialised). */
static int engine_alloc(engine_t *e)
{
    size_t na = (size_t)e->n_assets;
    size_t nr = (size_t)e->cfg.roster_size;
    e->history_cap = e->n_assets * (e->cfg.reoffer_unsold + 1);
    e->order = calloc(na, sizeof(*e->order));
    e->unsold = calloc(na, sizeof(*e->unsold));
    e->owner = calloc(na, sizeof(*e->owner));
    e->price_of = calloc(na, sizeof(*e->price_of));
    e->history = calloc((size_t)e->history_cap, sizeof(*e->history));
    engine_roster_item_t *rosters = calloc((size_t)e->n_managers * nr, sizeof(*rosters));
    e->managers[0].roster = rosters;
    if (!e->order || !e->unsold || !e->owner || !e->price_of || !e->history || !rosters) {
        engine_deinit(e);
        return GV_ENOMEM;
    }
    for (int m = 0; m < e->n_managers; m++)
        e->managers[m].roster = rosters + (size_t)m * nr;
    return 0;
}

int engine_replay_init(engine_t *e, const engine_config_t *cfg, int n_assets, int n_managers,
                       uint64_t seed)
{
    memset(e, 0, sizeof(*e));
    if (!cfg || !config_valid(cfg) || n_assets < 1 || n_assets > ENGINE_MAX_ASSETS ||
        n_managers < 1 || n_managers > ENGINE_MAX_MANAGERS)
        return GV_EINVALID_REQUEST;
    e->cfg = *cfg;
    e->n_assets = n_assets;
    e->n_managers = n_managers;
    e->seed = seed;
    int rc = engine_alloc(e);
    if (rc)
        return rc;
    state_clear(e);
    return 0;
}

/* ---- events: construction ------------------------------------------------------------------ */

static engine_event_t ev_new(engine_event_type_t type)
{
    engine_event_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.actor = ev.asset = ev.manager = -1;
    return ev;
}

/* Stamps ev with the next seq and now, applies it and appends it to out. */
static void emit(engine_t *e, engine_events_t *out, engine_event_t *ev, int64_t now)
{
    ev->seq = e->seq + 1;
    ev->at_ms = now;
    (void)engine_event_apply(e, ev); /* built from this state: it always fits */
    out->ev[out->n++] = *ev;
}

int engine_init(engine_t *e, const engine_config_t *cfg, int n_assets, int n_managers,
                uint64_t seed, int64_t now_ms, engine_events_t *out)
{
    if (!out || out->n < 0 || out->n > ENGINE_MAX_EVENTS - 1) {
        memset(e, 0, sizeof(*e));
        return GV_EINVALID_REQUEST;
    }
    int rc = engine_replay_init(e, cfg, n_assets, n_managers, seed);
    if (rc)
        return rc;
    engine_event_t ev = ev_new(ENGINE_EV_CREATED);
    ev.seed = seed;
    emit(e, out, &ev, now_ms);
    return 0;
}

/* ---- events: application -------------------------------------------------------------------- */

static void queue_push_front(engine_t *e, int asset)
{
    if (e->order_pos > 0) {
        e->order[--e->order_pos] = asset;
        return;
    }
    memmove(e->order + 1, e->order, (size_t)e->order_n * sizeof(*e->order));
    e->order[0] = asset;
    e->order_n++;
}

/* The queue is exhausted: the unsold list becomes the next pass's queue. */
static void pass_next(engine_t *e)
{
    memcpy(e->order, e->unsold, (size_t)e->unsold_n * sizeof(*e->order));
    e->order_n = e->unsold_n;
    e->order_pos = 0;
    e->unsold_n = 0;
    e->pass++;
}

/* Undoes pass_next: nothing of this pass has closed, so its whole queue is the previous
 * pass's unsold list. */
static void pass_prev(engine_t *e)
{
    int n = e->order_n - e->order_pos;
    memcpy(e->unsold, e->order + e->order_pos, (size_t)n * sizeof(*e->unsold));
    e->unsold_n = n;
    e->order_pos = e->order_n;
    e->pass--;
}

static void apply_lot_opened(engine_t *e, const engine_event_t *ev)
{
    if (e->order_pos >= e->order_n)
        pass_next(e);
    e->order_pos++;
    e->status = ENGINE_RUNNING;
    e->phase = ENGINE_LOT_RUNNING;
    e->paused_phase = ENGINE_LOT_NONE;
    e->lot = ev->lot;
    e->lot_asset = ev->asset;
    e->lot_retry = ev->retry;
    e->leader = -1;
    e->price = 0;
    e->lot_bids = 0;
    e->ends_at_ms = ev->ends_at_ms;
    e->remaining_ms = 0;
}

static void apply_bid(engine_t *e, const engine_event_t *ev)
{
    e->leader = ev->manager;
    e->price = ev->amount;
    e->lot_bids++;
    e->ends_at_ms = ev->ends_at_ms;
}

static void apply_lot_closed(engine_t *e, const engine_event_t *ev)
{
    if (ev->sold) {
        engine_manager_t *mg = &e->managers[ev->manager];
        mg->roster[mg->roster_n++] = (engine_roster_item_t){ev->asset, ev->amount, ev->lot};
        mg->budget_remaining -= ev->amount;
        e->owner[ev->asset] = ev->manager;
        e->price_of[ev->asset] = ev->amount;
    } else {
        e->unsold[e->unsold_n++] = ev->asset;
    }
    e->history[e->history_n++] = (engine_closed_lot_t){
        ev->lot, ev->asset,   ev->sold ? ev->manager : -1, ev->sold ? ev->amount : 0,
        e->pass, e->lot_retry};
    e->lots_closed++;
    e->phase = e->paused_phase = ENGINE_LOT_NONE;
}

static void apply_intermission(engine_t *e, const engine_event_t *ev)
{
    e->phase = ENGINE_LOT_INTERMISSION;
    if (e->status == ENGINE_PAUSED) { /* a hammer while paused: the intermission waits, whole */
        e->paused_phase = ENGINE_LOT_INTERMISSION;
        e->remaining_ms = ev->ends_at_ms - ev->at_ms;
        e->ends_at_ms = 0;
    } else {
        e->ends_at_ms = ev->ends_at_ms;
    }
}

static void apply_paused(engine_t *e, const engine_event_t *ev)
{
    e->status = ENGINE_PAUSED;
    e->paused_phase = e->phase;
    e->remaining_ms = ev->remaining_ms;
    e->ends_at_ms = 0;
}

static void apply_resumed(engine_t *e, const engine_event_t *ev)
{
    e->status = ENGINE_RUNNING;
    e->paused_phase = ENGINE_LOT_NONE;
    e->ends_at_ms = ev->ends_at_ms;
    e->remaining_ms = 0;
}

static void roster_remove(engine_manager_t *mg, int asset)
{
    int i = mg->roster_n - 1;
    while (i > 0 && mg->roster[i].asset != asset)
        i--;
    memmove(mg->roster + i, mg->roster + i + 1,
            (size_t)(mg->roster_n - i - 1) * sizeof(*mg->roster));
    mg->roster_n--;
}

static void unsold_remove(engine_t *e, int asset)
{
    int i = e->unsold_n - 1;
    while (i > 0 && e->unsold[i] != asset)
        i--;
    memmove(e->unsold + i, e->unsold + i + 1, (size_t)(e->unsold_n - i - 1) * sizeof(*e->unsold));
    e->unsold_n--;
}

/* Reverts the newest closed lot; its asset (behind it, a lot open without bids) opens next. */
static void apply_lot_undone(engine_t *e)
{
    engine_closed_lot_t h = e->history[--e->history_n];
    if (e->phase == ENGINE_LOT_RUNNING)
        queue_push_front(e, e->lot_asset);
    while (h.pass < e->pass)
        pass_prev(e);
    if (h.manager >= 0) {
        engine_manager_t *mg = &e->managers[h.manager];
        roster_remove(mg, h.asset);
        mg->budget_remaining += h.price;
        e->owner[h.asset] = -1;
        e->price_of[h.asset] = 0;
    } else {
        unsold_remove(e, h.asset);
    }
    queue_push_front(e, h.asset);
    e->status = ENGINE_PAUSED;
    e->reason = ENGINE_REASON_NONE;
    e->phase = e->paused_phase = ENGINE_LOT_INTERMISSION;
    e->remaining_ms = e->ends_at_ms = 0;
    e->lot_asset = e->leader = -1;
    e->lot_retry = e->lot_bids = 0;
    e->price = 0;
}

static void apply_completed(engine_t *e, const engine_event_t *ev)
{
    e->status = ENGINE_COMPLETED;
    e->reason = ev->reason;
    e->phase = e->paused_phase = ENGINE_LOT_NONE;
    e->ends_at_ms = e->remaining_ms = 0;
    e->completions++;
}

/* Whether ev can follow e's state (guards the arrays against a corrupt or foreign log). */
static int event_fits(const engine_t *e, const engine_event_t *ev)
{
    int retry;
    switch (ev->type) {
    case ENGINE_EV_LOT_OPENED:
        return ev->lot == e->lot + 1 && ev->asset >= 0 && ev->asset == next_asset(e, &retry);
    case ENGINE_EV_BID:
        return ev->manager >= 0 && ev->manager < e->n_managers && ev->lot == e->lot &&
               e->phase == ENGINE_LOT_RUNNING;
    case ENGINE_EV_LOT_CLOSED:
        if (e->phase != ENGINE_LOT_RUNNING || ev->asset != e->lot_asset ||
            e->history_n >= e->history_cap)
            return 0;
        if (!ev->sold)
            return e->unsold_n < e->n_assets;
        return ev->manager >= 0 && ev->manager < e->n_managers &&
               e->managers[ev->manager].roster_n < e->cfg.roster_size;
    case ENGINE_EV_LOT_UNDONE:
        return e->history_n > 0 && ev->lot == e->history[e->history_n - 1].lot &&
               ev->asset == e->history[e->history_n - 1].asset;
    case ENGINE_EV_CREATED:
    case ENGINE_EV_INTERMISSION:
    case ENGINE_EV_PAUSED:
    case ENGINE_EV_RESUMED:
    case ENGINE_EV_COMPLETED:
    case ENGINE_EV_RESET:
        return 1;
    }
    return 0;
}

int engine_event_apply(engine_t *e, const engine_event_t *ev)
{
    if (ev->seq != e->seq + 1 || !event_fits(e, ev))
        return GV_EINVALID_REQUEST;
    switch (ev->type) {
    case ENGINE_EV_CREATED:
        e->seed = ev->seed;
        state_clear(e);
        break;
    case ENGINE_EV_RESET:
        state_clear(e);
        break;
    case ENGINE_EV_LOT_OPENED:
        apply_lot_opened(e, ev);
        break;
    case ENGINE_EV_BID:
        apply_bid(e, ev);
        break;
    case ENGINE_EV_LOT_CLOSED:
        apply_lot_closed(e, ev);
        break;
    case ENGINE_EV_INTERMISSION:
        apply_intermission(e, ev);
        break;
    case ENGINE_EV_PAUSED:
        apply_paused(e, ev);
        break;
    case ENGINE_EV_RESUMED:
        apply_resumed(e, ev);
        break;
    case ENGINE_EV_LOT_UNDONE:
        apply_lot_undone(e);
        break;
    case ENGINE_EV_COMPLETED:
        apply_completed(e, ev);
        break;
    }
    e->seq = ev->seq;
    return 0;
}

/* ---- commands: the steps they share ---------------------------------------------------------- */

/* Opens the next lot (the caller knows there is one) with its full lot_ms from now. */
static void lot_open(engine_t *e, int64_t now, engine_events_t *out)
{
    engine_event_t ev = ev_new(ENGINE_EV_LOT_OPENED);
    ev.lot = e->lot + 1;
    ev.asset = next_asset(e, &ev.retry);
    ev.ends_at_ms = now + e->cfg.lot_ms;
    emit(e, out, &ev, now);
}

static void complete(engine_t *e, int64_t now, engine_reason_t reason, engine_events_t *out)
{
    engine_event_t ev = ev_new(ENGINE_EV_COMPLETED);
    ev.reason = reason;
    ev.sold_count = engine_sold_count(e);
    ev.unsold_count = e->n_assets - ev.sold_count;
    emit(e, out, &ev, now);
}

/* Closes the lot on the block as it stands: sold to the leader at the price, or unsold. */
static void lot_close_only(engine_t *e, int64_t now, engine_events_t *out)
{
    engine_event_t ev = ev_new(ENGINE_EV_LOT_CLOSED);
    ev.lot = e->lot;
    ev.asset = e->lot_asset;
    ev.sold = e->leader >= 0;
    if (ev.sold) {
        ev.manager = e->leader;
        ev.amount = e->price;
        ev.budget_after = e->managers[e->leader].budget_remaining - e->price;
    }
    emit(e, out, &ev, now);
}

/* Closes the lot, then completes the auction or starts the intermission, which ends
 * intermission_ms after from_ms (the lot's deadline, or now for a hammer). */
static void lot_close(engine_t *e, int64_t now, int64_t from_ms, engine_events_t *out)
{
    lot_close_only(e, now, out);
    engine_reason_t reason = completion_reason(e);
    if (reason != ENGINE_REASON_NONE) {
        complete(e, now, reason, out);
        return;
    }
    engine_event_t ev = ev_new(ENGINE_EV_INTERMISSION);
    ev.next_lot = e->lot + 1;
    ev.ends_at_ms = from_ms + e->cfg.intermission_ms;
    emit(e, out, &ev, now);
}

/* Does what is due at now while running: closes an expired lot, opens the next lot when the
 * intermission is over (at once when a late timer finds it over already). */
static void run_due(engine_t *e, int64_t now, engine_events_t *out)
{
    if (e->status == ENGINE_RUNNING && e->phase == ENGINE_LOT_RUNNING && now >= e->ends_at_ms)
        lot_close(e, now, e->ends_at_ms, out);
    if (e->status == ENGINE_RUNNING && e->phase == ENGINE_LOT_INTERMISSION && now >= e->ends_at_ms)
        lot_open(e, now, out);
}

/* ---- commands -------------------------------------------------------------------------------- */

static int cmd_begin(engine_t *e, int64_t now, engine_events_t *out)
{
    if (e->status != ENGINE_WAITING)
        return GV_EINVALID_STATE;
    lot_open(e, now, out);
    return 0;
}

/* The checks of PRODUCT.md "Bid", in the precedence of API.md "Conventions". */
static int bid_check(const engine_t *e, const engine_cmd_t *cmd, int64_t now)
{
    int m = cmd->manager;
    if (m < 0 || m >= e->n_managers)
        return GV_ENOT_A_MANAGER;
    if (e->status != ENGINE_RUNNING)
        return GV_EAUCTION_NOT_RUNNING;
    if (e->lot == 0 || cmd->lot != e->lot)
        return GV_ESTALE_LOT;
    if (e->phase != ENGINE_LOT_RUNNING || now >= e->ends_at_ms)
        return GV_ELOT_CLOSED;
    if (e->managers[m].roster_n >= e->cfg.roster_size)
        return GV_EROSTER_FULL;
    if (e->leader == m)
        return GV_EALREADY_LEADING;
    if (cmd->amount < engine_min_bid(e))
        return GV_EBID_TOO_LOW;
    if (cmd->amount > engine_max_bid(e, m))
        return GV_EOVER_MAX_BID;
    return 0;
}

static int cmd_bid(engine_t *e, const engine_cmd_t *cmd, int64_t now, engine_events_t *out)
{
    int rc = bid_check(e, cmd, now);
    if (rc)
        return rc;
    engine_event_t ev = ev_new(ENGINE_EV_BID);
    ev.actor = ev.manager = cmd->manager;
    ev.lot = e->lot;
    ev.amount = cmd->amount;
    ev.ends_at_ms = e->ends_at_ms;
    /* anti-snipe: reset-to (not add), repeatable, uncapped */
    if (e->cfg.anti_snipe_ms > 0 && e->ends_at_ms - now < e->cfg.anti_snipe_ms) {
        ev.ends_at_ms = now + e->cfg.anti_snipe_ms;
        ev.extended = 1;
    }
    emit(e, out, &ev, now);
    return 0;
}

static int cmd_pause(engine_t *e, int64_t now, engine_events_t *out)
{
    if (e->status != ENGINE_RUNNING)
        return GV_EINVALID_STATE;
    engine_event_t ev = ev_new(ENGINE_EV_PAUSED);
    ev.remaining_ms = e->ends_at_ms > now ? e->ends_at_ms - now : 0;
    emit(e, out, &ev, now);
    return 0;
}

/* Restores the frozen time; whatever it makes due now happens in the same step (a lot paused
 * at its deadline closes, an intermission with nothing left, as after an undo, opens the lot). */
static int cmd_resume(engine_t *e, int64_t now, engine_events_t *out)
{
    if (e->status != ENGINE_PAUSED)
        return GV_EINVALID_STATE;
    engine_event_t ev = ev_new(ENGINE_EV_RESUMED);
    ev.ends_at_ms = now + e->remaining_ms;
    emit(e, out, &ev, now);
    run_due(e, now, out);
    return 0;
}

/* Hammer now. Allowed while paused too: the auction then stays paused, the intermission (or
 * completion) follows, and resume continues with the whole intermission. */
static int cmd_close_lot(engine_t *e, int64_t now, engine_events_t *out)
{
    if ((e->status != ENGINE_RUNNING && e->status != ENGINE_PAUSED) ||
        e->phase != ENGINE_LOT_RUNNING)
        return GV_EINVALID_STATE;
    lot_close(e, now, now, out);
    run_due(e, now, out);
    return 0;
}

static int cmd_undo(engine_t *e, int64_t now, engine_events_t *out)
{
    if ((e->status != ENGINE_PAUSED && e->status != ENGINE_COMPLETED) || e->history_n == 0 ||
        (e->phase == ENGINE_LOT_RUNNING && e->lot_bids > 0))
        return GV_EINVALID_STATE;
    const engine_closed_lot_t *h = &e->history[e->history_n - 1];
    engine_event_t ev = ev_new(ENGINE_EV_LOT_UNDONE);
    ev.lot = h->lot;
    ev.asset = h->asset;
    ev.manager = h->manager;
    ev.amount = h->price;
    emit(e, out, &ev, now);
    return 0;
}

static int cmd_reset(engine_t *e, int64_t now, engine_events_t *out)
{
    if (e->status == ENGINE_WAITING)
        return GV_EINVALID_STATE;
    engine_event_t ev = ev_new(ENGINE_EV_RESET);
    emit(e, out, &ev, now);
    return 0;
}

/* Complete now. The lot on the block (running or paused) is closed first as it stands: sold to
 * its leader, else unsold. The reason is always "ended", even if that close filled the rosters. */
static int cmd_end(engine_t *e, int64_t now, engine_events_t *out)
{
    if (e->status == ENGINE_COMPLETED)
        return GV_EINVALID_STATE;
    if (e->phase == ENGINE_LOT_RUNNING)
        lot_close_only(e, now, out);
    complete(e, now, ENGINE_REASON_ENDED, out);
    return 0;
}

int engine_apply(engine_t *e, const engine_cmd_t *cmd, int64_t now_ms, engine_events_t *out)
{
    if (!e || !cmd || !out || out->n < 0 || out->n > ENGINE_MAX_EVENTS - ENGINE_CMD_MAX_EVENTS)
        return GV_EINVALID_REQUEST;
    switch (cmd->type) {
    case ENGINE_CMD_BEGIN:
        return cmd_begin(e, now_ms, out);
    case ENGINE_CMD_BID:
        return cmd_bid(e, cmd, now_ms, out);
    case ENGINE_CMD_TICK:
        run_due(e, now_ms, out);
        return 0;
    case ENGINE_CMD_PAUSE:
        return cmd_pause(e, now_ms, out);
    case ENGINE_CMD_RESUME:
        return cmd_resume(e, now_ms, out);
    case ENGINE_CMD_CLOSE_LOT:
        return cmd_close_lot(e, now_ms, out);
    case ENGINE_CMD_UNDO:
        return cmd_undo(e, now_ms, out);
    case ENGINE_CMD_RESET:
        return cmd_reset(e, now_ms, out);
    case ENGINE_CMD_END:
        return cmd_end(e, now_ms, out);
    }
    return GV_EINVALID_REQUEST;
}

/* ---- copies and comparison ---------------------------------------------------------------------
 */

int engine_clone(engine_t *dst, const engine_t *src)
{
    int rc = engine_replay_init(dst, &src->cfg, src->n_assets, src->n_managers, src->seed);
    if (rc)
        return rc;
    engine_t fresh = *dst; /* keep the new arrays, take every value of src */
    *dst = *src;
    size_t na = (size_t)src->n_assets;
    dst->order = memcpy(fresh.order, src->order, na * sizeof(*src->order));
    dst->unsold = memcpy(fresh.unsold, src->unsold, na * sizeof(*src->unsold));
    dst->owner = memcpy(fresh.owner, src->owner, na * sizeof(*src->owner));
    dst->price_of = memcpy(fresh.price_of, src->price_of, na * sizeof(*src->price_of));
    dst->history =
        memcpy(fresh.history, src->history, (size_t)src->history_cap * sizeof(*src->history));
    for (int m = 0; m < src->n_managers; m++)
        dst->managers[m].roster =
            memcpy(fresh.managers[m].roster, src->managers[m].roster,
                   (size_t)src->cfg.roster_size * sizeof(*src->managers[m].roster));
    return 0;
}

static int config_equal(const engine_config_t *a, const engine_config_t *b)
{
    return a->budget == b->budget && a->roster_size == b->roster_size && a->min_bid == b->min_bid &&
           a->min_increment == b->min_increment && a->lot_ms == b->lot_ms &&
           a->anti_snipe_ms == b->anti_snipe_ms && a->intermission_ms == b->intermission_ms &&
           a->reoffer_unsold == b->reoffer_unsold && a->random_order == b->random_order;
}

static int ints_equal(const int *a, const int *b, int n)
{
    return n == 0 || memcmp(a, b, (size_t)n * sizeof(*a)) == 0;
}

static int scalars_equal(const engine_t *a, const engine_t *b)
{
    return config_equal(&a->cfg, &b->cfg) && a->n_assets == b->n_assets &&
           a->n_managers == b->n_managers && a->seed == b->seed && a->status == b->status &&
           a->reason == b->reason && a->seq == b->seq && a->pass == b->pass &&
           a->order_n - a->order_pos == b->order_n - b->order_pos && a->unsold_n == b->unsold_n &&
           a->phase == b->phase && a->lot == b->lot && a->lot_asset == b->lot_asset &&
           a->lot_retry == b->lot_retry && a->leader == b->leader && a->price == b->price &&
           a->ends_at_ms == b->ends_at_ms && a->remaining_ms == b->remaining_ms &&
           a->paused_phase == b->paused_phase && a->lot_bids == b->lot_bids &&
           a->lots_closed == b->lots_closed && a->history_n == b->history_n &&
           a->completions == b->completions;
}

static int history_equal(const engine_closed_lot_t *a, const engine_closed_lot_t *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i].lot != b[i].lot || a[i].asset != b[i].asset || a[i].manager != b[i].manager ||
            a[i].price != b[i].price || a[i].pass != b[i].pass || a[i].retry != b[i].retry)
            return 0;
    return 1;
}

static int managers_equal(const engine_t *a, const engine_t *b)
{
    for (int m = 0; m < a->n_managers; m++) {
        const engine_manager_t *x = &a->managers[m], *y = &b->managers[m];
        if (x->budget_remaining != y->budget_remaining || x->roster_n != y->roster_n)
            return 0;
        for (int i = 0; i < x->roster_n; i++)
            if (x->roster[i].asset != y->roster[i].asset ||
                x->roster[i].price != y->roster[i].price || x->roster[i].lot != y->roster[i].lot)
                return 0;
    }
    return 1;
}

int engine_equal(const engine_t *a, const engine_t *b)
{
    if (!scalars_equal(a, b))
        return 0;
    /* only the live part of the queue: positions before order_pos are spent */
    if (!ints_equal(a->order + a->order_pos, b->order + b->order_pos, a->order_n - a->order_pos) ||
        !ints_equal(a->unsold, b->unsold, a->unsold_n) ||
        !ints_equal(a->owner, b->owner, a->n_assets))
        return 0;
    for (int i = 0; i < a->n_assets; i++)
        if (a->price_of[i] != b->price_of[i])
            return 0;
    return history_equal(a->history, b->history, a->history_n) && managers_equal(a, b);
}
