/* CSV reader: RFC 4180 quoting, CRLF/LF, newlines inside quotes with their line numbers, the BOM,
 * strict UTF-8, every limit, and errors that are sticky and name their line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/csv.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXREC 16

/* Every record of text as "a|b|c@line" strings joined by "\n"; an error ends with "!line".
 * Returns the reader's final result (0 or the error code). */
static int read_all(const char *text, size_t len, const csv_limits_t *lim, char *out, size_t cap)
{
    csv_reader_t r;
    csv_record_t rec;
    int rc;
    size_t used = 0;
    out[0] = '\0';
    csv_reader_init(&r, text, len, lim);
    while ((rc = csv_reader_next(&r, &rec)) == 1) {
        for (size_t i = 0; i < rec.n; i++) {
            assert_int_equal(strlen(rec.fields[i]), rec.lens[i]);
            used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "|" : "", rec.fields[i]);
        }
        used += (size_t)snprintf(out + used, cap - used, "@%zu\n", rec.line);
    }
    if (rc < 0) {
        size_t line = 0;
        csv_reader_error(&r, &line);
        snprintf(out + used, cap - used, "!%zu", line);
        /* sticky */
        assert_int_equal(csv_reader_next(&r, &rec), rc);
    } else {
        assert_int_equal(csv_reader_next(&r, &rec), 0); /* the end stays the end */
    }
    csv_reader_deinit(&r);
    return rc;
}

static int read_str(const char *text, char *out, size_t cap)
{
    return read_all(text, strlen(text), NULL, out, cap);
}

static void test_plain_lf_and_crlf(void **state)
{
    (void)state;
    char out[512];
    assert_int_equal(read_str("a,b,c\n1,2,3\n", out, sizeof(out)), 0);
    assert_string_equal(out, "a|b|c@1\n1|2|3@2\n");
    assert_int_equal(read_str("a,b\r\n1,2\r\n", out, sizeof(out)), 0);
    assert_string_equal(out, "a|b@1\n1|2@2\n");
    /* no final line end; empty fields at both ends */
    assert_int_equal(read_str("a,b\n,x,", out, sizeof(out)), 0);
    assert_string_equal(out, "a|b@1\n|x|@2\n");
    /* a blank line is one empty field */
    assert_int_equal(read_str("a\n\nb\n", out, sizeof(out)), 0);
    assert_string_equal(out, "a@1\n@2\nb@3\n");
}

