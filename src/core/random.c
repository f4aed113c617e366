/* Random bytes (see random.h). */
#include "core/random.h"

#include "core/err.h"

#include <limits.h>
#include <openssl/rand.h>

int random_bytes(void *buf, size_t n)
{
    return n <= INT_MAX && RAND_bytes(buf, (int)n) == 1 ? 0 : GV_EINTERNAL;
}
