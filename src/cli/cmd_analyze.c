/* framewise analyze: keyframes, then what is in each: the on-screen text and a
 * description from the local backend (Tesseract), a vision-language model, or both. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/report.h"

static const char *const settings[] = {
    "backend",        "ocr-lang",     "ocr-threads", "url",
    "model",          "api-key",      "prompt",      "system-prompt",
    "concurrency",    "window",       "max-pixels",  "max-image-tokens",
    "retries",        "timeout",      "max-tokens",  "temperature",
    "logprobs",       "policy",       "fps",         "motion-threshold",
    "area-threshold", "max-gap",      "min-gap",     "min-scene",
    "cut-threshold",  "settle",       "dup-bits",    "budget",
    "threads",        "jpeg-quality", NULL};

/* Qwen3-VL's budget the seed overspends: 0.45 MP, 896x504 for 16:9, ~440 tokens. */
static void analyze_defaults(fw_params *p)
{
    p->max_pixels = 448 * 1024;
}

static const cli_command command = {
    .name = "analyze",
    .usage = "analyze VIDEO [-o DIR] [--backend local|openai|openai+local] [--ocr-lang L]\n"
             "       [--url URL --model NAME] [--prompt TEXT | --prompt-file F]\n"
             "       [--concurrency N] [--window K] [--max-pixels P] [options] [--json]",
    .summary = "Keeps the frames of VIDEO that carry new information (see 'framewise keyframes')\n"
               "and, while decoding goes on, says what is in each:\n"
               "  local   (the default without --url) reads the on-screen text with Tesseract and\n"
               "          describes colours, brightness and sharpness; no server needed. The text\n"
               "          timeline says which lines appeared, disappeared or changed, and when.\n"
               "  openai  (the default with --url) asks a vision-language model on an OpenAI-\n"
               "          compatible server (llama-server, vLLM, SGLang, Ollama /v1, LM Studio).\n"
               "  openai+local  both: the OCR is attached to the model's observation.\n"
               "Writes DIR/report.json (schema framewise.report/1) and the keyframes as they were\n"
               "sent. Prints a short summary and the text timeline, or the report with --json. A\n"
               "frame that still fails after its retries is kept in the report with its error.",
    .settings = settings,
    .has_out_dir = 1,
    .has_prompt_file = 1,
    .defaults = analyze_defaults,
};

typedef struct state {
    cli_progress progress; /* first: the shared callbacks take the state as one */
    const cli_opts *o;
    cli_kflist kfs;
    json_t *obs; /* array, filled on the analyzer thread, read after the run */
} state;
_Static_assert(offsetof(state, progress) == 0, "cli_progress_cb takes the state");

static int on_keyframe(void *user, const fw_keyframe *kf)
{
    return cli_kflist_add(&((state *)user)->kfs, kf);
}

static int on_observation(void *user, const fw_observation *ob)
{
    state *st = user;
    json_t *flags = json_array();
    for (int i = 0; i < ob->n_flags; i++)
        json_array_append_new(flags, json_string(ob->flags[i]));
    json_t *fields = json_loads(ob->fields, 0, NULL);
    json_t *o = json_pack("{s:f, s:i, s:s, s:o, s:f, s:o, s:s, s:s, s:f, s:i, s:i, s:i, s:i}",
                          "time", ob->time_s, "keyframe", ob->keyframe, "text", ob->text, "fields",
                          json_is_object(fields) ? fields : json_object(), "confidence",
                          ob->confidence, "flags", flags, "backend", ob->backend, "model",
                          ob->model, "latency_ms", ob->latency_ms, "image_tokens", ob->image_tokens,
                          "prompt_tokens", ob->prompt_tokens, "completion_tokens",
                          ob->completion_tokens, "attempts", ob->attempts);
    if (!json_is_object(fields))
        json_decref(fields);
    if (!o)
        return 1;
    if (ob->error)
        json_object_set_new(o, "error", json_string(ob->error));
    json_array_append_new(st->obs, o);
    return 0;
}

static json_t *stats_json(const fw_stats *s, double duration_s)
{
    json_t *o = json_pack(
        "{s:I, s:i, s:i, s:i, s:i, s:i, s:I, s:I, s:I, s:{s:f, s:f, s:f}}", "frames_decoded",
        (json_int_t)s->frames_decoded, "keyframes", s->keyframes, "observations", s->observations,
        "requests", s->requests, "retries", s->retries, "failed", s->failed, "image_tokens",
        (json_int_t)s->image_tokens, "prompt_tokens", (json_int_t)s->prompt_tokens,
        "completion_tokens", (json_int_t)s->completion_tokens, "seconds", "decode", s->decode_s,
        "analyze", s->analyze_s, "total", s->total_s);
    if (duration_s > 0)
        json_object_set_new(o, "image_tokens_per_minute",
                            json_real(s->image_tokens * 60.0 / duration_s));
    return o;
}

static json_t *build_report(const state *st, const fw_video_info *vi, const fw_stats *s,
                            json_t *timeline, const char *error)
{
    json_t *kfs = json_array();
    for (int i = 0; i < st->kfs.n; i++)
        json_array_append_new(kfs, report_keyframe(&st->kfs.list[i].kf, st->kfs.list[i].file));
    json_t *root = json_pack("{s:s, s:s, s:o, s:o, s:o, s:O, s:o}", "schema", "framewise.report/1",
                             "framewise", FW_VERSION, "video", report_video(vi), "settings",
                             report_params(&st->o->params), "keyframes", kfs, "observations",
                             st->obs, "stats", stats_json(s, vi->duration_s));
    json_object_set(root, "timeline", timeline);
    if (error)
        json_object_set_new(root, "error", json_string(error));
    return root;
}

