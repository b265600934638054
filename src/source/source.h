/* source: opens an input with libavformat and decodes its best video stream.
 *
 * In:  a path, "-" (stdin) or any URL libavformat opens; decoder thread count.
 * Out: decoded frames in presentation order with their time (from pts, so variable
 *      frame rate is exact), the stream description and the display rotation.
 * Ownership: fw_source_open gives the caller a handle to close with fw_source_close.
 *      A frame returned by fw_source_next belongs to the source and stays valid until
 *      the next call; take an av_frame_ref to keep it longer.
 */
#ifndef FW_SOURCE_H
#define FW_SOURCE_H

#include <libavutil/frame.h>
#include <stdatomic.h>

#include "core/types.h"

typedef struct fw_source fw_source;

/* cancel (NULL: none): once non-zero, blocking reads give up (libavformat's interrupt
 * callback: opening, probing, reading) and fw_source_next returns FW_ECANCELED. */
int fw_source_open(fw_source **out, const char *input, int threads, const atomic_int *cancel,
                   fw_error *err);
/* The description of the video; frames_decoded and decode_errors grow while running. */
const fw_video_info *fw_source_info(const fw_source *src);
/* What the decoder may skip from now on (takes effect within a few frames). */
void fw_source_set_discard(fw_source *src, fw_discard mode);
/* 1 with *frame and *fi set, 0 at the end of the stream, or a negative FW_E* code
 * (FW_EDECODE when the stream ended without one decodable frame, FW_ECANCELED). */
int fw_source_next(fw_source *src, AVFrame **frame, fw_frame_info *fi, fw_error *err);
/* The last libav* message about damaged data, or "" (for warnings). */
const char *fw_source_last_problem(const fw_source *src);
void fw_source_close(fw_source *src);

/* Routes libav* log lines: kept for fw_source_last_problem and sent to fw_log (cleaned of
 * libav's "[codec @ 0x...]" prefixes). Installs once per process; thread-safe. */
void fw_source_install_log(void);

#endif
