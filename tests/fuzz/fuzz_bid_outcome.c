/* libFuzzer target: bid_outcome_parse on arbitrary bytes (a stored outcome record), and jw_str on
 * any valid UTF-8. A record that parses is written again and must read back the same, and every
 * text written must be JSON that jansson reads back to the same values. */
#include "api/bid_outcome.h"
#include "core/err.h"
#include "json/json_write.h"
#include "fuzz_text.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The three texts of o must be JSON. */
static void texts_are_json(const bid_outcome_t *o, const char *cbid)
{
    buf_t t[3];
    for (int i = 0; i < 3; i++)
        buf_init(&t[i]);
    if (bid_outcome_record(o, &t[0]) || bid_outcome_body(o, &t[1]) ||
        bid_outcome_result(o, cbid, &t[2]))
        abort();
    for (int i = 0; i < 3; i++) {
        json_t *v = json_loadb(t[i].data, t[i].len, 0, NULL);
        if (!json_is_object(v))
            abort();
        json_decref(v);
        buf_deinit(&t[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    bid_outcome_t o, again;
    if (bid_outcome_parse(text, &o) == 0) {
        if (o.status < 100 || o.status > 599)
            abort();
        buf_t rec;
        buf_init(&rec);
        if (bid_outcome_record(&o, &rec) || bid_outcome_parse(rec.data, &again) ||
            memcmp(&o, &again, sizeof(o)) != 0)
            abort();
        buf_deinit(&rec);
        texts_are_json(&o, "fuzz");
    }
    /* jw_str: the bytes as a string, when they are UTF-8 without a NUL (jansson checks) */
    json_t *s = memchr(text, 0, size) ? NULL : json_stringn(text, size);
    if (s) {
        buf_t b;
        buf_init(&b);
        json_t *back =
            jw_str(&b, text) == 0 ? json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL) : NULL;
        if (!back || !json_equal(s, back))
            abort();
        json_decref(back);
        buf_deinit(&b);
        json_decref(s);
    }
    free(text);
    return 0;
}
