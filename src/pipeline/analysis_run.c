/* A fresh run: the job on its own thread (decoder, writer, analyzer behind it), its events
 * pumped on the caller's; then the story, the report, the outputs, the store's record. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/safetext.h"
#include "pipeline/analysis.h"
#include "pipeline/pipeline.h"

/* ---- the stages' callbacks (their threads) ---- */

static int on_keyframe(void *user, const fw_keyframe *kf)
{
    fw_analysis *a = user;
    fw_error e = {0};
    pthread_mutex_lock(&a->mu);
    int rc = fw_kflist_add(&a->kfs, kf, &e);
    fw_kept kept = rc ? (fw_kept){0} : a->kfs.list[a->kfs.n - 1]; /* its file stays put */
    if (rc && !a->kf_err.code)
        a->kf_err = e;
    pthread_mutex_unlock(&a->mu);
    if (rc)
        return 1;
    fw_cache_keyframe(&a->cache, &kept.kf, kf->jpeg, kf->jpeg_size, kept.file);
    json_t *k = fw_report_keyframe(&kept.kf, kept.file);
    fw_evq_push(a->q, FW_EVENT_KEYFRAME, k);
    json_decref(k);
    return 0;
}

int fw_analysis_tell(fw_analysis *a, const fw_observation *ob, json_t *o, int pushed)
{
    void (*send)(fw_evq *, fw_event_type, json_t *) = pushed ? fw_evq_push : fw_evq_emit;
    const char *gate = NULL;
    char *events = NULL;
    fw_error e = {0};
    if (fw_story_add(a->story, ob, &gate, &events, &e)) {
        if (!a->story_err.code)
            a->story_err = e;
        return 1;
    }
    if (gate)
        json_object_set_new(o, "gated", json_string(gate));
    send(a->q, FW_EVENT_OBSERVATION, o);
    json_t *fired = events ? json_loads(events, 0, NULL) : NULL, *v;
    size_t i;
    json_array_foreach(fired, i, v) send(a->q, FW_EVENT_EVENT, v);
    json_decref(fired);
    free(events);
    return 0;
}

static int on_observation(void *user, const fw_observation *engine_ob)
{
    fw_analysis *a = user;
    fw_observation ob = *engine_ob; /* an appended part continues the timeline */
    ob.keyframe += a->kfs.index_offset;
    ob.time_s += a->kfs.time_offset;
    json_t *o = fw_report_observation(&ob);
    if (!o) {
        fw_error_set(&a->story_err, FW_ENOMEM, "out of memory");
        return 1;
    }
    json_array_append_new(a->obs, o);
    int stop = fw_analysis_tell(a, &ob, o, 1);
    pthread_mutex_lock(&a->mu);
    int known = engine_ob->keyframe < a->kfs.n;
    fw_keyframe kf = known ? a->kfs.list[engine_ob->keyframe].kf : (fw_keyframe){0};
    a->n_obs++;
    pthread_mutex_unlock(&a->mu);
    fw_cache_observation(&a->cache, o, known ? &kf : NULL);
    return stop;
}

static int lookup(void *user, const fw_keyframe *kf, fw_observation *out)
{
    return fw_cache_lookup(&((fw_analysis *)user)->cache, kf, out);
}

static void on_progress(void *user, double done_s, double total_s)
{
    fw_analysis *a = user;
    pthread_mutex_lock(&a->mu);
    a->done_s = done_s;
    a->total_s = total_s;
    pthread_mutex_unlock(&a->mu);
}

static void on_warning(void *user, const char *message)
{
    json_t *o = json_pack("{s:s}", "message", message);
    fw_evq_push(((fw_analysis *)user)->q, FW_EVENT_WARNING, o);
    json_decref(o);
}

void fw_analysis_decoded(void *user)
{
    fw_evq_push_stage(((fw_analysis *)user)->q, "analyze", NULL);
}

/* ---- the pump's tick (the caller's thread) ---- */

/* The part of the whole done: decoding and the observations share 90 %, the story and the
 * outputs make the rest; never going back. */
void fw_analysis_progress(fw_analysis *a, int force)
{
    pthread_mutex_lock(&a->mu);
    double done_s = a->done_s, total_s = a->total_s;
    int n_obs = a->n_obs, n_kf = a->kfs.n;
    pthread_mutex_unlock(&a->mu);
    double d = a->in_analyze ? 1 : total_s > 0 ? fmin(1, done_s / total_s) : 0;
    double an = n_kf > 0 ? (double)n_obs / n_kf : a->in_analyze;
    double f = fmax(a->fraction, 0.9 * (d + an) / 2);
    double done = a->in_analyze ? n_obs : done_s, total = a->in_analyze ? n_kf : total_s;
    if (!force && a->shown_stage == a->in_analyze && a->shown_done == done &&
        a->shown_total == total)
        return; /* nothing new */
    a->shown_stage = a->in_analyze;
    a->shown_done = done;
    a->shown_total = total;
    a->fraction = f;
    fw_evq_progress(a->q, a->in_analyze ? "analyze" : "decode", done, total, f);
}

