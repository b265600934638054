/* encode: a decoded frame to JPEG bytes in display orientation (libswscale +
 * libavcodec's mjpeg encoder).
 *
 * In:  an AVFrame of any pixel format, the clockwise rotation to apply, a quality.
 * Out: a malloc'd JPEG buffer the caller frees with free().
 * Ownership: the caller owns the encoder (open/close); it reuses its codec context
 *      and scaler between frames of the same size.
 */
#ifndef FW_ENCODE_H
#define FW_ENCODE_H

#include <libavutil/frame.h>
#include <stddef.h>

#include "core/types.h"

typedef struct fw_encoder fw_encoder;

int fw_encoder_open(fw_encoder **out, int quality, fw_error *err);
int fw_encode_jpeg(fw_encoder *enc, const AVFrame *frame, int rotation, uint8_t **out,
                   size_t *out_size, fw_error *err);
void fw_encoder_close(fw_encoder *enc);

#endif
