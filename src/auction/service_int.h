/* Internals shared by the service's files: service.c (live auctions, commands, timers, create
 * and delete), service_commit.c (the group commit, its writer thread, idempotency outcomes and
 * the broadcasts), service_load.c (building a live auction from its log, recovery),
 * service_check.c (`gavel check`) and service_json.c (events and state as JSON). */
#ifndef GAVEL_AUCTION_SERVICE_INT_H
#define GAVEL_AUCTION_SERVICE_INT_H

#include "auction/hub.h"
#include "auction/service.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "store/store.h"

#define SVC_ID_MAX 40
#define SVC_ASSET_MAX 64
#define SVC_RING 64         /* recent events kept in memory per auction: most sinceSeq resumes */
#define SVC_RESUME_MAX 1024 /* the most events a sinceSeq resume replays (API: >= 1,000) */

/* Who another node of a cluster has in an auction's room (its last word on it). */
typedef struct {
    char node[STORE_NODE_MAX];
    int64_t until_ms; /* monotonic: forgotten then (a node that died says nothing more) */
    int spectators;
    unsigned char online[ENGINE_MAX_MANAGERS];
} svc_peer_presence_t;

struct auction_live_s {
    char id[SVC_ID_MAX];
    char league_id[SVC_ID_MAX];
    engine_t eng;  /* the working state: every command is decided on it at once */
    engine_t view; /* the committed state: what every reader sees (eng minus what is pending) */
    int n_managers;
    char (*managers)[SVC_ID_MAX]; /* index -> user id (fixed for the auction's life) */
    int n_assets;
    char (*assets)[SVC_ASSET_MAX]; /* index -> asset id (fixed for the auction's life) */
    char (*names)[128];            /* manager index -> current name, cached */
    unsigned char *name_ok;        /* manager index -> the cached name is current */
    char currency[4];              /* the league's (locked while the auction exists) */
    int epoch;                     /* resets so far in eng */
    int view_epoch;                /* resets so far in view */
    char *ring[SVC_RING];          /* recent committed events (JSON), by seq % SVC_RING */
    int64_t ring_first;            /* the oldest seq held (0: none) */
    int dirty;                     /* eng is ahead of the store (pending events, or broken) */
    uint64_t pending_gen;          /* the newest batch holding events of it */
    uint64_t row_gen;              /* the batch whose auction-row update covers it */
    int presence_dirty;            /* someone joined or left the room this turn */
    engine_status_t status_told;   /* the status the league room was last told of */
    uv_timer_t timer;
    int follower;               /* cluster: another node runs it; this copy follows its log */
    int64_t lease_epoch;        /* cluster, run here: the epoch of this node's lease */
    uint64_t lease_round;       /* cluster: the last renewal that found its lease */
    char owner[STORE_NODE_MAX]; /* cluster, follower: the node running it ("": unknown or none) */
    int64_t owner_until_ms;     /* cluster, follower: owner is known until then (monotonic ms) */
    int64_t followed_ms;        /* cluster, follower: when it last took events (monotonic ms) */
    svc_peer_presence_t *peers; /* cluster: the other nodes' part of the room */
    int n_peers;
    int presence_local; /* cluster: its room here changed: the other nodes are told */
    auction_service_t *svc;
    struct auction_live_s *next;        /* the service's list */
    struct auction_live_s *next_id;     /* hash chain by id */
    struct auction_live_s *next_league; /* hash chain by league */
};

/* One event waiting for its commit. The writer thread reads live's id, managers and assets
 * (fixed while the auction lives; a live auction is never freed while a batch holding its
 * events is being written). */
typedef struct {
    auction_live_t *live;
    engine_event_t ev;
    char actor[SVC_ID_MAX];
    int epoch;  /* the auction's resets before this event */
    char *json; /* the API event object, owned */
} svc_pending_event_t;

