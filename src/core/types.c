#include "core/types.h"

#include <stdlib.h>

double fw_sig_distance(const fw_sig *a, const fw_sig *b)
{
    long luma = 0, chroma = 0;
    for (int i = 0; i < FW_SIG_W * FW_SIG_H; i++) {
        luma += abs((int)a->v[i] - (int)b->v[i]);
        chroma += abs((int)a->cb[i] - (int)b->cb[i]) + abs((int)a->cr[i] - (int)b->cr[i]);
    }
    return (luma + chroma / 2.0) / (FW_SIG_W * FW_SIG_H);
}

int fw_hash_distance(uint64_t a, uint64_t b)
{
    return __builtin_popcountll(a ^ b);
}

int fw_fine_cells_differ(const uint8_t *a, const uint8_t *b, int peak, int mean, int limit,
                         const uint8_t *skip)
{
    const int cw = FW_FINE_W / FW_FINE_CELL;
    int n = 0;
    for (int cy = 0; cy < FW_FINE_H / FW_FINE_CELL && n < limit; cy++)
        for (int cx = 0; cx < cw; cx++)
            n += !(skip && skip[cy * cw + cx]) && fw_fine_cell_differs(a, b, cx, cy, peak, mean);
    return n;
}
