/* Unit tests of the sign-in rules (auth/signin) against a real SQLite store in a temporary
 * directory, without HTTP: magic-link requests and their limits, the mail, verification by token
 * or code, the failure allowance, refresh rotation with reuse detection, and logout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "auth/signin.h"
#include "core/err.h"
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../store_fixture.h"
#include "../tmpdir.h"

#define T0 1700000000000LL /* "now" of the tests, ms */
#define LINK_TTL_S 900
#define ACCESS_TTL_S 600
#define REFRESH_TTL_S 86400
#define PUBLIC_URL "https://gavel.test"

typedef struct {
    fixture_t f; /* first: the store fixture's helpers take it */
    signin_t s;
    unsigned char key[32];
} sfix_t;

static int setup(void **state)
{
    sfix_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -1;
    *state = t;
    if (tmpdir_make(t->f.base, sizeof(t->f.base), "signin") != 0)
        return -1;
    snprintf(t->f.dir, sizeof(t->f.dir), "%s/data", t->f.base);
    if (store_open(&t->f.store, t->f.dir) != 0 || store_migrate(t->f.store, NULL) != 0)
        return -1;
    memset(t->key, 0x5a, sizeof(t->key));
    /* small allowances so the tests reach them: bursts of 3 (IP) and 2 (e-mail) per minute,
     * 3 failures per 15 minutes, 2 verifies and 2 refreshes per minute and IP */
    t->s = (signin_t){.store = t->f.store,
                      .link_ip = rl_new(3, 3.0 / 60, 1, 64),
                      .link_email = rl_new(2, 2.0 / 60, 1, 64),
                      .verify_ip = rl_new(2, 2.0 / 60, 1, 64),
                      .verify_fail = rl_new(3, 3.0 / 900, 1, 64),
                      .refresh_ip = rl_new(2, 2.0 / 60, 1, 64),
                      .jwt_key = t->key,
                      .jwt_key_len = sizeof(t->key),
                      .public_url = PUBLIC_URL,
                      .magic_link_ttl_s = LINK_TTL_S,
                      .access_ttl_s = ACCESS_TTL_S,
                      .refresh_ttl_s = REFRESH_TTL_S};
    return t->s.link_ip && t->s.link_email && t->s.verify_ip && t->s.verify_fail && t->s.refresh_ip
               ? 0
               : -1;
}

static int teardown(void **state)
{
    sfix_t *t = *state;
    rl_free(t->s.link_ip);
    rl_free(t->s.link_email);
    rl_free(t->s.verify_ip);
    rl_free(t->s.verify_fail);
    rl_free(t->s.refresh_ip);
    store_close(t->f.store);
    int rc = t->f.base[0] != '\0' ? tmpdir_remove(t->f.base) : 0;
    free(t);
    return rc;
}

/* The integer sql gives with the SHA-256 of text bound as its one parameter. */
static int64_t query_hash(sfix_t *t, const char *sql, const char *text)
{
    unsigned char h[TOKEN_HASH_LEN];
    sqlite3_stmt *stmt = NULL;
    token_hash(text, strlen(text), h);
    assert_int_equal(SQLITE_OK, sqlite3_prepare_v2(db_of(&t->f), sql, -1, &stmt, NULL));
    assert_int_equal(SQLITE_OK, sqlite3_bind_blob(stmt, 1, h, sizeof(h), SQLITE_STATIC));
    int rc = sqlite3_step(stmt);
    assert_true(rc == SQLITE_ROW || rc == SQLITE_DONE);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    return v;
}

static int64_t count(sfix_t *t, const char *table)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    return query_i64(&t->f, sql);
}

/* Asks a link for email from a fresh IP (its own allowance); asserts success. */
static void request_ok(sfix_t *t, const char *email, signin_link_t *l)
{
    static int ip_seq;
    char ip[32];
    snprintf(ip, sizeof(ip), "10.0.0.%d", ++ip_seq);
    assert_int_equal(0, signin_request(&t->s, email, ip, T0, l));
}

