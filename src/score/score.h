/* score: cheap per-frame measures on a small thumbnail made by libswscale.
 *
 * In:  decoded frames (any pixel format), in order.
 * Out: fw_scores for each frame: motion and changed area vs the reference (the last
 *      kept frame, set by fw_scorer_set_reference), the part of that area that has
 *      stopped changing (settled), delta and histogram cut distance vs the previous
 *      scored frame, dHash, Laplacian-variance blur, luma, black/flat.
 * Ownership: the caller owns the scorer (open/close); it keeps copies of the
 *      thumbnails it needs, never a reference to the caller's frame.
 */
#ifndef FW_SCORE_H
#define FW_SCORE_H

#include <libavutil/frame.h>

#include "core/types.h"

#define FW_THUMB_W 128
#define FW_THUMB_H 72
/* A 4x4 block of the thumbnail counts as changed when its mean absolute luma
 * difference exceeds this: well above the noise left after averaging ~15x15
 * source pixels into one, well below what text or a dialog edge gives. */
#define FW_BLOCK_CHANGED 14
/* A block is still moving when it differs from the previous frame by more than
 * this (stricter than FW_BLOCK_CHANGED: slow motion must not look settled). */
#define FW_BLOCK_MOVING 6

typedef struct fw_scorer fw_scorer;

/* settle_s: how long a changed block must stay still to count as settled. */
int fw_scorer_open(fw_scorer **out, double settle_s, fw_error *err);
/* Scores a frame; it then becomes the "previous" frame of the next call. */
int fw_scorer_score(fw_scorer *sc, const AVFrame *frame, double time_s, fw_scores *out,
                    fw_error *err);
/* Makes the frame scored last the reference for motion and area. */
void fw_scorer_set_reference(fw_scorer *sc);
/* Block-mean signature of the frame scored last. */
void fw_scorer_signature(const fw_scorer *sc, fw_sig *out);
void fw_scorer_close(fw_scorer *sc);

/* Pure measures on a grey image (exposed for tests). */
uint64_t fw_score_dhash(const uint8_t *y, int w, int h, int stride);
double fw_score_laplacian_var(const uint8_t *y, int w, int h, int stride);

#endif
