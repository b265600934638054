/* Internal to analyze/: where a keyframe differs from an earlier one, from two small maps
 * of their pictures. Pure functions, no I/O.
 *
 * A map is FW_MAP_W pixels wide and fw_map_height() high (the picture's aspect), three
 * planes one after the other: luma and the two chroma planes (fw_jpeg_map). The
 * regions are boxes of changed 4x4 blocks, grown sideways along the ink of their rows
 * (a changed word comes with its line) and by one block on each side, neighbours merged;
 * as fractions of the picture. */
#ifndef FW_ANALYZE_CHANGE_H
#define FW_ANALYZE_CHANGE_H

#include <stdint.h>

#define FW_MAP_W 192
#define FW_MAP_MAX (FW_MAP_W * FW_MAP_W * 3)
#define FW_MAX_REGIONS 3

typedef struct fw_region {
    double x, y, w, h; /* left, top, width, height: fractions of the picture, 0..1 */
} fw_region;

/* The map height of a width x height picture (8..FW_MAP_W). */
int fw_map_height(int width, int height);

/* The regions where map b differs from map a (both w x h, in luma or colour): how many (0: nothing
 * changed, at most max, more are merged into their bounding box), their total area (fraction of the
 * picture) in *area. */
int fw_change_regions(const uint8_t *a, const uint8_t *b, int w, int h, fw_region *out, int max,
                      double *area);

#endif
