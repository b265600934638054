#include "score/score.h"

#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define TW FW_THUMB_W
#define TH FW_THUMB_H
#define CW (TW / 2)
#define CH (TH / 2)
#define YBINS 32
#define CBINS 16

typedef struct thumb {
    uint8_t y[TW * TH];
    uint8_t u[CW * CH];
    uint8_t v[CW * CH];
    float hist[YBINS + 2 * CBINS]; /* normalised per channel */
} thumb;

#define BW (TW / 4)
#define BH (TH / 4)

#define FCW (FW_FINE_W / FW_FINE_CELL)
#define FCH (FW_FINE_H / FW_FINE_CELL)

/* The fine change map: the fine picture of the frame scored last (cur, when cur_ok),
 * the reference's, and per cell what it looked like when it last moved. */
typedef struct fine_map {
    fw_fine_maker *maker;
    uint8_t cur[FW_FINE_W * FW_FINE_H], ref[FW_FINE_W * FW_FINE_H];
    uint8_t anchor[FW_FINE_W * FW_FINE_H];
    double moved_s[FCW * FCH];
    float moves_s[FCW * FCH][FW_FINE_RESTLESS_MOVES]; /* the last moves of each cell */
    uint8_t restless[FCW * FCH];                      /* at the last sample */
    /* the reference before the current one, and the cells where they differ: the
     * region of the last change (a digit, a cursor), watched for a return */
    uint8_t prev_ref[FW_FINE_W * FW_FINE_H];
    uint8_t region[FCW * FCH];
    int have_prev_ref;
    /* per cell, as of when it last moved or the references last changed (a cell that
     * has not moved is within FW_FINE_MOVE_* of what it showed then): does it differ
     * from the reference, and from the one before? */
    uint8_t vs_ref[FCW * FCH], vs_prev[FCW * FCH];
    int stale; /* the references changed: every cell's flags are to be made again */
    int cur_ok, have_ref, have_anchor;
    double next_s; /* time of the next sample */
    double last_s; /* time of the last one */
} fine_map;

struct fw_scorer {
    struct SwsContext *sws;
    thumb cur, prev, ref;
    int have_prev, have_ref;
    double settle_s;
    double moved_s[BW * BH]; /* when each 4x4 block last moved */
    uint8_t anchor[TW * TH]; /* each block as it was when it last moved */
    uint8_t anchor_u[CW * CH], anchor_v[CW * CH];
    const AVFrame *frame; /* the frame scored last (the caller's, valid until the next) */
    fine_map fine;
};

int fw_scorer_open(fw_scorer **out, double settle_s, fw_error *err)
{
    fw_scorer *sc = calloc(1, sizeof *sc);
    if (!sc)
        return fw_error_set(err, FW_ENOMEM, "scorer: out of memory");
    sc->settle_s = settle_s;
    for (int i = 0; i < BW * BH; i++)
        sc->moved_s[i] = -1e9;
    for (int i = 0; i < FCW * FCH; i++) {
        sc->fine.moved_s[i] = -1e9;
        for (int k = 0; k < FW_FINE_RESTLESS_MOVES; k++)
            sc->fine.moves_s[i][k] = -1e9f;
    }
    sc->fine.next_s = sc->fine.last_s = -1e9;
    *out = sc;
    return 0;
}

void fw_scorer_close(fw_scorer *sc)
{
    if (!sc)
        return;
    sws_freeContext(sc->sws);
    fw_fine_maker_free(sc->fine.maker);
    free(sc);
}

static void histogram(thumb *t)
{
    memset(t->hist, 0, sizeof t->hist);
    for (int i = 0; i < TW * TH; i++)
        t->hist[t->y[i] * YBINS / 256] += 1.0f / (TW * TH);
    for (int i = 0; i < CW * CH; i++) {
        t->hist[YBINS + t->u[i] * CBINS / 256] += 1.0f / (CW * CH);
        t->hist[YBINS + CBINS + t->v[i] * CBINS / 256] += 1.0f / (CW * CH);
    }
}

