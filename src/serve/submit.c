/* POST /v1/jobs: a video by upload (multipart/form-data: file, and the optional fields
 * options, preset, idempotency_key, callback_url) or by reference (JSON: path or url,
 * preset, options, idempotency_key, callback_url). Every check is made before the job is
 * queued: the settings (through the settings table), the preset, the guards. */
#include <errno.h>
#include <inttypes.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "serve/http.h"
#include "serve/jobs.h"
#include "serve/multipart.h"
#include "serve/service.h"

/* What a client may set per job. The rest stays the operator's: files of this machine
 * (events, lexicon), servers it talks to (url, embed-url, llm-url, api-key: requests
 * from this network), and its resources (threads, ocr-threads, concurrency, retries,
 * timeout). */
static const char *const client_settings[] = {"policy",           "fps",
                                              "motion-threshold", "area-threshold",
                                              "max-gap",          "min-gap",
                                              "min-scene",        "cut-threshold",
                                              "settle",           "dup-bits",
                                              "budget",           "max-rate",
                                              "jpeg-quality",     "max-pixels",
                                              "max-image-tokens", "backend",
                                              "ocr-lang",         "model",
                                              "prompt",           "system-prompt",
                                              "window",           "max-tokens",
                                              "temperature",      "logprobs",
                                              "min-confidence",   "segment-threshold",
                                              "embed-model",      "summary",
                                              "llm-model",        "summary-prompt",
                                              "summary-window",   NULL};

const char *const *fw_client_settings(void)
{
    return client_settings;
}

static int client_may_set(const char *name)
{
    for (int i = 0; client_settings[i]; i++)
        if (strcmp(client_settings[i], name) == 0)
            return 1;
    return 0;
}

int fw_job_params(const fw_service *s, json_t *options, fw_params *p, char **strings,
                  const char **code, char *why, size_t size)
{
    *p = s->cfg->defaults;
    *strings = NULL;
    const char *name;
    json_t *v;
    if (options && !json_is_object(options)) {
        *code = "invalid_setting";
        snprintf(why, size, "options: must be a JSON object of settings");
        return 400;
    }
    json_object_foreach(options, name, v)
    {
        if (!client_may_set(name)) {
            int known = 0;
            for (int i = 0; fw_params_name(i) && !known; i++)
                known = strcmp(fw_params_name(i), name) == 0;
            *code = known ? "forbidden_setting" : "invalid_setting";
            snprintf(why, size,
                     known ? "%s: set by the server's operator, not per job"
                           : "%s: not a setting (see GET /v1/presets for the settings)",
                     name);
            return known ? 403 : 400;
        }
    }
    fw_error err = {0};
    char *text = options ? json_dumps(options, JSON_COMPACT) : NULL;
    int rc = text ? fw_params_from_json(p, text, strings, &err) : 0;
    free(text);
    if (!rc)
        rc = fw_params_validate(p, &err);
    if (rc) {
        *code = "invalid_setting";
        snprintf(why, size, "%s", err.message);
        free(*strings);
        *strings = NULL;
        return 400;
    }
    return 0;
}

const char **fw_job_chosen(const fw_service *s, json_t *options)
{
    size_t n = 0, i = 0;
    while (s->cfg->chosen && s->cfg->chosen[n])
        n++;
    const char **out = calloc(n + json_object_size(options) + 1, sizeof *out);
    if (!out)
        return NULL;
    for (; i < n; i++)
        out[i] = s->cfg->chosen[i];
    const char *name;
    json_t *v;
    json_object_foreach(options, name, v) out[i++] = name;
    return out;
}

static int preset_ok(const char *name)
{
    if (strcmp(name, "none") == 0)
        return 1;
    const char *desc;
    for (int i = 0; fw_preset_name(i, &desc); i++)
        if (strcmp(fw_preset_name(i, &desc), name) == 0)
            return 1;
    return 0;
}

/* The length of the UTF-8 sequence at p (1 to 4), or 0 when there is none (a stray or
 * overlong byte, a surrogate, past U+10FFFF, cut short). */
static size_t utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (!n || p[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) /* a NUL ends it here too */
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
        return 0;
    return n;
}

static int utf8_ok(const char *text)
{
    size_t n;
    for (const unsigned char *p = (const unsigned char *)text; *p; p += n)
        if (!(n = utf8_len(p)))
            return 0;
    return 1;
}

/* A client's file name as the API shows it (JSON text): each byte that is not UTF-8, and
 * each control character, becomes '_'; cut at a whole character to fit. */
