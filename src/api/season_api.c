/* Season endpoints: fixtures (list, CSV import, edit, delete), cricket stats import, the
 * league's scoring rules (read, merge-patch), standings and one asset's points. Every change of
 * results or rules is announced to the league room as `standings_updated`. */
#include "api/authz.h"
#include "api/paging.h"

#include "core/err.h"
#include "core/log.h"
#include "core/utf8.h"
#include "json/json.h"
#include "json/json_text.h"
#include "net/multipart.h"
#include "season/season.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void season_announce(app_t *app, const char *league_id)
{
    api_league_publish(app, league_id, json_pack("{s:s}", "type", "standings_updated"));
}

static json_t *season_int_or_null(int v)
{
    return v >= 0 ? json_integer(v) : json_null();
}

static json_t *fixture_json(const store_fixture_t *f)
{
    char at[32];
    clock_format_iso(f->starts_ms, at);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "id", f->id,
                     "externalMatchId", f->external_id, "startsAt", at, "homeAssetId",
                     f->home_asset_id, "awayAssetId", f->away_asset_id, "homeName", f->home_name,
                     "awayName", f->away_name, "venue", f->venue, "round", f->round, "status",
                     f->status, "homeGoals", season_int_or_null(f->home_goals), "awayGoals",
                     season_int_or_null(f->away_goals));
}

/* ---- fixtures ------------------------------------------------------------------------------- */

static void fixtures_list(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    page_t page;
    if (api_authz_league(app, req, resp, http_req_param(req, "id"), &lc) ||
        page_parse(req, resp, &page))
        return;
    int64_t after_ms = INT64_MIN;
    char after_id[40] = "";
    if (page.after[0] && sscanf(page.after, "%" SCNd64 ":%39s", &after_ms, after_id) != 2) {
        json_resp_field_error(resp, "cursor",
                              "This cursor is not valid; start from the first page.");
        return;
    }
    store_fixture_t *rows = calloc((size_t)page.limit, sizeof(*rows));
    size_t n = 0;
    int more = 0;
    int rc = rows ? store_fixtures_list(app->store, lc.league.id, after_ms, after_id, page.limit,
                                        rows, &n, &more)
                  : GV_ENOMEM;
    if (rc) {
        json_resp_err(resp, rc);
    } else {
        json_t *items = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(items, fixture_json(&rows[i]));
        char next[96];
        if (n)
            snprintf(next, sizeof(next), "%" PRId64 ":%s", rows[n - 1].starts_ms, rows[n - 1].id);
        page_send(resp, items, more && n ? next : NULL);
    }
    free(rows);
}

/* 1 when the request's media type (before any ';') is type. */
static int season_media_is(const http_req_t *req, const char *type)
{
    const char *ct = http_req_header(req, "content-type");
    size_t n = ct ? strcspn(ct, "; \t") : 0;
    return ct && n == strlen(type) && strncasecmp(ct, type, n) == 0;
}

/* ?partial=true|false|1|0. */
static int season_partial(http_req_t *req, http_resp_t *resp, int *flags)
{
    char v[8];
    int rc = http_req_query(req, "partial", v, sizeof(v));
    int yes = rc == 1 && (!strcmp(v, "true") || !strcmp(v, "1"));
    if (rc < 0 || (rc == 1 && !yes && strcmp(v, "false") && strcmp(v, "0"))) {
        json_resp_field_error(resp, "partial", "partial is true or false.");
        return GV_EINVALID_REQUEST;
    }
    *flags = yes ? SEASON_PARTIAL : 0;
    return 0;
}

/* The uploaded file: the body itself (text/csv, or application/json for a provider's response)
 * or the part named "file" of a multipart/form-data body. Answers 4xx itself. */
static int season_upload(http_req_t *req, http_resp_t *resp, int json, const char **text,
                         size_t *len)
{
    char boundary[MULTIPART_BOUNDARY_MAX + 1];
    if (season_media_is(req, json ? "application/json" : "text/csv"))
        return 0;
    if (!season_media_is(req, "multipart/form-data")) {
        http_resp_error(resp, GV_EUNSUPPORTED_MEDIA_TYPE,
                        json ? "Send the provider's response as application/json."
                             : "Send the file as text/csv, or as the multipart field \"file\".",
                        NULL);
        return GV_EUNSUPPORTED_MEDIA_TYPE;
    }
    int rc = multipart_boundary(http_req_header(req, "content-type"), boundary);
    rc = rc ? rc : multipart_part(*text, *len, boundary, "file", text, len);
    if (rc)
        json_resp_field_error(resp, "file",
                              rc == GV_ENOT_FOUND ? "The form has no field named file."
                                                  : "The multipart body is not well-formed.");
    return rc;
}

