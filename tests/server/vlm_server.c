/* fwtest_vlm: the project's OpenAI-compatible model-server double, for tests and
 * benchmarks only. It validates requests as strictly as llama-server and vLLM do
 * (see ../shared/SERVERS.md), really decodes the images it gets and answers from
 * their pixels (size, colour, flatness), summarises text-only requests from their
 * timestamped lines, embeds text (--embeddings), counts requests, and injects faults.
 * The usage text is USAGE below (fwtest_vlm --help).
 */
#include <civetweb.h>
#include <jansson.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vlm_read.h"
#include "vlm_server.h"

vlm_server S;

static const char USAGE[] =
    "usage: fwtest_vlm [--port N] [--port-file F] [--model M] [--api-key K] [--slots N]\n"
    "                  [--latency MS] [--jitter MS] [--ctx N] [--max-images N] [--no-schema]\n"
    "                  [--prose] [--strict-model] [--hang] [--inject-text TEXT]\n"
    "                  [--embeddings] [--ubatch N] [--hide-ctx]\n"
    "                  [--fault KIND[:ARG][@first=N|@every=N|@colour=C|@random=P]]...\n"
    "                  [--seed N]\n"
    "\n"
    "POST /v1/chat/completions: answers images from their pixels; a request without images\n"
    "  is a summary request, answered from the timestamped lines (mm:ss, h:mm:ss, .mmm,\n"
    "  ranges) of its last user message: {\"summary\", \"key_moments\": [{\"time\", \"text\"}]}.\n"
    "  --ctx N: a slot's context: more than N prompt tokens (text bytes/4 + image tokens) is\n"
    "  a 400 exceed_context_size_error, and a frame's answer stops at the context's end or\n"
    "  at max_tokens (finish_reason length); /props and /v1/models tell N unless --hide-ctx.\n"
    "  --inject-text TEXT: TEXT is appended to every frame description and is its \"text\"\n"
    "  (to test escaping of hostile model output).\n"
    "  --read-text: each image's text is read (Tesseract, at the size received): the lines\n"
    "  read with confidence are the answer's \"text\" and are quoted in its description;\n"
    "  words too small to read make it say \"some text is too small to read\".\n"
    "  --read-deadline MS (default 20000): a reading pass stops after MS (busy pictures).\n"
    "POST /v1/embeddings: 501 unless --embeddings (like llama-server); 256-dim vectors from\n"
    "  words and character trigrams. --ubatch N (default 512): an input of more than N\n"
    "  tokens (bytes/4) is a 500 \"input is too large to process\".\n"
    "--latency/--jitter/--slots apply to both endpoints.\n"
    "--hang: /v1/models and /v1/embeddings accept the connection and never answer.\n"
    "\n"
    "Faults: 429 (ARG: Retry-After seconds), 500, 502, 503, timeout (ARG: seconds to hang,\n"
    "then answer), malformed (a 200 that is not JSON), truncated (a body cut short), reset\n"
    "(the connection closed with no answer), hang (ARG: seconds the request is held, no\n"
    "answer, then closed; with @colour), drip (a 200 whose body comes ARG bytes a second),\n"
    "huge (a 200 of ARG MB: a JSON answer after ARG MB of spaces), null (a 200 whose\n"
    "message content is null), nochoices (a 200 with \"choices\": []). They apply to chat\n"
    "and embedding requests, which share one request sequence: @first=N and @every=N count\n"
    "both (@every=N hits request N, 2N, ... of that sequence); @random=P hits a share P of\n"
    "them, chosen from the request's number and --seed N (default 1: the same requests each\n"
    "run); the first fault listed that applies wins. @colour=C only matches chats with\n"
    "images, @colour=C/N only the first N of them.\n"
    "\n"
    "GET /_stats: the counters as JSON (requests, chat_requests, answered, summary_requests,\n"
    "embedding_requests, embedding_inputs, by_status, last_request, last_summary_request...).\n";

static void count_status(int status)
{
    char key[8];
    snprintf(key, sizeof key, "%d", status);
    json_t *v = json_object_get(S.by_status, key);
    json_object_set_new(S.by_status, key, json_integer(json_integer_value(v) + 1));
}

void send_json(struct mg_connection *c, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    size_t n = strlen(text);
    mg_printf(c,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
              "Content-Length: %zu\r\n\r\n",
              status, status == 200 ? "OK" : "Error", n);
    mg_write(c, text, n);
    free(text);
    pthread_mutex_lock(&S.mu);
    count_status(status);
    pthread_mutex_unlock(&S.mu);
}

