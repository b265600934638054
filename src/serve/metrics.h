/* metrics: the service's counters and the API latency histogram, in the Prometheus
 * text format (GET /metrics). Thread-safe. */
#ifndef FW_SERVE_METRICS_H
#define FW_SERVE_METRICS_H

#include <jansson.h>
#include <stdint.h>

#include "framewise.h"

/* What a request was, for the latency histogram. */
typedef enum fw_route {
    FW_ROUTE_SUBMIT = 0,
    FW_ROUTE_STATUS,
    FW_ROUTE_LIST,
    FW_ROUTE_CANCEL,
    FW_ROUTE_RESULT, /* report and files */
    FW_ROUTE_EVENTS, /* the WebSocket handshake */
    FW_ROUTE_PAGE,   /* the web page, /healthz, /metrics, /session */
    FW_ROUTE_OTHER,
    FW_N_ROUTES
} fw_route;

typedef struct fw_metrics fw_metrics;

fw_metrics *fw_metrics_new(void);
void fw_metrics_free(fw_metrics *m);
/* One API request answered with status after seconds. */
void fw_metrics_request(fw_metrics *m, fw_route route, int status, double seconds);
void fw_metrics_keyframe(fw_metrics *m);
/* A job ended in state with its run's stats (the done event's "stats": requests,
 * retries, image_tokens, endpoints: each model server's requests, failed, answered and
 * mean latency; NULL when it has none). */
void fw_metrics_job_end(fw_metrics *m, const char *state, json_t *stats);
/* The exposition text (malloc'd) with the queue's counts by state. */
char *fw_metrics_text(fw_metrics *m, const int64_t counts[FW_QUEUE_N_STATES], int workers,
                      int busy);

#endif
