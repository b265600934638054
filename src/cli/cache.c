#include "cli/cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/report.h"
#include "core/error.h"

/* Opens the store at path (NULL: the default): -1 to go on, else the exit code after a
 * one-line error (2 for a file that is not a store or cannot be written). */
static int open_store(const char *path, fw_store **s)
{
    fw_error err = {0};
    if (fw_store_open(s, path, &err) == 0)
        return -1;
    cli_error("%s", err.message);
    return err.code == FW_EOPEN ? EXIT_USAGE : EXIT_RUNTIME;
}

/* The bytes of a file a setting names, into the settings key (a changed events file is
 * a different run). */
static void add_files(json_t *key, const char *name, const char *list)
{
    char *copy = list ? strdup(list) : NULL, *save = NULL;
    json_t *hashes = json_array();
    for (char *f = copy ? strtok_r(copy, ",", &save) : NULL; f; f = strtok_r(NULL, ",", &save)) {
        char hex[17] = "missing";
        int64_t size;
        fw_store_hash_file(f, hex, &size, NULL);
        json_array_append_new(hashes, json_string(hex));
    }
    free(copy);
    json_object_set_new(key, name, hashes);
}

int cli_cache_open(cli_cache *c, const cli_opts *o, const char *store_path, int disabled)
{
    memset(c, 0, sizeof *c);
    struct stat st;
    if (disabled || stat(o->input, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    int rc = open_store(store_path, &c->store);
    if (rc >= 0)
        return rc;
    fw_error err = {0};
    if (fw_store_hash_file(o->input, c->video, &c->size, &err)) {
        cli_error("%s", err.message);
        return EXIT_USAGE;
    }
    json_t *key =
        json_pack("{s:s, s:o}", "framewise", FW_VERSION, "settings", report_params(&o->params));
    add_files(key, "events", o->params.events);
    add_files(key, "lexicon", o->params.lexicon);
    char *text = json_dumps(key, JSON_COMPACT | JSON_SORT_KEYS);
    fw_store_hash_text(text, strlen(text), c->settings);
    free(text);
    json_decref(key);
    /* a single frame's answer depends on the model, the question and the image budget */
    const fw_params *p = &o->params;
    const char *backend = p->backend ? p->backend : p->url ? "openai" : "local";
    if (strcmp(backend, "openai") == 0) {
        json_t *fk = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:i, s:i, s:i, s:f, s:i}",
                               "framewise", FW_VERSION, "url", p->url, "model", p->model, "prompt",
                               p->prompt, "system", p->system_prompt, "max_pixels", p->max_pixels,
                               "window", p->window, "max_tokens", p->max_tokens, "temperature",
                               p->temperature, "jpeg_quality", p->jpeg_quality);
        text = json_dumps(fk, JSON_COMPACT | JSON_SORT_KEYS);
        fw_store_hash_text(text, strlen(text), c->frame_key);
        free(text);
        json_decref(fk);
    }
    return -1;
}

typedef struct restore {
    const char *dir;
    fw_error err;
} restore;

static int write_keyframe(void *user, int index, const char *name, const void *jpeg, size_t n)
{
    (void)index;
    restore *r = user;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", r->dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(jpeg, 1, n, f) != n) {
        fw_error_set(&r->err, FW_EIO, "%s: cannot write: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return 1;
    }
    return fclose(f) ? (fw_error_set(&r->err, FW_EIO, "%s: cannot write", path), 1) : 0;
}

/* A stored report (text) with its job's keyframes written into dir and pointed at. */
static json_t *restore_result(cli_cache *c, int64_t job, char *text, const char *dir)
{
    json_t *report = json_loads(text, 0, NULL);
    free(text);
    restore r = {.dir = dir};
    if (!report || fw_store_keyframes_each(c->store, job, write_keyframe, &r, &c->err) ||
        r.err.code) {
        if (r.err.code)
            c->err = r.err;
        json_decref(report);
        return NULL;
    }
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(report, "keyframes"), i, k)
    {
        const char *file = json_string_value(json_object_get(k, "file"));
        const char *base = file && strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, base ? base : "");
        json_object_set_new(k, "file", json_string(path));
    }
    return report;
}

