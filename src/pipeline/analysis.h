/* Internal to pipeline/: one analysis (the public fw_analysis_*), split by step:
 *   analysis.c   open (settings, preset, store, append, the input, the story), the state,
 *                close;
 *   analysis_run.c  a fresh run: the job on its own thread, the events pumped here, the
 *                story, the report, the outputs, the store's record;
 *   replay.c     what comes from the store: a finished result given back, and the earlier
 *                part of an appended recording.
 * Ownership: the analysis owns everything here; strings of p point into the preset, the
 * caller's params, or prompt storage the caller keeps. */
#ifndef FW_PIPELINE_ANALYSIS_H
#define FW_PIPELINE_ANALYSIS_H

#include <pthread.h>
#include <stdatomic.h>

#include "emit/emit.h"
#include "framewise.h"
#include "pipeline/events.h"
#include "pipeline/presets.h"
#include "store/store.h"

struct fw_analysis {
    /* set by open, read-only after it */
    fw_params p;
    fw_preset preset;
    char *input, *name, *out_dir; /* copies; name: how the report and the store name it */
    int made_dir;                 /* out_dir did not exist before: removed when nothing came */
    unsigned formats;
    fw_cache cache;
    json_t *hit; /* a finished result of the same video and settings, or NULL */
    int64_t hit_job;
    json_t *base; /* an appended part: the report of the job it continues, or NULL */
    fw_job *job;  /* NULL on a hit */
    fw_story *story;
    atomic_int cancel; /* fw_analysis_cancel's flag */
    atomic_int state;  /* fw_analysis_state */
    /* the run */
    fw_event_fn fn; /* the caller's */
    void *user;
    int in_analyze; /* the "analyze" stage was delivered (the pumping thread's) */
    fw_evq *q;
    fw_jsonl jsonl;
    json_t *written;    /* the files written, in order */
    pthread_mutex_t mu; /* kfs and the progress counters (the stages' threads) */
    fw_kflist kfs;
    fw_spool *spool;     /* a fresh run's keyframes, observations, timeline and segments */
    int n_obs, n_failed; /* this run's observations, and those without an answer */
    char first_failed[600];
    pthread_t pump;           /* the thread running fw_analysis_run */
    pthread_mutex_t story_mu; /* the story: the analyzer's thread adds, the pump snapshots */
    int live;                 /* live: segments as they close, flushes, a stop is the end */
    atomic_int fuse_due;      /* live: fusion runs at the analyzer's next observation */
    atomic_int story_stop;    /* live: the story's stop flag (a second cancel) */
    int flushes;              /* live: report files rewritten (the flusher's thread) */
    fw_video_info video0;     /* the video as opened: what a flush says of it */
    int64_t frames;           /* frames decoded so far (on_progress, under mu) */
    json_t *found; /* live: [name, time] of the multi-step events told as they were found */
    double done_s, total_s, fraction;
    int cancel_sent; /* the job was told */
    int shown_stage; /* the last progress event: analyze (1) or decode, done, total */
    double shown_done, shown_total;
    fw_error kf_err;     /* the first failure writing a keyframe */
    fw_error story_err;  /* the first failure of the story (an embeddings server) */
    json_t *report_json; /* the report, once made */
    char *report;        /* its text */
};

/* analysis_run.c: a fresh run; 0 or the error (the report is made when anything was). */
int fw_analysis_fresh(fw_analysis *a, fw_error *err);
/* replay.c: gives back the stored result (a->hit): its keyframes into the output folder,
 * its records as events, its files. 0 or FW_EIO / the store's error. */
int fw_analysis_replay(fw_analysis *a, fw_error *err);
/* replay.c: the earlier part of an appended recording (a->base) first: its keyframes into
 * the output folder, its records as events, its observations into the story. */
int fw_analysis_feed_base(fw_analysis *a, fw_error *err);
/* analysis_run.c: an observation into the story and the stream (pushed: from a stage's
 * thread). A story that fails keeps its error in story_err and is not fed again; the run
 * goes on. */
void fw_analysis_tell(fw_analysis *a, const fw_observation *ob, json_t *o, int pushed);
/* analysis_run.c: the files, once a->report_json is made: report.jsonl closed, then the
 * chosen formats (the "write" stage). 0 or FW_EIO. */
int fw_analysis_write(fw_analysis *a, fw_error *err);
/* analysis_run.c: a progress event (the pumping thread) when something moved, or force. */
void fw_analysis_progress(fw_analysis *a, int force);
/* analysis_run.c: fw_job_hooks.decoded (the job's thread): the "analyze" stage begins. */
void fw_analysis_decoded(void *user);
/* analysis.c: the report's text kept, the final progress, and the last event: done
 * (state done or cancelled) or error; sets the state and returns rc. */
int fw_analysis_end(fw_analysis *a, int rc, const fw_error *err, int cached, json_t *stats);

#endif
