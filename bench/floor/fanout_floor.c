/* fanout-floor: what this machine allows for WebSocket-style fan-out over loopback TCP, with no
 * Gavel code. A writer process writes one small frame to each of N sockets per burst; a reader
 * process (epoll + read(), like an event loop client) reads them. Prints latency and CPU cost. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FO_HDR_BYTES 16         /* t0 (8), burst index (4), magic (4) */
#define FO_MAGIC 0x4f4e4146u    /* "FANO" */
#define FO_READ_BUF (64 * 1024) /* one read buffer per reader thread, like an event loop's */
#define FO_MAX_EVENTS 1024      /* epoll_wait batch, as libuv uses */
#define FO_FD_SLACK 64          /* descriptors beyond the N sockets: listener, epoll, stdio */
#define FO_MAX_THREADS 64
#define FO_MAX_CONNS 60000    /* the ephemeral port range bounds it anyway */
#define FO_IDLE_BASE_MS 10000 /* reader gives up after this much silence (+ 2 intervals) */
#define FO_MATRIX_MAX 8

typedef struct {
    int n;           /* connections */
    int size;        /* frame bytes */
    int bursts;      /* measured bursts */
    int warmup;      /* bursts sent before the measured ones, left out of the latencies */
    int interval_ms; /* between burst starts */
    int writers;     /* writer threads */
    int readers;     /* reader threads, each with its own epoll */
    bool edge;       /* edge-triggered epoll */
    const cpu_set_t *reader_cpus; /* NULL, or where to pin the reader process */
} fo_config_t;

/* The run's records: mapped before fork and shared by both processes, so that the reader can
 * hand its results back and the reader process inherits no heap memory of the writer's. */
typedef struct {
    uint64_t frames, reads, bad;
    uint64_t thread_cpu_ns; /* reader threads' CPU, summed */
    uint64_t proc_cpu_ns;   /* reader process user + system while reading */
    uint64_t *first_ns;     /* per burst: first frame read (CLOCK_MONOTONIC) */
    uint64_t *last_ns;      /* per burst: last frame read */
    uint32_t *count;        /* per burst: frames read */
    uint64_t *sent_ns;      /* per burst: the start time the frames carried */
    uint64_t *t0_ns;        /* per burst: the writer's start, before its first write */
    uint64_t *end_ns;       /* per burst: when the writer's last write returned */
    size_t map_bytes;
} fo_shared_t;

/* One configuration's results, as printed. */
typedef struct {
    fo_config_t cfg;
    double write_us, read_us, frames_per_read;
    double writer_p50_ms, first_p50_ms, first_p99_ms;
    double lat_p50_ms, lat_p99_ms, lat_max_ms;
    double writer_cpu_s, reader_cpu_s;
    double machine_cpu_s; /* every CPU's busy time while the bursts ran, steal left out */
    double other_cpu_s;   /* machine_cpu_s less both sides': anything else running */
    double steal_s;       /* time the hypervisor gave the CPUs to others */
} fo_result_t;

/* ================================================================================================
 * Clocks, CPU time, memory, writes, quantiles
 * ============================================================================================== */

/* Returns CLOCK_MONOTONIC in nanoseconds (comparable across processes of this machine). */
static uint64_t fo_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Returns the calling thread's CPU time in nanoseconds. */
static uint64_t fo_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Returns this process's user + system CPU time (all threads) in nanoseconds. */
static uint64_t fo_proc_cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint64_t us = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
                  (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    return us * 1000u;
}

/* Reads the machine's busy (user, nice, system, irq, softirq) and steal CPU time from
 * /proc/stat, in seconds; both are -1 if it cannot be read. */
static void fo_machine_cpu(double *busy_s, double *steal_s)
{
    unsigned long long v[8];
    FILE *f = fopen("/proc/stat", "r");
    int k = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                       &v[4], &v[5], &v[6], &v[7])
              : 0;
    if (f)
        fclose(f);
    double hz = (double)sysconf(_SC_CLK_TCK);
    *busy_s = *steal_s = -1;
    if (k == 8 && hz > 0) {
        *busy_s = (double)(v[0] + v[1] + v[2] + v[5] + v[6]) / hz;
        *steal_s = (double)v[7] / hz;
    }
}

/* Splits the CPUs this process may run on into the first half (rounded up) and the rest.
 * Returns 0, -EINVAL when there are fewer than 2 CPUs, or -errno. */
static int fo_cpus_split(cpu_set_t *first, cpu_set_t *rest)
{
    cpu_set_t all;
    if (sched_getaffinity(0, sizeof(all), &all) < 0)
        return -errno;
    int n = CPU_COUNT(&all), seen = 0;
    if (n < 2)
        return -EINVAL;
    CPU_ZERO(first);
    CPU_ZERO(rest);
    for (int c = 0; c < CPU_SETSIZE && seen < n; c++) {
        if (!CPU_ISSET(c, &all))
            continue;
        CPU_SET(c, seen++ < (n + 1) / 2 ? first : rest);
    }
    return 0;
}

/* Sleeps until the CLOCK_MONOTONIC instant at_ns (returns at once if it has passed). */
static void fo_sleep_until(uint64_t at_ns)
{
    struct timespec ts = {.tv_sec = (time_t)(at_ns / 1000000000u),
                          .tv_nsec = (long)(at_ns % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* Allocates zeroed memory or exits: a benchmark has no way to go on without it. */
static void *fo_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "fanout-floor: out of memory\n");
        exit(1);
    }
    return p;
}

/* Writes all n bytes to a blocking socket; returns 0 or -errno. */
static int fo_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* qsort comparator for uint64_t. */
static int fo_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Returns the nearest-rank p-quantile (0 < p <= 1) of n sorted values, in milliseconds. */
static double fo_quantile_ms(const uint64_t *sorted, size_t n, double p)
{
    size_t rank = (size_t)(p * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)sorted[rank - 1] / 1e6;
}

/* ================================================================================================
 * Writer: N accepted sockets, W threads, one frame per socket per burst
 * ============================================================================================== */

