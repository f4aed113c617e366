/* The bus: Redis pub/sub between nodes on two hiredis async connections (see bus.h). Each
 * connection's life: look the host up, connect, PING (and SUBSCRIBE), up; on a loss or a failed
 * attempt, a timer waits out the backoff and starts again. */
#include "net/bus.h"

#include "core/err.h"

#include <assert.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

/* Data Redis does not acknowledge for this long (a host gone silent, no reset) drops the
 * connection: without it, TCP would retransmit for many minutes while the bus looked up. */
#define BUS_USER_TIMEOUT_MS 10000

/* An address look-up in flight. Owned by the loop until its callback, which frees it; conn is
 * NULL once the attempt it was for has ended (the callback then only frees). */
typedef struct bus_conn_s bus_conn_t;
typedef struct {
    uv_getaddrinfo_t req; /* first: the callback's pointer is the look-up's */
    bus_conn_t *conn;
} bus_resolve_t;

/* One of the two connections. An attempt is in progress while resolve or ac is set; the timer is
 * then its deadline, and otherwise the wait before the next attempt (stopped while up). */
struct bus_conn_s {
    bus_t *bus;
    bus_resolve_t *resolve;
    redisAsyncContext *ac; /* hiredis's; NULL as soon as it is freed or being freed */
    uv_timer_t timer;
    uint64_t backoff_ms;
    unsigned tries;      /* attempts made: picks among the host's addresses in turn */
    int connected;       /* the TCP connection of ac is established */
    int ponged;          /* Redis answered PING on ac */
    long long confirmed; /* channels Redis confirmed on ac (the subscriber) */
    int ready;
};

struct bus_s {
    uv_loop_t *loop;
    char *host;
    int port;
    char *prefix;
    size_t prefix_len;
    bus_msg_fn on_msg;
    bus_state_fn on_state;
    void *ctx;
    bus_conn_t pub, sub;
    char **subs; /* "PREFIX:NAME" of every subscription */
    size_t nsubs, subs_cap;
    size_t pending_bytes; /* of publishes not yet acknowledged */
    int reported;         /* the last state given to on_state */
    int closing;
    int handles; /* the bus's own handles not yet closed */
    bus_stats_t stats;
};

/* ---- hiredis on libuv ------------------------------------------------------------------------ */
/* hiredis's adapters/libuv.h (0.14.1), redone for two faults: on a poll error (a refused connect,
 * a reset) libuv stops the handle and reports UV_EBADF, which the adapter ignored, leaving the
 * connection hung for good; and a failed uv_poll_init leaked its allocation. As there, the
 * handle is freed by its close callback: the loop must run once after hiredis lets it go. */

typedef struct {
    uv_poll_t poll;
    redisAsyncContext *ac; /* NULL once hiredis let go of it */
    int events;
} bus_ev_t;

static void bus_ev_on_poll(uv_poll_t *h, int status, int events)
{
    bus_ev_t *e = h->data;
    if (status < 0) /* libuv stopped the handle: hiredis reads the socket's error */
        events = e->events;
    if (e->ac && (events & UV_READABLE))
        redisAsyncHandleRead(e->ac);
    if (e->ac && (events & UV_WRITABLE))
        redisAsyncHandleWrite(e->ac);
}

static void bus_ev_set(bus_ev_t *e, int events)
{
    e->events = events;
    if (events)
        uv_poll_start(&e->poll, events, bus_ev_on_poll);
    else
        uv_poll_stop(&e->poll);
}

static void bus_ev_add_read(void *p)
{
    bus_ev_set(p, ((bus_ev_t *)p)->events | UV_READABLE);
}

static void bus_ev_del_read(void *p)
{
    bus_ev_set(p, ((bus_ev_t *)p)->events & ~UV_READABLE);
}

static void bus_ev_add_write(void *p)
{
    bus_ev_set(p, ((bus_ev_t *)p)->events | UV_WRITABLE);
}

static void bus_ev_del_write(void *p)
{
    bus_ev_set(p, ((bus_ev_t *)p)->events & ~UV_WRITABLE);
}

static void bus_ev_on_closed(uv_handle_t *h)
{
    free(h->data);
}

static void bus_ev_cleanup(void *p)
{
    bus_ev_t *e = p;
    e->ac = NULL;
    uv_close((uv_handle_t *)&e->poll, bus_ev_on_closed);
}