/* Luma weighs half, each chroma channel a quarter; each channel's L1 distance of
 * normalised histograms is halved so the result is 0..1. */
static double hist_distance(const thumb *a, const thumb *b)
{
    double dy = 0, du = 0, dv = 0;
    for (int i = 0; i < YBINS; i++)
        dy += fabsf(a->hist[i] - b->hist[i]);
    for (int i = YBINS; i < YBINS + CBINS; i++)
        du += fabsf(a->hist[i] - b->hist[i]);
    for (int i = YBINS + CBINS; i < YBINS + 2 * CBINS; i++)
        dv += fabsf(a->hist[i] - b->hist[i]);
    return 0.5 * (0.5 * dy + 0.25 * du + 0.25 * dv);
}

static double mad(const uint8_t *a, const uint8_t *b, int n)
{
    long sum = 0;
    for (int i = 0; i < n; i++)
        sum += abs((int)a[i] - (int)b[i]);
    return (double)sum / n;
}

static int block_sad(const uint8_t *a, const uint8_t *b, int bx, int by)
{
    int sum = 0;
    for (int y = by * 4; y < by * 4 + 4; y++)
        for (int x = bx * 4; x < bx * 4 + 4; x++)
            sum += abs((int)a[y * TW + x] - (int)b[y * TW + x]);
    return sum;
}

/* |dU| + |dV| summed over the block's 2x2 chroma pixels. */
static int block_sad_c(const uint8_t *au, const uint8_t *av, const uint8_t *bu, const uint8_t *bv,
                       int bx, int by)
{
    int sum = 0;
    for (int y = by * 2; y < by * 2 + 2; y++)
        for (int x = bx * 2; x < bx * 2 + 2; x++)
            sum += abs((int)au[y * CW + x] - (int)bu[y * CW + x]) +
                   abs((int)av[y * CW + x] - (int)bv[y * CW + x]);
    return sum;
}

static void copy_block(fw_scorer *sc, int bx, int by)
{
    for (int y = by * 4; y < by * 4 + 4; y++)
        memcpy(sc->anchor + y * TW + bx * 4, sc->cur.y + y * TW + bx * 4, 4);
    for (int y = by * 2; y < by * 2 + 2; y++) {
        memcpy(sc->anchor_u + y * CW + bx * 2, sc->cur.u + y * CW + bx * 2, 2);
        memcpy(sc->anchor_v + y * CW + bx * 2, sc->cur.v + y * CW + bx * 2, 2);
    }
}

/* Has block (bx, by) of the current thumbnail moved from its anchor, or does it differ
 * from the reference? Luma or colour. */
static int block_moved(const fw_scorer *sc, int bx, int by)
{
    return block_sad(sc->cur.y, sc->anchor, bx, by) > FW_BLOCK_MOVING * 16 ||
           block_sad_c(sc->cur.u, sc->cur.v, sc->anchor_u, sc->anchor_v, bx, by) >
               FW_BLOCK_MOVING_C * 4;
}

static int block_changed(const fw_scorer *sc, int bx, int by)
{
    return block_sad(sc->cur.y, sc->ref.y, bx, by) > FW_BLOCK_CHANGED * 16 ||
           block_sad_c(sc->cur.u, sc->cur.v, sc->ref.u, sc->ref.v, bx, by) > FW_BLOCK_CHANGED_C * 4;
}

/* Per 4x4 block: has it moved (drifted from its anchor, so slow fades count too; then
 * remember when), does it differ from the reference, and has such a difference stayed
 * still for settle_s? Sets area (changed vs reference), settled (changed and still)
 * and moving (moved within settle_s) as fractions of the blocks. */
static void block_changes(fw_scorer *sc, double time_s, fw_scores *s)
{
    int changed = 0, settled = 0, moving = 0;
    for (int by = 0; by < BH; by++)
        for (int bx = 0; bx < BW; bx++) {
            int i = by * BW + bx;
            if (!sc->have_prev || block_moved(sc, bx, by)) {
                if (sc->have_prev)
                    sc->moved_s[i] = time_s;
                copy_block(sc, bx, by);
            }
            int still = time_s - sc->moved_s[i] >= sc->settle_s;
            moving += !still;
            if (!sc->have_ref || block_changed(sc, bx, by)) {
                changed++;
                settled += still;
            }
        }
    s->area = (double)changed / (BW * BH);
    s->settled = (double)settled / (BW * BH);
    s->moving = (double)moving / (BW * BH);
}