static void clean_name(char *out, size_t size, const char *name)
{
    size_t o = 0, n;
    for (const unsigned char *p = (const unsigned char *)name; *p; p += n) {
        n = utf8_len(p);
        int bad = !n || *p < 0x20 || *p == 0x7f;
        n = bad ? 1 : n;
        if (o + n >= size)
            break;
        if (bad)
            out[o] = '_';
        else
            memcpy(out + o, p, n);
        o += n;
    }
    out[o] = '\0';
}

static int queue_full(const fw_service *s, struct mg_connection *c)
{
    char after[16];
    snprintf(after, sizeof after, "%d", FW_SERVE_RETRY_AFTER_S);
    const char *h[] = {"Retry-After", after, NULL};
    return fw_http_error_h(c, 429, "queue_full", h,
                           "the queue is full (%d jobs waiting); try again later",
                           s->cfg->queue_size);
}

/* Checks fields (preset, options, idempotency_key, callback_url), then queues the job.
 * Returns the status sent; *added: 1 when a new job was queued. */
static int accept_job(fw_service *s, struct mg_connection *c, json_t *fields, const char *kind,
                      const char *input, const char *name, int *added)
{
    char why[1024];
    const char *code = NULL;
    *added = 0;
    json_t *preset = json_object_get(fields, "preset"),
           *options = json_object_get(fields, "options");
    if (preset && !json_is_null(preset) &&
        (!json_is_string(preset) || !preset_ok(json_string_value(preset))))
        return fw_http_error(c, 400, "invalid_preset",
                             "preset: '%s' is not a preset of this server (GET /v1/presets)",
                             json_is_string(preset) ? json_string_value(preset) : "(not a string)");
    fw_params p;
    char *strings = NULL;
    int st = fw_job_params(s, json_is_null(options) ? NULL : options, &p, &strings, &code, why,
                           sizeof why);
    free(strings);
    if (st)
        return fw_http_error(c, st, code, "%s", why);
    json_t *cb = json_object_get(fields, "callback_url");
    if (cb && !json_is_null(cb) &&
        (!json_is_string(cb) || fw_guard_url(&s->guard, json_string_value(cb), why, sizeof why)))
        return fw_http_error(c, 403, "forbidden_url", "callback_url: %s",
                             json_is_string(cb) ? why : "must be a URL");
    const char *key = json_string_value(json_object_get(fields, "idempotency_key"));
    if (!key)
        key = mg_get_header(c, "Idempotency-Key");
    if (key && (!*key || strlen(key) > 200 || !utf8_ok(key)))
        return fw_http_error(c, 400, "invalid_key",
                             "idempotency_key: 1 to 200 bytes of UTF-8 text");
    json_t *payload =
        json_pack("{s:s, s:s, s:s, s:O?, s:O?, s:O?}", "kind", kind, "input", input, "name", name,
                  "preset", preset, "options", options, "callback_url", cb);
    if (payload && strcmp(kind, "upload") == 0 && fw_queue_shared(s->queue)) {
        /* a worker elsewhere fetches it from this node, with this job's own token */
        unsigned char raw[16];
        char token[33];
        if (RAND_bytes(raw, sizeof raw) != 1)
            return fw_http_error(c, 500, "internal", "no random bytes for the upload's token");
        for (size_t i = 0; i < sizeof raw; i++)
            snprintf(token + 2 * i, 3, "%02x", raw[i]);
        json_object_set_new(payload, "origin", json_string(s->origin));
        json_object_set_new(payload, "input_token", json_string(token));
    }
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    int64_t id = 0;
    fw_error err = {0};
    int rc = text ? fw_queue_push(s->queue, text, key, s->cfg->queue_size, &id, &err) : FW_ENOMEM;
    free(text);
    if (rc == FW_QUEUE_FULL)
        return queue_full(s, c);
    if (rc < 0)
        return fw_http_error(c, 500, "internal", "the job cannot be queued");
    *added = rc == FW_QUEUE_ADDED;
    if (*added)
        fw_workers_wake(s);
    json_t *view = fw_api_job(s, id);
    if (!view)
        return fw_http_error(c, 500, "internal", "the job cannot be read back");
    st = fw_http_json(c, *added ? 202 : 200, view);
    json_decref(view);
    return st;
}

