/* Catalogue imports: maps each CSV kind's columns (or an API Asset object) onto one row shape,
 * validates it against the sports and competitions known, and upserts it through the store, all
 * in one transaction; the report says what happened to every row. */
#include "league/catalogue_int.h"

#include "core/clock.h"
#include "core/csv.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CAT_LOADER_VERSION "1" /* bump when the mapping of the shipped files changes */

/* The built-in files (build/gen/catalogue.c, from data/ by scripts/embed_text.sh). */
extern const char catalogue_csv_competitions[];
extern const size_t catalogue_csv_competitions_len;
extern const char catalogue_csv_football_clubs[];
extern const size_t catalogue_csv_football_clubs_len;
extern const char catalogue_csv_national_teams[];
extern const size_t catalogue_csv_national_teams_len;
extern const char catalogue_csv_cricket_players[];
extern const size_t catalogue_csv_cricket_players_len;

static const catalogue_col_t cols_competitions[] = {{"code", CATALOGUE_COL_CODE, 1},
                                                    {"sport", CATALOGUE_COL_SPORT, 1},
                                                    {"name", CATALOGUE_COL_NAME, 1},
                                                    {"season", CATALOGUE_COL_SEASON, 0},
                                                    {0}};
static const catalogue_col_t cols_clubs[] = {{"id", CATALOGUE_COL_ID, 1},
                                             {"name", CATALOGUE_COL_NAME, 1},
                                             {"short_name", CATALOGUE_COL_SHORT, 0},
                                             {"country", CATALOGUE_COL_COUNTRY, 0},
                                             {"competitions", CATALOGUE_COL_COMPS, 0},
                                             {"football_data_id", CATALOGUE_COL_FD_ID, 0},
                                             {0}};
/* confederation and group describe the tournament draw, not the team: accepted, not stored. */
static const catalogue_col_t cols_national[] = {{"id", CATALOGUE_COL_ID, 1},
                                                {"name", CATALOGUE_COL_NAME, 1},
                                                {"confederation", CATALOGUE_COL_IGNORED, 0},
                                                {"competitions", CATALOGUE_COL_COMPS, 0},
                                                {"group", CATALOGUE_COL_IGNORED, 0},
                                                {0}};
/* bowling_style has no place in the API's Asset: accepted, not stored. */
static const catalogue_col_t cols_cricket[] = {{"id", CATALOGUE_COL_ID, 1},
                                               {"name", CATALOGUE_COL_NAME, 1},
                                               {"team", CATALOGUE_COL_TEAM, 0},
                                               {"country", CATALOGUE_COL_COUNTRY, 0},
                                               {"role", CATALOGUE_COL_ROLE, 0},
                                               {"bowling_style", CATALOGUE_COL_IGNORED, 0},
                                               {"competitions", CATALOGUE_COL_COMPS, 0},
                                               {0}};
static const catalogue_col_t cols_assets[] = {{"id", CATALOGUE_COL_ID, 1},
                                              {"sport", CATALOGUE_COL_SPORT, 1},
                                              {"name", CATALOGUE_COL_NAME, 1},
                                              {"short_name", CATALOGUE_COL_SHORT, 0},
                                              {"country", CATALOGUE_COL_COUNTRY, 0},
                                              {"team", CATALOGUE_COL_TEAM, 0},
                                              {"role", CATALOGUE_COL_ROLE, 0},
                                              {"competitions", CATALOGUE_COL_COMPS, 0},
                                              {"provider_ids", CATALOGUE_COL_PROVIDERS, 0},
                                              {0}};

static const catalogue_kind_t cat_kinds[] = {
    {"competitions", NULL, 1, 0, cols_competitions},
    {"football_clubs", "football", 0, 0, cols_clubs},
    {"national_teams", "football", 0, 1, cols_national},
    {"cricket_players", "cricket", 0, 0, cols_cricket},
    {"assets", NULL, 0, 0, cols_assets},
};

static const catalogue_kind_t *cat_kind_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof(cat_kinds) / sizeof(cat_kinds[0]); i++)
        if (strcmp(cat_kinds[i].name, name) == 0)
            return &cat_kinds[i];
    return NULL;
}

int catalogue_kind_known(const char *kind)
{
    return cat_kind_find(kind) != NULL;
}

