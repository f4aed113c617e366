/* The auction engine: one auction's authoritative state and the rules of PRODUCT.md "Auction".
 * Pure: no I/O, no clock (time is passed in), no logging, no allocation after engine_init.
 *
 * Event sourcing: a command is validated against the state and produces events; the state only
 * ever changes by applying events (engine_event_apply), so replaying an auction's event log on a
 * fresh engine reproduces its state exactly. */
#ifndef GAVEL_AUCTION_ENGINE_H
#define GAVEL_AUCTION_ENGINE_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

#define ENGINE_MAX_MANAGERS 64
#define ENGINE_MAX_ASSETS 100000 /* a larger selection is refused, never cut */
#define ENGINE_MAX_EVENTS 16     /* capacity of engine_events_t */
/* Events one command produces at most (RESUME: resumed, lot closed, intermission, lot opened). */
#define ENGINE_CMD_MAX_EVENTS 4

/* Errors: the engine returns codes of the one table, core/err.h (a header of constants: the
 * engine stays pure): GV_EAUCTION_NOT_RUNNING, GV_ESTALE_LOT, GV_ELOT_CLOSED (intermission, or
 * now >= endsAt), GV_ENOT_A_MANAGER (manager index out of range), GV_EROSTER_FULL,
 * GV_EALREADY_LEADING, GV_EBID_TOO_LOW (see engine_min_bid), GV_EOVER_MAX_BID (see
 * engine_max_bid), GV_EINVALID_STATE (a control that does not apply now), GV_EINVALID_REQUEST
 * (a malformed command, event or configuration) and GV_ENOMEM. */

typedef enum {
    ENGINE_WAITING = 0,
    ENGINE_RUNNING,
    ENGINE_PAUSED,
    ENGINE_COMPLETED,
} engine_status_t;

typedef enum {
    ENGINE_LOT_NONE = 0,     /* no lot yet (waiting) or after completion */
    ENGINE_LOT_RUNNING,      /* the lot on the block takes bids until ends_at_ms */
    ENGINE_LOT_INTERMISSION, /* between lots; the next lot opens at ends_at_ms */
} engine_phase_t;

typedef enum {
    ENGINE_REASON_NONE = 0,
    ENGINE_REASON_ROSTERS_FULL, /* no manager can bid any more (full, or budget < minBid) */
    ENGINE_REASON_NO_LOTS_LEFT,
    ENGINE_REASON_ENDED, /* ended_by_commissioner */
} engine_reason_t;

typedef struct {
    int64_t budget;
    int roster_size;
    int64_t min_bid;
    int64_t min_increment;
    int64_t lot_ms;
    int64_t anti_snipe_ms; /* 0: off */
    int64_t intermission_ms;
    int reoffer_unsold; /* extra passes over unsold assets, 0..5 */
    int random_order;   /* shuffle the assets once at creation with the seed */
} engine_config_t;

typedef enum {
    ENGINE_EV_CREATED = 1, /* status waiting; the lot order is fixed now */
    ENGINE_EV_LOT_OPENED,
    ENGINE_EV_BID,
    ENGINE_EV_LOT_CLOSED,
    ENGINE_EV_INTERMISSION,
    ENGINE_EV_PAUSED,
    ENGINE_EV_RESUMED,
    ENGINE_EV_LOT_UNDONE,
    ENGINE_EV_COMPLETED,
    ENGINE_EV_RESET,
} engine_event_type_t;

/* The API's names: engine_status_name ("waiting", "running", "paused", "completed") and
 * engine_event_name ("auction_created" ... "auction_reset"; "" for a value out of range).
 * engine_event_type_of is the inverse of engine_event_name (0 when unknown). */
const char *engine_status_name(engine_status_t s);
const char *engine_event_name(engine_event_type_t t);
engine_event_type_t engine_event_type_of(const char *name);

