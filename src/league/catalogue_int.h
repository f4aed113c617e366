/* Internals of the catalogue imports shared by catalogue.c (kinds, CSV and JSON input, the
 * report, the shipped files) and catalogue_row.c (validating and writing one row). */
#ifndef GAVEL_LEAGUE_CATALOGUE_INT_H
#define GAVEL_LEAGUE_CATALOGUE_INT_H

#include "core/csv.h"
#include "league/catalogue.h"

#include <stddef.h>
#include <stdint.h>

#define CAT_VALUE_MAX CSV_MAX_FIELD_BYTES /* bytes of one value kept for a row */

/* The columns every kind maps onto. */
enum {
    CATALOGUE_COL_ID,
    CATALOGUE_COL_SPORT,
    CATALOGUE_COL_NAME,
    CATALOGUE_COL_SHORT,
    CATALOGUE_COL_COUNTRY,
    CATALOGUE_COL_TEAM,
    CATALOGUE_COL_ROLE,
    CATALOGUE_COL_COMPS,
    CATALOGUE_COL_PROVIDERS,
    CATALOGUE_COL_FD_ID, /* football_data_id: becomes providerIds.footballData */
    CATALOGUE_COL_CODE,
    CATALOGUE_COL_SEASON,
    CATALOGUE_COL_IGNORED, /* known, documented, not stored */
    CATALOGUE_COL_COUNT
};

typedef struct {
    const char *name;
    int col;
    int required;
} catalogue_col_t;

typedef struct {
    const char *name;
    const char *sport;   /* the sport of every row, or NULL: the sport column */
    int competitions;    /* rows are competitions, not assets */
    int country_is_name; /* national teams: the country is the team's name */
    const catalogue_col_t *cols;
} catalogue_kind_t;

/* One row of any input, mapped onto the columns. */
typedef struct {
    const char *v[CATALOGUE_COL_COUNT]; /* trimmed values; NULL when the input has no such column */
    json_t *providers;                  /* JSON input: the providerIds object (borrowed), or NULL */
    json_t *comps;                      /* JSON input: the competitions array (borrowed), or NULL */
    int too_long[CATALOGUE_COL_COUNT];  /* the value was over CAT_VALUE_MAX bytes */
} catalogue_row_t;

/* An import in progress. */
typedef struct {
    store_t *s;
    const catalogue_kind_t *kind;
    int flags;
    int64_t now_ms;
    catalogue_report_t *rep;
    int writing; /* 0 once a row failed without CATALOGUE_PARTIAL: the rest is only checked */
    store_sport_t sports[8];
    size_t nsports;
    store_competition_t *comps; /* known when the import began (owned) */
    size_t ncomps;
    json_t *seen;  /* ids (or codes) met in this input: duplicates are errors */
    char *scratch; /* CATALOGUE_COL_COUNT values of CAT_VALUE_MAX + 1 bytes */
} catalogue_ctx_t;

/* catalogue_report_add counts an error of the row at line and keeps it while fewer than
 * CATALOGUE_ERRORS_MAX are kept. 0 or GV_ENOMEM. */
__attribute__((format(printf, 4, 5))) int
catalogue_report_add(catalogue_report_t *r, int line, const char *code, const char *fmt, ...);

/* catalogue_clip copies s into out (cap >= 8 bytes), cut at a UTF-8 character boundary with
 * "..." when longer, so messages quoting input stay valid UTF-8 and short. Returns out. */
const char *catalogue_clip(const char *s, char *out, size_t cap);

/* catalogue_clipn is catalogue_clip of s[0..n) (s need not be NUL-terminated). */
const char *catalogue_clipn(const char *s, size_t n, char *out, size_t cap);

/* catalogue_row_set sets column col of row to s[0..n) without surrounding spaces and tabs,
 * copied into the import's scratch space (valid until the column is set again). */
void catalogue_row_set(catalogue_ctx_t *c, catalogue_row_t *row, int col, const char *s, size_t n);

/* catalogue_row_import validates row (from line) and, while the import is writing, upserts it,
 * counting the outcome. A row error is reported and, unless the import is partial, stops the
 * writing (the rest is still checked). 0 or a fatal GV_E* code. */
int catalogue_row_import(catalogue_ctx_t *c, const catalogue_row_t *row, int line);

#endif
