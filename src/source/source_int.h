/* Internal to source/: the source's state, shared by decode.c (opening, decoding, times)
 * and live.c (live inputs: reopening, gaps, the wall clock). */
#ifndef FW_SOURCE_INT_H
#define FW_SOURCE_INT_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <stdatomic.h>

#include "source/pipe.h"
#include "source/source.h"

/* A decoder that conceals damage (h264 with a broken slice) still returns frames and
 * says so only in its log, often from its worker threads; the log callback finds
 * the source through the codec context's opaque pointer (frame-thread copies keep
 * it) and counts the problem there. */
typedef struct problem_log {
    atomic_long n;
    char last[256];
} problem_log;

struct fw_source {
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    int stream;
    AVRational tb;
    int64_t start_pts;    /* pts of time zero */
    int64_t last_pts;     /* for frames without a timestamp */
    double offset_s;      /* added to times after a timestamp reset (they never go back) */
    double last_s;        /* the time of the last frame given out (-1: none yet) */
    double end_s;         /* the end of the last frame given out */
    double declared_s;    /* the video's length as the container declares it (-1: unknown) */
    double packets_end_s; /* where the stream's packets end (what the demuxer read) */
    int resets;           /* timestamp discontinuities offset */
    int stalled;          /* the input gave no byte for read_timeout_s */
    char cut[1400];       /* why the input ended early ("" while it did not) */
    int draining;         /* the demuxer hit its end; the decoder is being flushed */
    int done;
    problem_log problems; /* error messages of this source's decoder */
    fw_discard discard;
    double frame_dur_s;
    fw_video_info info;
    const atomic_int *cancel; /* the caller's stop flag, or NULL */
    double read_timeout_s;    /* no byte for this long ends the input (0: wait for ever) */
    fw_pipe pipe;             /* standard input, a FIFO: read by fw_pipe through io */
    AVIOContext *io;
    char path[1024];
    /* live inputs */
    int threads;
    int reconnect;     /* reopen a network stream that ends */
    double max_wait_s; /* the longest wait between tries */
    int reconnects;
    double gaps[FW_SOURCE_GAPS][2];
    int n_gaps;
    double wall0;     /* the wall-clock time of media time 0 (0: no frame yet) */
    int live;         /* fw_source_live, once opened */
    int network;      /* a URL of a network protocol (fw_source_network) */
    int dropped;      /* the last read failed (a timeout, an error): not the stream's own end */
    double last_wall; /* live: when the last frame came (wall clock) */
};

/* decode.c: the best video stream (-1: none); libavformat's interrupt callback (1: stop);
 * the demuxer opened on input and its streams probed; the stream's decoder opened. Each
 * 0 or a FW_E* code with err. */
int fw_source_pick_stream(AVFormatContext *fmt);
int fw_source_interrupted(void *opaque);
int fw_source_open_format(fw_source *s, const char *input, fw_error *err);
int fw_source_open_decoder(fw_source *s, const char *input, int threads, fw_error *err);

/* live.c: a network stream that ended, opened again with reconnect (0, or -1 when it is
 * not to be, or was stopped); when a
 * frame of a live input comes, on its media clock; media time 0 on the wall clock set at
 * the first frame (its time t). */
int fw_source_reopen(fw_source *s);
/* A URL of a network protocol: not a local file, not a pipe. */
int fw_source_network(const fw_source *s);
double fw_source_arrival(const fw_source *s);
/* live: a frame came now. */
void fw_source_arrived(fw_source *s);
void fw_source_set_wall0(fw_source *s, double t);

#endif
