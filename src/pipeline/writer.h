/* Internal to pipeline/: the keyframe writer, a thread that JPEG-encodes kept frames
 * and reports them, so the decoder never waits for an encoder (a 1080p JPEG takes
 * ~10 ms, during which a frame-threaded decoder would otherwise idle).
 *
 * In:  kept frames (the writer takes its own reference), their keyframe record,
 *      signature and cut flag, through a bounded queue.
 * Out: fn calls, in order, on the writer thread; with a budget, at the end.
 * Ownership: the job owns the writer (open/close); close joins the thread.
 */
#ifndef FW_PIPELINE_WRITER_H
#define FW_PIPELINE_WRITER_H

#include <libavutil/frame.h>

#include "core/types.h"
#include "encode/encode.h"

/* Frames waiting for the encoder: enough to ride out a burst of kept frames (a cut
 * followed by changes) at 1080p for ~12 MB of references. */
#define FW_WRITER_QUEUE 4

typedef struct fw_writer fw_writer;

/* A keyframe, encoded. full is the frame at full resolution when want_full was asked
 * and max_pixels made kf->jpeg smaller, else NULL. Non-zero stops the job. */
typedef int (*fw_writer_fn)(void *user, const fw_keyframe *kf, const fw_image *full);

/* fn NULL: nothing is encoded (scenes only). */
int fw_writer_open(fw_writer **out, const fw_params *p, int rotation, fw_writer_fn fn, void *user,
                   int want_full, const char *path, fw_error *err);
/* Queues a kept frame; blocks while the queue is full. Returns 0, or the writer's
 * error (a failed encode, a callback that asked to stop) so the job stops. */
int fw_writer_push(fw_writer *w, const AVFrame *frame, const fw_keyframe *kf, const fw_sig *sig,
                   int is_cut, fw_error *err);
/* Frames pushed so far. */
long fw_writer_pushed(const fw_writer *w);
/* Waits until every queued frame is written, then reports the frames a budget held.
 * Returns 0 or the first error. */
int fw_writer_finish(fw_writer *w, fw_error *err);
void fw_writer_close(fw_writer *w);

#endif
