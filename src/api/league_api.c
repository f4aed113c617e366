/* League endpoints: create, list mine, read, update, delete, rotate codes; and the league room
 * events they publish. Members, invites and the asset selection are in members_api.c. */
#include "api/authz.h"
#include "league/league_json.h"
#include "api/forward.h"
#include "api/paging.h"
#include "json/json_text.h"

#include "auction/service.h"
#include "auth/token.h"
#include "core/err.h"
#include "core/log.h"
#include "json/json.h"
#include "league/codes.h"
#include "league/settings.h"

#include <stdio.h>
#include <string.h>

#define LEAGUE_CREATE_TRIES                                                                        \
    4 /* a fresh id or code colliding twice in a row is astronomically rare */

void api_league_publish(app_t *app, const char *league_id, json_t *event)
{
    char room[HUB_ROOM_MAX];
    snprintf(room, sizeof(room), "league:%s", league_id);
    json_object_set_new(event, "leagueId", json_string(league_id));
    char *text = json_text(event, JSON_COMPACT);
    if (text) {
        hub_publish(app->hub, room, text, strlen(text));
        api_forward_league(app, league_id, text, NULL, 0); /* a cluster's other nodes */
    }
    free(text);
    json_decref(event);
}

static void league_field_error(http_resp_t *resp, const league_error_t *e)
{
    json_resp_field_error(resp, e->field, e->message);
}

/* Checks sport and competition exist and belong together; answers 400 naming the field. */
static int league_check_competition(app_t *app, http_resp_t *resp, const char *sport,
                                    const char *competition, store_competition_t *comp)
{
    int rc = store_competition_get(app->store, competition, comp);
    if (rc == GV_ENOT_FOUND || (rc == 0 && strcmp(comp->sport, sport) != 0)) {
        store_sport_t sports[8];
        size_t n = 0, known = 0;
        store_sports_list(app->store, sports, 8, &n);
        for (size_t i = 0; i < n; i++)
            known |= strcmp(sports[i].key, sport) == 0;
        if (!known)
            json_resp_field_error(resp, "sport", "sport must be football or cricket.");
        else
            json_resp_field_error(resp, "competition",
                                  "competition must be an existing competition of the sport.");
        return GV_EINVALID_REQUEST;
    }
    if (rc)
        json_resp_err(resp, rc);
    return rc;
}

/* Reads name, sport and competition of a create body into lg. */
static int league_read_identity(app_t *app, http_resp_t *resp, json_t *body, store_league_t *lg,
                                store_competition_t *comp)
{
    static const char *const required[] = {"name", "sport", "competition"};
    const char *v[3];
    for (int i = 0; i < 3; i++) {
        v[i] = json_string_value(json_object_get(body, required[i]));
        if (!v[i] || strlen(v[i]) >= STORE_KEY_MAX * (i == 0 ? 8 : 1)) {
            json_resp_field_error(resp, required[i], "This field is required (a string).");
            return GV_EINVALID_REQUEST;
        }
    }
    if (league_name_normalize(v[0], lg->name, sizeof(lg->name)) != 0) {
        json_resp_field_error(resp, "name", "name must be 1 to 60 characters.");
        return GV_EINVALID_REQUEST;
    }
    snprintf(lg->sport, sizeof(lg->sport), "%s", v[1]);
    snprintf(lg->competition, sizeof(lg->competition), "%s", v[2]);
    return league_check_competition(app, resp, lg->sport, lg->competition, comp);
}

static int league_insert(app_t *app, store_league_t *lg)
{
    int rc = GV_ECONFLICT;
    for (int i = 0; i < LEAGUE_CREATE_TRIES && rc == GV_ECONFLICT; i++) {
        rc = token_id(lg->id, "lg_");
        rc = rc ? rc : league_code_new(lg->invite_code);
        rc = rc ? rc : league_code_new(lg->watch_code);
        rc = rc ? rc : store_league_create(app->store, lg);
    }
    return rc;
}

