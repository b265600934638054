/* select: turns per-frame scores into keep/drop decisions, each kept frame with
 * its reason, and finds the cuts that bound scenes.
 *
 * In:  frame times, fw_scores and the block signature of each scored frame.
 * Out: fw_decision per pushed frame; which frames need scoring at all; what the
 *      decoder may skip next; with a budget, which kept frame to evict.
 * Ownership: the caller owns the selector and the budget (open/close, new/free).
 */
#ifndef FW_SELECT_H
#define FW_SELECT_H

#include "core/types.h"

typedef struct fw_decision {
    int keep;           /* a candidate: hold this frame until a verdict (fw_select_verdict) says */
    const char *reason; /* static string: first, cut, motion, change, gap, interval, scene, iframe,
                           last */
    int set_reference;  /* this frame becomes the reference for motion/area */
    int cut;            /* a cut was confirmed at this frame ... */
    fw_frame_info cut_at; /* ... and the new scene starts with this frame */
} fw_decision;

/* The fate of a held frame. Verdicts to keep come in time order; drops may come for
 * any held frame. */
typedef struct fw_verdict {
    int64_t id;         /* the frame number (fw_frame_info.number) */
    int keep;           /* 1: it is a keyframe; 0: let it go */
    const char *reason; /* keep: its final reason (a cut that gave way passes it on) */
    int is_cut;         /* keep: it starts a shot */
    const char *why;    /* drop: the rule that dropped it (static; for FW_TRACE) */
} fw_verdict;

typedef struct fw_select fw_select;

int fw_select_open(fw_select **out, const fw_params *p, fw_error *err);
/* 1 when the frame must be scored and pushed; 0 when the policy ignores it. */
int fw_select_wants(fw_select *sel, const fw_frame_info *f);
/* fine: the frame's fine change map (NULL: none). */
void fw_select_push(fw_select *sel, const fw_frame_info *f, const fw_scores *s, const fw_sig *sig,
                    const fw_fine *fine, fw_decision *out);
/* 1 with *out while verdicts wait (call after every push and after finish), else 0. */
int fw_select_verdict(fw_select *sel, fw_verdict *out);
/* The end of the video. f, s, sig describe the last frame scored (NULL: none). *out:
 * keep it too (reason "last": the final state had no time to settle) or not. Then every
 * held frame gets its verdict. end_s: the video's end. */
void fw_select_finish(fw_select *sel, const fw_frame_info *f, const fw_scores *s, const fw_sig *sig,
                      double end_s, fw_decision *out);
/* 1 when the policy detects cuts (so scenes can be reported). */
int fw_select_detects_cuts(const fw_select *sel);
/* What the decoder may skip after frame f. */
fw_discard fw_select_discard(fw_select *sel, const fw_frame_info *f);
void fw_select_close(fw_select *sel);

/* ---- whole-video budget: drop the least informative kept frame first ---------- */
typedef struct fw_budget fw_budget;

fw_budget *fw_budget_new(int max_frames); /* NULL when out of memory */
/* Adds a kept frame (ids increase with time). Returns the id of the frame to drop
 * when the budget is exceeded, else -1. Protected frames are never dropped. */
long fw_budget_add(fw_budget *b, long id, const fw_sig *sig, int is_cut, int protect);
void fw_budget_free(fw_budget *b);

/* Near-duplicate test shared by the policies and the budget: the hashes are within
 * dup_bits and at most area_threshold of the signature cells changed. */
int fw_is_near_duplicate(uint64_t ha, const fw_sig *sa, uint64_t hb, const fw_sig *sb, int dup_bits,
                         double area_threshold);
/* Fraction of signature cells whose luma or colour changed (FW_SIG_*_CHANGED). */
double fw_sig_changed(const fw_sig *a, const fw_sig *b);
/* How different two kept pictures are, for dropping the least informative: the mean
 * block difference plus the changed fraction (so a small caption counts). A cut adds
 * FW_CUT_NOVELTY (a new shot). */
double fw_sig_novelty(const fw_sig *a, const fw_sig *b);
#define FW_CUT_NOVELTY 25.0

#endif
