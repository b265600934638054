/* What a client sends POST /v1/jobs as JSON, and the other short inputs of a request
 * (serve/submit.c, guard.c, jobs.c, auth.c). submit_json itself needs a civetweb
 * connection, so its steps are taken here on the functions below it, in its order:
 *   {"path" | "url", "preset", "options", "idempotency_key", "callback_url"}
 * - path through the guard (one allowed root, /tmp/fwfuzz-root, made here with a file, a
 *   folder and a link out of it), url and callback_url through the URL guard (allowed
 *   hosts 127.0.0.1 and ::1 only, so nothing is looked up in the DNS);
 * - options through fw_job_params, then the payload the job is queued with, read back as
 *   a worker reads it (the same settings) and shown as GET /v1/jobs/{id} shows it;
 * - the request's other inputs, when the object has them: "file" (a /files/NAME name),
 *   "host" and "origin" (headers), "listen" (the --listen value). */
#include <errno.h>
#include <jansson.h>
#include <strings.h>
#include <sys/stat.h>

#include "framewise.h"
#include "fuzz_params.h"
#include "fuzz_util.h"
#include "serve/jobs.h"
#include "serve/service.h"

#define ROOT "/tmp/fwfuzz-root"

static fw_serve_config cfg;
static fw_service svc;
static fw_guard guard, guard_private; /* the second allows private addresses */

static void setup(void)
{
    mkdir(ROOT, 0700);
    mkdir(ROOT "/sub", 0700);
    FILE *f = fopen(ROOT "/clip.mp4", "wb");
    if (f)
        fclose(f);
    if (symlink("/etc/passwd", ROOT "/out") && errno != EEXIST)
        perror(ROOT "/out");
    const char *roots[] = {ROOT}, *hosts[] = {"127.0.0.1", "::1"};
    char why[256];
    if (fw_guard_init(&guard, roots, 1, hosts, 2, 0, why, sizeof why) ||
        fw_guard_init(&guard_private, roots, 1, hosts, 2, 1, why, sizeof why)) {
        fprintf(stderr, "fuzz_submit: %s\n", why);
        abort();
    }
    cfg.defaults = fw_params_default();
    cfg.queue_size = 100;
    svc.cfg = &cfg;
}

static void check_path(const char *path)
{
    char resolved[4096] = "", why[1024] = "";
    int g = fw_guard_path(&guard, path, resolved, sizeof resolved, why, sizeof why);
    FZ_CHECK("guard_path_result_known",
             g == FW_GUARD_OK || g == FW_GUARD_FORBIDDEN || g == FW_GUARD_MISSING, "%d", g);
    if (g != FW_GUARD_OK) {
        FZ_CHECK("guard_path_says_why", why[0], "'%s' refused without a reason", path);
        return;
    }
    struct stat st;
    size_t n = strlen(guard.roots[0]);
    FZ_CHECK("guard_path_inside_the_root",
             strncmp(resolved, guard.roots[0], n) == 0 && resolved[n] == '/', "'%s' -> '%s'", path,
             resolved);
    FZ_CHECK("guard_path_regular_file", stat(resolved, &st) == 0 && S_ISREG(st.st_mode),
             "'%s' -> '%s'", path, resolved);
}

static void check_url(const char *url)
{
    char why[1024] = "";
    int g = fw_guard_url(&guard, url, why, sizeof why);
    FZ_CHECK("guard_url_refuses_loopback", g == FW_GUARD_FORBIDDEN && why[0], "'%s' allowed", url);
    g = fw_guard_url(&guard_private, url, why, sizeof why);
    if (g == FW_GUARD_OK)
        FZ_CHECK("guard_url_http_only", /* "http:/host" is curl's http://host too */
                 !strncasecmp(url, "http:", 5) || !strncasecmp(url, "https:", 6), "'%s' allowed",
                 url);
}

