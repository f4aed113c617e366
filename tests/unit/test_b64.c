/* base64url and hex: RFC 4648 vectors in the URL-safe alphabet, strict rejection of padding,
 * the standard alphabet, whitespace, impossible lengths and non-canonical trailing bits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/b64.h"
#include "core/err.h"

typedef struct {
    const char *plain;
    const char *text;
} vector_t;

/* RFC 4648 §10 test vectors, with the padding removed (base64url without '='). */
static const vector_t rfc4648[] = {
    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

static int decode_str(const char *text, unsigned char *out, size_t cap, size_t *n)
{
    return b64url_decode(text, strlen(text), out, cap, n);
}

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        const vector_t *v = &rfc4648[i];
        char text[16];
        memset(text, 'x', sizeof(text));
        assert_int_equal(
            b64url_encode((const unsigned char *)v->plain, strlen(v->plain), text, sizeof(text)),
            strlen(v->text));
        assert_string_equal(text, v->text);
        unsigned char plain[16];
        size_t n = 99;
        assert_int_equal(decode_str(v->text, plain, sizeof(plain), &n), 0);
        assert_int_equal(n, strlen(v->plain));
        assert_memory_equal(plain, v->plain, n);
    }
}

/* 0xfb 0xff uses both URL-safe characters: "+/8=" in standard base64, "-_8" here. */
static void test_url_alphabet(void **state)
{
    (void)state;
    const unsigned char raw[] = {0xfb, 0xff};
    char text[8];
    assert_int_equal(b64url_encode(raw, sizeof(raw), text, sizeof(text)), 3);
    assert_string_equal(text, "-_8");
    unsigned char back[4];
    size_t n = 0;
    assert_int_equal(decode_str("-_8", back, sizeof(back), &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(back, raw, 2);
    /* every byte value survives a round trip */
    unsigned char all[256], again[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    char big[400];
    size_t len = b64url_encode(all, sizeof(all), big, sizeof(big));
    assert_int_equal(len, 342);
    assert_int_equal(decode_str(big, again, sizeof(again), &n), 0);
    assert_int_equal(n, 256);
    assert_memory_equal(again, all, 256);
}

static void test_rejects_foreign_bytes(void **state)
{
    (void)state;
    static const char *bad[] = {
        "Zg==",  "Zm8=",   "Zg=",   "+_8",  "-/8",     "Zm9 v",    " Zm9v",
        "Zm9v ", "Zm9v\n", "Zm\t9", "Zm.9", "Zm9\x80", "Zm9v\xff", "Zm*v",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char out[16];
        size_t n = 77;
        assert_int_equal(decode_str(bad[i], out, sizeof(out), &n), GV_EINVALID_REQUEST);
        assert_int_equal(n, 77); /* untouched on failure */
    }
    /* an embedded NUL is a byte like any other: rejected, not treated as the end */
    unsigned char out[8];
    size_t n = 0;
    assert_int_equal(b64url_decode("Zm\0v", 4, out, sizeof(out), &n), GV_EINVALID_REQUEST);
}

static void test_rejects_bad_lengths(void **state)
{
    (void)state;
    unsigned char out[16];
    size_t n = 0;
    assert_int_equal(decode_str("Z", out, sizeof(out), &n), GV_EINVALID_REQUEST);
    assert_int_equal(decode_str("Zm9vY", out, sizeof(out), &n), GV_EINVALID_REQUEST);
    assert_int_equal(decode_str("Zm9vYmFyZ", out, sizeof(out), &n), GV_EINVALID_REQUEST);
    /* the neighbours of those lengths are fine */
    assert_int_equal(decode_str("Zm9vYg", out, sizeof(out), &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(b64url_decode("", 0, out, sizeof(out), &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(b64url_decode(NULL, 0, NULL, 0, &n), 0);
    assert_int_equal(n, 0);
}

/* "Zh" would also decode to "f" if the unused low bits were ignored: only "Zg" is accepted. */
static void test_rejects_noncanonical_bits(void **state)
{
    (void)state;
    unsigned char out[8];
    size_t n = 0;
    assert_int_equal(decode_str("Zg", out, sizeof(out), &n), 0);
    static const char *bad[] = {"Zh", "Zi", "Zp", "Zv", "Zm9", "Zm-", "Zm_", "Zm9vYh", "Zm9vYmF"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(decode_str(bad[i], out, sizeof(out), &n), GV_EINVALID_REQUEST);
    assert_int_equal(decode_str("Zm8", out, sizeof(out), &n), 0);
    assert_int_equal(decode_str("Zm9vYmE", out, sizeof(out), &n), 0);
    assert_int_equal(n, 5);
}

static void test_output_too_small(void **state)
{
    (void)state;
    unsigned char out[8];
    memset(out, 0xaa, sizeof(out));
    size_t n = 42;
    assert_int_equal(decode_str("Zm9vYmFy", out, 5, &n), GV_ELIMIT);
    assert_int_equal(n, 42);
    assert_int_equal(out[0], 0xaa); /* nothing written */
    assert_int_equal(decode_str("Zm9vYmFy", out, 6, &n), 0);
    assert_int_equal(n, 6);
    /* bad input is reported as bad even when the output is also too small */
    assert_int_equal(decode_str("Zm9v+mFy", out, 1, &n), GV_EINVALID_REQUEST);

    char text[9];
    memset(text, 'x', sizeof(text));
    const unsigned char *foobar = (const unsigned char *)"foobar";
    assert_int_equal(b64url_encode(foobar, 6, text, 8), 0); /* needs 8 + NUL */
    assert_int_equal(b64url_encode(foobar, 6, text, 9), 8);
    assert_string_equal(text, "Zm9vYmFy");
    assert_int_equal(b64url_encode(foobar, 1, text, 2), 0);
    assert_int_equal(b64url_encode(foobar, 1, text, 3), 2);
    assert_int_equal(b64url_encode(foobar, 0, text, 0), 0);
    assert_int_equal(b64url_encode(foobar, SIZE_MAX, text, sizeof(text)), 0);
}

static void test_hex(void **state)
{
    (void)state;
    const unsigned char raw[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
    char out[17];
    memset(out, 'x', sizeof(out));
    hex_encode(raw, sizeof(raw), out);
    assert_string_equal(out, "00017f80abcdefff");
    hex_encode(raw, 0, out);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_url_alphabet),
        cmocka_unit_test(test_rejects_foreign_bytes),
        cmocka_unit_test(test_rejects_bad_lengths),
        cmocka_unit_test(test_rejects_noncanonical_bits),
        cmocka_unit_test(test_output_too_small),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