typedef int (*season_import_fn)(store_t *s, const store_league_t *lg, const char *text, size_t len,
                                int flags, int64_t now_ms, season_report_t *r);

static void season_import_answer(http_resp_t *resp, int rc, const season_report_t *r)
{
    json_t *rep = season_report_json(r);
    if (rc == 0) {
        json_resp_send(resp, 200, rep);
        return;
    }
    if (rc != GV_EINVALID_REQUEST) {
        json_decref(rep);
        json_resp_err(resp, rc);
        return;
    }
    char msg[320];
    if (r->file_error && r->nerrors)
        snprintf(msg, sizeof(msg), "%s", r->errors[0].message);
    else
        snprintf(msg, sizeof(msg), "%zu row%s errors; nothing was imported.", r->error_count,
                 r->error_count == 1 ? " has" : "s have");
    char *details = json_text(rep, JSON_COMPACT);
    http_resp_error(resp, GV_EINVALID_REQUEST, msg, details);
    free(details);
    json_decref(rep);
}

/* One kind of import: a CSV or provider reader (fn), or a Cricsheet scorecard (fn NULL) stored
 * under match_id. */
typedef struct {
    season_import_fn fn;
    const char *what;
    const char *match_id;
} season_import_kind_t;

static int season_import_do(app_t *app, const season_import_kind_t *k, const store_league_t *lg,
                            const char *text, size_t len, int flags, season_report_t *r)
{
    int64_t now = clock_now_ms(&app->clock);
    return k->fn ? k->fn(app->store, lg, text, len, flags, now, r)
                 : season_import_cricsheet(app->store, lg, text, len, k->match_id, flags, now, r);
}

static void season_import_run(http_req_t *req, http_resp_t *resp, app_t *app,
                              const season_import_kind_t *k)
{
    api_league_ctx_t lc;
    season_report_t r;
    int flags = 0;
    if (api_authz_commissioner(app, req, resp, http_req_param(req, "id"), &lc) ||
        season_partial(req, resp, &flags))
        return;
    const char *text = req->body.data ? req->body.data : "";
    size_t len = req->body.len;
    int stats = k->fn == NULL || k->fn == season_import_stats;
    if (season_upload(req, resp, k->fn != season_import_fixtures && k->fn != season_import_stats,
                      &text, &len))
        return;
    if (stats && strcmp(lc.league.sport, "cricket") != 0) {
        json_resp_field_error(resp, "sport", "Player stats are for cricket leagues.");
        return;
    }
    season_report_init(&r);
    int rc = season_import_do(app, k, &lc.league, text, len, flags, &r);
    season_import_answer(resp, rc, &r);
    if (rc == 0 && r.created + r.updated > 0)
        season_announce(app, lc.league.id);
    log_info("season import rid=%s league=%s what=%s partial=%d status=%d created=%d updated=%d "
             "skipped=%d errors=%zu",
             req->request_id, lc.league.id, k->what, flags != 0, resp->status, r.created, r.updated,
             r.skipped, r.error_count);
    season_report_deinit(&r);
}

/* Fixtures from the CSV of API.md, or with ?provider=football-data from a Football-Data.org v4
 * matches response (application/json). */
static void fixtures_import(http_req_t *req, http_resp_t *resp, void *ctx)
{
    char provider[32];
    int rc = http_req_query(req, "provider", provider, sizeof(provider));
    season_import_kind_t fd = {season_import_football_data, "football-data", NULL};
    season_import_kind_t csv = {season_import_fixtures, "fixtures", NULL};
    if (rc == 1 && !strcmp(provider, "football-data"))
        season_import_run(req, resp, ctx, &fd);
    else if (rc != 0)
        json_resp_field_error(resp, "provider", "provider is football-data (or absent: CSV).");
    else
        season_import_run(req, resp, ctx, &csv);
}

/* Cricket stats from the CSV of API.md, or with ?provider=cricsheet from a Cricsheet JSON
 * scorecard (application/json; ?matchId= names the match, else the card's date and teams). */
