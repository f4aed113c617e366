/* gavel-load: a load generator for Gavel's live auctions (issues 6 and 13).
 *
 * Signs in users (dev mode), creates leagues and auctions, connects every manager and spectator
 * over WebSocket, begins the auctions and bids with a strategy until they complete or the time is
 * up; measures bid round trip (send -> bid_result), fan-out delay (bid sent -> the bid event seen
 * by every connection of the room), outcomes by code, throughput, connection errors, checks that
 * every joined connection that stays open sees every event of its room exactly once and in order,
 * samples the server's CPU and RSS from /proc (per window with --window-s, for the soak), and
 * scrapes its GET /metrics when the bidding begins and when it ended for the loop turns and group
 * commits of the bidding alone.
 * --signin-storm N instead signs N users in (magic link -> verify -> WebSocket auth -> ready)
 * spread over --storm-seconds and measures every step. Prints a markdown table row; --json writes
 * the details.
 *
 * One libuv loop, one thread. See bench/README.md. */
#include "load.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ================================================================================================
 * Options
 * ============================================================================================== */

enum { STRAT_STRESS, STRAT_RATE, STRAT_PIPELINE, STRAT_PACED };

/* --url, up to LG_MAX_NODES times: the nodes of a cluster. Setup (sign-ins, leagues, joins) goes
 * through the first; auction a is created (and begun, its lots closed, its seq asked) through
 * node a % N, and member m of auction a connects (and bids) through node (a + m) % N. */
#define LG_MAX_NODES 8
typedef struct {
    char url[256];
    char host[160];
    struct sockaddr_in addr;
} node_t;
static node_t nodes[LG_MAX_NODES];
static int nnodes;
/* --server-pid, up to LG_MAX_NODES times: CPU and RSS are the sums over these processes */
static int server_pids[LG_MAX_NODES];
static int npids;

static struct {
    int server_pid; /* the first --server-pid (0: none) */
    int auctions, managers, spectators;
    char sport[32], competition[48];
    int roster_size, lot_seconds;
    int64_t budget, min_bid, min_increment;
    int bids_per_lot;
    int strategy;
    double rate;
    double user_rate;
    double duration_s;
    int http_conns, connect_conc;
    int rest_bids;
    char json_path[512];
    char label[64];
    char prefix[48];
    int md_header, verbose;
    uint64_t bid_timeout_ms, http_timeout_ms, ws_timeout_ms;
    double drain_s;
    double think_ms, think_jitter_ms; /* paced */
    uint64_t seed;
    double window_s; /* 0 = no per-window samples */
    int compare_windows;
    int storm_users; /* --signin-storm */
    double storm_s;
    int slow_readers; /* test: connections that stop reading until the end of the bidding */
} opt = {
    .auctions = 20,
    .managers = 8,
    .spectators = 0,
    .sport = "football",
    .competition = "EPL-2025",
    .roster_size = 2,
    .lot_seconds = 60,
    .budget = 1000000000000LL,
    .min_bid = 1,
    .min_increment = 1,
    .bids_per_lot = 20,
    .strategy = STRAT_STRESS,
    .rate = 1000,
    .duration_s = 0,
    .http_conns = 16,
    .connect_conc = 256,
    .label = "run",
    .bid_timeout_ms = 10000,
    .http_timeout_ms = 30000,
    .ws_timeout_ms = 15000,
    .drain_s = 10,
    .think_ms = 1000,
    .think_jitter_ms = 200,
    .seed = 1,
    .compare_windows = 5,
    .storm_s = 10,
};

/* A seeded PRNG (splitmix64): the paced strategy's think times are the same run after run. */
static uint64_t prng_state;

static uint64_t prng_next(void)
{
    uint64_t z = (prng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double prng_unit(void)
{
    return (double)(prng_next() >> 11) * (1.0 / 9007199254740992.0);
}

/* ================================================================================================
 * Model
 * ============================================================================================== */

typedef struct {
    char email[80];
    char id[48];
    char token[512];
} user_t;

/* One bid event's fan-out: the sightings so far by the room's connections. */
typedef struct {
    int64_t seq;
    uint64_t t_send, t_first, t_last;
    uint32_t seen, expected;
    uint8_t used, done;
} fan_t;

enum { M_NONE, M_CONNECTING, M_AUTH, M_JOINING, M_JOINED, M_FAILED, M_GONE };

struct auction;

typedef struct {
    struct auction *a;
    int idx;     /* in the auction: 0 = commissioner, < nman = manager, else spectator */
    int user;    /* index into users */
    int manager; /* may bid */
    int node;    /* the --url it connects (and bids) through: (auction + idx) % nodes */
    lg_ws_t *ws;
    int state;
    /* this connection's view of the auction */
    int64_t last_seq;
    int64_t lot, cur;
    int has_cur, leading, lot_running;
    uint32_t view_ver;
    int64_t wait_seq; /* an accepted bid whose event this connection has not seen yet */
    /* the bid in flight (one at a time) */
    int bid_out;
    uint64_t bid_t0;
    int64_t bid_lot, bid_amount;
    uint32_t bid_no, bid_view;
    uint64_t last_bid_t; /* --user-rate: when this manager last sent a bid */
    int deferred;        /* --user-rate: waiting in the deferred list */
    int slow;            /* --slow-readers: does not read (nor bid) until the bidding stops */
    uv_timer_t *think;   /* paced: a manager's thinking time before it bids */
    int thinking;
    int64_t think_lot;
    /* delivery check: every event of the room exactly once, in order, while the socket is open */
    int close_code; /* the server's close code (1008: cut for being slow) */
    int gone_early; /* closed while joined before the final accounting */
    int64_t behind; /* final accounting: events of the room it never saw */
    uint64_t t_last_event;
} member_t;

typedef struct auction {
    int idx;
    int node; /* the --url it is created, begun and closed through: idx % nodes (its owner) */
    char league[48], id[48], invite[32], watch[32];
    member_t *m;
    int nman, nmem;
    int joined;
    int64_t applied_seq; /* highest seq seen by any of its connections */
    int64_t lot;
    int lot_running, lot_bids;
    int64_t close_sent_lot;
    int completed;
    int inflight;
    int64_t *budget;
    int *slots;
    int64_t top, top_lot; /* pipeline: highest amount sent on top_lot */
    int64_t cur;          /* REST mode: the auction state as learned from responses */
    int has_cur, leader;
    fan_t *ring;
    int rr;
    int64_t server_seq; /* at the end: the seq the server reports (GET /api/auctions/{id}) */
} auction_t;

/* ---- statistics --------------------------------------------------------------------------------
 */

typedef struct {
    uint32_t *v; /* microseconds */
    size_t n, cap;
} hist_t;

static void hist_add(hist_t *h, uint64_t ns)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 4096;
        h->v = realloc(h->v, h->cap * sizeof(*h->v));
        if (!h->v)
            abort();
    }
    uint64_t us = ns / 1000;
    h->v[h->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Percentile in ms (nearest rank) of a sorted histogram. */
static double hist_pct(const hist_t *h, double p)
{
    if (!h->n)
        return 0;
    size_t k = (size_t)(p / 100.0 * (double)h->n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > h->n)
        k = h->n;
    return h->v[k - 1] / 1000.0;
}

static double hist_mean(const hist_t *h)
{
    double s = 0;
    for (size_t i = 0; i < h->n; i++)
        s += h->v[i];
    return h->n ? s / (double)h->n / 1000.0 : 0;
}

#define NCODES 48
typedef struct {
    char code[40];
    uint64_t n;
} code_t;

static void code_inc(code_t *t, const char *code)
{
    for (int i = 0; i < NCODES; i++) {
        if (!t[i].code[0]) {
            snprintf(t[i].code, sizeof(t[i].code), "%s", code);
            t[i].n = 1;
            return;
        }
        if (strcmp(t[i].code, code) == 0) {
            t[i].n++;
            return;
        }
    }
}

static json_t *code_json(const code_t *t)
{
    json_t *o = json_object();
    for (int i = 0; i < NCODES && t[i].code[0]; i++)
        json_object_set_new(o, t[i].code, json_integer((json_int_t)t[i].n));
    return o;
}

static struct {
    hist_t rtt, fan, fan_first;
    /* several --url: round trips of bids sent to the auction's owner node and to another one
     * (forwarded), and each socket's sighting of a bid event (bid sent -> event read) on the
     * owner node and on the others (delivered after the bus) */
    hist_t rtt_direct, rtt_fwd, seen_owner, seen_other;
    uint64_t sent, accepted, accepted_window, rejected, timeouts, stray, send_fail;
    code_t rejected_by[NCODES];
    code_t errors_by[NCODES];   /* `error` messages */
    code_t closes_by[NCODES];   /* unexpected closes during the run: code or reason */
    code_t connfail_by[NCODES]; /* connections that never joined */
    code_t http_by[NCODES];     /* failed HTTP calls during the run */
    uint64_t events, gaps, dups, parse_errors, fan_incomplete, fan_unmatched, fan_overwritten;
    uint64_t ws_joined, ws_failed, ws_dropped, behind;
    uint64_t ws_cut, cut_behind_events; /* closed by the server with 1008 (too slow a reader) */
    uint64_t behind_events;             /* events open connections never saw (at the end) */
    uint64_t old_deadline_behind;       /* connections behind 3 s after the stop (the old rule) */
    json_t *miss_details;               /* the first misses, with where and when */
    uint64_t lots_closed_by_us, close_conflicts;
    int auctions_completed;
} S;

/* ---- global state --------------------------------------------------------------------------- */

static uv_loop_t *loop;
static lg_pool_t *pools[LG_MAX_NODES]; /* one per --url; setup goes through pools[0] */
static user_t *users;
static int nusers;
static auction_t *A;
static member_t **conn_order; /* every member, in connection order */
static int nconn, conn_next, conn_active, conn_done;
static int ring_size;
static int bidding, shutting_down, exit_code;
static int phase_pending;
static void (*phase_next)(void);
static uint64_t t_start, t_phase, t_begin, t_stop;
static double setup_s[6];
static uv_timer_t tick_timer, sample_timer, stop_timer, drain_timer, sweep_timer, window_timer,
    storm_timer;
static uv_signal_t sigint_h;
static double rate_credit;
static uint64_t rate_last;
static int open_ws;

/* server sampling */
static struct {
    int ok;
    uint64_t ticks_begin, ticks_stop, ticks_prev, t_prev;
    double cpu_max;
    long rss_peak_kib, rss_connected_kib, rss_end_kib, rss_start_kib;
} srv;
static double client_cpu_begin, client_cpu_stop;

/* --window-s: one record per window of the bidding (the soak compares the first and the last) */
typedef struct {
    double t0, t1;                     /* seconds since bidding began */
    uint64_t t0_ns, t1_ns;             /* the same instants on uv_hrtime()'s clock */
    uint64_t accepted, sent;           /* in the window */
    size_t rtt_lo, rtt_hi;             /* its slice of S.rtt (samples are appended in time order) */
    size_t fan_lo, fan_hi;             /* and of S.fan */
    double rss_sum_kib;                /* the server's VmRSS sampled once a second in the window */
    double anon_sum_kib, file_sum_kib; /* its anonymous and file-backed parts */
    int rss_n;
    long rss_max_kib;
    uint64_t ticks0, ticks1; /* the server's CPU ticks */
    double cli0, cli1;       /* the load generator's CPU seconds */
    int disk_ok;             /* the disks' writes and their milliseconds were read at both ends */
    uint64_t disk_w0, disk_w1, disk_ms0, disk_ms1;
    uint64_t timeouts;
} win_t;
static win_t *wins;
static int nwins, cap_wins;

/* the end of the run: settle (answers and events in flight), ask the server for every auction's
 * seq, wait for every open connection to reach it, then count what is missing */
enum { DRAIN_NONE, DRAIN_SETTLE, DRAIN_SEQ, DRAIN_CATCHUP, DRAIN_DONE };
static int drain_state, drain_seq_pending, final_done;
static uint64_t t_drain_phase;
static double drain_settle_s, drain_catchup_s;
static int drain_settled, drain_caught_up, drain_seq_errors;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "gavel-load [%7.2fs] ", (double)(uv_hrtime() - t_start) / 1e9);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void shutdown_all(void);
static void storm_close_all(void);

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "gavel-load: error: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (!exit_code)
        exit_code = 2;
    shutdown_all();
}

static double secs(uint64_t ns)
{
    return (double)ns / 1e9;
}

/* The load generator's CPU seconds so far, the host reference's thread left out. */
static double client_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6 - lg_hostref_cpu_s();
}

/* ================================================================================================
 * A small scanner for the top-level members of a JSON object: the hot messages (bid events and
 * bid results) are read without building a tree. Values are spans into the text.
 * ============================================================================================== */

typedef struct {
    const char *k, *v;
    size_t kl, vl;
} jkv_t;

static const char *jws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static const char *jstr_end(const char *p, const char *e)
{
    for (p++; p < e; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

static const char *jval_end(const char *p, const char *e)
{
    if (p >= e)
        return NULL;
    if (*p == '"')
        return jstr_end(p, e);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < e) {
            if (*p == '"') {
                p = jstr_end(p, e);
                if (!p)
                    return NULL;
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if (*p == '}' || *p == ']') {
                if (--depth == 0)
                    return p + 1;
            }
            p++;
        }
        return NULL;
    }
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ')
        p++;
    return p;
}

static int jscan(const char *s, size_t n, jkv_t *kv, int max)
{
    const char *p = jws(s, s + n), *e = s + n;
    int k = 0;
    if (p >= e || *p != '{')
        return -1;
    p = jws(p + 1, e);
    if (p < e && *p == '}')
        return 0;
    while (p < e) {
        if (*p != '"')
            return -1;
        const char *ke = jstr_end(p, e);
        if (!ke)
            return -1;
        const char *q = jws(ke, e);
        if (q >= e || *q != ':')
            return -1;
        q = jws(q + 1, e);
        const char *ve = jval_end(q, e);
        if (!ve)
            return -1;
        if (k < max) {
            kv[k].k = p + 1;
            kv[k].kl = (size_t)(ke - p - 2);
            kv[k].v = q;
            kv[k].vl = (size_t)(ve - q);
            k++;
        }
        p = jws(ve, e);
        if (p < e && *p == ',') {
            p = jws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}')
            return k;
        return -1;
    }
    return -1;
}

static const jkv_t *jget(const jkv_t *kv, int n, const char *key)
{
    size_t l = strlen(key);
    for (int i = 0; i < n; i++)
        if (kv[i].kl == l && memcmp(kv[i].k, key, l) == 0)
            return &kv[i];
    return NULL;
}

static int64_t jint(const jkv_t *f, int64_t dflt)
{
    if (!f || !f->vl || !((f->v[0] >= '0' && f->v[0] <= '9') || f->v[0] == '-'))
        return dflt;
    return strtoll(f->v, NULL, 10);
}

/* The string value without quotes (no unescaping: ids and codes are plain). */
static size_t jstr(const jkv_t *f, char *out, size_t cap)
{
    if (!f || f->vl < 2 || f->v[0] != '"') {
        if (cap)
            out[0] = 0;
        return 0;
    }
    size_t l = f->vl - 2;
    if (l >= cap)
        l = cap - 1;
    memcpy(out, f->v + 1, l);
    out[l] = 0;
    return l;
}

/* ================================================================================================
 * Server sampling from /proc
 * ============================================================================================== */

static int proc_ticks_of(int pid, uint64_t *ticks)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14)
     * stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    *ticks = ut + st;
    return 0;
}

/* The server's CPU ticks: the sum over every --server-pid (the nodes); -1 when one of them cannot
 * be read. */
static int proc_ticks(uint64_t *ticks)
{
    uint64_t sum = 0, t;
    for (int i = 0; i < npids; i++) {
        if (proc_ticks_of(server_pids[i], &t) != 0)
            return -1;
        sum += t;
    }
    *ticks = sum;
    return npids ? 0 : -1;
}

/* Several --server-pid: each one's ticks when the measured phase begins (0) and ends (1), and
 * its peak RSS, for the JSON's per-process figures. */
static uint64_t pid_ticks[2][LG_MAX_NODES];
static long pid_rss_peak_kib[LG_MAX_NODES];

static void pid_ticks_mark(int which)
{
    for (int i = 0; npids > 1 && i < npids; i++)
        if (proc_ticks_of(server_pids[i], &pid_ticks[which][i]) != 0)
            pid_ticks[which][i] = 0;
}

/* VmRSS, and its parts: anonymous memory (heap) and file pages (SQLite's mmap of the database)
 * with shared memory (the WAL index). */
