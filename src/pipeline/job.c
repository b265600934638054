/* The job: wires source -> score -> select -> (writer: encode) -> (analyzer) and
 * reports keyframes, scenes and observations through the caller's callbacks. The only
 * place that knows every stage; it owns the writer and analyzer threads. */
#include <libavutil/frame.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "pipeline/pipeline.h"
#include "pipeline/writer.h"
#include "score/score.h"
#include "select/select.h"
#include "source/source.h"

/* A candidate frame the selector has not decided on yet. */
typedef struct held_frame {
    AVFrame *frame;
    fw_keyframe kf;
    fw_sig sig;
} held_frame;

/* The curator holds at most FW_CURATE_HELD; one more for the frame being added. */
#define FW_JOB_HELD 32

struct fw_job {
    fw_params p;
    fw_source *src;
    fw_scorer *scorer;
    fw_select *sel;
    fw_writer *writer;
    fw_analyzer *analyzer; /* set and cleared under mu: fw_job_cancel reads it */
    int analyzed;          /* the analyzer finished: its threads are joined */
    pthread_mutex_t mu;
    int cancelled;
    fw_job_hooks hooks;
    fw_callbacks cb; /* the caller's */
    int n_keyframes;
    fw_stats st;
    int ran;
    int trace; /* one fw_log line of scores per frame (FW_LOG_TRACE), for tuning */
    /* scenes */
    fw_scene scene;
    double last_end_s;
    int64_t last_frame;
    /* candidates waiting for the selector's verdict (frame references) */
    held_frame held[FW_JOB_HELD];
    int n_held;
    /* the last scored frame: kept when the video ends on a state not yet kept, or when
     * nothing was kept at all (so the result is never empty) */
    AVFrame *last;
    fw_frame_info last_fi;
    fw_scores last_scores;
    fw_sig last_sig;
    int have_last;
};

int fw_job_open(fw_job **out, const char *input, const fw_params *params, fw_error *err)
{
    return fw_job_open_hooked(out, input, params, NULL, err);
}

int fw_job_open_hooked(fw_job **out, const char *input, const fw_params *params,
                       const fw_job_hooks *hooks, fw_error *err)
{
    *out = NULL;
    fw_source_install_log();
    int rc = fw_params_validate(params, err);
    if (rc)
        return rc;
    fw_job *job = calloc(1, sizeof *job);
    if (!job)
        return fw_error_set(err, FW_ENOMEM, "%s: out of memory", input);
    job->p = *params;
    pthread_mutex_init(&job->mu, NULL);
    if (hooks)
        job->hooks = *hooks;
    job->trace = fw_log_on(FW_LOG_TRACE);
    if ((rc = fw_source_open(&job->src, input, params->threads, params->read_timeout_s,
                             job->hooks.cancel, err)) ||
        (rc = fw_scorer_open(&job->scorer, params->settle_s, err)) ||
        (rc = fw_select_open(&job->sel, params, err)))
        goto fail;
    fw_source_set_reconnect(job->src, params->reconnect, params->max_retry_wait_s);
    if (!(job->last = av_frame_alloc())) {
        rc = fw_error_set(err, FW_ENOMEM, "%s: out of memory", input);
        goto fail;
    }
    *out = job;
    return 0;
fail:
    fw_job_close(job);
    return rc;
}

int fw_job_live(const fw_job *job)
{
    return fw_source_live(job->src);
}

int fw_job_gaps(const fw_job *job, const double (**gaps)[2], int *n_gaps)
{
    return fw_source_reconnects(job->src, gaps, n_gaps);
}

double fw_job_wall0(const fw_job *job)
{
    return fw_source_wall0(job->src);
}

json_t *fw_job_endpoints(fw_job *job)
{
    pthread_mutex_lock(&job->mu);
    json_t *list = job->analyzer && job->analyzed ? fw_analyzer_endpoints(job->analyzer) : NULL;
    pthread_mutex_unlock(&job->mu);
    return list;
}

const fw_video_info *fw_job_video(const fw_job *job)
{
    return fw_source_info(job->src);
}

void fw_job_close(fw_job *job)
{
    if (!job)
        return;
    fw_writer_close(job->writer);
    pthread_mutex_lock(&job->mu);
    fw_analyzer *a = job->analyzer;
    job->analyzer = NULL;
    pthread_mutex_unlock(&job->mu);
    fw_analyzer_close(a);
    for (int i = 0; i < job->n_held; i++)
        av_frame_free(&job->held[i].frame);
    av_frame_free(&job->last);
    fw_select_close(job->sel);
    fw_scorer_close(job->scorer);
    fw_source_close(job->src);
    pthread_mutex_destroy(&job->mu);
    free(job);
}