/* Puts ac on loop. 0, GV_ENOMEM or GV_EIO (ac then has no event hooks). */
static int bus_ev_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    bus_ev_t *e = calloc(1, sizeof(*e));
    if (!e)
        return GV_ENOMEM;
    if (uv_poll_init_socket(loop, &e->poll, ac->c.fd) != 0) {
        free(e);
        return GV_EIO;
    }
    e->poll.data = e;
    e->ac = ac;
    ac->ev.data = e;
    ac->ev.addRead = bus_ev_add_read;
    ac->ev.delRead = bus_ev_del_read;
    ac->ev.addWrite = bus_ev_add_write;
    ac->ev.delWrite = bus_ev_del_write;
    ac->ev.cleanup = bus_ev_cleanup;
    return 0;
}

/* ---- state ----------------------------------------------------------------------------------- */

int bus_up(const bus_t *b)
{
    return !b->closing && b->pub.ready && b->sub.ready;
}

/* Tells on_state of a change of bus_up (a loss only after an up). Last thing its callers do: the
 * callback may close the bus. */
static void bus_report(bus_t *b)
{
    int up = bus_up(b);
    if (up == b->reported || b->closing)
        return;
    b->reported = up;
    if (b->on_state)
        b->on_state(b->ctx, up);
}

static void bus_conn_check_ready(bus_conn_t *c)
{
    bus_t *b = c->bus;
    if (c->ready || !c->ponged || (c == &b->sub && c->confirmed < (long long)b->nsubs))
        return;
    c->ready = 1;
    c->backoff_ms = BUS_BACKOFF_MIN_MS;
    uv_timer_stop(&c->timer);
    bus_report(b);
}

/* ---- one connection's attempts --------------------------------------------------------------- */

static void bus_on_timer(uv_timer_t *t);
static void bus_conn_start(bus_conn_t *c);

/* Ends the attempt in progress, if any: the look-up is orphaned, the hiredis context freed (at
 * once, or by hiredis right after the callback it is in); its callbacks then find c->ac changed. */
static void bus_conn_abort(bus_conn_t *c)
{
    if (c->resolve) {
        c->resolve->conn = NULL;
        uv_cancel((uv_req_t *)&c->resolve->req);
        c->resolve = NULL;
    }
    if (c->ac) {
        redisAsyncContext *ac = c->ac;
        c->ac = NULL;
        redisAsyncFree(ac);
    }
}

/* The attempt ended or the connection was lost (nothing of it left): wait, then try again. */
static void bus_conn_down(bus_conn_t *c)
{
    bus_t *b = c->bus;
    c->ready = c->connected = c->ponged = 0;
    c->confirmed = 0;
    if (!b->closing) {
        uv_timer_start(&c->timer, bus_on_timer, c->backoff_ms, 0);
        c->backoff_ms =
            c->backoff_ms * 2 > BUS_BACKOFF_MAX_MS ? BUS_BACKOFF_MAX_MS : c->backoff_ms * 2;
    }
    bus_report(b);
}

static void bus_conn_fail(bus_conn_t *c)
{
    bus_conn_abort(c);
    bus_conn_down(c);
}

static void bus_on_timer(uv_timer_t *t)
{
    bus_conn_t *c = t->data;
    if (c->resolve || c->ac) { /* the attempt's deadline passed */
        bus_conn_fail(c);
        return;
    }
    c->bus->stats.reconnects++;
    bus_conn_start(c);
}

static void bus_on_disconnect(const redisAsyncContext *ac, int status)
{
    bus_conn_t *c = ac->data;
    (void)status;
    if (c->ac != ac) /* freed by the bus: nothing to do */
        return;
    c->ac = NULL; /* hiredis frees it when this returns */
    bus_conn_down(c);
}

static void bus_on_pong(redisAsyncContext *ac, void *r, void *priv)
{
    bus_conn_t *c = ac->data;
    redisReply *reply = r;
    (void)priv;
    if (!reply || c->ac != ac)
        return;
    if (reply->type != REDIS_REPLY_STATUS || strcmp(reply->str, "PONG") != 0) {
        bus_conn_fail(c); /* e.g. -NOAUTH, -LOADING: try again later */
        return;
    }
    c->ponged = 1;
    bus_conn_check_ready(c);
}

static void bus_on_sub_reply(redisAsyncContext *ac, void *r, void *priv);

static int bus_send_subscribe(bus_conn_t *c, const char *name)
{
    int rc = redisAsyncCommand(c->ac, bus_on_sub_reply, NULL, "SUBSCRIBE %b", name, strlen(name));
    return rc == REDIS_OK ? 0 : GV_ENOMEM;
}

