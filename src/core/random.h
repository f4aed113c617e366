/* Random bytes from the operating system's CSPRNG (through OpenSSL): the one source of
 * randomness for tokens, codes, ids, hash keys and lot orders. */
#ifndef GAVEL_CORE_RANDOM_H
#define GAVEL_CORE_RANDOM_H

#include <stddef.h>

/* random_bytes fills buf with n unpredictable bytes. 0, or GV_EINTERNAL when the generator
 * cannot (buf is then unusable: never fall back to anything weaker). */
int random_bytes(void *buf, size_t n);

#endif