static void stats_import(http_req_t *req, http_resp_t *resp, void *ctx)
{
    char provider[32], match_id[STORE_EXTERNAL_ID_MAX];
    int rc = http_req_query(req, "provider", provider, sizeof(provider));
    int mrc = http_req_query(req, "matchId", match_id, sizeof(match_id));
    season_import_kind_t cs = {NULL, "cricsheet", mrc == 1 ? match_id : NULL};
    season_import_kind_t csv = {season_import_stats, "stats", NULL};
    if (rc != 0 && !(rc == 1 && !strcmp(provider, "cricsheet")))
        json_resp_field_error(resp, "provider", "provider is cricsheet (or absent: CSV).");
    else if (mrc < 0 || (mrc == 1 && (!match_id[0] || !utf8_valid((const unsigned char *)match_id,
                                                                  strlen(match_id)))))
        json_resp_field_error(resp, "matchId", "matchId must be 1 to 127 bytes of UTF-8.");
    else
        season_import_run(req, resp, ctx, rc == 1 ? &cs : &csv);
}

/* Applies the PUT body's fields to f; answers 400 itself. */
static int fixture_patch(http_resp_t *resp, json_t *body, store_fixture_t *f)
{
    static const char *const fields[] = {"startsAt", "status", "homeGoals", "awayGoals",
                                         "venue",    "round",  NULL};
    const char *bad = NULL, *key;
    json_t *v;
    if (json_fields_allowed(body, fields, &bad) != 0)
        return json_resp_field_error(resp, bad, "This field is not allowed here."),
               GV_EINVALID_REQUEST;
    json_object_foreach(body, key, v)
    {
        int ok = 1;
        if (!strcmp(key, "startsAt"))
            ok = json_is_string(v) && season_parse_time(json_string_value(v), &f->starts_ms) == 0;
        else if (!strcmp(key, "homeGoals") || !strcmp(key, "awayGoals")) {
            int *g = key[0] == 'h' ? &f->home_goals : &f->away_goals;
            ok = json_is_null(v) ||
                 (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 999);
            *g = ok && !json_is_null(v) ? (int)json_integer_value(v) : -1;
        } else {
            char *dst = !strcmp(key, "status")  ? f->status
                        : !strcmp(key, "venue") ? f->venue
                                                : f->round;
            size_t cap = !strcmp(key, "status")  ? sizeof(f->status)
                         : !strcmp(key, "venue") ? sizeof(f->venue)
                                                 : sizeof(f->round);
            ok = json_is_string(v) && strlen(json_string_value(v)) < cap;
            if (ok)
                snprintf(dst, cap, "%s", json_string_value(v));
        }
        if (!ok)
            return json_resp_field_error(resp, key, "This value is not valid here."),
                   GV_EINVALID_REQUEST;
    }
    return 0;
}

static void fixture_put(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    store_fixture_t f;
    json_t *body = NULL;
    char field[32];
    const char *msg;
    if (api_authz_commissioner(app, req, resp, http_req_param(req, "id"), &lc))
        return;
    int rc = store_fixture_get(app->store, lc.league.id, http_req_param(req, "fixtureId"), &f);
    rc = rc ? rc : json_body_object(req, &body);
    if (rc) {
        json_resp_err(resp, rc);
    } else if (fixture_patch(resp, body, &f) == 0) {
        if (f.home_goals >= 0 && f.away_goals >= 0 && !json_object_get(body, "status") &&
            !strcmp(f.status, "scheduled"))
            snprintf(f.status, sizeof(f.status), "finished"); /* a result means it was played */
        int64_t now = clock_now_ms(&app->clock);
        if (season_fixture_validate(&f, now, field, sizeof(field), &msg)) {
            json_resp_field_error(resp, field, msg);
        } else if ((rc = store_fixture_update(app->store, &f, now)) != 0) {
            json_resp_err(resp, rc);
        } else {
            json_resp_send(resp, 200, fixture_json(&f));
            season_announce(app, lc.league.id);
        }
    }
    json_decref(body);
}

static void fixture_delete(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    if (api_authz_commissioner(app, req, resp, http_req_param(req, "id"), &lc))
        return;
    int rc = store_fixture_delete(app->store, lc.league.id, http_req_param(req, "fixtureId"));
    if (rc) {
        json_resp_err(resp, rc);
        return;
    }
    resp->status = 204;
    season_announce(app, lc.league.id);
}

