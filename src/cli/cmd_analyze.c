/* framewise analyze: argv into the settings and the analysis' options, then one analysis
 * (fw_analysis_*): its events on the terminal, its report printed, its codes as exit codes. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/safetext.h"
#include "core/settings.h"
#include "core/sidefile.h"

/* analyze takes every setting of the table, in its order (filled by cmd_analyze). */
static const char *settings[96];

enum { X_PRESET, X_FORMAT, X_JSONL, X_STORE, X_NO_CACHE, X_APPEND };
static const cli_extra extras[] = {
    {"preset", "NAME",
     "scenario: general (default), ecommerce, support, moderation, accessibility, none, "
     "or a preset .json file"},
    {"format", "LIST", "what -o DIR gets: json,jsonl,vtt,srt,md,html or all (default)"},
    {"jsonl", NULL, "stream keyframe, observation and event records to stdout as JSON lines"},
    {"store", "PATH",
     "the store of jobs and results (default: $XDG_CACHE_HOME/framewise/framewise.db)"},
    {"no-cache", NULL, "neither reuse nor record results in the store"},
    {"append", "JOB",
     "VIDEO is the next part of job JOB's recording: its timeline goes on from JOB's end, "
     "only VIDEO is analysed, the story covers both"},
    {NULL, NULL, NULL}};

/* For --help: an analysis' image budget (the engine applies it; fw_params_default's is
 * the keyframes command's full size). */
static void analyze_defaults(fw_params *p)
{
    p->max_pixels = FW_ANALYSIS_MAX_PIXELS;
}

static const cli_command command = {
    .name = "analyze",
    .usage = "analyze VIDEO [-o DIR] [--preset NAME] [--backend local|openai|openai+local]\n"
             "       [--url URL]... [--model NAME] [--prompt TEXT | --prompt-file F] [--events F]\n"
             "       [--lexicon F] [--llm-url URL] [--embed-url URL] [--format LIST]\n"
             "       [options] [--json | --jsonl]",
    .summary = "Keeps the frames of VIDEO that carry new information (see 'framewise keyframes')\n"
               "and, while decoding goes on, says what is in each:\n"
               "  local   (the default without --url) reads the on-screen text with Tesseract and\n"
               "          describes colours, brightness and sharpness; no server needed. The text\n"
               "          timeline says which lines appeared, disappeared or changed, and when.\n"
               "  openai  (the default with --url) asks a vision-language model on an OpenAI-\n"
               "          compatible server (llama-server, vLLM, SGLang, Ollama /v1, LM Studio);\n"
               "          several --url: each request goes to the least busy one that answers.\n"
               "  openai+local  both: the OCR is attached to the model's observation.\n"
               "Then tells the story: segments (adjacent observations that say the same thing),\n"
               "events (the preset's and --events', with times and evidence), a summary (from an\n"
               "LLM: --llm-url, else the --url server; else extractive) and a review flag when a\n"
               "safety lexicon term appears in any text.\n"
               "Writes into DIR: report.json (schema framewise.report/1), report.jsonl (records\n"
               "as they happen), captions.vtt, captions.srt, report.md, report.html, and the\n"
               "keyframes. Prints a short summary, or the report with --json. A frame that still\n"
               "fails after its retries is kept in the report with its error. Ctrl-C stops it\n"
               "and still writes what was done.\n"
               "Live inputs (-, a FIFO, udp://, rtp://, rtsp://, srt://, tcp://, an HLS playlist\n"
               "still being written) are analysed as they come: segments go out as they close,\n"
               "the report files are rewritten every --flush S, and Ctrl-C or SIGTERM ends the\n"
               "stream: the story is finished and written, exit 0. Memory stays within the\n"
               "settings however long the video (--fusion-window).",
    .settings = settings,
    .has_out_dir = 1,
    .has_prompt_file = 1,
    .defaults = analyze_defaults,
    .extras = extras,
};
const cli_command *const cli_analyze_command = &command;

typedef struct state {
    cli_progress progress; /* first: the shared callbacks take the state as one */
    const cli_opts *o;
    json_t *last; /* the done or error event */
} state;

static void on_event(void *user, const fw_event *ev)
{
    state *st = user;
    int record = ev->type >= FW_EVENT_KEYFRAME && ev->type <= FW_EVENT_REVIEW;
    if (record && st->o->extra[X_JSONL]) {
        printf("%s\n", ev->json); /* the lines report.jsonl gets */
        fflush(stdout);
    }
    if (ev->type == FW_EVENT_PROGRESS && strcmp(ev->stage, "decode") == 0)
        cli_progress_cb(st, ev->done, ev->total);
    if (record || ev->type == FW_EVENT_PROGRESS)
        return;
    json_t *root = json_loads(ev->json, 0, NULL);
    json_int_t resumed = json_integer_value(json_object_get(root, "resumed"));
    if (ev->type == FW_EVENT_WARNING)
        cli_warn(&command, st, json_string_value(json_object_get(root, "message")));
    else if (ev->type == FW_EVENT_STAGE && strcmp(ev->stage, "story") == 0)
        cli_progress_done(&st->progress); /* decoding and observations are over */
    else if (ev->type == FW_EVENT_STAGE && resumed && !st->o->quiet)
        cli_error("resuming job %" JSON_INTEGER_FORMAT ": %" JSON_INTEGER_FORMAT
                  " observations stored",
                  json_integer_value(json_object_get(root, "job")), resumed);
    else if (ev->type == FW_EVENT_DONE || ev->type == FW_EVENT_ERROR) {
        json_decref(st->last);
        st->last = json_incref(root);
    }
    json_decref(root);
}

