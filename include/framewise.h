/* framewise — public C API.
 *
 * A job opens one video input, decodes it once, scores every frame the keyframe
 * policy looks at, and reports the kept keyframes (with their reason, scores and a
 * JPEG image) and the shot list through callbacks. When asked for observations, it
 * also sends every keyframe to a vision-language model server (OpenAI-compatible
 * chat API) while decoding goes on, and reports what the model saw, in time order.
 *
 * Ownership: the caller owns fw_job (fw_job_open / fw_job_close). Everything a
 * callback receives is owned by the job and valid only during that call.
 * Return codes: 0 on success or a negative FW_E* code; details in fw_error.
 */
#ifndef FRAMEWISE_H
#define FRAMEWISE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FW_VERSION "0.2.0"

/* What the shared library exports: the functions declared with FW_API below, nothing else
 * (it is built with -fvisibility=hidden). */
#if defined(__GNUC__) && __GNUC__ >= 4
#define FW_API __attribute__((visibility("default")))
#else
#define FW_API
#endif

/* Error codes: stable numbers; fw_strerror() gives the generic message. */
enum {
    FW_OK = 0,
    FW_EINVAL = -1,    /* a parameter is out of range or malformed */
    FW_EOPEN = -2,     /* the input cannot be opened or read */
    FW_EFORMAT = -3,   /* the input is not a media file libavformat understands */
    FW_ENOVIDEO = -4,  /* the input has no video stream */
    FW_EDECODE = -5,   /* no frame of the video stream could be decoded */
    FW_ENOMEM = -6,    /* out of memory */
    FW_EIO = -7,       /* writing an output failed */
    FW_ECANCELED = -8, /* a callback asked to stop, or fw_analysis_cancel */
    FW_EINTERNAL = -9, /* a library call failed unexpectedly */
    FW_ENET = -10      /* the model server cannot be reached, or refuses every request
                          (authentication, unknown model) */
};

typedef struct fw_error {
    int code;          /* FW_E* or FW_OK */
    char message[512]; /* one line naming the input and the reason */
} fw_error;

FW_API const char *fw_strerror(int code);

typedef enum fw_policy {
    FW_POLICY_AUTO = 0, /* cuts + change vs last kept + max gap - near-duplicates, budget */
    FW_POLICY_INTERVAL, /* a fixed rate (fps) */
    FW_POLICY_MOTION,   /* the seed's method: interval sampling + motion threshold */
    FW_POLICY_SCENE,    /* one frame after each cut, minimum scene length */
    FW_POLICY_IFRAME    /* the stream's own keyframes, decoded with the non-key skip */
} fw_policy;

FW_API const char *fw_policy_name(fw_policy p);
FW_API int fw_policy_parse(const char *name, fw_policy *out); /* 0 or FW_EINVAL */

/* Job settings. Every field is described once in the settings table
 * (src/core/settings.c), which also gives the defaults, ranges and --help text. */
