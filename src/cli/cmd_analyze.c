/* framewise analyze: keyframes, then what is in each: the on-screen text and a
 * description from the local backend (Tesseract), a vision-language model, or both. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cache.h"
#include "cli/cli.h"
#include "cli/outputs.h"
#include "cli/report.h"

static const char *const settings[] = {"backend",
                                       "ocr-lang",
                                       "ocr-threads",
                                       "url",
                                       "model",
                                       "api-key",
                                       "prompt",
                                       "system-prompt",
                                       "concurrency",
                                       "window",
                                       "max-pixels",
                                       "max-image-tokens",
                                       "retries",
                                       "timeout",
                                       "max-tokens",
                                       "temperature",
                                       "logprobs",
                                       "policy",
                                       "fps",
                                       "motion-threshold",
                                       "area-threshold",
                                       "max-gap",
                                       "min-gap",
                                       "min-scene",
                                       "cut-threshold",
                                       "settle",
                                       "dup-bits",
                                       "budget",
                                       "max-rate",
                                       "threads",
                                       "jpeg-quality",
                                       "min-confidence",
                                       "segment-threshold",
                                       "embed-url",
                                       "embed-model",
                                       "events",
                                       "lexicon",
                                       "summary",
                                       "llm-url",
                                       "llm-model",
                                       "summary-prompt",
                                       "summary-window",
                                       NULL};

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

/* Qwen3-VL's budget the seed overspends: 0.45 MP, 896x504 for 16:9, ~440 tokens. */
static void analyze_defaults(fw_params *p)
{
    p->max_pixels = 448 * 1024;
}

static const cli_command command = {
    .name = "analyze",
    .usage = "analyze VIDEO [-o DIR] [--preset NAME] [--backend local|openai|openai+local]\n"
             "       [--url URL --model NAME] [--prompt TEXT | --prompt-file F] [--events F]\n"
             "       [--lexicon F] [--llm-url URL] [--embed-url URL] [--format LIST]\n"
             "       [options] [--json | --jsonl]",
    .summary = "Keeps the frames of VIDEO that carry new information (see 'framewise keyframes')\n"
               "and, while decoding goes on, says what is in each:\n"
               "  local   (the default without --url) reads the on-screen text with Tesseract and\n"
               "          describes colours, brightness and sharpness; no server needed. The text\n"
               "          timeline says which lines appeared, disappeared or changed, and when.\n"
               "  openai  (the default with --url) asks a vision-language model on an OpenAI-\n"
               "          compatible server (llama-server, vLLM, SGLang, Ollama /v1, LM Studio).\n"
               "  openai+local  both: the OCR is attached to the model's observation.\n"
               "Then tells the story: segments (adjacent observations that say the same thing),\n"
               "events (the preset's and --events', with times and evidence), a summary (from an\n"
               "LLM: --llm-url, else the --url server; else extractive) and a review flag when a\n"
               "safety lexicon term appears in any text.\n"
               "Writes into DIR: report.json (schema framewise.report/1), report.jsonl (records\n"
               "as they happen), captions.vtt, captions.srt, report.md, report.html, and the\n"
               "keyframes. Prints a short summary, or the report with --json. A frame that still\n"
               "fails after its retries is kept in the report with its error.",
    .settings = settings,
    .has_out_dir = 1,
    .has_prompt_file = 1,
    .defaults = analyze_defaults,
    .extras = extras,
};

typedef struct state {
    cli_progress progress; /* first: the shared callbacks take the state as one */
    const cli_opts *o;
    cli_kflist kfs;
    json_t *obs;     /* array, filled on the analyzer thread, read after the run */
    fw_story *story; /* fusion: observations go in as they come */
    cli_jsonl jsonl;
    fw_error story_err; /* the first failure of the story (an embeddings server) */
    cli_cache cache;    /* the store: this run's job, or the result of an earlier one */
    json_t *base;       /* --append: the report of the job this part continues */
} state;
_Static_assert(offsetof(state, progress) == 0, "cli_progress_cb takes the state");

static int on_keyframe(void *user, const fw_keyframe *kf)
{
    state *st = user;
    if (cli_kflist_add(&st->kfs, kf))
        return 1;
    const cli_kept *kept = &st->kfs.list[st->kfs.n - 1]; /* with an appended part's offsets */
    cli_cache_keyframe(&st->cache, &kept->kf, kf->jpeg, kf->jpeg_size, kept->file);
    json_t *k = report_keyframe(&kept->kf, kept->file);
    cli_jsonl_record(&st->jsonl, "keyframe", k);
    json_decref(k);
    return 0;
}

