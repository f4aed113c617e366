/* Membership endpoints: invite preview and join, watch codes (spectators), the members list,
 * removing or leaving, and the league's asset selection. */
#include "api/authz.h"
#include "league/league_json.h"
#include "api/forward.h"
#include "api/paging.h"
#include "json/json_text.h"

#include "auction/service.h"
#include "core/err.h"
#include "json/json.h"
#include "league/members.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Finds the league of an invite (watch = 0) or watch code; every wrong code is the same 404. */
static int members_by_code(app_t *app, http_req_t *req, http_resp_t *resp, int watch,
                           store_user_t *user, store_league_t *lg)
{
    int rc = api_authz_user(app, req, resp, user);
    if (rc)
        return rc;
    rc = league_invite_find(app->store, http_req_param(req, "code"), watch, lg);
    if (rc == GV_ENOT_FOUND)
        http_resp_error(resp, rc, "No league has this code.", NULL);
    else if (rc)
        json_resp_err(resp, rc);
    return rc;
}

static void invite_preview(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    store_user_t user, comm;
    store_league_t lg;
    if (members_by_code(app, req, resp, 0, &user, &lg))
        return;
    int rc = store_user_get(app->store, lg.commissioner_id, &comm);
    if (rc) {
        json_resp_err(resp, rc);
        return;
    }
    int open = league_join_open(&lg);
    int started = open == GV_EAUCTION_STARTED, joinable = open == 0;
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:b, s:o}", "leagueId", lg.id, "name",
                  lg.name, "sport", lg.sport, "competition", lg.competition, "commissionerName",
                  comm.name, "memberCount", lg.member_count, "maxManagers",
                  lg.settings.max_managers, "joinable", joinable, "auctionStatus",
                  lg.auction_status[0] ? json_string(lg.auction_status) : json_null());
    /* Invited too late to join: the invitation lets them watch instead of hitting a dead end. */
    if (o && started)
        json_object_set_new(o, "watchCode", json_string(lg.watch_code));
    json_resp_send(resp, 200, o);
}

/* Answers 200 with the caller's Member record. */
static void members_answer_self(app_t *app, http_resp_t *resp, const store_league_t *lg,
                                const char *user_id)
{
    store_member_t m;
    json_t *rosters = NULL;
    int rc = store_member_get(app->store, lg->id, user_id, &m);
    rc = rc ? rc : member_rosters_load(app->store, lg->id, &rosters);
    if (rc)
        json_resp_err(resp, rc);
    else
        json_resp_send(resp, 200, member_json(lg, &m, rosters));
    json_decref(rosters);
}

static void members_announce_join(app_t *app, const store_league_t *lg, const store_user_t *u)
{
    api_league_publish(
        app, lg->id,
        json_pack("{s:s, s:s, s:s}", "type", "member_joined", "userId", u->id, "name", u->name));
}

static void invite_join(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    store_user_t user;
    store_league_t lg;
    int joined;
    if (members_by_code(app, req, resp, 0, &user, &lg))
        return;
    int rc = league_member_join(app->store, &lg, user.id, clock_now_ms(&app->clock), &joined);
    if (rc) {
        json_resp_err(resp, rc);
        return;
    }
    if (joined) {
        app->metrics.members_joined[APP_JOINED_MANAGER]++;
        members_announce_join(app, &lg, &user);
    }
    members_answer_self(app, resp, &lg, user.id); /* also when already a member: idempotent */
}

static void watch_join(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    store_user_t user;
    store_league_t lg;
    int joined;
    if (members_by_code(app, req, resp, 1, &user, &lg))
        return;
    int rc = league_member_watch(app->store, &lg, user.id, clock_now_ms(&app->clock), &joined);
    if (rc) {
        json_resp_err(resp, rc);
        return;
    }
    if (joined) { /* a new spectator: the room hears of it as of a new manager */
        app->metrics.members_joined[APP_JOINED_SPECTATOR]++;
        members_announce_join(app, &lg, &user);
    }
    members_answer_self(app, resp, &lg, user.id); /* a manager stays a manager */
}

/* ?role= of the members list: 0 commissioner and managers (default), 1 spectators, 2 all. */
static int members_which(http_req_t *req, http_resp_t *resp, int *which)
{
    char role[16];
    int rc = http_req_query(req, "role", role, sizeof(role));
    *which = 0;
    if (rc == 1 && strcmp(role, "spectator") == 0)
        *which = 1;
    else if (rc == 1 && strcmp(role, "all") == 0)
        *which = 2;
    else if (rc == 1 && strcmp(role, "manager") != 0)
        rc = GV_EINVALID_REQUEST;
    if (rc < 0)
        json_resp_field_error(resp, "role", "role must be manager, spectator or all.");
    return rc < 0 ? rc : 0;
}

