/* commit-floor: what this machine's disk allows for a durable commit, with no Gavel code and no
 * SQLite. One thread writes SIZE bytes and fdatasync()s them, back to back, over a file laid out
 * in advance (as a write-ahead log is reused after it starts over), for SECONDS. Prints the
 * distribution of one commit's duration and of the wait of a request arriving at a random
 * instant: the rest of the commit in flight plus its own, the least a durable group commit can
 * make a bid wait when commits run back to back.
 *
 * With --rate R, requests arrive instead at random instants, R a second on average (exponential
 * gaps from a fixed seed, as independent users' bids do), and each commit carries every request
 * that arrived while the one before it ran, as a group commit does; the thread sleeps while none
 * is waiting. It prints the wait of each request, from its arrival to the end of the commit that
 * carries it: the least a durable round trip costs at that load on this disk, before any
 * network, parsing or database work, and with one thread wake-up (the arrival's) where a server
 * has several.
 *
 * With --copy-mib M as well, a second thread plays a checkpointer beside the commits: every
 * 1.5 s it writes --copy-pages 4 KiB pages at random places of a laid-out database file of M MiB,
 * in ascending order (as SQLite copies a log back), and syncs it. --copy-matrix runs 500
 * requests a second with no copy, then copies into 20 MiB and 500 MiB files: a soak's database
 * in its first minutes and in its last, and the last again with the copy written back every 16
 * pages (--copy-chunk: sync_file_range, waited for, before the next 16). The same writes, spread
 * over a larger file, are what a commit's sync then queues behind on the disk. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CF_FILE_BYTES (64L << 20) /* the log's length before it starts over */
#define CF_ARRIVALS 1000000       /* random arrival instants sampled per run */
#define CF_MAX_COMMITS 2000000
#define CF_COPY_PERIOD_MS 1500 /* the checkpointer's period (Gavel's copies came every 1.2-2 s) */
#define CF_PAGE 4096

typedef struct {
    double mean, p50, p99, p999, max;
} cf_dist_t;

typedef struct {
    long size;
    int commits;
    double seconds;
    cf_dist_t commit, wait;
    int over5, over10, over50; /* commits longer than 5, 10, 50 ms */
} cf_result_t;

static uint64_t cf_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cf_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v (n > 0 values, ms) and reads its percentiles. */
static cf_dist_t cf_dist(double *v, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    qsort(v, (size_t)n, sizeof(*v), cf_cmp);
    cf_dist_t d = {sum / n, v[n / 2], v[(int)((long)n * 99 / 100)], v[(int)((long)n * 999 / 1000)],
                   v[n - 1]};
    return d;
}

/* Writes the whole file once and syncs it, so that the measured writes overwrite laid-out
 * blocks (no allocation, no size change to journal). 0 or -1. */
static int cf_lay_out(int fd, const char *buf, long size, long length)
{
    for (long off = 0; off < length; off += size)
        if (pwrite(fd, buf, (size_t)size, off) != size)
            return -1;
    return fdatasync(fd);
}

/* start[i], dur[i]: when commit i began (ms since the first) and how long it took. */
static int cf_commits(int fd, const char *buf, long size, double seconds, double *start,
                      double *dur)
{
    uint64_t t0 = cf_now_ns(), end = t0 + (uint64_t)(seconds * 1e9);
    long off = 0;
    int n = 0;
    for (uint64_t t = t0; t < end && n < CF_MAX_COMMITS; n++) {
        if (pwrite(fd, buf, (size_t)size, off) != size || fdatasync(fd) != 0)
            return -1;
        uint64_t done = cf_now_ns();
        start[n] = (double)(t - t0) / 1e6;
        dur[n] = (double)(done - t) / 1e6;
        off = off + size + size > CF_FILE_BYTES ? 0 : off + size;
        t = done;
    }
    return n;
}

static uint64_t cf_rng = 0x9e3779b97f4a7c15u;

/* One xorshift64* step of *state (each thread keeps its own). */
static uint64_t cf_next(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545f4914f6cdd1du;
}

/* An exponential gap with mean 1/rate seconds, in ns (xorshift64*, fixed seed). */
static uint64_t cf_gap_ns(double rate)
{
    double u = (double)(cf_next(&cf_rng) >> 11) / 9007199254740992.0; /* [0, 1) */
    return (uint64_t)(-log(1.0 - u) / rate * 1e9);
}

