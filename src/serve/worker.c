/* The workers: each claims the oldest queued job, runs it through fw_analysis_* and
 * records how it ended. Events go to the hub (WebSocket watchers, live progress) and, now
 * and then, to the queue's status (so a restarted server still shows where it was). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/error.h"
#include "serve/jobs.h"
#include "serve/service.h"

typedef struct run {
    fw_service *s;
    int64_t id;
    char *final; /* the last event (done or error), JSON text */
    json_t *stats;
    const char *code; /* the error's name when no FW_E* code says it ("forbidden_path") */
} run;

/* A stable name for an error code (the job's error.code). */
static const char *code_name(int code)
{
    switch (code) {
    case FW_EINVAL: return "invalid";
    case FW_EOPEN: return "cannot_open";
    case FW_EFORMAT: return "not_media";
    case FW_ENOVIDEO: return "no_video";
    case FW_EDECODE: return "cannot_decode";
    case FW_ENOMEM: return "out_of_memory";
    case FW_EIO: return "io";
    case FW_ECANCELED: return "cancelled";
    case FW_ENET: return "model_server";
    default: return "internal";
    }
}

static void on_event(void *user, const fw_event *ev)
{
    run *r = user;
    if (ev->type == FW_EVENT_KEYFRAME)
        fw_metrics_keyframe(r->s->metrics);
    if ((ev->type == FW_EVENT_DONE || ev->type == FW_EVENT_ERROR) && ev->json) {
        free(r->final);
        r->final = strdup(ev->json);
        json_t *j = json_loads(ev->json, 0, NULL);
        json_t *stats = json_object_get(j, "stats");
        if (stats) {
            json_decref(r->stats);
            r->stats = json_incref(stats);
        }
        json_decref(j);
    }
    fw_live live;
    if (fw_hub_event(r->s->hub, r->id, ev, &live)) {
        json_t *st = fw_live_json(&live);
        char *text = st ? json_dumps(st, JSON_COMPACT) : NULL;
        if (text)
            fw_queue_update(r->s->queue, r->id, text, NULL);
        free(text);
        json_decref(st);
    }
}

static const char *state_of(fw_analysis_state st)
{
    return st == FW_ANALYSIS_DONE ? "done" : st == FW_ANALYSIS_CANCELLED ? "cancelled" : "failed";
}

/* The last message of a job whose analysis never ran (or never said): as its own would
 * be, a done event for a cancel or a success, else an error event. */
static char *final_of(const fw_job_ending *end)
{
    json_t *f = end->code && strcmp(end->state, "failed") == 0
                    ? json_pack("{s:s, s:s, s:s}", "type", "error", "code", end->code, "message",
                                end->message ? end->message : "")
                    : json_pack("{s:s, s:s}", "type", "done", "state", end->state);
    char *text = f ? json_dumps(f, JSON_COMPACT) : NULL;
    json_decref(f);
    return text;
}

void fw_job_end(fw_service *s, int64_t id, const fw_job_ending *end, json_t *payload)
{
    fw_live live = {0};
    fw_hub_live(s->hub, id, &live);
    char *made = end->final ? NULL : final_of(end);
    const char *final_text = end->final ? end->final : made;
    json_t *final = final_text ? json_loads(final_text, 0, NULL) : json_object();
    json_t *error = end->code && strcmp(end->state, "done") != 0
                        ? json_pack("{s:s, s:s}", "code", end->code, "message",
                                    end->message ? end->message : "")
                        : json_null();
    json_t *result = json_pack("{s:o, s:o, s:O?, s:o}", "final", final, "error", error, "stats",
                               end->stats, "counts", fw_live_json(&live));
    char *text = result ? json_dumps(result, JSON_COMPACT) : NULL;
    int shared = fw_queue_shared(s->queue);
    if (shared) /* before the end: a node that hears of it serves them at once */
        fw_shared_put_files(s, id);
    int theirs = fw_queue_finish(s->queue, id, end->state, text, NULL) == 1;
    free(text);
    json_decref(result);
    fw_hub_finish(s->hub, id, theirs ? NULL : final_text);
    free(made);
    if (theirs) /* taken over by another process while this one went unheard of: it ends it */
        return;
    fw_metrics_job_end(s->metrics, end->state, end->stats);
    const char *kind = json_string_value(json_object_get(payload, "kind"));
    const char *input = json_string_value(json_object_get(payload, "input"));
    const char *origin = json_string_value(json_object_get(payload, "origin"));
    if (kind && input && strcmp(kind, "upload") == 0 &&
        (!shared || (origin && strcmp(origin, s->origin) == 0)))
        remove(input); /* the outputs and the store keep what matters */
    const char *cb = json_string_value(json_object_get(payload, "callback_url"));
    json_t *view = cb ? fw_api_job(s, id) : NULL;
    char *body = view ? json_dumps(view, JSON_COMPACT) : NULL;
    if (body)
        fw_notifier_post(s->notifier, cb, body);
    free(body);
    json_decref(view);
}

