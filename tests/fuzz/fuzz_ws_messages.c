/* libFuzzer target: one WebSocket text message, as arbitrary bytes, through ws_api_handle — the
 * protocol layer above the framing: auth-first, ping, join/leave/bid of auction rooms and
 * join_league/leave_league — against a real application: SQLite store (migrated, catalogue
 * loaded) in a temporary directory, hub, auction service on a private libuv loop, and a real
 * WebSocket connection (the server end of a socketpair, upgraded through the HTTP server) so
 * the room and bid paths run as they do in the server, group commit and after-commit replies
 * included.
 *
 * Every input runs in five fresh sessions: unauthenticated, then authenticated as the
 * commissioner (a manager), a second manager, a spectator and an outsider of the one league
 * with a running auction. The two bytes "@A" in the input stand for that auction's id (it is
 * random), so seeds can name it; "lg_fuzz" is the league's id. The clock is fake and the JWT
 * key fixed ("gavel-fuzz-ws-messages-fixed-key-0123456789abcdef"), so the seeds' HS256 tokens
 * (sub usr_fzmgr / usr_fzcomm, iat 1767225600, exp one hour later) stay valid.
 *
 * Checks: the reply is empty or one JSON object with a string type; an unauthenticated session
 * either gets `ready` or closes with 4401; an authenticated one closes (4401) only on an auth
 * message; a bid reply is a bid_result or an error; nothing crashes, leaks or trips a sanitizer.
 * Inputs that are not valid UTF-8 or exceed 64 KiB are skipped: the framing layer never passes
 * them on. */
#include "api/app.h"
#include "api/ws_api.h"
#include "auction/service.h"
#include "auction/service_int.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/utf8.h"
#include "league/catalogue.h"
#include "net/ws.h"
#include "store/store.h"

#include "../tmpdir.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FZ_T0 1767225600000LL /* the fake clock: 2026-01-01T00:00:00Z */
#define FZ_MAX_MESSAGE (64 * 1024)
#define FZ_LEAGUE "lg_fuzz"
#define FZ_KEY "gavel-fuzz-ws-messages-fixed-key-0123456789abcdef"

static app_t fz_app; /* statically initialised: zeroed, then the fields set below */
static uv_loop_t fz_loop;
static char fz_dir[64];
static ws_conn_t *fz_conn; /* the server end of the current connection */
static int fz_peer = -1;   /* the client end */
static char fz_auction[SVC_ID_MAX];

static const char *const fz_users[] = {"usr_fzcomm", "usr_fzmgr", "usr_fzspec", "usr_fzout"};

/* ---- the connection -------------------------------------------------------------------------- */

static void fz_on_message(ws_conn_t *c, const char *text, size_t len, void *ctx)
{
    (void)text;
    (void)len;
    (void)ctx;
    fz_conn = c; /* the first frame only tells us which connection is ours */
    ws_conn_set_authenticated(c, 1, 24ull * 3600 * 1000);
}

static void fz_on_close(ws_conn_t *c, void *ctx)
{
    app_t *app = ctx;
    ws_api_session_t *session = ws_conn_user(c);
    hub_leave_conn(app->hub, c);
    if (session)
        ws_auction_closed(app, session);
    ws_conn_set_user(c, NULL);
    if (c == fz_conn)
        fz_conn = NULL;
}

static const ws_handlers_t fz_handlers = {fz_on_message, fz_on_close};

/* Reads and discards what the server sent. */
static void fz_drain(void)
{
    char sink[65536];
    while (fz_peer >= 0) {
        ssize_t n = read(fz_peer, sink, sizeof(sink));
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            close(fz_peer);
            fz_peer = -1;
        }
        return;
    }
}

/* Runs loop turns until nothing waits for a commit (and a few more for the writes). */
static void fz_settle(void)
{
    for (int i = 0; i < 1000; i++) {
        uv_run(&fz_loop, UV_RUN_NOWAIT);
        fz_drain();
        if (i >= 2 && auction_service_idle(fz_app.auctions))
            return;
    }
    fprintf(stderr, "fuzz_ws_messages: the auction service did not settle\n");
    abort();
}

/* A new connection: socketpair, HTTP upgrade, one masked frame so the handler sees it. */
static void fz_connect(void)
{
    static const char upgrade[] = "GET /ws HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\n"
                                  "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    static const unsigned char frame[] = {0x81, 0x82, 0, 0, 0, 0, '{', '}'}; /* mask key 0 */
    int sv[2];
    if (fz_peer >= 0)
        close(fz_peer);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        abort();
    if (http_server_adopt(fz_app.http, sv[0]) != 0)
        abort();
    fz_peer = sv[1];
    if (write(fz_peer, upgrade, sizeof(upgrade) - 1) != (ssize_t)sizeof(upgrade) - 1)
        abort();
    for (int i = 0; i < 1000 && !fz_conn; i++) {
        uv_run(&fz_loop, UV_RUN_NOWAIT);
        fz_drain();
        if (i == 2 && write(fz_peer, frame, sizeof(frame)) != (ssize_t)sizeof(frame))
            abort();
    }
    if (!fz_conn) {
        fprintf(stderr, "fuzz_ws_messages: the WebSocket upgrade did not complete\n");
        abort();
    }
}

