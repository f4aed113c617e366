/* libFuzzer target: arbitrary bytes from a client through the real HTTP connection code (llhttp,
 * limits, router, handlers, deferred responses, static files, serialization) and the WebSocket
 * hand-over and framing (GET /ws with upgrade headers) over a socketpair. */
#include "core/log.h"
#include "net/http.h"
#include "net/router.h"
#include "net/static.h"
#include "net/ws.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define FZ_MAX_ITERATIONS 200000 /* loop turns per input before it counts as a hang */

static uv_loop_t fz_loop;
static router_t fz_router;
static http_server_t *fz_server;
static static_site_t *fz_site;
static ws_server_t *fz_ws;
static char fz_web[64];

/* ---- handlers -------------------------------------------------------------------------------- */

static void fz_health(http_req_t *req, http_resp_t *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    http_resp_header(resp, "Cache-Control", "no-store");
    http_resp_json(resp, 200, "{\"status\":\"ok\"}", 15);
}

/* Echoes the parameters and body size: exercises params, headers from client bytes, bodies. */
static void fz_thing(http_req_t *req, http_resp_t *resp, void *ctx)
{
    char text[128];
    const char *id = http_req_param(req, "id");
    (void)ctx;
    http_resp_header(resp, "X-Thing", id ? id : "-"); /* refused when id has CR/LF: fine */
    int n = snprintf(text, sizeof(text), "{\"len\":%zu,\"idLen\":%zu}", req->body.len,
                     id ? strlen(id) : 0);
    http_resp_json(resp, 201, text, (size_t)n);
}

/* Defers and finishes before returning, as a handler whose work completes synchronously. */
static void fz_sync_finish(http_req_t *req, http_resp_t *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    http_resp_defer(resp);
    http_resp_json(resp, 202, "{\"done\":true}", 13);
    http_resp_finish(resp);
}

typedef struct {
    uv_timer_t timer;
    http_resp_t *resp;
} fz_later_t;

static void fz_later_closed(uv_handle_t *h)
{
    free(h->data);
}

static void fz_later_fire(uv_timer_t *t)
{
    fz_later_t *l = t->data;
    http_resp_json(l->resp, 200, "{\"later\":true}", 14);
    http_resp_finish(l->resp);
    uv_close((uv_handle_t *)&l->timer, fz_later_closed);
}

/* Defers and finishes on the next loop turn, as a handler waiting for the store. */
static void fz_later(http_req_t *req, http_resp_t *resp, void *ctx)
{
    fz_later_t *l = malloc(sizeof(*l));
    (void)req;
    (void)ctx;
    if (!l) {
        http_resp_json(resp, 500, "{}", 2);
        return;
    }
    l->resp = resp;
    uv_timer_init(&fz_loop, &l->timer);
    l->timer.data = l;
    http_resp_defer(resp);
    uv_timer_start(&l->timer, fz_later_fire, 0, 0);
}

/* Echoes each WebSocket message; the first one also marks the connection authenticated. */
static void fz_ws_message(ws_conn_t *c, const char *text, size_t len, void *ctx)
{
    (void)ctx;
    ws_conn_set_authenticated(c, 1, 60000);
    ws_conn_send_text(c, text, len);
}

static void fz_ws_close(ws_conn_t *c, void *ctx)
{
    (void)c;
    (void)ctx;
}

static const ws_handlers_t fz_ws_handlers = {fz_ws_message, fz_ws_close};

/* ---- setup ----------------------------------------------------------------------------------- */

static void fz_write_file(const char *dir, const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

static void fz_web_remove(void)
{
    char path[128];
    static const char *const files[] = {"index.html", "assets/app-1a2b3c4d.js", "assets", ""};
    static_site_free(fz_site);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", fz_web, files[i]);
        remove(path);
    }
}