typedef struct fw_params {
    fw_policy policy;        /* keyframe policy */
    double fps;              /* interval/motion: sampling rate, frames per second */
    double motion_threshold; /* motion/auto: mean abs luma difference vs last kept, 0..255 */
    double area_threshold;   /* auto: fraction of thumbnail blocks changed vs last kept and
                                settled (still for settle_s) that makes a new state, 0..1,
                                raised by the fraction of blocks still moving */
    double max_gap_s;        /* auto: keep at least one frame every max_gap_s seconds (0: off) */
    double min_gap_s;        /* auto: at least this long between kept frames, except at cuts */
    double min_scene_s;      /* scene/auto: minimum scene length in seconds */
    double cut_threshold;    /* cut score (histogram distance + luma change, 0..1) of a cut */
    double settle_s;         /* auto: how long a change must stay still to be a new state, and
                                how long a cut or large motion may wait to settle */
    int dup_bits;            /* auto: perceptual-hash distance (bits) counted as a near-duplicate */
    int budget;              /* keep at most this many keyframes in the whole video (0: none) */
    double max_rate;         /* auto: at most this many keyframes a minute (0: no bound): over
                                it, pictures that did not hold (mid-motion, mid-animation)
                                are dropped, least informative first; states that held, the
                                first and the last frame are always kept */
    int threads;             /* decoder threads (0: one per core) */
    int jpeg_quality;        /* JPEG quality of written keyframes, 1..100 */
    int max_pixels;          /* scale keyframe images to at most this many pixels, each side a
                                multiple of 32 as Qwen-VL models cut them (0: full size) */
    /* analyze. Strings are the caller's and must outlive the job. */
    const char *backend;  /* "local", "openai" or "openai+local" (NULL: openai when url is
                             set, else local) */
    const char *ocr_lang; /* local: Tesseract languages (NULL: "eng+chi_sim") */
    int ocr_threads;      /* local: OCR workers, one Tesseract engine each (0: one per core) */
    /* analyze, openai backend */
    const char *url;           /* OpenAI-compatible server, e.g. http://localhost:8080/v1,
                                  or several, comma-separated: each request goes to the
                                  least busy that answers (at most 16) */
    const char *model;         /* model name (NULL: the server's first model) */
    const char *api_key;       /* sent as "Authorization: Bearer" (NULL: none); never logged */
    const char *prompt;        /* the question about each frame (NULL: the built-in one) */
    const char *system_prompt; /* NULL: the built-in one */
    int concurrency;           /* requests in flight per server (0: its slots, else 4) */
    int window;                /* keyframes per request (1: one each) */
    int whole_frames;          /* 1: every keyframe whole at the image budget; 0: a keyframe
                                  whose change is local goes as its changed regions, a
                                  whole one first at first_image_tokens, a window at
                                  per-image budgets */
    int first_image_tokens;    /* the first ask's budget of a whole keyframe; asked again at
                                  the image budget when the answer hedges (0: off) */
    int refresh;               /* at least every refresh-th keyframe goes whole */
    int retries;               /* retries of a failed request (429, 5xx, network, timeout) */
    double timeout_s;          /* per request */
    int max_tokens;            /* answer length limit per request */
    double temperature;
    int logprobs; /* 1: ask for token logprobs to estimate confidence */
    /* the story (fw_story_*): segments, events, summary, review */
    double min_confidence;      /* observations below it are kept but left out of fusion */
    double segment_threshold;   /* cosine of texts that keeps adjacent observations together */
    const char *embed_url;      /* /v1/embeddings server (NULL: built-in n-gram vectors) */
    const char *embed_model;    /* NULL: the embeddings server's first model */
    const char *events;         /* events file (JSON; NULL: none) */
    const char *lexicon;        /* safety lexicon files, comma-separated (NULL: none) */
    const char *summary;        /* "auto" (NULL), "llm", "extractive" or "none" */
    const char *llm_url;        /* chat server of the summary (NULL: url's first, the VLM's) */
    const char *llm_model;      /* NULL: model when llm_url is unset, else the server's first */
    const char *summary_prompt; /* what the summary is for (NULL: a general instruction) */
    int summary_window;         /* tokens of observations per summary request (map-reduce) */
    /* waiting: nothing outside may hold a job for ever */
    double read_timeout_s;   /* an input (a pipe, a FIFO, a network stream) that gives no byte
                                for this long fails with a clear error (0: wait for ever) */
    double stall_timeout_s;  /* a model server's answer that has begun and then gives less
                                than 1 KB for this long is abandoned and retried (0: off) */
    double max_retry_wait_s; /* a Retry-After is waited at most this long; a retry whose
                                wait passes the frame's deadline ((retries + 1) * timeout_s
                                after its first send) is not made */
    /* long videos and live streams */
    double fusion_window_s; /* fusion runs on this many seconds of observations at a time,
                               so the story's memory does not grow with the video (0: the
                               whole video at the end) */
    const char *live;       /* "auto" (NULL: live for inputs that cannot seek: pipes,
                               network streams), "on" or "off": a live input's segments go
                               out as they close, its report files are rewritten every
                               flush_s, and a stop (signal, cancel) ends it with its report */
    double flush_s;         /* live: seconds between rewrites of the report files (0: none) */
    int reconnect;          /* live: 1: a dropped or stalled network stream is reopened with
                               backoff (up to max_retry_wait_s), the gap in the timeline */
    const char *clock;      /* "media" (NULL) or "wall": every record also gets its wall-clock
                               time (ISO 8601, UTC) */
} fw_params;

FW_API fw_params fw_params_default(void);
/* Checks every field against its range; 0 or FW_EINVAL with the field named in err. */
FW_API int fw_params_validate(const fw_params *p, fw_error *err);

/* Per-frame scores, computed on a small grey/colour thumbnail. */
typedef struct fw_scores {
    double motion;  /* mean abs luma difference vs the last kept frame, 0..255 */
    double area;    /* fraction of 4x4 thumbnail blocks changed (luma or colour) vs the last
                       kept frame, 0..1 */
    double settled; /* the part of area whose blocks have stopped moving (a new state) */
    double moving;  /* fraction of blocks that moved within the settle time (activity) */
    double delta;   /* mean abs luma difference vs the previous scored frame, 0..255 */
    double chroma;  /* mean abs colour difference (|dU| + |dV|) vs the previous scored frame */
    double cut;     /* colour-histogram distance to the previous scored frame, 0..1 */
    double detail;  /* fraction of the fine (256x144) map's 4x4 cells changed vs the last kept
                       frame and still: small changes (a digit, a toast) the 4x4 thumbnail
                       blocks cannot see; measured 10 times a second, else 0 */
    double blur;    /* variance of the Laplacian of the thumbnail (higher = sharper) */
    double luma;    /* mean luma, 0..255 */
    double cb, cr;  /* mean colour (U, V), 0..255 (128: grey): tells red from green of one luma */
    double spread;  /* standard deviation of luma */
    uint64_t hash;  /* 64-bit difference hash (dHash) */
    int black;      /* 1 when the frame is (nearly) black: never kept by auto/scene */
    int flat;       /* 1 when the frame is (nearly) one flat colour */
} fw_scores;

