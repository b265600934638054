/* hub: the jobs that run here (or that someone watches), their live progress and their
 * WebSocket subscribers. A worker tells the hub what its analysis does; the hub forwards
 * each event to the job's subscribers as it comes (progress at most every
 * FW_SERVE_PROGRESS_MS) and, when the job ends, the last event, then closes them.
 * A subscriber gets the job's current state first ({"type": "snapshot", "job": ...}).
 * Order: a worker writes a job's end to the queue before telling the hub, and the hub
 * reads the queue under its lock when a subscriber comes: so no subscriber misses an end.
 * On a shared queue, the messages of the jobs that run here also go to the other nodes
 * (fw_queue_publish), and theirs come to this node's watchers (fw_hub_relay).
 * Ownership: the hub owns its entries; the connections stay civetweb's. Thread-safe. */
#ifndef FW_SERVE_HUB_H
#define FW_SERVE_HUB_H

#include <civetweb.h>

#include "framewise.h"
#include "serve/jobs.h"

typedef struct fw_hub fw_hub;

/* queue: where a subscriber's job is read when it does not run here. */
fw_hub *fw_hub_new(fw_queue *queue);
void fw_hub_free(fw_hub *h);

/* Whether a job goes on: FW_HUB_GO, or why not: a client asked to cancel it
 * (FW_HUB_CANCELLED: it ends cancelled) or the server stops (FW_HUB_STOPPING: it goes
 * back to the queue). A client's cancel wins over the stop. */
enum { FW_HUB_GO = 0, FW_HUB_CANCELLED = 1, FW_HUB_STOPPING = 2 };

/* A worker claims the oldest queued job (as fw_queue_claim) and, in the same step, it
 * runs here: a cancel (fw_hub_cancel) finds it or finds it not claimed yet, never in
 * between. */
int fw_hub_claim(fw_hub *h, fw_queue_item *it, fw_error *err);
/* A worker's job id has its analysis (NULL while the input is fetched): FW_HUB_GO, or why
 * it must stop (the caller cancels it). */
int fw_hub_run(fw_hub *h, int64_t id, fw_analysis *a);
/* The same answer, for a job whose analysis is not running (a fetch, an end). */
int fw_hub_cancelled(fw_hub *h, int64_t id);
/* Sets job id's stage (not an engine event: "fetch"), forwarded as a stage event. */
void fw_hub_stage(fw_hub *h, int64_t id, const char *stage);
/* An event of job id: the live counters, forwarded. Returns 1 when the queue's status
 * is due (a new stage, or FW_SERVE_STATUS_MS since the last), with *live filled. */
int fw_hub_event(fw_hub *h, int64_t id, const fw_event *ev, fw_live *live);
/* Job id ended (its queue item says so already): final (the last message, JSON text)
 * goes to its subscribers, which are closed; the entry goes. */
void fw_hub_finish(fw_hub *h, int64_t id, const char *final);

/* A message of job id that runs in another process (a shared queue's, heard by
 * fw_shared_heard) to this node's watchers; final: its last (they are closed). */
void fw_hub_relay(fw_hub *h, int64_t id, const char *text, int final);

/* A client asks job id to stop: 1 when it runs here (asked now: it ends cancelled unless
 * it ends first), 0 when it does not (not claimed, ended, another process's): nothing is
 * kept of it then. */
int fw_hub_cancel(fw_hub *h, int64_t id);
/* The server stops: every running analysis is asked to stop, and every job, also one
 * claimed from now on, is told FW_HUB_STOPPING. */
void fw_hub_cancel_all(fw_hub *h);
/* 1 with *out when job id runs here. */
int fw_hub_live(fw_hub *h, int64_t id, fw_live *out);
/* How many jobs run here. */
int fw_hub_busy(fw_hub *h);

/* c watches job id: the snapshot now; then the events, or the end at once when the job
 * has ended. 0, or -1 when there is no such job (c is not kept). */
int fw_hub_subscribe(fw_hub *h, int64_t id, struct mg_connection *c);
/* c is gone (civetweb's close handler). */
void fw_hub_unsubscribe(fw_hub *h, struct mg_connection *c);

#endif
