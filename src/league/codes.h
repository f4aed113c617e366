/* Invite and watch codes: 12 symbols from a 32-symbol alphabet without look-alikes (no 0/O,
 * 1/I), drawn from the OS CSPRNG (60 bits). Pure apart from the random source. */
#ifndef GAVEL_LEAGUE_CODES_H
#define GAVEL_LEAGUE_CODES_H

#include <stddef.h>

#define LEAGUE_CODE_LEN 12
#define LEAGUE_CODE_ALPHABET "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

/* league_code_new writes a fresh code and a NUL into out. 0 or GV_EINTERNAL (no randomness). */
int league_code_new(char out[LEAGUE_CODE_LEN + 1]);

/* league_code_normalize upper-cases a candidate code into out and checks it has exactly
 * LEAGUE_CODE_LEN symbols of the alphabet. 0 or GV_ENOT_FOUND (a malformed code names nothing:
 * callers answer it exactly like an unknown code). */
int league_code_normalize(const char *in, char out[LEAGUE_CODE_LEN + 1]);

#endif
