/* The files analyze writes: report.json, report.jsonl (streamed), captions.vtt,
 * captions.srt, report.md and report.html. */
#ifndef FW_CLI_OUTPUTS_H
#define FW_CLI_OUTPUTS_H

#include <jansson.h>
#include <stdio.h>

enum {
    OUT_JSON = 1,
    OUT_JSONL = 2,
    OUT_VTT = 4,
    OUT_SRT = 8,
    OUT_MD = 16,
    OUT_HTML = 32,
    OUT_ALL = 63
};

/* "all" or a comma-separated list of json, jsonl, vtt, srt, md, html. 0, or -1 after a
 * one-line error. */
int cli_formats_parse(const char *list, unsigned *out);

/* Writes the chosen formats of the finished report into dir (each through a temporary
 * file, so a reader never sees half), except jsonl (streamed). Appends the paths
 * written to `written`. 0, or -1 after a one-line error naming the file. */
int cli_outputs_write(json_t *report, const char *dir, unsigned formats, json_t *written);

/* The JSONL stream: one {"type": ..., ...} record per line, flushed, to a file and/or
 * standard output, as things happen. */
typedef struct cli_jsonl {
    FILE *file;    /* DIR/report.jsonl, or NULL */
    int to_stdout; /* --jsonl */
    char path[4200];
} cli_jsonl;
/* Opens DIR/report.jsonl when want_file. 0, or -1 after a one-line error. */
int cli_jsonl_open(cli_jsonl *j, const char *dir, int want_file, int to_stdout);
/* Writes {"type": type} merged with obj's members; obj is only read. */
void cli_jsonl_record(cli_jsonl *j, const char *type, json_t *obj);
/* One record of type per item of array. */
void cli_jsonl_records(cli_jsonl *j, const char *type, json_t *array);
/* The story's records, as a run ends: every segment and event, the summary, the review. */
void cli_jsonl_story(cli_jsonl *j, json_t *story);
/* Closes the file; 0, or -1 after a one-line error (a write failed). */
int cli_jsonl_close(cli_jsonl *j);

#endif
