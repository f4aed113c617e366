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

/* What a league endpoint knows about its caller once api_authz_league succeeded. */
typedef struct {
    store_user_t user;
    store_league_t league;
    store_member_t member;
} api_league_ctx_t;

/* api_authz_league authenticates the caller and loads league_id and their membership (any role,
 * spectators included). A league that does not exist and one the caller is not a member of are
 * both answered 404 (existence is not revealed). 0 or the answered error code. */
int api_authz_league(app_t *app, http_req_t *req, http_resp_t *resp, const char *league_id,
                     api_league_ctx_t *ctx);

/* api_authz_commissioner is api_authz_league plus the commissioner role (403 otherwise). */
int api_authz_commissioner(app_t *app, http_req_t *req, http_resp_t *resp, const char *league_id,
                           api_league_ctx_t *ctx);

/* api_rate_limited answers 429 rate_limited with Retry-After (seconds, rounded up). */
void api_rate_limited(http_resp_t *resp, int64_t retry_after_ms);

/* api_take applies limiter rl to key; on refusal answers 429 and returns GV_ERATE_LIMITED. */
int api_take(app_t *app, rl_t *rl, const char *key, http_resp_t *resp);

/* api_user_json builds the API's User object (a new reference). */
json_t *api_user_json(const store_user_t *u);

#endif