static long proc_rss_split_of(int pid, long *anon, long *file)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kib = -1, a = 0, fl = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "RssAnon:", 8) == 0)
            a = strtol(line + 8, NULL, 10);
        else if (strncmp(line, "RssFile:", 8) == 0 || strncmp(line, "RssShmem:", 9) == 0)
            fl += strtol(strchr(line, ':') + 1, NULL, 10);
    }
    fclose(f);
    if (anon)
        *anon = a;
    if (file)
        *file = fl;
    return kib;
}

/* The sums over every --server-pid (each one's peak kept apart); -1 when one cannot be read. */
static long proc_rss_split_kib(long *anon, long *file)
{
    long kib = 0, a = 0, fl = 0;
    int bad = !npids;
    for (int i = 0; i < npids; i++) {
        long pa = 0, pf = 0, k = proc_rss_split_of(server_pids[i], &pa, &pf);
        if (k < 0) {
            bad = 1;
            continue;
        }
        if (k > pid_rss_peak_kib[i])
            pid_rss_peak_kib[i] = k;
        kib += k;
        a += pa;
        fl += pf;
    }
    if (anon)
        *anon = a;
    if (file)
        *file = fl;
    return bad ? -1 : kib;
}

static long proc_rss_kib(void)
{
    return proc_rss_split_kib(NULL, NULL);
}

static void sample(void)
{
    if (!opt.server_pid)
        return;
    long anon = 0, file = 0, rss = proc_rss_split_kib(&anon, &file);
    if (rss > srv.rss_peak_kib)
        srv.rss_peak_kib = rss;
    if (bidding && nwins > 0 && rss > 0) {
        win_t *w = &wins[nwins - 1];
        w->rss_sum_kib += (double)rss;
        w->anon_sum_kib += (double)anon;
        w->file_sum_kib += (double)file;
        w->rss_n++;
        if (rss > w->rss_max_kib)
            w->rss_max_kib = rss;
    }
    uint64_t ticks, now = uv_hrtime();
    if (proc_ticks(&ticks) == 0) {
        if (srv.t_prev && bidding) {
            double dt = secs(now - srv.t_prev);
            double pct = (double)(ticks - srv.ticks_prev) / (double)sysconf(_SC_CLK_TCK) / dt * 100;
            if (dt > 0.5 && pct > srv.cpu_max)
                srv.cpu_max = pct;
        }
        srv.ticks_prev = ticks;
        srv.t_prev = now;
        srv.ok = 1;
    }
}

static void sample_cb(uv_timer_t *t)
{
    (void)t;
    sample();
}

/* ================================================================================================
 * HTTP helpers
 * ============================================================================================== */

static json_t *parse_body(const char *body, size_t len)
{
    return json_loadb(body, len, 0, NULL);
}

static const char *jget_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Step bookkeeping: phase_pending reaches zero -> the next phase. */
static void phase_step_done(void)
{
    if (--phase_pending == 0 && !shutting_down && phase_next) {
        void (*next)(void) = phase_next;
        phase_next = NULL;
        next();
    }
}

static void phase_start(int pending, void (*next)(void))
{
    phase_pending = pending;
    phase_next = next;
    t_phase = uv_hrtime();
    if (pending == 0) {
        phase_next = NULL;
        next();
    }
}

static void http_error_body(const char *what, int status, const char *body, size_t len)
{
    if (status < 0)
        fail("%s: no answer (connection refused, reset or timed out)", what);
    else
        fail("%s: HTTP %d %.*s", what, status, (int)(len > 300 ? 300 : len), body);
}

/* ================================================================================================
 * The server's GET /metrics, scraped when the measured phase begins (every WebSocket joined,
 * before the first bid; before the first user of a sign-in storm) and when it ends (after the
 * drain; after the storm's last user): the bucket deltas tell what the server's loop and group
 * commit did during that phase alone, without the setup (thousands of sign-ins whose commits run
 * on the loop) that gavel_loop_turn_max_seconds, since start, includes.
 * ============================================================================================== */

enum { PM_LOOP, PM_COMMIT, PM_BATCH, PM_LOOP_CPU, PM_N };
static const char *const pm_names[PM_N] = {
    "gavel_loop_turn_seconds", "gavel_auction_commit_seconds", "gavel_auction_commit_batch_events",
    "gavel_loop_turn_cpu_seconds"};

typedef struct {
    int done, ok; /* answered; answered 200 */
    char error[64];
    uint64_t t;
    lg_pm_hist_t h[PM_N];
    double loop_max; /* gavel_loop_turn_max_seconds, since start (setup included) */
    int has_loop_max;
    double leases; /* gavel_cluster_leases_held (a cluster's node) */
    int has_leases;
} pm_snap_t;

static pm_snap_t pm_snap[2];               /* 0: the phase begins, 1: it ended (every node) */
static pm_snap_t pm_node[2][LG_MAX_NODES]; /* each node's own */
static int pm_pending;
static void (*pm_next)(void);

/* Several nodes: one snapshot of them all. The histograms are summed bucket by bucket (when every
 * node has the same buckets), so their deltas count every loop turn and commit of every node; the
 * longest loop turn since start is the largest. */
static void pm_merge(pm_snap_t *out, const pm_snap_t *in, int n)
{
    memset(out, 0, sizeof(*out));
    out->done = out->ok = out->has_loop_max = 1;
    for (int i = 0; i < n; i++) {
        const pm_snap_t *s = &in[i];
        if (s->t > out->t)
            out->t = s->t;
        if (!s->ok && out->ok) {
            snprintf(out->error, sizeof(out->error), "node %d: %s", i,
                     s->done ? s->error : "not scraped");
            out->ok = 0;
        }
        if (!s->has_loop_max)
            out->has_loop_max = 0;
        else if (s->loop_max > out->loop_max)
            out->loop_max = s->loop_max;
    }
    for (int k = 0; k < PM_N; k++) {
        lg_pm_hist_t *h = &out->h[k];
        *h = in[0].h[k];
        for (int i = 1; i < n && h->present; i++) {
            const lg_pm_hist_t *o = &in[i].h[k];
            if (!o->present || o->nb != h->nb) {
                h->present = 0;
                break;
            }
            for (int b = 0; b < h->nb && h->present; b++) {
                if (o->le[b] != h->le[b])
                    h->present = 0;
                h->cum[b] += o->cum[b];
            }
            h->sum += o->sum;
            h->count += o->count;
        }
    }
}

static void metrics_answer(void *ud, int status, const char *body, size_t len)
{
    int which = (int)((intptr_t)ud / LG_MAX_NODES), node = (int)((intptr_t)ud % LG_MAX_NODES);
    pm_snap_t *s = &pm_node[which][node];
    s->done = 1;
    s->t = uv_hrtime();
    if (status == 200) {
        s->ok = 1;
        for (int k = 0; k < PM_N; k++)
            lg_pm_hist(body, len, pm_names[k], &s->h[k]); /* absent: h->present = 0 */
        s->has_loop_max = lg_pm_gauge(body, len, "gavel_loop_turn_max_seconds", &s->loop_max) == 0;
        s->has_leases = lg_pm_gauge(body, len, "gavel_cluster_leases_held", &s->leases) == 0;
    } else {
        if (status < 0)
            snprintf(s->error, sizeof(s->error), "no answer");
        else
            snprintf(s->error, sizeof(s->error), "HTTP %d", status);
        if (nnodes > 1)
            logf_("GET /metrics (%s, node %d %s): %s", which ? "end" : "begin", node,
                  nodes[node].url, s->error);
        else
            logf_("GET /metrics (%s): %s", which ? "end" : "begin", s->error);
    }
    if (--pm_pending > 0)
        return;
    if (nnodes > 1)
        pm_merge(&pm_snap[which], pm_node[which], nnodes);
    else
        pm_snap[which] = pm_node[which][0];
    void (*next)(void) = pm_next;
    pm_next = NULL;
    if (next && !shutting_down)
        next();
}

/* Scrapes every node's /metrics into pm_node[which] (and their sum into pm_snap[which]), then
 * runs next (also when a scrape failed). */
static void metrics_scrape(int which, void (*next)(void))
{
    pm_next = next;
    pm_pending = nnodes;
    for (int k = 0; k < nnodes; k++)
        lg_pool_request(pools[k], "GET", "/metrics", NULL, NULL, metrics_answer,
                        (void *)(intptr_t)(which * LG_MAX_NODES + k));
}

/* A bucket bound in ms (scale 1000) or in its own unit (scale 1): a number, "+Inf", or null. */
static json_t *le_json(double le, double scale)
{
    if (isnan(le))
        return json_null();
    if (isinf(le))
        return json_string("+Inf");
    return json_real(le * scale);
}

static json_t *num_or_null(int ok, double v)
{
    return ok && !isnan(v) ? json_real(v) : json_null();
}

/* "<= 2.5 ms", "> 10 s" (log lines). */
static const char *le_text(double le_s, char *buf, size_t cap)
{
    if (isnan(le_s))
        snprintf(buf, cap, "n/a");
    else if (isinf(le_s))
        snprintf(buf, cap, "> 10 s");
    else if (le_s >= 1)
        snprintf(buf, cap, "<= %g s", le_s);
    else
        snprintf(buf, cap, "<= %g ms", le_s * 1000);
    return buf;
}

static const char *snap_state(const pm_snap_t *s)
{
    if (s->ok)
        return "ok";
    return s->done ? s->error : "not scraped";
}

/* The phase's deltas between snapshots a and b as JSON ("bidding", or "duringStorm"); every value
 * null when a scrape failed or the server lacks the metric. */
static json_t *phase_metrics_json(const char *phase, const pm_snap_t *a, const pm_snap_t *b)
{
    lg_pm_delta_t d[PM_N];
    static const lg_pm_hist_t none; /* present = 0: the delta is not ok */
    for (int k = 0; k < PM_N; k++)
        lg_pm_delta(a->ok ? &a->h[k] : &none, b->ok ? &b->h[k] : &none, &d[k]);
    json_t *o = json_object();
    json_object_set_new(o, "phase", json_string(phase));
    json_object_set_new(o, "scraped", json_boolean(a->ok && b->ok));
    if (!(a->ok && b->ok))
        json_object_set_new(o, "error",
                            json_sprintf("begin: %s, end: %s", snap_state(a), snap_state(b)));
    json_object_set_new(o, "windowS", a->ok && b->ok ? json_real(secs(b->t - a->t)) : json_null());
    lg_pm_delta_t *l = &d[PM_LOOP], *c = &d[PM_COMMIT], *e = &d[PM_BATCH], *u = &d[PM_LOOP_CPU];
    json_object_set_new(o, "loopTurns", l->ok ? json_integer((json_int_t)l->count) : json_null());
    json_object_set_new(o, "loopTurnP50Ms", le_json(l->ok ? l->p50_le : NAN, 1000));
    json_object_set_new(o, "loopTurnP99Ms", le_json(l->ok ? l->p99_le : NAN, 1000));
    json_object_set_new(o, "loopTurnMaxLeMs", le_json(l->ok ? l->max_le : NAN, 1000));
    json_object_set_new(o, "loopTurnMeanMs", num_or_null(l->ok, l->mean * 1000));
    /* the loop thread's own CPU per turn: a turn far longer than its CPU waited for a core */
    json_object_set_new(o, "loopTurnCpuP99Ms", le_json(u->ok ? u->p99_le : NAN, 1000));
    json_object_set_new(o, "loopTurnCpuMaxLeMs", le_json(u->ok ? u->max_le : NAN, 1000));
    json_object_set_new(o, "loopTurnCpuMeanMs", num_or_null(u->ok, u->mean * 1000));
    json_t *buckets = json_object();
    for (int i = 0; l->ok && i < l->nb; i++) {
        double n = l->cum[i] - (i ? l->cum[i - 1] : 0);
        char key[32];
        if (isinf(l->le[i]))
            snprintf(key, sizeof(key), "+Inf");
        else
            snprintf(key, sizeof(key), "%g", l->le[i] * 1000);
        if (n > 0)
            json_object_set_new(buckets, key, json_integer((json_int_t)n));
    }
    json_object_set_new(o, "loopTurnsByLeMs", buckets);
    json_object_set_new(o, "commits", c->ok ? json_integer((json_int_t)c->count) : json_null());
    json_object_set_new(o, "commitP99Ms", le_json(c->ok ? c->p99_le : NAN, 1000));
    json_object_set_new(o, "commitMaxLeMs", le_json(c->ok ? c->max_le : NAN, 1000));
    json_object_set_new(o, "commitMeanMs", num_or_null(c->ok, c->mean * 1000));
    json_object_set_new(o, "commitBatchMeanEvents", num_or_null(e->ok, e->mean));
    json_object_set_new(o, "commitBatchP99Events", le_json(e->ok ? e->p99_le : NAN, 1));
    json_object_set_new(o, "loopTurnMaxSinceStartMs",
                        num_or_null(b->ok && b->has_loop_max, b->loop_max * 1000));
    char t1[24], t2[24], t3[24], t4[24], t5[24], commits[96] = "no group commit";
    if (c->ok && c->count > 0)
        snprintf(commits, sizeof(commits), "%.0f group commits, p99 %s, %.1f events each", c->count,
                 le_text(c->p99_le, t4, sizeof(t4)), e->ok && !isnan(e->mean) ? e->mean : 0.0);
    if (l->ok)
        logf_("%s, from /metrics: %.0f loop turns, p50 %s, p99 %s, longest %s (CPU %s), mean "
              "%.3f ms; %s",
              phase, l->count, le_text(l->p50_le, t1, sizeof(t1)),
              le_text(l->p99_le, t2, sizeof(t2)), le_text(l->max_le, t3, sizeof(t3)),
              le_text(u->ok ? u->max_le : NAN, t5, sizeof(t5)),
              isnan(l->mean) ? 0.0 : l->mean * 1000, commits);
    else
        logf_("%s, from /metrics: no loop-turn histogram (%s)", phase,
              a->ok && b->ok ? "the server does not expose it" : "a scrape failed");
    return o;
}

/* Several nodes: each one's deltas, with the leases it held at the end. */
static json_t *phase_metrics_by_node(const char *phase)
{
    json_t *arr = json_array();
    for (int k = 0; k < nnodes; k++) {
        char name[64];
        snprintf(name, sizeof(name), "%s on node %d", phase, k);
        json_t *o = phase_metrics_json(name, &pm_node[0][k], &pm_node[1][k]);
        const pm_snap_t *end = &pm_node[1][k];
        json_object_set_new(o, "url", json_string(nodes[k].url));
        json_object_set_new(o, "leasesHeldAtEnd",
                            end->ok && end->has_leases ? json_integer((json_int_t)end->leases)
                                                       : json_null());
        json_array_append_new(arr, o);
    }
    return arr;
}

/* ================================================================================================
 * Phase 1: sign in
 * ============================================================================================== */

static void phase_leagues(void);

static void signin_verified(void *ud, int status, const char *body, size_t len)
{
    user_t *u = &users[(intptr_t)ud];
    if (shutting_down)
        return;
    json_t *o = status == 200 ? parse_body(body, len) : NULL;
    const char *tok = jget_str(o, "accessToken");
    const char *id = jget_str(json_object_get(o, "user"), "id");
    if (!tok || !id || strlen(tok) >= sizeof(u->token) || strlen(id) >= sizeof(u->id)) {
        json_decref(o);
        http_error_body("POST /api/auth/verify", status, body, len);
        return;
    }
    snprintf(u->token, sizeof(u->token), "%s", tok);
    snprintf(u->id, sizeof(u->id), "%s", id);
    json_decref(o);
    phase_step_done();
}

static void signin_linked(void *ud, int status, const char *body, size_t len)
{
    user_t *u = &users[(intptr_t)ud];
    if (shutting_down)
        return;
    json_t *o = status == 202 ? parse_body(body, len) : NULL;
    const char *dev = jget_str(o, "devToken");
    if (!dev) {
        json_decref(o);
        if (status == 202)
            fail("POST /api/auth/magic-link: no devToken (is the server running with --dev?)");
        else
            http_error_body("POST /api/auth/magic-link", status, body, len);
        return;
    }
    char req[512];
    snprintf(req, sizeof(req), "{\"email\":\"%s\",\"token\":\"%s\"}", u->email, dev);
    json_decref(o);
    lg_pool_request(pools[0], "POST", "/api/auth/verify", NULL, req, signin_verified, ud);
}

