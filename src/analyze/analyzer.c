/* The analyzer: a bounded queue of keyframes in, observations out in keyframe
 * order, one thread that runs the backend. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/backend.h"
#include "core/error.h"

const char *const fw_obs_flag_names[FW_OBS_NFLAGS] = {
    "uncertain", "hedged", "blurry", "unstructured", "window", "schema_fallback", "truncated"};

/* An answer waiting for the ones before it. */
typedef struct slot {
    int ready;
    double time_s;
    int image_tokens;
    fw_answer ans;
} slot;

struct fw_analyzer {
    const fw_backend_ops *ops;
    void *backend;
    fw_observation_fn fn;
    void *user;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t changed; /* queue space, deliveries, the end */
    /* frames waiting for the backend */
    fw_task q[FW_ANALYZE_QUEUE];
    int head, count;
    int input_over, stopping, finished;
    int submitted;
    /* answers by keyframe index, from `next` on */
    slot *slots;
    int n_slots, next;
    /* counters */
    fw_stats st;
    double t_first, t_last;
    int failed;
    fw_error err;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *analyzer_main(void *arg)
{
    fw_analyzer *a = arg;
    a->ops->run(a->backend);
    pthread_mutex_lock(&a->mu);
    a->finished = 1;
    /* frames never taken (the analyzer stopped): drop them */
    for (; a->count > 0; a->count--) {
        free(a->q[a->head].jpeg);
        a->head = (a->head + 1) % FW_ANALYZE_QUEUE;
    }
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

int fw_analyzer_open(fw_analyzer **out, const fw_params *p, fw_observation_fn fn, void *user,
                     fw_error *err)
{
    *out = NULL;
    fw_analyzer *a = calloc(1, sizeof *a);
    if (!a)
        return fw_error_set(err, FW_ENOMEM, "analyzer: out of memory");
    a->ops = &fw_backend_openai;
    a->fn = fn;
    a->user = user;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->changed, NULL);
    int rc = a->ops->open(&a->backend, p, a, err);
    if (!rc && pthread_create(&a->thread, NULL, analyzer_main, a) != 0)
        rc = fw_error_set(err, FW_EINTERNAL, "analyzer: cannot start its thread");
    if (rc) {
        fw_analyzer_close(a);
        return rc;
    }
    a->started = 1;
    *out = a;
    return 0;
}

static int fatal(fw_analyzer *a, fw_error *err)
{
    if (err)
        *err = a->err;
    return a->failed;
}

int fw_analyzer_submit(fw_analyzer *a, const fw_keyframe *kf, fw_error *err)
{
    fw_task t = {.keyframe = kf->index, .time_s = kf->time_s, .size = kf->jpeg_size,
                 .width = kf->width, .height = kf->height, .image_tokens = kf->image_tokens,
                 .blur = kf->scores.blur, .flat = kf->scores.flat};
    if (!(t.jpeg = malloc(kf->jpeg_size ? kf->jpeg_size : 1)))
        return fw_error_set(err, FW_ENOMEM, "analyzer: out of memory");
    memcpy(t.jpeg, kf->jpeg, kf->jpeg_size);
    pthread_mutex_lock(&a->mu);
    while (a->count == FW_ANALYZE_QUEUE && !a->stopping && !a->finished)
        pthread_cond_wait(&a->changed, &a->mu);
    if (a->stopping || a->finished) {
        int rc = a->failed ? fatal(a, err)
                           : fw_error_set(err, FW_ECANCELED, "analyzer: stopped");
        pthread_mutex_unlock(&a->mu);
        free(t.jpeg);
        return rc;
    }
    a->q[(a->head + a->count) % FW_ANALYZE_QUEUE] = t;
    a->count++;
    a->submitted++;
    a->st.image_tokens += t.image_tokens;
    pthread_mutex_unlock(&a->mu);
    a->ops->wake(a->backend);
    return 0;
}

int fw_analyzer_finish(fw_analyzer *a, fw_error *err)
{
    pthread_mutex_lock(&a->mu);
    a->input_over = 1;
    pthread_mutex_unlock(&a->mu);
    a->ops->wake(a->backend);
    if (a->started) {
        pthread_join(a->thread, NULL);
        a->started = 0;
    }
    return a->failed ? fatal(a, err) : 0;
}

void fw_analyzer_stats(fw_analyzer *a, fw_stats *st)
{
    pthread_mutex_lock(&a->mu);
    st->observations += a->st.observations;
    st->requests += a->st.requests;
    st->retries += a->st.retries;
    st->failed += a->st.failed;
    st->image_tokens += a->st.image_tokens;
    st->prompt_tokens += a->st.prompt_tokens;
    st->completion_tokens += a->st.completion_tokens;
    if (a->t_last > a->t_first)
        st->analyze_s += a->t_last - a->t_first;
    pthread_mutex_unlock(&a->mu);
}

static void answer_free(fw_answer *ans)
{
    free(ans->text);
    free(ans->fields);
    free(ans->error);
    memset(ans, 0, sizeof *ans);
}

void fw_analyzer_close(fw_analyzer *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stopping = 1;
    a->input_over = 1;
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->mu);
    if (a->started) {
        a->ops->wake(a->backend);
        pthread_join(a->thread, NULL);
    }
    if (a->backend)
        a->ops->close(a->backend);
    for (int i = 0; i < a->count; i++)
        free(a->q[(a->head + i) % FW_ANALYZE_QUEUE].jpeg);
    for (int i = 0; i < a->n_slots; i++)
        answer_free(&a->slots[i].ans);
    free(a->slots);
    pthread_cond_destroy(&a->changed);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

int fw_analyzer_take(fw_analyzer *a, fw_task *out, int n)
{
    pthread_mutex_lock(&a->mu);
    int got;
    if (a->stopping)
        got = -1;
    else if (a->count >= n || (a->input_over && a->count > 0)) {
        got = a->count < n ? a->count : n;
        for (int i = 0; i < got; i++) {
            out[i] = a->q[a->head];
            a->head = (a->head + 1) % FW_ANALYZE_QUEUE;
        }
        a->count -= got;
        if (!a->t_first)
            a->t_first = now_s();
        pthread_cond_broadcast(&a->changed);
    } else
        got = a->input_over ? -1 : 0;
    pthread_mutex_unlock(&a->mu);
    return got;
}

/* Delivers the answers that are next in order; called with the lock held, it
 * releases it around the callback. */
static void deliver(fw_analyzer *a)
{
    const char *model = a->ops->model(a->backend);
    while (!a->stopping && a->next < a->n_slots && a->slots[a->next].ready) {
        slot s = a->slots[a->next];
        memset(&a->slots[a->next], 0, sizeof a->slots[a->next]);
        int index = a->next++;
        const char *flags[FW_OBS_NFLAGS];
        int n_flags = 0;
        for (int b = 0; b < FW_OBS_NFLAGS; b++)
            if (s.ans.flags & (1u << b))
                flags[n_flags++] = fw_obs_flag_names[b];
        fw_observation obs = {
            .keyframe = index, .time_s = s.time_s, .text = s.ans.text ? s.ans.text : "",
            .fields = s.ans.fields ? s.ans.fields : "{}", .confidence = s.ans.confidence,
            .flags = flags, .n_flags = n_flags, .backend = a->ops->name, .model = model,
            .latency_ms = s.ans.latency_ms, .image_tokens = s.image_tokens,
            .prompt_tokens = s.ans.prompt_tokens, .completion_tokens = s.ans.completion_tokens,
            .attempts = s.ans.attempts, .error = s.ans.error};
        a->st.observations++;
        if (s.ans.error)
            a->st.failed++;
        pthread_mutex_unlock(&a->mu);
        int stop = a->fn ? a->fn(a->user, &obs) : 0;
        answer_free(&s.ans);
        pthread_mutex_lock(&a->mu);
        if (stop && !a->failed) {
            a->failed = fw_error_set(&a->err, FW_ECANCELED,
                                     "stopped while reporting observation %d", index);
            a->stopping = 1;
        }
    }
    pthread_cond_broadcast(&a->changed);
}

void fw_analyzer_post(fw_analyzer *a, fw_task *t, fw_answer *ans)
{
    free(t->jpeg);
    t->jpeg = NULL;
    pthread_mutex_lock(&a->mu);
    a->t_last = now_s();
    int i = t->keyframe;
    if (i >= a->n_slots) {
        int n = a->n_slots ? a->n_slots : 64;
        while (n <= i)
            n *= 2;
        slot *s = realloc(a->slots, (size_t)n * sizeof *s);
        if (!s) {
            if (!a->failed)
                a->failed = fw_error_set(&a->err, FW_ENOMEM, "analyzer: out of memory");
            a->stopping = 1;
            pthread_mutex_unlock(&a->mu);
            answer_free(ans);
            return;
        }
        memset(s + a->n_slots, 0, (size_t)(n - a->n_slots) * sizeof *s);
        a->slots = s;
        a->n_slots = n;
    }
    if (i < a->next || a->slots[i].ready) { /* a second answer for one frame: a bug */
        pthread_mutex_unlock(&a->mu);
        answer_free(ans);
        return;
    }
    a->slots[i] = (slot){.ready = 1, .time_s = t->time_s, .image_tokens = t->image_tokens,
                         .ans = *ans};
    memset(ans, 0, sizeof *ans);
    deliver(a);
    pthread_mutex_unlock(&a->mu);
}

void fw_analyzer_count(fw_analyzer *a, int requests, int retries, int prompt_tokens,
                       int completion_tokens)
{
    pthread_mutex_lock(&a->mu);
    a->st.requests += requests;
    a->st.retries += retries;
    a->st.prompt_tokens += prompt_tokens;
    a->st.completion_tokens += completion_tokens;
    pthread_mutex_unlock(&a->mu);
}

void fw_analyzer_fail(fw_analyzer *a, const fw_error *err)
{
    pthread_mutex_lock(&a->mu);
    if (!a->failed) {
        a->failed = err->code ? err->code : FW_EINTERNAL;
        a->err = *err;
    }
    a->stopping = 1;
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->mu);
}

int fw_analyzer_stopping(fw_analyzer *a)
{
    pthread_mutex_lock(&a->mu);
    int s = a->stopping;
    pthread_mutex_unlock(&a->mu);
    return s;
}
