/* Live inputs: what is live, a dropped network stream opened again with its gap, and
 * the wall clock of media time 0. */
#include <libavformat/avformat.h>
#include <libavutil/parseutils.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "source/source.h"
#include "source/source_int.h"

/* When a frame of a live input comes, on its media clock (0 before the first frame). */
void fw_source_arrived(fw_source *s)
{
    s->last_wall = fw_wall_s();
}

double fw_source_arrival(const fw_source *s)
{
    return s->wall0 > 0 ? fw_wall_s() - s->wall0 : 0;
}

int fw_source_network(const fw_source *s)
{
    return !s->io && strstr(s->path, "://") && strncmp(s->path, "file:", 5) != 0;
}

int fw_source_live(const fw_source *s)
{
    if (s->io)
        return 1; /* standard input, a FIFO */
    if (strcmp(s->fmt->iformat->name, "hls") == 0)
        return s->info.duration_s <= 0; /* a playlist without its end */
    return fw_source_network(s) && !(s->fmt->pb && (s->fmt->pb->seekable & AVIO_SEEKABLE_NORMAL));
}

/* With reconnect, a network stream that ended after its first frame, opened again: tries with waits
 * of 1, 2, 4 ... s (at most max_wait_s) until it opens or the caller stops; the time it was away is
 * a gap, and times go on after it. 0, or -1 when it is not to be (not live, not a drop, no
 * reconnect) or was stopped. */
int fw_source_reopen(fw_source *s)
{
    /* only a live stream that dropped: a file's end, an HLS playlist's end are the end */
    int ended = !s->dropped && strcmp(s->fmt->iformat->name, "hls") == 0;
    if (!s->reconnect || !s->live || !s->network || ended || s->info.frames_decoded == 0 ||
        fw_source_interrupted(s))
        return -1;

    double wait = 0, from = s->end_s; /* at once, then 1, 2, 4 ... s */
    for (;;) {
        for (double t = 0; t < wait; t += 0.1) {
            if (fw_source_interrupted(s))
                return -1;
            nanosleep(&(struct timespec){0, 100000000}, NULL);
        }
        avformat_close_input(&s->fmt);
        avcodec_free_context(&s->dec);
        fw_error e = {0};
        if (fw_source_open_format(s, s->path, &e) == 0 &&
            (s->stream = fw_source_pick_stream(s->fmt)) >= 0 &&
            fw_source_open_decoder(s, s->path, s->threads, &e) == 0)
            break;
        if (fw_source_interrupted(s))
            return s->done = 1, -1; /* closed: nothing more is read */
        wait = fmin(wait ? wait * 2 : 1, s->max_wait_s > 1 ? s->max_wait_s : 1);
    }
    /* away: from the end of the last frame that came (its arrival) to now */
    double away = fmax(0, fw_wall_s() - s->last_wall - s->frame_dur_s);
    AVStream *st = s->fmt->streams[s->stream];
    s->tb = st->time_base;
    s->start_pts = st->start_time;
    s->last_pts = AV_NOPTS_VALUE;
    s->offset_s = from + away; /* the next frame comes after the time away */
    s->last_s = -1;
    s->draining = s->stalled = 0;
    if (s->n_gaps < FW_SOURCE_GAPS)
        s->gaps[s->n_gaps][0] = from, s->gaps[s->n_gaps++][1] = from + away;
    s->reconnects++;
    fw_source_set_discard(s, s->discard);
    return 0;
}

void fw_source_set_reconnect(fw_source *s, int on, double max_wait_s)
{
    s->reconnect = on;
    s->max_wait_s = max_wait_s;
}

int fw_source_reconnects(const fw_source *s, const double (**gaps)[2], int *n_gaps)
{
    *gaps = s->gaps;
    *n_gaps = s->n_gaps;
    return s->reconnects;
}

double fw_source_wall0(const fw_source *s)
{
    return s->wall0;
}

/* Media time 0 on the wall clock: the container's creation time, else when the first
 * frame came less its time. */
void fw_source_set_wall0(fw_source *s, double t)
{
    AVDictionaryEntry *c = av_dict_get(s->fmt->metadata, "creation_time", NULL, 0);
    int64_t us = 0;
    if (c && !fw_source_live(s) && av_parse_time(&us, c->value, 0) == 0 && us > 0)
        s->wall0 = us / 1e6;
    else
        s->wall0 = fw_wall_s() - t;
}