typedef struct fo_writer fo_writer_t;

/* One writer thread's share of the sockets, [lo, hi). */
typedef struct {
    fo_writer_t *w;
    int lo, hi;
    char *frame;     /* owned: this thread's copy of the burst's frame */
    uint64_t cpu_ns; /* thread CPU spent in its write loops */
    uint64_t writes;
    uint64_t end_ns; /* when its last write of the current burst returned */
    int err;
    pthread_t tid;
} fo_slice_t;

struct fo_writer {
    const fo_config_t *cfg;
    const int *fds;     /* borrowed: the accepted sockets */
    fo_slice_t *slices; /* owned, cfg->writers entries; slice 0 runs on the calling thread */
    int started;        /* threads running slices 1..started */
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    uint64_t gen;   /* bumped for each burst, under mu */
    int pending;    /* started threads still writing the current burst, under mu */
    bool stop;      /* under mu */
    uint64_t t0_ns; /* the current burst's start, carried in every frame */
    uint32_t burst;
};

/* Writes the frame header: the burst's start time, its index, the magic; the rest is filler. */
static void fo_frame_stamp(char *frame, uint64_t t0_ns, uint32_t burst)
{
    uint32_t magic = FO_MAGIC;
    memcpy(frame, &t0_ns, 8);
    memcpy(frame + 8, &burst, 4);
    memcpy(frame + 12, &magic, 4);
}

/* Writes the current burst's frame to each socket of the slice and records its costs. */
static void fo_slice_burst(fo_slice_t *s)
{
    fo_writer_t *w = s->w;
    uint64_t cpu0 = fo_thread_cpu_ns();
    fo_frame_stamp(s->frame, w->t0_ns, w->burst);
    for (int i = s->lo; i < s->hi && !s->err; i++)
        s->err = fo_write_all(w->fds[i], s->frame, (size_t)w->cfg->size);
    s->end_ns = fo_now_ns();
    s->cpu_ns += fo_thread_cpu_ns() - cpu0;
    s->writes += (uint64_t)(s->hi - s->lo);
}

/* Body of writer threads 1..W-1: one slice per burst until told to stop. */
static void *fo_slice_main(void *arg)
{
    fo_slice_t *s = arg;
    fo_writer_t *w = s->w;
    uint64_t seen = 0;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->gen == seen && !w->stop)
            pthread_cond_wait(&w->go, &w->mu);
        if (w->stop)
            break;
        seen = w->gen;
        pthread_mutex_unlock(&w->mu);
        fo_slice_burst(s);
        pthread_mutex_lock(&w->mu);
        if (--w->pending == 0)
            pthread_cond_signal(&w->done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Prepares the writer over cfg->n borrowed sockets (no thread started yet). */
static void fo_writer_init(fo_writer_t *w, const fo_config_t *cfg, const int *fds)
{
    memset(w, 0, sizeof(*w));
    w->cfg = cfg;
    w->fds = fds;
    w->slices = fo_calloc((size_t)cfg->writers, sizeof(fo_slice_t));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->go, NULL);
    pthread_cond_init(&w->done, NULL);
    for (int t = 0; t < cfg->writers; t++) {
        fo_slice_t *s = &w->slices[t];
        s->w = w;
        s->lo = (int)((int64_t)cfg->n * t / cfg->writers);
        s->hi = (int)((int64_t)cfg->n * (t + 1) / cfg->writers);
        s->frame = fo_calloc(1, (size_t)cfg->size);
        memset(s->frame, 'x', (size_t)cfg->size);
    }
}

/* Starts writer threads 1..W-1; returns 0 or -errno (the threads started so far are stopped
 * by fo_writer_deinit). */
static int fo_writer_start(fo_writer_t *w)
{
    for (int t = 1; t < w->cfg->writers; t++) {
        int rc = pthread_create(&w->slices[t].tid, NULL, fo_slice_main, &w->slices[t]);
        if (rc != 0)
            return -rc;
        w->started = t;
    }
    return 0;
}

/* Stops and joins the writer threads and frees what fo_writer_init allocated. */
static void fo_writer_deinit(fo_writer_t *w)
{
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->go);
    pthread_mutex_unlock(&w->mu);
    for (int t = 1; t <= w->started; t++)
        pthread_join(w->slices[t].tid, NULL);
    for (int t = 0; t < w->cfg->writers; t++)
        free(w->slices[t].frame);
    free(w->slices);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->go);
    pthread_cond_destroy(&w->done);
}

/* Runs one burst: records its start in t0_ns and when the last write returned in end_ns;
 * returns 0 or the first slice's -errno. */
static int fo_writer_burst(fo_writer_t *w, uint32_t burst, uint64_t *t0_ns, uint64_t *end_ns)
{
    pthread_mutex_lock(&w->mu);
    w->burst = burst;
    w->t0_ns = fo_now_ns();
    *t0_ns = w->t0_ns;
    w->gen++;
    w->pending = w->started;
    pthread_cond_broadcast(&w->go);
    pthread_mutex_unlock(&w->mu);
    fo_slice_burst(&w->slices[0]);
    pthread_mutex_lock(&w->mu);
    while (w->pending > 0)
        pthread_cond_wait(&w->done, &w->mu);
    pthread_mutex_unlock(&w->mu);
    *end_ns = 0;
    for (int t = 0; t <= w->started; t++) {
        if (w->slices[t].err)
            return w->slices[t].err;
        if (w->slices[t].end_ns > *end_ns)
            *end_ns = w->slices[t].end_ns;
    }
    return 0;
}

/* Runs every burst on schedule (interval apart, the first one interval from now); fills
 * t0s[] and ends[]; returns 0 or -errno. */