typedef struct fw_video_info {
    const char *path;       /* the input as given */
    const char *codec;      /* decoder name */
    const char *container;  /* demuxer name */
    double duration_s;      /* container duration, or -1 when unknown (pipes, live) */
    int width, height;      /* display size, after rotation */
    int rotation;           /* clockwise degrees applied for display (as FFmpeg's autorotate):
                               0, 90, 180, 270 */
    double fps;             /* average frame rate, or 0 when unknown */
    int64_t frames_decoded; /* frames the decoder produced so far */
    int64_t decode_errors;  /* packets or frames the decoder rejected */
} fw_video_info;

typedef struct fw_keyframe {
    int index;          /* 0-based position in the final keyframe list */
    int64_t frame;      /* 0-based number of the decoded frame */
    double time_s;      /* seconds since the stream's start, from pts */
    int64_t pts;        /* presentation timestamp in the stream time base */
    const char *reason; /* first, cut, motion, change, gap, interval, scene, iframe, last */
    fw_scores scores;
    const uint8_t *jpeg; /* the frame as JPEG (display orientation), or NULL */
    size_t jpeg_size;
    int width, height; /* size of the JPEG (after max_pixels) */
    int image_tokens;  /* what the image costs a Qwen-VL model: (w/32)*(h/32) after
                          rounding each side to a multiple of 32 */
} fw_keyframe;

/* What the model (or the local backend) says about one keyframe. */
typedef struct fw_observation {
    int keyframe;             /* index of the keyframe it describes */
    double time_s;            /* that keyframe's time */
    const char *text;         /* the description ("" when the frame failed) */
    const char *fields;       /* the structured answer, a JSON object text ("{}" when none).
                                 openai: description, actions, text, objects, uncertain;
                                 local: description, text, lines [{text, conf, box}],
                                 text_added, text_removed, text_changed [{from, to}],
                                 colours, brightness, sharp, blur, flat, black, motion,
                                 reason; openai+local: openai's, with local's under "ocr" */
    double confidence;        /* 0..1: from token logprobs when the server gives them, lowered
                                 by answers such as "cannot tell", by blur and by uncertain */
    const char *const *flags; /* n_flags names: uncertain, hedged, blurry, unstructured,
                                 window, schema_fallback, truncated */
    int n_flags;
    const char *backend; /* "openai", "local" or "openai+local" */
    const char *model;   /* the model that answered ("tesseract 5.3.0 eng+chi_sim" for
                            local) */
    double latency_ms;   /* of the request that answered (its last attempt) */
    int image_tokens;    /* image tokens sent for this frame */
    int prompt_tokens;   /* the request's usage, shared out over its frames */
    int completion_tokens;
    int attempts;         /* requests made for it (1 + retries) */
    const char *error;    /* NULL, or why this frame has no answer */
    int cached;           /* 1: given back by fw_callbacks.lookup (no request was made) */
    const char *sent;     /* how the keyframe went to the model: "whole" (at the image budget),
                             "low" (at first-image-tokens, answered there), "again" (low, then
                             asked again at the image budget), "crop" (its changed regions,
                             with the last whole keyframe's description), "none" (no request:
                             a text change the OCR read), "same" (no request: nothing changed
                             since the last whole keyframe, whose answer it gets);
                             NULL for the local backend and stored observations */
    int n_regions;        /* sent "crop": the changed regions sent, as fractions of the */
    double regions[3][4]; /* picture: left, top, width, height */
} fw_observation;

/* Counters of a run, complete after fw_job_run returns. */
typedef struct fw_stats {
    int64_t frames_decoded;
    int keyframes;
    int observations;
    int requests; /* HTTP requests sent, retries included */
    int retries;
    int failed;           /* keyframes left without an answer */
    int cached;           /* observations given back by fw_callbacks.lookup */
    int64_t image_tokens; /* estimated image tokens sent (counted once per keyframe) */
    int64_t prompt_tokens, completion_tokens; /* as the server reported them */
    double decode_s, analyze_s, total_s;      /* analyze_s: first request to last answer */
    int64_t text_tokens; /* the prompts' text: prompt tokens beyond the images sent */
    int crops;           /* keyframes sent as their changed regions (fw_observation.sent) */
    int low_asks;        /* keyframes asked first at the lower first-image-tokens budget */
    int asked_again;     /* ...of which asked again at the image budget (the answer hedged) */
    int avoided;         /* keyframes answered from the OCR with no request */
    int unchanged;       /* keyframes answered with the last whole one's answer, no request */
} fw_stats;