static void phase_signin(void)
{
    logf_("signing in %d users over %d HTTP connections", nusers, opt.http_conns);
    phase_start(nusers, phase_leagues);
    for (int i = 0; i < nusers && !shutting_down; i++) {
        char req[160];
        snprintf(req, sizeof(req), "{\"email\":\"%s\"}", users[i].email);
        lg_pool_request(pools[0], "POST", "/api/auth/magic-link", NULL, req, signin_linked,
                        (void *)(intptr_t)i);
    }
}

/* ================================================================================================
 * Phase 2-4: leagues, members, auctions
 * ============================================================================================== */

static void phase_joins(void);
static void phase_auctions(void);
static void phase_connect(void);

static void league_created(void *ud, int status, const char *body, size_t len)
{
    auction_t *a = &A[(intptr_t)ud];
    if (shutting_down)
        return;
    json_t *o = status == 201 ? parse_body(body, len) : NULL;
    const char *id = jget_str(o, "id"), *inv = jget_str(o, "inviteCode"),
               *w = jget_str(o, "watchCode");
    if (!id || !inv || !w) {
        json_decref(o);
        http_error_body("POST /api/leagues", status, body, len);
        return;
    }
    snprintf(a->league, sizeof(a->league), "%s", id);
    snprintf(a->invite, sizeof(a->invite), "%s", inv);
    snprintf(a->watch, sizeof(a->watch), "%s", w);
    json_decref(o);
    phase_step_done();
}

static void phase_leagues(void)
{
    setup_s[0] = secs(uv_hrtime() - t_phase);
    logf_("signed in %d users in %.2fs; creating %d leagues", nusers, setup_s[0], opt.auctions);
    phase_start(opt.auctions, phase_joins);
    for (int i = 0; i < opt.auctions && !shutting_down; i++) {
        auction_t *a = &A[i];
        char req[768];
        snprintf(req, sizeof(req),
                 "{\"name\":\"load %s %d\",\"sport\":\"%s\",\"competition\":\"%s\","
                 "\"lotOrder\":\"fixed\",\"minManagers\":1,\"maxManagers\":%d,\"lotSeconds\":%d,"
                 "\"antiSnipeSeconds\":0,\"intermissionSeconds\":0,\"rosterSize\":%d,"
                 "\"budget\":%lld,\"minBid\":%lld,\"minIncrement\":%lld}",
                 opt.label, i, opt.sport, opt.competition, opt.managers, opt.lot_seconds,
                 opt.roster_size, (long long)opt.budget, (long long)opt.min_bid,
                 (long long)opt.min_increment);
        lg_pool_request(pools[0], "POST", "/api/leagues", users[a->m[0].user].token, req,
                        league_created, (void *)(intptr_t)i);
    }
}

static void member_joined_league(void *ud, int status, const char *body, size_t len)
{
    if (shutting_down)
        return;
    if (status != 200) {
        member_t *m = ud;
        char what[160];
        snprintf(what, sizeof(what), "POST %s (league %d member %d)",
                 m->manager ? "/api/invites/{code}/join" : "/api/watch/{code}", m->a->idx, m->idx);
        http_error_body(what, status, body, len);
        return;
    }
    phase_step_done();
}

static void phase_joins(void)
{
    setup_s[1] = secs(uv_hrtime() - t_phase);
    int n = 0;
    for (int i = 0; i < opt.auctions; i++)
        n += A[i].nmem - 1;
    logf_("created %d leagues in %.2fs; %d members joining (invite and watch codes)", opt.auctions,
          setup_s[1], n);
    phase_start(n, phase_auctions);
    for (int i = 0; i < opt.auctions && !shutting_down; i++) {
        auction_t *a = &A[i];
        for (int k = 1; k < a->nmem && !shutting_down; k++) {
            member_t *m = &a->m[k];
            char path[128];
            if (m->manager)
                snprintf(path, sizeof(path), "/api/invites/%s/join", a->invite);
            else
                snprintf(path, sizeof(path), "/api/watch/%s", a->watch);
            lg_pool_request(pools[0], "POST", path, users[m->user].token, NULL,
                            member_joined_league, m);
        }
    }
}

/* Reads an AuctionState into the auction (budgets, slots, lot) — the snapshot, and in REST mode
 * the answers of begin and close-lot. */
static void apply_state(auction_t *a, json_t *st)
{
    json_t *mgrs = json_object_get(st, "managers");
    size_t i;
    json_t *v;
    json_array_foreach(mgrs, i, v)
    {
        const char *uid = jget_str(v, "userId");
        for (int k = 0; uid && k < a->nman; k++)
            if (strcmp(users[a->m[k].user].id, uid) == 0) {
                a->budget[k] = json_integer_value(json_object_get(v, "budgetRemaining"));
                a->slots[k] = (int)json_integer_value(json_object_get(v, "emptySlots"));
            }
    }
    json_t *lot = json_object_get(st, "lot");
    const char *status = jget_str(st, "status");
    if (json_is_object(lot)) {
        int64_t number = json_integer_value(json_object_get(lot, "number"));
        if (number != a->lot) {
            a->lot = number;
            a->lot_bids = 0;
        }
        a->lot_running =
            status && strcmp(status, "running") == 0 &&
            strcmp(jget_str(lot, "state") ? jget_str(lot, "state") : "", "running") == 0;
        json_t *cb = json_object_get(lot, "currentBid");
        a->has_cur = json_is_integer(cb);
        a->cur = json_integer_value(cb);
        const char *leader = jget_str(lot, "leaderId");
        a->leader = -1;
        for (int k = 0; leader && k < a->nman; k++)
            if (strcmp(users[a->m[k].user].id, leader) == 0)
                a->leader = k;
    } else {
        a->lot_running = 0;
    }
    if (status && strcmp(status, "completed") == 0 && !a->completed) {
        a->completed = 1;
        S.auctions_completed++;
    }
}

static void auction_created(void *ud, int status, const char *body, size_t len)
{
    auction_t *a = &A[(intptr_t)ud];
    if (shutting_down)
        return;
    json_t *o = status == 201 ? parse_body(body, len) : NULL;
    const char *id = jget_str(o, "id");
    if (!id) {
        json_decref(o);
        http_error_body("POST /api/leagues/{id}/auction", status, body, len);
        return;
    }
    snprintf(a->id, sizeof(a->id), "%s", id);
    apply_state(a, o);
    a->applied_seq = json_integer_value(json_object_get(o, "seq"));
    json_decref(o);
    phase_step_done();
}

static void phase_auctions(void)
{
    setup_s[2] = secs(uv_hrtime() - t_phase);
    logf_("members joined in %.2fs; creating %d auctions", setup_s[2], opt.auctions);
    phase_start(opt.auctions, phase_connect);
    for (int i = 0; i < opt.auctions && !shutting_down; i++) {
        char path[128];
        snprintf(path, sizeof(path), "/api/leagues/%s/auction", A[i].league);
        lg_pool_request(pools[A[i].node], "POST", path, users[A[i].m[0].user].token, NULL,
                        auction_created, (void *)(intptr_t)i);
    }
}

/* ================================================================================================
 * Bidding
 * ============================================================================================== */

static void check_all_done(void);

static member_t *manager_by_id(auction_t *a, const char *id, size_t len)
{
    for (int k = 0; k < a->nman; k++) {
        const char *u = users[a->m[k].user].id;
        if (strlen(u) == len && memcmp(u, id, len) == 0)
            return &a->m[k];
    }
    return NULL;
}

static fan_t *fan_slot(auction_t *a, int64_t seq)
{
    fan_t *f = &a->ring[seq % ring_size];
    if (!f->used || f->seq != seq) {
        if (f->used && !f->done && f->t_send)
            S.fan_overwritten++; /* the ring is too small for the fan-outs in flight */
        memset(f, 0, sizeof(*f));
        f->used = 1;
        f->seq = seq;
        f->expected = (uint32_t)a->joined;
    }
    return f;
}

static void fan_check(fan_t *f)
{
    if (!f->done && f->t_send && f->expected && f->seen >= f->expected) {
        f->done = 1;
        hist_add(&S.fan, f->t_last > f->t_send ? f->t_last - f->t_send : 0);
        hist_add(&S.fan_first, f->t_first > f->t_send ? f->t_first - f->t_send : 0);
    }
}

/* A joined connection of a is gone (closed by the server, or dropped) before the end: the fan-outs
 * it had not seen yet no longer wait for it. */
static void fan_member_gone(member_t *m)
{
    auction_t *a = m->a;
    for (int k = 0; k < ring_size; k++) {
        fan_t *f = &a->ring[k];
        if (f->used && !f->done && f->seq > m->last_seq && f->expected > 0) {
            f->expected--;
            fan_check(f);
        }
    }
}

/* Keeps the first misses with their context (kind "gap", "duplicate" or "behind"). */
static void miss_detail(member_t *m, const char *kind, int64_t from, int64_t to)
{
    if (!S.miss_details)
        S.miss_details = json_array();
    if (json_array_size(S.miss_details) >= 20)
        return;
    uint64_t now = uv_hrtime();
    json_array_append_new(S.miss_details,
                          json_pack("{s:s, s:i, s:s, s:i, s:b, s:I, s:I, s:f, s:f, s:i}", "kind",
                                    kind, "auction", m->a->idx, "auctionId", m->a->id, "member",
                                    m->idx, "manager", m->manager, "fromSeq", (json_int_t)from,
                                    "toSeq", (json_int_t)to, "atS",
                                    t_begin ? secs(now - t_begin) : 0.0, "lastEventAgoS",
                                    m->t_last_event ? secs(now - m->t_last_event) : -1.0,
                                    "closeCode", m->close_code));
}

static void close_lot_done(void *ud, int status, const char *body, size_t len);

/* The commissioner's hammer after bids_per_lot accepted bids on the lot. */
static int64_t max_bid(auction_t *a, int k);

/* Whether a manager other than the leader can still bid on the lot. */
static int contested(auction_t *a)
{
    int64_t next = a->has_cur ? a->cur + opt.min_increment : opt.min_bid;
    for (int k = 0; k < a->nman; k++)
        if (k != a->leader && max_bid(a, k) >= next)
            return 1;
    return 0;
}

static void maybe_close_lot(auction_t *a)
{
    if (!bidding || a->close_sent_lot == a->lot || a->completed || !a->has_cur)
        return;
    if ((opt.bids_per_lot <= 0 || a->lot_bids < opt.bids_per_lot) && contested(a))
        return;
    a->close_sent_lot = a->lot;
    char path[128];
    snprintf(path, sizeof(path), "/api/auctions/%s/close-lot", a->id);
    lg_pool_request(pools[a->node], "POST", path, users[a->m[0].user].token, NULL, close_lot_done,
                    a);
}

static int64_t max_bid(auction_t *a, int k)
{
    if (a->slots[k] <= 0)
        return -1;
    return a->budget[k] - opt.min_bid * (a->slots[k] - 1);
}

static void rest_bid_done(void *ud, int status, const char *body, size_t len);

/* Sends a bid of amount on m's current lot (WebSocket, or REST with --rest-bids). 1 if sent. */
static int send_bid(member_t *m, int64_t lot, int64_t amount)
{
    auction_t *a = m->a;
    if (amount > max_bid(a, m->idx))
        return 0;
    m->bid_no++;
    char msg[320];
    int n;
    if (opt.rest_bids) {
        n = snprintf(msg, sizeof(msg),
                     "{\"lot\":%lld,\"amount\":%lld,\"clientBidId\":\"%d.%d.%u\"}", (long long)lot,
                     (long long)amount, a->idx, m->idx, m->bid_no);
        char path[128];
        snprintf(path, sizeof(path), "/api/auctions/%s/bids", a->id);
        m->bid_t0 = uv_hrtime();
        lg_pool_request(pools[m->node], "POST", path, users[m->user].token, msg, rest_bid_done, m);
    } else {
        n = snprintf(msg, sizeof(msg),
                     "{\"type\":\"bid\",\"auctionId\":\"%s\",\"lot\":%lld,\"amount\":%lld,"
                     "\"clientBidId\":\"%d.%d.%u\"}",
                     a->id, (long long)lot, (long long)amount, a->idx, m->idx, m->bid_no);
        m->bid_t0 = uv_hrtime();
        if (lg_ws_send_text(m->ws, msg, (size_t)n) != 0) {
            S.send_fail++;
            return 0;
        }
    }
    m->bid_out = 1;
    m->bid_lot = lot;
    m->bid_amount = amount;
    m->bid_view = m->view_ver;
    a->inflight++;
    S.sent++;
    return 1;
}

/* The amount m would bid now on its view, or -1. */
static int64_t next_amount(member_t *m)
{
    auction_t *a = m->a;
    int64_t amount = m->has_cur ? m->cur + opt.min_increment : opt.min_bid;
    if (opt.strategy == STRAT_PIPELINE && a->top_lot == m->lot &&
        a->top + opt.min_increment > amount)
        amount = a->top + opt.min_increment;
    return amount;
}

static int can_bid(const member_t *m)
{
    return bidding && m->manager && !m->slow && m->state == M_JOINED && !m->bid_out &&
           m->lot_running && !m->leading && m->last_seq >= m->wait_seq && !m->a->completed;
}

static member_t **deferred;
static size_t n_deferred, cap_deferred;

static void think_done(uv_timer_t *t);

/* paced: m starts thinking about its current lot, for think_ms +- think_jitter_ms (uniform). */
static void think_start(member_t *m)
{
    double ms = opt.think_ms + (prng_unit() * 2 - 1) * opt.think_jitter_ms;
    m->thinking = 1;
    m->think_lot = m->lot;
    uv_timer_start(m->think, think_done, ms > 0 ? (uint64_t)(ms + 0.5) : 0, 0);
}

/* paced: the thinking time is over; bid the minimum on what this connection shows now, unless
 * the lot changed meanwhile (then think again about the new one) */
static void think_done(uv_timer_t *t)
{
    member_t *m = t->data;
    m->thinking = 0;
    if (!can_bid(m))
        return; /* leading again, lot closed: the next event decides */
    if (m->lot != m->think_lot)
        think_start(m);
    else
        send_bid(m, m->lot, next_amount(m));
}

/* stress / pipeline: bid as soon as this manager is not leading (and, with --user-rate, once
 * 1/user_rate has passed since its last bid). paced: once outbid (or a lot opens and it does not
 * lead), think for --think-ms +- --think-jitter-ms, then bid the minimum. */
static void maybe_bid(member_t *m)
{
    if (opt.strategy == STRAT_RATE || opt.rest_bids || !can_bid(m))
        return;
    if (opt.strategy == STRAT_PACED) {
        if (!m->thinking && m->think)
            think_start(m);
        return;
    }
    if (opt.user_rate > 0) {
        uint64_t gap = (uint64_t)(1e9 / opt.user_rate), now = uv_hrtime();
        if (m->last_bid_t && now - m->last_bid_t < gap) {
            if (!m->deferred) {
                if (n_deferred == cap_deferred) {
                    cap_deferred = cap_deferred ? cap_deferred * 2 : 256;
                    deferred = realloc(deferred, cap_deferred * sizeof(*deferred));
                    if (!deferred)
                        abort();
                }
                deferred[n_deferred++] = m;
                m->deferred = 1;
            }
            return;
        }
        m->last_bid_t = now;
    }
    int64_t amount = next_amount(m);
    if (send_bid(m, m->lot, amount) && opt.strategy == STRAT_PIPELINE) {
        m->a->top = amount;
        m->a->top_lot = m->lot;
    }
}

static int is_race_code(const char *code)
{
    return strcmp(code, "bid_too_low") == 0 || strcmp(code, "stale_lot") == 0 ||
           strcmp(code, "lot_closed") == 0 || strcmp(code, "auction_not_running") == 0;
}

/* A bid's outcome (WebSocket bid_result or REST answer). */
static void bid_outcome(member_t *m, int accepted, int64_t seq, const char *code, uint64_t now)
{
    auction_t *a = m->a;
    m->bid_out = 0;
    a->inflight--;
    hist_add(&S.rtt, now - m->bid_t0);
    if (nnodes > 1)
        hist_add(m->node == a->node ? &S.rtt_direct : &S.rtt_fwd, now - m->bid_t0);
    if (accepted) {
        S.accepted++;
        if (bidding)
            S.accepted_window++;
        if (!opt.rest_bids) {
            fan_t *f = fan_slot(a, seq);
            if (!f->t_send)
                f->t_send = m->bid_t0;
            fan_check(f);
            m->wait_seq = seq;
        }
    } else {
        S.rejected++;
        code_inc(S.rejected_by, code);
    }
}

/* ---- REST mode: the state comes from the answers ------------------------------------------- */

