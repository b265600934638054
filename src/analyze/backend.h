/* Internal to analyze/: the contract between the analyzer (queues, ordering,
 * merging, delivery, counters) and a backend (which turns frames into answers).
 *
 * Each backend has a lane: its own queue of frames and its own thread, on which run()
 * takes frames, analyses them (several at once, on more threads, if it likes) and
 * posts one answer per frame in any order. The analyzer delivers in keyframe order,
 * once every lane has answered a frame (openai+local: the OCR joins the VLM answer).
 */
#ifndef FW_ANALYZE_BACKEND_H
#define FW_ANALYZE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "analyze/analyze.h"
#include "analyze/change.h"

/* A picture: a malloc'd JPEG and what it costs. */
typedef struct fw_pic {
    uint8_t *jpeg;
    size_t size;
    int width, height, tokens;
} fw_pic;

/* A changed region of a keyframe sent instead of the whole picture. */
typedef struct fw_crop {
    fw_pic pic;
    fw_region at; /* where in the picture */
} fw_crop;

/* How a keyframe went to the model (fw_observation.sent). */
typedef enum fw_sent {
    FW_SENT_WHOLE, /* the picture at the image budget */
    FW_SENT_LOW,   /* the picture at the first ask's lower budget, answered there */
    FW_SENT_AGAIN, /* first low, asked again at the image budget (the answer hedged) */
    FW_SENT_CROP,  /* its changed regions, with the last whole keyframe's description */
    FW_SENT_NONE,  /* no request: a text change the OCR read (openai+local) */
    FW_SENT_SAME   /* no request: the picture is the last whole keyframe's (its answer) */
} fw_sent;

/* One keyframe to analyse. Its pictures belong to the task until it is posted
 * (fw_task_release frees them). */
typedef struct fw_task {
    int keyframe;
    double time_s;
    uint8_t *jpeg;
    size_t size;
    int width, height, image_tokens; /* of the picture sent (fw_oa_fit may shrink it) */
    int planned_tokens;              /* image_tokens when it was submitted (the stats') */
    int spent_tokens;                /* image tokens of an earlier ask (a low first ask) */
    fw_pic full;                     /* the picture at full resolution (NULL jpeg: none) */
    fw_pic hi;                       /* the budget's picture, kept during a low first ask */
    fw_crop crops[FW_MAX_REGIONS];   /* sent instead of the picture when n_crops > 0 */
    int n_crops;
    int base;      /* crops: the keyframe whose description is the context */
    char *context; /* crops: that description (malloc'd) */
    char *ocr;     /* openai+local: the OCR's fields of this keyframe (malloc'd), NULL */
    fw_sent sent;
    double blur;        /* Laplacian variance of the thumbnail (score stage) */
    double motion;      /* mean abs luma difference vs the last kept frame */
    int flat;           /* the frame is one flat colour */
    int black;          /* the frame is (nearly) black */
    const char *reason; /* why the selector kept it (a static string) */
} fw_task;

/* The picture a task sends (jpeg, size, width, height, image_tokens) as a fw_pic, and
 * back. */
static inline fw_pic fw_task_pic(const fw_task *t)
{
    return (fw_pic){t->jpeg, t->size, t->width, t->height, t->image_tokens};
}
static inline void fw_task_set_pic(fw_task *t, fw_pic p)
{
    t->jpeg = p.jpeg;
    t->size = p.size;
    t->width = p.width;
    t->height = p.height;
    t->image_tokens = p.tokens;
}

/* Frees the task's pictures and context (not the task). */
void fw_task_release(fw_task *t);

/* Observation flags (names in fw_obs_flag_names, in bit order). */
enum {
    FW_OBS_UNCERTAIN = 1 << 0,    /* the model said uncertain:true */
    FW_OBS_HEDGED = 1 << 1,       /* the answer says "cannot tell", "unclear", "无法判断" ... */
    FW_OBS_BLURRY = 1 << 2,       /* the frame is blurred (low Laplacian variance) */
    FW_OBS_UNSTRUCTURED = 1 << 3, /* no JSON object in the answer: the text is kept as is */
    FW_OBS_WINDOW = 1 << 4,       /* a window answer that could not be split per frame */
    FW_OBS_SCHEMA_FALLBACK = 1 << 5, /* the server rejected the JSON schema: asked without */
    FW_OBS_TRUNCATED = 1 << 6,       /* the answer hit max_tokens */
    FW_OBS_NFLAGS = 7
};
extern const char *const fw_obs_flag_names[FW_OBS_NFLAGS];

