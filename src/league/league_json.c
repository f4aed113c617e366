/* League, Member and Asset objects as the API shows them. */
#include "league/league_json.h"

#include "core/clock.h"
#include "core/err.h"
#include "league/settings.h"

const char *store_role_name(store_role_t role)
{
    return role == STORE_ROLE_COMMISSIONER ? "commissioner"
           : role == STORE_ROLE_MANAGER    ? "manager"
                                           : "spectator";
}

json_t *league_json(const store_league_t *lg, int with_codes)
{
    char created[32];
    clock_format_iso(lg->created_ms, created);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:i, s:s}", "id", lg->id,
                          "name", lg->name, "sport", lg->sport, "competition", lg->competition,
                          "commissionerId", lg->commissioner_id, "status", lg->status, "settings",
                          league_settings_json(&lg->settings), "memberCount", lg->member_count,
                          "spectatorCount", lg->spectator_count, "createdAt", created);
    if (o) { /* the league's auction, as its own committed row says */
        json_object_set_new(o, "auctionId",
                            lg->auction_id[0] ? json_string(lg->auction_id) : json_null());
        json_object_set_new(o, "auctionStatus",
                            lg->auction_status[0] ? json_string(lg->auction_status) : json_null());
    }
    if (o && with_codes) {
        json_object_set_new(o, "inviteCode", json_string(lg->invite_code));
        json_object_set_new(o, "watchCode", json_string(lg->watch_code));
    }
    return o;
}

static int member_roster_row(void *ctx, const store_roster_row_t *r)
{
    json_t *by_user = ctx, *mine = json_object_get(by_user, r->user_id);
    if (!mine) {
        mine = json_pack("{s:I, s:[]}", "spent", (json_int_t)0, "roster");
        if (!mine || json_object_set_new(by_user, r->user_id, mine) != 0)
            return GV_ENOMEM;
    }
    json_t *spent = json_object_get(mine, "spent");
    json_t *item = json_pack("{s:s, s:s, s:I, s:i}", "assetId", r->asset_id, "name", r->name,
                             "price", (json_int_t)r->price, "lot", r->lot);
    if (!item || json_array_append_new(json_object_get(mine, "roster"), item) != 0)
        return GV_ENOMEM;
    json_integer_set(spent, json_integer_value(spent) + r->price);
    return 0;
}

int member_rosters_load(store_t *s, const char *league_id, json_t **out)
{
    json_t *by_user = json_object();
    int rc =
        by_user ? store_league_rosters_each(s, league_id, member_roster_row, by_user) : GV_ENOMEM;
    if (rc) {
        json_decref(by_user);
        by_user = NULL;
    }
    *out = by_user;
    return rc;
}

json_t *member_json(const store_league_t *lg, const store_member_t *m, const json_t *rosters)
{
    char joined[32];
    clock_format_iso(m->joined_ms, joined);
    const json_t *mine = json_object_get(rosters, m->user_id);
    json_int_t spent = json_integer_value(json_object_get(mine, "spent"));
    json_t *roster = json_object_get(mine, "roster");
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "leagueId", lg->id, "userId",
                     m->user_id, "name", m->name, "role", store_role_name(m->role), "joinedAt",
                     joined, "budgetRemaining", (json_int_t)lg->settings.budget - spent, "roster",
                     roster ? json_copy(roster) : json_array());
}

/* Parses stored JSON text, falling back to an empty container if it is not what it should be. */
static json_t *asset_json_field(const char *text, int array)
{
    json_t *v = json_loads(text, 0, NULL);
    if ((array && json_is_array(v)) || (!array && json_is_object(v)))
        return v;
    json_decref(v);
    return array ? json_array() : json_object();
}

static json_t *asset_text_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

json_t *asset_json(const store_asset_t *a)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "id", a->id, "sport",
                     a->sport, "name", a->name, "shortName", asset_text_or_null(a->short_name),
                     "country", asset_text_or_null(a->country), "team", asset_text_or_null(a->team),
                     "role", asset_text_or_null(a->role), "providerIds",
                     asset_json_field(a->provider_ids, 0), "competitions",
                     asset_json_field(a->competitions, 1));
}
