/* The season of a league: fixtures and cricket stats imported from CSV with a per-row report
 * (all or nothing unless partial), the league's effective scoring rules, and the standings and
 * per-asset points always recomputed from the stored rows. Borrows the store; no logging. */
#ifndef GAVEL_SEASON_SEASON_H
#define GAVEL_SEASON_SEASON_H

#include "season/scoring.h"
#include "store/store.h"

#include <jansson.h>

#define SEASON_PARTIAL 1
#define SEASON_ERRORS_MAX 1000 /* row errors kept in a report (all are counted) */

typedef struct {
    int line; /* 1 = the header row */
    char code[32];
    char message[200];
} season_row_error_t;

typedef struct {
    int created, updated, skipped;
    int file_error; /* the header (or the whole text) is wrong: 400 whatever partial says */
    size_t error_count;
    season_row_error_t *errors; /* the first SEASON_ERRORS_MAX */
    size_t nerrors;
    json_t *unmatched;  /* scorecards: names matching no asset (owned; NULL for other imports) */
    char match_id[128]; /* scorecards: the external match id the lines were stored under */
} season_report_t;

void season_report_init(season_report_t *r);
void season_report_deinit(season_report_t *r);

/* season_report_json builds {"created","updated","skipped","errors":[{line,code,message}],
 * "errorCount"}, with "unmatched" and "matchId" for a scorecard. */
json_t *season_report_json(const season_report_t *r);

/* season_import_fixtures reads the fixture CSV of API.md for league lg (its sport's assets are
 * matched by id, provider id or exact name, case-insensitively; ambiguity is a row error) and
 * upserts by external match id, in one transaction. Without SEASON_PARTIAL any row error writes
 * nothing. Returns 0 (rows written per the report), GV_EINVALID_REQUEST (the report says why) or
 * another GV_E*. now_ms judges results entered for fixtures more than 24 h ahead. */
int season_import_fixtures(store_t *s, const store_league_t *lg, const char *text, size_t len,
                           int flags, int64_t now_ms, season_report_t *r);

/* season_import_stats is the same for the cricket stats CSV (cricket leagues only). */
int season_import_stats(store_t *s, const store_league_t *lg, const char *text, size_t len,
                        int flags, int64_t now_ms, season_report_t *r);

/* season_import_football_data imports a Football-Data.org v4 competition matches response
 * ({"matches":[...]}) as fixtures: the match id is the external id, teams are matched by the
 * provider's team id (an asset's provider id), then by name; statuses are mapped (TIMED is
 * scheduled, IN_PLAY live, AWARDED finished, SUSPENDED postponed); goals are the full-time score
 * of finished matches. A report's line is the match's position (1-based). As
 * season_import_fixtures otherwise. */
int season_import_football_data(store_t *s, const store_league_t *lg, const char *text, size_t len,
                                int flags, int64_t now_ms, season_report_t *r);

/* season_import_cricsheet imports a Cricsheet JSON scorecard (season/cricsheet.h) as cricket
 * stats lines of one match, stored under match_id (NULL or "": the card's own, its first date and
 * teams). Each player is matched by the registry id among the assets' provider ids, else by
 * name or asset id; a name matching no asset is listed in r->unmatched (not an error), one
 * matching several is a row error (the line is the player's position on the card). A broken
 * card is refused whole (invalid_json, invalid_scorecard). As season_import_stats otherwise. */
int season_import_cricsheet(store_t *s, const store_league_t *lg, const char *text, size_t len,
                            const char *match_id, int flags, int64_t now_ms, season_report_t *r);

/* season_rules loads the league's effective rules (defaults + stored overrides). */
int season_rules(store_t *s, const store_league_t *lg, scoring_rules_t *rules);

/* season_fixture_validate checks a fixture's fields for the API's edit (same rules as a row):
 * status, goals, a result not more than 24 h ahead of now. 0 or GV_EINVALID_REQUEST with the
 * field named in field (size n). */
int season_fixture_validate(const store_fixture_t *f, int64_t now_ms, char *field, size_t n,
                            const char **message);

/* season_standings builds the standings document of API.md (a new reference in *out). */
int season_standings(store_t *s, const store_league_t *lg, int64_t now_ms, json_t **out);

/* season_asset_points builds an asset's per-fixture (football) or per-match (cricket) lines with
 * their points: {"assetId","name","points","items":[...]}. */
int season_asset_points(store_t *s, const store_league_t *lg, const store_asset_t *a, json_t **out);

/* season_leaderboard builds every asset of the league's selection with its points and owner
 * (null when unowned), best first: {"items":[{"rank","assetId","name","points","ownerId"}]}. */
int season_leaderboard(store_t *s, const store_league_t *lg, json_t **out);

/* season_series builds the points-over-time series for a chart: football by the UTC date of
 * finished fixtures, cricket by match, each manager's running total after each label:
 * {"by":"date"|"match","labels":[...],"series":[{"userId","name","points":[...]}]}. */
int season_series(store_t *s, const store_league_t *lg, json_t **out);

/* season_parse_time parses ISO-8601 with a zone ("2025-12-21T19:00:00Z",
 * "2025-12-21T20:00+01:00", fractions allowed) into epoch ms. 0 or GV_EINVALID_REQUEST. */
int season_parse_time(const char *text, int64_t *ms);

#endif