/* Below this Laplacian variance of its thumbnail, a frame that is not one flat colour
 * is blurred: what any backend says about it deserves less trust. */
#define FW_BLUR_LOW 40.0

/* A backend's answer for one frame; the analyzer takes the malloc'd strings. */
typedef struct fw_answer {
    char *text;   /* description (NULL: "") */
    char *fields; /* JSON object text (NULL: "{}") */
    char *error;  /* NULL, or why there is no answer */
    double confidence;
    unsigned flags;
    double latency_ms;
    int prompt_tokens, completion_tokens;
    int attempts;
} fw_answer;

/* A backend's handle on the analyzer: its queue and its place in the merge. */
typedef struct fw_lane fw_lane;

typedef struct fw_backend_ops {
    const char *name;
    /* Prepares (and for servers, probes); state is the backend's. */
    int (*open)(void **state, const fw_params *p, fw_lane *lane, fw_error *err);
    /* The thread body: take, analyse, post, until fw_analyzer_take says the end. */
    void (*run)(void *state);
    /* Wakes run() when frames arrive or the analyzer stops (any thread). */
    void (*wake)(void *state);
    /* Optional: 1 when the backend wants the full-resolution picture of each keyframe
     * too (fw_task.full), beside the picture at the image budget. */
    int (*wants_full)(void *state);
    /* The model that answers (for the observations). */
    const char *(*model)(void *state);
    /* Optional: sees each answer in keyframe order before it is delivered (one call at
     * a time), e.g. to compare a frame with the one before (the text timeline). */
    void (*ordered)(void *state, fw_answer *ans);
    /* Optional: the servers' counts, a JSON array (new reference), once run() returned. */
    struct json_t *(*endpoints)(void *state);
    void (*close)(void *state);
} fw_backend_ops;

extern const fw_backend_ops fw_backend_openai;
extern const fw_backend_ops fw_backend_local;

/* Sets ans->confidence to c (clamped to 0..1), lowered x0.8 and flagged blurry when
 * the task's frame is blurred. */
void fw_answer_confidence(fw_answer *ans, const fw_task *t, double c);

/* Takes up to n frames into out when n are queued, or fewer once input is over.
 * Returns how many, 0 when it should wait (wake() comes), -1 at the end (input over
 * and nothing queued) or when the analyzer stops. */
int fw_analyzer_take(fw_lane *l, fw_task *out, int n);
/* Posts the answer of a taken frame (any thread): frees the task's jpeg and takes
 * the answer's strings; delivers in keyframe order. */
void fw_analyzer_post(fw_lane *l, fw_task *t, fw_answer *ans);
/* Counts requests, retries, the tokens the server reported and the text part of the
 * prompt tokens (what it counted beyond the images). */
void fw_analyzer_count(fw_lane *l, int requests, int retries, int prompt_tokens,
                       int completion_tokens, int text_tokens);
/* The other lane's answer for keyframe (openai+local: the OCR beside the model): 1 with
 * a malloc'd copy of its fields in *fields once it has answered (without an error), 0
 * while it has not, -1 when there is no other lane or it failed. (A lane's wake() is
 * called when another lane posts.) */
int fw_analyzer_peer(fw_lane *l, int keyframe, char **fields);
/* A fatal error: the analyzer stops, submit/finish return it. */
void fw_analyzer_fail(fw_lane *l, const fw_error *err);
/* A non-fatal problem worth a line (a server that does not answer): kept (a copy) until
 * fw_analyzer_warnings hands it to the job, on the job's thread (any thread). */
void fw_analyzer_warn(fw_lane *l, const char *message);
/* 1 once the analyzer stops (fatal error, callback asked to stop, close). */
int fw_analyzer_stopping(fw_lane *l);

#endif
