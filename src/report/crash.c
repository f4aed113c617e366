/* The fatal-signal handler: everything it writes is formatted before the crash or with plain
 * arithmetic into a stack buffer, and reaches stderr with write(2): async-signal-safe. */
#include "report/crash.h"

#include "core/err.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CRASH_STACK_BYTES (64 * 1024)
#define CRASH_NSIG 5

static const int crash_signals[CRASH_NSIG] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static const char *const crash_names[CRASH_NSIG] = {"SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL",
                                                    "SIGABRT"};
static struct sigaction crash_old[CRASH_NSIG];
static char crash_stack[CRASH_STACK_BYTES];
static char crash_head[160]; /* from after the timestamp up to the signal's name */
static char crash_tail[160]; /* after the signal's name, newline included */
static int crash_json;
static int crash_installed;

/* ---- formatting without libc's formatted output (async-signal-safe) ------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
} crash_line_t;

static void crash_put(crash_line_t *l, const char *s)
{
    while (*s && l->len < l->cap)
        l->p[l->len++] = *s++;
}

/* v in decimal, zero-padded to width digits. */
static void crash_put_uint(crash_line_t *l, uint64_t v, int width)
{
    char d[24];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while ((v || n < width) && n < (int)sizeof(d));
    while (n > 0 && l->len < l->cap)
        l->p[l->len++] = d[--n];
}

/* The civil date of a day count since 1970-01-01 (H. Hinnant's days_from_civil inverse). */
static void crash_civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* "2025-11-23T19:00:00.000Z" of the wall clock (clock_gettime is async-signal-safe). */
static void crash_put_ts(crash_line_t *l)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t s = ts.tv_sec > 0 ? ts.tv_sec : 0, y;
    unsigned m, d, sec = (unsigned)(s % 86400);
    crash_civil(s / 86400, &y, &m, &d);
    crash_put_uint(l, (uint64_t)y, 4);
    crash_put(l, "-");
    crash_put_uint(l, m, 2);
    crash_put(l, "-");
    crash_put_uint(l, d, 2);
    crash_put(l, "T");
    crash_put_uint(l, sec / 3600, 2);
    crash_put(l, ":");
    crash_put_uint(l, sec / 60 % 60, 2);
    crash_put(l, ":");
    crash_put_uint(l, sec % 60, 2);
    crash_put(l, ".");
    crash_put_uint(l, (uint64_t)ts.tv_nsec / 1000000, 3);
    crash_put(l, "Z");
}

static void crash_write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w, n -= (size_t)w;
    }
}

/* ---- the handler ---------------------------------------------------------------------------- */

static void crash_on_signal(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    int saved = errno, i = 0;
    while (i < CRASH_NSIG - 1 && crash_signals[i] != sig)
        i++;
    char buf[512];
    crash_line_t l = {buf, 0, sizeof(buf)};
    crash_put(&l, crash_json ? "{\"ts\":\"" : "ts=");
    crash_put_ts(&l);
    crash_put(&l, crash_head);
    crash_put(&l, crash_names[i]);
    crash_put(&l, crash_tail);
    log_flush_in_signal(); /* the lines of the last moments first */
    crash_write_all(buf, l.len);
    sigaction(sig, &crash_old[i], NULL);
    if (!info || info->si_code <= 0) /* sent (kill, raise, abort): send it again */
        raise(sig);                  /* blocked until this handler returns */
    errno = saved; /* a fault: the instruction runs again and faults under the old disposition */
}

/* Copies the version keeping characters that need no escaping in either format. */
static void crash_version_copy(const char *v, char *out, size_t n)
{
    size_t j = 0;
    for (; v && *v && j + 1 < n; v++) {
        char c = *v;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 (c && strchr("._+-", c));
        out[j++] = ok ? c : '_';
    }
    out[j] = '\0';
}

static void crash_preformat(log_format_t format, const char *version)
{
    char v[64];
    crash_version_copy(version, v, sizeof(v));
    long pid = (long)getpid();
    crash_json = format == LOG_FORMAT_JSON;
    if (crash_json) {
        snprintf(crash_head, sizeof(crash_head),
                 "\",\"level\":\"error\",\"msg\":\"error report\",\"kind\":\"fatal_signal\","
                 "\"signal\":\"");
        snprintf(crash_tail, sizeof(crash_tail), "\",\"pid\":\"%ld\",\"version\":\"%s\"}\n", pid,
                 v);
    } else {
        snprintf(crash_head, sizeof(crash_head),
                 " level=error error report kind=fatal_signal signal=");
        snprintf(crash_tail, sizeof(crash_tail), " pid=%ld version=%s\n", pid, v);
    }
}

int crash_handler_install(log_format_t format, const char *version)
{
    if (crash_installed)
        return 0;
    crash_preformat(format, version);
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_DISABLE)) {
        stack_t ss = {.ss_sp = crash_stack, .ss_size = sizeof(crash_stack), .ss_flags = 0};
        if (sigaltstack(&ss, NULL) != 0)
            return GV_EIO;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = crash_on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < CRASH_NSIG; i++)
        if (sigaction(crash_signals[i], &sa, &crash_old[i]) != 0)
            return GV_EIO;
    crash_installed = 1;
    return 0;
}