/* An auction's derived row as of the end of a batch. */
typedef struct {
    auction_live_t *live;
    const char *status; /* static */
    int64_t seq;
    int64_t lease_epoch; /* cluster: the lease the write is fenced by (0: not fenced) */
} svc_pending_row_t;

typedef struct {
    auction_done_fn fn;
    void *ctx;
} svc_pending_reply_t;

typedef struct {
    svc_pending_reply_t *v;
    size_t n, cap;
} svc_reply_list_t;

/* A recorded bid outcome waiting for its commit; also in the service's lookup table until the
 * commit is known (then the store answers). */
typedef struct svc_outcome_s {
    struct svc_outcome_s *next_hash;
    uint64_t hash;
    char auction[SVC_ID_MAX];
    char user[SVC_ID_MAX];
    char cbid[AUCTION_CBID_MAX];
    char *outcome; /* JSON text, owned */
    int64_t seq;   /* > 0: the accepted bid's seq (kept on its row); 0: a refusal */
} svc_outcome_t;

/* What one commit writes and who waits for it. The writer thread touches only events, rows,
 * outcomes, now_ms, poisoned (read) and rc, commit_us, visible_ns (written). */
typedef struct {
    uint64_t gen; /* 1, 2, ... in commit order */
    svc_pending_event_t *events;
    size_t n_events, cap_events;
    svc_pending_row_t *rows;
    size_t n_rows, cap_rows;
    svc_outcome_t **outcomes;
    size_t n_outcomes, cap_outcomes;
    int64_t now_ms;
    const char *node;       /* cluster: this node's id, for the fence (NULL: one node alone) */
    int poisoned;           /* an event could not be queued: the commit fails and reloads */
    svc_reply_list_t early; /* answers to commands and reads: right after the commit */
    svc_reply_list_t late;  /* room joins: after the broadcasts */
    int rc;                 /* the commit's result */
    int64_t commit_us;      /* its duration */
    uint64_t visible_ns;    /* when it ended (uv_hrtime): the fan-out delay starts there */
} svc_batch_t;

/* The writer thread: takes one batch at a time (job), writes it in one transaction on its own
 * store connection and hands it back (done) through an async handle. */
typedef struct {
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cv;
    uv_async_t async;
    store_t *st;
    svc_batch_t *job;    /* handed over, being written */
    svc_batch_t *done;   /* written, not yet taken back */
    int catch_up;        /* set by the checkpointer: copy the log's last frames back (atomic) */
    uint64_t *catch_ups; /* the service's stats.checkpoint_catch_ups */
    int quit;
    int running;
} svc_writer_t;

/* The checkpointer: copies the write-ahead log back into the database on its own thread and
 * connection (passive: no commit waits for its lock). It looks every SVC_CHECKPOINT_MS and
 * copies when the writer's commits appended SVC_CHECKPOINT_FRAMES frames to the log since its
 * last complete copy (a fifth of a second of the throughput scenario, 0.15 s of seed stress),
 * or when something was committed and SVC_CHECKPOINT_IDLE_MS passed: each copy ends with a
 * sync of the database file, which a commit's own sync then waits behind on the disk, so a
 * light load is copied every 3 s: at once a second, seed-paced's slowest bids were the ones
 * behind a copy (up to 14 ms, and a run's p99 up to 4.1 ms); every 3 s, its slowest bid was
 * 4.5-8.8 ms and no run's p99 passed 2.6 ms (8 interleaved pairs). A copy that a reader kept
 * from finishing is tried again at the next look.
 *
 * A steady stream of commits never lets a passive checkpoint copy the whole log, so the log
 * never starts over by itself. Once it is the catch-up length (SVC_CHECKPOINT_CATCH_UP_FRAMES)
 * and a copy got all it saw, the checkpointer copies again what was committed meanwhile, up to
 * SVC_CHECKPOINT_PASSES times while that is SVC_CHECKPOINT_PASS_MIN frames or more, and then
 * the writer copies the last few frames itself before its next commit, which starts the log
 * over. That catch-up holds the writer (its database sync above all: 2-4 ms under seed stress),
 * so it is rare: at 256 MiB, about every 2 s of the throughput scenario and 2.6 s of seed stress.
 * At 32 MiB it came three times a second of seed stress and was 3 ms of its round trip p99
 * (12.4 against 9.6 with it left out). The log file keeps its length once it has it (SQLite's
 * journal_size_limit is larger), so a commit overwrites blocks the file already has and its sync
 * needs no change to the file system's metadata. Past the restart length (the writer idle while
 * other connections commit, or a long reader), a restart checkpoint copies what is left while
 * every writer waits, and the log starts over. */
