/* The text timeline: which lines appeared, disappeared or were edited between two
 * keyframes, tolerant of the small misreadings OCR makes from frame to frame. */
#include <stdlib.h>
#include <string.h>

#include "analyze/local.h"

#define MAX_CP 512

static unsigned next_cp(const unsigned char **s)
{
    const unsigned char *u = *s;
    if (u[0] < 0x80) {
        *s += 1;
        return u[0];
    }
    int n = u[0] >= 0xf0 ? 4 : u[0] >= 0xe0 ? 3 : u[0] >= 0xc0 ? 2 : 1;
    unsigned cp = n == 1 ? 0xfffd : u[0] & (0x3f >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((u[i] & 0xc0) != 0x80) {
            *s += i;
            return 0xfffd;
        }
        cp = cp << 6 | (u[i] & 0x3f);
    }
    *s += n;
    return cp;
}

/* Folds a line into the code points that matter for comparing readings. */
static int fold(const char *text, unsigned *out)
{
    int n = 0;
    const unsigned char *s = (const unsigned char *)text;
    while (*s && n < MAX_CP) {
        unsigned cp = next_cp(&s);
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

double fw_text_similarity(const char *a, const char *b)
{
    unsigned fa[MAX_CP], fb[MAX_CP];
    int na = fold(a, fa), nb = fold(b, fb);
    int longer = na > nb ? na : nb;
    if (longer == 0)
        return 1.0;
    return 1.0 - (double)edit_distance(fa, na, fb, nb) / longer;
}

/* a is the start of b (or b of a) once folded: a line being typed */
static int is_prefix(const char *a, const char *b)
{
    unsigned fa[MAX_CP], fb[MAX_CP];
    int na = fold(a, fa), nb = fold(b, fb);
    int n = na < nb ? na : nb;
    return n >= 2 && memcmp(fa, fb, (size_t)n * sizeof *fa) == 0;
}

void fw_text_diff(const char *const *prev, int n_prev, const char *const *cur, int n_cur,
                  json_t *fields)
{
    char *used_prev = calloc((size_t)n_prev + 1, 1), *matched = calloc((size_t)n_cur + 1, 1);
    json_t *added = json_array(), *removed = json_array(), *changed = json_array();
    if (used_prev && matched) {
        /* the same line: the most similar unused previous line over FW_TEXT_SAME */
        for (int i = 0; i < n_cur; i++) {
            int best = -1;
            double best_sim = FW_TEXT_SAME;
            for (int j = 0; j < n_prev; j++) {
                if (used_prev[j])
                    continue;
                double s = fw_text_similarity(cur[i], prev[j]);
                if (s >= best_sim) {
                    best_sim = s;
                    best = j;
                }
            }
            if (best >= 0) {
                used_prev[best] = 1;
                matched[i] = 1;
            }
        }
        /* edited in place: similar enough, or one is the start of the other */
        for (int i = 0; i < n_cur; i++) {
            if (matched[i])
                continue;
            int best = -1;
            double best_sim = 0;
            for (int j = 0; j < n_prev; j++) {
                if (used_prev[j])
                    continue;
                double s = fw_text_similarity(cur[i], prev[j]);
                if ((s >= FW_TEXT_EDIT || is_prefix(prev[j], cur[i])) && s >= best_sim) {
                    best_sim = s;
                    best = j;
                }
            }
            if (best >= 0) {
                used_prev[best] = 1;
                matched[i] = 1;
                json_array_append_new(changed,
                                      json_pack("{s:s,s:s}", "from", prev[best], "to", cur[i]));
            }
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
    json_object_set_new(fields, "text_added", added);
    json_object_set_new(fields, "text_removed", removed);
    json_object_set_new(fields, "text_changed", changed);
}