uint64_t fw_score_dhash(const uint8_t *y, int w, int h, int stride)
{
    /* 9x8 box means, then one bit per horizontal neighbour pair. */
    double cell[8][9];
    for (int cy = 0; cy < 8; cy++)
        for (int cx = 0; cx < 9; cx++) {
            int x0 = cx * w / 9, x1 = (cx + 1) * w / 9, y0 = cy * h / 8, y1 = (cy + 1) * h / 8;
            if (x1 <= x0)
                x1 = x0 + 1;
            if (y1 <= y0)
                y1 = y0 + 1;
            long sum = 0;
            for (int yy = y0; yy < y1; yy++)
                for (int xx = x0; xx < x1; xx++)
                    sum += y[yy * stride + xx];
            cell[cy][cx] = (double)sum / ((x1 - x0) * (y1 - y0));
        }
    uint64_t hash = 0;
    for (int cy = 0; cy < 8; cy++)
        for (int cx = 0; cx < 8; cx++)
            hash = (hash << 1) | (cell[cy][cx + 1] > cell[cy][cx] + 0.5);
    return hash;
}

double fw_score_laplacian_var(const uint8_t *y, int w, int h, int stride)
{
    double sum = 0, sum2 = 0;
    int n = 0;
    for (int r = 1; r < h - 1; r++)
        for (int c = 1; c < w - 1; c++) {
            const uint8_t *p = y + r * stride + c;
            int lap = p[-1] + p[1] + p[-stride] + p[stride] - 4 * p[0];
            sum += lap;
            sum2 += (double)lap * lap;
            n++;
        }
    if (n == 0)
        return 0;
    double mean = sum / n;
    return sum2 / n - mean * mean;
}

/* SWS_FAST_BILINEAR, not SWS_AREA: area averaging cost 19% of the run on a clip
 * whose decoder runs at 1,500 fps (vtest.avi), fast bilinear about a quarter of that,
 * and every selection test and real-clip count stayed the same (the 4x4-block and
 * 32x18-cell measures average the aliasing out). */
static int make_thumb(fw_scorer *sc, const AVFrame *f, thumb *t, fw_error *err)
{
    sc->sws = sws_getCachedContext(sc->sws, f->width, f->height, f->format, TW, TH,
                                   AV_PIX_FMT_YUV420P, SWS_FAST_BILINEAR, NULL, NULL, NULL);
    if (!sc->sws)
        return fw_error_set(err, FW_EINTERNAL, "scorer: cannot scale %dx%d %s frames", f->width,
                            f->height, av_get_pix_fmt_name(f->format));
    uint8_t *dst[4] = {t->y, t->u, t->v, NULL};
    int stride[4] = {TW, CW, CW, 0};
    sws_scale(sc->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride);
    histogram(t);
    return 0;
}

/* ---- the fine change map -------------------------------------------------------- */

static void copy_cell(uint8_t *dst, const uint8_t *src, int cx, int cy)
{
    for (int y = cy * FW_FINE_CELL; y < (cy + 1) * FW_FINE_CELL; y++)
        memcpy(dst + y * FW_FINE_W + cx * FW_FINE_CELL, src + y * FW_FINE_W + cx * FW_FINE_CELL,
               FW_FINE_CELL);
}

const uint8_t *fw_scorer_fine_picture(fw_scorer *sc)
{
    fine_map *m = &sc->fine;
    if (!m->cur_ok && sc->frame && fw_fine_make(&m->maker, sc->frame, m->cur) == 0)
        m->cur_ok = 1;
    return m->cur_ok ? m->cur : NULL;
}

static const uint8_t *fine_picture_cb(void *ctx)
{
    return fw_scorer_fine_picture(ctx);
}