/* Fusion sees the observation; the stream gets it and the events it fires. */
static int tell_story(state *st, const fw_observation *ob, json_t *o)
{
    const char *gate = NULL;
    char *events = NULL;
    if (fw_story_add(st->story, ob, &gate, &events, &st->story_err))
        return 1;
    if (gate)
        json_object_set_new(o, "gated", json_string(gate));
    cli_jsonl_record(&st->jsonl, "observation", o);
    json_t *fired = events ? json_loads(events, 0, NULL) : NULL, *e;
    size_t i;
    json_array_foreach(fired, i, e) cli_jsonl_record(&st->jsonl, "event", e);
    json_decref(fired);
    free(events);
    return 0;
}

static int lookup(void *user, const fw_keyframe *kf, fw_observation *out)
{
    return cli_cache_lookup(&((state *)user)->cache, kf, out);
}

static int on_observation(void *user, const fw_observation *engine_ob)
{
    state *st = user;
    fw_observation shifted = *engine_ob; /* an appended part continues the timeline */
    shifted.keyframe += st->kfs.index_offset;
    shifted.time_s += st->kfs.time_offset;
    const fw_observation *ob = &shifted;
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
    if (ob->cached)
        json_object_set_new(o, "cached", json_true());
    json_array_append_new(st->obs, o);
    int stop = tell_story(st, ob, o);
    cli_cache_observation(&st->cache, o,
                          engine_ob->keyframe < st->kfs.n ? &st->kfs.list[engine_ob->keyframe].kf
                                                          : NULL);
    return stop;
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
    json_object_set_new(o, "cached", json_integer(s->cached));
    if (duration_s > 0)
        json_object_set_new(o, "image_tokens_per_minute",
                            json_real(s->image_tokens * 60.0 / duration_s));
    return o;
}

static json_t *build_report(const state *st, const fw_video_info *vi, const fw_stats *s,
                            json_t *timeline, json_t *story, const char *error)
{
    json_t *kfs = st->base ? json_deep_copy(json_object_get(st->base, "keyframes")) : json_array();
    for (int i = 0; i < st->kfs.n; i++)
        json_array_append_new(kfs, report_keyframe(&st->kfs.list[i].kf, st->kfs.list[i].file));
    json_t *root = json_pack("{s:s, s:s, s:o, s:o, s:o, s:O, s:o}", "schema", "framewise.report/1",
                             "framewise", FW_VERSION, "video", report_video(vi), "settings",
                             report_params(&st->o->params), "keyframes", kfs, "observations",
                             st->obs, "stats", stats_json(s, vi->duration_s));
    json_object_set(root, "timeline", timeline);
    if (st->base)
        json_object_set_new(root, "append",
                            json_pack("{s:I, s:f, s:i, s:O}", "job", (json_int_t)st->cache.base_job,
                                      "offset", st->kfs.time_offset, "keyframes",
                                      st->kfs.index_offset, "video",
                                      json_object_get(st->base, "video")));
    if (story)
        json_object_update(root, story);
    if (error)
        json_object_set_new(root, "error", json_string(error));
    return root;
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

static void print_story(json_t *root)
{
    size_t i;
    json_t *v;
    char a[32], b[32];
    json_t *segs = json_object_get(root, "segments");
    if (json_array_size(segs))
        printf("segments: %zu\n", json_array_size(segs));
    json_array_foreach(segs, i, v)
    {
        printf("  %s-%s  ", report_clock(json_real_value(json_object_get(v, "start")), a, sizeof a),
               report_clock(json_real_value(json_object_get(v, "end")), b, sizeof b));
        print_cut(json_string_value(json_object_get(v, "text")), 90);
    }
    json_t *events = json_object_get(root, "events");
    if (json_array_size(events))
        printf("events:\n");
    json_array_foreach(events, i, v)
    {
        printf("  %s  %s (%.2f): ",
               report_clock(json_real_value(json_object_get(v, "time")), a, sizeof a),
               json_string_value(json_object_get(v, "name")),
               json_real_value(json_object_get(v, "score")));
        print_cut(json_string_value(json_object_get(v, "evidence")), 80);
    }
    json_t *sum = json_object_get(root, "summary");
    const char *text = json_string_value(json_object_get(sum, "text"));
    if (text && *text) {
        printf("summary (%s):\n  ", json_string_value(json_object_get(sum, "method")));
        for (const char *c = text; *c; c++) /* indent every line */
            fputs(*c == '\n' ? "\n  " : (char[2]){*c, 0}, stdout);
        putchar('\n');
    }
    json_t *review = json_object_get(root, "review");
    if (json_is_true(json_object_get(review, "required"))) {
        printf("review required:\n");
        json_array_foreach(json_object_get(review, "reasons"), i, v)
        {
            printf("  %s  \"%s\" (%s) in: ",
                   report_clock(json_real_value(json_object_get(v, "time")), a, sizeof a),
                   json_string_value(json_object_get(v, "term")),
                   json_string_value(json_object_get(v, "category")));
            print_cut(json_string_value(json_object_get(v, "text")), 70);
        }
    }
}

/* The observations, the text timeline and the story of a report. */
static void print_body(json_t *root)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(root, "observations"), i, o)
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
    json_t *timeline = json_object_get(root, "timeline");
    if (json_array_size(timeline)) {
        printf("text timeline:\n");
        report_timeline_print(timeline, stdout);
    }
    print_story(root);
}

