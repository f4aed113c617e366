/* Secrets and ids: CSPRNG tokens (format, size, uniqueness), SHA-256 token hashes against the
 * FIPS 180-2 vectors, constant-time equality and random prefixed ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/token.h"
#include "core/b64.h"
#include "core/err.h"

#define ID_COUNT 10000

static const char b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void test_random_format(void **state)
{
    (void)state;
    char a[TOKEN_TEXT_LEN + 1], b[TOKEN_TEXT_LEN + 1];
    assert_int_equal(token_random(a), 0);
    assert_int_equal(token_random(b), 0);
    assert_int_equal(strlen(a), 43);
    assert_int_equal(strspn(a, b64url_chars), 43);
    assert_string_not_equal(a, b);
    unsigned char raw[64];
    size_t n = 0;
    assert_int_equal(b64url_decode(a, strlen(a), raw, sizeof(raw), &n), 0);
    assert_int_equal(n, TOKEN_BYTES);
}

/* 256 bits of randomness: over many tokens every alphabet character shows up at the first
 * position, and no two tokens are equal. */
static void test_random_spread(void **state)
{
    (void)state;
    enum { COUNT = 2000 };
    char(*tok)[TOKEN_TEXT_LEN + 1] = calloc(COUNT, sizeof(*tok));
    assert_non_null(tok);
    int seen[256] = {0};
    for (int i = 0; i < COUNT; i++) {
        assert_int_equal(token_random(tok[i]), 0);
        seen[(unsigned char)tok[i][0]] = 1;
    }
    for (const char *c = b64url_chars; *c; c++)
        assert_true(seen[(unsigned char)*c]);
    for (int i = 1; i < COUNT; i++)
        assert_string_not_equal(tok[i], tok[0]);
    free(tok);
}

static void expect_hash(const char *text, size_t len, const char *hex)
{
    unsigned char h[TOKEN_HASH_LEN];
    char got[2 * TOKEN_HASH_LEN + 1];
    token_hash(text, len, h);
    hex_encode(h, sizeof(h), got);
    assert_string_equal(got, hex);
}

static void test_hash_vectors(void **state)
{
    (void)state;
    expect_hash("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect_hash("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect_hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* the length is honoured: bytes after len are not hashed */
    expect_hash("abcdef", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_equal(void **state)
{
    (void)state;
    unsigned char a[TOKEN_HASH_LEN], b[TOKEN_HASH_LEN];
    token_hash("one", 3, a);
    token_hash("one", 3, b);
    assert_int_equal(token_equal(a, b, sizeof(a)), 1);
    b[TOKEN_HASH_LEN - 1] ^= 1; /* the last byte counts */
    assert_int_equal(token_equal(a, b, sizeof(a)), 0);
    b[TOKEN_HASH_LEN - 1] ^= 1;
    b[0] ^= 0x80;
    assert_int_equal(token_equal(a, b, sizeof(a)), 0);
    assert_int_equal(token_equal(a, b, 0), 1);
    assert_int_equal(token_equal("abcX", "abcY", 3), 1);
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void test_id_format(void **state)
{
    (void)state;
    char id[TOKEN_ID_MAX];
    assert_int_equal(token_id(id, "usr_"), 0);
    assert_int_equal(strlen(id), 24);
    assert_memory_equal(id, "usr_", 4);
    assert_int_equal(strspn(id + 4, "0123456789abcdef"), 20);
    assert_int_equal(token_id(id, "12345678"), 0);
    assert_int_equal(strlen(id), 28);
    assert_int_equal(token_id(id, ""), 0);
    assert_int_equal(strlen(id), 20);
    assert_int_equal(token_id(id, NULL), 0);
    assert_int_equal(strspn(id, "0123456789abcdef"), 20);
    assert_int_equal(token_id(id, "123456789"), GV_EINTERNAL); /* prefix over 8 chars */
    assert_string_equal(id, "");
}

static void test_id_unique(void **state)
{
    (void)state;
    char(*ids)[TOKEN_ID_MAX] = calloc(ID_COUNT, sizeof(*ids));
    assert_non_null(ids);
    for (int i = 0; i < ID_COUNT; i++)
        assert_int_equal(token_id(ids[i], "lg_"), 0);
    qsort(ids, ID_COUNT, sizeof(*ids), cmp_id);
    for (int i = 1; i < ID_COUNT; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
    free(ids);
}

static void test_code_format_and_normalize(void **state)
{
    (void)state;
    char code[TOKEN_CODE_LEN + 1], norm[TOKEN_CODE_LEN + 1];
    int seen[256] = {0};
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(token_code(code), 0);
        assert_int_equal(strlen(code), TOKEN_CODE_LEN);
        for (int k = 0; k < TOKEN_CODE_LEN; k++) {
            assert_non_null(strchr("23456789ABCDEFGHJKLMNPQRSTUVWXYZ", code[k]));
            seen[(unsigned char)code[k]]++;
        }
    }
    for (const char *c = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"; *c; c++)
        assert_true(seen[(unsigned char)*c] > 0); /* 16,000 draws reach all 32 symbols */
    assert_int_equal(token_code_normalize("abcd-efgh", norm), 0);
    assert_string_equal(norm, "ABCDEFGH");
    assert_int_equal(token_code_normalize(" 2345 6789 ", norm), 0);
    assert_string_equal(norm, "23456789");
    assert_int_equal(token_code_normalize("ABCD-EFG", norm), GV_EINVALID_TOKEN);
    assert_int_equal(token_code_normalize("ABCD-EFGHJ", norm), GV_EINVALID_TOKEN);
    assert_int_equal(token_code_normalize("ABCD-EFG0", norm), GV_EINVALID_TOKEN); /* no 0 */
    assert_int_equal(token_code_normalize("ABCD_EFGH", norm), GV_EINVALID_TOKEN);
    assert_int_equal(token_code_normalize("", norm), GV_EINVALID_TOKEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_format),
        cmocka_unit_test(test_random_spread),
        cmocka_unit_test(test_hash_vectors),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_id_format),
        cmocka_unit_test(test_id_unique),
        cmocka_unit_test(test_code_format_and_normalize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
