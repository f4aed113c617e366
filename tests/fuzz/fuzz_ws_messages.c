/* libFuzzer target: WebSocket text messages, as arbitrary bytes, through ws_api_handle — the
 * protocol layer above the framing: auth-first, ping, join/leave/bid of auction rooms and
 * join_league/leave_league — against the real application of tests/fuzz/fuzz_app.h (SQLite store
 * seeded with a league and a running auction, hub, auction service, HTTP and WebSocket servers
 * on a private loop), with the time driven by the input so lots close, intermissions end, the
 * next lots open, anti-sniping extends and auctions complete while sessions sit in the rooms.
 *
 * Five sessions, each on its own real WebSocket connection (a socketpair upgraded through the
 * HTTP server), live for one input: 0 unauthenticated, then authenticated as usr_fzcomm (the
 * commissioner, also a manager), usr_fzmgr (a manager), usr_fzspec (a spectator) and usr_fzout
 * (not a member) of lg_fuzz. Rooms joined stay joined until the input ends, so the broadcasts of
 * bids, timers and presence reach real connections.
 *
 * Input: steps, one per line ('\n'; at most FZ_MAX_STEPS):
 *   +N       advance the fake clock by N ms (up to 9 digits) and run the auction timers then due
 *            (their own callback through the loop), then commit;
 *   K>text   the message text in session K only (K = 0..4);
 *   text     the message in every session, 0 to 4 (an input of one line is the old format:
 *            one message in five sessions).
 * Placeholders are replaced first (fz_expand): "@A" the auction's id, "@F" a fixture's, "@0".."@5"
 * the access tokens (HS256 with FZ_KEY, iat FZ_T0, one hour; "@5" expired), so
 * {"type":"auth","token":"@2"} signs in as usr_fzmgr; "lg_fuzz" is the league's id. Lines that
 * are not valid UTF-8 or exceed 64 KiB are skipped: the framing layer never passes them on.
 * After the input every room is left and the seeded state is put back (clock at FZ_T0).
 *
 * Checks: the reply is empty or one JSON object with a string type; a session that was not
 * authenticated either gets `ready` or closes with 4401; an authenticated one closes (4401) only
 * on an auth message; a bid reply is a bid_result or an error; after every step each auction's
 * committed row (status, seq) equals its live state (durable before visible, nothing lost); after
 * a time step no auction is overdue (its timer ran); nothing crashes, leaks or trips a sanitizer.
 */
#include "fuzz_app.h"

#include "api/ws_api.h"
#include "core/utf8.h"

#define FZ_MAX_MESSAGE (64 * 1024)
#define FZ_MAX_STEPS 64
#define FZ_SESSIONS 5

static const int fz_session_user[FZ_SESSIONS] = {-1, FZ_COMM, FZ_MGR, FZ_SPEC, FZ_OUT};
static ws_conn_t *fz_conns[FZ_SESSIONS];                 /* the server ends */
static int fz_peers[FZ_SESSIONS] = {-1, -1, -1, -1, -1}; /* the client ends */
static ws_api_session_t fz_sessions[FZ_SESSIONS];
static int fz_connecting = -1; /* the session whose connection is being opened */

/* ---- the connections ------------------------------------------------------------------------- */

static void fz_on_message(ws_conn_t *c, const char *text, size_t len, void *ctx)
{
    (void)text;
    (void)len;
    (void)ctx;
    if (fz_connecting >= 0) /* the first frame only tells us which connection is ours */
        fz_conns[fz_connecting] = c;
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
    for (int i = 0; i < FZ_SESSIONS; i++)
        if (fz_conns[i] == c)
            fz_conns[i] = NULL;
}

static const ws_handlers_t fz_handlers = {fz_on_message, fz_on_close};

/* Reads and discards what the server sent on every connection. */
static void fz_drain(void)
{
    static char sink[65536]; /* static: no 64 KiB stack frame (and its ASan poisoning) per call */
    for (int i = 0; i < FZ_SESSIONS; i++) {
        while (fz_peers[i] >= 0) {
            ssize_t n = read(fz_peers[i], sink, sizeof(sink));
            if (n > 0)
                continue;
            if (n < 0 && errno == EINTR)
                continue;
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                close(fz_peers[i]);
                fz_peers[i] = -1;
            }
            break;
        }
    }
}

