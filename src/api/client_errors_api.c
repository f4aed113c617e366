/* Errors the web app caught (render errors, failed requests, socket failures), reported so an
 * operator sees what users saw: one log line each, rate-limited per IP, no personal data kept. */
#include "api/app.h"
#include "api/authz.h"

#include "core/err.h"
#include "core/log.h"
#include "json/json.h"
#include "report/report.h"

#include <stdio.h>
#include <string.h>

/* What the web app sends (render and lazy-chunk failures, failed requests, socket closes, uncaught
 * errors and rejections); anything else is "other", so the metric's labels stay bounded. */
const char *const api_client_error_kinds[APP_CLIENT_ERROR_KINDS] = {
    "render", "chunk", "request", "socket", "uncaught", "unhandledrejection", "other"};

static int report_kind_index(const char *kind)
{
    int i = 0;
    while (i < APP_CLIENT_ERROR_KINDS - 1 && strcmp(kind, api_client_error_kinds[i]) != 0)
        i++;
    return i;
}

static const char *report_field(json_t *root, const char *name)
{
    const char *v = json_string_value(json_object_get(root, name));
    return v ? v : "";
}

static void client_error_report(http_req_t *req, http_resp_t *resp, void *ctx)
{
    static const char *const fields[] = {"kind",   "message", "path",      "requestId",
                                         "status", "code",    "userAgent", NULL};
    app_t *app = ctx;
    json_t *root = NULL;
    const char *bad;
    if (api_take(app, app->rl.report_ip, req->client_ip, resp))
        return;
    int rc = json_body_object(req, &root);
    if (rc) {
        json_resp_err(resp, rc);
        return;
    }
    if (json_fields_allowed(root, fields, &bad) != 0) {
        json_resp_field_error(resp, bad, "This field is not allowed here.");
    } else if (!json_is_string(json_object_get(root, "kind")) ||
               !json_is_string(json_object_get(root, "message"))) {
        json_resp_field_error(resp,
                              json_is_string(json_object_get(root, "kind")) ? "message" : "kind",
                              "kind and message are required strings.");
    } else {
        char kind[48], msg[REPORT_TEXT_MAX], path[REPORT_TEXT_MAX], rid[80], code[48];
        report_text_scrub(report_field(root, "kind"), kind, sizeof(kind));
        report_text_scrub(report_field(root, "message"), msg, sizeof(msg));
        report_text_scrub(report_field(root, "path"), path, sizeof(path));
        report_text_scrub(report_field(root, "requestId"), rid, sizeof(rid));
        report_text_scrub(report_field(root, "code"), code, sizeof(code));
        log_warn("client error rid=%s kind=\"%s\" path=\"%s\" status=%lld code=\"%s\" "
                 "failed_rid=\"%s\" msg=\"%s\"",
                 req->request_id, kind, path,
                 (long long)json_integer_value(json_object_get(root, "status")), code, rid, msg);
        app->metrics.client_errors[report_kind_index(report_field(root, "kind"))]++;
        resp->status = 204;
    }
    json_decref(root);
}

int api_client_errors_register(app_t *app)
{
    return router_add(&app->router, HTTP_M_POST, "/api/client-errors", client_error_report, app,
                      16 * 1024);
}
