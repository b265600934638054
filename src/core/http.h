/* A small synchronous client for OpenAI-compatible JSON endpoints (embeddings, text-only
 * chat), with the retry rules of the openai backend: 429, 5xx, timeouts and network
 * errors are retried with exponential backoff and jitter, Retry-After is honoured (up to
 * 120 s), and the same 500 twice is not transient. Plus the pieces both clients share:
 * the API base of a server URL, the message of an error body, lenient JSON.
 * Thread-safe (one curl easy handle per call). */
#ifndef FW_CORE_HTTP_H
#define FW_CORE_HTTP_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

#include "framewise.h"

typedef struct fw_http_params {
    const char *api_key;      /* "Authorization: Bearer"; NULL: none */
    double timeout_s;         /* per attempt */
    int retries;              /* retries after the first attempt */
    const atomic_int *cancel; /* once non-zero, the request in flight and any retry stop
                                 (FW_ECANCELED); NULL: none */
} fw_http_params;

/* What the last attempt of a call gave. */
typedef struct fw_http_result {
    long status;       /* HTTP status, 0 when no answer came */
    char type[64];     /* the error body's type ("exceed_context_size_error", ...) */
    char message[256]; /* the error body's message, or the network error, one line */
    int attempts;
} fw_http_result;

/* curl_global_init, once per process (pthread_once): call it before any curl handle. */
void fw_http_init(void);

/* POSTs body to url (body NULL: GETs url). On a 200 with a JSON object, *out owns it and 0 is
 * returned; otherwise FW_ENET with err naming url, the status and the server's message (res has
 * them apart, e.g. to split an input that exceeds the context), or FW_ECANCELED. */
int fw_http_post_json(const fw_http_params *p, const char *url, json_t *body, json_t **out,
                      fw_http_result *res, fw_error *err);

/* url without trailing slashes, with "/v1" added to a bare http://host:port. */
void fw_http_api_base(const char *url, char *out, size_t n);

/* The message and type of an error body ({"error":{"message","type"}}, {"error":"..."},
 * {"message","type"} or plain text), cut to one line. */
void fw_http_error_text(const char *body, size_t len, char *msg, size_t msg_n, char *type,
                        size_t type_n);

/* The first JSON object in text: after ``` fences, prose, or nothing (NULL: none). */
json_t *fw_json_first_object(const char *text);

/* Appends data[0..n) to the NUL-terminated buffer *p (length *len, capacity *cap),
 * growing it up to max bytes. n, or 0 when it would pass max or memory runs out (a curl
 * write callback's way to abort the transfer). */
size_t fw_http_append(char **p, size_t *len, size_t *cap, const char *data, size_t n, size_t max);

/* How long to wait before retry number attempts (1, 2, ...): the server's Retry-After
 * (retry_after >= 0) up to 120 s, else exponential backoff with jitter, 0.5 s * 2^(n-1)
 * up to 30 s, times 0.5..1 (rng: the caller's rand_r state). */
double fw_http_retry_delay(int attempts, double retry_after, unsigned *rng);

/* The seconds of a "Retry-After:" header line (a number or an HTTP date), else -1. */
double fw_http_retry_after(const char *line, size_t n);

/* 1 when the error says that the input does not fit the model's context or batch. */
int fw_http_too_big(const fw_http_result *r);

#endif
