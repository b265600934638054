/* The analyzer: a bounded queue of keyframes in, observations out in keyframe
 * order, one thread that runs the backend. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <stdio.h>

#include "analyze/backend.h"
#include "analyze/notes.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/safetext.h"

const char *const fw_obs_flag_names[FW_OBS_NFLAGS] = {
    "uncertain", "hedged", "blurry", "unstructured", "window", "schema_fallback", "truncated"};

static const char *const sent_names[] = {"whole", "low", "again", "crop", "none", "same"};

void fw_task_release(fw_task *t)
{
    free(t->jpeg);
    free(t->full.jpeg);
    free(t->hi.jpeg);
    for (int i = 0; i < t->n_crops; i++)
        free(t->crops[i].pic.jpeg);
    free(t->context);
    free(t->ocr);
    t->jpeg = t->full.jpeg = t->hi.jpeg = NULL;
    t->n_crops = 0;
    t->context = t->ocr = NULL;
}

#define MAX_LANES 2

/* An answer waiting for the ones before it (and for every lane's part). */
typedef struct slot {
    unsigned have; /* lanes that answered */
    int cached;    /* ans[0] came from fw_analyzer_submit_done */
    double time_s;
    int image_tokens;
    int by_model; /* image_tokens, sent and regions are the model lane's */
    fw_sent sent;
    int n_regions;
    fw_region regions[FW_MAX_REGIONS];
    fw_answer ans[MAX_LANES];
} slot;

struct fw_lane {
    fw_analyzer *a;
    int index;
    const fw_backend_ops *ops;
    void *state;
    fw_task q[FW_ANALYZE_QUEUE]; /* frames waiting for this backend */
    int head, count;
    pthread_t thread;
    int started;
};

#define SLOT(a, i) (&(a)->slots[(i) % (a)->n_slots])

struct fw_analyzer {
    fw_lane lanes[MAX_LANES];
    int n_lanes;
    unsigned all; /* the mask of every lane */
    char name[32];
    fw_observation_fn fn;
    void *user;
    pthread_mutex_t mu;
    pthread_cond_t changed; /* queue space, deliveries, the end */
    int input_over, stopping;
    int submitted;
    /* answers by keyframe index, from `next` on */
    slot *slots; /* a ring: keyframe i at slots[i % n_slots], for next <= i < next + n_slots */
    int n_slots, next;
    int delivering;    /* a thread is delivering: the others leave it the new answers */
    fw_notes warnings; /* the backends', until fw_analyzer_warnings */
    /* counters */
    fw_stats st;
    double t_first, t_last;
    int failed;
    fw_error err;
};

static void *lane_main(void *arg)
{
    fw_lane *l = arg;
    fw_analyzer *a = l->a;
    l->ops->run(l->state);
    pthread_mutex_lock(&a->mu);
    /* frames never taken (the analyzer stopped): drop them */
    for (; l->count > 0; l->count--) {
        fw_task_release(&l->q[l->head]);
        l->head = (l->head + 1) % FW_ANALYZE_QUEUE;
    }
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* Which backends: "openai", "local" or "openai+local"; by default openai when a
 * server URL is given, else local. */
static int choose(fw_analyzer *a, const fw_params *p, fw_error *err)
{
    const char *b = p->backend ? p->backend : p->url ? "openai" : "local";
    if (strcmp(b, "openai") == 0)
        a->lanes[a->n_lanes++].ops = &fw_backend_openai;
    else if (strcmp(b, "local") == 0)
        a->lanes[a->n_lanes++].ops = &fw_backend_local;
    else if (strcmp(b, "openai+local") == 0 || strcmp(b, "local+openai") == 0) {
        a->lanes[a->n_lanes++].ops = &fw_backend_openai;
        a->lanes[a->n_lanes++].ops = &fw_backend_local;
    } else
        return fw_error_set(err, FW_EINVAL,
                            "backend: unknown backend '%s' (local, openai, "
                            "openai+local)",
                            b);
    snprintf(a->name, sizeof a->name, "%s", a->n_lanes == 2 ? "openai+local" : b);
    return 0;
}

int fw_analyzer_open(fw_analyzer **out, const fw_params *p, fw_observation_fn fn, void *user,
                     fw_error *err)
{
    *out = NULL;
    fw_analyzer *a = calloc(1, sizeof *a);
    if (!a)
        return fw_error_set(err, FW_ENOMEM, "analyzer: out of memory");
    a->fn = fn;
    a->user = user;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->changed, NULL);
    fw_notes_init(&a->warnings);
    int rc = choose(a, p, err);
    for (int i = 0; !rc && i < a->n_lanes; i++) {
        fw_lane *l = &a->lanes[i];
        l->a = a;
        l->index = i;
        a->all |= 1u << i;
        rc = l->ops->open(&l->state, p, l, err);
    }
    for (int i = 0; !rc && i < a->n_lanes; i++) {
        fw_lane *l = &a->lanes[i];
        if (pthread_create(&l->thread, NULL, lane_main, l) != 0)
            rc = fw_error_set(err, FW_EINTERNAL, "analyzer: cannot start its thread");
        else
            l->started = 1;
    }
    if (rc) {
        fw_analyzer_close(a);
        return rc;
    }
    *out = a;
    return 0;
}

