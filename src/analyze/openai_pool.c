/* The openai backend's model endpoints: the url list probed at open, the choice of an
 * endpoint for each request, health (taken out, probed, back) and the counts the report
 * gives (stats.endpoints). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/openai.h"
#include "analyze/openai_pool.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"

#define PROBE_BACK_TIMEOUT_MS 5000L

/* ---- one endpoint ---- */

void fw_oa_endpoint_init(fw_oa_endpoint *ep, const char *url)
{
    memset(ep, 0, sizeof *ep);
    fw_http_url_shown(url, ep->shown, sizeof ep->shown);
    fw_http_api_base(url, ep->base, sizeof ep->base);
    snprintf(ep->chat, sizeof ep->chat, "%s/chat/completions", ep->base);
    ep->backoff_s = 1;
}

void fw_oa_endpoint_clear(fw_oa_endpoint *ep, CURLM *multi)
{
    if (ep->probe.easy) {
        if (multi)
            curl_multi_remove_handle(multi, ep->probe.easy);
        curl_easy_cleanup(ep->probe.easy);
        ep->probe.easy = NULL;
    }
    free(ep->probe.resp);
    ep->probe.resp = NULL;
    ep->probe.resp_len = ep->probe.resp_cap = 0;
    free(ep->model);
    ep->model = NULL;
}

void fw_oa_endpoint_answered(fw_oa_endpoint *ep, double latency_ms, unsigned *rng)
{
    int k = ++ep->answered;
    ep->latency_sum_ms += latency_ms;
    if (latency_ms > ep->latency_max_ms)
        ep->latency_max_ms = latency_ms;
    if (k <= FW_OA_LAT_SAMPLES) { /* every answer while they fit, then a uniform sample */
        ep->lat_ms[k - 1] = (float)latency_ms;
        return;
    }
    int j = rand_r(rng) % k;
    if (j < FW_OA_LAT_SAMPLES)
        ep->lat_ms[j] = (float)latency_ms;
}

