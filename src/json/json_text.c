/* Checked JSON serialisation (see json_text.h). */
#include "json/json_text.h"

#include "core/buf.h"

#include <stdlib.h>

typedef struct {
    buf_t out;
    int failed; /* sticky: jansson ignores some of our refusals, we do not */
} json_text_sink_t;

static int json_text_piece(const char *piece, size_t len, void *data)
{
    json_text_sink_t *s = data;
    if (!s->failed && buf_append(&s->out, piece, len) != 0)
        s->failed = 1;
    return s->failed ? -1 : 0;
}

char *json_text(const json_t *v, size_t flags)
{
    json_text_sink_t s = {.failed = 0};
    buf_init(&s.out);
    int rc = v ? json_dump_callback(v, json_text_piece, &s, flags) : -1;
    if (rc == 0 && !s.failed && buf_append(&s.out, "", 1) == 0)
        return buf_steal(&s.out);
    buf_deinit(&s.out);
    return NULL;
}
