/* The openai backend: keyframes to an OpenAI-compatible /chat/completions server over
 * libcurl's multi interface, `concurrency` requests in flight, with retries. */
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "analyze/openai_msg.h"
#include "analyze/plan.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/http.h"

#define MAX_WINDOW 16
#define MAX_ANSWER (16 << 20) /* bytes of one response body */
#define MAX_HELD 16           /* crop requests waiting for their context */

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
    char last_500[256]; /* a second identical 500 is not transient */
    int max_tokens;     /* the answer's room in the slot (fw_oa_fit) */
    int refitted;       /* shrunk once after the server said it overflowed */
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

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    request *r = user;
    return fw_http_append(&r->resp, &r->resp_len, &r->resp_cap, data, size * nmemb, MAX_ANSWER);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user)
{
    double secs = fw_http_retry_after(data, size * nmemb);
    if (secs >= 0)
        ((request *)user)->retry_after = secs;
    return size * nmemb;
}

static const char *curl_why(CURLcode cc, const char *errbuf)
{
    return errbuf && errbuf[0] ? errbuf : curl_easy_strerror(cc);
}

static void oa_close(void *state);

static int oa_open(void **state, const fw_params *p, fw_lane *a, fw_error *err)
{
    *state = NULL;
    if (!p->url)
        return fw_error_set(err, FW_EINVAL,
                            "url: no model server given (the API base of an OpenAI-compatible "
                            "server such as llama-server or vLLM, or FRAMEWISE_VLM_URL)");
    fw_http_init();
    oa *s = calloc(1, sizeof *s);
    if (!s)
        return fw_error_set(err, FW_ENOMEM, "analyzer: out of memory");
    s->p = *p;
    s->a = a;
    s->schema = 1;
    s->concurrency = p->concurrency;
    s->rng = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)s;
    fw_http_api_base(p->url, s->base, sizeof s->base);
    snprintf(s->chat, sizeof s->chat, "%s/chat/completions", s->base);
    s->headers = curl_slist_append(NULL, "Content-Type: application/json");
    s->headers = curl_slist_append(s->headers, "Expect:"); /* no 100-continue round trip */
    if (p->api_key && p->api_key[0]) {
        char auth[1024];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", p->api_key);
        s->headers = curl_slist_append(s->headers, auth);
    }
    int rc = 0;
    if (!s->headers || !(s->multi = curl_multi_init()) || !(s->plan = fw_plan_new(p)))
        rc = fw_error_set(err, FW_ENOMEM, "analyzer: out of memory");
    if (!rc)
        rc = fw_oa_probe(s->p.url, s->base, s->headers, s->p.model, &s->model, &s->concurrency,
                         &s->n_ctx, err);
    if (rc) {
        oa_close(s);
        return rc;
    }
    *state = s;
    return 0;
}

/* ---- requests ---- */

static request *request_new(const fw_task *tasks, int n)
{
    request *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    memcpy(r->tasks, tasks, (size_t)n * sizeof *tasks);
    r->n = n;
    r->retry_after = -1;
    return r;
}

static void request_free(request *r, int free_tasks)
{
    if (!r)
        return;
    if (free_tasks)
        for (int i = 0; i < r->n; i++)
            fw_task_release(&r->tasks[i]);
    if (r->easy)
        curl_easy_cleanup(r->easy);
    free(r->body);
    free(r->resp);
    free(r);
}

static void wait_list_add(oa *s, request *r, double at)
{
    r->next_at = at;
    r->next = s->waiting;
    s->waiting = r;
}

/* The waiting request due first if it is due now; else NULL, with *due its time. */
static request *wait_list_pop(oa *s, double now, double *due)
{
    request **best = NULL;
    for (request **pr = &s->waiting; *pr; pr = &(*pr)->next)
        if (!best || (*pr)->next_at < (*best)->next_at)
            best = pr;
    if (!best)
        return NULL;
    if ((*best)->next_at > now) {
        *due = (*best)->next_at;
        return NULL;
    }
    request *r = *best;
    *best = r->next;
    r->next = NULL;
    return r;
}

