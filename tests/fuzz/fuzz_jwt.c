/* libFuzzer target: jwt_verify and b64url_decode on arbitrary bytes. The input is tried as a
 * token, as base64url text, and (split at the first newline) as header and payload JSON that
 * this target signs with the right key, so the JSON checks behind the MAC are reached too. */
#include "auth/jwt.h"
#include "core/b64.h"
#include "core/err.h"
#include "fuzz_text.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_KEY ((const unsigned char *)"secret")
#define FUZZ_KEY_LEN 6
#define FUZZ_NOW 1700000000

/* check_verdict aborts on an undocumented result or on claims that break the contract. */
static void check_verdict(int rc, const jwt_claims_t *c)
{
    if (rc != 0 && rc != GV_EUNAUTHORIZED && rc != GV_ETOKEN_EXPIRED)
        abort();
    if (rc != 0)
        return;
    size_t sub = strnlen(c->sub, sizeof(c->sub));
    if (sub == 0 || sub == sizeof(c->sub) || strnlen(c->jti, sizeof(c->jti)) == sizeof(c->jti))
        abort();
    if (c->exp <= FUZZ_NOW || c->iat > FUZZ_NOW + JWT_IAT_LEEWAY_S)
        abort();
    /* what was accepted can be signed again and verifies to the same claims */
    char again[JWT_MAX_LEN + 1];
    jwt_claims_t back;
    if (jwt_sign(FUZZ_KEY, FUZZ_KEY_LEN, c, again, sizeof(again)) != 0 ||
        jwt_verify(FUZZ_KEY, FUZZ_KEY_LEN, again, FUZZ_NOW, &back) != 0 ||
        memcmp(&back, c, sizeof(back)) != 0)
        abort();
}

/* fuzz_b64 decodes the raw bytes; accepted text must re-encode to exactly the same text. */
static void fuzz_b64(const char *text, size_t size)
{
    unsigned char *raw = malloc(size ? size : 1);
    char *back = malloc(size + 1);
    if (!raw || !back)
        abort();
    size_t n = 0;
    int rc = b64url_decode(text, size, raw, size, &n);
    if (rc != 0 && rc != GV_EINVALID_REQUEST)
        abort();
    if (rc == 0 && (b64url_encode(raw, n, back, size + 1) != size || memcmp(back, text, size)))
        abort();
    free(raw);
    free(back);
}

/* fuzz_signed makes b64(header).b64(payload).HS256 from the two halves and verifies it. */
static void fuzz_signed(const uint8_t *header, size_t hlen, const uint8_t *payload, size_t plen)
{
    size_t cap = (hlen + plen) / 3 * 4 + 64;
    char *tok = malloc(cap);
    if (!tok)
        abort();
    size_t o = b64url_encode(header, hlen, tok, cap);
    tok[o++] = '.';
    o += b64url_encode(payload, plen, tok + o, cap - o);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), FUZZ_KEY, FUZZ_KEY_LEN, (unsigned char *)tok, o, mac, &mac_len))
        abort();
    tok[o++] = '.';
    b64url_encode(mac, mac_len, tok + o, cap - o);
    jwt_claims_t c;
    check_verdict(jwt_verify(FUZZ_KEY, FUZZ_KEY_LEN, tok, FUZZ_NOW, &c), &c);
    free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    jwt_claims_t c;
    check_verdict(jwt_verify(FUZZ_KEY, FUZZ_KEY_LEN, text, FUZZ_NOW, &c), &c);
    fuzz_b64(text, size);
    const uint8_t *nl = memchr(data, '\n', size);
    if (nl)
        fuzz_signed(data, (size_t)(nl - data), nl + 1, size - (size_t)(nl - data) - 1);
    free(text);
    return 0;
}