static void tick(void *user)
{
    fw_analysis *a = user;
    if (atomic_load(&a->cancel) && !a->cancel_sent) {
        a->cancel_sent = 1; /* the decoder saw the flag; the analyzer needs telling */
        fw_job_cancel(a->job);
    }
    fw_analysis_progress(a, 0);
}

/* ---- the job's thread ---- */

typedef struct runner {
    fw_analysis *a;
    fw_callbacks cb;
    int rc;
    fw_error err;
} runner;

static void *job_main(void *arg)
{
    runner *r = arg;
    r->rc = fw_job_run(r->a->job, &r->cb, &r->err);
    fw_evq_end(r->a->q);
    return NULL;
}

static void run_job(fw_analysis *a, runner *r)
{
    r->a = a;
    r->cb = (fw_callbacks){
        .on_keyframe = on_keyframe,
        .on_observation = on_observation,
        .on_progress = on_progress,
        .on_warning = on_warning,
        .lookup = a->cache.stored || a->cache.frame_key[0] ? lookup : NULL,
        .user = a,
    };
    pthread_t thread;
    if (pthread_create(&thread, NULL, job_main, r) != 0) {
        r->rc = fw_error_set(&r->err, FW_EINTERNAL, "%s: cannot start the job's thread", a->input);
        return;
    }
    fw_evq_pump(a->q, tick, a);
    pthread_join(thread, NULL);
    fw_analysis_progress(a, 1); /* the last word on the observations */
}

/* ---- after the job ---- */

/* The story's part of the report, or NULL (err says why). */
static json_t *finish_story(fw_analysis *a, double duration_s, fw_error *err)
{
    char *text = NULL;
    if (a->story_err.code) {
        *err = a->story_err;
        return NULL;
    }
    if (fw_story_finish(a->story, duration_s, &text, err))
        return NULL;
    json_t *story = json_loads(text, 0, NULL);
    free(text);
    fw_safe_json(story); /* the LLM's summary, the events' names: as the observations */
    const char *why =
        json_string_value(json_object_get(json_object_get(story, "summary"), "error"));
    if (why) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s (the summary is extractive)", why);
        json_t *w = json_pack("{s:s}", "message", msg);
        fw_evq_emit(a->q, FW_EVENT_WARNING, w);
        json_decref(w);
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(story, "segments"), i, v)
        fw_evq_emit(a->q, FW_EVENT_SEGMENT, v);
    json_array_foreach(json_object_get(story, "events"), i, v) fw_evq_emit(a->q, FW_EVENT_EVENT, v);
    fw_evq_emit(a->q, FW_EVENT_SUMMARY, json_object_get(story, "summary"));
    fw_evq_emit(a->q, FW_EVENT_REVIEW, json_object_get(story, "review"));
    return story;
}

/* The report's keyframes: the earlier part's, then this run's. */
static json_t *keyframes_json(const fw_analysis *a)
{
    json_t *kfs = a->base ? json_deep_copy(json_object_get(a->base, "keyframes")) : json_array();
    for (int i = 0; i < a->kfs.n; i++)
        json_array_append_new(kfs, fw_report_keyframe(&a->kfs.list[i].kf, a->kfs.list[i].file));
    return kfs;
}

static json_t *append_json(const fw_analysis *a)
{
    if (!a->base)
        return NULL;
    return json_pack("{s:I, s:f, s:i, s:O}", "job", (json_int_t)a->cache.base_job, "offset",
                     a->kfs.time_offset, "keyframes", a->kfs.index_offset, "video",
                     json_object_get(a->base, "video"));
}

int fw_analysis_write(fw_analysis *a, fw_error *err)
{
    fw_evq_emit_stage(a->q, "write", NULL);
    int rc = fw_jsonl_close(&a->jsonl, err);
    if (!rc && a->out_dir && (a->formats & FW_OUT_JSONL))
        json_array_append_new(a->written, json_string(a->jsonl.path));
    fw_error later = {0}; /* the other files are written still; the first error is said */
    if (a->out_dir &&
        fw_outputs_write(a->report_json, a->out_dir, a->formats & ~(unsigned)FW_OUT_JSONL,
                         a->written, rc ? &later : err) &&
        !rc)
        rc = err->code;
    return rc;
}