/* A new connection for session k: socketpair, HTTP upgrade, one masked frame so the handler
 * sees it. */
static void fz_connect(int k)
{
    static const char upgrade[] = "GET /ws HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\n"
                                  "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    static const unsigned char frame[] = {0x81, 0x82, 0, 0, 0, 0, '{', '}'}; /* mask key 0 */
    int sv[2];
    if (fz_peers[k] >= 0)
        close(fz_peers[k]);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        abort();
    if (http_server_adopt(fz_app.app.http, sv[0]) != 0)
        abort();
    fz_peers[k] = sv[1];
    if (write(sv[1], upgrade, sizeof(upgrade) - 1) != (ssize_t)sizeof(upgrade) - 1)
        abort();
    fz_connecting = k;
    for (int i = 0; i < 1000 && !fz_conns[k]; i++) {
        uv_run(&fz_app.loop, UV_RUN_NOWAIT);
        fz_drain();
        if (i == 2 && write(sv[1], frame, sizeof(frame)) != (ssize_t)sizeof(frame))
            abort();
    }
    fz_connecting = -1;
    if (!fz_conns[k]) {
        fprintf(stderr, "fuzz_ws_messages: the WebSocket upgrade did not complete\n");
        abort();
    }
}

/* ---- sessions -------------------------------------------------------------------------------- */

static void fz_session_start(int k)
{
    ws_api_session_t *s = &fz_sessions[k];
    if (!fz_conns[k] || !ws_conn_is_open(fz_conns[k]))
        fz_connect(k);
    memset(s, 0, sizeof(*s));
    s->conn = fz_conns[k];
    ws_conn_set_user(s->conn, s);
    if (fz_session_user[k] >= 0) {
        s->authenticated = 1;
        s->expires_ms = FZ_T0 + 3600 * 1000;
        snprintf(s->user_id, sizeof(s->user_id), "%s", fz_user_ids[fz_session_user[k]]);
    }
}

/* The connection goes away for this session: leave its rooms, as a close does. */
static void fz_session_end(int k)
{
    ws_api_session_t *s = &fz_sessions[k];
    if (s->conn && fz_conns[k] == s->conn) {
        hub_leave_conn(fz_app.app.hub, s->conn);
        ws_auction_closed(&fz_app.app, s);
        ws_conn_set_user(s->conn, NULL);
    }
    memset(s, 0, sizeof(*s));
}