void fw_job_cancel(fw_job *job)
{
    pthread_mutex_lock(&job->mu);
    job->cancelled = 1;
    if (job->analyzer)
        fw_analyzer_cancel(job->analyzer);
    pthread_mutex_unlock(&job->mu);
}

/* The analyzer, when observations are wanted (a cancel that came first stops it at once). */
static int open_analyzer(fw_job *job, const fw_callbacks *cb, fw_error *err)
{
    fw_analyzer *a = NULL;
    int rc = fw_analyzer_open(&a, &job->p, cb->on_observation, cb->user, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&job->mu);
    job->analyzer = a;
    if (job->cancelled)
        fw_analyzer_cancel(a);
    pthread_mutex_unlock(&job->mu);
    fw_analyzer_warnings(a, cb->on_warning, cb->user); /* servers that did not answer */
    return 0;
}

static int keep_frame(fw_job *job, const AVFrame *frame, const fw_keyframe *kf, const fw_sig *sig,
                      int is_cut, fw_error *err)
{
    return fw_writer_push(job->writer, frame, kf, sig, is_cut, err);
}

/* Holds a candidate until its verdict. */
static int hold_frame(fw_job *job, const AVFrame *frame, const fw_frame_info *fi,
                      const fw_scores *s, const fw_sig *sig, const char *reason, fw_error *err)
{
    const fw_video_info *vi = fw_job_video(job);
    if (job->n_held == FW_JOB_HELD) /* cannot happen: the curator gives verdicts first */
        return fw_error_set(err, FW_EINTERNAL, "%s: too many frames held", vi->path);
    held_frame *h = &job->held[job->n_held];
    if (!(h->frame = av_frame_clone(frame)))
        return fw_error_set(err, FW_ENOMEM, "%s: out of memory", vi->path);
    h->kf = (fw_keyframe){
        .frame = fi->number, .time_s = fi->time_s, .pts = fi->pts, .reason = reason, .scores = *s};
    h->sig = *sig;
    job->n_held++;
    return 0;
}

/* Acts on the selector's verdicts: a kept frame goes to the writer, a dropped one is
 * let go. */
static int apply_verdicts(fw_job *job, fw_error *err)
{
    fw_verdict v;
    int rc = 0;
    while (fw_select_verdict(job->sel, &v)) {
        int i = 0;
        while (i < job->n_held && job->held[i].kf.frame != v.id)
            i++;
        if (i == job->n_held)
            continue; /* not held: cannot happen */
        held_frame h = job->held[i];
        memmove(&job->held[i], &job->held[i + 1], (size_t)(job->n_held - i - 1) * sizeof h);
        job->n_held--;
        if (job->trace)
            fw_log(FW_LOG_TRACE, "  %s %lld (%.3f %s)%s%s", v.keep ? "KEPT" : "DROPPED",
                   (long long)v.id, h.kf.time_s, v.keep ? v.reason : h.kf.reason,
                   v.keep ? "" : ": ", v.keep ? "" : v.why);
        if (v.keep && rc == 0) {
            h.kf.reason = v.reason;
            rc = keep_frame(job, h.frame, &h.kf, &h.sig, v.is_cut, err);
        }
        av_frame_free(&h.frame);
    }
    return rc;
}

/* A cut confirmed now; fi is the first frame of the new scene. */
static void scene_cut(fw_job *job, const fw_callbacks *cb, const fw_frame_info *fi)
{
    job->scene.end_frame = fi->number - 1;
    job->scene.end_s = fi->time_s;
    if (cb->on_scene)
        cb->on_scene(cb->user, &job->scene);
    job->scene.index++;
    job->scene.start_frame = fi->number;
    job->scene.start_s = fi->time_s;
}

/* The end of the video: the last frame may be the final state; every held frame gets
 * its verdict; a video where nothing was kept (all black) gives its last frame. */