#define SVC_CHECKPOINT_MS 200
#define SVC_CHECKPOINT_IDLE_MS 3000
#define SVC_CHECKPOINT_FRAMES 4096           /* 16 MiB of 4 KiB pages */
#define SVC_CHECKPOINT_CATCH_UP_FRAMES 65536 /* 256 MiB */
#define SVC_CHECKPOINT_RESTART_FRAMES 131072 /* 512 MiB: STORE_SQLITE_LOG_LIMIT */
#define SVC_CHECKPOINT_PASSES 3
#define SVC_CHECKPOINT_PASS_MIN 64
typedef struct {
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cv;
    store_t *st;
    uint64_t *count;     /* the service's stats.checkpoints */
    uint64_t *restarts;  /* and stats.checkpoint_restarts */
    int *catch_up;       /* the writer's catch_up flag */
    store_t *log;        /* the writer's store, whose store_log_appended it reads */
    int catch_up_frames; /* SVC_CHECKPOINT_CATCH_UP_FRAMES (atomic: tests set it) */
    int restart_frames;  /* SVC_CHECKPOINT_RESTART_FRAMES (atomic) */
    int quit;
    int running;
} svc_checkpointer_t;

#define SVC_BUCKETS 4096

struct auction_service_s {
    auction_deps_t deps;
    auction_live_t *lives;
    auction_live_t *by_id[SVC_BUCKETS];
    auction_live_t *by_league[SVC_BUCKETS];
    uv_check_t commit_hook;
    uv_idle_t wake;
    int stopped;
    auction_live_t **presence; /* rooms whose presence changed this turn */
    size_t n_presence, cap_presence;
    svc_batch_t *cur;       /* filling: this turn's events */
    svc_batch_t *inflight;  /* being written by the writer thread (or NULL) */
    svc_batch_t *spare;     /* a finished batch kept for its arrays (fewer large allocations) */
    svc_batch_t *releasing; /* committed, its answers and broadcasts going out (or NULL) */
    size_t rel_reply, rel_event; /* the next early reply and event of releasing to go out */
    uint64_t release_budget_ns;  /* the longest one loop turn spends on releasing */
    uint64_t next_gen;
    svc_writer_t writer;
    svc_checkpointer_t checkpointer;
    svc_outcome_t *outcome_index[SVC_BUCKETS]; /* outcomes of cur, inflight and releasing */
    uint64_t *seen; /* Bloom filter of the outcome keys that may be in the store (NULL: ask it) */
    json_t *assets; /* asset id -> Asset object, filled on first use, shared by every auction */
    auction_service_stats_t stats;
    uv_timer_t cluster_timer; /* cluster: renews leases, takes free ones, repairs followers */
    int cluster_timer_on;
    uint64_t lease_round;
    uint64_t look_round; /* cluster: looks so far */
    int look_busy;       /* cluster: a look reads the store on the pool */
};

/* ---- service.c ---- */

/* svc_grow makes room for one more element of size sz in *arr (n used of *cap). 0 or GV_ENOMEM. */
int svc_grow(void **arr, size_t *cap, size_t n, size_t sz);

/* svc_live_alloc allocates a live auction with id slots (not linked, no timer, no engine). */
auction_live_t *svc_live_alloc(int n_assets, int n_managers);

