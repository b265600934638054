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
    int keep; /* keep this frame */
    const char
        *reason;       /* static string: first, cut, motion, change, gap, interval, scene, iframe */
    int set_reference; /* this frame becomes the reference for motion/area */
    int cut;           /* a cut was confirmed at this frame ... */
    fw_frame_info cut_at; /* ... and the new scene starts with this frame */
} fw_decision;

typedef struct fw_select fw_select;

int fw_select_open(fw_select **out, const fw_params *p, fw_error *err);
/* 1 when the frame must be scored and pushed; 0 when the policy ignores it. */
int fw_select_wants(fw_select *sel, const fw_frame_info *f);
void fw_select_push(fw_select *sel, const fw_frame_info *f, const fw_scores *s, const fw_sig *sig,
                    fw_decision *out);
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
/* Fraction of signature cells whose means differ by more than the block threshold. */
double fw_sig_changed(const fw_sig *a, const fw_sig *b);

#endif
