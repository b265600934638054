#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"

void cli_progress_init(cli_progress *p, int quiet, const char *label)
{
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->quiet = quiet;
    p->last_draw = 0;
    p->label = label;
}

void cli_progress_cb(void *user, double done_s, double total_s)
{
    cli_progress *p = user;
    if (!p->enabled)
        return;
    double now = cli_now();
    if (now - p->last_draw < 0.1)
        return;
    p->last_draw = now;
    if (total_s > 0) {
        double frac = done_s / total_s;
        if (frac > 1)
            frac = 1;
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%s [%s] %3.0f%%  %.1f/%.1f s ", p->label, bar, frac * 100, done_s,
                total_s);
    } else {
        fprintf(stderr, "\r%s %.1f s ", p->label, done_s);
    }
    fflush(stderr);
}

void cli_progress_done(cli_progress *p)
{
    if (p->enabled && p->last_draw > 0) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
}

void cli_progress_warning(void *user, const char *message)
{
    cli_progress *p = user;
    if (!p->quiet) {
        cli_progress_done(p);
        cli_error("warning: %s", message);
    }
}