/* Opens a session for email by a fresh link's token. */
static void session_ok(sfix_t *t, const char *email, signin_session_t *ses)
{
    signin_link_t l;
    request_ok(t, email, &l);
    assert_int_equal(0, signin_verify(&t->s, email, l.token, NULL, T0, ses));
}

/* The access token of ses is valid at now_ms for ses->user. */
static void assert_access_valid(sfix_t *t, const signin_session_t *ses, int64_t now_ms)
{
    jwt_claims_t c;
    assert_int_equal(0, jwt_verify(t->key, sizeof(t->key), ses->access, now_ms / 1000, &c));
    assert_string_equal(c.sub, ses->user.id);
    assert_int_equal(c.iat, now_ms / 1000);
    assert_int_equal(c.exp, now_ms / 1000 + ACCESS_TTL_S);
    assert_int_equal(ses->expires_in_s, ACCESS_TTL_S);
    assert_true(c.jti[0] != '\0');
}

/* ---- request -------------------------------------------------------------------------------- */

static void request_makes_account_and_link(void **state)
{
    sfix_t *t = *state;
    signin_link_t l;
    assert_int_equal(0, signin_request(&t->s, "  Alice@Example.COM ", "1.2.3.4", T0, &l));
    assert_string_equal(l.email, "alice@example.com");
    assert_int_equal(strlen(l.token), TOKEN_TEXT_LEN);
    assert_int_equal(strlen(l.code), TOKEN_CODE_LEN);
    assert_int_equal(strspn(l.code, TOKEN_CODE_ALPHABET), TOKEN_CODE_LEN);
    char want[SIGNIN_LINK_MAX];
    snprintf(want, sizeof(want), PUBLIC_URL "/signin?email=alice%%40example.com&token=%s", l.token);
    assert_string_equal(l.link, want);
    /* the account, named after the address */
    store_user_t u;
    assert_int_equal(0, store_user_get(t->f.store, l.user_id, &u));
    assert_string_equal(u.email, "alice@example.com");
    assert_string_equal(u.name, "alice");
    assert_int_equal(u.created_ms, T0);
    assert_int_equal(count(t, "users"), 1);
    /* only hashes are stored, with the IP, the expiry and the code */
    assert_int_equal(count(t, "magic_links"), 1);
    assert_int_equal(query_hash(t, "SELECT expires_ms FROM magic_links WHERE hash = ?", l.token),
                     T0 + LINK_TTL_S * 1000);
    assert_int_equal(query_hash(t, "SELECT count(*) FROM magic_links WHERE code_hash = ?", l.code),
                     1);
    assert_int_equal(query_i64(&t->f, "SELECT count(*) FROM magic_links WHERE ip = '1.2.3.4' "
                                      "AND used = 0"),
                     1);
}

static void request_reuses_the_account(void **state)
{
    sfix_t *t = *state;
    signin_link_t a, b;
    request_ok(t, "bob@example.com", &a);
    request_ok(t, "BOB@example.com", &b);
    assert_string_equal(a.user_id, b.user_id);
    assert_string_not_equal(a.token, b.token);
    assert_int_equal(count(t, "users"), 1);
    assert_int_equal(count(t, "magic_links"), 2);
}

static void request_encodes_the_address_in_the_link(void **state)
{
    sfix_t *t = *state;
    signin_link_t l;
    request_ok(t, "a+b@example.com", &l);
    assert_non_null(strstr(l.link, "/signin?email=a%2Bb%40example.com&token="));
}

static void request_refuses_a_bad_address_first(void **state)
{
    sfix_t *t = *state;
    signin_link_t l;
    /* refused before any allowance is used: the IP still has its three requests */
    for (int i = 0; i < 5; i++)
        assert_int_equal(GV_EINVALID_REQUEST,
                         signin_request(&t->s, "not-an-address", "1.2.3.4", T0, &l));
    assert_int_equal(count(t, "users"), 0);
    assert_int_equal(count(t, "magic_links"), 0);
    assert_int_equal(0, signin_request(&t->s, "a@example.com", "1.2.3.4", T0, &l));
    assert_int_equal(0, signin_request(&t->s, "b@example.com", "1.2.3.4", T0, &l));
    assert_int_equal(0, signin_request(&t->s, "c@example.com", "1.2.3.4", T0, &l));
}

