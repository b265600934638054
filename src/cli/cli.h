/* The framewise command: shared pieces of the subcommands. */
#ifndef FW_CLI_H
#define FW_CLI_H

#include <jansson.h>
#include <stdio.h>

#include "framewise.h"

/* Exit codes. */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

#define CLI_MAX_EXTRAS 8

/* Options every subcommand shares, plus its own settings from the table. */
typedef struct cli_opts {
    fw_params params;
    const char *input;
    const char *out_dir;
    const char *prompt_file;
    int json, csv, quiet, verbose;
    const char *extra[CLI_MAX_EXTRAS]; /* a command's own options, in its extras order:
                                          the value, "" for a flag given, NULL when absent */
    unsigned char given[96]; /* 1 for each of the command's settings given on the command line */
    char lists[8192];        /* a list setting given more than once (--url A --url B): its
                                values joined with commas, which params points into */
    size_t lists_used;
} cli_opts;

/* A command's own option that is not a job setting. */
typedef struct cli_extra {
    const char *name; /* long option */
    const char *arg;  /* placeholder of the value, or NULL for a flag */
    const char *help; /* one line */
} cli_extra;

/* A subcommand's description: its name, usage line, the settings it accepts
 * (NULL-terminated names from the settings table) and whether it writes files. */
typedef struct cli_command {
    const char *name;
    const char *usage;
    const char *summary;
    const char *const *settings;
    int has_out_dir, has_csv, has_prompt_file;
    void (*defaults)(fw_params *p); /* this command's own defaults, or NULL */
    const cli_extra *extras;        /* NULL-name terminated, at most CLI_MAX_EXTRAS; or NULL */
} cli_command;

/* Parses argv; returns -1 to go on, else an exit code (help printed, bad usage). */
int cli_parse(const cli_command *cmd, int argc, char **argv, cli_opts *o);
void cli_help(const cli_command *cmd, FILE *to);

/* The subcommands as main.c lists them (for --help and the manual page). */
typedef struct cli_entry {
    const char *name;
    const char *about; /* what it does: a line, or two joined by "\n" */
    int (*run)(int argc, char **argv);
    const cli_command *const *cmd; /* its options, or NULL (a parser of its own) */
} cli_entry;
/* The manual page (roff) of the commands (NULL-name terminated) and their options. */
void cli_man(FILE *to, const cli_entry *commands, const char *about);
/* The commands' descriptions, for the manual page. */
extern const cli_command *const cli_keyframes_command, *const cli_scenes_command,
                                                           *const cli_analyze_command;

/* A library message on stderr as "framewise: [cmd: ]message", with "--" before the setting
 * it begins with ("max-gap: must be >= 0" -> "--max-gap: must be >= 0"). */
void cli_setting_error(const char *cmd, const char *message);
/* Sends the library's log to stderr: -v warnings, -vv all of libav*'s messages; the
 * FW_TRACE and FW_OCR_TRACE traces when the environment asks for them. */
void cli_log_init(int verbose);
/* The exit code for a library error code. */
int cli_exit_code(int fw_code);
/* "framewise: message" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Progress bar on stderr (only when it is a terminal and not quiet). */
typedef struct cli_progress {
    int enabled;
    int quiet;
    double last_draw;
    const char *label;
} cli_progress;
void cli_progress_init(cli_progress *p, int quiet, const char *label);
void cli_progress_done(cli_progress *p);
/* fw_callbacks' on_progress and on_warning; user points to the cli_progress (a command's
 * state has it as its first member). A warning clears the bar and is one line on stderr
 * unless quiet. */
void cli_progress_cb(void *user, double done_s, double total_s);
void cli_progress_warning(void *user, const char *message);

double cli_now(void);

/* "framewise: message" for an engine's message; one that begins with the name of one of
 * cmd's settings or options (then ':' or ' ') is said as cli_parse says it: "framewise:
 * analyze: --preset: ...". */
void cli_fail(const cli_command *cmd, const char *message);
/* 1 when message begins with the name of one of cmd's settings or options. */
int cli_names_option(const cli_command *cmd, const char *message);
/* An engine's warning, as cli_progress_warning says it, with "--" before a leading name
 * of one of cmd's settings or options. */
void cli_warn(const cli_command *cmd, void *progress, const char *message);

/* Dumps to stdout with a newline, as report.json is written; 0 or -1. */
int cli_print_json(json_t *root);
/* "mm:ss.mmm" (or "h:mm:ss.mmm") into buf. */
const char *cli_clock(double t, char *buf, size_t n);
/* analyze's summary of a report on stdout: its observations, text timeline, story and
 * stats (or, for a stored result, where it came from), then the files written. */
void cli_print_analysis(json_t *report, json_t *written, const char *input);

int cmd_keyframes(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_scenes(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_jobs(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_worker(int argc, char **argv);

#endif