/* ---- scoring, standings, points ------------------------------------------------------------- */

static void scoring_get(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    scoring_rules_t rules;
    if (api_authz_league(app, req, resp, http_req_param(req, "id"), &lc))
        return;
    int rc = season_rules(app->store, &lc.league, &rules);
    if (rc)
        json_resp_err(resp, rc);
    else
        json_resp_send(resp, 200, scoring_document(&rules));
}

static void scoring_put(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    scoring_rules_t rules;
    json_t *body = NULL, *over = NULL;
    char doc[STORE_SCORING_MAX], field[64];
    if (api_authz_commissioner(app, req, resp, http_req_param(req, "id"), &lc))
        return;
    int rc = json_body_object(req, &body);
    rc = rc ? rc : store_scoring_get(app->store, lc.league.id, doc, sizeof(doc));
    over = rc ? NULL : doc[0] ? json_loads(doc, 0, NULL) : json_object();
    rc = rc ? rc : json_is_object(over) ? 0 : GV_EDB;
    if (rc) {
        json_resp_err(resp, rc);
    } else if (scoring_overrides_merge(lc.league.sport, over, body, &rules, field, sizeof(field))) {
        json_resp_field_error(resp, field,
                              "Rules are whole numbers from 0 to 1,000,000 (null restores the "
                              "default); milestones have enabled, threshold and points.");
    } else {
        char *text =
            json_object_size(over) ? json_text(over, JSON_COMPACT | JSON_SORT_KEYS) : strdup("");
        rc = text ? store_scoring_set(app->store, lc.league.id, text) : GV_ENOMEM;
        free(text);
        if (rc) {
            json_resp_err(resp, rc);
        } else {
            json_resp_send(resp, 200, scoring_document(&rules));
            season_announce(app, lc.league.id);
        }
    }
    json_decref(over);
    json_decref(body);
}

/* A season document computed from the store at now_ms (a new reference in *out). */
typedef int (*season_doc_fn)(store_t *s, const store_league_t *lg, int64_t now_ms, json_t **out);

/* ---- documents kept while the store is unchanged -------------------------------------------- */

void api_season_stop(app_t *app)
{
    for (size_t i = 0; i < APP_SEASON_CACHE; i++) {
        free(app->season_cache[i].text);
        app->season_cache[i].text = NULL;
    }
}

static app_season_entry_t *season_cached(app_t *app, const char *league_id, int kind,
                                         const uint64_t stamp[2])
{
    for (size_t i = 0; i < APP_SEASON_CACHE; i++) {
        app_season_entry_t *e = &app->season_cache[i];
        if (e->text && e->kind == kind && !strcmp(e->league_id, league_id) &&
            e->stamp[0] == stamp[0] && e->stamp[1] == stamp[1]) {
            e->used = ++app->season_cache_clock;
            return e;
        }
    }
    return NULL;
}

/* Keeps text (taken) for (league, kind) at stamp, replacing the least recently used entry. */
static void season_keep(app_t *app, const char *league_id, int kind, const uint64_t stamp[2],
                        char *text)
{
    app_season_entry_t *victim = &app->season_cache[0];
    for (size_t i = 0; i < APP_SEASON_CACHE; i++) {
        app_season_entry_t *e = &app->season_cache[i];
        if (!e->text || (e->kind == kind && !strcmp(e->league_id, league_id))) {
            victim = e;
            break;
        }
        if (e->used < victim->used)
            victim = e;
    }
    free(victim->text);
    snprintf(victim->league_id, sizeof(victim->league_id), "%s", league_id);
    victim->kind = kind;
    memcpy(victim->stamp, stamp, sizeof(victim->stamp));
    victim->text = text;
    victim->len = strlen(text);
    victim->used = ++app->season_cache_clock;
}

/* Answers a season document: the kept text while the store is unchanged, else computed anew
 * by fn (and kept). kind tells the documents apart. */