static int start(oa *s, request *r, fw_error *err)
{
    if (!r->body || r->body_schema != s->schema) {
        free(r->body);
        fw_params p = s->p;
        p.max_tokens = r->max_tokens ? r->max_tokens : s->p.max_tokens;
        r->body = fw_oa_request(&p, s->model, r->tasks, r->n, s->schema);
        r->body_schema = s->schema;
        if (!r->body)
            return fw_error_set(err, FW_ENOMEM, "analyzer: out of memory");
    }
    if (!r->easy && !(r->easy = curl_easy_init()))
        return fw_error_set(err, FW_ENOMEM, "analyzer: out of memory");
    CURL *e = r->easy;
    r->resp_len = 0;
    r->retry_after = -1;
    r->errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, s->chat);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(r->body));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(s->p.timeout_s * 1000));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "framewise/" FW_VERSION);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    r->attempts++;
    r->started = fw_now_s();
    if (curl_multi_add_handle(s->multi, e) != CURLM_OK)
        return fw_error_set(err, FW_EINTERNAL, "analyzer: libcurl refused a request");
    r->active = s->active;
    s->active = r;
    s->inflight++;
    return 0;
}

/* Every frame of r gets an answer with this error. */
static void fail_frames(oa *s, request *r, double latency_ms, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail_frames(oa *s, request *r, double latency_ms, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (int i = 0; i < r->n; i++) {
        fw_answer ans = {.error = strdup(msg),
                         .flags = r->flags,
                         .latency_ms = latency_ms,
                         .attempts = r->asked + r->attempts};
        fw_plan_answered(s->plan, &r->tasks[i], &ans);
        fw_analyzer_post(s->a, &r->tasks[i], &ans);
    }
    request_free(r, 0);
}

/* A transient failure: again after a backoff (or Retry-After), while retries last. */
static void retry_or_fail(oa *s, request *r, double latency_ms, const char *why)
{
    if (r->attempts > s->p.retries) {
        fail_frames(s, r, latency_ms, "%s (after %d attempts)", why, r->attempts);
        return;
    }
    fw_analyzer_count(s->a, 0, 1, 0, 0, 0);
    wait_list_add(s, r, fw_now_s() + fw_http_retry_delay(r->attempts, r->retry_after, &s->rng));
}

/* Splits a window the server cannot take into one request per frame. */
static void split(oa *s, request *r)
{
    for (int i = 0; i < r->n; i++) {
        request *one = request_new(&r->tasks[i], 1);
        if (!one) {
            fw_answer ans = {.error = strdup("out of memory"), .attempts = r->attempts};
            fw_plan_answered(s->plan, &r->tasks[i], &ans);
            fw_analyzer_post(s->a, &r->tasks[i], &ans);
            continue;
        }
        one->flags = r->flags;
        wait_list_add(s, one, 0);
    }
    request_free(r, 0);
}

/* Before a request's first start: fitted into the server's context (fw_oa_fit). 1 when
 * r is ready; 0 when it was split into single frames or its frames failed. */
static int fitted(oa *s, request *r)
{
    char why[300];
    if (!fw_oa_fit(&s->p, s->n_ctx, s->text_extra, r->tasks, r->n, &r->max_tokens, why, sizeof why))
        return 1;
    if (r->n > 1) {
        split(s, r);
        return 0;
    }
    r->tasks[0].image_tokens = 0; /* nothing was sent */
    fail_frames(s, r, 0, "%s: %s", s->p.url, why);
    return 0;
}

/* The server said the prompt overflowed its context: what it counted and its context
 * are learnt, and the request is fitted again, once. 1 when it goes again. */
static int refit(oa *s, request *r)
{
    int prompt, n_ctx;
    if (r->refitted || fw_oa_overflow(r->resp, r->resp_len, &prompt, &n_ctx))
        return 0;
    s->text_extra = fw_oa_learn(&s->p, r->tasks, r->n, prompt, s->text_extra);
    s->n_ctx = s->n_ctx && s->n_ctx < n_ctx ? s->n_ctx : n_ctx;
    r->refitted = 1;
    free(r->body);
    r->body = NULL;
    wait_list_add(s, r, 0);
    return 1;
}

static int contains(const char *hay, const char *needle)
{
    return strcasestr(hay, needle) != NULL;
}

static void answered(oa *s, request *r, double latency_ms)
{
    fw_answer ans[MAX_WINDOW] = {{0}};
    int pt = 0, ct = 0;
    char why[128];
    if (fw_oa_parse(r->resp ? r->resp : "", r->resp_len, r->tasks, r->n, ans, &pt, &ct, why,
                    sizeof why)) {
        retry_or_fail(s, r, latency_ms, why); /* a garbled 200: proxies, cut bodies */
        return;
    }
    int images = 0;
    for (int i = 0; i < r->n; i++)
        images += r->tasks[i].image_tokens;
    fw_analyzer_count(s->a, 0, 0, pt, ct, pt > images ? pt - images : 0);
    s->text_extra = fw_oa_learn(&s->p, r->tasks, r->n, pt, s->text_extra);
    if (r->n > 1 && (ans[0].flags & FW_OBS_TRUNCATED) && (ans[0].flags & FW_OBS_WINDOW)) {
        for (int i = 0; i < r->n; i++) { /* no room to answer for every frame: one by one */
            free(ans[i].text);
            free(ans[i].fields);
        }
        split(s, r);
        return;
    }
    if (r->n == 1 && fw_plan_again(s->plan, &r->tasks[0], &ans[0])) {
        free(ans[0].text); /* hedged at a low budget or on crops: once more, whole */
        free(ans[0].fields);
        r->asked += r->attempts;
        r->attempts = r->refitted = 0;
        free(r->body);
        r->body = NULL;
        wait_list_add(s, r, 0);
        return;
    }
    for (int i = 0; i < r->n; i++) {
        ans[i].latency_ms = latency_ms;
        ans[i].attempts = r->asked + r->attempts;
        ans[i].flags |= r->flags;
        if (!r->body_schema) /* only asked without the schema after a rejection */
            ans[i].flags |= FW_OBS_SCHEMA_FALLBACK;
        fw_plan_answered(s->plan, &r->tasks[i], &ans[i]);
        fw_analyzer_post(s->a, &r->tasks[i], &ans[i]);
    }
    request_free(r, 0);
}

/* Decides what an HTTP error means: retry, change the request, fail the frames, or
 * stop the job. */
static void http_error(oa *s, request *r, long status, double latency_ms)
{
    char msg[256], type[64], why[400];
    fw_http_error_text(r->resp ? r->resp : "", r->resp_len, msg, sizeof msg, type, sizeof type);
    snprintf(why, sizeof why, "HTTP %ld%s%s", status, msg[0] ? ": " : "", msg);
    if (status == 401 || status == 403) {
        fw_error e;
        fw_error_set(&e, FW_ENET,
                     "%s: the server refused the request: %s (check the api-key setting)", s->p.url,
                     why);
        fw_analyzer_fail(s->a, &e);
        request_free(r, 1);
        return;
    }
    if (status == 404) {
        fw_error e;
        fw_error_set(&e, FW_ENET,
                     "%s: %s (is the model setting right, and is the URL the API base, "
                     "e.g. http://host:8080/v1?)",
                     s->chat, why);
        fw_analyzer_fail(s->a, &e);
        request_free(r, 1);
        return;
    }
    if (status == 400 && r->body_schema &&
        (contains(msg, "response_format") || contains(msg, "schema") || contains(msg, "grammar") ||
         contains(msg, "sampler"))) {
        s->schema = 0; /* for this request and every later one */
        wait_list_add(s, r, 0);
        return;
    }
    if (status == 400 && s->p.logprobs && contains(msg, "logprobs")) {
        s->p.logprobs = 0;
        free(r->body);
        r->body = NULL;
        wait_list_add(s, r, 0);
        return;
    }
    int too_big = contains(type, "exceed_context") || contains(msg, "context length") ||
                  contains(msg, "context size") ||
                  (contains(msg, "at most") && contains(msg, "image"));
    if (status == 400 && too_big && r->n > 1) {
        split(s, r);
        return;
    }
    if (status == 400 && too_big && refit(s, r))
        return;
    if (status == 400 && too_big) {
        fail_frames(s, r, latency_ms,
                    "%s (the image does not fit the server's context: lower max-pixels or "
                    "give the server more context per slot)",
                    why);
        return;
    }
    if (status == 500 && strcmp(msg, r->last_500) == 0) {
        fail_frames(s, r, latency_ms, "%s (the same error twice: not transient)", why);
        return;
    }
    if (status == 500)
        snprintf(r->last_500, sizeof r->last_500, "%s", msg);
    if (status == 429 || status == 500 || status == 502 || status == 503 || status == 504) {
        retry_or_fail(s, r, latency_ms, why);
        return;
    }
    fail_frames(s, r, latency_ms, "%s", why);
}

static void done(oa *s, request *r, CURLcode cc)
{
    curl_multi_remove_handle(s->multi, r->easy);
    for (request **pr = &s->active; *pr; pr = &(*pr)->active)
        if (*pr == r) {
            *pr = r->active;
            break;
        }
    r->active = NULL;
    s->inflight--;
    fw_analyzer_count(s->a, 1, 0, 0, 0, 0);
    double latency_ms = (fw_now_s() - r->started) * 1000;
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        char why[128];
        snprintf(why, sizeof why, "no answer within %g s (the timeout setting)", s->p.timeout_s);
        retry_or_fail(s, r, latency_ms, why);
    } else if (cc != CURLE_OK) {
        char why[CURL_ERROR_SIZE + 64];
        snprintf(why, sizeof why, "%s", curl_why(cc, r->errbuf));
        retry_or_fail(s, r, latency_ms, why);
    } else if (status == 200) {
        answered(s, r, latency_ms);
    } else {
        http_error(s, r, status, latency_ms);
    }
}