/* ---- the report ------------------------------------------------------------------------------ */

void catalogue_report_init(catalogue_report_t *r)
{
    memset(r, 0, sizeof(*r));
}

void catalogue_report_deinit(catalogue_report_t *r)
{
    free(r->errors);
    catalogue_report_init(r);
}

const char *catalogue_clipn(const char *s, size_t n, char *out, size_t cap)
{
    if (n < cap) {
        memcpy(out, s, n);
        out[n] = '\0';
        return out;
    }
    n = cap - 4;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    memcpy(out, s, n);
    memcpy(out + n, "...", 4);
    return out;
}

const char *catalogue_clip(const char *s, char *out, size_t cap)
{
    return catalogue_clipn(s, strlen(s), out, cap);
}

int catalogue_report_add(catalogue_report_t *r, int line, const char *code, const char *fmt, ...)
{
    r->error_count++;
    if (r->nerrors >= CATALOGUE_ERRORS_MAX)
        return 0;
    if (r->errors == NULL) {
        r->errors = calloc(CATALOGUE_ERRORS_MAX, sizeof(*r->errors));
        if (r->errors == NULL)
            return GV_ENOMEM;
    }
    catalogue_error_t *e = &r->errors[r->nerrors++];
    e->line = line;
    snprintf(e->code, sizeof(e->code), "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return 0;
}

/* The whole input is refused: its one error replaces whatever rows reported. */
__attribute__((format(printf, 4, 5))) static int
cat_file_error(catalogue_report_t *r, int line, const char *code, const char *fmt, ...)
{
    char msg[sizeof(r->errors[0].message)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->rows = r->created = r->updated = r->skipped = 0;
    r->nerrors = r->error_count = 0;
    r->file_error = 1;
    int err = catalogue_report_add(r, line, code, "%s", msg);
    return err ? err : GV_EINVALID_REQUEST;
}

/* ---- an import in progress ------------------------------------------------------------------- */

static int cat_ctx_load_comps(catalogue_ctx_t *c)
{
    size_t cap = 64;
    for (;;) {
        free(c->comps);
        c->comps = malloc(cap * sizeof(*c->comps));
        if (c->comps == NULL)
            return GV_ENOMEM;
        int err = store_competitions_list(c->s, NULL, c->comps, cap, &c->ncomps);
        if (err != 0 || c->ncomps < cap)
            return err;
        cap *= 2; /* full: there may be more */
    }
}

static int cat_ctx_init(catalogue_ctx_t *c, store_t *s, const catalogue_kind_t *kind, int flags,
                        int64_t now_ms, catalogue_report_t *rep)
{
    memset(c, 0, sizeof(*c));
    c->s = s;
    c->kind = kind;
    c->flags = flags;
    c->now_ms = now_ms;
    c->rep = rep;
    c->writing = 1;
    c->seen = json_object();
    c->scratch = malloc((size_t)CATALOGUE_COL_COUNT * (CAT_VALUE_MAX + 1));
    if (c->seen == NULL || c->scratch == NULL)
        return GV_ENOMEM;
    int err =
        store_sports_list(s, c->sports, sizeof(c->sports) / sizeof(c->sports[0]), &c->nsports);
    return err ? err : cat_ctx_load_comps(c);
}

static void cat_ctx_deinit(catalogue_ctx_t *c)
{
    free(c->comps);
    free(c->scratch);
    json_decref(c->seen);
}

/* ---- CSV ------------------------------------------------------------------------------------- */

/* 1 when header field f names column col (case-insensitively, spaces around ignored). */
static int cat_name_eq(const char *col, const char *f)
{
    size_t n = strlen(col);
    while (*f == ' ' || *f == '\t')
        f++;
    if (strncasecmp(col, f, n) != 0)
        return 0;
    for (f += n; *f == ' ' || *f == '\t'; f++)
        ;
    return *f == '\0';
}

/* Maps the header's fields onto columns (map[i] for field i). A file error for an empty file,
 * an unknown, repeated or missing column. */
static int cat_header(catalogue_ctx_t *c, const csv_record_t *h, int *map)
{
    char clip[48];
    const catalogue_col_t *cols = c->kind->cols;
    int seen[16] = {0};
    for (size_t i = 0; i < h->n; i++) {
        const char *name = h->fields[i];
        size_t k = 0;
        while (cols[k].name != NULL && !cat_name_eq(cols[k].name, name))
            k++;
        if (cols[k].name == NULL)
            return cat_file_error(c->rep, 1, "unknown_column",
                                  "Unknown column \"%s\" for %s; the columns are described in "
                                  "the documentation.",
                                  catalogue_clip(name, clip, sizeof(clip)), c->kind->name);
        if (seen[k]++)
            return cat_file_error(c->rep, 1, "duplicate_column", "Column %s appears twice.",
                                  cols[k].name);
        map[i] = cols[k].col;
    }
    for (size_t k = 0; cols[k].name != NULL; k++)
        if (cols[k].required && !seen[k])
            return cat_file_error(c->rep, 1, "missing_column", "Column %s is required for %s.",
                                  cols[k].name, c->kind->name);
    return 0;
}

static int cat_csv_row(catalogue_ctx_t *c, const csv_record_t *rec, const int *map, size_t ncols)
{
    catalogue_row_t row;
    memset(&row, 0, sizeof(row));
    if (rec->n == 1 && rec->lens[0] == 0)
        return 0; /* a blank line */
    if (rec->n != ncols) {
        c->rep->rows++;
        if (!(c->flags & CATALOGUE_PARTIAL))
            c->writing = 0;
        return catalogue_report_add(c->rep, (int)rec->line, "field_count",
                                    "This row has %zu fields; the header has %zu.", rec->n, ncols);
    }
    for (size_t i = 0; i < rec->n; i++)
        if (map[i] != CATALOGUE_COL_IGNORED)
            catalogue_row_set(c, &row, map[i], rec->fields[i], rec->lens[i]);
    return catalogue_row_import(c, &row, (int)rec->line);
}

/* Reads the header and every row of text. */
static int cat_csv_run(catalogue_ctx_t *c, const char *text, size_t len)
{
    csv_reader_t r;
    csv_record_t rec;
    int map[CSV_MAX_FIELDS];
    size_t ncols = 0;
    csv_reader_init(&r, text, len, NULL);
    int rc = csv_reader_next(&r, &rec);
    if (rc == 0)
        rc = cat_file_error(c->rep, 1, "missing_header",
                            "The file is empty: a header row is "
                            "required.");
    else if (rc == 1 && (ncols = rec.n) > 0)
        rc = cat_header(c, &rec, map);
    while (rc == 0 && (rc = csv_reader_next(&r, &rec)) == 1)
        rc = cat_csv_row(c, &rec, map, ncols);
    if (rc == GV_EINVALID_REQUEST && !c->rep->file_error) {
        size_t line = 0;
        const char *msg = csv_reader_error(&r, &line);
        rc = cat_file_error(c->rep, (int)line, "invalid_csv", "%s", msg);
    }
    csv_reader_deinit(&r);
    return rc;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static const struct {
    const char *key;
    int col;
} cat_json_keys[] = {
    {"id", CATALOGUE_COL_ID},
    {"sport", CATALOGUE_COL_SPORT},
    {"name", CATALOGUE_COL_NAME},
    {"shortName", CATALOGUE_COL_SHORT},
    {"country", CATALOGUE_COL_COUNTRY},
    {"team", CATALOGUE_COL_TEAM},
    {"role", CATALOGUE_COL_ROLE},
    {"providerIds", CATALOGUE_COL_PROVIDERS},
    {"competitions", CATALOGUE_COL_COMPS},
};

/* Fills row from one member of an Asset object. 0, 1 (row error) or < 0. */
static int cat_json_member(catalogue_ctx_t *c, catalogue_row_t *row, int line, const char *key,
                           json_t *v)
{
    char clip[48];
    size_t k = 0, nkeys = sizeof(cat_json_keys) / sizeof(cat_json_keys[0]);
    while (k < nkeys && strcmp(cat_json_keys[k].key, key) != 0)
        k++;
    if (k == nkeys)
        return catalogue_report_add(c->rep, line, "unknown_field", "Unknown field \"%s\".",
                                    catalogue_clip(key, clip, sizeof(clip)))
                   ? -1
                   : 1;
    int col = cat_json_keys[k].col;
    if (json_is_null(v))
        return 0;
    if (col == CATALOGUE_COL_PROVIDERS && json_is_object(v))
        row->providers = v;
    else if (col == CATALOGUE_COL_COMPS && json_is_array(v))
        row->comps = v;
    else if (col != CATALOGUE_COL_PROVIDERS && col != CATALOGUE_COL_COMPS && json_is_string(v))
        catalogue_row_set(c, row, col, json_string_value(v), json_string_length(v));
    else
        return catalogue_report_add(c->rep, line, "invalid_value", "%s has the wrong type.", key)
                   ? -1
                   : 1;
    return 0;
}

static int cat_json_item(catalogue_ctx_t *c, json_t *item, int line)
{
    catalogue_row_t row;
    const char *key;
    json_t *v;
    int rc = 0;
    memset(&row, 0, sizeof(row));
    if (!json_is_object(item))
        rc = catalogue_report_add(c->rep, line, "invalid_value", "Item %d is not an object.", line)
                 ? -1
                 : 1;
    json_object_foreach(item, key, v)
    {
        if (rc == 0)
            rc = cat_json_member(c, &row, line, key, v);
    }
    if (rc == 0)
        return catalogue_row_import(c, &row, line);
    c->rep->rows++;
    if (!(c->flags & CATALOGUE_PARTIAL))
        c->writing = 0;
    return rc < 0 ? GV_ENOMEM : 0;
}

/* ---- imports --------------------------------------------------------------------------------- */

typedef int (*cat_run_fn)(catalogue_ctx_t *c, const void *arg, size_t len);

static int cat_run_csv(catalogue_ctx_t *c, const void *arg, size_t len)
{
    return cat_csv_run(c, arg, len);
}

static int cat_run_json(catalogue_ctx_t *c, const void *arg, size_t len)
{
    (void)len;
    json_t *items = (json_t *)arg;
    size_t i;
    json_t *item;
    int rc = 0;
    if (!json_is_array(items))
        return cat_file_error(c->rep, 0, "invalid_value", "assets must be an array.");
    json_array_foreach(items, i, item)
    {
        if (rc == 0 && i >= INT32_MAX)
            rc = GV_ELIMIT;
        if (rc == 0)
            rc = cat_json_item(c, item, (int)i + 1);
    }
    return rc;
}

/* Runs an import in its transaction; the result is what catalogue_import documents. */
static int cat_import_run(store_t *s, const catalogue_kind_t *kind, cat_run_fn fn, const void *arg,
                          size_t len, int flags, int64_t now_ms, catalogue_report_t *rep)
{
    catalogue_ctx_t c;
    int own = !(flags & CATALOGUE_IN_TX);
    int err = own ? store_tx_begin(s) : 0;
    if (err != 0)
        return err;
    err = cat_ctx_init(&c, s, kind, flags, now_ms, rep);
    err = err ? err : fn(&c, arg, len);
    if (err == 0 && rep->error_count > 0 && !(flags & CATALOGUE_PARTIAL))
        err = GV_EINVALID_REQUEST;
    if (err != 0 && !rep->file_error)
        rep->created = rep->updated = rep->skipped = 0; /* nothing of it stays */
    if (own)
        err = err ? (store_tx_rollback(s), err) : store_tx_commit(s);
    cat_ctx_deinit(&c);
    return err;
}

int catalogue_import(store_t *s, const char *kind, const char *text, size_t len, int flags,
                     int64_t now_ms, catalogue_report_t *report)
{
    char clip[48];
    const catalogue_kind_t *k = cat_kind_find(kind);
    if (k == NULL)
        return cat_file_error(report, 0, "unknown_kind",
                              "Unknown kind \"%s\": competitions, football_clubs, "
                              "national_teams, cricket_players or assets.",
                              catalogue_clip(kind != NULL ? kind : "", clip, sizeof(clip)));
    return cat_import_run(s, k, cat_run_csv, text, len, flags, now_ms, report);
}

int catalogue_import_csv(store_t *s, const char *kind, const char *text, size_t len, int64_t now_ms,
                         catalogue_report_t *report)
{
    return catalogue_import(s, kind, text, len, 0, now_ms, report);
}

int catalogue_import_json(store_t *s, json_t *items, int flags, int64_t now_ms,
                          catalogue_report_t *report)
{
    return cat_import_run(s, cat_kind_find("assets"), cat_run_json, items, 0, flags, now_ms,
                          report);
}

/* Reads a whole file of at most CATALOGUE_FILE_MAX bytes; *text is the caller's to free. */
static int cat_file_read(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return GV_EIO;
    char *buf = malloc(CATALOGUE_FILE_MAX + 1);
    size_t n = buf != NULL ? fread(buf, 1, CATALOGUE_FILE_MAX + 1, f) : 0;
    int err = buf == NULL ? GV_ENOMEM : ferror(f) ? GV_EIO : 0;
    if (err == 0 && n > CATALOGUE_FILE_MAX)
        err = GV_EPAYLOAD_TOO_LARGE;
    fclose(f);
    if (err != 0) {
        free(buf);
        return err;
    }
    *text = buf;
    *len = n;
    return 0;
}

int catalogue_import_file(store_t *s, const char *kind, const char *path,
                          catalogue_report_t *report)
{
    char *text = NULL;
    size_t len = 0;
    gv_clock_t clock;
    int err = cat_file_read(path, &text, &len);
    if (err == GV_EIO || err == GV_EPAYLOAD_TOO_LARGE) {
        cat_file_error(report, 0, err == GV_EIO ? "unreadable" : "too_large",
                       err == GV_EIO ? "The file cannot be read."
                                     : "The file is larger than 10 MiB.");
        return err;
    }
    if (err != 0)
        return err;
    clock_real_init(&clock);
    err = catalogue_import_csv(s, kind, text, len, clock_now_ms(&clock), report);
    free(text);
    return err;
}

/* ---- the shipped catalogue ------------------------------------------------------------------- */

static const struct {
    const char *kind;
    const char *text;
    const size_t *len;
} cat_shipped[] = {
    {"competitions", catalogue_csv_competitions, &catalogue_csv_competitions_len},
    {"football_clubs", catalogue_csv_football_clubs, &catalogue_csv_football_clubs_len},
    {"national_teams", catalogue_csv_national_teams, &catalogue_csv_national_teams_len},
    {"cricket_players", catalogue_csv_cricket_players, &catalogue_csv_cricket_players_len},
};

#define CAT_SHIPPED_N (sizeof(cat_shipped) / sizeof(cat_shipped[0]))

static uint64_t cat_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

void catalogue_shipped_version(char *out, size_t cap)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < CAT_SHIPPED_N; i++) {
        h = cat_fnv1a(h, cat_shipped[i].kind, strlen(cat_shipped[i].kind) + 1);
        h = cat_fnv1a(h, cat_shipped[i].text, *cat_shipped[i].len);
        h = cat_fnv1a(h, "", 1);
    }
    snprintf(out, cap, CAT_LOADER_VERSION "-%016llx", (unsigned long long)h);
}

/* Inside the open transaction: imports every shipped file and records the version. */
static int cat_shipped_tx(store_t *s, int64_t now_ms, const char *version,
                          catalogue_report_t *report)
{
    char have[64];
    int err = store_meta_get(s, CATALOGUE_VERSION_KEY, have, sizeof(have));
    if (err == 0 && strcmp(have, version) == 0) {
        report->up_to_date = 1;
        return 0;
    }
    if (err != 0 && err != GV_ENOT_FOUND && err != GV_ELIMIT)
        return err;
    for (size_t i = 0; i < CAT_SHIPPED_N; i++) {
        err = catalogue_import(s, cat_shipped[i].kind, cat_shipped[i].text, *cat_shipped[i].len,
                               CATALOGUE_IN_TX, now_ms, report);
        if (err != 0)
            return err == GV_EINVALID_REQUEST ? GV_EINTERNAL : err; /* the build's data is bad */
    }
    return store_meta_set(s, CATALOGUE_VERSION_KEY, version);
}

int catalogue_load_shipped(store_t *s, int64_t now_ms, catalogue_report_t *report)
{
    char version[64];
    catalogue_shipped_version(version, sizeof(version));
    int err = store_tx_begin(s);
    if (err != 0)
        return err;
    err = cat_shipped_tx(s, now_ms, version, report);
    if (err != 0 || report->up_to_date) {
        store_tx_rollback(s);
        return err;
    }
    return store_tx_commit(s);
}
