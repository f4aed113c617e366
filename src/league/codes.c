/* Code generation and normalisation. 32 symbols: a random byte's low 5 bits pick one without
 * bias. */
#include "league/codes.h"

#include "core/random.h"
#include "core/err.h"

#include <string.h>

int league_code_new(char out[LEAGUE_CODE_LEN + 1])
{
    unsigned char rnd[LEAGUE_CODE_LEN];
    if (random_bytes(rnd, sizeof(rnd)) != 0)
        return GV_EINTERNAL;
    for (size_t i = 0; i < LEAGUE_CODE_LEN; i++)
        out[i] = LEAGUE_CODE_ALPHABET[rnd[i] & 31];
    out[LEAGUE_CODE_LEN] = '\0';
    return 0;
}

int league_code_normalize(const char *in, char out[LEAGUE_CODE_LEN + 1])
{
    if (strlen(in) != LEAGUE_CODE_LEN)
        return GV_ENOT_FOUND;
    for (size_t i = 0; i < LEAGUE_CODE_LEN; i++) {
        char c = in[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c == '\0' || !strchr(LEAGUE_CODE_ALPHABET, c))
            return GV_ENOT_FOUND;
        out[i] = c;
    }
    out[LEAGUE_CODE_LEN] = '\0';
    return 0;
}