static void finish(run *r, const char *state, const fw_error *err, json_t *payload)
{
    fw_job_ending end = {.state = state,
                         .code = r->code     ? r->code
                                 : err->code ? code_name(err->code)
                                             : NULL,
                         .message = err->message,
                         .final = r->final,
                         .stats = r->stats};
    fw_job_end(r->s, r->id, &end, payload);
}

/* Opens and runs the analysis of input; fills err; returns its end state. */
static const char *analyse(run *r, const char *input, json_t *payload, fw_error *err)
{
    fw_service *s = r->s;
    json_t *options = json_object_get(payload, "options");
    fw_params p;
    char *strings = NULL, why[1024], dir[4200];
    const char *code;
    if (fw_job_params(s, json_is_object(options) ? options : NULL, &p, &strings, &code, why,
                      sizeof why)) { /* checked at submission: the operator's changed since */
        fw_error_set(err, FW_EINVAL, "%s", why);
        return "failed";
    }
    const char *kind = json_string_value(json_object_get(payload, "kind"));
    if (kind && strcmp(kind, "live") == 0 && !p.live)
        p.live = "on"; /* a live job: its segments as they close, a cancel its end */
    const char **chosen = fw_job_chosen(s, json_is_object(options) ? options : NULL);
    fw_job_dir(s->data, r->id, dir, sizeof dir);
    fw_analysis_opts opts = fw_analysis_opts_default();
    fw_journal journal;
    fw_shared_journal journal_of;
    if (fw_queue_shared(s->queue)) { /* what it answers is kept for a taker-over */
        fw_shared_journal_init(&journal, &journal_of, s, r->id);
        opts.journal = &journal;
    }
    opts.preset = json_string_value(json_object_get(payload, "preset"));
    opts.chosen = chosen;
    opts.store = s->cfg->store;
    opts.out_dir = dir;
    opts.input_name = json_string_value(json_object_get(payload, "name"));
    fw_analysis *a = NULL;
    const char *state = "failed";
    if (!fw_analysis_open(&a, input, &p, &opts, err)) {
        if (fw_hub_run(s->hub, r->id, a) != FW_HUB_GO)
            fw_analysis_cancel(a);
        fw_analysis_run(a, on_event, r, err);
        state = state_of(fw_analysis_get_state(a));
        fw_hub_run(s->hub, r->id, NULL); /* nobody may cancel it once it is closed */
    }
    fw_analysis_close(a);
    free(chosen);
    free(strings);
    return state;
}

