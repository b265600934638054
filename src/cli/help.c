/* A command's options as help text (--help) and as a manual page (framewise --man, run
 * at build time for share/man/man1/framewise.1): both from the command's description
 * and the settings table. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/settings.h"

/* One option of a command, as both forms print it. */
typedef struct opt_doc {
    char short_opt;   /* 'o', or 0 */
    const char *name; /* the long option */
    const char *arg;  /* the value's placeholder, or NULL for a flag */
    const char *help; /* one line */
    char def[64];     /* the default as text, "" when none is shown */
} opt_doc;

typedef void (*opt_fn)(FILE *to, const opt_doc *d);

static void put(opt_fn fn, FILE *to, char short_opt, const char *name, const char *arg,
                const char *help)
{
    opt_doc d = {short_opt, name, arg, help, ""};
    fn(to, &d);
}

/* Every option cmd takes, in --help's order: the shared ones, its own, its settings
 * with their defaults (the command's). */
static void walk(const cli_command *cmd, opt_fn fn, FILE *to)
{
    if (cmd->has_out_dir)
        put(fn, to, 'o', "output", "DIR", "write files into DIR (default: framewise-out)");
    put(fn, to, 0, "json", NULL, "print JSON");
    if (cmd->has_csv)
        put(fn, to, 0, "csv", NULL, "print CSV");
    if (cmd->has_prompt_file)
        put(fn, to, 0, "prompt-file", "F", "read --prompt from file F");
    for (const cli_extra *x = cmd->extras; x && x->name; x++)
        put(fn, to, 0, x->name, x->arg, x->help);
    put(fn, to, 'q', "quiet", NULL, "no progress bar, no summary");
    put(fn, to, 'v', "verbose", NULL, "show FFmpeg's messages (twice: all of them)");
    put(fn, to, 'h', "help", NULL, "this help");
    fw_params d = fw_params_default();
    if (cmd->defaults)
        cmd->defaults(&d);
    for (int i = 0; cmd->settings[i]; i++) {
        const fw_setting *s = fw_setting_find(cmd->settings[i]);
        opt_doc o = {0, s->name, s->arg, s->help, ""};
        if (s->type != FW_SET_STRING)
            fw_params_get(&d, s->name, o.def, sizeof o.def, NULL);
        fn(to, &o);
    }
}

static void help_line(FILE *to, const opt_doc *d)
{
    char left[64];
    snprintf(left, sizeof left, "--%s%s%s", d->name, d->arg ? " " : "", d->arg ? d->arg : "");
    if (d->short_opt)
        fprintf(to, "  -%c, %-20s  %s", d->short_opt, left, d->help);
    else
        fprintf(to, "      %-20s  %s", left, d->help);
    if (d->def[0])
        fprintf(to, " (default: %s)", d->def);
    fputc('\n', to);
}

void cli_help(const cli_command *cmd, FILE *to)
{
    fprintf(to, "usage: framewise %s\n\n%s\n\noptions:\n", cmd->usage, cmd->summary);
    walk(cmd, help_line, to);
}

/* ---- the manual page ------------------------------------------------------------- */

/* text as roff: backslashes and hyphens escaped, no line taken for a request. */
static void roff(FILE *to, const char *text)
{
    for (const char *c = text; *c; c++) {
        if ((c == text || c[-1] == '\n') && (*c == '.' || *c == '\''))
            fputs("\\&", to);
        if (*c == '\\')
            fputs("\\e", to);
        else if (*c == '-')
            fputs("\\-", to);
        else
            fputc(*c, to);
    }
}

static void man_option(FILE *to, const opt_doc *d)
{
    fputs(".TP\n", to);
    if (d->short_opt)
        fprintf(to, "\\fB\\-%c\\fR, ", d->short_opt);
    fputs("\\fB\\-\\-", to);
    roff(to, d->name);
    fputs("\\fR", to);
    if (d->arg) {
        fputs(" \\fI", to);
        roff(to, d->arg);
        fputs("\\fR", to);
    }
    fputc('\n', to);
    roff(to, d->help);
    if (d->def[0]) {
        fputs(" (default: ", to);
        roff(to, d->def);
        fputc(')', to);
    }
    fputc('\n', to);
}

static void man_section(FILE *to, const char *title, const char *text)
{
    fprintf(to, ".SH %s\n", title);
    roff(to, text);
    fputc('\n', to);
}

static const char man_settings[] =
    "Every option that is a setting (all but -o, --json, --csv, --prompt-file, -q, -v, -h and "
    "the command's own) has the same name without its dashes everywhere else: in a preset's "
    "\"settings\", in fw_params_set() and fw_params_from_json() of the C library "
    "(framewise.h), and in the options of the service. One validator checks them all.";

static const char man_env[] =
    ".TP\n\\fBFRAMEWISE_VLM_URL\\fR\nthe model server (several: comma-separated) when \\-\\-url "
    "is not given\n"
    ".TP\n\\fBFRAMEWISE_API_KEY\\fR, \\fBOPENAI_API_KEY\\fR\nthe bearer token when \\-\\-api\\-key "
    "is not given\n"
    ".TP\n\\fBFRAMEWISE_PRESETS\\fR\nthe folder of the presets (default: "
    "\\&../share/framewise/presets next to the program)\n"
    ".TP\n\\fBXDG_CACHE_HOME\\fR\nthe default store is $XDG_CACHE_HOME/framewise/framewise.db "
    "(else ~/.cache/framewise/framewise.db)\n"
    ".TP\n\\fBTESSDATA_PREFIX\\fR\nwhere Tesseract's language data is\n"
    ".TP\n\\fBFW_TRACE\\fR\n1: the keyframe selector's scores and decisions, one line per frame, "
    "on standard error\n"
    ".TP\n\\fBFW_OCR_TRACE\\fR\n1: every word Tesseract read, with its confidence, on standard "
    "error\n";

void cli_man(FILE *to, const cli_entry *commands, const char *about)
{
    fprintf(to, ".TH FRAMEWISE 1 \"\" \"framewise %s\" \"User Commands\"\n", FW_VERSION);
    fputs(".SH NAME\nframewise \\- the frames of a video that carry new information, and what "
          "they show\n.SH SYNOPSIS\n.nf\n",
          to);
    for (const cli_entry *e = commands; e->name; e++) {
        fputs("\\fBframewise\\fR ", to);
        roff(to, e->cmd ? (*e->cmd)->usage : e->name);
        fputc('\n', to);
    }
    fputs(".fi\n", to);
    man_section(to, "DESCRIPTION", about);
    fputs(".SH COMMANDS\n", to);
    for (const cli_entry *e = commands; e->name; e++) {
        fprintf(to, ".SS %s\n", e->name);
        roff(to, e->about);
        fputs("\n.PP\n", to);
        if (!e->cmd) {
            fprintf(to, "See \\fBframewise %s \\-\\-help\\fR.\n", e->name);
            continue;
        }
        fputs(".nf\n", to); /* the summary is laid out for a terminal, as --help shows it */
        roff(to, (*e->cmd)->summary);
        fputs("\n.fi\n", to);
        walk(*e->cmd, man_option, to);
    }
    man_section(to, "SETTINGS", man_settings);
    fprintf(to, ".SH ENVIRONMENT\n%s", man_env);
    man_section(to, "EXIT STATUS", "0 success, 1 runtime failure, 2 bad usage or unreadable input");
    fputs(".SH SEE ALSO\n\\fBffmpeg\\fR(1), \\fBtesseract\\fR(1)\n", to);
}
