/* serve: `framewise serve`, the HTTP + WebSocket service over the public API: a REST API
 * to submit videos (upload, path, URL) and fetch results, WebSocket progress, a web page,
 * /healthz and /metrics, with a durable job queue (fw_queue_*) and N worker threads that
 * each run fw_analysis_run. No engine logic here: HTTP becomes fw_params and
 * fw_analysis_opts, events become WebSocket messages.
 * Ownership: the caller owns the config and its strings; they must outlive fw_serve_run. */
#ifndef FW_SERVE_SERVE_H
#define FW_SERVE_SERVE_H

#include <stdint.h>

#include "framewise.h"
#include "serve/limits.h"

typedef struct fw_serve_config {
    const char *listen; /* host:port (port 0: any free one, printed at start) */
    const char *token;  /* the bearer token (NULL: no authentication; loopback only) */
    int workers;        /* analyses at once */
    int queue_size;     /* queued jobs at most; more: 429 */
    int64_t max_upload; /* bytes of an upload (and of a fetched URL) at most; more: 413 */
    const char *roots[FW_SERVE_MAX_LIST]; /* path inputs only inside these folders */
    int n_roots;
    const char *hosts[FW_SERVE_MAX_LIST]; /* URL inputs and callbacks only to these hosts
                                             ("*.example.com": its subdomains) */
    int n_hosts;
    int allow_private;         /* 1: those may resolve to loopback, private, link-local addresses */
    const char *store;         /* the store and its queue (NULL: the default store) */
    const char *data;          /* uploads, fetched inputs and outputs go under it */
    fw_params defaults;        /* the operator's settings: jobs start from them */
    const char *const *chosen; /* names of the settings the operator gave (NULL-terminated) */
    int verbose;               /* 1: a line per request on stderr */
    /* several machines: a Redis queue (redis://HOST:PORT/NAME; NULL: the store's SQLite
     * queue), how long a claimer may go unheard of before its job is taken over, after how
     * many lost runs a job is failed, and how other machines reach this node's HTTP (its
     * uploads: GET /v1/jobs/ID/input; NULL: http://127.0.0.1:PORT) */
    const char *queue;
    double claim_after;
    int max_deliveries;
    const char *advertise;
    int worker_only; /* 1: `framewise worker`, no HTTP: the workers only */
} fw_serve_config;

/* 1 when every entry of listen (civetweb's listening_ports: a comma list of host:port,
 * [v6]:port, port or +port) is a loopback address: what a server without a token may
 * take. A bare port or +port listens on every address. */
int fw_serve_loopback_only(const char *listen);

/* Serves (worker_only: runs the workers) until SIGINT or SIGTERM, then stops taking requests,
 * cancels running analyses (their jobs go back to the queue for the next start) and returns 0; or
 * FW_E* with err set when it cannot start (the address is taken, the store cannot be opened). */
int fw_serve_run(const fw_serve_config *cfg, fw_error *err);

#endif
