#include "serve/jobs.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *const fw_job_outputs[] = {
    "report.json", "report.jsonl", "captions.vtt", "captions.srt", "report.md", "report.html",
    NULL};

int fw_job_file_ok(const char *name)
{
    for (int i = 0; fw_job_outputs[i]; i++)
        if (strcmp(name, fw_job_outputs[i]) == 0)
            return 1;
    /* kf_ then digits then .jpg, nothing else (no slash, no dot-dot) */
    size_t n = strlen(name);
    if (n < 8 || n > 32 || strncmp(name, "kf_", 3) != 0 || strcmp(name + n - 4, ".jpg") != 0)
        return 0;
    for (size_t i = 3; i < n - 4; i++)
        if (!isdigit((unsigned char)name[i]))
            return 0;
    return 1;
}

void fw_job_dir(const char *data, int64_t id, char *out, size_t size)
{
    snprintf(out, size, "%s/jobs/%" PRId64, data, id);
}

json_t *fw_live_json(const fw_live *l)
{
    return json_pack("{s:s, s:f, s:i, s:i, s:i, s:i}", "stage", l->stage, "progress", l->progress,
                     "keyframes", l->keyframes, "observations", l->observations, "segments",
                     l->segments, "events", l->events);
}

static json_t *time_or_null(double t)
{
    return t > 0 ? json_real(t) : json_null();
}

static json_t *links(int64_t id, const char *state)
{
    char self[64], buf[128];
    snprintf(self, sizeof self, "/v1/jobs/%" PRId64, id);
    json_t *l = json_object();
    json_object_set_new(l, "self", json_string(self));
    snprintf(buf, sizeof buf, "%s/events", self);
    json_object_set_new(l, "events", json_string(buf));
    if (strcmp(state, "queued") != 0 && strcmp(state, "running") != 0) {
        snprintf(buf, sizeof buf, "%s/report", self);
        json_object_set_new(l, "report", json_string(buf));
        json_t *files = json_object();
        for (int i = 0; fw_job_outputs[i]; i++) {
            snprintf(buf, sizeof buf, "%s/files/%s", self, fw_job_outputs[i]);
            json_object_set_new(files, fw_job_outputs[i], json_string(buf));
        }
        json_object_set_new(l, "files", files);
    }
    return l;
}

/* The progress and counts: live, else the result's (ended), else the last status. */
static void progress(json_t *v, const fw_queue_item *it, const fw_live *live, json_t *result)
{
    json_t *status = it->status ? json_loads(it->status, 0, NULL) : NULL;
    json_t *counts = json_object_get(result, "counts");
    json_t *from = live ? fw_live_json(live) : json_incref(counts ? counts : status);
    const char *stage = json_string_value(json_object_get(from, "stage"));
    int ended = strcmp(it->state, "queued") != 0 && strcmp(it->state, "running") != 0;
    json_object_set_new(v, "stage", json_string(ended ? "ended" : stage ? stage : it->state));
    double p = json_number_value(json_object_get(from, "progress"));
    json_object_set_new(v, "progress", json_real(strcmp(it->state, "done") == 0 ? 1.0 : p));
    json_t *c = json_object();
    const char *names[] = {"keyframes", "observations", "segments", "events"};
    for (int i = 0; i < 4; i++)
        json_object_set_new(c, names[i],
                            json_integer(json_integer_value(json_object_get(from, names[i]))));
    json_object_set_new(v, "counts", c);
    json_decref(from);
    json_decref(status);
}

json_t *fw_job_view(const fw_queue_item *it, const fw_live *live)
{
    json_t *payload = it->payload ? json_loads(it->payload, 0, NULL) : NULL;
    json_t *result = it->result ? json_loads(it->result, 0, NULL) : NULL;
    json_t *v = json_pack("{s:I, s:s}", "id", (json_int_t)it->id, "state", it->state);
    progress(v, it, live, result);
    json_object_set_new(v, "input",
                        json_pack("{s:O?, s:O?}", "kind", json_object_get(payload, "kind"), "name",
                                  json_object_get(payload, "name")));
    json_t *preset = json_object_get(payload, "preset");
    json_object_set(v, "preset", preset ? preset : json_null());
    json_t *options = json_object_get(payload, "options");
    json_object_set_new(v, "options", options ? json_incref(options) : json_object());
    json_t *error = json_object_get(result, "error");
    json_object_set(v, "error", error ? error : json_null());
    json_t *stats = json_object_get(result, "stats");
    if (stats)
        json_object_set(v, "stats", stats);
    json_object_set_new(v, "created", time_or_null(it->created_s));
    json_object_set_new(v, "started", time_or_null(it->started_s));
    json_object_set_new(v, "finished", time_or_null(it->finished_s));
    json_object_set_new(v, "attempts", json_integer(it->attempts));
    json_object_set_new(v, "idempotency_key", it->key ? json_string(it->key) : json_null());
    json_t *cb = json_object_get(payload, "callback_url");
    json_object_set(v, "callback_url", cb ? cb : json_null());
    json_object_set_new(v, "links", links(it->id, it->state));
    json_decref(payload);
    json_decref(result);
    return v;
}
