/* The cache of one analysis: keys, whole results, resumed jobs, single frames. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "store/store.h"

/* The bytes of the files a setting names, into the settings key (a changed events file is
 * another run). */
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

static void hash_json(json_t *v, char hex[17])
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    fw_store_hash_text(text ? text : "", text ? strlen(text) : 0, hex);
    free(text);
}

/* A single frame's answer depends on the model, the question, the image budget and how
 * frames are sent (a crop's answer also on the keyframe before: it is stored by look). */
static void frame_key(const fw_params *p, char hex[17])
{
    const char *backend = p->backend ? p->backend : p->url ? "openai" : "local";
    hex[0] = '\0';
    if (strcmp(backend, "openai") != 0)
        return;
    json_t *fk =
        json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:i, s:i, s:i, s:f, s:i, s:i, s:i, s:i}",
                  "framewise", FW_VERSION, "url", p->url, "model", p->model, "prompt", p->prompt,
                  "system", p->system_prompt, "max_pixels", p->max_pixels, "window", p->window,
                  "max_tokens", p->max_tokens, "temperature", p->temperature, "jpeg_quality",
                  p->jpeg_quality, "whole_frames", p->whole_frames, "first_image_tokens",
                  p->first_image_tokens, "refresh", p->refresh);
    hash_json(fk, hex);
    json_decref(fk);
}

