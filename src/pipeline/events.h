/* Internal to pipeline/: the events of one analysis. The stages' threads (the decoder, the
 * keyframe writer, the analyzer) push records into a bounded queue; the thread running the
 * analysis pumps them, in the order they were pushed, to the caller's callback and to
 * report.jsonl, and emits its own (stages, progress, the story, done) directly.
 * In:  a type and a JSON object (read, not taken); the text gets "type" first.
 * Out: fw_event calls, one at a time, on the pumping thread; the record types (keyframe,
 *      observation, segment, event, summary, review) as lines of report.jsonl too.
 * Ownership: the analysis owns the queue (open/close) and the jsonl file it is given. */
#ifndef FW_PIPELINE_EVENTS_H
#define FW_PIPELINE_EVENTS_H

#include <jansson.h>

#include "emit/emit.h"
#include "framewise.h"

/* Events waiting for the caller before a stage's thread blocks: a callback slower than the
 * pipeline holds it up instead of holding every event in memory; 256 lines of a few KB
 * ride out a burst of keyframes and observations. */
#define FW_EVQ_SIZE 256
/* The pump's tick (progress, cancellation), and the shortest time between progress events. */
#define FW_EVQ_TICK_S 0.1

typedef struct fw_evq fw_evq;

/* fn NULL: no callback; jsonl NULL: no file. */
int fw_evq_open(fw_evq **out, fw_event_fn fn, void *user, fw_jsonl *jsonl, fw_error *err);
/* The event's name ("keyframe", ...) and JSONL record type. */
const char *fw_evq_name(fw_event_type type);
/* Queues an event (any thread; blocks while FW_EVQ_SIZE are waiting). obj NULL: {}. */
void fw_evq_push(fw_evq *q, fw_event_type type, json_t *obj);
/* Delivers an event now, on the pumping thread, when no pump runs. */
void fw_evq_emit(fw_evq *q, fw_event_type type, json_t *obj);
/* A stage event {"stage": stage, ...obj's members} (stage: a static string), queued or now. */
void fw_evq_push_stage(fw_evq *q, const char *stage, json_t *obj);
void fw_evq_emit_stage(fw_evq *q, const char *stage, json_t *obj);
/* A progress event now (pumping thread). */
void fw_evq_progress(fw_evq *q, const char *stage, double done, double total, double fraction);
/* No more pushes: the pump returns once the queue is empty. */
void fw_evq_end(fw_evq *q);
/* Delivers pushed events until fw_evq_end and an empty queue; tick(user) runs at least
 * every FW_EVQ_TICK_S meanwhile (and may emit). */
void fw_evq_pump(fw_evq *q, void (*tick)(void *user), void *user);
/* Accepts NULL. */
void fw_evq_close(fw_evq *q);

#endif
