/* A fresh run: the job on its own thread (decoder, writer, analyzer behind it), its events
 * pumped on the caller's; then the story, the report, the outputs, the store's record. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/safetext.h"
#include "pipeline/analysis.h"
#include "pipeline/pipeline.h"

/* ---- the stages' callbacks (their threads) ---- */

/* clock wall: the record's wall-clock time, ISO 8601 in UTC with milliseconds. */
static void add_wall(fw_analysis *a, json_t *o, const char *key)
{
    if (!o || !a->p.clock || strcmp(a->p.clock, "wall") != 0 || !a->job)
        return;
    double w0 = fw_job_wall0(a->job), t = json_number_value(json_object_get(o, key));
    if (w0 <= 0)
        return;
    double w = w0 + t - a->kfs.time_offset;
    time_t sec = (time_t)floor(w);
    struct tm tm;
    char buf[40], out[48];
    gmtime_r(&sec, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, sizeof out, "%s.%03dZ", buf, (int)((w - floor(w)) * 1000) % 1000);
    json_object_set_new(o, "wall", json_string(out));
}

/* A record into its list of the report (a failure is the run's: kf_err). */
static void spool(fw_analysis *a, int which, json_t *o)
{
    fw_error e = {0};
    if (o && fw_spool_add(a->spool, which, o, &e)) {
        pthread_mutex_lock(&a->mu);
        if (!a->kf_err.code)
            a->kf_err = e;
        pthread_mutex_unlock(&a->mu);
    }
}

/* The pump's own events are delivered now; the stages' are queued. */
static void send_record(fw_analysis *a, fw_event_type type, json_t *o)
{
    if (pthread_equal(pthread_self(), a->pump))
        fw_evq_emit(a->q, type, o);
    else
        fw_evq_push(a->q, type, o);
}

static void on_segment(void *user, json_t *segment)
{
    fw_analysis *a = user;
    json_t *o = json_deep_copy(segment);
    fw_safe_json(o);
    add_wall(a, o, "start");
    spool(a, FW_SPOOL_SEGMENTS, o);
    send_record(a, FW_EVENT_SEGMENT, o);
    json_decref(o);
}

/* A multi-step event found as the video goes on: a live run tells it now (and not again
 * at the end); other runs tell every event at the end, as a short video's. */
static void on_found(void *user, json_t *event)
{
    fw_analysis *a = user;
    if (!a->live)
        return;
    json_array_append_new(a->found, json_pack("[O, O]", json_object_get(event, "name"),
                                              json_object_get(event, "time")));
    json_t *o = json_deep_copy(event);
    fw_safe_json(o);
    add_wall(a, o, "time");
    send_record(a, FW_EVENT_EVENT, o);
    json_decref(o);
}

static int on_keyframe(void *user, const fw_keyframe *kf)
{
    fw_analysis *a = user;
    fw_error e = {0};
    pthread_mutex_lock(&a->mu);
    int rc = fw_kflist_add(&a->kfs, kf, &e);
    fw_kept kept = rc ? (fw_kept){0} : *fw_kflist_get(&a->kfs, a->kfs.n - 1);
    if (rc && !a->kf_err.code)
        a->kf_err = e;
    pthread_mutex_unlock(&a->mu);
    if (rc)
        return 1;
    fw_cache_keyframe(&a->cache, &kept.kf, kf->jpeg, kf->jpeg_size, kept.file);
    json_t *k = fw_report_keyframe(&kept.kf, kept.file); /* only this thread adds: it stays */
    add_wall(a, k, "time");
    spool(a, FW_SPOOL_KEYFRAMES, k);
    fw_evq_push(a->q, FW_EVENT_KEYFRAME, k);
    json_decref(k);
    return 0;
}

