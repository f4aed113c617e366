/* JSON shapes of leagues and members (API.md "Leagues"). */
#ifndef GAVEL_LEAGUE_LEAGUE_JSON_H
#define GAVEL_LEAGUE_LEAGUE_JSON_H

#include "store/store.h"

#include <jansson.h>

/* league_json builds the API's League; with_codes adds inviteCode and watchCode (commissioner
 * only). A new reference, or NULL when out of memory. */
json_t *league_json(const store_league_t *lg, int with_codes);

/* member_rosters_load reads the committed rosters of the auction of league_id (the rows derived
 * from its event log in the same commit as its events) into *out, a new object
 * {userId: {"spent": n, "roster": [RosterItem]}}, empty when the league has no auction.
 * 0, GV_ENOMEM or GV_EDB*. */
int member_rosters_load(store_t *s, const char *league_id, json_t **out);

/* member_json builds the API's Member of league lg: budgetRemaining and roster from rosters (as
 * member_rosters_load made it; borrowed). A new reference, or NULL when out of memory. */
json_t *member_json(const store_league_t *lg, const store_member_t *m, const json_t *rosters);

/* asset_json builds the API's Asset. */
json_t *asset_json(const store_asset_t *a);

/* store_role_name: "commissioner", "manager" or "spectator". */
const char *store_role_name(store_role_t role);

#endif
