/* Authorization helpers: bearer tokens, the calling user, admin checks, rate-limit answers. */
#include "api/authz.h"

#include "auth/jwt.h"
#include "core/err.h"
#include "json/json.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int api_authz_token(app_t *app, http_req_t *req, http_resp_t *resp, char user_id[STORE_ID_MAX])
{
    const char *h = http_req_header(req, "authorization");
    jwt_claims_t claims;
    int rc = GV_EUNAUTHORIZED;
    if (h && strncasecmp(h, "Bearer ", 7) == 0) {
        const char *tok = h + 7;
        while (*tok == ' ')
            tok++;
        rc = jwt_verify(app->jwt_key, app->jwt_key_len, tok, clock_now_ms(&app->clock) / 1000,
                        &claims);
    }
    if (rc == 0 && strlen(claims.sub) < STORE_ID_MAX) {
        memcpy(user_id, claims.sub, strlen(claims.sub) + 1);
        return 0;
    }
    rc = rc == GV_ETOKEN_EXPIRED ? rc : GV_EUNAUTHORIZED;
    http_resp_error(resp, rc, NULL, NULL);
    http_resp_header(resp, "WWW-Authenticate",
                     rc == GV_ETOKEN_EXPIRED ? "Bearer error=\"invalid_token\"" : "Bearer");
    return rc;
}

int api_authz_user(app_t *app, http_req_t *req, http_resp_t *resp, store_user_t *user)
{
    char id[STORE_ID_MAX];
    int rc = api_authz_token(app, req, resp, id);
    if (rc)
        return rc;
    rc = store_user_get(app->store, id, user);
    if (rc == GV_ENOT_FOUND)
        rc = GV_EUNAUTHORIZED;
    if (rc)
        http_resp_error(resp, rc, NULL, NULL);
    return rc;
}

int api_authz_admin(app_t *app, http_req_t *req, http_resp_t *resp, store_user_t *user)
{
    int rc = api_authz_user(app, req, resp, user);
    if (rc == 0 && !user->is_admin) {
        rc = GV_EFORBIDDEN;
        http_resp_error(resp, rc, "Only an administrator can do that.", NULL);
    }
    return rc;
}

int api_authz_league(app_t *app, http_req_t *req, http_resp_t *resp, const char *league_id,
                     api_league_ctx_t *ctx)
{
    int rc = api_authz_user(app, req, resp, &ctx->user);
    if (rc)
        return rc;
    rc = store_league_get(app->store, league_id, &ctx->league);
    if (rc == 0)
        rc = store_member_get(app->store, league_id, ctx->user.id, &ctx->member);
    if (rc == GV_ENOT_FOUND)
        http_resp_error(resp, rc, "No such league.", NULL);
    else if (rc)
        http_resp_error(resp, rc, NULL, NULL);
    return rc;
}

int api_authz_commissioner(app_t *app, http_req_t *req, http_resp_t *resp, const char *league_id,
                           api_league_ctx_t *ctx)
{
    int rc = api_authz_league(app, req, resp, league_id, ctx);
    if (rc == 0 && ctx->member.role != STORE_ROLE_COMMISSIONER) {
        rc = GV_EFORBIDDEN;
        http_resp_error(resp, rc, "Only the league's commissioner can do that.", NULL);
    }
    return rc;
}

void api_rate_limited(http_resp_t *resp, int64_t retry_after_ms)
{
    char secs[32];
    int64_t s = (retry_after_ms + 999) / 1000;
    snprintf(secs, sizeof(secs), "%lld", (long long)(s < 1 ? 1 : s));
    char details[64];
    snprintf(details, sizeof(details), "{\"retryAfterS\":%s}", secs);
    http_resp_error(resp, GV_ERATE_LIMITED, NULL, details);
    http_resp_header(resp, "Retry-After", secs);
}

int api_take(app_t *app, rl_t *rl, const char *key, http_resp_t *resp)
{
    int64_t retry = 0;
    if (rl_take(rl, key, clock_now_ms(&app->clock), 1, &retry) == 0)
        return 0;
    api_rate_limited(resp, retry);
    return GV_ERATE_LIMITED;
}

json_t *api_user_json(const store_user_t *u)
{
    char created[32];
    clock_format_iso(u->created_ms, created);
    return json_pack("{s:s, s:s, s:s, s:b, s:s}", "id", u->id, "email", u->email, "name", u->name,
                     "isAdmin", u->is_admin, "createdAt", created);
}