static int submit_json(fw_service *s, struct mg_connection *c)
{
    json_t *doc;
    json_error_t jerr;
    int answered = fw_http_read_json(c, FW_SERVE_MAX_JSON, "a JSON submission", &doc, &jerr);
    if (answered)
        return answered;
    if (!json_is_object(doc)) {
        json_decref(doc);
        return fw_http_error(c, 400, "bad_json", "the body is not a JSON object (%s)", jerr.text);
    }
    const char *path = json_string_value(json_object_get(doc, "path"));
    const char *url = json_string_value(json_object_get(doc, "url"));
    char resolved[4096], why[1024];
    int st = 0, added;
    if (!path == !url)
        st = fw_http_error(c, 400, "bad_request",
                           "give one of path (a file on this server) or url, or upload a file "
                           "(multipart/form-data)");
    else if (path) {
        int g = fw_guard_path(&s->guard, path, resolved, sizeof resolved, why, sizeof why);
        if (g == FW_GUARD_FORBIDDEN)
            st = fw_http_error(c, 403, "forbidden_path", "%s", why);
        else if (g == FW_GUARD_MISSING)
            st = fw_http_error(c, 400, "no_such_file", "%s", why);
        else
            st = accept_job(s, c, doc, "path", resolved, path, &added);
    } else if (json_object_get(doc, "live") && !json_is_boolean(json_object_get(doc, "live")))
        st = fw_http_error(c, 400, "bad_request", "live: true or false");
    else if (json_is_true(json_object_get(doc, "live"))) { /* read as it comes, not fetched */
        if (fw_guard_live_url(&s->guard, url, why, sizeof why))
            st = fw_http_error(c, 403, "forbidden_url", "%s", why);
        else
            st = accept_job(s, c, doc, "live", url, url, &added);
    } else if (fw_guard_url(&s->guard, url, why, sizeof why))
        st = fw_http_error(c, 403, "forbidden_url", "%s", why);
    else
        st = accept_job(s, c, doc, "url", url, url, &added);
    json_decref(doc);
    return st;
}

/* ---- uploads ------------------------------------------------------------------------ */

typedef struct upload {
    fw_service *s;
    struct mg_connection *c;
    FILE *file;
    char path[4200];
    char filename[256];
    int64_t bytes;
    int has_file;
    int discard;    /* the file's bytes are read and dropped: its key names a job already */
    char field[32]; /* the form field being read ("" : skipped) */
    char *value;
    size_t n_value;
    json_t *fields;
    const char *bad_code; /* why the form was refused (STOP_BAD): its error's code... */
    char bad[96];         /* ...and message */
} upload;

enum { STOP_TOO_LARGE = 413, STOP_BAD = 400, STOP_FULL = 429, STOP_IO = 500 };

static int up_read(void *ctx, char *buf, size_t n)
{
    return mg_read(((upload *)ctx)->c, buf, n);
}

/* Before a byte of the file is taken. A retry whose idempotency key (the header, or a
 * field sent before the file) names a job gets that job, full queue or not: its bytes
 * are dropped as they come (the job has its copy). Else a full queue refuses the upload
 * before it is read. */
static int before_file(upload *u)
{
    const char *key = json_string_value(json_object_get(u->fields, "idempotency_key"));
    int64_t id, counts[FW_QUEUE_N_STATES];
    if (!key)
        key = mg_get_header(u->c, "Idempotency-Key");
    if (fw_queue_find(u->s->queue, key, &id, NULL) == 1)
        u->discard = 1;
    else if (fw_queue_counts(u->s->queue, counts, NULL) == 0 && u->s->cfg->queue_size > 0 &&
             counts[0] >= u->s->cfg->queue_size)
        return STOP_FULL;
    return 0;
}

static int up_begin(void *user, const char *name, const char *filename)
{
    upload *u = user;
    u->field[0] = '\0';
    u->n_value = 0;
    if (strcmp(name, "file") == 0) {
        if (u->has_file) {
            snprintf(u->bad, sizeof u->bad, "a second 'file' field");
            return STOP_BAD;
        }
        int st = before_file(u);
        if (st || u->discard) {
            u->has_file = !st;
            return st;
        }
        snprintf(u->path, sizeof u->path, "%s/uploads/up-XXXXXX", u->s->data);
        int fd = mkstemp(u->path);
        if (fd < 0 || !(u->file = fdopen(fd, "wb"))) {
            if (fd >= 0)
                close(fd);
            u->path[0] = '\0';
            return STOP_IO;
        }
        u->has_file = 1;
        const char *base = strrchr(filename, '/');
        clean_name(u->filename, sizeof u->filename, base ? base + 1 : filename);
        return 0;
    }
    if (strcmp(name, "options") == 0 || strcmp(name, "preset") == 0 ||
        strcmp(name, "idempotency_key") == 0 || strcmp(name, "callback_url") == 0)
        snprintf(u->field, sizeof u->field, "%s", name);
    return 0;
}

