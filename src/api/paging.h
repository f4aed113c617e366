/* List paging of API.md: ?limit= (default 50, max 500) and an opaque ?cursor= (base64url of the
 * last row's sort key); answers {"items": [...], "nextCursor": "..." | null}. */
#ifndef GAVEL_API_PAGING_H
#define GAVEL_API_PAGING_H

#include "net/http.h"

#include <jansson.h>

#define PAGE_DEFAULT 50
#define PAGE_MAX 500
#define PAGE_KEY_MAX 512 /* decoded cursor bytes */

typedef struct {
    int limit;
    char after[PAGE_KEY_MAX]; /* the decoded cursor: "" on the first page */
} page_t;

/* page_parse reads limit and cursor from req. On a bad value answers 400 invalid_request naming
 * the field and returns GV_EINVALID_REQUEST. */
int page_parse(http_req_t *req, http_resp_t *resp, page_t *page);

/* page_cursor_json: the nextCursor value for the last row's sort key (NULL: null). */
json_t *page_cursor_json(const char *next_key);

/* page_send answers 200 {"items": items, "nextCursor": ...} (steals items); next_key is the
 * last row's sort key when more rows follow, or NULL. */
void page_send(http_resp_t *resp, json_t *items, const char *next_key);

#endif
