/* Text-likeness before OCR (see fw_ocr_find_text): the connected ink components of
 * the normalised picture, chained into rows the way letters sit on a line; the rows
 * that look like text; and the textured tiles that hold none.
 *
 * Why: on a frame of noise, fractals or cellular automata, Tesseract's sparse-text
 * segmentation takes each of thousands of blobs for a letter and reads them all: 93 to
 * 186 s for one 1080p keyframe of a cellular automaton (bench/ocr.sh's busy file), for
 * junk ("FF." "Fr,"). Labelling and chaining the components costs 5-20 ms there.
 *
 * The thresholds were measured on the rows of the text screens (bench/ocr.sh's dialog
 * and window, tests/cli/test_local.c's screens, the real recordings in ../shared/videos)
 * against those of the busy file's game of life, Mandelbrot and automaton keyframes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/ocr.h"
#include "core/error.h"

#define INK 160      /* a normalised pixel under this is ink (text comes out near 0) */
#define MIN_H 6      /* a component lower than this is a speck (dots, noise), not a letter */
#define MAX_ASPECT 5 /* one wider than 5 heights is a rule or a bar */
/* A stroke, not a filled cell: its horizontal runs are under 66 % of its height on
 * average, or it fills under 60 % of its box. A bold 'e' 11 px high: 64 % and 75 %,
 * a stroke; a game of life's L of three cells: 75 % and 75 %, not one. */
#define STROKE_RUN 66
#define STROKE_FILL 60
#define STROKE_SHARE 67 /* % of a row's components that must be strokes */
/* The centres of a row's components lie on a line (tilted or not) within 0.3 of their
 * height (rms): text rows measured up to 0.27. */
#define MAX_RMS 0.3
#define MAX_INSIDE 70 /* % of a row's box that is ink: text up to 65 % (a terminal) */
/* % of ink in a ring around the row (half a height to the sides, 0.3 above and below)
 * that is not its own: text rows measured 0-3 %, game-of-life rows 0-20 %. */
#define RING_MAX 8
#define TILE 32
#define BUSY_COMPS 6 /* a tile with the centres of this many components, or ... */
#define BUSY_INK 35  /* ... this % of ink, and no text-like row near, is textured */
/* A picture is texture when 25 % of its tiles are textured, or when of 8 chains or
 * more under 40 % are text-like (text screens: 70-100 %; the game of life 17-35 %,
 * Mandelbrot 22-33 %, a street camera 35-45 %). Then all but its rows is blanked. */
#define TEXTURE_SHARE 25
#define MANY_CHAINS 8
#define ROW_SHARE 40
/* What stays around a row when the rest is blanked: two heights. With half a height,
 * Tesseract read pyscenedetect-testvideo.mp4's faint watermark "www.bca" at 44 %
 * instead of 82 % (too little of the page around it for its thresholds). */
#define ROW_MARGIN 2

typedef struct run {
    int y, x0, x1; /* [x0, x1) on row y */
    int parent;    /* union-find over runs; a root is its component's first run */
} run;

typedef struct comp {
    int x0, y0, x1, y1; /* box, [x0, x1) x [y0, y1) */
    int area, runs;     /* ink pixels; horizontal runs */
    int chain;          /* union-find over char-like components (-1: not one) */
} comp;

typedef struct finder {
    const uint8_t *p;
    int w, h;
    run *runs;
    size_t n_runs, cap_runs;
    comp *c;
    int n, cap;
    int *order;    /* char-like components by x0 */
    uint32_t *sum; /* (w+1) x (h+1) integral of ink */
} finder;

static int root_of(run *r, int i)
{
    while (r[i].parent != i) {
        r[i].parent = r[r[i].parent].parent;
        i = r[i].parent;
    }
    return i;
}

/* The ink runs of every row, joined with the touching runs of the row above
 * (8-connectivity). Runs of both rows are sorted by x, so the scan is linear. */
