/* multipart/form-data: boundaries from content types, the named part found among others, its
 * content exact (CRLF inside kept), malformed bodies refused. Bodies are written out here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "net/multipart.h"

static void boundaries(void **state)
{
    (void)state;
    char b[MULTIPART_BOUNDARY_MAX + 1];
    assert_int_equal(0, multipart_boundary("multipart/form-data; boundary=abc123", b));
    assert_string_equal("abc123", b);
    assert_int_equal(0, multipart_boundary("Multipart/Form-Data; charset=utf-8; "
                                           "boundary=\"a b;c\"",
                                           b));
    assert_string_equal("a b;c", b);
    assert_int_equal(GV_EINVALID_REQUEST, multipart_boundary("text/csv", b));
    assert_int_equal(GV_EINVALID_REQUEST, multipart_boundary("multipart/form-data", b));
    assert_int_equal(GV_EINVALID_REQUEST, multipart_boundary("multipart/form-data; boundary=", b));
    assert_int_equal(GV_EINVALID_REQUEST,
                     multipart_boundary("multipart/form-data; boundary=\"x", b));
    assert_int_equal(GV_EINVALID_REQUEST,
                     multipart_boundary("multipart/form-datax; boundary=a", b));
    char longb[120] = "multipart/form-data; boundary=";
    memset(longb + strlen(longb), 'x', 71);
    assert_int_equal(GV_EINVALID_REQUEST, multipart_boundary(longb, b));
}

static const char body[] = "--XyZ\r\n"
                           "Content-Disposition: form-data; name=\"note\"\r\n\r\n"
                           "hello\r\n"
                           "--XyZ\r\n"
                           "Content-Disposition: form-data; name=\"file\"; filename=\"f.csv\"\r\n"
                           "Content-Type: text/csv\r\n\r\n"
                           "a,b\r\n1,2\r\n"
                           "\r\n--XyZ--\r\n";

static void finds_the_named_part(void **state)
{
    (void)state;
    const char *d = NULL;
    size_t n = 0;
    assert_int_equal(0, multipart_part(body, sizeof(body) - 1, "XyZ", "file", &d, &n));
    assert_int_equal(10, n);
    assert_memory_equal("a,b\r\n1,2\r\n", d, n);
    assert_int_equal(0, multipart_part(body, sizeof(body) - 1, "XyZ", "note", &d, &n));
    assert_int_equal(5, n);
    assert_int_equal(GV_ENOT_FOUND, multipart_part(body, sizeof(body) - 1, "XyZ", "other", &d, &n));
    /* name="f.csv" only as a filename does not make a part named f.csv */
    assert_int_equal(GV_ENOT_FOUND, multipart_part(body, sizeof(body) - 1, "XyZ", "f.csv", &d, &n));
}

static void refuses_malformed_bodies(void **state)
{
    (void)state;
    const char *d;
    size_t n;
    const char *bad[] = {
        "no delimiter at all",
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nnever closed",
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\nno blank line\r\n--XyZ--",
        "--XyZX",
        /* found by fuzz_multipart: the delimiter's CRLF is the header block's last one, which
         * gave a negative (huge) length */
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n--XyZ--\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(GV_EINVALID_REQUEST,
                         multipart_part(bad[i], strlen(bad[i]), "XyZ", "file", &d, &n));
    assert_int_equal(GV_ENOT_FOUND, multipart_part("--XyZ--\r\n", 9, "XyZ", "file", &d, &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(boundaries),
        cmocka_unit_test(finds_the_named_part),
        cmocka_unit_test(refuses_malformed_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
