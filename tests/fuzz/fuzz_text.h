/* The fuzzer's bytes as a C string: a malloc'ed copy with a NUL after the last byte (free() it).
 * The copy is exactly size + 1 bytes, so a read past the NUL is caught by AddressSanitizer. */
#ifndef GAVEL_TESTS_FUZZ_TEXT_H
#define GAVEL_TESTS_FUZZ_TEXT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    return text;
}

#endif
