/* Processes: whether one still runs (the store and the queue tell a killed owner from a
 * live one by the pid they recorded). */
#ifndef FW_CORE_PROC_H
#define FW_CORE_PROC_H

#include <sys/types.h>

/* 1 when process pid runs; a killed process nobody has reaped yet (a zombie) is gone. */
int fw_pid_alive(pid_t pid);

#endif
