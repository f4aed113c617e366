/* Sign-in endpoints: magic links (mailed, or returned in development mode), verification,
 * rotating refresh tokens, logout, and the caller's profile. */
#include "api/authz.h"

#include "auction/service.h"
#include "auth/account.h"
#include "auth/jwt.h"
#include "auth/token.h"
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

/* ---- magic links ---------------------------------------------------------------------------- */

typedef struct {
    app_t *app;
    http_resp_t *resp;
    char rid[72];
} auth_mail_job_t;

/* The sign-in answer; in development mode with the token, code and link (never in production:
 * the mail carries them). */
static void auth_link_answer(app_t *app, http_resp_t *resp, const char *token, const char *code,
                             const char *link)
{
    json_t *o =
        json_pack("{s:b, s:I}", "sent", 1, "expiresInS", (json_int_t)app->cfg.magic_link_ttl_s);
    if (app->cfg.dev && o && token) {
        json_object_set_new(o, "devToken", json_string(token));
        json_object_set_new(o, "devCode", json_string(code));
        json_object_set_new(o, "devLink", json_string(link));
    }
    json_resp_send(resp, 202, o);
}

static void auth_mail_done(int status, const char *detail, void *ctx)
{
    auth_mail_job_t *job = ctx;
    if (status == 0) {
        auth_link_answer(job->app, job->resp, NULL, NULL, NULL);
    } else {
        log_warn("sign-in mail failed rid=%s detail=\"%s\"", job->rid, detail ? detail : "-");
        http_resp_error(job->resp, GV_EUNAVAILABLE,
                        "We could not send the sign-in mail; try again shortly.", NULL);
    }
    http_resp_finish(job->resp);
    free(job);
}

/* Percent-encodes s for a query string value. */
static void auth_urlencode(const char *s, buf_t *out)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-_.~", c))
            buf_append(out, s, 1);
        else
            buf_printf(out, "%%%02X", c);
    }
}

static void auth_link_build(app_t *app, const char *email, const char *token, buf_t *link)
{
    buf_printf(link, "%s/signin?email=", app->cfg.public_url);
    auth_urlencode(email, link);
    buf_puts(link, "&token=");
    auth_urlencode(token, link);
}

/* Copies s into out (size n) escaped for an HTML attribute. */
static void auth_html_escape(const char *s, char *out, size_t n)
{
    size_t j = 0;
    for (; *s && j + 7 < n; s++) {
        const char *rep = *s == '&'   ? "&amp;"
                          : *s == '"' ? "&quot;"
                          : *s == '<' ? "&lt;"
                          : *s == '>' ? "&gt;"
                                      : NULL;
        if (rep) {
            memcpy(out + j, rep, strlen(rep));
            j += strlen(rep);
        } else {
            out[j++] = *s;
        }
    }
    out[j] = '\0';
}

/* The code as people read it: two groups of four ("ABCD-EFGH"). */
static void auth_code_display(const char *code, char out[TOKEN_CODE_LEN + 2])
{
    snprintf(out, TOKEN_CODE_LEN + 2, "%.4s-%.4s", code, code + 4);
}

static int auth_link_mail(app_t *app, http_req_t *req, http_resp_t *resp, const char *email,
                          const char *link, const char *code)
{
    char text[2048], html[4096], href[2048], shown[TOKEN_CODE_LEN + 2];
    auth_html_escape(link, href, sizeof(href));
    auth_code_display(code, shown);
    snprintf(text, sizeof(text),
             "Sign in to Gavel with this link (valid for %lld minutes, usable once):\n\n%s\n\n"
             "If your phone opened the link in another browser, type this code into the page "
             "that asked for it instead: %s\n\nIf you did not ask for it, ignore this mail.\n",
             (long long)(app->cfg.magic_link_ttl_s / 60), link, shown);
    snprintf(html, sizeof(html),
             "<p>Sign in to Gavel with this link (valid for %lld minutes, usable once):</p>"
             "<p><a href=\"%s\">Sign in to Gavel</a></p><p>If your phone opened the link in "
             "another browser, type this code into the page that asked for it instead:</p>"
             "<p style=\"font-size:24px;letter-spacing:4px\"><b>%s</b></p><p>If you did not ask "
             "for it, ignore this mail.</p>",
             (long long)(app->cfg.magic_link_ttl_s / 60), href, shown);
    auth_mail_job_t *job = calloc(1, sizeof(*job));
    if (!job)
        return GV_ENOMEM;
    job->app = app;
    job->resp = resp;
    snprintf(job->rid, sizeof(job->rid), "%s", req->request_id);
    http_resp_defer(resp);
    int rc =
        mailer_send(app->mailer, email, "Your Gavel sign-in link", text, html, auth_mail_done, job);
    if (rc) {
        free(job);
        http_resp_error(resp, GV_EUNAVAILABLE, NULL, NULL);
        http_resp_finish(resp);
    }
    return 0;
}