/* A tiny web root for the static fallback, with its cache off so inputs leave nothing behind. */
static void fz_web_setup(void)
{
    char dir[80];
    snprintf(fz_web, sizeof(fz_web), "/tmp/gavel-fuzz-web.XXXXXX");
    if (!mkdtemp(fz_web))
        abort();
    snprintf(dir, sizeof(dir), "%s/assets", fz_web);
    mkdir(dir, 0700);
    fz_write_file(fz_web, "index.html", "<!doctype html><title>x</title>\n");
    fz_write_file(fz_web, "assets/app-1a2b3c4d.js", "export const x = 1;\n");
    if (static_site_new(&fz_site, fz_web) != 0)
        abort();
    static_site_cache_limit_set(fz_site, 0);
    atexit(fz_web_remove);
}

static void fz_routes(void)
{
    router_init(&fz_router);
    int rc = router_add(&fz_router, HTTP_M_GET, "/api/health", fz_health, NULL, 0);
    rc |= router_add(&fz_router, HTTP_M_POST, "/api/things/{id}", fz_thing, NULL, 1024);
    rc |= router_add(&fz_router, HTTP_M_PUT, "/api/things/{id}", fz_thing, NULL, 64);
    rc |= router_add(&fz_router, HTTP_M_GET, "/api/things/{id}/parts/{part}", fz_thing, NULL, 0);
    rc |= router_add(&fz_router, HTTP_M_DELETE, "/api/things/{id}", fz_later, NULL, 0);
    rc |= router_add(&fz_router, HTTP_M_POST, "/api/sync/{id}", fz_sync_finish, NULL, 256);
    rc |= router_add(&fz_router, HTTP_M_GET, "/ws", ws_http_get, NULL, 0);
    if (rc)
        abort();
    fz_router.fallback = static_handle;
    fz_router.fallback_ctx = fz_site;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_threshold = LOG_OFF;
    if (uv_loop_init(&fz_loop) != 0)
        abort();
    fz_web_setup();
    fz_routes();
    http_limits_t lim;
    http_limits_defaults(&lim);
    lim.access_log = 0;
    lim.cors_dev = 1;
    fz_server = http_server_new(&fz_loop, &fz_router, &lim);
    if (!fz_server)
        abort();
    ws_limits_t wl;
    ws_limits_defaults(&wl);
    wl.max_message = 4096; /* small caps so inputs can reach them */
    wl.max_output = 8192;
    fz_ws = ws_server_new(fz_server, &wl, &fz_ws_handlers, NULL);
    if (!fz_ws)
        abort();
    return 0;
}

/* ---- one input ------------------------------------------------------------------------------- */

/* Reads and discards what the server sent; returns 1 once the server closed its end. */
static int fz_drain(int fd)
{
    char sink[65536];
    for (;;) {
        ssize_t n = read(fd, sink, sizeof(sink));
        if (n > 0)
            continue;
        if (n == 0)
            return 1;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
    }
}

/* Chunk sizes vary with the input so the parser sees requests split at many places. */
static size_t fz_chunk(uint32_t *state, size_t left)
{
    *state = *state * 1103515245u + 12345u;
    size_t n = 1 + (*state >> 16) % 700;
    return n < left ? n : left;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        abort();
    if (http_server_adopt(fz_server, sv[0]) != 0)
        abort();
    const http_stats_t *st = http_server_stats(fz_server);
    uint32_t seed = (uint32_t)size * 2654435761u;
    size_t off = 0;
    int peer_eof = 0, shut = 0;
    for (long it = 0; !peer_eof || st->open_http + st->open_ws > 0 || uv_loop_alive(&fz_loop);
         it++) {
        if (it > FZ_MAX_ITERATIONS) {
            fprintf(stderr, "fuzz_http: connection still open after %d loop turns\n",
                    FZ_MAX_ITERATIONS);
            abort();
        }
        if (off < size) {
            ssize_t w = send(sv[1], data + off, fz_chunk(&seed, size - off), MSG_NOSIGNAL);
            if (w > 0)
                off += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                off = size; /* the server closed; the rest cannot be sent */
        } else if (!shut) {
            shutdown(sv[1], SHUT_WR);
            shut = 1;
        }
        uv_run(&fz_loop, UV_RUN_NOWAIT);
        if (!peer_eof)
            peer_eof = fz_drain(sv[1]);
    }
    close(sv[1]);
    return 0;
}
