/* JWT HS256: a vector computed with the shell's openssl, round trips, and every way a token must
 * be refused. Hostile tokens are signed with the right key wherever possible, so the check under
 * test (not the MAC) is what refuses them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/jwt.h"
#include "core/b64.h"
#include "core/err.h"

#define KEY ((const unsigned char *)"secret")
#define KEY_LEN 6
#define T0 1700000000
#define HS256_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define GOOD_PAYLOAD "{\"sub\":\"usr_1\",\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j1\"}"

/* Produced independently of this code with:
 *   H=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | basenc --base64url | tr -d '=\n')
 *   P=$(printf '%s' '{"sub":"usr_1","iat":1700000000,"exp":1700000900,"jti":"j1"}' \
 *       | basenc --base64url | tr -d '=\n')
 *   S=$(printf '%s' "$H.$P" | openssl dgst -sha256 -hmac secret -binary \
 *       | basenc --base64url | tr -d '=\n')
 *   echo "$H.$P.$S" */
static const char known_token[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJ1c3JfMSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwOTAwLCJqdGkiOiJqMSJ9."
    "jdffJPb7QtjEFdMe7zCKcxtyI-5zt8R8LJ_X04FbcGg";

/* Same method with '{"alg":"HS512","typ":"JWT"}', payload without jti, `openssl dgst -sha512`. */
static const char hs512_token[] =
    "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJ1c3JfMSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwOTAwfQ."
    "G54yt-vLT0_p1RlWXHXv7DbZZjExJZYP8GmIOQd-VxBay9y8x_AHpi332jB-H2eeLTTXNI6MPdF8V2CxpQjXZg";

/* make_token encodes header and payload text as given and signs header.payload with md and
 * key "secret" (md NULL: an empty signature part). */
static void make_token(const char *header, const char *payload, const EVP_MD *md, char *out,
                       size_t cap)
{
    size_t o = b64url_encode((const unsigned char *)header, strlen(header), out, cap);
    assert_true(o > 0 && o + 1 < cap);
    out[o++] = '.';
    size_t n = b64url_encode((const unsigned char *)payload, strlen(payload), out + o, cap - o);
    assert_true(n > 0 && o + n + 1 < cap);
    o += n;
    out[o++] = '.';
    out[o] = '\0';
    if (!md)
        return;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    assert_non_null(HMAC(md, KEY, KEY_LEN, (const unsigned char *)out, o - 1, mac, &mac_len));
    assert_true(b64url_encode(mac, mac_len, out + o, cap - o) > 0);
}

static int verify_at(const char *token, int64_t now)
{
    jwt_claims_t c;
    return jwt_verify(KEY, KEY_LEN, token, now, &c);
}

/* verify_signed signs header and payload with HS256 and verifies at T0. */
static int verify_signed(const char *header, const char *payload)
{
    char tok[4096];
    make_token(header, payload, EVP_sha256(), tok, sizeof(tok));
    return verify_at(tok, T0);
}

static jwt_claims_t sample_claims(void)
{
    jwt_claims_t c = {.iat = T0, .exp = T0 + 900};
    strcpy(c.sub, "usr_1");
    strcpy(c.jti, "j1");
    return c;
}

static void test_known_vector(void **state)
{
    (void)state;
    jwt_claims_t c = sample_claims();
    char tok[512];
    assert_int_equal(jwt_sign(KEY, KEY_LEN, &c, tok, sizeof(tok)), 0);
    assert_string_equal(tok, known_token);
    jwt_claims_t got;
    memset(&got, 0xa5, sizeof(got));
    assert_int_equal(jwt_verify(KEY, KEY_LEN, known_token, T0, &got), 0);
    assert_string_equal(got.sub, "usr_1");
    assert_string_equal(got.jti, "j1");
    assert_int_equal(got.iat, T0);
    assert_int_equal(got.exp, T0 + 900);
}

static void test_round_trip(void **state)
{
    (void)state;
    jwt_claims_t c = {.iat = 1, .exp = INT64_MAX};
    memset(c.sub, 'u', sizeof(c.sub) - 1); /* the longest sub: 63 bytes */
    strcpy(c.jti, "at_0123456789abcdef");
    const unsigned char key[32] = {0, 1, 2, 0xff};
    char tok[JWT_MAX_LEN + 1];
    assert_int_equal(jwt_sign(key, sizeof(key), &c, tok, sizeof(tok)), 0);
    jwt_claims_t got;
    assert_int_equal(jwt_verify(key, sizeof(key), tok, T0, &got), 0);
    assert_memory_equal(&got, &c, sizeof(c));
    /* without a jti: none in the token, none back (and out may be NULL) */
    c.jti[0] = '\0';
    strcpy(c.sub, "usr_\xc3\xa9t\xc3\xa9"); /* UTF-8 survives */
    assert_int_equal(jwt_sign(key, sizeof(key), &c, tok, sizeof(tok)), 0);
    assert_int_equal(jwt_verify(key, sizeof(key), tok, T0, &got), 0);
    assert_string_equal(got.sub, c.sub);
    assert_string_equal(got.jti, "");
    assert_int_equal(jwt_verify(key, sizeof(key), tok, T0, NULL), 0);
}

static void test_sign_errors(void **state)
{
    (void)state;
    jwt_claims_t c = sample_claims();
    char tok[512];
    size_t full = strlen(known_token);
    assert_int_equal(jwt_sign(KEY, KEY_LEN, &c, tok, full), GV_ELIMIT); /* no room for NUL */
    assert_string_equal(tok, "");
    assert_int_equal(jwt_sign(KEY, KEY_LEN, &c, tok, 10), GV_ELIMIT);
    assert_int_equal(jwt_sign(KEY, KEY_LEN, &c, tok, full + 1), 0);
    assert_int_equal(jwt_sign(KEY, 0, &c, tok, sizeof(tok)), GV_EINTERNAL); /* empty key */
    c.sub[0] = '\0';
    assert_int_equal(jwt_sign(KEY, KEY_LEN, &c, tok, sizeof(tok)), GV_EINTERNAL);
    c = sample_claims();
    memset(c.sub, 'u', sizeof(c.sub)); /* unterminated */
    assert_int_equal(jwt_sign(KEY, KEY_LEN, &c, tok, sizeof(tok)), GV_EINTERNAL);
    c = sample_claims();
    strcpy(c.sub, "bad\xff");
    assert_int_equal(jwt_sign(KEY, KEY_LEN, &c, tok, sizeof(tok)), GV_EINTERNAL);
}

/* tweak replaces one character of the token copy at index i with a different alphabet char
 * that keeps the text canonical base64url (only its value changes). */
static void tweak(char *tok, size_t i)
{
    tok[i] = tok[i] == 'A' ? 'B' : 'A';
}

static void test_tampering(void **state)
{
    (void)state;
    char tok[sizeof(known_token)];
    const char *dot1 = strchr(known_token, '.');
    const char *dot2 = strchr(dot1 + 1, '.');
    size_t in_payload = (size_t)(dot1 - known_token) + 9;
    size_t in_sig = (size_t)(dot2 - known_token) + 5;
    size_t in_header = 9;
    size_t at[] = {in_header, in_payload, in_sig};
    for (size_t k = 0; k < 3; k++) {
        memcpy(tok, known_token, sizeof(tok));
        tweak(tok, at[k]);
        assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED);
    }
    assert_int_equal(verify_at(known_token, T0), 0); /* the original still passes */

    /* every byte of the MAC counts: change each signature char in turn (the last one only
     * between values with the same unused low bits, so the text stays canonical) */
    size_t sig_at = (size_t)(dot2 - known_token) + 1;
    for (size_t i = sig_at; i < sizeof(known_token) - 1; i++) {
        memcpy(tok, known_token, sizeof(tok));
        if (i + 1 < sizeof(known_token) - 1)
            tweak(tok, i);
        else
            tok[i] = tok[i] == 'g' ? 'k' : 'g';
        assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED);
    }

    /* a different header that is itself acceptable, spliced onto the original payload and MAC */
    char splice[600];
    size_t o = b64url_encode((const unsigned char *)"{\"typ\":\"JWT\",\"alg\":\"HS256\"}", 27,
                             splice, sizeof(splice));
    strcpy(splice + o, dot1);
    assert_int_equal(verify_at(splice, T0), GV_EUNAUTHORIZED);
    /* a payload with a later exp, spliced with the original MAC */
    make_token(HS256_HEADER,
               "{\"sub\":\"usr_1\",\"iat\":1700000000,\"exp\":1800000900,\"jti\":\"j1\"}", NULL,
               splice, sizeof(splice));
    strcat(splice, dot2 + 1);
    assert_int_equal(verify_at(splice, T0), GV_EUNAUTHORIZED);
}

