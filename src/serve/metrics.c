#include "serve/metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const route_names[FW_N_ROUTES] = {"submit", "status", "list", "cancel",
                                                     "result", "events", "page", "other"};
/* Seconds: from a cached status read to a large upload. */
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

/* Model servers counted apart (the jobs' stats.endpoints): a label each, so the series stay
 * few; the rest are summed under endpoint="other". */
#define MAX_ENDPOINTS 16

typedef struct endpoint_counts {
    char url[256]; /* "" : a free row */
    uint64_t requests, failures, answered;
    double seconds; /* answered requests' time */
} endpoint_counts;

struct fw_metrics {
    pthread_mutex_t mu;
    uint64_t hist[FW_N_ROUTES][N_BUCKETS + 1]; /* the last: +Inf */
    double sum[FW_N_ROUTES];
    uint64_t by_class[FW_N_ROUTES][6]; /* status / 100 */
    uint64_t keyframes, requests, retries, image_tokens;
    uint64_t ended[FW_QUEUE_N_STATES];
    endpoint_counts endpoints[MAX_ENDPOINTS + 1]; /* the last: "other" */
};

fw_metrics *fw_metrics_new(void)
{
    fw_metrics *m = calloc(1, sizeof *m);
    if (m)
        pthread_mutex_init(&m->mu, NULL);
    return m;
}

void fw_metrics_free(fw_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void fw_metrics_request(fw_metrics *m, fw_route route, int status, double seconds)
{
    if ((unsigned)route >= FW_N_ROUTES)
        route = FW_ROUTE_OTHER;
    size_t b = 0;
    while (b < N_BUCKETS && seconds > buckets[b])
        b++;
    pthread_mutex_lock(&m->mu);
    m->hist[route][b]++;
    m->sum[route] += seconds;
    m->by_class[route][status / 100 < 6 ? status / 100 : 5]++;
    pthread_mutex_unlock(&m->mu);
}

void fw_metrics_keyframe(fw_metrics *m)
{
    pthread_mutex_lock(&m->mu);
    m->keyframes++;
    pthread_mutex_unlock(&m->mu);
}

static uint64_t count_of(json_t *stats, const char *name)
{
    json_int_t v = json_integer_value(json_object_get(stats, name));
    return v > 0 ? (uint64_t)v : 0;
}

/* The row of url: its own, a new one, or "other" once MAX_ENDPOINTS are taken. */
static endpoint_counts *endpoint_row(fw_metrics *m, const char *url)
{
    for (int i = 0; i < MAX_ENDPOINTS; i++) {
        endpoint_counts *e = &m->endpoints[i];
        if (!e->url[0])
            snprintf(e->url, sizeof e->url, "%s", url);
        if (strcmp(e->url, url) == 0)
            return e;
    }
    endpoint_counts *other = &m->endpoints[MAX_ENDPOINTS];
    snprintf(other->url, sizeof other->url, "other");
    return other;
}

/* A job's stats.endpoints into the rows (under the lock). */
static void count_endpoints(fw_metrics *m, json_t *list)
{
    size_t i;
    json_t *ep;
    json_array_foreach(list, i, ep)
    {
        const char *url = json_string_value(json_object_get(ep, "url"));
        if (!url || !url[0])
            continue;
        endpoint_counts *e = endpoint_row(m, url);
        uint64_t answered = count_of(ep, "answered");
        double mean = json_number_value(json_object_get(json_object_get(ep, "latency_ms"), "mean"));
        e->requests += count_of(ep, "requests");
        e->failures += count_of(ep, "failed");
        e->answered += answered;
        if (mean > 0)
            e->seconds += mean * (double)answered / 1000;
    }
}

void fw_metrics_job_end(fw_metrics *m, const char *state, json_t *stats)
{
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < FW_QUEUE_N_STATES; i++)
        if (strcmp(state, fw_queue_state_name(i)) == 0)
            m->ended[i]++;
    m->requests += count_of(stats, "requests");
    m->retries += count_of(stats, "retries");
    m->image_tokens += count_of(stats, "image_tokens");
    count_endpoints(m, json_object_get(stats, "endpoints"));
    pthread_mutex_unlock(&m->mu);
}

typedef struct text {
    char *buf;
    size_t len, cap;
} text;

static void add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (t->buf && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap ? t->cap * 2 : 8192) + (size_t)n;
        char *grown = realloc(t->buf, cap);
        if (!grown)
            return;
        t->buf = grown, t->cap = cap;
    }
}

static void counter(text *t, const char *name, const char *help, uint64_t v)
{
    add(t, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
        (unsigned long long)v);
}

/* A label value: '"', '\\' and newlines escaped as the text format wants. */
static void label_value(const char *v, char *out, size_t n)
{
    size_t o = 0;
    for (; *v && o + 3 < n; v++) {
        if (*v == '"' || *v == '\\' || *v == '\n') {
            out[o++] = '\\';
            out[o++] = *v == '\n' ? 'n' : *v;
        } else
            out[o++] = *v;
    }
    out[o] = '\0';
}

