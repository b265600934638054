/* What the subcommands print: JSON as report.json is written, times people read. */
#include <stdio.h>

#include "cli/cli.h"

int cli_print_json(json_t *root)
{
    int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fputc('\n', stdout);
    return rc;
}

const char *cli_clock(double t, char *buf, size_t n)
{
    if (t < 0)
        t = 0;
    long ms = (long)(t * 1000 + 0.5);
    long h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60;
    if (h)
        snprintf(buf, n, "%ld:%02ld:%02ld.%03ld", h, m, s, ms % 1000);
    else
        snprintf(buf, n, "%02ld:%02ld.%03ld", m, s, ms % 1000);
    return buf;
}
