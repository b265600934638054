/* Internal to the test model server: its shared state and helpers. */
#ifndef FWTEST_VLM_SERVER_H
#define FWTEST_VLM_SERVER_H

#include <civetweb.h>
#include <jansson.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>

#define MAX_FAULTS 16
#define MAX_BODY (110 << 20)

typedef struct fault {
    char kind[16];
    double arg;
    enum { SEL_ALL, SEL_FIRST, SEL_EVERY, SEL_COLOUR, SEL_RANDOM } sel;
    int n;
    double p; /* SEL_RANDOM: the share of requests it hits (seeded by --seed and seq) */
    char colour[32];
    int hits; /* requests it matched so far (for first=N) */
} fault;

typedef struct vlm_server {
    const char *model, *api_key;
    const char *inject_text; /* --inject-text: appended to every frame answer */
    int latency_ms, jitter_ms, ctx, max_images, no_schema, prose, strict_model, hang;
    int read_text;          /* --read-text: Tesseract reads the text of every image */
    int hide_ctx;           /* --hide-ctx: /props and /v1/models do not tell the context */
    int max_prompt;         /* the most prompt tokens of an answered request */
    int context_errors;     /* 400 exceed_context_size_error answers */
    int length_stops;       /* answers cut at the end of the context (finish_reason length) */
    int embeddings, ubatch; /* --embeddings, --ubatch N */
    fault faults[MAX_FAULTS];
    int n_faults;
    unsigned seed; /* --seed: which requests @random=P faults hit */
    sem_t slots;
    pthread_mutex_t mu;
    /* counters */
    int requests, chat, answered, images, inflight, max_inflight, schema_requests, logprob_requests,
        authorized;
    int seq;              /* chat and embedding requests in arrival order: what faults count */
    unsigned slots_taken; /* slots taken so far: seeds each request's jitter */
    int summary_requests, embedding_requests, embedding_inputs;
    json_t *by_status;            /* "200": n */
    json_t *image_sizes;          /* [[w, h], ...] of answered images */
    json_t *colours;              /* dominant colour of every answered image, in answer order */
    json_t *last_request;         /* the last chat body, images replaced by their size */
    json_t *last_summary_request; /* the last text-only chat body */
    volatile sig_atomic_t stop;
} vlm_server;

extern vlm_server S;

void send_json(struct mg_connection *c, int status, json_t *body);
/* The error body llama-server sends: {"error":{"code","message","type"}}. */
void send_error(struct mg_connection *c, int status, const char *type, const char *msg);
void sleep_ms(int ms);
/* A POST with the right API key (when one is set): 0 and counted as authorized; else the
 * status already answered (405, 401). */
int admit(struct mg_connection *c);
/* The first fault that applies to request number seq (chat and embedding requests
 * share one sequence, S.seq); with colour, only the faults that select by colour. */
fault *match_fault(int seq, const char *colour);
/* The body of request number seq (malloc'd), after the fault that applies to it: a
 * "timeout" fault delays it; any other is acted out and NULL returned, with *handled the
 * value for civetweb (a 413 for a body too large too). */
char *take_request(struct mg_connection *c, int seq, long long *len, int *handled);
/* Acts out a fault; returns the status sent (0: the connection was cut). */
int act(struct mg_connection *c, const fault *f);
/* The request body (NUL-terminated, *len its length), or NULL when too large. */
char *read_body(struct mg_connection *c, long long *len);
/* Waits for a free slot, holds it for --latency (+ --jitter) ms, then frees it. */
void hold_slot(void);
/* POST /v1/chat/completions (vlm_chat.c). */
int on_chat(struct mg_connection *c, void *cb);
/* The answer to a text-only chat, from the moments in its last user message
 * (vlm_summary.c): {"summary": S, "key_moments": [{"time", "text"}]}. */
json_t *summary_answer(json_t *messages);
/* POST /v1/embeddings (vlm_embed.c). */
int on_embeddings(struct mg_connection *c, void *cb);

#endif
