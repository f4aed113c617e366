/* The shared catalogue's imports: the CSV files shipped inside the binary (loaded on first start
 * and whenever they change), CSV files of each kind (`gavel import`, the admin API) and JSON
 * asset lists. Every row is validated and upserted idempotently, with a per-row report. */
#ifndef GAVEL_LEAGUE_CATALOGUE_H
#define GAVEL_LEAGUE_CATALOGUE_H

#include "store/store.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define CATALOGUE_ERRORS_MAX 1000                 /* row errors kept in a report */
#define CATALOGUE_FILE_MAX (10 * 1024 * 1024)     /* bytes of one CSV file */
#define CATALOGUE_VERSION_KEY "catalogue_version" /* meta key of the shipped data loaded */

/* Import flags. */
enum {
    CATALOGUE_PARTIAL = 1, /* write the good rows even when others have errors */
    CATALOGUE_IN_TX = 2,   /* the caller holds a transaction: neither begin nor end one */
};

typedef struct {
    int line;      /* CSV: the physical line, 1 = the header; JSON: the item's position from 1 */
    char code[32]; /* snake_case: missing_field, invalid_value, unknown_competition, ... */
    char message[256]; /* a human sentence (UTF-8) */
} catalogue_error_t;

/* What an import did. created + updated + skipped + rows with errors = rows. */
typedef struct {
    int rows;                  /* data rows read (blank lines are not rows) */
    int created;               /* new rows written */
    int updated;               /* existing rows changed */
    int skipped;               /* rows equal to what was stored: nothing written */
    int file_error;            /* the input as a whole was refused; errors[0] says why */
    int up_to_date;            /* catalogue_load_shipped: this version was loaded before */
    size_t error_count;        /* every error found */
    size_t nerrors;            /* errors kept (the first CATALOGUE_ERRORS_MAX) */
    catalogue_error_t *errors; /* owned; freed by catalogue_report_deinit */
} catalogue_report_t;

/* catalogue_report_init empties r (allocates nothing); catalogue_report_deinit frees it. */
void catalogue_report_init(catalogue_report_t *r);
void catalogue_report_deinit(catalogue_report_t *r);

/* catalogue_kind_known: 1 for competitions, football_clubs, national_teams, cricket_players and
 * assets (columns: id,sport,name,short_name,country,team,role,competitions,provider_ids, where
 * competitions is "A;B" and provider_ids "key=value;key=value"). */
int catalogue_kind_known(const char *kind);

/* catalogue_import reads a CSV text of kind (a header row naming the columns in any order, then
 * one row per record) and upserts each valid row. A header that is missing, names an unknown
 * column, repeats one or lacks a required one, text that is not CSV or not UTF-8, or an unknown
 * kind refuse the whole input (report->file_error). Row errors are reported with their line;
 * without CATALOGUE_PARTIAL any row error means nothing is written. Runs in one transaction
 * (its own unless CATALOGUE_IN_TX: then the caller rolls back on failure). Returns 0 when the
 * rows were written (with CATALOGUE_PARTIAL, even if some had errors), GV_EINVALID_REQUEST when
 * nothing was written because of the errors in the report, or GV_EDB*, GV_ENOMEM. */
int catalogue_import(store_t *s, const char *kind, const char *text, size_t len, int flags,
                     int64_t now_ms, catalogue_report_t *report);

/* catalogue_import_csv is catalogue_import without flags: all or nothing, its own transaction. */
int catalogue_import_csv(store_t *s, const char *kind, const char *text, size_t len, int64_t now_ms,
                         catalogue_report_t *report);

/* catalogue_import_json imports the API's Asset objects of the array items (borrowed):
 * {id, sport, name, shortName, country, team, role, providerIds, competitions}; id, sport and
 * name are required; unknown members are row errors. Same flags and results as
 * catalogue_import; a line is the item's position from 1. */
int catalogue_import_json(store_t *s, json_t *items, int flags, int64_t now_ms,
                          catalogue_report_t *report);

/* catalogue_import_file reads the CSV file at path (at most CATALOGUE_FILE_MAX bytes) and
 * imports it as catalogue_import_csv does, at the current wall-clock time. GV_EIO when it
 * cannot be read, GV_EPAYLOAD_TOO_LARGE when too big (both with report->file_error). */
int catalogue_import_file(store_t *s, const char *kind, const char *path,
                          catalogue_report_t *report);

/* catalogue_load_shipped imports the catalogue built into the binary (competitions first, then
 * football clubs, national teams and cricket players) in one transaction, and records its
 * version in meta (CATALOGUE_VERSION_KEY). When that version is already recorded it does nothing
 * and sets report->up_to_date. Shipped assets are upserted, never deleted. 0 or GV_E*. */
int catalogue_load_shipped(store_t *s, int64_t now_ms, catalogue_report_t *report);

/* catalogue_shipped_version writes the version of the built-in catalogue ("1-<16 hex>": the
 * loader's format and a hash of the files) into out (at least 24 bytes). */
void catalogue_shipped_version(char *out, size_t cap);

#endif