/* svc_live_free frees an unlinked live auction (its engines when inited). */
void svc_live_free(auction_live_t *live);

/* svc_live_link puts live (engines ready) in the service's tables and inits its timer. */
void svc_live_link(auction_service_t *svc, auction_live_t *live);

/* svc_live_drop unlinks live and frees it once its timer handle is closed. */
void svc_live_drop(auction_service_t *svc, auction_live_t *live);

/* svc_timer_arm arms live's timer for its next deadline (or stops it). */
void svc_timer_arm(auction_live_t *live);

/* svc_view_reset makes live's view a copy of its working engine (after a load or a reload,
 * when nothing of it is pending). 0 or GV_ENOMEM. */
int svc_view_reset(auction_live_t *live);

/* ---- service_commit.c ---- */

/* svc_commit_init / _start / _stop / _free: the commit machinery's lifetime (the writer thread
 * runs only when deps.commit_store is set; without it commits run on the loop). */
void svc_commit_init(auction_service_t *svc);
int svc_commit_start(auction_service_t *svc);
void svc_commit_stop(auction_service_t *svc);
void svc_commit_free(auction_service_t *svc);

/* svc_queue_events queues the events of one command (already applied to live's engine). 0 or
 * GV_ENOMEM. */
int svc_queue_events(auction_service_t *svc, auction_live_t *live, const engine_events_t *evs,
                     const char *actor);

/* svc_commit_now commits everything pending before returning (waits for the writer thread),
 * running the replies and broadcasts: for deletion, recovery and shutdown. */
void svc_commit_now(auction_service_t *svc);

/* svc_checkpoint_due: 1 when the checkpointer copies the log now, given the frames the writer
 * appended in all and at its last complete copy, and the time (ns) now and then. */
int svc_checkpoint_due(uint64_t frames, uint64_t frames_then, uint64_t ns, uint64_t ns_then);

/* svc_wake keeps the loop from blocking in poll while something waits for the commit. */
void svc_wake(auction_service_t *svc);

/* svc_outcomes_known adds every outcome key the store holds for live to the service's filter
 * (when an auction is loaded). 0 or GV_E*. */
int svc_outcomes_known(auction_service_t *svc, auction_live_t *live);

/* svc_live_reload replays l from the store (its pending events, or its follower's copy, are
 * void) and arms its timer; an auction that cannot be reloaded is taken offline (dropped). 0 or
 * the failure's GV_E*. */
int svc_live_reload(auction_service_t *svc, auction_live_t *l);

/* svc_presence_schedule publishes live's presence at the end of this turn (coalesced). */
void svc_presence_schedule(auction_service_t *svc, auction_live_t *live);

/* svc_ring_push keeps a committed event in live's ring of recent events (a copy of json);
 * svc_ring_take keeps json itself (taken: the ring frees it). */
void svc_ring_push(auction_live_t *live, int64_t seq, const char *json);
void svc_ring_take(auction_live_t *live, int64_t seq, char *json);

/* ---- service_load.c ---- */

/* svc_live_load makes a live auction of a stored row by replaying its log (linked). 0 or GV_E*. */
int svc_live_load(auction_service_t *svc, const store_auction_t *row, auction_live_t **out);

/* svc_replay rebuilds live's engine (uninitialised storage) from the log of row. 0 or GV_E*. */
int svc_replay(auction_service_t *svc, auction_live_t *live, const store_auction_t *row);

/* svc_config_json / svc_config_parse: the engine configuration as stored with the auction. */
json_t *svc_config_json(const engine_config_t *c);
int svc_config_parse(const char *text, engine_config_t *c);

/* ---- service_json.c ---- */

/* svc_event_json builds the API event object of ev in live (a new reference). */
json_t *svc_event_json(auction_service_t *svc, auction_live_t *live, const engine_event_t *ev);

/* svc_event_parse turns a stored event object back into an engine event of live. 0 or
 * GV_EINVALID_REQUEST. */