static void test_wrong_secret(void **state)
{
    (void)state;
    jwt_claims_t c;
    assert_int_equal(jwt_verify((const unsigned char *)"secreT", 6, known_token, T0, &c),
                     GV_EUNAUTHORIZED);
    assert_int_equal(jwt_verify((const unsigned char *)"secret!", 7, known_token, T0, &c),
                     GV_EUNAUTHORIZED);
    assert_int_equal(jwt_verify((const unsigned char *)"secre", 5, known_token, T0, &c),
                     GV_EUNAUTHORIZED);
    assert_int_equal(jwt_verify(KEY, 0, known_token, T0, &c), GV_EUNAUTHORIZED);
    assert_int_equal(jwt_verify(NULL, 0, known_token, T0, &c), GV_EUNAUTHORIZED);
    /* expired and signed with another key: unauthorized, not "expired" */
    assert_int_equal(jwt_verify((const unsigned char *)"other", 5, known_token, T0 + 5000, &c),
                     GV_EUNAUTHORIZED);
}

static void test_alg_none(void **state)
{
    (void)state;
    char tok[600];
    make_token("{\"alg\":\"none\",\"typ\":\"JWT\"}", GOOD_PAYLOAD, NULL, tok, sizeof(tok));
    assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED); /* "h.p." */
    make_token("{\"alg\":\"none\"}", GOOD_PAYLOAD, NULL, tok, sizeof(tok));
    assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED);
    /* even carrying a valid HS256 MAC, a header saying "none" is refused */
    assert_int_equal(verify_signed("{\"alg\":\"none\",\"typ\":\"JWT\"}", GOOD_PAYLOAD),
                     GV_EUNAUTHORIZED);
    assert_int_equal(verify_signed(HS256_HEADER, GOOD_PAYLOAD), 0); /* control */
}