/* A cell is restless when it moved FW_FINE_RESTLESS_MOVES times within
 * FW_FINE_RESTLESS_S: a blinking cursor, a spinner, a ticking animation. Its changes
 * are no new state, and its motion is no activity that hides one. */
static int note_move(fine_map *m, int i, double t)
{
    float *mv = m->moves_s[i];
    memmove(mv + 1, mv, (FW_FINE_RESTLESS_MOVES - 1) * sizeof *mv);
    mv[0] = (float)t;
    return t - mv[FW_FINE_RESTLESS_MOVES - 1] <= FW_FINE_RESTLESS_S;
}

static int is_restless(const fine_map *m, int i, double t)
{
    return t - m->moves_s[i][FW_FINE_RESTLESS_MOVES - 1] <= FW_FINE_RESTLESS_S;
}

/* One sample of the fine map: per cell, has it moved since the last sample (then its
 * anchor becomes what it shows now, and what it differs from is measured again), and
 * does it differ from the reference? Of the cells that differ and are not restless,
 * those that did not move now are settled, the others unsettled; the onset is when the
 * last of them moved, the time the picture as it is now appeared. */
static void fine_sample(fw_scorer *sc, double t, fw_fine *out, fw_scores *s)
{
    fine_map *m = &sc->fine;
    const uint8_t *cur = fw_scorer_fine_picture(sc);
    if (!cur)
        return;
    int settled = 0, unsettled = 0, changed = 0, moving = 0, left = 0, back = 0, off_prev = 0;
    double onset = -1e9, left_onset = -1e9;
    for (int cy = 0; cy < FCH; cy++)
        for (int cx = 0; cx < FCW; cx++) {
            int i = cy * FCW + cx;
            int moved =
                !m->have_anchor ||
                fw_fine_cell_differs(cur, m->anchor, cx, cy, FW_FINE_MOVE_PEAK, FW_FINE_MOVE_MEAN);
            if (moved) {
                if (m->have_anchor) {
                    m->moved_s[i] = t;
                    moving += !note_move(m, i, t);
                }
                copy_cell(m->anchor, cur, cx, cy);
            }
            if (moved || m->stale) {
                m->vs_ref[i] = m->have_ref && fw_fine_cell_differs(cur, m->ref, cx, cy,
                                                                   FW_FINE_PEAK, FW_FINE_MEAN);
                m->vs_prev[i] =
                    m->have_prev_ref &&
                    fw_fine_cell_differs(cur, m->prev_ref, cx, cy, FW_FINE_PEAK, FW_FINE_MEAN);
            }
            m->restless[i] = (uint8_t)is_restless(m, i, t);
            off_prev += m->vs_prev[i] && !m->restless[i];
            if (!m->vs_ref[i])
                continue;
            if (m->region[i]) { /* the last change's cell moved on: back, or to new content */
                left++;
                back += !m->vs_prev[i];
                left_onset = m->moved_s[i] > left_onset ? m->moved_s[i] : left_onset;
            }
            changed++;
            if (m->restless[i])
                continue;
            if (m->moved_s[i] < t)
                settled++;
            else
                unsettled++;
            if (m->moved_s[i] > onset)
                onset = m->moved_s[i];
        }
    m->have_anchor = 1;
    m->stale = 0;
    out->sampled = 1;
    out->settled = settled;
    out->unsettled = unsettled;
    out->changed = changed;
    out->moving = moving;
    out->onset_s = onset > -1e8 ? onset : t; /* never moved: since before we looked */
    out->restless = m->restless;
    out->left = left;
    out->back = off_prev == 0 ? back : 0; /* back only if the whole picture is */
    out->left_onset_s = left_onset > -1e8 ? left_onset : t;
    s->detail = (double)settled / FW_FINE_CELLS;
}

