/* libFuzzer target: uploaded catalogue files, as arbitrary bytes, through the CSV reader and the
 * catalogue import (src/league/catalogue*.c) with the real limits (csv_limits_defaults, as the
 * import uses) on a real SQLite store: migrated, the shipped catalogue loaded, in a temporary
 * directory made once per process (tests/fuzz/fuzz_app.h).
 *
 * Every input is read:
 *  - by the CSV reader alone: the documented outcomes, fields UTF-8 without NUL and within the
 *    limits, line numbers only growing, and the records surviving a write (every field quoted)
 *    and a re-read;
 *  - as a CSV file of each kind (competitions, football_clubs, national_teams, cricket_players,
 *    assets), all or nothing, then — when rows had errors — with partial=true; and, when it is
 *    JSON, as the API's asset list ({"assets":[...]} or the array itself). Each import runs in a
 *    transaction the target rolls back, so every input meets the same store.
 * Checks on each report: the result is 0 or invalid_request; a refused file has exactly one
 * error and no rows; rows = created + updated + skipped + rows with errors (one error per bad
 * row) when partial, and nothing counted as written when an all-or-nothing import failed; the
 * errors kept are min(errors, CATALOGUE_ERRORS_MAX), each with a snake_case code and a message
 * of valid UTF-8 (they are sent as JSON); and an import that wrote rows, run again, changes
 * nothing (idempotent upserts: created = updated = 0, the same errors). */
#include "fuzz_app.h"

#include "core/csv.h"
#include "core/utf8.h"

/* ---- the reader ------------------------------------------------------------------------------ */

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

static void fuzz_reader(const char *text, size_t size)
{
    csv_limits_t lim;
    csv_limits_defaults(&lim);
    buf_t once, twice;
    buf_init(&once);
    buf_init(&twice);
    size_t n1 = 0, n2 = 0;
    if (fuzz_read(text, size, &lim, &once, &n1) == 0 && n1 > 0) {
        /* Quoted fields may hold line ends: the rewrite can have more lines than the limit. */
        csv_limits_t roomy = lim;
        roomy.max_lines = (size_t)-1;
        if (fuzz_read(once.data, once.len, &roomy, &twice, &n2) != 0 || n1 != n2 ||
            once.len != twice.len || memcmp(once.data, twice.data, once.len) != 0)
            abort();
    }
    buf_deinit(&once);
    buf_deinit(&twice);
}

/* ---- the catalogue import -------------------------------------------------------------------- */

static const char *const fz_kinds[] = {"competitions", "football_clubs", "national_teams",
                                       "cricket_players", "assets"};

static void fz_report_fail(const char *kind, const char *why, const catalogue_report_t *r)
{
    fprintf(stderr,
            "fuzz_csv: %s import: %s (rows=%d created=%d updated=%d skipped=%d "
            "errors=%zu kept=%zu file_error=%d)\n",
            kind, why, r->rows, r->created, r->updated, r->skipped, r->error_count, r->nerrors,
            r->file_error);
    for (size_t i = 0; i < r->nerrors && i < 5; i++)
        fprintf(stderr, "  line %d %s: %s\n", r->errors[i].line, r->errors[i].code,
                r->errors[i].message);
    abort();
}

static int fz_code_ok(const char *code)
{
    if (!code[0])
        return 0;
    for (const char *c = code; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || *c == '_'))
            return 0;
    return 1;
}

static void fz_report_check(const char *kind, int rc, int flags, const catalogue_report_t *r)
{
    int written = r->created + r->updated + r->skipped;
    if (rc != 0 && rc != GV_EINVALID_REQUEST)
        fz_report_fail(kind, err_name(rc), r);
    if (r->nerrors !=
        (r->error_count < CATALOGUE_ERRORS_MAX ? r->error_count : CATALOGUE_ERRORS_MAX))
        fz_report_fail(kind, "errors kept", r);
    for (size_t i = 0; i < r->nerrors; i++) {
        const catalogue_error_t *e = &r->errors[i];
        if (e->line < 0 || !fz_code_ok(e->code) || !e->message[0] ||
            !utf8_valid((const unsigned char *)e->message, strlen(e->message)))
            fz_report_fail(kind, "an error's line, code or message", r);
    }
    if (r->file_error) {
        if (rc == 0 || r->error_count != 1 || r->rows || written)
            fz_report_fail(kind, "a refused file", r);
        return;
    }
    if ((flags & CATALOGUE_PARTIAL) && (rc != 0 || (size_t)(r->rows - written) != r->error_count))
        fz_report_fail(kind, "rows = written + rows with errors", r);
    if (!(flags & CATALOGUE_PARTIAL) && (rc == 0) != (r->error_count == 0))
        fz_report_fail(kind, "all or nothing: the result and the errors", r);
    if (!(flags & CATALOGUE_PARTIAL) && r->error_count && written)
        fz_report_fail(kind, "all or nothing: rows counted as written", r);
    if (!(flags & CATALOGUE_PARTIAL) && !r->error_count && r->rows != written)
        fz_report_fail(kind, "rows = written", r);
}

