/* League, Member and Asset objects as the API shows them. */
#include "api/league_json.h"

#include "core/clock.h"
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
    if (o && with_codes) {
        json_object_set_new(o, "inviteCode", json_string(lg->invite_code));
        json_object_set_new(o, "watchCode", json_string(lg->watch_code));
    }
    return o;
}

json_t *member_json(const store_league_t *lg, const store_member_t *m)
{
    char joined[32];
    clock_format_iso(m->joined_ms, joined);
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:[]}", "userId", m->user_id, "name", m->name,
                     "role", store_role_name(m->role), "joinedAt", joined, "budgetRemaining",
                     (json_int_t)lg->settings.budget, "roster");
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