static void rest_kick(auction_t *a)
{
    if (!bidding || a->completed || !a->lot_running || opt.strategy == STRAT_RATE)
        return;
    for (int k = 0; k < a->nman; k++) {
        member_t *m = &a->m[k];
        if (m->bid_out || a->leader == k)
            continue;
        int64_t amount = a->has_cur ? a->cur + opt.min_increment : opt.min_bid;
        if (opt.strategy == STRAT_PIPELINE && a->top_lot == a->lot &&
            a->top + opt.min_increment > amount)
            amount = a->top + opt.min_increment;
        if (send_bid(m, a->lot, amount) && opt.strategy == STRAT_PIPELINE) {
            a->top = amount;
            a->top_lot = a->lot;
        }
    }
}

static void rest_bid_done(void *ud, int status, const char *body, size_t len)
{
    member_t *m = ud;
    auction_t *a = m->a;
    uint64_t now = uv_hrtime();
    if (!m->bid_out)
        return;
    if (status < 0) {
        m->bid_out = 0;
        a->inflight--;
        code_inc(S.http_by, "bid_failed");
        return;
    }
    jkv_t kv[16];
    int n = jscan(body, len, kv, 16);
    if (status == 200) {
        int64_t amount = jint(jget(kv, n, "amount"), 0);
        bid_outcome(m, 1, jint(jget(kv, n, "seq"), 0), NULL, now);
        if (m->bid_lot == a->lot && (!a->has_cur || amount > a->cur)) {
            a->cur = amount;
            a->has_cur = 1;
            a->leader = m->idx;
        }
        if (m->bid_lot == a->lot) {
            a->lot_bids++;
            maybe_close_lot(a);
        }
    } else {
        char code[48] = "unknown";
        const jkv_t *err = jget(kv, n, "error");
        jkv_t ekv[8];
        int en = err ? jscan(err->v, err->vl, ekv, 8) : -1;
        if (en > 0)
            jstr(jget(ekv, en, "code"), code, sizeof(code));
        bid_outcome(m, 0, 0, code, now);
        if (strcmp(code, "bid_too_low") == 0 && m->bid_lot == a->lot) {
            const jkv_t *d = en > 0 ? jget(ekv, en, "details") : NULL;
            jkv_t dkv[4];
            int dn = d ? jscan(d->v, d->vl, dkv, 4) : -1;
            int64_t minimum = dn > 0 ? jint(jget(dkv, dn, "minimum"), 0) : 0;
            if (minimum - opt.min_increment > a->cur) {
                a->cur = minimum - opt.min_increment;
                a->has_cur = 1;
                a->leader = -1;
            }
        } else if (strcmp(code, "already_leading") == 0) {
            a->leader = m->idx;
        } else if (strcmp(code, "stale_lot") == 0 || strcmp(code, "lot_closed") == 0) {
            if (m->bid_lot == a->lot)
                a->lot_running = 0; /* wait for the close-lot answer */
        }
    }
    rest_kick(a);
}

static void close_lot_done(void *ud, int status, const char *body, size_t len)
{
    auction_t *a = ud;
    if (status == 200) {
        S.lots_closed_by_us++;
        if (opt.rest_bids) {
            json_t *o = parse_body(body, len);
            if (o) {
                int was = a->completed;
                apply_state(a, o);
                json_decref(o);
                if (!was && a->completed)
                    check_all_done();
            }
            rest_kick(a);
        }
    } else if (status == 409) {
        S.close_conflicts++;
    } else if (status >= 0 || !shutting_down) {
        char c[32];
        snprintf(c, sizeof(c), "close_lot_%d", status);
        code_inc(S.http_by, c);
    }
}

/* --user-rate: retries the managers that waited for their next slot. */
static void deferred_tick(uv_timer_t *t)
{
    (void)t;
    size_t n = n_deferred;
    member_t **list = deferred;
    deferred = NULL;
    n_deferred = cap_deferred = 0;
    for (size_t i = 0; i < n; i++) {
        list[i]->deferred = 0;
        maybe_bid(list[i]);
    }
    free(list);
}

/* ---- rate strategy: a global credit spent round-robin over the auctions ------------------------
 */

static void rate_tick(uv_timer_t *t)
{
    (void)t;
    uint64_t now = uv_hrtime();
    if (!bidding) {
        rate_last = now;
        return;
    }
    rate_credit += opt.rate * secs(now - rate_last);
    rate_last = now;
    double cap = opt.rate * 0.05 > 2 ? opt.rate * 0.05 : 2;
    if (rate_credit > cap)
        rate_credit = cap;
    int idle_sweep = 0;
    static int next_a;
    while (rate_credit >= 1 && idle_sweep < opt.auctions) {
        auction_t *a = &A[next_a];
        next_a = (next_a + 1) % opt.auctions;
        int sent = 0;
        if (!a->completed && a->inflight == 0) {
            for (int k = 0; k < a->nman && !sent; k++) {
                member_t *m = &a->m[(a->rr + k) % a->nman];
                if (opt.rest_bids) {
                    if (!bidding || !a->lot_running || m->bid_out || a->leader == m->idx)
                        continue;
                    int64_t amount = a->has_cur ? a->cur + opt.min_increment : opt.min_bid;
                    sent = send_bid(m, a->lot, amount);
                } else if (can_bid(m)) {
                    sent = send_bid(m, m->lot, next_amount(m));
                }
                if (sent)
                    a->rr = (a->rr + k + 1) % a->nman;
            }
        }
        if (sent) {
            rate_credit -= 1;
            idle_sweep = 0;
        } else {
            idle_sweep++;
        }
    }
}

/* ================================================================================================
 * WebSocket members
 * ============================================================================================== */

static void connect_more(void);

static void member_send_join(member_t *m)
{
    char msg[160];
    int n = snprintf(msg, sizeof(msg), "{\"type\":\"join\",\"auctionId\":\"%s\"}", m->a->id);
    m->state = M_JOINING;
    lg_ws_send_text(m->ws, msg, (size_t)n);
}

static void member_ready(member_t *m)
{
    if (m->slow)
        lg_ws_pause(m->ws, 1);
    m->state = M_JOINED;
    m->a->joined++;
    S.ws_joined++;
    conn_active--;
    conn_done++;
    connect_more();
}

static void member_failed(member_t *m, const char *why)
{
    if (m->state == M_JOINED || m->state == M_FAILED || m->state == M_GONE)
        return;
    m->state = M_FAILED;
    S.ws_failed++;
    code_inc(S.connfail_by, why);
    conn_active--;
    conn_done++;
    connect_more();
}

static void on_snapshot(member_t *m, const char *text, size_t len)
{
    json_t *o = json_loadb(text, len, 0, NULL);
    json_t *st = json_object_get(o, "auction");
    if (!json_is_object(st)) {
        json_decref(o);
        S.parse_errors++;
        member_failed(m, "bad snapshot");
        return;
    }
    auction_t *a = m->a;
    int64_t seq = json_integer_value(json_object_get(st, "seq"));
    if (seq >= a->applied_seq) {
        int was = a->completed;
        apply_state(a, st);
        a->applied_seq = seq;
        if (!was && a->completed)
            check_all_done();
    }
    m->last_seq = seq;
    const char *status = jget_str(st, "status");
    json_t *lot = json_object_get(st, "lot");
    m->lot = json_integer_value(json_object_get(lot, "number"));
    m->lot_running = status && strcmp(status, "running") == 0 && jget_str(lot, "state") &&
                     strcmp(jget_str(lot, "state"), "running") == 0;
    json_t *cb = json_object_get(lot, "currentBid");
    m->has_cur = json_is_integer(cb);
    m->cur = json_integer_value(cb);
    const char *leader = jget_str(lot, "leaderId");
    m->leading = leader && strcmp(leader, users[m->user].id) == 0;
    m->view_ver++;
    json_decref(o);
    if (m->state == M_JOINING)
        member_ready(m);
    maybe_bid(m);
}

static void on_event(member_t *m, const char *type, size_t tl, const jkv_t *kv, int n, int64_t seq,
                     uint64_t now)
{
    auction_t *a = m->a;
    if (m->last_seq) {
        if (seq <= m->last_seq) { /* seen before, or out of order: either breaks "exactly once" */
            S.dups++;
            miss_detail(m, "duplicate", seq, m->last_seq);
            return;
        }
        if (seq > m->last_seq + 1) {
            S.gaps += (uint64_t)(seq - m->last_seq - 1);
            miss_detail(m, "gap", m->last_seq + 1, seq - 1);
        }
    }
    m->last_seq = seq;
    m->t_last_event = now;
    S.events++;
    int first = seq > a->applied_seq;
    if (first)
        a->applied_seq = seq;
#define TYPE_IS(lit) (tl == sizeof(lit) - 1 && memcmp(type, lit, tl) == 0)
    if (TYPE_IS("bid")) {
        int64_t lot = jint(jget(kv, n, "lot"), 0), amount = jint(jget(kv, n, "amount"), 0);
        const jkv_t *lid = jget(kv, n, "leaderId");
        member_t *leader = lid && lid->vl >= 2 ? manager_by_id(a, lid->v + 1, lid->vl - 2) : NULL;
        m->lot = lot;
        m->cur = amount;
        m->has_cur = 1;
        m->leading = leader == m;
        m->view_ver++;
        fan_t *f = fan_slot(a, seq);
        if (!f->t_send && leader && leader->bid_out && leader->bid_lot == lot &&
            leader->bid_amount == amount)
            f->t_send = leader->bid_t0;
        if (!f->seen++)
            f->t_first = now;
        f->t_last = now;
        if (nnodes > 1 && f->t_send)
            hist_add(m->node == a->node ? &S.seen_owner : &S.seen_other,
                     now > f->t_send ? now - f->t_send : 0);
        fan_check(f);
        if (first) {
            a->lot_bids++;
            a->cur = amount;
            a->has_cur = 1;
            a->leader = leader ? leader->idx : -1;
            maybe_close_lot(a);
        }
    } else if (TYPE_IS("lot_opened")) {
        const jkv_t *lot = jget(kv, n, "lot");
        jkv_t lk[12];
        int ln = lot ? jscan(lot->v, lot->vl, lk, 12) : -1;
        m->lot = ln > 0 ? jint(jget(lk, ln, "number"), 0) : m->lot + 1;
        m->has_cur = 0;
        m->leading = 0;
        m->lot_running = 1;
        m->view_ver++;
        if (first) {
            a->lot = m->lot;
            a->lot_bids = 0;
            a->lot_running = 1;
            a->has_cur = 0;
            a->leader = -1;
        }
    } else if (TYPE_IS("lot_closed")) {
        m->lot_running = 0;
        m->view_ver++;
        if (first) {
            a->lot_running = 0;
            const jkv_t *w = jget(kv, n, "winnerId");
            member_t *win = w && w->vl >= 2 ? manager_by_id(a, w->v + 1, w->vl - 2) : NULL;
            if (win) {
                a->budget[win->idx] = jint(jget(kv, n, "winnerBudgetRemaining"),
                                           a->budget[win->idx] - jint(jget(kv, n, "price"), 0));
                a->slots[win->idx]--;
            }
        }
    } else if (TYPE_IS("intermission") || TYPE_IS("paused")) {
        m->lot_running = 0;
        m->view_ver++;
    } else if (TYPE_IS("resumed")) {
        m->lot_running = m->lot > 0;
        m->view_ver++;
    } else if (TYPE_IS("auction_completed") || TYPE_IS("auction_deleted")) {
        m->lot_running = 0;
        m->view_ver++;
        if (first && !a->completed) {
            a->completed = 1;
            S.auctions_completed++;
            check_all_done();
        }
    }
#undef TYPE_IS
    if (m->manager)
        maybe_bid(m);
}

static void on_bid_result(member_t *m, const jkv_t *kv, int n, uint64_t now)
{
    const jkv_t *cid = jget(kv, n, "clientBidId");
    char id[64];
    jstr(cid, id, sizeof(id));
    const char *dot = strrchr(id, '.');
    uint32_t no = dot ? (uint32_t)strtoul(dot + 1, NULL, 10) : 0;
    if (!m->bid_out || no != m->bid_no) {
        S.stray++;
        return;
    }
    const jkv_t *acc = jget(kv, n, "accepted");
    int accepted = acc && acc->vl == 4 && memcmp(acc->v, "true", 4) == 0;
    char code[48] = "unknown";
    if (!accepted)
        jstr(jget(kv, n, "code"), code, sizeof(code));
    bid_outcome(m, accepted, jint(jget(kv, n, "seq"), 0), code, now);
    /* a rejection: bid again at once if the view moved since the bid was sent, else at the next
     * event (no hot loop on a state this client has not seen yet) */
    if (accepted || m->view_ver != m->bid_view)
        maybe_bid(m); /* accepted: bids only if its own event was seen and someone outbid it */
}

static void ws_on_open(lg_ws_t *ws, void *ud)
{
    member_t *m = ud;
    char msg[640];
    int n =
        snprintf(msg, sizeof(msg), "{\"type\":\"auth\",\"token\":\"%s\"}", users[m->user].token);
    m->state = M_AUTH;
    lg_ws_send_text(ws, msg, (size_t)n);
}

static void ws_on_text(lg_ws_t *ws, void *ud, const char *text, size_t len)
{
    (void)ws;
    member_t *m = ud;
    uint64_t now = uv_hrtime();
    jkv_t kv[24];
    int n = jscan(text, len, kv, 24);
    const jkv_t *t = n > 0 ? jget(kv, n, "type") : NULL;
    if (!t || t->vl < 2 || t->v[0] != '"') {
        S.parse_errors++;
        return;
    }
    const char *type = t->v + 1;
    size_t tl = t->vl - 2;
#define TYPE_IS(lit) (tl == sizeof(lit) - 1 && memcmp(type, lit, tl) == 0)
    if (TYPE_IS("bid_result")) {
        on_bid_result(m, kv, n, now);
    } else if (TYPE_IS("presence") || TYPE_IS("pong")) {
        /* ephemeral */
    } else if (TYPE_IS("ready")) {
        if (m->state == M_AUTH) {
            if (opt.rest_bids)
                member_ready(m);
            else
                member_send_join(m);
        }
    } else if (TYPE_IS("snapshot")) {
        on_snapshot(m, text, len);
    } else if (TYPE_IS("error")) {
        char code[48] = "unknown";
        jstr(jget(kv, n, "code"), code, sizeof(code));
        code_inc(S.errors_by, code);
        if (m->state == M_JOINING) {
            char why[64];
            snprintf(why, sizeof(why), "join: %s", code);
            member_failed(m, why);
        }
    } else {
        const jkv_t *seq = jget(kv, n, "seq");
        if (seq && m->state == M_JOINED)
            on_event(m, type, tl, kv, n, jint(seq, 0), now);
    }
#undef TYPE_IS
}

static void stop_bidding(const char *why);

static void ws_on_close(lg_ws_t *ws, void *ud, int code, const char *why)
{
    (void)ws;
    member_t *m = ud;
    char what[64];
    if (code)
        snprintf(what, sizeof(what), "close %d", code);
    else
        snprintf(what, sizeof(what), "%s", why);
    m->ws = NULL;
    open_ws--;
    m->close_code = code;
    if (m->state == M_JOINED) {
        m->a->joined--;
        if (code == 1008)
            S.ws_cut++; /* the server's output cap: cut for being slow, not a miss */
        if (!final_done) {
            m->gone_early = 1;
            if (!opt.rest_bids)
                fan_member_gone(m);
        } else if (code == 1008 && m->behind > 0) {
            /* counted behind at the end, but the server had cut it: its close frame was still
             * queued behind the backlog */
            S.behind--;
            S.behind_events -= (uint64_t)m->behind;
            S.cut_behind_events += (uint64_t)m->behind;
            m->behind = 0;
        }
        if (!shutting_down && code != 1008) {
            S.ws_dropped++;
            code_inc(S.closes_by, what);
        }
        if (m->bid_out) {
            m->bid_out = 0;
            m->a->inflight--;
            S.timeouts++;
        }
    } else if (m->state != M_FAILED && m->state != M_GONE && !shutting_down) {
        member_failed(m, what);
    }
    m->state = M_GONE;
    if (open_ws == 0 && bidding && !opt.rest_bids)
        stop_bidding("every WebSocket is closed");
}

static const lg_ws_handlers_t ws_handlers = {
    .on_open = ws_on_open,
    .on_text = ws_on_text,
    .on_close = ws_on_close,
};

/* ================================================================================================
 * Phase 5: connect; 6: begin and bid; 7: drain and shut down
 * ============================================================================================== */

static void phase_begin(void);
static void phase_ready(void);
static int connect_phase_open;
static void window_open(uint64_t now);
static void window_cb(uv_timer_t *t);

