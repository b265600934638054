/* A JPEG sent again smaller: decoded (libavcodec's mjpeg) and encoded under a smaller
 * pixel budget by the encoder every keyframe goes through. */
#include <libavcodec/avcodec.h>

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

int fw_jpeg_refit(const uint8_t *jpeg, size_t size, int quality, int max_pixels, fw_image *out,
                  fw_error *err)
{
    AVFrame *frame = av_frame_alloc();
    if (!frame)
        return fw_error_set(err, FW_ENOMEM, "refit: out of memory");
    int rc = decode(jpeg, size, frame, err);
    fw_encoder *enc = NULL;
    if (!rc)
        rc = fw_encoder_open(&enc, quality, max_pixels, err);
    if (!rc)
        rc = fw_encode_jpeg(enc, frame, 0, out, err);
    fw_encoder_close(enc);
    av_frame_free(&frame);
    return rc;
}