static int finish(fw_job *job, const fw_callbacks *cb, int have_frames, fw_error *err)
{
    if (have_frames && fw_select_detects_cuts(job->sel)) {
        job->scene.end_frame = job->last_frame;
        job->scene.end_s = job->last_end_s;
        if (cb->on_scene)
            cb->on_scene(cb->user, &job->scene);
    }
    fw_decision d;
    fw_select_finish(job->sel, job->have_last ? &job->last_fi : NULL,
                     job->have_last ? &job->last_scores : NULL,
                     job->have_last ? &job->last_sig : NULL, job->last_end_s, &d);
    int rc = 0;
    if (d.keep)
        rc = hold_frame(job, job->last, &job->last_fi, &job->last_scores, &job->last_sig, d.reason,
                        err);
    if (!rc)
        rc = apply_verdicts(job, err);
    if (!rc && fw_writer_pushed(job->writer) == 0 && job->have_last) {
        fw_keyframe kf = {.frame = job->last_fi.number,
                          .time_s = job->last_fi.time_s,
                          .pts = job->last_fi.pts,
                          .reason = "last",
                          .scores = job->last_scores};
        rc = keep_frame(job, job->last, &kf, &job->last_sig, 0, err);
    }
    if (rc)
        return rc;
    rc = fw_writer_finish(job->writer, err);
    if (rc)
        return rc;
    const fw_video_info *vi = fw_job_video(job);
    if (vi->decode_errors > 0 && cb->on_warning) {
        char msg[512];
        const char *last = fw_source_last_problem(job->src);
        snprintf(msg, sizeof msg, "%s: %lld damaged part%s of the file skipped%s%s", vi->path,
                 (long long)vi->decode_errors, vi->decode_errors == 1 ? "" : "s",
                 last[0] ? "; last: " : "", last);
        cb->on_warning(cb->user, msg);
    }
    if (fw_source_cut(job->src) && cb->on_warning)
        cb->on_warning(cb->user, fw_source_cut(job->src));
    int resets = fw_source_resets(job->src);
    if (resets && cb->on_warning) {
        char msg[512];
        snprintf(msg, sizeof msg,
                 "%s: the timestamps jump %d time%s (a restarted or spliced stream): times go on "
                 "from before each jump",
                 vi->path, resets, resets == 1 ? "" : "s");
        cb->on_warning(cb->user, msg);
    }
    return 0;
}

static void trace(const fw_frame_info *fi, const fw_scores *s, const fw_fine *fine,
                  const fw_decision *d)
{
    char detail[64] = "";
    if (fine->sampled)
        snprintf(detail, sizeof detail, " fine=%d/%d@%.2f", fine->settled, fine->changed,
                 fine->onset_s);
    fw_log(FW_LOG_TRACE,
           "%lld %.3f delta=%.1f chroma=%.1f cut=%.3f motion=%.1f area=%.3f settled=%.3f "
           "moving=%.3f%s%s%s%s",
           (long long)fi->number, fi->time_s, s->delta, s->chroma, s->cut, s->motion, s->area,
           s->settled, s->moving, detail, d->cut ? " CUT" : "",
           d->keep            ? " KEEP "
           : d->set_reference ? " REF"
                              : "",
           d->keep ? d->reason : "");
}

/* Scores one frame and acts on the selector's decision and verdicts. */
static int step(fw_job *job, const fw_callbacks *cb, const AVFrame *frame, const fw_frame_info *fi,
                fw_error *err)
{
    fw_scores s;
    fw_sig sig;
    fw_fine fine;
    fw_decision d;
    int rc = fw_scorer_score(job->scorer, frame, fi->time_s, &s, &fine, err);
    if (rc)
        return rc;
    fw_scorer_signature(job->scorer, &sig);
    fw_select_push(job->sel, fi, &s, &sig, &fine, &d);
    if (job->trace)
        trace(fi, &s, &fine, &d);
    if (d.set_reference)
        fw_scorer_set_reference(job->scorer);
    if (d.cut)
        scene_cut(job, cb, &d.cut_at);
    if (d.keep && (rc = hold_frame(job, frame, fi, &s, &sig, d.reason, err)))
        return rc;
    av_frame_unref(job->last);
    job->have_last = av_frame_ref(job->last, frame) == 0;
    job->last_fi = *fi;
    job->last_scores = s;
    job->last_sig = sig;
    return apply_verdicts(job, err);
}

/* The writer's callback: the caller's on_keyframe, then the analyzer. */
static int job_on_keyframe(void *user, const fw_keyframe *kf, const fw_image *full)
{
    fw_job *job = user;
    job->n_keyframes++;
    if (job->cb.on_keyframe && job->cb.on_keyframe(job->cb.user, kf))
        return 1;
    if (!job->analyzer)
        return 0;
    /* on failure the analyzer keeps its error; fw_job_run reports it */
    fw_observation stored;
    memset(&stored, 0, sizeof stored);
    if (job->cb.lookup && job->cb.lookup(job->cb.user, kf, &stored) == 1)
        return fw_analyzer_submit_done(job->analyzer, kf, &stored, NULL) ? 1 : 0;
    return fw_analyzer_submit(job->analyzer, kf, full ? full->jpeg : NULL, full ? full->size : 0,
                              NULL)
               ? 1
               : 0;
}

