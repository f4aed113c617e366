/* Line-oriented logger writing to stderr with an ISO-8601 UTC timestamp. */
#include "core/log.h"

#include "core/err.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

log_level_t log_threshold = LOG_INFO;

#define LOG_BUF_MAX 65536

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[LOG_BUF_MAX];
static size_t log_len;
static int log_buffered;

static void log_flush_locked(void)
{
    if (log_len)
        fwrite(log_buf, 1, log_len, stderr);
    log_len = 0;
}

void log_flush(void)
{
    pthread_mutex_lock(&log_mu);
    log_flush_locked();
    pthread_mutex_unlock(&log_mu);
}

void log_set_buffered(int on)
{
    pthread_mutex_lock(&log_mu);
    log_buffered = on;
    if (!on)
        log_flush_locked();
    pthread_mutex_unlock(&log_mu);
}

/* Appends one line, writing through when unbuffered or when the buffer is full. */
static void log_emit(const char *line, size_t len)
{
    pthread_mutex_lock(&log_mu);
    if (log_len + len > LOG_BUF_MAX || !log_buffered)
        log_flush_locked();
    if (log_buffered && len <= LOG_BUF_MAX) {
        memcpy(log_buf + log_len, line, len);
        log_len += len;
    } else {
        fwrite(line, 1, len, stderr);
    }
    pthread_mutex_unlock(&log_mu);
}

static const char *const log_names[] = {"debug", "info", "warn", "error", "off"};

int log_level_parse(const char *s, log_level_t *out)
{
    for (int i = 0; i <= LOG_OFF; i++) {
        if (strcmp(s, log_names[i]) == 0) {
            *out = (log_level_t)i;
            return 0;
        }
    }
    return GV_EINVALID_REQUEST;
}

void log_write(log_level_t level, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, log_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    log_emit(line, len);
}