static void league_create(http_req_t *req, http_resp_t *resp, void *ctx)
{
    static const char *const identity[] = {"name", "sport", "competition", NULL};
    app_t *app = ctx;
    store_user_t user;
    store_league_t lg;
    store_competition_t comp;
    league_error_t e;
    json_t *body = NULL;
    if (api_authz_user(app, req, resp, &user) || api_take(app, app->rl.league_user, user.id, resp))
        return;
    int rc = json_body_object(req, &body);
    if (rc) {
        json_resp_err(resp, rc);
        return;
    }
    memset(&lg, 0, sizeof(lg));
    league_settings_defaults(&lg.settings);
    if (league_read_identity(app, resp, body, &lg, &comp) == 0) {
        if (league_settings_apply(&lg.settings, body, identity, &e) != 0) {
            league_field_error(resp, &e);
        } else if (comp.asset_count < lg.settings.roster_size) {
            json_resp_field_error(resp, "rosterSize",
                                  "rosterSize must not exceed the competition's asset count.");
        } else {
            snprintf(lg.commissioner_id, sizeof(lg.commissioner_id), "%s", user.id);
            snprintf(lg.status, sizeof(lg.status), "setup");
            lg.created_ms = clock_now_ms(&app->clock);
            lg.member_count = 1;
            rc = league_insert(app, &lg);
            if (rc) {
                json_resp_err(resp, rc);
            } else {
                app->metrics.leagues++;
                json_resp_send(resp, 201, league_json(&lg, 1));
            }
        }
    }
    json_decref(body);
}

static void league_list_mine(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    store_user_t user;
    page_t page;
    if (api_authz_user(app, req, resp, &user) || page_parse(req, resp, &page))
        return;
    store_my_league_t *rows = calloc((size_t)page.limit, sizeof(*rows));
    size_t n = 0;
    int more = 0;
    int rc = rows ? store_leagues_for_user(app->store, user.id, page.after, page.limit, rows,
                                           (size_t)page.limit, &n, &more)
                  : GV_ENOMEM;
    if (rc) {
        free(rows);
        json_resp_err(resp, rc);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = league_json(&rows[i].league, rows[i].role == STORE_ROLE_COMMISSIONER);
        json_object_set_new(o, "role", json_string(store_role_name(rows[i].role)));
        json_array_append_new(items, o);
    }
    page_send(resp, items, more && n ? rows[n - 1].league.id : NULL);
    free(rows);
}

static void league_get(http_req_t *req, http_resp_t *resp, void *ctx)
{
    api_league_ctx_t lc;
    if (api_authz_league(ctx, req, resp, http_req_param(req, "id"), &lc) != 0)
        return;
    json_t *o = league_json(&lc.league, lc.member.role == STORE_ROLE_COMMISSIONER);
    json_object_set_new(o, "role", json_string(store_role_name(lc.member.role))); /* the caller's */
    json_resp_send(resp, 200, o);
}

/* PATCH: name and settings (any subset), only while no auction exists. */
static void league_patch(http_req_t *req, http_resp_t *resp, void *ctx)
{
    static const char *const fixed[] = {"sport", "competition", NULL};
    app_t *app = ctx;
    api_league_ctx_t lc;
    league_error_t e;
    json_t *body = NULL;
    const char *name_only[] = {"name", NULL};
    if (api_authz_commissioner(app, req, resp, http_req_param(req, "id"), &lc))
        return;
    store_league_t *lg = &lc.league;
    if (strcmp(lg->status, "setup") != 0) {
        json_resp_err(resp, GV_ELOCKED);
        return;
    }
    int rc = json_body_object(req, &body);
    if (rc) {
        json_resp_err(resp, rc);
        return;
    }
    int count = 0;
    json_t *name = json_object_get(body, "name");
    const char *fixed_field = json_object_get(body, fixed[0])   ? fixed[0]
                              : json_object_get(body, fixed[1]) ? fixed[1]
                                                                : NULL;
    if (fixed_field) {
        json_resp_field_error(resp, fixed_field, "sport and competition cannot be changed.");
    } else if (name &&
               (!json_is_string(name) ||
                league_name_normalize(json_string_value(name), lg->name, sizeof(lg->name)) != 0)) {
        json_resp_field_error(resp, "name", "name must be 1 to 60 characters.");
    } else if (league_settings_apply(&lg->settings, body, name_only, &e) != 0) {
        league_field_error(resp, &e);
    } else if ((rc = store_league_assets_count(app->store, lg->id, &count)) != 0) {
        json_resp_err(resp, rc);
    } else if (count < lg->settings.roster_size) {
        json_resp_field_error(resp, "rosterSize",
                              "rosterSize must not exceed the number of selected assets.");
    } else if ((rc = store_league_update(app->store, lg)) != 0) {
        json_resp_err(resp, rc);
    } else {
        json_t *ev =
            json_pack("{s:s, s:o}", "type", "league_updated", "league", league_json(lg, 0));
        api_league_publish(app, lg->id, ev);
        json_resp_send(resp, 200, league_json(lg, 1));
    }
    json_decref(body);
}