const char *fw_analyzer_backend(const fw_analyzer *a)
{
    return a->name;
}

void fw_answer_confidence(fw_answer *ans, const fw_task *t, double c)
{
    if (!t->flat && t->blur < FW_BLUR_LOW) {
        ans->flags |= FW_OBS_BLURRY;
        c *= 0.8;
    }
    ans->confidence = c < 0 ? 0 : c > 1 ? 1 : c;
}

/* 1 when lane l wants the full-resolution picture: OCR reads it, crops are cut from it. */
static int lane_wants_full(const fw_lane *l)
{
    return l->ops == &fw_backend_local || (l->ops->wants_full && l->ops->wants_full(l->state));
}

int fw_analyzer_wants_full(const fw_analyzer *a)
{
    for (int i = 0; i < a->n_lanes; i++)
        if (lane_wants_full(&a->lanes[i]))
            return 1;
    return 0;
}

static int copy_of(const uint8_t *src, size_t size, uint8_t **out)
{
    *out = malloc(size ? size : 1);
    if (*out)
        memcpy(*out, src, size);
    return *out ? 0 : -1;
}

static int fatal(fw_analyzer *a, fw_error *err)
{
    if (err)
        *err = a->err;
    return a->failed;
}

static int queues_full(const fw_analyzer *a)
{
    for (int i = 0; i < a->n_lanes; i++)
        if (a->lanes[i].count == FW_ANALYZE_QUEUE)
            return 1;
    return 0;
}

int fw_analyzer_submit(fw_analyzer *a, const fw_keyframe *kf, const uint8_t *full, size_t full_size,
                       fw_error *err)
{
    fw_task t[MAX_LANES];
    memset(t, 0, sizeof t);
    for (int i = 0; i < a->n_lanes; i++) {
        /* the local backend reads text: it gets the full-resolution picture; a model's
         * lane that cuts crops gets it beside the picture it sends */
        int big = full && a->lanes[i].ops == &fw_backend_local;
        const uint8_t *jpeg = big ? full : kf->jpeg;
        size_t size = big ? full_size : kf->jpeg_size;
        t[i] = (fw_task){.keyframe = kf->index,
                         .time_s = kf->time_s,
                         .size = size,
                         .width = kf->width,
                         .height = kf->height,
                         .image_tokens = kf->image_tokens,
                         .planned_tokens = kf->image_tokens,
                         .blur = kf->scores.blur,
                         .motion = kf->scores.motion,
                         .flat = kf->scores.flat,
                         .black = kf->scores.black,
                         .reason = kf->reason};
        int bad = copy_of(jpeg, size, &t[i].jpeg);
        if (!bad && full && !big && lane_wants_full(&a->lanes[i])) {
            bad = copy_of(full, full_size, &t[i].full.jpeg);
            t[i].full.size = full_size;
        }
        if (bad) {
            for (; i >= 0; i--)
                fw_task_release(&t[i]);
            return fw_error_set(err, FW_ENOMEM, "analyzer: out of memory");
        }
    }
    pthread_mutex_lock(&a->mu);
    while (queues_full(a) && !a->stopping)
        pthread_cond_wait(&a->changed, &a->mu);
    if (a->stopping) {
        int rc = a->failed ? fatal(a, err) : fw_error_set(err, FW_ECANCELED, "analyzer: stopped");
        pthread_mutex_unlock(&a->mu);
        for (int i = 0; i < a->n_lanes; i++)
            fw_task_release(&t[i]);
        return rc;
    }
    for (int i = 0; i < a->n_lanes; i++) {
        fw_lane *l = &a->lanes[i];
        l->q[(l->head + l->count) % FW_ANALYZE_QUEUE] = t[i];
        l->count++;
    }
    a->submitted++;
    a->st.image_tokens += kf->image_tokens;
    pthread_mutex_unlock(&a->mu);
    for (int i = 0; i < a->n_lanes; i++)
        a->lanes[i].ops->wake(a->lanes[i].state);
    return 0;
}

