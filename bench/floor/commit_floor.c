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
 * has several. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CF_FILE_BYTES (64L << 20) /* the log's length before it starts over */
#define CF_ARRIVALS 1000000       /* random arrival instants sampled per run */
#define CF_MAX_COMMITS 2000000

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
static int cf_lay_out(int fd, const char *buf, long size)
{
    for (long off = 0; off < CF_FILE_BYTES; off += size)
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

/* An exponential gap with mean 1/rate seconds, in ns (xorshift64*, fixed seed). */
static uint64_t cf_gap_ns(double rate)
{
    cf_rng ^= cf_rng >> 12;
    cf_rng ^= cf_rng << 25;
    cf_rng ^= cf_rng >> 27;
    double u = (double)((cf_rng * 0x2545f4914f6cdd1du) >> 11) / 9007199254740992.0; /* [0, 1) */
    return (uint64_t)(-log(1.0 - u) / rate * 1e9);
}

static void cf_sleep_until(uint64_t ns)
{
    struct timespec t = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
        ;
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
    if (cf_lay_out(fd, *buf, size) != 0) {
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

/* One paced run: prints its markdown row. 0 or -1. */
static int cf_run_paced(const char *dir, long size, double seconds, double rate)
{
    char *buf = NULL;
    int fd = cf_open_laid_out(dir, size, &buf), commits = 0;
    double *wait = malloc(sizeof(double) * CF_MAX_COMMITS);
    double *dur = malloc(sizeof(double) * CF_MAX_COMMITS);
    int n =
        fd >= 0 && wait && dur ? cf_paced(fd, buf, size, seconds, rate, wait, dur, &commits) : -1;
    if (n >= 3 && commits >= 3) {
        cf_dist_t w = cf_dist(wait, n), d = cf_dist(dur, commits);
        printf("| %.0f | %ld | %d | %d | %.2f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | "
               "%.3f |\n",
               rate, size, n, commits, (double)n / commits, d.p50, d.p99, d.max, w.mean, w.p50,
               w.p99, w.p999, w.max);
        fflush(stdout);
    }
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
        if (cf_run_paced(dir, size, seconds, rates[i]) != 0) {
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
                    "  --paced-matrix --rate 100 and --rate 500 with 16 KiB commits\n");
}

int main(int argc, char **argv)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    double seconds = 30;
    long sizes[3] = {65536, 0, 0};
    int n_sizes = 1;
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'},  {"seconds", required_argument, 0, 's'},
        {"size", required_argument, 0, 'z'}, {"matrix", no_argument, 0, 'm'},
        {"rate", required_argument, 0, 'r'}, {"paced-matrix", no_argument, 0, 'p'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    double rate = 0;
    int paced_matrix = 0;
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (c == 'd')
            dir = optarg;
        else if (c == 's')
            seconds = atof(optarg);
        else if (c == 'r')
            rate = atof(optarg);
        else if (c == 'p')
            paced_matrix = 1;
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
    if (seconds <= 0 || sizes[0] < 512 || sizes[0] > (16L << 20) || rate < 0) {
        cf_usage();
        return 2;
    }
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
