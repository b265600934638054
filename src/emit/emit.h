/* emit: the outputs people read, written from a finished report (schema
 * framewise.report/1, as a jansson object; docs/analyze.md describes it).
 *
 * What the writers use of the report:
 *   video {path, duration, width, height}
 *   keyframes [{index, time, file, width, height, reason}]   file: a JPEG path as written
 *   observations [{time, keyframe, text, confidence, error?, gated?}]
 *   segments [{index, start, end, text, keyframes [int], keyframe, confidence}]
 *   events [{name, description, time, end, score, keyframe, evidence,
 *            steps? [{name, time, keyframe, score, evidence}]}]
 *   summary {method, model, text, key_moments [{time, text}]}
 *   review {required, reasons [{time, term, category, text, source}]}
 * Any of them may be missing or empty; a writer then leaves its part out.
 *
 * Everything a model or the OCR produced is data: each writer escapes it for its
 * format (HTML entities, WebVTT/SRT cue text, Markdown), so no text can add markup,
 * end a cue, or run a script.
 * Ownership: the caller owns the report and the FILE. Return 0, or -1 with errno set
 * (a write failed). A keyframe file the HTML report cannot read gets a placeholder.
 */
#ifndef FW_EMIT_H
#define FW_EMIT_H

#include <jansson.h>
#include <stdio.h>

/* WebVTT captions from the segments: "WEBVTT", then one cue per segment in time order,
 * HH:MM:SS.mmm timestamps, start < end, cues never overlap. */
int fw_emit_vtt(json_t *report, FILE *out);
/* SubRip captions from the segments: numbered cues, HH:MM:SS,mmm timestamps. */
int fw_emit_srt(json_t *report, FILE *out);
/* A Markdown report: summary, key moments, review, events, segments, keyframes. */
int fw_emit_markdown(json_t *report, FILE *out);
/* One self-contained HTML page (no scripts, no external resources; thumbnails embedded
 * as data: URIs): summary, review flags, thumbnails on a timeline, segments, events. */
int fw_emit_html(json_t *report, FILE *out);

#endif
