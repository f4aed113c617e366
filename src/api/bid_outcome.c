/* Bid outcomes written as text directly, and read back with jansson. */
#include "api/bid_outcome.h"

#include "core/err.h"
#include "json/json_text.h"
#include "json/json_write.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bid_outcome_accepted(bid_outcome_t *o, int64_t seq, int lot, int64_t amount,
                          int64_t ends_at_ms)
{
    memset(o, 0, sizeof(*o));
    o->status = 200;
    o->seq = seq;
    o->lot = lot;
    o->amount = amount;
    o->ends_at_ms = ends_at_ms;
}

/* Copies s into out (size n), cut if need be where a character starts, so that a cut text is
 * still UTF-8. */
static void bid_outcome_copy(char *out, size_t n, const char *s)
{
    size_t len = strlen(s);
    if (len >= n) {
        len = n - 1;
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--; /* s[len], the first byte left out, continues a character: leave it all out */
    }
    memcpy(out, s, len);
    out[len] = '\0';
}

void bid_outcome_rejected(bid_outcome_t *o, int status, const char *code, const char *message,
                          const char *details)
{
    memset(o, 0, sizeof(*o));
    o->status = status;
    bid_outcome_copy(o->code, sizeof(o->code), code);
    bid_outcome_copy(o->message, sizeof(o->message), message);
    /* a cut object is not JSON: none rather than a broken one */
    if (!details || strlen(details) >= sizeof(o->details))
        details = "{}";
    snprintf(o->details, sizeof(o->details), "%s", details);
}

/* "code":..,"message":..,"details":{..} */
static int bid_outcome_error_fields(const bid_outcome_t *o, buf_t *out)
{
    int rc = jw_key(out, "code");
    rc = rc ? rc : jw_str(out, o->code);
    rc = rc ? rc : buf_puts(out, ",");
    rc = rc ? rc : jw_key(out, "message");
    rc = rc ? rc : jw_str(out, o->message);
    rc = rc ? rc : buf_puts(out, ",\"details\":");
    return rc ? rc : buf_puts(out, o->details);
}

int bid_outcome_body(const bid_outcome_t *o, buf_t *out)
{
    int rc;
    if (o->status == 200) {
        rc = buf_puts(out, "{\"accepted\":true,\"seq\":");
        rc = rc ? rc : jw_int(out, o->seq);
        rc = rc ? rc : buf_puts(out, ",\"lot\":");
        rc = rc ? rc : jw_int(out, o->lot);
        rc = rc ? rc : buf_puts(out, ",\"amount\":");
        rc = rc ? rc : jw_int(out, o->amount);
        rc = rc ? rc : buf_puts(out, ",\"endsAtMs\":");
        rc = rc ? rc : jw_int(out, o->ends_at_ms);
        return rc ? rc : buf_puts(out, "}");
    }
    rc = buf_puts(out, "{\"error\":{");
    rc = rc ? rc : bid_outcome_error_fields(o, out);
    return rc ? rc : buf_puts(out, "}}");
}

int bid_outcome_record(const bid_outcome_t *o, buf_t *out)
{
    int rc = buf_puts(out, "{\"status\":");
    rc = rc ? rc : jw_int(out, o->status);
    rc = rc ? rc : buf_puts(out, ",\"body\":");
    rc = rc ? rc : bid_outcome_body(o, out);
    return rc ? rc : buf_puts(out, "}");
}

int bid_outcome_result(const bid_outcome_t *o, const char *cbid, buf_t *out)
{
    int rc = buf_puts(out, "{\"type\":\"bid_result\",\"clientBidId\":");
    rc = rc ? rc : jw_str(out, cbid);
    if (o->status == 200) {
        rc = rc ? rc : buf_puts(out, ",\"accepted\":true,\"seq\":");
        rc = rc ? rc : jw_int(out, o->seq);
        return rc ? rc : buf_puts(out, "}");
    }
    rc = rc ? rc : buf_puts(out, ",\"accepted\":false,");
    rc = rc ? rc : bid_outcome_error_fields(o, out);
    return rc ? rc : buf_puts(out, "}");
}

static const char *bid_outcome_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

int bid_outcome_parse(const char *text, bid_outcome_t *o)
{
    json_t *rec = json_loads(text, 0, NULL);
    json_t *body = json_object_get(rec, "body");
    json_t *err = json_object_get(body, "error");
    json_int_t st = json_integer_value(json_object_get(rec, "status"));
    int status = st >= 100 && st <= 599 ? (int)st : 0;
    int accepted = status == 200 && !err && json_is_true(json_object_get(body, "accepted"));
    int rejected = status >= 400 && status <= 599 && json_is_object(err);
    if (!accepted && !rejected) {
        json_decref(rec);
        return GV_EINVALID_JSON;
    }
    if (accepted) {
        bid_outcome_accepted(o, json_integer_value(json_object_get(body, "seq")),
                             (int)json_integer_value(json_object_get(body, "lot")),
                             json_integer_value(json_object_get(body, "amount")),
                             json_integer_value(json_object_get(body, "endsAtMs")));
    } else {
        json_t *d = json_object_get(err, "details");
        char *details = json_is_object(d) ? json_text(d, JSON_COMPACT) : NULL;
        bid_outcome_rejected(o, status, bid_outcome_str(err, "code"),
                             bid_outcome_str(err, "message"), details);
        free(details);
    }
    json_decref(rec);
    return 0;
}