/* One event. Only the fields named for its type are meaningful (others are 0 / -1). */
typedef struct {
    engine_event_type_t type;
    int64_t seq;    /* 1 for CREATED, then +1 per event, never restarting (not even on reset) */
    int64_t at_ms;  /* the instant it happened */
    int actor;      /* manager index who caused it, -1 for the commissioner/system (service fills
                       the acting user separately) */
    int lot;        /* LOT_OPENED, BID, LOT_CLOSED, LOT_UNDONE: the lot number */
    int asset;      /* LOT_OPENED, LOT_CLOSED, LOT_UNDONE: index into the creation asset list */
    int manager;    /* BID: bidder; LOT_CLOSED: winner or -1; LOT_UNDONE: refunded or -1 */
    int64_t amount; /* BID: amount; LOT_CLOSED: price (0 unsold); LOT_UNDONE: refund */
    int64_t ends_at_ms;     /* LOT_OPENED, BID, INTERMISSION, RESUMED */
    int64_t remaining_ms;   /* PAUSED: the frozen remaining time (of the lot or the intermission) */
    int retry;              /* LOT_OPENED: a re-offer of an unsold asset */
    int extended;           /* BID: the anti-snipe rule moved ends_at */
    int sold;               /* LOT_CLOSED: 1 sold, 0 unsold */
    int64_t budget_after;   /* LOT_CLOSED (sold): the winner's remaining budget */
    int next_lot;           /* INTERMISSION: the next lot's number, 0 when none will open */
    engine_reason_t reason; /* COMPLETED */
    int sold_count;         /* COMPLETED: assets owned */
    int unsold_count;       /* COMPLETED: assets not owned (never offered included) */
    uint64_t seed;          /* CREATED: the shuffle seed */
} engine_event_t;

typedef struct {
    engine_event_t ev[ENGINE_MAX_EVENTS];
    int n;
} engine_events_t;

typedef enum {
    ENGINE_CMD_BEGIN = 1,
    ENGINE_CMD_BID,  /* manager, lot, amount */
    ENGINE_CMD_TICK, /* the timer: closes a lot whose ends_at passed, opens the next lot */
    ENGINE_CMD_PAUSE,
    ENGINE_CMD_RESUME,
    ENGINE_CMD_CLOSE_LOT, /* hammer now */
    ENGINE_CMD_UNDO,
    ENGINE_CMD_RESET,
    ENGINE_CMD_END,
} engine_cmd_type_t;

typedef struct {
    engine_cmd_type_t type;
    int manager; /* BID: the bidder's index */
    int lot;     /* BID: the lot number the bidder saw */
    int64_t amount;
} engine_cmd_t;

/* A roster entry of a manager. */
typedef struct {
    int asset;
    int64_t price;
    int lot;
} engine_roster_item_t;

typedef struct {
    int64_t budget_remaining;
    int roster_n;
    engine_roster_item_t *roster; /* roster_size entries, owned by the engine */
} engine_manager_t;

typedef struct {
    int lot, asset, manager; /* manager -1: closed unsold */
    int64_t price;
    int pass;  /* the pass the lot belonged to (undo reverts a re-offer pass that just began) */
    int retry; /* the lot was a re-offer */
} engine_closed_lot_t;

/* The whole state (public for reads; change it only through the functions below). Arrays are
 * allocated by engine_init / engine_replay_init, sized by the auction (a few KiB for a typical
 * league), and released by engine_deinit. */
typedef struct {
    engine_config_t cfg;
    int n_assets;
    int n_managers;
    uint64_t seed;
    engine_status_t status;
    engine_reason_t reason;
    int64_t seq;
    int *order;    /* n_assets: this pass's queue, as asset indexes */
    int order_n;   /* assets in the current pass's queue */
    int order_pos; /* next position of order[] to open */
    int pass;      /* 0 = the first pass, then re-offer passes */
    int *unsold;   /* n_assets: assets closed unsold in the current pass, in order */
    int unsold_n;
    engine_phase_t phase; /* the lot on the block (kept, frozen, while paused) */
    int lot;              /* number of the current (or last) lot; 0 before the first */
    int lot_asset;        /* asset index, -1 when none */
    int lot_retry;
    int leader; /* manager index, -1 when no bid */
    int64_t price;
    int64_t ends_at_ms;          /* lot end (running) or next lot's opening (intermission); 0 while
                                    paused or completed */
    int64_t remaining_ms;        /* while paused: the frozen remaining time */
    engine_phase_t paused_phase; /* while paused: the frozen phase (== phase); else NONE. After an
                                    undo: INTERMISSION with remaining 0 and lot_asset -1 (resume
                                    opens the undone asset as lot + 1 at once) */
    int lot_bids;                /* accepted bids on the current lot */
    int *owner;                  /* n_assets: manager index or -1 */
    int64_t *price_of;           /* n_assets */
    int lots_closed;
    engine_closed_lot_t *history; /* closed lots since the last reset (undone ones removed),
                                     newest last; capacity n_assets x (reoffer_unsold + 1) */
    int history_n, history_cap;
    int completions; /* COMPLETED events applied (for the invariant checks) */
    engine_manager_t managers[ENGINE_MAX_MANAGERS];
} engine_t;