static int fo_writer_run(fo_writer_t *w, uint64_t *t0s, uint64_t *ends)
{
    const fo_config_t *cfg = w->cfg;
    uint64_t interval_ns = (uint64_t)cfg->interval_ms * 1000000u;
    uint64_t start_ns = fo_now_ns() + interval_ns;
    uint32_t total = (uint32_t)(cfg->warmup + cfg->bursts);
    for (uint32_t b = 0; b < total; b++) {
        fo_sleep_until(start_ns + b * interval_ns);
        int rc = fo_writer_burst(w, b, &t0s[b], &ends[b]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ================================================================================================
 * Reader: N connected sockets, R threads each with its own epoll
 * ============================================================================================== */

typedef struct {
    int fd;
    uint32_t pos;    /* bytes of the current frame already read */
    uint32_t frames; /* complete frames read */
    bool done;       /* every frame read, or end of stream */
    unsigned char hdr[FO_HDR_BYTES];
} fo_rsock_t;

typedef struct {
    const fo_config_t *cfg;
    int epfd;
    fo_rsock_t *socks; /* borrowed: this thread's share */
    int nsock, ndone;
    uint32_t total;     /* bursts sent, warm-up included */
    uint64_t *first_ns; /* owned, per burst */
    uint64_t *last_ns;  /* owned, per burst */
    uint64_t *sent_ns;  /* owned, per burst: the start time its frames carry */
    uint32_t *count;    /* owned, per burst */
    unsigned char *buf; /* owned, FO_READ_BUF */
    uint64_t frames, reads, bad, cpu_ns;
    int err;
    pthread_t tid;
    bool started;
} fo_rthread_t;

/* Marks a socket finished (all frames read or end of stream). */
static void fo_rsock_finish(fo_rthread_t *t, fo_rsock_t *s)
{
    if (!s->done) {
        s->done = true;
        t->ndone++;
    }
}

/* Accounts one complete frame of socket s, read at now_ns. Frames of a socket arrive in order,
 * so its k-th frame must carry burst k; anything else counts as bad. */
static void fo_reader_frame(fo_rthread_t *t, fo_rsock_t *s, uint64_t now_ns)
{
    uint64_t t0;
    uint32_t burst, magic;
    memcpy(&t0, s->hdr, 8);
    memcpy(&burst, s->hdr + 8, 4);
    memcpy(&magic, s->hdr + 12, 4);
    if (magic != FO_MAGIC || burst != s->frames || burst >= t->total ||
        (t->count[burst] > 0 && t0 != t->sent_ns[burst])) {
        t->bad++;
        return;
    }
    if (t->count[burst]++ == 0) {
        t->first_ns[burst] = now_ns;
        t->sent_ns[burst] = t0;
    }
    t->last_ns[burst] = now_ns;
    t->frames++;
    if (++s->frames == t->total)
        fo_rsock_finish(t, s);
}

/* Splits n bytes read from socket s into frames of cfg->size bytes; frames may arrive split
 * over reads or several in one read. */
static void fo_reader_bytes(fo_rthread_t *t, fo_rsock_t *s, const unsigned char *p, size_t n,
                            uint64_t now_ns)
{
    uint32_t size = (uint32_t)t->cfg->size;
    while (n > 0) {
        size_t take = size - s->pos < n ? size - s->pos : n;
        if (s->pos < FO_HDR_BYTES) {
            size_t h = FO_HDR_BYTES - s->pos < take ? FO_HDR_BYTES - s->pos : take;
            memcpy(s->hdr + s->pos, p, h);
        }
        s->pos += (uint32_t)take;
        p += take;
        n -= take;
        if (s->pos == size) {
            s->pos = 0;
            fo_reader_frame(t, s, now_ns);
        }
    }
}

/* Reads what socket s has, as an event loop does: read() again only while the buffer comes
 * back full. Returns 0 or -errno. */
static int fo_reader_read(fo_rthread_t *t, fo_rsock_t *s)
{
    for (;;) {
        ssize_t k = read(s->fd, t->buf, FO_READ_BUF);
        if (k > 0) {
            t->reads++;
            fo_reader_bytes(t, s, t->buf, (size_t)k, fo_now_ns());
            if (k < FO_READ_BUF)
                return 0;
            continue;
        }
        if (k == 0) {
            epoll_ctl(t->epfd, EPOLL_CTL_DEL, s->fd, NULL);
            fo_rsock_finish(t, s);
            return 0;
        }
        if (errno == EINTR)
            continue;
        return errno == EAGAIN ? 0 : -errno;
    }
}

/* Body of a reader thread: epoll_wait and read until each of its sockets is finished, or
 * nothing arrived for too long. */
static void *fo_reader_main(void *arg)
{
    fo_rthread_t *t = arg;
    struct epoll_event ev[FO_MAX_EVENTS];
    uint64_t cpu0 = fo_thread_cpu_ns();
    int idle_ms = 0, idle_limit_ms = FO_IDLE_BASE_MS + 2 * t->cfg->interval_ms;
    while (t->ndone < t->nsock && !t->err) {
        int k = epoll_wait(t->epfd, ev, FO_MAX_EVENTS, 1000);
        if (k < 0 && errno != EINTR)
            t->err = -errno;
        if (k == 0 && (idle_ms += 1000) > idle_limit_ms)
            t->err = -ETIMEDOUT;
        if (k > 0)
            idle_ms = 0;
        for (int i = 0; i < k && !t->err; i++)
            t->err = fo_reader_read(t, ev[i].data.ptr);
    }
    t->cpu_ns = fo_thread_cpu_ns() - cpu0;
    return NULL;
}

/* Prepares reader thread t over socks[0..nsock) (borrowed): its epoll and its arrays.
 * Returns 0 or -errno; fo_rthread_deinit releases what was made either way. */
static int fo_rthread_init(fo_rthread_t *t, const fo_config_t *cfg, fo_rsock_t *socks, int nsock)
{
    memset(t, 0, sizeof(*t));
    t->epfd = -1;
    t->cfg = cfg;
    t->socks = socks;
    t->nsock = nsock;
    t->total = (uint32_t)(cfg->warmup + cfg->bursts);
    t->first_ns = fo_calloc(t->total, sizeof(uint64_t));
    t->last_ns = fo_calloc(t->total, sizeof(uint64_t));
    t->sent_ns = fo_calloc(t->total, sizeof(uint64_t));
    t->count = fo_calloc(t->total, sizeof(uint32_t));
    t->buf = fo_calloc(1, FO_READ_BUF);
    t->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (t->epfd < 0)
        return -errno;
    for (int i = 0; i < nsock; i++) {
        struct epoll_event ev = {.events = EPOLLIN | (cfg->edge ? EPOLLET : 0u),
                                 .data.ptr = &socks[i]};
        if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, socks[i].fd, &ev) < 0)
            return -errno;
    }
    return 0;
}

/* Releases what fo_rthread_init made (the sockets are the caller's). */
static void fo_rthread_deinit(fo_rthread_t *t)
{
    if (t->epfd >= 0)
        close(t->epfd);
    free(t->first_ns);
    free(t->last_ns);
    free(t->sent_ns);
    free(t->count);
    free(t->buf);
}

/* Adds thread t's per-burst records and counters into the shared results. */
static void fo_rthread_merge(const fo_rthread_t *t, fo_shared_t *sh)
{
    for (uint32_t b = 0; b < t->total; b++) {
        if (t->count[b] == 0)
            continue;
        if (sh->count[b] > 0 && t->sent_ns[b] != sh->sent_ns[b])
            sh->bad += t->count[b];
        if (sh->count[b] == 0 || t->first_ns[b] < sh->first_ns[b])
            sh->first_ns[b] = t->first_ns[b];
        sh->sent_ns[b] = t->sent_ns[b];
        if (t->last_ns[b] > sh->last_ns[b])
            sh->last_ns[b] = t->last_ns[b];
        sh->count[b] += t->count[b];
    }
    sh->frames += t->frames;
    sh->reads += t->reads;
    sh->bad += t->bad;
    sh->thread_cpu_ns += t->cpu_ns;
}

/* Opens n blocking connections to 127.0.0.1:port, then makes them non-blocking; fills
 * socks[].fd. Returns 0 or -errno (the sockets opened so far are in socks[], others are -1). */
static int fo_reader_connect(fo_rsock_t *socks, int n, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < n; i++)
        socks[i].fd = -1;
    for (int i = 0; i < n; i++) {
        socks[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (socks[i].fd < 0)
            return -errno;
        if (connect(socks[i].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            return -errno;
        int fl = fcntl(socks[i].fd, F_GETFL);
        if (fl < 0 || fcntl(socks[i].fd, F_SETFL, fl | O_NONBLOCK) < 0)
            return -errno;
    }
    return 0;
}

/* Starts the reader threads, tells the writer it is ready (one byte on ctl), waits for them
 * and merges their results into sh. Returns 0 or -errno. */
static int fo_reader_go(fo_rthread_t *ts, int nt, int ctl, fo_shared_t *sh)
{
    int rc = 0;
    uint64_t cpu0 = fo_proc_cpu_ns();
    for (int i = 0; i < nt && rc == 0; i++) {
        rc = -pthread_create(&ts[i].tid, NULL, fo_reader_main, &ts[i]);
        ts[i].started = rc == 0;
    }
    if (rc == 0 && fo_write_all(ctl, "R", 1) < 0)
        rc = -EPIPE;
    if (rc < 0) /* end of stream for the threads already waiting, so that they stop now */
        for (int i = 0; i < nt; i++)
            for (int k = 0; k < ts[i].nsock; k++)
                shutdown(ts[i].socks[k].fd, SHUT_RD);
    for (int i = 0; i < nt; i++) {
        if (!ts[i].started)
            continue;
        pthread_join(ts[i].tid, NULL);
        if (rc == 0)
            rc = ts[i].err;
        fo_rthread_merge(&ts[i], sh);
    }
    sh->proc_cpu_ns = fo_proc_cpu_ns() - cpu0;
    return rc;
}

/* The reader process: connects, reads every burst, reports into sh. Returns 0 or -errno;
 * prints what failed. Frees everything it made before returning. */
static int fo_reader_process(const fo_config_t *cfg, int port, int ctl, fo_shared_t *sh)
{
    fo_rsock_t *socks = fo_calloc((size_t)cfg->n, sizeof(fo_rsock_t));
    fo_rthread_t *ts = fo_calloc((size_t)cfg->readers, sizeof(fo_rthread_t));
    const char *what = "connect";
    int rc = fo_reader_connect(socks, cfg->n, port);
    for (int i = 0; i < cfg->readers; i++)
        ts[i].epfd = -1;
    for (int i = 0; i < cfg->readers && rc == 0; i++) {
        int lo = (int)((int64_t)cfg->n * i / cfg->readers);
        int hi = (int)((int64_t)cfg->n * (i + 1) / cfg->readers);
        what = "epoll";
        rc = fo_rthread_init(&ts[i], cfg, socks + lo, hi - lo);
    }
    if (rc == 0) {
        what = "read";
        rc = fo_reader_go(ts, cfg->readers, ctl, sh);
    }
    if (rc < 0)
        fprintf(stderr, "fanout-floor: reader: %s: %s\n", what, strerror(-rc));
    for (int i = 0; i < cfg->readers; i++)
        fo_rthread_deinit(&ts[i]);
    for (int i = 0; i < cfg->n; i++)
        if (socks[i].fd >= 0)
            close(socks[i].fd);
    free(ts);
    free(socks);
    return rc;
}

/* ================================================================================================
 * One configuration: listener, fork, accept, bursts, results
 * ============================================================================================== */

/* Maps the shared results for total bursts (the struct and its arrays, zeroed) into *out;
 * returns 0 or -errno. munmap(*out, (*out)->map_bytes) releases it. */
static int fo_shared_map(fo_shared_t **out, uint32_t total)
{
    size_t bytes = sizeof(fo_shared_t) + (size_t)total * (5 * sizeof(uint64_t) + sizeof(uint32_t));
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    fo_shared_t *sh = p;
    sh->map_bytes = bytes;
    sh->first_ns = (uint64_t *)(sh + 1);
    sh->last_ns = sh->first_ns + total;
    sh->sent_ns = sh->last_ns + total;
    sh->t0_ns = sh->sent_ns + total;
    sh->end_ns = sh->t0_ns + total;
    sh->count = (uint32_t *)(sh->end_ns + total);
    *out = sh;
    return 0;
}

/* Opens a listener on 127.0.0.1 with an ephemeral port; returns its fd (port in *port) or
 * -errno. */
static int fo_listen(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Returns true if the reader has hung up on ctl (it failed), false if its ready byte waits
 * there: it is done connecting, so the rest of the connections sit in the accept queue. */
static bool fo_ctl_hung_up(int ctl)
{
    char c;
    ssize_t k;
    while ((k = recv(ctl, &c, 1, MSG_PEEK)) < 0 && errno == EINTR)
        ;
    return k != 1;
}

/* Accepts n connections on lfd into fds[] (TCP_NODELAY on each, as Gavel sets), while
 * watching ctl, where the reader hangs up if it fails. Returns 0 or -errno (-ECONNABORTED
 * when the reader failed); fds[] entries not accepted stay -1. */
static int fo_accept_all(int lfd, int ctl, int *fds, int n)
{
    int one = 1;
    nfds_t watch = 2;
    for (int i = 0; i < n;) {
        struct pollfd pf[2] = {{.fd = lfd, .events = POLLIN}, {.fd = ctl, .events = POLLIN}};
        if (poll(pf, watch, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (watch == 2 && pf[1].revents && !pf[0].revents) {
            if (fo_ctl_hung_up(ctl))
                return -ECONNABORTED;
            watch = 1; /* ready byte: leave it for fo_wait_ready */
        }
        if (!pf[0].revents)
            continue;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0 && (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED))
            continue;
        if (fd < 0)
            return -errno;
        fds[i++] = fd;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
            return -errno;
    }
    return 0;
}

/* Waits for the reader's ready byte on ctl; returns 0 or -ECONNABORTED if it failed. */
static int fo_wait_ready(int ctl)
{
    char c;
    ssize_t k;
    while ((k = read(ctl, &c, 1)) < 0 && errno == EINTR)
        ;
    return k == 1 && c == 'R' ? 0 : -ECONNABORTED;
}

/* Writer side once connected: waits for the reader, runs every burst. Fills t0s/ends and the
 * writer's CPU figures in res. Returns 0 or -errno. */
static int fo_writer_side(const fo_config_t *cfg, const int *fds, int ctl, uint64_t *t0s,
                          uint64_t *ends, fo_result_t *res)
{
    fo_writer_t w;
    fo_writer_init(&w, cfg, fds);
    int rc = fo_writer_start(&w);
    if (rc == 0)
        rc = fo_wait_ready(ctl);
    double busy0, steal0, busy1, steal1;
    fo_machine_cpu(&busy0, &steal0);
    uint64_t cpu0 = fo_proc_cpu_ns();
    if (rc == 0)
        rc = fo_writer_run(&w, t0s, ends);
    res->writer_cpu_s = (double)(fo_proc_cpu_ns() - cpu0) / 1e9;
    fo_machine_cpu(&busy1, &steal1);
    res->machine_cpu_s = busy0 < 0 || busy1 < 0 ? -1 : busy1 - busy0;
    res->steal_s = steal0 < 0 || steal1 < 0 ? -1 : steal1 - steal0;
    uint64_t cpu_ns = 0, writes = 0;
    for (int t = 0; t < cfg->writers; t++) {
        cpu_ns += w.slices[t].cpu_ns;
        writes += w.slices[t].writes;
    }
    res->write_us = writes ? (double)cpu_ns / 1e3 / (double)writes : 0;
    fo_writer_deinit(&w);
    return rc;
}

/* Checks that every burst reached all N sockets intact; returns 0 or -EPROTO (printed). */
static int fo_results_check(const fo_config_t *cfg, const fo_shared_t *sh)
{
    uint32_t total = (uint32_t)(cfg->warmup + cfg->bursts);
    if (sh->bad > 0) {
        fprintf(stderr, "fanout-floor: %" PRIu64 " frames arrived out of order or corrupt\n",
                sh->bad);
        return -EPROTO;
    }
    for (uint32_t b = 0; b < total; b++) {
        if (sh->count[b] != (uint32_t)cfg->n) {
            fprintf(stderr, "fanout-floor: burst %u: %u of %d frames read\n", b, sh->count[b],
                    cfg->n);
            return -EPROTO;
        }
        if (sh->sent_ns[b] != sh->t0_ns[b]) {
            fprintf(stderr, "fanout-floor: burst %u: frames carry another start time\n", b);
            return -EPROTO;
        }
    }
    return 0;
}

/* Returns the machine's CPU time while the bursts ran that neither side used, or -1 when
 * unknown. /proc/stat counts ticks, both sides are timed exactly: a small remainder can be
 * negative and is shown as zero. */
static double fo_other_cpu_s(const fo_result_t *r)
{
    if (r->machine_cpu_s < 0)
        return -1;
    double other = r->machine_cpu_s - r->writer_cpu_s - r->reader_cpu_s;
    return other > 0 ? other : 0;
}

/* Computes the latency figures of the measured bursts into res (the warm-up is left out). */
static void fo_results_fill(const fo_config_t *cfg, const fo_shared_t *sh, fo_result_t *res)
{
    size_t n = (size_t)cfg->bursts, w = (size_t)cfg->warmup;
    uint64_t *lat = fo_calloc(n, sizeof(uint64_t));
    uint64_t *first = fo_calloc(n, sizeof(uint64_t));
    uint64_t *wr = fo_calloc(n, sizeof(uint64_t));
    for (size_t i = 0; i < n; i++) {
        lat[i] = sh->last_ns[w + i] - sh->sent_ns[w + i];
        first[i] = sh->first_ns[w + i] - sh->sent_ns[w + i];
        wr[i] = sh->end_ns[w + i] - sh->t0_ns[w + i];
    }
    qsort(lat, n, sizeof(uint64_t), fo_cmp_u64);
    qsort(first, n, sizeof(uint64_t), fo_cmp_u64);
    qsort(wr, n, sizeof(uint64_t), fo_cmp_u64);
    res->lat_p50_ms = fo_quantile_ms(lat, n, 0.50);
    res->lat_p99_ms = fo_quantile_ms(lat, n, 0.99);
    res->lat_max_ms = fo_quantile_ms(lat, n, 1.0);
    res->first_p50_ms = fo_quantile_ms(first, n, 0.50);
    res->first_p99_ms = fo_quantile_ms(first, n, 0.99);
    res->writer_p50_ms = fo_quantile_ms(wr, n, 0.50);
    res->read_us = sh->frames ? (double)sh->thread_cpu_ns / 1e3 / (double)sh->frames : 0;
    res->frames_per_read = sh->reads ? (double)sh->frames / (double)sh->reads : 0;
    res->reader_cpu_s = (double)sh->proc_cpu_ns / 1e9;
    res->other_cpu_s = fo_other_cpu_s(res);
    free(lat);
    free(first);
    free(wr);
}

/* Waits for the reader process; returns 0 if it exited 0, else -ECHILD. */
static int fo_reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

/* Forks the reader process (connected to the listener's port, ctl[1] its end of the control
 * pair); returns its pid or -errno. The child never returns. */
static pid_t fo_spawn_reader(const fo_config_t *cfg, int lfd, int port, const int ctl[2],
                             fo_shared_t *sh)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid != 0)
        return pid < 0 ? -errno : pid;
    close(lfd);
    close(ctl[0]);
    int rc = 0;
    if (cfg->reader_cpus && sched_setaffinity(0, sizeof(cpu_set_t), cfg->reader_cpus) < 0) {
        rc = -errno;
        fprintf(stderr, "fanout-floor: reader: sched_setaffinity: %s\n", strerror(errno));
    }
    if (rc == 0)
        rc = fo_reader_process(cfg, port, ctl[1], sh);
    close(ctl[1]);
    _exit(rc == 0 ? 0 : 1);
}

/* The writer process's part once the reader is forked: accept, bursts, close. Returns 0 or
 * -errno (printed). */
static int fo_writer_process(const fo_config_t *cfg, int lfd, int ctl, uint64_t *t0s,
                             uint64_t *ends, fo_result_t *res)
{
    int *fds = fo_calloc((size_t)cfg->n, sizeof(int));
    for (int i = 0; i < cfg->n; i++)
        fds[i] = -1;
    const char *what = "accept";
    int rc = fo_accept_all(lfd, ctl, fds, cfg->n);
    if (rc == 0) {
        what = "write";
        rc = fo_writer_side(cfg, fds, ctl, t0s, ends, res);
    }
    if (rc < 0 && rc != -ECONNABORTED)
        fprintf(stderr, "fanout-floor: writer: %s: %s\n", what, strerror(-rc));
    /* Closing sends end of stream: a reader still waiting stops instead of timing out. */
    for (int i = 0; i < cfg->n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
    return rc;
}

/* Runs one configuration end to end and fills res; returns 0 or -errno (printed). */
static int fo_config_run(const fo_config_t *cfg, fo_result_t *res)
{
    uint32_t total = (uint32_t)(cfg->warmup + cfg->bursts);
    int ctl[2] = {-1, -1}, port = 0, lfd = -1, rc, reaped;
    pid_t pid;
    fo_shared_t *sh = NULL;
    memset(res, 0, sizeof(*res));
    res->cfg = *cfg;
    if ((rc = fo_shared_map(&sh, total)) < 0 || (rc = lfd = fo_listen(&port)) < 0)
        goto fail;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0) {
        rc = -errno;
        goto fail;
    }
    pid = fo_spawn_reader(cfg, lfd, port, ctl, sh);
    if (pid < 0) {
        rc = pid;
        goto fail;
    }
    close(ctl[1]);
    ctl[1] = -1;
    rc = fo_writer_process(cfg, lfd, ctl[0], sh->t0_ns, sh->end_ns, res);
    /* Resets connections never accepted, so that a reader waiting on them stops now. */
    close(lfd);
    lfd = -1;
    reaped = fo_reap(pid);
    if (rc == 0 && reaped < 0)
        fprintf(stderr, "fanout-floor: the reader process failed\n");
    if (rc == 0 && (rc = reaped) == 0 && (rc = fo_results_check(cfg, sh)) == 0)
        fo_results_fill(cfg, sh, res);
    goto done;
fail:
    fprintf(stderr, "fanout-floor: setup: %s\n", strerror(-rc));
done:
    if (ctl[0] >= 0)
        close(ctl[0]);
    if (ctl[1] >= 0)
        close(ctl[1]);
    if (lfd >= 0)
        close(lfd);
    if (sh)
        munmap(sh, sh->map_bytes);
    return rc;
}

/* ================================================================================================
 * Output
 * ============================================================================================== */

/* Prints a line about the machine and the schedule, then the table's header. */
static void fo_print_header(const fo_config_t *cfg)
{
    struct utsname u;
    uname(&u);
    printf("fanout-floor: %ld CPUs, %s %s; %d bursts %d ms apart after %d warm-up bursts, "
           "%s-triggered epoll%s\n\n",
           sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release, cfg->bursts, cfg->interval_ms,
           cfg->warmup, cfg->edge ? "edge" : "level",
           cfg->reader_cpus ? ", writer and reader pinned to separate CPUs" : "");
    printf("| N | bytes | W | R | write µs (CPU) | read µs/frame (CPU) | frames/read "
           "| writer burst ms p50 | first read ms p50 | p99 | burst ms p50 | p99 | max "
           "| writer CPU s | reader CPU s | other CPU s | steal s |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
           "\n");
    fflush(stdout);
}

/* Prints one configuration's row ("n/a" where /proc/stat could not be read). */
static void fo_print_row(const fo_result_t *r)
{
    char other[32] = "n/a", steal[32] = "n/a";
    if (r->other_cpu_s >= 0)
        snprintf(other, sizeof(other), "%.2f", r->other_cpu_s);
    if (r->steal_s >= 0)
        snprintf(steal, sizeof(steal), "%.2f", r->steal_s);
    printf("| %d | %d | %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f "
           "| %.2f | %.2f | %s | %s |\n",
           r->cfg.n, r->cfg.size, r->cfg.writers, r->cfg.readers, r->write_us, r->read_us,
           r->frames_per_read, r->writer_p50_ms, r->first_p50_ms, r->first_p99_ms, r->lat_p50_ms,
           r->lat_p99_ms, r->lat_max_ms, r->writer_cpu_s, r->reader_cpu_s, other, steal);
    fflush(stdout);
}

/* Writes the results as a JSON array to f; returns 0 or -EIO. */
static int fo_write_json(FILE *f, const fo_result_t *rs, int n)
{
    fprintf(f, "[\n");
    for (int i = 0; i < n; i++) {
        const fo_result_t *r = &rs[i];
        fprintf(
            f,
            "  {\"connections\": %d, \"frame_bytes\": %d, \"writer_threads\": %d, "
            "\"reader_threads\": %d, \"bursts\": %d, \"warmup_bursts\": %d, "
            "\"interval_ms\": %d, \"edge_triggered\": %s, \"pinned\": %s, \"write_cpu_us\": %.3f, "
            "\"read_cpu_us_per_frame\": %.3f, \"frames_per_read\": %.3f, "
            "\"writer_burst_ms_p50\": %.3f, \"first_read_ms_p50\": %.3f, "
            "\"first_read_ms_p99\": %.3f, \"burst_ms_p50\": %.3f, \"burst_ms_p99\": %.3f, "
            "\"burst_ms_max\": %.3f, \"writer_cpu_s\": %.3f, \"reader_cpu_s\": %.3f, "
            "\"other_cpu_s\": %.3f, \"steal_s\": %.3f}%s\n",
            r->cfg.n, r->cfg.size, r->cfg.writers, r->cfg.readers, r->cfg.bursts, r->cfg.warmup,
            r->cfg.interval_ms, r->cfg.edge ? "true" : "false",
            r->cfg.reader_cpus ? "true" : "false", r->write_us, r->read_us, r->frames_per_read,
            r->writer_p50_ms, r->first_p50_ms, r->first_p99_ms, r->lat_p50_ms, r->lat_p99_ms,
            r->lat_max_ms, r->writer_cpu_s, r->reader_cpu_s, r->other_cpu_s, r->steal_s,
            i + 1 < n ? "," : "");
    }
    fprintf(f, "]\n");
    return ferror(f) ? -EIO : 0;
}

/* Writes the results as JSON to fd and closes it (either way); returns 0 or -EIO. */
static int fo_write_json_fd(int fd, const fo_result_t *rs, int n)
{
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -EIO;
    }
    int rc = fo_write_json(f, rs, n);
    if (fclose(f) != 0)
        rc = -EIO;
    return rc;
}

/* ================================================================================================
 * Command line
 * ============================================================================================== */

/* Prints the usage to f. */
static void fo_usage(FILE *f)
{
    fprintf(f, "usage: fanout-floor [options]\n"
               "  --connections N     sockets (default 2010)\n"
               "  --size B            frame bytes, 16..65536 (default 300)\n"
               "  --bursts K          measured bursts (default 300)\n"
               "  --warmup K          bursts sent first and not measured (default 5)\n"
               "  --interval-ms MS    between burst starts, 0 = back to back (default 100)\n"
               "  --writer-threads W  (default 1)\n"
               "  --reader-threads R  each with its own epoll (default 1)\n"
               "  --edge-triggered    EPOLLET instead of level-triggered\n"
               "  --pin               writer on the first half of the CPUs, reader on the rest\n"
               "  --matrix            W in {1,2} x R in {1,2} at N = 2010 and N = 11\n"
               "  --json FILE         also write the results as JSON\n");
}

/* Parses a decimal int in [lo, hi] from s into *out; returns 0 or -EINVAL. */
static int fo_parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -EINVAL;
    *out = (int)v;
    return 0;
}

/* Parses one numeric option into cfg; returns 0 or -EINVAL (printed). */
static int fo_parse_num(int opt, const char *arg, fo_config_t *cfg)
{
    static const struct {
        int opt, lo, hi;
        size_t off;
        const char *name;
    } t[] = {
        {'n', 1, FO_MAX_CONNS, offsetof(fo_config_t, n), "--connections"},
        {'s', FO_HDR_BYTES, 65536, offsetof(fo_config_t, size), "--size"},
        {'b', 1, 1000000, offsetof(fo_config_t, bursts), "--bursts"},
        {'u', 0, 1000000, offsetof(fo_config_t, warmup), "--warmup"},
        {'i', 0, 60000, offsetof(fo_config_t, interval_ms), "--interval-ms"},
        {'w', 1, FO_MAX_THREADS, offsetof(fo_config_t, writers), "--writer-threads"},
        {'r', 1, FO_MAX_THREADS, offsetof(fo_config_t, readers), "--reader-threads"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (t[i].opt != opt)
            continue;
        if (fo_parse_int(arg, t[i].lo, t[i].hi, (int *)((char *)cfg + t[i].off)) == 0)
            return 0;
        fprintf(stderr, "fanout-floor: %s wants an integer in %d..%d, not '%s'\n", t[i].name,
                t[i].lo, t[i].hi, arg);
        return -EINVAL;
    }
    return -EINVAL;
}

typedef struct {
    fo_config_t cfg;
    bool matrix;
    bool pin;
    const char *json;
    cpu_set_t writer_cpus, reader_cpus; /* with pin */
} fo_args_t;

static const struct option fo_opts[] = {{"connections", required_argument, 0, 'n'},
                                        {"size", required_argument, 0, 's'},
                                        {"bursts", required_argument, 0, 'b'},
                                        {"warmup", required_argument, 0, 'u'},
                                        {"interval-ms", required_argument, 0, 'i'},
                                        {"writer-threads", required_argument, 0, 'w'},
                                        {"reader-threads", required_argument, 0, 'r'},
                                        {"edge-triggered", no_argument, 0, 'e'},
                                        {"pin", no_argument, 0, 'p'},
                                        {"matrix", no_argument, 0, 'm'},
                                        {"json", required_argument, 0, 'j'},
                                        {"help", no_argument, 0, 'h'},
                                        {0, 0, 0, 0}};

/* Applies a non-numeric option to a; returns false if opt is not one. */
static bool fo_parse_flag(int opt, const char *arg, fo_args_t *a)
{
    switch (opt) {
    case 'e':
        a->cfg.edge = true;
        return true;
    case 'p':
        a->pin = true;
        return true;
    case 'm':
        a->matrix = true;
        return true;
    case 'j':
        a->json = arg;
        return true;
    default:
        return false;
    }
}

/* Parses argv into a; returns 0, 1 (help printed) or -EINVAL (printed). */
static int fo_args_parse(int argc, char **argv, fo_args_t *a)
{
    memset(a, 0, sizeof(*a));
    a->cfg = (fo_config_t){.n = 2010,
                           .size = 300,
                           .bursts = 300,
                           .warmup = 5,
                           .interval_ms = 100,
                           .writers = 1,
                           .readers = 1};
    int opt;
    while ((opt = getopt_long(argc, argv, "", fo_opts, NULL)) != -1) {
        if (opt == 'h') {
            fo_usage(stdout);
            return 1;
        }
        if (!fo_parse_flag(opt, optarg, a) &&
            (opt == '?' || fo_parse_num(opt, optarg, &a->cfg) < 0))
            goto usage;
    }
    if (optind < argc) {
        fprintf(stderr, "fanout-floor: unexpected argument '%s'\n", argv[optind]);
        goto usage;
    }
    if (!a->matrix && (a->cfg.writers > a->cfg.n || a->cfg.readers > a->cfg.n)) {
        fprintf(stderr, "fanout-floor: more threads than connections\n");
        goto usage;
    }
    return 0;
usage:
    fo_usage(stderr);
    return -EINVAL;
}

/* With --pin, moves this (the writer) process to the first half of the CPUs and keeps the
 * other half for the reader; returns 0 or -errno (printed). */
static int fo_pin_setup(fo_args_t *a)
{
    if (!a->pin)
        return 0;
    int rc = fo_cpus_split(&a->writer_cpus, &a->reader_cpus);
    if (rc == 0 && sched_setaffinity(0, sizeof(cpu_set_t), &a->writer_cpus) < 0)
        rc = -errno;
    if (rc == -EINVAL)
        fprintf(stderr, "fanout-floor: --pin needs at least 2 CPUs\n");
    else if (rc < 0)
        fprintf(stderr, "fanout-floor: --pin: %s\n", strerror(-rc));
    a->cfg.reader_cpus = &a->reader_cpus;
    return rc;
}

/* Raises RLIMIT_NOFILE to at least need descriptors; returns 0 or -EMFILE (printed). */
static int fo_nofile_raise(int need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -EMFILE;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (rlim_t)need)
        return 0;
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= (rlim_t)need) {
        rl.rlim_cur = (rlim_t)need;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            return 0;
    }
    struct rlimit want = {.rlim_cur = (rlim_t)need, .rlim_max = (rlim_t)need};
    if (setrlimit(RLIMIT_NOFILE, &want) == 0)
        return 0;
    fprintf(stderr,
            "fanout-floor: needs %d open files but the hard limit is %llu; raise it "
            "(ulimit -Hn, as root) or use fewer --connections\n",
            need, (unsigned long long)rl.rlim_max);
    return -EMFILE;
}

