/* The openai backend: keyframes to OpenAI-compatible /chat/completions servers over
 * libcurl's multi interface, each server's slots (or `concurrency`) requests in flight on
 * it, with retries; which server each request goes to is openai_pool.c's. */
#include <curl/curl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/openai.h"
#include "analyze/openai_msg.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/http.h"

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    request *r = user;
    fw_http_watch_got(&r->watch, size * nmemb);
    size_t n = fw_http_append(&r->resp, &r->resp_len, &r->resp_cap, data, size * nmemb,
                              FW_HTTP_MAX_ANSWER);
    r->watch.too_large |= n != size * nmemb;
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user)
{
    request *r = user;
    fw_http_watch_got(&r->watch, size * nmemb);
    double secs = fw_http_retry_after(data, size * nmemb);
    if (secs >= 0)
        r->retry_after = secs;
    return size * nmemb;
}

const char *fw_oa_curl_why(CURLcode cc, const char *errbuf)
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
    s->rng = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)s;
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
        rc = fw_oa_pool_open(s, err);
    if (rc) {
        oa_close(s);
        return rc;
    }
    *state = s;
    return 0;
}

/* ---- requests ---- */

request *fw_oa_request_new(const fw_task *tasks, int n)
{
    request *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    memcpy(r->tasks, tasks, (size_t)n * sizeof *tasks);
    r->n = n;
    r->retry_after = -1;
    r->ep = -1;
    return r;
}

void fw_oa_request_free(request *r, int free_tasks)
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

void fw_oa_wait(oa *s, request *r, double at)
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

/* Starts r on the endpoint fw_oa_pick gives (the caller saw that one has room). */
static int start(oa *s, request *r, fw_error *err)
{
    int i = fw_oa_pick(s->eps, s->n_eps, r->failed_on);
    if (i < 0)
        return fw_error_set(err, FW_EINTERNAL, "analyzer: no model server has room");
    fw_oa_endpoint *ep = &s->eps[i];
    const char *model = ep->model && !s->p.model ? ep->model : s->model;
    if (!r->body || r->body_schema != s->schema || strcmp(r->body_model, model) != 0) {
        free(r->body);
        fw_params p = s->p;
        p.max_tokens = r->max_tokens ? r->max_tokens : s->p.max_tokens;
        r->body = fw_oa_request(&p, model, r->tasks, r->n, s->schema);
        r->body_schema = s->schema;
        r->body_model = model;
        if (!r->body)
            return fw_error_set(err, FW_ENOMEM, "analyzer: out of memory");
    }
    if (!r->easy && !(r->easy = curl_easy_init()))
        return fw_error_set(err, FW_ENOMEM, "analyzer: out of memory");
    CURL *e = r->easy;
    r->resp_len = 0;
    r->retry_after = -1;
    r->errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, ep->chat);
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
    r->watch.stall_s = s->p.stall_timeout_s;
    fw_http_watch_start(&r->watch, e);
    r->attempts++;
    r->started = fw_now_s();
    if (!r->first_at)
        r->first_at = r->started;
    if (curl_multi_add_handle(s->multi, e) != CURLM_OK)
        return fw_error_set(err, FW_EINTERNAL, "analyzer: libcurl refused a request");
    r->active = s->active;
    s->active = r;
    s->inflight++;
    r->ep = i;
    ep->inflight++;
    ep->requests++;
    return 0;
}

void fw_oa_detach(oa *s, request *r)
{
    curl_multi_remove_handle(s->multi, r->easy);
    for (request **pr = &s->active; *pr; pr = &(*pr)->active)
        if (*pr == r) {
            *pr = r->active;
            break;
        }
    r->active = NULL;
    s->inflight--;
    s->eps[r->ep].inflight--;
}

/* 1 when r can go now, 0 while it waits for its context (or, openai+local, the OCR of
 * its keyframe: a crop may need no request, a low answer is checked against it), -1 when
 * the OCR answered it: nothing to send (the caller frees r). */
static int sendable(oa *s, request *r)
{
    fw_task *t = &r->tasks[0];
    if (r->n > 1 || !fw_plan_ready(s->plan, t))
        return r->n > 1;
    fw_answer same;
    if (t->sent == FW_SENT_SAME && !fw_plan_same(s->plan, t, &same)) {
        fw_analyzer_post(s->a, t, &same); /* nothing changed: no request */
        return -1;
    }
    if (t->sent != FW_SENT_CROP && t->sent != FW_SENT_LOW)
        return 1;
    int peer = t->ocr ? 1 : fw_analyzer_peer(s->a, t->keyframe, &t->ocr);
    if (peer == 0)
        return 0;
    fw_answer ans;
    if (peer < 0 || t->sent != FW_SENT_CROP || !fw_plan_from_ocr(s->plan, t, t->ocr, &ans))
        return 1;
    fw_analyzer_post(s->a, t, &ans); /* a text change the OCR read: no request */
    return -1;
}

/* A held request that can go now (crops whose context came; answered ones are freed). */
static request *held_pop(oa *s)
{
    for (request **pr = &s->held; *pr;) {
        request *r = *pr;
        int go = sendable(s, r);
        if (go == 0) {
            pr = &r->next;
            continue;
        }
        *pr = r->next;
        r->next = NULL;
        s->n_held--;
        if (go > 0)
            return r;
        fw_oa_request_free(r, 0);
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
        request *r = fw_oa_request_new(tasks, got);
        if (!r) {
            for (int i = 0; i < got; i++)
                fw_task_release(&tasks[i]);
            fw_error err;
            fw_error_set(&err, FW_ENOMEM, "analyzer: out of memory");
            fw_analyzer_fail(s->a, &err);
            return NULL;
        }
        int go = sendable(s, r);
        if (go > 0)
            return r;
        if (go < 0) {
            fw_oa_request_free(r, 0);
            continue;
        }
        request **tail = &s->held; /* in keyframe order: the oldest goes first */
        while (*tail)
            tail = &(*tail)->next;
        *tail = r;
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
            fw_oa_request_free(r, 1);
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
        while (fw_oa_pick(s->eps, s->n_eps, 0) >= 0) { /* a server has room */
            request *r = wait_list_pop(s, now, &due);
            if (!r)
                r = held_pop(s);
            if (!r)
                r = take(s, &input_over);
            if (!r)
                break;
            if (!r->body && !fw_oa_fitted(s, r))
                continue; /* split, or failed: its frames have their answers */
            if (start(s, r, &err)) {
                fw_oa_request_free(r, 1);
                fw_analyzer_fail(s->a, &err);
                break;
            }
        }
        if (input_over && s->inflight == 0 && !s->waiting && !s->held)
            break;
        fw_oa_pool_tick(s, now, &due);
        int running = 0;
        curl_multi_perform(s->multi, &running);
        CURLMsg *m;
        int left, finished = 0;
        while ((m = curl_multi_info_read(s->multi, &left)))
            if (m->msg == CURLMSG_DONE && fw_oa_pool_probed(s, m->easy_handle, m->data.result))
                finished++; /* a server may be back */
            else if (m->msg == CURLMSG_DONE) {
                request *r = NULL;
                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
                fw_oa_done(s, r, m->data.result);
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
    fw_oa_pool_warn_end(s);
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

static json_t *oa_endpoints(void *state)
{
    return fw_oa_pool_json(state);
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
            fw_oa_request_free(r, 1);
        }
        fw_oa_pool_close(s);
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
    .endpoints = oa_endpoints,
    .close = oa_close,
};
