/* Paging parameters and list answers. */
#include "api/paging.h"

#include "core/b64.h"
#include "core/err.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

int page_parse(http_req_t *req, http_resp_t *resp, page_t *page)
{
    char text[PAGE_KEY_MAX * 2];
    page->limit = PAGE_DEFAULT;
    page->after[0] = '\0';
    int rc = http_req_query(req, "limit", text, sizeof(text));
    if (rc == 1) {
        char *end;
        long v = strtol(text, &end, 10);
        if (!*text || *end || v < 1 || v > PAGE_MAX)
            rc = GV_EINVALID_REQUEST;
        else
            page->limit = (int)v;
    }
    if (rc < 0) {
        json_resp_field_error(resp, "limit", "limit must be a whole number from 1 to 500.");
        return GV_EINVALID_REQUEST;
    }
    rc = http_req_query(req, "cursor", text, sizeof(text));
    size_t n = 0;
    if (rc == 1 && (b64url_decode(text, strlen(text), (unsigned char *)page->after,
                                  sizeof(page->after) - 1, &n) != 0 ||
                    n == 0 || memchr(page->after, '\0', n)))
        rc = GV_EINVALID_REQUEST;
    if (rc < 0) {
        page->after[0] = '\0';
        json_resp_field_error(resp, "cursor",
                              "This cursor is not valid; start from the first page.");
        return GV_EINVALID_REQUEST;
    }
    page->after[n] = '\0';
    return 0;
}

json_t *page_cursor_json(const char *next_key)
{
    char enc[PAGE_KEY_MAX * 2];
    if (next_key &&
        b64url_encode((const unsigned char *)next_key, strlen(next_key), enc, sizeof(enc)))
        return json_string(enc);
    return json_null();
}

void page_send(http_resp_t *resp, json_t *items, const char *next_key)
{
    json_resp_send(
        resp, 200,
        json_pack("{s:o, s:o}", "items", items, "nextCursor", page_cursor_json(next_key)));
}
