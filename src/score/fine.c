/* The fine picture: the frame's luma area-averaged to FW_FINE_W x FW_FINE_H, so that a
 * 40-px digit at 720p is ~5x6 fine pixels instead of the thumbnail's 2x2 blurred ones.
 *
 * Measured on this project's 2-core machine (one frame, median of 300): swscale's
 * SWS_AREA to 256x144 costs 0.39 ms at 1080p and 0.24 ms at 720p; the box sums below,
 * reading 4 rows of every output row and every column, 0.14 ms and 0.11 ms at -O3 (the
 * Release build's; -O2 does not vectorise the row sums and takes 0.47 ms).
 * SWS_FAST_BILINEAR, which the thumbnail uses, samples 2 of every 7 source pixels at
 * 1080p: a thin stroke is seen or not depending on where it falls, which is exactly
 * what a detector of small changes cannot have. swscale remains for pixel formats
 * without an 8-bit luma plane (RGB, 10-bit, packed YUV). */
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <stdlib.h>
#include <string.h>

#include "score/score.h"

#define ROWS 4 /* source rows summed per output row (all of them when fewer) */

struct fw_fine_maker {
    int w, h, fmt;
    int direct; /* 1: box sums on the luma plane; 0: swscale */
    struct SwsContext *sws;
    int x0[FW_FINE_W + 1];
    int row[FW_FINE_H][ROWS], n_rows[FW_FINE_H];
    /* 65536 / (rows * columns) of each output pixel, by row count: a multiply where a
     * division per output pixel took most of the time */
    uint32_t inv[ROWS][FW_FINE_W];
    uint16_t *acc; /* w column sums */
};

/* An 8-bit luma plane, one byte per pixel, first in memory: box sums can read it. */
static int has_plain_luma(int fmt)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    if (!d || (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL |
                           AV_PIX_FMT_FLAG_BITSTREAM)))
        return 0;
    return d->nb_components >= 1 && d->comp[0].plane == 0 && d->comp[0].step == 1 &&
           d->comp[0].depth == 8 && d->comp[0].shift == 0 && d->comp[0].offset == 0;
}

static int setup(fw_fine_maker *m, const AVFrame *f)
{
    m->w = f->width;
    m->h = f->height;
    m->fmt = f->format;
    m->direct = has_plain_luma(f->format);
    free(m->acc);
    m->acc = NULL;
    if (!m->direct) {
        m->sws = sws_getCachedContext(m->sws, f->width, f->height, f->format, FW_FINE_W, FW_FINE_H,
                                      AV_PIX_FMT_GRAY8, SWS_AREA, NULL, NULL, NULL);
        return m->sws ? 0 : -1;
    }
    if (!(m->acc = malloc((size_t)f->width * sizeof *m->acc)))
        return -1;
    for (int i = 0; i <= FW_FINE_W; i++)
        m->x0[i] = (int)((long)i * f->width / FW_FINE_W);
    for (int i = 0; i < FW_FINE_W; i++) {
        if (m->x0[i + 1] <= m->x0[i]) /* narrower than the fine picture: one column each */
            m->x0[i + 1] = m->x0[i] + 1 < f->width ? m->x0[i] + 1 : m->x0[i];
        int cols = m->x0[i + 1] > m->x0[i] ? m->x0[i + 1] - m->x0[i] : 1;
        for (int k = 0; k < ROWS; k++)
            m->inv[k][i] = (uint32_t)((65536 + (k + 1) * cols / 2) / ((k + 1) * cols));
    }
    for (int oy = 0; oy < FW_FINE_H; oy++) {
        int y0 = (int)((long)oy * f->height / FW_FINE_H);
        int y1 = (int)((long)(oy + 1) * f->height / FW_FINE_H);
        if (y1 <= y0)
            y1 = y0 + 1;
        int k = y1 - y0 < ROWS ? y1 - y0 : ROWS;
        m->n_rows[oy] = k;
        for (int j = 0; j < k; j++)
            m->row[oy][j] = y0 + (2 * j + 1) * (y1 - y0) / (2 * k);
    }
    return 0;
}

static void box_sums(fw_fine_maker *m, const AVFrame *f, uint8_t *out)
{
    const int w = m->w;
    uint16_t *restrict acc = m->acc;
    for (int oy = 0; oy < FW_FINE_H; oy++) {
        const uint8_t *restrict p = f->data[0] + (ptrdiff_t)m->row[oy][0] * f->linesize[0];
        for (int x = 0; x < w; x++)
            acc[x] = p[x];
        for (int j = 1; j < m->n_rows[oy]; j++) {
            p = f->data[0] + (ptrdiff_t)m->row[oy][j] * f->linesize[0];
            for (int x = 0; x < w; x++)
                acc[x] += p[x];
        }
        const uint32_t *inv = m->inv[m->n_rows[oy] - 1];
        for (int ox = 0; ox < FW_FINE_W; ox++) {
            int a = m->x0[ox], b = m->x0[ox + 1] > a ? m->x0[ox + 1] : a + 1;
            uint32_t sum = 0;
            for (int x = a; x < b; x++)
                sum += acc[x];
            uint32_t v = (sum * inv[ox] + 32768) >> 16;
            out[oy * FW_FINE_W + ox] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
}

int fw_fine_make(fw_fine_maker **maker, const AVFrame *f, uint8_t *out)
{
    fw_fine_maker *m = *maker;
    if (!m && !(m = *maker = calloc(1, sizeof *m)))
        return -1;
    if ((m->w != f->width || m->h != f->height || m->fmt != f->format ||
         (m->direct ? !m->acc : !m->sws)) &&
        setup(m, f) != 0)
        return -1;
    if (m->direct) {
        box_sums(m, f, out);
        return 0;
    }
    uint8_t *dst[4] = {out, NULL, NULL, NULL};
    int stride[4] = {FW_FINE_W, 0, 0, 0};
    sws_scale(m->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride);
    return 0;
}

void fw_fine_maker_free(fw_fine_maker *m)
{
    if (!m)
        return;
    sws_freeContext(m->sws);
    free(m->acc);
    free(m);
}
