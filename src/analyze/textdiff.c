/* The text timeline: which lines appeared, disappeared or were edited between two
 * keyframes, tolerant of the small misreadings OCR makes from frame to frame. */
#include <stdlib.h>
#include <string.h>

#include "analyze/local.h"
#include "core/utf8.h"

#define MAX_CP 512

/* Folds a line into the code points that matter for comparing readings. */
static int fold(const char *text, unsigned *out)
{
    int n = 0;
    const char *s = text;
    while (*s && n < MAX_CP) {
        unsigned cp = fw_utf8_next(&s);
        if (cp >= 0xff01 && cp <= 0xff5e) /* full-width ASCII */
            cp -= 0xfee0;
        if (cp >= 'A' && cp <= 'Z')
            cp += 'a' - 'A';
        if (cp == '0')
            cp = 'o';
        else if (cp == '1' || cp == 'l' || cp == '|' || cp == '!')
            cp = 'i';
        else if (cp == '5')
            cp = 's';
        int keep = (cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9') ||
                   (cp >= 0xc0 && cp != 0xd7 && cp != 0xf7 && !(cp >= 0x2000 && cp <= 0x206f) &&
                    !(cp >= 0x3000 && cp <= 0x303f) && !(cp >= 0xff00 && cp <= 0xff0f));
        if (keep)
            out[n++] = cp;
    }
    return n;
}

static int edit_distance(const unsigned *a, int na, const unsigned *b, int nb)
{
    int row[MAX_CP + 1];
    for (int j = 0; j <= nb; j++)
        row[j] = j;
    for (int i = 1; i <= na; i++) {
        int diag = row[0];
        row[0] = i;
        for (int j = 1; j <= nb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

typedef struct folded {
    unsigned cp[MAX_CP];
    int n;
} folded;

static double similarity(const folded *a, const folded *b)
{
    int longer = a->n > b->n ? a->n : b->n;
    if (longer == 0)
        return 1.0;
    return 1.0 - (double)edit_distance(a->cp, a->n, b->cp, b->n) / longer;
}

double fw_text_similarity(const char *a, const char *b)
{
    folded fa, fb;
    fa.n = fold(a, fa.cp);
    fb.n = fold(b, fb.cp);
    return similarity(&fa, &fb);
}

/* a is the start of b (or b of a): a line being typed */
static int is_prefix(const folded *a, const folded *b)
{
    int n = a->n < b->n ? a->n : b->n;
    return n >= 2 && memcmp(a->cp, b->cp, (size_t)n * sizeof *a->cp) == 0;
}

/* The unused previous line most similar to current line i, at least min similar (or,
 * with typing, one the start of the other); -1 when none. */
static int pick(const double *sim, const char *typing, int i, int n_prev, const char *used,
                double min, int allow_typing)
{
    int best = -1;
    double best_sim = -1;
    for (int j = 0; j < n_prev; j++) {
        double s = sim[(size_t)i * n_prev + j];
        int ok = s >= min || (allow_typing && typing[(size_t)i * n_prev + j]);
        if (!used[j] && ok && s >= best_sim) {
            best_sim = s;
            best = j;
        }
    }
    return best;
}

void fw_text_diff(const char *const *prev, int n_prev, const char *const *cur, int n_cur,
                  json_t *fields)
{
    size_t pairs = (size_t)n_cur * n_prev + 1;
    char *used_prev = calloc((size_t)n_prev + 1, 1), *matched = calloc((size_t)n_cur + 1, 1);
    folded *fp = malloc(((size_t)n_prev + 1) * sizeof *fp);
    folded *fc = malloc(((size_t)n_cur + 1) * sizeof *fc);
    double *sim = malloc(pairs * sizeof *sim);
    char *typing = malloc(pairs);
    json_t *added = json_array(), *removed = json_array(), *changed = json_array();
    if (used_prev && matched && fp && fc && sim && typing) {
        /* each line folded once, each pair compared once */
        for (int j = 0; j < n_prev; j++)
            fp[j].n = fold(prev[j], fp[j].cp);
        for (int i = 0; i < n_cur; i++) {
            fc[i].n = fold(cur[i], fc[i].cp);
            for (int j = 0; j < n_prev; j++) {
                sim[(size_t)i * n_prev + j] = similarity(&fc[i], &fp[j]);
                typing[(size_t)i * n_prev + j] = (char)is_prefix(&fp[j], &fc[i]);
            }
        }
        /* the same line: the most similar unused previous line over FW_TEXT_SAME */
        for (int i = 0; i < n_cur; i++) {
            int j = pick(sim, typing, i, n_prev, used_prev, FW_TEXT_SAME, 0);
            if (j >= 0)
                used_prev[j] = matched[i] = 1;
        }
        /* edited in place: similar enough, or one is the start of the other */
        for (int i = 0; i < n_cur; i++) {
            int j = matched[i] ? -1 : pick(sim, typing, i, n_prev, used_prev, FW_TEXT_EDIT, 1);
            if (j < 0)
                continue;
            used_prev[j] = matched[i] = 1;
            json_array_append_new(changed, json_pack("{s:s,s:s}", "from", prev[j], "to", cur[i]));
        }
        for (int i = 0; i < n_cur; i++)
            if (!matched[i])
                json_array_append_new(added, json_string(cur[i]));
        for (int j = 0; j < n_prev; j++)
            if (!used_prev[j])
                json_array_append_new(removed, json_string(prev[j]));
    }
    free(used_prev);
    free(matched);
    free(fp);
    free(fc);
    free(sim);
    free(typing);
    json_object_set_new(fields, "text_added", added);
    json_object_set_new(fields, "text_removed", removed);
    json_object_set_new(fields, "text_changed", changed);
}
