/* Sign-in endpoints: magic links (mailed, or returned in development mode), verification,
 * rotating refresh tokens, logout, and the caller's profile. */
#include "api/authz.h"

#include "auction/service.h"
#include "auth/account.h"
#include "auth/signin.h"
#include "core/err.h"
#include "core/log.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the JSON object body and the string fields named in fields (NULL-terminated), each
 * 1..max bytes; the first `required` must be present, the others may be absent (value NULL);
 * unknown fields are refused. On failure answers 4xx and returns its code. */
static int auth_body(http_req_t *req, http_resp_t *resp, const char *const *fields, size_t required,
                     const char **values, size_t max, json_t **root)
{
    const char *bad;
    int rc = json_body_object(req, root);
    if (rc)
        return json_resp_err(resp, rc), rc;
    if (json_fields_allowed(*root, fields, &bad) != 0) {
        json_resp_field_error(resp, bad, "This field is not allowed here.");
        return GV_EINVALID_REQUEST;
    }
    for (size_t i = 0; fields[i]; i++) {
        values[i] = json_string_value(json_object_get(*root, fields[i]));
        if (i >= required && !json_object_get(*root, fields[i]))
            continue; /* optional and absent */
        if (!values[i] || !*values[i] || strlen(values[i]) > max) {
            json_resp_field_error(resp, fields[i], "This field must be a non-empty string.");
            return GV_EINVALID_REQUEST;
        }
    }
    return 0;
}

/* The sign-in rules' view of app (borrowed). */
static signin_t auth_signin(app_t *app)
{
    return (signin_t){.store = app->store,
                      .link_ip = app->rl.link_ip,
                      .link_email = app->rl.link_email,
                      .verify_ip = app->rl.verify_ip,
                      .verify_fail = app->rl.verify_fail,
                      .refresh_ip = app->rl.refresh_ip,
                      .jwt_key = app->jwt_key,
                      .jwt_key_len = app->jwt_key_len,
                      .public_url = app->cfg.public_url,
                      .magic_link_ttl_s = app->cfg.magic_link_ttl_s,
                      .access_ttl_s = app->cfg.access_ttl_s,
                      .refresh_ttl_s = app->cfg.refresh_ttl_s};
}

/* ---- magic links ---------------------------------------------------------------------------- */

typedef struct {
    app_t *app;
    http_resp_t *resp;
    char rid[72];
} auth_mail_job_t;

/* The sign-in answer; in development mode with the token, code and link (never in production:
 * the mail carries them). */
static void auth_link_answer(app_t *app, http_resp_t *resp, const signin_link_t *l)
{
    json_t *o =
        json_pack("{s:b, s:I}", "sent", 1, "expiresInS", (json_int_t)app->cfg.magic_link_ttl_s);
    if (app->cfg.dev && o && l) {
        json_object_set_new(o, "devToken", json_string(l->token));
        json_object_set_new(o, "devCode", json_string(l->code));
        json_object_set_new(o, "devLink", json_string(l->link));
    }
    json_resp_send(resp, 202, o);
}

static void auth_mail_done(int status, const char *detail, void *ctx)
{
    auth_mail_job_t *job = ctx;
    if (status == 0) {
        auth_link_answer(job->app, job->resp, NULL);
    } else {
        log_warn("sign-in mail failed rid=%s detail=\"%s\"", job->rid, detail ? detail : "-");
        http_resp_error(job->resp, GV_EUNAVAILABLE,
                        "We could not send the sign-in mail; try again shortly.", NULL);
    }
    http_resp_finish(job->resp);
    free(job);
}

/* Mails the link and answers once the mail is sent (or could not be). */
static void auth_link_mail(app_t *app, http_req_t *req, http_resp_t *resp, const signin_link_t *l)
{
    auth_mail_job_t *job = calloc(1, sizeof(*job));
    if (!job) {
        json_resp_err(resp, GV_ENOMEM);
        return;
    }
    job->app = app;
    job->resp = resp;
    snprintf(job->rid, sizeof(job->rid), "%s", req->request_id);
    http_resp_defer(resp);
    if (signin_mail_send(app->mailer, l, app->cfg.magic_link_ttl_s, auth_mail_done, job) != 0) {
        free(job);
        http_resp_error(resp, GV_EUNAVAILABLE, NULL, NULL);
        http_resp_finish(resp);
    }
}

/* Answers a refusal of the sign-in rules: 429 with Retry-After, or the error. */
static void auth_refused(http_resp_t *resp, int rc, int64_t retry_after_ms)
{
    if (rc == GV_ERATE_LIMITED)
        api_rate_limited(resp, retry_after_ms);
    else
        json_resp_err(resp, rc);
}

static void auth_magic_link(http_req_t *req, http_resp_t *resp, void *ctx)
{
    static const char *const fields[] = {"email", NULL};
    app_t *app = ctx;
    const char *v[1];
    json_t *root = NULL;
    signin_link_t l;
    int64_t now = clock_now_ms(&app->clock);
    if (auth_body(req, resp, fields, 1, v, 512, &root))
        goto done;
    signin_t s = auth_signin(app);
    int rc = signin_request(&s, v[0], req->client_ip, now, &l);
    if (rc == GV_EINVALID_REQUEST) {
        json_resp_field_error(resp, "email", "Give a valid e-mail address.");
    } else if (rc) {
        auth_refused(resp, rc, l.retry_after_ms);
    } else if (app->cfg.dev) {
        log_info("dev sign-in link rid=%s user=%s link=%s", req->request_id, l.user_id, l.link);
        auth_link_answer(app, resp, &l);
    } else {
        auth_link_mail(app, req, resp, &l);
    }
done:
    json_decref(root);
}