json_t *cli_cache_hit(cli_cache *c, const char *dir)
{
    if (!c->store)
        return NULL;
    char *text = NULL;
    int64_t job = 0;
    if (fw_store_result_get(c->store, c->video, c->settings, &text, &job, &c->err) != 1)
        return NULL;
    json_t *report = restore_result(c, job, text, dir);
    if (!report)
        return NULL;
    json_object_set_new(report, "cache",
                        json_pack("{s:b, s:s, s:I, s:s}", "cached", 1, "hit", "result", "job",
                                  (json_int_t)job, "store", fw_store_path(c->store)));
    fw_store_count(c->store, "result_hits", 1, NULL);
    return report;
}

json_t *cli_cache_job_result(cli_cache *c, int64_t job, const char *dir)
{
    char *text = NULL;
    if (!c->store || fw_store_job_result(c->store, job, &text, &c->err) != 1)
        return NULL;
    return restore_result(c, job, text, dir);
}

void cli_cache_begin(cli_cache *c, const char *input)
{
    if (!c->store)
        return;
    /* a job of this video and settings that was killed or failed goes on */
    if (fw_store_job_resume(c->store, c->video, c->settings, &c->job, &c->err) == 1) {
        c->stored = fw_store_observations(c->store, c->job, &c->err);
        c->resumed = (int)json_object_size(c->stored);
        fw_store_count(c->store, "resumed_jobs", 1, NULL);
        return;
    }
    if (fw_store_job_begin(c->store, c->video, c->size, input, c->settings, &c->job, &c->err))
        c->job = 0;
    else if (c->base_job && /* the appended-to part's pictures belong to this result too */
             fw_store_job_copy_keyframes(c->store, c->base_job, c->job, &c->err))
        c->job = 0;
}

static fw_frame_look look_of(const fw_keyframe *kf)
{
    return (fw_frame_look){kf->scores.hash, kf->scores.luma, kf->scores.spread, kf->width,
                           kf->height,      kf->scores.cb,   kf->scores.cr};
}

int cli_cache_fill(cli_cache *c, int keyframe, double time_s, json_t *o, fw_observation *out)
{
    free(c->fields);
    c->fields = json_dumps(json_object_get(o, "fields"), JSON_COMPACT | JSON_PRESERVE_ORDER);
    size_t i;
    json_t *f;
    int n = 0;
    json_array_foreach(json_object_get(o, "flags"), i, f) if (n < 8 && json_is_string(f))
        c->flags[n++] = json_string_value(f);
    *out = (fw_observation){
        .keyframe = keyframe,
        .time_s = time_s,
        .text = json_string_value(json_object_get(o, "text")),
        .backend = json_string_value(json_object_get(o, "backend")),
        .model = json_string_value(json_object_get(o, "model")),
        .error = json_string_value(json_object_get(o, "error")),
        .fields = c->fields ? c->fields : "{}",
        .confidence = json_number_value(json_object_get(o, "confidence")),
        .flags = c->flags,
        .n_flags = n,
        .latency_ms = json_number_value(json_object_get(o, "latency_ms")),
        .prompt_tokens = (int)json_integer_value(json_object_get(o, "prompt_tokens")),
        .completion_tokens = (int)json_integer_value(json_object_get(o, "completion_tokens")),
        .attempts = (int)json_integer_value(json_object_get(o, "attempts"))};
    return 1;
}

