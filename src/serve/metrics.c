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

struct fw_metrics {
    pthread_mutex_t mu;
    uint64_t hist[FW_N_ROUTES][N_BUCKETS + 1]; /* the last: +Inf */
    double sum[FW_N_ROUTES];
    uint64_t by_class[FW_N_ROUTES][6]; /* status / 100 */
    uint64_t keyframes, requests, retries, image_tokens;
    uint64_t ended[FW_QUEUE_N_STATES];
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

void fw_metrics_job_end(fw_metrics *m, const char *state, json_t *stats)
{
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < FW_QUEUE_N_STATES; i++)
        if (strcmp(state, fw_queue_state_name(i)) == 0)
            m->ended[i]++;
    m->requests += count_of(stats, "requests");
    m->retries += count_of(stats, "retries");
    m->image_tokens += count_of(stats, "image_tokens");
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
    histograms(&t, m);
    pthread_mutex_unlock(&m->mu);
    return t.buf;
}
