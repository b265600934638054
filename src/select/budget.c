/* The whole-video budget: when more than max frames are kept, the one whose
 * content is closest to a neighbour's (so the least is lost by dropping it) goes. */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "select/select.h"

typedef struct entry {
    long id;
    fw_sig sig;
    int is_cut, protect;
} entry;

struct fw_budget {
    int max;
    int n;
    entry *e; /* max + 1 entries, in time order */
};

fw_budget *fw_budget_new(int max_frames)
{
    fw_budget *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->max = max_frames;
    b->e = calloc((size_t)max_frames + 1, sizeof *b->e);
    if (!b->e) {
        free(b);
        return NULL;
    }
    return b;
}

void fw_budget_free(fw_budget *b)
{
    if (!b)
        return;
    free(b->e);
    free(b);
}

/* How much is lost by dropping entry i: its distance to the closer neighbour, with a
 * bonus for a cut (a new shot). */
static double novelty(const fw_budget *b, int i)
{
    double best = DBL_MAX;
    for (int j = i - 1; j <= i + 1; j += 2) {
        if (j < 0 || j >= b->n)
            continue;
        double d = fw_sig_novelty(&b->e[i].sig, &b->e[j].sig);
        if (d < best)
            best = d;
    }
    return best + (b->e[i].is_cut ? FW_CUT_NOVELTY : 0);
}

long fw_budget_add(fw_budget *b, long id, const fw_sig *sig, int is_cut, int protect)
{
    entry *e = &b->e[b->n++];
    e->id = id;
    e->sig = *sig;
    e->is_cut = is_cut;
    e->protect = protect;
    if (b->n <= b->max)
        return -1;
    int worst = -1;
    double worst_v = DBL_MAX;
    for (int i = 0; i < b->n; i++) {
        if (b->e[i].protect)
            continue;
        double v = novelty(b, i);
        if (v < worst_v) {
            worst_v = v;
            worst = i;
        }
    }
    if (worst < 0) /* everything protected: drop the newest */
        worst = b->n - 1;
    long dropped = b->e[worst].id;
    memmove(&b->e[worst], &b->e[worst + 1], (size_t)(b->n - worst - 1) * sizeof *b->e);
    b->n--;
    return dropped;
}
