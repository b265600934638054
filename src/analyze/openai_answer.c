/* What an answer of the openai backend means: posted, asked again (a hedged low ask),
 * split (a window too big), fitted again (the server said it overflowed), retried with
 * backoff, or failed; and when the job must stop (the key refused, a wrong URL). */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyze/openai.h"
#include "analyze/openai_msg.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/http.h"

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
    fw_oa_request_free(r, 0);
}

/* A transient failure: on another server at once when its own failed and another is up
 * (the frame's retries kept), else again after a backoff (or Retry-After), while retries
 * last. */
static void retry_or_fail(oa *s, request *r, double latency_ms, const char *why)
{
    if (fw_oa_pool_spare(s, r)) {
        r->spared++;
        r->first_at += fw_now_s() - r->started; /* the frame's deadline counts its retries */
        fw_analyzer_count(s->a, 0, 1, 0, 0, 0);
        fw_oa_wait(s, r, 0);
        return;
    }
    int charged = r->attempts - r->spared;
    r->failed_on = r->ep >= 0 ? 1u << r->ep : 0; /* the others may take its next attempt */
    if (charged > s->p.retries) {
        fail_frames(s, r, latency_ms, "%s (after %d attempt%s)", why, r->attempts,
                    r->attempts == 1 ? "" : "s");
        return;
    }
    double wait = fw_http_retry_delay(charged, r->retry_after, s->p.max_retry_wait_s, &s->rng);
    double deadline = r->first_at + (s->p.retries + 1) * s->p.timeout_s;
    if (fw_now_s() + wait > deadline) {
        char asked[64] = "";
        if (r->retry_after > wait)
            snprintf(asked, sizeof asked, " (the server asked for %.0f s)", r->retry_after);
        fail_frames(s, r, latency_ms,
                    "%s (after %d attempt%s: a wait of %.0f s%s would pass the frame's deadline, "
                    "%g s after its first send)",
                    why, r->attempts, r->attempts == 1 ? "" : "s", wait, asked,
                    deadline - r->first_at);
        return;
    }
    fw_analyzer_count(s->a, 0, 1, 0, 0, 0);
    fw_oa_wait(s, r, fw_now_s() + wait);
}

/* Splits a window the server cannot take into one request per frame. */
static void split(oa *s, request *r)
{
    for (int i = 0; i < r->n; i++) {
        request *one = fw_oa_request_new(&r->tasks[i], 1);
        if (!one) {
            fw_answer ans = {.error = strdup("out of memory"), .attempts = r->attempts};
            fw_plan_answered(s->plan, &r->tasks[i], &ans);
            fw_analyzer_post(s->a, &r->tasks[i], &ans);
            continue;
        }
        one->flags = r->flags;
        fw_oa_wait(s, one, 0);
    }
    fw_oa_request_free(r, 0);
}

/* Before a request's first start: fitted into the server's context (fw_oa_fit). 1 when
 * r is ready; 0 when it was split into single frames or its frames failed. */
int fw_oa_fitted(oa *s, request *r)
{
    char why[300];
    if (!fw_oa_fit(&s->p, s->n_ctx, s->text_extra, r->tasks, r->n, &r->max_tokens, why, sizeof why))
        return 1;
    if (r->n > 1) {
        split(s, r);
        return 0;
    }
    r->tasks[0].image_tokens = 0; /* nothing was sent */
    fail_frames(s, r, 0, "%s: %s", s->n_eps == 1 ? s->eps[0].shown : "the model servers", why);
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
    fw_oa_wait(s, r, 0);
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
        fw_oa_wait(s, r, 0);
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
    fw_oa_request_free(r, 0);
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
                     "%s: the server refused the request: %s (check the api-key setting)",
                     s->eps[r->ep].shown, why);
        fw_analyzer_fail(s->a, &e);
        fw_oa_request_free(r, 1);
        return;
    }
    if (status == 404) {
        fw_error e;
        fw_error_set(&e, FW_ENET,
                     "%s: %s (is the model setting right, and is the URL the API base, "
                     "e.g. http://host:8080/v1?)",
                     s->eps[r->ep].chat, why);
        fw_analyzer_fail(s->a, &e);
        fw_oa_request_free(r, 1);
        return;
    }
    if (status == 400 && r->body_schema &&
        (contains(msg, "response_format") || contains(msg, "schema") || contains(msg, "grammar") ||
         contains(msg, "sampler"))) {
        s->schema = 0; /* for this request and every later one */
        fw_oa_wait(s, r, 0);
        return;
    }
    if (status == 400 && s->p.logprobs && contains(msg, "logprobs")) {
        s->p.logprobs = 0;
        free(r->body);
        r->body = NULL;
        fw_oa_wait(s, r, 0);
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

/* What the end of r's attempt says of its server (why: the failure, for messages). */
static fw_oa_outcome outcome_of(const request *r, CURLcode cc, long status, char *why, size_t n)
{
    why[0] = '\0';
    if (r->watch.too_large)
        return FW_OA_ALIVE;
    if (r->watch.stalled || cc != CURLE_OK) {
        snprintf(why, n, "%s",
                 r->watch.stalled ? "the answer stalled" : fw_oa_curl_why(cc, r->errbuf));
        return FW_OA_FAILED;
    }
    if (status == 200)
        return FW_OA_ANSWERED;
    snprintf(why, n, "HTTP %ld", status);
    return status >= 500 || (status == 429 && r->retry_after < 0) ? FW_OA_FAILED : FW_OA_ALIVE;
}

void fw_oa_done(oa *s, request *r, CURLcode cc)
{
    fw_oa_detach(s, r);
    fw_analyzer_count(s->a, 1, 0, 0, 0, 0);
    double latency_ms = (fw_now_s() - r->started) * 1000;
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    char watched[160];
    fw_oa_pool_end(s, r, outcome_of(r, cc, status, watched, sizeof watched), latency_ms, watched);
    if (r->watch.too_large) {
        fail_frames(s, r, latency_ms, "%s (not retried)",
                    fw_http_watch_why(&r->watch, watched, sizeof watched));
    } else if (r->watch.stalled) {
        retry_or_fail(s, r, latency_ms, fw_http_watch_why(&r->watch, watched, sizeof watched));
    } else if (cc == CURLE_OPERATION_TIMEDOUT) {
        char why[128];
        snprintf(why, sizeof why, "no answer within %g s (the timeout setting)", s->p.timeout_s);
        retry_or_fail(s, r, latency_ms, why);
    } else if (cc != CURLE_OK) {
        char why[CURL_ERROR_SIZE + 64];
        snprintf(why, sizeof why, "%s", fw_oa_curl_why(cc, r->errbuf));
        retry_or_fail(s, r, latency_ms, why);
    } else if (status == 200) {
        answered(s, r, latency_ms);
    } else {
        http_error(s, r, status, latency_ms);
    }
}
