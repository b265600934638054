/* emit: the report (schema framewise.report/1, docs/analyze.md) built from the public
 * types, and the outputs people read written from it: report.json, report.jsonl,
 * captions.vtt, captions.srt, report.md, report.html, and the keyframes as JPEG files.
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
 * Ownership: the caller owns the report and the FILE. The writers return 0, or -1 with
 * errno set (a write failed). A keyframe file the HTML report cannot read gets a placeholder.
 */
#ifndef FW_EMIT_H
#define FW_EMIT_H

#include <jansson.h>
#include <stdio.h>
#include <sys/types.h>

#include "framewise.h"

typedef struct fw_doc fw_doc; /* a report as the writers read it (below) */

/* WebVTT captions from the segments: "WEBVTT", then one cue per segment in time order,
 * HH:MM:SS.mmm timestamps, start < end, cues never overlap. */
int fw_emit_vtt(const fw_doc *d, FILE *out);
/* SubRip captions from the segments: numbered cues, HH:MM:SS,mmm timestamps. */
int fw_emit_srt(const fw_doc *d, FILE *out);
/* A Markdown report: summary, key moments, review, events, segments, keyframes. */
int fw_emit_markdown(const fw_doc *d, FILE *out);
/* One self-contained HTML page (no scripts, no external resources; thumbnails embedded
 * as data: URIs): summary, review flags, thumbnails on a timeline, segments, events. */
int fw_emit_html(const fw_doc *d, FILE *out);

/* ---- the report (emit/report.c) --------------------------------------------------------
 * Its parts from the public types, as new jansson references the caller owns. */
json_t *fw_report_video(const fw_video_info *vi);
json_t *fw_report_scores(const fw_scores *s);
/* Every setting (the settings table's names), the API key only as "(set)" or null. */
json_t *fw_report_params(const fw_params *p);
/* A keyframe as `framewise keyframes --json` and report.json list it; file NULL: null. */
json_t *fw_report_keyframe(const fw_keyframe *kf, const char *file);
json_t *fw_report_observation(const fw_observation *ob);
/* The run's counters; duration_s > 0 adds image_tokens_per_minute. */
json_t *fw_report_stats(const fw_stats *s, double duration_s);
/* The text timeline of observations: [{time, keyframe, added, changed, removed}] for the
 * keyframes whose on-screen text changed (the local backend's fields, or their "ocr"). */
json_t *fw_report_timeline(json_t *observations);
/* One observation's entry of the text timeline, or NULL when its text did not change. */
json_t *fw_report_timeline_entry(json_t *observation);

/* What a report is made of. */
typedef struct fw_report_in {
    const fw_video_info *video;
    const char *path; /* the input as the report names it (NULL: video->path) */
    const fw_params *params;
    json_t *keyframes;    /* array; the report takes it */
    json_t *observations; /* array; borrowed, as the rest */
    const fw_stats *stats;
    json_t *timeline;
    json_t *story;  /* {segments, events, summary, review, fusion}, or NULL */
    json_t *append; /* {job, offset, keyframes, video} of an appended part, or NULL */
    const char *error;
    int cancelled;
} fw_report_in;
/* The report (schema framewise.report/1, docs/analyze.md), or NULL when out of memory. */
json_t *fw_report_new(const fw_report_in *in);

/* ---- the files (emit/outputs.c) ------------------------------------------------------- */
enum {
    FW_OUT_JSON = 1,
    FW_OUT_JSONL = 2,
    FW_OUT_VTT = 4,
    FW_OUT_SRT = 8,
    FW_OUT_MD = 16,
    FW_OUT_HTML = 32,
    FW_OUT_ALL = 63
};
/* "all" or a comma-separated list of json, jsonl, vtt, srt, md, html; 0 or FW_EINVAL
 * ("format: unknown format 'xml' (...)"). */
int fw_formats_parse(const char *list, unsigned *out, fw_error *err);
/* Writes the chosen formats of a finished report into dir, each through a temporary file
 * renamed into place (a reader never sees half), except jsonl (streamed: fw_jsonl_*).
 * Appends the paths written to `written`. 0, or FW_EIO naming the first file that could
 * not be written (the others are written still). */
int fw_outputs_write(const fw_doc *report, const char *dir, unsigned formats, json_t *written,
                     fw_error *err);

