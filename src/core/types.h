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

/* A coarse colour signature of a frame (block means of the thumbnail's luma and
 * chroma), kept for every kept keyframe so that a budget can compare keyframes after
 * the fact. Chroma counts: red and green of equal brightness are different pictures. */
#define FW_SIG_W 32
#define FW_SIG_H 18
typedef struct fw_sig {
    uint8_t v[FW_SIG_W * FW_SIG_H];  /* luma */
    uint8_t cb[FW_SIG_W * FW_SIG_H]; /* chroma (U, V) */
    uint8_t cr[FW_SIG_W * FW_SIG_H];
} fw_sig;

/* A cell of the signature changed: its luma by more than FW_SIG_LUMA_CHANGED, or its
 * colour (|dU| + |dV|) by more than FW_SIG_CHROMA_CHANGED. 14 is well above the noise
 * left after averaging ~15x15 source pixels into one, well below what text or a dialog
 * edge gives; chroma carries less noise but also less contrast (a red/green swap of
 * equal luma moves V by ~140). */
#define FW_SIG_LUMA_CHANGED 14
#define FW_SIG_CHROMA_CHANGED 20

/* The fine change map of a frame: score/ measures it, select/ reads it. Small changes
 * (a digit, a status line, a toast) are a few of its cells, invisible on the coarse
 * thumbnail. */
typedef struct fw_fine {
    int sampled;    /* 1: measured on this frame (the map is sampled FW_FINE_STEP_S apart) */
    int settled;    /* cells changed vs the reference that did not move since the last sample
                       and are not restless (a cursor, a spinner: see FW_FINE_RESTLESS_*) */
    int unsettled;  /* cells changed vs the reference, not restless, that moved just now */
    int changed;    /* cells changed vs the reference */
    int moving;     /* cells that moved since the last sample, anywhere, restless ones aside */
    double onset_s; /* when the last of the (un)settled cells moved: the picture's onset */
    const uint8_t *restless; /* FW_FINE_CELLS flags: 1 for a restless cell (NULL: none);
                                valid until the next frame is scored */
    /* The cells of the last change (where the reference differs from the one before):
     * left of them differ from the reference now, since left_onset_s; back of those show
     * the picture before again, counted only when the whole picture is the one before
     * again, restless cells aside (a blink, a flicker; not a menu's cursor moving on). */
    int left, back;
    double left_onset_s;
    /* The frame's fine picture (FW_FINE_W x FW_FINE_H grey), made on demand (NULL when it
     * cannot be made); valid until the next frame is scored. */
    const uint8_t *(*picture)(void *ctx);
    void *ctx;
} fw_fine;

#define FW_FINE_W 256
#define FW_FINE_H 144
#define FW_FINE_CELL 4 /* fine cells are 4x4 pixels of the fine picture */
#define FW_FINE_CELLS ((FW_FINE_W / FW_FINE_CELL) * (FW_FINE_H / FW_FINE_CELL))
/* The fine map is measured on frames FW_FINE_STEP_S apart: small changes must hold
 * (see select/) far longer than that, and at 1080p making the fine picture costs
 * ~0.15 ms, which every frame of a 30 fps decode could not afford. */
#define FW_FINE_STEP_S 0.1
/* In a busy picture (more than FW_FINE_BUSY of the coarse blocks moving: people walking,
 * a camera, an animation) small changes are the motion's, not new states (select/ keeps
 * none); above FW_FINE_SKIP (a terminal being typed into moves 1-4 %) the fine map is
 * measured once every FW_FINE_BUSY_STEP_S only: a sample costs 0.1-0.15 ms, half of a
 * small clip's decoding at 10 fps. */
#define FW_FINE_BUSY 0.02
#define FW_FINE_SKIP 0.08
#define FW_FINE_BUSY_STEP_S 1.0
/* A fine cell changed when some pixel differs by FW_FINE_PEAK or more and the cell by
 * FW_FINE_MEAN on average: a sharp, high-contrast change (text, an icon, a tick).
 * Video noise and compression never reach it once 5x5 to 8x8 source pixels are
 * averaged into a fine pixel; a changed 40-px digit at 720p reaches 45-200 in 2-4
 * cells, where the cells' mean difference can stay under 10 ("0" and "6" differ by
 * 6.9 in their most different cell, 39 at their most different pixel). */
#define FW_FINE_PEAK 32
#define FW_FINE_MEAN 4
/* A cell moved (it is not still) at half of that. */
#define FW_FINE_MOVE_PEAK 16
#define FW_FINE_MOVE_MEAN 2
/* A cell that moved 3 times within 1.5 s is restless (a cursor blinking every 0.5 s, a
 * spinner): a counter changing every second moves a cell twice in that time. */
#define FW_FINE_RESTLESS_MOVES 3
#define FW_FINE_RESTLESS_S 1.5

/* Whether fine cell (cx, cy) of two fine pictures differs by peak and mean (above).
 * Inline: the fine map runs it for every cell at every sample. */
static inline int fw_fine_cell_differs(const uint8_t *a, const uint8_t *b, int cx, int cy, int peak,
                                       int mean)
{
    int sum = 0, top = 0;
    const int at = cy * FW_FINE_CELL * FW_FINE_W + cx * FW_FINE_CELL;
    for (int y = 0; y < FW_FINE_CELL; y++)
        for (int x = 0; x < FW_FINE_CELL; x++) {
            int d = a[at + y * FW_FINE_W + x] - b[at + y * FW_FINE_W + x];
            d = d < 0 ? -d : d;
            sum += d;
            top = d > top ? d : top;
        }
    return top >= peak && sum >= mean * FW_FINE_CELL * FW_FINE_CELL;
}
/* Fine cells that differ by peak and mean between two fine pictures, counting stops at
 * limit; cells flagged in skip (NULL: none) do not count. */
int fw_fine_cells_differ(const uint8_t *a, const uint8_t *b, int peak, int mean, int limit,
                         const uint8_t *skip);

/* Mean absolute difference of two signatures (luma plus half the chroma), 0..510. */
double fw_sig_distance(const fw_sig *a, const fw_sig *b);
/* Number of differing bits of two 64-bit hashes. */
int fw_hash_distance(uint64_t a, uint64_t b);

#endif
