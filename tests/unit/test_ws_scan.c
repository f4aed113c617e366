/* The WebSocket frame-header scanner: lengths over the message limit refused at the header
 * (7-, 16- and 64-bit forms, fragments whose declared sum passes it), exactly the limit
 * accepted, control frames skipped, headers split at every byte, forbidden lengths. The frames
 * are built here byte by byte from RFC 6455's layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/ws_scan.h"

#define LIMIT 65536u

/* Writes a masked client frame header declaring len; returns its size. */
static size_t frame_header(uint8_t *out, int fin, int opcode, uint64_t len)
{
    size_t n = 0;
    out[n++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        out[n++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xFFFF) {
        out[n++] = 0x80 | 126;
        out[n++] = (uint8_t)(len >> 8), out[n++] = (uint8_t)len;
    } else {
        out[n++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[n++] = (uint8_t)(len >> (8 * i));
    }
    memcpy(out + n, "\x01\x02\x03\x04", 4); /* mask key */
    return n + 4;
}

static int feed_header(ws_scan_t *s, int fin, int opcode, uint64_t len)
{
    uint8_t h[14];
    size_t n = frame_header(h, fin, opcode, len);
    return ws_scan_feed(s, h, n, LIMIT);
}

static int feed_payload(ws_scan_t *s, size_t len)
{
    static uint8_t zeros[LIMIT];
    return ws_scan_feed(s, zeros, len, LIMIT);
}

static void test_huge_64bit_length_refused_at_the_header(void **state)
{
    (void)state;
    ws_scan_t s;
    ws_scan_init(&s);
    assert_int_equal(feed_header(&s, 1, 0x1, INT64_MAX), WS_SCAN_TOO_BIG);
    assert_int_equal(feed_payload(&s, 10), WS_SCAN_TOO_BIG); /* and stays refused */
}

static void test_one_over_the_limit_in_each_length_form(void **state)
{
    (void)state;
    ws_scan_t s;
    ws_scan_init(&s);
    assert_int_equal(feed_header(&s, 1, 0x1, LIMIT + 1), WS_SCAN_TOO_BIG);
    ws_scan_init(&s);
    assert_int_equal(feed_header(&s, 1, 0x2, 0xFFFFFFFFull), WS_SCAN_TOO_BIG);
}

static void test_exactly_the_limit_then_more_messages(void **state)
{
    (void)state;
    ws_scan_t s;
    ws_scan_init(&s);
    assert_int_equal(feed_header(&s, 1, 0x1, LIMIT), WS_SCAN_OK);
    assert_int_equal(feed_payload(&s, LIMIT), WS_SCAN_OK);
    for (int i = 0; i < 3; i++) { /* each message counts on its own */
        assert_int_equal(feed_header(&s, 1, 0x1, 40000), WS_SCAN_OK);
        assert_int_equal(feed_payload(&s, 40000), WS_SCAN_OK);
    }
}

static void test_fragments_whose_sum_passes_the_limit(void **state)
{
    (void)state;
    ws_scan_t s;
    ws_scan_init(&s);
    assert_int_equal(feed_header(&s, 0, 0x1, 30000), WS_SCAN_OK);
    assert_int_equal(feed_payload(&s, 30000), WS_SCAN_OK);
    assert_int_equal(feed_header(&s, 0, 0x0, 30000), WS_SCAN_OK);
    assert_int_equal(feed_payload(&s, 30000), WS_SCAN_OK);
    /* a ping between fragments is not part of the message */
    assert_int_equal(feed_header(&s, 1, 0x9, 100), WS_SCAN_OK);
    assert_int_equal(feed_payload(&s, 100), WS_SCAN_OK);
    /* 60000 so far: 5536 more is exactly the limit, 5537 is over; declared without payload */
    ws_scan_t copy = s;
    assert_int_equal(feed_header(&copy, 1, 0x0, LIMIT - 60000), WS_SCAN_OK);
    assert_int_equal(feed_header(&s, 0, 0x0, LIMIT - 60000 + 1), WS_SCAN_TOO_BIG);
}

static void test_headers_split_at_every_byte(void **state)
{
    (void)state;
    uint8_t h[14];
    size_t n = frame_header(h, 1, 0x1, (uint64_t)1 << 40);
    for (size_t cut = 1; cut < n; cut++) {
        ws_scan_t s;
        ws_scan_init(&s);
        assert_int_equal(ws_scan_feed(&s, h, cut, LIMIT), WS_SCAN_OK);
        assert_int_equal(ws_scan_feed(&s, h + cut, n - cut, LIMIT), WS_SCAN_TOO_BIG);
    }
    /* a small frame and the next header in one feed */
    uint8_t two[64];
    size_t a = frame_header(two, 1, 0x1, 3);
    memcpy(two + a, "abc", 3);
    size_t b = frame_header(two + a + 3, 1, 0x1, LIMIT + 1);
    ws_scan_t s;
    ws_scan_init(&s);
    assert_int_equal(ws_scan_feed(&s, two, a + 3 + b, LIMIT), WS_SCAN_TOO_BIG);
}

static void test_top_bit_of_a_64bit_length_is_a_protocol_error(void **state)
{
    (void)state;
    ws_scan_t s;
    ws_scan_init(&s);
    assert_int_equal(feed_header(&s, 1, 0x9, (uint64_t)1 << 63), WS_SCAN_PROTOCOL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huge_64bit_length_refused_at_the_header),
        cmocka_unit_test(test_one_over_the_limit_in_each_length_form),
        cmocka_unit_test(test_exactly_the_limit_then_more_messages),
        cmocka_unit_test(test_fragments_whose_sum_passes_the_limit),
        cmocka_unit_test(test_headers_split_at_every_byte),
        cmocka_unit_test(test_top_bit_of_a_64bit_length_is_a_protocol_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
