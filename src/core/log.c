/* The log callback (fw_set_log). The callback, its user pointer and level change together
 * under one lock, and the callback runs under it: lines from several threads never
 * interleave, and once fw_set_log returns the previous callback is never called again
 * (so its user pointer may be freed). The level is also kept apart, atomically, so that
 * fw_log_on costs one load when nothing listens. */
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static fw_log_fn log_fn;
static void *log_user;
static atomic_int log_max = -1; /* -1: no callback */

void fw_set_log(fw_log_fn fn, void *user, int max_level)
{
    pthread_mutex_lock(&log_lock);
    log_fn = fn;
    log_user = user;
    atomic_store(&log_max, fn ? max_level : -1);
    pthread_mutex_unlock(&log_lock);
}

int fw_log_on(int level)
{
    return level <= atomic_load_explicit(&log_max, memory_order_relaxed);
}

void fw_log(int level, const char *fmt, ...)
{
    if (!fw_log_on(level))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    if (log_fn && level <= atomic_load(&log_max))
        log_fn(log_user, level, line);
    pthread_mutex_unlock(&log_lock);
}

/* fw_set_log_level, kept for callers of the 0.1 API: they asked for libav*'s messages
 * on stderr, so this callback (installed only by that call) writes them there. */
static void log_to_stderr(void *user, int level, const char *line)
{
    (void)user;
    (void)level;
    fprintf(stderr, "%s\n", line);
}

void fw_set_log_level(int level)
{
    if (level <= 0)
        fw_set_log(NULL, NULL, 0);
    else
        fw_set_log(log_to_stderr, NULL, level == 1 ? FW_LOG_WARN : FW_LOG_INFO);
}
