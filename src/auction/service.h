/* The auction service: live auctions in memory, one timer per auction armed for its next
 * deadline, group commit of every event of a loop turn in one transaction before any reply or
 * broadcast (on a writer thread, so the loop never waits for the disk), and recovery from the
 * event log at start. */
#ifndef GAVEL_AUCTION_SERVICE_H
#define GAVEL_AUCTION_SERVICE_H

#include "auction/engine.h"
#include "auction/hub.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "net/bus.h"
#include "store/store.h"

#include <jansson.h>
#include <uv.h>

typedef struct auction_service_s auction_service_t;
typedef struct auction_live_s auction_live_t;

/* What the service works with (all borrowed; they outlive it). */
typedef struct {
    uv_loop_t *loop;
    store_t *store;        /* the loop's connection: reads, creation, deletion, recovery */
    store_t *commit_store; /* the writer thread's own connection; NULL: commits run on the loop */
    store_t *checkpoint_store; /* a checkpointer thread's own connection (with commit_store):
                                  commits never copy the log back themselves; NULL: they do */
    hub_t *hub;                /* the WebSocket rooms "auction:<id>" and "league:<id>" */
    const gv_clock_t *clock;
    const char *node_id; /* a cluster's node: this one's id (NULL or "": one node alone) */
    int64_t lease_ms;    /* a cluster's node: the lease time of an auction's owner */
    bus_t *bus;          /* a cluster's node: the messages to the other nodes (may be down) */
    store_t *look_store; /* a cluster's node: the periodic look's own connection, used on a thread
                            of the pool (NULL: the look runs on the loop with store) */
} auction_deps_t;

/* Loop-health numbers of the group commit, for /metrics. */
typedef struct {
    metrics_hist_t commit_seconds; /* one transaction of a batch, on the writer */
    metrics_hist_t batch_events;   /* events per committed batch */
    uint64_t commits_failed;
    uint64_t checkpoints;          /* passive checkpoints that copied something (atomic) */
    uint64_t checkpoint_restarts;  /* restart checkpoints: the log started over (atomic) */
    uint64_t checkpoint_catch_ups; /* the writer copied the log's last frames back (atomic) */
    uint64_t release_turns;        /* loop turns that released part of a committed batch */
    uint64_t events_published;     /* committed events broadcast to their rooms */
    struct {
        uint64_t published;          /* events sent to the other nodes */
        uint64_t publish_failed;     /* frames the bus could not take (the store repairs them) */
        uint64_t followed;           /* events of other nodes applied here */
        uint64_t repairs;            /* gaps filled from the store */
        uint64_t bad_messages;       /* frames that were not one */
        uint64_t takes, losses;      /* leases taken; lost to another node */
        metrics_hist_t publish_lag;  /* owner's publish to a follower's receipt (wall clocks) */
        metrics_hist_t look_seconds; /* one periodic look, on the loop */
    } cluster;
} auction_service_stats_t;

/* Called once the commit of a command's events is known: status 0 (durable, now visible) or
 * GV_EUNAVAILABLE (the commit failed; the auction was reloaded from the store). */
typedef void (*auction_done_fn)(void *ctx, int status);

/* auction_service_new makes the service on deps->loop (deps copied; what it points to is
 * borrowed) and starts its writer thread when deps->commit_store is set. 0 or GV_E*. */
int auction_service_new(auction_service_t **out, const auction_deps_t *deps);

/* auction_service_stats: the commit's numbers (borrowed; read on the loop). */
const auction_service_stats_t *auction_service_stats(const auction_service_t *svc);

/* auction_service_recover loads every auction that is not completed from the store (replaying its
 * event log), closes lots whose endsAt passed while the server was down, commits that, and arms
 * the timers (paused auctions stay paused). 0 or GV_E*. */
int auction_service_recover(auction_service_t *svc);

/* auction_service_stop closes the timers, the commit hook and the writer thread (graceful
 * shutdown; pending commits are flushed first). */
void auction_service_stop(auction_service_t *svc);

/* auction_service_free releases everything after the loop stopped. NULL is a no-op. */
void auction_service_free(auction_service_t *svc);

/* auction_service_assets_changed forgets the Asset objects cached for lots and rosters: the
 * catalogue changed (they are read again on next use). */
void auction_service_assets_changed(auction_service_t *svc);

