/* JSON pieces shared by the subcommands (jansson). */
#ifndef FW_CLI_REPORT_H
#define FW_CLI_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "framewise.h"

json_t *report_video(const fw_video_info *vi);
json_t *report_scores(const fw_scores *s);
json_t *report_params(const fw_params *p);
/* A keyframe as listed in keyframes --json and report.json. */
json_t *report_keyframe(const fw_keyframe *kf, const char *file);
/* Dumps to stdout with a newline; 0 or -1. */
int report_print(json_t *root);
/* The text timeline of a report's observations: [{time, keyframe, added, changed,
 * removed}] for the keyframes whose on-screen text changed (new reference). */
json_t *report_timeline(json_t *observations);
/* One line per change: "  00:12.400  + \"text\"" (~ edited, - gone). */
void report_timeline_print(json_t *timeline, FILE *out);
/* "mm:ss.mmm" (or "h:mm:ss.mmm") into buf. */
const char *report_clock(double t, char *buf, size_t n);

#endif
