/* WebSocket pieces: the accept key (RFC 6455 example), handshake validation, UTF-8 checks,
 * shared frame headers, and the auth-first message protocol. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>

#include "api/ws_api.h"
#include "auth/jwt.h"
#include "core/err.h"
#include "core/utf8.h"

static void test_accept_key(void **state)
{
    (void)state;
    char out[29];
    assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=", out), GV_EINVALID_REQUEST);
    assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ!=", out), GV_EINVALID_REQUEST);
    assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25j*Q==", out), GV_EINVALID_REQUEST);
    assert_int_equal(ws_accept_key("", out), GV_EINVALID_REQUEST);
}

static http_header_t hs_headers[4];

static void hs_req(http_req_t *req, int method, const char *upgrade, const char *connection,
                   const char *version, const char *key)
{
    memset(req, 0, sizeof(*req));
    req->method = method;
    size_t n = 0;
    if (upgrade)
        hs_headers[n++] = (http_header_t){"upgrade", upgrade};
    if (connection)
        hs_headers[n++] = (http_header_t){"connection", connection};
    if (version)
        hs_headers[n++] = (http_header_t){"sec-websocket-version", version};
    if (key)
        hs_headers[n++] = (http_header_t){"sec-websocket-key", key};
    req->headers = hs_headers;
    req->nheaders = n;
}

static void test_handshake(void **state)
{
    (void)state;
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    http_req_t r;
    hs_req(&r, HTTP_M_GET, "websocket", "Upgrade", "13", key);
    assert_int_equal(ws_handshake_check(&r), 0);
    hs_req(&r, HTTP_M_GET, "WebSocket", "keep-alive, Upgrade", "13", key);
    assert_int_equal(ws_handshake_check(&r), 0);
    hs_req(&r, HTTP_M_POST, "websocket", "Upgrade", "13", key);
    assert_int_equal(ws_handshake_check(&r), GV_EINVALID_REQUEST);
    hs_req(&r, HTTP_M_GET, "websocket", "Upgrade", "12", key);
    assert_int_equal(ws_handshake_check(&r), GV_EINVALID_REQUEST);
    hs_req(&r, HTTP_M_GET, "h2c", "Upgrade", "13", key);
    assert_int_equal(ws_handshake_check(&r), GV_EINVALID_REQUEST);
    hs_req(&r, HTTP_M_GET, "websocket", "Upgraded", "13", key);
    assert_int_equal(ws_handshake_check(&r), GV_EINVALID_REQUEST);
    hs_req(&r, HTTP_M_GET, "websocket", "Upgrade", "13", NULL);
    assert_int_equal(ws_handshake_check(&r), GV_EINVALID_REQUEST);
    hs_req(&r, HTTP_M_GET, "websocket", "Upgrade", "13", "short");
    assert_int_equal(ws_handshake_check(&r), GV_EINVALID_REQUEST);
}

static void test_utf8(void **state)
{
    (void)state;
    const char *ok[] = {"", "plain", "\xc2\xa3 13m", "\xe2\x82\xac", "\xf0\x9f\x8f\x86"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_true(utf8_valid((const unsigned char *)ok[i], strlen(ok[i])));
    const char *bad[] = {
        "\xff",             /* never valid */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong */
        "\xed\xa0\x80",     /* surrogate */
        "\xf4\x90\x80\x80", /* > U+10FFFF */
        "\xe2\x82",         /* truncated */
        "\x80",             /* lone continuation */
        "a\xc2",            /* truncated at the end */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(utf8_valid((const unsigned char *)bad[i], strlen(bad[i])));
}

static void test_frame_header(void **state)
{
    (void)state;
    ws_frame_t *f = ws_frame_text("hi", 2);
    assert_non_null(f);
    ws_frame_ref(f);
    ws_frame_unref(f);
    ws_frame_unref(f); /* last reference frees (ASan checks) */
    size_t sizes[] = {0, 125, 126, 65535, 65536};
    for (size_t i = 0; i < 5; i++) {
        char *text = calloc(1, sizes[i] + 1);
        ws_frame_t *g = ws_frame_text(text, sizes[i]);
        size_t len;
        const unsigned char *p = (const unsigned char *)ws_frame_bytes(g, &len);
        assert_int_equal(p[0], 0x81); /* FIN + text, unmasked */
        if (sizes[i] < 126) {
            assert_int_equal(p[1], sizes[i]);
            assert_int_equal(len, 2 + sizes[i]);
        } else if (sizes[i] <= 65535) {
            assert_int_equal(p[1], 126);
            assert_int_equal((p[2] << 8) | p[3], sizes[i]);
            assert_int_equal(len, 4 + sizes[i]);
        } else {
            assert_int_equal(p[1], 127);
            assert_int_equal(((size_t)p[7] << 16) | ((size_t)p[8] << 8) | p[9], sizes[i]);
            assert_int_equal(len, 10 + sizes[i]);
        }
        ws_frame_unref(g);
        free(text);
    }
}