static void cf_sleep_until(uint64_t ns)
{
    struct timespec t = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
        ;
}

/* ---- the checkpointer beside the commits (--copy-mib) ---------------------------------------- */

/* What the copier does: mib 0 is no copier. */
typedef struct {
    long mib;  /* the database file's length */
    int pages; /* pages written per copy */
    int chunk; /* written back (and waited for) every chunk pages; 0: only the copy's sync */
} cf_copy_t;

typedef struct {
    cf_copy_t copy; /* what it does */
    int fd;         /* the database file, laid out */
    long file_pages;
    int quit;       /* atomic */
    int failed;     /* a write or sync failed */
    uint64_t rng;   /* its own xorshift state */
    long *order;    /* copy.pages page numbers, sorted before each copy */
    double *copies; /* each copy's duration (ms) */
    int n_copies, cap_copies;
    pthread_t thread;
} cf_copier_t;

static int cf_cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

static void *cf_copier_main(void *arg)
{
    cf_copier_t *c = arg;
    char page[CF_PAGE];
    memset(page, 0x3c, sizeof(page));
    uint64_t next = cf_now_ns();
    while (!__atomic_load_n(&c->quit, __ATOMIC_ACQUIRE) && !c->failed) {
        next += (uint64_t)CF_COPY_PERIOD_MS * 1000000u;
        cf_sleep_until(next);
        for (int i = 0; i < c->copy.pages; i++)
            c->order[i] = (long)(cf_next(&c->rng) % (uint64_t)c->file_pages);
        qsort(c->order, (size_t)c->copy.pages, sizeof(*c->order), cf_cmp_long);
        uint64_t t = cf_now_ns();
        for (int i = 0; i < c->copy.pages && !c->failed; i++) {
            c->failed = pwrite(c->fd, page, CF_PAGE, c->order[i] * CF_PAGE) != CF_PAGE;
            if (c->copy.chunk && (i + 1) % c->copy.chunk == 0)
                c->failed = c->failed ||
                            sync_file_range(c->fd, 0, 0,
                                            SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                                SYNC_FILE_RANGE_WAIT_AFTER) != 0;
        }
        c->failed = c->failed || fdatasync(c->fd) != 0;
        if (c->n_copies < c->cap_copies)
            c->copies[c->n_copies++] = (double)(cf_now_ns() - t) / 1e6;
    }
    return NULL;
}

/* Lays out a database file of copy->mib MiB in dir and starts the copier. 0 or -1 (nothing to
 * stop). */
static int cf_copier_start(cf_copier_t *c, const char *dir, const cf_copy_t *copy)
{
    char path[4096];
    static char chunk[1 << 20];
    memset(c, 0, sizeof(*c));
    c->copy = *copy;
    c->rng = 0x2545f4914f6cdd1du;
    c->file_pages = copy->mib * (1L << 20) / CF_PAGE;
    c->cap_copies = 1 << 16;
    snprintf(path, sizeof(path), "%s/commit-floor-db.%d", dir, (int)getpid());
    c->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (c->fd < 0)
        return -1;
    unlink(path);
    memset(chunk, 0x5a, sizeof(chunk));
    c->order = malloc(sizeof(*c->order) * (size_t)copy->pages);
    c->copies = malloc(sizeof(*c->copies) * (size_t)c->cap_copies);
    if (cf_lay_out(c->fd, chunk, sizeof(chunk), copy->mib * (1L << 20)) != 0 || !c->order ||
        !c->copies || pthread_create(&c->thread, NULL, cf_copier_main, c) != 0) {
        close(c->fd);
        free(c->order);
        free(c->copies);
        return -1;
    }
    return 0;
}

/* Stops and joins the copier: its copies' p50 duration (ms), or -1 when one failed. Frees it. */
static double cf_copier_stop(cf_copier_t *c)
{
    __atomic_store_n(&c->quit, 1, __ATOMIC_RELEASE);
    pthread_join(c->thread, NULL);
    double p50 = c->failed || !c->n_copies ? -1 : cf_dist(c->copies, c->n_copies).p50;
    close(c->fd);
    free(c->order);
    free(c->copies);
    return p50;
}

/* Paced: requests arrive at rate a second; each commit carries every request that arrived before
 * it began. wait[i]: request i's arrival to its commit's end (ms; until then, its arrival in ns
 * since the start); dur[c]: commit c (ms). Returns the requests measured (*n_commits the
 * commits), or -1. */
