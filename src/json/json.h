/* JSON request readers with validation and response builders (jansson). */
#ifndef GAVEL_JSON_JSON_H
#define GAVEL_JSON_JSON_H

#include "net/http.h"

#include <jansson.h>

#define JSON_MAX_DEPTH 32

/* json_depth_ok: 1 when text nests arrays/objects at most max_depth deep (strings skipped). */
int json_depth_ok(const char *text, size_t len, int max_depth);

/* json_parse_object parses text as one JSON object (UTF-8, no duplicate keys, depth-limited).
 * On success *out is a new reference the caller owns. Returns 0, GV_EINVALID_JSON (not JSON,
 * too deep), GV_ENUMBER_RANGE (an integer beyond 64 bits: invalid_json with its own message) or
 * GV_EINVALID_REQUEST (valid JSON but not an object). */
int json_parse_object(const char *text, size_t len, json_t **out);

/* json_body_object reads req's body: requires a JSON content type (GV_EUNSUPPORTED_MEDIA_TYPE)
 * and then behaves as json_parse_object. */
int json_body_object(const http_req_t *req, json_t **out);

/* json_fields_allowed checks obj has no key outside the NULL-terminated list allowed; the first
 * unknown key is stored in *bad (borrowed from obj). 0 or GV_EINVALID_REQUEST. */
int json_fields_allowed(json_t *obj, const char *const *allowed, const char **bad);

/* json_resp_send serializes obj (a reference this call steals) as resp's body with status. */
int json_resp_send(http_resp_t *resp, int status, json_t *obj);

/* json_resp_field_error answers 400 invalid_request with details.field = field. */
int json_resp_field_error(http_resp_t *resp, const char *field, const char *message);

/* json_resp_err answers an error code with the table's message (400 invalid_json etc.). */
int json_resp_err(http_resp_t *resp, int code);

#endif
