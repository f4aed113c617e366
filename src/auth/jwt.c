/* JWT access tokens (RFC 7519) restricted to HS256: payloads built with jansson, MACs made with
 * OpenSSL's HMAC. Verification checks the MAC over the exact received bytes before any JSON is
 * parsed, so an unauthenticated client never reaches the JSON parser with a chosen header. */
#include "auth/jwt.h"

#include "json/json_text.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/b64.h"
#include "core/err.h"

#define JWT_MAC_LEN 32
#define JWT_MAC_TEXT_LEN 43 /* unpadded base64url of 32 bytes */
/* The one header this server makes: base64url of {"alg":"HS256","typ":"JWT"}. */
#define JWT_HEADER_B64 "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
#define JWT_SUB_MAX (sizeof(((jwt_claims_t *)0)->sub) - 1)
#define JWT_JTI_MAX (sizeof(((jwt_claims_t *)0)->jti) - 1)

typedef struct {
    const char *part[3];
    size_t len[3];
} jwt_parts_t;

/* jwt_mac computes HMAC-SHA256 of data with key. An empty key is refused: it would make every
 * token forgeable. */
static int jwt_mac(const unsigned char *key, size_t key_len, const char *data, size_t n,
                   unsigned char mac[JWT_MAC_LEN])
{
    unsigned int mac_len = 0;
    if (!key || key_len == 0 || key_len > INT_MAX)
        return GV_EINTERNAL;
    if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)data, n, mac, &mac_len))
        return GV_EINTERNAL;
    return mac_len == JWT_MAC_LEN ? 0 : GV_EINTERNAL;
}

/* jwt_payload_dump gives the compact JSON payload of c (caller frees), NULL when c is unusable
 * (sub empty or unterminated, jti unterminated, invalid UTF-8) or out of memory. */
