/* base64url (RFC 4648 §5, no padding) and hex encoding. Pure. */
#ifndef GAVEL_CORE_B64_H
#define GAVEL_CORE_B64_H

#include <stddef.h>

/* b64url_encode writes the unpadded base64url text of in[0..n) and a NUL into out (size cap).
 * Returns the text length, or 0 when it does not fit (nothing useful written). */
size_t b64url_encode(const unsigned char *in, size_t n, char *out, size_t cap);

/* b64url_decode decodes n characters of unpadded base64url. Strict: rejects '=', '+', '/',
 * whitespace, any other byte, a length of 1 mod 4, and non-zero unused trailing bits (so each
 * value has exactly one encoding). On success stores the byte count in *out_len and returns 0;
 * GV_EINVALID_REQUEST for bad input, GV_ELIMIT when out (size cap) is too small. */
int b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *out_len);

/* hex_encode writes 2n lower-case hex digits and a NUL into out (size >= 2n + 1). */
void hex_encode(const unsigned char *in, size_t n, char *out);

#endif
