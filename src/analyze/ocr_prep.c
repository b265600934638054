/* Screen normalisation before OCR: polarity-aware top-hat (see fw_ocr_normalise).
 *
 * Measured on a 1024x768 GNOME-like dialog (bench/ocr.sh makes it): Tesseract's own
 * global Otsu read 2 of 7 lines, its adaptive thresholds 6 (never the white-on-blue
 * title); after this normalisation all 7, in either threshold mode. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/ocr.h"
#include "core/error.h"

#define CELL 8        /* polarity is decided per 8x8 cell ... */
#define MODE_R 4      /* ... from the usual grey of the 72x72 pixels around it */
#define MIN_RANGE 128 /* contrast below this is not stretched to full black */

static inline uint8_t max8(uint8_t a, uint8_t b)
{
    return a > b ? a : b;
}

static inline uint8_t min8(uint8_t a, uint8_t b)
{
    return a < b ? a : b;
}

/* van Herk / Gil-Werman: the max (or min) over a window of k = 2r+1 in O(1) per
 * element. x holds n + 2r values (the input padded with the identity on both sides);
 * out[i] is the extremum of x[i .. i+2r]. g and h are scratch of n + 2r. */
static void vhgw(const uint8_t *x, int n, int r, int is_max, uint8_t *g, uint8_t *h, uint8_t *out)
{
    int k = 2 * r + 1, len = n + 2 * r;
    for (int i = 0; i < len; i++)
        g[i] = i % k == 0 ? x[i] : is_max ? max8(g[i - 1], x[i]) : min8(g[i - 1], x[i]);
    for (int i = len - 1; i >= 0; i--)
        h[i] = (i % k == k - 1 || i == len - 1) ? x[i]
               : is_max                         ? max8(h[i + 1], x[i])
                                                : min8(h[i + 1], x[i]);
    for (int i = 0; i < n; i++)
        out[i] = is_max ? max8(h[i], g[i + 2 * r]) : min8(h[i], g[i + 2 * r]);
}

/* Dilation (is_max) or erosion of a w x h picture with a square (2r+1) window.
 * The vertical pass works on whole rows so it streams through memory. */
typedef struct morph_buf {
    uint8_t *line, *g, *h;          /* w + 2r */
    uint8_t *rows_g, *rows_h, *pad; /* (h + 2r) x w */
    uint8_t *tmp;                   /* w x h */
} morph_buf;

static void morph(const uint8_t *src, int w, int h, int r, int is_max, morph_buf *b, uint8_t *dst)
{
    uint8_t fill = is_max ? 0 : 255;
    for (int y = 0; y < h; y++) {
        memset(b->line, fill, (size_t)r);
        memcpy(b->line + r, src + (size_t)y * w, (size_t)w);
        memset(b->line + r + w, fill, (size_t)r);
        vhgw(b->line, w, r, is_max, b->g, b->h, b->tmp + (size_t)y * w);
    }
    int k = 2 * r + 1, len = h + 2 * r;
    memset(b->pad, fill, (size_t)r * w);
    memcpy(b->pad + (size_t)r * w, b->tmp, (size_t)w * h);
    memset(b->pad + (size_t)(r + h) * w, fill, (size_t)r * w);
    for (int i = 0; i < len; i++) {
        const uint8_t *x = b->pad + (size_t)i * w;
        uint8_t *g = b->rows_g + (size_t)i * w;
        if (i % k == 0)
            memcpy(g, x, (size_t)w);
        else
            for (int j = 0; j < w; j++)
                g[j] = is_max ? max8(g[j - w], x[j]) : min8(g[j - w], x[j]);
    }
    for (int i = len - 1; i >= 0; i--) {
        const uint8_t *x = b->pad + (size_t)i * w;
        uint8_t *hh = b->rows_h + (size_t)i * w;
        if (i % k == k - 1 || i == len - 1)
            memcpy(hh, x, (size_t)w);
        else
            for (int j = 0; j < w; j++)
                hh[j] = is_max ? max8(hh[j + w], x[j]) : min8(hh[j + w], x[j]);
    }
    for (int y = 0; y < h; y++) {
        const uint8_t *hh = b->rows_h + (size_t)y * w, *g = b->rows_g + (size_t)(y + 2 * r) * w;
        uint8_t *o = dst + (size_t)y * w;
        for (int j = 0; j < w; j++)
            o[j] = is_max ? max8(hh[j], g[j]) : min8(hh[j], g[j]);
    }
}

/* The most common grey (32 bins, bin centre) around each CELL x CELL cell: over the
 * (2*MODE_R+1)^2 cells centred on it, through per-bin integral sums over the cells. */
