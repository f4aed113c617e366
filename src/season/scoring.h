/* Scoring rules of PRODUCT.md "Season": the sport's defaults, a league's overrides as a JSON
 * merge patch (null restores a default), points of one football result or one cricket match
 * line, and the ranking of a league table with shared ranks. Pure: no I/O. */
#ifndef GAVEL_SEASON_SCORING_H
#define GAVEL_SEASON_SCORING_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SCORING_VALUE_MAX 1000000 /* a rule's points or a milestone's threshold */

typedef enum { SCORING_FOOTBALL = 1, SCORING_CRICKET } scoring_sport_t;

typedef struct {
    int enabled;
    int64_t threshold;
    int64_t points;
} scoring_milestone_t;

typedef struct {
    scoring_sport_t sport;
    int64_t win, draw, loss, goal;                           /* football, per club and fixture */
    int64_t run, wicket, catch_, stumping, run_out;          /* cricket, per player and match */
    scoring_milestone_t half_century, century, five_wickets; /* stack when enabled */
} scoring_rules_t;

typedef struct {
    int64_t runs, wickets, catches, stumpings, run_outs;
} scoring_line_t;

/* scoring_defaults fills r with sport's defaults ("football" or "cricket"). 0 or
 * GV_EINVALID_REQUEST for another sport. */
int scoring_defaults(const char *sport, scoring_rules_t *r);

/* scoring_overrides_merge applies patch (a merge patch of the document's shape, borrowed) to
 * overrides (the stored differences; modified in place: a null removes an override) and checks
 * the result against sport's defaults. On success *rules is the effective rule set. On failure
 * returns GV_EINVALID_REQUEST and names the field ("rules.win", "milestones.century.points")
 * in field (size n); overrides may be partly changed then (callers discard it). */
int scoring_overrides_merge(const char *sport, json_t *overrides, const json_t *patch,
                            scoring_rules_t *rules, char *field, size_t n);

/* scoring_document builds the GET document of r (a new reference). */
json_t *scoring_document(const scoring_rules_t *r);

/* scoring_football: points of one finished fixture for a club that scored gf and conceded ga. */
int64_t scoring_football(const scoring_rules_t *r, int gf, int ga);

/* scoring_cricket: points of one match line, milestones included. */
int64_t scoring_cricket(const scoring_rules_t *r, const scoring_line_t *l);

/* A row of a league table; scoring_rank orders rows by points, then tb1, then tb2 (all
 * descending; the sport's tie-breaks), then key (ascending, for a stable display) and gives
 * shared ranks: equal points, tb1 and tb2 share a rank and the next rank skips (1, 2, 2, 4). */
typedef struct {
    int64_t points, tb1, tb2;
    const char *key;
    int rank;
    size_t index; /* the caller's */
} scoring_row_t;

void scoring_rank(scoring_row_t *rows, size_t n);

#endif
