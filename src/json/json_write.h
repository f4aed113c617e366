/* Writing JSON text straight into a buffer, for the few hot shapes (a bid's outcome and its
 * answer) where building a jansson tree and serialising it cost more than the rest of the bid. */
#ifndef GAVEL_JSON_JSON_WRITE_H
#define GAVEL_JSON_JSON_WRITE_H

#include "core/buf.h"

#include <stdint.h>

/* jw_str appends s (valid UTF-8, as every string jansson parsed or Gavel wrote is) as a JSON
 * string literal: quoted, with ", \ and control characters escaped, everything else as is.
 * 0 or GV_ENOMEM. */
int jw_str(buf_t *b, const char *s);

/* jw_key appends "key": (key as for jw_str). 0 or GV_ENOMEM. */
int jw_key(buf_t *b, const char *key);

/* jw_int appends v in decimal. 0 or GV_ENOMEM. */
int jw_int(buf_t *b, int64_t v);

#endif
