#include "core/types.h"

#include <stdlib.h>

double fw_sig_distance(const fw_sig *a, const fw_sig *b)
{
    long sum = 0;
    for (int i = 0; i < FW_SIG_W * FW_SIG_H; i++)
        sum += abs((int)a->v[i] - (int)b->v[i]);
    return (double)sum / (FW_SIG_W * FW_SIG_H);
}

int fw_hash_distance(uint64_t a, uint64_t b)
{
    return __builtin_popcountll(a ^ b);
}
