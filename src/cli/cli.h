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

/* mkdir -p; 0 or -1 with errno set. */
int cli_mkdirs(const char *path);
double cli_now(void);

/* Kept keyframes written as DIR/kf_NNNNNN.jpg and listed (cli/kflist.c). */
typedef struct cli_kept {
    fw_keyframe kf; /* jpeg pointers cleared: the bytes live only during the callback */
    char file[4200];
} cli_kept;
typedef struct cli_kflist {
    const char *dir;
    int index_offset;   /* added to each keyframe's index (and file name): an appended part */
    double time_offset; /* added to each keyframe's time */
    cli_kept *list;
    int n, cap;
    fw_error err; /* the first write error */
} cli_kflist;
/* Writes the keyframe's JPEG and appends it; 0, or 1 with err set (stop the job). */
int cli_kflist_add(cli_kflist *l, const fw_keyframe *kf);
void cli_kflist_free(cli_kflist *l);

/* Presets (presets/NAME.json): a scenario's settings (frame prompt, keyframe thresholds,
 * summary instruction, gate), events and lexicons, as data. Found in $FRAMEWISE_PRESETS,
 * next to the program (../presets, ../share/framewise/presets) or the source tree. */
typedef struct cli_preset {
    char name[64];
    char dir[4096];
    json_t *root;  /* the parsed file; its strings back the settings */
    char *events;  /* comma-separated files: the preset's, then --events */
    char *lexicon; /* comma-separated files: the preset's, then --lexicon */
} cli_preset;
/* Loads NAME (or a path to a .json file; "none": nothing) and applies it to o: its
 * settings unless given on the command line, its events and lexicons before the user's.
 * Returns -1 to go on, or EXIT_USAGE after a one-line error. */
int cli_preset_apply(cli_preset *p, const char *name, const cli_command *cmd, cli_opts *o);
void cli_preset_free(cli_preset *p);
/* The presets found, one "  name  description" line each. */
void cli_preset_list(FILE *to);

int cmd_keyframes(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_scenes(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