static void league_delete(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    auction_live_t *live = NULL;
    if (api_authz_commissioner(app, req, resp, http_req_param(req, "id"), &lc))
        return;
    /* its auction goes first: nothing live may outlive the rows it writes to */
    int rc = auction_service_get_by_league(app->auctions, lc.league.id, &live);
    rc = rc == 0 ? auction_service_delete(app->auctions, live) : rc == GV_ENOT_FOUND ? 0 : rc;
    rc = rc ? rc : store_league_delete(app->store, lc.league.id);
    if (rc) {
        json_resp_err(resp, rc);
        return;
    }
    app->metrics.leagues--;
    log_info("league deleted league=%s by=%s rid=%s", lc.league.id, lc.user.id, req->request_id);
    api_league_publish(app, lc.league.id, json_pack("{s:s}", "type", "league_deleted"));
    char room[HUB_ROOM_MAX];
    snprintf(room, sizeof(room), "league:%s", lc.league.id);
    hub_close_room(app->hub, room);
    api_forward_league(app, lc.league.id, NULL, NULL, 1);
    resp->status = 204;
}

static void league_rotate(http_req_t *req, http_resp_t *resp, app_t *app, int watch)
{
    api_league_ctx_t lc;
    char code[LEAGUE_CODE_LEN + 1];
    if (api_authz_commissioner(app, req, resp, http_req_param(req, "id"), &lc))
        return;
    int rc = GV_ECONFLICT;
    for (int i = 0; i < LEAGUE_CREATE_TRIES && rc == GV_ECONFLICT; i++) {
        rc = league_code_new(code);
        rc = rc ? rc : store_league_set_code(app->store, lc.league.id, watch, code);
    }
    if (rc)
        json_resp_err(resp, rc);
    else
        json_resp_send(resp, 200, json_pack("{s:s}", watch ? "watchCode" : "inviteCode", code));
}

static void league_rotate_invite(http_req_t *req, http_resp_t *resp, void *ctx)
{
    league_rotate(req, resp, ctx, 0);
}

static void league_rotate_watch(http_req_t *req, http_resp_t *resp, void *ctx)
{
    league_rotate(req, resp, ctx, 1);
}

int api_league_register(app_t *app)
{
    router_t *r = &app->router;
    int rc = router_add(r, HTTP_M_POST, "/api/leagues", league_create, app, APP_JSON_LIMIT);
    rc = rc ? rc : router_add(r, HTTP_M_GET, "/api/leagues", league_list_mine, app, 0);
    rc = rc ? rc : router_add(r, HTTP_M_GET, "/api/leagues/{id}", league_get, app, 0);
    rc = rc ? rc
            : router_add(r, HTTP_M_PATCH, "/api/leagues/{id}", league_patch, app, APP_JSON_LIMIT);
    rc = rc ? rc : router_add(r, HTTP_M_DELETE, "/api/leagues/{id}", league_delete, app, 0);
    rc = rc ? rc
            : router_add(r, HTTP_M_POST, "/api/leagues/{id}/invite-code", league_rotate_invite, app,
                         1024);
    rc = rc ? rc
            : router_add(r, HTTP_M_POST, "/api/leagues/{id}/watch-code", league_rotate_watch, app,
                         1024);
    return rc ? rc : api_members_register(app);
}