void send_error(struct mg_connection *c, int status, const char *type, const char *msg)
{
    json_t *e =
        json_pack("{s:{s:i, s:s, s:s}}", "error", "code", status, "message", msg, "type", type);
    send_json(c, status, e);
    json_decref(e);
}

void sleep_ms(int ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int admit(struct mg_connection *c)
{
    if (strcmp(mg_get_request_info(c)->request_method, "POST") != 0) {
        send_error(c, 405, "invalid_request_error", "use POST");
        return 405;
    }
    const char *h = mg_get_header(c, "Authorization");
    char want[512];
    snprintf(want, sizeof want, "Bearer %s", S.api_key ? S.api_key : "");
    if (S.api_key && (!h || strcmp(h, want) != 0)) {
        send_error(c, 401, "authentication_error", "Invalid API Key");
        return 401;
    }
    pthread_mutex_lock(&S.mu);
    S.authorized++;
    pthread_mutex_unlock(&S.mu);
    return 0;
}

char *read_body(struct mg_connection *c, long long *len)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    *len = ri->content_length;
    if (*len < 0 || *len > MAX_BODY)
        return NULL;
    char *body = malloc((size_t)*len + 1);
    long long got = 0;
    while (body && got < *len) {
        int n = mg_read(c, body + got, (size_t)(*len - got));
        if (n <= 0)
            break;
        got += n;
    }
    if (body)
        body[got] = '\0';
    *len = got;
    return body;
}

void hold_slot(void)
{
    sem_wait(&S.slots); /* like llama-server: excess requests queue for a slot */
    pthread_mutex_lock(&S.mu);
    if (++S.inflight > S.max_inflight)
        S.max_inflight = S.inflight;
    /* the n-th slot taken waits a fixed pseudo-random extra (Knuth's multiplicative
     * hash of n): answers come back out of order, the same way on every run */
    unsigned jitter = S.jitter_ms > 0 ? (unsigned)(++S.slots_taken * 2654435761u >> 8) %
                                            (unsigned)(S.jitter_ms + 1)
                                      : 0;
    pthread_mutex_unlock(&S.mu);
    sleep_ms(S.latency_ms + (int)jitter);
    pthread_mutex_lock(&S.mu);
    S.inflight--;
    pthread_mutex_unlock(&S.mu);
    sem_post(&S.slots);
}

static int on_health(struct mg_connection *c, void *cb)
{
    (void)cb;
    json_t *b = json_pack("{s:s}", "status", "ok");
    send_json(c, 200, b);
    json_decref(b);
    return 200;
}

/* Public on llama-server (no API key needed), as /health is. */
static int on_models(struct mg_connection *c, void *cb)
{
    (void)cb;
    while (S.hang && !S.stop)
        sleep_ms(50);
    json_t *b = json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "object", "list", "data", "id", S.model,
                          "object", "model", "owned_by", "fwtest");
    if (S.ctx < (1 << 20) && !S.hide_ctx) /* as vLLM tells it */
        json_object_set_new(json_array_get(json_object_get(b, "data"), 0), "max_model_len",
                            json_integer(S.ctx));
    send_json(c, 200, b);
    json_decref(b);
    return 200;
}

static int on_props(struct mg_connection *c, void *cb)
{
    int slots = *(int *)cb;
    json_t *b = json_pack("{s:i, s:{s:b, s:b, s:b}}", "total_slots", slots, "modalities", "vision",
                          1, "video", 0, "audio", 0);
    if (!S.hide_ctx) /* as llama-server tells a slot's context */
        json_object_set_new(b, "default_generation_settings", json_pack("{s:i}", "n_ctx", S.ctx));
    send_json(c, 200, b);
    json_decref(b);
    return 200;
}

static int on_stats(struct mg_connection *c, void *cb)
{
    (void)cb;
    pthread_mutex_lock(&S.mu);
    json_t *b =
        json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:O, s:O, s:O, s:O}", "requests",
                  S.requests, "chat_requests", S.chat, "answered", S.answered, "images", S.images,
                  "max_inflight", S.max_inflight, "schema_requests", S.schema_requests,
                  "logprob_requests", S.logprob_requests, "authorized", S.authorized, "by_status",
                  S.by_status, "image_sizes", S.image_sizes, "colours", S.colours, "last_request",
                  S.last_request ? S.last_request : json_null());
    json_object_set_new(b, "summary_requests", json_integer(S.summary_requests));
    json_object_set_new(b, "max_prompt_tokens", json_integer(S.max_prompt));
    json_object_set_new(b, "context_errors", json_integer(S.context_errors));
    json_object_set_new(b, "length_stops", json_integer(S.length_stops));
    json_object_set_new(b, "embedding_requests", json_integer(S.embedding_requests));
    json_object_set_new(b, "embedding_inputs", json_integer(S.embedding_inputs));
    json_object_set(b, "last_summary_request",
                    S.last_summary_request ? S.last_summary_request : json_null());
    pthread_mutex_unlock(&S.mu);
    send_json(c, 200, b);
    json_decref(b);
    return 200;
}

