/* Catalogue endpoints: sports with their default scoring, competitions with asset counts, the
 * asset list (filters, literal case-insensitive search, keyset cursors) and the admin import of
 * assets from CSV or JSON with a per-row report. */
#include "api/authz.h"
#include "auction/service.h"
#include "league/league_json.h"
#include "api/paging.h"
#include "json/json_text.h"

#include "core/csv.h"
#include "core/err.h"
#include "core/log.h"
#include "json/json.h"
#include "league/catalogue.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CAT_Q_MAX 200 /* bytes of a search text */

/* Reads every sport (growing the buffer: nothing is cut). *out is the caller's to free. */
static int cat_sports_read(store_t *s, store_sport_t **out, size_t *n)
{
    for (size_t cap = 8;; cap *= 2) {
        store_sport_t *rows = malloc(cap * sizeof(*rows));
        int rc = rows != NULL ? store_sports_list(s, rows, cap, n) : GV_ENOMEM;
        if (rc != 0 || *n < cap) {
            *out = rows;
            return rc;
        }
        free(rows);
    }
}

static int cat_comps_read(store_t *s, const char *sport, store_competition_t **out, size_t *n)
{
    for (size_t cap = 32;; cap *= 2) {
        store_competition_t *rows = malloc(cap * sizeof(*rows));
        int rc = rows != NULL ? store_competitions_list(s, sport, rows, cap, n) : GV_ENOMEM;
        if (rc != 0 || *n < cap) {
            *out = rows;
            return rc;
        }
        free(rows);
    }
}

/* Reads the optional ?sport= into out ("" when absent) and checks it names a sport. On a bad
 * value answers 400 naming the field. */
static int cat_sport_param(app_t *app, http_req_t *req, http_resp_t *resp, char *out)
{
    store_sport_t *sports = NULL;
    size_t n = 0;
    int rc = http_req_query(req, "sport", out, STORE_KEY_MAX);
    if (rc == 0 || (rc == 1 && out[0] == '\0')) { /* absent or empty: no filter */
        out[0] = '\0';
        return 0;
    }
    rc = rc < 0 ? rc : cat_sports_read(app->store, &sports, &n);
    int found = 0;
    for (size_t i = 0; rc == 0 && i < n && !found; i++)
        found = strcmp(sports[i].key, out) == 0;
    free(sports);
    if (rc == 0 && found)
        return 0;
    if (rc == 0 || rc == GV_EINVALID_REQUEST)
        return json_resp_field_error(resp, "sport", "There is no such sport."), GV_EINVALID_REQUEST;
    return json_resp_err(resp, rc), rc;
}

static void cat_list_send(http_resp_t *resp, json_t *items)
{
    if (items == NULL)
        json_resp_err(resp, GV_ENOMEM);
    else
        json_resp_send(resp, 200, json_pack("{s:o, s:n}", "items", items, "nextCursor"));
}

static void cat_sports(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    store_user_t user;
    store_sport_t *sports = NULL;
    size_t n = 0;
    if (api_authz_user(app, req, resp, &user) != 0)
        return;
    int rc = cat_sports_read(app->store, &sports, &n);
    json_t *items = rc == 0 ? json_array() : NULL;
    for (size_t i = 0; items != NULL && i < n; i++) {
        const store_sport_t *s = &sports[i];
        json_t *scoring = json_loads(s->scoring, 0, NULL);
        json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, s:o}", "key", s->key, "name",
                                               s->name, "assetLabel", s->asset_label, "assetPlural",
                                               s->asset_plural, "scoring",
                                               scoring != NULL ? scoring : json_object()));
    }
    free(sports);
    if (rc != 0)
        json_resp_err(resp, rc);
    else
        cat_list_send(resp, items);
}

static void cat_competitions(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    store_user_t user;
    store_competition_t *comps = NULL;
    char sport[STORE_KEY_MAX];
    size_t n = 0;
    if (api_authz_user(app, req, resp, &user) != 0 || cat_sport_param(app, req, resp, sport) != 0)
        return;
    int rc = cat_comps_read(app->store, sport, &comps, &n);
    json_t *items = rc == 0 ? json_array() : NULL;
    for (size_t i = 0; items != NULL && i < n; i++) {
        const store_competition_t *c = &comps[i];
        json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, s:i}", "code", c->code, "name",
                                               c->name, "sport", c->sport, "season", c->season,
                                               "assetCount", c->asset_count));
    }
    free(comps);
    if (rc != 0)
        json_resp_err(resp, rc);
    else
        cat_list_send(resp, items);
}

/* ---- assets ---------------------------------------------------------------------------------- */

typedef struct {
    char sport[STORE_KEY_MAX];
    char competition[STORE_KEY_MAX];
    char q[CAT_Q_MAX + 1];
    char after_name[STORE_TEXT_MAX];
    char after_id[STORE_ASSET_ID_MAX];
    page_t page;
} cat_asset_params_t;