static void connect_more(void)
{
    if (shutting_down || !connect_phase_open)
        return;
    while (conn_active < opt.connect_conc && conn_next < nconn) {
        member_t *m = conn_order[conn_next++];
        m->state = M_CONNECTING;
        conn_active++;
        open_ws++;
        m->ws = lg_ws_connect(loop, &nodes[m->node].addr, nodes[m->node].host, "/ws", &ws_handlers,
                              m, opt.ws_timeout_ms);
    }
    if (conn_done == nconn) {
        connect_phase_open = 0;
        phase_step_done();
    }
}

static void phase_connect(void)
{
    setup_s[3] = secs(uv_hrtime() - t_phase);
    logf_("created %d auctions in %.2fs; connecting %d WebSockets (%d at a time)%s", opt.auctions,
          setup_s[3], nconn, opt.connect_conc, opt.rest_bids ? " (auth only: --rest-bids)" : "");
    phase_start(1, phase_ready);
    connect_phase_open = 1;
    connect_more();
}

static void stop_bidding(const char *why);

static void check_all_done(void)
{
    if (bidding && S.auctions_completed >= opt.auctions)
        stop_bidding("every auction completed");
}

static void begin_done(void *ud, int status, const char *body, size_t len)
{
    auction_t *a = ud;
    if (shutting_down)
        return;
    if (status != 200) {
        char c[32];
        snprintf(c, sizeof(c), "begin_%d", status);
        code_inc(S.http_by, c);
        logf_("begin of auction %d failed: HTTP %d %.*s", a->idx, status,
              (int)(len > 200 ? 200 : len), body);
        if (!a->completed) {
            a->completed = 1;
            S.auctions_completed++;
            check_all_done();
        }
        return;
    }
    if (opt.rest_bids) {
        json_t *o = parse_body(body, len);
        if (o)
            apply_state(a, o);
        json_decref(o);
        rest_kick(a);
    }
}

static void sweep_cb(uv_timer_t *t)
{
    (void)t;
    uint64_t now = uv_hrtime();
    for (int i = 0; i < nconn; i++) {
        member_t *m = conn_order[i];
        if (m->bid_out && !opt.rest_bids && now - m->bid_t0 > opt.bid_timeout_ms * 1000000ull) {
            m->bid_out = 0;
            m->a->inflight--;
            S.timeouts++;
        }
    }
    static uint64_t last_log, last_acc;
    if (bidding && now - last_log >= 5000000000ull) {
        double dt = last_log ? secs(now - last_log) : secs(now - t_begin);
        logf_("bidding: %llu sent, %llu accepted (%.0f/s now), %d/%d auctions completed",
              (unsigned long long)S.sent, (unsigned long long)S.accepted_window,
              (double)(S.accepted_window - last_acc) / dt, S.auctions_completed, opt.auctions);
        if (opt.verbose && S.accepted_window == last_acc)
            for (int i = 0; i < opt.auctions; i++) {
                auction_t *a = &A[i];
                fprintf(stderr,
                        "  auction %d %s: lot %lld running %d cur %lld leader %d inflight %d "
                        "completed %d lot_bids %d seq %lld joined %d\n",
                        i, a->id, (long long)a->lot, a->lot_running, (long long)a->cur, a->leader,
                        a->inflight, a->completed, a->lot_bids, (long long)a->applied_seq,
                        a->joined);
                for (int k = 0; k < a->nman; k++) {
                    member_t *m = &a->m[k];
                    fprintf(stderr,
                            "    m%d: state %d budget %lld slots %d bid_out %d lot %lld "
                            "running %d leading %d cur %lld seq %lld wait %lld\n",
                            k, m->state, (long long)a->budget[k], a->slots[k], m->bid_out,
                            (long long)m->lot, m->lot_running, m->leading, (long long)m->cur,
                            (long long)m->last_seq, (long long)m->wait_seq);
                }
            }
        last_log = now;
        last_acc = S.accepted_window;
    }
}

static void stop_cb(uv_timer_t *t)
{
    (void)t;
    stop_bidding("duration reached");
}

/* Every WebSocket joined (or failed): scrape /metrics, then begin. */
static void phase_ready(void)
{
    setup_s[4] = secs(uv_hrtime() - t_phase);
    metrics_scrape(0, phase_begin);
}

static void phase_begin(void)
{
    sample();
    srv.rss_connected_kib = opt.server_pid ? proc_rss_kib() : 0;
    logf_("%llu of %d WebSockets joined in %.2fs (%llu failed); server RSS %.1f MiB; beginning %d "
          "auctions",
          (unsigned long long)S.ws_joined, nconn, setup_s[4], (unsigned long long)S.ws_failed,
          srv.rss_connected_kib / 1024.0, opt.auctions);
    t_begin = uv_hrtime();
    bidding = 1;
    client_cpu_begin = client_cpu_s();
    if (opt.server_pid)
        proc_ticks(&srv.ticks_begin);
    pid_ticks_mark(0);
    rate_last = t_begin;
    uv_timer_start(&sweep_timer, sweep_cb, 1000, 1000);
    if (opt.strategy == STRAT_RATE)
        uv_timer_start(&tick_timer, rate_tick, 2, 2);
    else if (opt.user_rate > 0)
        uv_timer_start(&tick_timer, deferred_tick, 1, 1);
    if (opt.duration_s > 0)
        uv_timer_start(&stop_timer, stop_cb, (uint64_t)(opt.duration_s * 1000), 0);
    if (opt.window_s > 0) {
        if (lg_hostref_start() != 0)
            logf_("warning: the host reference did not start (no hostRefMs in the windows)");
        window_open(t_begin);
        uv_timer_start(&window_timer, window_cb, (uint64_t)(opt.window_s * 1000),
                       (uint64_t)(opt.window_s * 1000));
    }
    for (int i = 0; i < opt.auctions; i++) {
        char path[128];
        snprintf(path, sizeof(path), "/api/auctions/%s/begin", A[i].id);
        lg_pool_request(pools[A[i].node], "POST", path, users[A[i].m[0].user].token, NULL,
                        begin_done, &A[i]);
    }
}

/* Nothing in flight: every bid answered, every REST call (close-lot) answered, every open joined
 * connection at the newest seq any connection of its room has seen. */
static int settled(void)
{
    for (int i = 0; i < opt.auctions; i++)
        if (A[i].inflight > 0)
            return 0;
    for (int k = 0; k < nnodes; k++)
        if (pools[k] && lg_pool_pending(pools[k]) > 0)
            return 0;
    if (opt.rest_bids)
        return 1;
    for (int i = 0; i < nconn; i++) {
        member_t *m = conn_order[i];
        if (m->state == M_JOINED && m->ws && m->last_seq < m->a->applied_seq)
            return 0;
    }
    return 1;
}

/* Every open joined connection has reached the seq the server reported for its auction. */
static int caught_up(void)
{
    for (int i = 0; i < nconn; i++) {
        member_t *m = conn_order[i];
        if (m->state == M_JOINED && m->ws && m->last_seq < m->a->server_seq)
            return 0;
    }
    return 1;
}

/* What the old rule (count at 3 s after the stop whatever is still in flight) would have called
 * missed: connections behind plus fan-outs not complete. */
static uint64_t old_rule_count(void)
{
    uint64_t n = 0;
    for (int i = 0; i < nconn; i++) {
        member_t *m = conn_order[i];
        if (m->state == M_JOINED && m->ws && m->last_seq < m->a->applied_seq)
            n++;
    }
    for (int i = 0; i < opt.auctions; i++)
        for (int k = 0; k < ring_size; k++)
            if (A[i].ring[k].used && !A[i].ring[k].done && A[i].ring[k].t_send)
                n++;
    return n;
}

/* The final accounting: an open joined connection behind its auction's seq missed those events
 * (the server did not send them); a connection the server cut (1008) or that dropped is not
 * counted here but apart. */
static void final_accounting(void)
{
    final_done = 1;
    if (opt.rest_bids)
        return;
    for (int i = 0; i < nconn; i++) {
        member_t *m = conn_order[i];
        auction_t *a = m->a;
        int64_t bar = a->server_seq > a->applied_seq ? a->server_seq : a->applied_seq;
        if (m->state == M_JOINED && m->ws && m->last_seq < bar) {
            m->behind = bar - m->last_seq;
            S.behind++;
            S.behind_events += (uint64_t)m->behind;
            miss_detail(m, "behind", m->last_seq + 1, bar);
        } else if (m->gone_early && m->close_code == 1008 && m->last_seq < bar) {
            S.cut_behind_events += (uint64_t)(bar - m->last_seq);
        }
    }
    for (int i = 0; i < opt.auctions; i++)
        for (int k = 0; k < ring_size; k++)
            if (A[i].ring[k].used && !A[i].ring[k].done) {
                if (A[i].ring[k].t_send)
                    S.fan_incomplete++;
                else
                    S.fan_unmatched++;
            }
}

static void seq_answer(void *ud, int status, const char *body, size_t len)
{
    auction_t *a = ud;
    if (status == 200) {
        jkv_t kv[24];
        int n = jscan(body, len, kv, 24);
        a->server_seq = n > 0 ? jint(jget(kv, n, "seq"), 0) : 0;
    } else {
        drain_seq_errors++;
    }
    if (--drain_seq_pending == 0 && drain_state == DRAIN_SEQ) {
        drain_state = DRAIN_CATCHUP;
        t_drain_phase = uv_hrtime();
    }
}

/* The run is over: scrape /metrics once more (the bidding phase's deltas), then close. */
static void drain_finish(void)
{
    drain_state = DRAIN_DONE;
    uv_timer_stop(&drain_timer);
    metrics_scrape(1, shutdown_all);
}

static void drain_cb(uv_timer_t *t)
{
    (void)t;
    uint64_t now = uv_hrtime();
    if (drain_state == DRAIN_NONE) { /* stop_bidding sets it; never wait forever */
        drain_state = DRAIN_SETTLE;
        t_drain_phase = t_stop ? t_stop : now;
    }
    double in_phase = secs(now - t_drain_phase);
    static int old_rule_seen;
    if (!old_rule_seen && secs(now - t_stop) >= 3) {
        old_rule_seen = 1;
        if (drain_state == DRAIN_SETTLE) /* the old rule stopped waiting here */
            S.old_deadline_behind = old_rule_count();
    }
    if (drain_state == DRAIN_SETTLE) {
        int ok = settled();
        if (!ok && in_phase < opt.drain_s)
            return;
        drain_settled = ok;
        drain_settle_s = in_phase;
        if (!ok)
            logf_("not settled %.1fs after the stop (answers or events still in flight)", in_phase);
        if (opt.rest_bids) {
            final_accounting();
            drain_finish();
            return;
        }
        /* ask the server where every auction is: the events up to there must reach everyone */
        drain_state = DRAIN_SEQ;
        t_drain_phase = now;
        drain_seq_pending = opt.auctions;
        for (int i = 0; i < opt.auctions; i++) {
            char path[128];
            snprintf(path, sizeof(path), "/api/auctions/%s", A[i].id);
            lg_pool_request(pools[A[i].node], "GET", path, users[A[i].m[0].user].token, NULL,
                            seq_answer, &A[i]);
        }
        return;
    }
    if (drain_state == DRAIN_SEQ) {
        if (in_phase >= opt.drain_s + 30) { /* the pool times out at 30 s anyway */
            drain_state = DRAIN_CATCHUP;
            t_drain_phase = now;
        }
        return;
    }
    if (drain_state == DRAIN_CATCHUP) {
        int ok = caught_up();
        if (!ok && in_phase < opt.drain_s)
            return;
        drain_caught_up = ok;
        drain_catchup_s = in_phase;
        drain_state = DRAIN_DONE;
        final_accounting();
        logf_("drained (settled %s in %.2fs, caught up %s in %.2fs); closing",
              drain_settled ? "yes" : "NO", drain_settle_s, ok ? "yes" : "NO", in_phase);
        drain_finish();
    }
}

/* --window-s: closes the current window and opens the next one. */
static void window_open(uint64_t now)
{
    if (nwins == cap_wins) {
        cap_wins = cap_wins ? cap_wins * 2 : 64;
        wins = realloc(wins, (size_t)cap_wins * sizeof(*wins));
        if (!wins)
            abort();
    }
    win_t *w = &wins[nwins++];
    memset(w, 0, sizeof(*w));
    w->t0 = secs(now - t_begin);
    w->t0_ns = now;
    w->rtt_lo = S.rtt.n;
    w->fan_lo = S.fan.n;
    w->accepted = S.accepted_window;
    w->sent = S.sent;
    w->timeouts = S.timeouts;
    if (opt.server_pid)
        proc_ticks(&w->ticks0);
    w->cli0 = client_cpu_s();
    w->disk_ok = lg_disk_writes(&w->disk_w0, &w->disk_ms0) == 0;
}

static void window_close(uint64_t now)
{
    if (!nwins)
        return;
    win_t *w = &wins[nwins - 1];
    w->t1 = secs(now - t_begin);
    w->t1_ns = now;
    w->rtt_hi = S.rtt.n;
    w->fan_hi = S.fan.n;
    w->accepted = S.accepted_window - w->accepted;
    w->sent = S.sent - w->sent;
    w->timeouts = S.timeouts - w->timeouts;
    if (opt.server_pid)
        proc_ticks(&w->ticks1);
    w->cli1 = client_cpu_s();
    w->disk_ok = w->disk_ok && lg_disk_writes(&w->disk_w1, &w->disk_ms1) == 0;
}

static void window_cb(uv_timer_t *t)
{
    (void)t;
    if (!bidding)
        return;
    uint64_t now = uv_hrtime();
    window_close(now);
    window_open(now);
    win_t *w = &wins[nwins - 2];
    logf_("window %d: %.0f accepted/s, server RSS %.1f MiB", nwins - 1,
          (double)w->accepted / (w->t1 - w->t0 > 0 ? w->t1 - w->t0 : 1),
          w->rss_n ? w->rss_sum_kib / w->rss_n / 1024.0 : 0.0);
}

static void stop_bidding(const char *why)
{
    if (!bidding)
        return;
    bidding = 0;
    t_stop = uv_hrtime();
    client_cpu_stop = client_cpu_s();
    if (opt.server_pid) {
        proc_ticks(&srv.ticks_stop);
        srv.rss_end_kib = proc_rss_kib();
        if (srv.rss_end_kib > srv.rss_peak_kib)
            srv.rss_peak_kib = srv.rss_end_kib;
    }
    pid_ticks_mark(1);
    logf_("stopped bidding after %.2fs (%s): %llu accepted", secs(t_stop - t_begin), why,
          (unsigned long long)S.accepted_window);
    uv_timer_stop(&tick_timer);
    uv_timer_stop(&window_timer);
    window_close(t_stop);
    lg_hostref_stop();
    for (int i = 0; i < nconn; i++)
        if (conn_order[i]->slow && conn_order[i]->ws)
            lg_ws_pause(conn_order[i]->ws, 0); /* read the backlog, then the close if cut */
    drain_state = DRAIN_SETTLE;
    t_drain_phase = t_stop;
    uv_timer_start(&drain_timer, drain_cb, 20, 20);
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void shutdown_all(void)
{
    if (shutting_down)
        return;
    shutting_down = 1;
    lg_hostref_stop();
    bidding = 0;
    connect_phase_open = 0;
    uv_timer_t *timers[] = {&tick_timer,  &sample_timer, &stop_timer, &drain_timer,
                            &sweep_timer, &window_timer, &storm_timer};
    for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++)
        uv_close((uv_handle_t *)timers[i], NULL);
    uv_close((uv_handle_t *)&sigint_h, NULL);
    for (int i = 0; i < nconn; i++)
        if (conn_order[i]->think) {
            uv_close((uv_handle_t *)conn_order[i]->think, free_handle);
            conn_order[i]->think = NULL;
        }
    storm_close_all();
    for (int i = 0; i < nconn; i++)
        if (conn_order[i]->ws)
            lg_ws_close(conn_order[i]->ws, 1000, 2000);
    for (int k = 0; k < nnodes; k++) {
        if (pools[k])
            lg_pool_free(pools[k]);
        pools[k] = NULL;
    }
}

/* ================================================================================================
 * Report
 * ============================================================================================== */

static json_t *urls_json(void)
{
    json_t *a = json_array();
    for (int k = 0; k < nnodes; k++)
        json_array_append_new(a, json_string(nodes[k].url));
    return a;
}

