/* JSON helpers: strict body parsing, unknown-field rejection and response serialization. */
#include "json/json.h"

#include "core/err.h"
#include "json/json_text.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int json_depth_ok(const char *text, size_t len, int max_depth)
{
    int depth = 0, in_str = 0, esc = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (ch == '\\')
                esc = 1;
            else if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == '{' || ch == '[') {
            if (++depth > max_depth)
                return 0;
        } else if ((ch == '}' || ch == ']') && depth > 0) {
            depth--;
        }
    }
    return 1;
}

int json_parse_object(const char *text, size_t len, json_t **out)
{
    *out = NULL;
    if (!json_depth_ok(text, len, JSON_MAX_DEPTH))
        return GV_EINVALID_JSON;
    json_error_t e;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    if (!v) /* valid JSON with an integer beyond 64 bits is still refused, but said so */
        return json_error_code(&e) == json_error_numeric_overflow ? GV_ENUMBER_RANGE
                                                                  : GV_EINVALID_JSON;
    if (!json_is_object(v)) {
        json_decref(v);
        return GV_EINVALID_REQUEST;
    }
    *out = v;
    return 0;
}

int json_body_object(const http_req_t *req, json_t **out)
{
    const char *ct = http_req_header(req, "content-type");
    size_t n = ct ? strcspn(ct, "; ") : 0;
    if (!ct || n != 16 || strncasecmp(ct, "application/json", 16) != 0) {
        *out = NULL;
        return GV_EUNSUPPORTED_MEDIA_TYPE;
    }
    return json_parse_object(req->body.data ? req->body.data : "", req->body.len, out);
}

int json_fields_allowed(json_t *obj, const char *const *allowed, const char **bad)
{
    const char *key;
    json_t *val;
    *bad = NULL;
    json_object_foreach(obj, key, val)
    {
        int ok = 0;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(allowed[i], key) == 0;
        if (!ok) {
            *bad = key;
            return GV_EINVALID_REQUEST;
        }
    }
    return 0;
}

int json_resp_send(http_resp_t *resp, int status, json_t *obj)
{
    char *text = obj ? json_text(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!text)
        return http_resp_error(resp, GV_EINTERNAL, NULL, NULL);
    int rc = http_resp_json(resp, status, text, strlen(text));
    free(text);
    return rc;
}

int json_resp_field_error(http_resp_t *resp, const char *field, const char *message)
{
    json_t *d = json_pack("{s:s}", "field", field);
    char *details = d ? json_text(d, JSON_COMPACT) : NULL;
    json_decref(d);
    int rc = http_resp_error(resp, GV_EINVALID_REQUEST, message, details);
    free(details);
    return rc;
}

int json_resp_err(http_resp_t *resp, int code)
{
    return http_resp_error(resp, code, NULL, NULL);
}
