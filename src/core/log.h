/* Process logging: one line per event, key=value pairs, a level checked before the arguments are
 * evaluated; written as logfmt or, with --log-format json, as one JSON object per line. Only the
 * server shell logs; library-like code returns error codes instead. */
#ifndef GAVEL_CORE_LOG_H
#define GAVEL_CORE_LOG_H

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF } log_level_t;

extern log_level_t log_threshold;

typedef enum { LOG_FORMAT_LOGFMT = 0, LOG_FORMAT_JSON } log_format_t;

/* log_format_parse maps "logfmt|json" to a format; returns 0 or GV_EINVALID_REQUEST. */
int log_format_parse(const char *s, log_format_t *out);

/* log_set_format chooses how lines are written (default logfmt): "ts=... level=... message", or
 * one JSON object per line, {"ts":..,"level":..,"msg":..,"<key>":"<value>",...}, made from the
 * same message: the words that are not key=value pairs form msg (joined by one space); every
 * pair becomes a member whose value is a string (numbers too: a key always has one type);
 * k="a b" is unquoted (\" and \\ inside become " and \; the closing quote is the one followed
 * by a blank or the end); pairs named ts, level or msg are written as _ts, _level, _msg; bytes
 * that are not UTF-8 become U+FFFD. Call it at start, before other threads log. */
void log_set_format(log_format_t f);

/* log_get_format returns the format chosen by log_set_format. */
log_format_t log_get_format(void);

/* log_level_parse maps "debug|info|warn|error|off" to a level; returns 0 or GV_EINVALID_REQUEST. */
int log_level_parse(const char *s, log_level_t *out);

/* log_set_buffered(1) keeps lines in memory until log_flush (or 64 KiB), so a busy server
 * writes its log once per loop turn instead of once per line; 0 writes each line at once (and
 * flushes). Thread-safe. */
void log_set_buffered(int on);

/* log_flush writes buffered lines to stderr. */
void log_flush(void);

/* log_flush_in_signal writes the buffered lines to stderr with write(2) and without the lock:
 * for a fatal-signal handler (async-signal-safe; best effort, a line being added may be cut). */
void log_flush_in_signal(void);

/* log_write formats one line "ts=... level=... <message>" (or its JSON form) to stderr. Use the
 * macros. */
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
