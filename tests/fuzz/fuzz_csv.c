/* libFuzzer target: the CSV reader on arbitrary bytes (uploaded catalogue and fixture files).
 * Checks the documented outcomes, that fields are UTF-8 without NUL and within the limits, that
 * line numbers only grow, and that the records survive a write (every field quoted) and re-read. */
#include "core/buf.h"
#include "core/csv.h"
#include "core/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_FIELDS 8
#define FUZZ_FIELD_BYTES 64
#define FUZZ_LINES 64

static void fuzz_write_record(buf_t *out, const csv_record_t *rec)
{
    for (size_t i = 0; i < rec->n; i++) {
        if (i && buf_append(out, ",", 1) != 0)
            abort();
        buf_append(out, "\"", 1);
        for (size_t j = 0; j < rec->lens[i]; j++) {
            char c = rec->fields[i][j];
            if (buf_append(out, c == '"' ? "\"\"" : &rec->fields[i][j], c == '"' ? 2 : 1) != 0)
                abort();
        }
        buf_append(out, "\"", 1);
    }
    if (buf_append(out, "\r\n", 2) != 0)
        abort();
}

/* Reads text; appends each record re-written to out (may be NULL). Returns the final code. */
static int fuzz_read(const char *text, size_t len, const csv_limits_t *lim, buf_t *out,
                     size_t *records)
{
    csv_reader_t r;
    csv_record_t rec;
    size_t last_line = 0;
    int rc;
    *records = 0;
    csv_reader_init(&r, text, len, lim);
    while ((rc = csv_reader_next(&r, &rec)) == 1) {
        if (rec.n == 0 || rec.n > lim->max_fields || rec.line <= last_line ||
            rec.line > lim->max_lines)
            abort();
        last_line = rec.line;
        for (size_t i = 0; i < rec.n; i++)
            if (rec.lens[i] > lim->max_field_bytes || strlen(rec.fields[i]) != rec.lens[i] ||
                !csv_utf8_check(rec.fields[i], rec.lens[i], NULL))
                abort();
        if (out != NULL)
            fuzz_write_record(out, &rec);
        (*records)++;
    }
    size_t line = 0;
    const char *msg = csv_reader_error(&r, &line);
    if (rc < 0 && (rc != GV_EINVALID_REQUEST || msg[0] == '\0' || line == 0))
        abort();
    if (csv_reader_next(&r, &rec) != rc)
        abort(); /* the end and errors are sticky */
    csv_reader_deinit(&r);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    csv_limits_t lim = {FUZZ_FIELDS, FUZZ_FIELD_BYTES, FUZZ_LINES};
    char *text = malloc(size ? size : 1); /* no NUL after it: overreads are caught */
    if (text == NULL)
        abort();
    memcpy(text, data, size);
    buf_t once, twice;
    buf_init(&once);
    buf_init(&twice);
    size_t n1 = 0, n2 = 0;
    if (fuzz_read(text, size, &lim, &once, &n1) == 0 && n1 > 0) {
        /* Quoted fields may hold line ends: the rewrite can have more lines than the limit. */
        csv_limits_t roomy = {FUZZ_FIELDS, FUZZ_FIELD_BYTES, (size_t)-1};
        if (fuzz_read(once.data, once.len, &roomy, &twice, &n2) != 0 || n1 != n2 ||
            once.len != twice.len || memcmp(once.data, twice.data, once.len) != 0)
            abort();
    }
    buf_deinit(&once);
    buf_deinit(&twice);
    free(text);
    return 0;
}