static app_t g_app; /* only its JWT key is used by the protocol */

static void run(ws_api_session_t *s, const char *msg, buf_t *reply, int *code)
{
    const char *reason;
    reply->len = 0;
    assert_int_equal(
        ws_api_handle(&g_app, s, msg, strlen(msg), 1700000000000, reply, code, &reason), 0);
}

/* An auth message with a token for sub signed with the app's key, expiring at exp (s). */
static void auth_msg(const char *sub, int64_t exp, char *out, size_t n)
{
    jwt_claims_t c = {.iat = 1700000000, .exp = exp};
    char tok[JWT_MAX_LEN];
    snprintf(c.sub, sizeof(c.sub), "%s", sub);
    assert_int_equal(jwt_sign(g_app.jwt_key, g_app.jwt_key_len, &c, tok, sizeof(tok)), 0);
    snprintf(out, n, "{\"type\":\"auth\",\"token\":\"%s\"}", tok);
}

static int app_setup(void **state)
{
    (void)state;
    memset(g_app.jwt_key, 7, 32);
    g_app.jwt_key_len = 32;
    return 0;
}

static void test_protocol_auth_first(void **state)
{
    (void)state;
    ws_api_session_t s = {0};
    buf_t reply;
    int code;
    char msg[2048];
    buf_init(&reply);
    run(&s, "{\"type\":\"ping\",\"clientTimeMs\":5}", &reply, &code);
    assert_int_equal(code, 4401);
    assert_int_equal(reply.len, 0);
    run(&s, "not json", &reply, &code);
    assert_int_equal(code, 4401);
    run(&s, "{\"type\":\"auth\"}", &reply, &code);
    assert_int_equal(code, 4401);
    run(&s, "{\"type\":\"auth\",\"token\":\"anything\"}", &reply, &code);
    assert_int_equal(code, 4401);
    auth_msg("usr_a", 1700000000, msg, sizeof(msg)); /* expired at now */
    run(&s, msg, &reply, &code);
    assert_int_equal(code, 4401);
    assert_false(s.authenticated);
    auth_msg("usr_a", 1700000900, msg, sizeof(msg));
    run(&s, msg, &reply, &code);
    assert_int_equal(code, 0);
    assert_true(s.authenticated);
    assert_int_equal(s.expires_ms, 1700000900000);
    assert_non_null(strstr(reply.data, "\"type\":\"ready\""));
    assert_non_null(strstr(reply.data, "\"userId\":\"usr_a\""));
    /* a renewal may extend, never switch user */
    auth_msg("usr_b", 1700001800, msg, sizeof(msg));
    run(&s, msg, &reply, &code);
    assert_int_equal(code, 4401);
    buf_deinit(&reply);
}

static void test_protocol_after_auth(void **state)
{
    (void)state;
    ws_api_session_t s = {.authenticated = 1};
    buf_t reply;
    int code;
    buf_init(&reply);
    run(&s, "{\"type\":\"ping\",\"clientTimeMs\":5}", &reply, &code);
    assert_int_equal(code, 0);
    json_t *o = json_loadb(reply.data, reply.len, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "type")), "pong");
    assert_int_equal(json_integer_value(json_object_get(o, "clientTimeMs")), 5);
    assert_int_equal(json_integer_value(json_object_get(o, "serverTimeMs")), 1700000000000);
    json_decref(o);
    run(&s, "{\"type\":\"dance\"}", &reply, &code);
    assert_int_equal(code, 0);
    assert_non_null(strstr(reply.data, "\"type\":\"error\""));
    run(&s, "[1,2]", &reply, &code);
    assert_int_equal(code, 0);
    assert_non_null(strstr(reply.data, "invalid_request"));
    buf_deinit(&reply);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_key),
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_frame_header),
        cmocka_unit_test(test_protocol_auth_first),
        cmocka_unit_test(test_protocol_after_auth),
    };
    return cmocka_run_group_tests(tests, app_setup, NULL);
}
