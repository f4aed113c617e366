/* JSON helpers: strict parsing, depth limit, content type, unknown fields, error bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "json/json.h"
#include "net/http_int.h"

static void test_depth(void **state)
{
    (void)state;
    char deep[200];
    memset(deep, '[', 40);
    memset(deep + 40, ']', 40);
    assert_false(json_depth_ok(deep, 80, 32));
    assert_true(json_depth_ok(deep, 80, 40));
    /* brackets inside strings do not count, escaped quotes do not end strings */
    const char *s = "{\"a\":\"[[[[[[[[[[\\\"[[[[[[[\"}";
    assert_true(json_depth_ok(s, strlen(s), 2));
}

static void test_parse_object(void **state)
{
    (void)state;
    json_t *o;
    assert_int_equal(json_parse_object("{\"a\":1}", 7, &o), 0);
    assert_int_equal(json_integer_value(json_object_get(o, "a")), 1);
    json_decref(o);
    assert_int_equal(json_parse_object("[1]", 3, &o), GV_EINVALID_REQUEST);
    assert_null(o);
    assert_int_equal(json_parse_object("{\"a\":1,\"a\":2}", 13, &o), GV_EINVALID_JSON);
    assert_int_equal(json_parse_object("{\"a\":", 5, &o), GV_EINVALID_JSON);
    assert_int_equal(json_parse_object("", 0, &o), GV_EINVALID_JSON);
    assert_int_equal(json_parse_object("{\"a\":\"\xff\"}", 8, &o), GV_EINVALID_JSON);
    char deep[100];
    memset(deep, '[', 50);
    assert_int_equal(json_parse_object(deep, 50, &o), GV_EINVALID_JSON);
}

static void test_fields_allowed(void **state)
{
    (void)state;
    static const char *const allowed[] = {"name", "budget", NULL};
    json_t *o = json_pack("{s:s, s:i}", "name", "x", "budget", 5);
    const char *bad;
    assert_int_equal(json_fields_allowed(o, allowed, &bad), 0);
    assert_null(bad);
    json_object_set_new(o, "admin", json_true());
    assert_int_equal(json_fields_allowed(o, allowed, &bad), GV_EINVALID_REQUEST);
    assert_string_equal(bad, "admin");
    json_decref(o);
}

static void test_body_content_type(void **state)
{
    (void)state;
    http_req_t req;
    memset(&req, 0, sizeof(req));
    http_header_t h[1] = {{"content-type", "text/plain"}};
    req.headers = h;
    req.nheaders = 1;
    buf_init(&req.body);
    buf_puts(&req.body, "{}");
    json_t *o;
    assert_int_equal(json_body_object(&req, &o), GV_EUNSUPPORTED_MEDIA_TYPE);
    h[0].value = "application/json; charset=utf-8";
    assert_int_equal(json_body_object(&req, &o), 0);
    json_decref(o);
    h[0].value = "application/jsonx";
    assert_int_equal(json_body_object(&req, &o), GV_EUNSUPPORTED_MEDIA_TYPE);
    req.nheaders = 0;
    assert_int_equal(json_body_object(&req, &o), GV_EUNSUPPORTED_MEDIA_TYPE);
    buf_deinit(&req.body);
}

static void test_error_bodies(void **state)
{
    (void)state;
    http_resp_t resp;
    http_resp_init(&resp);
    assert_int_equal(json_resp_field_error(&resp, "budget", "Budget must be 1..1000."), 0);
    assert_int_equal(resp.status, 400);
    json_t *o = json_loadb(resp.body.data, resp.body.len, 0, NULL);
    json_t *e = json_object_get(o, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "invalid_request");
    assert_string_equal(json_string_value(json_object_get(e, "message")),
                        "Budget must be 1..1000.");
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "details"), "field")),
                        "budget");
    json_decref(o);
    http_resp_deinit(&resp);
    http_resp_init(&resp);
    assert_int_equal(json_resp_err(&resp, GV_EDB), 0);
    assert_int_equal(resp.status, 500);
    assert_non_null(strstr(resp.body.data, "\"code\":\"internal\""));
    assert_null(strstr(resp.body.data, "details"));
    assert_int_equal(http_resp_header(&resp, "X-Bad", "a\r\nInjected: 1"), GV_EINVALID_REQUEST);
    assert_int_equal(resp.headers.len, 0);
    http_resp_deinit(&resp);
}

static void test_cors(void **state)
{
    (void)state;
    http_limits_t lim;
    http_limits_defaults(&lim);
    assert_false(http_cors_origin_allowed(&lim, "http://localhost:5173"));
    lim.cors_dev = 1;
    assert_true(http_cors_origin_allowed(&lim, "http://localhost:5173"));
    assert_true(http_cors_origin_allowed(&lim, "http://127.0.0.1"));
    assert_false(http_cors_origin_allowed(&lim, "http://localhost.evil.example"));
    assert_false(http_cors_origin_allowed(&lim, "http://localhost:5173x"));
    assert_false(http_cors_origin_allowed(&lim, "https://localhost:5173"));
    assert_false(http_cors_origin_allowed(&lim, "http://localhost:"));
    lim.cors_dev = 0;
    lim.cors_origins = "https://app.example, https://b.example";
    assert_true(http_cors_origin_allowed(&lim, "https://app.example"));
    assert_true(http_cors_origin_allowed(&lim, "https://b.example"));
    assert_false(http_cors_origin_allowed(&lim, "https://app.example.evil"));
    assert_false(http_cors_origin_allowed(&lim, "https://app.exampl"));
    assert_false(http_cors_origin_allowed(&lim, NULL));
    assert_false(http_cors_origin_allowed(&lim, ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depth),          cmocka_unit_test(test_parse_object),
        cmocka_unit_test(test_fields_allowed), cmocka_unit_test(test_body_content_type),
        cmocka_unit_test(test_error_bodies),   cmocka_unit_test(test_cors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