static int cell_modes(const uint8_t *p, int w, int h, uint8_t *modes, int cw, int ch)
{
    size_t iw = (size_t)cw + 1, plane = iw * (ch + 1);
    int *sum = calloc(plane * 32, sizeof *sum);
    if (!sum)
        return FW_ENOMEM;
    for (int cy = 0; cy < ch; cy++)
        for (int cx = 0; cx < cw; cx++) {
            int hist[32] = {0};
            for (int y = cy * CELL; y < (cy + 1) * CELL && y < h; y++)
                for (int x = cx * CELL; x < (cx + 1) * CELL && x < w; x++)
                    hist[p[(size_t)y * w + x] >> 3]++;
            for (int b = 0; b < 32; b++) {
                int *s = sum + b * plane;
                size_t i = (size_t)(cy + 1) * iw + cx + 1;
                s[i] = hist[b] + s[i - 1] + s[i - iw] - s[i - iw - 1];
            }
        }
    for (int cy = 0; cy < ch; cy++)
        for (int cx = 0; cx < cw; cx++) {
            int x0 = cx - MODE_R < 0 ? 0 : cx - MODE_R, y0 = cy - MODE_R < 0 ? 0 : cy - MODE_R;
            int x1 = cx + MODE_R + 1 > cw ? cw : cx + MODE_R + 1;
            int y1 = cy + MODE_R + 1 > ch ? ch : cy + MODE_R + 1;
            int best = 0, best_n = -1;
            for (int b = 0; b < 32; b++) {
                const int *s = sum + b * plane;
                int n = s[y1 * iw + x1] - s[y0 * iw + x1] - s[y1 * iw + x0] + s[y0 * iw + x0];
                if (n > best_n) {
                    best_n = n;
                    best = b;
                }
            }
            modes[(size_t)cy * cw + cx] = (uint8_t)(best * 8 + 4);
        }
    free(sum);
    return 0;
}

int fw_ocr_normalise(const uint8_t *src, int w, int h, int stride, int r, uint8_t *dst)
{
    size_t n = (size_t)w * h, rows = (size_t)(h + 2 * r) * w, line = (size_t)w + 2 * r;
    int cw = (w + CELL - 1) / CELL, ch = (h + CELL - 1) / CELL;
    morph_buf b = {0};
    uint8_t *pic = calloc(n, 1), *a = malloc(n), *close = malloc(n), *open = malloc(n);
    uint8_t *modes = malloc((size_t)cw * ch);
    b.line = malloc(line);
    b.g = malloc(line);
    b.h = malloc(line);
    b.rows_g = malloc(rows);
    b.rows_h = malloc(rows);
    b.pad = malloc(rows);
    b.tmp = malloc(n);
    int rc = 0;
    if (!pic || !a || !close || !open || !modes || !b.line || !b.g || !b.h || !b.rows_g ||
        !b.rows_h || !b.pad || !b.tmp) {
        rc = FW_ENOMEM;
        goto out;
    }
    for (int y = 0; y < h; y++)
        memcpy(pic + (size_t)y * w, src + (size_t)y * stride, (size_t)w);
    morph(pic, w, h, r, 1, &b, a); /* closing: dilate then erode */
    morph(a, w, h, r, 0, &b, close);
    morph(pic, w, h, r, 0, &b, a); /* opening: erode then dilate */
    morph(a, w, h, r, 1, &b, open);
    if (cell_modes(pic, w, h, modes, cw, ch)) {
        rc = FW_ENOMEM;
        goto out;
    }
    for (int y = 0; y < h; y++) {
        const uint8_t *mrow = modes + (size_t)(y / CELL) * cw;
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            int m = mrow[x / CELL], c = close[i], o = open[i], p = pic[i];
            /* the background is the one of closing/opening nearer the usual grey around;
             * the contrast against it is stretched by the local range */
            int s = abs(c - m) <= abs(o - m) ? c - p : p - o;
            int range = c - o > MIN_RANGE ? c - o : MIN_RANGE;
            s = s * 255 / range;
            dst[i] = (uint8_t)(255 - (s > 255 ? 255 : s));
        }
    }
out:
    free(pic);
    free(a);
    free(close);
    free(open);
    free(modes);
    free(b.line);
    free(b.g);
    free(b.h);
    free(b.rows_g);
    free(b.rows_h);
    free(b.pad);
    free(b.tmp);
    return rc;
}

void fw_ocr_shrink(const uint8_t *src, int w, int h, int stride, int k, uint8_t *dst)
{
    int sw = w / k, sh = h / k, kk = k * k;
    for (int y = 0; y < sh; y++)
        for (int x = 0; x < sw; x++) {
            int sum = 0;
            for (int dy = 0; dy < k; dy++) {
                const uint8_t *row = src + (size_t)(y * k + dy) * stride + x * k;
                for (int dx = 0; dx < k; dx++)
                    sum += row[dx];
            }
            dst[(size_t)y * sw + x] = (uint8_t)((sum + kk / 2) / kk);
        }
}

void fw_ocr_rotate(const uint8_t *src, int w, int h, double deg, uint8_t *dst)
{
    double a = deg * M_PI / 180, c = cos(a), s = sin(a), cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            /* the source of (x, y): turned back by -deg */
            double dx = x - cx, dy = y - cy;
            double sx = cx + c * dx + s * dy, sy = cy - s * dx + c * dy;
            int x0 = (int)floor(sx), y0 = (int)floor(sy);
            double fx = sx - x0, fy = sy - y0, v = 0;
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 2; i++) {
                    int xx = x0 + i, yy = y0 + j;
                    int p = xx >= 0 && xx < w && yy >= 0 && yy < h ? src[(size_t)yy * w + xx] : 255;
                    v += p * (i ? fx : 1 - fx) * (j ? fy : 1 - fy);
                }
            dst[(size_t)y * w + x] = (uint8_t)(v + 0.5);
        }
}
