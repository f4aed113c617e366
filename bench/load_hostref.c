/* gavel-load's host reference: the same small piece of work, timed in its own thread's CPU time
 * once a second while the bidding runs. Its work never changes, so when it takes more CPU in one
 * window than in another, the machine under the benchmark was slower then (a busy neighbour on
 * the same physical core, the hypervisor), not Gavel: a soak's windows can be read against it.
 *
 * Three parts, each timed apart: arithmetic (a dependent multiply-add chain: the core itself), a
 * random walk over 256 KiB (the core's own caches, small enough that the server's and the load
 * generator's memory traffic on the other core leaves it mostly alone) and 64 write + read pairs
 * on a pipe the thread owns (system calls: entry, exit and the kernel's own work, with no
 * wake-up of anyone). About 1 ms of CPU a second: 0.1 % of one core.
 *
 * Beside it, the disks' own count of writes and of the time they took (/proc/diskstats), read
 * by the windows: a durable commit waits for the disk, so a disk that got slower per write shows
 * in the round trips whatever Gavel does. */
#include "load.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HR_ALU_STEPS 300000
#define HR_MEM_WORDS (64 * 1024) /* 256 KiB of uint32_t */
#define HR_MEM_STEPS 200000
#define HR_PIPE_PAIRS 64
#define HR_MAX_SAMPLES (12 * 3600) /* twelve hours, one a second */

typedef struct {
    uint64_t at_ns;                /* CLOCK_MONOTONIC, uv_hrtime()'s clock */
    double alu_ms, mem_ms, sys_ms; /* thread CPU time of each part */
} hr_sample_t;

static struct {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running, quit;
    int n;        /* samples taken */
    double cpu_s; /* the thread's CPU time so far */
    int pipe_fd[2];
    uint64_t sink; /* keeps the arithmetic from being optimised away */
} hr = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .pipe_fd = {-1, -1}};
static hr_sample_t hr_samples[HR_MAX_SAMPLES];
static uint32_t hr_mem[HR_MEM_WORDS];

static double hr_clock_ms(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static uint64_t hr_alu(void)
{
    uint64_t x = hr.sink | 1;
    for (int i = 0; i < HR_ALU_STEPS; i++)
        x = x * 6364136223846793005u + 1442695040888963407u;
    return x;
}

static uint64_t hr_walk(void)
{
    uint32_t j = (uint32_t)hr.sink, acc = 0;
    for (int i = 0; i < HR_MEM_STEPS; i++) {
        j = (j * 1103515245u + 12345u) % HR_MEM_WORDS;
        acc += hr_mem[j];
        hr_mem[j] = acc;
    }
    return acc;
}

static int hr_syscalls(void)
{
    char b[64] = {0};
    for (int i = 0; i < HR_PIPE_PAIRS; i++)
        if (write(hr.pipe_fd[1], b, sizeof(b)) != (ssize_t)sizeof(b) ||
            read(hr.pipe_fd[0], b, sizeof(b)) != (ssize_t)sizeof(b))
            return -1;
    return 0;
}

/* One sample: the three parts, each in this thread's CPU time. */
static hr_sample_t hr_measure(void)
{
    hr_sample_t s;
    s.at_ns = (uint64_t)(hr_clock_ms(CLOCK_MONOTONIC) * 1e6);
    double t0 = hr_clock_ms(CLOCK_THREAD_CPUTIME_ID);
    hr.sink += hr_alu();
    double t1 = hr_clock_ms(CLOCK_THREAD_CPUTIME_ID);
    hr.sink += hr_walk();
    double t2 = hr_clock_ms(CLOCK_THREAD_CPUTIME_ID);
    int sys_ok = hr_syscalls() == 0;
    double t3 = hr_clock_ms(CLOCK_THREAD_CPUTIME_ID);
    s.alu_ms = t1 - t0;
    s.mem_ms = t2 - t1;
    s.sys_ms = sys_ok ? t3 - t2 : 0;
    return s;
}

static void *hr_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&hr.mu);
    while (!hr.quit) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until); /* pthread_cond_timedwait's default clock */
        until.tv_sec += 1;
        pthread_cond_timedwait(&hr.cv, &hr.mu, &until);
        if (hr.quit)
            break;
        pthread_mutex_unlock(&hr.mu);
        hr_sample_t s = hr_measure();
        double cpu = hr_clock_ms(CLOCK_THREAD_CPUTIME_ID) / 1e3;
        pthread_mutex_lock(&hr.mu);
        if (hr.n < HR_MAX_SAMPLES)
            hr_samples[hr.n++] = s;
        hr.cpu_s = cpu;
    }
    pthread_mutex_unlock(&hr.mu);
    return NULL;
}