static void auth_magic_link(http_req_t *req, http_resp_t *resp, void *ctx)
{
    static const char *const fields[] = {"email", NULL};
    app_t *app = ctx;
    const char *v[1];
    json_t *root = NULL;
    char email[ACCOUNT_EMAIL_MAX + 1], name[STORE_NAME_MAX], id[STORE_ID_MAX];
    char token[TOKEN_TEXT_LEN + 1], code[TOKEN_CODE_LEN + 1];
    unsigned char hash[TOKEN_HASH_LEN], code_hash[TOKEN_HASH_LEN];
    store_user_t user;
    int created;
    int64_t now = clock_now_ms(&app->clock);
    if (auth_body(req, resp, fields, 1, v, 512, &root))
        goto done;
    if (account_email_normalize(v[0], email, sizeof(email)) != 0) {
        json_resp_field_error(resp, "email", "Give a valid e-mail address.");
        goto done;
    }
    if (api_take(app, app->rl.link_ip, req->client_ip, resp) ||
        api_take(app, app->rl.link_email, email, resp))
        goto done;
    account_default_name(email, name, sizeof(name));
    int rc = token_id(id, "usr_");
    rc = rc ? rc : store_user_ensure(app->store, email, id, name, now, &user, &created);
    rc = rc ? rc : token_random(token);
    rc = rc ? rc : token_code(code);
    if (!rc) {
        token_hash(token, strlen(token), hash);
        token_hash(code, strlen(code), code_hash);
    }
    rc = rc ? rc
            : store_magic_link_insert(app->store, hash, code_hash, user.id,
                                      now + app->cfg.magic_link_ttl_s * 1000, req->client_ip, now);
    if (rc) {
        json_resp_err(resp, rc);
        goto done;
    }
    buf_t link;
    buf_init(&link);
    auth_link_build(app, email, token, &link);
    if (app->cfg.dev) {
        log_info("dev sign-in link rid=%s user=%s link=%s", req->request_id, user.id, link.data);
        auth_link_answer(app, resp, token, code, link.data);
    } else if (auth_link_mail(app, req, resp, email, link.data, code) != 0) {
        json_resp_err(resp, GV_ENOMEM);
    }
    buf_deinit(&link);
done:
    json_decref(root);
}

/* ---- tokens --------------------------------------------------------------------------------- */

/* Answers 200 {accessToken, refreshToken, expiresInS, user} for user with a fresh access token;
 * refresh is the refresh token already stored. */
static void auth_tokens_answer(app_t *app, http_resp_t *resp, const store_user_t *user,
                               const char *refresh)
{
    jwt_claims_t c;
    char access[JWT_MAX_LEN];
    int64_t now_s = clock_now_ms(&app->clock) / 1000;
    memset(&c, 0, sizeof(c));
    snprintf(c.sub, sizeof(c.sub), "%s", user->id);
    c.iat = now_s;
    c.exp = now_s + app->cfg.access_ttl_s;
    if (token_id(c.jti, "at_") != 0 ||
        jwt_sign(app->jwt_key, app->jwt_key_len, &c, access, sizeof(access)) != 0) {
        json_resp_err(resp, GV_EINTERNAL);
        return;
    }
    json_resp_send(resp, 200,
                   json_pack("{s:s, s:s, s:I, s:o}", "accessToken", access, "refreshToken", refresh,
                             "expiresInS", (json_int_t)app->cfg.access_ttl_s, "user",
                             api_user_json(user)));
}

/* Uses the sign-in link of email by its token or by its code (one of them NULL). 0, or
 * GV_EUNAUTHORIZED for any wrong, used or expired one (a malformed code included). */