/* Several --server-pid: the server's figures above are their sums; each one's own here. */
static void server_pids_json(json_t *server, double window)
{
    if (npids < 2)
        return;
    json_t *pids = json_array(), *by = json_array();
    for (int i = 0; i < npids; i++) {
        uint64_t d = pid_ticks[1][i] >= pid_ticks[0][i] ? pid_ticks[1][i] - pid_ticks[0][i] : 0;
        double cpu = window > 0 && pid_ticks[0][i]
                         ? (double)d / (double)sysconf(_SC_CLK_TCK) / window * 100
                         : 0;
        json_array_append_new(pids, json_integer(server_pids[i]));
        json_array_append_new(by, json_pack("{s:i, s:f, s:f}", "pid", server_pids[i], "cpuPct", cpu,
                                            "rssMiBPeak", pid_rss_peak_kib[i] / 1024.0));
    }
    json_object_set_new(server, "pids", pids);
    json_object_set_new(server, "byPid", by);
}

static json_t *hist_json(hist_t *h)
{
    if (h->n)
        qsort(h->v, h->n, sizeof(*h->v), cmp_u32);
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)h->n, "p50",
                     hist_pct(h, 50), "p90", hist_pct(h, 90), "p99", hist_pct(h, 99), "max",
                     h->n ? h->v[h->n - 1] / 1000.0 : 0.0, "mean", hist_mean(h));
}

static const char *strategy_name(void)
{
    return opt.strategy == STRAT_RATE       ? "rate"
           : opt.strategy == STRAT_PIPELINE ? "pipeline"
           : opt.strategy == STRAT_PACED    ? "paced"
                                            : "stress";
}

/* Percentiles (ms) of the samples [lo, hi) of h, before h is sorted. */
static void slice_pct(const hist_t *h, size_t lo, size_t hi, double *p50, double *p99)
{
    *p50 = *p99 = 0;
    if (hi <= lo || hi > h->n)
        return;
    hist_t t = {.n = hi - lo, .cap = hi - lo};
    t.v = malloc(t.n * sizeof(*t.v));
    if (!t.v)
        abort();
    memcpy(t.v, h->v + lo, t.n * sizeof(*t.v));
    qsort(t.v, t.n, sizeof(*t.v), cmp_u32);
    *p50 = hist_pct(&t, 50);
    *p99 = hist_pct(&t, 99);
    free(t.v);
}

/* The host reference (its mean over windows [a, b)), the CPU each side spent per accepted bid
 * in them and the disks' writes, as fields of o: a soak's windows can be read against the
 * machine's own speed. */
static void windows_cost(json_t *o, int a, int b)
{
    double acc = 0, cli = 0, srv_s = 0, span = 0, dw = 0, dms = 0;
    int disk_ok = 1;
    for (int i = a; i < b; i++) {
        acc += (double)wins[i].accepted;
        cli += wins[i].cli1 - wins[i].cli0;
        srv_s += (double)(wins[i].ticks1 - wins[i].ticks0) / (double)sysconf(_SC_CLK_TCK);
        span += wins[i].t1 - wins[i].t0;
        disk_ok = disk_ok && wins[i].disk_ok;
        dw += (double)(wins[i].disk_w1 - wins[i].disk_w0);
        dms += (double)(wins[i].disk_ms1 - wins[i].disk_ms0);
    }
    if (disk_ok && dw > 0 && span > 0) {
        json_object_set_new(o, "diskWritesPerS", json_real(dw / span));
        json_object_set_new(o, "diskMsPerWrite", json_real(dms / dw));
    }
    lg_hostref_t h;
    if (lg_hostref_mean(wins[a].t0_ns, wins[b - 1].t1_ns, &h) > 0)
        json_object_set_new(o, "hostRefMs",
                            json_pack("{s:f, s:f, s:f, s:f, s:i}", "total",
                                      h.alu_ms + h.mem_ms + h.sys_ms, "alu", h.alu_ms, "mem",
                                      h.mem_ms, "sys", h.sys_ms, "samples", h.n));
    if (acc > 0) {
        json_object_set_new(o, "clientCpuMsPerBid", json_real(cli / acc * 1e3));
        if (opt.server_pid)
            json_object_set_new(o, "serverCpuMsPerBid", json_real(srv_s / acc * 1e3));
    }
}

/* Windows [a, b) pooled: RTT and fan-out percentiles over their samples, mean RSS. */
static json_t *windows_pooled(int a, int b)
{
    double r50, r99, f50, f99, rss = 0, anon = 0, file = 0, acc = 0;
    int n = 0;
    slice_pct(&S.rtt, wins[a].rtt_lo, wins[b - 1].rtt_hi, &r50, &r99);
    slice_pct(&S.fan, wins[a].fan_lo, wins[b - 1].fan_hi, &f50, &f99);
    for (int i = a; i < b; i++) {
        rss += wins[i].rss_sum_kib;
        anon += wins[i].anon_sum_kib;
        file += wins[i].file_sum_kib;
        n += wins[i].rss_n;
        acc += (double)wins[i].accepted;
    }
    double span = wins[b - 1].t1 - wins[a].t0;
    json_t *o = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "fromS", wins[a].t0,
                          "toS", wins[b - 1].t1, "rssMiB", n ? rss / n / 1024.0 : 0.0, "rssAnonMiB",
                          n ? anon / n / 1024.0 : 0.0, "rssFileMiB", n ? file / n / 1024.0 : 0.0,
                          "rttP50Ms", r50, "rttP99Ms", r99, "fanoutP99Ms", f99, "acceptedPerS",
                          span > 0 ? acc / span : 0.0);
    windows_cost(o, a, b);
    return o;
}

static double change_pct(json_t *first, json_t *last, const char *key)
{
    double a = json_real_value(json_object_get(first, key)),
           b = json_real_value(json_object_get(last, key));
    return a > 0 ? (b - a) / a * 100 : 0;
}

/* change_pct of the host reference's total, of each side's CPU per bid and of the disks' time
 * per write, when both spans have it. */
static void cost_changes(json_t *cmp, json_t *first, json_t *last)
{
    json_t *a = json_object_get(first, "hostRefMs"), *b = json_object_get(last, "hostRefMs");
    if (a && b)
        json_object_set_new(cmp, "hostRefChangePct", json_real(change_pct(a, b, "total")));
    const char *keys[3][2] = {{"clientCpuMsPerBid", "clientCpuPerBidChangePct"},
                              {"serverCpuMsPerBid", "serverCpuPerBidChangePct"},
                              {"diskMsPerWrite", "diskMsPerWriteChangePct"}};
    for (int i = 0; i < 3; i++)
        if (json_object_get(first, keys[i][0]) && json_object_get(last, keys[i][0]))
            json_object_set_new(cmp, keys[i][1], json_real(change_pct(first, last, keys[i][0])));
}

/* --window-s: every window, and the first --compare-windows complete windows against the last. */
static void windows_report(json_t *root)
{
    if (!nwins)
        return;
    json_t *arr = json_array();
    int complete = 0;
    for (int i = 0; i < nwins; i++) {
        win_t *w = &wins[i];
        double dt = w->t1 - w->t0, r50, r99, f50, f99;
        slice_pct(&S.rtt, w->rtt_lo, w->rtt_hi, &r50, &r99);
        slice_pct(&S.fan, w->fan_lo, w->fan_hi, &f50, &f99);
        double cpu = opt.server_pid && dt > 0
                         ? (double)(w->ticks1 - w->ticks0) / (double)sysconf(_SC_CLK_TCK) / dt * 100
                         : 0;
        double k = w->rss_n ? 1.0 / w->rss_n / 1024.0 : 0.0;
        json_t *o = json_pack(
            "{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I}", "fromS",
            w->t0, "toS", w->t1, "acceptedPerS", dt > 0 ? (double)w->accepted / dt : 0.0,
            "sentPerS", dt > 0 ? (double)w->sent / dt : 0.0, "rttP50Ms", r50, "rttP99Ms", r99,
            "fanoutP99Ms", f99, "rssMiB", w->rss_sum_kib * k, "rssAnonMiB", w->anon_sum_kib * k,
            "rssFileMiB", w->file_sum_kib * k, "rssMiBMax", w->rss_max_kib / 1024.0, "serverCpuPct",
            cpu, "clientCpuPct", dt > 0 ? (w->cli1 - w->cli0) / dt * 100 : 0.0, "timeouts",
            (json_int_t)w->timeouts);
        windows_cost(o, i, i + 1);
        json_array_append_new(arr, o);
        if (dt >= 0.9 * opt.window_s)
            complete = i + 1; /* windows are complete up to the partial last one */
    }
    json_object_set_new(root, "windows", arr);
    int k = opt.compare_windows;
    if (complete < 2 * k)
        k = complete / 2;
    if (k < 1)
        return;
    json_t *first = windows_pooled(0, k), *last = windows_pooled(complete - k, complete);
    json_t *cmp =
        json_pack("{s:f, s:i, s:i, s:f, s:f, s:f, s:f}", "windowS", opt.window_s, "windowsCompared",
                  k, "completeWindows", complete, "rssChangePct", change_pct(first, last, "rssMiB"),
                  "rssAnonChangePct", change_pct(first, last, "rssAnonMiB"), "rttP99ChangePct",
                  change_pct(first, last, "rttP99Ms"), "fanoutP99ChangePct",
                  change_pct(first, last, "fanoutP99Ms"));
    cost_changes(cmp, first, last);
    json_object_set_new(cmp, "first", first);
    json_object_set_new(cmp, "last", last);
    json_object_set_new(root, "soakCompare", cmp);
}

