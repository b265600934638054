#include "vlm_image.h"

#include "vlm_read.h"

#include <libavcodec/avcodec.h>
#include <libavutil/base64.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define THUMB 32

static const struct {
    const char *name;
    double r, g, b;
} palette[] = {
    {"black", 0, 0, 0},       {"white", 255, 255, 255}, {"grey", 128, 128, 128},
    {"red", 220, 30, 30},     {"green", 30, 200, 30},   {"blue", 30, 30, 220},
    {"yellow", 230, 230, 30}, {"cyan", 30, 220, 220},   {"magenta", 220, 30, 220},
    {"orange", 240, 140, 20}, {"purple", 128, 40, 160}, {"dark blue", 20, 30, 90},
};

int vlm_image_tokens(int w, int h)
{
    int rw = (int)lround(w / 32.0), rh = (int)lround(h / 32.0);
    return (rw < 1 ? 1 : rw) * (rh < 1 ? 1 : rh);
}

static int decode(const uint8_t *data, size_t size, AVFrame *frame)
{
    enum AVCodecID id = size > 4 && memcmp(data, "\x89PNG", 4) == 0      ? AV_CODEC_ID_PNG
                        : size > 2 && data[0] == 0xFF && data[1] == 0xD8 ? AV_CODEC_ID_MJPEG
                                                                         : AV_CODEC_ID_NONE;
    const AVCodec *codec = id != AV_CODEC_ID_NONE ? avcodec_find_decoder(id) : NULL;
    if (!codec)
        return -1;
    AVCodecContext *ctx = avcodec_alloc_context3(codec);
    AVPacket *pkt = av_packet_alloc();
    int rc = -1;
    if (ctx && pkt && avcodec_open2(ctx, codec, NULL) >= 0 && av_new_packet(pkt, (int)size) >= 0) {
        memcpy(pkt->data, data, size);
        if (avcodec_send_packet(ctx, pkt) >= 0 && avcodec_receive_frame(ctx, frame) >= 0)
            rc = 0;
    }
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
    return rc;
}

static void describe(const AVFrame *f, vlm_image *out)
{
    uint8_t rgb[THUMB * THUMB * 3];
    uint8_t *dst[4] = {rgb};
    int stride[4] = {THUMB * 3};
    struct SwsContext *sws = sws_getContext(f->width, f->height, f->format, THUMB, THUMB,
                                            AV_PIX_FMT_RGB24, SWS_AREA, NULL, NULL, NULL);
    sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride);
    sws_freeContext(sws);
    double r = 0, g = 0, b = 0, l = 0, l2 = 0;
    int n = THUMB * THUMB;
    for (int i = 0; i < n; i++) {
        double y = 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
        r += rgb[3 * i];
        g += rgb[3 * i + 1];
        b += rgb[3 * i + 2];
        l += y;
        l2 += y * y;
    }
    out->r = r / n;
    out->g = g / n;
    out->b = b / n;
    out->luma = l / n;
    out->spread = sqrt(fmax(0, l2 / n - out->luma * out->luma));
    out->flat = out->spread < 4;
    double best = 1e18;
    for (size_t i = 0; i < sizeof palette / sizeof palette[0]; i++) {
        double d = pow(out->r - palette[i].r, 2) + pow(out->g - palette[i].g, 2) +
                   pow(out->b - palette[i].b, 2);
        if (d < best) {
            best = d;
            out->colour = palette[i].name;
        }
    }
}

static void read_text(const AVFrame *f, vlm_image *out)
{
    uint8_t *grey = malloc((size_t)f->width * f->height);
    struct SwsContext *sws =
        grey ? sws_getContext(f->width, f->height, f->format, f->width, f->height, AV_PIX_FMT_GRAY8,
                              SWS_POINT, NULL, NULL, NULL)
             : NULL;
    if (sws) {
        uint8_t *dst[4] = {grey};
        int stride[4] = {f->width};
        sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride);
        vlm_read(grey, f->width, f->height, f->width, out->text, sizeof out->text,
                 &out->unreadable);
    }
    sws_freeContext(sws);
    free(grey);
}

int vlm_image_decode(const char *b64, size_t len, int read, vlm_image *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = len / 4 * 3 + 3;
    uint8_t *bytes = malloc(cap);
    char *text = malloc(len + 1);
    int rc = -1;
    if (bytes && text) {
        memcpy(text, b64, len);
        text[len] = '\0';
        int n = av_base64_decode(bytes, text, (int)cap);
        AVFrame *frame = av_frame_alloc();
        if (n > 0 && frame && decode(bytes, (size_t)n, frame) == 0) {
            out->width = frame->width;
            out->height = frame->height;
            describe(frame, out);
            if (read)
                read_text(frame, out);
            rc = 0;
        }
        av_frame_free(&frame);
    }
    free(bytes);
    free(text);
    return rc;
}