static void request_limits_each_ip(void **state)
{
    sfix_t *t = *state;
    signin_link_t l;
    assert_int_equal(0, signin_request(&t->s, "a@example.com", "1.2.3.4", T0, &l));
    assert_int_equal(0, signin_request(&t->s, "b@example.com", "1.2.3.4", T0, &l));
    assert_int_equal(0, signin_request(&t->s, "c@example.com", "1.2.3.4", T0, &l));
    assert_int_equal(GV_ERATE_LIMITED, signin_request(&t->s, "d@example.com", "1.2.3.4", T0, &l));
    assert_true(l.retry_after_ms > 0);
    /* refused before the account: d was never created */
    assert_int_equal(count(t, "users"), 3);
    assert_int_equal(count(t, "magic_links"), 3);
    /* the IP is checked before the address: d's allowance was not used */
    assert_int_equal(0, signin_request(&t->s, "d@example.com", "5.6.7.8", T0, &l));
    assert_int_equal(0, signin_request(&t->s, "d@example.com", "5.6.7.9", T0, &l));
    /* and it comes back with time */
    assert_int_equal(0, signin_request(&t->s, "e@example.com", "1.2.3.4", T0 + 30000, &l));
}

static void request_limits_each_address(void **state)
{
    sfix_t *t = *state;
    signin_link_t l;
    assert_int_equal(0, signin_request(&t->s, "a@example.com", "1.1.1.1", T0, &l));
    assert_int_equal(0, signin_request(&t->s, "A@example.com", "2.2.2.2", T0, &l));
    assert_int_equal(GV_ERATE_LIMITED, signin_request(&t->s, "a@example.com", "3.3.3.3", T0, &l));
    assert_true(l.retry_after_ms > 0);
    assert_int_equal(count(t, "magic_links"), 2);
}

static void mail_carries_the_link_and_the_code(void **state)
{
    (void)state;
    signin_link_t l;
    char text[2048], html[4096];
    memset(&l, 0, sizeof(l));
    snprintf(l.email, sizeof(l.email), "a@example.com");
    snprintf(l.code, sizeof(l.code), "ABCDEFGH");
    snprintf(l.link, sizeof(l.link), PUBLIC_URL "/signin?email=a%%40example.com&token=T<\"");
    signin_mail_format(&l, 900, text, sizeof(text), html, sizeof(html));
    assert_non_null(strstr(text, "valid for 15 minutes"));
    assert_non_null(strstr(text, l.link));
    assert_non_null(strstr(text, "instead: ABCD-EFGH"));
    assert_non_null(strstr(html, "valid for 15 minutes"));
    assert_non_null(
        strstr(html, "href=\"" PUBLIC_URL "/signin?email=a%40example.com&amp;token=T&lt;&quot;\""));
    assert_non_null(strstr(html, "<b>ABCD-EFGH</b>"));
    assert_null(strstr(html, "&token="));
}

/* ---- verify --------------------------------------------------------------------------------- */

static void verify_by_token_opens_a_session(void **state)
{
    sfix_t *t = *state;
    signin_link_t l;
    signin_session_t ses;
    request_ok(t, "alice@example.com", &l);
    int64_t now = T0 + 1000;
    assert_int_equal(0, signin_verify(&t->s, " ALICE@example.com", l.token, NULL, now, &ses));
    assert_string_equal(ses.user.id, l.user_id);
    assert_string_equal(ses.user.email, "alice@example.com");
    assert_access_valid(t, &ses, now);
    assert_int_equal(strlen(ses.refresh), TOKEN_TEXT_LEN);
    assert_int_equal(
        query_hash(t, "SELECT expires_ms FROM refresh_tokens WHERE hash = ?", ses.refresh),
        now + REFRESH_TTL_S * 1000LL);
    assert_int_equal(query_hash(t, "SELECT used FROM magic_links WHERE hash = ?", l.token), 1);
    /* used once only */
    assert_int_equal(GV_EINVALID_TOKEN,
                     signin_verify(&t->s, "alice@example.com", l.token, NULL, now, &ses));
    assert_int_equal(count(t, "refresh_tokens"), 1);
}

