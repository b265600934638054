/* The library's one log: every message the engine has for a person (libav*'s, traces
 * for tuning, degraded paths) goes through fw_log to the callback of fw_set_log
 * (include/framewise.h), never to stdout or stderr. Thread-safe. */
#ifndef FW_CORE_LOG_H
#define FW_CORE_LOG_H

#include "framewise.h"

/* 1 when a message at level would reach a callback: check it before costly formatting. */
int fw_log_on(int level);
/* One line (no trailing newline needed) at level (FW_LOG_*), printf-formatted. */
void fw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