/* One line of each endpoint row: name{endpoint="url"} and the value which picks. */
static void endpoint_lines(text *t, const fw_metrics *m, const char *name, int which)
{
    for (int i = 0; i <= MAX_ENDPOINTS; i++) {
        const endpoint_counts *e = &m->endpoints[i];
        char url[600];
        if (!e->url[0])
            continue;
        label_value(e->url, url, sizeof url);
        if (which == 3)
            add(t, "%s{endpoint=\"%s\"} %.6f\n", name, url, e->seconds);
        else
            add(t, "%s{endpoint=\"%s\"} %llu\n", name, url,
                (unsigned long long)(which == 0   ? e->requests
                                     : which == 1 ? e->failures
                                                  : e->answered));
    }
}

/* The model servers' counts, from the jobs that ended (none yet: no series). */
static void endpoints(text *t, const fw_metrics *m)
{
    if (!m->endpoints[0].url[0])
        return;
    const char *req = "framewise_vlm_endpoint_requests_total",
               *fail = "framewise_vlm_endpoint_failures_total",
               *secs = "framewise_vlm_endpoint_request_seconds";
    add(t,
        "# HELP %s Requests sent to each model server (16 apart, the rest as \"other\").\n"
        "# TYPE %s counter\n",
        req, req);
    endpoint_lines(t, m, req, 0);
    add(t, "# HELP %s Of those, the ones that got no answer.\n# TYPE %s counter\n", fail, fail);
    endpoint_lines(t, m, fail, 1);
    add(t, "# HELP %s Time of each model server's answered requests.\n# TYPE %s summary\n", secs,
        secs);
    char name[96];
    snprintf(name, sizeof name, "%s_sum", secs);
    endpoint_lines(t, m, name, 3);
    snprintf(name, sizeof name, "%s_count", secs);
    endpoint_lines(t, m, name, 2);
}

static void histograms(text *t, const fw_metrics *m)
{
    const char *name = "framewise_http_request_duration_seconds";
    add(t, "# HELP %s API requests by route: time to answer.\n# TYPE %s histogram\n", name, name);
    for (int r = 0; r < FW_N_ROUTES; r++) {
        uint64_t cum = 0;
        for (size_t b = 0; b <= N_BUCKETS; b++) {
            cum += m->hist[r][b];
            if (b < N_BUCKETS)
                add(t, "%s_bucket{route=\"%s\",le=\"%g\"} %llu\n", name, route_names[r], buckets[b],
                    (unsigned long long)cum);
            else
                add(t, "%s_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", name, route_names[r],
                    (unsigned long long)cum);
        }
        add(t, "%s_sum{route=\"%s\"} %.6f\n%s_count{route=\"%s\"} %llu\n", name, route_names[r],
            m->sum[r], name, route_names[r], (unsigned long long)cum);
    }
    add(t, "# HELP framewise_http_requests_total API requests by route and status class.\n"
           "# TYPE framewise_http_requests_total counter\n");
    for (int r = 0; r < FW_N_ROUTES; r++)
        for (int c = 1; c < 6; c++)
            if (m->by_class[r][c])
                add(t, "framewise_http_requests_total{route=\"%s\",code=\"%dxx\"} %llu\n",
                    route_names[r], c, (unsigned long long)m->by_class[r][c]);
}

char *fw_metrics_text(fw_metrics *m, const int64_t counts[FW_QUEUE_N_STATES], int workers, int busy)
{
    text t = {0};
    pthread_mutex_lock(&m->mu);
    add(&t, "# HELP framewise_jobs Jobs in the queue by state.\n# TYPE framewise_jobs gauge\n");
    for (int i = 0; i < FW_QUEUE_N_STATES; i++)
        add(&t, "framewise_jobs{state=\"%s\"} %lld\n", fw_queue_state_name(i),
            (long long)counts[i]);
    add(&t,
        "# HELP framewise_queue_depth Jobs waiting for a worker.\n"
        "# TYPE framewise_queue_depth gauge\nframewise_queue_depth %lld\n",
        (long long)counts[0]);
    add(&t,
        "# HELP framewise_workers Worker threads.\n# TYPE framewise_workers gauge\n"
        "framewise_workers %d\n# HELP framewise_workers_busy Workers running a job.\n"
        "# TYPE framewise_workers_busy gauge\nframewise_workers_busy %d\n",
        workers, busy);
    add(&t, "# HELP framewise_jobs_ended_total Jobs ended since the start, by state.\n"
            "# TYPE framewise_jobs_ended_total counter\n");
    for (int i = 2; i < FW_QUEUE_N_STATES; i++)
        add(&t, "framewise_jobs_ended_total{state=\"%s\"} %llu\n", fw_queue_state_name(i),
            (unsigned long long)m->ended[i]);
    counter(&t, "framewise_keyframes_total", "Keyframes kept by the jobs run here.", m->keyframes);
    counter(&t, "framewise_model_requests_total", "Requests sent to model servers.", m->requests);
    counter(&t, "framewise_model_retries_total", "Of those, retries.", m->retries);
    counter(&t, "framewise_image_tokens_total", "Image tokens sent to model servers.",
            m->image_tokens);
    endpoints(&t, m);
    histograms(&t, m);
    pthread_mutex_unlock(&m->mu);
    return t.buf;
}
