/* The bus: messages between Gavel nodes over Redis pub/sub (hiredis's async API on the loop), one
 * connection that publishes and one that subscribes, each reconnecting by itself. Nothing is
 * queued while Redis is away: a publish then fails at once and the caller falls back.
 * hiredis writes with write(2): the process must ignore SIGPIPE (gavel serve does). */
#ifndef GAVEL_NET_BUS_H
#define GAVEL_NET_BUS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct bus_s bus_t;

/* A message received on a subscribed channel (channel without the prefix, NUL-terminated; data
 * is binary, len bytes, with a NUL after them). Both are borrowed for the call only. */
typedef void (*bus_msg_fn)(void *ctx, const char *channel, const char *data, size_t len);

/* Called on the loop when the bus becomes usable (both connections up, Redis answered and every
 * subscription confirmed: up=1) and when it is lost (up=0, once per loss; never before a first
 * up). After an up following a loss, the caller must assume it missed messages. */
typedef void (*bus_state_fn)(void *ctx, int up);

typedef struct {
    uint64_t published;      /* PUBLISHes Redis acknowledged */
    uint64_t publish_failed; /* refused by bus_publish, or lost or refused on the way */
    uint64_t received;       /* messages handed to on_msg */
    uint64_t reconnects;     /* connection attempts after the first, both connections */
} bus_stats_t;

#define BUS_BACKOFF_MIN_MS 100  /* first wait before a reconnect; doubles ... */
#define BUS_BACKOFF_MAX_MS 2000 /* ... up to this; back to the minimum once up */
#define BUS_ATTEMPT_MS 5000     /* an attempt not up by then (look-up, connect, PING) is retried */
#define BUS_NAME_MAX 256        /* the longest prefix or channel name */
#define BUS_PENDING_MAX (8u << 20) /* bytes of publishes not yet acknowledged, at most */

/* bus_new parses url ("redis://HOST:PORT", port default 6379, HOST a name, an IPv4 address or
 * [an IPv6 address]; anything else GV_EINVALID_REQUEST), makes two async connections on loop
 * (one publishes, one subscribes) and starts connecting: the name is looked up on libuv's thread
 * pool, so it never blocks. prefix (e.g. "gavel") is put before every channel name as
 * "PREFIX:NAME". on_msg, on_state and ctx must outlive the bus; on_state may be NULL. Nothing is
 * called back before bus_new returns. 0 (*out is the caller's, freed by bus_close and bus_free)
 * or GV_EINVALID_REQUEST, GV_ELIMIT (prefix too long), GV_ENOMEM. */
int bus_new(bus_t **out, uv_loop_t *loop, const char *url, const char *prefix, bus_msg_fn on_msg,
            bus_state_fn on_state, void *ctx);

/* bus_subscribe adds channel (copied) to the subscriptions, kept and subscribed again after every
 * reconnect; a channel already there is a no-op. While the bus is up the new subscription is sent
 * at once and its messages arrive from Redis's confirmation on; the bus stays up meanwhile.
 * 0, GV_EINVALID_REQUEST (empty, or the bus is closed), GV_ELIMIT (over BUS_NAME_MAX) or
 * GV_ENOMEM (nothing added). */
int bus_subscribe(bus_t *b, const char *channel);

/* bus_publish sends len bytes of data on channel (PUBLISH, binary safe; both are copied). It
 * never blocks: the command is queued on the publishing connection, and counted in published
 * once Redis acknowledges it, in publish_failed if the connection is lost first. GV_EUNAVAILABLE
 * when that connection is not up (the caller falls back; nothing is queued for later), GV_ELIMIT
 * when more than BUS_PENDING_MAX bytes would wait for Redis or the channel is over BUS_NAME_MAX,
 * GV_EINVALID_REQUEST for an empty channel, else 0 or GV_ENOMEM. Every failure counts in
 * publish_failed. */
int bus_publish(bus_t *b, const char *channel, const char *data, size_t len);

/* Told how many subscribers a publish reached (Redis's count: 0 when nobody listens on the
 * channel, e.g. a node that died), or -1 when its connection went before the answer. */
typedef void (*bus_delivered_fn)(void *ctx, uint64_t id, long long receivers);

/* bus_publish_counted is bus_publish that calls fn(ctx, id, receivers) once Redis answered (or
 * the connection went: -1), on the loop, never inside this call; not called when it returns an
 * error. fn may run during bus_close. */
int bus_publish_counted(bus_t *b, const char *channel, const char *data, size_t len,
                        bus_delivered_fn fn, void *ctx, uint64_t id);

/* bus_up: 1 when both connections are up and subscribed, else 0. */
int bus_up(const bus_t *b);

/* The counters, live; valid until bus_free. */
const bus_stats_t *bus_stats(const bus_t *b);

/* bus_close disconnects at once (publishes in flight count as failed) and stops reconnecting; no
 * callback runs after it returns. It may be called from on_msg or on_state. A second call is a
 * no-op. The loop must run once more before bus_free (it closes the bus's handles), and run on
 * (as uv_run(UV_RUN_DEFAULT) does) for an address look-up in flight to free itself. */
void bus_close(bus_t *b);

/* bus_free frees a closed bus after the loop ran (see bus_close). bus_free(NULL) is a no-op. */
void bus_free(bus_t *b);

#endif
