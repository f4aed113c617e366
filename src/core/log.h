/* Process logging: one line per event, key=value pairs, a level checked before the arguments are
 * evaluated. Only the server shell logs; library-like code returns error codes instead. */
#ifndef GAVEL_CORE_LOG_H
#define GAVEL_CORE_LOG_H

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF } log_level_t;

extern log_level_t log_threshold;

/* log_level_parse maps "debug|info|warn|error|off" to a level; returns 0 or GV_EINVALID_REQUEST. */
int log_level_parse(const char *s, log_level_t *out);

/* log_set_buffered(1) keeps lines in memory until log_flush (or 64 KiB), so a busy server
 * writes its log once per loop turn instead of once per line; 0 writes each line at once (and
 * flushes). Thread-safe. */
void log_set_buffered(int on);

/* log_flush writes buffered lines to stderr. */
void log_flush(void);

/* log_write formats one line "ts=... level=... <message>" to stderr. Use the macros. */
void log_write(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_AT(lvl, ...)                                                                           \
    do {                                                                                           \
        if ((lvl) >= log_threshold)                                                                \
            log_write((lvl), __VA_ARGS__);                                                         \
    } while (0)
#define log_debug(...) LOG_AT(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) LOG_AT(LOG_INFO, __VA_ARGS__)
#define log_warn(...) LOG_AT(LOG_WARN, __VA_ARGS__)
#define log_error(...) LOG_AT(LOG_ERROR, __VA_ARGS__)

#endif