/* Connected (or not): PING first, as the PONG must come before any subscription reply (hiredis
 * 0.14 cannot match a PING's reply once subscribed). No bus callback runs from here: hiredis
 * must not have ac freed under its connect callback. A failed send is left to the deadline. */
static void bus_on_connect(const redisAsyncContext *cac, int status)
{
    bus_conn_t *c = cac->data;
    bus_t *b = c->bus;
    if (c->ac != cac)
        return;
    if (status != REDIS_OK) {
        c->ac = NULL; /* hiredis frees it when this returns */
        bus_conn_down(c);
        return;
    }
    c->connected = 1;
    if (redisAsyncCommand(c->ac, bus_on_pong, NULL, "PING") != REDIS_OK)
        return;
    for (size_t i = 0; c == &b->sub && i < b->nsubs; i++)
        if (bus_send_subscribe(c, b->subs[i]) != 0)
            return;
}

/* Connects c to ip. 0 or GV_E* (nothing left behind). */
static int bus_conn_connect(bus_conn_t *c, const char *ip)
{
    bus_t *b = c->bus;
    redisAsyncContext *ac = redisAsyncConnect(ip, b->port);
    if (!ac)
        return GV_ENOMEM;
    if (ac->err || bus_ev_attach(ac, b->loop) != 0) {
        redisAsyncFree(ac);
        return GV_EUNAVAILABLE;
    }
    ac->data = c;
    /* Best effort: a silent peer is then noticed within half a minute, idle or not. */
    unsigned user_timeout_ms = BUS_USER_TIMEOUT_MS;
    redisEnableKeepAlive(&ac->c);
    setsockopt(ac->c.fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof(user_timeout_ms));
    redisAsyncSetDisconnectCallback(ac, bus_on_disconnect);
    redisAsyncSetConnectCallback(ac, bus_on_connect); /* starts waiting for the connect */
    c->ac = ac;
    return 0;
}

/* The (tries % count)th address of res, as text into ip. 0 or GV_EUNAVAILABLE (none). */
static int bus_addr_pick(const struct addrinfo *res, unsigned tries, char *ip, size_t cap)
{
    unsigned n = 0;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
        n += ai->ai_family == AF_INET || ai->ai_family == AF_INET6;
    if (n == 0)
        return GV_EUNAVAILABLE;
    unsigned pick = tries % n;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        if (pick-- > 0)
            continue;
        if (ai->ai_family == AF_INET)
            return uv_ip4_name((struct sockaddr_in *)ai->ai_addr, ip, cap) ? GV_EUNAVAILABLE : 0;
        return uv_ip6_name((struct sockaddr_in6 *)ai->ai_addr, ip, cap) ? GV_EUNAVAILABLE : 0;
    }
    return GV_EUNAVAILABLE;
}

static void bus_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    bus_resolve_t *r = (bus_resolve_t *)req;
    bus_conn_t *c = r->conn;
    char ip[INET6_ADDRSTRLEN];
    int rc = status == 0 && c ? bus_addr_pick(res, c->tries, ip, sizeof(ip)) : GV_EUNAVAILABLE;
    uv_freeaddrinfo(res);
    free(r);
    if (!c) /* orphaned: its attempt ended */
        return;
    c->resolve = NULL;
    c->tries++;
    if (rc != 0 || bus_conn_connect(c, ip) != 0)
        bus_conn_fail(c);
}

/* A new attempt: the deadline, then the look-up (connecting follows). */
static void bus_conn_start(bus_conn_t *c)
{
    bus_t *b = c->bus;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    uv_timer_start(&c->timer, bus_on_timer, BUS_ATTEMPT_MS, 0);
    bus_resolve_t *r = calloc(1, sizeof(*r));
    if (!r) {
        bus_conn_fail(c);
        return;
    }
    r->conn = c;
    if (uv_getaddrinfo(b->loop, &r->req, bus_on_resolved, b->host, NULL, &hints) != 0) {
        free(r);
        bus_conn_fail(c);
        return;
    }
    c->resolve = r;
}

/* ---- messages -------------------------------------------------------------------------------- */

/* A "message" reply: channel "PREFIX:NAME" and data, to on_msg as NAME and data. */
static void bus_deliver(bus_t *b, const redisReply *ch, const redisReply *data)
{
    size_t p = b->prefix_len;
    if (ch->type != REDIS_REPLY_STRING || data->type != REDIS_REPLY_STRING)
        return;
    if (ch->len <= p + 1 || memcmp(ch->str, b->prefix, p) != 0 || ch->str[p] != ':')
        return;
    b->stats.received++;
    b->on_msg(b->ctx, ch->str + p + 1, data->str, data->len);
}