static int by_value(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double fw_oa_endpoint_p50(const fw_oa_endpoint *ep)
{
    int n = ep->answered < FW_OA_LAT_SAMPLES ? ep->answered : FW_OA_LAT_SAMPLES;
    if (n == 0)
        return 0;
    float v[FW_OA_LAT_SAMPLES];
    memcpy(v, ep->lat_ms, (size_t)n * sizeof *v);
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static double mean_ms(const fw_oa_endpoint *ep)
{
    return ep->answered ? ep->latency_sum_ms / ep->answered : 0;
}

/* ---- dispatch ---- */

/* 1 when a goes before b (both have a free slot). */
static int better(const fw_oa_endpoint *eps, int a, int b, unsigned avoid)
{
    int av_a = (avoid >> a) & 1, av_b = (avoid >> b) & 1;
    if (av_a != av_b)
        return av_b;
    long load_a = (long)eps[a].inflight * eps[b].slots,
         load_b = (long)eps[b].inflight * eps[a].slots;
    if (load_a != load_b)
        return load_a < load_b;
    double ma = mean_ms(&eps[a]), mb = mean_ms(&eps[b]);
    if (ma != mb)
        return ma < mb;
    return a < b;
}

int fw_oa_pick(const fw_oa_endpoint *eps, int n, unsigned avoid)
{
    int any_up = 0;
    for (int i = 0; i < n; i++)
        any_up |= eps[i].up;
    int best = -1;
    for (int i = 0; i < n; i++) {
        if ((any_up && !eps[i].up) || eps[i].inflight >= eps[i].slots)
            continue;
        if (best < 0 || better(eps, i, best, avoid))
            best = i;
    }
    return best;
}

/* ---- open ---- */

static int up_count(const oa *s)
{
    int n = 0;
    for (int i = 0; i < s->n_eps; i++)
        n += s->eps[i].up;
    return n;
}

/* One line naming the endpoints that are down, each with why, into out. */
static void down_list(const oa *s, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < s->n_eps && len + 1 < n; i++)
        if (!s->eps[i].up)
            len += (size_t)snprintf(out + len, n - len, "%s%s (%s)", len ? ", " : "",
                                    s->eps[i].shown, s->eps[i].why);
}

/* The model the observations name and the context requests are fitted to, from the
 * endpoints that answered; a warning when they serve different models. */
static int learn_pool(oa *s, fw_error *err)
{
    const fw_oa_endpoint *first = NULL;
    for (int i = 0; i < s->n_eps; i++) {
        const fw_oa_endpoint *ep = &s->eps[i];
        if (!ep->up)
            continue;
        if (!first)
            first = ep;
        if (ep->n_ctx > 0 && (s->n_ctx == 0 || ep->n_ctx < s->n_ctx))
            s->n_ctx = ep->n_ctx;
        if (!s->p.model && ep->model && first->model && strcmp(ep->model, first->model)) {
            char msg[2 * sizeof ep->shown + 512]; /* the model names: cut at their end */
            snprintf(msg, sizeof msg,
                     "the model servers serve different models (%s: %s, %s: %s): "
                     "each is asked for its own; observations name the first",
                     first->shown, first->model, ep->shown, ep->model);
            fw_analyzer_warn(s->a, msg);
        }
    }
    const char *m = s->p.model ? s->p.model : first && first->model ? first->model : "";
    if (!(s->model = strdup(m)))
        return fw_error_set(err, FW_ENOMEM, "analyzer: out of memory");
    return 0;
}

int fw_oa_pool_open(oa *s, fw_error *err)
{
    s->n_eps = fw_http_url_count(s->p.url);
    if (s->n_eps > FW_HTTP_MAX_URLS) /* fw_params_validate says so first */
        return fw_error_set(err, FW_EINVAL, "url: at most %d servers", FW_HTTP_MAX_URLS);
    for (int i = 0; i < s->n_eps; i++) {
        char url[2048];
        fw_http_url_at(s->p.url, i, url, sizeof url);
        fw_oa_endpoint_init(&s->eps[i], url);
    }
    int rc =
        fw_oa_probe_all(s->multi, s->headers, s->eps, s->n_eps, s->p.model, s->p.concurrency, err);
    if (rc)
        return rc;
    int up = up_count(s);
    char down[900];
    down_list(s, down, sizeof down);
    if (up == 0 && s->n_eps == 1)
        return fw_error_set(err, FW_ENET, "%s: cannot reach the model server: %s", s->eps[0].shown,
                            s->eps[0].why);
    if (up == 0)
        return fw_error_set(err, FW_ENET, "cannot reach any of the %d model servers: %s", s->n_eps,
                            down);
    if (up < s->n_eps) {
        char msg[1100];
        snprintf(msg, sizeof msg,
                 "%d of %d model servers do not answer and are left out until they do: %s",
                 s->n_eps - up, s->n_eps, down);
        fw_analyzer_warn(s->a, msg);
    }
    double cap = s->p.max_retry_wait_s, now = fw_now_s();
    for (int i = 0; i < s->n_eps; i++)
        if (!s->eps[i].up) {
            s->eps[i].probe_at = now + fmin(1, cap);
            s->eps[i].backoff_s = fmin(2, cap);
        }
    return learn_pool(s, err);
}

/* ---- health ---- */

/* Takes endpoint i out: probed from now on; its requests in flight go to the others (when
 * one is up), without using their frames' retries. */
static void take_out(oa *s, int i)
{
    fw_oa_endpoint *ep = &s->eps[i];
    double now = fw_now_s(), cap = s->p.max_retry_wait_s;
    ep->up = 0;
    ep->taken_out++;
    ep->probe_at = now + fmin(1, cap);
    ep->backoff_s = fmin(2, cap);
    fw_log(FW_LOG_WARN, "%s: taken out after %d failures in a row (the last: %s)", ep->shown,
           ep->fails, ep->why);
    if (up_count(s) == 0)
        return; /* nowhere else to go: they stay, under the usual retries */
    for (request **pr = &s->active; *pr;) {
        request *r = *pr;
        if (r->ep != i) {
            pr = &r->active;
            continue;
        }
        fw_oa_detach(s, r); /* *pr is the next one now */
        ep->failed++;
        r->failed_on |= 1u << i;
        r->spared++;
        r->first_at += now - r->started;        /* the frame's deadline counts its own retries */
        fw_analyzer_count(s->a, 1, 1, 0, 0, 0); /* a request sent, and its retry */
        fw_oa_wait(s, r, 0);
    }
}

void fw_oa_pool_end(oa *s, request *r, fw_oa_outcome outcome, double latency_ms, const char *why)
{
    fw_oa_endpoint *ep = &s->eps[r->ep];
    r->health_failed = outcome == FW_OA_FAILED;
    if (outcome == FW_OA_ANSWERED)
        fw_oa_endpoint_answered(ep, latency_ms, &s->rng);
    else
        ep->failed++;
    if (outcome != FW_OA_FAILED) {
        ep->fails = 0;
        if (outcome == FW_OA_ANSWERED && !ep->up) { /* as good as a probe */
            ep->up = 1;
            ep->backoff_s = 1;
            fw_log(FW_LOG_INFO, "%s: answers again", ep->shown);
        }
        return;
    }
    r->failed_on |= 1u << r->ep;
    snprintf(ep->why, sizeof ep->why, "%s", why);
    if (++ep->fails >= FW_OA_DOWN_AFTER && ep->up && s->n_eps > 1)
        take_out(s, r->ep);
}

int fw_oa_pool_spare(const oa *s, const request *r)
{
    if (!r->health_failed)
        return 0;
    for (int i = 0; i < s->n_eps; i++)
        if (s->eps[i].up && !((r->failed_on >> i) & 1))
            return 1;
    return 0;
}

/* ---- probes of the down endpoints ---- */

void fw_oa_pool_tick(oa *s, double now, double *due)
{
    for (int i = 0; i < s->n_eps; i++) {
        fw_oa_endpoint *ep = &s->eps[i];
        if (ep->up || ep->probe.easy)
            continue;
        if (ep->probe_at <= now) {
            if (fw_oa_probe_start(s->multi, s->headers, ep, 1, PROBE_BACK_TIMEOUT_MS))
                ep->probe_at = now + ep->backoff_s; /* out of memory: later */
            continue;
        }
        if (*due == 0 || ep->probe_at < *due)
            *due = ep->probe_at;
    }
}

int fw_oa_pool_probed(oa *s, CURL *easy, CURLcode cc)
{
    int refused = 0;
    int i = fw_oa_probe_done(s->multi, s->headers, s->eps, s->n_eps, easy, cc, FW_OA_PROBE_BACK,
                             s->p.model, s->p.concurrency, &refused);
    if (i < 0)
        return 0;
    fw_oa_endpoint *ep = &s->eps[i];
    if (ep->up) {
        if (ep->n_ctx > 0 && (s->n_ctx == 0 || ep->n_ctx < s->n_ctx))
            s->n_ctx = ep->n_ctx;
        fw_log(FW_LOG_INFO, "%s: answers again (%d slots)", ep->shown, ep->slots);
    } else if (!ep->probe.easy) { /* not yet: again after a longer wait */
        ep->probe_at = fw_now_s() + ep->backoff_s;
        ep->backoff_s = fmin(ep->backoff_s * 2, s->p.max_retry_wait_s);
    }
    return 1;
}

/* ---- the counts ---- */

json_t *fw_oa_pool_json(const oa *s)
{
    json_t *list = json_array();
    for (int i = 0; list && i < s->n_eps; i++) {
        const fw_oa_endpoint *ep = &s->eps[i];
        json_array_append_new(
            list, json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:{s:f, s:f, s:f}}", "url", ep->shown,
                            "slots", ep->slots, "requests", ep->requests, "answered", ep->answered,
                            "failed", ep->failed, "taken_out", ep->taken_out, "latency_ms", "mean",
                            mean_ms(ep), "p50", fw_oa_endpoint_p50(ep), "max", ep->latency_max_ms));
    }
    return list;
}

void fw_oa_pool_warn_end(oa *s)
{
    for (int i = 0; i < s->n_eps; i++) {
        const fw_oa_endpoint *ep = &s->eps[i];
        if (!ep->taken_out)
            continue;
        char msg[900];
        snprintf(msg, sizeof msg,
                 "%s: taken out %d time%s after %d failures in a row (the last: %s); its "
                 "frames went to the other servers",
                 ep->shown, ep->taken_out, ep->taken_out == 1 ? "" : "s", FW_OA_DOWN_AFTER,
                 ep->why);
        fw_analyzer_warn(s->a, msg);
    }
}

void fw_oa_pool_close(oa *s)
{
    for (int i = 0; i < s->n_eps; i++)
        fw_oa_endpoint_clear(&s->eps[i], s->multi);
}
