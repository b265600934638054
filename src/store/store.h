/* store: one SQLite file (WAL) that remembers videos (by content hash), jobs, their
 * keyframes and observations, and whole results, so that a video analysed before with
 * the same settings costs nothing.
 * Schema versioned through PRAGMA user_version, migrated on open.
 * Ownership: the caller owns the store (open/close) and every malloc'd string or json_t
 * returned. One handle per thread; several processes may share the file (busy timeout).
 * Errors: FW_EOPEN naming the file when it cannot be opened, is not a database or is
 * read-only; FW_EIO when a statement fails. */
#ifndef FW_STORE_H
#define FW_STORE_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "framewise.h"

typedef struct fw_store fw_store;

/* Opens (creating it and its folder) the store at path; NULL path: the default,
 * $XDG_CACHE_HOME/framewise/framewise.db (else ~/.cache/framewise/framewise.db). */
int fw_store_open(fw_store **out, const char *path, fw_error *err);
const char *fw_store_path(const fw_store *s);
void fw_store_close(fw_store *s);

/* XXH3-64 of a file's bytes as 16 hex digits, and its size. */
int fw_store_hash_file(const char *path, char hex[17], int64_t *size, fw_error *err);
/* XXH3-64 of a string as 16 hex digits. */
void fw_store_hash_text(const char *text, size_t n, char hex[17]);

/* A job: begun (state "running"), then finished ("done" or "failed" with error). */
int fw_store_job_begin(fw_store *s, const char *video, int64_t size, const char *input,
                       const char *settings, int64_t *job, fw_error *err);
int fw_store_job_end(fw_store *s, int64_t job, const char *state, const char *error, fw_error *err);
/* A keyframe's JPEG under its file name, and an observation (JSON text), committed at once. */
int fw_store_keyframe(fw_store *s, int64_t job, int index, double time, const char *name,
                      const void *jpeg, size_t n, fw_error *err);
int fw_store_observation(fw_store *s, int64_t job, int keyframe, double time, const char *json,
                         fw_error *err);

/* The whole result of (video, settings): put replaces; get returns 1 with *report
 * (malloc'd JSON text) and *job on a hit, 0 on a miss. */
int fw_store_result_put(fw_store *s, const char *video, const char *settings, int64_t job,
                        const char *report, fw_error *err);
int fw_store_result_get(fw_store *s, const char *video, const char *settings, char **report,
                        int64_t *job, fw_error *err);
/* Copies the keyframe images of job from into job to. */
int fw_store_job_copy_keyframes(fw_store *s, int64_t from, int64_t to, fw_error *err);
/* The result (report JSON text, malloc'd) a job left: 1, or 0 when it has none. */
int fw_store_job_result(fw_store *s, int64_t job, char **report, fw_error *err);
/* Calls fn for each keyframe image of a job, in index order; fn returns non-zero to stop. */
int fw_store_keyframes_each(fw_store *s, int64_t job,
                            int (*fn)(void *user, int index, const char *name, const void *jpeg,
                                      size_t n),
                            void *user, fw_error *err);

/* The newest job of (video, settings) that did not finish (killed, failed) or that kept no
 * result (done, but its summary failed), and that no live process runs (nor another
 * thread of this one): 1 with *job, or 0. It is marked
 * running again; the decision and the taking are one step for this process' threads. */
int fw_store_job_resume(fw_store *s, const char *video, const char *settings, int64_t *job,
                        fw_error *err);
/* A job's observations: {"<keyframe>": observation JSON}. */
json_t *fw_store_observations(fw_store *s, int64_t job, fw_error *err);

/* What a frame looks like, for finding the same picture in another video (a re-encode,
 * a repeated intro): its 64-bit dHash, mean and spread of luma, mean colour, and its
 * size. (dHash and luma alone take a red screen for a green one of the same brightness.) */
typedef struct fw_frame_look {
    uint64_t phash;
    double luma, spread;
    int width, height;
    double cb, cr;
} fw_frame_look;
/* Means and spread may differ this much (0..255) between two looks of one picture. */
#define FW_LOOK_TOLERANCE 3.0
/* Records the observation (JSON text) of a frame under key (what asked: backend, model,
 * prompt, image budget). */
int fw_store_frame_put(fw_store *s, const char *key, const fw_frame_look *look, const char *json,
                       fw_error *err);
/* The stored observation of the closest look under key within max_bits of dHash: 1 with
 * *json (malloc'd), 0 when none. */
int fw_store_frame_get(fw_store *s, const char *key, const fw_frame_look *look, int max_bits,
                       char **json, fw_error *err);

/* Adds to a named counter (hits and the like). */
int fw_store_count(fw_store *s, const char *name, int64_t add, fw_error *err);
/* {path, bytes, videos, jobs, keyframes, observations, results, counters: {...}}. */
json_t *fw_store_stats(fw_store *s, fw_error *err);
/* [{id, input, video, state, started, updated, keyframes, observations, error}], newest first. */
json_t *fw_store_jobs(fw_store *s, fw_error *err);
/* Empties the store but for the jobs that run now (their process is alive: *kept of them
 * keep their keyframes and observations and go on); vacuum gives the space back. */