static int auth_consume(app_t *app, const char *email, const char *token, const char *code,
                        int64_t now, char uid[STORE_ID_MAX])
{
    unsigned char hash[TOKEN_HASH_LEN];
    char norm[TOKEN_CODE_LEN + 1];
    if (token) {
        token_hash(token, strlen(token), hash);
        return store_magic_link_consume(app->store, hash, email, now, uid);
    }
    if (token_code_normalize(code, norm) != 0)
        return GV_EUNAUTHORIZED;
    token_hash(norm, strlen(norm), hash);
    return store_magic_code_consume(app->store, hash, email, now, uid);
}

static void auth_verify(http_req_t *req, http_resp_t *resp, void *ctx)
{
    static const char *const fields[] = {"email", "token", "code", NULL};
    app_t *app = ctx;
    const char *v[3];
    json_t *root = NULL;
    char email[ACCOUNT_EMAIL_MAX + 1], uid[STORE_ID_MAX], family[STORE_ID_MAX];
    char refresh[TOKEN_TEXT_LEN + 1];
    unsigned char hash[TOKEN_HASH_LEN];
    int64_t now = clock_now_ms(&app->clock), retry;
    store_user_t user;
    if (api_take(app, app->rl.verify_ip, req->client_ip, resp) ||
        auth_body(req, resp, fields, 1, v, 512, &root))
        goto done;
    if (!v[1] == !v[2]) {
        json_resp_field_error(resp, v[1] ? "code" : "token", "Give either token or code.");
        goto done;
    }
    if (account_email_normalize(v[0], email, sizeof(email)) != 0) {
        json_resp_err(resp, GV_EINVALID_TOKEN);
        goto done;
    }
    if (rl_take(app->rl.verify_fail, email, now, 0, &retry) != 0) {
        api_rate_limited(resp, retry);
        goto done;
    }
    int rc = auth_consume(app, email, v[1], v[2], now, uid);
    if (rc == GV_EUNAUTHORIZED) {
        rl_take(app->rl.verify_fail, email, now, 1, &retry);
        rc = GV_EINVALID_TOKEN;
    }
    rc = rc ? rc : store_user_get(app->store, uid, &user);
    rc = rc ? rc : token_random(refresh);
    rc = rc ? rc : token_id(family, "fam_");
    if (!rc)
        token_hash(refresh, strlen(refresh), hash);
    rc = rc ? rc
            : store_refresh_insert(app->store, hash, uid, family,
                                   now + app->cfg.refresh_ttl_s * 1000, now);
    if (rc)
        json_resp_err(resp, rc);
    else
        auth_tokens_answer(app, resp, &user, refresh);
done:
    json_decref(root);
}

static void auth_refresh(http_req_t *req, http_resp_t *resp, void *ctx)
{
    static const char *const fields[] = {"refreshToken", NULL};
    app_t *app = ctx;
    const char *v[1];
    json_t *root = NULL;
    char uid[STORE_ID_MAX], next[TOKEN_TEXT_LEN + 1];
    unsigned char old_hash[TOKEN_HASH_LEN], new_hash[TOKEN_HASH_LEN];
    int64_t now = clock_now_ms(&app->clock);
    store_user_t user;
    if (api_take(app, app->rl.refresh_ip, req->client_ip, resp) ||
        auth_body(req, resp, fields, 1, v, 512, &root))
        goto done;
    token_hash(v[0], strlen(v[0]), old_hash);
    int rc = token_random(next);
    if (!rc)
        token_hash(next, strlen(next), new_hash);
    rc = rc ? rc
            : store_refresh_rotate(app->store, old_hash, new_hash,
                                   now + app->cfg.refresh_ttl_s * 1000, now, uid);
    if (rc == GV_EUNAUTHORIZED)
        rc = GV_EINVALID_TOKEN;
    rc = rc ? rc : store_user_get(app->store, uid, &user);
    if (rc)
        json_resp_err(resp, rc);
    else
        auth_tokens_answer(app, resp, &user, next);
done:
    json_decref(root);
}

static void auth_logout(http_req_t *req, http_resp_t *resp, void *ctx)
{
    static const char *const fields[] = {"refreshToken", NULL};
    app_t *app = ctx;
    const char *v[1];
    json_t *root = NULL;
    unsigned char hash[TOKEN_HASH_LEN];
    if (auth_body(req, resp, fields, 1, v, 512, &root) == 0) {
        token_hash(v[0], strlen(v[0]), hash);
        int rc = store_refresh_revoke(app->store, hash, clock_now_ms(&app->clock));
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
