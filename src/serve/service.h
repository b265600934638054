/* The service's shared state and its parts (internal to src/serve/): the router
 * (server.c), submissions (submit.c), the job API (api_jobs.c), the workers (worker.c),
 * URL inputs (fetch.c) and the page (web.c). Each part has its own small header:
 * auth.h, guard.h, multipart.h, hub.h, jobs.h, metrics.h, notify.h, http.h.
 * Ownership: fw_serve_run owns the fw_service and everything in it. */
#ifndef FW_SERVE_SERVICE_H
#define FW_SERVE_SERVICE_H

#include <civetweb.h>
#include <jansson.h>
#include <pthread.h>

#include "framewise.h"
#include "serve/auth.h"
#include "serve/guard.h"
#include "serve/hub.h"
#include "serve/metrics.h"
#include "serve/notify.h"
#include "serve/serve.h"

typedef struct fw_service {
    const fw_serve_config *cfg;
    fw_auth auth;
    fw_guard guard;
    fw_queue *queue;
    fw_hub *hub;
    fw_metrics *metrics;
    fw_notifier *notifier;
    char data[4096];  /* the data folder, resolved; uploads/ and jobs/ below it */
    char origin[256]; /* how other machines reach this node (cfg->advertise, or loopback) */
    struct mg_context *mg;
    int port;
    pthread_t workers[FW_SERVE_MAX_WORKERS];
    int n_workers;
    pthread_mutex_t mu; /* with wake: workers wait for a submission */
    pthread_cond_t wake;
    uint64_t submitted; /* wakes so far: a worker waits only when none came since it looked */
    int stopping;
} fw_service;

/* submit.c: POST /v1/jobs (multipart upload, or JSON path/URL). */
int fw_api_submit(fw_service *s, struct mg_connection *c);
/* A job's settings: the operator's defaults, then options (a JSON object; only the
 * settings a client may set). 0 with *p and *strings (free after the last use of p), or
 * an HTTP status with why and *code ("invalid_setting", "forbidden_setting"). */
int fw_job_params(const fw_service *s, json_t *options, fw_params *p, char **strings,
                  const char **code, char *why, size_t size);
/* The settings a client may give in options, NULL-terminated. */
const char *const *fw_client_settings(void);
/* The names a job chose (the operator's and its options'), NULL-terminated, for
 * fw_analysis_opts.chosen (malloc'd array; the strings stay options' and the config's). */
const char **fw_job_chosen(const fw_service *s, json_t *options);

/* api_jobs.c */
int fw_api_list(fw_service *s, struct mg_connection *c);
int fw_api_get(fw_service *s, struct mg_connection *c, int64_t id);
int fw_api_cancel(fw_service *s, struct mg_connection *c, int64_t id);
int fw_api_report(fw_service *s, struct mg_connection *c, int64_t id);
int fw_api_file(fw_service *s, struct mg_connection *c, int64_t id, const char *name);
int fw_api_presets(fw_service *s, struct mg_connection *c);
/* The job's view with its live progress (new reference), or NULL when there is none. */
json_t *fw_api_job(fw_service *s, int64_t id);

/* worker.c: cfg->workers threads that claim and run jobs, and the end of a job. */
typedef struct fw_job_ending {
    const char *state;   /* "done", "failed" or "cancelled" */
    const char *code;    /* the error's stable name ("cancelled", "not_media", ...), or NULL */
    const char *message; /* the error's line, or NULL */
    const char *final;   /* the analysis's last event (JSON text), or NULL: made from the above */
    json_t *stats;       /* the run's stats (borrowed), or NULL */
} fw_job_ending;
/* Records job id's end, whoever ends it (a worker; the cancel of a queued job): the queue
 * first, then the watchers, the metrics, its upload removed, its callback posted. payload:
 * the job's (borrowed). */
void fw_job_end(fw_service *s, int64_t id, const fw_job_ending *end, json_t *payload);
int fw_workers_start(fw_service *s);
void fw_workers_wake(fw_service *s);
/* Cancels what runs (its jobs go back to the queue for the next start, but those a client
 * cancelled or that ended meanwhile) and joins the threads. */
void fw_workers_stop(fw_service *s);

/* fetch.c: a URL input into the file to, through the guard, at most cfg->max_upload
 * bytes; stops when the hub says job id must (fw_hub_cancelled). bearer: the URL is a
 * node's upload (GET /v1/jobs/ID/input) and this its token, not through the guard (the
 * node is the operator's). 0, -1 with why (it failed), or 1 (it was stopped). */
int fw_fetch(fw_service *s, int64_t id, const char *url, const char *bearer, const char *to,
             char *why, size_t size);

/* shared.c: the service on a shared (Redis) queue. The other processes' messages: a
 * queued job wakes the workers, a cancel reaches the job where it runs, a running job's
 * events and end reach this node's watchers (and its end removes the upload kept here). */
void fw_shared_heard(void *service, int64_t id, int kind, const char *text);
/* A job that ran here ended: its files (the job's folder) go beside it in the queue, for
 * whichever node serves them (at most FW_SERVE_MAX_SHARED_FILES bytes in all). */
void fw_shared_put_files(fw_service *s, int64_t id);
/* A file of job id: from this node's folder, else (a shared queue) from the queue. 1 with
 * *data (malloc'd) and *n, 0 when there is none. */
int fw_shared_get_file(fw_service *s, int64_t id, const char *name, char **data, size_t *n);
/* GET /v1/jobs/ID/input with the job's input token: the upload kept here. */
int fw_api_input(fw_service *s, struct mg_connection *c, int64_t id);
/* The journal of job id for fw_analysis_opts (j->user: shared_journal, the caller's). */
typedef struct fw_shared_journal {
    fw_service *s;
    int64_t id;
} fw_shared_journal;
void fw_shared_journal_init(fw_journal *j, fw_shared_journal *user, fw_service *s, int64_t id);

/* web.c: the embedded page's file for uri ("/" is index.html): its status, or 0 when
 * uri is none of them. */
int fw_web_serve(struct mg_connection *c, const char *uri);

#endif