typedef struct fw_scene {
    int index;           /* 0-based */
    int64_t start_frame; /* first frame of the scene */
    int64_t end_frame;   /* last frame of the scene (inclusive) */
    double start_s;      /* time of the first frame */
    double end_s;        /* time the scene ends: the next scene's start, or the video end */
} fw_scene;

typedef struct fw_callbacks {
    /* A kept keyframe, in time order. It runs on the job's writer thread (one call at a
     * time, never concurrently with another on_keyframe); the other callbacks run on
     * the thread that called fw_job_run. Return non-zero to stop the job
     * (FW_ECANCELED). When NULL (and on_observation is NULL too), no JPEG is encoded. */
    int (*on_keyframe)(void *user, const fw_keyframe *kf);
    /* A finished scene, in time order; the last one comes at the end of the video. */
    void (*on_scene)(void *user, const fw_scene *scene);
    /* Progress: seconds decoded and the duration (-1 when unknown). */
    void (*on_progress)(void *user, double done_s, double total_s);
    /* A non-fatal problem worth one line on stderr (damaged packets, ...). */
    void (*on_warning)(void *user, const char *message);
    /* An observation, in keyframe order, while the job runs (on the job's analyzer thread,
     * one at a time). When set, every keyframe goes to the backend (params->backend):
     * with openai, fw_job_run first checks that params->url answers (at most ~5 s;
     * FW_ENET if not; of several, at least one, on_warning naming the others); with local, that the
     * OCR languages are installed (FW_EINVAL). A frame that fails (after its retries) still comes,
     * with its error. Return non-zero to stop the job. */
    int (*on_observation)(void *user, const fw_observation *obs);
    /* Optional, with on_observation: an observation stored earlier for this keyframe (a
     * resumed job, a cache). Called on the writer thread before the keyframe goes to the
     * backend; return 1 with *out filled (its strings must stay valid until the next
     * lookup: they are copied at once) to use it instead, 0 to ask the backend. It comes back
     * through on_observation in its place, with cached set. */
    int (*lookup)(void *user, const fw_keyframe *kf, fw_observation *out);
    void *user;
} fw_callbacks;

typedef struct fw_job fw_job;

/* Opens the input (a path, "-" for stdin, or any URL libavformat opens) and its best
 * video stream. On success *out owns the input until fw_job_close. */
FW_API int fw_job_open(fw_job **out, const char *input, const fw_params *params, fw_error *err);
/* The video's description; frames_decoded and decode_errors grow while running. */
FW_API const fw_video_info *fw_job_video(const fw_job *job);
/* Decodes to the end, calling back as it goes. Runs once per job. */
FW_API int fw_job_run(fw_job *job, const fw_callbacks *cb, fw_error *err);
/* The run's counters (valid after fw_job_run, also after a failed run). */
FW_API void fw_job_stats(const fw_job *job, fw_stats *out);
/* Frees the job; accepts NULL. */
FW_API void fw_job_close(fw_job *job);

/* The story of a run: observations fused over time.
 * - the confidence gate: failed, empty and low-confidence (min_confidence) observations
 *   are kept by the caller but left out of fusion;
 * - segments: adjacent observations with similar texts (text embeddings: embed_url, or
 *   built-in character n-grams) merged, with start, end, text and keyframes;
 * - events (the events file): single phrases and ordered multi-step flows, with times,
 *   scores and evidence;
 * - summary: an LLM's (llm_url, else url), map-reduced over windows of the timestamped
 *   observations, or an extractive one from the segments;
 * - review: safety lexicons matched on every text output (observations, summary).
 * Ownership: the caller owns the story (open/close) and the strings it gets (free()). */
typedef struct fw_story fw_story;

/* Loads the events and lexicon files (FW_EOPEN / FW_EINVAL naming the file) and, with
 * embed_url, learns the embeddings model (FW_ENET). */
FW_API int fw_story_open(fw_story **out, const fw_params *p, fw_error *err);
/* Adds an observation (in keyframe order; what is needed is copied). *gate: why it is
 * left out of fusion ("failed", "empty", "low_confidence"; a static string) or NULL.
 * *events: the single events it fires, as a JSON array text (caller frees), or NULL. */
FW_API int fw_story_add(fw_story *s, const fw_observation *obs, const char **gate, char **events,
                        fw_error *err);
/* Fuses everything added: a JSON object text {segments, events, summary, review, fusion}
 * (caller frees; docs/analyze.md). duration_s: the video's end (< 0: unknown). A summary
 * server that fails does not fail the story: the summary is extractive, with "error". */
FW_API int fw_story_finish(fw_story *s, double duration_s, char **json, fw_error *err);
/* Accepts NULL. */
FW_API void fw_story_close(fw_story *s);

/* ---------------------------------------------------------------- settings by name
 * Every fw_params field has one name in the settings table (the CLI's long option
 * without "--": "max-gap", "url", ...). HTTP options, queue messages, presets and the
 * command line all set and check fw_params through these calls, with one validator.
 * Messages name the setting ("max-gap: must be >= 0"), never a command-line flag. */

