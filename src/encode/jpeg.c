#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "encode/encode.h"

struct fw_encoder {
    int quality;
    int max_pixels;
    AVCodecContext *ctx;
    struct SwsContext *sws;
    AVFrame *yuv;     /* the frame in full-range 4:2:0, source orientation */
    AVFrame *rotated; /* the same, rotated (when rotation != 0) */
    AVPacket *pkt;
    int64_t n_encoded; /* pts of the next frame: the encoder wants them increasing */
};

static int round32(double v)
{
    int r = (int)lround(v / 32) * 32;
    return r < 32 ? 32 : r;
}

static int floor32(double v)
{
    int r = (int)floor(v / 32) * 32;
    return r < 32 ? 32 : r;
}

void fw_image_fit(int w, int h, int max_pixels, int *out_w, int *out_h)
{
    if (max_pixels <= 0 || w <= 0 || h <= 0) {
        *out_w = w;
        *out_h = h;
        return;
    }
    int rw = round32(w), rh = round32(h);
    if ((double)rw * rh > max_pixels) {
        double beta = sqrt((double)w * h / max_pixels);
        rw = floor32(w / beta);
        rh = floor32(h / beta);
    }
    *out_w = rw;
    *out_h = rh;
}

int fw_image_tokens(int w, int h)
{
    return (round32(w) / 32) * (round32(h) / 32);
}

int fw_encoder_open(fw_encoder **out, int quality, int max_pixels, fw_error *err)
{
    fw_encoder *e = calloc(1, sizeof *e);
    if (!e || !(e->yuv = av_frame_alloc()) || !(e->rotated = av_frame_alloc()) ||
        !(e->pkt = av_packet_alloc())) {
        fw_encoder_close(e);
        return fw_error_set(err, FW_ENOMEM, "encoder: out of memory");
    }
    e->quality = quality;
    e->max_pixels = max_pixels;
    *out = e;
    return 0;
}

void fw_encoder_close(fw_encoder *e)
{
    if (!e)
        return;
    avcodec_free_context(&e->ctx);
    sws_freeContext(e->sws);
    av_frame_free(&e->yuv);
    av_frame_free(&e->rotated);
    av_packet_free(&e->pkt);
    free(e);
}

static int ensure_frame(AVFrame *f, int w, int h)
{
    if (f->width == w && f->height == h && f->data[0])
        return 0;
    av_frame_unref(f);
    f->format = AV_PIX_FMT_YUVJ420P;
    f->width = w;
    f->height = h;
    return av_frame_get_buffer(f, 0);
}

/* mjpeg quantiser scale 2 (best) .. 31 (worst) from a 1..100 quality. */
static int qscale_of(int quality)
{
    return 2 + (100 - quality) * 29 / 99;
}

static int ensure_codec(fw_encoder *e, int w, int h, fw_error *err)
{
    if (e->ctx && e->ctx->width == w && e->ctx->height == h)
        return 0;
    avcodec_free_context(&e->ctx);
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (!codec || !(e->ctx = avcodec_alloc_context3(codec)))
        return fw_error_set(err, FW_EINTERNAL, "encoder: no mjpeg encoder in libavcodec");
    e->ctx->width = w;
    e->ctx->height = h;
    e->ctx->pix_fmt = AV_PIX_FMT_YUVJ420P;
    e->ctx->time_base = (AVRational){1, 25};
    e->ctx->flags |= AV_CODEC_FLAG_QSCALE;
    e->ctx->global_quality = FF_QP2LAMBDA * qscale_of(e->quality);
    int rc = avcodec_open2(e->ctx, codec, NULL);
    if (rc < 0)
        return fw_error_set(err, FW_EINTERNAL, "encoder: cannot open mjpeg: %s", fw_av_err(rc));
    return 0;
}

/* Rotates one plane clockwise by 90, 180 or 270 degrees. */
static void rotate_plane(const uint8_t *src, int sstride, int w, int h, uint8_t *dst, int dstride,
                         int rotation)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t v = src[y * sstride + x];
            if (rotation == 90)
                dst[x * dstride + (h - 1 - y)] = v;
            else if (rotation == 180)
                dst[(h - 1 - y) * dstride + (w - 1 - x)] = v;
            else
                dst[(w - 1 - x) * dstride + y] = v;
        }
}

int fw_encode_jpeg(fw_encoder *e, const AVFrame *f, int rotation, fw_image *out, fw_error *err)
{
    memset(out, 0, sizeof *out);
    int swap = rotation == 90 || rotation == 270;
    /* the budget applies to the displayed picture; scale in source orientation */
    int dw, dh;
    fw_image_fit(swap ? f->height : f->width, swap ? f->width : f->height, e->max_pixels, &dw, &dh);
    int sw = swap ? dh : dw, sh = swap ? dw : dh;
    int rc = ensure_frame(e->yuv, sw, sh);
    if (rc < 0)
        return fw_error_set(err, FW_ENOMEM, "encoder: %s", fw_av_err(rc));
    /* Same size: only the range (limited to full) and maybe the pixel format change, so
     * the filter does not matter and fast bilinear is the cheapest path (3.5 ms instead
     * of 5 ms for a 1080p frame with bicubic). Smaller: area averaging, which keeps
     * text legible when shrinking by 2-3x and costs less than bicubic. */
    int same = sw == f->width && sh == f->height;
    e->sws =
        sws_getCachedContext(e->sws, f->width, f->height, f->format, sw, sh, AV_PIX_FMT_YUVJ420P,
                             same ? SWS_FAST_BILINEAR : SWS_AREA, NULL, NULL, NULL);
    if (!e->sws)
        return fw_error_set(err, FW_EINTERNAL, "encoder: cannot convert %s frames",
                            av_get_pix_fmt_name(f->format));
    sws_scale(e->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, e->yuv->data,
              e->yuv->linesize);
    AVFrame *pic = e->yuv;
    if (rotation == 90 || rotation == 180 || rotation == 270) {
        rc = ensure_frame(e->rotated, swap ? sh : sw, swap ? sw : sh);
        if (rc < 0)
            return fw_error_set(err, FW_ENOMEM, "encoder: %s", fw_av_err(rc));
        for (int p = 0; p < 3; p++) {
            int w = p ? AV_CEIL_RSHIFT(sw, 1) : sw;
            int h = p ? AV_CEIL_RSHIFT(sh, 1) : sh;
            rotate_plane(e->yuv->data[p], e->yuv->linesize[p], w, h, e->rotated->data[p],
                         e->rotated->linesize[p], rotation);
        }
        pic = e->rotated;
    }
    if ((rc = ensure_codec(e, pic->width, pic->height, err)))
        return rc;
    pic->pts = e->n_encoded++;
    rc = avcodec_send_frame(e->ctx, pic);
    if (rc >= 0)
        rc = avcodec_receive_packet(e->ctx, e->pkt);
    if (rc < 0)
        return fw_error_set(err, FW_EINTERNAL, "encoder: JPEG encoding failed: %s", fw_av_err(rc));
    out->jpeg = malloc((size_t)e->pkt->size);
    if (!out->jpeg) {
        av_packet_unref(e->pkt);
        return fw_error_set(err, FW_ENOMEM, "encoder: out of memory");
    }
    memcpy(out->jpeg, e->pkt->data, (size_t)e->pkt->size);
    out->size = (size_t)e->pkt->size;
    out->width = pic->width;
    out->height = pic->height;
    av_packet_unref(e->pkt);
    return 0;
}