static void season_doc(http_req_t *req, http_resp_t *resp, app_t *app, season_doc_fn fn, int kind)
{
    api_league_ctx_t lc;
    json_t *out = NULL;
    uint64_t stamp[2];
    if (api_authz_league(app, req, resp, http_req_param(req, "id"), &lc))
        return;
    int rc = store_change_stamp(app->store, stamp);
    app_season_entry_t *hit = rc ? NULL : season_cached(app, lc.league.id, kind, stamp);
    if (hit) {
        http_resp_json(resp, 200, hit->text, hit->len);
        return;
    }
    rc = rc ? rc : fn(app->store, &lc.league, clock_now_ms(&app->clock), &out);
    char *text = rc ? NULL : json_text(out, JSON_COMPACT);
    json_decref(out);
    if (rc || !text) {
        json_resp_err(resp, rc ? rc : GV_ENOMEM);
        return;
    }
    http_resp_json(resp, 200, text, strlen(text));
    season_keep(app, lc.league.id, kind, stamp, text);
}

enum { SEASON_DOC_STANDINGS = 1, SEASON_DOC_LEADERBOARD, SEASON_DOC_SERIES };

static int season_leaderboard_at(store_t *s, const store_league_t *lg, int64_t now_ms, json_t **out)
{
    (void)now_ms;
    return season_leaderboard(s, lg, out);
}

static int season_series_at(store_t *s, const store_league_t *lg, int64_t now_ms, json_t **out)
{
    (void)now_ms;
    return season_series(s, lg, out);
}

/* Standings are computed from the stored rows, and kept until the store changes: a recompute
 * costs about a millisecond for a 380-fixture season, a kept answer a few microseconds. */
static void standings_get(http_req_t *req, http_resp_t *resp, void *ctx)
{
    season_doc(req, resp, ctx, season_standings, SEASON_DOC_STANDINGS);
}

static void leaderboard_get(http_req_t *req, http_resp_t *resp, void *ctx)
{
    season_doc(req, resp, ctx, season_leaderboard_at, SEASON_DOC_LEADERBOARD);
}

static void series_get(http_req_t *req, http_resp_t *resp, void *ctx)
{
    season_doc(req, resp, ctx, season_series_at, SEASON_DOC_SERIES);
}

static void asset_points_get(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    api_league_ctx_t lc;
    store_asset_t a;
    json_t *out = NULL;
    if (api_authz_league(app, req, resp, http_req_param(req, "id"), &lc))
        return;
    int rc = store_asset_get(app->store, http_req_param(req, "assetId"), &a);
    if (rc == 0 && strcmp(a.sport, lc.league.sport) != 0)
        rc = GV_ENOT_FOUND;
    rc = rc ? rc : season_asset_points(app->store, &lc.league, &a, &out);
    if (rc)
        http_resp_error(resp, rc, rc == GV_ENOT_FOUND ? "No such asset in this sport." : NULL,
                        NULL);
    else
        json_resp_send(resp, 200, out);
}

int api_season_register(app_t *app)
{
    router_t *r = &app->router;
    size_t json = 64 * 1024;
    int rc = router_add(r, HTTP_M_GET, "/api/leagues/{id}/fixtures", fixtures_list, app, 0);
    rc = rc ? rc
            : router_add(r, HTTP_M_POST, "/api/leagues/{id}/fixtures/import", fixtures_import, app,
                         APP_CSV_LIMIT);
    rc = rc ? rc
            : router_add(r, HTTP_M_PUT, "/api/leagues/{id}/fixtures/{fixtureId}", fixture_put, app,
                         json);
    rc = rc ? rc
            : router_add(r, HTTP_M_DELETE, "/api/leagues/{id}/fixtures/{fixtureId}", fixture_delete,
                         app, 0);
    rc = rc ? rc
            : router_add(r, HTTP_M_POST, "/api/leagues/{id}/stats/import", stats_import, app,
                         APP_CSV_LIMIT);
    rc = rc ? rc : router_add(r, HTTP_M_GET, "/api/leagues/{id}/scoring", scoring_get, app, 0);
    rc = rc ? rc : router_add(r, HTTP_M_PUT, "/api/leagues/{id}/scoring", scoring_put, app, json);
    rc = rc ? rc : router_add(r, HTTP_M_GET, "/api/leagues/{id}/standings", standings_get, app, 0);
    rc = rc ? rc
            : router_add(r, HTTP_M_GET, "/api/leagues/{id}/leaderboard", leaderboard_get, app, 0);
    rc = rc ? rc
            : router_add(r, HTTP_M_GET, "/api/leagues/{id}/standings/series", series_get, app, 0);
    rc = rc ? rc
            : router_add(r, HTTP_M_GET, "/api/leagues/{id}/assets/{assetId}/points",
                         asset_points_get, app, 0);
    return rc;
}
