/* analyze: keyframe images to observations through a backend:
 * - openai: an OpenAI-compatible chat server (llama-server, vLLM, SGLang, Ollama /v1,
 *   LM Studio, hosted APIs) over libcurl's multi interface;
 * - local: Tesseract OCR and visual descriptors on this machine, with a text timeline
 *   (lines added, removed, edited since the previous keyframe);
 * - openai+local: both; the OCR is attached to the model's observation.
 *
 * In:  keyframes in time order (fw_analyzer_submit copies their JPEG and blocks only
 *      while FW_ANALYZE_QUEUE frames wait for a backend).
 * Out: observations through the callback, in keyframe order, on the analyzer thread;
 *      counters through fw_analyzer_stats.
 * Ownership: the caller owns the analyzer (open/close); close stops and joins the
 *      thread. The observation passed to the callback lives only during the call.
 */
#ifndef FW_ANALYZE_H
#define FW_ANALYZE_H

#include <stddef.h>
#include <stdint.h>

#include "core/types.h"

/* Frames waiting for a request slot before fw_analyzer_submit blocks the caller
 * (the decoder), so memory stays bounded when the server is slower than decoding. */
#define FW_ANALYZE_QUEUE 64

typedef struct fw_analyzer fw_analyzer;
typedef int (*fw_observation_fn)(void *user, const fw_observation *obs);

/* Chooses the backend (p->backend; by default openai when p->url is set, else local).
 * openai: checks that the server answers (at most ~5 s; FW_ENET naming the URL if
 * not) and learns the model name and the server's slots when not given. local: loads
 * the OCR languages (FW_EINVAL naming them when not installed). Starts the threads. */
int fw_analyzer_open(fw_analyzer **out, const fw_params *p, fw_observation_fn fn, void *user,
                     fw_error *err);
/* Queues one keyframe (its jpeg, size, time and scores are used). full, when not NULL,
 * is the same frame as a full-resolution JPEG, for the local backend (OCR needs every
 * pixel of small text). Returns 0, or the analyzer's fatal error (authentication
 * refused, callback asked to stop). */
int fw_analyzer_submit(fw_analyzer *a, const fw_keyframe *kf, const uint8_t *full, size_t full_size,
                       fw_error *err);
/* A keyframe's observation made elsewhere (stored earlier): delivered in its place, in
 * keyframe order, with no backend asked. The strings are copied. 0 or FW_ENOMEM. */
int fw_analyzer_submit_done(fw_analyzer *a, const fw_keyframe *kf, const fw_observation *obs,
                            fw_error *err);
/* "openai", "local" or "openai+local". */
const char *fw_analyzer_backend(const fw_analyzer *a);
/* 1 when a backend wants full-resolution pictures (the local one reads text in them, the
 * openai one cuts the changed regions of a keyframe from them). */
int fw_analyzer_wants_full(const fw_analyzer *a);
/* No more keyframes: waits until every queued one has its observation delivered.
 * Returns 0 or the fatal error. */
int fw_analyzer_finish(fw_analyzer *a, fw_error *err);
/* Adds the analyzer's counters (requests, retries, failed, observations, tokens,
 * analyze_s) into st. */
void fw_analyzer_stats(fw_analyzer *a, fw_stats *st);
/* The warnings the backends gave since the last call (a server left out at open, one
 * taken out while it ran), each to fn, then forgotten; on the caller's thread. */
void fw_analyzer_warnings(fw_analyzer *a, void (*fn)(void *user, const char *message), void *user);
/* The model servers' counts (the report's stats.endpoints, a JSON array, new reference)
 * after fw_analyzer_finish; NULL when the backend has no servers. */
struct json_t *fw_analyzer_endpoints(fw_analyzer *a);
/* Stops the analyzer at once (any thread): frames not answered yet are dropped, requests
 * in flight abandoned, nothing more is delivered; submit and finish return FW_ECANCELED. */
void fw_analyzer_cancel(fw_analyzer *a);
/* Accepts NULL. Frames still queued are dropped. */
void fw_analyzer_close(fw_analyzer *a);

#endif