/* Sets one setting from text. String values are not copied: value must outlive every use
 * of p (NULL unsets a string setting); 0|1 settings also take "true"/"false". 0, or
 * FW_EINVAL (unknown name, malformed or out-of-range value); p is unchanged on error. */
FW_API int fw_params_set(fw_params *p, const char *name, const char *value, fw_error *err);
/* The setting's value as text into buf (secrets as "***" when set, "" when not); 0, or
 * FW_EINVAL for an unknown name (FW_ENOMEM when buf is too small). */
FW_API int fw_params_get(const fw_params *p, const char *name, char *buf, size_t size,
                         fw_error *err);
/* The i-th setting's name (0-based), NULL past the end: to walk every setting (aliases
 * such as "max-image-tokens", another way to set max-pixels, included). */
FW_API const char *fw_params_name(int i);
/* Sets the members of a JSON object text ({"max-gap": 5, "policy": "auto", ...}; numbers,
 * strings or booleans as the setting's type takes them; null unsets a string setting).
 * *strings receives the storage of the string values: free() it after the last use of p
 * (NULL when none; strings may be NULL only when no member is a string). Nothing is set
 * unless every member is valid. 0, or FW_EINVAL naming the member. */
FW_API int fw_params_from_json(fw_params *p, const char *json, char **strings, fw_error *err);
/* Every setting of p as a JSON object text (secrets and aliases left out; unset strings as
 * null; numbers exact: fw_params_from_json gives p back), caller frees; NULL when out of
 * memory or a string is not UTF-8. */
FW_API char *fw_params_to_json(const fw_params *p);

/* ---------------------------------------------------------------- logging
 * The library never writes to stdout or stderr itself. Messages (libav's when the level
 * allows, warnings, the selector's and the OCR's traces for tuning at FW_LOG_TRACE) go
 * to one process-wide callback; NULL (the default) drops them. Thread-safe: the callback
 * may be called from any thread, one line at a time (never concurrently, under a lock:
 * it must not call into framewise at all, or it deadlocks on a call that logs). Once
 * fw_set_log returns, the previous callback is not called again. */
enum { FW_LOG_ERROR = 0, FW_LOG_WARN = 1, FW_LOG_INFO = 2, FW_LOG_DEBUG = 3, FW_LOG_TRACE = 4 };
typedef void (*fw_log_fn)(void *user, int level, const char *line);
/* Sends messages up to max_level (FW_LOG_*; -1: none) to fn. */
FW_API void fw_set_log(fw_log_fn fn, void *user, int max_level);

/* ---------------------------------------------------------------- one analysis
 * What `framewise analyze` does, as one call: a preset applied to the settings, the
 * store consulted (a finished result for the same video and settings is given back
 * without decoding; a job interrupted earlier resumes; frames asked before are not asked
 * again), keyframes, observations, the story, the report and the output files, with
 * typed events as it goes. The CLI and the service are front ends over these calls.
 * Ownership: the caller owns the fw_analysis (open/close); what an event gives is valid
 * during the callback only; the report text and the settings stay the analysis'. */

/* An analysis' image budget when the caller leaves max_pixels alone (fw_params_default()
 * has 0, full size, which `framewise keyframes` writes): 0.45 MP, 896x480 for 16:9, 420
 * Qwen-VL image tokens instead of 2,040 at 1080p. */
#define FW_ANALYSIS_MAX_PIXELS (448 * 1024)

/* What the analysis does beyond the settings (fw_analysis_open copies the strings). */
/* What a run has been answered, kept outside this machine (a shared queue's notes), so that
 * a run of the same input and settings elsewhere asks no frame again: the observations of
 * load() whose keyframe and time match are given back, as the store gives back those of
 * an interrupted job. Called on the analysis' threads; the caller keeps it alive. */
typedef struct fw_journal {
    void *user;
    /* The observations kept so far: malloc'd JSON text of an object {"<keyframe>": obs},
     * or NULL when there are none. */
    char *(*load)(void *user);
    /* An observation answered now (report.json's observation, JSON text). */
    void (*record)(void *user, int keyframe, const char *observation);
} fw_journal;

typedef struct fw_analysis_opts {
    const char *preset; /* NULL: "general"; "none"; a preset name or a .json file */
    /* Names of the settings the caller chose (fw_params_name's names, NULL-terminated, or
     * NULL). Neither the analysis' own defaults (max-pixels FW_ANALYSIS_MAX_PIXELS, applied
     * where p still has fw_params_default()'s value) nor the preset override them; an
     * alias counts for its field ("max-image-tokens" for "max-pixels"). */
    const char *const *chosen;
    const char *store;   /* the store's path (NULL: $XDG_CACHE_HOME/framewise/framewise.db) */
    int no_store;        /* 1: neither reuse nor record anything */
    const char *out_dir; /* where the outputs and keyframes go (created; NULL: no files) */
    const char *formats; /* "all" (NULL) or a comma-separated list of json,jsonl,vtt,srt,md,html */
    int64_t append;      /* > 0: the input continues that job's recording (needs the store) */
    const char *input_name; /* how the report and the store name the input (NULL: as given) */
    const struct fw_journal *journal; /* where the run's answers are also kept, or NULL */
} fw_analysis_opts;
FW_API fw_analysis_opts fw_analysis_opts_default(void);

