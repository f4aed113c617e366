/* Prometheus text exposition helpers: fixed-bucket histograms and process gauges. */
#ifndef GAVEL_CORE_METRICS_H
#define GAVEL_CORE_METRICS_H

#include "core/buf.h"

#include <stdint.h>

#define METRICS_HIST_MAX 20

typedef struct {
    size_t n;                          /* number of upper bounds */
    const double *bounds;              /* ascending, borrowed (static) */
    uint64_t counts[METRICS_HIST_MAX]; /* per bucket, not cumulative */
    uint64_t count;
    double sum;
} metrics_hist_t;

/* Latency buckets in seconds: 50 µs .. 10 s. */
extern const double metrics_latency_bounds[];
extern const size_t metrics_latency_nbounds;

/* metrics_hist_init resets h with bounds (n <= METRICS_HIST_MAX; borrowed). */
void metrics_hist_init(metrics_hist_t *h, const double *bounds, size_t n);

/* metrics_hist_observe adds one observation of v. */
void metrics_hist_observe(metrics_hist_t *h, double v);

/* metrics_hist_write appends the _bucket/_sum/_count lines of h to out. labels is "" or
 * `key="value"` pairs without braces. 0 or GV_ENOMEM. */
int metrics_hist_write(buf_t *out, const char *name, const char *labels, const metrics_hist_t *h);

/* metrics_hist_family_write appends the HELP/TYPE lines and the samples of one unlabelled
 * histogram. 0 or GV_ENOMEM. */
int metrics_hist_family_write(buf_t *out, const char *name, const char *help,
                              const metrics_hist_t *h);

/* metrics_type_write appends the "# HELP" and "# TYPE" lines. */
int metrics_type_write(buf_t *out, const char *name, const char *type, const char *help);

/* metrics_process_write appends process_resident_memory_bytes, process_cpu_seconds_total,
 * process_open_fds and process_start_time_seconds (start_s). 0 or GV_ENOMEM. */
int metrics_process_write(buf_t *out, double start_s);

/* metrics_label_escape copies s into out (size n) escaping \, " and newlines. */
void metrics_label_escape(const char *s, char *out, size_t n);

/* metrics_open_fds counts the process's open file descriptors (process_open_fds). */
int metrics_open_fds(void);

#endif
