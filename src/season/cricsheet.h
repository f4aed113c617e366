/* A cricket scorecard in Cricsheet's JSON format (https://cricsheet.org/format/json/: "info" with
 * the teams, dates, players and people registry; "innings" with overs of deliveries) turned into
 * one stats line per player: runs scored as batter, wickets credited to the bowler, catches,
 * stumpings and run-outs credited to the fielders. Pure: no I/O, no store. */
#ifndef GAVEL_SEASON_CRICSHEET_H
#define GAVEL_SEASON_CRICSHEET_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define CRICSHEET_NAME_MAX 128
#define CRICSHEET_PLAYERS_MAX 200 /* distinct people in one match (squads, substitutes) */
#define CRICSHEET_WHY_MAX 200

typedef struct {
    char name[CRICSHEET_NAME_MAX];
    char registry[64]; /* info.registry.people[name], "" when absent */
    int64_t runs, wickets, catches, stumpings, run_outs;
} cricsheet_line_t;

typedef struct {
    char match_id[128];      /* "2025-10-26-new-zealand-england": first date and the two teams */
    cricsheet_line_t *lines; /* info.players order, then anyone else who took part */
    size_t n;
    int where;                   /* on failure: 0 = info, else the innings (1-based) */
    char why[CRICSHEET_WHY_MAX]; /* on failure: what is wrong, and where */
} cricsheet_card_t;

/* cricsheet_parse reads root (a parsed Cricsheet match) into card, which the caller frees with
 * cricsheet_free. A wicket of kind bowled, caught, caught and bowled, lbw, stumped or hit wicket
 * is the bowler's; caught credits the first fielder a catch (caught and bowled: the bowler),
 * stumped the first fielder a stumping, run out every named fielder a run-out. 0, or
 * GV_EINVALID_REQUEST with card->where and card->why saying what is wrong, or GV_ENOMEM. */
int cricsheet_parse(const json_t *root, cricsheet_card_t *card);

/* cricsheet_free releases card's lines (card may be partly filled). */
void cricsheet_free(cricsheet_card_t *card);

#endif
