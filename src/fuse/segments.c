/* Segments: adjacent usable observations whose texts say the same thing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuse/fuse.h"

void fw_segments_free(fw_segment *s, int n)
{
    for (int i = 0; s && i < n; i++)
        free(s[i].members);
    free(s);
}

/* The member closest (summed cosine) to the others: the segment's text. */
static int representative(const fw_moment *m, const fw_segment *g, const float *emb, int dim)
{
    int best = g->members[0];
    double best_sum = -1e9;
    for (int a = 0; a < g->n_members; a++) {
        double sum = 0;
        for (int b = 0; b < g->n_members; b++)
            if (a != b)
                sum += fw_cosine(emb + (size_t)g->members[a] * dim,
                                 emb + (size_t)g->members[b] * dim, dim);
        /* ties (two members) go to the longer text: it says more */
        if (sum > best_sum + 1e-6 ||
            (sum > best_sum - 1e-6 && strlen(m[g->members[a]].text) > strlen(m[best].text))) {
            best_sum = sum;
            best = g->members[a];
        }
    }
    return best;
}

int fw_segments(const fw_moment *m, int n, const float *emb, int dim, double threshold,
                double end_s, fw_segment **out, int *n_out)
{
    *out = NULL;
    *n_out = 0;
    fw_segment *segs = calloc(n ? (size_t)n : 1, sizeof *segs);
    float *mean = calloc((size_t)dim, sizeof *mean); /* sum of the open segment's vectors */
    int *members = malloc((n ? (size_t)n : 1) * sizeof *members);
    if (!segs || !mean || !members) {
        free(segs);
        free(mean);
        free(members);
        return FW_ENOMEM;
    }
    int ns = 0, open = 0, used = 0; /* members[open..used) belong to the open segment */
    for (int i = 0; i < n; i++) {
        if (!m[i].usable)
            continue;
        const float *v = emb + (size_t)i * dim;
        double norm = 0, dot = 0;
        for (int d = 0; d < dim; d++) {
            norm += (double)mean[d] * mean[d];
            dot += (double)mean[d] * v[d];
        }
        int joins = used > open && norm > 0 && dot / sqrt(norm) >= threshold;
        if (used > open && !joins) { /* close the open segment */
            segs[ns].n_members = used - open;
            ns++;
            open = used;
            memset(mean, 0, (size_t)dim * sizeof *mean);
        }
        members[used++] = i;
        for (int d = 0; d < dim; d++)
            mean[d] += v[d];
    }
    if (used > open)
        segs[ns++].n_members = used - open;
    free(mean);
    int at = 0;
    for (int s = 0; s < ns; s++) {
        fw_segment *g = &segs[s];
        g->members = malloc((size_t)g->n_members * sizeof *g->members);
        if (!g->members) {
            fw_segments_free(segs, ns);
            free(members);
            return FW_ENOMEM;
        }
        memcpy(g->members, members + at, (size_t)g->n_members * sizeof *g->members);
        at += g->n_members;
        g->start_s = m[g->members[0]].time_s;
        double c = 0;
        for (int k = 0; k < g->n_members; k++)
            c += m[g->members[k]].confidence;
        g->confidence = c / g->n_members;
        g->rep = representative(m, g, emb, dim);
    }
    for (int s = 0; s < ns; s++) {
        double last = m[segs[s].members[segs[s].n_members - 1]].time_s;
        segs[s].end_s = s + 1 < ns ? segs[s + 1].start_s : end_s > last ? end_s : last;
    }
    free(members);
    *out = segs;
    *n_out = ns;
    return 0;
}
