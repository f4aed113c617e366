/* The catalogue part of the store interface: sports, competitions and assets (included by
 * store.h; callers include store.h). */
#ifndef GAVEL_STORE_STORE_CATALOGUE_H
#define GAVEL_STORE_STORE_CATALOGUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct store_s store_t;

#define STORE_KEY_MAX 32 /* sport keys, competition codes */
#define STORE_ASSET_ID_MAX 64
#define STORE_TEXT_MAX 128              /* names and short texts */
#define STORE_JSON_MAX 1024             /* small JSON documents kept as text */
#define STORE_ASSET_COMPETITIONS_MAX 32 /* competition codes of one asset */

typedef struct {
    char key[STORE_KEY_MAX];
    char name[STORE_TEXT_MAX];
    char asset_label[STORE_TEXT_MAX];
    char asset_plural[STORE_TEXT_MAX];
    char scoring[STORE_JSON_MAX]; /* JSON: the sport's default scoring document */
} store_sport_t;

typedef struct {
    char code[STORE_KEY_MAX];
    char sport[STORE_KEY_MAX];
    char name[STORE_TEXT_MAX];
    char season[STORE_KEY_MAX];
    int asset_count;
} store_competition_t;

typedef struct {
    char id[STORE_ASSET_ID_MAX];
    char sport[STORE_KEY_MAX];
    char name[STORE_TEXT_MAX];
    char short_name[STORE_TEXT_MAX];
    char country[STORE_TEXT_MAX];
    char team[STORE_TEXT_MAX];
    char role[STORE_TEXT_MAX];
    char provider_ids[STORE_JSON_MAX]; /* JSON object text, e.g. {"footballData":"57"} */
    char competitions[STORE_JSON_MAX]; /* JSON array text of competition codes, sorted */
} store_asset_t;

/* A filter and a page of the asset list. NULL/empty fields do not filter. The order is
 * (name case-insensitively, id); after_name/after_id (both empty for the first page) make the
 * page start strictly after that key, so paging never skips or repeats. q matches a
 * case-insensitive substring of the name (ASCII case folding; LIKE wildcards in q are literal). */
typedef struct {
    const char *sport;
    const char *competition;
    const char *q;
    const char *after_name;
    const char *after_id;
    int limit; /* 1..500 */
} store_asset_query_t;

/* store_sports_list copies up to max sports (by key) into out; *n is how many. 0 or GV_EDB*. */
int store_sports_list(store_t *s, store_sport_t *out, size_t max, size_t *n);

/* store_competitions_list copies up to max competitions of sport (NULL: all), ordered by code,
 * with their asset counts. 0 or GV_EDB*. */
int store_competitions_list(store_t *s, const char *sport, store_competition_t *out, size_t max,
                            size_t *n);

/* store_competition_get reads one competition. 0, GV_ENOT_FOUND or GV_EDB*. */
int store_competition_get(store_t *s, const char *code, store_competition_t *out);

/* store_competition_upsert inserts or updates a competition (the sport must exist: else
 * GV_EINVALID_REQUEST). 0 or GV_EDB*. */
int store_competition_upsert(store_t *s, const store_competition_t *c);

/* store_asset_get reads one asset with its competitions. 0, GV_ENOT_FOUND or GV_EDB*. */
int store_asset_get(store_t *s, const char *id, store_asset_t *out);

/* store_assets_list copies one page (at most q->limit, never more than max) of assets matching
 * q into out; *n is how many, *more is 1 when further rows follow. 0 or GV_EDB*. */
int store_assets_list(store_t *s, const store_asset_query_t *q, store_asset_t *out, size_t max,
                      size_t *n, int *more);

/* What an upsert did: a row equal to the stored one is left untouched (UNCHANGED). */
typedef enum {
    STORE_UPSERT_CREATED = 1,
    STORE_UPSERT_UPDATED,
    STORE_UPSERT_UNCHANGED,
} store_upsert_t;

/* store_competition_save is store_competition_upsert that also says what it did in *outcome.
 * A competition keeps its sport: a different one is GV_ECONFLICT (nothing changed). Runs in its
 * own transaction unless one is open. 0, GV_EINVALID_REQUEST (unknown sport, empty code or
 * name), GV_ECONFLICT or GV_EDB*. */
int store_competition_save(store_t *s, const store_competition_t *c, store_upsert_t *outcome);

/* store_asset_save is store_asset_upsert that also says what it did in *outcome. provider_ids
 * is stored canonically (compact, keys sorted) so equal objects compare equal; duplicate codes
 * count once. An asset keeps its sport: a different one is GV_ECONFLICT (nothing changed).
 * GV_ELIMIT when the competitions would not fit STORE_JSON_MAX. Runs in its own transaction
 * unless one is open. */
int store_asset_save(store_t *s, const store_asset_t *a, const char *const *competitions, size_t n,
                     int64_t now_ms, store_upsert_t *outcome);

/* store_meta_get copies the server metadata value of key (table meta) into out (cap bytes).
 * 0, GV_ENOT_FOUND, GV_ELIMIT (does not fit) or GV_EDB*. */
int store_meta_get(store_t *s, const char *key, char *out, size_t cap);

/* store_meta_set sets key to value (insert or replace). 0 or GV_EDB*. */
int store_meta_set(store_t *s, const char *key, const char *value);

/* store_meta_claim sets key to value unless it has one, then copies the value key has into out
 * (cap bytes): the first of any racing callers (other connections, other nodes) wins, and all
 * of them read the winner's value. 0, GV_ELIMIT (does not fit) or GV_EDB*. */
int store_meta_claim(store_t *s, const char *key, const char *value, char *out, size_t cap);

/* store_asset_upsert inserts or updates an asset (all text fields; provider_ids must be a JSON
 * object text) and replaces its competition memberships with the n codes given (each must
 * exist and be of the asset's sport: else GV_EINVALID_REQUEST, nothing changed). *created tells
 * whether it was new. Runs in its own transaction unless one is open. 0 or GV_E*. */
int store_asset_upsert(store_t *s, const store_asset_t *a, const char *const *competitions,
                       size_t n, int64_t now_ms, int *created);

#endif
