/* Frames of committed events between the nodes of a cluster. */
#include "auction/cluster_msg.h"

#include "core/err.h"

#include <inttypes.h>
#include <string.h>

#define CLUSTER_EVENT_MAX (1u << 20) /* one event's text: far above any the engine makes */

int cluster_events_begin(buf_t *out, const char *auction_id, int64_t sent_us, size_t count)
{
    return buf_printf(out, "E %s %" PRId64 " %zu\n", auction_id, sent_us, count) ? GV_ENOMEM : 0;
}

int cluster_events_add(buf_t *out, const char *json, size_t len)
{
    if (buf_printf(out, "%zu ", len) || buf_append(out, json, len) || buf_append(out, "\n", 1))
        return GV_ENOMEM;
    return 0;
}

/* Reads a decimal number of at most 19 digits ending at the separator sep. */
static int cm_number(const char **p, const char *end, char sep, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = *p;
    while (s < end && *s >= '0' && *s <= '9' && s - *p < 19)
        v = v * 10 + (uint64_t)(*s++ - '0');
    if (s == *p || s >= end || *s != sep)
        return GV_EINVALID_REQUEST;
    *p = s + 1;
    *out = v;
    return 0;
}

static int cm_header(const char **p, const char *end, cluster_events_t *h)
{
    const char *s = *p;
    if (end - s < 2 || s[0] != 'E' || s[1] != ' ')
        return GV_EINVALID_REQUEST;
    s += 2;
    const char *sp = memchr(s, ' ', (size_t)(end - s));
    size_t idlen = sp ? (size_t)(sp - s) : 0;
    if (!idlen || idlen >= sizeof(h->auction) || memchr(s, '\n', idlen) || memchr(s, '\0', idlen))
        return GV_EINVALID_REQUEST;
    memcpy(h->auction, s, idlen);
    h->auction[idlen] = '\0';
    s = sp + 1;
    uint64_t sent, count;
    if (cm_number(&s, end, ' ', &sent) || cm_number(&s, end, '\n', &count) || sent > INT64_MAX)
        return GV_EINVALID_REQUEST;
    h->sent_us = (int64_t)sent;
    h->count = (size_t)count;
    *p = s;
    return 0;
}

/* Walks the events after the header: checks only (fn NULL) or calls fn. */
static int cm_events(const char *s, const char *end, size_t count, cluster_event_fn fn, void *ctx)
{
    for (size_t i = 0; i < count; i++) {
        uint64_t n;
        if (cm_number(&s, end, ' ', &n) || n == 0 || n > CLUSTER_EVENT_MAX ||
            n >= (uint64_t)(end - s) || s[n] != '\n')
            return GV_EINVALID_REQUEST;
        int rc = fn ? fn(ctx, s, (size_t)n) : 0;
        if (rc)
            return rc;
        s += n + 1;
    }
    return s == end ? 0 : GV_EINVALID_REQUEST;
}

int cluster_events_read(const char *data, size_t len, cluster_events_t *h, cluster_event_fn fn,
                        void *ctx)
{
    memset(h, 0, sizeof(*h));
    if (!data)
        return GV_EINVALID_REQUEST;
    const char *s = data, *end = data + len;
    if (cm_header(&s, end, h) || cm_events(s, end, h->count, NULL, NULL))
        return GV_EINVALID_REQUEST;
    return fn ? cm_events(s, end, h->count, fn, ctx) : 0;
}

/* ---- presence ------------------------------------------------------------------------------ */

int cluster_presence_write(buf_t *out, const cluster_presence_t *p, int n_managers)
{
    int rc = buf_printf(out, "P %s %s %d ", p->auction, p->node, p->spectators), any = 0;
    for (int m = 0; !rc && m < n_managers && m < CLUSTER_MANAGERS_MAX; m++)
        if (p->online[m])
            rc = buf_printf(out, any++ ? ",%d" : "%d", m);
    rc = rc ? rc : buf_puts(out, any ? "\n" : "-\n");
    return rc ? GV_ENOMEM : 0;
}

/* Copies the word before the next space into out (size n, at least 1 byte). */
static int cm_word(const char **p, const char *end, char *out, size_t n)
{
    const char *s = *p, *sp = memchr(s, ' ', (size_t)(end - s));
    size_t len = sp ? (size_t)(sp - s) : 0;
    if (!len || len >= n || memchr(s, '\n', len) || memchr(s, '\0', len))
        return GV_EINVALID_REQUEST;
    memcpy(out, s, len);
    out[len] = '\0';
    *p = sp + 1;
    return 0;
}

static int cm_managers(const char *s, const char *end, cluster_presence_t *p)
{
    if (end - s == 2 && s[0] == '-' && s[1] == '\n')
        return 0;
    for (;;) {
        uint64_t m;
        const char *comma = memchr(s, ',', (size_t)(end - s));
        char sep = comma && comma < end - 1 ? ',' : '\n';
        if (cm_number(&s, end, sep, &m) || m >= CLUSTER_MANAGERS_MAX)
            return GV_EINVALID_REQUEST;
        p->online[m] = 1;
        if (sep == '\n')
            return s == end ? 0 : GV_EINVALID_REQUEST;
    }
}

int cluster_presence_read(const char *data, size_t len, cluster_presence_t *p)
{
    uint64_t spectators;
    memset(p, 0, sizeof(*p));
    if (!data || len < 2 || data[0] != 'P' || data[1] != ' ')
        return GV_EINVALID_REQUEST;
    const char *s = data, *end = data + len;
    s += 2;
    if (cm_word(&s, end, p->auction, sizeof(p->auction)) ||
        cm_word(&s, end, p->node, sizeof(p->node)) || cm_number(&s, end, ' ', &spectators) ||
        spectators > 1000000000 || cm_managers(s, end, p)) {
        memset(p, 0, sizeof(*p));
        return GV_EINVALID_REQUEST;
    }
    p->spectators = (int)spectators;
    return 0;
}