int cli_cache_lookup(cli_cache *c, const fw_keyframe *kf, fw_observation *out)
{
    char key[32];
    snprintf(key, sizeof key, "%d", kf->index + c->index_offset);
    json_t *o = json_object_get(c->stored, key);
    double t = json_number_value(json_object_get(o, "time")) - c->time_offset;
    if (o && !json_object_get(o, "error") && t > kf->time_s - 1e-3 && t < kf->time_s + 1e-3) {
        fw_store_count(c->store, "observation_hits", 1, NULL);
        return cli_cache_fill(c, kf->index, kf->time_s, o, out);
    }
    char *text = NULL;
    fw_frame_look look = look_of(kf);
    if (!c->frame_key[0] || fw_store_frame_get(c->store, c->frame_key, &look, 2, &text, NULL) != 1)
        return 0;
    json_decref(c->frame);
    c->frame = json_loads(text, 0, NULL);
    free(text);
    if (!json_is_object(c->frame))
        return 0;
    fw_store_count(c->store, "frame_hits", 1, NULL);
    return cli_cache_fill(c, kf->index, kf->time_s, c->frame, out);
}

void cli_cache_keyframe(cli_cache *c, const fw_keyframe *kf, const void *jpeg, size_t size,
                        const char *file)
{
    if (!c->job || !jpeg)
        return;
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    if (fw_store_keyframe(c->store, c->job, kf->index, kf->time_s, base, jpeg, size,
                          c->err.code ? NULL : &c->err))
        c->job = 0; /* stop storing; the run goes on */
}

void cli_cache_observation(cli_cache *c, json_t *obs, const fw_keyframe *kf)
{
    if (!c->job)
        return;
    char *text = json_dumps(obs, JSON_COMPACT);
    if (text && c->frame_key[0] && kf && !json_object_get(obs, "error") &&
        !json_is_true(json_object_get(obs, "cached"))) {
        fw_frame_look look = look_of(kf);
        fw_store_frame_put(c->store, c->frame_key, &look, text, NULL);
    }
    if (!text || fw_store_observation(c->store, c->job,
                                      (int)json_integer_value(json_object_get(obs, "keyframe")),
                                      json_real_value(json_object_get(obs, "time")), text,
                                      c->err.code ? NULL : &c->err))
        c->job = 0;
    free(text);
}

void cli_cache_end(cli_cache *c, json_t *report, const char *error)
{
    if (!c->job)
        return;
    int keep = !error && report && !json_object_get(json_object_get(report, "summary"), "error");
    char *text = keep ? json_dumps(report, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    if (text)
        fw_store_result_put(c->store, c->video, c->settings, c->job, text, &c->err);
    free(text);
    fw_store_job_end(c->store, c->job, error ? "failed" : "done", error, &c->err);
}

void cli_cache_close(cli_cache *c)
{
    fw_store_close(c->store);
    c->store = NULL;
    json_decref(c->stored);
    c->stored = NULL;
    free(c->fields);
    c->fields = NULL;
    json_decref(c->frame);
    c->frame = NULL;
}

/* [--store PATH] [--json] after the subcommand words; the words left in words[]. */
static int store_args(int argc, char **argv, const char **path, int *json, const char **words,
                      int max_words, int *n_words, const char *usage)
{
    *path = NULL;
    *json = 0;
    *n_words = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--store") == 0 && i + 1 < argc)
            *path = argv[++i];
        else if (strncmp(argv[i], "--store=", 8) == 0)
            *path = argv[i] + 8;
        else if (strcmp(argv[i], "--json") == 0)
            *json = 1;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: framewise %s\n", usage);
            return EXIT_OK;
        } else if (argv[i][0] != '-' && *n_words < max_words)
            words[(*n_words)++] = argv[i];
        else {
            cli_error("%s: unknown option or argument (usage: framewise %s)", argv[i], usage);
            return EXIT_USAGE;
        }
    }
    return -1;
}