/* A cursor is the last row's key: its name, a line feed, its id (ids have no line feed). */
static int cat_cursor_split(const char *key, cat_asset_params_t *p)
{
    const char *nl = strrchr(key, '\n');
    if (key[0] == '\0')
        return 0;
    if (nl == NULL || nl == key || nl[1] == '\0' || (size_t)(nl - key) >= sizeof(p->after_name) ||
        strlen(nl + 1) >= sizeof(p->after_id))
        return GV_EINVALID_REQUEST;
    memcpy(p->after_name, key, (size_t)(nl - key));
    p->after_name[nl - key] = '\0';
    memcpy(p->after_id, nl + 1, strlen(nl + 1) + 1);
    return 0;
}

/* Reads and checks the list's parameters; on a bad one answers 400 naming it. */
static int cat_asset_params(app_t *app, http_req_t *req, http_resp_t *resp, cat_asset_params_t *p)
{
    store_competition_t comp;
    memset(p, 0, sizeof(*p));
    if (cat_sport_param(app, req, resp, p->sport) != 0 || page_parse(req, resp, &p->page) != 0)
        return GV_EINVALID_REQUEST;
    if (cat_cursor_split(p->page.after, p) != 0)
        return json_resp_field_error(resp, "cursor",
                                     "This cursor is not valid; start from the first page."),
               GV_EINVALID_REQUEST;
    int rc = http_req_query(req, "competition", p->competition, sizeof(p->competition));
    if (rc == 1 && p->competition[0] != '\0')
        rc = store_competition_get(app->store, p->competition, &comp);
    else if (rc == 1)
        rc = 0; /* empty: no filter */
    if (rc == GV_EINVALID_REQUEST || rc == GV_ENOT_FOUND)
        return json_resp_field_error(resp, "competition", "There is no such competition."),
               GV_EINVALID_REQUEST;
    if (rc != 0)
        return json_resp_err(resp, rc), rc;
    rc = http_req_query(req, "q", p->q, sizeof(p->q));
    if (rc < 0 || !csv_utf8_check(p->q, strlen(p->q), NULL))
        return json_resp_field_error(resp, "q", "q is at most 200 bytes of UTF-8 text."),
               GV_EINVALID_REQUEST;
    return 0;
}

static void cat_assets(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    store_user_t user;
    cat_asset_params_t p;
    size_t n = 0;
    int more = 0;
    if (api_authz_user(app, req, resp, &user) != 0 || cat_asset_params(app, req, resp, &p) != 0)
        return;
    store_asset_query_t q = {p.sport, p.competition, p.q, p.after_name, p.after_id, p.page.limit};
    store_asset_t *rows = calloc((size_t)p.page.limit, sizeof(*rows));
    int rc = rows != NULL ? store_assets_list(app->store, &q, rows, (size_t)p.page.limit, &n, &more)
                          : GV_ENOMEM;
    json_t *items = rc == 0 ? json_array() : NULL;
    for (size_t i = 0; items != NULL && i < n; i++)
        json_array_append_new(items, asset_json(&rows[i]));
    if (rc != 0 || items == NULL) {
        json_resp_err(resp, rc ? rc : GV_ENOMEM);
    } else {
        char key[STORE_TEXT_MAX + STORE_ASSET_ID_MAX + 1] = "";
        if (more && n > 0)
            snprintf(key, sizeof(key), "%s\n%s", rows[n - 1].name, rows[n - 1].id);
        page_send(resp, items, key[0] ? key : NULL);
    }
    free(rows);
}

/* ---- the admin import ------------------------------------------------------------------------ */

static json_t *cat_errors_json(const catalogue_report_t *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < r->nerrors; i++)
        json_array_append_new(arr, json_pack("{s:i, s:s, s:s}", "line", r->errors[i].line, "code",
                                             r->errors[i].code, "message", r->errors[i].message));
    return arr;
}

/* Answers the import's outcome: 200 with the report, or 400 with the errors in details. */
static void cat_import_answer(http_resp_t *resp, int rc, const catalogue_report_t *r)
{
    if (rc == 0) {
        json_resp_send(resp, 200,
                       json_pack("{s:i, s:i, s:i, s:i, s:o, s:I}", "created", r->created, "updated",
                                 r->updated, "skipped", r->skipped, "rows", r->rows, "errors",
                                 cat_errors_json(r), "errorCount", (json_int_t)r->error_count));
        return;
    }
    if (rc != GV_EINVALID_REQUEST) {
        json_resp_err(resp, rc);
        return;
    }
    char msg[320];
    if (r->file_error && r->nerrors > 0)
        snprintf(msg, sizeof(msg), "%s", r->errors[0].message);
    else
        snprintf(msg, sizeof(msg), "%zu row%s errors; nothing was imported.", r->error_count,
                 r->error_count == 1 ? " has" : "s have");
    json_t *d = json_pack("{s:o, s:I}", "errors", cat_errors_json(r), "errorCount",
                          (json_int_t)r->error_count);
    char *details = d != NULL ? json_text(d, JSON_COMPACT) : NULL;
    http_resp_error(resp, GV_EINVALID_REQUEST, msg, details);
    free(details);
    json_decref(d);
}

