/* Internal to analyze/: the pieces of the local backend that are not Tesseract —
 * visual descriptors of a frame and the text timeline between frames. Kept apart
 * from local.c so they can be tested on fixed inputs.
 */
#ifndef FW_ANALYZE_LOCAL_H
#define FW_ANALYZE_LOCAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* What the selector knew about the frame. */
typedef struct fw_look {
    double blur;   /* Laplacian variance of the thumbnail */
    double motion; /* mean abs luma difference vs the last kept frame */
    int flat, black;
    const char *reason; /* why it was kept (first, cut, change, ...) */
} fw_look;

/* Named colour of an RGB pixel: black, white, grey, red, orange, brown, yellow,
 * green, cyan, blue, purple, pink. */
const char *fw_colour_name(int r, int g, int b);

/* Describes an RGB24 thumbnail (w x h, stride w*3): adds "colours" [{name, share}],
 * "brightness" (mean luma 0..255), "sharp", "blur", "flat", "black", "motion",
 * "reason" to fields and writes a phrase such as "mostly grey, bright, sharp" into
 * phrase (cap bytes). */
void fw_describe(const uint8_t *rgb, int w, int h, const fw_look *look, json_t *fields,
                 char *phrase, size_t cap);

/* Similarity of two lines of screen text, 0..1: 1 - edit distance / longer length,
 * over their code points after folding case, dropping spaces and punctuation and
 * mapping look-alikes OCR confuses (0/o, 1/l/i/|, 5/s). */
double fw_text_similarity(const char *a, const char *b);

/* Compares the lines of a keyframe with the previous keyframe's and adds to fields:
 * "text_added" (lines not there before), "text_removed" (lines gone), "text_changed"
 * ([{from, to}]: a line edited in place, e.g. while typing). Lines at least
 * FW_TEXT_SAME similar are the same line. Each list is present, maybe empty. */
#define FW_TEXT_SAME 0.85
#define FW_TEXT_EDIT 0.5
void fw_text_diff(const char *const *prev, int n_prev, const char *const *cur, int n_cur,
                  json_t *fields);

#endif
