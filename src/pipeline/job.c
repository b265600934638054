/* The job: wires source -> score -> select -> encode and reports keyframes and
 * scenes through the caller's callbacks. The only place that knows every stage. */
#include <libavutil/frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "encode/encode.h"
#include "score/score.h"
#include "select/select.h"
#include "source/source.h"

/* A kept frame waiting for the end of the video (only with a budget). */
typedef struct held {
    long id;
    fw_keyframe kf;
    uint8_t *jpeg;
} held;

struct fw_job {
    fw_params p;
    fw_source *src;
    fw_scorer *scorer;
    fw_select *sel;
    fw_encoder *enc;
    fw_budget *budget;
    held *held;
    int n_held;
    int n_emitted;
    long next_id;
    int ran;
    FILE *trace; /* FW_TRACE=1: one line of scores per frame on stderr, for tuning */
    /* scenes */
    fw_scene scene;
    double last_end_s;
    int64_t last_frame;
    /* nothing kept yet: the last scored frame, so the result is never empty */
    AVFrame *fallback;
    fw_frame_info fallback_fi;
    fw_scores fallback_scores;
};

static int once;

int fw_job_open(fw_job **out, const char *input, const fw_params *params, fw_error *err)
{
    *out = NULL;
    if (!once) {
        fw_source_install_log();
        once = 1;
    }
    int rc = fw_params_validate(params, err);
    if (rc)
        return rc;
    fw_job *job = calloc(1, sizeof *job);
    if (!job)
        return fw_error_set(err, FW_ENOMEM, "%s: out of memory", input);
    job->p = *params;
    if (getenv("FW_TRACE"))
        job->trace = stderr;
    if ((rc = fw_source_open(&job->src, input, params->threads, err)) ||
        (rc = fw_scorer_open(&job->scorer, params->settle_s, err)) || (rc = fw_select_open(&job->sel, params, err)) ||
        (rc = fw_encoder_open(&job->enc, params->jpeg_quality, err)))
        goto fail;
    if (params->budget > 0) {
        job->budget = fw_budget_new(params->budget);
        job->held = calloc((size_t)params->budget + 1, sizeof *job->held);
        if (!job->budget || !job->held) {
            rc = fw_error_set(err, FW_ENOMEM, "%s: out of memory", input);
            goto fail;
        }
    }
    if (!(job->fallback = av_frame_alloc())) {
        rc = fw_error_set(err, FW_ENOMEM, "%s: out of memory", input);
        goto fail;
    }
    *out = job;
    return 0;
fail:
    fw_job_close(job);
    return rc;
}

const fw_video_info *fw_job_video(const fw_job *job)
{
    return fw_source_info(job->src);
}

void fw_job_close(fw_job *job)
{
    if (!job)
        return;
    for (int i = 0; i < job->n_held; i++)
        free(job->held[i].jpeg);
    free(job->held);
    fw_budget_free(job->budget);
    av_frame_free(&job->fallback);
    fw_encoder_close(job->enc);
    fw_select_close(job->sel);
    fw_scorer_close(job->scorer);
    fw_source_close(job->src);
    free(job);
}

static int emit(fw_job *job, const fw_callbacks *cb, fw_keyframe *kf, fw_error *err)
{
    kf->index = job->n_emitted++;
    if (cb->on_keyframe && cb->on_keyframe(cb->user, kf))
        return fw_error_set(err, FW_ECANCELED, "%s: stopped while reporting keyframe %d",
                            fw_job_video(job)->path, kf->index);
    return 0;
}