static void join_lanes(fw_analyzer *a)
{
    for (int i = 0; i < a->n_lanes; i++) {
        fw_lane *l = &a->lanes[i];
        if (l->started) {
            l->ops->wake(l->state);
            pthread_join(l->thread, NULL);
            l->started = 0;
        }
    }
}

int fw_analyzer_finish(fw_analyzer *a, fw_error *err)
{
    pthread_mutex_lock(&a->mu);
    a->input_over = 1;
    pthread_mutex_unlock(&a->mu);
    join_lanes(a);
    return a->failed ? fatal(a, err) : 0;
}

void fw_analyzer_stats(fw_analyzer *a, fw_stats *st)
{
    pthread_mutex_lock(&a->mu);
    st->observations += a->st.observations;
    st->requests += a->st.requests;
    st->retries += a->st.retries;
    st->failed += a->st.failed;
    st->cached += a->st.cached;
    st->image_tokens += a->st.image_tokens;
    st->prompt_tokens += a->st.prompt_tokens;
    st->completion_tokens += a->st.completion_tokens;
    st->text_tokens += a->st.text_tokens;
    st->crops += a->st.crops;
    st->low_asks += a->st.low_asks;
    st->asked_again += a->st.asked_again;
    st->avoided += a->st.avoided;
    st->unchanged += a->st.unchanged;
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
    join_lanes(a);
    for (int i = 0; i < a->n_lanes; i++) {
        fw_lane *l = &a->lanes[i];
        if (l->state)
            l->ops->close(l->state);
        for (int j = 0; j < l->count; j++)
            fw_task_release(&l->q[(l->head + j) % FW_ANALYZE_QUEUE]);
    }
    for (int i = 0; i < a->n_slots; i++)
        for (int j = 0; j < MAX_LANES; j++)
            answer_free(&a->slots[i].ans[j]);
    free(a->slots);
    fw_notes_free(&a->warnings);
    pthread_cond_destroy(&a->changed);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

int fw_analyzer_take(fw_lane *l, fw_task *out, int n)
{
    fw_analyzer *a = l->a;
    pthread_mutex_lock(&a->mu);
    int got;
    if (a->stopping)
        got = -1;
    else if (l->count >= n || (a->input_over && l->count > 0)) {
        got = l->count < n ? l->count : n;
        for (int i = 0; i < got; i++) {
            out[i] = l->q[l->head];
            l->head = (l->head + 1) % FW_ANALYZE_QUEUE;
        }
        l->count -= got;
        if (!a->t_first)
            a->t_first = fw_now_s();
        pthread_cond_broadcast(&a->changed);
    } else
        got = a->input_over ? -1 : 0;
    pthread_mutex_unlock(&a->mu);
    return got;
}

/* The answers of two lanes as one: the first (openai) answer, with the second's
 * (local) fields under "ocr"; when the first failed, the second's text stands in. */
static void merge(fw_answer *first, fw_answer *second)
{
    json_t *f = json_loads(first->fields ? first->fields : "{}", 0, NULL);
    json_t *o = json_loads(second->fields ? second->fields : "{}", 0, NULL);
    if (!json_is_object(f)) {
        json_decref(f);
        f = json_object();
    }
    json_object_set_new(f, "ocr", json_is_object(o) ? o : json_object());
    if (!json_is_object(o))
        json_decref(o);
    char *merged = json_dumps(f, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(f);
    if (merged) {
        free(first->fields);
        first->fields = merged;
    }
    if (first->error && second->text && second->text[0]) {
        free(first->text);
        first->text = second->text;
        second->text = NULL;
    }
    first->flags |= second->flags;
    answer_free(second);
}

/* Delivers the answers that are next in order; called with the lock held, it
 * releases it around the hooks and the callback. One thread delivers at a time. */

/* What a model or the OCR said, without the bytes that would act on a terminal or a page
 * (ESC, controls, bidi overrides: core/safetext.h), before anyone sees it. */
static void safe_answer(fw_answer *ans)
{
    fw_safe_text(ans->text);
    fw_safe_text(ans->error);
    int changed = 0;
    char *fields = ans->fields ? fw_safe_json_text(ans->fields, &changed) : NULL;
    if (changed) {
        free(ans->fields);
        ans->fields = fields;
    } else
        free(fields);
}
static void deliver(fw_analyzer *a)
{
    if (a->delivering)
        return; /* that thread will find this answer ready */
    a->delivering = 1;
    const char *model = a->lanes[0].ops->model(a->lanes[0].state);
    while (!a->stopping && a->n_slots && SLOT(a, a->next)->have == a->all) {
        slot s = *SLOT(a, a->next);
        memset(SLOT(a, a->next), 0, sizeof s);
        int index = a->next++;
        pthread_mutex_unlock(&a->mu);
        /* a stored answer was merged and ordered when it was made; with one lane the
         * ordered hook still sees it, so what comes next is compared with it */
        for (int i = 0; i < a->n_lanes && (!s.cached || a->n_lanes == 1); i++)
            if (a->lanes[i].ops->ordered)
                a->lanes[i].ops->ordered(a->lanes[i].state, &s.ans[i]);
        if (a->n_lanes == 2 && !s.cached)
            merge(&s.ans[0], &s.ans[1]);
        fw_answer *ans = &s.ans[0];
        safe_answer(ans);
        const char *flags[FW_OBS_NFLAGS];
        int n_flags = 0;
        for (int b = 0; b < FW_OBS_NFLAGS; b++)
            if (ans->flags & (1u << b))
                flags[n_flags++] = fw_obs_flag_names[b];
        fw_observation obs = {.keyframe = index,
                              .time_s = s.time_s,
                              .text = ans->text ? ans->text : "",
                              .fields = ans->fields ? ans->fields : "{}",
                              .confidence = ans->confidence,
                              .flags = flags,
                              .n_flags = n_flags,
                              .backend = a->name,
                              .model = model,
                              .latency_ms = ans->latency_ms,
                              .image_tokens = s.image_tokens,
                              .prompt_tokens = ans->prompt_tokens,
                              .completion_tokens = ans->completion_tokens,
                              .attempts = ans->attempts,
                              .error = ans->error,
                              .cached = s.cached,
                              .sent = s.by_model ? sent_names[s.sent] : NULL,
                              .n_regions = s.n_regions};
        for (int r = 0; r < s.n_regions; r++) {
            obs.regions[r][0] = s.regions[r].x;
            obs.regions[r][1] = s.regions[r].y;
            obs.regions[r][2] = s.regions[r].w;
            obs.regions[r][3] = s.regions[r].h;
        }
        int stop = a->fn ? a->fn(a->user, &obs) : 0;
        for (int i = 0; i < MAX_LANES; i++)
            answer_free(&s.ans[i]);
        pthread_mutex_lock(&a->mu);
        a->st.observations++;
        a->st.cached += s.cached;
        if (obs.error)
            a->st.failed++;
        if (s.by_model && !obs.error) {
            a->st.crops += s.sent == FW_SENT_CROP;
            a->st.low_asks += s.sent == FW_SENT_LOW || s.sent == FW_SENT_AGAIN;
            a->st.asked_again += s.sent == FW_SENT_AGAIN;
            a->st.avoided += s.sent == FW_SENT_NONE;
            a->st.unchanged += s.sent == FW_SENT_SAME;
        }
        if (stop && !a->failed) {
            a->failed = fw_error_set(&a->err, FW_ECANCELED,
                                     "stopped while reporting observation %d", index);
            a->stopping = 1;
        }
    }
    a->delivering = 0;
    pthread_cond_broadcast(&a->changed);
}

/* Makes room for slot i (under the lock): the slots are a ring of the keyframes from
 * next on, as many as are in flight; 0, or -1 after stopping the analyzer. */
static int slot_room(fw_analyzer *a, int i)
{
    if (i < a->next || i - a->next < a->n_slots)
        return 0;
    int n = a->n_slots ? a->n_slots : 64;
    while (n <= i - a->next)
        n *= 2;
    slot *s = calloc((size_t)n, sizeof *s);
    if (!s) {
        if (!a->failed)
            a->failed = fw_error_set(&a->err, FW_ENOMEM, "analyzer: out of memory");
        a->stopping = 1;
        return -1;
    }
    for (int k = a->next; k < a->next + a->n_slots; k++) /* each to its place in the new ring */
        s[k % n] = *SLOT(a, k);
    free(a->slots);
    a->slots = s;
    a->n_slots = n;
    return 0;
}

int fw_analyzer_submit_done(fw_analyzer *a, const fw_keyframe *kf, const fw_observation *obs,
                            fw_error *err)
{
    fw_answer ans = {.text = strdup(obs->text ? obs->text : ""),
                     .fields = strdup(obs->fields ? obs->fields : "{}"),
                     .error = obs->error ? strdup(obs->error) : NULL,
                     .confidence = obs->confidence,
                     .latency_ms = obs->latency_ms,
                     .prompt_tokens = obs->prompt_tokens,
                     .completion_tokens = obs->completion_tokens,
                     .attempts = obs->attempts};
    for (int f = 0; f < obs->n_flags; f++)
        for (int b = 0; b < FW_OBS_NFLAGS; b++)
            if (strcmp(obs->flags[f], fw_obs_flag_names[b]) == 0)
                ans.flags |= 1u << b;
    if (!ans.text || !ans.fields || (obs->error && !ans.error)) {
        answer_free(&ans);
        return fw_error_set(err, FW_ENOMEM, "analyzer: out of memory");
    }
    pthread_mutex_lock(&a->mu);
    int i = kf->index;
    if (a->stopping || i < a->next || slot_room(a, i)) { /* i < next: delivered already */
        int rc = a->failed ? fatal(a, err) : fw_error_set(err, FW_ECANCELED, "analyzer: stopped");
        pthread_mutex_unlock(&a->mu);
        answer_free(&ans);
        return rc;
    }
    slot *s = SLOT(a, i);
    s->have = a->all;
    s->cached = 1;
    s->time_s = kf->time_s;
    s->image_tokens = 0; /* nothing was sent */
    s->ans[0] = ans;
    a->submitted++;
    deliver(a);
    pthread_mutex_unlock(&a->mu);
    return 0;
}

void fw_analyzer_post(fw_lane *l, fw_task *t, fw_answer *ans)
{
    fw_analyzer *a = l->a;
    fw_region regions[FW_MAX_REGIONS];
    int n_regions = t->sent == FW_SENT_CROP ? t->n_crops : 0;
    for (int r = 0; r < n_regions; r++)
        regions[r] = t->crops[r].at;
    fw_task_release(t);
    pthread_mutex_lock(&a->mu);
    a->t_last = fw_now_s();
    int i = t->keyframe;
    if (slot_room(a, i)) {
        pthread_mutex_unlock(&a->mu);
        answer_free(ans);
        return;
    }
    unsigned bit = 1u << l->index;
    if (i < a->next || (SLOT(a, i)->have & bit)) { /* a second answer for one frame: a bug */
        pthread_mutex_unlock(&a->mu);
        answer_free(ans);
        return;
    }
    slot *s = SLOT(a, i);
    /* what was sent: the model lane's pictures (smaller, crops, two asks, none) */
    int spent = t->image_tokens + t->spent_tokens;
    if (l->ops == &fw_backend_openai) {
        s->image_tokens = spent;
        s->sent = t->sent;
        s->by_model = 1;
        s->n_regions = n_regions;
        memcpy(s->regions, regions, (size_t)n_regions * sizeof *regions);
    } else if (!s->by_model)
        s->image_tokens = spent;
    s->have |= bit;
    s->time_s = t->time_s;
    if (l->index == 0) /* counted once a keyframe at submit: now what it really cost */
        a->st.image_tokens += spent - t->planned_tokens;
    s->ans[l->index] = *ans;
    memset(ans, 0, sizeof *ans);
    deliver(a);
    pthread_mutex_unlock(&a->mu);
    for (int k = 0; k < a->n_lanes; k++) /* one may wait for this answer (fw_analyzer_peer) */
        if (&a->lanes[k] != l)
            a->lanes[k].ops->wake(a->lanes[k].state);
}

int fw_analyzer_peer(fw_lane *l, int keyframe, char **fields)
{
    fw_analyzer *a = l->a;
    if (a->n_lanes < 2)
        return -1;
    int other = l->index == 0 ? 1 : 0, rc = 0;
    *fields = NULL;
    pthread_mutex_lock(&a->mu);
    if (keyframe >= a->next && keyframe - a->next < a->n_slots &&
        (SLOT(a, keyframe)->have & (1u << other))) {
        const fw_answer *ans = &SLOT(a, keyframe)->ans[other];
        rc = ans->error ? -1 : (*fields = strdup(ans->fields ? ans->fields : "{}")) ? 1 : -1;
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

void fw_analyzer_count(fw_lane *l, int requests, int retries, int prompt_tokens,
                       int completion_tokens, int text_tokens)
{
    fw_analyzer *a = l->a;
    pthread_mutex_lock(&a->mu);
    a->st.text_tokens += text_tokens;
    a->st.requests += requests;
    a->st.retries += retries;
    a->st.prompt_tokens += prompt_tokens;
    a->st.completion_tokens += completion_tokens;
    pthread_mutex_unlock(&a->mu);
}

/* Stops the analyzer with err (the first error stays); wakes every lane but `from`. */
static void stop(fw_analyzer *a, const fw_error *err, const fw_lane *from)
{
    pthread_mutex_lock(&a->mu);
    if (!a->failed) {
        a->failed = err->code ? err->code : FW_EINTERNAL;
        a->err = *err;
    }
    a->stopping = 1;
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->mu);
    for (int i = 0; i < a->n_lanes; i++)
        if (&a->lanes[i] != from && a->lanes[i].state)
            a->lanes[i].ops->wake(a->lanes[i].state);
}

void fw_analyzer_fail(fw_lane *l, const fw_error *err)
{
    stop(l->a, err, l);
}

void fw_analyzer_warn(fw_lane *l, const char *message)
{
    fw_notes_add(&l->a->warnings, message);
}

void fw_analyzer_warnings(fw_analyzer *a, void (*fn)(void *user, const char *message), void *user)
{
    fw_notes_take(&a->warnings, fn, user);
}

json_t *fw_analyzer_endpoints(fw_analyzer *a)
{
    const fw_lane *l = &a->lanes[0];
    return l->state && l->ops->endpoints ? l->ops->endpoints(l->state) : NULL;
}

void fw_analyzer_cancel(fw_analyzer *a)
{
    fw_error err;
    fw_error_set(&err, FW_ECANCELED, "analyzer: cancelled");
    stop(a, &err, NULL);
}

int fw_analyzer_stopping(fw_lane *l)
{
    fw_analyzer *a = l->a;
    pthread_mutex_lock(&a->mu);
    int s = a->stopping;
    pthread_mutex_unlock(&a->mu);
    return s;
}
