/* fuse: from per-frame observations to the story with times.
 * - embeddings: text to unit vectors, from an OpenAI-compatible /v1/embeddings server or
 *   a built-in hashed character n-gram vector (no model; Chinese and English);
 * - segments: adjacent observations with similar texts merge;
 * - events: named events (single phrases, or ordered steps) matched over time;
 * - summary: an LLM's summary and key moments (map-reduce over windows of the
 *   timestamped observations), or an extractive one from the segments.
 * In: fw_moment lists in time order (texts borrowed). Out: structs or jansson values
 * the caller owns (said per function). Thread-compatible: one caller per handle.
 */
#ifndef FW_FUSE_H
#define FW_FUSE_H

#include <jansson.h>
#include <stdatomic.h>

#include "framewise.h"

/* An observation as fusion sees it. */
typedef struct fw_moment {
    double time_s;
    int keyframe;
    const char *text;
    double confidence;
    int usable; /* passed the confidence gate: only usable moments drive fusion */
} fw_moment;

/* ---- embeddings ---- */

#define FW_NGRAM_DIM 1024

typedef struct fw_embed_params {
    const char *url;     /* /v1 API base of an embeddings server; NULL: the n-gram vectors */
    const char *model;   /* NULL: the server's first model */
    const char *api_key; /* NULL: none */
    double timeout_s;
    int retries;
    double stall_timeout_s;  /* fw_http_params' stall_s */
    double max_retry_wait_s; /* fw_http_params' */
} fw_embed_params;

typedef struct fw_embedder fw_embedder;

/* Opens an embedder; for a server, asks it once for its model when none is given. */
int fw_embedder_open(fw_embedder **out, const fw_embed_params *p, fw_error *err);
/* "ngram-1024", or the server's model name. */
const char *fw_embedder_name(const fw_embedder *e);
/* Embeds n texts: *out (n * *dim floats, L2-normalised, malloc'd: the caller frees).
 * A server gets batches; an input too large for it is cut shorter (at a UTF-8
 * boundary) until it fits. */
int fw_embed(fw_embedder *e, const char *const *texts, int n, float **out, int *dim, fw_error *err);
/* HTTP requests made so far (0 for n-grams). */
int fw_embedder_requests(const fw_embedder *e);
void fw_embedder_close(fw_embedder *e);

/* The built-in vector of text: hashed, signed features of the folded text (words and
 * character 3..5-grams of Latin-script words, character 1..3-grams of CJK runs),
 * L2-normalised (all zero for a text without features). */
void fw_embed_ngrams(const char *text, float out[FW_NGRAM_DIM]);
float fw_cosine(const float *a, const float *b, int dim);

/* ---- segments ---- */

typedef struct fw_segment {
    double start_s, end_s;
    int *members; /* moment indices, in time order */
    int n_members;
    int rep;           /* the representative moment: the one closest to the others */
    double confidence; /* mean of the members' */
} fw_segment;

/* Walks the usable moments in time order: one joins the open segment when the cosine of
 * its vector (emb + i * dim) with the segment's mean vector is >= threshold, else it
 * opens a new one. A segment ends where the next begins (the last at end_s, or its
 * last moment's time when end_s is not after it). *out is malloc'd: free with
 * fw_segments_free. */
int fw_segments(const fw_moment *m, int n, const float *emb, int dim, double threshold,
                double end_s, fw_segment **out, int *n_out);
void fw_segments_free(fw_segment *s, int n);

/* The same walk as the moments come, with memory bounded by the open segment (its
 * members' ids and keyframes, and up to 256 distinct texts that may represent it; a
 * segment with more distinct texts is represented by one of its first 256). */
typedef struct fw_segmenter fw_segmenter;
/* A segment the segmenter gives: every pointer malloc'd (fw_seg_clear frees them). */
typedef struct fw_seg {
    int index; /* 0, 1, ... in time order */
    double start_s, end_s;
    int *ids, *keyframes; /* the members' ids (as pushed) and keyframes, n_members each */
    int n_members;
    char *text; /* the representative's */
    int keyframe, rep_id;
    float *vec; /* the representative's vector (dim floats) */
    double confidence;
} fw_seg;
void fw_seg_clear(fw_seg *s);
/* NULL when out of memory. */
fw_segmenter *fw_segmenter_new(int dim, double threshold);
/* The next usable moment (its text copied when it may represent the segment; id: the
 * caller's number for it) and its vector. 1 when the open segment closed (before this
 * moment, which opens the next): *closed gets it, ending at this moment's time; 0 when
 * none closed; FW_ENOMEM. */
int fw_segmenter_push(fw_segmenter *g, const fw_moment *m, int id, const float *v, fw_seg *closed);
/* The open segment as it stands, ending at end_s (or its last moment): 1 with *out, 0 when
 * none is open, FW_ENOMEM. The segmenter is unchanged. */
int fw_segmenter_peek(const fw_segmenter *g, double end_s, fw_seg *out);
/* As peek, and the segment is closed. */
int fw_segmenter_end(fw_segmenter *g, double end_s, fw_seg *out);
/* Segments closed so far. */
int fw_segmenter_count(const fw_segmenter *g);
void fw_segmenter_free(fw_segmenter *g);

/* ---- events ---- */

