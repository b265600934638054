/* Internal to select/: the shape of one keyframe policy (one file each) and the
 * cut detector they share. */
#ifndef FW_SELECT_POLICY_H
#define FW_SELECT_POLICY_H

#include "select/select.h"

typedef struct fw_policy_ops {
    const char *name;
    size_t ctx_size;
    int uses_cuts; /* the selector runs the cut detector on every frame for it */
    void (*init)(void *ctx, const fw_params *p);
    /* NULL: every frame */
    int (*wants)(void *ctx, const fw_frame_info *f);
    void (*decide)(void *ctx, const fw_frame_info *f, const fw_scores *s, const fw_sig *sig,
                   int cut, fw_decision *d);
    /* NULL: decode everything */
    fw_discard (*discard)(void *ctx, const fw_frame_info *f);
} fw_policy_ops;

extern const fw_policy_ops fw_policy_auto_ops, fw_policy_interval_ops, fw_policy_motion_ops,
    fw_policy_scene_ops, fw_policy_iframe_ops;

/* Cut detection. A candidate is a frame whose cut score (the mean of the colour
 * histogram distance and the luma difference / 80 to the previous frame) passes the
 * threshold and stands out against the recent frames (so fast motion is not a cut);
 * it is confirmed after FW_CUT_CONFIRM frames and min_scene_s seconds if each frame
 * until then still differs from the one before the candidate (so a flash or a
 * recording glitch that returns to the old picture is not a cut) and the frame right
 * after it scores under half as much (a cut is a one-frame spike; a whip pan ramps). Leaving a
 * black stretch at least min_scene_s long is a cut too (a fade-in). */
#define FW_CUT_WINDOW 8
#define FW_CUT_CONFIRM 3
typedef struct fw_cut_detector {
    double threshold, min_scene_s;
    double last_cut_s;
    double recent[FW_CUT_WINDOW];
    int n_recent, pos;
    int started;           /* frames seen (capped use: 0, 1, more) */
    fw_sig prev_sig;       /* the frame before the current one */
    int candidate;         /* frames seen since a candidate, 0: none */
    fw_frame_info cand_fi; /* the candidate frame */
    double cand_score;     /* its cut score: the next frame must fall below half of it */
    fw_sig before_sig;     /* the frame before the candidate */
    double black_since_s;  /* start of the current black stretch, or < 0 */
} fw_cut_detector;

void fw_cut_init(fw_cut_detector *cd, double threshold, double min_scene_s);
/* Returns 1 when a cut is confirmed at this frame; *at is the frame the new scene
 * starts with (this one or up to FW_CUT_CONFIRM frames back). */
int fw_cut_push(fw_cut_detector *cd, const fw_frame_info *f, const fw_scores *s, const fw_sig *sig,
                fw_frame_info *at);

/* Interval sampling shared by interval and motion policies. */
typedef struct fw_sampler {
    double step_s, next_s;
} fw_sampler;
void fw_sampler_init(fw_sampler *sm, double fps);
int fw_sampler_due(const fw_sampler *sm, const fw_frame_info *f);
void fw_sampler_advance(fw_sampler *sm, const fw_frame_info *f);
fw_discard fw_sampler_discard(const fw_sampler *sm, const fw_frame_info *f);

#endif