/* Every reply on the subscriber once subscribed: ["message", channel, data] or
 * ["subscribe", channel, channels now subscribed]; NULL when the context is freed. */
static void bus_on_sub_reply(redisAsyncContext *ac, void *r, void *priv)
{
    bus_conn_t *c = ac->data;
    bus_t *b = c->bus;
    redisReply *reply = r;
    (void)priv;
    if (!reply || c->ac != ac || b->closing)
        return;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[0]->type != REDIS_REPLY_STRING)
        return;
    if (strcmp(reply->element[0]->str, "message") == 0) {
        bus_deliver(b, reply->element[1], reply->element[2]);
    } else if (strcmp(reply->element[0]->str, "subscribe") == 0 &&
               reply->element[2]->type == REDIS_REPLY_INTEGER) {
        c->confirmed = reply->element[2]->integer;
        bus_conn_check_ready(c);
    }
}

/* "PREFIX:channel" into buf (cap bytes); its length into *len. 0, GV_EINVALID_REQUEST or
 * GV_ELIMIT. */
static int bus_name(const bus_t *b, const char *channel, char *buf, size_t cap, size_t *len)
{
    if (!channel || !*channel)
        return GV_EINVALID_REQUEST;
    size_t n = strlen(channel);
    if (n > BUS_NAME_MAX || b->prefix_len + 1 + n >= cap)
        return GV_ELIMIT;
    memcpy(buf, b->prefix, b->prefix_len);
    buf[b->prefix_len] = ':';
    memcpy(buf + b->prefix_len + 1, channel, n + 1);
    *len = b->prefix_len + 1 + n;
    return 0;
}

#define BUS_FULL_NAME_MAX (2 * BUS_NAME_MAX + 2)

int bus_subscribe(bus_t *b, const char *channel)
{
    char name[BUS_FULL_NAME_MAX];
    size_t n;
    if (b->closing)
        return GV_EINVALID_REQUEST;
    int rc = bus_name(b, channel, name, sizeof(name), &n);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < b->nsubs; i++)
        if (strcmp(b->subs[i], name) == 0)
            return 0;
    if (b->nsubs == b->subs_cap) {
        size_t cap = b->subs_cap ? b->subs_cap * 2 : 8;
        char **subs = realloc(b->subs, cap * sizeof(*subs));
        if (!subs)
            return GV_ENOMEM;
        b->subs = subs;
        b->subs_cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return GV_ENOMEM;
    b->subs[b->nsubs++] = copy;
    if (b->sub.connected && bus_send_subscribe(&b->sub, copy) != 0) {
        free(b->subs[--b->nsubs]);
        return GV_ENOMEM;
    }
    return 0;
}

/* What a PUBLISH waits for: the bytes it counted, and who hears of its receivers. */
typedef struct {
    size_t cost;
    bus_delivered_fn fn;
    void *ctx;
    uint64_t id;
} bus_publish_wait_t;

/* A PUBLISH's reply (NULL when the connection went first). */
static void bus_on_published(redisAsyncContext *ac, void *r, void *priv)
{
    bus_t *b = ((bus_conn_t *)ac->data)->bus;
    bus_publish_wait_t *w = priv;
    redisReply *reply = r;
    int ok = reply && reply->type == REDIS_REPLY_INTEGER;
    b->pending_bytes -= w->cost;
    if (ok)
        b->stats.published++;
    else
        b->stats.publish_failed++;
    if (w->fn)
        w->fn(w->ctx, w->id, ok ? reply->integer : -1);
    free(w);
}

static int bus_publish_send(bus_t *b, const char *channel, const char *data, size_t len,
                            bus_delivered_fn fn, void *ctx, uint64_t id)
{
    char name[BUS_FULL_NAME_MAX];
    size_t n;
    int rc = bus_name(b, channel, name, sizeof(name), &n);
    if (rc != 0)
        return rc;
    if (!b->pub.ready || b->closing)
        return GV_EUNAVAILABLE;
    if (len > BUS_PENDING_MAX - n || b->pending_bytes > BUS_PENDING_MAX - n - len)
        return GV_ELIMIT;
    bus_publish_wait_t *w = malloc(sizeof(*w));
    if (!w)
        return GV_ENOMEM;
    *w = (bus_publish_wait_t){n + len, fn, ctx, id};
    if (redisAsyncCommand(b->pub.ac, bus_on_published, w, "PUBLISH %b %b", name, n,
                          data ? data : "", len) != REDIS_OK) {
        free(w);
        return GV_ENOMEM;
    }
    b->pending_bytes += n + len;
    return 0;
}