static void verify_by_code_uses_the_same_link(void **state)
{
    sfix_t *t = *state;
    signin_link_t l;
    signin_session_t ses;
    request_ok(t, "alice@example.com", &l);
    char typed[16];
    snprintf(typed, sizeof(typed), "%.4s-%.4s", l.code, l.code + 4);
    for (char *p = typed; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p); /* typed in lower case */
    assert_int_equal(0, signin_verify(&t->s, "alice@example.com", NULL, typed, T0, &ses));
    assert_string_equal(ses.user.id, l.user_id);
    assert_access_valid(t, &ses, T0);
    /* the code used the link: its token is spent too */
    assert_int_equal(GV_EINVALID_TOKEN,
                     signin_verify(&t->s, "alice@example.com", l.token, NULL, T0, &ses));
    assert_int_equal(GV_EINVALID_TOKEN,
                     signin_verify(&t->s, "alice@example.com", NULL, l.code, T0, &ses));
}

static void verify_needs_exactly_one_of_token_and_code(void **state)
{
    sfix_t *t = *state;
    signin_link_t l;
    signin_session_t ses;
    request_ok(t, "alice@example.com", &l);
    for (int i = 0; i < 5; i++) { /* refused before the failure allowance */
        assert_int_equal(GV_EINVALID_REQUEST,
                         signin_verify(&t->s, "alice@example.com", l.token, l.code, T0, &ses));
        assert_int_equal(GV_EINVALID_REQUEST,
                         signin_verify(&t->s, "alice@example.com", NULL, NULL, T0, &ses));
    }
    /* checked before the address too */
    assert_int_equal(GV_EINVALID_REQUEST, signin_verify(&t->s, "nope", NULL, NULL, T0, &ses));
    assert_int_equal(query_hash(t, "SELECT used FROM magic_links WHERE hash = ?", l.token), 0);
    assert_int_equal(0, signin_verify(&t->s, "alice@example.com", l.token, NULL, T0, &ses));
}

static void verify_refuses_a_bad_address_as_a_bad_token(void **state)
{
    sfix_t *t = *state;
    signin_link_t l;
    signin_session_t ses;
    request_ok(t, "alice@example.com", &l);
    for (int i = 0; i < 5; i++)
        assert_int_equal(GV_EINVALID_TOKEN, signin_verify(&t->s, "nope", l.token, NULL, T0, &ses));
    assert_int_equal(count(t, "refresh_tokens"), 0);
    assert_int_equal(0, signin_verify(&t->s, "alice@example.com", l.token, NULL, T0, &ses));
}

static void verify_refuses_another_address(void **state)
{
    sfix_t *t = *state;
    signin_link_t l, other;
    signin_session_t ses;
    request_ok(t, "alice@example.com", &l);
    request_ok(t, "bob@example.com", &other);
    assert_int_equal(GV_EINVALID_TOKEN,
                     signin_verify(&t->s, "bob@example.com", l.token, NULL, T0, &ses));
    assert_int_equal(GV_EINVALID_TOKEN,
                     signin_verify(&t->s, "bob@example.com", NULL, l.code, T0, &ses));
    assert_int_equal(count(t, "refresh_tokens"), 0);
    assert_int_equal(0, signin_verify(&t->s, "alice@example.com", l.token, NULL, T0, &ses));
}

