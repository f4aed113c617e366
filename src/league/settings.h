/* League settings of PRODUCT.md: defaults, and validation of a flat JSON object (create or
 * patch) with one clear error per violation naming the field and the allowed range. Pure. */
#ifndef GAVEL_LEAGUE_SETTINGS_H
#define GAVEL_LEAGUE_SETTINGS_H

#include "store/store.h"

#include <jansson.h>

#define LEAGUE_NAME_MAX_CHARS 60

typedef struct {
    char field[64];    /* the offending field */
    char message[160]; /* human sentence with the allowed range */
} league_error_t;

/* league_settings_defaults fills s with PRODUCT.md's defaults. */
void league_settings_defaults(store_league_settings_t *s);

/* league_settings_apply reads every setting present in obj into s (a copy of the current or
 * default settings), then checks the whole result (ranges and cross-field rules: budget >=
 * minBid x rosterSize, minManagers <= maxManagers, antiSnipeSeconds < lotSeconds). Fields named
 * in ignore (NULL-terminated, e.g. "name", "sport", "competition") are skipped; any other
 * unknown field is an error. 0, or GV_EINVALID_REQUEST with *err filled. */
int league_settings_apply(store_league_settings_t *s, json_t *obj, const char *const *ignore,
                          league_error_t *err);

/* league_name_normalize trims name and checks 1..60 characters of valid UTF-8 without control
 * characters; writes it to out (size n). 0 or GV_EINVALID_REQUEST. */
int league_name_normalize(const char *name, char *out, size_t n);

/* league_settings_json builds the API's settings object (a new reference). */
json_t *league_settings_json(const store_league_settings_t *s);

#endif