int lg_hostref_start(void)
{
    if (hr.running)
        return 0;
    if (pipe(hr.pipe_fd) != 0 || pthread_create(&hr.thread, NULL, hr_main, NULL) != 0) {
        lg_hostref_stop();
        return -1;
    }
    hr.running = 1;
    return 0;
}

void lg_hostref_stop(void)
{
    if (hr.running) {
        pthread_mutex_lock(&hr.mu);
        hr.quit = 1;
        pthread_cond_signal(&hr.cv);
        pthread_mutex_unlock(&hr.mu);
        pthread_join(hr.thread, NULL);
        hr.running = 0;
    }
    for (int i = 0; i < 2; i++)
        if (hr.pipe_fd[i] >= 0)
            close(hr.pipe_fd[i]);
    hr.pipe_fd[0] = hr.pipe_fd[1] = -1;
}

int lg_hostref_mean(uint64_t from_ns, uint64_t to_ns, lg_hostref_t *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&hr.mu);
    for (int i = 0; i < hr.n; i++) {
        const hr_sample_t *s = &hr_samples[i];
        if (s->at_ns < from_ns || s->at_ns >= to_ns)
            continue;
        out->alu_ms += s->alu_ms;
        out->mem_ms += s->mem_ms;
        out->sys_ms += s->sys_ms;
        out->n++;
    }
    pthread_mutex_unlock(&hr.mu);
    if (out->n) {
        out->alu_ms /= out->n;
        out->mem_ms /= out->n;
        out->sys_ms /= out->n;
    }
    return out->n;
}

double lg_hostref_cpu_s(void)
{
    pthread_mutex_lock(&hr.mu);
    double v = hr.cpu_s;
    pthread_mutex_unlock(&hr.mu);
    return v;
}

/* A whole disk's name (vda, sdb, xvda, nvme0n1), not a partition's or a virtual device's. */
static int hr_whole_disk(const char *name)
{
    size_t n = strlen(name);
    if (!strncmp(name, "nvme", 4))
        return strchr(name, 'p') == NULL && strchr(name, 'n') != NULL;
    if (strncmp(name, "vd", 2) && strncmp(name, "sd", 2) && strncmp(name, "xvd", 3))
        return 0;
    return n > 0 && !isdigit((unsigned char)name[n - 1]);
}

int lg_disk_writes(uint64_t *writes, uint64_t *write_ms)
{
    FILE *f = fopen("/proc/diskstats", "r");
    if (!f)
        return -1;
    char line[512], name[64];
    unsigned long long v[8];
    int found = 0;
    *writes = *write_ms = 0;
    while (fgets(line, sizeof(line), f)) {
        /* major minor name reads merged sectors ms writes merged sectors ms ... */
        if (sscanf(line, "%*u %*u %63s %llu %llu %llu %llu %llu %llu %llu %llu", name, &v[0], &v[1],
                   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 9 &&
            hr_whole_disk(name)) {
            *writes += v[4];
            *write_ms += v[7];
            found = 1;
        }
    }
    fclose(f);
    return found ? 0 : -1;
}
