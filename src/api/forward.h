/* A cluster's commands between nodes: a bid or a control that reaches a node that does not run
 * the auction is sent to the node that does (over the bus, channel "node:<owner>"), which decides
 * it as its own and answers on "node:<sender>"; the sender answers its client. The sender has
 * checked who may do it (the owner trusts its peers: the bus is the cluster's own). */
#ifndef GAVEL_API_FORWARD_H
#define GAVEL_API_FORWARD_H

#include "api/app.h"
#include "api/bid_outcome.h"
#include "api/bids.h"
#include "auction/engine.h"

#include <stddef.h>

#define FWD_TIMEOUT_MS 5000 /* an owner that does not answer by then: 503, the client retries */

/* The answer to a forwarded bid: its outcome (a 503 one when the owner could not be reached or
 * did not answer). */
typedef void (*fwd_bid_fn)(void *ctx, const bid_outcome_t *o);

/* The answer to a forwarded control: 0 and the AuctionState's text (borrowed for the call), or a
 * GV_E* refusal (text NULL). */
typedef void (*fwd_control_fn)(void *ctx, int rc, const char *state, size_t len);

/* api_forward_bus_new makes app->bus when this is a cluster's node (--node-id; before the
 * auction service, which publishes on it) and subscribes to the events, deletions and this
 * node's channel; a no-op alone. 0 or GV_E*. */
int api_forward_bus_new(app_t *app);

/* api_forward_free releases the forwarding state and the bus (closed before). */
void api_forward_free(app_t *app);

/* api_forward_start makes the table of forwarded commands (a no-op alone); api_forward_stop fails
 * every forwarded command still waiting (GV_EUNAVAILABLE) and closes their timers. 0 or GV_E*. */
int api_forward_start(app_t *app);
void api_forward_stop(app_t *app);

/* api_forward_bid sends b for auction_id to node owner; done runs exactly once, later (never
 * inside this call). */
void api_forward_bid(app_t *app, const char *owner, const char *auction_id, const api_bid_t *b,
                     fwd_bid_fn done, void *ctx);

/* api_forward_control sends control t by user_id for auction_id to node owner; done runs exactly
 * once, later. */
void api_forward_control(app_t *app, const char *owner, const char *auction_id, engine_cmd_type_t t,
                         const char *user_id, fwd_control_fn done, void *ctx);

/* api_forward_message handles a message on this node's channel: a command to decide here, or the
 * answer to one this node sent. Malformed ones are counted and dropped. */
void api_forward_message(app_t *app, const char *data, size_t len);

/* api_forward_league tells the other nodes' league room of league_id what this node did to its
 * own: an event's text (NULL: none), a user kicked (NULL: none), the room closed (close). A no-op
 * alone; lost while the bus is down. */
void api_forward_league(app_t *app, const char *league_id, const char *text, const char *kick,
                        int close);

/* api_forward_dispatch handles a message of the bus on channel: committed events ("ev"), a
 * deleted auction ("del"), presence ("pr"), a league room's word ("lg"), a rate-limit take
 * ("rl"), or this node's commands and answers ("node:<id>"). Anything malformed is counted and
 * dropped. */
void api_forward_dispatch(app_t *app, const char *channel, const char *data, size_t len);

/* api_forward_metrics appends the forwarding counters to a /metrics body. 0 or GV_ENOMEM. */
int api_forward_metrics(app_t *app, buf_t *out);

#endif
