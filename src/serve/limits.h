/* The service's limits, each with the reason for its value. */
#ifndef FW_SERVE_LIMITS_H
#define FW_SERVE_LIMITS_H

/* A JSON request body (a submission by path or URL, a login): a few settings and names;
 * anything larger is not a submission. */
#define FW_SERVE_MAX_JSON (1 << 20)
/* A login body (POST /session): {"token": ...}, a token being a line of text. */
#define FW_SERVE_MAX_LOGIN 4096
/* --max-upload default: 2 GiB, an hour of 1080p screen recording at ~4 Mbit/s. */
#define FW_SERVE_DEFAULT_MAX_UPLOAD (2LL << 30)
/* --queue-size default: what 2 workers finish in minutes; past it clients should back off. */
#define FW_SERVE_DEFAULT_QUEUE 100
/* Retry-After of a 429: a short job takes seconds, so a client waits about one. */
#define FW_SERVE_RETRY_AFTER_S 5
/* GET /v1/jobs page size: default and bound. */
#define FW_SERVE_PAGE_DEFAULT 50
#define FW_SERVE_PAGE_MAX 500
/* --allow-root and --allow-url-host entries. */
#define FW_SERVE_MAX_LIST 16
/* Worker threads at most: each runs a whole analysis (decoder and OCR threads of its own). */
#define FW_SERVE_MAX_WORKERS 64
/* Callbacks: attempts and the first backoff (doubled each time): 0.5 + 1 + 2 s, so a
 * receiver that restarts within a few seconds still gets it. */
#define FW_SERVE_CALLBACK_ATTEMPTS 4
#define FW_SERVE_CALLBACK_BACKOFF_MS 500
#define FW_SERVE_CALLBACK_TIMEOUT_S 10
/* A URL input is fetched within this time (then it is a failed job). */
#define FW_SERVE_FETCH_TIMEOUT_S 600
/* Session cookie of the page: a working day. */
#define FW_SERVE_SESSION_S (12 * 3600)
/* Progress sent over a WebSocket at most this often (events of other kinds: all). */
#define FW_SERVE_PROGRESS_MS 100
/* A running job's status is written to the queue at most this often (and at every stage). */
#define FW_SERVE_STATUS_MS 1000
/* Stack of the thread that does a request's work. civetweb's own threads have 100 KB in
 * Debian's build, less than OpenSSL, SQLite and the resolver need together (seen: a
 * request overflowed into the next thread's stack). */
#define FW_SERVE_STACK (1 << 20)
/* HTTP threads of civetweb: WebSocket clients hold one each while connected. */
#define FW_SERVE_HTTP_THREADS 64
/* A shared queue: the files of a job kept beside it for the other nodes, in all. */
#define FW_SERVE_MAX_SHARED_FILES (64 << 20)
/* A shared queue: runs of a job lost with their process before it is failed. */
#define FW_SERVE_MAX_DELIVERIES 3

#endif
