#include "serve/hub.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/limits.h"

#define MAX_SUBS 32 /* watchers of one job */

typedef struct entry {
    int64_t id;
    fw_analysis *a; /* NULL until the worker has it */
    int running;    /* a worker has it */
    int cancel;     /* a client asked to cancel it */
    fw_live live;
    double last_progress_ms, last_status_ms;
    struct mg_connection *subs[MAX_SUBS];
    int n_subs;
    struct entry *next;
} entry;

struct fw_hub {
    pthread_mutex_t mu;
    pthread_mutex_t claim_mu; /* a claim and its entry, against a cancel (then mu) */
    fw_queue *queue;
    entry *list;
    int stopping; /* fw_hub_cancel_all came */
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

fw_hub *fw_hub_new(fw_queue *queue)
{
    fw_hub *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_mutex_init(&h->mu, NULL);
    pthread_mutex_init(&h->claim_mu, NULL);
    h->queue = queue;
    return h;
}

void fw_hub_free(fw_hub *h)
{
    if (!h)
        return;
    for (entry *e = h->list, *next; e; e = next) {
        next = e->next;
        free(e);
    }
    pthread_mutex_destroy(&h->claim_mu);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

static entry *find(fw_hub *h, int64_t id)
{
    for (entry *e = h->list; e; e = e->next)
        if (e->id == id)
            return e;
    return NULL;
}

static entry *find_or_add(fw_hub *h, int64_t id)
{
    entry *e = find(h, id);
    if (!e && (e = calloc(1, sizeof *e))) {
        e->id = id;
        snprintf(e->live.stage, sizeof e->live.stage, "queued");
        e->next = h->list;
        h->list = e;
    }
    return e;
}

static void drop(fw_hub *h, entry *gone)
{
    for (entry **p = &h->list; *p; p = &(*p)->next)
        if (*p == gone) {
            *p = gone->next;
            free(gone);
            return;
        }
}

static void send_text(struct mg_connection *c, const char *text)
{
    mg_websocket_write(c, MG_WEBSOCKET_OPCODE_TEXT, text, strlen(text));
}

static void broadcast(entry *e, const char *text)
{
    for (int i = 0; i < e->n_subs; i++)
        send_text(e->subs[i], text);
}

/* A message of a job that runs here, to its watchers here and, on a shared queue, to
 * those of the other nodes. */
static void tell(fw_hub *h, entry *e, const char *text)
{
    broadcast(e, text);
    if (e->running && fw_queue_shared(h->queue))
        fw_queue_publish(h->queue, e->id, FW_QUEUE_MSG_EVENT, text, NULL);
}

static int go_on(const fw_hub *h, const entry *e)
{
    return e && e->cancel ? FW_HUB_CANCELLED : h->stopping ? FW_HUB_STOPPING : FW_HUB_GO;
}

int fw_hub_claim(fw_hub *h, fw_queue_item *it, fw_error *err)
{
    pthread_mutex_lock(&h->claim_mu);
    int got = fw_queue_claim(h->queue, it, err);
    if (got == 1) {
        pthread_mutex_lock(&h->mu);
        entry *e = find_or_add(h, it->id);
        if (e)
            e->running = 1;
        pthread_mutex_unlock(&h->mu);
    }
    pthread_mutex_unlock(&h->claim_mu);
    return got;
}

int fw_hub_run(fw_hub *h, int64_t id, fw_analysis *a)
{
    pthread_mutex_lock(&h->mu);
    entry *e = find_or_add(h, id);
    if (e) {
        e->a = a;
        e->running = 1;
    }
    int go = go_on(h, e);
    pthread_mutex_unlock(&h->mu);
    return go;
}

int fw_hub_cancelled(fw_hub *h, int64_t id)
{
    pthread_mutex_lock(&h->mu);
    int go = go_on(h, find(h, id));
    pthread_mutex_unlock(&h->mu);
    return go;
}

void fw_hub_stage(fw_hub *h, int64_t id, const char *stage)
{
    pthread_mutex_lock(&h->mu);
    entry *e = find(h, id);
    if (e) {
        snprintf(e->live.stage, sizeof e->live.stage, "%s", stage);
        char msg[96];
        snprintf(msg, sizeof msg, "{\"type\":\"stage\",\"stage\":\"%s\"}", e->live.stage);
        tell(h, e, msg);
    }
    pthread_mutex_unlock(&h->mu);
}

/* The live counters an event moves; 1 when it is a progress event to hold back. */
static int count(entry *e, const fw_event *ev, double t)
{
    switch (ev->type) {
    case FW_EVENT_STAGE:
        snprintf(e->live.stage, sizeof e->live.stage, "%s", ev->stage ? ev->stage : "");
        return 0;
    case FW_EVENT_PROGRESS:
        if (ev->fraction >= 0 && ev->fraction <= 1)
            e->live.progress = ev->fraction;
        if (t - e->last_progress_ms < FW_SERVE_PROGRESS_MS && ev->fraction < 1)
            return 1;
        e->last_progress_ms = t;
        return 0;
    case FW_EVENT_KEYFRAME: e->live.keyframes++; return 0;
    case FW_EVENT_OBSERVATION: e->live.observations++; return 0;
    case FW_EVENT_SEGMENT: e->live.segments++; return 0;
    case FW_EVENT_EVENT: e->live.events++; return 0;
    default: return 0;
    }
}

int fw_hub_event(fw_hub *h, int64_t id, const fw_event *ev, fw_live *live)
{
    int due = 0;
    double t = now_ms();
    pthread_mutex_lock(&h->mu);
    entry *e = find(h, id);
    /* the end goes out with fw_hub_finish, after the queue has it */
    if (e && ev->type != FW_EVENT_DONE && ev->type != FW_EVENT_ERROR) {
        if (!count(e, ev, t) && ev->json)
            tell(h, e, ev->json);
        due = ev->type == FW_EVENT_STAGE || t - e->last_status_ms >= FW_SERVE_STATUS_MS;
        if (due) {
            e->last_status_ms = t;
            *live = e->live;
        }
    }
    pthread_mutex_unlock(&h->mu);
    return due;
}

static void close_ws(struct mg_connection *c)
{
    mg_websocket_write(c, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "\x03\xe8", 2); /* 1000 */
}

static void end_entry(fw_hub *h, entry *e, const char *final)
{
    for (int i = 0; i < e->n_subs; i++) {
        if (final)
            send_text(e->subs[i], final);
        close_ws(e->subs[i]);
    }
    drop(h, e);
}

void fw_hub_relay(fw_hub *h, int64_t id, const char *text, int final)
{
    pthread_mutex_lock(&h->mu);
    entry *e = find(h, id);
    if (e && !e->running && final)
        end_entry(h, e, text);
    else if (e && !e->running)
        broadcast(e, text);
    pthread_mutex_unlock(&h->mu);
}

void fw_hub_finish(fw_hub *h, int64_t id, const char *final)
{
    pthread_mutex_lock(&h->mu);
    entry *e = find(h, id);
    if (final && fw_queue_shared(h->queue)) /* the watchers of the other nodes */
        fw_queue_publish(h->queue, id, FW_QUEUE_MSG_END, final, NULL);
    if (e)
        end_entry(h, e, final);
    pthread_mutex_unlock(&h->mu);
}

int fw_hub_cancel(fw_hub *h, int64_t id)
{
    pthread_mutex_lock(&h->claim_mu); /* a claim under way has its entry when this goes on */
    pthread_mutex_lock(&h->mu);
    entry *e = find(h, id);
    int here = e && e->running;
    if (here) {
        e->cancel = 1;
        fw_analysis_cancel(e->a); /* NULL while it fetches: fw_hub_run tells it */
    }
    pthread_mutex_unlock(&h->mu);
    pthread_mutex_unlock(&h->claim_mu);
    return here;
}

void fw_hub_cancel_all(fw_hub *h)
{
    pthread_mutex_lock(&h->mu);
    h->stopping = 1;
    for (entry *e = h->list; e; e = e->next)
        if (e->running)
            fw_analysis_cancel(e->a); /* not e->cancel: no client asked, it is queued again */
    pthread_mutex_unlock(&h->mu);
}

int fw_hub_live(fw_hub *h, int64_t id, fw_live *out)
{
    pthread_mutex_lock(&h->mu);
    entry *e = find(h, id);
    int running = e && e->running;
    if (running)
        *out = e->live;
    pthread_mutex_unlock(&h->mu);
    return running;
}

int fw_hub_busy(fw_hub *h)
{
    int n = 0;
    pthread_mutex_lock(&h->mu);
    for (entry *e = h->list; e; e = e->next)
        n += e->running;
    pthread_mutex_unlock(&h->mu);
    return n;
}

static void send_snapshot(struct mg_connection *c, const fw_queue_item *it, const fw_live *live)
{
    json_t *msg = json_pack("{s:s, s:o}", "type", "snapshot", "job", fw_job_view(it, live));
    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    if (text)
        send_text(c, text);
    free(text);
    json_decref(msg);
}

/* The last message of an ended job: its final event, as the worker stored it. */
static void send_end(struct mg_connection *c, const fw_queue_item *it)
{
    json_t *result = it->result ? json_loads(it->result, 0, NULL) : NULL;
    json_t *final = json_object_get(result, "final");
    char *text = final ? json_dumps(final, JSON_COMPACT) : NULL;
    if (!text) {
        json_t *f = json_pack("{s:s, s:s}", "type", "done", "state", it->state);
        text = json_dumps(f, JSON_COMPACT);
        json_decref(f);
    }
    if (text)
        send_text(c, text);
    free(text);
    json_decref(result);
    close_ws(c);
}

int fw_hub_subscribe(fw_hub *h, int64_t id, struct mg_connection *c)
{
    fw_queue_item it = {0};
    fw_error err;
    pthread_mutex_lock(&h->mu);
    int rc = fw_queue_get(h->queue, id, &it, &err) == 1 ? 0 : -1;
    entry *e = rc ? NULL : find(h, id);
    int open = !rc && (strcmp(it.state, "queued") == 0 || strcmp(it.state, "running") == 0);
    if (open && !e)
        e = find_or_add(h, id);
    if (open && e && e->n_subs < MAX_SUBS) {
        send_snapshot(c, &it, e->running ? &e->live : NULL);
        e->subs[e->n_subs++] = c;
    } else if (!rc) {
        send_snapshot(c, &it, NULL);
        if (open) { /* too many watchers: the snapshot only */
            const char *busy = "{\"type\":\"error\",\"code\":\"busy\","
                               "\"message\":\"too many watchers of this job\"}";
            send_text(c, busy);
            close_ws(c);
        } else
            send_end(c, &it);
    }
    pthread_mutex_unlock(&h->mu);
    fw_queue_item_clear(&it);
    return rc;
}

void fw_hub_unsubscribe(fw_hub *h, struct mg_connection *c)
{
    pthread_mutex_lock(&h->mu);
    for (entry *e = h->list; e; e = e->next)
        for (int i = 0; i < e->n_subs; i++)
            if (e->subs[i] == c) {
                e->subs[i] = e->subs[--e->n_subs];
                i--;
            }
    /* a queued job nobody watches any more needs no entry */
    for (entry *e = h->list, *next; e; e = next) {
        next = e->next;
        if (!e->running && !e->cancel && e->n_subs == 0)
            drop(h, e);
    }
    pthread_mutex_unlock(&h->mu);
}
