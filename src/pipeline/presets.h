/* Internal to pipeline/: presets (presets/NAME.json), a scenario's settings (frame prompt,
 * keyframe thresholds, summary instruction, gate), events and lexicons, as data; and the
 * analysis' own defaults. Found in $FRAMEWISE_PRESETS, next to the program (../presets,
 * ../share/framewise/presets), the installed share/framewise/presets, the source tree.
 * Ownership: the caller owns the fw_preset (free with fw_preset_free); the settings it
 * applied point into it. */
#ifndef FW_PIPELINE_PRESETS_H
#define FW_PIPELINE_PRESETS_H

#include <jansson.h>

#include "framewise.h"

typedef struct fw_preset {
    char name[64];
    char dir[4096];
    char path[4200]; /* the preset file */
    json_t *root;    /* the parsed file; its strings back the settings */
    char *events;    /* comma-separated files: the preset's, then the caller's */
    char *lexicon;   /* comma-separated files: the preset's, then the caller's */
} fw_preset;

/* Applies, to the settings not in chosen (names, NULL-terminated, or NULL; an alias counts
 * for the field it sets): first the analysis' defaults (max-pixels FW_ANALYSIS_MAX_PIXELS,
 * where p still has fw_params_default()'s value), then the preset NAME (NULL: "general";
 * "none": no preset; a path to a .json file) and its events and lexicons before p's own.
 * 0, or FW_EINVAL naming the setting, the preset or its file; FW_ENOMEM. */
int fw_preset_apply(fw_preset *pr, const char *name, fw_params *p, const char *const *chosen,
                    fw_error *err);
/* Accepts a zeroed one. */
void fw_preset_free(fw_preset *pr);

#endif
