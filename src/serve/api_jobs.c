/* The job API: list, status, cancel, the report and the files of a job, the presets. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "serve/http.h"
#include "serve/jobs.h"
#include "serve/service.h"

json_t *fw_api_job(fw_service *s, int64_t id)
{
    fw_queue_item it = {0};
    if (fw_queue_get(s->queue, id, &it, NULL) != 1)
        return NULL;
    fw_live live;
    int running = strcmp(it.state, "running") == 0 && fw_hub_live(s->hub, id, &live);
    json_t *v = fw_job_view(&it, running ? &live : NULL);
    fw_queue_item_clear(&it);
    return v;
}

int fw_api_get(fw_service *s, struct mg_connection *c, int64_t id)
{
    json_t *v = fw_api_job(s, id);
    if (!v)
        return fw_http_error(c, 404, "not_found", "no job %" PRId64, id);
    int st = fw_http_json(c, 200, v);
    json_decref(v);
    return st;
}

int fw_api_list(fw_service *s, struct mg_connection *c)
{
    char state[32] = "", buf[32];
    int limit = FW_SERVE_PAGE_DEFAULT;
    long long before = 0;
    if (fw_http_query(c, "state", state, sizeof state) && !state[0])
        state[0] = '\0';
    int known = !state[0];
    for (int i = 0; i < FW_QUEUE_N_STATES && !known; i++)
        known = strcmp(state, fw_queue_state_name(i)) == 0;
    if (!known)
        return fw_http_error(c, 400, "bad_request",
                             "state: one of queued, running, done, failed, cancelled");
    if (fw_http_query(c, "limit", buf, sizeof buf)) {
        limit = atoi(buf);
        if (limit < 1 || limit > FW_SERVE_PAGE_MAX)
            return fw_http_error(c, 400, "bad_request", "limit: 1 to %d", FW_SERVE_PAGE_MAX);
    }
    if (fw_http_query(c, "before", buf, sizeof buf) && (before = atoll(buf)) <= 0)
        return fw_http_error(c, 400, "bad_request", "before: a job id");
    fw_queue_item *items = calloc((size_t)limit + 1, sizeof *items);
    if (!items)
        return fw_http_error(c, 500, "internal", "out of memory");
    /* one more than asked: whether there is a next page */
    int n = fw_queue_list(s->queue, state[0] ? state : NULL, before, items, limit + 1, NULL);
    json_t *jobs = json_array(), *root = json_object();
    for (int i = 0; i < n && i < limit; i++) {
        fw_live live;
        int running =
            strcmp(items[i].state, "running") == 0 && fw_hub_live(s->hub, items[i].id, &live);
        json_array_append_new(jobs, fw_job_view(&items[i], running ? &live : NULL));
    }
    json_object_set_new(root, "jobs", jobs);
    if (n > limit) {
        char next[128];
        snprintf(next, sizeof next, "/v1/jobs?limit=%d&before=%" PRId64 "%s%s", limit,
                 items[limit - 1].id, state[0] ? "&state=" : "", state);
        json_object_set_new(root, "next", json_string(next));
    } else
        json_object_set_new(root, "next", json_null());
    for (int i = 0; i < n; i++)
        fw_queue_item_clear(&items[i]);
    free(items);
    int st = n < 0 ? fw_http_error(c, 500, "internal", "the queue cannot be read")
                   : fw_http_json(c, 200, root);
    json_decref(root);
    return st;
}

/* A queued job was cancelled: no worker will have it, so its end is recorded here, as a
 * worker would (watchers, metrics, upload, callback). */
static void end_queued(fw_service *s, int64_t id)
{
    fw_queue_item it = {0};
    json_t *payload = NULL;
    if (fw_queue_get(s->queue, id, &it, NULL) == 1 && it.payload)
        payload = json_loads(it.payload, 0, NULL);
    fw_job_ending end = {
        .state = "cancelled", .code = "cancelled", .message = "cancelled before it started"};
    fw_job_end(s, id, &end, payload);
    json_decref(payload);
    fw_queue_item_clear(&it);
}