static void print_written(json_t *written)
{
    size_t i;
    json_t *o;
    json_array_foreach(written, i, o)
        printf("%s %s\n", i ? "     " : "wrote", json_string_value(o));
}

static void print_summary(const fw_video_info *vi, const fw_stats *s, json_t *root, json_t *written)
{
    printf("%s: %d keyframes of %" PRId64 " frames, %d observations (%d failed)\n", vi->path,
           s->keyframes, s->frames_decoded, s->observations, s->failed);
    print_body(root);
    if (s->requests)
        printf("requests %d (%d retries); image tokens %" PRId64 " (%.0f per keyframe); "
               "prompt %" PRId64 ", completion %" PRId64 " tokens\n",
               s->requests, s->retries, s->image_tokens,
               s->keyframes ? (double)s->image_tokens / s->keyframes : 0.0, s->prompt_tokens,
               s->completion_tokens);
    printf("decode %.2f s, analyze %.2f s, total %.2f s\n", s->decode_s, s->analyze_s, s->total_s);
    print_written(written);
}

/* An earlier run's result for the same video and settings: its files into the output
 * folder, without decoding or asking a model. Returns the exit code. */
static int replay(json_t *root, const cli_opts *o, unsigned formats)
{
    json_t *written = json_array();
    cli_jsonl jl;
    int rc = cli_jsonl_open(&jl, o->out_dir, formats & OUT_JSONL, o->extra[X_JSONL] != NULL);
    if (!rc) { /* the stream as the run that made it wrote it */
        cli_jsonl_records(&jl, "keyframe", json_object_get(root, "keyframes"));
        cli_jsonl_records(&jl, "observation", json_object_get(root, "observations"));
        cli_jsonl_story(&jl, root);
        if (cli_jsonl_close(&jl) == 0 && (formats & OUT_JSONL))
            json_array_append_new(written, json_string(jl.path));
        rc = cli_outputs_write(root, o->out_dir, formats & ~(unsigned)OUT_JSONL, written);
    }
    if (!rc && o->json)
        report_print(root);
    else if (!rc && !o->quiet) {
        json_t *cache = json_object_get(root, "cache");
        printf("%s: the result of job %" JSON_INTEGER_FORMAT " in %s (same video and settings: "
               "no decoding, no model requests)\n",
               o->input, json_integer_value(json_object_get(cache, "job")),
               json_string_value(json_object_get(cache, "store")));
        print_body(root);
        print_written(written);
    }
    json_decref(written);
    return rc ? EXIT_RUNTIME : EXIT_OK;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(65538);
    size_t n = buf ? fread(buf, 1, 65537, f) : 0;
    int bad = !buf || ferror(f) || n > 65536;
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

/* The story's part of the report, or NULL after a warning. */
static json_t *finish_story(state *st, double duration_s)
{
    char *text = NULL;
    fw_error err = {0};
    if (st->story_err.code) /* already the run's error, printed */
        return NULL;
    if (fw_story_finish(st->story, duration_s, &text, &err)) {
        cli_error("%s", err.message);
        return NULL;
    }
    json_t *story = json_loads(text, 0, NULL);
    free(text);
    const char *why =
        json_string_value(json_object_get(json_object_get(story, "summary"), "error"));
    if (why && !st->o->quiet)
        fprintf(stderr, "framewise: warning: the summary is extractive: %s\n", why);
    cli_jsonl_story(&st->jsonl, story);
    return story;
}

static int start(state *st, cli_opts *o, unsigned *formats)
{
    if (cli_formats_parse(o->extra[X_FORMAT] ? o->extra[X_FORMAT] : "all", formats))
        return EXIT_USAGE;
    if (o->json && o->extra[X_JSONL]) {
        cli_error("analyze: --json and --jsonl exclude each other");
        return EXIT_USAGE;
    }
    fw_error err = {0};
    int rc = fw_story_open(&st->story, &o->params, &err);
    if (rc) {
        cli_error("%s", err.message);
        return cli_exit_code(rc);
    }
    if (cli_mkdirs(o->out_dir)) {
        cli_error("%s: cannot create output directory: %s", o->out_dir, strerror(errno));
        return EXIT_RUNTIME;
    }
    if (cli_jsonl_open(&st->jsonl, o->out_dir, *formats & OUT_JSONL, o->extra[X_JSONL] != NULL))
        return EXIT_RUNTIME;
    cli_cache_begin(&st->cache, o->input);
    return -1;
}

/* --append JOB: the report of JOB (its keyframes written into the output folder), and
 * the offsets that continue its timeline. -1 to go on, or an exit code. */
static int prepare_append(state *st, const cli_opts *o)
{
    const char *arg = o->extra[X_APPEND];
    char *end = NULL;
    long long id = strtoll(arg, &end, 10);
    if (!*arg || *end || id <= 0) {
        cli_error("analyze: --append: '%s' is not a job number (see 'framewise jobs')", arg);
        return EXIT_USAGE;
    }
    if (!st->cache.store) {
        cli_error("analyze: --append needs the store (a file input, without --no-cache)");
        return EXIT_USAGE;
    }
    if (cli_mkdirs(o->out_dir)) {
        cli_error("%s: cannot create output directory: %s", o->out_dir, strerror(errno));
        return EXIT_RUNTIME;
    }
    if (!(st->base = cli_cache_job_result(&st->cache, id, o->out_dir))) {
        cli_error("analyze: --append %lld: %s", id,
                  st->cache.err.code ? st->cache.err.message
                                     : "no finished job with that number in the store");
        return EXIT_USAGE;
    }
    json_t *kfs = json_object_get(st->base, "keyframes");
    double end_s =
        json_number_value(json_object_get(json_object_get(st->base, "video"), "duration"));
    double last =
        json_number_value(json_object_get(json_array_get(kfs, json_array_size(kfs) - 1), "time"));
    st->kfs.index_offset = st->cache.index_offset = (int)json_array_size(kfs);
    st->kfs.time_offset = st->cache.time_offset = end_s > last ? end_s : last + 1;
    st->cache.base_job = id;
    /* the result of this part is its own: the same part appended again is a hit */
    char key[64];
    snprintf(key, sizeof key, "%s+append:%lld", st->cache.settings, id);
    fw_store_hash_text(key, strlen(key), st->cache.settings);
    return -1;
}

/* --append: the earlier part's keyframes and observations go first into the stream, the
 * report and the story. */
static int feed_base(state *st)
{
    size_t i;
    json_t *v;
    cli_jsonl_records(&st->jsonl, "keyframe", json_object_get(st->base, "keyframes"));
    json_array_foreach(json_object_get(st->base, "observations"), i, v)
    {
        json_t *o = json_deep_copy(v);
        json_object_del(o, "gated"); /* the gate decides again */
        json_object_del(o, "cached");
        fw_observation ob;
        cli_cache_fill(&st->cache, (int)json_integer_value(json_object_get(o, "keyframe")),
                       json_number_value(json_object_get(o, "time")), o, &ob);
        json_array_append_new(st->obs, o);
        if (tell_story(st, &ob, o))
            return 1;
    }
    return 0;
}

int cmd_analyze(int argc, char **argv)
{
    cli_opts o;
    int rc = cli_parse(&command, argc, argv, &o);
    if (rc >= 0)
        return rc;
    char *prompt = NULL;
    cli_preset preset;
    if ((rc = cli_preset_apply(&preset, o.extra[X_PRESET], &command, &o)) >= 0 ||
        (rc = resolve(&o, &prompt)) >= 0) {
        cli_preset_free(&preset);
        return rc;
    }
    if (o.extra[X_JSONL])
        o.quiet = 1; /* stdout is the stream */
    fw_error err = {0};
    fw_job *job = NULL;
    unsigned formats = 0;
    state st = {.o = &o, .kfs = {.dir = o.out_dir}, .obs = json_array()};
    json_t *hit = NULL;
    if ((rc = fw_params_validate(&o.params, &err) ? EXIT_USAGE : -1) >= 0)
        cli_setting_error(NULL, err.message);
    else if ((rc = cli_cache_open(&st.cache, &o, o.extra[X_STORE], o.extra[X_NO_CACHE] != NULL)) >=
             0)
        ;
    else if (cli_formats_parse(o.extra[X_FORMAT] ? o.extra[X_FORMAT] : "all", &formats))
        rc = EXIT_USAGE;
    else if (o.extra[X_APPEND] && (rc = prepare_append(&st, &o)) >= 0)
        ;
    else if (st.cache.store && cli_mkdirs(o.out_dir) == 0 &&
             (hit = cli_cache_hit(&st.cache, o.out_dir)))
        rc = replay(hit, &o, formats);
    else if ((rc = fw_job_open(&job, o.input, &o.params, &err)))
        cli_error("%s", err.message), rc = cli_exit_code(rc);
    else if ((rc = start(&st, &o, &formats)) < 0 && st.base && feed_base(&st)) {
        cli_error("%s", st.story_err.message);
        rc = cli_exit_code(st.story_err.code);
    }
    if (rc >= 0) {
        json_decref(hit);
        json_decref(st.base);
        cli_cache_close(&st.cache);
        fw_story_close(st.story);
        cli_jsonl_close(&st.jsonl);
        fw_job_close(job);
        json_decref(st.obs);
        cli_preset_free(&preset);
        free(prompt);
        return rc;
    }
    cli_progress_init(&st.progress, o.quiet, "analyze");
    fw_callbacks cb = {.on_keyframe = on_keyframe,
                       .on_observation = on_observation,
                       .on_progress = st.progress.enabled ? cli_progress_cb : NULL,
                       .on_warning = cli_progress_warning,
                       .lookup = st.cache.stored || st.cache.frame_key[0] ? lookup : NULL,
                       .user = &st};
    if (st.cache.resumed && !o.quiet)
        fprintf(stderr, "framewise: resuming job %lld: %d observations stored\n",
                (long long)st.cache.job, st.cache.resumed);
    rc = fw_job_run(job, &cb, &err);
    cli_progress_done(&st.progress);
    const char *error = rc ? (st.kfs.err.code     ? st.kfs.err.message
                              : st.story_err.code ? st.story_err.message
                                                  : err.message)
                           : NULL;
    if (error)
        cli_error("%s", error);
    fw_stats stats;
    fw_job_stats(job, &stats);
    const fw_video_info *vi = fw_job_video(job);
    int wrote = 0;
    json_t *written = json_array();
    if (!rc || st.kfs.n > 0) { /* partial results are kept */
        json_t *timeline = report_timeline(st.obs);
        json_t *story = finish_story(&st, vi->duration_s >= 0 ? st.kfs.time_offset + vi->duration_s
                                                              : vi->duration_s);
        json_t *root = build_report(&st, vi, &stats, timeline, story, error);
        if (cli_jsonl_close(&st.jsonl) == 0 && (formats & OUT_JSONL))
            json_array_append_new(written, json_string(st.jsonl.path));
        wrote = cli_outputs_write(root, o.out_dir, formats, written) == 0 && (rc || story);
        if (o.json)
            report_print(root);
        if (!o.json && !o.quiet)
            print_summary(vi, &stats, root, written);
        cli_cache_end(&st.cache, root, error);
        json_decref(root);
        json_decref(story);
        json_decref(timeline);
    }
    cli_jsonl_close(&st.jsonl);
    json_decref(written);
    cli_cache_close(&st.cache);
    json_decref(st.base);
    fw_story_close(st.story);
    fw_job_close(job);
    json_decref(st.obs);
    cli_kflist_free(&st.kfs);
    cli_preset_free(&preset);
    free(prompt);
    if (rc)
        return cli_exit_code(st.kfs.err.code ? st.kfs.err.code : rc);
    return wrote ? EXIT_OK : EXIT_RUNTIME;
}

const cli_command *const cli_analyze_command = &command;
