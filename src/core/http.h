/* A small synchronous client for OpenAI-compatible JSON endpoints (embeddings, text-only
 * chat), with the rules of the openai backend: 429, 5xx, timeouts, stalls and network
 * errors are retried with exponential backoff and jitter, Retry-After is honoured up to
 * max_retry_wait_s, the same 500 twice is not transient, an answer larger than
 * FW_HTTP_MAX_ANSWER is an error that is not retried, and a call ends by its deadline,
 * (retries + 1) * timeout_s after it began. Plus the pieces both clients share:
 * the API base of a server URL, the message of an error body, lenient JSON.
 * Thread-safe (one curl easy handle per call). */
#ifndef FW_CORE_HTTP_H
#define FW_CORE_HTTP_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

#include "framewise.h"

/* Bytes of one answer at most; a larger one fails its request ("answer larger than 16 MB"). */
#define FW_HTTP_MAX_ANSWER (16u << 20)
/* Once an answer has begun, less than this many bytes in stall_s seconds is a stall. */
#define FW_HTTP_STALL_BYTES 1024

typedef struct fw_http_params {
    const char *api_key;      /* "Authorization: Bearer"; NULL: none */
    double timeout_s;         /* per attempt */
    int retries;              /* retries after the first attempt */
    const atomic_int *cancel; /* once non-zero, the request in flight and any retry stop
                                 (FW_ECANCELED); NULL: none */
    double stall_s;           /* see fw_http_watch (0: off) */
    double max_retry_wait_s;  /* Retry-After is waited up to this (0: the 120 s default) */
} fw_http_params;

/* Watches one transfer through curl's progress callback: ends it (stalled = 1) when,
 * once the answer has begun, fewer than FW_HTTP_STALL_BYTES arrived within stall_s
 * seconds: a server that hangs mid-answer or drips it a byte at a time; and when cancel
 * is set. The write and header callbacks report what they got (fw_http_watch_got). */
typedef struct fw_http_watch {
    double stall_s;           /* 0: no stall rule */
    const atomic_int *cancel; /* NULL: none */
    double mark_at;           /* when the span being counted began (0: nothing came yet) */
    size_t bytes;             /* of the answer so far, headers included */
    size_t mark_bytes;        /* bytes at mark_at */
    int stalled;
    int too_large; /* the body passed FW_HTTP_MAX_ANSWER (set by the caller's write callback) */
} fw_http_watch;

/* Resets w for a new attempt and installs it on e (progress callback, NOPROGRESS off). */
void fw_http_watch_start(fw_http_watch *w, void *curl_easy);
void fw_http_watch_got(fw_http_watch *w, size_t n);
/* One line on why a watched transfer ended early ("no 1 KB of the answer within 15 s
 * (the stall-timeout setting)", "answer larger than 16 MB"), or NULL. */
const char *fw_http_watch_why(const fw_http_watch *w, char *buf, size_t n);

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

/* Model servers one url setting may list ("http://a:8080/v1,http://b:8080/v1"): the
 * openai backend keeps a fixed table of them, and 16 servers behind one client is more
 * than a machine's worth of GPUs. */
#define FW_HTTP_MAX_URLS 16
/* The i-th URL (0-based) of a comma-separated list into out, spaces around it trimmed:
 * 1, or 0 when the list has no i-th (an empty element counts as one: "" is returned). */
int fw_http_url_at(const char *list, int i, char *out, size_t n);
/* How many URLs the list holds (0 for NULL). */
int fw_http_url_count(const char *list);
/* url as reports and metrics show it: without user:password@, query or fragment. */
void fw_http_url_shown(const char *url, char *out, size_t n);

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
 * (retry_after >= 0) up to max_wait_s (0: 120 s), else exponential backoff with jitter,
 * 0.5 s * 2^(n-1) up to 30 s (or max_wait_s when smaller), times 0.5..1 (rng: the
 * caller's rand_r state). */
double fw_http_retry_delay(int attempts, double retry_after, double max_wait_s, unsigned *rng);

/* The seconds of a "Retry-After:" header line (a number or an HTTP date), else -1. */
double fw_http_retry_after(const char *line, size_t n);

/* 1 when the error says that the input does not fit the model's context or batch. */
int fw_http_too_big(const fw_http_result *r);

#endif