static int stopping(fw_service *s)
{
    pthread_mutex_lock(&s->mu);
    int stop = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

/* Fetches a URL input into fetched and analyses it; fills err; returns its end state. */
static const char *fetch_and_analyse(run *r, const char *url, char *fetched, size_t size,
                                     json_t *payload, fw_error *err)
{
    snprintf(fetched, size, "%s/uploads/fetch-%" PRId64, r->s->data, r->id);
    fw_hub_stage(r->s->hub, r->id, "fetch");
    int got = fw_fetch(r->s, r->id, url, NULL, fetched, err->message, sizeof err->message);
    if (got == 0)
        return analyse(r, fetched, payload, err);
    err->code = got > 0 ? FW_ECANCELED : FW_EOPEN;
    return got > 0 ? "cancelled" : "failed";
}

/* A path input is checked again as it starts: since it was submitted the server may have
 * been started again with other --allow-root, or a link on the way may have moved. */
static const char *check_and_analyse(run *r, const char *path, json_t *payload, fw_error *err)
{
    char resolved[4096];
    int g = fw_guard_path(&r->s->guard, path, resolved, sizeof resolved, err->message,
                          sizeof err->message);
    if (g == FW_GUARD_OK)
        return analyse(r, resolved, payload, err);
    err->code = g == FW_GUARD_MISSING ? FW_EOPEN : FW_EINVAL;
    r->code = g == FW_GUARD_MISSING ? NULL : "forbidden_path";
    return "failed";
}

/* A live stream is read by the analysis, live; its URL is checked again as it starts (the
 * host's addresses may have changed). A cancel ends it with its report. */
static const char *check_live_and_analyse(run *r, const char *url, json_t *payload, fw_error *err)
{
    if (fw_guard_live_url(&r->s->guard, url, err->message, sizeof err->message)) {
        err->code = FW_EINVAL;
        r->code = "forbidden_url";
        return "failed";
    }
    return analyse(r, url, payload, err);
}

/* An upload another node keeps (a shared queue): fetched from it with the job's input
 * token into fetched, then analysed; fills err; returns its end state. */
static const char *fetch_upload_and_analyse(run *r, json_t *payload, char *fetched, size_t size,
                                            fw_error *err)
{
    const char *origin = json_string_value(json_object_get(payload, "origin"));
    const char *token = json_string_value(json_object_get(payload, "input_token"));
    if (!origin || !token) {
        fw_error_set(err, FW_EOPEN, "the upload is kept by a node that is not named");
        return "failed";
    }
    char url[512];
    snprintf(url, sizeof url, "%s/v1/jobs/%" PRId64 "/input", origin, r->id);
    snprintf(fetched, size, "%s/uploads/fetch-%" PRId64, r->s->data, r->id);
    fw_hub_stage(r->s->hub, r->id, "fetch");
    int got = fw_fetch(r->s, r->id, url, token, fetched, err->message, sizeof err->message);
    if (got == 0)
        return analyse(r, fetched, payload, err);
    err->code = got > 0 ? FW_ECANCELED : FW_EOPEN;
    return got > 0 ? "cancelled" : "failed";
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Runs the job; its end state, or NULL when the server's stop interrupted it. */
static const char *run_job(run *r, json_t *payload, char *fetched, size_t size, fw_error *err)
{
    const char *kind = json_string_value(json_object_get(payload, "kind"));
    const char *input = json_string_value(json_object_get(payload, "input"));
    /* claimed as the server stops: it has not begun, it goes back at once */
    int go = fw_hub_run(r->s->hub, r->id, NULL);
    if (go == FW_HUB_STOPPING || (go == FW_HUB_GO && stopping(r->s)))
        return NULL;
    const char *state = "failed";
    if (go == FW_HUB_CANCELLED) {
        fw_error_set(err, FW_ECANCELED, "cancelled before it started");
        state = "cancelled";
    } else if (!kind || !input)
        fw_error_set(err, FW_EINTERNAL, "the job's record is damaged");
    else if (strcmp(kind, "url") == 0)
        state = fetch_and_analyse(r, input, fetched, size, payload, err);
    else if (strcmp(kind, "path") == 0)
        state = check_and_analyse(r, input, payload, err);
    else if (strcmp(kind, "live") == 0)
        state = check_live_and_analyse(r, input, payload, err);
    else if (strcmp(kind, "upload") == 0 && fw_queue_shared(r->s->queue) && !is_file(input))
        state = fetch_upload_and_analyse(r, payload, fetched, size, err);
    else
        state = analyse(r, input, payload, err);
    /* cancelled by the stop, not by a client: interrupted, not ended. A client's cancel,
     * an end or a real failure that came during the stop stays what it is. */
    if (strcmp(state, "cancelled") == 0 && fw_hub_cancelled(r->s->hub, r->id) == FW_HUB_STOPPING)
        return NULL;
    return state;
}

static void run_item(fw_service *s, fw_queue_item *it)
{
    run r = {.s = s, .id = it->id};
    fw_error err = {0};
    json_t *payload = it->payload ? json_loads(it->payload, 0, NULL) : NULL;
    char fetched[4200] = "";
    int most = s->cfg->max_deliveries > 0 ? s->cfg->max_deliveries : FW_SERVE_MAX_DELIVERIES;
    const char *state = NULL;
    if (it->lost >= most) { /* each run so far took its process down: it would take this one */
        fw_error_set(&err, FW_EINTERNAL,
                     "its worker was lost %d times while it ran (a crash, a kill, a machine "
                     "gone): failed after %d deliveries (the max-deliveries setting)",
                     it->lost, it->attempts - 1);
        r.code = "worker_lost";
        state = "failed";
    } else
        state = run_job(&r, payload, fetched, sizeof fetched, &err);
    if (!state) { /* said so in the queue now: whatever pid the next start has */
        fw_queue_requeue(s->queue, it->id, NULL);
        fw_hub_finish(s->hub, it->id, NULL);
    } else
        finish(&r, state, &err, payload);
    if (fetched[0])
        remove(fetched);
    free(r.final);
    json_decref(r.stats);
    json_decref(payload);
}

static void *loop(void *arg)
{
    fw_service *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        int stop = s->stopping;
        uint64_t seen = s->submitted;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            return NULL;
        fw_queue_item it = {0};
        fw_error err;
        int got = fw_hub_claim(s->hub, &it, &err);
        if (got == 1) {
            run_item(s, &it);
            fw_queue_item_clear(&it);
            continue;
        }
        if (got < 0)
            fprintf(stderr, "framewise serve: %s\n", err.message);
        /* nothing queued: wait for a submission (or a second, for other processes') */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_mutex_lock(&s->mu);
        if (!s->stopping && s->submitted == seen) /* none came while it looked */
            pthread_cond_timedwait(&s->wake, &s->mu, &until);
        pthread_mutex_unlock(&s->mu);
    }
}

int fw_workers_start(fw_service *s)
{
    for (int i = 0; i < s->cfg->workers && i < FW_SERVE_MAX_WORKERS; i++) {
        if (pthread_create(&s->workers[i], NULL, loop, s))
            return -1;
        s->n_workers++;
    }
    return 0;
}

void fw_workers_wake(fw_service *s)
{
    pthread_mutex_lock(&s->mu);
    s->submitted++;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
}

void fw_workers_stop(fw_service *s)
{
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->mu);
    fw_hub_cancel_all(s->hub);
    for (int i = 0; i < s->n_workers; i++)
        pthread_join(s->workers[i], NULL);
    s->n_workers = 0;
}
