/* Internal to analyze/: how each keyframe goes to the model, so that it costs few image
 * tokens and nothing readable is lost (issue 14):
 * - a keyframe whose change since the last whole one is local (a dialog, a toast, a
 *   line of text: at most FW_CROP_AREA of the picture) goes as its changed regions, at up
 *   to full resolution, with that keyframe's description as context;
 * - a whole keyframe (the first, a cut, a global change, every refresh-th) goes first at
 *   first_image_tokens, and again at the image budget when the answer hedges;
 * - a keyframe kept for time alone (gap, interval, last) whose picture did not change
 *   since the last whole one gets that one's answer, with no request;
 * - a window of K keyframes gets per-image budgets: K cost about two whole frames;
 * - with openai+local, a change that is only text the OCR read (a digit, a status line, a
 *   toast) is answered from the OCR and the last whole keyframe's description.
 * whole_frames turns all of it off. Calls come from the model lane's one thread; tasks
 * are planned in keyframe order. */
#ifndef FW_ANALYZE_PLAN_H
#define FW_ANALYZE_PLAN_H

#include "analyze/backend.h"

#define FW_CROP_AREA 0.3

typedef struct fw_plan fw_plan;

/* NULL when out of memory. */
fw_plan *fw_plan_new(const fw_params *p);
void fw_plan_free(fw_plan *pl);
/* 1 when crops are cut (the lane wants full-resolution pictures). */
int fw_plan_crops(const fw_plan *pl);
/* Decides how t goes (t->sent), in keyframe order: cuts its crops or its low picture.
 * Anything that fails on the way (a JPEG that does not decode) sends it whole. */
void fw_plan_task(fw_plan *pl, fw_task *t);
/* A crop task's context: 1 when it can go (t->context set, or its base failed and t now
 * goes whole), 0 while the base keyframe has no answer yet. */
int fw_plan_ready(fw_plan *pl, fw_task *t);
/* openai+local: a crop task whose regions are mostly text that the OCR (the local
 * backend's fields for the same keyframe) read with confidence is answered from that text
 * and the context, with no request: 1 with *ans filled (t->sent FW_SENT_NONE, its fields'
 * "source" "ocr"); 0 when the model must see it (a picture changed beyond text). */
int fw_plan_from_ocr(fw_plan *pl, fw_task *t, const char *ocr_fields, fw_answer *ans);
/* A FW_SENT_SAME task (fw_plan_ready said it can go): the last whole keyframe's answer,
 * with "source": "unchanged" in its fields. 0, or -1 when out of memory (t goes whole). */
int fw_plan_same(fw_plan *pl, fw_task *t, fw_answer *ans);
/* After an answer of a single-keyframe request: 1 when t must be asked again (t now holds
 * the picture at the image budget): a low or crop ask that hedged, or (openai+local) a
 * low one whose answer lacks a line the OCR read with confidence. */
int fw_plan_again(fw_plan *pl, fw_task *t, const fw_answer *a);
/* The answer a task gets (before it is posted): a whole keyframe's description becomes
 * the context of the crops after it. */
void fw_plan_answered(fw_plan *pl, const fw_task *t, const fw_answer *a);

#endif