/* A crop request whose context has come (or whose base failed: it goes whole). */
static request *held_pop(oa *s)
{
    for (request **pr = &s->held; *pr; pr = &(*pr)->next)
        if (fw_plan_ready(s->plan, &(*pr)->tasks[0])) {
            request *r = *pr;
            *pr = r->next;
            r->next = NULL;
            s->n_held--;
            return r;
        }
    return NULL;
}

/* The next keyframes from the analyzer, planned (fw_plan_task) in keyframe order; a crop
 * that must wait for its context is held. NULL when there is nothing to send now. */
static request *take(oa *s, int *input_over)
{
    fw_task tasks[MAX_WINDOW];
    while (!*input_over && s->n_held < MAX_HELD) {
        int got = fw_analyzer_take(s->a, tasks, s->p.window);
        if (got <= 0) {
            *input_over = got < 0;
            return NULL;
        }
        for (int i = 0; i < got; i++)
            fw_plan_task(s->plan, &tasks[i]);
        request *r = request_new(tasks, got);
        if (!r) {
            for (int i = 0; i < got; i++)
                fw_task_release(&tasks[i]);
            fw_error err;
            fw_error_set(&err, FW_ENOMEM, "analyzer: out of memory");
            fw_analyzer_fail(s->a, &err);
            return NULL;
        }
        if (got > 1 || fw_plan_ready(s->plan, &r->tasks[0]))
            return r;
        r->next = s->held;
        s->held = r;
        s->n_held++;
    }
    return NULL;
}