static char *jwt_payload_dump(const jwt_claims_t *c)
{
    size_t sub_len = strnlen(c->sub, sizeof(c->sub));
    size_t jti_len = strnlen(c->jti, sizeof(c->jti));
    if (sub_len == 0 || sub_len > JWT_SUB_MAX || jti_len > JWT_JTI_MAX)
        return NULL;
    json_t *obj = json_pack("{s:s%,s:I,s:I}", "sub", c->sub, sub_len, "iat", (json_int_t)c->iat,
                            "exp", (json_int_t)c->exp);
    if (obj && jti_len && json_object_set_new(obj, "jti", json_stringn(c->jti, jti_len)) != 0) {
        json_decref(obj);
        return NULL;
    }
    char *text = obj ? json_text(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    return text;
}

/* jwt_assemble writes header.payload.signature for the JSON payload text into out. */
static int jwt_assemble(const unsigned char *key, size_t key_len, const char *payload, char *out,
                        size_t cap)
{
    size_t o = sizeof(JWT_HEADER_B64) - 1;
    if (cap < o + 2)
        return GV_ELIMIT;
    memcpy(out, JWT_HEADER_B64, o);
    out[o++] = '.';
    size_t n = b64url_encode((const unsigned char *)payload, strlen(payload), out + o, cap - o);
    if (n == 0)
        return GV_ELIMIT;
    o += n;
    unsigned char mac[JWT_MAC_LEN];
    int rc = jwt_mac(key, key_len, out, o, mac);
    if (rc)
        return rc;
    if (cap - o < 2)
        return GV_ELIMIT;
    out[o++] = '.';
    return b64url_encode(mac, sizeof(mac), out + o, cap - o) == JWT_MAC_TEXT_LEN ? 0 : GV_ELIMIT;
}

int jwt_sign(const unsigned char *key, size_t key_len, const jwt_claims_t *claims, char *out,
             size_t cap)
{
    if (!out || cap == 0)
        return GV_ELIMIT;
    out[0] = '\0';
    if (!claims)
        return GV_EINTERNAL;
    char *payload = jwt_payload_dump(claims);
    if (!payload)
        return GV_EINTERNAL;
    int rc = jwt_assemble(key, key_len, payload, out, cap);
    free(payload);
    if (rc)
        out[0] = '\0';
    return rc;
}

/* jwt_split finds exactly three non-empty dot-separated parts in a token of at most
 * JWT_MAX_LEN bytes. */
static int jwt_split(const char *token, jwt_parts_t *p)
{
    size_t len = strnlen(token, JWT_MAX_LEN + 1);
    if (len > JWT_MAX_LEN)
        return GV_EUNAUTHORIZED;
    size_t start = 0;
    int i = 0;
    for (size_t k = 0; k <= len; k++) {
        if (k < len && token[k] != '.')
            continue;
        if (i == 3 || k == start)
            return GV_EUNAUTHORIZED;
        p->part[i] = token + start;
        p->len[i++] = k - start;
        start = k + 1;
    }
    return i == 3 ? 0 : GV_EUNAUTHORIZED;
}

/* jwt_string_is tells whether v is a JSON string with exactly the bytes of want. */
static int jwt_string_is(const json_t *v, const char *want)
{
    size_t n = strlen(want);
    return json_is_string(v) && json_string_length(v) == n &&
           memcmp(json_string_value(v), want, n) == 0;
}

/* jwt_header_ok accepts only an object with exactly alg "HS256" and typ "JWT", in any order. */
static int jwt_header_ok(const unsigned char *text, size_t n)
{
    json_t *obj = json_loadb((const char *)text, n, JSON_REJECT_DUPLICATES, NULL);
    int ok = json_is_object(obj) && json_object_size(obj) == 2 &&
             jwt_string_is(json_object_get(obj, "alg"), "HS256") &&
             jwt_string_is(json_object_get(obj, "typ"), "JWT");
    json_decref(obj);
    return ok;
}

/* jwt_string_fits tells whether v is a string of min..max bytes with no NUL inside. */
static int jwt_string_fits(const json_t *v, size_t min, size_t max)
{
    size_t n = json_string_length(v);
    return json_is_string(v) && n >= min && n <= max && strlen(json_string_value(v)) == n;
}

/* jwt_claims_read copies sub, iat, exp and the optional jti out of a payload object. */
static int jwt_claims_read(const json_t *obj, jwt_claims_t *c)
{
    const json_t *sub = json_object_get(obj, "sub");
    const json_t *iat = json_object_get(obj, "iat");
    const json_t *exp = json_object_get(obj, "exp");
    const json_t *jti = json_object_get(obj, "jti");
    if (!jwt_string_fits(sub, 1, JWT_SUB_MAX) || !json_is_integer(iat) || !json_is_integer(exp))
        return GV_EUNAUTHORIZED;
    if (jti && !jwt_string_fits(jti, 0, JWT_JTI_MAX))
        return GV_EUNAUTHORIZED;
    memset(c, 0, sizeof(*c));
    memcpy(c->sub, json_string_value(sub), json_string_length(sub));
    if (jti)
        memcpy(c->jti, json_string_value(jti), json_string_length(jti));
    c->iat = json_integer_value(iat);
    c->exp = json_integer_value(exp);
    return 0;
}

static int jwt_payload_parse(const unsigned char *text, size_t n, jwt_claims_t *c)
{
    json_t *obj = json_loadb((const char *)text, n, JSON_REJECT_DUPLICATES, NULL);
    int rc = json_is_object(obj) ? jwt_claims_read(obj, c) : GV_EUNAUTHORIZED;
    json_decref(obj);
    return rc;
}

/* jwt_time_check: iat at most JWT_IAT_LEEWAY_S ahead of now (written so it cannot overflow),
 * then exp strictly after now. */
static int jwt_time_check(const jwt_claims_t *c, int64_t now_s)
{
    if (now_s <= INT64_MAX - JWT_IAT_LEEWAY_S && c->iat > now_s + JWT_IAT_LEEWAY_S)
        return GV_EUNAUTHORIZED;
    return now_s >= c->exp ? GV_ETOKEN_EXPIRED : 0;
}

int jwt_verify(const unsigned char *key, size_t key_len, const char *token, int64_t now_s,
               jwt_claims_t *out)
{
    jwt_parts_t p;
    unsigned char hdr[JWT_MAX_LEN], pay[JWT_MAX_LEN], sig[JWT_MAC_LEN], mac[JWT_MAC_LEN];
    size_t hdr_len = 0, pay_len = 0, sig_len = 0;
    if (!token || jwt_split(token, &p) != 0)
        return GV_EUNAUTHORIZED;
    if (b64url_decode(p.part[0], p.len[0], hdr, sizeof(hdr), &hdr_len) != 0 ||
        b64url_decode(p.part[1], p.len[1], pay, sizeof(pay), &pay_len) != 0 ||
        b64url_decode(p.part[2], p.len[2], sig, sizeof(sig), &sig_len) != 0 ||
        sig_len != JWT_MAC_LEN)
        return GV_EUNAUTHORIZED;
    /* The MAC covers the exact bytes received: header text, the dot, payload text. */
    if (jwt_mac(key, key_len, token, p.len[0] + 1 + p.len[1], mac) != 0 ||
        CRYPTO_memcmp(mac, sig, JWT_MAC_LEN) != 0)
        return GV_EUNAUTHORIZED;
    jwt_claims_t c;
    if (!jwt_header_ok(hdr, hdr_len) || jwt_payload_parse(pay, pay_len, &c) != 0)
        return GV_EUNAUTHORIZED;
    int rc = jwt_time_check(&c, now_s);
    if (rc == 0 && out)
        *out = c;
    return rc;
}
