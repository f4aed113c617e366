/* JSON shapes of leagues and members (API.md "Leagues"). */
#ifndef GAVEL_API_LEAGUE_JSON_H
#define GAVEL_API_LEAGUE_JSON_H

#include "store/store.h"

#include <jansson.h>

/* league_json builds the API's League; with_codes adds inviteCode and watchCode (commissioner
 * only). A new reference, or NULL when out of memory. */
json_t *league_json(const store_league_t *lg, int with_codes);

/* member_json builds the API's Member of league lg (budget and roster come from the auction
 * once one exists). */
json_t *member_json(const store_league_t *lg, const store_member_t *m);

/* asset_json builds the API's Asset. */
json_t *asset_json(const store_asset_t *a);

/* store_role_name: "commissioner", "manager" or "spectator". */
const char *store_role_name(store_role_t role);

#endif