int bus_publish(bus_t *b, const char *channel, const char *data, size_t len)
{
    return bus_publish_counted(b, channel, data, len, NULL, NULL, 0);
}

int bus_publish_counted(bus_t *b, const char *channel, const char *data, size_t len,
                        bus_delivered_fn fn, void *ctx, uint64_t id)
{
    int rc = bus_publish_send(b, channel, data, len, fn, ctx, id);
    if (rc != 0)
        b->stats.publish_failed++;
    return rc;
}

const bus_stats_t *bus_stats(const bus_t *b)
{
    return &b->stats;
}

/* ---- life ------------------------------------------------------------------------------------ */

/* "redis://HOST[:PORT]" into *host (the caller's) and *port. 0, GV_EINVALID_REQUEST or
 * GV_ENOMEM. HOST is a name or IPv4 address (letters, digits, '.', '-', '_') or [IPv6]. */
static int bus_url_parse(const char *url, char **host, int *port)
{
    static const char scheme[] = "redis://";
    if (!url || strncmp(url, scheme, sizeof(scheme) - 1) != 0)
        return GV_EINVALID_REQUEST;
    const char *h = url + sizeof(scheme) - 1, *end, *p;
    if (*h == '[') {
        end = strchr(++h, ']');
        if (!end || end == h || strspn(h, "0123456789abcdefABCDEF:.") != (size_t)(end - h))
            return GV_EINVALID_REQUEST;
        p = end + 1;
    } else {
        end = h;
        while (isalnum((unsigned char)*end) || *end == '.' || *end == '-' || *end == '_')
            end++;
        if (end == h)
            return GV_EINVALID_REQUEST;
        p = end;
    }
    long v = 6379;
    if (*p == ':') {
        if (strspn(p + 1, "0123456789") != strlen(p + 1) || strlen(p + 1) == 0 || strlen(p + 1) > 5)
            return GV_EINVALID_REQUEST;
        v = strtol(p + 1, NULL, 10);
    } else if (*p != '\0') {
        return GV_EINVALID_REQUEST;
    }
    if (v < 1 || v > 65535 || end - h > 253)
        return GV_EINVALID_REQUEST;
    if (!(*host = strndup(h, (size_t)(end - h))))
        return GV_ENOMEM;
    *port = (int)v;
    return 0;
}

static void bus_conn_init(bus_t *b, bus_conn_t *c)
{
    c->bus = b;
    c->backoff_ms = BUS_BACKOFF_MIN_MS;
    uv_timer_init(b->loop, &c->timer);
    c->timer.data = c;
    b->handles++;
}

int bus_new(bus_t **out, uv_loop_t *loop, const char *url, const char *prefix, bus_msg_fn on_msg,
            bus_state_fn on_state, void *ctx)
{
    *out = NULL;
    if (!prefix || !*prefix || !on_msg)
        return GV_EINVALID_REQUEST;
    if (strlen(prefix) > BUS_NAME_MAX)
        return GV_ELIMIT;
    bus_t *b = calloc(1, sizeof(*b));
    if (!b)
        return GV_ENOMEM;
    int rc = bus_url_parse(url, &b->host, &b->port);
    if (rc == 0 && !(b->prefix = strdup(prefix)))
        rc = GV_ENOMEM;
    if (rc != 0) {
        free(b->host);
        free(b);
        return rc;
    }
    b->prefix_len = strlen(prefix);
    b->loop = loop;
    b->on_msg = on_msg;
    b->on_state = on_state;
    b->ctx = ctx;
    bus_conn_init(b, &b->pub);
    bus_conn_init(b, &b->sub);
    bus_conn_start(&b->pub);
    bus_conn_start(&b->sub);
    *out = b;
    return 0;
}

static void bus_on_timer_closed(uv_handle_t *h)
{
    ((bus_conn_t *)h->data)->bus->handles--;
}

static void bus_conn_close(bus_conn_t *c)
{
    bus_conn_abort(c);
    c->ready = c->connected = 0;
    uv_close((uv_handle_t *)&c->timer, bus_on_timer_closed);
}

void bus_close(bus_t *b)
{
    if (!b || b->closing)
        return;
    b->closing = 1;
    bus_conn_close(&b->pub);
    bus_conn_close(&b->sub);
}

void bus_free(bus_t *b)
{
    if (!b)
        return;
    assert(b->closing && b->handles == 0);
    for (size_t i = 0; i < b->nsubs; i++)
        free(b->subs[i]);
    free(b->subs);
    free(b->prefix);
    free(b->host);
    free(b);
}
