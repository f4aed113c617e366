/* WebSocket protocol: parses client messages, enforces auth-first, answers ping with pong. */
#include "api/ws_api.h"

#include "auth/jwt.h"
#include "core/err.h"
#include "core/log.h"
#include "json/json.h"
#include "json/json_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ws_api_verify_token(app_t *app, const char *token, int64_t now_ms, char *user_id, size_t n,
                        int64_t *expires_ms)
{
    jwt_claims_t c;
    int rc = jwt_verify(app->jwt_key, app->jwt_key_len, token, now_ms / 1000, &c);
    if (rc)
        return rc;
    if (strlen(c.sub) >= n)
        return GV_EUNAUTHORIZED;
    memcpy(user_id, c.sub, strlen(c.sub) + 1);
    *expires_ms = c.exp * 1000;
    return 0;
}

static int ws_api_reply(buf_t *reply, json_t *obj)
{
    char *text = obj ? json_text(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!text)
        return GV_ENOMEM;
    int rc = buf_puts(reply, text);
    free(text);
    return rc;
}

/* The first message: auth with a valid token, or the connection closes with 4401. */
static int ws_api_auth(app_t *app, ws_api_session_t *session, json_t *msg, int64_t now_ms,
                       buf_t *reply, int *close_code, const char **reason)
{
    const char *type = json_string_value(json_object_get(msg, "type"));
    const char *token = json_string_value(json_object_get(msg, "token"));
    char uid[sizeof(session->user_id)];
    int64_t exp = 0;
    if (!type || strcmp(type, "auth") != 0 || !token ||
        ws_api_verify_token(app, token, now_ms, uid, sizeof(uid), &exp) != 0 ||
        (session->authenticated && strcmp(uid, session->user_id) != 0)) {
        *close_code = 4401; /* includes a renewal that tries to switch user */
        *reason = "unauthorized";
        return 0;
    }
    memcpy(session->user_id, uid, sizeof(uid));
    session->expires_ms = exp;
    session->authenticated = 1;
    return ws_api_reply(reply, json_pack("{s:s, s:s, s:I}", "type", "ready", "userId",
                                         session->user_id, "serverTimeMs", (json_int_t)now_ms));
}

static int ws_api_ping(json_t *msg, int64_t now_ms, buf_t *reply)
{
    json_t *client = json_object_get(msg, "clientTimeMs");
    json_t *pong = json_pack("{s:s, s:I}", "type", "pong", "serverTimeMs", (json_int_t)now_ms);
    if (pong && json_is_integer(client))
        json_object_set(pong, "clientTimeMs", client);
    return ws_api_reply(reply, pong);
}

/* join_league / leave_league: members only (spectators included). */
static int ws_api_league_room(app_t *app, ws_api_session_t *session, json_t *msg, int join,
                              buf_t *reply)
{
    const char *id = json_string_value(json_object_get(msg, "leagueId"));
    store_member_t m;
    char room[HUB_ROOM_MAX];
    if (!id || !*id || strlen(id) >= 40 || !session->conn)
        return ws_api_error_reply(reply, "invalid_request", "leagueId is required.", NULL);
    snprintf(room, sizeof(room), "league:%s", id);
    if (!join) {
        hub_leave(app->hub, room, session->conn);
        return 0;
    }
    int rc = store_member_get(app->store, id, session->user_id, &m);
    if (rc == GV_ENOT_FOUND)
        return ws_api_error_reply(reply, "forbidden", "You are not a member of this league.", NULL);
    if (rc == 0)
        rc = hub_join(app->hub, room, session->conn, session->user_id);
    if (rc == 0)
        app->metrics.ws_joins[APP_ROOM_LEAGUE]++;
    return rc ? ws_api_error_reply(reply, "unavailable", "Try again shortly.", NULL) : 0;
}

int ws_api_handle(app_t *app, ws_api_session_t *session, const char *text, size_t len,
                  int64_t now_ms, buf_t *reply, int *close_code, const char **reason)
{
    json_t *msg = NULL;
    *close_code = 0;
    *reason = NULL;
    if (json_parse_object(text, len, &msg) != 0 || !json_is_string(json_object_get(msg, "type"))) {
        json_decref(msg);
        if (!session->authenticated) {
            *close_code = 4401;
            *reason = "unauthorized";
            return 0;
        }
        return ws_api_error_reply(reply, "invalid_request",
                                  "A message is a JSON object with a type.", NULL);
    }
    int rc;
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!session->authenticated)
        rc = ws_api_auth(app, session, msg, now_ms, reply, close_code, reason);
    else if (strcmp(type, "ping") == 0)
        rc = ws_api_ping(msg, now_ms, reply);
    else if (strcmp(type, "auth") == 0)
        rc = ws_api_auth(app, session, msg, now_ms, reply, close_code, reason);
    else if (strcmp(type, "join_league") == 0 || strcmp(type, "leave_league") == 0)
        rc = ws_api_league_room(app, session, msg, type[0] == 'j', reply);
    else if (strcmp(type, "join") == 0)
        rc = ws_auction_join(app, session, msg, reply);
    else if (strcmp(type, "leave") == 0)
        rc = ws_auction_leave(app, session, msg, reply);
    else if (strcmp(type, "bid") == 0)
        rc = ws_auction_bid(app, session, msg, reply);
    else
        rc = ws_api_error_reply(reply, "invalid_request", "Unknown message type.", NULL);
    json_decref(msg);
    return rc;
}

/* ---- glue to the WebSocket server ----------------------------------------------------------- */

static void ws_api_on_message(ws_conn_t *c, const char *text, size_t len, void *ctx)
{
    app_t *app = ctx;
    ws_api_session_t *session = ws_conn_user(c);
    buf_t reply;
    int close_code;
    const char *reason;
    app->metrics.ws_messages++;
    if (!session) {
        session = calloc(1, sizeof(*session));
        if (!session) {
            ws_conn_close(c, 1011, "out of memory");
            return;
        }
        session->conn = c;
        ws_conn_set_user(c, session);
    }
    buf_init(&reply);
    int rc = ws_api_handle(app, session, text, len, clock_now_ms(&app->clock), &reply, &close_code,
                           &reason);
    if (rc == 0 && reply.len)
        ws_conn_send_text(c, reply.data, reply.len);
    buf_deinit(&reply);
    if (rc != 0) {
        ws_conn_close(c, 1011, "internal error");
    } else if (close_code) {
        app->metrics.ws_rejected_auth++;
        log_info("ws closed code=%d reason=%s rid=%s ip=%s", close_code, reason,
                 ws_conn_request_id(c), ws_conn_client_ip(c));
        ws_conn_close(c, (uint16_t)close_code, reason);
    } else if (session->authenticated) {
        int64_t left = session->expires_ms - clock_now_ms(&app->clock);
        ws_conn_set_authenticated(c, 1, left > 0 ? (uint64_t)left : 1);
    }
}

static void ws_api_on_close(ws_conn_t *c, void *ctx)
{
    app_t *app = ctx;
    ws_api_session_t *session = ws_conn_user(c);
    hub_leave_conn(app->hub, c);
    if (session)
        ws_auction_closed(app, session);
    free(session);
    ws_conn_set_user(c, NULL);
}

static const ws_handlers_t ws_api_handlers_table = {
    .on_message = ws_api_on_message,
    .on_close = ws_api_on_close,
};

const ws_handlers_t *api_ws_handlers(void)
{
    return &ws_api_handlers_table;
}