/* ---- tokens --------------------------------------------------------------------------------- */

/* Answers 200 {accessToken, refreshToken, expiresInS, user} for a session just opened. */
static void auth_tokens_answer(http_resp_t *resp, const signin_session_t *ses)
{
    json_resp_send(resp, 200,
                   json_pack("{s:s, s:s, s:I, s:o}", "accessToken", ses->access, "refreshToken",
                             ses->refresh, "expiresInS", (json_int_t)ses->expires_in_s, "user",
                             api_user_json(&ses->user)));
}

static void auth_verify(http_req_t *req, http_resp_t *resp, void *ctx)
{
    static const char *const fields[] = {"email", "token", "code", NULL};
    app_t *app = ctx;
    const char *v[3];
    json_t *root = NULL;
    signin_session_t ses;
    int64_t now = clock_now_ms(&app->clock), retry;
    signin_t s = auth_signin(app);
    int rc = signin_verify_admit(&s, req->client_ip, now, &retry);
    if (rc) {
        api_rate_limited(resp, retry);
        return;
    }
    if (auth_body(req, resp, fields, 1, v, 512, &root) == 0) {
        rc = signin_verify(&s, v[0], v[1], v[2], now, &ses);
        if (rc == GV_EINVALID_REQUEST)
            json_resp_field_error(resp, v[1] ? "code" : "token", "Give either token or code.");
        else if (rc)
            auth_refused(resp, rc, ses.retry_after_ms);
        else
            auth_tokens_answer(resp, &ses);
    }
    json_decref(root);
}

static void auth_refresh(http_req_t *req, http_resp_t *resp, void *ctx)
{
    static const char *const fields[] = {"refreshToken", NULL};
    app_t *app = ctx;
    const char *v[1];
    json_t *root = NULL;
    signin_session_t ses;
    int64_t now = clock_now_ms(&app->clock), retry;
    signin_t s = auth_signin(app);
    int rc = signin_refresh_admit(&s, req->client_ip, now, &retry);
    if (rc) {
        api_rate_limited(resp, retry);
        return;
    }
    if (auth_body(req, resp, fields, 1, v, 512, &root) == 0) {
        rc = signin_refresh(&s, v[0], now, &ses);
        if (rc)
            json_resp_err(resp, rc);
        else
            auth_tokens_answer(resp, &ses);
    }
    json_decref(root);
}

static void auth_logout(http_req_t *req, http_resp_t *resp, void *ctx)
{
    static const char *const fields[] = {"refreshToken", NULL};
    app_t *app = ctx;
    const char *v[1];
    json_t *root = NULL;
    if (auth_body(req, resp, fields, 1, v, 512, &root) == 0) {
        signin_t s = auth_signin(app);
        int rc = signin_logout(&s, v[0], clock_now_ms(&app->clock));
        if (rc)
            json_resp_err(resp, rc);
        else
            resp->status = 204;
    }
    json_decref(root);
}

/* ---- profile -------------------------------------------------------------------------------- */

static void auth_me(http_req_t *req, http_resp_t *resp, void *ctx)
{
    store_user_t user;
    if (api_authz_user(ctx, req, resp, &user) == 0)
        json_resp_send(resp, 200, api_user_json(&user));
}

static void auth_me_patch(http_req_t *req, http_resp_t *resp, void *ctx)
{
    static const char *const fields[] = {"name", NULL};
    app_t *app = ctx;
    store_user_t user;
    json_t *root = NULL;
    const char *bad;
    char name[STORE_NAME_MAX];
    if (api_authz_user(app, req, resp, &user) != 0)
        return;
    int rc = json_body_object(req, &root);
    if (rc) {
        json_resp_err(resp, rc);
    } else if (json_fields_allowed(root, fields, &bad) != 0) {
        json_resp_field_error(resp, bad, "This field is not allowed here.");
    } else if (!json_is_string(json_object_get(root, "name")) ||
               account_name_normalize(json_string_value(json_object_get(root, "name")), name,
                                      sizeof(name)) != 0) {
        json_resp_field_error(resp, "name", "A name is 2 to 30 characters.");
    } else if ((rc = store_user_set_name(app->store, user.id, name)) != 0) {
        json_resp_err(resp, rc);
    } else {
        snprintf(user.name, sizeof(user.name), "%s", name);
        if (app->auctions)
            auction_service_user_renamed(app->auctions, user.id);
        json_resp_send(resp, 200, api_user_json(&user));
    }
    json_decref(root);
}

int api_auth_register(app_t *app)
{
    router_t *r = &app->router;
    size_t lim = 16 * 1024;
    int rc = router_add(r, HTTP_M_POST, "/api/auth/magic-link", auth_magic_link, app, lim);
    rc = rc ? rc : router_add(r, HTTP_M_POST, "/api/auth/verify", auth_verify, app, lim);
    rc = rc ? rc : router_add(r, HTTP_M_POST, "/api/auth/refresh", auth_refresh, app, lim);
    rc = rc ? rc : router_add(r, HTTP_M_POST, "/api/auth/logout", auth_logout, app, lim);
    rc = rc ? rc : router_add(r, HTTP_M_GET, "/api/me", auth_me, app, 0);
    rc = rc ? rc : router_add(r, HTTP_M_PATCH, "/api/me", auth_me_patch, app, lim);
    return rc;
}