/* The reply is empty or one JSON object with a string type; returns the type (static copy). */
static const char *fz_reply_type(const buf_t *reply)
{
    static char type[32];
    if (reply->len == 0)
        return "";
    json_t *o = json_loadb(reply->data, reply->len, 0, NULL);
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

/* One message in session k, answered as the server's handler answers it. */
static void fz_message(int k, const char *text, size_t len, const char *mtype)
{
    ws_api_session_t *s = &fz_sessions[k];
    if (!s->conn || fz_conns[k] != s->conn) /* closed under us (output cap): a fresh session */
        fz_session_start(k);
    int was_auth = s->authenticated;
    buf_t reply;
    buf_init(&reply);
    int close_code = -1;
    const char *reason = (const char *)1;
    int rc = ws_api_handle(&fz_app.app, s, text, len, clock_now_ms(&fz_app.app.clock), &reply,
                           &close_code, &reason);
    if (rc != 0 && rc != GV_ENOMEM)
        abort();
    const char *rtype = fz_reply_type(&reply);
    if (close_code != 0 && (close_code != 4401 || !reason || reply.len))
        abort(); /* a close says why and comes alone */
    if (!was_auth && close_code == 0 && strcmp(rtype, "ready") != 0)
        abort(); /* auth first */
    if (was_auth && close_code != 0 && strcmp(mtype, "auth") != 0)
        abort(); /* only a failed (re-)auth closes an authenticated session */
    if (was_auth && close_code == 0 && strcmp(mtype, "bid") == 0 &&
        strcmp(rtype, "bid_result") != 0 && strcmp(rtype, "error") != 0 && rtype[0])
        abort();
    if (reply.len)
        ws_conn_send_text(s->conn, reply.data, reply.len);
    buf_deinit(&reply);
    if (close_code) { /* the server closes: the session starts again (as after a reconnect) */
        fz_session_end(k);
        s->conn = NULL;
    }
    fz_app_settle(); /* commits, after-commit replies (join, bid), presence */
}

/* ---- invariants ------------------------------------------------------------------------------ */

/* Every live auction's committed row equals its state, and none is overdue after a time step. */
static void fz_auctions_check(int after_time_step)
{
    static const char *const status[] = {"waiting", "running", "paused", "completed"};
    int64_t now = clock_now_ms(&fz_app.app.clock);
    for (auction_live_t *l = fz_app.app.auctions->lives; l; l = l->next) {
        store_auction_t row;
        fz_ok(store_auction_get(fz_app.app.store, l->id, &row), "store_auction_get");
        int same = row.seq == l->eng.seq && !strcmp(row.status, status[l->eng.status]);
        store_auction_free_fields(&row);
        if (fz_app.verbose)
            fprintf(stderr, "  auction %s at +%lld ms: %s seq=%lld lot=%d phase=%d\n", l->id,
                    (long long)(now - FZ_T0), status[l->eng.status], (long long)l->eng.seq,
                    l->eng.lot, (int)l->eng.phase);
        if (!same) {
            fprintf(stderr, "fuzz_ws_messages: auction %s: stored seq/status differ from live\n",
                    l->id);
            abort();
        }
        if (after_time_step && engine_next_deadline(&l->eng) <= now) {
            fprintf(stderr, "fuzz_ws_messages: auction %s overdue after the timers ran\n", l->id);
            abort();
        }
    }
}

/* ---- one input ------------------------------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ws_limits_t wl;
    ws_limits_defaults(&wl);
    wl.ping_interval_ms = wl.idle_timeout_ms = wl.auth_timeout_ms = 24ull * 3600 * 1000;
    fz_app_init("fuzz_ws_messages", &fz_handlers, &fz_app.app, &wl);
    fz_app.turn_hook = fz_drain; /* broadcasts are read as they are written */
    return 0;
}

/* "+N": 1 and *ms when the line is a time step. */
static int fz_time_step(const char *line, size_t len, int64_t *ms)
{
    if (len < 2 || len > 10 || line[0] != '+')
        return 0;
    *ms = 0;
    for (size_t i = 1; i < len; i++) {
        if (line[i] < '0' || line[i] > '9')
            return 0;
        *ms = *ms * 10 + (line[i] - '0');
    }
    return 1;
}

static void fz_step(const char *line, size_t len)
{
    int64_t ms;
    if (fz_time_step(line, len, &ms)) {
        fz_app_advance(ms);
        fz_drain();
        fz_auctions_check(1);
        return;
    }
    int only = -1;
    if (len >= 2 && line[0] >= '0' && line[0] < '0' + FZ_SESSIONS && line[1] == '>') {
        only = line[0] - '0';
        line += 2, len -= 2;
    }
    if (len > FZ_MAX_MESSAGE || !utf8_valid((const unsigned char *)line, len))
        return;
    char *text = malloc(len ? len : 1); /* exactly len: ASan sees reads past the end */
    if (!text)
        abort();
    memcpy(text, line, len);
    char mtype[32];
    fz_msg_type(text, len, mtype, sizeof(mtype));
    for (int k = 0; k < FZ_SESSIONS; k++)
        if (only < 0 || only == k)
            fz_message(k, text, len, mtype);
    free(text);
    fz_auctions_check(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = 0;
    char *input = fz_expand(data, size, 4 * FZ_MAX_MESSAGE, &len);
    if (!input)
        return 0;
    for (int k = 0; k < FZ_SESSIONS; k++)
        fz_session_start(k);
    size_t at = 0;
    for (int steps = 0; at <= len && steps < FZ_MAX_STEPS; steps++) {
        if (at == len && steps > 0)
            break; /* a final line end does not start an empty message */
        const char *nl = memchr(input + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (input + at)) : len - at;
        fz_step(input + at, n);
        at += n + 1;
    }
    for (int k = 0; k < FZ_SESSIONS; k++)
        fz_session_end(k);
    fz_app_settle();
    fz_app_reset();
    free(input);
    return 0;
}
