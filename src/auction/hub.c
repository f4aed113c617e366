/* Hub: a hash table of rooms, each an array of (connection, user) subscribers; each connection
 * also keeps the list of its rooms so that closing it is O(its rooms). */
#include "auction/hub.h"

#include "core/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HUB_BUCKETS 4096

typedef struct {
    ws_conn_t *conn;
    char user[HUB_USER_MAX];
} hub_sub_t;

typedef struct hub_room_s {
    char name[HUB_ROOM_MAX];
    hub_sub_t *subs;
    size_t n, cap;
    struct hub_room_s *next; /* bucket chain */
} hub_room_t;

/* The rooms of one connection (a short list: a client joins a league and an auction). */
typedef struct hub_conn_s {
    ws_conn_t *conn;
    hub_room_t **rooms;
    size_t n, cap;
    struct hub_conn_s *next;
} hub_conn_t;

/* Events queued whose frames may not have reached the sockets yet: those of one commit share its
 * visible time. A turn sees one or two commits; beyond HUB_FANOUT_PENDING distinct ones, the later
 * ones count from the last kept (an earlier time: a longer delay than theirs, never less). */
#define HUB_FANOUT_PENDING 8
typedef struct {
    uint64_t visible_ns;
    uint64_t events;
} hub_fanout_t;

struct hub_s {
    hub_room_t *rooms[HUB_BUCKETS];
    hub_conn_t *conns[HUB_BUCKETS];
    hub_fanout_t pending[HUB_FANOUT_PENDING];
    size_t n_pending;
    metrics_hist_t fanout_delay;
};

static size_t hub_hash_str(const char *s)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return (size_t)(h % HUB_BUCKETS);
}

static size_t hub_hash_ptr(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15u;
    return (size_t)((h >> 20) % HUB_BUCKETS);
}

hub_t *hub_new(void)
{
    hub_t *h = calloc(1, sizeof(hub_t));
    if (h)
        metrics_hist_init(&h->fanout_delay, metrics_latency_bounds, metrics_latency_nbounds);
    return h;
}

void hub_free(hub_t *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < HUB_BUCKETS; i++) {
        for (hub_room_t *r = h->rooms[i], *next; r; r = next) {
            next = r->next;
            free(r->subs);
            free(r);
        }
        for (hub_conn_t *c = h->conns[i], *next; c; c = next) {
            next = c->next;
            free(c->rooms);
            free(c);
        }
    }
    free(h);
}

static hub_room_t *hub_room_find(const hub_t *h, const char *name)
{
    for (hub_room_t *r = h->rooms[hub_hash_str(name)]; r; r = r->next)
        if (strcmp(r->name, name) == 0)
            return r;
    return NULL;
}

static hub_conn_t *hub_conn_find(const hub_t *h, const ws_conn_t *c)
{
    for (hub_conn_t *e = h->conns[hub_hash_ptr(c)]; e; e = e->next)
        if (e->conn == c)
            return e;
    return NULL;
}

/* Grows an array of elements of size sz to hold one more. 0 or GV_ENOMEM. */
static int hub_grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *p = realloc(*arr, ncap * sz);
    if (!p)
        return GV_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

static hub_room_t *hub_room_get(hub_t *h, const char *name)
{
    hub_room_t *r = hub_room_find(h, name);
    if (r)
        return r;
    r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    memcpy(r->name, name, strlen(name) + 1);
    size_t b = hub_hash_str(name);
    r->next = h->rooms[b];
    h->rooms[b] = r;
    return r;
}

static hub_conn_t *hub_conn_get(hub_t *h, ws_conn_t *c)
{
    hub_conn_t *e = hub_conn_find(h, c);
    if (e)
        return e;
    e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->conn = c;
    size_t b = hub_hash_ptr(c);
    e->next = h->conns[b];
    h->conns[b] = e;
    return e;
}

static void hub_room_unlink(hub_t *h, hub_room_t *r)
{
    hub_room_t **pp = &h->rooms[hub_hash_str(r->name)];
    while (*pp != r)
        pp = &(*pp)->next;
    *pp = r->next;
    free(r->subs);
    free(r);
}

static void hub_conn_unlink(hub_t *h, hub_conn_t *e)
{
    hub_conn_t **pp = &h->conns[hub_hash_ptr(e->conn)];
    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    free(e->rooms);
    free(e);
}

int hub_join(hub_t *h, const char *room, ws_conn_t *c, const char *user_id)
{
    if (strlen(room) >= HUB_ROOM_MAX || strlen(user_id) >= HUB_USER_MAX)
        return GV_ELIMIT;
    hub_room_t *r = hub_room_get(h, room);
    hub_conn_t *e = r ? hub_conn_get(h, c) : NULL;
    if (!r || !e)
        return GV_ENOMEM;
    for (size_t i = 0; i < e->n; i++)
        if (e->rooms[i] == r)
            return 0;
    if (hub_grow((void **)&r->subs, &r->cap, r->n, sizeof(hub_sub_t)) ||
        hub_grow((void **)&e->rooms, &e->cap, e->n, sizeof(hub_room_t *)))
        return GV_ENOMEM;
    r->subs[r->n].conn = c;
    memcpy(r->subs[r->n].user, user_id, strlen(user_id) + 1);
    r->n++;
    e->rooms[e->n++] = r;
    return 0;
}