void fw_analysis_tell(fw_analysis *a, const fw_observation *ob, json_t *o, int pushed)
{
    void (*send)(fw_evq *, fw_event_type, json_t *) = pushed ? fw_evq_push : fw_evq_emit;
    const char *gate = NULL;
    char *events = NULL;
    fw_error e = {0};
    /* A story that failed (its embeddings server) is not fed again, and the run goes on:
     * every observation is kept, and the story's error is the run's at the end. */
    pthread_mutex_lock(&a->story_mu);
    int rc = a->story_err.code                  ? 0
             : atomic_exchange(&a->fuse_due, 0) ? fw_story_fuse(a->story, &e)
                                                : 0;
    if (!rc && !a->story_err.code)
        rc = fw_story_add(a->story, ob, &gate, &events, &e);
    if (rc)
        a->story_err = e;
    pthread_mutex_unlock(&a->story_mu);
    if (gate)
        json_object_set_new(o, "gated", json_string(gate));
    send(a->q, FW_EVENT_OBSERVATION, o);
    json_t *fired = events ? json_loads(events, 0, NULL) : NULL, *v;
    size_t i;
    json_array_foreach(fired, i, v)
    {
        add_wall(a, v, "time");
        send(a->q, FW_EVENT_EVENT, v);
    }
    json_decref(fired);
    free(events);
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
    add_wall(a, o, "time");
    fw_analysis_tell(a, &ob, o, 1);
    spool(a, FW_SPOOL_OBSERVATIONS, o);
    json_t *change = fw_report_timeline_entry(o);
    spool(a, FW_SPOOL_TIMELINE, change);
    json_decref(change);
    pthread_mutex_lock(&a->mu);
    const fw_kept *k = fw_kflist_get(&a->kfs, engine_ob->keyframe);
    fw_keyframe kf = k ? k->kf : (fw_keyframe){0};
    a->n_obs++;
    if (ob.error && !a->n_failed++)
        snprintf(a->first_failed, sizeof a->first_failed, "%s", ob.error);
    pthread_mutex_unlock(&a->mu);
    fw_cache_observation(&a->cache, o, k ? &kf : NULL);
    json_decref(o);
    return 0;
}

static int lookup(void *user, const fw_keyframe *kf, fw_observation *out)
{
    return fw_cache_lookup(&((fw_analysis *)user)->cache, kf, out);
}

