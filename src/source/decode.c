#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/log.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/error.h"
#include "core/log.h"
#include "source/pipe.h"
#include "source/source.h"
#include "source/source_int.h"

/* Problems not tied to a source (opening, probing), for error messages, and the demuxer
 * that said the last one ("mov,mp4,m4a,3gp,3g2,mj2"). */
static _Thread_local char last_problem[256];
static _Thread_local char last_demuxer[64];

/* ---- libav* log routing ----------------------------------------------------- */

static problem_log *problem_log_of(void *avcl)
{
    const AVClass *cls = avcl ? *(const AVClass **)avcl : NULL;
    if (cls && cls == avcodec_get_class())
        return ((AVCodecContext *)avcl)->opaque;
    if (cls && cls == avformat_get_class()) /* the demuxer's: a damaged container */
        return ((AVFormatContext *)avcl)->opaque;
    return NULL;
}

/* One libav* message as a user may read it: "h263: header damaged", never libav's
 * "[h263 @ 0x55d0...] " prefix (a pointer means nothing to a user). A decoder's
 * messages are named after the codec; a demuxer's need no name (the input is named
 * by the caller). */
static void clean_line(void *avcl, int level, const char *fmt, va_list vl, char *out, size_t size)
{
    char msg[256];
    int prefix = 0; /* 0: av_log_format_line adds no "[name @ 0x...]" */
    av_log_format_line(avcl, level, fmt, vl, msg, sizeof msg, &prefix);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    const AVClass *cls = avcl ? *(const AVClass **)avcl : NULL;
    const AVCodecContext *dec = cls == avcodec_get_class() ? avcl : NULL;
    if (n && dec && dec->codec)
        snprintf(out, size, "%s: %s", dec->codec->name, msg);
    else
        snprintf(out, size, "%s", msg);
}

/* The fw_log level of a libav* level (FW_LOG_TRACE is the engine's own traces). */
static int log_level_of(int av_level)
{
    return av_level <= AV_LOG_ERROR     ? FW_LOG_ERROR
           : av_level <= AV_LOG_WARNING ? FW_LOG_WARN
           : av_level <= AV_LOG_INFO    ? FW_LOG_INFO
                                        : FW_LOG_DEBUG;
}

static void log_callback(void *avcl, int level, const char *fmt, va_list vl)
{
    int keep = level <= AV_LOG_ERROR, fw_level = log_level_of(level);
    if (!keep && !fw_log_on(fw_level))
        return;
    char line[256];
    clean_line(avcl, level, fmt, vl, line, sizeof line);
    if (keep) {
        problem_log *pl = problem_log_of(avcl);
        const AVClass *cls = avcl ? *(const AVClass **)avcl : NULL;
        const AVFormatContext *fmt = cls == avformat_get_class() ? avcl : NULL;
        if (pl) {
            atomic_fetch_add(&pl->n, 1);
            if (line[0]) /* racy between worker threads at worst; only used in a message */
                snprintf(pl->last, sizeof pl->last, "%s", line);
        }
        if ((!pl || fmt) && line[0]) { /* opening: what the error message says */
            snprintf(last_problem, sizeof last_problem, "%s", line);
            if (fmt && fmt->iformat)
                snprintf(last_demuxer, sizeof last_demuxer, "%s", fmt->iformat->name);
        }
    }
    if (line[0])
        fw_log(fw_level, "%s", line);
}

static void install_log(void)
{
    av_log_set_callback(log_callback);
}

void fw_source_install_log(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_log);
}

const char *fw_source_last_problem(const fw_source *src)
{
    return src->problems.last[0] ? src->problems.last : last_problem;
}

/* ---- opening ---------------------------------------------------------------- */

static int rotation_of(AVStream *st)
{
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    if (!m)
        return 0;
    double ccw = av_display_rotation_get((const int32_t *)m);
    if (isnan(ccw))
        return 0;
    int cw = (int)lround(-ccw / 90.0) * 90;
    return ((cw % 360) + 360) % 360;
}