static void test_other_algs(void **state)
{
    (void)state;
    assert_int_equal(verify_at(hs512_token, T0), GV_EUNAUTHORIZED);
    char tok[600];
    make_token("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", GOOD_PAYLOAD, EVP_sha512(), tok, sizeof(tok));
    assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED);
    /* the headers below carry a correct HS256 MAC: the header check alone refuses them */
    static const char *bad[] = {
        "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
        "{\"alg\":\"hs256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256 \",\"typ\":\"JWT\"}",
        "{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\",\"typ\":\"jwt\"}",
        "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"1\"}",
        "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"jku\":\"https://evil.example/k\"}",
        "{\"alg\":\"HS256\"}",
        "{\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\",\"alg\":\"HS256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\",\"typ\":null}",
        "{\"alg\":[\"HS256\"],\"typ\":\"JWT\"}",
        "[\"HS256\",\"JWT\"]",
        "\"HS256\"",
        "{\"alg\":\"HS256\",\"typ\":\"JWT\"",
        "{\"alg\":\"HS256\",\"typ\":\"JWT\"}x",
        "{\"alg\":\"HS256\\u0000\",\"typ\":\"JWT\"}",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (bad[i][0] == '\0')
            continue; /* an empty part: covered in test_shape */
        assert_int_equal(verify_signed(bad[i], GOOD_PAYLOAD), GV_EUNAUTHORIZED);
    }
}

