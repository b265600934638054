/* Internal to analyze/: the openai backend's state, shared by openai.c (set-up, the
 * request loop over libcurl's multi interface) and openai_answer.c (what an answer or an
 * error means: post, retry, split, fit again, fail). One thread (the lane's) uses them. */
#ifndef FW_ANALYZE_OPENAI_H
#define FW_ANALYZE_OPENAI_H

#include <curl/curl.h>

#include "analyze/backend.h"
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
    double first_at;     /* the first send: the frame's deadline is (retries + 1) timeouts on */
    fw_http_watch watch; /* stall and size of the answer in flight */
    char last_500[256];  /* a second identical 500 is not transient */
    int max_tokens;      /* the answer's room in the slot (fw_oa_fit) */
    int refitted;        /* shrunk once after the server said it overflowed */
} request;

typedef struct oa {
    fw_params p; /* strings point to the caller's */
    fw_lane *a;
    char base[1024], chat[1100];
    char *model;
    int concurrency;
    int n_ctx;      /* a request's context on the server (0: unknown) */
    int text_extra; /* prompt tokens the server counted beyond fw_oa_text_tokens */
    int schema;     /* 0 once the server rejected response_format */
    struct curl_slist *headers;
    CURLM *multi;
    request *waiting;
    request *active;
    request *held; /* crops waiting for the answer their prompt builds on */
    int n_held;
    fw_plan *plan;
    int inflight;
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

#endif