/* Frames without an answer: none answered is the run's failure (the files are still
 * written, with the error); some is a warning with the count. Only this run's frames
 * count (an appended part's earlier ones were said before). */
static int failed_frames(fw_analysis *a, fw_error *err)
{
    size_t base = a->base ? json_array_size(json_object_get(a->base, "observations")) : 0;
    size_t failed = 0, n = json_array_size(a->obs) - base;
    const char *first = NULL;
    for (size_t i = base; i < base + n; i++) {
        const char *e = json_string_value(json_object_get(json_array_get(a->obs, i), "error"));
        failed += e != NULL;
        first = first ? first : e;
    }
    if (!failed)
        return 0;
    if (failed == n)
        return fw_error_set(err, FW_ENET, "%s: no frame got an answer: %zu of %zu failed (%s)",
                            a->input, failed, n, first);
    char msg[700];
    snprintf(msg, sizeof msg, "%zu of %zu frames got no answer (the first: %s)", failed, n, first);
    json_t *w = json_pack("{s:s}", "message", msg);
    fw_evq_emit(a->q, FW_EVENT_WARNING, w);
    json_decref(w);
    return 0;
}

/* The story, the report and its files from what the job did; rc: the job's outcome. */
static int report(fw_analysis *a, int rc, fw_error *err)
{
    fw_stats stats;
    fw_job_stats(a->job, &stats);
    const fw_video_info *vi = fw_job_video(a->job);
    fw_evq_emit_stage(a->q, "story", NULL);
    json_t *timeline = fw_report_timeline(a->obs);
    double end_s = vi->duration_s >= 0 ? a->kfs.time_offset + vi->duration_s : vi->duration_s;
    fw_error serr = {0};
    json_t *story = finish_story(a, end_s, &serr);
    if (!story && !rc) {
        rc = serr.code ? serr.code
                       : fw_error_set(&serr, FW_EINTERNAL, "%s: the story is not JSON", a->input);
        *err = serr;
    }
    if (!rc && atomic_load(&a->cancel)) /* during the story: the summary's requests stopped */
        rc = fw_error_set(err, FW_ECANCELED, "%s: cancelled", a->input);
    if (!rc)
        rc = failed_frames(a, err);
    fw_report_in in = {.video = vi,
                       .path = a->name,
                       .params = &a->p,
                       .keyframes = keyframes_json(a),
                       .observations = a->obs,
                       .stats = &stats,
                       .timeline = timeline,
                       .story = story,
                       .append = append_json(a),
                       .error = rc ? err->message : NULL,
                       .cancelled = rc == FW_ECANCELED};
    a->report_json = fw_report_new(&in);
    json_decref(in.append);
    json_decref(story);
    json_decref(timeline);
    if (!a->report_json)
        return rc ? rc : fw_error_set(err, FW_ENOMEM, "%s: out of memory", a->input);
    fw_cache_end(&a->cache, a->report_json, rc ? err->message : NULL);
    if (a->cache.err.code) { /* the analysis went on without the store */
        json_t *w = json_pack("{s:s}", "message", a->cache.err.message);
        fw_evq_emit(a->q, FW_EVENT_WARNING, w);
        json_decref(w);
    }
    int wrc = fw_analysis_write(a, rc ? &serr : err);
    return rc ? rc : wrc;
}

/* Why the job stopped, said once: a cancel, a keyframe that could not be written, the story,
 * or the job's own error. */
static int outcome(fw_analysis *a, const runner *r, fw_error *err)
{
    if (atomic_load(&a->cancel))
        return fw_error_set(err, FW_ECANCELED, "%s: cancelled", a->input);
    if (!r->rc)
        return 0;
    *err = a->kf_err.code ? a->kf_err : a->story_err.code ? a->story_err : r->err;
    return err->code ? err->code : r->rc;
}

int fw_analysis_fresh(fw_analysis *a, fw_error *err)
{
    fw_cache_begin(&a->cache, a->name);
    json_t *st =
        json_pack("{s:o, s:i}", "job", a->cache.job ? json_integer(a->cache.job) : json_null(),
                  "resumed", a->cache.resumed);
    fw_evq_emit_stage(a->q, "decode", st);
    json_decref(st);
    runner r = {0};
    int rc = a->base ? fw_analysis_feed_base(a, err) : 0;
    if (!rc) {
        run_job(a, &r);
        rc = outcome(a, &r, err);
    }
    if (rc && a->kfs.n == 0 && rc != FW_ECANCELED) { /* nothing decoded: the error says all */
        fw_cache_end(&a->cache, NULL, err->message);
        return rc;
    }
    return report(a, rc, err);
}