typedef enum fw_event_type {
    FW_EVENT_STAGE = 0,   /* a stage begins: {"stage": "decode" (with "job": the store's job
                             or null, "resumed": observations stored by an interrupted run),
                             "analyze" (decoding is over), "story", "write"} */
    FW_EVENT_PROGRESS,    /* {"stage": "decode" (done, total: seconds; total -1: unknown) or
                             "analyze" (observations of keyframes) or "write" (1 of 1),
                             "done", "total", "fraction": of the whole, 0..1, never less}:
                             at most every 0.1 s, and once at the end of a stage */
    FW_EVENT_KEYFRAME,    /* the keyframe record (report.json's keyframes[i]) */
    FW_EVENT_OBSERVATION, /* the observation record, after its keyframe's */
    FW_EVENT_SEGMENT,
    FW_EVENT_EVENT, /* a named event: single ones as they fire, then every event */
    FW_EVENT_SUMMARY,
    FW_EVENT_REVIEW,
    FW_EVENT_WARNING, /* {"message"}: a non-fatal problem (damaged packets, a summary server
                         that failed) */
    FW_EVENT_DONE,    /* {"state": "done" or "cancelled", "cached": a stored result was given
                         back, "stats", "written": the files}: the last event */
    FW_EVENT_ERROR    /* {"state": "failed", "code", "message", "stats"?, "written"}: the last
                         event of a failed run (no done follows) */
} fw_event_type;

/* The records KEYFRAME .. REVIEW are the lines report.jsonl gets, in the same order and
 * text; the other events are not written there. */
typedef struct fw_event {
    fw_event_type type;
    const char *name;  /* "stage", "progress", "keyframe", ... (the JSONL record's type) */
    const char *json;  /* the event as one JSON object text, with "type" first */
    const char *stage; /* FW_EVENT_STAGE, FW_EVENT_PROGRESS: the stage */
    double done, total, fraction; /* FW_EVENT_PROGRESS */
} fw_event;

/* Called on the thread running fw_analysis_run, one event at a time, in order. It may call
 * fw_analysis_cancel and fw_analysis_get_state; a slow callback holds the analysis up
 * (a bounded queue), it never loses events (unless memory runs out). */
typedef void (*fw_event_fn)(void *user, const fw_event *ev);

typedef enum fw_analysis_state {
    FW_ANALYSIS_READY = 0,
    FW_ANALYSIS_RUNNING,
    FW_ANALYSIS_DONE,
    FW_ANALYSIS_FAILED,
    FW_ANALYSIS_CANCELLED
} fw_analysis_state;
FW_API const char *fw_analysis_state_name(fw_analysis_state s); /* "ready", "running", ... */

typedef struct fw_analysis fw_analysis;

/* Applies the analysis' defaults and the preset to a copy of *params (NULL: the defaults;
 * its strings must outlive the analysis), validates it, opens the store and, unless the
 * store has the result, the input and the story's files. On success *out owns them until
 * fw_analysis_close. Returns 0, FW_EINVAL (a setting, chosen, the preset, the formats, the
 * append job), FW_EOPEN (the store is not one or is read-only; the input), FW_EFORMAT,
 * FW_ENOVIDEO (the input), FW_EIO (the store, the output directory), FW_ENET (the
 * embeddings server), FW_ENOMEM. */
FW_API int fw_analysis_open(fw_analysis **out, const char *input, const fw_params *params,
                            const fw_analysis_opts *opts, fw_error *err);
/* Runs to the end (once; fn may be NULL). Partial results are kept: after a failure (once
 * a frame was decoded) or a cancel, the report and the outputs are still written from
 * what was done, with "error" (and "cancelled": true). Returns 0, FW_ECANCELED, or the
 * error (FW_ENET: the model server; FW_EIO: an output; ...); FW_EINVAL when run again. */
FW_API int fw_analysis_run(fw_analysis *a, fw_event_fn fn, void *user, fw_error *err);
/* Asks the analysis to stop; thread-safe and async-signal-safe (it sets a flag), from
 * any thread or a signal handler, before or during fw_analysis_run: decoding stops
 * (libavformat's interrupt callback), model requests in flight are abandoned within
 * ~0.1 s, the story's LLM calls stop; the run ends with state cancelled. A live run (the
 * live setting) ends instead: its story is finished (a second cancel stops its LLM calls)
 * and written, and the state is done. Before the run:
 * the run does nothing. Once the report is made (or a stored result is being given
 * back), there is nothing left to stop: the files are written and the run ends done. */
