/* Big display words: the titles of motion graphics (40-80 px on a 480x352 frame, and
 * as large on bigger ones; white on colour or dark on white; tilted up to 10 degrees).
 *
 * The first pass (fw_ocr_read) loses most of them: at its scale (x2 under 720 px high)
 * their strokes are wider than the normalisation's 15-px window, which hollows them, and
 * the 72x72 px that decide a pixel's polarity are mostly letter, so white on orange came
 * out blank. So a second picture: the grey one shrunk 4 times (1/2 of a small frame,
 * 1/4 of a large one), normalised the same way, blanked but for its rows of tall letters
 * (48 px and more at the first pass's scale), turned level when they are tilted.
 * bench/ocr.sh's 60 title cards (117 words): the first pass read 22; with this pass at
 * 1/2, 1/3 and 1/4 of the picture 69, 87 and 91 words, and turned level 99, 115 and 117
 * (the tesseract CLI on the raw cards: 90 with --psm 11, 93 with --psm 3). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/ocr.h"
#include "core/error.h"
#include "core/utf8.h"

#define TALL_H 48 /* rows at least this high at the first pass's scale are read here ... */
/* ... when they have 3 components or more: of 2, Tesseract read 'NA' and 'if' at 90 %
 * from tall blobs of tour.mp4 and vtest.avi, and no title of bench/ocr.sh has fewer */
#define TALL_N 3
#define MIN_TILT 1.5  /* degrees: under this a row is level enough */
#define MAX_TILT 15.0 /* over this it is not a tilted title (or a bad estimate) */

/* Whether two boxes share more than a quarter of the smaller one. */
static int overlaps(const fw_ocr_line *a, const fw_ocr_line *b)
{
    int ix = (a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w) - (a->x > b->x ? a->x : b->x);
    int iy = (a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h) - (a->y > b->y ? a->y : b->y);
    long sa = (long)a->w * a->h, sb = (long)b->w * b->h;
    return ix > 0 && iy > 0 && 4L * ix * iy > (sa < sb ? sa : sb);
}

/* How much a line says: its letters (spaces aside) times its confidence. */
static double worth(const fw_ocr_line *l)
{
    int n = 0;
    for (const char *s = l->text; *s;)
        n += fw_utf8_next(&s) != ' ';
    return n * l->conf;
}

int fw_ocr_merge_line(fw_ocr_result *out, int *cap, fw_ocr_line *l)
{
    double there = 0;
    for (int i = 0; i < out->n; i++)
        if (overlaps(&out->lines[i], l))
            there += worth(&out->lines[i]);
    if (there >= worth(l)) {
        free(l->text);
        return 0;
    }
    int n = 0;
    for (int i = 0; i < out->n; i++) {
        if (overlaps(&out->lines[i], l))
            free(out->lines[i].text);
        else
            out->lines[n++] = out->lines[i];
    }
    out->n = n;
    if (out->n == *cap) {
        int nc = *cap ? *cap * 2 : 16;
        fw_ocr_line *nl = realloc(out->lines, (size_t)nc * sizeof *nl);
        if (!nl) {
            free(l->text);
            return FW_ENOMEM;
        }
        out->lines = nl;
        *cap = nc;
    }
    int at = 0;
    while (at < out->n && out->lines[at].y <= l->y)
        at++;
    memmove(out->lines + at + 1, out->lines + at, (size_t)(out->n - at) * sizeof *l);
    out->lines[at] = *l;
    out->n++;
    return 0;
}

/* The tilt of the tall rows (degrees, clockwise on screen): the mean angle of those
 * of 3 components or more, weighted by components; 0 when level or implausible. */
static double tilt(const fw_ocr_text *t, int min_h)
{
    double sum = 0, n = 0;
    for (int i = 0; i < t->n_rows; i++)
        if (t->rows[i].h >= min_h && t->rows[i].n >= TALL_N) {
            sum += atan(t->rows[i].slope) * t->rows[i].n;
            n += t->rows[i].n;
        }
    double deg = n > 0 ? sum / n * 180 / M_PI : 0;
    return fabs(deg) < MIN_TILT || fabs(deg) > MAX_TILT ? 0 : deg;
}

int fw_ocr_big_picture(const uint8_t *grey, int w, int h, int stride, int k, int deskew,
                       fw_ocr_big *out)
{
    memset(out, 0, sizeof *out);
    out->k = k;
    out->w = w / k;
    out->h = h / k;
    if (out->w < 64 || out->h < 64)
        return 0; /* nothing tall fits */
    size_t n = (size_t)out->w * out->h;
    uint8_t *small = malloc(n);
    int rc = FW_ENOMEM;
    if (!small || !(out->pic = malloc(n)))
        goto done;
    fw_ocr_shrink(grey, w, h, stride, k, small);
    if (fw_ocr_normalise(small, out->w, out->h, out->w, FW_OCR_MORPH_RADIUS, out->pic) ||
        fw_ocr_find_text(out->pic, out->w, out->h, &out->text))
        goto done;
    int min_h = TALL_H / k;
    if ((out->n_tall = fw_ocr_keep_rows(out->pic, out->w, out->h, out->text.rows, out->text.n_rows,
                                        min_h, TALL_N)) < 0)
        goto done;
    if (out->n_tall > 0 && deskew && (out->deg = tilt(&out->text, min_h)) != 0) {
        fw_ocr_rotate(out->pic, out->w, out->h, -out->deg, small);
        memcpy(out->pic, small, n);
    }
    rc = 0;
done:
    free(small);
    if (rc)
        fw_ocr_big_free(out);
    return rc;
}

void fw_ocr_big_unturn(const fw_ocr_big *b, fw_ocr_line *l, int scale)
{
    double a = b->deg * M_PI / 180, c = cos(a), s = sin(a);
    double cx = (b->w - 1) / 2.0, cy = (b->h - 1) / 2.0;
    double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
    for (int i = 0; i < 4; i++) {
        double dx = (i & 1 ? l->x + l->w : l->x) - cx, dy = (i & 2 ? l->y + l->h : l->y) - cy;
        double x = cx + c * dx - s * dy, y = cy + s * dx + c * dy;
        x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1;
        y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
    }
    x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
    l->x = (int)(x0 * b->k / scale);
    l->y = (int)(y0 * b->k / scale);
    l->w = (int)((x1 - x0) * b->k / scale);
    l->h = (int)((y1 - y0) * b->k / scale);
}

void fw_ocr_big_free(fw_ocr_big *b)
{
    free(b->pic);
    fw_ocr_text_free(&b->text);
    memset(b, 0, sizeof *b);
}