static void test_empty_and_bom(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(read_str("", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(read_str("\xEF\xBB\xBF", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(read_str("\xEF\xBB\xBFid,name\n", out, sizeof(out)), 0);
    assert_string_equal(out, "id|name@1\n");
    /* a BOM anywhere else is just a character */
    assert_int_equal(read_str("a,\xEF\xBB\xBF\n", out, sizeof(out)), 0);
    assert_string_equal(out, "a|\xEF\xBB\xBF@1\n");
    assert_int_equal(read_all(NULL, 0, NULL, out, sizeof(out)), 0);
}

static void test_quoted_fields(void **state)
{
    (void)state;
    char out[512];
    assert_int_equal(read_str("\"a,b\",\"say \"\"hi\"\"\",\"\"\n", out, sizeof(out)), 0);
    assert_string_equal(out, "a,b|say \"hi\"|@1\n");
    /* newlines inside quotes: the next record's line counts them */
    assert_int_equal(
        read_str("h1,h2\n\"two\nlines\",x\r\n\"cr\r\nlf\",y\nlast,z", out, sizeof(out)), 0);
    assert_string_equal(out, "h1|h2@1\ntwo\nlines|x@2\ncr\r\nlf|y@4\nlast|z@6\n");
    /* a quoted field at the very end, without a line end */
    assert_int_equal(read_str("a,\"b\"", out, sizeof(out)), 0);
    assert_string_equal(out, "a|b@1\n");
}

static void test_syntax_errors_name_their_line(void **state)
{
    (void)state;
    char out[512];
    assert_int_equal(read_str("a\n\"open\n\nstill", out, sizeof(out)), GV_EINVALID_REQUEST);
    assert_string_equal(out, "a@1\n!2"); /* where the quote opened */
    assert_int_equal(read_str("a\nb\"c\n", out, sizeof(out)), GV_EINVALID_REQUEST);
    assert_string_equal(out, "a@1\n!2");
    assert_int_equal(read_str("a\n\"b\"c\n", out, sizeof(out)), GV_EINVALID_REQUEST);
    assert_string_equal(out, "a@1\n!2");
    assert_int_equal(read_str("a\nb\rc\n", out, sizeof(out)), GV_EINVALID_REQUEST);
    assert_string_equal(out, "a@1\n!2");
    assert_int_equal(read_str("a\r", out, sizeof(out)), GV_EINVALID_REQUEST);
    assert_string_equal(out, "!1");
}

static void test_utf8_is_strict(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\xC0\xAF",         /* overlong '/' */
        "\xE0\x80\xAF",     /* overlong */
        "\xED\xA0\x80",     /* surrogate */
        "\xF4\x90\x80\x80", /* above U+10FFFF */
        "\xF5\x80\x80\x80", "\x80", "\xC3", "\xE2\x82", "\xFF",
    };
    char out[256], text[64];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int n = snprintf(text, sizeof(text), "ok\nok\nx%sy\n", bad[i]);
        assert_int_equal(read_all(text, (size_t)n, NULL, out, sizeof(out)), GV_EINVALID_REQUEST);
        assert_string_equal(out, "!3"); /* nothing is given from a bad file */
    }
    /* NUL bytes are refused too */
    assert_int_equal(read_all("a\nb\0c\n", 6, NULL, out, sizeof(out)), GV_EINVALID_REQUEST);
    assert_string_equal(out, "!2");
    /* good multi-byte text passes */
    assert_int_equal(read_str("Bodø/Glimt,Qarabağ,€,\xF0\x9F\x8F\x86\n", out, sizeof(out)), 0);
    assert_string_equal(out, "Bodø/Glimt|Qarabağ|€|\xF0\x9F\x8F\x86@1\n");
    size_t at = 99;
    assert_int_equal(csv_utf8_check("ab\xC3", 3, &at), 0);
    assert_int_equal(at, 2);
    assert_int_equal(csv_utf8_check("", 0, &at), 1);
}

static void test_field_length_limit(void **state)
{
    (void)state;
    char *text = malloc(CSV_MAX_FIELD_BYTES + 16);
    char *out = malloc(CSV_MAX_FIELD_BYTES + 64);
    assert_non_null(text);
    assert_non_null(out);
    memset(text, 'x', CSV_MAX_FIELD_BYTES);
    memcpy(text + CSV_MAX_FIELD_BYTES, ",y\n", 4);
    assert_int_equal(read_str(text, out, CSV_MAX_FIELD_BYTES + 64), 0); /* exactly 4 KiB: fine */
    text[0] = '"';
    memcpy(text + CSV_MAX_FIELD_BYTES, "x\",y\n", 6); /* quoted, 4 KiB of content */
    assert_int_equal(read_str(text, out, CSV_MAX_FIELD_BYTES + 64), 0);
    memcpy(text + CSV_MAX_FIELD_BYTES, "xx\",y\n", 7); /* one byte more */
    assert_int_equal(read_str(text, out, CSV_MAX_FIELD_BYTES + 64), GV_EINVALID_REQUEST);
    assert_string_equal(out, "!1");
    free(text);
    free(out);
}

static void test_field_count_and_line_limits(void **state)
{
    (void)state;
    char out[1024];
    csv_limits_t lim = {.max_fields = 3, .max_field_bytes = 8, .max_lines = 3};
    assert_int_equal(read_all("a,b,c\n1,2,3,4\n", 14, &lim, out, sizeof(out)), GV_EINVALID_REQUEST);
    assert_string_equal(out, "a|b|c@1\n!2");
    assert_int_equal(read_all("a\nb\nc\n", 6, &lim, out, sizeof(out)), 0);
    assert_int_equal(read_all("a\nb\nc\nd", 7, &lim, out, sizeof(out)), GV_EINVALID_REQUEST);
    assert_string_equal(out, "!4");
    /* the limits of the defaults: 64 fields fine, 65 not */
    char row[256];
    size_t n = 0;
    for (int i = 0; i < 64; i++)
        n += (size_t)snprintf(row + n, sizeof(row) - n, "%s", i ? ",x" : "x");
    assert_int_equal(read_all(row, n, NULL, out, sizeof(out)), 0);
    memcpy(row + n, ",x", 3);
    assert_int_equal(read_all(row, n + 2, NULL, out, sizeof(out)), GV_EINVALID_REQUEST);
}

static void test_many_records_grow_storage(void **state)
{
    (void)state;
    size_t cap = 200000, used = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int i = 0; i < 5000; i++)
        used += (size_t)snprintf(text + used, cap - used, "%d,\"v%d\",%s\r\n", i, i,
                                 i % 7 ? "" : "a,b,c,d,e,f,g,h");
    csv_reader_t r;
    csv_record_t rec;
    csv_reader_init(&r, text, used, NULL);
    int count = 0;
    while (csv_reader_next(&r, &rec) == 1) {
        assert_int_equal(rec.line, (size_t)count + 1);
        assert_int_equal(atoi(rec.fields[0]), count);
        assert_int_equal(rec.n, count % 7 ? 3 : 10);
        count++;
    }
    csv_reader_deinit(&r);
    assert_int_equal(count, 5000);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_lf_and_crlf),
        cmocka_unit_test(test_empty_and_bom),
        cmocka_unit_test(test_quoted_fields),
        cmocka_unit_test(test_syntax_errors_name_their_line),
        cmocka_unit_test(test_utf8_is_strict),
        cmocka_unit_test(test_field_length_limit),
        cmocka_unit_test(test_field_count_and_line_limits),
        cmocka_unit_test(test_many_records_grow_storage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
