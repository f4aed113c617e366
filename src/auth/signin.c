/* Sign-in rules: magic links (with their mail), verification into a session, refresh rotation
 * and logout. Only hashes of tokens and codes reach the store. */
#include "auth/signin.h"

#include "core/err.h"

#include <stdio.h>
#include <string.h>

/* Applies limiter rl to key; any refusal is GV_ERATE_LIMITED with *retry_after_ms. */
static int signin_take(rl_t *rl, const char *key, int64_t now_ms, int64_t *retry_after_ms)
{
    *retry_after_ms = 0;
    return rl_take(rl, key, now_ms, 1, retry_after_ms) == 0 ? 0 : GV_ERATE_LIMITED;
}

/* ---- magic links ---------------------------------------------------------------------------- */

/* Appends s to out (size n, *len used), percent-encoded for a query string value when encode is
 * set. 0, or GV_ELIMIT when it does not fit. */
static int signin_link_put(char *out, size_t n, size_t *len, const char *s, int encode)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int plain = !encode || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || strchr("-_.~", c);
        if (*len + (plain ? 1 : 3) >= n)
            return GV_ELIMIT;
        if (plain)
            out[(*len)++] = (char)c;
        else
            *len += (size_t)snprintf(out + *len, n - *len, "%%%02X", c);
    }
    out[*len] = '\0';
    return 0;
}

/* Writes <public_url>/signin?email=...&token=... into l->link. 0 or GV_ELIMIT (cannot happen
 * with the configuration's limits: SIGNIN_LINK_MAX has room for the longest). */
static int signin_link_build(const signin_t *s, signin_link_t *l)
{
    size_t len = 0, n = sizeof(l->link);
    int rc = signin_link_put(l->link, n, &len, s->public_url, 0);
    rc = rc ? rc : signin_link_put(l->link, n, &len, "/signin?email=", 0);
    rc = rc ? rc : signin_link_put(l->link, n, &len, l->email, 1);
    rc = rc ? rc : signin_link_put(l->link, n, &len, "&token=", 0);
    return rc ? rc : signin_link_put(l->link, n, &len, l->token, 1);
}

/* Ends the transaction of st that rc says how it went: committed when 0, else rolled back. */
static int signin_tx_end(store_t *st, int rc)
{
    rc = rc ? rc : store_tx_commit(st);
    if (rc)
        store_tx_rollback(st); /* nothing when none is open */
    return rc;
}

/* Creates the account of l->email when new and stores a fresh token and code for it, in one
 * transaction (one commit on the loop, not two). */
static int signin_link_store(const signin_t *s, const char *ip, int64_t now_ms, signin_link_t *l)
{
    char name[STORE_NAME_MAX];
    unsigned char hash[TOKEN_HASH_LEN], code_hash[TOKEN_HASH_LEN];
    store_user_t user;
    int created;
    account_default_name(l->email, name, sizeof(name));
    int rc = token_id(l->user_id, "usr_");
    rc = rc ? rc : token_random(l->token);
    rc = rc ? rc : token_code(l->code);
    rc = rc ? rc : store_tx_begin(s->store);
    if (rc)
        return rc;
    token_hash(l->token, strlen(l->token), hash);
    token_hash(l->code, strlen(l->code), code_hash);
    rc = store_user_ensure(s->store, l->email, l->user_id, name, now_ms, &user, &created);
    if (!rc)
        snprintf(l->user_id, sizeof(l->user_id), "%s", user.id);
    rc = rc ? rc
            : store_magic_link_insert(s->store, hash, code_hash, user.id,
                                      now_ms + s->magic_link_ttl_s * 1000, ip, now_ms);
    return signin_tx_end(s->store, rc);
}

int signin_request(const signin_t *s, const char *email, const char *ip, int64_t now_ms,
                   signin_link_t *out)
{
    memset(out, 0, sizeof(*out));
    if (account_email_normalize(email, out->email, sizeof(out->email)) != 0)
        return GV_EINVALID_REQUEST;
    if (signin_take(s->link_ip, ip, now_ms, &out->retry_after_ms) ||
        signin_take(s->link_email, out->email, now_ms, &out->retry_after_ms))
        return GV_ERATE_LIMITED;
    int rc = signin_link_store(s, ip, now_ms, out);
    return rc ? rc : signin_link_build(s, out);
}

/* Copies s into out (size n) escaped for an HTML attribute. */
static void signin_html_escape(const char *s, char *out, size_t n)
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

void signin_mail_format(const signin_link_t *l, int64_t ttl_s, char *text, size_t text_n,
                        char *html, size_t html_n)
{
    char href[2048], shown[TOKEN_CODE_LEN + 2];
    signin_html_escape(l->link, href, sizeof(href));
    /* the code as people read it: two groups of four ("ABCD-EFGH") */
    snprintf(shown, sizeof(shown), "%.4s-%.4s", l->code, l->code + 4);
    snprintf(text, text_n,
             "Sign in to Gavel with this link (valid for %lld minutes, usable once):\n\n%s\n\n"
             "If your phone opened the link in another browser, type this code into the page "
             "that asked for it instead: %s\n\nIf you did not ask for it, ignore this mail.\n",
             (long long)(ttl_s / 60), l->link, shown);
    snprintf(html, html_n,
             "<p>Sign in to Gavel with this link (valid for %lld minutes, usable once):</p>"
             "<p><a href=\"%s\">Sign in to Gavel</a></p><p>If your phone opened the link in "
             "another browser, type this code into the page that asked for it instead:</p>"
             "<p style=\"font-size:24px;letter-spacing:4px\"><b>%s</b></p><p>If you did not ask "
             "for it, ignore this mail.</p>",
             (long long)(ttl_s / 60), href, shown);
}