FW_API void fw_analysis_cancel(fw_analysis *a);
FW_API fw_analysis_state fw_analysis_get_state(const fw_analysis *a); /* thread-safe */
/* The report (schema framewise.report/1) as JSON text, the same as report.json; NULL before
 * the run ends, or when nothing was decoded. Made on the first call (a long video's is
 * large: a caller that reads report.json need not ask). Owned by the analysis. */
FW_API const char *fw_analysis_report(const fw_analysis *a);
/* The settings in effect (after the defaults and the preset). Owned by the analysis. */
FW_API const fw_params *fw_analysis_params(const fw_analysis *a);
/* Accepts NULL. Not while fw_analysis_run runs. */
FW_API void fw_analysis_close(fw_analysis *a);

/* Presets: the names found (the first folder with general.json among $FRAMEWISE_PRESETS,
 * next to the program, the installed share/framewise/presets, the source tree), sorted,
 * one per call, NULL past the end; *description (when not NULL) gets its one line. */
FW_API const char *fw_preset_name(int i, const char **description);

/* Kept from 0.1, on top of fw_set_log: 0 drops every message (fw_set_log(NULL, ...)); 1
 * writes warnings and errors, 2 info too, to stderr, as the caller asks. */
FW_API void fw_set_log_level(int level);

/* ---------------------------------------------------------------- job queue
 * A durable queue of analyses, for front ends that take work from elsewhere
 * (`framewise serve`): an item is pushed ("queued"), claimed by a worker ("running"),
 * updated while it runs, and finished ("done", "failed" or "cancelled"). The default
 * queue lives in the store's SQLite file (its table "queue"), so a server that was killed
 * finds its queued and interrupted items again when it opens the queue. A Redis queue
 * ("redis://HOST:PORT/NAME", Streams with a consumer group) is shared by the processes of
 * several machines: see fw_queue_open and the calls after fw_queue_state_name.
 * Ownership: the caller owns the queue (open/close) and every fw_queue_item filled for
 * it (fw_queue_item_clear). A queue may be used from several threads at once.
 * Return codes: as below, or a negative FW_E* code with err set (FW_EOPEN: the file,
 * FW_EIO: a statement failed). */
typedef struct fw_queue fw_queue;

typedef struct fw_queue_item {
    int64_t id;     /* > 0, in push order */
    char state[16]; /* "queued", "running", "done", "failed" or "cancelled" */
    char *payload;  /* the submission as pushed (the caller's JSON text) */
    char *key;      /* its idempotency key, or NULL */
    char *status;   /* the last fw_queue_update text, or NULL */
    char *result;   /* the fw_queue_finish text, or NULL */
    double created_s, started_s, finished_s; /* Unix times; 0: not yet */
    int attempts;                            /* times claimed: 2 after one interrupted run */
    int lost; /* of those, claims taken over from a process not heard of (a shared queue's;
                 0 on the SQLite queue) */
} fw_queue_item;
/* Frees the item's strings (accepts an item never filled, zeroed). */
FW_API void fw_queue_item_clear(fw_queue_item *it);

/* Opens the queue of the store at path (NULL: the default store, as fw_analysis_opts).
 * Items that a process no longer alive was running (killed, crashed) are queued again,
 * ahead of newer ones, their attempts kept: they run again and the analysis resumes
 * through the store. So are items under this process's own pid while it has claimed
 * none from this store: an earlier process had the pid (a container's PID 1). */
FW_API int fw_queue_open(fw_queue **out, const char *path, fw_error *err);
/* path "redis://...": the Redis queue, as fw_queue_open_redis with FW_QUEUE_CLAIM_AFTER_S.
 * The Redis queue NAME on a Redis server (redis://[:PASSWORD@]HOST:PORT/NAME; NAME: up to
 * 64 of A-Z a-z 0-9 _ . -): items are stream entries read through the consumer group
 * "workers"; an item whose claimer has not been heard of for claim_after_s seconds (a
 * killed process, a lost machine) is claimed again by the next fw_queue_claim (XAUTOCLAIM)
 * with its attempts counted. A process keeps the items it runs alive on a thread of its
 * own. FW_EOPEN when the server cannot be reached or the URL is not one. */
FW_API int fw_queue_open_redis(fw_queue **out, const char *url, double claim_after_s,
                               fw_error *err);
/* Accepts NULL. */
FW_API void fw_queue_close(fw_queue *q);

/* A Redis queue's claim-after when fw_queue_open opens one (fw_queue_open_redis sets it). */
#define FW_QUEUE_CLAIM_AFTER_S 30.0
/* What fw_queue_push did. */
enum { FW_QUEUE_ADDED = 0, FW_QUEUE_EXISTING = 1, FW_QUEUE_FULL = 2 };
/* Adds an item with payload (copied), unless key (NULL: none) names an item already
 * (*id is that one: FW_QUEUE_EXISTING) or max_queued items (0: no bound) are queued
 * (*id 0: FW_QUEUE_FULL). Returns FW_QUEUE_*, or a negative FW_E* code. */
