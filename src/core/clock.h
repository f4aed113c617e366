/* Time as a value passed in: a real clock for the server and a fake one for tests. Code that
 * makes decisions takes `now` as a parameter; only the shell asks a clock. */
#ifndef GAVEL_CORE_CLOCK_H
#define GAVEL_CORE_CLOCK_H

#include <stdint.h>

typedef struct clock_s {
    int fake;        /* 1: time only moves by clock_fake_advance */
    int64_t fake_ms; /* fake wall time, epoch ms */
    int64_t fake_us; /* fake monotonic time, µs */
} gv_clock_t;

/* clock_real_init makes c follow the system clocks. */
void clock_real_init(gv_clock_t *c);

/* clock_fake_init makes c a fake clock starting at epoch start_ms (monotonic starts at 0). */
void clock_fake_init(gv_clock_t *c, int64_t start_ms);

/* clock_fake_advance moves a fake clock forward by ms (both wall and monotonic time). */
void clock_fake_advance(gv_clock_t *c, int64_t ms);

/* clock_now_ms returns wall-clock epoch milliseconds. */
int64_t clock_now_ms(const gv_clock_t *c);

/* clock_mono_us returns monotonic microseconds (for durations only). */
int64_t clock_mono_us(const gv_clock_t *c);

/* clock_format_iso writes epoch ms as ISO-8601 UTC with milliseconds
 * ("2025-11-23T19:00:00.000Z") into out. */
void clock_format_iso(int64_t ms, char out[32]);

#endif