int signin_mail_send(mailer_t *m, const signin_link_t *l, int64_t ttl_s, mailer_done_fn done,
                     void *ctx)
{
    char text[2048], html[4096];
    signin_mail_format(l, ttl_s, text, sizeof(text), html, sizeof(html));
    return mailer_send(m, l->email, SIGNIN_MAIL_SUBJECT, text, html, done, ctx);
}

/* ---- sessions ------------------------------------------------------------------------------- */

/* Signs a fresh access token for out->user at now_ms. 0 or GV_EINTERNAL. */
static int signin_access_issue(const signin_t *s, int64_t now_ms, signin_session_t *out)
{
    jwt_claims_t c;
    int64_t now_s = now_ms / 1000;
    memset(&c, 0, sizeof(c));
    snprintf(c.sub, sizeof(c.sub), "%s", out->user.id);
    c.iat = now_s;
    c.exp = now_s + s->access_ttl_s;
    out->expires_in_s = s->access_ttl_s;
    if (token_id(c.jti, "at_") != 0 ||
        jwt_sign(s->jwt_key, s->jwt_key_len, &c, out->access, sizeof(out->access)) != 0)
        return GV_EINTERNAL;
    return 0;
}

/* Uses the sign-in link of email by its token or by its code (one of them NULL). 0, or
 * GV_EUNAUTHORIZED for any wrong, used or expired one (a malformed code included). */
static int signin_consume(const signin_t *s, const char *email, const char *token, const char *code,
                          int64_t now_ms, char uid[STORE_ID_MAX])
{
    unsigned char hash[TOKEN_HASH_LEN];
    char norm[TOKEN_CODE_LEN + 1];
    if (token) {
        token_hash(token, strlen(token), hash);
        return store_magic_link_consume(s->store, hash, email, now_ms, uid);
    }
    if (token_code_normalize(code, norm) != 0)
        return GV_EUNAUTHORIZED;
    token_hash(norm, strlen(norm), hash);
    return store_magic_code_consume(s->store, hash, email, now_ms, uid);
}

/* Starts a refresh-token family for uid with a fresh token in out->refresh. */
static int signin_family_start(const signin_t *s, const char *uid, int64_t now_ms,
                               signin_session_t *out)
{
    char family[STORE_ID_MAX];
    unsigned char hash[TOKEN_HASH_LEN];
    int rc = token_random(out->refresh);
    rc = rc ? rc : token_id(family, "fam_");
    if (rc)
        return rc;
    token_hash(out->refresh, strlen(out->refresh), hash);
    return store_refresh_insert(s->store, hash, uid, family, now_ms + s->refresh_ttl_s * 1000,
                                now_ms);
}

int signin_verify_admit(const signin_t *s, const char *ip, int64_t now_ms, int64_t *retry_after_ms)
{
    return signin_take(s->verify_ip, ip, now_ms, retry_after_ms);
}

int signin_verify(const signin_t *s, const char *email, const char *token, const char *code,
                  int64_t now_ms, signin_session_t *out)
{
    char norm[ACCOUNT_EMAIL_MAX + 1], uid[STORE_ID_MAX];
    memset(out, 0, sizeof(*out));
    if (!token == !code)
        return GV_EINVALID_REQUEST;
    if (account_email_normalize(email, norm, sizeof(norm)) != 0)
        return GV_EINVALID_TOKEN;
    /* a check only: failures are charged below, so a right token still works until then */
    if (rl_take(s->verify_fail, norm, now_ms, 0, &out->retry_after_ms) != 0)
        return GV_ERATE_LIMITED;
    /* the link is used and the session starts in one transaction (one commit on the loop) */
    int rc = store_tx_begin(s->store);
    if (rc)
        return rc;
    rc = signin_consume(s, norm, token, code, now_ms, uid);
    int refused = rc == GV_EUNAUTHORIZED;
    rc = rc ? rc : store_user_get(s->store, uid, &out->user);
    rc = rc ? rc : signin_family_start(s, uid, now_ms, out);
    rc = signin_tx_end(s->store, rc);
    if (refused) {
        int64_t ignored;
        rl_take(s->verify_fail, norm, now_ms, 1, &ignored);
        rc = GV_EINVALID_TOKEN;
    }
    return rc ? rc : signin_access_issue(s, now_ms, out);
}

int signin_refresh_admit(const signin_t *s, const char *ip, int64_t now_ms, int64_t *retry_after_ms)
{
    return signin_take(s->refresh_ip, ip, now_ms, retry_after_ms);
}

int signin_refresh(const signin_t *s, const char *refresh, int64_t now_ms, signin_session_t *out)
{
    char uid[STORE_ID_MAX];
    unsigned char old_hash[TOKEN_HASH_LEN], new_hash[TOKEN_HASH_LEN];
    memset(out, 0, sizeof(*out));
    token_hash(refresh, strlen(refresh), old_hash);
    int rc = token_random(out->refresh);
    if (!rc)
        token_hash(out->refresh, strlen(out->refresh), new_hash);
    rc = rc ? rc
            : store_refresh_rotate(s->store, old_hash, new_hash, now_ms + s->refresh_ttl_s * 1000,
                                   now_ms, uid);
    if (rc == GV_EUNAUTHORIZED)
        rc = GV_EINVALID_TOKEN;
    rc = rc ? rc : store_user_get(s->store, uid, &out->user);
    return rc ? rc : signin_access_issue(s, now_ms, out);
}

int signin_logout(const signin_t *s, const char *refresh, int64_t now_ms)
{
    unsigned char hash[TOKEN_HASH_LEN];
    token_hash(refresh, strlen(refresh), hash);
    return store_refresh_revoke(s->store, hash, now_ms);
}