/* ---- setup ----------------------------------------------------------------------------------- */

static void fz_cleanup(void)
{
    tmpdir_remove(fz_dir);
}

static void fz_check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "fuzz_ws_messages: %s failed: %s\n", what, err_name(rc));
        abort();
    }
}

/* Users, the league (commissioner, a manager, a spectator; an outsider) and a running auction. */
static void fz_fixtures(void)
{
    store_t *s = fz_app.store;
    for (size_t i = 0; i < sizeof(fz_users) / sizeof(fz_users[0]); i++) {
        char email[64];
        store_user_t u;
        snprintf(email, sizeof(email), "%s@example.com", fz_users[i]);
        fz_check(store_user_ensure(s, email, fz_users[i], fz_users[i] + 4, FZ_T0, &u, NULL),
                 "store_user_ensure");
    }
    store_league_t lg;
    memset(&lg, 0, sizeof(lg));
    snprintf(lg.id, sizeof(lg.id), FZ_LEAGUE);
    snprintf(lg.name, sizeof(lg.name), "Fuzz League");
    snprintf(lg.sport, sizeof(lg.sport), "football");
    snprintf(lg.competition, sizeof(lg.competition), "AFCON-2025");
    snprintf(lg.commissioner_id, sizeof(lg.commissioner_id), "%s", fz_users[0]);
    snprintf(lg.status, sizeof(lg.status), "setup");
    snprintf(lg.invite_code, sizeof(lg.invite_code), "FUZZINVITE01");
    snprintf(lg.watch_code, sizeof(lg.watch_code), "FUZZWATCH001");
    lg.created_ms = FZ_T0;
    lg.settings = (store_league_settings_t){.budget = 100000,
                                            .currency = "GBP",
                                            .roster_size = 2,
                                            .min_managers = 1,
                                            .max_managers = 8,
                                            .lot_seconds = 600,
                                            .anti_snipe_seconds = 0,
                                            .min_bid = 1,
                                            .min_increment = 1,
                                            .intermission_seconds = 0,
                                            .lot_order_fixed = 1,
                                            .reoffer_unsold = 0};
    fz_check(store_league_create(s, &lg), "store_league_create");
    if (store_member_add(s, FZ_LEAGUE, fz_users[1], STORE_ROLE_MANAGER, 8, FZ_T0) < 0 ||
        store_member_add(s, FZ_LEAGUE, fz_users[2], STORE_ROLE_SPECTATOR, 8, FZ_T0) < 0)
        abort();
    auction_live_t *live;
    fz_check(auction_service_create(fz_app.auctions, FZ_LEAGUE, fz_users[0], &live),
             "auction_service_create");
    engine_cmd_t begin = {.type = ENGINE_CMD_BEGIN};
    fz_check(auction_service_command(fz_app.auctions, live, &begin, fz_users[0], NULL, NULL),
             "begin");
    snprintf(fz_auction, sizeof(fz_auction), "%s", auction_live_id(live));
    fz_settle();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_threshold = LOG_OFF;
    if (tmpdir_make(fz_dir, sizeof(fz_dir), "fuzz-ws") != 0 || uv_loop_init(&fz_loop) != 0)
        abort();
    atexit(fz_cleanup);
    config_defaults(&fz_app.cfg);
    fz_app.loop = &fz_loop;
    clock_fake_init(&fz_app.clock, FZ_T0);
    memcpy(fz_app.jwt_key, FZ_KEY, strlen(FZ_KEY));
    fz_app.jwt_key_len = strlen(FZ_KEY);
    fz_app.rl.bid_user = rl_new(20, 20, 0, 1024); /* scale 0: off, as in the test suites */
    int applied = 0;
    fz_check(store_open(&fz_app.store, fz_dir), "store_open");
    fz_check(store_migrate(fz_app.store, &applied), "store_migrate");
    catalogue_report_t rep;
    catalogue_report_init(&rep);
    fz_check(catalogue_load_shipped(fz_app.store, FZ_T0, &rep), "catalogue_load_shipped");
    catalogue_report_deinit(&rep);
    fz_app.hub = hub_new();
    if (!fz_app.hub || !fz_app.rl.bid_user)
        abort();
    fz_check(auction_service_new(&fz_app.auctions, &fz_app), "auction_service_new");
    router_init(&fz_app.router);
    fz_check(router_add(&fz_app.router, HTTP_M_GET, "/ws", ws_http_get, NULL, 0), "router_add");
    http_limits_t hl;
    http_limits_defaults(&hl);
    hl.access_log = 0;
    fz_app.http = http_server_new(&fz_loop, &fz_app.router, &hl);
    ws_limits_t wl;
    ws_limits_defaults(&wl);
    wl.ping_interval_ms = wl.idle_timeout_ms = wl.auth_timeout_ms = 24ull * 3600 * 1000;
    fz_app.ws = fz_app.http ? ws_server_new(fz_app.http, &wl, &fz_handlers, &fz_app) : NULL;
    if (!fz_app.ws)
        abort();
    fz_fixtures();
    return 0;
}

