/* Internal to pipeline/: what the analysis (analysis*.c) needs of the job and the story
 * beyond the public API — a stop flag they watch, and the end of decoding.
 * The flag is the analysis' own (an atomic_int it sets from any thread or a signal
 * handler); the job and the story only read it, and it outlives them. */
#ifndef FW_PIPELINE_H
#define FW_PIPELINE_H

#include <jansson.h>
#include <stdatomic.h>

#include "framewise.h"

typedef struct fw_job_hooks {
    /* Once non-zero: the decoder stops (libavformat's interrupt callback, and before every
     * frame) and fw_job_run returns FW_ECANCELED. NULL: none. */
    const atomic_int *cancel;
    /* Decoding ended (the rest is the analyzer's): on the thread running fw_job_run. */
    void (*decoded)(void *user);
    void *user;
} fw_job_hooks;

/* fw_job_open with hooks (NULL: none; copied). */
int fw_job_open_hooked(fw_job **out, const char *input, const fw_params *params,
                       const fw_job_hooks *hooks, fw_error *err);
/* Stops a running job's analyzer: requests in flight are abandoned, queued frames dropped,
 * and no more observations come. Thread-safe (not from a signal handler: set the flag). */
void fw_job_cancel(fw_job *job);
/* The input cannot seek and may not end (source.h's fw_source_live). */
int fw_job_live(const fw_job *job);
/* Reopens of a dropped stream, and the gaps {from, to} (source.h's fw_source_reconnects). */
int fw_job_gaps(const fw_job *job, const double (**gaps)[2], int *n_gaps);
/* The wall-clock time of media time 0 (source.h's fw_source_wall0). */
double fw_job_wall0(const fw_job *job);
/* The model servers' counts after fw_job_run returned (the report's stats.endpoints: a
 * JSON array, new reference); NULL without the openai backend. */
json_t *fw_job_endpoints(fw_job *job);

/* The story's LLM summary requests stop once *cancel is non-zero (the summary is then the
 * extractive one, with "error"). */
void fw_story_set_cancel(fw_story *s, const atomic_int *cancel);

/* Where the story's segments and multi-step events go as fusion finds them (each record
 * read during the call, not taken), on the thread that added the observation or called
 * fw_story_fuse / fw_story_finish. With a segment sink, fw_story_finish's "segments" is
 * empty: they went there. */
typedef struct fw_story_sink {
    void (*segment)(void *user, json_t *segment);
    void (*event)(void *user, json_t *event);
    void *user;
} fw_story_sink;
void fw_story_set_sink(fw_story *s, const fw_story_sink *sink);
/* Runs fusion now on what was added since it last ran (as at a window's end). 0 or the
 * embeddings server's error, FW_ENOMEM. */
int fw_story_fuse(fw_story *s, fw_error *err);
/* The story so far, for a report written while the video goes on: {segments: [the open
 * segment, "open": true], events, summary (extractive, "partial": true), review, fusion}
 * (caller frees). The story is unchanged. */
int fw_story_snapshot(fw_story *s, double now_s, char **json, fw_error *err);

#endif