static int up_data(void *user, const char *bytes, size_t n)
{
    upload *u = user;
    if (u->file || u->discard) {
        u->bytes += (int64_t)n;
        if (u->bytes > u->s->cfg->max_upload)
            return STOP_TOO_LARGE; /* stop reading at once */
        return !u->file || fwrite(bytes, 1, n, u->file) == n ? 0 : STOP_IO;
    }
    if (!u->field[0])
        return 0;
    if (u->n_value + n > FW_SERVE_MAX_JSON)
        return STOP_TOO_LARGE;
    char *grown = realloc(u->value, u->n_value + n + 1);
    if (!grown)
        return STOP_IO;
    u->value = grown;
    memcpy(u->value + u->n_value, bytes, n);
    u->n_value += n;
    u->value[u->n_value] = '\0';
    return 0;
}

static int up_end(void *user)
{
    upload *u = user;
    if (u->file) {
        int bad = fclose(u->file) != 0;
        u->file = NULL;
        return bad ? STOP_IO : 0;
    }
    if (!u->field[0])
        return 0;
    json_t *v = NULL;
    if (strcmp(u->field, "options") == 0) {
        v = u->n_value ? json_loadb(u->value, u->n_value, 0, NULL) : json_object();
        if (!json_is_object(v)) {
            json_decref(v);
            snprintf(u->bad, sizeof u->bad, "options: not a JSON object");
            return STOP_BAD;
        }
    } else if (!(v = json_stringn(u->value ? u->value : "", u->n_value))) { /* not UTF-8 */
        if (strcmp(u->field, "idempotency_key") == 0)
            u->bad_code = "invalid_key";
        snprintf(u->bad, sizeof u->bad, "%s: not UTF-8 text", u->field);
        return STOP_BAD;
    }
    json_object_set_new(u->fields, u->field, v);
    return 0;
}

/* The whole upload may take max_upload bytes and the form's other fields. */
static int64_t upload_bound(const fw_service *s)
{
    return s->cfg->max_upload + 4LL * FW_SERVE_MAX_JSON;
}

static int submit_upload(fw_service *s, struct mg_connection *c, const char *ctype)
{
    char boundary[80], why[256];
    long long declared = fw_http_length(c);
    if (declared > upload_bound(s)) /* refused before a byte of the body is read */
        return fw_http_error(c, 413, "too_large",
                             "the upload is %lld bytes; this server takes at most %" PRId64,
                             declared, s->cfg->max_upload);
    if (fw_multipart_boundary(ctype, boundary, sizeof boundary))
        return fw_http_error(c, 400, "bad_request", "multipart/form-data without a boundary");
    upload u = {.s = s, .c = c, .fields = json_object()};
    fw_multipart_cb cb = {.begin = up_begin, .data = up_data, .end = up_end, .user = &u};
    int rc = fw_multipart_read(boundary, up_read, &u, &cb, why, sizeof why), st, added = 0;
    if (u.file)
        fclose(u.file);
    if (rc == STOP_FULL)
        st = queue_full(s, c);
    else if (rc == STOP_TOO_LARGE)
        st = fw_http_error(c, 413, "too_large",
                           "the upload is larger than this server takes (%" PRId64 " bytes)",
                           s->cfg->max_upload);
    else if (rc == STOP_IO)
        st = fw_http_error(c, 500, "internal", "the upload cannot be stored");
    else if (rc == STOP_BAD && u.bad_code)
        st = fw_http_error(c, 400, u.bad_code, "%s", u.bad);
    else if (rc)
        st = fw_http_error(c, 400, "bad_request", "the form cannot be read: %s",
                           rc == STOP_BAD ? u.bad : why);
    else if (!u.has_file)
        st = fw_http_error(c, 400, "bad_request", "the form has no 'file' field");
    else
        st = accept_job(s, c, u.fields, "upload", u.path, u.filename[0] ? u.filename : "upload",
                        &added);
    if (!added && u.path[0])
        remove(u.path); /* refused, or the same idempotency key: the job has its own */
    free(u.value);
    json_decref(u.fields);
    return st;
}

int fw_api_submit(fw_service *s, struct mg_connection *c)
{
    const char *ctype = mg_get_header(c, "Content-Type");
    if (ctype && strncasecmp(ctype, "multipart/form-data", 19) == 0)
        return submit_upload(s, c, ctype);
    if (ctype && strncasecmp(ctype, "application/json", 16) == 0)
        return submit_json(s, c);
    return fw_http_error(c, 415, "unsupported_media_type",
                         "send multipart/form-data (an upload) or application/json (a path or "
                         "a URL)");
}
