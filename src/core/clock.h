/* The monotonic clock every stage times itself with, the wall clock, and the "mm:ss" people
 * read. */
#ifndef FW_CORE_CLOCK_H
#define FW_CORE_CLOCK_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

/* Seconds on CLOCK_MONOTONIC (only differences mean anything). */
static inline double fw_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Seconds since the epoch on CLOCK_REALTIME (what a date is made of). */
static inline double fw_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* t seconds as "mm:ss", or "h:mm:ss" from one hour on (rounded; negative times and NaN are
 * 00:00, times past 10^12 s are cut there: a report from elsewhere may hold anything).
 * Returns buf. */
static inline const char *fw_clock_mmss(double t, char *buf, size_t n)
{
    long s = t > 1e12 ? 1000000000000L : t > 0 ? (long)(t + 0.5) : 0;
    if (s >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, n, "%02ld:%02ld", s / 60, s % 60);
    return buf;
}

#endif