int svc_event_parse(const auction_live_t *live, json_t *obj, engine_event_t *ev);

/* svc_presence_json builds the presence event of live: online managers and spectators online
 * (connections of non-managers). *spectators receives the count. A new reference. */
json_t *svc_presence_json(auction_service_t *svc, auction_live_t *live, int *spectators);

/* svc_manager_name: the current name of manager m (cached until a rename; "" if unknown). */
const char *svc_manager_name(auction_service_t *svc, auction_live_t *live, int m);

/* svc_asset_json: the Asset object of live's asset i, borrowed from the service's cache (one per
 * asset for every auction, so memory stays bounded by the catalogue however many lots open);
 * NULL when out of memory. */
json_t *svc_asset_json(auction_service_t *svc, auction_live_t *live, int i);

/* svc_tell_league tells the league room live's committed status when it changed. */
void svc_tell_league(auction_service_t *svc, auction_live_t *live);

/* svc_live_gone tells live's room it was deleted, closes the room and drops live. */
void svc_live_gone(auction_service_t *svc, auction_live_t *live);

/* ---- service_cluster.c ---- */

/* svc_cluster_presence_merge adds the other nodes' part of live's room (those not forgotten) to
 * online (by manager index) and *spectators. */
void svc_cluster_presence_merge(auction_service_t *svc, auction_live_t *live, int *online,
                                int *spectators);

/* svc_cluster_peer_online: 1 when another node (whose word has not run out) has manager m of
 * live in its room. */
int svc_cluster_peer_online(const auction_live_t *live, int m);

/* svc_cluster_presence_tell tells the other nodes who this one has in live's room. */
void svc_cluster_presence_tell(auction_service_t *svc, auction_live_t *live, const int *online,
                               int spectators);

/* svc_presence_local counts who this node has in live's room: online by manager index (size
 * ENGINE_MAX_MANAGERS, zeroed first) and *spectators. */
void svc_presence_local(auction_service_t *svc, auction_live_t *live, int *online, int *spectators);

/* svc_clustered: 1 when the service runs as a node of a cluster (deps.node_id set). */
int svc_clustered(const auction_service_t *svc);

/* svc_cluster_start / _stop: the periodic look at the leases (stop also hands this node's leases
 * back, after the last commit). No-ops alone. 0 or GV_E*. */
int svc_cluster_start(auction_service_t *svc);
void svc_cluster_stop(auction_service_t *svc);

/* svc_cluster_look renews this node's leases (losing the ones another node took), takes free and
 * expired ones, and repairs followers from the store. */
void svc_cluster_look(auction_service_t *svc);

/* svc_cluster_publish publishes the committed events of b to the other nodes (one frame per run
 * of events of one auction); a failure is counted, the followers repair from the store. */
void svc_cluster_publish(auction_service_t *svc, const svc_batch_t *b);

/* svc_cluster_rewind takes a live whose working state went ahead of what it committed (a failed
 * commit) back to its committed view, then on to what the log holds now (another node may have
 * committed since: those events go to its clients, in order), and arms its timer. 0 or GV_E*. */
int svc_cluster_rewind(auction_service_t *svc, auction_live_t *l);

/* svc_cluster_loaded makes a freshly loaded auction a follower (in a cluster). */
void svc_cluster_loaded(auction_service_t *svc, auction_live_t *l);

/* svc_cluster_created takes the lease of an auction this node just created (in a cluster; a
 * follower when that fails). 0 or GV_E*. */
int svc_cluster_created(auction_service_t *svc, auction_live_t *l);

/* svc_cluster_recover_one: at start, 1 when this node runs l (alone, or it took its lease), 0
 * when another node does (l stays a follower). */
int svc_cluster_recover_one(auction_service_t *svc, auction_live_t *l);

/* svc_publish_json publishes o (taken; NULL: nothing is sent) to the room kind:id. */
void svc_publish_json(auction_service_t *svc, const char *kind, const char *id, json_t *o);

#endif
