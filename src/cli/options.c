#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/settings.h"

enum { OPT_JSON = 1000, OPT_CSV, OPT_PROMPT_FILE, OPT_EXTRA = 1500, OPT_SETTING = 2000 };

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("framewise: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_exit_code(int code)
{
    switch (code) {
    case FW_OK: return EXIT_OK;
    case FW_EINVAL:
    case FW_EOPEN:
    case FW_EFORMAT:
    case FW_ENOVIDEO:
    case FW_EDECODE: return EXIT_USAGE;
    default: return EXIT_RUNTIME;
    }
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 1 when message begins with name, then ':' or ' '. */
static int about(const char *message, const char *name)
{
    size_t n = strlen(name);
    return strncmp(message, name, n) == 0 && (message[n] == ':' || message[n] == ' ');
}

void cli_fail(const cli_command *cmd, const char *message)
{
    int option = 0;
    for (int i = 0; cmd->settings[i] && !option; i++)
        option = about(message, cmd->settings[i]);
    for (const cli_extra *x = cmd->extras; x && x->name && !option; x++)
        option = about(message, x->name);
    if (option)
        cli_error("%s: --%s", cmd->name, message); /* as cli_parse says it */
    else
        cli_error("%s", message);
}

static const fw_setting *setting_at(const cli_command *cmd, int i)
{
    return cmd->settings[i] ? fw_setting_find(cmd->settings[i]) : NULL;
}

void cli_help(const cli_command *cmd, FILE *to)
{
    fprintf(to, "usage: framewise %s\n\n%s\n\noptions:\n", cmd->usage, cmd->summary);
    if (cmd->has_out_dir)
        fprintf(to, "  -o, --output DIR          write files into DIR (default: framewise-out)\n");
    fprintf(to, "      --json                print JSON\n");
    if (cmd->has_csv)
        fprintf(to, "      --csv                 print CSV\n");
    if (cmd->has_prompt_file)
        fprintf(to, "      --prompt-file F       read --prompt from file F\n");
    for (const cli_extra *x = cmd->extras; x && x->name; x++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", x->name, x->arg ? " " : "", x->arg ? x->arg : "");
        fprintf(to, "      %-20s  %s\n", left, x->help);
    }
    fprintf(to, "  -q, --quiet               no progress bar, no summary\n"
                "  -v, --verbose             show FFmpeg's messages (twice: all of them)\n"
                "  -h, --help                this help\n");
    fw_params d = fw_params_default();
    if (cmd->defaults)
        cmd->defaults(&d);
    for (int i = 0; cmd->settings[i]; i++) {
        const fw_setting *s = setting_at(cmd, i);
        char left[64], def[32];
        snprintf(left, sizeof left, "--%s %s", s->name, s->arg);
        const char *field = (const char *)&d + s->offset;
        if (s->type == FW_SET_POLICY)
            snprintf(def, sizeof def, "%s", fw_policy_name(*(const fw_policy *)field));
        else if (s->type == FW_SET_STRING) {
            fprintf(to, "      %-20s  %s\n", left, s->help);
            continue;
        } else if (s->type == FW_SET_TOKENS)
            snprintf(def, sizeof def, "%d", *(const int *)field / 1024);
        else
            snprintf(def, sizeof def, "%g",
                     s->type == FW_SET_DOUBLE ? *(const double *)field : *(const int *)field);
        fprintf(to, "      %-20s  %s (default: %s)\n", left, s->help, def);
    }
}

int cli_parse(const cli_command *cmd, int argc, char **argv, cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->params = fw_params_default();
    if (cmd->defaults)
        cmd->defaults(&o->params);
    o->out_dir = "framewise-out";
    struct option longopts[80];
    int n = 0;
    longopts[n++] = (struct option){"json", no_argument, NULL, OPT_JSON};
    if (cmd->has_csv)
        longopts[n++] = (struct option){"csv", no_argument, NULL, OPT_CSV};
    if (cmd->has_out_dir)
        longopts[n++] = (struct option){"output", required_argument, NULL, 'o'};
    if (cmd->has_prompt_file)
        longopts[n++] = (struct option){"prompt-file", required_argument, NULL, OPT_PROMPT_FILE};
    for (int i = 0; cmd->extras && cmd->extras[i].name && i < CLI_MAX_EXTRAS; i++)
        longopts[n++] = (struct option){cmd->extras[i].name,
                                        cmd->extras[i].arg ? required_argument : no_argument, NULL,
                                        OPT_EXTRA + i};
    longopts[n++] = (struct option){"quiet", no_argument, NULL, 'q'};
    longopts[n++] = (struct option){"verbose", no_argument, NULL, 'v'};
    longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
    for (int i = 0; cmd->settings[i] && n < 78; i++)
        longopts[n++] = (struct option){cmd->settings[i], required_argument, NULL, OPT_SETTING + i};
    longopts[n] = (struct option){0, 0, 0, 0};

    const char *shortopts = cmd->has_out_dir ? "o:qvh" : "qvh";
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        fw_error err;
        switch (c) {
        case OPT_JSON: o->json = 1; break;
        case OPT_CSV: o->csv = 1; break;
        case OPT_PROMPT_FILE: o->prompt_file = optarg; break;
        case 'o': o->out_dir = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'v': o->verbose++; break;
        case 'h': cli_help(cmd, stdout); return EXIT_OK;
        case '?':
        case ':':
            if (optopt)
                cli_error("%s: unknown option or missing value: -%c (see --help)", cmd->name,
                          optopt);
            else
                cli_error("%s: unknown option or missing value: %s (see --help)", cmd->name,
                          argv[optind - 1]);
            return EXIT_USAGE;
        default:
            if (c >= OPT_EXTRA && c < OPT_EXTRA + CLI_MAX_EXTRAS) {
                o->extra[c - OPT_EXTRA] = optarg ? optarg : "";
                break;
            }
            if ((size_t)(c - OPT_SETTING) < sizeof o->given)
                o->given[c - OPT_SETTING] = 1;
            if (fw_setting_parse(setting_at(cmd, c - OPT_SETTING), &o->params, optarg, &err)) {
                cli_error("%s: %s", cmd->name, err.message);
                return EXIT_USAGE;
            }
        }
    }
    if (o->json && o->csv) {
        cli_error("%s: --json and --csv exclude each other", cmd->name);
        return EXIT_USAGE;
    }
    if (optind != argc - 1) {
        cli_error("%s: %s (usage: framewise %s)", cmd->name,
                  optind >= argc ? "no VIDEO given" : "more than one VIDEO given", cmd->usage);
        return EXIT_USAGE;
    }
    o->input = argv[optind];
    fw_set_log_level(o->verbose);
    return -1;
}