int fw_scorer_score(fw_scorer *sc, const AVFrame *frame, double time_s, fw_scores *s, fw_fine *fine,
                    fw_error *err)
{
    int rc = make_thumb(sc, frame, &sc->cur, err);
    if (rc)
        return rc;
    sc->frame = frame;
    sc->fine.cur_ok = 0;
    const thumb *t = &sc->cur;
    memset(s, 0, sizeof *s);
    memset(fine, 0, sizeof *fine);
    fine->picture = fine_picture_cb;
    fine->ctx = sc;
    fine->restless = sc->fine.restless; /* as of the last sample */
    double sum = 0, sum2 = 0;
    for (int i = 0; i < TW * TH; i++) {
        sum += t->y[i];
        sum2 += (double)t->y[i] * t->y[i];
    }
    s->luma = sum / (TW * TH);
    long su = 0, sv = 0;
    for (int i = 0; i < CW * CH; i++) {
        su += t->u[i];
        sv += t->v[i];
    }
    s->cb = (double)su / (CW * CH);
    s->cr = (double)sv / (CW * CH);
    s->spread = sqrt(fmax(0, sum2 / (TW * TH) - s->luma * s->luma));
    s->black = s->luma < 24 && s->spread < 8;
    s->flat = s->spread < 3;
    s->hash = fw_score_dhash(t->y, TW, TH, TW);
    s->blur = fw_score_laplacian_var(t->y, TW, TH, TW);
    s->delta = sc->have_prev ? mad(t->y, sc->prev.y, TW * TH) : 255;
    s->chroma =
        sc->have_prev ? mad(t->u, sc->prev.u, CW * CH) + mad(t->v, sc->prev.v, CW * CH) : 255;
    s->cut = sc->have_prev ? hist_distance(t, &sc->prev) : 1;
    s->motion = sc->have_ref ? mad(t->y, sc->ref.y, TW * TH) : 255;
    block_changes(sc, time_s, s);
    if (time_s >= sc->fine.next_s &&
        (s->moving <= FW_FINE_SKIP || time_s >= sc->fine.last_s + FW_FINE_BUSY_STEP_S - 0.005)) {
        fine_sample(sc, time_s, fine, s);
        sc->fine.last_s = time_s;
        /* a hair early: 0.1 s is 3 frames at 30 fps even when pts round down */
        sc->fine.next_s = time_s + FW_FINE_STEP_S - 0.005;
    }
    sc->prev = sc->cur;
    sc->have_prev = 1;
    return 0;
}

void fw_scorer_set_reference(fw_scorer *sc)
{
    sc->ref = sc->prev; /* prev holds the frame scored last */
    sc->have_ref = 1;
    fine_map *m = &sc->fine;
    const uint8_t *fine = fw_scorer_fine_picture(sc);
    m->have_prev_ref = m->have_ref;
    if (m->have_ref)
        memcpy(m->prev_ref, m->ref, sizeof m->prev_ref);
    for (int cy = 0; cy < FCH; cy++)
        for (int cx = 0; cx < FCW; cx++)
            m->region[cy * FCW + cx] =
                fine && m->have_ref &&
                fw_fine_cell_differs(fine, m->ref, cx, cy, FW_FINE_PEAK, FW_FINE_MEAN);
    if (fine)
        memcpy(m->ref, fine, sizeof m->ref);
    m->have_ref = fine != NULL;
    m->stale = 1;
}

void fw_scorer_signature(const fw_scorer *sc, fw_sig *out)
{
    const thumb *t = &sc->prev;
    for (int by = 0; by < FW_SIG_H; by++)
        for (int bx = 0; bx < FW_SIG_W; bx++) {
            int sum = 0, su = 0, sv = 0;
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++)
                    sum += t->y[(by * 4 + r) * TW + bx * 4 + c];
            for (int r = 0; r < 2; r++)
                for (int c = 0; c < 2; c++) {
                    su += t->u[(by * 2 + r) * CW + bx * 2 + c];
                    sv += t->v[(by * 2 + r) * CW + bx * 2 + c];
                }
            int i = by * FW_SIG_W + bx;
            out->v[i] = (uint8_t)(sum / 16);
            out->cb[i] = (uint8_t)(su / 4);
            out->cr[i] = (uint8_t)(sv / 4);
        }
}