static void test_header_key_order(void **state)
{
    (void)state;
    assert_int_equal(verify_signed("{\"typ\":\"JWT\",\"alg\":\"HS256\"}", GOOD_PAYLOAD), 0);
    assert_int_equal(verify_signed(HS256_HEADER, GOOD_PAYLOAD), 0);
}

static void test_expiry(void **state)
{
    (void)state;
    jwt_claims_t c;
    assert_int_equal(jwt_verify(KEY, KEY_LEN, known_token, T0 + 899, &c), 0);
    assert_int_equal(jwt_verify(KEY, KEY_LEN, known_token, T0 + 900, &c), GV_ETOKEN_EXPIRED);
    assert_int_equal(jwt_verify(KEY, KEY_LEN, known_token, T0 + 901, &c), GV_ETOKEN_EXPIRED);
    assert_int_equal(jwt_verify(KEY, KEY_LEN, known_token, INT64_MAX, &c), GV_ETOKEN_EXPIRED);
    /* iat in the future: 30 s of clock skew tolerated, 31 s not */
    assert_int_equal(jwt_verify(KEY, KEY_LEN, known_token, T0 - 30, &c), 0);
    assert_int_equal(jwt_verify(KEY, KEY_LEN, known_token, T0 - 31, &c), GV_EUNAUTHORIZED);
    assert_int_equal(jwt_verify(KEY, KEY_LEN, known_token, INT64_MIN, &c), GV_EUNAUTHORIZED);
    assert_int_equal(
        verify_signed(HS256_HEADER, "{\"sub\":\"u\",\"iat\":1700000031,\"exp\":1700000900}"),
        GV_EUNAUTHORIZED);
    assert_int_equal(
        verify_signed(HS256_HEADER, "{\"sub\":\"u\",\"iat\":1700000030,\"exp\":1700000900}"), 0);
    /* not yet valid and expired at once: refused as unauthorized */
    assert_int_equal(
        verify_signed(HS256_HEADER, "{\"sub\":\"u\",\"iat\":1700000031,\"exp\":1700000000}"),
        GV_EUNAUTHORIZED);
    /* extreme values neither overflow nor pass */
    assert_int_equal(verify_signed(HS256_HEADER, "{\"sub\":\"u\",\"iat\":9223372036854775807,"
                                                 "\"exp\":9223372036854775807}"),
                     GV_EUNAUTHORIZED);
    assert_int_equal(verify_signed(HS256_HEADER, "{\"sub\":\"u\",\"iat\":-9223372036854775808,"
                                                 "\"exp\":-9223372036854775808}"),
                     GV_ETOKEN_EXPIRED);
}