/* A number in [0, 1) fixed by --seed, the request's number and the fault's. */
static double pick(int seq, int fault_index)
{
    unsigned long long x = S.seed * 0x9E3779B97F4A7C15ull ^
                           (unsigned long long)seq * 0xBF58476D1CE4E5B9ull ^
                           (unsigned long long)fault_index * 0x94D049BB133111EBull;
    x ^= x >> 31;
    x *= 0xD6E8FEB86659FD93ull;
    x ^= x >> 32;
    return (double)(x >> 11) / 9007199254740992.0;
}

fault *match_fault(int seq, const char *colour)
{
    fault *hit = NULL;
    pthread_mutex_lock(&S.mu);
    for (int i = 0; i < S.n_faults && !hit; i++) {
        fault *f = &S.faults[i];
        int m = f->sel == SEL_ALL || (f->sel == SEL_FIRST && f->hits < f->n) ||
                (f->sel == SEL_EVERY && seq % f->n == 0) ||
                (f->sel == SEL_RANDOM && pick(seq, i) < f->p) ||
                (f->sel == SEL_COLOUR && colour && strcmp(colour, f->colour) == 0 &&
                 (f->n == 0 || f->hits < f->n));
        if (m && (f->sel == SEL_COLOUR) == (colour != NULL)) {
            f->hits++;
            hit = f;
        }
    }
    pthread_mutex_unlock(&S.mu);
    return hit;
}

/* A 200 whose body trickles out rate bytes a second until the client closes. */
static int drip(struct mg_connection *c, double rate)
{
    mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                 "100000\r\n\r\n");
    int gap_ms = rate > 0 ? (int)(1000 / rate) : 1000;
    for (int i = 0; !S.stop && i < 100000; i++) {
        if (mg_write(c, " ", 1) <= 0)
            break;
        for (int waited = 0; !S.stop && waited < gap_ms; waited += 20)
            sleep_ms(20);
    }
    return 0;
}

/* A 200 of mb megabytes: spaces, then a valid answer (what a client may not hold). */
static int huge(struct mg_connection *c, double mb)
{
    const char *tail =
        "{\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
        "{\"role\":\"assistant\",\"content\":\"huge\"},\"finish_reason\":\"stop\"}]}";
    long long pad = (long long)(mb * 1048576);
    mg_printf(c,
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %lld\r\n\r\n",
              pad + (long long)strlen(tail));
    static char spaces[65536];
    memset(spaces, ' ', sizeof spaces);
    for (long long left = pad; left > 0 && !S.stop;) {
        int n = left < (long long)sizeof spaces ? (int)left : (int)sizeof spaces;
        if (mg_write(c, spaces, (size_t)n) <= 0)
            return 0;
        left -= n;
    }
    mg_write(c, tail, strlen(tail));
    pthread_mutex_lock(&S.mu);
    count_status(200);
    pthread_mutex_unlock(&S.mu);
    return 200;
}