typedef struct fw_events fw_events;

/* Parses event definitions: a JSON array (or {"events": [...]}) of {"name",
 * "description", "phrases": [..], "threshold", "steps": [..]?, "window"?}; a step is a
 * phrase or {"name", "phrases": [..]}. source names the file in errors (FW_EINVAL).
 * Definitions accumulate over calls; *e is created on the first. */
int fw_events_parse(fw_events **e, json_t *defs, const char *source, fw_error *err);
int fw_events_count(const fw_events *e);
/* Every phrase of every event (and step), to be embedded in this order. */
int fw_events_phrases(const fw_events *e, const char ***phrases);
/* Matches the events: rel[p * n + i] is the relevance (0..1) of moment i to phrase p.
 * Returns a JSON array (the caller owns it) of occurrences in time order:
 * {name, description, time, end, score, keyframe, evidence} and, for steps, {steps:
 * [{name, time, keyframe, score, evidence}]}. */
json_t *fw_events_match(const fw_events *e, const fw_moment *m, int n, const float *rel);
/* The single events the moment i fires now (as fw_events_match's records, without
 * merging), for streaming; NULL when none. */
json_t *fw_events_at(const fw_events *e, const fw_moment *m, int n, const float *rel, int i);
void fw_events_free(fw_events *e);

/* The same matching as the moments come (fw_events_match is this over a whole list),
 * keeping only the moments the multi-step events' open windows need (their "window"
 * seconds). The events must outlive the stream. NULL when out of memory. */
typedef struct fw_event_stream fw_event_stream;
fw_event_stream *fw_event_stream_new(const fw_events *e);
/* The next moment (text copied) and its relevance to every phrase (fw_events_phrases'
 * order; NULL: none). Returns the occurrences this moment completed (a single event's run
 * that it ended, a multi-step event whose window it completed), as an array the caller
 * owns, or NULL; *rc: 0 or FW_ENOMEM. */
json_t *fw_event_stream_push(fw_event_stream *st, const fw_moment *m, const float *rel, int *rc);
/* Every occurrence so far (open runs as they stand), as fw_events_match orders them. */
json_t *fw_event_stream_peek(const fw_event_stream *st);
/* The end: the open windows are evaluated with what came; every occurrence, ordered. */
json_t *fw_event_stream_end(fw_event_stream *st);
void fw_event_stream_free(fw_event_stream *st);

/* ---- summary ---- */

typedef struct fw_summary_params {
    const char *url;         /* /v1 API base of a chat server; NULL: extractive */
    const char *model;       /* NULL: the server's first */
    const char *api_key;     /* NULL: none */
    const char *instruction; /* what to summarise for (the preset's); NULL: a general one */
    int window_tokens;       /* at most this many (estimated) tokens of observations per request */
    int max_tokens;          /* answer length */
    double timeout_s;
    int retries;
    const atomic_int *cancel; /* once non-zero, requests stop (FW_ECANCELED); NULL: none */
    double stall_timeout_s;   /* fw_http_params' stall_s */
    double max_retry_wait_s;  /* fw_http_params' */
} fw_summary_params;

/* The LLM summary of the usable moments: {method:"llm", model, text, key_moments
 * [{time, text}], windows, requests}. Long inputs are summarised in windows that fit
 * window_tokens (and halved again when the server says they do not fit its context),
 * then the window summaries are merged the same way. The caller owns *out. */
int fw_summary_llm(const fw_summary_params *p, const fw_moment *m, int n, json_t **out,
                   fw_error *err);
/* The extractive summary: the most informative segment texts (new words weighted by
 * confidence and length of time), in time order: {method:"extractive", text,
 * key_moments}. */
/* The same as the moments come: fw_summary_llm is this over a whole list. A window is
 * summarised (a request) by the push that fills it. NULL when out of memory; the strings
 * of p must outlive it. */
typedef struct fw_summarizer fw_summarizer;
fw_summarizer *fw_summarizer_new(const fw_summary_params *p);
/* A usable moment's text (copied). 0, or the first failure (nothing more is sent). */
int fw_summarizer_push(fw_summarizer *z, double time_s, const char *text);
/* The summary, as fw_summary_llm's; 0 or the first failure (err). */
int fw_summarizer_end(fw_summarizer *z, json_t **out, fw_error *err);
void fw_summarizer_free(fw_summarizer *z);

/* The extractive summary as the segments come: the 64 most informative segments are the
 * candidates (with fewer than 65 segments, the same as fw_summary_extractive). */
typedef struct fw_extract fw_extract;
fw_extract *fw_extract_new(int dim);
/* A closed segment: its representative's text and vector (dim floats, copied). */
int fw_extract_push(fw_extract *x, double start_s, double end_s, const char *text,
                    double confidence, const float *vec);
/* The summary so far (the caller owns it): as fw_summary_extractive's. */
json_t *fw_extract_summary(const fw_extract *x);
/* As if one more segment (the open one) had come; x is unchanged. */
json_t *fw_extract_summary_with(const fw_extract *x, double start_s, double end_s, const char *text,
                                double confidence, const float *vec);
void fw_extract_free(fw_extract *x);

json_t *fw_summary_extractive(const fw_moment *m, const fw_segment *s, int n_seg, const float *emb,
                              int dim);

#endif
