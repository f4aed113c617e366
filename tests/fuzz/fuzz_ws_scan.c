/* libFuzzer target: the WebSocket frame-header scanner on arbitrary bytes. The verdict must not
 * depend on how the stream is cut into reads (whole, byte by byte, or at the cut points the
 * first input byte chooses), and the scanner never reads outside what it was given. */
#include "net/ws_scan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT 65536u

static int verdict_in_pieces(const uint8_t *data, size_t size, size_t step)
{
    ws_scan_t s;
    ws_scan_init(&s);
    int v = WS_SCAN_OK;
    for (size_t off = 0; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        uint8_t *copy = malloc(n); /* exactly n bytes: reads past them are caught */
        if (!copy)
            abort();
        memcpy(copy, data + off, n);
        v = ws_scan_feed(&s, copy, n, LIMIT);
        free(copy);
    }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t step = (size_t)data[0] % 17 + 1;
    int whole = verdict_in_pieces(data + 1, size - 1, size);
    if (verdict_in_pieces(data + 1, size - 1, 1) != whole ||
        verdict_in_pieces(data + 1, size - 1, step) != whole)
        abort();
    if (whole != WS_SCAN_OK && whole != WS_SCAN_TOO_BIG && whole != WS_SCAN_PROTOCOL)
        abort();
    return 0;
}
