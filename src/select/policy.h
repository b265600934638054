/* Internal to select/: the shape of one keyframe policy (one file each) and the
 * cut detector they share. */
#ifndef FW_SELECT_POLICY_H
#define FW_SELECT_POLICY_H

#include "select/select.h"

/* What a policy sees of one frame. */
typedef struct fw_view {
    const fw_frame_info *f;
    const fw_scores *s;
    const fw_sig *sig;
    const fw_fine *fine; /* the fine change map (may be unsampled on this frame) */
    int cut;             /* the cut detector confirmed a cut at this frame */
    double standing_s;   /* time of the latest kept frame that still stands (-1e9: none) */
} fw_view;

/* What a policy says about one frame. */
typedef struct fw_pick {
    int keep;           /* a candidate keyframe */
    const char *reason; /* static string */
    int set_reference;  /* this frame becomes the reference for motion/area/fine */
    double onset_s;     /* keep or set_reference: when the picture it shows began */
    int provisional;    /* keep: a small change, kept only if it holds (see fw_curator) */
    int protect;        /* keep: never dropped by curation (the first frame) */
    int64_t same_as;    /* set_reference without keep: the kept frame it repeats, or -1 */
} fw_pick;

typedef struct fw_policy_ops {
    const char *name;
    size_t ctx_size;
    int uses_cuts; /* the selector runs the cut detector on every frame for it */
    int curated;   /* its candidates go through fw_curator (else each is final at once) */
    void (*init)(void *ctx, const fw_params *p);
    /* NULL: every frame */
    int (*wants)(void *ctx, const fw_frame_info *f);
    void (*decide)(void *ctx, const fw_view *v, fw_pick *d);
    /* NULL: decode everything */
    fw_discard (*discard)(void *ctx, const fw_frame_info *f);
    /* NULL: nothing to do. A candidate of frame id was dropped by curation: forget it
     * was kept (a later return to its picture is no repeat of a keyframe). */
    void (*forget)(void *ctx, int64_t id);
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
#define FW_CUT_AREA 0.5 /* a change over half the picture during a cut is the cut */
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

/* ---- curation (curate.c): from candidates to keyframes ----------------------------
 * Policies decide on one frame at a time; whether a frame was worth keeping shows only
 * afterwards, from how long its picture held. The curator holds candidates (the job
 * holds their frames) and gives each a verdict, in time order:
 * - hold: a candidate's picture holds from its onset until the picture departs (the
 *   coarse change map against it reaches area_threshold), a later state begins
 *   (another candidate, or a return to an older kept picture), or the video ends. A
 *   candidate that held FW_HOLD_S is a state; FW_BRIEF_S, brief; sooner, transient.
 * - provisional candidates (small changes) stand when they hold FW_HOLD_S, or
 *   FW_BRIEF_S if their cells then move on to something new rather than back to the
 *   picture before them (a blinking cursor, a flickering digit). A provisional
 *   candidate ends the previous one's hold only once it is confirmed.
 * - give way: a transient candidate followed within FW_GIVE_WAY_S, in the same shot, by
 *   a state is dropped: the state is what it was on its way to (title words animating
 *   in, a dialog sliding open, a fade-in). A cut passes its reason on.
 * - max rate: in any FW_RATE_WINDOW_S, at most ceil(max_rate * window / 60) candidates;
 *   over that, transient ones are dropped, least informative first (closest to a
 *   neighbour; a cut, and more the only frame of a shot, count more). States, brief
 *   ones, the first and the last frame are never dropped.
 * - flash: a transient candidate between two pictures that look alike (coarsely) is
 *   dropped: a recorder's glitch, a flicker, a flash.
 * - no drop may leave two kept frames more than max_gap apart.
 * At most FW_CURATE_HELD candidates wait for a verdict: past that the oldest is kept
 * at once (memory is bounded by settings, never by the video). */
/* Above a cursor's blink phase (0.5-0.6 s on most systems), under a 1 s state measured
 * with the fine map's 0.1 s sampling. */
#define FW_HOLD_S 0.75
/* Held this long, a picture was not mid-motion: a brief state (a menu item passed
 * over); a small one stands unless the picture then returns to what was before. */
#define FW_BRIEF_S 0.4
/* A transition in motion graphics or a UI: well under 1.5 s. */
#define FW_GIVE_WAY_S 1.5
/* 60 / 20 is whole: N a minute exactly; a transient waits 20 s for its verdict. */
#define FW_RATE_WINDOW_S 20.0
#define FW_CURATE_HELD 24 /* frames held at most: 75 MB at 1080p */

typedef struct fw_curator fw_curator;

/* A held frame's fate. */
typedef struct fw_curator_out {
    int64_t id;         /* the frame number */
    int keep;           /* 1: keep it (verdicts to keep come in time order); 0: drop it */
    const char *reason; /* keep: its final reason (a cut that gave way passes it on) */
    int is_cut;         /* keep: it starts a shot */
    int forget;         /* drop: the policy must forget it kept it */
    const char *why;    /* drop: the rule (static; for FW_TRACE) */
} fw_curator_out;

/* active 0: every candidate is kept at once (policies other than auto). NULL: no memory. */
fw_curator *fw_curator_new(const fw_params *p, int active);
void fw_curator_free(fw_curator *c);
/* Every frame, after its candidate (if any). departed: the picture left the reference
 * (the coarse map). fine_onset_s >= 0: the cells of the latest change moved on at
 * fine_onset_s, back to the picture before it when reverted; it ends the hold of small
 * changes only (a blinking cursor must not end a dialog's hold). */
void fw_curator_frame(fw_curator *c, const fw_frame_info *f, int departed, double fine_onset_s,
                      int reverted);
/* A cut was confirmed: the shot that starts at at_s. */
void fw_curator_cut(fw_curator *c, double at_s);
void fw_curator_add(fw_curator *c, const fw_frame_info *f, const fw_pick *pk, const fw_sig *sig,
                    int is_cut);
/* A new picture began at onset_s without a candidate: a return to kept frame same_as. */
void fw_curator_restate(fw_curator *c, double onset_s, int64_t same_as);
/* The latest candidate not dropped (provisional ones included), or -1e9. */
double fw_curator_standing_s(const fw_curator *c);
/* The end of the video: every candidate gets its verdict. */
void fw_curator_finish(fw_curator *c, double end_s);
/* 1 with *out while verdicts wait, else 0. */
int fw_curator_verdict(fw_curator *c, fw_curator_out *out);

#endif