static int decode_all(fw_job *job, const fw_callbacks *cb, fw_error *err)
{
    const fw_video_info *vi = fw_job_video(job);
    fw_discard discard = FW_DISCARD_NONE;
    int have_frames = 0, rc;
    AVFrame *frame;
    fw_frame_info fi;
    int reconnects = 0, seen_gaps = 0;
    while ((rc = fw_source_next(job->src, &frame, &fi, err)) == 1) {
        have_frames = 1;
        const double(*gaps)[2];
        int n_gaps;
        if (fw_source_reconnects(job->src, &gaps, &n_gaps) > reconnects && cb->on_warning) {
            char msg[1400];
            reconnects++;
            if (n_gaps > seen_gaps) /* its gap is the last listed */
                snprintf(msg, sizeof msg,
                         "%s: the stream dropped at %.1f s and was opened again %.1f s later (a "
                         "gap in the timeline)",
                         vi->path, gaps[n_gaps - 1][0], gaps[n_gaps - 1][1] - gaps[n_gaps - 1][0]);
            else
                snprintf(msg, sizeof msg,
                         "%s: the stream dropped and was opened again at %.1f s (a gap in the "
                         "timeline)",
                         vi->path, fi.time_s);
            seen_gaps = n_gaps;
            cb->on_warning(cb->user, msg);
        }
        job->last_frame = fi.number;
        job->last_end_s = fi.time_s + fi.dur_s;
        fw_discard want = fw_select_discard(job->sel, &fi);
        if (want != discard)
            fw_source_set_discard(job->src, discard = want);
        if (cb->on_progress)
            cb->on_progress(cb->user, fi.time_s, vi->duration_s);
        if (fw_select_wants(job->sel, &fi) && (rc = step(job, cb, frame, &fi, err)))
            break;
    }
    if (rc < 0) {
        fw_writer_finish(job->writer, &(fw_error){0}); /* keep what was already written */
        return rc;
    }
    return finish(job, cb, have_frames, err);
}

int fw_job_run(fw_job *job, const fw_callbacks *cb_in, fw_error *err)
{
    static const fw_callbacks none = {0};
    const fw_callbacks *cb = cb_in ? cb_in : &none;
    const fw_video_info *vi = fw_job_video(job);
    if (job->ran)
        return fw_error_set(err, FW_EINVAL, "%s: a job runs once", vi->path);
    job->ran = 1;
    job->cb = *cb;
    double t0 = fw_now_s();
    int rc = 0;
    if (cb->on_observation && (rc = open_analyzer(job, cb, err)))
        return rc;
    fw_writer_fn fn = cb->on_keyframe || job->analyzer ? job_on_keyframe : NULL;
    int want_full = job->analyzer && fw_analyzer_wants_full(job->analyzer);
    if ((rc = fw_writer_open(&job->writer, &job->p, vi->rotation, fn, job, want_full, vi->path,
                             err)))
        return rc;
    rc = decode_all(job, cb, err);
    job->st.decode_s = fw_now_s() - t0;
    if (rc == FW_ECANCELED && job->hooks.cancel && atomic_load(job->hooks.cancel))
        fw_job_cancel(job); /* the frames waiting for the analyzer are not wanted either */
    if (job->hooks.decoded)
        job->hooks.decoded(job->hooks.user);
    if (job->analyzer) {
        /* the analyzer's own error explains a stop better than the writer's */
        fw_error aerr = {0};
        int arc = fw_analyzer_finish(job->analyzer, &aerr);
        if (arc && (rc == 0 || rc == FW_ECANCELED)) {
            rc = arc;
            *err = aerr;
        }
        fw_analyzer_stats(job->analyzer, &job->st);
        fw_analyzer_warnings(job->analyzer, cb->on_warning, cb->user);
        job->analyzed = 1;
    }
    job->st.total_s = fw_now_s() - t0;
    return rc;
}

void fw_job_stats(const fw_job *job, fw_stats *out)
{
    *out = job->st;
    out->frames_decoded = fw_job_video(job)->frames_decoded;
    out->keyframes = job->writer && (job->cb.on_keyframe || job->analyzer) ? job->n_keyframes
                     : job->writer ? (int)fw_writer_pushed(job->writer)
                                   : 0;
}