static void on_progress(void *user, double done_s, double total_s)
{
    fw_analysis *a = user;
    pthread_mutex_lock(&a->mu);
    a->frames++; /* once a frame */
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

static json_t *report_head(fw_analysis *a, int rc, const fw_error *err, json_t *story,
                           const fw_video_info *vi, const fw_stats *stats);

/* live: the report files from what is there now ("partial": true), on the flusher's
 * thread. Fusion catches up at the analyzer's next observation, so the next flush has
 * it. The counts are the analysis' own (the job's belong to its thread while it runs). */
static void flush(fw_analysis *a)
{
    atomic_store(&a->fuse_due, 1);
    fw_video_info vi = a->video0;
    fw_stats st = {0};
    pthread_mutex_lock(&a->mu);
    double now_s = a->kfs.time_offset + a->done_s;
    st.frames_decoded = vi.frames_decoded = a->frames;
    st.keyframes = a->kfs.n;
    st.observations = a->n_obs;
    st.failed = a->n_failed;
    pthread_mutex_unlock(&a->mu);
    char *text = NULL;
    fw_error e = {0};
    pthread_mutex_lock(&a->story_mu);
    int rc = fw_story_snapshot(a->story, now_s, &text, &e);
    pthread_mutex_unlock(&a->story_mu);
    json_t *story = rc ? NULL : json_loads(text, 0, NULL);
    free(text);
    fw_safe_json(story);
    json_t *head = story ? report_head(a, 0, NULL, story, &vi, &st) : NULL;
    json_decref(story);
    if (!head)
        return;
    json_object_set_new(head, "partial", json_true());
    json_object_set_new(
        head, "live",
        json_pack("{s:n, s:i, s:f}", "ended", "flushes", a->flushes, "flush", a->p.flush_s));
    fw_doc doc = {head, a->spool};
    json_t *written = json_array();
    if (a->out_dir &&
        !fw_outputs_write(&doc, a->out_dir, a->formats & ~(unsigned)FW_OUT_JSONL, written, &e))
        a->flushes++;
    json_decref(written);
    json_decref(head);
}

/* live: the flusher's thread, a flush every flush_s until the run ends. */
typedef struct flusher {
    fw_analysis *a;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int on, stop, started; /* on: a live run that writes files, flushing */
} flusher;

static void *flusher_main(void *arg)
{
    flusher *f = arg;
    pthread_mutex_lock(&f->mu);
    while (!f->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        double at = until.tv_sec + until.tv_nsec / 1e9 + f->a->p.flush_s;
        until.tv_sec = (time_t)at;
        until.tv_nsec = (long)((at - (double)until.tv_sec) * 1e9);
        while (!f->stop && pthread_cond_timedwait(&f->cv, &f->mu, &until) == 0)
            ; /* woken early: only the stop counts */
        if (f->stop || atomic_load(&f->a->cancel))
            break;
        pthread_mutex_unlock(&f->mu);
        flush(f->a);
        pthread_mutex_lock(&f->mu);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

static void flusher_start(flusher *f, fw_analysis *a)
{
    memset(f, 0, sizeof *f);
    f->a = a;
    if (!(f->on = a->live && a->p.flush_s > 0 && a->out_dir))
        return;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&f->mu, NULL);
    f->started = pthread_create(&f->thread, NULL, flusher_main, f) == 0;
}

static void flusher_stop(flusher *f)
{
    if (!f->on)
        return;
    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    if (f->started)
        pthread_join(f->thread, NULL);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
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
    a->video0 = *fw_job_video(a->job);
    if (pthread_create(&thread, NULL, job_main, r) != 0) {
        r->rc = fw_error_set(&r->err, FW_EINTERNAL, "%s: cannot start the job's thread", a->input);
        return;
    }
    flusher f;
    flusher_start(&f, a);
    fw_evq_pump(a->q, tick, a);
    pthread_join(thread, NULL);
    flusher_stop(&f);           /* its last flush is done before the final report */
    fw_analysis_progress(a, 1); /* the last word on the observations */
}

/* ---- after the job ---- */

/* Whether a multi-step event was told when it was found (on_found). */
static int told(const fw_analysis *a, json_t *event)
{
    size_t i;
    json_t *f;
    if (!json_object_get(event, "steps"))
        return 0;
    json_array_foreach(
        a->found, i,
        f) if (json_equal(json_array_get(f, 0), json_object_get(event, "name")) &&
               json_equal(json_array_get(f, 1), json_object_get(event, "time"))) return 1;
    return 0;
}

/* The story's part of the report, or NULL (err says why). */
static json_t *finish_story(fw_analysis *a, double duration_s, fw_error *err)
{
    char *text = NULL;
    if (a->story_err.code) {
        *err = a->story_err;
        return NULL;
    }
    pthread_mutex_lock(&a->story_mu);
    int rc = fw_story_finish(a->story, duration_s, &text, err);
    pthread_mutex_unlock(&a->story_mu);
    if (rc)
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
    json_array_foreach(json_object_get(story, "events"), i, v)
    {
        add_wall(a, v, "time");
        if (!told(a, v))
            fw_evq_emit(a->q, FW_EVENT_EVENT, v);
    }
    fw_evq_emit(a->q, FW_EVENT_SUMMARY, json_object_get(story, "summary"));
    fw_evq_emit(a->q, FW_EVENT_REVIEW, json_object_get(story, "review"));
    return story;
}

/* The live part of the report: how it ended (NULL: it goes on), the flushes, the gaps. */
static json_t *live_json(fw_analysis *a, const char *ended)
{
    const double(*gaps)[2];
    int n_gaps, reconnects = fw_job_gaps(a->job, &gaps, &n_gaps);
    json_t *g = json_array();
    for (int i = 0; i < n_gaps; i++)
        json_array_append_new(g, json_pack("{s:f, s:f}", "start", gaps[i][0] + a->kfs.time_offset,
                                           "end", gaps[i][1] + a->kfs.time_offset));
    return json_pack("{s:s?, s:i, s:i, s:o, s:f}", "ended", ended, "flushes", a->flushes,
                     "reconnects", reconnects, "gaps", g, "flush", a->p.flush_s);
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
    fw_doc doc = {a->report_json, a->spool};
    if (a->out_dir &&
        fw_outputs_write(&doc, a->out_dir, a->formats & ~(unsigned)FW_OUT_JSONL, a->written,
                         rc ? &later : err) &&
        !rc)
        rc = err->code;
    return rc;
}

/* Frames without an answer: none answered is the run's failure (the files are still
 * written, with the error); some is a warning with the count. Only this run's frames
 * count (an appended part's earlier ones were said before). */
static int failed_frames(fw_analysis *a, fw_error *err)
{
    size_t failed = (size_t)a->n_failed, n = (size_t)a->n_obs;
    const char *first = a->first_failed;
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

/* The report's head: everything but the lists the spool holds (an appended recording's
 * earlier part is spooled first, by fw_analysis_feed_base). */
static json_t *report_head(fw_analysis *a, int rc, const fw_error *err, json_t *story,
                           const fw_video_info *vi, const fw_stats *stats)
{
    json_t *none = json_array();
    fw_report_in in = {.video = vi,
                       .path = a->name,
                       .params = &a->p,
                       .keyframes = json_array(),
                       .observations = none,
                       .stats = stats,
                       .timeline = none,
                       .story = story,
                       .append = append_json(a),
                       .error = rc ? err->message : NULL,
                       .cancelled = rc == FW_ECANCELED};
    json_t *head = fw_report_new(&in);
    json_decref(in.append);
    json_decref(none);
    return head;
}

/* The story, the report and its files from what the job did; rc: the job's outcome. */
static int report(fw_analysis *a, int rc, fw_error *err)
{
    const fw_video_info *vi = fw_job_video(a->job);
    fw_evq_emit_stage(a->q, "story", NULL);
    pthread_mutex_lock(&a->mu);
    double decoded_s = a->done_s;
    pthread_mutex_unlock(&a->mu);
    /* the end of the timeline: the container's length, else (a pipe, a stream) the last
     * frame decoded */
    double end_s = a->kfs.time_offset + (vi->duration_s >= 0 ? vi->duration_s : decoded_s);
    fw_error serr = {0};
    json_t *story = finish_story(a, end_s, &serr);
    if (!story && !rc) {
        rc = serr.code ? serr.code
                       : fw_error_set(&serr, FW_EINTERNAL, "%s: the story is not JSON", a->input);
        *err = serr;
    }
    if (!rc && atomic_load(&a->cancel) && !a->live) /* the summary's requests stopped */
        rc = fw_error_set(err, FW_ECANCELED, "%s: cancelled", a->input);
    pthread_mutex_lock(&a->mu);
    fw_error kf = a->kf_err; /* a record the spool could not keep: the files lack it */
    pthread_mutex_unlock(&a->mu);
    if (!rc && kf.code)
        rc = (*err = kf).code;
    if (!rc)
        rc = failed_frames(a, err);
    fw_stats stats;
    fw_job_stats(a->job, &stats);
    a->report_json = report_head(a, rc, err, story, vi, &stats);
    json_decref(story);
    if (!a->report_json)
        return rc ? rc : fw_error_set(err, FW_ENOMEM, "%s: out of memory", a->input);
    json_t *endpoints = fw_job_endpoints(a->job);
    if (endpoints)
        json_object_set_new(json_object_get(a->report_json, "stats"), "endpoints", endpoints);
    if (a->live)
        json_object_set_new(a->report_json, "live",
                            live_json(a, rc                        ? "error"
                                         : atomic_load(&a->cancel) ? "signal"
                                                                   : "end"));
    fw_doc doc = {a->report_json, a->spool};
    char *text = a->cache.job ? fw_doc_text(&doc, 1) : NULL; /* the store keeps it whole */
    fw_cache_end(&a->cache, a->report_json, text, rc ? err->message : NULL);
    free(text);
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
    if (atomic_load(&a->cancel) && a->live && !a->kf_err.code) /* a stop is a live run's end */
        return 0;
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
    a->pump = pthread_self();
    fw_story_set_sink(a->story, &(fw_story_sink){on_segment, on_found, a});
    int rc = a->base ? fw_analysis_feed_base(a, err) : 0;
    if (!rc) {
        run_job(a, &r);
        rc = outcome(a, &r, err);
    }
    if (rc && a->kfs.n == 0 && rc != FW_ECANCELED) { /* nothing decoded: the error says all */
        fw_cache_end(&a->cache, NULL, NULL, err->message);
        return rc;
    }
    return report(a, rc, err);
}
