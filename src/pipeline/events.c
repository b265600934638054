/* The event queue of an analysis (pipeline/events.h). */
#include "pipeline/events.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"

typedef struct item {
    fw_event_type type;
    const char *stage; /* of a stage event (a static string) */
    char *json;
} item;

struct fw_evq {
    fw_event_fn fn;
    void *user;
    fw_jsonl *jsonl;
    pthread_mutex_t mu;
    pthread_cond_t changed; /* an item, room, the end */
    item q[FW_EVQ_SIZE];
    int head, count;
    int ended;
};

static const char *const names[] = {"stage",   "progress", "keyframe", "observation",
                                    "segment", "event",    "summary",  "review",
                                    "warning", "done",     "error"};

const char *fw_evq_name(fw_event_type type)
{
    return (unsigned)type < sizeof names / sizeof *names ? names[type] : "unknown";
}

/* The record types: what report.jsonl holds. */
static int is_record(fw_event_type t)
{
    return t >= FW_EVENT_KEYFRAME && t <= FW_EVENT_REVIEW;
}

int fw_evq_open(fw_evq **out, fw_event_fn fn, void *user, fw_jsonl *jsonl, fw_error *err)
{
    fw_evq *q = calloc(1, sizeof *q);
    if (!q)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    q->fn = fn;
    q->user = user;
    q->jsonl = jsonl;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->changed, NULL);
    *out = q;
    return 0;
}

/* {"type": name} (and "stage") with obj's members, as one line of text (NULL when out of
 * memory). */
static char *record_text(fw_event_type type, const char *stage, json_t *obj)
{
    json_t *rec = json_pack("{s:s}", "type", fw_evq_name(type));
    if (stage)
        json_object_set_new(rec, "stage", json_string(stage));
    if (obj)
        json_object_update(rec, obj);
    char *text = json_dumps(rec, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(rec);
    return text;
}

/* Hands one event to the file and the callback; json is the record's text. */
static void deliver(fw_evq *q, fw_event_type type, const char *json, const fw_event *base)
{
    if (is_record(type) && q->jsonl)
        fw_jsonl_line(q->jsonl, json);
    fw_event ev = base ? *base : (fw_event){0};
    ev.type = type;
    ev.name = fw_evq_name(type);
    ev.json = json;
    if (q->fn)
        q->fn(q->user, &ev);
}

static void push(fw_evq *q, fw_event_type type, const char *stage, json_t *obj)
{
    char *text = record_text(type, stage, obj);
    if (!text)
        return; /* out of memory: the report keeps what the stream lost */
    pthread_mutex_lock(&q->mu);
    while (q->count == FW_EVQ_SIZE)
        pthread_cond_wait(&q->changed, &q->mu);
    q->q[(q->head + q->count) % FW_EVQ_SIZE] = (item){type, stage, text};
    q->count++;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->mu);
}

static void emit(fw_evq *q, fw_event_type type, const char *stage, json_t *obj)
{
    char *text = record_text(type, stage, obj);
    fw_event ev = {.stage = stage};
    if (text)
        deliver(q, type, text, &ev);
    free(text);
}

void fw_evq_push(fw_evq *q, fw_event_type type, json_t *obj)
{
    push(q, type, NULL, obj);
}

void fw_evq_emit(fw_evq *q, fw_event_type type, json_t *obj)
{
    emit(q, type, NULL, obj);
}

void fw_evq_push_stage(fw_evq *q, const char *stage, json_t *obj)
{
    push(q, FW_EVENT_STAGE, stage, obj);
}

void fw_evq_emit_stage(fw_evq *q, const char *stage, json_t *obj)
{
    emit(q, FW_EVENT_STAGE, stage, obj);
}

void fw_evq_progress(fw_evq *q, const char *stage, double done, double total, double fraction)
{
    json_t *o = json_pack("{s:f, s:f, s:f}", "done", done, "total", total, "fraction", fraction);
    char *text = record_text(FW_EVENT_PROGRESS, stage, o);
    fw_event ev = {.stage = stage, .done = done, .total = total, .fraction = fraction};
    if (text)
        deliver(q, FW_EVENT_PROGRESS, text, &ev);
    free(text);
    json_decref(o);
}

void fw_evq_end(fw_evq *q)
{
    pthread_mutex_lock(&q->mu);
    q->ended = 1;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->mu);
}

static struct timespec deadline(double seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long ns = ts.tv_nsec + (long)(seconds * 1e9);
    ts.tv_sec += ns / 1000000000L;
    ts.tv_nsec = ns % 1000000000L;
    return ts;
}

void fw_evq_pump(fw_evq *q, void (*tick)(void *user), void *user)
{
    double last_tick = fw_now_s();
    pthread_mutex_lock(&q->mu);
    for (;;) {
        if (q->count == 0 && q->ended)
            break;
        if (q->count == 0) {
            struct timespec until = deadline(FW_EVQ_TICK_S);
            pthread_cond_timedwait(&q->changed, &q->mu, &until);
        }
        item it = {0};
        if (q->count > 0) {
            it = q->q[q->head];
            q->head = (q->head + 1) % FW_EVQ_SIZE;
            q->count--;
            pthread_cond_broadcast(&q->changed);
        }
        pthread_mutex_unlock(&q->mu);
        if (it.json)
            deliver(q, it.type, it.json, &(fw_event){.stage = it.stage});
        free(it.json);
        if (tick && fw_now_s() - last_tick >= FW_EVQ_TICK_S) {
            last_tick = fw_now_s();
            tick(user);
        }
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
}

void fw_evq_close(fw_evq *q)
{
    if (!q)
        return;
    for (int i = 0; i < q->count; i++)
        free(q->q[(q->head + i) % FW_EVQ_SIZE].json);
    pthread_cond_destroy(&q->changed);
    pthread_mutex_destroy(&q->mu);
    free(q);
}
