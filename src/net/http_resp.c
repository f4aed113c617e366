/* HTTP responses: helpers for handlers, the API error body, CORS and serialization. */
#include "net/http_int.h"

#include "core/err.h"
#include "json/json_text.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void http_resp_init(http_resp_t *resp)
{
    memset(resp, 0, sizeof(*resp));
    resp->status = 200;
    buf_init(&resp->headers);
    buf_init(&resp->body);
}

void http_resp_deinit(http_resp_t *resp)
{
    buf_deinit(&resp->headers);
    buf_deinit(&resp->body);
}

int http_resp_header(http_resp_t *resp, const char *name, const char *value)
{
    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
        return GV_EINVALID_REQUEST;
    return buf_printf(&resp->headers, "%s: %s\r\n", name, value);
}

int http_resp_json(http_resp_t *resp, int status, const char *json, size_t len)
{
    resp->status = status;
    resp->content_type = "application/json; charset=utf-8";
    resp->error = 0;
    resp->body.len = 0;
    return buf_append(&resp->body, json, len);
}

int http_resp_error(http_resp_t *resp, int code, const char *message, const char *details_json)
{
    json_t *details = NULL;
    if (details_json)
        details = json_loads(details_json, 0, NULL);
    json_t *err = json_pack("{s:s, s:s}", "code", err_api_code(code), "message",
                            message ? message : err_message(code));
    if (!err) {
        json_decref(details);
        return GV_ENOMEM;
    }
    if (json_is_object(details))
        json_object_set(err, "details", details);
    json_decref(details);
    json_t *root = json_pack("{s:o}", "error", err);
    char *text = root ? json_text(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (!text)
        return GV_ENOMEM;
    int rc = http_resp_json(resp, err_http_status(code), text, strlen(text));
    resp->error = code;
    free(text);
    return rc;
}

int http_cors_origin_allowed(const http_limits_t *lim, const char *origin)
{
    if (!origin || !*origin)
        return 0;
    if (lim->cors_dev) {
        static const char *const dev[] = {"http://localhost", "http://127.0.0.1"};
        for (size_t i = 0; i < 2; i++) {
            size_t n = strlen(dev[i]);
            if (strncmp(origin, dev[i], n) != 0)
                continue;
            const char *p = origin + n;
            if (*p == '\0')
                return 1;
            if (*p++ != ':' || !*p || strlen(p) > 5)
                continue;
            while (*p >= '0' && *p <= '9')
                p++;
            if (*p == '\0')
                return 1;
        }
    }
    const char *list = lim->cors_origins;
    size_t olen = strlen(origin);
    while (list && *list) {
        const char *end = strchr(list, ',');
        size_t n = end ? (size_t)(end - list) : strlen(list);
        while (n && *list == ' ')
            list++, n--;
        while (n && list[n - 1] == ' ')
            n--;
        if (n == olen && memcmp(list, origin, n) == 0)
            return 1;
        list = end ? end + 1 : NULL;
    }
    return 0;
}

int http_cors_headers(const http_limits_t *lim, const http_req_t *req, buf_t *out)
{
    const char *origin = http_req_header(req, "origin");
    if (!http_cors_origin_allowed(lim, origin) || strpbrk(origin, "\r\n"))
        return 0;
    return buf_printf(out,
                      "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n"
                      "Access-Control-Expose-Headers: X-Request-Id, Retry-After\r\n",
                      origin);
}

void http_cors_preflight(const http_limits_t *lim, http_req_t *req, http_resp_t *resp)
{
    if (!http_cors_origin_allowed(lim, http_req_header(req, "origin"))) {
        http_resp_error(resp, GV_EFORBIDDEN, "This origin is not allowed.", NULL);
        return;
    }
    resp->status = 204;
    http_resp_header(resp, "Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE");
    http_resp_header(resp, "Access-Control-Allow-Headers",
                     "Authorization, Content-Type, X-Request-Id");
    http_resp_header(resp, "Access-Control-Max-Age", "600");
}

static const struct {
    int status;
    const char *text;
} http_statuses[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {413, "Content Too Large"},
    {415, "Unsupported Media Type"},
    {417, "Expectation Failed"},
    {426, "Upgrade Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {503, "Service Unavailable"},
};

const char *http_status_text(int status)
{
    for (size_t i = 0; i < sizeof(http_statuses) / sizeof(http_statuses[0]); i++)
        if (http_statuses[i].status == status)
            return http_statuses[i].text;
    return "Unknown";
}

/* The Date header, formatted at most once a second. */
static const char *http_date(http_server_t *s)
{
    time_t now = time(NULL);
    if ((uint64_t)now != s->date_sec) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(s->date, sizeof(s->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        s->date_sec = (uint64_t)now;
    }
    return s->date;
}

static int http_status_has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

/* Writes the status line and the server's own headers into out. */
static int http_head_format(http_conn_t *c, http_req_t *req, http_resp_t *resp, buf_t *out)
{
    http_server_t *s = c->srv;
    int rc = buf_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\nX-Request-Id: %s\r\n", resp->status,
                        http_status_text(resp->status), http_date(s), req->request_id);
    if (!rc && resp->content_type && http_status_has_body(resp->status))
        rc = buf_printf(out, "Content-Type: %s\r\n", resp->content_type);
    if (!rc && resp->status != 204 && resp->status != 304)
        rc = buf_printf(out, "Content-Length: %zu\r\n", resp->body.len);
    if (!rc && resp->close)
        rc = buf_puts(out, "Connection: close\r\n");
    else if (!rc && c->parser.http_major == 1 && c->parser.http_minor == 0)
        rc = buf_puts(out, "Connection: keep-alive\r\n");
    if (!rc)
        rc = http_cors_headers(&s->lim, req, out);
    if (!rc)
        rc = buf_append(out, resp->headers.data, resp->headers.len);
    if (!rc)
        rc = buf_puts(out, "\r\n");
    return rc;
}

int http_conn_write_response(http_conn_t *c, http_req_t *req, http_resp_t *resp)
{
    buf_t out;
    buf_init(&out);
    int rc = buf_reserve(&out, 512 + resp->headers.len + resp->body.len);
    if (!rc)
        rc = http_head_format(c, req, resp, &out);
    if (!rc && !resp->head && http_status_has_body(resp->status))
        rc = buf_append(&out, resp->body.data, resp->body.len);
    if (rc) {
        buf_deinit(&out);
        return rc;
    }
    size_t len = out.len;
    return http_conn_write_owned(c, buf_steal(&out), len);
}
