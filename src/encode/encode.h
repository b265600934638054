/* encode: a decoded frame to JPEG bytes in display orientation, scaled to fit an
 * image-token budget (libswscale + libavcodec's mjpeg encoder).
 *
 * In:  an AVFrame of any pixel format, the clockwise rotation to apply; the encoder's
 *      quality and pixel budget.
 * Out: a malloc'd JPEG buffer (fw_image.jpeg) the caller frees with free().
 * Ownership: the caller owns the encoder (open/close); it reuses its codec context
 *      and scaler between frames of the same size.
 */
#ifndef FW_ENCODE_H
#define FW_ENCODE_H

#include <libavutil/frame.h>
#include <stddef.h>

#include "core/types.h"

typedef struct fw_encoder fw_encoder;

typedef struct fw_image {
    uint8_t *jpeg;
    size_t size;
    int width, height; /* of the JPEG, display orientation */
} fw_image;

/* The size a w x h picture is sent at under a pixel budget, the way Qwen-VL's
 * processor resizes ("smart resize"): each side rounded to a multiple of 32, then,
 * when over max_pixels, both shrunk by the same factor and floored to multiples of
 * 32 (never below 32). max_pixels 0: the size stays as it is. */
void fw_image_fit(int w, int h, int max_pixels, int *out_w, int *out_h);
/* Image tokens a Qwen-VL model spends on a w x h picture: one per 32x32 block after
 * rounding each side to a multiple of 32. */
int fw_image_tokens(int w, int h);

/* max_pixels: the budget of fw_image_fit (0: full size). */
int fw_encoder_open(fw_encoder **out, int quality, int max_pixels, fw_error *err);
int fw_encode_jpeg(fw_encoder *enc, const AVFrame *frame, int rotation, fw_image *out,
                   fw_error *err);
void fw_encoder_close(fw_encoder *enc);

/* A JPEG again under a smaller budget (fw_image_fit's max_pixels), at quality: *out is
 * malloc'd (the caller frees out->jpeg). 0, FW_ENOMEM, or FW_EINTERNAL when jpeg does not
 * decode. */
int fw_jpeg_refit(const uint8_t *jpeg, size_t size, int quality, int max_pixels, fw_image *out,
                  fw_error *err);
/* The region x, y, w, h (fractions of the picture: left, top, width, height; edges made
 * even, clipped to the picture) as a JPEG under max_pixels (0: at its own size). 0,
 * FW_ENOMEM, FW_EINVAL (under 16 pixels a side once clipped) or FW_EINTERNAL. */
int fw_jpeg_crop(const uint8_t *jpeg, size_t size, int quality, double x, double y, double w,
                 double h, int max_pixels, fw_image *out, fw_error *err);
/* The JPEG scaled (area average) to w x h, as three planes of w x h bytes in out: luma,
 * then the two chroma planes. 0, FW_ENOMEM, FW_EINTERNAL. */
int fw_jpeg_map(const uint8_t *jpeg, size_t size, int w, int h, uint8_t *out, fw_error *err);

#endif