static void drop_all(oa *s)
{
    for (request **list = &s->waiting; list; list = list == &s->waiting ? &s->held : NULL)
        while (*list) {
            request *r = *list;
            *list = r->next;
            request_free(r, 1);
        }
    s->n_held = 0;
}

static void oa_run(void *state)
{
    oa *s = state;
    int input_over = 0;
    fw_error err = {0};
    while (!fw_analyzer_stopping(s->a)) {
        double now = fw_now_s(), due = 0;
        while (s->inflight < s->concurrency) {
            request *r = wait_list_pop(s, now, &due);
            if (!r)
                r = held_pop(s);
            if (!r)
                r = take(s, &input_over);
            if (!r)
                break;
            if (!r->body && !fitted(s, r))
                continue; /* split, or failed: its frames have their answers */
            if (start(s, r, &err)) {
                request_free(r, 1);
                fw_analyzer_fail(s->a, &err);
                break;
            }
        }
        if (input_over && s->inflight == 0 && !s->waiting && !s->held)
            break;
        int running = 0;
        curl_multi_perform(s->multi, &running);
        CURLMsg *m;
        int left, finished = 0;
        while ((m = curl_multi_info_read(s->multi, &left)))
            if (m->msg == CURLMSG_DONE) {
                request *r = NULL;
                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
                done(s, r, m->data.result);
                finished++;
            }
        if (finished)
            continue; /* slots came free: fill them (or end) before waiting */
        int timeout_ms = 1000;
        if (due > 0) {
            int ms = (int)ceil((due - fw_now_s()) * 1000);
            timeout_ms = ms < 0 ? 0 : ms < timeout_ms ? ms : timeout_ms;
        }
        curl_multi_poll(s->multi, NULL, 0, timeout_ms, NULL);
    }
    /* stopped: drop what is left without answers */
    drop_all(s);
}

static void oa_wake(void *state)
{
    oa *s = state;
    curl_multi_wakeup(s->multi);
}

static int oa_wants_full(void *state)
{
    return fw_plan_crops(((oa *)state)->plan);
}

static const char *oa_model(void *state)
{
    return ((oa *)state)->model;
}

static void oa_close(void *state)
{
    oa *s = state;
    if (!s)
        return;
    if (s->multi) {
        while (s->active) { /* requests still in flight (the job stopped) */
            request *r = s->active;
            s->active = r->active;
            curl_multi_remove_handle(s->multi, r->easy);
            request_free(r, 1);
        }
        curl_multi_cleanup(s->multi);
    }
    drop_all(s);
    fw_plan_free(s->plan);
    curl_slist_free_all(s->headers);
    free(s->model);
    free(s);
}

const fw_backend_ops fw_backend_openai = {
    .name = "openai",
    .open = oa_open,
    .run = oa_run,
    .wake = oa_wake,
    .wants_full = oa_wants_full,
    .model = oa_model,
    .close = oa_close,
};
