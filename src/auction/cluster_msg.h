/* The texts nodes of a cluster send each other over the bus: committed events of an auction, in
 * a frame that carries each event's JSON text byte for byte (what a node's own clients receive
 * is what the owner's received). Pure functions: no I/O. */
#ifndef GAVEL_AUCTION_CLUSTER_MSG_H
#define GAVEL_AUCTION_CLUSTER_MSG_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

#define CLUSTER_ID_MAX 40 /* auction id bytes, with the NUL */

/* A frame's header: "E <auction id> <sent_us> <count>\n", then count times "<len> <json>\n". */
typedef struct {
    char auction[CLUSTER_ID_MAX];
    int64_t sent_us; /* the owner's wall clock when it published (publish lag) */
    size_t count;
} cluster_events_t;

/* cluster_events_begin appends a frame's header to out; cluster_events_add appends one event's
 * text. The count given to begin must be the number of adds. 0 or GV_ENOMEM. */
int cluster_events_begin(buf_t *out, const char *auction_id, int64_t sent_us, size_t count);
int cluster_events_add(buf_t *out, const char *json, size_t len);

/* Called per event of a frame, in order; a non-zero return stops the walk and is returned. */
typedef int (*cluster_event_fn)(void *ctx, const char *json, size_t len);

/* cluster_events_read checks the whole frame data[0..len) first (header, lengths, separators,
 * nothing after the last event), fills *h, then calls fn for each event (NULL fn: only checks).
 * 0, fn's non-zero, or GV_EINVALID_REQUEST for a frame that is not one (fn never called). */
int cluster_events_read(const char *data, size_t len, cluster_events_t *h, cluster_event_fn fn,
                        void *ctx);

/* Who one node has in an auction's room: "P <auction id> <node id> <spectators> <managers>\n",
 * managers a comma-separated list of manager indexes online there, or "-" for none. */
#define CLUSTER_NODE_MAX 64 /* node id bytes, with the NUL */
#define CLUSTER_MANAGERS_MAX 64
typedef struct {
    char auction[CLUSTER_ID_MAX];
    char node[CLUSTER_NODE_MAX];
    int spectators;
    unsigned char online[CLUSTER_MANAGERS_MAX]; /* by manager index: 1 online */
} cluster_presence_t;

/* cluster_presence_write appends p's frame to out (managers beyond n_managers ignored). 0 or
 * GV_ENOMEM. cluster_presence_read reads one into *p: 0 or GV_EINVALID_REQUEST. */
int cluster_presence_write(buf_t *out, const cluster_presence_t *p, int n_managers);
int cluster_presence_read(const char *data, size_t len, cluster_presence_t *p);

#endif