static void verify_refuses_an_expired_link(void **state)
{
    sfix_t *t = *state;
    signin_link_t l;
    signin_session_t ses;
    request_ok(t, "alice@example.com", &l);
    int64_t end = T0 + LINK_TTL_S * 1000;
    assert_int_equal(GV_EINVALID_TOKEN,
                     signin_verify(&t->s, "alice@example.com", l.token, NULL, end, &ses));
    assert_int_equal(GV_EINVALID_TOKEN,
                     signin_verify(&t->s, "alice@example.com", NULL, l.code, end, &ses));
    assert_int_equal(0, signin_verify(&t->s, "alice@example.com", l.token, NULL, end - 1, &ses));
}

static void verify_failures_are_limited_per_address(void **state)
{
    sfix_t *t = *state;
    signin_link_t l;
    signin_session_t ses;
    request_ok(t, "alice@example.com", &l);
    /* three failures: a wrong token, a wrong code, a malformed code */
    assert_int_equal(GV_EINVALID_TOKEN,
                     signin_verify(&t->s, "alice@example.com", "wrong", NULL, T0, &ses));
    assert_int_equal(GV_EINVALID_TOKEN,
                     signin_verify(&t->s, "alice@example.com", NULL, "ZZZZ-ZZZZ", T0, &ses));
    assert_int_equal(GV_EINVALID_TOKEN,
                     signin_verify(&t->s, "Alice@example.com", NULL, "!!", T0, &ses));
    /* now even the right token is refused, without using the link */
    assert_int_equal(GV_ERATE_LIMITED,
                     signin_verify(&t->s, "alice@example.com", l.token, NULL, T0, &ses));
    assert_true(ses.retry_after_ms > 0);
    assert_int_equal(query_hash(t, "SELECT used FROM magic_links WHERE hash = ?", l.token), 0);
    /* other addresses are not affected */
    signin_link_t b;
    request_ok(t, "bob@example.com", &b);
    assert_int_equal(0, signin_verify(&t->s, "bob@example.com", b.token, NULL, T0, &ses));
    /* once the allowance is back the link works */
    int64_t later = T0 + 301 * 1000;
    assert_int_equal(0, signin_verify(&t->s, "alice@example.com", l.token, NULL, later, &ses));
}

static void verify_admit_limits_each_ip(void **state)
{
    sfix_t *t = *state;
    int64_t retry = 0;
    assert_int_equal(0, signin_verify_admit(&t->s, "1.2.3.4", T0, &retry));
    assert_int_equal(0, signin_verify_admit(&t->s, "1.2.3.4", T0, &retry));
    assert_int_equal(GV_ERATE_LIMITED, signin_verify_admit(&t->s, "1.2.3.4", T0, &retry));
    assert_true(retry > 0);
    int64_t back = T0 + retry, ignored;
    assert_int_equal(0, signin_verify_admit(&t->s, "5.6.7.8", T0, &ignored));
    assert_int_equal(GV_ERATE_LIMITED, signin_verify_admit(&t->s, "1.2.3.4", back - 1, &ignored));
    assert_int_equal(0, signin_verify_admit(&t->s, "1.2.3.4", back, &ignored));
    /* a separate allowance from the refreshes' */
    assert_int_equal(0, signin_refresh_admit(&t->s, "1.2.3.4", T0, &retry));
}

/* ---- refresh and logout --------------------------------------------------------------------- */

static void refresh_rotates_the_token(void **state)
{
    sfix_t *t = *state;
    signin_session_t a, b, c;
    session_ok(t, "alice@example.com", &a);
    int64_t now = T0 + 60000;
    assert_int_equal(0, signin_refresh(&t->s, a.refresh, now, &b));
    assert_string_equal(b.user.id, a.user.id);
    assert_string_not_equal(b.refresh, a.refresh);
    assert_access_valid(t, &b, now);
    assert_int_equal(
        query_hash(t, "SELECT rotated_ms FROM refresh_tokens WHERE hash = ?", a.refresh), now);
    assert_int_equal(
        query_hash(t, "SELECT expires_ms FROM refresh_tokens WHERE hash = ?", b.refresh),
        now + REFRESH_TTL_S * 1000LL);
    assert_int_equal(query_i64(&t->f, "SELECT count(DISTINCT family_id) FROM refresh_tokens"), 1);
    assert_int_equal(0, signin_refresh(&t->s, b.refresh, now, &c));
    assert_int_equal(count(t, "refresh_tokens"), 3);
}