static void test_payload_shape(void **state)
{
    (void)state;
    static const char *bad[] = {
        "{\"iat\":1700000000,\"exp\":1700000900}",
        "{\"sub\":\"u\",\"exp\":1700000900}",
        "{\"sub\":\"u\",\"iat\":1700000000}",
        "{\"sub\":\"u\",\"iat\":1700000000,\"exp\":\"1700000900\"}",
        "{\"sub\":\"u\",\"iat\":1700000000,\"exp\":1700000900.0}",
        "{\"sub\":\"u\",\"iat\":1700000000,\"exp\":1.7000009e9}",
        "{\"sub\":\"u\",\"iat\":\"1700000000\",\"exp\":1700000900}",
        "{\"sub\":\"u\",\"iat\":1700000000.5,\"exp\":1700000900}",
        "{\"sub\":\"u\",\"iat\":null,\"exp\":1700000900}",
        "{\"sub\":\"u\",\"iat\":1700000000,\"exp\":99999999999999999999}",
        "{\"sub\":42,\"iat\":1700000000,\"exp\":1700000900}",
        "{\"sub\":\"\",\"iat\":1700000000,\"exp\":1700000900}",
        "{\"sub\":\"u\",\"iat\":1700000000,\"exp\":1700000900,\"jti\":7}",
        "{\"sub\":\"u\",\"iat\":1700000000,\"exp\":1700000900,\"jti\":null}",
        "{\"sub\":\"u\",\"iat\":1700000000,\"exp\":1700000900,\"sub\":\"admin\"}",
        "{\"sub\":\"u\\u0000x\",\"iat\":1700000000,\"exp\":1700000900}",
        "[\"u\",1700000000,1700000900]",
        "not json",
        "{\"sub\":\"u\",\"iat\":1700000000,\"exp\":1700000900",
        "{\"sub\":\"u\",\"iat\":1700000000,\"exp\":1700000900}{}",
        "null",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(verify_signed(HS256_HEADER, bad[i]), GV_EUNAUTHORIZED);
    /* the limits of sub and jti, and claims this server ignores */
    char p[400];
    snprintf(p, sizeof(p), "{\"sub\":\"%063d\",\"iat\":1700000000,\"exp\":1700000900}", 0);
    assert_int_equal(verify_signed(HS256_HEADER, p), 0);
    snprintf(p, sizeof(p), "{\"sub\":\"%064d\",\"iat\":1700000000,\"exp\":1700000900}", 0);
    assert_int_equal(verify_signed(HS256_HEADER, p), GV_EUNAUTHORIZED);
    snprintf(p, sizeof(p),
             "{\"sub\":\"u\",\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"%047d\"}", 0);
    assert_int_equal(verify_signed(HS256_HEADER, p), 0);
    snprintf(p, sizeof(p),
             "{\"sub\":\"u\",\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"%048d\"}", 0);
    assert_int_equal(verify_signed(HS256_HEADER, p), GV_EUNAUTHORIZED);
    assert_int_equal(verify_signed(HS256_HEADER, "{\"iss\":\"x\",\"sub\":\"u\",\"iat\":1700000000,"
                                                 "\"exp\":1700000900,\"nbf\":0}"),
                     0);
}

static void test_shape(void **state)
{
    (void)state;
    size_t len = strlen(known_token);
    char tok[2 * sizeof(known_token) + 8];
    static const char *bad[] = {"", ".", "..", "...", "a.b", "a..c", ".b.c", "a.b.", "abc"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(verify_at(bad[i], T0), GV_EUNAUTHORIZED);
    assert_int_equal(jwt_verify(KEY, KEY_LEN, NULL, T0, NULL), GV_EUNAUTHORIZED);
    /* four parts, a trailing dot, a leading dot */
    snprintf(tok, sizeof(tok), "%s.%s", known_token, "eyJ9");
    assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED);
    snprintf(tok, sizeof(tok), "%s.", known_token);
    assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED);
    snprintf(tok, sizeof(tok), ".%s", known_token);
    assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED);
    /* the signature dropped, shortened or lengthened */
    const char *dot2 = strrchr(known_token, '.');
    snprintf(tok, sizeof(tok), "%.*s.", (int)(dot2 - known_token), known_token);
    assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED);
    memcpy(tok, known_token, len + 1);
    tok[len - 3] = '\0'; /* 40 chars: 30 bytes */
    assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED);
    snprintf(tok, sizeof(tok), "%sAAAA", known_token); /* 35 bytes */
    assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED);
    /* padding or whitespace after a part */
    snprintf(tok, sizeof(tok), "%s=", known_token);
    assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED);
    snprintf(tok, sizeof(tok), "%s ", known_token);
    assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED);
    snprintf(tok, sizeof(tok), "%s\n", known_token);
    assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED);
}

/* sign_in_place appends "." and the HS256 MAC of the text already in tok (header.payload). */
static void sign_in_place(char *tok, size_t cap)
{
    size_t n = strlen(tok);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    assert_non_null(HMAC(EVP_sha256(), KEY, KEY_LEN, (const unsigned char *)tok, n, mac, &mac_len));
    assert_true(n + 2 < cap);
    tok[n] = '.';
    assert_int_equal(b64url_encode(mac, mac_len, tok + n + 1, cap - n - 1), 43);
}