/* Writes DIR/report.json through a temporary file, so a reader never sees half. */
static int write_report(const char *dir, json_t *root, char *path, size_t n)
{
    char tmp[4400];
    snprintf(path, n, "%s/report.json", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (json_dump_file(root, tmp, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) || rename(tmp, path)) {
        cli_error("%s: cannot write: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

/* At most max bytes of s on one line, cut at a UTF-8 character boundary. */
static void print_cut(const char *s, size_t max)
{
    size_t n = 0;
    while (s[n] && n < max)
        n++;
    if (s[n])
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    for (size_t i = 0; i < n; i++)
        putchar(s[i] == '\n' || s[i] == '\r' ? ' ' : s[i]);
    fputs(s[n] ? "...\n" : "\n", stdout);
}

static void print_summary(const state *st, const fw_video_info *vi, const fw_stats *s,
                          json_t *timeline, const char *report)
{
    printf("%s: %d keyframes of %" PRId64 " frames, %d observations (%d failed)\n", vi->path,
           s->keyframes, s->frames_decoded, s->observations, s->failed);
    size_t i;
    json_t *o;
    json_array_foreach(st->obs, i, o)
    {
        char clock[32];
        const char *err = json_string_value(json_object_get(o, "error"));
        printf("  %s  ",
               report_clock(json_real_value(json_object_get(o, "time")), clock, sizeof clock));
        if (err) {
            printf("[failed] ");
            print_cut(err, 100);
        } else
            print_cut(json_string_value(json_object_get(o, "text")), 100);
    }
    if (json_array_size(timeline)) {
        printf("text timeline:\n");
        report_timeline_print(timeline, stdout);
    }
    if (s->requests)
        printf("requests %d (%d retries); image tokens %" PRId64 " (%.0f per keyframe); "
               "prompt %" PRId64 ", completion %" PRId64 " tokens\n",
               s->requests, s->retries, s->image_tokens,
               s->keyframes ? (double)s->image_tokens / s->keyframes : 0.0, s->prompt_tokens,
               s->completion_tokens);
    printf("decode %.2f s, analyze %.2f s, total %.2f s -> %s\n", s->decode_s, s->analyze_s,
           s->total_s, report ? report : "(no report)");
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(65537);
    size_t n = buf ? fread(buf, 1, 65536, f) : 0;
    int bad = !buf || ferror(f) || !feof(f);
    fclose(f);
    if (bad) {
        free(buf);
        errno = buf ? EFBIG : ENOMEM;
        return NULL;
    }
    buf[n] = '\0';
    return buf;
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
        if (!(*prompt = read_text(o->prompt_file))) {
            cli_error("%s: cannot read the prompt file: %s", o->prompt_file, strerror(errno));
            return EXIT_USAGE;
        }
        p->prompt = *prompt;
    }
    return -1;
}

int cmd_analyze(int argc, char **argv)
{
    cli_opts o;
    int rc = cli_parse(&command, argc, argv, &o);
    if (rc >= 0)
        return rc;
    char *prompt = NULL;
    if ((rc = resolve(&o, &prompt)) >= 0)
        return rc;
    fw_error err = {0};
    fw_job *job = NULL;
    if ((rc = fw_job_open(&job, o.input, &o.params, &err))) {
        cli_error("%s", err.message);
        free(prompt);
        return cli_exit_code(rc);
    }
    if (cli_mkdirs(o.out_dir)) {
        cli_error("%s: cannot create output directory: %s", o.out_dir, strerror(errno));
        fw_job_close(job);
        free(prompt);
        return EXIT_RUNTIME;
    }
    state st = {.o = &o, .kfs = {.dir = o.out_dir}, .obs = json_array()};
    cli_progress_init(&st.progress, o.quiet, "analyze");
    fw_callbacks cb = {.on_keyframe = on_keyframe,
                       .on_observation = on_observation,
                       .on_progress = st.progress.enabled ? cli_progress_cb : NULL,
                       .on_warning = cli_progress_warning,
                       .user = &st};
    rc = fw_job_run(job, &cb, &err);
    cli_progress_done(&st.progress);
    const char *error = rc ? (st.kfs.err.code ? st.kfs.err.message : err.message) : NULL;
    if (error)
        cli_error("%s", error);
    fw_stats stats;
    fw_job_stats(job, &stats);
    const fw_video_info *vi = fw_job_video(job);
    char path[4200];
    int wrote = 0;
    json_t *timeline = report_timeline(st.obs);
    if (!rc || st.kfs.n > 0) { /* partial results are kept */
        json_t *root = build_report(&st, vi, &stats, timeline, error);
        wrote = write_report(o.out_dir, root, path, sizeof path) == 0;
        if (o.json)
            report_print(root);
        json_decref(root);
    }
    if (!o.json && !o.quiet && (!rc || st.kfs.n > 0))
        print_summary(&st, vi, &stats, timeline, wrote ? path : NULL);
    json_decref(timeline);
    fw_job_close(job);
    json_decref(st.obs);
    cli_kflist_free(&st.kfs);
    free(prompt);
    if (rc)
        return cli_exit_code(st.kfs.err.code ? st.kfs.err.code : rc);
    return wrote ? EXIT_OK : EXIT_RUNTIME;
}
