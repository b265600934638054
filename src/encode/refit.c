/* A keyframe's JPEG used again: sent smaller, cut to a region, or read as a small grey
 * map. Decoded with libavcodec's mjpeg and encoded by the encoder every keyframe goes
 * through. */
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>

#include "core/error.h"
#include "encode/encode.h"

static int decode(const uint8_t *jpeg, size_t size, AVFrame *frame, fw_error *err)
{
    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_MJPEG);
    AVCodecContext *dec = codec ? avcodec_alloc_context3(codec) : NULL;
    AVPacket *pkt = av_packet_alloc();
    int rc = dec && pkt ? 0 : fw_error_set(err, FW_ENOMEM, "refit: out of memory");
    if (!rc) {
        dec->thread_count = 1;
        pkt->data = (uint8_t *)jpeg;
        pkt->size = (int)size;
        if (avcodec_open2(dec, codec, NULL) < 0 || avcodec_send_packet(dec, pkt) < 0 ||
            avcodec_receive_frame(dec, frame) < 0)
            rc = fw_error_set(err, FW_EINTERNAL, "refit: the keyframe's JPEG does not decode");
    }
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    return rc;
}

/* frame as a JPEG under max_pixels, by the keyframes' encoder. */
static int encode(const AVFrame *frame, int quality, int max_pixels, fw_image *out, fw_error *err)
{
    fw_encoder *enc = NULL;
    int rc = fw_encoder_open(&enc, quality, max_pixels, err);
    if (!rc)
        rc = fw_encode_jpeg(enc, frame, 0, out, err);
    fw_encoder_close(enc);
    return rc;
}

int fw_jpeg_refit(const uint8_t *jpeg, size_t size, int quality, int max_pixels, fw_image *out,
                  fw_error *err)
{
    AVFrame *frame = av_frame_alloc();
    if (!frame)
        return fw_error_set(err, FW_ENOMEM, "refit: out of memory");
    int rc = decode(jpeg, size, frame, err);
    if (!rc)
        rc = encode(frame, quality, max_pixels, out, err);
    av_frame_free(&frame);
    return rc;
}

int fw_jpeg_crop(const uint8_t *jpeg, size_t size, int quality, double fx, double fy, double fw,
                 double fh, int max_pixels, fw_image *out, fw_error *err)
{
    AVFrame *frame = av_frame_alloc();
    if (!frame)
        return fw_error_set(err, FW_ENOMEM, "crop: out of memory");
    int rc = decode(jpeg, size, frame, err);
    int x = 0, y = 0, w = 0, h = 0;
    if (!rc) {
        x = (int)(fx * frame->width);
        y = (int)(fy * frame->height);
        w = (int)(fw * frame->width + 0.5);
        h = (int)(fh * frame->height + 0.5);
        /* even edges, inside the picture: the chroma planes are halved */
        x = x < 0 ? 0 : x & ~1;
        y = y < 0 ? 0 : y & ~1;
        w = x + w > frame->width ? frame->width - x : w;
        h = y + h > frame->height ? frame->height - y : h;
        if (w < 16 || h < 16)
            rc = fw_error_set(err, FW_EINVAL, "crop: the region is outside the picture");
    }
    if (!rc) {
        frame->crop_left = (size_t)x;
        frame->crop_top = (size_t)y;
        frame->crop_right = (size_t)(frame->width - x - w);
        frame->crop_bottom = (size_t)(frame->height - y - h);
        if (av_frame_apply_cropping(frame, AV_FRAME_CROP_UNALIGNED) < 0)
            rc = fw_error_set(err, FW_EINTERNAL, "crop: libavutil refused the region");
    }
    if (!rc)
        rc = encode(frame, quality, max_pixels, out, err);
    av_frame_free(&frame);
    return rc;
}

int fw_jpeg_map(const uint8_t *jpeg, size_t size, int w, int h, uint8_t *out, fw_error *err)
{
    AVFrame *frame = av_frame_alloc();
    if (!frame)
        return fw_error_set(err, FW_ENOMEM, "map: out of memory");
    int rc = decode(jpeg, size, frame, err);
    struct SwsContext *sws = NULL;
    if (!rc && !(sws = sws_getContext(frame->width, frame->height, frame->format, w, h,
                                      AV_PIX_FMT_YUVJ444P, SWS_AREA, NULL, NULL, NULL)))
        rc = fw_error_set(err, FW_EINTERNAL, "map: cannot scale the keyframe");
    if (!rc) {
        size_t plane = (size_t)w * h;
        uint8_t *dst[4] = {out, out + plane, out + 2 * plane, NULL};
        int stride[4] = {w, w, w, 0};
        sws_scale(sws, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height, dst,
                  stride);
    }
    sws_freeContext(sws);
    av_frame_free(&frame);
    return rc;
}
