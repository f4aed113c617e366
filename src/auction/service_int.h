/* Internals shared by the service's files (service.c: live auctions, commands, commit, timers;
 * service_json.c: events and state as JSON, and back for replay). */
#ifndef GAVEL_AUCTION_SERVICE_INT_H
#define GAVEL_AUCTION_SERVICE_INT_H

#include "api/app.h"
#include "auction/service.h"

#define SVC_ID_MAX 40
#define SVC_ASSET_MAX 64
#define SVC_RING 1024 /* recent events kept per auction for sinceSeq resumes (API: >= 1,000) */

struct auction_live_s {
    char id[SVC_ID_MAX];
    char league_id[SVC_ID_MAX];
    engine_t eng;
    int n_managers;
    char (*managers)[SVC_ID_MAX]; /* index -> user id */
    int n_assets;
    char (*assets)[SVC_ASSET_MAX]; /* index -> asset id */
    json_t **asset_json;           /* index -> Asset object, filled on first use */
    char (*names)[128];            /* manager index -> current name, cached */
    unsigned char *name_ok;        /* manager index -> the cached name is current */
    char currency[4];              /* the league's (locked while the auction exists) */
    int epoch;                     /* resets so far */
    char *ring[SVC_RING];          /* recent committed events (JSON), by seq % SVC_RING */
    int64_t ring_first;            /* the oldest seq held (0: none) */
    int dirty;                     /* has events in the pending batch */
    int presence_dirty;            /* someone joined or left the room this turn */
    engine_status_t status_told;   /* the status the league room was last told of */
    uv_timer_t timer;
    auction_service_t *svc;
    struct auction_live_s *next;        /* the service's list */
    struct auction_live_s *next_id;     /* hash chain by id */
    struct auction_live_s *next_league; /* hash chain by league */
};

typedef struct {
    auction_live_t *live;
    engine_event_t ev;
    char actor[SVC_ID_MAX];
    int epoch;  /* the auction's resets before this event */
    char *json; /* the API event object, owned */
} svc_pending_event_t;

typedef struct {
    auction_done_fn fn;
    void *ctx;
} svc_pending_reply_t;

typedef struct {
    svc_pending_reply_t *v;
    size_t n, cap;
} svc_reply_list_t;

typedef struct {
    char auction[SVC_ID_MAX];
    char user[SVC_ID_MAX];
    char cbid[AUCTION_CBID_MAX];
    char *outcome; /* JSON text, owned */
} svc_pending_outcome_t;

#define SVC_BUCKETS 4096

struct auction_service_s {
    app_t *app;
    auction_live_t *lives;
    auction_live_t *by_id[SVC_BUCKETS];
    auction_live_t *by_league[SVC_BUCKETS];
    uv_check_t commit_hook;
    uv_idle_t wake;
    int stopped;
    int poisoned;              /* an event could not be queued: the next commit fails and reloads */
    auction_live_t **presence; /* rooms whose presence changed this turn */
    size_t n_presence, cap_presence;
    svc_pending_event_t *events;
    size_t n_events, cap_events;
    svc_reply_list_t early; /* answers to commands and reads: right after the commit */
    svc_reply_list_t late;  /* room joins: after the broadcasts */
    svc_pending_outcome_t *outcomes;
    size_t n_outcomes, cap_outcomes;
};

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

/* svc_asset_json: the Asset object of index i (cached; borrowed). */
json_t *svc_asset_json(auction_service_t *svc, auction_live_t *live, int i);

#endif