/* auction_service_verify replays the event log of every stored auction and compares the result
 * with the derived rows (status, seq, accepted bids per reset epoch), writing one line per
 * auction to out (a FILE *). *bad counts the auctions that differ. 0 or GV_E*. */
int auction_service_verify(auction_service_t *svc, void *out, int *bad);

/* auction_service_live_count: the auctions held in memory that have begun and not completed
 * (committed status running or paused), for /metrics. */
size_t auction_service_live_count(const auction_service_t *svc);

/* auction_service_idle: 1 when nothing waits for a commit or for its release (tests and
 * tools). */
int auction_service_idle(const auction_service_t *svc);

/* The longest one loop turn spends answering and broadcasting a committed batch, by default
 * (ns); a larger batch goes out over the next turns, in order, so that the reads and bids behind
 * it are not held for long. */
#define AUCTION_RELEASE_BUDGET_NS 1000000

/* auction_service_set_release_budget sets that budget (tests: 0 releases one step of
 * AUCTION_RELEASE_STEP answers or events per turn). */
#define AUCTION_RELEASE_STEP 16
void auction_service_set_release_budget(auction_service_t *svc, uint64_t ns);

/* auction_service_set_log_limits sets the write-ahead log lengths (frames) at which the
 * checkpointer has the log start over, by the writer's catch-up or by a restart checkpoint
 * (tests: a short log; see SVC_CHECKPOINT_CATCH_UP_FRAMES). */
void auction_service_set_log_limits(auction_service_t *svc, int catch_up_frames,
                                    int restart_frames);

/* auction_service_find / _by_league: the live auction, or NULL. */
auction_live_t *auction_service_find(auction_service_t *svc, const char *id);
auction_live_t *auction_service_by_league(auction_service_t *svc, const char *league_id);

/* auction_service_get / _get_by_league find an auction, loading it from the store when it is
 * not in memory (a completed auction after a restart). 0, GV_ENOT_FOUND or GV_E*. */
int auction_service_get(auction_service_t *svc, const char *id, auction_live_t **out);
int auction_service_get_by_league(auction_service_t *svc, const char *league_id,
                                  auction_live_t **out);

/* auction_service_after_publish is auction_service_after_commit for room joins: done runs after
 * the committed events were broadcast (so a snapshot taken then includes them and the joiner
 * receives none of them twice). */
void auction_service_after_publish(auction_service_t *svc, auction_done_fn done, void *ctx);

/* auction_service_create builds the auction of league_id (the league's selection and its
 * commissioner and managers, a random seed), stores it with its first event and makes it live.
 * GV_ECONFLICT: the league has one (the store's unique key); GV_ESELECTION_TOO_SMALL: fewer
 * assets selected than rosterSize; GV_ELIMIT: more than ENGINE_MAX_ASSETS. 0 or GV_E*. */
int auction_service_create(auction_service_t *svc, const char *league_id, const char *actor_id,
                           auction_live_t **out);

/* auction_service_command applies cmd for actor_id (a user id) now. A refusal (GV_E*) is
 * returned at once and nothing changes; on 0 the events are pending and done(ctx, status) runs
 * after the group commit (never before this call returns). */
int auction_service_command(auction_service_t *svc, auction_live_t *live, const engine_cmd_t *cmd,
                            const char *actor_id, auction_done_fn done, void *ctx);

/* auction_service_fail_turn makes the pending commit fail on purpose: nothing of this loop turn
 * becomes durable or visible, every waiting answer gets GV_EUNAVAILABLE, and live (and every
 * auction with pending events) is reloaded from the store. For a command whose effects were
 * applied but whose companions (its recorded outcome) could not be queued. */
void auction_service_fail_turn(auction_service_t *svc, auction_live_t *live);

/* auction_service_after_commit runs done(ctx, 0) after the pending commit (or at once when nothing
 * is pending): reads use it so they never show what is not yet durable. */
void auction_service_after_commit(auction_service_t *svc, auction_done_fn done, void *ctx);

#define AUCTION_CBID_MAX 80 /* clientBidId bytes */

/* auction_service_outcome_get copies the first recorded outcome (JSON text) of a clientBidId of
 * user in the auction into out (size n): pending ones (this turn) included. 0 or GV_ENOT_FOUND. */
int auction_service_outcome_get(auction_service_t *svc, const char *auction_id, const char *user,
                                const char *cbid, char *out, size_t n);