static int cf_paced(int fd, const char *buf, long size, double seconds, double rate, double *wait,
                    double *dur, int *n_commits)
{
    uint64_t t0 = cf_now_ns(), end = t0 + (uint64_t)(seconds * 1e9), next = t0 + cf_gap_ns(rate);
    long off = 0;
    int n = 0, c = 0;
    for (uint64_t now = t0; now < end && n < CF_MAX_COMMITS && c < CF_MAX_COMMITS;) {
        if (next > now) {
            cf_sleep_until(next);
            now = cf_now_ns();
        }
        int first = n;
        for (; next <= now && n < CF_MAX_COMMITS; next += cf_gap_ns(rate))
            wait[n++] = (double)(next - t0);
        if (pwrite(fd, buf, (size_t)size, off) != size || fdatasync(fd) != 0)
            return -1;
        uint64_t done = cf_now_ns();
        dur[c++] = (double)(done - now) / 1e6;
        for (int i = first; i < n; i++)
            wait[i] = ((double)(done - t0) - wait[i]) / 1e6;
        off = off + size + size > CF_FILE_BYTES ? 0 : off + size;
        now = done;
    }
    *n_commits = c;
    return n;
}

/* The wait of CF_ARRIVALS requests at evenly spread instants of the run: the rest of the
 * commit in flight, then the next one (which carries the request). */
static cf_dist_t cf_arrival_waits(const double *start, const double *dur, int n)
{
    double *w = malloc(sizeof(*w) * CF_ARRIVALS);
    double span = start[n - 2] + dur[n - 2];
    int j = 0;
    for (int k = 0; k < CF_ARRIVALS; k++) {
        double at = span * k / CF_ARRIVALS;
        while (j + 2 < n && start[j + 1] <= at)
            j++;
        double rest = start[j] + dur[j] - at;
        w[k] = (rest > 0 ? rest : 0) + dur[j + 1];
    }
    cf_dist_t d = cf_dist(w, CF_ARRIVALS);
    free(w);
    return d;
}

/* Opens an unlinked file in dir laid out with size-byte blocks of *buf (allocated here, freed by
 * the caller). The descriptor, or -1. */
