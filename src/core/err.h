/* The one error table: every fallible function returns 0 or a negative GV_E* code from here.
 * Each entry gives the API error code, the HTTP status it maps to and a human message. */
#ifndef GAVEL_CORE_ERR_H
#define GAVEL_CORE_ERR_H

/* X(NAME, value, http_status, api_code, message) */
#define GV_ERR_MAP(X)                                                                              \
    X(INTERNAL, -1, 500, "internal", "Something went wrong on our side.")                          \
    X(NOMEM, -2, 500, "internal", "Something went wrong on our side.")                             \
    X(IO, -3, 500, "internal", "Something went wrong on our side.")                                \
    X(INVALID_JSON, -10, 400, "invalid_json", "The request body is not valid JSON.")               \
    X(INVALID_REQUEST, -11, 400, "invalid_request", "The request is not valid.")                   \
    X(BAD_HTTP, -12, 400, "invalid_request", "The HTTP request is malformed.")                     \
    X(UNAUTHORIZED, -13, 401, "unauthorized", "Sign in to continue.")                              \
    X(TOKEN_EXPIRED, -14, 401, "token_expired", "Your session has expired; sign in again.")        \
    X(FORBIDDEN, -15, 403, "forbidden", "You are not allowed to do that.")                         \
    X(NOT_FOUND, -16, 404, "not_found", "Nothing was found here.")                                 \
    X(METHOD_NOT_ALLOWED, -17, 405, "method_not_allowed", "This method is not allowed here.")      \
    X(CONFLICT, -18, 409, "conflict", "The request conflicts with the current state.")             \
    X(EXPECTATION_FAILED, -19, 417, "expectation_failed", "The expectation cannot be met.")        \
    X(PAYLOAD_TOO_LARGE, -20, 413, "payload_too_large", "The request body is too large.")          \
    X(UNSUPPORTED_MEDIA_TYPE, -21, 415, "unsupported_media_type",                                  \
      "The request body has an unsupported content type.")                                         \
    X(HEADERS_TOO_LARGE, -22, 431, "headers_too_large", "The request headers are too large.")      \
    X(RATE_LIMITED, -23, 429, "rate_limited", "Too many requests; try again shortly.")             \
    X(UNAVAILABLE, -24, 503, "unavailable", "The service is temporarily unavailable.")             \
    X(TIMEOUT, -25, 408, "request_timeout", "The request took too long to arrive.")                \
    X(TOO_MANY_CONNECTIONS, -26, 503, "unavailable", "The server is at its connection limit.")     \
    X(NOT_IMPLEMENTED, -27, 501, "not_implemented", "This is not implemented.")                    \
    X(DB, -28, 500, "internal", "Something went wrong on our side.")                               \
    X(DB_BUSY, -29, 503, "unavailable", "The service is temporarily unavailable.")                 \
    X(LIMIT, -30, 400, "invalid_request", "A size limit was exceeded.")                            \
    X(TRAVERSAL, -31, 404, "not_found", "Nothing was found here.")                                 \
    X(NOT_MODIFIED, -32, 304, "not_modified", "Not modified.")                                     \
    X(INVALID_TOKEN, -33, 401, "invalid_token",                                                    \
      "This sign-in link or token is not valid: it is unknown, used or expired.")                  \
    X(LOCKED, -34, 409, "locked", "The league's settings are locked once an auction exists.")      \
    X(LEAGUE_FULL, -35, 409, "league_full", "This league has no free seat.")                       \
    X(AUCTION_STARTED, -36, 409, "auction_started", "The auction has already started.")            \
    X(AUCTION_NOT_RUNNING, -37, 409, "auction_not_running", "The auction is not running.")         \
    X(STALE_LOT, -38, 409, "stale_lot", "That lot is no longer on the block.")                     \
    X(LOT_CLOSED, -39, 409, "lot_closed", "This lot is closed for bids.")                          \
    X(NOT_A_MANAGER, -40, 403, "not_a_manager", "Only the league's managers can bid.")             \
    X(ROSTER_FULL, -41, 409, "roster_full", "Your roster is full.")                                \
    X(ALREADY_LEADING, -42, 409, "already_leading", "You are already the highest bidder.")         \
    X(BID_TOO_LOW, -43, 409, "bid_too_low", "This bid is too low.")                                \
    X(OVER_MAX_BID, -44, 409, "over_max_bid", "This bid is more than you can spend.")              \
    X(INVALID_STATE, -45, 409, "invalid_state", "That cannot be done in the auction's state.")     \
    X(AUCTION_EXISTS, -46, 409, "auction_exists", "This league already has an auction.")           \
    X(NOT_ENOUGH_MANAGERS, -47, 409, "not_enough_managers",                                        \
      "The league does not have enough managers to start an auction.")                             \
    X(SELECTION_TOO_SMALL, -48, 400, "invalid_request",                                            \
      "Select at least rosterSize assets first.")                                                  \
    X(DB_CORRUPT, -49, 500, "internal", "Something went wrong on our side.")                       \
    X(NUMBER_RANGE, -50, 400, "invalid_json",                                                      \
      "A number in the body is too large: numbers are whole and below 2^53.")                      \
    X(DB_FULL, -51, 503, "unavailable", "The service is temporarily unavailable.")                 \
    X(FENCED, -52, 503, "unavailable", "This server no longer runs the auction; try again.")

enum {
    GV_OK = 0,
#define GV_ERR_ENUM(name, val, status, code, msg) GV_E##name = (val),
    GV_ERR_MAP(GV_ERR_ENUM)
#undef GV_ERR_ENUM
};

/* err_name returns the C name of code ("E_NOT_FOUND" style without prefix), "OK" for 0 and
 * "UNKNOWN" for a value not in the table. Never NULL. */
const char *err_name(int code);

/* err_http_status maps code to its HTTP status (500 for unknown codes, 200 for GV_OK). */
int err_http_status(int code);

/* err_api_code gives the API's snake_case error code ("internal" for unknown codes). */
const char *err_api_code(int code);

/* err_message gives the human message of code; never reveals internals. */
const char *err_message(int code);

#endif
