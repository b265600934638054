/* Changed regions between two grey maps: blocks whose pixels moved by more than JPEG and
 * video noise, grouped into boxes. */
#include "analyze/change.h"

#include <stdlib.h>
#include <string.h>

#define BLOCK 4
#define PIXEL_DIFF 40 /* a pixel changed (luma + chroma): over what re-encoding noise moves */
#define MIN_PIXELS 2  /* a block changed: at least this many of its 16 pixels */
#define INK 32        /* a block's contrast (max - min) when something is drawn in it */
#define GB (FW_MAP_W / BLOCK)

int fw_map_height(int width, int height)
{
    int h = width > 0 ? (int)((long)FW_MAP_W * height / width) : FW_MAP_W;
    return h < 8 ? 8 : h > FW_MAP_W ? FW_MAP_W : h;
}

typedef struct box {
    int x0, y0, x1, y1; /* blocks, inclusive */
} box;

static int near(const box *a, const box *b)
{
    /* touching or one block apart */
    return a->x0 <= b->x1 + 2 && b->x0 <= a->x1 + 2 && a->y0 <= b->y1 + 2 && b->y0 <= a->y1 + 2;
}

static void join(box *a, const box *b)
{
    a->x0 = a->x0 < b->x0 ? a->x0 : b->x0;
    a->y0 = a->y0 < b->y0 ? a->y0 : b->y0;
    a->x1 = a->x1 > b->x1 ? a->x1 : b->x1;
    a->y1 = a->y1 > b->y1 ? a->y1 : b->y1;
}

/* Boxes that are near each other merged (joined boxes may be near others): the count. */
static int merge_near(box *b, int n)
{
    for (int merged = 1; merged;) {
        merged = 0;
        for (int i = 0; i < n && !merged; i++)
            for (int j = i + 1; j < n && !merged; j++)
                if (near(&b[i], &b[j])) {
                    join(&b[i], &b[j]);
                    b[j] = b[--n];
                    merged = 1;
                }
    }
    return n;
}

/* Boxes of changed blocks: each block starts a box, boxes that are near merge. */
static int boxes_of(const uint8_t *changed, int bw, int bh, box *out, int cap)
{
    int n = 0;
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) {
            if (!changed[y * bw + x])
                continue;
            box b = {x, y, x, y};
            int i = 0;
            for (; i < n; i++)
                if (near(&out[i], &b))
                    break;
            if (i < n)
                join(&out[i], &b);
            else if (n < cap)
                out[n++] = b;
            else
                join(&out[n - 1], &b);
        }
    return merge_near(out, n);
}

/* 1 when block (bx, by) of map m holds ink: something drawn, not background. */
static int ink(const uint8_t *m, int w, int bx, int by)
{
    int lo = 255, hi = 0;
    for (int y = by * BLOCK; y < by * BLOCK + BLOCK; y++)
        for (int x = bx * BLOCK; x < bx * BLOCK + BLOCK; x++) {
            int v = m[y * w + x];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    return hi - lo > INK;
}

static int column_inked(const uint8_t *m, int w, int bx, int y0, int y1)
{
    for (int by = y0; by <= y1; by++)
        if (ink(m, w, bx, by))
            return 1;
    return 0;
}

/* A box grown sideways along the ink of its rows (gaps of one block: word spaces), so
 * that a changed word comes with the rest of its line. */
static void grow_along_line(box *g, const uint8_t *m, int w, int bw)
{
    for (int dir = -1; dir <= 1; dir += 2)
        for (int gap = 0;;) {
            int x = dir < 0 ? g->x0 - 1 - gap : g->x1 + 1 + gap;
            if (x < 0 || x >= bw)
                break;
            if (column_inked(m, w, x, g->y0, g->y1)) {
                *(dir < 0 ? &g->x0 : &g->x1) = x;
                gap = 0;
            } else if (++gap > 1)
                break;
        }
}

int fw_change_regions(const uint8_t *a, const uint8_t *b, int w, int h, fw_region *out, int max,
                      double *area)
{
    int bw = w / BLOCK, bh = h / BLOCK;
    uint8_t changed[GB * GB];
    memset(changed, 0, sizeof changed);
    for (int by = 0; by < bh; by++)
        for (int bx = 0; bx < bw; bx++) {
            int count = 0;
            for (int y = by * BLOCK; y < by * BLOCK + BLOCK; y++)
                for (int x = bx * BLOCK; x < bx * BLOCK + BLOCK; x++) {
                    size_t i = (size_t)y * w + x, plane = (size_t)w * h;
                    int d = abs(a[i] - b[i]) + abs(a[i + plane] - b[i + plane]) +
                            abs(a[i + 2 * plane] - b[i + 2 * plane]);
                    count += d > PIXEL_DIFF;
                }
            changed[by * bw + bx] = count >= MIN_PIXELS;
        }
    box boxes[64];
    int n = boxes_of(changed, bw, bh, boxes, 64);
    for (int i = 0; i < n; i++)
        grow_along_line(&boxes[i], b, w, bw);
    n = merge_near(boxes, n);
    while (n > max) { /* too many: the last two merge */
        join(&boxes[n - 2], &boxes[n - 1]);
        n--;
    }
    *area = 0;
    for (int i = 0; i < n; i++) {
        box g = boxes[i]; /* one block of margin */
        g.x0 = g.x0 > 0 ? g.x0 - 1 : 0;
        g.y0 = g.y0 > 0 ? g.y0 - 1 : 0;
        g.x1 = g.x1 < bw - 1 ? g.x1 + 1 : bw - 1;
        g.y1 = g.y1 < bh - 1 ? g.y1 + 1 : bh - 1;
        out[i] = (fw_region){(double)g.x0 / bw, (double)g.y0 / bh, (double)(g.x1 - g.x0 + 1) / bw,
                             (double)(g.y1 - g.y0 + 1) / bh};
        *area += out[i].w * out[i].h;
    }
    return n;
}