/* Fills what the environment gives: the server, the API key, the prompt file. */
static int resolve(cli_opts *o, char **prompt)
{
    fw_params *p = &o->params;
    if (!p->url && getenv("FRAMEWISE_VLM_URL") && *getenv("FRAMEWISE_VLM_URL"))
        p->url = getenv("FRAMEWISE_VLM_URL");
    if (!p->api_key)
        p->api_key =
            getenv("FRAMEWISE_API_KEY") ? getenv("FRAMEWISE_API_KEY") : getenv("OPENAI_API_KEY");
    if (o->prompt_file) {
        if (p->prompt) {
            cli_error("analyze: --prompt and --prompt-file exclude each other");
            return EXIT_USAGE;
        }
        fw_error e;
        if (fw_side_read(o->prompt_file, "prompt file", FW_SIDE_MAX_PROMPT, prompt, NULL, &e)) {
            cli_error("%s", e.message);
            return EXIT_USAGE;
        }
        p->prompt = *prompt;
    }
    return -1;
}

/* The analysis' options from the command line; chosen: the settings given there. -1 to go
 * on, or the exit code. */
static int analysis_opts(cli_opts *o, fw_analysis_opts *ao, const char **chosen)
{
    int n = 0;
    for (int i = 0; settings[i]; i++)
        if ((size_t)i < sizeof o->given && o->given[i])
            chosen[n++] = settings[i];
    if (o->prompt_file)
        chosen[n++] = "prompt"; /* as --prompt: a preset's prompt does not replace it */
    chosen[n] = NULL;
    *ao = (fw_analysis_opts){.preset = o->extra[X_PRESET],
                             .chosen = chosen,
                             .store = o->extra[X_STORE],
                             .no_store = o->extra[X_NO_CACHE] != NULL,
                             .out_dir = o->out_dir,
                             .formats = o->extra[X_FORMAT]};
    const char *job = o->extra[X_APPEND];
    char *end = NULL;
    if (job && ((ao->append = strtoll(job, &end, 10)) <= 0 || !*job || *end)) {
        cli_error("analyze: --append: '%s' is not a job number (see 'framewise jobs')", job);
        return EXIT_USAGE;
    }
    if (o->json && o->extra[X_JSONL]) {
        cli_error("analyze: --json and --jsonl exclude each other");
        return EXIT_USAGE;
    }
    if (o->extra[X_JSONL])
        o->quiet = 1; /* stdout is the stream */
    return -1;
}

/* Ctrl-C (or SIGTERM) stops the analysis the way it stops: what was done is still
 * written (exit 128 + the signal). A second one ends the program at once. */
static fw_analysis *volatile running;
static volatile sig_atomic_t stopped_by;

static void on_signal(int sig)
{
    stopped_by = sig;
    fw_analysis_cancel(running);
    signal(sig, SIG_DFL);
}

static int run(fw_analysis *a, state *st, fw_error *err)
{
    running = a;
    void (*was_int)(int) = signal(SIGINT, on_signal);
    void (*was_term)(int) = signal(SIGTERM, on_signal);
    cli_progress_init(&st->progress, st->o->quiet, "analyze");
    int rc = fw_analysis_run(a, on_event, st, err);
    cli_progress_done(&st->progress);
    signal(SIGINT, was_int);
    signal(SIGTERM, was_term);
    running = NULL;
    return rc;
}

/* The report on stdout: as it is (--json), or its summary. */
static void print_report(const fw_analysis *a, const state *st)
{
    if (st->o->quiet && !st->o->json)
        return; /* not made at all: a long video's report is large */
    const char *text = fw_analysis_report(a);
    json_t *report = text && !st->o->json ? json_loads(text, 0, NULL) : NULL;
    if (text && st->o->json)
        printf("%s\n", text);
    else if (report) { /* on a terminal: nothing in it may act (core/safetext.h) */
        json_t *written = json_deep_copy(json_object_get(st->last, "written"));
        char *input = strdup(st->o->input);
        fw_safe_json(report);
        fw_safe_json(written);
        fw_safe_text(input);
        cli_print_analysis(report, written, input ? input : "");
        json_decref(written);
        free(input);
    }
    json_decref(report);
}

/* Before main: --help and the manual page (made without running the command) list them. */
__attribute__((constructor)) static void fill_settings(void)
{
    int n = 0;
    for (const fw_setting *s = fw_settings;
         s->name && n + 1 < (int)(sizeof settings / sizeof *settings); s++)
        settings[n++] = s->name;
}

int cmd_analyze(int argc, char **argv)
{
    cli_opts o;
    int rc = cli_parse(&command, argc, argv, &o);
    if (rc >= 0)
        return rc;
    char *prompt = NULL;
    const char *chosen[sizeof settings / sizeof *settings];
    fw_analysis_opts ao;
    if ((rc = resolve(&o, &prompt)) >= 0 || (rc = analysis_opts(&o, &ao, chosen)) >= 0) {
        free(prompt);
        return rc;
    }
    fw_analysis *a = NULL;
    fw_error err = {0};
    if ((rc = fw_analysis_open(&a, o.input, &o.params, &ao, &err))) {
        cli_fail(&command, err.message);
        free(prompt);
        return cli_exit_code(rc);
    }
    state st = {.o = &o};
    if ((rc = run(a, &st, &err)))
        cli_fail(&command, err.message);
    print_report(a, &st);
    json_decref(st.last);
    fw_analysis_close(a);
    free(prompt);
    return rc == FW_ECANCELED && stopped_by ? 128 + stopped_by : cli_exit_code(rc);
}
