/* The monotonic clock every stage times itself with. */
#ifndef FW_CORE_CLOCK_H
#define FW_CORE_CLOCK_H

#include <time.h>

/* Seconds on CLOCK_MONOTONIC (only differences mean anything). */
static inline double fw_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
