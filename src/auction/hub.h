/* Rooms of WebSocket connections (one per league, one per auction) and fan-out: an event is
 * serialized into one shared frame and queued on every subscriber of its room, and no one else. */
#ifndef GAVEL_AUCTION_HUB_H
#define GAVEL_AUCTION_HUB_H

#include "core/metrics.h"
#include "net/ws.h"

#include <stddef.h>
#include <stdint.h>

#define HUB_ROOM_MAX 64 /* room name bytes, e.g. "league:lg_0123456789abcdef0123" */
#define HUB_USER_MAX 40

typedef struct hub_s hub_t;

/* hub_new makes an empty hub; NULL when out of memory. hub_free releases it (no frames are
 * sent); NULL is a no-op. */
hub_t *hub_new(void);
void hub_free(hub_t *h);

/* hub_join subscribes c (borrowed; call hub_leave_conn before it is freed) as user_id to room.
 * Joining twice is a no-op. 0, GV_ELIMIT (name too long) or GV_ENOMEM. */
int hub_join(hub_t *h, const char *room, ws_conn_t *c, const char *user_id);

/* hub_leave unsubscribes c from room (no-op when not subscribed). */
void hub_leave(hub_t *h, const char *room, ws_conn_t *c);

/* hub_leave_conn unsubscribes c from every room (call when the connection closes). */
void hub_leave_conn(hub_t *h, ws_conn_t *c);

/* hub_kick unsubscribes every connection of user_id from room; returns how many. */
size_t hub_kick(hub_t *h, const char *room, const char *user_id);

/* hub_close_room unsubscribes everyone from room. */
void hub_close_room(hub_t *h, const char *room);

/* hub_publish sends the JSON text to every subscriber of room as one shared frame; returns the
 * number of connections it was queued on (a subscriber over its output cap is closed by the
 * WebSocket layer and not counted). */
size_t hub_publish(hub_t *h, const char *room, const char *json, size_t len);

/* hub_publish_committed is hub_publish for a committed event that became visible at visible_ns
 * (uv_hrtime): when it was queued on at least one subscriber, its fan-out delay runs from then to
 * the next hub_fanout_written. */
size_t hub_publish_committed(hub_t *h, const char *room, const char *json, size_t len,
                             uint64_t visible_ns);

/* hub_fanout_written records, once per event hub_publish_committed queued since the last call,
 * the time from its visible_ns to now_ns (in seconds; call it once the loop's write phase has
 * handed this turn's frames to the sockets). */
void hub_fanout_written(hub_t *h, uint64_t now_ns);

/* hub_fanout_delay: the histogram of those delays (borrowed). */
const metrics_hist_t *hub_fanout_delay(const hub_t *h);

/* hub_room_size counts the subscribers of room. */
size_t hub_room_size(const hub_t *h, const char *room);

/* hub_room_each calls fn with the user of every subscription of room (a user with two
 * connections appears twice). */
void hub_room_each(const hub_t *h, const char *room, void (*fn)(void *ctx, const char *user),
                   void *ctx);

/* hub_user_present: 1 when user_id has at least one connection in room. */
int hub_user_present(const hub_t *h, const char *room, const char *user_id);

#endif
