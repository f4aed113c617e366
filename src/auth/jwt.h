/* JWT access tokens: HS256 only, made and checked with OpenSSL's HMAC. Pure: time is passed in. */
#ifndef GAVEL_AUTH_JWT_H
#define GAVEL_AUTH_JWT_H

#include <stddef.h>
#include <stdint.h>

#define JWT_MAX_LEN 1024    /* longer tokens are refused before any work */
#define JWT_IAT_LEEWAY_S 30 /* iat may be at most this far in the future */

typedef struct {
    char sub[64]; /* the user id */
    int64_t iat;  /* issued at, epoch seconds */
    int64_t exp;  /* expires at, epoch seconds */
    char jti[48]; /* token id; may be empty on tokens made elsewhere */
} jwt_claims_t;

/* jwt_sign writes header.payload.signature for claims with key (key_len bytes) into out (size
 * cap, NUL-terminated). The header is {"alg":"HS256","typ":"JWT"}; the payload is compact
 * {"sub","iat","exp","jti"} (jti left out when empty). 0, GV_ELIMIT (out too small) or
 * GV_EINTERNAL (empty key, empty sub, invalid UTF-8). */
int jwt_sign(const unsigned char *key, size_t key_len, const jwt_claims_t *claims, char *out,
             size_t cap);

/* jwt_verify checks token at now_s: three base64url parts; the header is exactly alg HS256 and
 * typ JWT (any key order, no other keys); the HMAC-SHA256 signature compared in constant time;
 * the payload an object with string sub (1..63 bytes), integer iat and exp (jti a string of at
 * most 47 bytes when present; other claims ignored);
 * iat <= now_s + JWT_IAT_LEEWAY_S; now_s < exp (no leeway). On success fills *out and returns 0;
 * GV_ETOKEN_EXPIRED for a valid token past its exp; GV_EUNAUTHORIZED for everything else. */
int jwt_verify(const unsigned char *key, size_t key_len, const char *token, int64_t now_s,
               jwt_claims_t *out);

#endif
