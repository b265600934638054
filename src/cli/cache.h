/* The store from the command line: analyze's whole-result cache, `framewise cache` and
 * `framewise jobs`. */
#ifndef FW_CLI_CACHE_H
#define FW_CLI_CACHE_H

#include <jansson.h>

#include "cli/cli.h"
#include "store/store.h"

/* analyze's link to the store for one run. */
typedef struct cli_cache {
    fw_store *store; /* NULL: no cache (--no-cache, or an input that is not a file) */
    char video[17];  /* content hash of the input */
    char settings[17];
    char frame_key[17]; /* what asks about a frame (model, prompt, budget); "" when the
                           backend is not a model's (the local one costs nothing) */
    int64_t size;
    int64_t job;      /* this run's job, 0 before it begins */
    json_t *stored;   /* a resumed job's observations by keyframe, or NULL */
    int resumed;      /* how many it had */
    int index_offset; /* an appended part: its keyframes follow the job's */
    double time_offset;
    int64_t base_job; /* the job appended to, or 0 */
    char *fields;     /* the last lookup's fields text */
    json_t *frame;    /* the last frame-level hit */
    const char *flags[8];
    fw_error err; /* the first store failure during the run */
} cli_cache;

/* Opens the store (--store, else the default) and computes the keys of this run. -1 to
 * go on (c->store NULL when caching does not apply), or an exit code after a one-line
 * error. */
int cli_cache_open(cli_cache *c, const cli_opts *o, const char *store_path, int disabled);
/* A finished result for these keys: writes its keyframes into dir and returns the
 * report with keyframe files pointing there, marked "cache"; NULL on a miss. */
json_t *cli_cache_hit(cli_cache *c, const char *dir);
/* The finished result of job (for --append), its keyframes written into dir; NULL when
 * the job has none. */
json_t *cli_cache_job_result(cli_cache *c, int64_t job, const char *dir);
/* Records this run as a job; then its keyframes and observations as they come. */
void cli_cache_begin(cli_cache *c, const char *input);
/* kf as reported (an appended part's offsets included); jpeg: its image. */
void cli_cache_keyframe(cli_cache *c, const fw_keyframe *kf, const void *jpeg, size_t size,
                        const char *file);
/* fw_callbacks.lookup: the observation of kf stored by a resumed job, else that of a
 * frame that looks the same (dHash within 2 bits, same size, luma within
 * FW_LOOK_TOLERANCE) asked the same way, if any. */
int cli_cache_lookup(cli_cache *c, const fw_keyframe *kf, fw_observation *out);
/* out from a stored observation o (its strings live in o, or in c until the next call). */
int cli_cache_fill(cli_cache *c, int keyframe, double time_s, json_t *o, fw_observation *out);
/* Records an observation of the job and, for a model's, of its frame (kf). */
void cli_cache_observation(cli_cache *c, json_t *obs, const fw_keyframe *kf);
/* Ends the job; a successful report (without a failed summary) becomes the result. */
void cli_cache_end(cli_cache *c, json_t *report, const char *error);
void cli_cache_close(cli_cache *c);

int cmd_cache(int argc, char **argv);
int cmd_jobs(int argc, char **argv);

#endif
