#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/safetext.h"
#include "core/settings.h"

enum { OPT_JSON = 1000, OPT_CSV, OPT_PROMPT_FILE, OPT_EXTRA = 1500, OPT_SETTING = 2000 };

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fw_safe_text(line); /* a file name or a server's message may hold ESC or bidi overrides */
    for (char *c = line; *c; c++)
        if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' '; /* one line */
    fprintf(stderr, "framewise: %s\n", line);
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

int cli_names_option(const cli_command *cmd, const char *message)
{
    int option = 0;
    for (int i = 0; message && cmd->settings[i] && !option; i++)
        option = about(message, cmd->settings[i]);
    for (const cli_extra *x = cmd->extras; message && x && x->name && !option; x++)
        option = about(message, x->name);
    return option;
}

void cli_warn(const cli_command *cmd, void *progress, const char *message)
{
    char line[1100];
    snprintf(line, sizeof line, "%s%s", cli_names_option(cmd, message) ? "--" : "",
             message ? message : "");
    cli_progress_warning(progress, line);
}

void cli_fail(const cli_command *cmd, const char *message)
{
    if (cli_names_option(cmd, message))
        cli_error("%s: --%s", cmd->name, message); /* as cli_parse says it */
    else
        cli_error("%s", message);
}

static const fw_setting *setting_at(const cli_command *cmd, int i)
{
    return cmd->settings[i] ? fw_setting_find(cmd->settings[i]) : NULL;
}

void cli_setting_error(const char *cmd, const char *message)
{
    char name[64];
    size_t n = strcspn(message, ":");
    int setting = message[n] == ':' && n < sizeof name;
    if (setting) {
        memcpy(name, message, n);
        name[n] = '\0';
        setting = fw_setting_find(name) != NULL;
    }
    cli_error("%s%s%s%s", cmd ? cmd : "", cmd ? ": " : "", setting ? "--" : "", message);
}

/* The library's log on stderr: libav*'s messages with -v (warnings) and -vv (all); the
 * traces for tuning when asked for by the environment: FW_TRACE (the keyframe
 * selector's scores and decisions per frame), FW_OCR_TRACE (every word Tesseract read;
 * the OCR's trace lines begin with "ocr: "). */
static int log_max = -1, trace_frames, trace_ocr;

static void log_line(void *user, int level, const char *line)
{
    (void)user;
    if (level == FW_LOG_TRACE ? !(strncmp(line, "ocr: ", 5) == 0 ? trace_ocr : trace_frames)
                              : level > log_max)
        return;
    char safe[1024];
    snprintf(safe, sizeof safe, "%s", line);
    fw_safe_text(safe);
    fprintf(stderr, "%s\n", safe);
}

void cli_log_init(int verbose)
{
    const char *ocr = getenv("FW_OCR_TRACE");
    trace_frames = getenv("FW_TRACE") != NULL;
    trace_ocr = ocr != NULL;
    if (ocr && ocr[0] == '/') /* the old spelling of the OCR's picture dump */
        setenv("FW_OCR_SAVE", ocr, 0);
    log_max = verbose <= 0 ? -1 : verbose == 1 ? FW_LOG_WARN : FW_LOG_INFO;
    fw_set_log(log_line, NULL, trace_frames || trace_ocr ? FW_LOG_TRACE : log_max);
}

/* The value of a 0|1 setting, which may be given alone ("--whole-frames"): its
 * "=value", else the next word when that is 0, 1, true or false, else 1. */
static const char *flag_value(char **argv, int argc, int *ind)
{
    if (optarg)
        return optarg;
    const char *v = *ind < argc ? argv[*ind] : "";
    if (!strcmp(v, "0") || !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "false")) {
        (*ind)++;
        return v;
    }
    return "1";
}

/* A list setting given once more: its value so far, a comma and v, in o->lists; NULL
 * (said) when that is full. */
static const char *list_add(cli_opts *o, const fw_setting *s, const char *v)
{
    const char *had = *(const char *const *)((const char *)&o->params + s->offset);
    size_t room = sizeof o->lists - o->lists_used;
    int n = snprintf(o->lists + o->lists_used, room, "%s,%s", had ? had : "", v ? v : "");
    if (n < 0 || (size_t)n >= room) {
        cli_error("--%s: the values given are longer than %zu bytes together", s->name,
                  sizeof o->lists);
        return NULL;
    }
    const char *joined = o->lists + o->lists_used;
    o->lists_used += (size_t)n + 1;
    return joined;
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
    for (int i = 0; cmd->settings[i] && n < 78; i++) {
        const fw_setting *s = setting_at(cmd, i);
        longopts[n++] = (struct option){
            cmd->settings[i], s && fw_setting_is_flag(s) ? optional_argument : required_argument,
            NULL, OPT_SETTING + i};
    }
    longopts[n] = (struct option){0, 0, 0, 0};

    const char *shortopts = cmd->has_out_dir ? ":o:qvh" : ":qvh"; /* ':' tells a missing value */
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        fw_error err;
        switch (c) {
        case OPT_JSON: o->json = 1; break;
        case OPT_CSV: o->csv = 1; break;
        case OPT_PROMPT_FILE: o->prompt_file = optarg; break;
        case 'o':
            if (!*optarg) {
                cli_error("%s: -o needs a folder name, not an empty one", cmd->name);
                return EXIT_USAGE;
            }
            o->out_dir = optarg;
            break;
        case 'q': o->quiet = 1; break;
        case 'v': o->verbose++; break;
        case 'h': cli_help(cmd, stdout); return EXIT_OK;
        case '?':
        case ':': {
            /* optopt is a short option's letter, or a long option's code: name what was typed */
            char shown[64];
            if (c == '?' && optopt > 0 && optopt < 128) /* an unknown short option */
                snprintf(shown, sizeof shown, "-%c", optopt);
            else
                snprintf(shown, sizeof shown, "%.*s", (int)strcspn(argv[optind - 1], "="),
                         argv[optind - 1]);
            if (c == ':')
                cli_error("%s: %s needs a value (see --help)", cmd->name, shown);
            else
                cli_error("%s: unknown option %s (see --help)", cmd->name, shown);
            return EXIT_USAGE;
        }
        default:
            if (c >= OPT_EXTRA && c < OPT_EXTRA + CLI_MAX_EXTRAS) {
                o->extra[c - OPT_EXTRA] = optarg ? optarg : "";
                break;
            }
            const fw_setting *s = setting_at(cmd, c - OPT_SETTING);
            const char *v = s && fw_setting_is_flag(s) ? flag_value(argv, argc, &optind) : optarg;
            if ((size_t)(c - OPT_SETTING) < sizeof o->given) {
                if (o->given[c - OPT_SETTING] && s && (s->flags & FW_SETTING_LIST) &&
                    !(v = list_add(o, s, v)))
                    return EXIT_USAGE;
                o->given[c - OPT_SETTING] = 1;
            }
            if (fw_setting_parse(s, &o->params, v, &err)) {
                cli_setting_error(cmd->name, err.message);
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
    cli_log_init(o->verbose);
    return -1;
}