static int find_runs(finder *f)
{
    int prev0 = 0, prev1 = 0;
    for (int y = 0; y < f->h; y++) {
        const uint8_t *row = f->p + (size_t)y * f->w;
        int cur0 = (int)f->n_runs, k0 = prev0;
        for (int x = 0; x < f->w;) {
            if (row[x] >= INK) {
                x++;
                continue;
            }
            int x0 = x;
            while (x < f->w && row[x] < INK)
                x++;
            if (f->n_runs == f->cap_runs) {
                size_t cap = f->cap_runs ? f->cap_runs * 2 : 4096;
                run *nr = realloc(f->runs, cap * sizeof *nr);
                if (!nr)
                    return FW_ENOMEM;
                f->runs = nr;
                f->cap_runs = cap;
            }
            int me = (int)f->n_runs++;
            f->runs[me] = (run){y, x0, x, me};
            while (k0 < prev1 && f->runs[k0].x1 < x0)
                k0++;
            for (int k = k0; k < prev1 && f->runs[k].x0 <= x; k++) {
                int a = root_of(f->runs, k), b = root_of(f->runs, me);
                if (a != b)
                    f->runs[a > b ? a : b].parent = a < b ? a : b;
            }
        }
        prev0 = cur0;
        prev1 = (int)f->n_runs;
    }
    return 0;
}

/* One component per set of runs: its box, ink and run count. */
static int make_components(finder *f)
{
    int *id = malloc((f->n_runs + 1) * sizeof *id);
    if (!id)
        return FW_ENOMEM;
    for (size_t i = 0; i < f->n_runs; i++) {
        const run *r = &f->runs[i];
        int root = root_of(f->runs, (int)i);
        if (root == (int)i) { /* the first run of a new component */
            if (f->n == f->cap) {
                int cap = f->cap ? f->cap * 2 : 1024;
                comp *nc = realloc(f->c, (size_t)cap * sizeof *nc);
                if (!nc) {
                    free(id);
                    return FW_ENOMEM;
                }
                f->c = nc;
                f->cap = cap;
            }
            id[i] = f->n;
            f->c[f->n++] = (comp){r->x0, r->y, r->x1, r->y + 1, 0, 0, -1};
        }
        comp *k = &f->c[id[root]];
        k->x0 = r->x0 < k->x0 ? r->x0 : k->x0;
        k->x1 = r->x1 > k->x1 ? r->x1 : k->x1;
        k->y1 = r->y + 1;
        k->area += r->x1 - r->x0;
        k->runs++;
    }
    free(id);
    return 0;
}

static int chain_of(comp *c, int i)
{
    while (c[i].chain != i) {
        c[i].chain = c[c[i].chain].chain;
        i = c[i].chain;
    }
    return i;
}

static int by_x0(const void *a, const void *b, void *arg)
{
    const comp *c = arg;
    return c[*(const int *)a].x0 - c[*(const int *)b].x0;
}

/* Joins each char-like component with the ones to its right that could be the next
 * letter of the same line: a gap under the taller one's height, heights within 3x,
 * half of the lower one's height shared. Returns the number of char-like ones. */
static int chain(finder *f, int max_h)
{
    int m = 0;
    for (int i = 0; i < f->n; i++) {
        comp *k = &f->c[i];
        int w = k->x1 - k->x0, h = k->y1 - k->y0;
        if (h >= MIN_H && h <= max_h && w <= MAX_ASPECT * h) {
            k->chain = i;
            f->order[m++] = i;
        }
    }
    qsort_r(f->order, (size_t)m, sizeof *f->order, by_x0, f->c);
    for (int a = 0; a < m; a++) {
        const comp *i = &f->c[f->order[a]];
        int hi = i->y1 - i->y0;
        for (int b = a + 1; b < m; b++) {
            const comp *j = &f->c[f->order[b]];
            if (j->x0 > i->x1 + 3 * hi)
                break; /* sorted by x0: the rest are further */
            int hj = j->y1 - j->y0, lo = hi < hj ? hi : hj, hiv = hi > hj ? hi : hj;
            int top = i->y0 > j->y0 ? i->y0 : j->y0, bot = i->y1 < j->y1 ? i->y1 : j->y1;
            if (j->x0 == i->x0 || j->x0 - i->x1 > hiv || hiv > 3 * lo || 2 * (bot - top) < lo)
                continue;
            int ra = chain_of(f->c, f->order[a]), rb = chain_of(f->c, f->order[b]);
            if (ra != rb)
                f->c[ra > rb ? ra : rb].chain = ra < rb ? ra : rb;
        }
    }
    return m;
}