/* ---- one input ------------------------------------------------------------------------------- */

/* The input with every "@A" replaced by the auction's id. NULL when too large. */
static char *fz_expand(const uint8_t *data, size_t size, size_t *out_len)
{
    size_t idlen = strlen(fz_auction), n = 0;
    for (size_t i = 0; i + 1 < size; i++)
        if (data[i] == '@' && data[i + 1] == 'A')
            n++;
    size_t len = size + n * (idlen - 2);
    if (len > FZ_MAX_MESSAGE)
        return NULL;
    char *text = malloc(len ? len : 1); /* exactly len: ASan sees reads past the end */
    if (!text)
        abort();
    size_t o = 0;
    for (size_t i = 0; i < size; i++) {
        if (i + 1 < size && data[i] == '@' && data[i + 1] == 'A') {
            memcpy(text + o, fz_auction, idlen);
            o += idlen;
            i++;
        } else {
            text[o++] = (char)data[i];
        }
    }
    *out_len = len;
    return text;
}

/* The reply is empty or one JSON object with a string type; returns the type (static copy). */
static const char *fz_reply_type(const buf_t *reply)
{
    static char type[32];
    if (reply->len == 0)
        return "";
    json_error_t e;
    json_t *o = json_loadb(reply->data, reply->len, 0, &e);
    const char *t = json_string_value(json_object_get(o, "type"));
    if (!json_is_object(o) || !t || strlen(t) >= sizeof(type)) {
        fprintf(stderr, "fuzz_ws_messages: bad reply %.*s\n", (int)reply->len, reply->data);
        abort();
    }
    snprintf(type, sizeof(type), "%s", t);
    json_decref(o);
    return type;
}

/* The message's type, when it is an object with a string type ("" otherwise). */
static void fz_msg_type(const char *text, size_t len, char *out, size_t n)
{
    json_t *o = json_loadb(text, len, 0, NULL);
    const char *t = json_string_value(json_object_get(o, "type"));
    snprintf(out, n, "%s", t && json_is_object(o) ? t : "");
    json_decref(o);
}

/* One session: user NULL = unauthenticated. */
static void fz_session(const char *user, const char *text, size_t len, const char *mtype)
{
    ws_api_session_t session;
    memset(&session, 0, sizeof(session));
    if (!fz_conn || !ws_conn_is_open(fz_conn))
        fz_connect();
    session.conn = fz_conn;
    ws_conn_set_user(fz_conn, &session);
    if (user) {
        session.authenticated = 1;
        session.expires_ms = FZ_T0 + 3600 * 1000;
        snprintf(session.user_id, sizeof(session.user_id), "%s", user);
    }
    buf_t reply;
    buf_init(&reply);
    int close_code = -1;
    const char *reason = (const char *)1;
    int rc = ws_api_handle(&fz_app, &session, text, len, clock_now_ms(&fz_app.clock), &reply,
                           &close_code, &reason);
    if (rc != 0 && rc != GV_ENOMEM)
        abort();
    const char *rtype = fz_reply_type(&reply);
    if (close_code != 0 && (close_code != 4401 || !reason || reply.len))
        abort(); /* a close says why and comes alone */
    if (!user && close_code == 0 && strcmp(rtype, "ready") != 0)
        abort(); /* auth first */
    if (user && close_code != 0 && strcmp(mtype, "auth") != 0)
        abort(); /* only a failed (re-)auth closes an authenticated session */
    if (user && close_code == 0 && strcmp(mtype, "bid") == 0 && strcmp(rtype, "bid_result") != 0 &&
        strcmp(rtype, "error") != 0 && rtype[0])
        abort();
    buf_deinit(&reply);
    fz_settle(); /* commits, after-commit replies (join, bid), presence */
    /* the connection goes away for this session: leave its rooms, as a close does */
    if (fz_conn) {
        hub_leave_conn(fz_app.hub, fz_conn);
        ws_auction_closed(&fz_app, &session);
        ws_conn_set_user(fz_conn, NULL);
    }
    fz_settle();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FZ_MAX_MESSAGE || !utf8_valid(data, size))
        return 0;
    size_t len = 0;
    char *text = fz_expand(data, size, &len);
    if (!text || !utf8_valid((const unsigned char *)text, len)) {
        free(text);
        return 0;
    }
    char mtype[32];
    fz_msg_type(text, len, mtype, sizeof(mtype));
    fz_session(NULL, text, len, mtype);
    for (size_t i = 0; i < sizeof(fz_users) / sizeof(fz_users[0]); i++)
        fz_session(fz_users[i], text, len, mtype);
    free(text);
    return 0;
}