/* options as submit and then a worker read them: the same settings both times. */
static void check_options(json_t *options, json_t *payload)
{
    fw_params p, q;
    char *strings = NULL, *strings2 = NULL, why[1024];
    const char *code = NULL;
    int st = fw_job_params(&svc, options, &p, &strings, &code, why, sizeof why);
    if (st) {
        FZ_CHECK("job_params_error_status", (st == 400 || st == 403) && code && why[0],
                 "%d %s '%s'", st, code ? code : "(null)", why);
        FZ_CHECK("job_params_error_keeps_no_strings", strings == NULL, "strings on error");
        return;
    }
    fw_error err;
    FZ_CHECK("job_params_valid", fw_params_validate(&p, &err) == 0, "%s", err.message);
    const char *name;
    json_t *v;
    json_object_foreach(options, name, v)
    {
        int allowed = 0;
        for (const char *const *c = fw_client_settings(); *c && !allowed; c++)
            allowed = strcmp(*c, name) == 0;
        FZ_CHECK("job_params_only_client_settings", allowed, "'%s' taken from a client", name);
    }
    const char **chosen = fw_job_chosen(&svc, options);
    size_t n_chosen = 0;
    while (chosen && chosen[n_chosen])
        n_chosen++;
    FZ_CHECK("job_chosen_lists_the_options", chosen && n_chosen == json_object_size(options),
             "%zu chosen of %zu options", n_chosen, json_object_size(options));
    free(chosen);

    /* the worker's reading of the queued payload */
    char *text = json_dumps(payload, JSON_COMPACT);
    json_t *queued = text ? json_loads(text, 0, NULL) : NULL;
    FZ_CHECK("payload_reads_back", queued != NULL, "'%.200s'", text ? text : "(null)");
    json_t *o = json_object_get(queued, "options");
    int st2 =
        fw_job_params(&svc, json_is_object(o) ? o : NULL, &q, &strings2, &code, why, sizeof why);
    FZ_CHECK("worker_takes_what_submit_took", st2 == 0, "%d '%s'", st2, why);
    FZ_CHECK("worker_gets_the_same_settings", fz_params_same(&p, &q), "settings differ");
    fz_params_round_trip(&p, "job");
    free(strings2);
    json_decref(queued);
    free(text);
    free(strings);
}

static void check_view(json_t *payload, const char *key, size_t size)
{
    static const char *const states[] = {"queued", "running", "done", "failed", "cancelled"};
    char *text = json_dumps(payload, JSON_COMPACT);
    fw_queue_item it = {.id = 1 + (int64_t)(size % 1000), .payload = text, .key = (char *)key};
    snprintf(it.state, sizeof it.state, "%s", states[size % 5]);
    json_t *v = fw_job_view(&it, NULL);
    FZ_CHECK("job_view_is_an_object", json_is_object(v), "view");
    char self[64];
    snprintf(self, sizeof self, "/v1/jobs/%lld", (long long)it.id);
    json_t *links = json_object_get(v, "links");
    const char *link = json_string_value(json_object_get(links, "self"));
    FZ_CHECK("job_view_links_itself", link && strcmp(link, self) == 0, "links");
    char *shown = json_dumps(v, JSON_COMPACT);
    FZ_CHECK("job_view_serialises", shown != NULL, "view");
    free(shown);
    json_decref(v);
    free(text);
}

static void check_others(json_t *doc)
{
    const char *file = json_string_value(json_object_get(doc, "file"));
    if (file && fw_job_file_ok(file))
        FZ_CHECK("job_file_name_stays_in_its_folder",
                 !strchr(file, '/') && !strstr(file, "..") && file[0] != '.', "'%s'", file);
    const char *host = json_string_value(json_object_get(doc, "host"));
    if (host && fw_auth_loopback_host(host))
        FZ_CHECK("loopback_host_is_a_plain_name",
                 host[strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789.:[]")] == '\0',
                 "'%s'", host);
    const char *origin = json_string_value(json_object_get(doc, "origin"));
    if (origin && fw_auth_loopback_origin(origin))
        FZ_CHECK("loopback_origin_is_http", strncmp(origin, "http://", 7) == 0, "'%s'", origin);
    const char *listen = json_string_value(json_object_get(doc, "listen"));
    if (listen)
        fw_serve_loopback_only(listen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        setup();
        ready = 1;
    }
    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return 0; /* 400 bad_json */
    }
    check_others(doc);
    const char *path = json_string_value(json_object_get(doc, "path"));
    const char *url = json_string_value(json_object_get(doc, "url"));
    if (path)
        check_path(path);
    if (url)
        check_url(url);
    json_t *cb = json_object_get(doc, "callback_url");
    if (json_is_string(cb))
        check_url(json_string_value(cb));

    json_t *preset = json_object_get(doc, "preset"), *options = json_object_get(doc, "options");
    const char *key = json_string_value(json_object_get(doc, "idempotency_key"));
    json_t *payload =
        json_pack("{s:s, s:s, s:s, s:O?, s:O?, s:O?}", "kind", path ? "path" : "url", "input",
                  path  ? path
                  : url ? url
                        : "",
                  "name",
                  path  ? path
                  : url ? url
                        : "",
                  "preset", preset, "options", options, "callback_url", cb);
    FZ_CHECK("payload_packs", payload != NULL, "payload");
    check_options(json_is_null(options) ? NULL : options, payload);
    check_view(payload, key, size);
    json_decref(payload);
    json_decref(doc);
    return 0;
}