int fw_store_clear(fw_store *s, int *kept, fw_error *err);
int fw_store_vacuum(fw_store *s, fw_error *err);

/* ---- the cache of one analysis (store/cache.c) ------------------------------------------
 * Keys: the video (the hash of its bytes) and the settings (the hash of the report's
 * settings, the framewise version, and the bytes of the events and lexicon files); a
 * frame's look and what asked about it (model, prompt, budget) for single observations.
 * The analysis records its job, keyframes and observations as they come; the next run
 * of the same video and settings gets the result, or resumes the job. Store failures
 * during a run stop the recording, never the run (err keeps the first). */
typedef struct fw_cache {
    fw_store *store; /* NULL: no cache (disabled, or an input that is not a regular file) */
    char video[17];  /* content hash of the input */
    char settings[17];
    char frame_key[17]; /* what asks about a frame (model, prompt, budget); "" when the
                           backend is not a model's (the local one costs nothing) */
    int64_t size;
    int64_t job;      /* this run's job, 0 before it begins (or when it could not begin) */
    int recording;    /* 1 while the job's keyframes and observations go to the store */
    int ended;        /* the job was ended (fw_cache_end) */
    json_t *stored;   /* a resumed job's observations by keyframe, or NULL */
    int resumed;      /* how many it had */
    int index_offset; /* an appended part: its keyframes follow the job's */
    double time_offset;
    int64_t base_job; /* the job appended to, or 0 */
    char *fields;     /* the last lookup's fields text */
    json_t *frame;    /* the last frame-level hit */
    const char *flags[8];
    const struct fw_journal *journal; /* where answers are also kept (elsewhere), or NULL */
    fw_error err;                     /* the first store failure during the run */
    /* the writer thread (lookups, keyframes) and the analyzer's (observations) share the
     * store's handle: each call into the store is under mu */
    pthread_mutex_t mu;
    int mu_ready;
} fw_cache;

/* Opens the store (path NULL: the default) and computes the keys of a run of input with
 * p (settings: the report's settings object of p). Nothing is opened when disabled or the
 * input is not a regular file (c->store stays NULL). 0, or the store's error (FW_EOPEN,
 * FW_EIO), or FW_EOPEN when the input cannot be read. */
int fw_cache_open(fw_cache *c, const char *input, const fw_params *p, json_t *settings,
                  const char *path, int disabled, fw_error *err);
/* An appended part: its keyframes follow job's (offsets), and its result is its own. */
void fw_cache_append(fw_cache *c, int64_t job, int index_offset, double time_offset);
/* A finished result for these keys: the report (caller owns it), *job its job; NULL on a
 * miss. */
json_t *fw_cache_hit(fw_cache *c, int64_t *job);
/* The finished result of job, or NULL when it has none. */
json_t *fw_cache_job_result(fw_cache *c, int64_t job);
/* Writes job's keyframe images into dir and points the report's keyframes at them
 * (dir NULL: no files; "file" becomes null). 0, or FW_EIO / the store's error. */
int fw_cache_restore(fw_cache *c, int64_t job, json_t *report, const char *dir, fw_error *err);
/* Records this run as a job (input: how it is named), or resumes one of the same video
 * and settings that was killed or failed; then adds the journal's observations (c->journal,
 * when set: an earlier run elsewhere) to those it gives back. */
void fw_cache_begin(fw_cache *c, const char *input);
/* kf as reported (an appended part's offsets included); jpeg: its image; file: its path
 * (its last component names it in the store; NULL: kf_NNNNNN.jpg). */
void fw_cache_keyframe(fw_cache *c, const fw_keyframe *kf, const void *jpeg, size_t size,
                       const char *file);
/* fw_callbacks.lookup: the observation of kf stored by a resumed job, else that of a
 * frame that looks the same (dHash within 2 bits, same size, luma within
 * FW_LOOK_TOLERANCE) asked the same way, if any. */
int fw_cache_lookup(fw_cache *c, const fw_keyframe *kf, fw_observation *out);
/* out from a stored observation o (its strings live in o, or in c until the next call). */
int fw_cache_fill(fw_cache *c, int keyframe, double time_s, json_t *o, fw_observation *out);
/* Records an observation of the job and, for a model's, of its frame (kf, may be NULL). */
void fw_cache_observation(fw_cache *c, json_t *obs, const fw_keyframe *kf);
/* Ends the job (error NULL: done); a successful report (report: its head, without a
 * failed summary) becomes the result: text, the whole report's JSON (NULL: none kept). */
void fw_cache_end(fw_cache *c, json_t *report, const char *text, const char *error);
void fw_cache_close(fw_cache *c);

#endif
