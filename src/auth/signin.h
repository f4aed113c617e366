/* Sign-in rules, without HTTP: magic-link requests (rate limits, account, token and code), their
 * verification into a session (access JWT + refresh token), refresh rotation and logout. Time is
 * passed in; every dependency comes in a signin_t. */
#ifndef GAVEL_AUTH_SIGNIN_H
#define GAVEL_AUTH_SIGNIN_H

#include "auth/account.h"
#include "auth/jwt.h"
#include "auth/mailer.h"
#include "auth/ratelimit.h"
#include "auth/token.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* What sign-in works with; every pointer borrowed. */
typedef struct {
    store_t *store;
    rl_t *link_ip;     /* magic-link requests per IP */
    rl_t *link_email;  /* magic-link requests per e-mail */
    rl_t *verify_ip;   /* verify attempts per IP */
    rl_t *verify_fail; /* failed verifications per e-mail */
    rl_t *refresh_ip;  /* refreshes per IP */
    const unsigned char *jwt_key;
    size_t jwt_key_len;
    const char *public_url; /* the web app's origin: links are <public_url>/signin?... */
    int64_t magic_link_ttl_s;
    int64_t access_ttl_s;
    int64_t refresh_ttl_s;
} signin_t;

/* Room for the longest link: a public URL (< 512 bytes), an e-mail percent-encoded, a token. */
#define SIGNIN_LINK_MAX 2048

/* A sign-in link just made. */
typedef struct {
    char email[ACCOUNT_EMAIL_MAX + 1]; /* normalised */
    char user_id[STORE_ID_MAX];
    char token[TOKEN_TEXT_LEN + 1];
    char code[TOKEN_CODE_LEN + 1];
    char link[SIGNIN_LINK_MAX];
    int64_t retry_after_ms; /* when refused GV_ERATE_LIMITED */
} signin_link_t;

/* A session: the user and their fresh tokens. */
typedef struct {
    store_user_t user;
    char access[JWT_MAX_LEN];
    char refresh[TOKEN_TEXT_LEN + 1];
    int64_t expires_in_s;   /* of the access token */
    int64_t retry_after_ms; /* when refused GV_ERATE_LIMITED */
} signin_session_t;

/* signin_request makes a sign-in link for email (as typed) asked from ip at now_ms: checks the
 * address, then the per-IP and the per-e-mail limits (in that order), creates the account when
 * it is new, and stores the token's and the code's hashes, valid magic_link_ttl_s. Fills *out.
 * 0; GV_EINVALID_REQUEST (not an e-mail address); GV_ERATE_LIMITED with out->retry_after_ms
 * (nothing stored); or the store's or the random source's error. */
int signin_request(const signin_t *s, const char *email, const char *ip, int64_t now_ms,
                   signin_link_t *out);

/* signin_mail_format writes the sign-in mail of l (valid ttl_s) as plain text (text, size
 * text_n) and HTML (html, size html_n); the code is shown as two groups of four. */
void signin_mail_format(const signin_link_t *l, int64_t ttl_s, char *text, size_t text_n,
                        char *html, size_t html_n);

#define SIGNIN_MAIL_SUBJECT "Your Gavel sign-in link"

/* signin_mail_send mails l to its address with m; done is called exactly once, on the loop
 * thread, when 0 is returned (never when an error is). 0 or mailer_send's error. */
int signin_mail_send(mailer_t *m, const signin_link_t *l, int64_t ttl_s, mailer_done_fn done,
                     void *ctx);

/* signin_verify_admit takes one verify attempt from ip's allowance (checked before the request
 * is read). 0, or GV_ERATE_LIMITED with *retry_after_ms. */
int signin_verify_admit(const signin_t *s, const char *ip, int64_t now_ms, int64_t *retry_after_ms);

/* signin_verify uses the sign-in link of email (as typed) by its token or by its code (exactly
 * one of them non-NULL) and opens a session: a new refresh-token family, valid refresh_ttl_s,
 * and an access token. A wrong, used or expired token or code (a malformed code included)
 * counts against the e-mail's failure allowance. 0 with *out; GV_EINVALID_REQUEST (not exactly
 * one of token and code); GV_EINVALID_TOKEN (also for a malformed e-mail, not counted);
 * GV_ERATE_LIMITED with out->retry_after_ms (too many failures: nothing is used); or the
 * store's error. */
int signin_verify(const signin_t *s, const char *email, const char *token, const char *code,
                  int64_t now_ms, signin_session_t *out);

/* signin_refresh_admit takes one refresh from ip's allowance (checked before the request is
 * read). 0, or GV_ERATE_LIMITED with *retry_after_ms. */
int signin_refresh_admit(const signin_t *s, const char *ip, int64_t now_ms,
                         int64_t *retry_after_ms);

/* signin_refresh rotates refresh token (see store_refresh_rotate: a token used twice revokes its
 * family) and issues a new access token. 0 with *out; GV_EINVALID_TOKEN (unknown, expired,
 * revoked or reused); or the store's error. */
int signin_refresh(const signin_t *s, const char *refresh, int64_t now_ms, signin_session_t *out);

/* signin_logout revokes the family of refresh token. 0 (also for an unknown token) or the
 * store's error. */
int signin_logout(const signin_t *s, const char *refresh, int64_t now_ms);

#endif