/* engine_deinit releases e's arrays (e may then be initialised again). */
void engine_deinit(engine_t *e);

/* engine_init makes e (uninitialised storage) an auction of n_assets assets (indexes
 * 0..n_assets-1, in the given selection order) and n_managers managers (0..n-1) and appends the
 * CREATED event (seq 1, with seed recorded; the random order is a deterministic shuffle of the
 * selection by seed, e.g. Fisher-Yates over a splitmix64 stream). 0, GV_EINVALID_REQUEST (bad sizes
 * or config) or GV_ENOMEM. */
int engine_init(engine_t *e, const engine_config_t *cfg, int n_assets, int n_managers,
                uint64_t seed, int64_t now_ms, engine_events_t *out);

/* engine_apply validates cmd at now_ms against e; on success appends its events to out (already
 * applied to e) and returns 0; on failure returns a GV_E* code and changes nothing. A TICK
 * that has nothing to do returns 0 with no events. out must have room for ENGINE_CMD_MAX_EVENTS
 * more events (else GV_EINVALID_REQUEST). */
int engine_apply(engine_t *e, const engine_cmd_t *cmd, int64_t now_ms, engine_events_t *out);

/* engine_event_apply applies one event (from engine_apply or from the log) to e. To replay a
 * log, engine_replay_init first, then apply every event in order (CREATED included). Returns 0,
 * or GV_EINVALID_REQUEST (e unchanged) when the event cannot follow this state: seq not e->seq + 1,
 * unknown type, or an index or lot that does not match (a corrupt or foreign log). */
int engine_event_apply(engine_t *e, const engine_event_t *ev);

/* engine_replay_init readies e (uninitialised storage) to replay a log whose CREATED event had cfg,
 * n_assets, n_managers and seed (then apply every event in order, CREATED included). */
int engine_replay_init(engine_t *e, const engine_config_t *cfg, int n_assets, int n_managers,
                       uint64_t seed);

/* engine_next_deadline: the instant the engine needs a TICK (lot end or intermission end), or
 * INT64_MAX when none (waiting, paused, completed). */
int64_t engine_next_deadline(const engine_t *e);

/* engine_min_bid: the lowest acceptable bid on the running lot (minBid without a bid, else
 * price + minIncrement). */
int64_t engine_min_bid(const engine_t *e);

/* engine_max_bid: what manager m may bid at most: budgetRemaining - minBid x (emptySlots - 1);
 * 0 when the roster is full. */
int64_t engine_max_bid(const engine_t *e, int m);

/* engine_queued: assets still waiting to be offered in the current pass, not counting the lot
 * on the block (after completion: assets never offered). */
int engine_queued(const engine_t *e);

/* engine_sold_count / engine_unsold_count: assets owned now / closed unsold and not owned. */
int engine_sold_count(const engine_t *e);
int engine_unsold_count(const engine_t *e);

/* engine_clone makes dst (uninitialised storage) an independent copy of src (its own arrays;
 * release with engine_deinit). 0 or GV_ENOMEM (dst then needs no deinit). */
int engine_clone(engine_t *dst, const engine_t *src);

/* engine_equal compares two engines' observable state (for replay checks): 1 when equal. */
int engine_equal(const engine_t *a, const engine_t *b);

#endif