/* The best video stream that is a real video (not a cover picture), or -1. */
int fw_source_pick_stream(AVFormatContext *fmt)
{
    int best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (best >= 0 && !(fmt->streams[best]->disposition & AV_DISPOSITION_ATTACHED_PIC))
        return best;
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        AVStream *st = fmt->streams[i];
        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            return (int)i;
    }
    return -1;
}

/* libavformat's interrupt callback: 1 stops a blocking open, probe or read. */
int fw_source_interrupted(void *opaque)
{
    const fw_source *s = opaque;
    return s->cancel && atomic_load(s->cancel);
}

/* An MP4/MOV whose index (the moov atom) is missing or cut off: the file was not
 * finished (a recording that stopped, a copy cut short). demuxer: the mov demuxer's
 * name when it spoke, problem: what it said. */
static int index_missing(const char *path, const char *demuxer, const char *problem)
{
    /* an MP4 begins with a box: junk named .mp4 also gets the mov demuxer's complaints */
    char head[8] = {0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(head, 1, sizeof head, f) : 0;
    if (f)
        fclose(f);
    int boxed = got == sizeof head &&
                (memcmp(head + 4, "ftyp", 4) == 0 || memcmp(head + 4, "mdat", 4) == 0 ||
                 memcmp(head + 4, "moov", 4) == 0 || memcmp(head + 4, "free", 4) == 0 ||
                 memcmp(head + 4, "wide", 4) == 0);
    return boxed && strncmp(demuxer, "mov,", 4) == 0 &&
           (strstr(problem, "moov") || strstr(problem, "atom") || strstr(problem, "STS") ||
            strstr(problem, "error reading header") || strstr(problem, "timescale"));
}

static int index_error(const char *input, fw_error *err)
{
    return fw_error_set(err, FW_EFORMAT,
                        "%s: the MP4 index (moov atom) is missing or cut off: the file was not "
                        "finished, e.g. a recording that stopped early (%s)",
                        input, last_problem);
}

/* 1 when a read gave up for the read timeout (ours on a pipe, libavformat's elsewhere). */
static int timed_out(const fw_source *s, int averror)
{
    return s->pipe.timed_out || averror == AVERROR(ETIMEDOUT);
}

int fw_source_open_format(fw_source *s, const char *input, fw_error *err)
{
    last_problem[0] = last_demuxer[0] = '\0';
    struct stat st;
    if (stat(input, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
        return fw_error_set(err, FW_EFORMAT, "%s: empty file", input);
    /* the callback must be there before opening: the I/O layer copies it then */
    if (!(s->fmt = avformat_alloc_context()))
        return fw_error_set(err, FW_ENOMEM, "%s: out of memory", input);
    s->fmt->interrupt_callback = (AVIOInterruptCB){fw_source_interrupted, s};
    s->fmt->opaque = &s->problems;
    AVDictionary *opts = NULL;
    int rc = 0;
    if (fw_pipe_wanted(input)) {
        rc = fw_pipe_open(&s->pipe, input, s->read_timeout_s, s->cancel, &s->io);
        if (rc < 0)
            return fw_error_set(err, FW_EOPEN, "%s: cannot open: %s", input, fw_av_err(rc));
        s->fmt->pb = s->io;
    } else if (s->read_timeout_s > 0) { /* network protocols: no byte for this long fails */
        char us[32];
        snprintf(us, sizeof us, "%.0f", s->read_timeout_s * 1e6);
        av_dict_set(&opts, "rw_timeout", us, 0);
        if (strncmp(input, "udp:", 4) == 0 || strncmp(input, "rtp:", 4) == 0)
            av_dict_set(&opts, "timeout", us, 0); /* UDP reads wait on their own timeout */
    }
    rc = avformat_open_input(&s->fmt, s->io ? "" : input, NULL, &opts);
    av_dict_free(&opts);
    if (rc < 0 && fw_source_interrupted(s))
        return fw_error_set(err, FW_ECANCELED, "%s: cancelled", input);
    if (rc < 0 && timed_out(s, rc))
        return fw_error_set(err, FW_EOPEN, "%s: no data within %g s (the read-timeout setting)",
                            input, s->read_timeout_s);
    if (rc < 0) {
        if (rc == AVERROR(ENOENT) || rc == AVERROR(EACCES) || rc == AVERROR(EISDIR) ||
            rc == AVERROR(EIO))
            return fw_error_set(err, FW_EOPEN, "%s: cannot open: %s", input, fw_av_err(rc));
        if (index_missing(input, last_demuxer, last_problem))
            return index_error(input, err);
        return fw_error_set(err, FW_EFORMAT, "%s: not a readable media file (%s)", input,
                            last_problem[0] ? last_problem : fw_av_err(rc));
    }
    /* The tty demuxer renders any text file as a video of ANSI art: not a video. */
    if (strcmp(s->fmt->iformat->name, "tty") == 0)
        return fw_error_set(err, FW_EFORMAT, "%s: not a media file (looks like plain text)", input);
    rc = avformat_find_stream_info(s->fmt, NULL);
    if (rc < 0 && fw_source_interrupted(s))
        return fw_error_set(err, FW_ECANCELED, "%s: cancelled", input);
    if (rc < 0 && timed_out(s, rc))
        return fw_error_set(err, FW_EOPEN, "%s: no data within %g s (the read-timeout setting)",
                            input, s->read_timeout_s);
    if (rc < 0)
        return fw_error_set(err, FW_EFORMAT, "%s: cannot read stream information (%s)", input,
                            fw_av_err(rc));
    return 0;
}

int fw_source_open_decoder(fw_source *s, const char *input, int threads, fw_error *err)
{
    AVStream *st = s->fmt->streams[s->stream];
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec)
        return fw_error_set(err, FW_EFORMAT, "%s: no decoder for video codec '%s'", input,
                            avcodec_get_name(st->codecpar->codec_id));
    s->dec = avcodec_alloc_context3(codec);
    if (!s->dec)
        return fw_error_set(err, FW_ENOMEM, "%s: out of memory", input);
    int rc = avcodec_parameters_to_context(s->dec, st->codecpar);
    if (rc < 0)
        return fw_error_set(err, FW_EINTERNAL, "%s: %s", input, fw_av_err(rc));
    s->dec->thread_count = threads;
    s->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    /* FFmpeg 5.1's VP3/Theora decoder is not bit-exact with frame threads: on
     * message-board.ogv (Theora 4:4:4, 274x269) 50-110 of its 182 frames came out different
     * from one run to the next (`ffmpeg -threads 2 -thread_type frame -f framemd5`), and
     * the keyframes with them. It has no slice threads: one thread, which decodes such
     * clips at hundreds of frames a second. */
    if (codec->id == AV_CODEC_ID_THEORA || codec->id == AV_CODEC_ID_VP3)
        s->dec->thread_type = FF_THREAD_SLICE;
    s->dec->pkt_timebase = st->time_base;
    s->dec->opaque = &s->problems;
    rc = avcodec_open2(s->dec, codec, NULL);
    if (rc < 0)
        return fw_error_set(err, FW_EFORMAT, "%s: cannot open the %s decoder (%s)", input,
                            codec->name, fw_av_err(rc));
    return 0;
}

/* The video stream's length as the container declares it, -1 when it does not (a pipe,
 * a stream, a container that only knows the longest stream's length). */
static double declared_length(const AVFormatContext *fmt, const AVStream *st)
{
    /* only an index written before the data says it (Matroska's Duration, MP4's track
     * header); elsewhere the length is estimated, from the last page (Ogg: a recorder's
     * last timestamp, past its last picture) or the bitrate */
    const char *name = fmt->iformat->name;
    if (strncmp(name, "matroska", 8) != 0 && strncmp(name, "mov,", 4) != 0)
        return -1;
    if (st->duration > 0 && st->duration != AV_NOPTS_VALUE)
        return st->duration * av_q2d(st->time_base);
    const AVDictionaryEntry *tag = av_dict_get(st->metadata, "DURATION", NULL, 0); /* mkv */
    int h, m;
    double sec;
    if (tag && sscanf(tag->value, "%d:%d:%lf", &h, &m, &sec) == 3)
        return h * 3600.0 + m * 60.0 + sec;
    if (fmt->nb_streams == 1 && fmt->duration > 0 &&
        fmt->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE)
        return fmt->duration / (double)AV_TIME_BASE;
    return -1;
}

/* At the end of the input: why it ended early, into s->cut ("" when it did not); the
 * length reported is then what was decoded. */
static void check_end(fw_source *s)
{
    double slack = s->frame_dur_s * 3 > 0.5 ? s->frame_dur_s * 3 : 0.5;
    struct stat st;
    int ts = strcmp(s->fmt->iformat->name, "mpegts") == 0 && stat(s->path, &st) == 0 &&
             S_ISREG(st.st_mode);
    /* after a reset the declared length counts the jump: it says nothing of a cut */
    if (s->stalled)
        snprintf(s->cut, sizeof s->cut,
                 "%s: no data for %g s (the read-timeout setting): the result covers 0-%.2f s",
                 s->path, s->read_timeout_s, s->end_s);
    else if (!s->resets && s->declared_s > 0 && s->end_s < s->declared_s - slack &&
             s->packets_end_s < s->declared_s - slack)
        snprintf(s->cut, sizeof s->cut,
                 "%s: the video stops at %.2f s of the %.2f s its container declares (the file "
                 "is cut short or damaged): the result covers 0-%.2f s",
                 s->path, s->end_s, s->declared_s, s->end_s);
    else if (ts && st.st_size % 188 != 0 && st.st_size % 192 != 0)
        snprintf(s->cut, sizeof s->cut,
                 "%s: the last transport-stream packet is cut off (the file is cut short): the "
                 "result covers 0-%.2f s",
                 s->path, s->end_s);
    if (s->cut[0] || s->resets)
        s->info.duration_s = s->end_s;
}

const char *fw_source_cut(const fw_source *s)
{
    return s->cut[0] ? s->cut : NULL;
}

int fw_source_resets(const fw_source *s)
{
    return s->resets;
}

int fw_source_open(fw_source **out, const char *input, int threads, double read_timeout_s,
                   const atomic_int *cancel, fw_error *err)
{
    *out = NULL;
    fw_source *s = calloc(1, sizeof *s);
    if (!s)
        return fw_error_set(err, FW_ENOMEM, "%s: out of memory", input);
    s->cancel = cancel;
    s->read_timeout_s = read_timeout_s;
    s->threads = threads;
    s->pipe.fd = -1;
    snprintf(s->path, sizeof s->path, "%s", input);
    int rc = fw_source_open_format(s, input, err);
    if (rc)
        goto fail;
    s->stream = fw_source_pick_stream(s->fmt);
    int no_codec = s->stream < 0 && s->fmt->nb_streams &&
                   s->fmt->streams[0]->codecpar->codec_id == AV_CODEC_ID_NONE;
    if (s->stream < 0 && strncmp(s->fmt->iformat->name, "mov,", 4) == 0 &&
        (s->fmt->nb_streams == 0 || no_codec)) { /* the index ended before its tracks */
        if (!last_problem[0])
            snprintf(last_problem, sizeof last_problem, "%u track%s, none complete",
                     s->fmt->nb_streams, s->fmt->nb_streams == 1 ? "" : "s");
        rc = index_error(input, err);
        goto fail;
    }
    if (s->stream < 0) {
        rc = fw_error_set(err, FW_ENOVIDEO, "%s: no video stream (%u stream%s, none video)", input,
                          s->fmt->nb_streams, s->fmt->nb_streams == 1 ? "" : "s");
        goto fail;
    }
    if ((rc = fw_source_open_decoder(s, input, threads, err)))
        goto fail;
    s->pkt = av_packet_alloc();
    s->frame = av_frame_alloc();
    if (!s->pkt || !s->frame) {
        rc = fw_error_set(err, FW_ENOMEM, "%s: out of memory", input);
        goto fail;
    }
    AVStream *st = s->fmt->streams[s->stream];
    s->tb = st->time_base;
    s->start_pts = st->start_time;
    s->last_pts = AV_NOPTS_VALUE;
    s->last_s = -1;
    s->declared_s = declared_length(s->fmt, st);
    AVRational fr = st->avg_frame_rate.num ? st->avg_frame_rate : st->r_frame_rate;
    double fps = fr.num && fr.den ? av_q2d(fr) : 0;
    s->frame_dur_s = fps > 0 && fps < 1000 ? 1.0 / fps : 1.0 / 25;

    fw_video_info *vi = &s->info;
    vi->path = s->path;
    vi->codec = s->dec->codec->name;
    vi->container = s->fmt->iformat->name;
    vi->duration_s = s->fmt->duration > 0 ? s->fmt->duration / (double)AV_TIME_BASE : -1;
    vi->rotation = rotation_of(st);
    int swap = vi->rotation == 90 || vi->rotation == 270;
    vi->width = swap ? st->codecpar->height : st->codecpar->width;
    vi->height = swap ? st->codecpar->width : st->codecpar->height;
    vi->fps = fps;
    s->live = fw_source_live(s);
    s->network = fw_source_network(s);
    *out = s;
    return 0;
fail:
    fw_source_close(s);
    return rc;
}

const fw_video_info *fw_source_info(const fw_source *src)
{
    return &src->info;
}

void fw_source_set_discard(fw_source *s, fw_discard mode)
{
    s->discard = mode;
    s->dec->skip_frame = mode == FW_DISCARD_NONKEY   ? AVDISCARD_NONKEY
                         : mode == FW_DISCARD_NONREF ? AVDISCARD_NONREF
                                                     : AVDISCARD_DEFAULT;
}

/* Sends the next packet of our stream to the decoder; 0 when sent (or skipped),
 * 1 when the demuxer is exhausted and the decoder was told to drain. */
static int feed(fw_source *s)
{
    for (;;) {
        int rc = av_read_frame(s->fmt, s->pkt);
        if (rc < 0) {
            /* A read error mid-file (truncated, network) ends the input: keep what we
             * have, and let the caller warn through the problem counter. */
            if (timed_out(s, rc))
                s->stalled = 1;
            else if (rc != AVERROR_EOF && !fw_source_interrupted(s))
                s->info.decode_errors++;
            s->dropped = rc != AVERROR_EOF; /* not the stream's own end */
            avcodec_send_packet(s->dec, NULL);
            return 1;
        }
        if (s->pkt->stream_index != s->stream) {
            av_packet_unref(s->pkt);
            continue;
        }
        /* how far the stream's packets go: a held last picture (Theora's empty packets)
         * decodes to nothing, and is not a cut */
        int64_t at = s->pkt->pts != AV_NOPTS_VALUE ? s->pkt->pts : s->pkt->dts;
        if (at != AV_NOPTS_VALUE && s->start_pts != AV_NOPTS_VALUE) {
            double end = (double)(at - s->start_pts + s->pkt->duration) * av_q2d(s->tb);
            s->packets_end_s = end > s->packets_end_s ? end : s->packets_end_s;
        }
        /* Keyframes only: a non-key packet never reaches the decoder at all. */
        if (s->discard == FW_DISCARD_NONKEY && !(s->pkt->flags & AV_PKT_FLAG_KEY)) {
            av_packet_unref(s->pkt);
            continue;
        }
        rc = avcodec_send_packet(s->dec, s->pkt);
        av_packet_unref(s->pkt);
        if (rc < 0 && rc != AVERROR(EAGAIN))
            s->info.decode_errors++;
        return 0;
    }
}

/* A frame's time from its timestamp's: times never go back. A timestamp that jumps back
 * (a stream restarted, two recordings spliced), or, in a format that allows
 * discontinuities (MPEG-TS), jumps ahead by more than 10 s (as ffmpeg's
 * -dts_delta_threshold), is a reset: time goes on one frame after the last one. */
static double next_time(fw_source *s, double t)
{
    t += s->offset_s;
    if (s->last_s >= 0) {
        int discont = (s->fmt->iformat->flags & AVFMT_TS_DISCONT) != 0;
        if (t < s->last_s - s->frame_dur_s / 2 || (discont && t > s->last_s + 10)) {
            double to = s->last_s + s->frame_dur_s;
            if (s->live && s->network) /* a stream restarted: it goes on when it came */
                to = fmax(to, fw_source_arrival(s));
            if (s->live && to > s->last_s + s->frame_dur_s + 1 && s->n_gaps < FW_SOURCE_GAPS) {
                s->gaps[s->n_gaps][0] = s->last_s + s->frame_dur_s;
                s->gaps[s->n_gaps++][1] = to;
            }
            s->offset_s += to - t;
            t = to;
            s->resets++;
        }
    }
    s->last_s = t;
    s->end_s = t + s->frame_dur_s;
    return t;
}

int fw_source_next(fw_source *s, AVFrame **frame, fw_frame_info *fi, fw_error *err)
{
    if (s->done)
        return 0;
    if (fw_source_interrupted(s))
        return fw_error_set(err, FW_ECANCELED, "%s: cancelled", s->path);
    av_frame_unref(s->frame);
    for (;;) {
        int rc = avcodec_receive_frame(s->dec, s->frame);
        if (rc == 0)
            break;
        if (rc == AVERROR_EOF && fw_source_reopen(s) == 0)
            continue;
        if (rc == AVERROR_EOF) {
            s->done = 1;
            if (s->info.frames_decoded == 0)
                return fw_error_set(err, FW_EDECODE, "%s: not a readable video (%s)", s->path,
                                    fw_source_last_problem(s)[0] ? fw_source_last_problem(s)
                                                                 : "no decodable frame");
            if (!fw_source_interrupted(s))
                check_end(s);
            return 0;
        }
        if (rc == AVERROR(EAGAIN)) {
            if (s->draining) /* should not happen; end cleanly */
                return s->done = 1, 0;
            s->draining = feed(s);
            continue;
        }
        s->info.decode_errors++; /* damaged data: skip it and go on */
    }
    long logged = atomic_load(&s->problems.n);
    if (logged > s->info.decode_errors)
        s->info.decode_errors = logged;
    AVFrame *f = s->frame;
    int64_t pts = f->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE)
        pts = s->last_pts == AV_NOPTS_VALUE
                  ? 0
                  : s->last_pts + (int64_t)llround(s->frame_dur_s / av_q2d(s->tb));
    if (s->start_pts == AV_NOPTS_VALUE)
        s->start_pts = pts;
    s->last_pts = pts;
    fi->number = s->info.frames_decoded++;
    fi->pts = pts;
    fi->time_s = next_time(s, (double)(pts - s->start_pts) * av_q2d(s->tb));
    if (!s->wall0)
        fw_source_set_wall0(s, fi->time_s);
    if (s->live)
        fw_source_arrived(s);
    fi->dur_s = s->frame_dur_s;
    fi->key = f->key_frame;
    *frame = f;
    return 1;
}

void fw_source_close(fw_source *s)
{
    if (!s)
        return;
    av_frame_free(&s->frame);
    av_packet_free(&s->pkt);
    avcodec_free_context(&s->dec);
    avformat_close_input(&s->fmt);
    fw_pipe_close(&s->pipe, &s->io); /* after the demuxer: it reads through io */
    free(s);
}