static long ink_in(const finder *f, int x0, int y0, int x1, int y1)
{
    x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > f->w ? f->w : x1, y1 = y1 > f->h ? f->h : y1;
    if (x1 <= x0 || y1 <= y0)
        return 0;
    size_t s = (size_t)f->w + 1;
    return (long)f->sum[y1 * s + x1] - f->sum[y0 * s + x1] - f->sum[y1 * s + x0] +
           f->sum[y0 * s + x0];
}

static int integrate(finder *f)
{
    size_t s = (size_t)f->w + 1;
    if (!(f->sum = calloc(s * (f->h + 1), sizeof *f->sum)))
        return FW_ENOMEM;
    for (int y = 0; y < f->h; y++) {
        uint32_t acc = 0;
        const uint8_t *row = f->p + (size_t)y * f->w;
        for (int x = 0; x < f->w; x++) {
            acc += row[x] < INK;
            f->sum[(y + 1) * s + x + 1] = f->sum[y * s + x + 1] + acc;
        }
    }
    return 0;
}

typedef struct row_acc {
    int x0, y0, x1, y1;
    int n, strokes;
    double sum_h;
    double sx, sy, sxx, sxy, syy; /* member centres, for the line through them */
} row_acc;

/* A stroke, as letters are made of (after the normalisation, which hollows wide
 * strokes): its horizontal runs are short against its height, or it fills little of
 * its box. A filled cell (a game of life's square) is neither. */
static int stroke(const comp *k)
{
    int w = k->x1 - k->x0, h = k->y1 - k->y0;
    return 100 * k->area <= STROKE_RUN * k->runs * h || 100 * k->area < STROKE_FILL * w * h;
}

/* Whether a chain of components looks like a line of text: at least two, mostly
 * strokes, their centres on a line, no higher than a line tilted by up to ~14 degrees,
 * not too much ink, and standing free: little ink around it that is not its own. */
static int text_like(const finder *f, const row_acc *r, fw_ocr_row *out)
{
    if (r->n < 2 || 100 * r->strokes < STROKE_SHARE * r->n)
        return 0;
    int hm = (int)(r->sum_h / r->n + 0.5), mx = hm / 2, my = hm * 3 / 10;
    double n = r->n, vx = r->sxx - r->sx * r->sx / n, vy = r->syy - r->sy * r->sy / n;
    double cxy = r->sxy - r->sx * r->sy / n;
    double res = vx > 0 ? vy - cxy * cxy / vx : vy; /* squared distances to the line */
    int bw = r->x1 - r->x0, bh = r->y1 - r->y0;
    if (sqrt((res > 0 ? res : 0) / n) > MAX_RMS * hm || bh > 2 * hm + bw / 4)
        return 0;
    long box = (long)bw * bh;
    long inside = ink_in(f, r->x0, r->y0, r->x1, r->y1);
    long ring = ink_in(f, r->x0 - mx, r->y0 - my, r->x1 + mx, r->y1 + my) - inside;
    long ring_area = (long)(bw + 2 * mx) * (bh + 2 * my) - box;
    if (100 * inside > MAX_INSIDE * box || 100 * ring > RING_MAX * ring_area)
        return 0;
    *out = (fw_ocr_row){r->x0, r->y0, r->x1, r->y1, r->n, hm, vx > 0 ? cxy / vx : 0};
    return 1;
}

