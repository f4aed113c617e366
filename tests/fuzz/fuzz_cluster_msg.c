/* libFuzzer target: cluster_events_read and cluster_presence_read on arbitrary bytes (frames
 * another node published on the bus). An events frame that reads is written again from what was
 * read and must be the same bytes; the events handed out lie inside the input; a frame that does
 * not read hands out none. A presence frame that reads is written again and reads back the same. */
#include "auction/cluster_msg.h"
#include "core/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *lo, *hi; /* the input */
    buf_t again;         /* the frame written from what was read */
    size_t n;
} walk_t;

static int on_event(void *ctx, const char *json, size_t len)
{
    walk_t *w = ctx;
    if (json < w->lo || json + len > w->hi || len == 0)
        abort();
    w->n++;
    return cluster_events_add(&w->again, json, len) ? -1 : 0;
}

static void presence(const uint8_t *data, size_t size)
{
    cluster_presence_t p, q;
    if (cluster_presence_read((const char *)data, size, &p) != 0)
        return;
    buf_t out;
    buf_init(&out);
    if (cluster_presence_write(&out, &p, CLUSTER_MANAGERS_MAX) ||
        cluster_presence_read(out.data, out.len, &q) || memcmp(&p, &q, sizeof(p)) != 0)
        abort();
    buf_deinit(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    presence(data, size);
    cluster_events_t h;
    walk_t w = {(const char *)data, (const char *)data + size, {0}, 0};
    buf_init(&w.again);
    if (cluster_events_read((const char *)data, size, &h, NULL, NULL) != 0) {
        if (cluster_events_read((const char *)data, size, &h, on_event, &w) == 0 || w.n != 0)
            abort(); /* a bad frame must hand out nothing */
        buf_deinit(&w.again);
        return 0;
    }
    if (cluster_events_begin(&w.again, h.auction, h.sent_us, h.count) ||
        cluster_events_read((const char *)data, size, &h, on_event, &w) != 0 || w.n != h.count)
        abort();
    /* the same frame, byte for byte, unless the input spelled a number with leading zeros */
    if (w.again.len == size && memcmp(w.again.data, data, size) != 0)
        abort();
    cluster_events_t h2;
    if (cluster_events_read(w.again.data, w.again.len, &h2, NULL, NULL) != 0 ||
        strcmp(h2.auction, h.auction) != 0 || h2.sent_us != h.sent_us || h2.count != h.count)
        abort();
    buf_deinit(&w.again);
    return 0;
}
