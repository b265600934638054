/* TEMPORARY — the calls of include/framewise.h that branches lib13 and set13 implement
 * (settings by name, presets, one analysis call), in their simplest form, so that the
 * service builds and its tests run before those branches land. Deleted when they are
 * merged (CMake: FW_PENDING_API). The analysis here has no store, no preset, no story
 * and writes only the keyframes, report.json and report.jsonl. */
#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/settings.h"
#include "framewise.h"

const char *fw_preset_name(int i, const char **description)
{
    static char names[32][64], descs[32][256];
    static int n = -1;
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    if (n < 0) {
        n = 0;
        DIR *d = opendir(FW_PRESETS_DIR);
        struct dirent *e;
        while (d && (e = readdir(d)) && n < 32) {
            size_t len = strlen(e->d_name);
            if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
                continue;
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", FW_PRESETS_DIR, e->d_name);
            json_t *j = json_load_file(path, 0, NULL);
            snprintf(names[n], 64, "%.*s", (int)(len - 5), e->d_name);
            const char *ds = json_string_value(json_object_get(j, "description"));
            snprintf(descs[n], 256, "%s", ds ? ds : "");
            json_decref(j);
            n++;
        }
        if (d)
            closedir(d);
    }
    pthread_mutex_unlock(&mu);
    if (i < 0 || i >= n)
        return NULL;
    if (description)
        *description = descs[i];
    return names[i];
}

fw_analysis_opts fw_analysis_opts_default(void)
{
    return (fw_analysis_opts){0};
}

const char *fw_analysis_state_name(fw_analysis_state s)
{
    static const char *const n[] = {"ready", "running", "done", "failed", "cancelled"};
    return (unsigned)s < 5 ? n[s] : "unknown";
}

struct fw_analysis {
    fw_job *job;
    fw_params params;
    char out[4096];
    atomic_int cancel;
    fw_analysis_state state;
    pthread_mutex_t mu; /* events come from two threads */
    fw_event_fn fn;
    void *user;
    json_t *kfs, *obs;
    FILE *jsonl;
    char *report;
};

static void emit(fw_analysis *a, fw_event_type type, const char *name, json_t *rec,
                 const char *stage, double done, double total)
{
    json_object_set_new(rec, "type", json_string(name));
    char *text = json_dumps(rec, JSON_COMPACT);
    fw_event ev = {.type = type,
                   .name = name,
                   .json = text,
                   .stage = stage,
                   .done = done,
                   .total = total,
                   .fraction = total > 0 ? done / total : 0};
    pthread_mutex_lock(&a->mu);
    if (a->jsonl && text && type != FW_EVENT_PROGRESS && type != FW_EVENT_STAGE)
        fprintf(a->jsonl, "%s\n", text);
    if (a->fn)
        a->fn(a->user, &ev);
    pthread_mutex_unlock(&a->mu);
    free(text);
}

int fw_analysis_open(fw_analysis **out, const char *input, const fw_params *params,
                     const fw_analysis_opts *opts, fw_error *err)
{
    *out = NULL;
    fw_analysis *a = calloc(1, sizeof *a);
    if (!a)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    a->params = *params;
    if (!a->params.max_pixels)
        a->params.max_pixels = 448 * 1024;
    snprintf(a->out, sizeof a->out, "%s", opts && opts->out_dir ? opts->out_dir : "");
    pthread_mutex_init(&a->mu, NULL);
    int rc = fw_job_open(&a->job, input, &a->params, err);
    if (rc) {
        fw_analysis_close(a);
        return rc;
    }
    *out = a;
    return 0;
}

static int on_keyframe(void *user, const fw_keyframe *kf)
{
    fw_analysis *a = user;
    char name[32], path[4200];
    snprintf(name, sizeof name, "kf_%06d.jpg", kf->index);
    snprintf(path, sizeof path, "%s/%s", a->out, name);
    FILE *f = a->out[0] && kf->jpeg ? fopen(path, "wb") : NULL;
    if (f) {
        fwrite(kf->jpeg, 1, kf->jpeg_size, f);
        fclose(f);
    }
    json_t *k = json_pack("{s:i, s:f, s:I, s:s, s:s, s:i, s:i}", "index", kf->index, "time",
                          kf->time_s, "frame", (json_int_t)kf->frame, "reason", kf->reason, "file",
                          path, "width", kf->width, "height", kf->height);
    pthread_mutex_lock(&a->mu);
    json_array_append(a->kfs, k);
    pthread_mutex_unlock(&a->mu);
    emit(a, FW_EVENT_KEYFRAME, "keyframe", k, NULL, 0, 0);
    json_decref(k);
    return atomic_load(&a->cancel);
}

