/* Real and fake clocks. */
#include "core/clock.h"

#include <stdio.h>
#include <time.h>

void clock_real_init(gv_clock_t *c)
{
    c->fake = 0;
    c->fake_ms = 0;
    c->fake_us = 0;
}

void clock_fake_init(gv_clock_t *c, int64_t start_ms)
{
    c->fake = 1;
    c->fake_ms = start_ms;
    c->fake_us = 0;
}

void clock_fake_advance(gv_clock_t *c, int64_t ms)
{
    c->fake_ms += ms;
    c->fake_us += ms * 1000;
}

int64_t clock_now_ms(const gv_clock_t *c)
{
    if (c->fake)
        return c->fake_ms;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_us(const gv_clock_t *c)
{
    if (c->fake)
        return c->fake_us;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void clock_format_iso(int64_t ms, char out[32])
{
    time_t sec = (time_t)(ms / 1000);
    int milli = (int)(ms % 1000);
    if (milli < 0) {
        milli += 1000;
        sec -= 1;
    }
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", milli);
}
