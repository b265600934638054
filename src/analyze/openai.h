/* Internal to analyze/: the openai backend's state, shared by openai.c (set-up, the
 * request loop over libcurl's multi interface), openai_answer.c (what an answer or an
 * error means: post, retry, split, fit again, fail) and openai_pool.c (its servers: which
 * one a request goes to, their health and counts). One thread (the lane's) uses them. */
#ifndef FW_ANALYZE_OPENAI_H
#define FW_ANALYZE_OPENAI_H

#include <curl/curl.h>

#include "analyze/backend.h"
#include "analyze/openai_pool.h"
#include "analyze/plan.h"
#include "core/http.h"

#define MAX_WINDOW 16
#define MAX_HELD 16 /* crop requests waiting for their context */

typedef struct request {
    struct request *next;   /* waiting list */
    struct request *active; /* in-flight list */
    fw_task tasks[MAX_WINDOW];
    int n;
    CURL *easy;
    char *body;
    int body_schema; /* the body asks for the schema */
    char *resp;
    size_t resp_len, resp_cap;
    double retry_after; /* seconds, from the last answer's Retry-After (-1: none) */
    char errbuf[CURL_ERROR_SIZE];
    int attempts;
    int asked;      /* attempts of the earlier ask (a low or crop one that hedged) */
    unsigned flags; /* FW_OBS_* added to every answer (schema fallback) */
    double next_at, started;
    double first_at;        /* the first send: the frame's deadline is (retries + 1) timeouts on */
    fw_http_watch watch;    /* stall and size of the answer in flight */
    char last_500[256];     /* a second identical 500 is not transient */
    int max_tokens;         /* the answer's room in the slot (fw_oa_fit) */
    int refitted;           /* shrunk once after the server said it overflowed */
    int ep;                 /* the endpoint of its last attempt (-1: none yet) */
    const char *body_model; /* the model its body names (an endpoint's) */
    unsigned failed_on;     /* endpoints that failed it since it last used a retry */
    int spared;             /* attempts that failed on a server while another was up: they do
                               not count against the retries */
    int health_failed;      /* its last attempt failed on the server (fw_oa_pool_end) */
} request;

typedef struct oa {
    fw_params p; /* strings point to the caller's */
    fw_lane *a;
    fw_oa_endpoint eps[FW_HTTP_MAX_URLS]; /* the url setting's servers */
    int n_eps;
    char *model;    /* the model the observations name */
    int n_ctx;      /* a request's context: the smallest of the servers' (0: unknown) */
    int text_extra; /* prompt tokens the server counted beyond fw_oa_text_tokens */
    int schema;     /* 0 once the server rejected response_format */
    struct curl_slist *headers;
    CURLM *multi;
    request *waiting;
    request *active;
    request *held; /* crops waiting for the answer their prompt builds on */
    int n_held;
    fw_plan *plan;
    int inflight; /* of every endpoint */
    unsigned rng;
} oa;

/* A request of n tasks (copied); NULL when out of memory. */
request *fw_oa_request_new(const fw_task *tasks, int n);
/* free_tasks: the tasks' pictures too (they had no answer). */
void fw_oa_request_free(request *r, int free_tasks);
/* r waits, to start again at time at (fw_now_s; 0: at once). */
void fw_oa_wait(oa *s, request *r, double at);
const char *fw_oa_curl_why(CURLcode cc, const char *errbuf);
/* Before a request's first start: fitted into the server's context (fw_oa_fit). 1 when
 * r is ready; 0 when it was split into single frames or its frames failed. */
int fw_oa_fitted(oa *s, request *r);
/* A finished transfer of r (removed from the multi handle here): its answer posted, or r
 * retried, split, fitted again or failed. */
void fw_oa_done(oa *s, request *r, CURLcode cc);
/* r out of the multi handle and the in-flight list (and its endpoint's count). */
void fw_oa_detach(oa *s, request *r);

/* ---- the endpoints (openai_pool.c) ---- */

/* What an attempt's end says of its server. */
typedef enum fw_oa_outcome {
    FW_OA_ANSWERED, /* HTTP 200 */
    FW_OA_ALIVE,    /* an answer that is no failure of the server (4xx, 429 with Retry-After,
                       an answer too large) */
    FW_OA_FAILED    /* no answer, a timeout or stall, a 5xx, a 429 without Retry-After */
} fw_oa_outcome;

/* The url list's endpoints, probed at once: at least one must answer (else FW_ENET naming
 * them, or as one server's error), the others are down with a warning (fw_analyzer_warn);
 * the model and the context learnt. FW_ENET too when a server refused the API key. */
int fw_oa_pool_open(oa *s, fw_error *err);
/* r's attempt (detached) ended with outcome on its endpoint: the counts, and its health:
 * FW_OA_DOWN_AFTER failures in a row take it out when other endpoints exist (its requests
 * in flight then go to the others). why: the failure, for messages. */
void fw_oa_pool_end(oa *s, request *r, fw_oa_outcome outcome, double latency_ms, const char *why);
/* 1 when r's attempt failed on its server and another endpoint that has not failed it is
 * up: it goes there without using its frame's retries. */
int fw_oa_pool_spare(const oa *s, const request *r);
/* Starts the probes of the down endpoints that are due; *due: the next one's time when it
 * comes before *due (0: none yet). */
void fw_oa_pool_tick(oa *s, double now, double *due);
/* 1 when easy was a probe (handled: the endpoint is back, or probed again later). */
int fw_oa_pool_probed(oa *s, CURL *easy, CURLcode cc);
/* The report's stats.endpoints: [{url, slots, requests, answered, failed, taken_out,
 * latency_ms: {mean, p50, max}}] (new reference). */
json_t *fw_oa_pool_json(const oa *s);
/* A warning for each endpoint that was taken out during the run. */
void fw_oa_pool_warn_end(oa *s);
/* Frees what the endpoints own (probes in flight removed from s->multi). */
void fw_oa_pool_close(oa *s);

#endif