/* report.jsonl: one record per line, flushed as it comes. */
typedef struct fw_jsonl {
    FILE *file;
    char path[4200];
} fw_jsonl;
/* Opens DIR/report.jsonl; 0 or FW_EIO naming it. */
int fw_jsonl_open(fw_jsonl *j, const char *dir, fw_error *err);
/* One line (the text has no newline); a failed write shows at close. */
void fw_jsonl_line(fw_jsonl *j, const char *line);
/* Closes the file (accepts one never opened); 0, or FW_EIO naming it when a write failed. */
int fw_jsonl_close(fw_jsonl *j, fw_error *err);

/* ---- the spool (emit/spool.c) ---------------------------------------------------------
 * A report's long lists as JSON lines in unlinked temporary files (in dir when it is
 * given and writable, else $TMPDIR or /tmp), appended as the records come (any thread)
 * and read back in order, so that the outputs are written without holding them. */
enum {
    FW_SPOOL_KEYFRAMES,
    FW_SPOOL_OBSERVATIONS,
    FW_SPOOL_TIMELINE,
    FW_SPOOL_SEGMENTS,
    FW_SPOOL_LISTS
};
typedef struct fw_spool fw_spool;
/* The report key of a list ("keyframes", ...). */
const char *fw_spool_key(int which);
/* 0, FW_EIO (no temporary file) or FW_ENOMEM. */
int fw_spool_open(fw_spool **out, const char *dir, fw_error *err);
/* One record at the end of a list (the value is read, not taken): 0, FW_EIO, FW_ENOMEM. */
int fw_spool_add(fw_spool *s, int which, json_t *o, fw_error *err);
long fw_spool_count(fw_spool *s, int which);
/* Accepts NULL. */
void fw_spool_close(fw_spool *s);

/* A report as the writers read it: head (the report object), where each of the spool's
 * lists is the spool's records followed by head's array of that key, if any (spool NULL:
 * head alone is the report). */
typedef struct fw_doc {
    json_t *head;
    fw_spool *spool;
} fw_doc;
/* One pass over a list of the doc (the records there when it begins). */
typedef struct fw_doc_it {
    json_t *array, *cur;
    size_t i;
    int fd;
    off_t pos, end;
    char *line;
    size_t len, cap, start, at_line;
} fw_doc_it;
void fw_doc_begin(fw_doc_it *it, const fw_doc *d, const char *key);
/* The next record (valid until the next call or fw_doc_end), or NULL at the end. */
json_t *fw_doc_next(fw_doc_it *it);
void fw_doc_end(fw_doc_it *it);
size_t fw_doc_count(const fw_doc *d, const char *key);
/* report.json's text, the lists streamed (a spooled list head does not name comes last):
 * json_dumps' 2-space layout with 10 significant digits, or compact with 17 (what the store
 * keeps). 0 or -1. */
int fw_doc_write_json(const fw_doc *d, FILE *out, int compact);
/* The same as one malloc'd text (the caller frees it), or NULL when out of memory. */
char *fw_doc_text(const fw_doc *d, int compact);

/* mkdir -p; 0 or -1 with errno set. */
int fw_mkdirs(const char *path);

/* Kept keyframes written as DIR/kf_NNNNNN.jpg and listed. */
typedef struct fw_kept {
    fw_keyframe kf; /* jpeg cleared: the bytes live only during the callback that gave them */
    char *file;     /* the JPEG written (malloc'd), or NULL when there is no folder */
} fw_kept;
typedef struct fw_kflist {
    const char *dir;    /* where the JPEG files go (NULL: nowhere) */
    int index_offset;   /* added to each keyframe's index (and file name): an appended part */
    double time_offset; /* added to each keyframe's time */
    int keep;           /* > 0: only the last keep entries are held (n still counts all) */
    fw_kept *list;
    int n, cap;
} fw_kflist;
/* Entry i (0-based, without the offset), or NULL when it is not held. */
const fw_kept *fw_kflist_get(const fw_kflist *l, int i);
/* Writes the keyframe's JPEG and appends it (offsets applied); 0, or FW_EIO / FW_ENOMEM. */
int fw_kflist_add(fw_kflist *l, const fw_keyframe *kf, fw_error *err);
/* Frees the list (not l itself). */
void fw_kflist_free(fw_kflist *l);

#endif