/* auction_service_outcome_put records a bid's outcome; it is written in the same transaction as
 * the bid's events (the next group commit): seq > 0 for an accepted bid (the outcome is kept on
 * the row of the bid at seq), 0 for a refusal (a row of its own). 0 or GV_ENOMEM. */
int auction_service_outcome_put(auction_service_t *svc, const char *auction_id, const char *user,
                                const char *cbid, int64_t seq, const char *outcome);

/* auction_service_missed calls fn for every committed event of live with seq > since, in order,
 * when there are at most SVC_RESUME_MAX of them (at least 1,000): the recent ones from memory,
 * older ones read from the log. GV_ENOT_FOUND when there are more or some cannot be read (the
 * caller sends a snapshot instead); fn is called for none of them then. */
int auction_service_missed(auction_service_t *svc, auction_live_t *live, int64_t since,
                           void (*fn)(void *ctx, const char *json, size_t len), void *ctx);

/* auction_service_presence_changed schedules a `presence` event for live's room (coalesced: one
 * per loop turn however many joined or left). */
void auction_service_presence_changed(auction_service_t *svc, auction_live_t *live);

/* auction_service_delete removes a live auction (broadcasting auction_deleted) and its rows. */
int auction_service_delete(auction_service_t *svc, auction_live_t *live);

/* auction_service_state builds the AuctionState object (a new reference). */
json_t *auction_service_state(auction_service_t *svc, auction_live_t *live);

/* Accessors for the API layer. auction_live_engine is the committed state (what every reader
 * may see); auction_live_working is the state commands are decided on, ahead of it by what
 * waits for the commit (for explaining a refusal to the one who was refused). The epoch is the
 * committed one. */
const char *auction_live_id(const auction_live_t *live);
const char *auction_live_league(const auction_live_t *live);
const engine_t *auction_live_engine(const auction_live_t *live);
const engine_t *auction_live_working(const auction_live_t *live);
int auction_live_epoch(const auction_live_t *live);

/* auction_live_manager: the manager index of user_id, or -1. */
int auction_live_manager(const auction_live_t *live, const char *user_id);

/* auction_live_asset_id: the asset id of index i. */
const char *auction_live_asset_id(const auction_live_t *live, int i);

/* auction_live_currency: the league's currency code (for messages). */
const char *auction_live_currency(const auction_live_t *live);

/* auction_service_user_renamed forgets the cached name of user_id in every live auction. */
void auction_service_user_renamed(auction_service_t *svc, const char *user_id);

/* auction_live_manager_id: the user id of manager index i. */
const char *auction_live_manager_id(const auction_live_t *live, int i);

/* auction_live_asset_status: the auction status of asset_id ("available", "on_block", "sold",
 * "unsold"); for sold ones *owner (user id, borrowed) and *price. */
const char *auction_live_asset_status(const auction_live_t *live, const char *asset_id,
                                      const char **owner, int64_t *price);

/* auction_service_owner: 0 when this node runs live (alone; its lease holder; or it just took
 * the lease of an owner that is gone), 1 with the owner node's id in owner (size n) when another
 * node does (forward commands to it), GV_EUNAVAILABLE when that cannot be told now. */
int auction_service_owner(auction_service_t *svc, auction_live_t *live, char *owner, size_t n);

/* auction_service_leases_held: the auctions this node runs as a cluster's node. */
size_t auction_service_leases_held(const auction_service_t *svc);

/* auction_service_cluster_events applies a frame of another node's committed events (bus
 * channel "ev"); auction_service_cluster_deleted drops an auction another node deleted (channel
 * "del"); auction_service_cluster_bus_up repairs every follower after the bus came back. */
void auction_service_cluster_events(auction_service_t *svc, const char *data, size_t len);
void auction_service_cluster_deleted(auction_service_t *svc, const char *auction_id);
void auction_service_cluster_bus_up(auction_service_t *svc);

/* auction_service_cluster_presence takes another node's word on who it has in an auction's room
 * (bus channel "pr"): presence events here count them too, until that node's word runs out. */
void auction_service_cluster_presence(auction_service_t *svc, const char *data, size_t len);

/* auction_live_asset_index: the index of asset_id in the auction, or -1. */
int auction_live_asset_index(const auction_live_t *live, const char *asset_id);

#endif
