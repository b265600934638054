/* Segments: adjacent usable observations whose texts say the same thing, found as the
 * moments come (fw_segmenter) with memory bounded by the open segment's distinct texts;
 * fw_segments is the same walk over a whole list. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuse/fuse.h"

#define MAX_CANDIDATES 256 /* distinct texts of the open segment that may represent it */

typedef struct candidate {
    char *text;
    int id, keyframe;
    float *vec;
} candidate;

struct fw_segmenter {
    int dim;
    double threshold;
    int index; /* the next segment's */
    /* the open segment */
    int open, n, cap; /* members: ids and keyframes */
    int *ids, *kfs;
    double start_s, last_s, conf;
    float *sum; /* of its vectors */
    candidate cand[MAX_CANDIDATES];
    int n_cand;
};

fw_segmenter *fw_segmenter_new(int dim, double threshold)
{
    fw_segmenter *g = calloc(1, sizeof *g);
    if (!g || !(g->sum = calloc((size_t)(dim > 0 ? dim : 1), sizeof *g->sum))) {
        free(g);
        return NULL;
    }
    g->dim = dim > 0 ? dim : 1;
    g->threshold = threshold;
    return g;
}

static void drop_open(fw_segmenter *g)
{
    for (int i = 0; i < g->n_cand; i++) {
        free(g->cand[i].text);
        free(g->cand[i].vec);
    }
    g->n_cand = 0;
    g->n = 0;
    g->open = 0;
    g->conf = 0;
    memset(g->sum, 0, (size_t)g->dim * sizeof *g->sum);
}

void fw_segmenter_free(fw_segmenter *g)
{
    if (!g)
        return;
    drop_open(g);
    free(g->ids);
    free(g->kfs);
    free(g->sum);
    free(g);
}

void fw_seg_clear(fw_seg *s)
{
    free(s->ids);
    free(s->keyframes);
    free(s->text);
    free(s->vec);
    memset(s, 0, sizeof *s);
}

/* The candidate closest (summed cosine) to the other members: a member's sum is its
 * vector against the segment's sum, less itself; ties (within 1e-6) go to the longer
 * text, then to the first seen. */
static const candidate *representative(const fw_segmenter *g)
{
    const candidate *best = &g->cand[0];
    double best_sum = -1e9;
    for (int c = 0; c < g->n_cand; c++) {
        const float *v = g->cand[c].vec;
        double sum = 0, self = 0;
        for (int d = 0; d < g->dim; d++) {
            sum += (double)v[d] * g->sum[d];
            self += (double)v[d] * v[d];
        }
        sum -= self;
        if (sum > best_sum + 1e-6 ||
            (sum > best_sum - 1e-6 && strlen(g->cand[c].text) > strlen(best->text))) {
            best_sum = sum;
            best = &g->cand[c];
        }
    }
    return best;
}

/* The open segment as a fw_seg ending at end_s (copies); 0 or FW_ENOMEM. */
static int describe(const fw_segmenter *g, double end_s, fw_seg *out)
{
    memset(out, 0, sizeof *out);
    const candidate *rep = representative(g);
    out->index = g->index;
    out->start_s = g->start_s;
    out->end_s = end_s;
    out->n_members = g->n;
    out->confidence = g->conf / g->n;
    out->keyframe = rep->keyframe;
    out->rep_id = rep->id;
    out->ids = malloc((size_t)g->n * sizeof *out->ids);
    out->keyframes = malloc((size_t)g->n * sizeof *out->keyframes);
    out->text = strdup(rep->text);
    out->vec = malloc((size_t)g->dim * sizeof *out->vec);
    if (!out->ids || !out->keyframes || !out->text || !out->vec) {
        fw_seg_clear(out);
        return FW_ENOMEM;
    }
    memcpy(out->ids, g->ids, (size_t)g->n * sizeof *out->ids);
    memcpy(out->keyframes, g->kfs, (size_t)g->n * sizeof *out->keyframes);
    memcpy(out->vec, rep->vec, (size_t)g->dim * sizeof *out->vec);
    return 0;
}

