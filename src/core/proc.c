#include "core/proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

int fw_pid_alive(pid_t pid)
{
    if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM))
        return 0;
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    const char *state = fgets(line, sizeof line, f) ? strrchr(line, ')') : NULL;
    fclose(f);
    return !(state && state[1] == ' ' && (state[2] == 'Z' || state[2] == 'X'));
}