static void members_list(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    page_t page;
    int which, more = 0;
    size_t n = 0;
    if (api_authz_league(app, req, resp, http_req_param(req, "id"), &lc) ||
        page_parse(req, resp, &page) || members_which(req, resp, &which))
        return;
    int64_t after_ms = 0;
    char after_id[64] = "";
    if (page.after[0] && sscanf(page.after, "%" SCNd64 ":%63s", &after_ms, after_id) != 2) {
        json_resp_field_error(resp, "cursor",
                              "This cursor is not valid; start from the first page.");
        return;
    }
    store_member_t *rows = calloc((size_t)page.limit, sizeof(*rows));
    json_t *rosters = NULL;
    int rc = rows ? store_members_list(app->store, lc.league.id, which, after_ms, after_id,
                                       page.limit, rows, (size_t)page.limit, &n, &more)
                  : GV_ENOMEM;
    rc = rc ? rc : member_rosters_load(app->store, lc.league.id, &rosters);
    if (rc) {
        free(rows);
        json_resp_err(resp, rc);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, member_json(&lc.league, &rows[i], rosters));
    json_decref(rosters);
    char next[128];
    if (more && n)
        snprintf(next, sizeof(next), "%" PRId64 ":%s", rows[n - 1].joined_ms, rows[n - 1].user_id);
    page_send(resp, items, more && n ? next : NULL);
    free(rows);
}

/* DELETE a member: the commissioner removes anyone else, anyone removes themselves (the rules
 * are league_member_remove's). */
static void members_remove(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    league_removal_t out;
    const char *uid = http_req_param(req, "userId");
    if (api_authz_league(app, req, resp, http_req_param(req, "id"), &lc))
        return;
    int rc = league_member_remove(app->store, &lc.league, lc.user.id, lc.member.role, uid, &out);
    if (rc) {
        http_resp_error(resp, rc, out.message, NULL);
        return;
    }
    char room[HUB_ROOM_MAX];
    snprintf(room, sizeof(room), "league:%s", lc.league.id);
    hub_kick(app->hub, room, uid);
    api_forward_league(app, lc.league.id, NULL, uid, 0);
    if (out.role != STORE_ROLE_SPECTATOR)
        api_league_publish(app, lc.league.id,
                           json_pack("{s:s, s:s}", "type", "member_left", "userId", uid));
    resp->status = 204;
}

/* One page of the asset selection waiting for the pending auction commit (the auction's part of
 * each row is read after it, so nothing not yet durable is shown). Owns rows and pos. */
typedef struct {
    app_t *app;
    http_resp_t *resp;
    char league_id[STORE_ID_MAX];
    store_asset_t *rows;
    int *pos;
    size_t n;
    int more;
} assets_page_t;

static json_t *assets_item(auction_live_t *live, const store_asset_t *a, int pos)
{
    const char *owner = NULL;
    int64_t price = 0;
    const char *status =
        live ? auction_live_asset_status(live, a->id, &owner, &price) : "available";
    json_t *o = asset_json(a);
    json_object_set_new(o, "assetId", json_string(a->id));
    json_object_set_new(o, "position", json_integer(pos));
    json_object_set_new(o, "status", json_string(status));
    json_object_set_new(o, "ownerId", owner ? json_string(owner) : json_null());
    json_object_set_new(o, "price", owner ? json_integer(price) : json_null());
    return o;
}

static void assets_answer(void *ctx, int status)
{
    (void)status; /* after a failed commit the auction was reloaded: show what is durable */
    assets_page_t *pg = ctx;
    auction_live_t *live = NULL;
    if (auction_service_get_by_league(pg->app->auctions, pg->league_id, &live) != 0)
        live = NULL; /* no auction yet: everything is available */
    json_t *items = json_array();
    for (size_t i = 0; i < pg->n; i++)
        json_array_append_new(items, assets_item(live, &pg->rows[i], pg->pos[i]));
    char next[16];
    snprintf(next, sizeof(next), "%d", pg->n ? pg->pos[pg->n - 1] : 0);
    page_send(pg->resp, items, pg->more && pg->n ? next : NULL);
    http_resp_finish(pg->resp);
    free(pg->rows);
    free(pg->pos);
    free(pg);
}

static void assets_get(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    page_t page;
    int after = -1;
    if (api_authz_league(app, req, resp, http_req_param(req, "id"), &lc) ||
        page_parse(req, resp, &page))
        return;
    if (page.after[0] && (sscanf(page.after, "%d", &after) != 1 || after < 0)) {
        json_resp_field_error(resp, "cursor",
                              "This cursor is not valid; start from the first page.");
        return;
    }
    assets_page_t *pg = calloc(1, sizeof(*pg));
    if (pg) {
        pg->rows = calloc((size_t)page.limit, sizeof(*pg->rows));
        pg->pos = calloc((size_t)page.limit, sizeof(*pg->pos));
    }
    int rc = pg && pg->rows && pg->pos
                 ? store_league_assets_list(app->store, lc.league.id, after, page.limit, pg->rows,
                                            pg->pos, (size_t)page.limit, &pg->n, &pg->more)
                 : GV_ENOMEM;
    if (rc) {
        json_resp_err(resp, rc);
        if (pg) {
            free(pg->rows);
            free(pg->pos);
        }
        free(pg);
        return;
    }
    pg->app = app;
    pg->resp = resp;
    snprintf(pg->league_id, sizeof(pg->league_id), "%s", lc.league.id);
    http_resp_defer(resp);
    auction_service_after_commit(app->auctions, assets_answer, pg);
}