static int keep_frame(fw_job *job, const fw_callbacks *cb, const AVFrame *frame,
                      const fw_frame_info *fi, const fw_scores *s, const fw_sig *sig,
                      const char *reason, int is_cut, fw_error *err)
{
    fw_keyframe kf = {.frame = fi->number, .time_s = fi->time_s, .pts = fi->pts,
                      .reason = reason, .scores = *s};
    uint8_t *jpeg = NULL;
    size_t size = 0;
    if (cb->on_keyframe) {
        int rc = fw_encode_jpeg(job->enc, frame, fw_job_video(job)->rotation, &jpeg, &size, err);
        if (rc)
            return rc;
    }
    kf.jpeg = jpeg;
    kf.jpeg_size = size;
    if (!job->budget) {
        int rc = emit(job, cb, &kf, err);
        free(jpeg);
        return rc;
    }
    held *h = &job->held[job->n_held++];
    h->id = job->next_id++;
    h->kf = kf;
    h->jpeg = jpeg;
    long drop = fw_budget_add(job->budget, h->id, sig, is_cut, strcmp(reason, "first") == 0);
    for (int i = 0; drop >= 0 && i < job->n_held; i++)
        if (job->held[i].id == drop) {
            free(job->held[i].jpeg);
            memmove(&job->held[i], &job->held[i + 1],
                    (size_t)(job->n_held - i - 1) * sizeof *job->held);
            job->n_held--;
            break;
        }
    return 0;
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

static int finish(fw_job *job, const fw_callbacks *cb, int have_frames, fw_error *err)
{
    if (have_frames && fw_select_detects_cuts(job->sel)) {
        job->scene.end_frame = job->last_frame;
        job->scene.end_s = job->last_end_s;
        if (cb->on_scene)
            cb->on_scene(cb->user, &job->scene);
    }
    if (job->n_emitted == 0 && job->n_held == 0 && job->fallback->buf[0]) {
        fw_sig sig = {{0}};
        int rc = keep_frame(job, cb, job->fallback, &job->fallback_fi, &job->fallback_scores, &sig,
                            "last", 0, err);
        if (rc)
            return rc;
    }
    for (int i = 0; i < job->n_held; i++) {
        job->held[i].kf.jpeg = job->held[i].jpeg;
        int rc = emit(job, cb, &job->held[i].kf, err);
        if (rc)
            return rc;
    }
    const fw_video_info *vi = fw_job_video(job);
    if (vi->decode_errors > 0 && cb->on_warning) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s: %lld damaged packet%s or frame%s skipped%s%s", vi->path,
                 (long long)vi->decode_errors, vi->decode_errors == 1 ? "" : "s",
                 vi->decode_errors == 1 ? "" : "s",
                 fw_source_last_problem(job->src)[0] ? "; last: " : "",
                 fw_source_last_problem(job->src));
        cb->on_warning(cb->user, msg);
    }
    return 0;
}

int fw_job_run(fw_job *job, const fw_callbacks *cb_in, fw_error *err)
{
    static const fw_callbacks none = {0};
    const fw_callbacks *cb = cb_in ? cb_in : &none;
    if (job->ran)
        return fw_error_set(err, FW_EINVAL, "%s: a job runs once", fw_job_video(job)->path);
    job->ran = 1;
    fw_discard discard = FW_DISCARD_NONE;
    int have_frames = 0, rc;
    AVFrame *frame;
    fw_frame_info fi;
    while ((rc = fw_source_next(job->src, &frame, &fi, err)) == 1) {
        have_frames = 1;
        job->last_frame = fi.number;
        job->last_end_s = fi.time_s + fi.dur_s;
        fw_discard want = fw_select_discard(job->sel, &fi);
        if (want != discard)
            fw_source_set_discard(job->src, discard = want);
        if (cb->on_progress)
            cb->on_progress(cb->user, fi.time_s, fw_job_video(job)->duration_s);
        if (!fw_select_wants(job->sel, &fi))
            continue;
        fw_scores s;
        fw_sig sig;
        fw_decision d;
        if ((rc = fw_scorer_score(job->scorer, frame, fi.time_s, &s, err)))
            return rc;
        fw_scorer_signature(job->scorer, &sig);
        fw_select_push(job->sel, &fi, &s, &sig, &d);
        if (job->trace)
            fprintf(job->trace, "%lld %.3f delta=%.1f cut=%.3f motion=%.1f area=%.3f settled=%.3f moving=%.3f%s%s\n",
                    (long long)fi.number, fi.time_s, s.delta, s.cut, s.motion, s.area, s.settled, s.moving,
                    d.cut ? " CUT" : "", d.keep ? " KEEP" : "");
        if (d.set_reference)
            fw_scorer_set_reference(job->scorer);
        if (d.cut)
            scene_cut(job, cb, &d.cut_at);
        if (d.keep) {
            if ((rc = keep_frame(job, cb, frame, &fi, &s, &sig, d.reason, d.cut, err)))
                return rc;
            av_frame_unref(job->fallback);
        } else if (job->n_emitted == 0 && job->n_held == 0) {
            av_frame_unref(job->fallback);
            if (av_frame_ref(job->fallback, frame) == 0) {
                job->fallback_fi = fi;
                job->fallback_scores = s;
            }
        }
    }
    if (rc < 0)
        return rc;
    return finish(job, cb, have_frames, err);
}
