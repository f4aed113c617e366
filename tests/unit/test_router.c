/* Router: literal and parameter matching, method matching, 404 vs 405 with Allow, bad patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "net/router.h"

static void h_a(struct http_req_s *req, struct http_resp_s *resp, void *ctx)
{
    (void)req, (void)resp, (void)ctx;
}

static router_t r;

static int setup(void **state)
{
    (void)state;
    router_init(&r);
    assert_int_equal(router_add(&r, HTTP_M_GET, "/api/health", h_a, NULL, 0), 0);
    assert_int_equal(router_add(&r, HTTP_M_GET, "/api/leagues/{id}", h_a, NULL, 0), 0);
    assert_int_equal(router_add(&r, HTTP_M_PATCH, "/api/leagues/{id}", h_a, NULL, 1024), 0);
    assert_int_equal(
        router_add(&r, HTTP_M_DELETE, "/api/leagues/{id}/members/{userId}", h_a, NULL, 0), 0);
    assert_int_equal(router_add(&r, HTTP_M_GET, "/api/leagues/mine", h_a, NULL, 0), 0);
    return 0;
}

static int match(int method, const char *path, const router_route_t **rt, router_params_t *p,
                 int *allow)
{
    *allow = 0;
    return router_match(&r, method, path, strlen(path), rt, p, allow);
}

static void test_literal(void **state)
{
    const router_route_t *rt;
    router_params_t p;
    int allow;
    (void)state;
    assert_int_equal(match(HTTP_M_GET, "/api/health", &rt, &p, &allow), 0);
    assert_string_equal(rt->pattern, "/api/health");
    assert_int_equal(p.n, 0);
    assert_int_equal(match(HTTP_M_GET, "/api/health/", &rt, &p, &allow), GV_ENOT_FOUND);
    assert_int_equal(match(HTTP_M_GET, "/api/healthz", &rt, &p, &allow), GV_ENOT_FOUND);
    assert_int_equal(match(HTTP_M_GET, "/api", &rt, &p, &allow), GV_ENOT_FOUND);
    assert_int_equal(match(HTTP_M_GET, "", &rt, &p, &allow), GV_ENOT_FOUND);
}

static void test_params(void **state)
{
    const router_route_t *rt;
    router_params_t p;
    int allow;
    (void)state;
    assert_int_equal(match(HTTP_M_DELETE, "/api/leagues/L1/members/u-42", &rt, &p, &allow), 0);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.value_lens[0], 2);
    assert_memory_equal(p.values[0], "L1", 2);
    assert_memory_equal(p.names[1], "userId", 6);
    assert_memory_equal(p.values[1], "u-42", 4);
    /* an empty parameter segment does not match */
    assert_int_equal(match(HTTP_M_GET, "/api/leagues/", &rt, &p, &allow), GV_ENOT_FOUND);
    assert_int_equal(match(HTTP_M_GET, "/api/leagues//x", &rt, &p, &allow), GV_ENOT_FOUND);
}

static void test_method_and_allow(void **state)
{
    const router_route_t *rt;
    router_params_t p;
    int allow;
    char text[64];
    (void)state;
    assert_int_equal(match(HTTP_M_PATCH, "/api/leagues/7", &rt, &p, &allow), 0);
    assert_int_equal(rt->method, HTTP_M_PATCH);
    assert_int_equal(rt->body_limit, 1024);
    assert_int_equal(match(HTTP_M_HEAD, "/api/leagues/7", &rt, &p, &allow), 0);
    assert_int_equal(rt->method, HTTP_M_GET); /* HEAD served by GET */
    assert_int_equal(match(HTTP_M_POST, "/api/leagues/7", &rt, &p, &allow), GV_EMETHOD_NOT_ALLOWED);
    assert_null(rt);
    router_allow_format(allow, text, sizeof(text));
    assert_string_equal(text, "GET, HEAD, PATCH");
}

static void test_literal_beside_param(void **state)
{
    const router_route_t *rt;
    router_params_t p;
    int allow;
    (void)state;
    /* both "/api/leagues/{id}" and "/api/leagues/mine" match "mine": the literal wins */
    assert_int_equal(match(HTTP_M_GET, "/api/leagues/mine", &rt, &p, &allow), 0);
    assert_string_equal(rt->pattern, "/api/leagues/mine");
    assert_int_equal(p.n, 0);
    assert_int_equal(match(HTTP_M_GET, "/api/leagues/other", &rt, &p, &allow), 0);
    assert_string_equal(rt->pattern, "/api/leagues/{id}");
}

static void test_bad_patterns(void **state)
{
    (void)state;
    assert_int_equal(router_add(&r, HTTP_M_GET, "nope", h_a, NULL, 0), GV_EINVALID_REQUEST);
    assert_int_equal(router_add(&r, HTTP_M_GET, "/a//b", h_a, NULL, 0), GV_EINVALID_REQUEST);
    assert_int_equal(router_add(&r, HTTP_M_GET, "/a/{}", h_a, NULL, 0), GV_EINVALID_REQUEST);
    assert_int_equal(router_add(&r, HTTP_M_GET, "/a/{x", h_a, NULL, 0), GV_EINVALID_REQUEST);
    assert_int_equal(router_add(&r, HTTP_M_GET | HTTP_M_POST, "/a", h_a, NULL, 0),
                     GV_EINVALID_REQUEST);
    assert_int_equal(router_add(&r, HTTP_M_GET, "/a", NULL, NULL, 0), GV_EINVALID_REQUEST);
}

static void test_full(void **state)
{
    (void)state;
    router_t big;
    router_init(&big);
    for (int i = 0; i < ROUTER_MAX_ROUTES; i++)
        assert_int_equal(router_add(&big, HTTP_M_GET, "/x", h_a, NULL, 0), 0);
    assert_int_equal(router_add(&big, HTTP_M_GET, "/x", h_a, NULL, 0), GV_ELIMIT);
}

static void test_method_parse(void **state)
{
    (void)state;
    assert_int_equal(router_method_parse("GET", 3), HTTP_M_GET);
    assert_int_equal(router_method_parse("DELETE", 6), HTTP_M_DELETE);
    assert_int_equal(router_method_parse("GETX", 4), 0);
    assert_int_equal(router_method_parse("get", 3), 0);
    assert_int_equal(router_method_parse("TRACE", 5), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_literal, setup),
        cmocka_unit_test_setup(test_params, setup),
        cmocka_unit_test_setup(test_method_and_allow, setup),
        cmocka_unit_test_setup(test_literal_beside_param, setup),
        cmocka_unit_test_setup(test_bad_patterns, setup),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_method_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
