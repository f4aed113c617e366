/* Secrets and identifiers: random tokens from OpenSSL's CSPRNG (seeded by the OS, no fallback),
 * their SHA-256 hashes for storage, constant-time comparison and random prefixed ids. */
#include "auth/token.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "core/b64.h"
#include "core/random.h"
#include "core/err.h"

#define TOKEN_ID_PREFIX_MAX 8
#define TOKEN_ID_RANDOM_BYTES 10 /* 80 bits, 20 hex digits */

int token_random(char out[TOKEN_TEXT_LEN + 1])
{
    unsigned char raw[TOKEN_BYTES];
    out[0] = '\0';
    if (random_bytes(raw, sizeof(raw)) != 0)
        return GV_EINTERNAL;
    size_t n = b64url_encode(raw, sizeof(raw), out, TOKEN_TEXT_LEN + 1);
    OPENSSL_cleanse(raw, sizeof(raw));
    return n == TOKEN_TEXT_LEN ? 0 : GV_EINTERNAL;
}

void token_hash(const char *text, size_t len, unsigned char out[TOKEN_HASH_LEN])
{
    static const unsigned char empty[1];
    SHA256(text ? (const unsigned char *)text : empty, text ? len : 0, out);
}

int token_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

int token_id(char out[TOKEN_ID_MAX], const char *prefix)
{
    size_t plen = prefix ? strnlen(prefix, TOKEN_ID_PREFIX_MAX + 1) : 0;
    out[0] = '\0';
    if (plen > TOKEN_ID_PREFIX_MAX)
        return GV_EINTERNAL;
    unsigned char raw[TOKEN_ID_RANDOM_BYTES];
    if (random_bytes(raw, sizeof(raw)) != 0)
        return GV_EINTERNAL;
    if (plen)
        memcpy(out, prefix, plen);
    hex_encode(raw, sizeof(raw), out + plen);
    return 0;
}

int token_code(char out[TOKEN_CODE_LEN + 1])
{
    unsigned char raw[TOKEN_CODE_LEN];
    out[0] = '\0';
    if (random_bytes(raw, sizeof(raw)) != 0)
        return GV_EINTERNAL;
    for (size_t i = 0; i < TOKEN_CODE_LEN; i++)
        out[i] = TOKEN_CODE_ALPHABET[raw[i] & 31]; /* 32 symbols: no modulo bias */
    out[TOKEN_CODE_LEN] = '\0';
    OPENSSL_cleanse(raw, sizeof(raw));
    return 0;
}

int token_code_normalize(const char *in, char out[TOKEN_CODE_LEN + 1])
{
    size_t n = 0;
    for (; *in; in++) {
        char c = *in >= 'a' && *in <= 'z' ? (char)(*in - 'a' + 'A') : *in;
        if (c == ' ' || c == '-')
            continue;
        if (n == TOKEN_CODE_LEN || !strchr(TOKEN_CODE_ALPHABET, c))
            return GV_EINVALID_TOKEN;
        out[n++] = c;
    }
    out[n] = '\0';
    return n == TOKEN_CODE_LEN ? 0 : GV_EINVALID_TOKEN;
}
