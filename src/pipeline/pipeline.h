/* Internal to pipeline/: what the analysis (analysis*.c) needs of the job and the story
 * beyond the public API — a stop flag they watch, and the end of decoding.
 * The flag is the analysis' own (an atomic_int it sets from any thread or a signal
 * handler); the job and the story only read it, and it outlives them. */
#ifndef FW_PIPELINE_H
#define FW_PIPELINE_H

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

/* The story's LLM summary requests stop once *cancel is non-zero (the summary is then the
 * extractive one, with "error"). */
void fw_story_set_cancel(fw_story *s, const atomic_int *cancel);

#endif