int act(struct mg_connection *c, const fault *f)
{
    char msg[128];
    if (strcmp(f->kind, "429") == 0) {
        const char *body = "{\"error\":{\"code\":429,\"message\":\"Too many requests\","
                           "\"type\":\"rate_limit_error\"}}";
        mg_printf(c,
                  "HTTP/1.1 429 Too Many Requests\r\nRetry-After: %g\r\nContent-Type: "
                  "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                  f->arg, strlen(body), body);
        pthread_mutex_lock(&S.mu);
        count_status(429);
        pthread_mutex_unlock(&S.mu);
        return 429;
    }
    if (strcmp(f->kind, "500") == 0 || strcmp(f->kind, "502") == 0 || strcmp(f->kind, "503") == 0) {
        int status = atoi(f->kind);
        snprintf(msg, sizeof msg, "%s", status == 503 ? "Loading model" : "injected failure");
        send_error(c, status, status == 503 ? "unavailable_error" : "server_error", msg);
        return status;
    }
    if (strcmp(f->kind, "malformed") == 0) {
        const char *body = "{\"choices\": [{\"message\": {\"content\": ";
        mg_printf(c,
                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                  "%zu\r\n\r\n%s",
                  strlen(body), body);
        pthread_mutex_lock(&S.mu);
        count_status(200);
        pthread_mutex_unlock(&S.mu);
        return 200;
    }
    if (strcmp(f->kind, "truncated") == 0) {
        const char *part = "{\"choices\": [{\"index\": 0, \"message\": {\"role\": \"assis";
        mg_printf(c,
                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                  "Content-Length: 4000\r\n\r\n%s",
                  part);
        return 0;
    }
    if (strcmp(f->kind, "drip") == 0) /* a body ARG bytes a second, till the client leaves */
        return drip(c, f->arg);
    if (strcmp(f->kind, "huge") == 0)
        return huge(c, f->arg);
    if (strcmp(f->kind, "null") == 0 || strcmp(f->kind, "nochoices") == 0) {
        json_t *b =
            strcmp(f->kind, "null") == 0
                ? json_pack("{s:s, s:s, s:[{s:i, s:{s:s, s:n}, s:s}]}", "object", "chat.completion",
                            "model", S.model, "choices", "index", 0, "message", "role", "assistant",
                            "content", "finish_reason", "stop")
                : json_pack("{s:s, s:s, s:[]}", "object", "chat.completion", "model", S.model,
                            "choices");
        send_json(c, 200, b);
        json_decref(b);
        return 200;
    }
    if (strcmp(f->kind, "hang") == 0) { /* in flight until ARG seconds pass or we stop */
        for (int waited = 0; !S.stop && waited < f->arg * 1000; waited += 20)
            sleep_ms(20);
        return 0;
    }
    return 0; /* reset: nothing sent; the connection is closed */
}

char *take_request(struct mg_connection *c, int seq, long long *len, int *handled)
{
    fault *f = match_fault(seq, NULL);
    if (f && strcmp(f->kind, "timeout") == 0)
        sleep_ms((int)(f->arg * 1000)); /* then answer, too late for the client */
    else if (f) {
        *handled = act(c, f) ? 200 : 1; /* non-zero: handled (0: civetweb would send 404) */
        return NULL;
    }
    char *body = read_body(c, len);
    if (!body) {
        mg_printf(c, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n");
        *handled = 413;
    }
    return body;
}

static int parse_fault(const char *spec)
{
    if (S.n_faults == MAX_FAULTS)
        return -1;
    fault *f = &S.faults[S.n_faults++];
    char buf[128];
    snprintf(buf, sizeof buf, "%s", spec);
    char *sel = strchr(buf, '@');
    if (sel) {
        *sel++ = '\0';
        if (strncmp(sel, "first=", 6) == 0)
            f->sel = SEL_FIRST, f->n = atoi(sel + 6);
        else if (strncmp(sel, "every=", 6) == 0)
            f->sel = SEL_EVERY, f->n = atoi(sel + 6);
        else if (strncmp(sel, "random=", 7) == 0) {
            f->sel = SEL_RANDOM, f->p = atof(sel + 7);
            if (f->p <= 0 || f->p > 1)
                return -1;
        } else if (strncmp(sel, "colour=", 7) == 0) { /* colour=C or colour=C/N: its first N */
            f->sel = SEL_COLOUR;
            snprintf(f->colour, sizeof f->colour, "%s", sel + 7);
            char *limit = strchr(f->colour, '/');
            if (limit) {
                *limit = '\0';
                if ((f->n = atoi(limit + 1)) <= 0)
                    return -1;
            }
        } else
            return -1;
        if ((f->sel == SEL_FIRST || f->sel == SEL_EVERY) && f->n <= 0)
            return -1;
    }
    char *arg = strchr(buf, ':');
    if (arg) {
        *arg++ = '\0';
        f->arg = atof(arg);
    } else
        f->arg = strcmp(buf, "timeout") == 0 || strcmp(buf, "hang") == 0 ? 30 : 1;
    snprintf(f->kind, sizeof f->kind, "%.15s", buf);
    const char *kinds[] = {"429",   "500",  "502",  "503",  "timeout", "malformed", "truncated",
                           "reset", "hang", "drip", "huge", "null",    "nochoices"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(f->kind, kinds[i]) == 0)
            return 0;
    return -1;
}

static void on_signal(int sig)
{
    (void)sig;
    S.stop = 1;
}

int main(int argc, char **argv)
{
    const char *port = "0", *port_file = NULL;
    int slots = 4;
    S.model = "fwtest-vl";
    S.ctx = 1 << 20;
    S.max_images = 64;
    S.ubatch = 512;
    S.seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && ++i)
        if (ARG("--port"))
            port = v;
        else if (ARG("--port-file"))
            port_file = v;
        else if (ARG("--model"))
            S.model = v;
        else if (ARG("--api-key"))
            S.api_key = v;
        else if (ARG("--slots"))
            slots = atoi(v);
        else if (ARG("--latency"))
            S.latency_ms = atoi(v);
        else if (ARG("--jitter"))
            S.jitter_ms = atoi(v);
        else if (ARG("--ctx"))
            S.ctx = atoi(v);
        else if (strcmp(a, "--hide-ctx") == 0)
            S.hide_ctx = 1;
        else if (ARG("--read-deadline"))
            vlm_read_deadline_ms = atoi(v);
        else if (strcmp(a, "--read-text") == 0) {
            S.read_text = 1;
            /* one thread per Tesseract: the slots read in parallel already (OpenMP's own
             * threads on top of them would only fight for the cores) */
            setenv("OMP_THREAD_LIMIT", "1", 0);
        } else if (ARG("--max-images"))
            S.max_images = atoi(v);
        else if (ARG("--ubatch"))
            S.ubatch = atoi(v);
        else if (ARG("--inject-text"))
            S.inject_text = v;
        else if (ARG("--seed"))
            S.seed = (unsigned)atoi(v);
        else if (ARG("--fault")) {
            if (parse_fault(v)) {
                fprintf(stderr, "fwtest_vlm: bad --fault '%s'\n", v);
                return 2;
            }
        } else if (strcmp(a, "--no-schema") == 0)
            S.no_schema = 1;
        else if (strcmp(a, "--prose") == 0)
            S.prose = 1;
        else if (strcmp(a, "--strict-model") == 0)
            S.strict_model = 1;
        else if (strcmp(a, "--hang") == 0)
            S.hang = 1;
        else if (strcmp(a, "--embeddings") == 0)
            S.embeddings = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else {
            fprintf(stderr, "fwtest_vlm: unknown argument '%s'\n%s", a, USAGE);
            return 2;
        }
#undef ARG
    }
    if (slots < 1)
        slots = 1;
    sem_init(&S.slots, 0, (unsigned)slots);
    pthread_mutex_init(&S.mu, NULL);
    S.by_status = json_object();
    S.image_sizes = json_array();
    S.colours = json_array();
    mg_init_library(0);
    char listen[64], threads[16];
    snprintf(listen, sizeof listen, "127.0.0.1:%s", port);
    snprintf(threads, sizeof threads, "%d", slots * 2 + 16);
    const char *options[] = {"listening_ports",
                             listen,
                             "num_threads",
                             threads,
                             "request_timeout_ms",
                             "600000",
                             "enable_keep_alive",
                             "yes",
                             "tcp_nodelay",
                             "1",
                             NULL};
    struct mg_callbacks callbacks = {0};
    struct mg_context *ctx = mg_start(&callbacks, NULL, options);
    if (!ctx) {
        fprintf(stderr, "fwtest_vlm: cannot listen on %s\n", listen);
        return 1;
    }
    mg_set_request_handler(ctx, "/health$", on_health, NULL);
    mg_set_request_handler(ctx, "/v1/models$", on_models, NULL);
    mg_set_request_handler(ctx, "/models$", on_models, NULL);
    mg_set_request_handler(ctx, "/props$", on_props, &slots);
    mg_set_request_handler(ctx, "/_stats$", on_stats, NULL);
    mg_set_request_handler(ctx, "/v1/chat/completions$", on_chat, NULL);
    mg_set_request_handler(ctx, "/chat/completions$", on_chat, NULL);
    mg_set_request_handler(ctx, "/v1/embeddings$", on_embeddings, NULL);
    mg_set_request_handler(ctx, "/embeddings$", on_embeddings, NULL);
    struct mg_server_port ports[4];
    int n = mg_get_server_ports(ctx, 4, ports);
    if (n < 1) {
        fprintf(stderr, "fwtest_vlm: no listening port\n");
        return 1;
    }
    if (port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%d\n", ports[0].port) < 0 || fclose(f) || rename(tmp, port_file)) {
            fprintf(stderr, "fwtest_vlm: cannot write %s\n", port_file);
            return 1;
        }
    }
    printf("fwtest_vlm: listening on http://127.0.0.1:%d\n", ports[0].port);
    fflush(stdout);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!S.stop)
        sleep_ms(50);
    mg_stop(ctx);
    vlm_read_end();
    return 0;
}