/* Validates assetIds: strings, no duplicates, known, of the league's sport, >= rosterSize.
 * Fills ids (borrowed from body). Answers 400 and returns its code on failure. */
static int assets_validate(app_t *app, http_resp_t *resp, const store_league_t *lg, json_t *arr,
                           const char **ids, size_t n)
{
    json_t *unknown = json_array(), *dups = json_array();
    store_asset_t a;
    for (size_t i = 0; i < n; i++) {
        ids[i] = json_string_value(json_array_get(arr, i));
        if (!ids[i] || strlen(ids[i]) >= STORE_ASSET_ID_MAX) {
            json_array_append_new(unknown, json_copy(json_array_get(arr, i)));
            continue;
        }
        for (size_t k = 0; k < i; k++)
            if (ids[k] && strcmp(ids[k], ids[i]) == 0)
                json_array_append_new(dups, json_string(ids[i]));
        int rc = store_asset_get(app->store, ids[i], &a);
        if (rc == GV_ENOT_FOUND || (rc == 0 && strcmp(a.sport, lg->sport) != 0))
            json_array_append_new(unknown, json_string(ids[i]));
        else if (rc)
            return json_decref(unknown), json_decref(dups), json_resp_err(resp, rc), rc;
    }
    json_t *details = NULL;
    const char *msg = NULL;
    if (json_array_size(unknown)) {
        details = json_pack("{s:s, s:O}", "field", "assetIds", "unknownIds", unknown);
        msg = "Some assets do not exist or are not of the league's sport.";
    } else if (json_array_size(dups)) {
        details = json_pack("{s:s, s:O}", "field", "assetIds", "duplicateIds", dups);
        msg = "An asset is selected twice.";
    } else if ((int)n < lg->settings.roster_size) {
        details = json_pack("{s:s, s:i}", "field", "assetIds", "minimum", lg->settings.roster_size);
        msg = "Select at least rosterSize assets.";
    }
    json_decref(unknown);
    json_decref(dups);
    if (!msg)
        return 0;
    char *text = json_text(details, JSON_COMPACT);
    http_resp_error(resp, GV_EINVALID_REQUEST, msg, text);
    free(text);
    json_decref(details);
    return GV_EINVALID_REQUEST;
}

static void assets_put(http_req_t *req, http_resp_t *resp, void *ctx)
{
    static const char *const fields[] = {"assetIds", NULL};
    app_t *app = ctx;
    api_league_ctx_t lc;
    json_t *body = NULL;
    const char *bad;
    if (api_authz_commissioner(app, req, resp, http_req_param(req, "id"), &lc))
        return;
    if (strcmp(lc.league.status, "setup") != 0) {
        json_resp_err(resp, GV_ELOCKED);
        return;
    }
    int rc = json_body_object(req, &body);
    json_t *arr = body ? json_object_get(body, "assetIds") : NULL;
    size_t n = json_array_size(arr);
    const char **ids = n ? calloc(n, sizeof(*ids)) : NULL;
    if (rc) {
        json_resp_err(resp, rc);
    } else if (json_fields_allowed(body, fields, &bad) != 0) {
        json_resp_field_error(resp, bad, "This field is not allowed here.");
    } else if (!json_is_array(arr) || n == 0) {
        json_resp_field_error(resp, "assetIds", "assetIds must be a non-empty array of ids.");
    } else if (!ids) {
        json_resp_err(resp, GV_ENOMEM);
    } else if (assets_validate(app, resp, &lc.league, arr, ids, n) == 0) {
        rc = store_league_assets_set(app->store, lc.league.id, ids, n);
        if (rc)
            json_resp_err(resp, rc);
        else
            json_resp_send(resp, 200,
                           json_pack("{s:O, s:I}", "assetIds", arr, "count", (json_int_t)n));
    }
    free(ids);
    json_decref(body);
}

int api_members_register(app_t *app)
{
    router_t *r = &app->router;
    int rc = router_add(r, HTTP_M_GET, "/api/invites/{code}", invite_preview, app, 0);
    rc = rc ? rc : router_add(r, HTTP_M_POST, "/api/invites/{code}/join", invite_join, app, 1024);
    rc = rc ? rc : router_add(r, HTTP_M_POST, "/api/watch/{code}", watch_join, app, 1024);
    rc = rc ? rc : router_add(r, HTTP_M_GET, "/api/leagues/{id}/members", members_list, app, 0);
    rc = rc ? rc
            : router_add(r, HTTP_M_DELETE, "/api/leagues/{id}/members/{userId}", members_remove,
                         app, 0);
    rc = rc ? rc : router_add(r, HTTP_M_GET, "/api/leagues/{id}/assets", assets_get, app, 0);
    rc =
        rc ? rc
           : router_add(r, HTTP_M_PUT, "/api/leagues/{id}/assets", assets_put, app, APP_JSON_LIMIT);
    return rc;
}