typedef int (*fz_import_fn)(const char *kind, const void *in, size_t len, int flags,
                            catalogue_report_t *r);

static int fz_import_csv(const char *kind, const void *in, size_t len, int flags,
                         catalogue_report_t *r)
{
    return catalogue_import(fz_app.app.store, kind, in, len, flags, FZ_T0, r);
}

static int fz_import_json(const char *kind, const void *in, size_t len, int flags,
                          catalogue_report_t *r)
{
    (void)kind;
    (void)len;
    return catalogue_import_json(fz_app.app.store, (json_t *)in, flags, FZ_T0, r);
}

/* One import (and, when it wrote rows, the same again: nothing may change) in a transaction
 * that is rolled back. Returns the number of row errors (0 for a refused file). */
static size_t fz_import(fz_import_fn fn, const char *kind, const void *in, size_t len, int flags)
{
    catalogue_report_t r, again;
    catalogue_report_init(&r);
    catalogue_report_init(&again);
    fz_ok(store_tx_begin(fz_app.app.store), "store_tx_begin");
    int rc = fn(kind, in, len, flags | CATALOGUE_IN_TX, &r);
    fz_report_check(kind, rc, flags, &r);
    if (rc == 0 && r.created + r.updated > 0) {
        int rc2 = fn(kind, in, len, flags | CATALOGUE_IN_TX, &again);
        fz_report_check(kind, rc2, flags, &again);
        if (rc2 != 0 || again.created || again.updated ||
            again.skipped != r.created + r.updated + r.skipped ||
            again.error_count != r.error_count)
            fz_report_fail(kind, "the same import again changed something", &again);
    }
    fz_ok(store_tx_rollback(fz_app.app.store), "store_tx_rollback");
    size_t row_errors = r.file_error ? 0 : r.error_count;
    catalogue_report_deinit(&r);
    catalogue_report_deinit(&again);
    return row_errors;
}

static void fuzz_catalogue(const char *text, size_t size)
{
    for (size_t k = 0; k < sizeof(fz_kinds) / sizeof(fz_kinds[0]); k++)
        if (fz_import(fz_import_csv, fz_kinds[k], text, size, 0) > 0)
            fz_import(fz_import_csv, fz_kinds[k], text, size, CATALOGUE_PARTIAL);
    json_t *root = json_loadb(text, size, 0, NULL);
    json_t *items = json_is_object(root) ? json_object_get(root, "assets") : root;
    if (items && fz_import(fz_import_json, "assets (JSON)", items, 0, 0) > 0)
        fz_import(fz_import_json, "assets (JSON)", items, 0, CATALOGUE_PARTIAL);
    json_decref(root);
}

/* ---- set-up and one input -------------------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    int applied = 0;
    catalogue_report_t rep;
    fz_app.who = "fuzz_csv";
    log_threshold = LOG_OFF;
    fz_dir_make();
    atexit(fz_app_cleanup);
    fz_ok(store_open(&fz_app.app.store, fz_app.dir), "store_open");
    fz_ok(store_migrate(fz_app.app.store, &applied), "store_migrate");
    catalogue_report_init(&rep);
    fz_ok(catalogue_load_shipped(fz_app.app.store, FZ_T0, &rep), "catalogue_load_shipped");
    catalogue_report_deinit(&rep);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1); /* no NUL after it: overreads are caught */
    if (text == NULL)
        abort();
    memcpy(text, data, size);
    fuzz_reader(text, size);
    fuzz_catalogue(text, size);
    free(text);
    return 0;
}
