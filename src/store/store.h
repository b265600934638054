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

/* The newest job of (video, settings) that did not finish (killed, failed): 1 with *job,
 * or 0. It is marked running again. */
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
/* Empties every table; vacuum gives the space back to the file system. */
int fw_store_clear(fw_store *s, fw_error *err);
int fw_store_vacuum(fw_store *s, fw_error *err);

#endif