int fw_cache_open(fw_cache *c, const char *input, const fw_params *p, json_t *settings,
                  const char *path, int disabled, fw_error *err)
{
    memset(c, 0, sizeof *c);
    c->mu_ready = pthread_mutex_init(&c->mu, NULL) == 0;
    struct stat st;
    if (disabled || stat(input, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    int rc = fw_store_open(&c->store, path, err);
    if (!rc)
        rc = fw_store_hash_file(input, c->video, &c->size, err);
    if (rc) {
        fw_cache_close(c);
        return rc;
    }
    json_t *key = json_pack("{s:s, s:O}", "framewise", FW_VERSION, "settings", settings);
    add_files(key, "events", p->events);
    add_files(key, "lexicon", p->lexicon);
    hash_json(key, c->settings);
    json_decref(key);
    frame_key(p, c->frame_key);
    return 0;
}

void fw_cache_append(fw_cache *c, int64_t job, int index_offset, double time_offset)
{
    c->base_job = job;
    c->index_offset = index_offset;
    c->time_offset = time_offset;
    /* the result of this part is its own: the same part appended again is a hit */
    char key[64];
    snprintf(key, sizeof key, "%s+append:%lld", c->settings, (long long)job);
    fw_store_hash_text(key, strlen(key), c->settings);
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

int fw_cache_restore(fw_cache *c, int64_t job, json_t *report, const char *dir, fw_error *err)
{
    restore r = {.dir = dir};
    if (dir && fw_store_keyframes_each(c->store, job, write_keyframe, &r, err))
        return err->code;
    if (r.err.code) {
        *err = r.err;
        return r.err.code;
    }
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(report, "keyframes"), i, k)
    {
        const char *file = json_string_value(json_object_get(k, "file"));
        const char *base = file && strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
        char path[4400], name[32];
        snprintf(name, sizeof name, "kf_%06d.jpg",
                 (int)json_integer_value(json_object_get(k, "index")));
        snprintf(path, sizeof path, "%s/%s", dir ? dir : "", base ? base : name);
        json_object_set_new(k, "file", dir ? json_string(path) : json_null());
    }
    return 0;
}

/* A stored report's text (taken) as JSON, or NULL when it is not an object. */
static json_t *report_of(char *text)
{
    json_t *report = json_loads(text, 0, NULL);
    free(text);
    if (json_is_object(report))
        return report;
    json_decref(report);
    return NULL;
}

json_t *fw_cache_hit(fw_cache *c, int64_t *job)
{
    char *text = NULL;
    if (!c->store || fw_store_result_get(c->store, c->video, c->settings, &text, job, &c->err) != 1)
        return NULL;
    json_t *report = report_of(text);
    if (!report)
        return NULL;
    json_object_set_new(report, "cache",
                        json_pack("{s:b, s:s, s:I, s:s}", "cached", 1, "hit", "result", "job",
                                  (json_int_t)*job, "store", fw_store_path(c->store)));
    fw_store_count(c->store, "result_hits", 1, NULL);
    return report;
}

json_t *fw_cache_job_result(fw_cache *c, int64_t job)
{
    char *text = NULL;
    if (!c->store || fw_store_job_result(c->store, job, &text, &c->err) != 1)
        return NULL;
    return report_of(text);
}

/* The journal's observations join the stored ones (a stored one of the same keyframe
 * stays). */
static void add_journal(fw_cache *c)
{
    char *text = c->journal && c->journal->load ? c->journal->load(c->journal->user) : NULL;
    json_t *kept = text ? json_loads(text, 0, NULL) : NULL, *o;
    free(text);
    const char *key;
    if (json_is_object(kept) && !c->stored)
        c->stored = json_object();
    json_object_foreach(kept, key, o)
    {
        if (json_is_object(o) && !json_object_get(c->stored, key))
            json_object_set(c->stored, key, o);
    }
    json_decref(kept);
    c->resumed = (int)json_object_size(c->stored);
}

static void begin(fw_cache *c, const char *input);

void fw_cache_begin(fw_cache *c, const char *input)
{
    begin(c, input);
    add_journal(c);
}

static void begin(fw_cache *c, const char *input)
{
    if (!c->store)
        return;
    /* a job of this video and settings that was killed or failed goes on */
    if (fw_store_job_resume(c->store, c->video, c->settings, &c->job, &c->err) == 1) {
        c->stored = fw_store_observations(c->store, c->job, &c->err);
        c->resumed = (int)json_object_size(c->stored);
        fw_store_count(c->store, "resumed_jobs", 1, NULL);
        c->recording = 1;
        return;
    }
    if (fw_store_job_begin(c->store, c->video, c->size, input, c->settings, &c->job, &c->err))
        c->job = 0;
    else /* an appended part: the appended-to part's pictures belong to this result too */
        c->recording =
            !c->base_job || !fw_store_job_copy_keyframes(c->store, c->base_job, c->job, &c->err);
}

static void lock(fw_cache *c)
{
    if (c->mu_ready)
        pthread_mutex_lock(&c->mu);
}

static void unlock(fw_cache *c)
{
    if (c->mu_ready)
        pthread_mutex_unlock(&c->mu);
}

static fw_frame_look look_of(const fw_keyframe *kf)
{
    return (fw_frame_look){kf->scores.hash, kf->scores.luma, kf->scores.spread, kf->width,
                           kf->height,      kf->scores.cb,   kf->scores.cr};
}

int fw_cache_fill(fw_cache *c, int keyframe, double time_s, json_t *o, fw_observation *out)
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

static int lookup(fw_cache *c, const fw_keyframe *kf, fw_observation *out);

int fw_cache_lookup(fw_cache *c, const fw_keyframe *kf, fw_observation *out)
{
    lock(c);
    int hit = lookup(c, kf, out);
    unlock(c);
    return hit;
}

static int lookup(fw_cache *c, const fw_keyframe *kf, fw_observation *out)
{
    char key[32];
    snprintf(key, sizeof key, "%d", kf->index + c->index_offset);
    json_t *o = json_object_get(c->stored, key);
    double t = json_number_value(json_object_get(o, "time")) - c->time_offset;
    if (o && !json_object_get(o, "error") && t > kf->time_s - 1e-3 && t < kf->time_s + 1e-3) {
        if (c->store)
            fw_store_count(c->store, "observation_hits", 1, NULL);
        return fw_cache_fill(c, kf->index, kf->time_s, o, out);
    }
    char *text = NULL;
    fw_frame_look look = look_of(kf);
    if (!c->store || !c->frame_key[0] ||
        fw_store_frame_get(c->store, c->frame_key, &look, 2, &text, NULL) != 1)
        return 0;
    json_decref(c->frame);
    c->frame = json_loads(text, 0, NULL);
    free(text);
    if (!json_is_object(c->frame))
        return 0;
    fw_store_count(c->store, "frame_hits", 1, NULL);
    return fw_cache_fill(c, kf->index, kf->time_s, c->frame, out);
}

void fw_cache_keyframe(fw_cache *c, const fw_keyframe *kf, const void *jpeg, size_t size,
                       const char *file)
{
    if (!jpeg)
        return;
    char name[32];
    snprintf(name, sizeof name, "kf_%06d.jpg", kf->index);
    const char *base = !file ? name : strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    lock(c);
    if (c->recording && fw_store_keyframe(c->store, c->job, kf->index, kf->time_s, base, jpeg, size,
                                          c->err.code ? NULL : &c->err))
        c->recording = 0; /* stop storing; the run goes on */
    unlock(c);
}

static void observation(fw_cache *c, json_t *obs, const fw_keyframe *kf);

void fw_cache_observation(fw_cache *c, json_t *obs, const fw_keyframe *kf)
{
    lock(c);
    if (c->recording)
        observation(c, obs, kf);
    unlock(c);
    char *text = c->journal && c->journal->record && !json_object_get(obs, "error")
                     ? json_dumps(obs, JSON_COMPACT)
                     : NULL;
    if (text) /* the journal's own lock, if it needs one */
        c->journal->record(c->journal->user,
                           (int)json_integer_value(json_object_get(obs, "keyframe")), text);
    free(text);
}

static void observation(fw_cache *c, json_t *obs, const fw_keyframe *kf)
{
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
        c->recording = 0;
    free(text);
}

void fw_cache_end(fw_cache *c, json_t *report, const char *text, const char *error)
{
    lock(c);
    if (c->job && !c->ended) {
        /* a job whose recording stopped is failed, so that the next run goes on from it */
        char why[sizeof c->err.message + 32];
        if (!error && !c->recording)
            snprintf(why, sizeof why, "not all stored: %s", c->err.message), error = why;
        int keep =
            !error && report && !json_object_get(json_object_get(report, "summary"), "error");
        if (keep && text)
            fw_store_result_put(c->store, c->video, c->settings, c->job, text,
                                c->err.code ? NULL : &c->err);
        fw_store_job_end(c->store, c->job, error ? "failed" : "done", error,
                         c->err.code ? NULL : &c->err);
        c->ended = 1;
        c->recording = 0;
    }
    unlock(c);
}

void fw_cache_close(fw_cache *c)
{
    if (c->store && c->job && !c->ended) /* closed before it ended: a later run goes on */
        fw_store_job_end(c->store, c->job, "failed", "closed before it ended", NULL);
    fw_store_close(c->store);
    c->store = NULL;
    json_decref(c->stored);
    c->stored = NULL;
    free(c->fields);
    c->fields = NULL;
    json_decref(c->frame);
    c->frame = NULL;
    if (c->mu_ready)
        pthread_mutex_destroy(&c->mu);
    c->mu_ready = 0;
}