/* Fills list[] with the configurations to run; returns how many. */
static int fo_plan(const fo_args_t *a, fo_config_t *list)
{
    if (!a->matrix) {
        list[0] = a->cfg;
        return 1;
    }
    static const int ns[] = {2010, 11};
    int k = 0;
    for (int i = 0; i < 2; i++)
        for (int w = 1; w <= 2; w++)
            for (int r = 1; r <= 2; r++) {
                list[k] = a->cfg;
                list[k].n = ns[i];
                list[k].writers = w;
                list[k++].readers = r;
            }
    return k;
}

/* Runs the planned configurations, printing a row after each; returns 0 or 1. */
int main(int argc, char **argv)
{
    fo_args_t a;
    fo_config_t plan[FO_MATRIX_MAX];
    fo_result_t res[FO_MATRIX_MAX];
    int rc = fo_args_parse(argc, argv, &a);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (fo_pin_setup(&a) < 0)
        return 1;
    int n = fo_plan(&a, plan), max_n = 0;
    for (int i = 0; i < n; i++)
        max_n = plan[i].n > max_n ? plan[i].n : max_n;
    /* Opened now to fail before a long run, as a descriptor: a FILE would be copied into the
     * reader process by fork. */
    int json_fd = a.json ? open(a.json, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    if (a.json && json_fd < 0) {
        fprintf(stderr, "fanout-floor: %s: %s\n", a.json, strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN); /* a closed socket is an error to report, not a reason to die */
    rc = fo_nofile_raise(max_n + FO_FD_SLACK);
    if (rc == 0)
        fo_print_header(&a.cfg);
    for (int i = 0; i < n && rc == 0; i++)
        if ((rc = fo_config_run(&plan[i], &res[i])) == 0)
            fo_print_row(&res[i]);
    if (json_fd >= 0 && rc == 0)
        rc = fo_write_json_fd(json_fd, res, n);
    else if (json_fd >= 0)
        close(json_fd);
    if (rc == -EIO)
        fprintf(stderr, "fanout-floor: %s: write failed\n", a.json);
    return rc == 0 ? 0 : 1;
}