static int cf_open_laid_out(const char *dir, long size, char **buf)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/commit-floor.%d", dir, (int)getpid());
    *buf = malloc((size_t)size);
    int fd = *buf ? open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    if (fd < 0)
        return -1;
    unlink(path);
    memset(*buf, 0x5a, (size_t)size);
    if (cf_lay_out(fd, *buf, size, CF_FILE_BYTES) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int cf_run(const char *dir, long size, double seconds, cf_result_t *r)
{
    char *buf = NULL;
    int fd = cf_open_laid_out(dir, size, &buf);
    double *start = malloc(sizeof(double) * CF_MAX_COMMITS);
    double *dur = malloc(sizeof(double) * CF_MAX_COMMITS);
    int n = fd >= 0 && start && dur ? cf_commits(fd, buf, size, seconds, start, dur) : -1;
    if (n >= 3) {
        memset(r, 0, sizeof(*r));
        r->size = size;
        r->commits = n;
        r->seconds = (start[n - 1] + dur[n - 1]) / 1e3;
        r->wait = cf_arrival_waits(start, dur, n);
        for (int i = 0; i < n; i++) {
            r->over5 += dur[i] > 5;
            r->over10 += dur[i] > 10;
            r->over50 += dur[i] > 50;
        }
        r->commit = cf_dist(dur, n);
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    free(start);
    free(dur);
    return n >= 3 ? 0 : -1;
}

/* One paced run (with the copier when copy is not NULL and copy->mib not 0): prints its
 * markdown row, the copy table's when copy is not NULL. 0 or -1. */
static int cf_run_paced(const char *dir, long size, double seconds, double rate,
                        const cf_copy_t *copy)
{
    char *buf = NULL;
    int fd = cf_open_laid_out(dir, size, &buf), commits = 0;
    double *wait = malloc(sizeof(double) * CF_MAX_COMMITS);
    double *dur = malloc(sizeof(double) * CF_MAX_COMMITS);
    cf_copier_t copier;
    long copy_mib = copy ? copy->mib : 0;
    int copying = fd >= 0 && copy_mib > 0 && cf_copier_start(&copier, dir, copy) == 0;
    int n = fd >= 0 && wait && dur && (copy_mib == 0 || copying)
                ? cf_paced(fd, buf, size, seconds, rate, wait, dur, &commits)
                : -1;
    double copy_p50 = copying ? cf_copier_stop(&copier) : 0;
    if (n >= 3 && commits >= 3 && copy_p50 >= 0) {
        cf_dist_t w = cf_dist(wait, n), d = cf_dist(dur, commits);
        char mib[32] = "none", pages[32] = "—", copy_ms[32] = "—", chunk[32] = "—";
        if (copy_mib) {
            snprintf(mib, sizeof(mib), "%ld", copy_mib);
            snprintf(pages, sizeof(pages), "%d", copy->pages);
            snprintf(copy_ms, sizeof(copy_ms), "%.1f", copy_p50);
            snprintf(chunk, sizeof(chunk), copy->chunk ? "%d pages" : "at its sync", copy->chunk);
        }
        if (copy)
            printf("| %.0f | %ld | %s | %s | %d | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | "
                   "%s | %s |\n",
                   rate, size, mib, pages, n, commits, d.p50, d.p99, w.p50, w.p99, w.p999, w.max,
                   copy_ms, chunk);
        else
            printf("| %.0f | %ld | %d | %d | %.2f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | "
                   "%.3f | %.3f |\n",
                   rate, size, n, commits, (double)n / commits, d.p50, d.p99, d.max, w.mean, w.p50,
                   w.p99, w.p999, w.max);
        fflush(stdout);
    } else
        n = -1;
    if (fd >= 0)
        close(fd);
    free(buf);
    free(wait);
    free(dur);
    return n >= 3 && commits >= 3 ? 0 : -1;
}

/* --rate (rate > 0, size bytes) or --paced-matrix (rate 0): prints the table; an exit status. */
static int cf_main_paced(const char *dir, double seconds, double rate, long size)
{
    /* the matrix: a quiet room's commit at about seed-paced's load and the soak's */
    double rates[2] = {rate > 0 ? rate : 100, 500};
    int n_rates = rate > 0 ? 1 : 2;
    if (rate == 0)
        size = 16384;
    printf("commit-floor: write + fdatasync of each group of requests arriving at random, %g s per "
           "rate, in %s\n\n",
           seconds, dir);
    printf("| requests/s | bytes per commit | requests | commits | requests per commit | "
           "commit ms p50 | p99 | max | wait ms mean | p50 | p99 | p99.9 | max |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < n_rates; i++)
        if (cf_run_paced(dir, size, seconds, rates[i], NULL) != 0) {
            fprintf(stderr, "commit-floor: %s: %s\n", dir, strerror(errno));
            return 1;
        }
    return 0;
}

/* --copy-matrix (copy->mib 0: no copy, then 20 and 500 MiB, then 500 MiB written back every 16
 * pages, at 500/s) or --rate R --copy-mib M: prints the copy table; an exit status. */
static int cf_main_copy(const char *dir, double seconds, double rate, long size,
                        const cf_copy_t *copy)
{
    /* the matrix: no copy, a soak's database after its first minute and at its end, and the
     * end's written back every 16 pages */
    cf_copy_t runs[4] = {
        {0, copy->pages, 0}, {20, copy->pages, 0}, {500, copy->pages, 0}, {500, copy->pages, 16}};
    int n_runs = 4;
    if (copy->mib > 0) {
        runs[0] = *copy;
        n_runs = 1;
    } else
        rate = 500, size = 16384;
    printf("commit-floor: write + fdatasync of each group of requests arriving at random, %g s per "
           "row, in %s, while a copier writes %d random pages of a database file in ascending "
           "order and syncs it every %d ms\n\n",
           seconds, dir, copy->pages, CF_COPY_PERIOD_MS);
    printf("| requests/s | bytes per commit | database MiB | pages per copy | requests | commits | "
           "commit ms p50 | p99 | wait ms p50 | p99 | p99.9 | max | copy ms p50 | copy written "
           "back |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (int i = 0; i < n_runs; i++)
        if (cf_run_paced(dir, size, seconds, rate, &runs[i]) != 0) {
            fprintf(stderr, "commit-floor: %s: %s\n", dir, strerror(errno));
            return 1;
        }
    return 0;
}

static void cf_usage(void)
{
    fprintf(stderr, "usage: commit-floor [--dir DIR] [--seconds S] [--size BYTES | --matrix] "
                    "[--rate R | --paced-matrix]\n"
                    "  --dir DIR      where the file goes (default $TMPDIR or /tmp: where the\n"
                    "                 benchmarks put their data directories)\n"
                    "  --seconds S    per size or rate (default 30)\n"
                    "  --size BYTES   bytes per commit (default 65536)\n"
                    "  --matrix       16 KiB, 64 KiB and 256 KiB in turn\n"
                    "  --rate R       requests arrive R a second at random instead, each commit\n"
                    "                 carrying those that came while the last ran (--size bytes)\n"
                    "  --paced-matrix --rate 100 and --rate 500 with 16 KiB commits\n"
                    "  --copy-mib M   with --rate: a checkpointer writes random pages of an M MiB\n"
                    "                 database file beside the commits\n"
                    "  --copy-pages N pages per copy (default 2100, one every 1.5 s)\n"
                    "  --copy-chunk N write the copy back every N pages (sync_file_range, waited\n"
                    "                 for) instead of only at its sync\n"
                    "  --copy-matrix  500/s with no copy, copies into 20 and 500 MiB, and into\n"
                    "                 500 MiB with --copy-chunk 16\n");
}

int main(int argc, char **argv)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    double seconds = 30;
    long sizes[3] = {65536, 0, 0};
    int n_sizes = 1;
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'},      {"seconds", required_argument, 0, 's'},
        {"size", required_argument, 0, 'z'},     {"matrix", no_argument, 0, 'm'},
        {"rate", required_argument, 0, 'r'},     {"paced-matrix", no_argument, 0, 'p'},
        {"copy-mib", required_argument, 0, 'c'}, {"copy-pages", required_argument, 0, 'g'},
        {"copy-matrix", no_argument, 0, 'x'},    {"copy-chunk", required_argument, 0, 'k'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    double rate = 0;
    int paced_matrix = 0, copy_matrix = 0;
    cf_copy_t copy = {0, 2100, 0};
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (c == 'd')
            dir = optarg;
        else if (c == 's')
            seconds = atof(optarg);
        else if (c == 'r')
            rate = atof(optarg);
        else if (c == 'p')
            paced_matrix = 1;
        else if (c == 'c')
            copy.mib = atol(optarg);
        else if (c == 'g')
            copy.pages = atoi(optarg);
        else if (c == 'k')
            copy.chunk = atoi(optarg);
        else if (c == 'x')
            copy_matrix = 1;
        else if (c == 'z')
            sizes[0] = atol(optarg);
        else if (c == 'm') {
            sizes[0] = 16384, sizes[1] = 65536, sizes[2] = 262144;
            n_sizes = 3;
        } else {
            cf_usage();
            return c == 'h' ? 0 : 2;
        }
    }
    if (seconds <= 0 || sizes[0] < 512 || sizes[0] > (16L << 20) || rate < 0 || copy.mib < 0 ||
        copy.mib > (64L << 10) || copy.pages < 1 || copy.pages > (1 << 20) || copy.chunk < 0 ||
        (copy.mib > 0 && rate == 0)) {
        cf_usage();
        return 2;
    }
    if (copy_matrix)
        copy.mib = 0;
    if (copy_matrix || copy.mib > 0)
        return cf_main_copy(dir, seconds, rate, sizes[0], &copy);
    if (rate > 0 || paced_matrix)
        return cf_main_paced(dir, seconds, paced_matrix ? 0 : rate, sizes[0]);
    printf("commit-floor: write + fdatasync back to back over a laid-out 64 MiB file in %s, %g s "
           "per size\n\n",
           dir, seconds);
    printf("| bytes per commit | commits | commits/s | commit ms p50 | p99 | p99.9 | max | "
           "> 5 ms | > 10 ms | > 50 ms | arrival wait ms mean | p50 | p99 | p99.9 | max |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < n_sizes; i++) {
        cf_result_t r;
        if (cf_run(dir, sizes[i], seconds, &r) != 0) {
            fprintf(stderr, "commit-floor: %s: %s\n", dir, strerror(errno));
            return 1;
        }
        printf("| %ld | %d | %.0f | %.3f | %.3f | %.3f | %.3f | %d | %d | %d | %.3f | %.3f | "
               "%.3f | %.3f | %.3f |\n",
               r.size, r.commits, r.commits / r.seconds, r.commit.p50, r.commit.p99, r.commit.p999,
               r.commit.max, r.over5, r.over10, r.over50, r.wait.mean, r.wait.p50, r.wait.p99,
               r.wait.p999, r.wait.max);
        fflush(stdout);
    }
    return 0;
}