/* Removes c from r (and r from c's list); frees what becomes empty. */
static void hub_unsubscribe(hub_t *h, hub_room_t *r, hub_conn_t *e)
{
    for (size_t i = 0; i < r->n; i++) {
        if (r->subs[i].conn == e->conn) {
            r->subs[i] = r->subs[--r->n];
            break;
        }
    }
    for (size_t i = 0; i < e->n; i++) {
        if (e->rooms[i] == r) {
            e->rooms[i] = e->rooms[--e->n];
            break;
        }
    }
    if (r->n == 0)
        hub_room_unlink(h, r);
    if (e->n == 0)
        hub_conn_unlink(h, e);
}

void hub_leave(hub_t *h, const char *room, ws_conn_t *c)
{
    hub_room_t *r = hub_room_find(h, room);
    hub_conn_t *e = hub_conn_find(h, c);
    if (r && e)
        hub_unsubscribe(h, r, e);
}

void hub_leave_conn(hub_t *h, ws_conn_t *c)
{
    hub_conn_t *e = hub_conn_find(h, c);
    while (e) {
        int last = e->n == 1;
        hub_unsubscribe(h, e->rooms[0], e); /* frees e with its last room */
        if (last)
            break;
    }
}

size_t hub_kick(hub_t *h, const char *room, const char *user_id)
{
    hub_room_t *r = hub_room_find(h, room);
    size_t kicked = 0;
    for (size_t i = 0; r && i < r->n;) {
        if (strcmp(r->subs[i].user, user_id) != 0) {
            i++;
            continue;
        }
        int last = r->n == 1;
        hub_unsubscribe(h, r, hub_conn_find(h, r->subs[i].conn));
        kicked++;
        if (last)
            break; /* r was freed */
    }
    return kicked;
}

void hub_close_room(hub_t *h, const char *room)
{
    hub_room_t *r = hub_room_find(h, room);
    while (r) {
        int last = r->n == 1;
        hub_unsubscribe(h, r, hub_conn_find(h, r->subs[0].conn));
        if (last)
            break;
    }
}

size_t hub_publish(hub_t *h, const char *room, const char *json, size_t len)
{
    hub_room_t *r = hub_room_find(h, room);
    if (!r || r->n == 0)
        return 0;
    ws_frame_t *f = ws_frame_text(json, len);
    if (!f)
        return 0;
    /* Sending may close a slow subscriber, whose close callback leaves the room: walk a copy. */
    size_t n = r->n, sent = 0;
    ws_conn_t **targets = malloc(n * sizeof(*targets));
    if (targets) {
        for (size_t i = 0; i < n; i++)
            targets[i] = r->subs[i].conn;
        for (size_t i = 0; i < n; i++)
            sent += ws_conn_send_frame(targets[i], f) == 0;
        free(targets);
    }
    ws_frame_unref(f);
    return sent;
}

size_t hub_publish_committed(hub_t *h, const char *room, const char *json, size_t len,
                             uint64_t visible_ns)
{
    size_t sent = hub_publish(h, room, json, len);
    if (sent == 0)
        return 0;
    hub_fanout_t *last = h->n_pending ? &h->pending[h->n_pending - 1] : NULL;
    if (!last || (last->visible_ns != visible_ns && h->n_pending < HUB_FANOUT_PENDING)) {
        last = &h->pending[h->n_pending++];
        *last = (hub_fanout_t){visible_ns, 0};
    }
    last->events++;
    return sent;
}

void hub_fanout_written(hub_t *h, uint64_t now_ns)
{
    for (size_t i = 0; i < h->n_pending; i++) {
        const hub_fanout_t *p = &h->pending[i];
        double s = now_ns > p->visible_ns ? (double)(now_ns - p->visible_ns) / 1e9 : 0;
        for (uint64_t k = 0; k < p->events; k++)
            metrics_hist_observe(&h->fanout_delay, s);
    }
    h->n_pending = 0;
}

const metrics_hist_t *hub_fanout_delay(const hub_t *h)
{
    return &h->fanout_delay;
}

size_t hub_room_size(const hub_t *h, const char *room)
{
    const hub_room_t *r = hub_room_find(h, room);
    return r ? r->n : 0;
}

int hub_user_present(const hub_t *h, const char *room, const char *user_id)
{
    const hub_room_t *r = hub_room_find(h, room);
    for (size_t i = 0; r && i < r->n; i++)
        if (strcmp(r->subs[i].user, user_id) == 0)
            return 1;
    return 0;
}

void hub_room_each(const hub_t *h, const char *room, void (*fn)(void *ctx, const char *user),
                   void *ctx)
{
    const hub_room_t *r = hub_room_find(h, room);
    for (size_t i = 0; r && i < r->n; i++)
        fn(ctx, r->subs[i].user);
}