static int add_member(fw_segmenter *g, const fw_moment *m, int id, const float *v)
{
    if (g->n == g->cap) {
        int cap = g->cap ? g->cap * 2 : 16;
        int *ids = realloc(g->ids, (size_t)cap * sizeof *ids);
        if (ids)
            g->ids = ids;
        int *kfs = ids ? realloc(g->kfs, (size_t)cap * sizeof *kfs) : NULL;
        if (!kfs)
            return FW_ENOMEM;
        g->kfs = kfs;
        g->cap = cap;
    }
    if (!g->open) {
        g->open = 1;
        g->start_s = m->time_s;
    }
    g->ids[g->n] = id;
    g->kfs[g->n] = m->keyframe;
    g->n++;
    g->last_s = m->time_s;
    g->conf += m->confidence;
    for (int d = 0; d < g->dim; d++)
        g->sum[d] += v[d];
    int seen = 0;
    for (int c = 0; c < g->n_cand && !seen; c++)
        seen = strcmp(g->cand[c].text, m->text) == 0;
    if (seen || g->n_cand == MAX_CANDIDATES)
        return 0;
    candidate *c = &g->cand[g->n_cand];
    c->text = strdup(m->text);
    c->vec = malloc((size_t)g->dim * sizeof *c->vec);
    if (!c->text || !c->vec) {
        free(c->text);
        free(c->vec);
        return FW_ENOMEM;
    }
    memcpy(c->vec, v, (size_t)g->dim * sizeof *c->vec);
    c->id = id;
    c->keyframe = m->keyframe;
    g->n_cand++;
    return 0;
}

int fw_segmenter_push(fw_segmenter *g, const fw_moment *m, int id, const float *v, fw_seg *closed)
{
    memset(closed, 0, sizeof *closed);
    int joins = 0;
    if (g->open) {
        double norm = 0, dot = 0;
        for (int d = 0; d < g->dim; d++) {
            norm += (double)g->sum[d] * g->sum[d];
            dot += (double)g->sum[d] * v[d];
        }
        joins = norm > 0 && dot / sqrt(norm) >= g->threshold;
    }
    int got = 0;
    if (g->open && !joins) { /* it ends where this one begins */
        if (describe(g, m->time_s, closed))
            return FW_ENOMEM;
        g->index++;
        drop_open(g);
        got = 1;
    }
    if (add_member(g, m, id, v)) {
        if (got)
            fw_seg_clear(closed);
        return FW_ENOMEM;
    }
    return got;
}

int fw_segmenter_peek(const fw_segmenter *g, double end_s, fw_seg *out)
{
    memset(out, 0, sizeof *out);
    if (!g->open)
        return 0;
    return describe(g, end_s > g->last_s ? end_s : g->last_s, out) ? FW_ENOMEM : 1;
}

int fw_segmenter_end(fw_segmenter *g, double end_s, fw_seg *out)
{
    int rc = fw_segmenter_peek(g, end_s, out);
    if (rc == 1) {
        g->index++;
        drop_open(g);
    }
    return rc;
}

int fw_segmenter_count(const fw_segmenter *g)
{
    return g->index;
}

/* ---- a whole list ---- */

void fw_segments_free(fw_segment *s, int n)
{
    for (int i = 0; s && i < n; i++)
        free(s[i].members);
    free(s);
}

static void take(fw_segment *to, fw_seg *from)
{
    *to = (fw_segment){from->start_s,   from->end_s,  from->ids,
                       from->n_members, from->rep_id, from->confidence};
    from->ids = NULL;
    fw_seg_clear(from);
}

int fw_segments(const fw_moment *m, int n, const float *emb, int dim, double threshold,
                double end_s, fw_segment **out, int *n_out)
{
    *out = NULL;
    *n_out = 0;
    fw_segment *segs = calloc(n ? (size_t)n : 1, sizeof *segs);
    fw_segmenter *g = fw_segmenter_new(dim, threshold);
    int ns = 0, rc = segs && g ? 0 : FW_ENOMEM;
    double last = 0;
    for (int i = 0; i < n && !rc; i++) {
        if (!m[i].usable)
            continue;
        fw_seg s;
        int got = fw_segmenter_push(g, &m[i], i, emb + (size_t)i * dim, &s);
        if (got < 0)
            rc = got;
        else if (got)
            take(&segs[ns++], &s);
        last = m[i].time_s;
    }
    fw_seg s;
    int got = rc ? 0 : fw_segmenter_end(g, end_s > last ? end_s : last, &s);
    if (got < 0)
        rc = got;
    else if (got)
        take(&segs[ns++], &s);
    fw_segmenter_free(g);
    if (rc) {
        fw_segments_free(segs, ns);
        return FW_ENOMEM;
    }
    *out = segs;
    *n_out = ns;
    return 0;
}