static void report(void)
{
    double window = t_stop > t_begin ? secs(t_stop - t_begin) : 0;
    json_t *root = json_object(), *wroot = json_object();
    windows_report(wroot); /* before the histograms are sorted */
    json_t *rtt = hist_json(&S.rtt), *fan = hist_json(&S.fan);
    uint64_t race = 0;
    for (int i = 0; i < NCODES && S.rejected_by[i].code[0]; i++)
        if (is_race_code(S.rejected_by[i].code))
            race += S.rejected_by[i].n;
    uint64_t invalid = S.rejected - race + S.timeouts;
    double valid_pct =
        S.accepted + invalid ? 100.0 * (double)S.accepted / (double)(S.accepted + invalid) : 0;
    double srv_cpu = 0;
    if (opt.server_pid && srv.ok && window > 0)
        srv_cpu = (double)(srv.ticks_stop - srv.ticks_begin) / (double)sysconf(_SC_CLK_TCK) /
                  window * 100;
    double cli_cpu = window > 0 ? (client_cpu_stop - client_cpu_begin) / window * 100 : 0;
    double tput = window > 0 ? (double)S.accepted_window / window : 0;
    uint64_t conn_errors = S.ws_failed + S.ws_dropped;

    json_object_set_new(root, "label", json_string(opt.label));
    json_object_set_new(
        root, "params",
        json_pack("{s:s, s:i, s:i, s:i, s:s, s:s, s:i, s:i, s:I, s:I, s:I, s:i, s:s, s:f, s:f, "
                  "s:s, s:i, s:i}",
                  "url", nodes[0].url, "auctions", opt.auctions, "managers", opt.managers,
                  "spectators", opt.spectators, "sport", opt.sport, "competition", opt.competition,
                  "rosterSize", opt.roster_size, "lotSeconds", opt.lot_seconds, "budget",
                  (json_int_t)opt.budget, "minBid", (json_int_t)opt.min_bid, "minIncrement",
                  (json_int_t)opt.min_increment, "bidsPerLot", opt.bids_per_lot, "strategy",
                  strategy_name(), "rate", opt.strategy == STRAT_RATE ? opt.rate : 0.0, "durationS",
                  opt.duration_s, "bidVia", opt.rest_bids ? "rest" : "ws", "httpConns",
                  opt.http_conns, "connectConcurrency", opt.connect_conc));
    json_t *params = json_object_get(root, "params");
    if (nnodes > 1)
        json_object_set_new(params, "urls", urls_json());
    json_object_set_new(params, "userRate", json_real(opt.user_rate));
    if (opt.strategy == STRAT_PACED) {
        json_object_set_new(params, "thinkMs", json_real(opt.think_ms));
        json_object_set_new(params, "thinkJitterMs", json_real(opt.think_jitter_ms));
        json_object_set_new(params, "seed", json_integer((json_int_t)opt.seed));
    }
    if (opt.window_s > 0)
        json_object_set_new(params, "windowS", json_real(opt.window_s));
    json_object_set_new(root, "setupS",
                        json_pack("{s:f, s:f, s:f, s:f, s:f}", "signin", setup_s[0], "leagues",
                                  setup_s[1], "joins", setup_s[2], "auctions", setup_s[3],
                                  "connect", setup_s[4]));
    json_object_set_new(root, "connections",
                        json_pack("{s:i, s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "wsTotal", nconn,
                                  "wsJoined", (json_int_t)S.ws_joined, "wsFailed",
                                  (json_int_t)S.ws_failed, "wsDropped", (json_int_t)S.ws_dropped,
                                  "wsCutSlow", (json_int_t)S.ws_cut, "failedBy",
                                  code_json(S.connfail_by), "droppedBy", code_json(S.closes_by),
                                  "httpErrors", code_json(S.http_by)));
    json_object_set_new(
        root, "bids",
        json_pack("{s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:f, s:I, s:I}", "sent",
                  (json_int_t)S.sent, "accepted", (json_int_t)S.accepted, "acceptedInWindow",
                  (json_int_t)S.accepted_window, "rejected", (json_int_t)S.rejected, "rejectedBy",
                  code_json(S.rejected_by), "rejectedByRace", (json_int_t)race, "timeouts",
                  (json_int_t)S.timeouts, "stray", (json_int_t)S.stray, "validAcceptedPct",
                  valid_pct, "lotsClosed", (json_int_t)S.lots_closed_by_us, "sendFailures",
                  (json_int_t)S.send_fail));
    json_object_set_new(root, "throughput",
                        json_pack("{s:f, s:f}", "acceptedPerS", tput, "windowS", window));
    json_object_set_new(root, "rttMs", rtt);
    if (nnodes > 1) {
        /* the auction's owner is the node it was created through (auction % nodes) */
        json_object_set_new(root, "rttDirectMs", hist_json(&S.rtt_direct));
        json_object_set_new(root, "rttForwardedMs", hist_json(&S.rtt_fwd));
        json_object_set_new(root, "deliveryMs",
                            json_pack("{s:o, s:o}", "ownerNode", hist_json(&S.seen_owner),
                                      "otherNodes", hist_json(&S.seen_other)));
    }
    json_object_set_new(fan, "incomplete", json_integer((json_int_t)S.fan_incomplete));
    json_object_set_new(fan, "unmatched", json_integer((json_int_t)S.fan_unmatched));
    json_object_set_new(fan, "overwritten", json_integer((json_int_t)S.fan_overwritten));
    json_object_set_new(root, "fanoutMs", fan);
    json_object_set_new(root, "fanoutFirstMs", hist_json(&S.fan_first));
    json_object_set_new(
        root, "events",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I}", "received",
                  (json_int_t)S.events, "missed", (json_int_t)(S.gaps + S.behind_events), "gaps",
                  (json_int_t)S.gaps, "duplicates", (json_int_t)S.dups, "connectionsBehindAtEnd",
                  (json_int_t)S.behind, "behindEventsAtEnd", (json_int_t)S.behind_events,
                  "cutSlowEventsNotReceived", (json_int_t)S.cut_behind_events, "oldRuleMissedAt3s",
                  (json_int_t)S.old_deadline_behind, "errorsBy", code_json(S.errors_by),
                  "parseErrors", (json_int_t)S.parse_errors, "framesIn",
                  (json_int_t)lg_ws_frames_in, "bytesIn", (json_int_t)lg_ws_bytes_in, "framesOut",
                  (json_int_t)lg_ws_frames_out));
    json_object_set_new(json_object_get(root, "events"), "missDetails",
                        S.miss_details ? S.miss_details : json_array());
    S.miss_details = NULL;
    json_object_set_new(root, "drain",
                        json_pack("{s:b, s:f, s:b, s:f, s:i, s:f}", "settled", drain_settled,
                                  "settleS", drain_settle_s, "caughtUp", drain_caught_up,
                                  "catchUpS", drain_catchup_s, "seqErrors", drain_seq_errors,
                                  "limitS", opt.drain_s));
    json_object_set_new(root, "auctionsCompleted", json_integer(S.auctions_completed));
    json_object_set_new(root, "server",
                        json_pack("{s:i, s:f, s:f, s:f, s:f, s:f}", "pid", opt.server_pid, "cpuPct",
                                  srv_cpu, "cpuPctMax1s", srv.cpu_max, "rssMiBPeak",
                                  srv.rss_peak_kib / 1024.0, "rssMiBConnected",
                                  srv.rss_connected_kib / 1024.0, "rssMiBEnd",
                                  srv.rss_end_kib / 1024.0));
    server_pids_json(json_object_get(root, "server"), window);
    json_object_set_new(root, "client", json_pack("{s:f}", "cpuPct", cli_cpu));
    json_object_set_new(root, "bidding", phase_metrics_json("bidding", &pm_snap[0], &pm_snap[1]));
    if (nnodes > 1)
        json_object_set_new(root, "biddingByNode", phase_metrics_by_node("bidding"));
    json_object_set_new(root, "exitCode", json_integer(exit_code));
    json_object_update(root, wroot);
    json_decref(wroot);

    if (opt.json_path[0]) {
        if (json_dump_file(root, opt.json_path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
            fprintf(stderr, "gavel-load: cannot write %s\n", opt.json_path);
    }
    if (opt.md_header) {
        printf(
            "| scenario | rooms × managers (+ spectators) | WS joined | bids sent | accepted | "
            "accepted/s | valid accepted | RTT p50 / p99 / max ms | fan-out p50 / p99 / max ms | "
            "missed | cut (1008) | conn errors | server CPU | server RSS peak |\n");
        printf(
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
            "---: | ---: |\n");
    }
    json_t *r = json_object_get(root, "rttMs"), *f = json_object_get(root, "fanoutMs");
    char rooms[64];
    if (opt.spectators)
        snprintf(rooms, sizeof(rooms), "%d × %d + %d", opt.auctions, opt.managers, opt.spectators);
    else
        snprintf(rooms, sizeof(rooms), "%d × %d", opt.auctions, opt.managers);
#define P(o, k) json_real_value(json_object_get(o, k))
    printf("| %s | %s | %llu/%d | %llu | %llu | %.0f | %.2f %% | %.3f / %.3f / %.3f | "
           "%.3f / %.3f / %.3f | %llu | %llu | %llu | %.0f %% | %.1f MiB |\n",
           opt.label, rooms, (unsigned long long)S.ws_joined, nconn, (unsigned long long)S.sent,
           (unsigned long long)S.accepted, tput, valid_pct, P(r, "p50"), P(r, "p99"), P(r, "max"),
           P(f, "p50"), P(f, "p99"), P(f, "max"),
           (unsigned long long)(S.gaps + S.behind_events + S.dups), (unsigned long long)S.ws_cut,
           (unsigned long long)conn_errors, srv_cpu, srv.rss_peak_kib / 1024.0);
#undef P
    json_decref(root);
}

/* ================================================================================================
 * Sign-in storm (--signin-storm N): N users, started evenly over --storm-seconds, each through
 * POST /api/auth/magic-link (devToken) -> POST /api/auth/verify -> WebSocket connect -> auth ->
 * ready. Every user has its own HTTP connection (a pool of N: a request never waits for another
 * user's), so the steps measure the server, not a queue in this tool.
 * ============================================================================================== */

enum { ST_LINK, ST_VERIFY, ST_CONNECT, ST_AUTH, ST_TOTAL, ST_N };
static const char *const storm_step_names[ST_N] = {"magicLink", "verify", "wsConnect", "wsAuth",
                                                   "total"};

typedef struct {
    int idx;
    int node; /* several --url: user i goes through node i % nodes */
    char email[80];
    char token[512];
    lg_ws_t *ws;
    int step; /* the ST_* in progress; ST_TOTAL = in; -1 = failed */
    int started;
    uint64_t t_sched, t0, t_step;
} storm_user_t;

static storm_user_t *storm;
static lg_pool_t *storm_pools[LG_MAX_NODES];
static hist_t storm_h[ST_N], storm_lag;
static code_t storm_fail_by[NCODES];
static int storm_started, storm_done, storm_in, storm_dropped, storm_closing, storm_finished;
static uint64_t storm_t0, storm_t_last_in;

static void storm_finish(void);
static void storm_go(void);

static void storm_user_failed(storm_user_t *u, const char *why)
{
    if (u->step < 0 || u->step == ST_TOTAL)
        return;
    char what[96];
    snprintf(what, sizeof(what), "%s: %s", storm_step_names[u->step], why);
    code_inc(storm_fail_by, what);
    u->step = -1;
    storm_done++;
    if (u->ws)
        lg_ws_close(u->ws, 1000, 2000);
    storm_finish();
}

static void storm_step_done(storm_user_t *u, uint64_t now)
{
    hist_add(&storm_h[u->step], now - u->t_step);
    u->step++;
    u->t_step = now;
}

static void storm_ws_open(lg_ws_t *ws, void *ud)
{
    storm_user_t *u = ud;
    storm_step_done(u, uv_hrtime());
    char msg[640];
    int n = snprintf(msg, sizeof(msg), "{\"type\":\"auth\",\"token\":\"%s\"}", u->token);
    lg_ws_send_text(ws, msg, (size_t)n);
}

static void storm_ws_text(lg_ws_t *ws, void *ud, const char *text, size_t len)
{
    (void)ws;
    storm_user_t *u = ud;
    uint64_t now = uv_hrtime();
    if (u->step != ST_AUTH)
        return;
    jkv_t kv[16];
    int n = jscan(text, len, kv, 16);
    char type[32] = "", code[48] = "unknown";
    jstr(n > 0 ? jget(kv, n, "type") : NULL, type, sizeof(type));
    if (strcmp(type, "ready") == 0) {
        storm_step_done(u, now); /* -> ST_TOTAL */
        hist_add(&storm_h[ST_TOTAL], now - u->t0);
        storm_in++;
        storm_done++;
        storm_t_last_in = now;
        storm_finish();
    } else if (strcmp(type, "error") == 0) {
        jstr(jget(kv, n, "code"), code, sizeof(code));
        storm_user_failed(u, code);
    }
}

static void storm_ws_close(lg_ws_t *ws, void *ud, int code, const char *why)
{
    (void)ws;
    storm_user_t *u = ud;
    u->ws = NULL;
    if (u->step == ST_TOTAL) {
        if (!storm_closing)
            storm_dropped++;
        return;
    }
    char what[64];
    if (code)
        snprintf(what, sizeof(what), "close %d", code);
    else
        snprintf(what, sizeof(what), "%s", why);
    storm_user_failed(u, what);
}

static const lg_ws_handlers_t storm_ws_handlers = {
    .on_open = storm_ws_open,
    .on_text = storm_ws_text,
    .on_close = storm_ws_close,
};

static void storm_verified(void *ud, int status, const char *body, size_t len)
{
    storm_user_t *u = ud;
    uint64_t now = uv_hrtime();
    if (u->step != ST_VERIFY)
        return;
    json_t *o = status == 200 ? parse_body(body, len) : NULL;
    const char *tok = jget_str(o, "accessToken");
    if (!tok || strlen(tok) >= sizeof(u->token)) {
        json_decref(o);
        char why[32];
        snprintf(why, sizeof(why), "HTTP %d", status);
        storm_user_failed(u, why);
        return;
    }
    snprintf(u->token, sizeof(u->token), "%s", tok);
    json_decref(o);
    storm_step_done(u, now);
    u->ws = lg_ws_connect(loop, &nodes[u->node].addr, nodes[u->node].host, "/ws",
                          &storm_ws_handlers, u, opt.ws_timeout_ms);
}

static void storm_linked(void *ud, int status, const char *body, size_t len)
{
    storm_user_t *u = ud;
    uint64_t now = uv_hrtime();
    if (u->step != ST_LINK)
        return;
    json_t *o = status == 202 ? parse_body(body, len) : NULL;
    const char *dev = jget_str(o, "devToken");
    if (!dev) {
        json_decref(o);
        char why[48];
        snprintf(why, sizeof(why), status == 202 ? "no devToken (--dev?)" : "HTTP %d", status);
        storm_user_failed(u, why);
        return;
    }
    char req[512];
    snprintf(req, sizeof(req), "{\"email\":\"%s\",\"token\":\"%s\"}", u->email, dev);
    json_decref(o);
    storm_step_done(u, now);
    lg_pool_request(storm_pools[u->node], "POST", "/api/auth/verify", NULL, req, storm_verified, u);
}

static void storm_start_user(storm_user_t *u, uint64_t now)
{
    u->started = 1;
    u->t0 = u->t_step = now;
    u->step = ST_LINK;
    hist_add(&storm_lag, now > u->t_sched ? now - u->t_sched : 0);
    char req[160];
    snprintf(req, sizeof(req), "{\"email\":\"%s\"}", u->email);
    lg_pool_request(storm_pools[u->node], "POST", "/api/auth/magic-link", NULL, req, storm_linked,
                    u);
}

/* 1 ms tick: starts every user whose time has come; gives up on the stragglers at the end. */
static void storm_tick(uv_timer_t *t)
{
    (void)t;
    uint64_t now = uv_hrtime();
    while (storm_started < opt.storm_users && storm[storm_started].t_sched <= now)
        storm_start_user(&storm[storm_started++], now);
    if (storm_started == opt.storm_users &&
        secs(now - storm_t0) > opt.storm_s + (double)opt.ws_timeout_ms / 1000 + 30)
        for (int i = 0; i < opt.storm_users; i++)
            storm_user_failed(&storm[i], "no answer");
}

static void storm_finish(void)
{
    if (storm_done < opt.storm_users || shutting_down || storm_finished)
        return;
    storm_finished = 1;
    uv_timer_stop(&storm_timer);
    t_stop = uv_hrtime();
    client_cpu_stop = client_cpu_s();
    if (opt.server_pid) {
        proc_ticks(&srv.ticks_stop);
        srv.rss_end_kib = proc_rss_kib();
        if (srv.rss_end_kib > srv.rss_peak_kib)
            srv.rss_peak_kib = srv.rss_end_kib;
    }
    pid_ticks_mark(1);
    logf_("sign-in storm: %d of %d users in after %.2fs", storm_in, opt.storm_users,
          secs(t_stop - storm_t0));
    metrics_scrape(1, shutdown_all); /* the storm's deltas; every socket still open */
}

static void storm_close_all(void)
{
    storm_closing = 1;
    for (int i = 0; storm && i < opt.storm_users; i++)
        if (storm[i].ws)
            lg_ws_close(storm[i].ws, 1000, 2000);
    for (int k = 0; k < nnodes; k++) {
        if (storm_pools[k])
            lg_pool_free(storm_pools[k]);
        storm_pools[k] = NULL;
    }
}

static void phase_storm(void)
{
    storm = calloc((size_t)opt.storm_users, sizeof(*storm));
    if (!storm)
        abort();
    for (int k = 0; k < nnodes; k++) /* a connection per user */
        storm_pools[k] = lg_pool_new(loop, &nodes[k].addr, nodes[k].host,
                                     (opt.storm_users + nnodes - 1) / nnodes, opt.http_timeout_ms);
    for (int i = 0; i < opt.storm_users; i++) {
        storm[i].idx = i;
        storm[i].node = i % nnodes;
        snprintf(storm[i].email, sizeof(storm[i].email), "%s-storm-%d@load.test", opt.prefix, i);
    }
    metrics_scrape(0, storm_go); /* before the first user starts */
}

static void storm_go(void)
{
    storm_t0 = t_begin = uv_hrtime() + 50000000ull; /* the first user 50 ms from now */
    double gap = opt.storm_users > 1 ? opt.storm_s / opt.storm_users : 0;
    for (int i = 0; i < opt.storm_users; i++)
        storm[i].t_sched = storm_t0 + (uint64_t)(gap * i * 1e9);
    logf_("sign-in storm: %d users over %.1fs (one every %.1f ms), each with its own connection",
          opt.storm_users, opt.storm_s, gap * 1000);
    client_cpu_begin = client_cpu_s();
    if (opt.server_pid)
        proc_ticks(&srv.ticks_begin);
    pid_ticks_mark(0);
    uv_timer_start(&storm_timer, storm_tick, 1, 1);
}

static void storm_report(void)
{
    double window = t_stop > storm_t0 ? secs(t_stop - storm_t0) : 0;
    double srv_cpu = 0;
    if (opt.server_pid && srv.ok && window > 0)
        srv_cpu = (double)(srv.ticks_stop - srv.ticks_begin) / (double)sysconf(_SC_CLK_TCK) /
                  window * 100;
    double cli_cpu = window > 0 ? (client_cpu_stop - client_cpu_begin) / window * 100 : 0;
    json_t *steps = json_object();
    double worst_p99 = 0;
    const char *worst = "";
    for (int k = 0; k < ST_N; k++) {
        json_t *h = hist_json(&storm_h[k]);
        double p99 = json_real_value(json_object_get(h, "p99"));
        if (k != ST_TOTAL && p99 >= worst_p99) {
            worst_p99 = p99;
            worst = storm_step_names[k];
        }
        json_object_set_new(steps, storm_step_names[k], h);
    }
    json_t *root = json_object();
    json_object_set_new(root, "label", json_string(opt.label));
    json_object_set_new(root, "mode", json_string("signin-storm"));
    json_object_set_new(root, "params",
                        json_pack("{s:s, s:i, s:f}", "url", nodes[0].url, "users", opt.storm_users,
                                  "seconds", opt.storm_s));
    if (nnodes > 1)
        json_object_set_new(json_object_get(root, "params"), "urls", urls_json());
    json_object_set_new(
        root, "storm",
        json_pack("{s:i, s:i, s:i, s:i, s:o, s:o, s:f, s:s, s:o, s:f, s:f}", "users",
                  opt.storm_users, "started", storm_started, "in", storm_in, "droppedAfterIn",
                  storm_dropped, "failedBy", code_json(storm_fail_by), "stepsMs", steps,
                  "worstStepP99Ms", worst_p99, "worstStep", worst, "startLagMs",
                  hist_json(&storm_lag), "lastInAfterS",
                  storm_t_last_in > storm_t0 ? secs(storm_t_last_in - storm_t0) : 0.0, "windowS",
                  window));
    json_object_set_new(root, "server",
                        json_pack("{s:i, s:f, s:f, s:f}", "pid", opt.server_pid, "cpuPct", srv_cpu,
                                  "rssMiBPeak", srv.rss_peak_kib / 1024.0, "rssMiBEnd",
                                  srv.rss_end_kib / 1024.0));
    server_pids_json(json_object_get(root, "server"), window);
    json_object_set_new(root, "client", json_pack("{s:f}", "cpuPct", cli_cpu));
    json_object_set_new(root, "duringStorm",
                        phase_metrics_json("sign-in storm", &pm_snap[0], &pm_snap[1]));
    if (nnodes > 1)
        json_object_set_new(root, "duringStormByNode", phase_metrics_by_node("sign-in storm"));
    json_object_set_new(root, "exitCode", json_integer(exit_code));
    if (opt.json_path[0] &&
        json_dump_file(root, opt.json_path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
        fprintf(stderr, "gavel-load: cannot write %s\n", opt.json_path);
    if (opt.md_header) {
        printf("| scenario | users over s | in | magic link p50 / p99 ms | verify p50 / p99 ms | "
               "WS connect p50 / p99 ms | auth → ready p50 / p99 ms | total p99 / max ms | "
               "server CPU |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    }
    json_t *st = json_object_get(json_object_get(root, "storm"), "stepsMs");
#define SP(k, q) json_real_value(json_object_get(json_object_get(st, storm_step_names[k]), q))
    printf("| %s | %d over %.0f s | %d | %.3f / %.3f | %.3f / %.3f | %.3f / %.3f | %.3f / %.3f | "
           "%.3f / %.3f | %.0f %% |\n",
           opt.label, opt.storm_users, opt.storm_s, storm_in, SP(ST_LINK, "p50"),
           SP(ST_LINK, "p99"), SP(ST_VERIFY, "p50"), SP(ST_VERIFY, "p99"), SP(ST_CONNECT, "p50"),
           SP(ST_CONNECT, "p99"), SP(ST_AUTH, "p50"), SP(ST_AUTH, "p99"), SP(ST_TOTAL, "p99"),
           SP(ST_TOTAL, "max"), srv_cpu);
#undef SP
    json_decref(root);
    for (int k = 0; k < ST_N; k++)
        free(storm_h[k].v);
    free(storm_lag.v);
    free(storm);
}

/* ================================================================================================
 * main
 * ============================================================================================== */

static void on_sigint(uv_signal_t *h, int sig)
{
    (void)h;
    (void)sig;
    if (bidding)
        stop_bidding("interrupted");
    else if (!shutting_down)
        fail("interrupted");
    else
        exit(130);
}

static void usage(FILE *f)
{
    fprintf(
        f, "usage: gavel-load --url http://127.0.0.1:PORT [--url ...] [options]\n"
           "  --url URL               a node; up to 8 --url for a cluster (node 0 is the first):\n"
           "                          setup goes through node 0, auction a is created, begun and\n"
           "                          closed through node a %% N, and its member m connects and\n"
           "                          bids through node (a + m) %% N\n"
           "  --server-pid PID        sample the server's CPU and RSS from /proc; once per node\n"
           "                          for a cluster (CPU and RSS are then the sums)\n"
           "  --auctions M            leagues and auctions (20)\n"
           "  --managers N            managers per auction, commissioner included (8)\n"
           "  --spectators S          spectators per auction, joined by the watch code (0)\n"
           "  --sport S --competition C   (football, EPL-2025)\n"
           "  --roster-size R --lot-seconds T --budget B --min-bid B --min-increment I\n"
           "                          league settings (2, 60, 1e12, 1, 1)\n"
           "  --bids-per-lot K        the commissioner closes a lot after K accepted bids (20;\n"
           "                          0 = lots close by their clock)\n"
           "  --strategy stress|rate|pipeline|paced\n"
           "                          stress: every manager bids current+minIncrement as soon as\n"
           "                          it is not leading; rate: --rate bids/s overall, round-robin\n"
           "                          over the auctions, one bid in flight per auction; pipeline:\n"
           "                          like stress, but each bid tops the highest bid in flight;\n"
           "                          paced: once outbid (or a lot opens and it does not lead),\n"
           "                          a manager thinks --think-ms, then bids the minimum\n"
           "  --think-ms T --think-jitter-ms J\n"
           "                          paced: think T +- J ms, uniform (1000, 200)\n"
           "  --seed N                the PRNG of the think times (1)\n"
           "  --rate R                bids/s overall for --strategy rate (1000)\n"
           "  --user-rate R           stress/pipeline: at most R bids/s per manager (0 = no cap;\n"
           "                          20 is the API's default per-user limit)\n"
           "  --duration S            stop bidding after S seconds (0 = when every auction\n"
           "                          completed)\n"
           "  --http-conns P          keep-alive HTTP connections for setup (16)\n"
           "  --connect-concurrency C WebSocket handshakes in flight (256)\n"
           "  --rest-bids             bid over REST instead of the WebSocket (no fan-out)\n"
           "  --window-s W            record RTT, fan-out, RSS and CPU per W s window and\n"
           "                          compare the first --compare-windows K windows with the\n"
           "                          last K (5)\n"
           "  --drain-seconds S       at the end, wait up to S s for answers and events in\n"
           "                          flight, then up to S s for every open connection to reach\n"
           "                          the seq the server reports (10)\n"
           "  --slow-readers N        test the accounting: the last member of each of the first\n"
           "                          N auctions stops reading once joined (and never bids)\n"
           "                          until the bidding stops (with a small\n"
           "                          --ws-max-output-bytes on the server, it is cut with 1008)\n"
           "  --signin-storm N        instead of an auction: N users through magic link, verify,\n"
           "                          WebSocket connect and auth -> ready, started evenly over\n"
           "                          --storm-seconds S (10), each step timed\n"
           "  --json FILE             write every measurement as JSON\n"
           "  --label NAME            the scenario's name in the table row (run)\n"
           "  --email-prefix P        users are P-<n>@load.test (a fresh prefix per run)\n"
           "  --md-header             print the markdown table header before the row\n");
}

static int parse_url(const char *url, node_t *node)
{
    char host[128];
    int port = 0;
    if (sscanf(url, "http://%127[^:/]:%d", host, &port) != 2 || port <= 0 || port > 65535)
        return -1;
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    if (uv_ip4_addr(host, port, &node->addr) != 0)
        return -1;
    snprintf(node->host, sizeof(node->host), "%s:%d", host, port);
    snprintf(node->url, sizeof(node->url), "%s", url);
    return 0;
}

static int parse_args(int argc, char **argv)
{
    enum {
        O_URL = 256,
        O_PID,
        O_AUC,
        O_MAN,
        O_SPEC,
        O_SPORT,
        O_COMP,
        O_ROSTER,
        O_LOTS,
        O_BUDGET,
        O_MINBID,
        O_MININC,
        O_BPL,
        O_STRAT,
        O_RATE,
        O_DUR,
        O_HTTPC,
        O_CONC,
        O_REST,
        O_JSON,
        O_LABEL,
        O_PREFIX,
        O_MDH,
        O_HELP,
        O_VERBOSE,
        O_URATE,
        O_THINK,
        O_JITTER,
        O_SEED,
        O_WIN,
        O_CMPW,
        O_STORM,
        O_STORMS,
        O_DRAIN,
        O_SLOW
    };
    static const struct option lo[] = {{"url", 1, 0, O_URL},
                                       {"server-pid", 1, 0, O_PID},
                                       {"auctions", 1, 0, O_AUC},
                                       {"managers", 1, 0, O_MAN},
                                       {"spectators", 1, 0, O_SPEC},
                                       {"sport", 1, 0, O_SPORT},
                                       {"competition", 1, 0, O_COMP},
                                       {"roster-size", 1, 0, O_ROSTER},
                                       {"lot-seconds", 1, 0, O_LOTS},
                                       {"budget", 1, 0, O_BUDGET},
                                       {"min-bid", 1, 0, O_MINBID},
                                       {"min-increment", 1, 0, O_MININC},
                                       {"bids-per-lot", 1, 0, O_BPL},
                                       {"strategy", 1, 0, O_STRAT},
                                       {"rate", 1, 0, O_RATE},
                                       {"duration", 1, 0, O_DUR},
                                       {"http-conns", 1, 0, O_HTTPC},
                                       {"connect-concurrency", 1, 0, O_CONC},
                                       {"rest-bids", 0, 0, O_REST},
                                       {"json", 1, 0, O_JSON},
                                       {"label", 1, 0, O_LABEL},
                                       {"email-prefix", 1, 0, O_PREFIX},
                                       {"md-header", 0, 0, O_MDH},
                                       {"help", 0, 0, O_HELP},
                                       {"verbose", 0, 0, O_VERBOSE},
                                       {"user-rate", 1, 0, O_URATE},
                                       {"think-ms", 1, 0, O_THINK},
                                       {"think-jitter-ms", 1, 0, O_JITTER},
                                       {"seed", 1, 0, O_SEED},
                                       {"window-s", 1, 0, O_WIN},
                                       {"compare-windows", 1, 0, O_CMPW},
                                       {"signin-storm", 1, 0, O_STORM},
                                       {"storm-seconds", 1, 0, O_STORMS},
                                       {"drain-seconds", 1, 0, O_DRAIN},
                                       {"slow-readers", 1, 0, O_SLOW},
                                       {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_URL:
            if (nnodes == LG_MAX_NODES) {
                fprintf(stderr, "gavel-load: at most %d --url\n", LG_MAX_NODES);
                return -1;
            }
            if (parse_url(optarg, &nodes[nnodes]) != 0) {
                fprintf(stderr, "gavel-load: --url must be http://HOST:PORT (IPv4)\n");
                return -1;
            }
            nnodes++;
            break;
        case O_PID:
            if (npids == LG_MAX_NODES) {
                fprintf(stderr, "gavel-load: at most %d --server-pid\n", LG_MAX_NODES);
                return -1;
            }
            server_pids[npids] = atoi(optarg);
            if (server_pids[npids] <= 0) {
                fprintf(stderr, "gavel-load: --server-pid must be a process id\n");
                return -1;
            }
            if (!npids)
                opt.server_pid = server_pids[0];
            npids++;
            break;
        case O_AUC:
            opt.auctions = atoi(optarg);
            break;
        case O_MAN:
            opt.managers = atoi(optarg);
            break;
        case O_SPEC:
            opt.spectators = atoi(optarg);
            break;
        case O_SPORT:
            snprintf(opt.sport, sizeof(opt.sport), "%s", optarg);
            break;
        case O_COMP:
            snprintf(opt.competition, sizeof(opt.competition), "%s", optarg);
            break;
        case O_ROSTER:
            opt.roster_size = atoi(optarg);
            break;
        case O_LOTS:
            opt.lot_seconds = atoi(optarg);
            break;
        case O_BUDGET:
            opt.budget = strtoll(optarg, NULL, 10);
            break;
        case O_MINBID:
            opt.min_bid = strtoll(optarg, NULL, 10);
            break;
        case O_MININC:
            opt.min_increment = strtoll(optarg, NULL, 10);
            break;
        case O_BPL:
            opt.bids_per_lot = atoi(optarg);
            break;
        case O_STRAT:
            if (strcmp(optarg, "stress") == 0)
                opt.strategy = STRAT_STRESS;
            else if (strcmp(optarg, "rate") == 0)
                opt.strategy = STRAT_RATE;
            else if (strcmp(optarg, "pipeline") == 0)
                opt.strategy = STRAT_PIPELINE;
            else if (strcmp(optarg, "paced") == 0)
                opt.strategy = STRAT_PACED;
            else {
                fprintf(stderr, "gavel-load: --strategy stress|rate|pipeline|paced\n");
                return -1;
            }
            break;
        case O_RATE:
            opt.rate = atof(optarg);
            break;
        case O_DUR:
            opt.duration_s = atof(optarg);
            break;
        case O_HTTPC:
            opt.http_conns = atoi(optarg);
            break;
        case O_CONC:
            opt.connect_conc = atoi(optarg);
            break;
        case O_REST:
            opt.rest_bids = 1;
            break;
        case O_JSON:
            snprintf(opt.json_path, sizeof(opt.json_path), "%s", optarg);
            break;
        case O_LABEL:
            snprintf(opt.label, sizeof(opt.label), "%s", optarg);
            break;
        case O_PREFIX:
            snprintf(opt.prefix, sizeof(opt.prefix), "%s", optarg);
            break;
        case O_MDH:
            opt.md_header = 1;
            break;
        case O_HELP:
            usage(stdout);
            exit(0);
        case O_VERBOSE:
            opt.verbose = 1;
            break;
        case O_URATE:
            opt.user_rate = atof(optarg);
            break;
        case O_THINK:
            opt.think_ms = atof(optarg);
            break;
        case O_JITTER:
            opt.think_jitter_ms = atof(optarg);
            break;
        case O_SEED:
            opt.seed = strtoull(optarg, NULL, 10);
            break;
        case O_WIN:
            opt.window_s = atof(optarg);
            break;
        case O_CMPW:
            opt.compare_windows = atoi(optarg);
            break;
        case O_STORM:
            opt.storm_users = atoi(optarg);
            break;
        case O_STORMS:
            opt.storm_s = atof(optarg);
            break;
        case O_DRAIN:
            opt.drain_s = atof(optarg);
            break;
        case O_SLOW:
            opt.slow_readers = atoi(optarg);
            break;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (!nnodes || optind != argc) {
        usage(stderr);
        return -1;
    }
    if (opt.auctions < 1 || opt.managers < 1 || opt.managers > 64 || opt.spectators < 0 ||
        opt.http_conns < 1 || opt.connect_conc < 1 || opt.rate <= 0 || opt.min_bid < 1 ||
        opt.min_increment < 1 || opt.think_ms < 0 || opt.think_jitter_ms < 0 ||
        opt.think_jitter_ms > opt.think_ms || opt.window_s < 0 || opt.compare_windows < 1 ||
        opt.storm_users < 0 || opt.storm_users > 100000 || opt.storm_s < 0 || opt.drain_s < 0 ||
        (opt.strategy == STRAT_PACED && opt.rest_bids)) {
        fprintf(stderr, "gavel-load: an option is out of range\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    t_start = uv_hrtime();
    if (parse_args(argc, argv) != 0)
        return 64;
    if (!opt.prefix[0])
        snprintf(opt.prefix, sizeof(opt.prefix), "l%lx%x", (unsigned long)time(NULL),
                 (unsigned)getpid());
    signal(SIGPIPE, SIG_IGN);
    prng_state = opt.seed;
    if (opt.storm_users > 0)
        opt.auctions = 0; /* a sign-in storm only */

    int per = opt.managers + opt.spectators;
    nusers = opt.auctions * per;
    nconn = nusers;
    ring_size = opt.auctions <= 100 ? 4096 : 256;
    users = calloc((size_t)nusers + 1, sizeof(*users));
    A = calloc((size_t)opt.auctions + 1, sizeof(*A));
    conn_order = calloc((size_t)nconn + 1, sizeof(*conn_order));
    if (!users || !A || !conn_order)
        return 70;
    for (int i = 0; i < nusers; i++)
        snprintf(users[i].email, sizeof(users[i].email), "%s-%d@load.test", opt.prefix, i);
    for (int i = 0, u = 0; i < opt.auctions; i++) {
        auction_t *a = &A[i];
        a->idx = i;
        a->nman = opt.managers;
        a->nmem = per;
        a->m = calloc((size_t)per, sizeof(*a->m));
        a->budget = calloc((size_t)opt.managers, sizeof(*a->budget));
        a->slots = calloc((size_t)opt.managers, sizeof(*a->slots));
        a->ring = calloc((size_t)ring_size, sizeof(*a->ring));
        a->close_sent_lot = -1;
        a->leader = -1;
        a->node = i % nnodes;
        if (!a->m || !a->budget || !a->slots || !a->ring)
            return 70;
        for (int k = 0; k < per; k++) {
            member_t *m = &a->m[k];
            m->a = a;
            m->idx = k;
            m->user = u++;
            m->manager = k < opt.managers;
            m->node = (i + k) % nnodes;
            conn_order[i * per + k] = m;
        }
        for (int k = 0; k < opt.managers; k++) {
            a->budget[k] = opt.budget;
            a->slots[k] = opt.roster_size;
        }
        if (i < opt.slow_readers && per > 1)
            a->m[per - 1].slow = 1;
    }

    loop = uv_default_loop();
    for (int k = 0; k < nnodes; k++)
        pools[k] =
            lg_pool_new(loop, &nodes[k].addr, nodes[k].host, opt.http_conns, opt.http_timeout_ms);
    uv_timer_t *timers[] = {&tick_timer,  &sample_timer, &stop_timer, &drain_timer,
                            &sweep_timer, &window_timer, &storm_timer};
    for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++)
        uv_timer_init(loop, timers[i]);
    if (opt.strategy == STRAT_PACED)
        for (int i = 0; i < nconn; i++)
            if (conn_order[i]->manager) {
                member_t *m = conn_order[i];
                m->think = malloc(sizeof(*m->think));
                if (!m->think)
                    return 70;
                uv_timer_init(loop, m->think);
                m->think->data = m;
            }
    uv_signal_init(loop, &sigint_h);
    uv_signal_start(&sigint_h, on_sigint, SIGINT);
    if (opt.server_pid) {
        for (int i = 0; i < npids; i++)
            if (proc_rss_split_of(server_pids[i], NULL, NULL) < 0) {
                fprintf(stderr, "gavel-load: cannot read /proc/%d/status\n", server_pids[i]);
                return 64;
            }
        srv.rss_start_kib = proc_rss_kib();
        sample();
        uv_timer_start(&sample_timer, sample_cb, 1000, 1000);
    }
    if (nnodes > 1) {
        char list[LG_MAX_NODES * 40] = "";
        for (int k = 0; k < nnodes; k++)
            snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d %s", k ? ", " : "", k,
                     nodes[k].host);
        logf_("%d nodes (%s); %s", nnodes, list,
              opt.storm_users > 0 ? "sign-in storm user i through node i % N"
                                  : "setup through node 0, auction a created through node a % N, "
                                    "its member m connected through node (a + m) % N");
        if (npids > 0 && npids != nnodes)
            logf_("warning: %d --server-pid for %d --url: the server's CPU and RSS are the sums "
                  "over those %d processes",
                  npids, nnodes, npids);
    }
    if (opt.storm_users > 0) {
        phase_storm();
    } else {
        logf_("%s: %d auctions x %d managers + %d spectators, strategy %s, bids via %s", opt.label,
              opt.auctions, opt.managers, opt.spectators, strategy_name(),
              opt.rest_bids ? "REST" : "WebSocket");
        phase_signin();
    }
    uv_run(loop, UV_RUN_DEFAULT);
    if (!t_stop) {
        t_stop = uv_hrtime();
        client_cpu_stop = client_cpu_s();
    }
    if (opt.storm_users > 0)
        storm_report();
    else
        report();
    uv_loop_close(loop);

    for (int i = 0; i < opt.auctions; i++) {
        free(A[i].m);
        free(A[i].budget);
        free(A[i].slots);
        free(A[i].ring);
    }
    free(A);
    free(users);
    free(conn_order);
    free(S.rtt.v);
    free(S.fan.v);
    free(S.fan_first.v);
    free(deferred);
    free(wins);
    return exit_code;
}
