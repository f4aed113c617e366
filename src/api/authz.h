/* Authorization helpers every endpoint uses: who is calling (a valid access token of an existing
 * user) and whether they may act (admin). Each writes the error answer itself on refusal. */
#ifndef GAVEL_API_AUTHZ_H
#define GAVEL_API_AUTHZ_H

#include "api/app.h"

#include <jansson.h>

/* api_authz_token checks `Authorization: Bearer <jwt>` and copies the user id. On failure
 * answers 401 (unauthorized, or token_expired for an expired token) and returns its code. */
int api_authz_token(app_t *app, http_req_t *req, http_resp_t *resp, char user_id[STORE_ID_MAX]);

/* api_authz_user is api_authz_token plus loading the user; a token of a user that no longer
 * exists is answered 401. 0 or the answered error code. */
int api_authz_user(app_t *app, http_req_t *req, http_resp_t *resp, store_user_t *user);

/* api_authz_admin is api_authz_user plus the admin flag (403 forbidden otherwise). */
int api_authz_admin(app_t *app, http_req_t *req, http_resp_t *resp, store_user_t *user);

/* api_rate_limited answers 429 rate_limited with Retry-After (seconds, rounded up). */
void api_rate_limited(http_resp_t *resp, int64_t retry_after_ms);

/* api_take applies limiter rl to key; on refusal answers 429 and returns GV_ERATE_LIMITED. */
int api_take(app_t *app, rl_t *rl, const char *key, http_resp_t *resp);

/* api_user_json builds the API's User object (a new reference). */
json_t *api_user_json(const store_user_t *u);

#endif