/* ?partial=true|false|1|0 into *flags, ?kind= (default assets) into kind. */
static int cat_import_params(http_req_t *req, http_resp_t *resp, int *flags, char *kind, size_t cap)
{
    char v[8];
    int rc = http_req_query(req, "partial", v, sizeof(v));
    if (rc < 0 ||
        (rc == 1 && strcmp(v, "true") && strcmp(v, "false") && strcmp(v, "1") && strcmp(v, "0")))
        return json_resp_field_error(resp, "partial", "partial is true or false."),
               GV_EINVALID_REQUEST;
    *flags = rc == 1 && (!strcmp(v, "true") || !strcmp(v, "1")) ? CATALOGUE_PARTIAL : 0;
    rc = http_req_query(req, "kind", kind, cap);
    if (rc == 0)
        snprintf(kind, cap, "assets");
    if (rc < 0 || !catalogue_kind_known(kind))
        return json_resp_field_error(resp, "kind",
                                     "kind is assets, competitions, football_clubs, "
                                     "national_teams or cricket_players."),
               GV_EINVALID_REQUEST;
    return 0;
}

/* 1 when the request's media type (before any ';') is type, case-insensitively. */
static int cat_media_is(const http_req_t *req, const char *type)
{
    const char *ct = http_req_header(req, "content-type");
    size_t n = ct != NULL ? strcspn(ct, "; \t") : 0;
    return ct != NULL && n == strlen(type) && strncasecmp(ct, type, n) == 0;
}

/* The JSON form: {"assets": [Asset, ...]}. Answers 4xx itself for a bad body. */
static int cat_import_json(app_t *app, http_req_t *req, http_resp_t *resp, int flags,
                           catalogue_report_t *r)
{
    static const char *const fields[] = {"assets", NULL};
    const char *bad;
    json_t *root = NULL;
    if (req->body.len > APP_JSON_LIMIT)
        return json_resp_err(resp, GV_EPAYLOAD_TOO_LARGE), GV_EPAYLOAD_TOO_LARGE;
    int rc = json_body_object(req, &root);
    if (rc != 0)
        return json_resp_err(resp, rc), rc;
    if (json_fields_allowed(root, fields, &bad) != 0 ||
        !json_is_array(json_object_get(root, "assets"))) {
        json_resp_field_error(resp, bad != NULL ? bad : "assets",
                              bad != NULL ? "This field is not allowed here."
                                          : "assets must be an array of Asset objects.");
        json_decref(root);
        return GV_EINVALID_REQUEST;
    }
    rc = catalogue_import_json(app->store, json_object_get(root, "assets"), flags,
                               clock_now_ms(&app->clock), r);
    json_decref(root);
    cat_import_answer(resp, rc, r);
    return 0;
}

static void cat_admin_import(http_req_t *req, http_resp_t *resp, void *ctx)
{
    app_t *app = ctx;
    store_user_t user;
    catalogue_report_t r;
    char kind[32];
    int flags = 0, csv = cat_media_is(req, "text/csv");
    if (api_authz_admin(app, req, resp, &user) != 0 ||
        cat_import_params(req, resp, &flags, kind, sizeof(kind)) != 0)
        return;
    if (!csv && !cat_media_is(req, "application/json")) {
        http_resp_error(resp, GV_EUNSUPPORTED_MEDIA_TYPE, "Send text/csv or application/json.",
                        NULL);
        return;
    }
    catalogue_report_init(&r);
    if (csv) {
        int rc = catalogue_import(app->store, kind, req->body.data ? req->body.data : "",
                                  req->body.len, flags, clock_now_ms(&app->clock), &r);
        cat_import_answer(resp, rc, &r);
    } else if (strcmp(kind, "assets") != 0) {
        json_resp_field_error(resp, "kind", "JSON imports are assets only.");
    } else {
        cat_import_json(app, req, resp, flags, &r);
    }
    if (r.created || r.updated)
        auction_service_assets_changed(app->auctions); /* lots and rosters show the new names */
    log_info("catalogue import rid=%s user=%s kind=%s format=%s partial=%d status=%d rows=%d "
             "created=%d updated=%d skipped=%d errors=%zu",
             req->request_id, user.id, kind, csv ? "csv" : "json", flags != 0, resp->status, r.rows,
             r.created, r.updated, r.skipped, r.error_count);
    catalogue_report_deinit(&r);
}

int api_catalogue_register(app_t *app)
{
    router_t *r = &app->router;
    int rc = router_add(r, HTTP_M_GET, "/api/sports", cat_sports, app, 0);
    rc = rc ? rc : router_add(r, HTTP_M_GET, "/api/competitions", cat_competitions, app, 0);
    rc = rc ? rc : router_add(r, HTTP_M_GET, "/api/assets", cat_assets, app, 0);
    rc = rc ? rc
            : router_add(r, HTTP_M_POST, "/api/admin/assets", cat_admin_import, app, APP_CSV_LIMIT);
    return rc;
}
