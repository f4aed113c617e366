/* Secrets and identifiers: CSPRNG tokens, SHA-256 token hashes, constant-time comparison, ids. */
#ifndef GAVEL_AUTH_TOKEN_H
#define GAVEL_AUTH_TOKEN_H

#include <stddef.h>

#define TOKEN_BYTES 32
#define TOKEN_TEXT_LEN 43 /* base64url of 32 bytes, unpadded */
#define TOKEN_HASH_LEN 32 /* SHA-256 */
#define TOKEN_ID_MAX 40

/* token_random fills out with TOKEN_BYTES from the OS CSPRNG as unpadded base64url text
 * (TOKEN_TEXT_LEN chars + NUL). 0, or GV_EINTERNAL when the CSPRNG fails (never falls back). */
int token_random(char out[TOKEN_TEXT_LEN + 1]);

/* token_hash stores SHA-256(text) in out. */
void token_hash(const char *text, size_t len, unsigned char out[TOKEN_HASH_LEN]);

/* Sign-in codes: TOKEN_CODE_LEN symbols of the invite alphabet (no look-alikes: no 0/O, 1/I),
 * 40 bits; typed by hand, so the reader forgives case, spaces and dashes. */
#define TOKEN_CODE_LEN 8
#define TOKEN_CODE_ALPHABET "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

/* token_code writes a fresh code and a NUL into out. 0, or GV_EINTERNAL when the CSPRNG fails. */
int token_code(char out[TOKEN_CODE_LEN + 1]);

/* token_code_normalize upper-cases in, drops spaces and dashes and checks that exactly
 * TOKEN_CODE_LEN symbols of the alphabet remain, written to out. 0 or GV_EINVALID_TOKEN. */
int token_code_normalize(const char *in, char out[TOKEN_CODE_LEN + 1]);

/* token_equal compares n bytes in constant time; 1 when equal. */
int token_equal(const void *a, const void *b, size_t n);

/* token_id writes prefix + 20 random hex digits (80 bits) and a NUL into out (size
 * TOKEN_ID_MAX); prefix is at most 8 chars ("usr_", "lg_"). 0 or GV_EINTERNAL. */
int token_id(char out[TOKEN_ID_MAX], const char *prefix);

#endif