int cmd_cache(int argc, char **argv)
{
    static const char usage[] = "cache stats|clear|vacuum [--store PATH] [--json]";
    const char *path, *words[2];
    int json, n;
    int rc = store_args(argc, argv, &path, &json, words, 2, &n, usage);
    if (rc >= 0)
        return rc;
    if (n != 1 ||
        (strcmp(words[0], "stats") && strcmp(words[0], "clear") && strcmp(words[0], "vacuum"))) {
        cli_error("cache: say stats, clear or vacuum (usage: framewise %s)", usage);
        return EXIT_USAGE;
    }
    fw_store *s;
    fw_error err = {0};
    if ((rc = open_store(path, &s)) >= 0)
        return rc;
    rc = strcmp(words[0], "clear") == 0    ? fw_store_clear(s, &err)
         : strcmp(words[0], "vacuum") == 0 ? fw_store_vacuum(s, &err)
                                           : 0;
    json_t *st = rc ? NULL : fw_store_stats(s, &err);
    if (!st) {
        cli_error("%s", err.message);
        fw_store_close(s);
        return EXIT_RUNTIME;
    }
    if (json)
        report_print(st);
    else {
        json_t *cnt = json_object_get(st, "counters");
        printf("%s: %.1f MB; %" JSON_INTEGER_FORMAT " videos, %" JSON_INTEGER_FORMAT
               " jobs, %" JSON_INTEGER_FORMAT
               " keyframes (%.1f MB of images), %" JSON_INTEGER_FORMAT
               " observations, %" JSON_INTEGER_FORMAT " results; hits: %" JSON_INTEGER_FORMAT
               " whole results, %" JSON_INTEGER_FORMAT " frames, %" JSON_INTEGER_FORMAT
               " observations of resumed jobs\n",
               json_string_value(json_object_get(st, "path")),
               json_integer_value(json_object_get(st, "bytes")) / 1e6,
               json_integer_value(json_object_get(st, "videos")),
               json_integer_value(json_object_get(st, "jobs")),
               json_integer_value(json_object_get(st, "keyframes")),
               json_integer_value(json_object_get(st, "image_bytes")) / 1e6,
               json_integer_value(json_object_get(st, "observations")),
               json_integer_value(json_object_get(st, "results")),
               json_integer_value(json_object_get(cnt, "result_hits")),
               json_integer_value(json_object_get(cnt, "frame_hits")),
               json_integer_value(json_object_get(cnt, "observation_hits")));
    }
    json_decref(st);
    fw_store_close(s);
    return EXIT_OK;
}

int cmd_jobs(int argc, char **argv)
{
    static const char usage[] = "jobs [show ID] [--store PATH] [--json]";
    const char *path, *words[3];
    int json, n;
    int rc = store_args(argc, argv, &path, &json, words, 3, &n, usage);
    if (rc >= 0)
        return rc;
    char *end = NULL;
    long long id = n == 2 ? strtoll(words[1], &end, 10) : 0;
    if (!(n == 0 || (n == 2 && strcmp(words[0], "show") == 0 && end && !*end && id > 0))) {
        cli_error("jobs: usage: framewise %s", usage);
        return EXIT_USAGE;
    }
    fw_store *s;
    fw_error err = {0};
    if ((rc = open_store(path, &s)) >= 0)
        return rc;
    json_t *jobs = fw_store_jobs(s, &err), *j, *pick = NULL;
    fw_store_close(s);
    if (!jobs) {
        cli_error("%s", err.message);
        return EXIT_RUNTIME;
    }
    size_t i;
    json_array_foreach(jobs, i, j) if (json_integer_value(json_object_get(j, "id")) == id) pick = j;
    if (n == 2 && !pick) {
        cli_error("jobs: no job %lld in the store", id);
        json_decref(jobs);
        return EXIT_USAGE;
    }
    if (json)
        report_print(pick ? pick : jobs);
    else
        json_array_foreach(jobs, i, j) if (!pick || j == pick)
            printf("%6" JSON_INTEGER_FORMAT "  %-7s %3" JSON_INTEGER_FORMAT
                   " keyframes %3" JSON_INTEGER_FORMAT " observations  %s%s%s\n",
                   json_integer_value(json_object_get(j, "id")),
                   json_string_value(json_object_get(j, "state")),
                   json_integer_value(json_object_get(j, "keyframes")),
                   json_integer_value(json_object_get(j, "observations")),
                   json_string_value(json_object_get(j, "input")),
                   json_is_string(json_object_get(j, "error")) ? "  error: " : "",
                   json_is_string(json_object_get(j, "error"))
                       ? json_string_value(json_object_get(j, "error"))
                       : "");
    json_decref(jobs);
    return EXIT_OK;
}
