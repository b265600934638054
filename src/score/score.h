/* score: cheap per-frame measures on a small thumbnail made by libswscale.
 *
 * In:  decoded frames (any pixel format), in order.
 * Out: fw_scores for each frame: motion and changed area (luma or colour) vs the
 *      reference (the last kept frame, set by fw_scorer_set_reference), the part of
 *      that area that has stopped changing (settled), delta, colour delta and histogram
 *      cut distance vs the previous scored frame, dHash, Laplacian-variance blur, luma,
 *      black/flat; and, 10 times a second, the fine change map (fw_fine): which 4x4
 *      cells of a 256x144 area-averaged picture differ from the reference's and have
 *      stopped moving — small changes such as a digit, a status line or a toast.
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
/* The same for a block's colour: mean |dU| + |dV| over its 2x2 chroma pixels. */
#define FW_BLOCK_CHANGED_C 20
#define FW_BLOCK_MOVING_C 10

typedef struct fw_scorer fw_scorer;

/* settle_s: how long a changed block must stay still to count as settled. */
int fw_scorer_open(fw_scorer **out, double settle_s, fw_error *err);
/* Scores a frame; it then becomes the "previous" frame of the next call. fine gets
 * the fine change map when this frame was sampled (fine->sampled), and always a
 * picture() that makes the frame's fine picture on demand; frame must stay valid until
 * the next call. */
int fw_scorer_score(fw_scorer *sc, const AVFrame *frame, double time_s, fw_scores *out,
                    fw_fine *fine, fw_error *err);
/* The fine picture of the frame scored last (made now if it was not sampled), or NULL
 * when it cannot be made (out of memory, a pixel format swscale refuses). */
const uint8_t *fw_scorer_fine_picture(fw_scorer *sc);
/* Makes the frame scored last the reference for motion, area and the fine map. */
void fw_scorer_set_reference(fw_scorer *sc);
/* Block-mean signature of the frame scored last. */
void fw_scorer_signature(const fw_scorer *sc, fw_sig *out);

/* ---- internal to score/: the fine picture (fine.c) ----------------------------- */
typedef struct fw_fine_maker fw_fine_maker;
/* Area-averages the frame's luma into out (FW_FINE_W x FW_FINE_H). 0, or -1 when the
 * frame's format cannot be converted. */
int fw_fine_make(fw_fine_maker **maker, const AVFrame *frame, uint8_t *out);
void fw_fine_maker_free(fw_fine_maker *maker);
void fw_scorer_close(fw_scorer *sc);

/* Pure measures on a grey image (exposed for tests). */
uint64_t fw_score_dhash(const uint8_t *y, int w, int h, int stride);
double fw_score_laplacian_var(const uint8_t *y, int w, int h, int stride);

#endif