FW_API int fw_queue_push(fw_queue *q, const char *payload, const char *key, int max_queued,
                         int64_t *id, fw_error *err);
/* The item with idempotency key (NULL: none): 1 with *id, 0 when there is none. */
FW_API int fw_queue_find(fw_queue *q, const char *key, int64_t *id, fw_error *err);
/* The oldest queued item becomes running, owned by this process: 1 with *it filled,
 * 0 when nothing is queued. */
FW_API int fw_queue_claim(fw_queue *q, fw_queue_item *it, fw_error *err);
/* A running item this process claimed goes back to the queue, its attempts kept (it was
 * interrupted, not ended: the next claim resumes it): 1; 0 when it is not running here. */
FW_API int fw_queue_requeue(fw_queue *q, int64_t id, fw_error *err);
/* Replaces a running item's status text (copied). */
FW_API int fw_queue_update(fw_queue *q, int64_t id, const char *status, fw_error *err);
/* Ends an item: state "done", "failed" or "cancelled", with its result text (copied): 0;
 * 1 when it was not this process's to end (on a shared queue: it ended already, or it was
 * claimed again by another process after this one was not heard of). */
FW_API int fw_queue_finish(fw_queue *q, int64_t id, const char *state, const char *result,
                           fw_error *err);
/* A queued item becomes cancelled: 1; 0 when it is not queued (running, ended, none); on
 * a shared queue, 2 when it runs in another process, which was asked to cancel it
 * (FW_QUEUE_MSG_CANCEL reaches its listener). */
FW_API int fw_queue_cancel(fw_queue *q, int64_t id, fw_error *err);
/* 1 with *it filled, 0 when there is no such item. */
FW_API int fw_queue_get(fw_queue *q, int64_t id, fw_queue_item *it, fw_error *err);
/* Items newest first: those in state (NULL: any) with an id below before (0: from the
 * newest), at most max of them into items[]; returns how many (each to clear). */
FW_API int fw_queue_list(fw_queue *q, const char *state, int64_t before, fw_queue_item *items,
                         int max, fw_error *err);
/* How many items are in each state, in the order of fw_queue_state_name. */
#define FW_QUEUE_N_STATES 5
FW_API int fw_queue_counts(fw_queue *q, int64_t counts[FW_QUEUE_N_STATES], fw_error *err);
/* "queued", "running", "done", "failed", "cancelled" for 0..4, else NULL. */
FW_API const char *fw_queue_state_name(int i);

/* Shared queues (Redis): what the processes that share a queue tell each other, and what
 * a job leaves for the others. On the SQLite queue, which one process serves, messages
 * go nowhere and nothing is kept: the calls return 0 (fw_queue_get_file, fw_queue_notes:
 * 0, none). */
/* 1 when several processes (machines) share the queue. */
FW_API int fw_queue_shared(const fw_queue *q);
/* What a message says about item id. */
enum {
    FW_QUEUE_MSG_EVENT = 0,  /* text: a progress message of a running item (JSON) */
    FW_QUEUE_MSG_END = 1,    /* text: its last message (JSON): it has ended */
    FW_QUEUE_MSG_CANCEL = 2, /* a client asked to cancel it; text "" */
    FW_QUEUE_MSG_QUEUED = 3  /* it was pushed; text "" */
};
typedef void (*fw_queue_listener)(void *user, int64_t id, int kind, const char *text);
/* Tells the other processes (not this one). */
FW_API int fw_queue_publish(fw_queue *q, int64_t id, int kind, const char *text, fw_error *err);
/* fn hears every message of the other processes, on a thread of the queue's, from now
 * until fw_queue_close (one listener per queue; a second call: FW_EINVAL). A listener
 * also hears FW_QUEUE_MSG_CANCEL for an item this process runs whose cancel it missed. */
FW_API int fw_queue_listen(fw_queue *q, fw_queue_listener fn, void *user, fw_error *err);
/* A file an item's run made (its report, its keyframes), kept beside the item for
 * whichever process serves it: data (n bytes, copied). */
FW_API int fw_queue_put_file(fw_queue *q, int64_t id, const char *name, const void *data, size_t n,
                             fw_error *err);
/* 1 with *data (malloc'd, NUL-terminated; the caller frees) and *n, 0 when there is none. */
FW_API int fw_queue_get_file(fw_queue *q, int64_t id, const char *name, char **data, size_t *n,
                             fw_error *err);
/* An item's notes: what its runs answered so far, for the process that takes it over
 * (fw_journal). note (JSON text) under name (a keyframe's number) replaces the last. */
FW_API int fw_queue_note(fw_queue *q, int64_t id, const char *name, const char *note,
                         fw_error *err);
/* 1 with *notes (malloc'd JSON text: an object of name: note) when there are some, else 0. */
FW_API int fw_queue_notes(fw_queue *q, int64_t id, char **notes, fw_error *err);

#ifdef __cplusplus
}
#endif
#endif
