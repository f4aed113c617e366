/* A bid's outcome written as text without jansson (the record kept for its clientBidId, the REST
 * body, the WebSocket bid_result) and read back: jansson, which parses every text a client or the
 * store sees, is the oracle for what the texts mean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/bid_outcome.h"
#include "core/err.h"
#include "json/json_write.h"

/* Parses text (which must be JSON) with jansson. */
static json_t *parsed(const buf_t *text)
{
    json_error_t e;
    json_t *v = json_loadb(text->data, text->len, 0, &e);
    if (!v)
        fail_msg("not JSON (%s): %s", e.text, text->data);
    return v;
}

static const char *str_at(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    assert_non_null(s);
    return s;
}

static json_int_t int_at(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static void test_accepted_texts(void **state)
{
    (void)state;
    bid_outcome_t o, back;
    bid_outcome_accepted(&o, 9007199254740991LL, 7, 1250000, 1767225660000LL);
    buf_t rec, body, res;
    buf_init(&rec), buf_init(&body), buf_init(&res);
    assert_int_equal(0, bid_outcome_record(&o, &rec));
    assert_int_equal(0, bid_outcome_body(&o, &body));
    assert_int_equal(0, bid_outcome_result(&o, "c-1", &res));
    /* the record has the shape every stored outcome has had */
    assert_string_equal("{\"status\":200,\"body\":{\"accepted\":true,\"seq\":9007199254740991,"
                        "\"lot\":7,\"amount\":1250000,\"endsAtMs\":1767225660000}}",
                        rec.data);
    json_t *b = parsed(&body), *r = parsed(&res);
    assert_true(json_is_true(json_object_get(b, "accepted")));
    assert_int_equal(9007199254740991LL, int_at(b, "seq"));
    assert_int_equal(7, int_at(b, "lot"));
    assert_int_equal(1250000, int_at(b, "amount"));
    assert_int_equal(1767225660000LL, int_at(b, "endsAtMs"));
    assert_int_equal(5, json_object_size(b));
    assert_string_equal("bid_result", str_at(r, "type"));
    assert_string_equal("c-1", str_at(r, "clientBidId"));
    assert_true(json_is_true(json_object_get(r, "accepted")));
    assert_int_equal(9007199254740991LL, int_at(r, "seq"));
    assert_int_equal(4, json_object_size(r));
    assert_int_equal(0, bid_outcome_parse(rec.data, &back));
    assert_int_equal(200, back.status);
    assert_int_equal(o.seq, back.seq);
    assert_int_equal(o.lot, back.lot);
    assert_int_equal(o.amount, back.amount);
    assert_int_equal(o.ends_at_ms, back.ends_at_ms);
    json_decref(b), json_decref(r);
    buf_deinit(&rec), buf_deinit(&body), buf_deinit(&res);
}

static void test_rejected_texts_escape_what_they_carry(void **state)
{
    (void)state;
    /* a clientBidId is the client's: quotes, backslashes, control characters, any language */
    const char *cbid = "a\"b\\c\n\t\x01\x1f/é£€😀";
    const char *msg = "Bid must be at least £1,250 \"now\"\\";
    bid_outcome_t o, back;
    bid_outcome_rejected(&o, 409, "bid_too_low", msg, "{\"minimum\":1250}");
    buf_t rec, body, res;
    buf_init(&rec), buf_init(&body), buf_init(&res);
    assert_int_equal(0, bid_outcome_record(&o, &rec));
    assert_int_equal(0, bid_outcome_body(&o, &body));
    assert_int_equal(0, bid_outcome_result(&o, cbid, &res));
    json_t *b = parsed(&body), *r = parsed(&res), *rc = parsed(&rec);
    json_t *err = json_object_get(b, "error");
    assert_string_equal("bid_too_low", str_at(err, "code"));
    assert_string_equal(msg, str_at(err, "message"));
    assert_int_equal(1250, int_at(json_object_get(err, "details"), "minimum"));
    assert_int_equal(409, int_at(rc, "status"));
    assert_true(json_equal(b, json_object_get(rc, "body")));
    assert_string_equal(cbid, str_at(r, "clientBidId"));
    assert_true(json_is_false(json_object_get(r, "accepted")));
    assert_string_equal("bid_too_low", str_at(r, "code"));
    assert_string_equal(msg, str_at(r, "message"));
    assert_int_equal(1250, int_at(json_object_get(r, "details"), "minimum"));
    assert_int_equal(0, bid_outcome_parse(rec.data, &back));
    assert_int_equal(409, back.status);
    assert_string_equal("bid_too_low", back.code);
    assert_string_equal(msg, back.message);
    assert_string_equal("{\"minimum\":1250}", back.details);
    json_decref(b), json_decref(r), json_decref(rc);
    buf_deinit(&rec), buf_deinit(&body), buf_deinit(&res);
}

static void test_no_details_is_an_empty_object_and_long_texts_are_cut_whole(void **state)
{
    (void)state;
    char msg[400], details[400];
    memset(msg, 'a', 198);
    strcpy(msg + 198, "£ tail"); /* £ (2 bytes) would straddle the 200-byte field */
    snprintf(details, sizeof(details), "{\"k\":\"%0300d\"}", 0);
    bid_outcome_t o;
    bid_outcome_rejected(&o, 409, "lot_closed", msg, NULL);
    assert_string_equal("{}", o.details);
    assert_int_equal(198, strlen(o.message)); /* cut before the £, not in it */
    bid_outcome_rejected(&o, 409, "lot_closed", "m", details);
    assert_string_equal("{}", o.details); /* a cut object would not be JSON */
    buf_t res;
    buf_init(&res);
    assert_int_equal(0, bid_outcome_result(&o, "x", &res));
    json_t *r = parsed(&res);
    assert_int_equal(0, json_object_size(json_object_get(r, "details")));
    json_decref(r);
    buf_deinit(&res);
}

static void test_parse_reads_older_records_and_refuses_others(void **state)
{
    (void)state;
    bid_outcome_t o;
    /* as jansson wrote them before, key order and spacing aside */
    assert_int_equal(0, bid_outcome_parse("{\"body\": {\"error\": {\"details\": {\"maxBid\": 40}, "
                                          "\"message\": \"At most £40\", \"code\": "
                                          "\"over_max_bid\"}}, \"status\": 409}",
                                          &o));
    assert_int_equal(409, o.status);
    assert_string_equal("over_max_bid", o.code);
    assert_string_equal("At most £40", o.message);
    assert_string_equal("{\"maxBid\":40}", o.details);
    assert_int_equal(0, bid_outcome_parse("{\"status\":409,\"body\":{\"error\":{\"code\":\"x\","
                                          "\"message\":\"y\"}}}",
                                          &o));
    assert_string_equal("{}", o.details);
    assert_int_equal(GV_EINVALID_JSON, bid_outcome_parse("", &o));
    assert_int_equal(GV_EINVALID_JSON, bid_outcome_parse("{\"status\":200}", &o));
    assert_int_equal(GV_EINVALID_JSON, bid_outcome_parse("{\"status\":7,\"body\":{}}", &o));
    assert_int_equal(GV_EINVALID_JSON, bid_outcome_parse("[1,2]", &o));
}

/* Appends code point c as UTF-8. */
static size_t utf8_put(char *p, uint32_t c)
{
    if (c < 0x80)
        return p[0] = (char)c, 1;
    if (c < 0x800)
        return p[0] = (char)(0xc0 | c >> 6), p[1] = (char)(0x80 | (c & 0x3f)), 2;
    if (c < 0x10000)
        return p[0] = (char)(0xe0 | c >> 12), p[1] = (char)(0x80 | (c >> 6 & 0x3f)),
               p[2] = (char)(0x80 | (c & 0x3f)), 3;
    return p[0] = (char)(0xf0 | c >> 18), p[1] = (char)(0x80 | (c >> 12 & 0x3f)),
           p[2] = (char)(0x80 | (c >> 6 & 0x3f)), p[3] = (char)(0x80 | (c & 0x3f)), 4;
}

static void test_jw_str_round_trips_through_jansson(void **state)
{
    (void)state;
    static const uint32_t pick[] = {1,     8,      9,      10,     13,      31,      32,
                                    '"',   '\\',   '/',    'a',    0x7f,    0xe9,    0x7ff,
                                    0x800, 0x2028, 0xfffd, 0xffff, 0x10000, 0x1f600, 0x10ffff};
    uint64_t x = 88172645463325252u; /* xorshift64, fixed seed */
    for (int n = 0; n < 3000; n++) {
        char s[400];
        size_t len = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int chars = (int)(x % 60);
        for (int i = 0; i < chars; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint32_t c = x % 3 ? pick[x % (sizeof(pick) / sizeof(pick[0]))]
                               : (uint32_t)(1 + (x >> 8) % 0xd7ff); /* below the surrogates */
            len += utf8_put(s + len, c);
        }
        s[len] = '\0';
        buf_t b;
        buf_init(&b);
        assert_int_equal(0, jw_str(&b, s));
        json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        assert_string_equal(s, json_string_value(v));
        json_decref(v);
        buf_deinit(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted_texts),
        cmocka_unit_test(test_rejected_texts_escape_what_they_carry),
        cmocka_unit_test(test_no_details_is_an_empty_object_and_long_texts_are_cut_whole),
        cmocka_unit_test(test_parse_reads_older_records_and_refuses_others),
        cmocka_unit_test(test_jw_str_round_trips_through_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
