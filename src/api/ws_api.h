/* The WebSocket message protocol of API.md: auth first, then ping and (later) rooms. */
#ifndef GAVEL_API_WS_API_H
#define GAVEL_API_WS_API_H

#include "api/app.h"
#include "core/buf.h"

#define WS_API_ROOMS 8 /* auction rooms one connection may join */

typedef struct {
    int authenticated;
    int64_t expires_ms; /* the access token's exp: the connection closes then unless renewed */
    char user_id[64];
    ws_conn_t *conn;                 /* the connection, for rooms (NULL in unit tests) */
    char auctions[WS_API_ROOMS][40]; /* auction rooms joined */
    int n_auctions;
} ws_api_session_t;

/* The auction room messages (ws_auction.c): join, leave, bid; and the cleanup on close. */
int ws_auction_join(app_t *app, ws_api_session_t *session, json_t *msg, buf_t *reply);
int ws_auction_leave(app_t *app, ws_api_session_t *session, json_t *msg, buf_t *reply);
int ws_auction_bid(app_t *app, ws_api_session_t *session, json_t *msg, buf_t *reply);
void ws_auction_closed(app_t *app, ws_api_session_t *session);

/* ws_api_error_reply appends {"type":"error","code","message"} (and auctionId when given). */
int ws_api_error_reply(buf_t *reply, const char *code, const char *message, const char *auction);

/* ws_api_handle processes one text message for session at now_ms. The reply (one JSON text, or
 * nothing) is appended to reply; when the connection must close, *close_code is set (4401) and
 * *reason points to a static string. Pure apart from the token verifier. 0 or GV_ENOMEM. */
int ws_api_handle(app_t *app, ws_api_session_t *session, const char *text, size_t len,
                  int64_t now_ms, buf_t *reply, int *close_code, const char **reason);

/* ws_api_verify_token checks an access token at now_ms and fills user_id (size n) and the
 * token's expiry. 0, GV_EUNAUTHORIZED or GV_ETOKEN_EXPIRED. */
int ws_api_verify_token(app_t *app, const char *token, int64_t now_ms, char *user_id, size_t n,
                        int64_t *expires_ms);

#endif