/* Parts in padded or standard base64 whose MAC is correct over the exact text: the strict
 * decoder refuses them. */
static void test_padding_refused(void **state)
{
    (void)state;
    /* {"sub":"uuu","iat":1700000000,"exp":1700000900} is 47 bytes, so its base64 ends in "="
     * when padded. */
    const char *payload = "{\"sub\":\"uuu\",\"iat\":1700000000,\"exp\":1700000900}";
    char tok[600];
    make_token(HS256_HEADER, payload, EVP_sha256(), tok, sizeof(tok));
    assert_int_equal(verify_at(tok, T0), 0);
    *strrchr(tok, '.') = '\0';
    assert_int_equal(strlen(strchr(tok, '.') + 1) % 4, 3);
    strcat(tok, "=");
    sign_in_place(tok, sizeof(tok));
    assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED);
    /* the header padded the same way ({"alg":"HS256","typ":"JWT"} is 27 bytes: no padding
     * needed, so "=" there is plainly foreign) */
    make_token(HS256_HEADER, payload, NULL, tok, sizeof(tok));
    char padded[600];
    const char *dot = strchr(tok, '.');
    snprintf(padded, sizeof(padded), "%.*s=%.*s", (int)(dot - tok), tok, (int)strlen(dot) - 1, dot);
    sign_in_place(padded, sizeof(padded));
    assert_int_equal(verify_at(padded, T0), GV_EUNAUTHORIZED);

    /* '>>>' encodes as "Pj4-": '-' in base64url, '+' in standard base64 */
    make_token(HS256_HEADER, "{\"sub\":\">>>\",\"iat\":1700000000,\"exp\":1700000900}", NULL, tok,
               sizeof(tok));
    *strrchr(tok, '.') = '\0';
    char std[600];
    strcpy(std, tok);
    sign_in_place(tok, sizeof(tok));
    assert_int_equal(verify_at(tok, T0), 0);
    char *minus = strchr(std, '-');
    assert_non_null(minus);
    *minus = '+';
    sign_in_place(std, sizeof(std));
    assert_int_equal(verify_at(std, T0), GV_EUNAUTHORIZED);
}

/* token_of_len finds a valid token of exactly len chars by growing an ignored claim. */
static int token_of_len(size_t len, char *tok, size_t cap)
{
    static const char *names[] = {"x", "xy", "xyz"};
    for (size_t k = 0; k < 3; k++) {
        for (int filler = 1; filler < 900; filler++) {
            char payload[1024];
            snprintf(payload, sizeof(payload),
                     "{\"sub\":\"u\",\"iat\":1700000000,\"exp\":1700000900,\"%s\":\"%0*d\"}",
                     names[k], filler, 0);
            make_token(HS256_HEADER, payload, EVP_sha256(), tok, cap);
            if (strlen(tok) == len)
                return 1;
        }
    }
    return 0;
}

/* JWT_MAX_LEN: a valid token of exactly that length passes, one byte more is refused. */
static void test_length_limit(void **state)
{
    (void)state;
    char tok[2048];
    assert_true(token_of_len(JWT_MAX_LEN, tok, sizeof(tok)));
    assert_int_equal(verify_at(tok, T0), 0);
    assert_true(token_of_len(JWT_MAX_LEN + 1, tok, sizeof(tok)));
    assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED);
    assert_true(token_of_len(JWT_MAX_LEN + 200, tok, sizeof(tok)));
    assert_int_equal(verify_at(tok, T0), GV_EUNAUTHORIZED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vector), cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_sign_errors),  cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_wrong_secret), cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_other_algs),   cmocka_unit_test(test_header_key_order),
        cmocka_unit_test(test_expiry),       cmocka_unit_test(test_payload_shape),
        cmocka_unit_test(test_shape),        cmocka_unit_test(test_padding_refused),
        cmocka_unit_test(test_length_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
