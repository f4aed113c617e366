/* Frames of committed events between the nodes of a cluster: what is written reads back as the
 * same events, byte for byte (the texts a follower's clients get are the owner's), and anything
 * that is not a whole frame is refused before a single event is handed out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auction/cluster_msg.h"
#include "core/err.h"

typedef struct {
    char texts[8][128];
    size_t lens[8];
    size_t n;
    size_t stop_at; /* return 7 from this event on (0: never) */
} got_t;

static int got_one(void *ctx, const char *json, size_t len)
{
    got_t *g = ctx;
    if (g->stop_at && g->n + 1 >= g->stop_at)
        return 7;
    assert_true(g->n < 8 && len < sizeof(g->texts[0]));
    memcpy(g->texts[g->n], json, len);
    g->lens[g->n++] = len;
    return 0;
}

static void frame(buf_t *b, const char *id, int64_t sent, const char *const *evs, size_t n)
{
    buf_init(b);
    assert_int_equal(0, cluster_events_begin(b, id, sent, n));
    for (size_t i = 0; i < n; i++)
        assert_int_equal(0, cluster_events_add(b, evs[i], strlen(evs[i])));
}

static void test_a_frame_reads_back_byte_for_byte(void **state)
{
    (void)state;
    /* texts with what a line-based reader would trip on: newlines, spaces, digits, NUL-free */
    const char *evs[] = {"{\"seq\":7,\"type\":\"bid\",\"amount\":5000000}",
                         "{\"seq\":8,\"note\":\"two\\nlines \\u00e9\"}", "{}",
                         "{\"seq\":9,\"s\":\"12 {\\\"x\\\":1}\\n3 \"}"};
    buf_t b;
    frame(&b, "au_0123456789abcdef0123", 1764806400123456, evs, 4);
    cluster_events_t h;
    got_t g = {0};
    assert_int_equal(0, cluster_events_read(b.data, b.len, &h, got_one, &g));
    assert_string_equal("au_0123456789abcdef0123", h.auction);
    assert_int_equal(1764806400123456, h.sent_us);
    assert_int_equal(4, h.count);
    assert_int_equal(4, g.n);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(strlen(evs[i]), g.lens[i]);
        assert_memory_equal(evs[i], g.texts[i], g.lens[i]);
    }
    buf_deinit(&b);
}

static void test_the_walk_stops_where_the_callback_says(void **state)
{
    (void)state;
    const char *evs[] = {"{\"seq\":1}", "{\"seq\":2}", "{\"seq\":3}"};
    buf_t b;
    frame(&b, "au_1", 1, evs, 3);
    cluster_events_t h;
    got_t g = {.stop_at = 2};
    assert_int_equal(7, cluster_events_read(b.data, b.len, &h, got_one, &g));
    assert_int_equal(1, g.n);
    buf_deinit(&b);
}

/* Every cut of a good frame, and every one-byte change of its framing, is refused whole. */
static void test_a_cut_or_bent_frame_hands_out_nothing(void **state)
{
    (void)state;
    const char *evs[] = {"{\"seq\":41}", "{\"seq\":42}"};
    buf_t b;
    frame(&b, "au_9", 99, evs, 2);
    cluster_events_t h;
    for (size_t cut = 0; cut < b.len; cut++) {
        got_t g = {0};
        assert_int_equal(GV_EINVALID_REQUEST, cluster_events_read(b.data, cut, &h, got_one, &g));
        assert_int_equal(0, g.n);
    }
    const char *bad[] = {
        "E au_9 99 2\n10 {\"seq\":41}\n10 {\"seq\":42}\nX",       /* trailing bytes */
        "E au_9 99 3\n10 {\"seq\":41}\n10 {\"seq\":42}\n",        /* fewer events than counted */
        "E au_9 99 2\n11 {\"seq\":41}\n10 {\"seq\":42}\n",        /* a length off by one */
        "E au_9 99 2\n0 \n10 {\"seq\":42}\n",                     /* an empty event */
        "E  99 1\n2 {}\n",                                        /* no auction id */
        "E au_9 -1 1\n2 {}\n",                                    /* a negative time */
        "E au_9 99999999999999999999 1\n2 {}\n",                  /* a time past 64 bits */
        "F au_9 99 1\n2 {}\n",                                    /* not an events frame */
        "E au_0123456789abcdef0123456789abcdef01234 1 1\n2 {}\n", /* an id too long */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        got_t g = {0};
        assert_int_equal(GV_EINVALID_REQUEST,
                         cluster_events_read(bad[i], strlen(bad[i]), &h, got_one, &g));
        assert_int_equal(0, g.n);
    }
    assert_int_equal(GV_EINVALID_REQUEST, cluster_events_read(NULL, 0, &h, NULL, NULL));
    buf_deinit(&b);
}

static void test_presence_reads_back_and_refuses_what_is_not_one(void **state)
{
    (void)state;
    cluster_presence_t p = {.auction = "au_7", .node = "node-b", .spectators = 12}, q;
    p.online[0] = p.online[5] = p.online[63] = 1;
    buf_t b;
    buf_init(&b);
    assert_int_equal(0, cluster_presence_write(&b, &p, 64));
    assert_string_equal("P au_7 node-b 12 0,5,63\n", b.data);
    assert_int_equal(0, cluster_presence_read(b.data, b.len, &q));
    assert_memory_equal(&p, &q, sizeof(p));
    buf_deinit(&b);
    buf_init(&b);
    p.online[63] = 0;
    assert_int_equal(0, cluster_presence_write(&b, &p, 5)); /* managers past the auction's: out */
    assert_string_equal("P au_7 node-b 12 0\n", b.data);
    buf_deinit(&b);
    const char *bad[] = {
        "P au_7 node-b 12 0,5,\n", "P au_7 node-b 12 ,5\n", "P au_7 node-b 12 64\n",
        "P au_7 node-b 12 0,5",    "P au_7 node-b -1 -\n",  "P au_7 12 -\n",
        "P au_7 node-b 12 -\nx",   "Q au_7 node-b 12 -\n",  "P  node-b 1 -\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(GV_EINVALID_REQUEST, cluster_presence_read(bad[i], strlen(bad[i]), &q));
    assert_int_equal(0, cluster_presence_read("P au_7 node-b 0 -\n", 18, &q));
    assert_int_equal(0, q.spectators);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_frame_reads_back_byte_for_byte),
        cmocka_unit_test(test_the_walk_stops_where_the_callback_says),
        cmocka_unit_test(test_a_cut_or_bent_frame_hands_out_nothing),
        cmocka_unit_test(test_presence_reads_back_and_refuses_what_is_not_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