static int on_observation(void *user, const fw_observation *ob)
{
    fw_analysis *a = user;
    json_t *o =
        json_pack("{s:i, s:f, s:s, s:f, s:s, s:i}", "keyframe", ob->keyframe, "time", ob->time_s,
                  "text", ob->text ? ob->text : "", "confidence", ob->confidence, "model",
                  ob->model ? ob->model : "", "attempts", ob->attempts);
    if (ob->error)
        json_object_set_new(o, "error", json_string(ob->error));
    pthread_mutex_lock(&a->mu);
    json_array_append(a->obs, o);
    pthread_mutex_unlock(&a->mu);
    emit(a, FW_EVENT_OBSERVATION, "observation", o, NULL, 0, 0);
    json_decref(o);
    return atomic_load(&a->cancel);
}

static void on_progress(void *user, double done, double total)
{
    fw_analysis *a = user;
    json_t *p = json_pack("{s:s, s:f, s:f, s:f}", "stage", "decode", "done", done, "total", total,
                          "fraction", total > 0 ? done / total : 0);
    emit(a, FW_EVENT_PROGRESS, "progress", p, "decode", done, total);
    json_decref(p);
}

int fw_analysis_run(fw_analysis *a, fw_event_fn fn, void *user, fw_error *err)
{
    a->fn = fn;
    a->user = user;
    a->kfs = json_array();
    a->obs = json_array();
    a->state = FW_ANALYSIS_RUNNING;
    char path[4200];
    snprintf(path, sizeof path, "%s/report.jsonl", a->out);
    a->jsonl = a->out[0] ? fopen(path, "w") : NULL;
    json_t *st = json_pack("{s:s}", "stage", "decode");
    emit(a, FW_EVENT_STAGE, "stage", st, "decode", 0, 0);
    json_decref(st);
    fw_callbacks cb = {.on_keyframe = on_keyframe,
                       .on_observation = on_observation,
                       .on_progress = on_progress,
                       .user = a};
    int rc = atomic_load(&a->cancel) ? FW_ECANCELED : fw_job_run(a->job, &cb, err);
    if (atomic_load(&a->cancel))
        rc = FW_ECANCELED;
    fw_stats s;
    fw_job_stats(a->job, &s);
    a->state = rc == 0              ? FW_ANALYSIS_DONE
               : rc == FW_ECANCELED ? FW_ANALYSIS_CANCELLED
                                    : FW_ANALYSIS_FAILED;
    json_t *stats =
        json_pack("{s:i, s:i, s:i, s:i, s:I, s:i}", "keyframes", s.keyframes, "observations",
                  s.observations, "requests", s.requests, "retries", s.retries, "image_tokens",
                  (json_int_t)s.image_tokens, "cached", s.cached);
    json_t *report = json_pack("{s:s, s:O, s:O, s:O}", "schema", "framewise.report/1", "keyframes",
                               a->kfs, "observations", a->obs, "stats", stats);
    a->report = json_dumps(report, JSON_INDENT(2));
    snprintf(path, sizeof path, "%s/report.json", a->out);
    if (a->out[0])
        json_dump_file(report, path, JSON_INDENT(2));
    json_decref(report);
    json_t *end =
        rc && rc != FW_ECANCELED
            ? json_pack("{s:s, s:s}", "code", fw_strerror(rc), "message", err->message)
            : json_pack("{s:s, s:O}", "state", fw_analysis_state_name(a->state), "stats", stats);
    emit(a, rc && rc != FW_ECANCELED ? FW_EVENT_ERROR : FW_EVENT_DONE,
         rc && rc != FW_ECANCELED ? "error" : "done", end, NULL, 0, 0);
    json_decref(end);
    json_decref(stats);
    if (a->jsonl)
        fclose(a->jsonl);
    a->jsonl = NULL;
    return rc;
}

void fw_analysis_cancel(fw_analysis *a)
{
    atomic_store(&a->cancel, 1);
}

fw_analysis_state fw_analysis_get_state(const fw_analysis *a)
{
    return a->state;
}

const char *fw_analysis_report(const fw_analysis *a)
{
    return a->report;
}

const fw_params *fw_analysis_params(const fw_analysis *a)
{
    return &a->params;
}

void fw_analysis_close(fw_analysis *a)
{
    if (!a)
        return;
    fw_job_close(a->job);
    json_decref(a->kfs);
    json_decref(a->obs);
    free(a->report);
    pthread_mutex_destroy(&a->mu);
    free(a);
}
