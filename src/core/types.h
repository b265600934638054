/* Value types shared between stages (no behaviour beyond tiny helpers). */
#ifndef FW_CORE_TYPES_H
#define FW_CORE_TYPES_H

#include <stdint.h>

#include "framewise.h"

/* What the decoder may skip: the selector asks, the source applies. */
typedef enum fw_discard {
    FW_DISCARD_NONE = 0, /* decode every frame */
    FW_DISCARD_NONREF,   /* skip frames no other frame references */
    FW_DISCARD_NONKEY    /* decode keyframes only */
} fw_discard;

/* Where a decoded frame sits in time. */
typedef struct fw_frame_info {
    int64_t number; /* 0-based count of frames the decoder produced */
    int64_t pts;    /* presentation timestamp in the stream time base */
    double time_s;  /* seconds since the stream start */
    double dur_s;   /* expected distance to the next frame (from the frame rate) */
    int key;        /* 1 for a stream keyframe */
} fw_frame_info;

/* A coarse luma signature of a frame (block means of the thumbnail), kept for
 * every kept keyframe so that a budget can compare keyframes after the fact. */
#define FW_SIG_W 32
#define FW_SIG_H 18
typedef struct fw_sig {
    uint8_t v[FW_SIG_W * FW_SIG_H];
} fw_sig;

/* Mean absolute difference of two signatures, 0..255. */
double fw_sig_distance(const fw_sig *a, const fw_sig *b);
/* Number of differing bits of two 64-bit hashes. */
int fw_hash_distance(uint64_t a, uint64_t b);

#endif
