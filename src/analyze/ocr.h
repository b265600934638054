/* ocr: on-screen text from a grey picture, with libtesseract (LSTM engine).
 *
 * Screens are not pages: text sits on title bars, buttons and dark panels in both
 * polarities, sparse and small. So the picture is first normalised (dark text on a
 * white ground everywhere, see fw_ocr_normalise), read with sparse-text page
 * segmentation, and the words are filtered: low-confidence junk (icons, borders) is
 * dropped, Chinese characters are joined without the spaces Tesseract puts between them.
 *
 * In:  an 8-bit grey picture (any size) and the scale it was enlarged by.
 * Out: lines of text with a confidence (0..100) and a box in the unscaled picture.
 * Ownership: one fw_ocr per thread (a Tesseract engine is not thread-safe); the caller
 *      owns it (open/close) and each result (fw_ocr_result_free).
 */
#ifndef FW_ANALYZE_OCR_H
#define FW_ANALYZE_OCR_H

#include <stdint.h>

#include "core/types.h"

#define FW_OCR_DEFAULT_LANG "eng+chi_sim"

typedef struct fw_ocr fw_ocr;

typedef struct fw_ocr_line {
    char *text;     /* UTF-8, one line */
    double conf;    /* mean word confidence, 0..100 */
    int x, y, w, h; /* box in the unscaled picture */
} fw_ocr_line;

typedef struct fw_ocr_result {
    fw_ocr_line *lines; /* top to bottom, as Tesseract found them */
    int n;
    int scale; /* the enlargement used (1 or 2) */
} fw_ocr_result;

/* lang: Tesseract languages joined by '+' (NULL: FW_OCR_DEFAULT_LANG). Fails with
 * FW_EINVAL naming the language when its data is not installed. */
int fw_ocr_open(fw_ocr **out, const char *lang, fw_error *err);
/* Reads the picture. scale is how much it was enlarged already (boxes are divided by
 * it). Returns 0 or FW_ENOMEM/FW_EINTERNAL; no text is a result with n == 0. */
int fw_ocr_read(fw_ocr *o, const uint8_t *grey, int w, int h, int stride, int scale,
                fw_ocr_result *out, fw_error *err);
void fw_ocr_result_free(fw_ocr_result *r);
void fw_ocr_close(fw_ocr *o);
/* "tesseract 5.3.0" */
const char *fw_ocr_version(void);

/* Normalises a screen picture for OCR into dst (w x h, stride w): each pixel becomes
 * 255 minus its contrast against the local background, stretched by the local range,
 * where the background is the morphological closing (for dark text) or opening (for
 * light text) over a (2r+1)-pixel window, the polarity chosen per 8x8 cell by which of
 * the two is nearer the most common grey of the 72x72 pixels around. Dark-on-light and
 * light-on-dark text (title bars, buttons, dark mode) both come out dark on white;
 * flat areas and region edges come out white. Returns 0 or FW_ENOMEM. */
int fw_ocr_normalise(const uint8_t *src, int w, int h, int stride, int r, uint8_t *dst);

#endif