/* The text-like rows of the chains, into out->rows. */
static int rows(const finder *f, fw_ocr_text *out)
{
    int *slot = malloc((size_t)(f->n + 1) * sizeof *slot);
    row_acc *acc = calloc((size_t)f->n + 1, sizeof *acc);
    int n_acc = 0, cap = 0, rc = 0;
    if (!slot || !acc) {
        rc = FW_ENOMEM;
        goto done;
    }
    for (int i = 0; i < f->n; i++) {
        const comp *k = &f->c[i];
        slot[i] = -1;
        if (k->chain < 0)
            continue;
        int root = chain_of(f->c, i); /* <= i: its slot is set */
        row_acc *r;
        if (root == i) {
            slot[i] = n_acc;
            r = &acc[n_acc++];
            *r = (row_acc){.x0 = k->x0, .y0 = k->y0, .x1 = k->x1, .y1 = k->y1};
        } else {
            r = &acc[slot[root]];
        }
        r->x0 = k->x0 < r->x0 ? k->x0 : r->x0;
        r->y0 = k->y0 < r->y0 ? k->y0 : r->y0;
        r->x1 = k->x1 > r->x1 ? k->x1 : r->x1;
        r->y1 = k->y1 > r->y1 ? k->y1 : r->y1;
        r->n++;
        r->strokes += stroke(k);
        r->sum_h += k->y1 - k->y0;
        double cx = (k->x0 + k->x1) / 2.0, cy = (k->y0 + k->y1) / 2.0;
        r->sx += cx, r->sy += cy, r->sxx += cx * cx, r->sxy += cx * cy, r->syy += cy * cy;
    }
    for (int i = 0; i < n_acc; i++) {
        fw_ocr_row row;
        out->n_chains += acc[i].n >= 2;
        if (!text_like(f, &acc[i], &row))
            continue;
        if (out->n_rows == cap) {
            cap = cap ? cap * 2 : 16;
            fw_ocr_row *nr = realloc(out->rows, (size_t)cap * sizeof *nr);
            if (!nr) {
                rc = FW_ENOMEM;
                goto done;
            }
            out->rows = nr;
        }
        out->rows[out->n_rows++] = row;
    }
done:
    free(slot);
    free(acc);
    return rc;
}

/* Marks each tile: 1 near a text-like row, 2 textured (busy with ink: the centres of
 * many components, or much ink, and no such row near), 0 otherwise. */
static void mark_tiles(const finder *f, const fw_ocr_text *out, int tw, int th, int *count,
                       uint8_t *mark)
{
    for (int i = 0; i < f->n; i++) {
        const comp *k = &f->c[i];
        count[(size_t)((k->y0 + k->y1) / 2 / TILE) * tw + (k->x0 + k->x1) / 2 / TILE]++;
    }
    for (int i = 0; i < out->n_rows; i++) {
        const fw_ocr_row *r = &out->rows[i];
        int m = ROW_MARGIN * r->h;
        int tx0 = (r->x0 - m) / TILE, ty0 = (r->y0 - m) / TILE;
        int tx1 = (r->x1 + m) / TILE, ty1 = (r->y1 + m) / TILE;
        for (int ty = ty0 < 0 ? 0 : ty0; ty <= ty1 && ty < th; ty++)
            for (int tx = tx0 < 0 ? 0 : tx0; tx <= tx1 && tx < tw; tx++)
                mark[(size_t)ty * tw + tx] = 1;
    }
    for (int ty = 0; ty < th; ty++)
        for (int tx = 0; tx < tw; tx++) {
            size_t t = (size_t)ty * tw + tx;
            int x0 = tx * TILE, y0 = ty * TILE;
            int x1 = x0 + TILE > f->w ? f->w : x0 + TILE, y1 = y0 + TILE > f->h ? f->h : y0 + TILE;
            long ink = ink_in(f, x0, y0, x1, y1), area = (long)(x1 - x0) * (y1 - y0);
            if (!mark[t] && ink && (count[t] >= BUSY_COMPS || 100 * ink >= BUSY_INK * area))
                mark[t] = 2;
        }
}

