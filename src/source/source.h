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
 * callback: opening, probing, reading) and fw_source_next returns FW_ECANCELED.
 * read_timeout_s (0: none): an input that gives no byte for this long fails to open
 * (FW_EOPEN, "no data within 30 s (the read-timeout setting)") or, once frames came,
 * ends with fw_source_cut saying so. Standard input, FIFOs and devices are read through
 * source/pipe.h; network protocols get libavformat's rw_timeout. */
int fw_source_open(fw_source **out, const char *input, int threads, double read_timeout_s,
                   const atomic_int *cancel, fw_error *err);
/* The description of the video; frames_decoded and decode_errors grow while running. */
const fw_video_info *fw_source_info(const fw_source *src);
/* What the decoder may skip from now on (takes effect within a few frames). */
void fw_source_set_discard(fw_source *src, fw_discard mode);
/* 1 with *frame and *fi set, 0 at the end of the stream, or a negative FW_E* code
 * (FW_EDECODE when the stream ended without one decodable frame, FW_ECANCELED). Times
 * (fi->time_s) never go back: a timestamp reset is offset (fw_source_resets). */
int fw_source_next(fw_source *src, AVFrame **frame, fw_frame_info *fi, fw_error *err);
/* Once the input ended: why it ended early, one line naming the input (the video stops
 * before the length its container declares; a transport stream's last packet is cut),
 * or NULL. The info's duration_s is then the length decoded. */
const char *fw_source_cut(const fw_source *src);
/* Timestamp resets offset so far (times never go back; see fw_source_next). */
int fw_source_resets(const fw_source *src);
/* The last libav* message about damaged data, or "" (for warnings). */
const char *fw_source_last_problem(const fw_source *src);
void fw_source_close(fw_source *src);

/* ---- live inputs ---- */
/* 1 for an input that cannot seek and may not end: standard input, a FIFO, a network
 * stream, an HLS playlist without its end. */
int fw_source_live(const fw_source *src);
/* on: a network stream that ends (dropped, or silent for read_timeout_s) is opened again,
 * waiting 1, 2, 4 ... s (at most max_wait_s) between tries, until it opens or cancel. */
void fw_source_set_reconnect(fw_source *src, int on, double max_wait_s);
/* Reopens so far; *gaps: the first FW_SOURCE_GAPS times away {from, to} (media seconds:
 * times go on after the time away). */
#define FW_SOURCE_GAPS 64
int fw_source_reconnects(const fw_source *src, const double (**gaps)[2], int *n_gaps);
/* The wall-clock time (Unix seconds) of media time 0: a file's creation time, else when
 * the first frame came less its time; 0 before the first frame. */
double fw_source_wall0(const fw_source *src);

/* Routes libav* log lines: kept for fw_source_last_problem and sent to fw_log (cleaned of
 * libav's "[codec @ 0x...]" prefixes). Installs once per process; thread-safe. */
void fw_source_install_log(void);

#endif