static void refresh_reuse_revokes_the_family(void **state)
{
    sfix_t *t = *state;
    signin_session_t a, b, other, out;
    session_ok(t, "alice@example.com", &a);
    session_ok(t, "alice@example.com", &other); /* another device: another family */
    assert_int_equal(0, signin_refresh(&t->s, a.refresh, T0, &b));
    assert_int_equal(GV_EINVALID_TOKEN, signin_refresh(&t->s, a.refresh, T0, &out));
    assert_int_equal(GV_EINVALID_TOKEN, signin_refresh(&t->s, b.refresh, T0, &out));
    assert_true(query_hash(t, "SELECT revoked_ms FROM refresh_tokens WHERE hash = ?", b.refresh) >
                0);
    assert_int_equal(0, signin_refresh(&t->s, other.refresh, T0, &out));
}

static void refresh_refuses_unknown_and_expired(void **state)
{
    sfix_t *t = *state;
    signin_session_t a, out;
    session_ok(t, "alice@example.com", &a);
    assert_int_equal(GV_EINVALID_TOKEN, signin_refresh(&t->s, "unknown", T0, &out));
    assert_int_equal(GV_EINVALID_TOKEN,
                     signin_refresh(&t->s, a.refresh, T0 + REFRESH_TTL_S * 1000LL, &out));
    assert_int_equal(count(t, "refresh_tokens"), 1);
}

static void refresh_admit_limits_each_ip(void **state)
{
    sfix_t *t = *state;
    int64_t retry = 0;
    assert_int_equal(0, signin_refresh_admit(&t->s, "1.2.3.4", T0, &retry));
    assert_int_equal(0, signin_refresh_admit(&t->s, "1.2.3.4", T0, &retry));
    assert_int_equal(GV_ERATE_LIMITED, signin_refresh_admit(&t->s, "1.2.3.4", T0, &retry));
    assert_true(retry > 0);
    assert_int_equal(0, signin_refresh_admit(&t->s, "5.6.7.8", T0, &retry));
}

static void logout_revokes_the_family(void **state)
{
    sfix_t *t = *state;
    signin_session_t a, b, out;
    session_ok(t, "alice@example.com", &a);
    assert_int_equal(0, signin_refresh(&t->s, a.refresh, T0, &b));
    assert_int_equal(0, signin_logout(&t->s, b.refresh, T0 + 1));
    assert_int_equal(GV_EINVALID_TOKEN, signin_refresh(&t->s, b.refresh, T0 + 2, &out));
    assert_int_equal(query_i64(&t->f, "SELECT count(*) FROM refresh_tokens WHERE revoked_ms IS "
                                      "NULL"),
                     0);
    assert_int_equal(0, signin_logout(&t->s, "unknown", T0)); /* reveals nothing */
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(request_makes_account_and_link),
        T(request_reuses_the_account),
        T(request_encodes_the_address_in_the_link),
        T(request_refuses_a_bad_address_first),
        T(request_limits_each_ip),
        T(request_limits_each_address),
        T(mail_carries_the_link_and_the_code),
        T(verify_by_token_opens_a_session),
        T(verify_by_code_uses_the_same_link),
        T(verify_needs_exactly_one_of_token_and_code),
        T(verify_refuses_a_bad_address_as_a_bad_token),
        T(verify_refuses_another_address),
        T(verify_refuses_an_expired_link),
        T(verify_failures_are_limited_per_address),
        T(verify_admit_limits_each_ip),
        T(refresh_rotates_the_token),
        T(refresh_reuse_revokes_the_family),
        T(refresh_refuses_unknown_and_expired),
        T(refresh_admit_limits_each_ip),
        T(logout_revokes_the_family),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