/* On a picture that is texture, blanks every tile no text-like row reaches. Only
 * there: on a screen, blanking the few busy tiles next to its text changed what
 * Tesseract read of that text. */
static int clear_texture(const finder *f, uint8_t *p, fw_ocr_text *out)
{
    int tw = (f->w + TILE - 1) / TILE, th = (f->h + TILE - 1) / TILE;
    size_t nt = (size_t)tw * th;
    int *count = calloc(nt, sizeof *count);
    uint8_t *mark = calloc(nt, 1);
    if (!count || !mark) {
        free(count);
        free(mark);
        return FW_ENOMEM;
    }
    mark_tiles(f, out, tw, th, count, mark);
    out->n_tiles = (int)nt;
    for (size_t t = 0; t < nt; t++)
        out->n_textured += mark[t] == 2;
    int textured = 100L * out->n_textured >= TEXTURE_SHARE * (long)nt;
    int few_rows = out->n_chains >= MANY_CHAINS && 100 * out->n_rows < ROW_SHARE * out->n_chains;
    for (size_t t = 0; (textured || few_rows) && t < nt; t++) {
        if (mark[t] == 1)
            continue;
        int x0 = (int)(t % tw) * TILE, y0 = (int)(t / tw) * TILE;
        int x1 = x0 + TILE > f->w ? f->w : x0 + TILE, y1 = y0 + TILE > f->h ? f->h : y0 + TILE;
        for (int y = y0; y < y1; y++)
            memset(p + (size_t)y * f->w + x0, 255, (size_t)(x1 - x0));
        out->n_blanked++;
    }
    free(count);
    free(mark);
    return 0;
}

int fw_ocr_find_text(uint8_t *p, int w, int h, fw_ocr_text *out)
{
    memset(out, 0, sizeof *out);
    finder f = {.p = p, .w = w, .h = h};
    int rc = find_runs(&f);
    if (!rc)
        rc = make_components(&f);
    free(f.runs);
    if (!rc)
        rc = integrate(&f);
    if (!rc && !(f.order = malloc((size_t)(f.n + 1) * sizeof *f.order)))
        rc = FW_ENOMEM;
    if (!rc) {
        out->n_components = f.n;
        chain(&f, h / 2 > MIN_H ? h / 2 : MIN_H);
        rc = rows(&f, out);
    }
    if (!rc)
        rc = clear_texture(&f, p, out);
    free(f.c);
    free(f.order);
    free(f.sum);
    if (rc)
        fw_ocr_text_free(out);
    return rc;
}

void fw_ocr_text_free(fw_ocr_text *t)
{
    free(t->rows);
    memset(t, 0, sizeof *t);
}

int fw_ocr_keep_rows(uint8_t *p, int w, int h, const fw_ocr_row *rows, int n, int min_h, int min_n)
{
    uint8_t *keep = calloc((size_t)w * h, 1);
    int kept = 0;
    if (!keep)
        return FW_ENOMEM;
    for (int i = 0; i < n; i++) {
        const fw_ocr_row *r = &rows[i];
        if (r->h < min_h || r->n < min_n)
            continue;
        int m = ROW_MARGIN * r->h;
        int x0 = r->x0 - m < 0 ? 0 : r->x0 - m, x1 = r->x1 + m > w ? w : r->x1 + m;
        int y0 = r->y0 - m < 0 ? 0 : r->y0 - m, y1 = r->y1 + m > h ? h : r->y1 + m;
        for (int y = y0; y < y1; y++)
            memset(keep + (size_t)y * w + x0, 1, (size_t)(x1 - x0));
        kept++;
    }
    for (size_t i = 0; i < (size_t)w * h; i++)
        if (!keep[i])
            p[i] = 255;
    free(keep);
    return kept;
}
