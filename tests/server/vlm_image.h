/* The test model server's eyes: decode a data-URI image (JPEG or PNG, with libavcodec)
 * and describe it from its pixels. */
#ifndef FWTEST_VLM_IMAGE_H
#define FWTEST_VLM_IMAGE_H

#include <stddef.h>

typedef struct vlm_image {
    int width, height;
    double r, g, b;      /* mean colour, 0..255 */
    double luma, spread; /* mean and standard deviation of luma */
    const char *colour;  /* the name of the dominant colour */
    int flat;            /* one flat colour */
    char text[1024];     /* --read-text: the lines read with confidence */
    int unreadable;      /* --read-text: words found that could not be read */
} vlm_image;

/* Decodes a base64 image (and reads its text when read_text); 0, or -1 when the base64
 * or the image is bad. */
int vlm_image_decode(const char *b64, size_t len, int read_text, vlm_image *out);
/* Qwen-VL image tokens: one per 32x32 block after rounding sides to multiples of 32. */
int vlm_image_tokens(int w, int h);

#endif
