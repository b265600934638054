/* Internal to analyze/: the model endpoints of the openai backend (the url setting's list)
 * and which one each request goes to, their health, their probes and their counts.
 * - open: every endpoint is probed at once (its model, slots, context); those that do
 *   not answer are down, and at least one must answer;
 * - dispatch (fw_oa_pick): the up endpoint with the fewest requests in flight for its
 *   slots, never more than its slots; when every endpoint is down, the down ones;
 * - health: FW_OA_DOWN_AFTER failures in a row take an endpoint out (when there are
 *   others); a request that failed there goes to another without using its frame's
 *   retries while one is up; a down endpoint is probed (GET /models) with backoff on the
 *   backend's curl multi handle, and comes back when it answers 200.
 * The endpoints live in the backend's state (oa.eps) and are used by its one thread. */
#ifndef FW_ANALYZE_OPENAI_POOL_H
#define FW_ANALYZE_OPENAI_POOL_H

#include <curl/curl.h>
#include <jansson.h>

#include "core/http.h"

#define FW_OA_DOWN_AFTER 3    /* failures in a row that take an endpoint out */
#define FW_OA_LAT_SAMPLES 512 /* answers kept for the median latency (a uniform sample) */

/* A GET of a probe in flight (easy NULL: none). */
typedef struct fw_oa_probe {
    CURL *easy;
    int stage; /* 1: {base}/models, 2: {origin}/props */
    char *resp;
    size_t resp_len, resp_cap;
    char errbuf[CURL_ERROR_SIZE];
    double began; /* when its /models was asked: the open probe's 5 s run from it */
} fw_oa_probe_get;

typedef struct fw_oa_endpoint {
    char shown[512];             /* the URL without credentials, query or fragment: messages,
                                    reports, metrics */
    char base[1024], chat[1100]; /* the API base and its /chat/completions */
    char *model;                 /* the model its requests name (malloc'd; NULL until known) */
    int slots;                   /* requests in flight at most */
    int n_ctx;                   /* a request's context on it (0: unknown) */
    int inflight;
    int up;                /* 0: down: sent nothing while another endpoint is up */
    int probed;            /* has answered a probe: its slots and context are known */
    int fails;             /* failures in a row */
    double probe_at;       /* down: when its next probe starts */
    double backoff_s;      /* down: the wait after its next failed probe */
    fw_oa_probe_get probe; /* in flight */
    char why[256];         /* its last failure, for messages */
    /* counts (the report's stats.endpoints) */
    int requests, answered, failed, taken_out;
    double latency_sum_ms, latency_max_ms; /* of the answered requests */
    float lat_ms[FW_OA_LAT_SAMPLES];
} fw_oa_endpoint;

/* The endpoint a request goes to, among eps[0..n): the up ones (all of them when none is
 * up) that have a free slot; the lowest inflight/slots, then the lower mean latency, then
 * the lower index; one whose bit is set in avoid (it failed this request) only when no
 * other has room. -1 when none has a free slot. */
int fw_oa_pick(const fw_oa_endpoint *eps, int n, unsigned avoid);

/* Records an answered request (HTTP 200) of latency_ms on ep. */
void fw_oa_endpoint_answered(fw_oa_endpoint *ep, double latency_ms, unsigned *rng);

/* The median of ep's answered latencies (from the sample), 0 when none. */
double fw_oa_endpoint_p50(const fw_oa_endpoint *ep);

/* ep from one URL of the list (its base, chat and shown URL). */
void fw_oa_endpoint_init(fw_oa_endpoint *ep, const char *url);

/* Frees what ep owns (its model, a probe in flight, removed from multi when not NULL). */
void fw_oa_endpoint_clear(fw_oa_endpoint *ep, CURLM *multi);

/* ---- probes (openai_probe.c) ---- */

/* What a probe is for: the start-up check (any HTTP answer but 401/403 counts, as a
 * server without /models still answers chats) or bringing a down endpoint back (200). */
typedef enum fw_oa_probing { FW_OA_PROBE_OPEN, FW_OA_PROBE_BACK } fw_oa_probing;

/* Starts ep's probe stage (1: /models, 2: /props) on multi within timeout_ms. 0 or -1
 * (out of memory: ep->why says so). */
int fw_oa_probe_start(CURLM *multi, struct curl_slist *headers, fw_oa_endpoint *ep, int stage,
                      long timeout_ms);

/* The probe whose handle is easy, among eps[0..n), ended with cc: what its server says is
 * learnt (the model unless given_model, slots unless concurrency, context) and the next
 * stage started; ep->up once it passed (what counts: how). Returns the endpoint's index,
 * or -1 when easy is no probe of theirs. *refused: the server refused the API key (ep->why
 * says so). */
int fw_oa_probe_done(CURLM *multi, struct curl_slist *headers, fw_oa_endpoint *eps, int n,
                     CURL *easy, CURLcode cc, fw_oa_probing how, const char *given_model,
                     int concurrency, int *refused);

/* Probes eps[0..n) at once on multi, each within ~5 s: those that answer are up, with their
 * model, slots and context; ep->why tells why the others are not. 0, or FW_ENET naming the
 * server that refused the API key. */
int fw_oa_probe_all(CURLM *multi, struct curl_slist *headers, fw_oa_endpoint *eps, int n,
                    const char *given_model, int concurrency, fw_error *err);

#endif
