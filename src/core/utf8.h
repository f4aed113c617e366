/* UTF-8 validation. Pure. */
#ifndef GAVEL_CORE_UTF8_H
#define GAVEL_CORE_UTF8_H

#include <stddef.h>

/* utf8_valid: 1 when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
int utf8_valid(const unsigned char *s, size_t n);

#endif
