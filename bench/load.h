/* gavel-load: the network layer shared by the load generator's pieces. A keep-alive HTTP/1.1
 * client pool (llhttp parses the responses) and a client WebSocket (RFC 6455, masked client
 * frames, handshake checked with OpenSSL's SHA-1), both on one libuv loop. */
#ifndef GAVEL_LOAD_H
#define GAVEL_LOAD_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* ---- HTTP pool ------------------------------------------------------------------------------- */

/* status is the HTTP status, or -1 when the request failed (connect, reset, timeout, parse). */
typedef void (*lg_http_cb)(void *ud, int status, const char *body, size_t len);

typedef struct lg_pool lg_pool_t;

typedef struct {
    uint64_t requests, responses, failures, retries, connects;
} lg_pool_stats_t;

lg_pool_t *lg_pool_new(uv_loop_t *loop, const struct sockaddr_in *addr, const char *host, int conns,
                       uint64_t timeout_ms);
/* Queues a request; body (JSON) may be NULL, token may be NULL. cb runs exactly once. */
void lg_pool_request(lg_pool_t *p, const char *method, const char *path, const char *token,
                     const char *body, lg_http_cb cb, void *ud);
size_t lg_pool_pending(const lg_pool_t *p);
lg_pool_stats_t lg_pool_stats(const lg_pool_t *p);
/* Fails queued requests, closes the connections and frees the pool once they are closed. */
void lg_pool_free(lg_pool_t *p);

/* ---- WebSocket client ------------------------------------------------------------------------ */

typedef struct lg_ws lg_ws_t;

typedef struct {
    void (*on_open)(lg_ws_t *ws, void *ud);
    void (*on_text)(lg_ws_t *ws, void *ud, const char *text, size_t len);
    /* Runs once, when the connection is gone (or failed to open): code is the close code the
     * server sent (0 = none), why a short static description. ws is freed after it returns. */
    void (*on_close)(lg_ws_t *ws, void *ud, int code, const char *why);
} lg_ws_handlers_t;

/* Starts connect + handshake (handshake_timeout_ms covers both). NULL on immediate failure. */
lg_ws_t *lg_ws_connect(uv_loop_t *loop, const struct sockaddr_in *addr, const char *host,
                       const char *path, const lg_ws_handlers_t *h, void *ud,
                       uint64_t handshake_timeout_ms);
/* Sends one text frame (masked). 0, or -1 when the connection is not open. */
int lg_ws_send_text(lg_ws_t *ws, const char *text, size_t len);
/* Sends a close frame and closes after the server's answer or timeout_ms. */
void lg_ws_close(lg_ws_t *ws, int code, uint64_t timeout_ms);
/* Stops (1) or resumes (0) reading: a slow reader for testing (the server's output cap). */
void lg_ws_pause(lg_ws_t *ws, int paused);
/* Bytes queued by uv_write and not yet written (a slow server). */
size_t lg_ws_queued(const lg_ws_t *ws);

extern uint64_t lg_ws_bytes_in, lg_ws_frames_in, lg_ws_bytes_out, lg_ws_frames_out;

/* ---- the server's GET /metrics (load_metrics.c) -------------------------------------------- */

#define LG_PM_MAXB 40

/* A histogram as scraped: cumulative counts per upper bound (ascending, the last +Inf), summed
 * over the labels other than le. */
typedef struct {
    int present; /* buckets up to +Inf and a _count were found */
    int nb;
    double le[LG_PM_MAXB], cum[LG_PM_MAXB];
    double sum, count;
} lg_pm_hist_t;

/* What a histogram gained between two scrapes. The *_le values are bucket upper bounds
 * (INFINITY for +Inf), NAN when nothing was observed. */
typedef struct {
    int ok; /* both scrapes had it, with the same buckets */
    int nb;
    double le[LG_PM_MAXB], cum[LG_PM_MAXB];
    double count, sum;
    double p50_le, p99_le; /* the bucket holding rank ceil(q * count) */
    double max_le;         /* the highest bucket with a nonzero delta */
    double mean;           /* delta sum / delta count */
} lg_pm_delta_t;

/* Reads histogram name (name_bucket, name_sum, name_count) from the text: 0, or -1 when the
 * text does not have it. */
int lg_pm_hist(const char *text, size_t len, const char *name, lg_pm_hist_t *h);
/* Reads a gauge or counter (the largest over its label sets): 0, or -1 when absent. */
int lg_pm_gauge(const char *text, size_t len, const char *name, double *v);
/* b - a: 0, or -1 (d->ok = 0) when either lacks the histogram or they do not match. */
int lg_pm_delta(const lg_pm_hist_t *a, const lg_pm_hist_t *b, lg_pm_delta_t *d);

/* ---- the host reference (load_hostref.c) --------------------------------------------------- */

/* The mean thread CPU time of the reference work's three parts over the samples in a span. */
typedef struct {
    int n; /* samples in the span */
    double alu_ms, mem_ms, sys_ms;
} lg_hostref_t;

/* Starts the thread that times the same small piece of work once a second. 0, or -1 (nothing
 * started). */
int lg_hostref_start(void);
/* Stops and joins the thread; the samples stay readable. */
void lg_hostref_stop(void);
/* The mean of the samples taken at [from_ns, to_ns) of uv_hrtime()'s clock: their count. */
int lg_hostref_mean(uint64_t from_ns, uint64_t to_ns, lg_hostref_t *out);
/* The thread's CPU seconds so far (the load generator leaves them out of its own). */
double lg_hostref_cpu_s(void);
/* The machine's whole disks (/proc/diskstats): writes completed and the milliseconds they took,
 * summed. 0, or -1 when none was found. */
int lg_disk_writes(uint64_t *writes, uint64_t *write_ms);

#endif
