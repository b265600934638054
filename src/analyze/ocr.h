/* ocr: on-screen text from a grey picture, with libtesseract (LSTM engine).
 *
 * Screens are not pages: text sits on title bars, buttons and dark panels in both
 * polarities, sparse and small. So the picture is first normalised (dark text on a
 * white ground everywhere, see fw_ocr_normalise); a picture without text-like rows of
 * letters is not read at all, and texture is blanked (fw_ocr_find_text); the rest is
 * read with sparse-text page segmentation, and the words are filtered: low-confidence
 * junk (icons, borders) is dropped, Chinese characters are joined without the spaces
 * Tesseract puts between them. Big display words (titles) are read a second time on
 * the picture shrunk and turned level (fw_ocr_big_picture).
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
#define FW_OCR_MORPH_RADIUS 7 /* the normalisation's window: strokes up to ~14 px survive */
#define FW_OCR_BIG_SCALE 4    /* the big-text pass reads the picture shrunk this much */

typedef struct fw_ocr fw_ocr;

typedef struct fw_ocr_line {
    char *text;     /* UTF-8, one line */
    double conf;    /* mean word confidence, 0..100 */
    int x, y, w, h; /* box in the unscaled picture */
} fw_ocr_line;

typedef struct fw_ocr_result {
    fw_ocr_line *lines; /* top to bottom, as Tesseract found them */
    int n;
    int scale;      /* the enlargement used (1 or 2) */
    int skipped;    /* 1: no text-like rows, so Tesseract did not run */
    double blanked; /* share of the picture blanked as texture before Tesseract, 0..1 */
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

/* A row of ink components that sit like the letters of a line of text. */
typedef struct fw_ocr_row {
    int x0, y0, x1, y1; /* box, [x0, x1) x [y0, y1) */
    int n;              /* components */
    int h;              /* their mean height */
    double slope;       /* of the line through their centres (dy/dx; y grows down) */
} fw_ocr_row;

typedef struct fw_ocr_text {
    fw_ocr_row *rows; /* the text-like rows */
    int n_rows;
    int n_components; /* ink components of the picture */
    int n_chains;     /* chains of two or more of them, text-like or not */
    int n_tiles;      /* 32x32 tiles of the picture */
    int n_textured;   /* of them, busy with ink and no text-like row near */
    int n_blanked;    /* of those, blanked (when they are much of the picture) */
} fw_ocr_text;

/* Looks for text-like structure in a normalised picture (w x h, stride w, dark ink on
 * white as fw_ocr_normalise makes it): the connected ink components, chained into
 * rows the way letters sit on a line (similar heights, side by side, overlapping
 * vertically), kept when they are mostly strokes (not filled cells), their centres on
 * a line, and they stand free (little foreign ink around). When the picture is texture
 * (many busy tiles, or few of its chains text-like), blanks in place every tile that
 * no such row reaches. No row: nothing to read.
 * Returns 0 or FW_ENOMEM; out is freed with fw_ocr_text_free. */
int fw_ocr_find_text(uint8_t *p, int w, int h, fw_ocr_text *out);
void fw_ocr_text_free(fw_ocr_text *t);
/* Blanks (in place) everything but the rows at least min_h high and of min_n components
 * or more, with a margin of two of their heights. Returns how many rows were kept, or
 * FW_ENOMEM. */
int fw_ocr_keep_rows(uint8_t *p, int w, int h, const fw_ocr_row *rows, int n, int min_h, int min_n);

/* The big-text pass's picture: grey (w x h, stride) shrunk k times, normalised, all
 * but its rows of tall letters blanked, turned level when they are tilted (deskew).
 * Returns 0 or FW_ENOMEM; out is freed with fw_ocr_big_free. */
typedef struct fw_ocr_big {
    uint8_t *pic;     /* w x h, for Tesseract; NULL when the picture is too small */
    int w, h, k;      /* its size, and the shrink */
    double deg;       /* it was turned by -deg (0: level) */
    int n_tall;       /* rows of tall letters kept (0: nothing to read) */
    fw_ocr_text text; /* its rows */
} fw_ocr_big;
int fw_ocr_big_picture(const uint8_t *grey, int w, int h, int stride, int k, int deskew,
                       fw_ocr_big *out);
/* A line's box read on b->pic, back in the frame's pixels (the grey picture was the
 * frame enlarged scale times). */
void fw_ocr_big_unturn(const fw_ocr_big *b, fw_ocr_line *l, int scale);
void fw_ocr_big_free(fw_ocr_big *b);
/* Adds a line of the big-text pass to out (cap: lines allocated). Where it overlaps
 * lines there, it replaces them if it says more than they do together (letters times
 * confidence), else it is dropped. Kept in reading order (before the first line that
 * starts lower). Takes l->text. Returns 0 or FW_ENOMEM. */
int fw_ocr_merge_line(fw_ocr_result *out, int *cap, fw_ocr_line *l);
/* dst (w x h): src (w x h) turned by deg degrees (clockwise on screen) about its
 * centre, bilinear, white where nothing was. */
void fw_ocr_rotate(const uint8_t *src, int w, int h, double deg, uint8_t *dst);
/* dst ((w/k) x (h/k), stride w/k): the mean of each k x k block of src. */
void fw_ocr_shrink(const uint8_t *src, int w, int h, int stride, int k, uint8_t *dst);

#endif