int fw_api_cancel(fw_service *s, struct mg_connection *c, int64_t id)
{
    fw_error err;
    int was_queued = fw_queue_cancel(s->queue, id, &err);
    if (was_queued < 0)
        return fw_http_error(c, 500, "internal", "the queue cannot be written");
    int elsewhere = was_queued == 2; /* runs in another process, which was asked */
    if (elsewhere)
        was_queued = 0;
    if (was_queued)
        end_queued(s, id);
    json_t *v = fw_api_job(s, id);
    if (!v)
        return fw_http_error(c, 404, "not_found", "no job %" PRId64, id);
    const char *state = json_string_value(json_object_get(v, "state"));
    int asked = 0;
    if (!was_queued && strcmp(state, "running") == 0) {
        /* asked only when it runs here; else (it ended in between, another process runs
         * it) the client learns its state as it is now */
        int here = fw_hub_cancel(s->hub, id) || elsewhere;
        json_decref(v);
        if (!(v = fw_api_job(s, id)))
            return fw_http_error(c, 404, "not_found", "no job %" PRId64, id);
        asked = here && strcmp(json_string_value(json_object_get(v, "state")), "running") == 0;
        if (asked) /* it ends as cancelled, shortly */
            json_object_set_new(v, "cancel_requested", json_true());
    }
    int st = fw_http_json(c, asked ? 202 : 200, v);
    json_decref(v);
    return st;
}

/* The report as it is served: keyframe files by their URL, not the server's paths. */
static void rewrite_files(json_t *report, int64_t id)
{
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(report, "keyframes"), i, k)
    {
        const char *file = json_string_value(json_object_get(k, "file"));
        if (!file)
            continue;
        const char *base = strrchr(file, '/');
        char url[256];
        snprintf(url, sizeof url, "/v1/jobs/%" PRId64 "/files/%s", id, base ? base + 1 : file);
        json_object_set_new(k, "file", json_string(base ? base + 1 : file));
        json_object_set_new(k, "url", json_string(url));
    }
}

/* The job exists and has ended: 0, else the status sent. */
static int ended(fw_service *s, struct mg_connection *c, int64_t id)
{
    json_t *v = fw_api_job(s, id);
    if (!v)
        return fw_http_error(c, 404, "not_found", "no job %" PRId64, id);
    const char *state = json_string_value(json_object_get(v, "state"));
    int open = strcmp(state, "queued") == 0 || strcmp(state, "running") == 0;
    int st =
        open ? fw_http_error(c, 409, "not_ended", "job %" PRId64 " is %s: no result yet", id, state)
             : 0;
    json_decref(v);
    return st;
}

int fw_api_report(fw_service *s, struct mg_connection *c, int64_t id)
{
    int st = ended(s, c, id);
    if (st)
        return st;
    size_t n = 0;
    char *text = NULL;
    fw_shared_get_file(s, id, "report.json", &text, &n);
    json_t *report = text ? json_loadb(text, n, 0, NULL) : NULL;
    free(text);
    if (!report)
        return fw_http_error(c, 404, "no_report", "job %" PRId64 " has no report", id);
    rewrite_files(report, id);
    st = fw_http_json(c, 200, report);
    json_decref(report);
    return st;
}

static const char *mime(const char *name)
{
    const char *dot = strrchr(name, '.');
    static const char *const types[][2] = {{".json", "application/json; charset=utf-8"},
                                           {".jsonl", "application/x-ndjson"},
                                           {".vtt", "text/vtt; charset=utf-8"},
                                           {".srt", "application/x-subrip"},
                                           {".md", "text/markdown; charset=utf-8"},
                                           {".html", "text/html; charset=utf-8"},
                                           {".jpg", "image/jpeg"}};
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i][0]) == 0)
            return types[i][1];
    return "application/octet-stream";
}

int fw_api_file(fw_service *s, struct mg_connection *c, int64_t id, const char *name)
{
    if (!fw_job_file_ok(name))
        return fw_http_error(c, 404, "not_found", "no such file of a job");
    int st = ended(s, c, id);
    if (st)
        return st;
    size_t n = 0;
    char *data = NULL;
    fw_shared_get_file(s, id, name, &data, &n);
    if (!data)
        return fw_http_error(c, 404, "not_found", "job %" PRId64 " has no %s", id, name);
    /* the HTML report is model text in a page: it runs nothing and reaches nothing */
    const char *sandbox[] = {"Content-Security-Policy",
                             "sandbox; default-src 'none'; img-src data:; style-src "
                             "'unsafe-inline'",
                             NULL};
    st = fw_http_send(c, 200, mime(name), data, n, strstr(name, ".html") ? sandbox : NULL);
    free(data);
    return st;
}

int fw_api_presets(fw_service *s, struct mg_connection *c)
{
    (void)s;
    json_t *list = json_array(), *settings = json_array();
    const char *desc = NULL, *name;
    for (int i = 0; (name = fw_preset_name(i, &desc)); i++)
        json_array_append_new(
            list, json_pack("{s:s, s:s}", "name", name, "description", desc ? desc : ""));
    for (const char *const *n = fw_client_settings(); *n; n++)
        json_array_append_new(settings, json_string(*n));
    json_t *root = json_pack("{s:o, s:o}", "presets", list, "settings", settings);
    int st = fw_http_json(c, 200, root);
    json_decref(root);
    return st;
}
