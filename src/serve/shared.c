/* The service on a shared (Redis) queue: what it hears from the other processes, the
 * files a job leaves in the queue, the uploads other machines fetch from this node, and
 * the journal that lets a job taken over from a lost worker ask no frame again. */
#include <dirent.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "serve/http.h"
#include "serve/jobs.h"
#include "serve/service.h"

/* The upload of job id, when this node keeps it: its path in path. */
static int upload_here(fw_service *s, int64_t id, char *path, size_t size, char **token)
{
    fw_queue_item it = {0};
    int here = 0;
    if (fw_queue_get(s->queue, id, &it, NULL) == 1 && it.payload) {
        json_t *p = json_loads(it.payload, 0, NULL);
        const char *kind = json_string_value(json_object_get(p, "kind"));
        const char *input = json_string_value(json_object_get(p, "input"));
        const char *origin = json_string_value(json_object_get(p, "origin"));
        const char *tok = json_string_value(json_object_get(p, "input_token"));
        struct stat st;
        here = kind && !strcmp(kind, "upload") && input && origin && !strcmp(origin, s->origin) &&
               stat(input, &st) == 0 && S_ISREG(st.st_mode);
        if (here)
            snprintf(path, size, "%s", input);
        if (here && token)
            *token = tok ? strdup(tok) : NULL;
        json_decref(p);
    }
    fw_queue_item_clear(&it);
    return here;
}

void fw_shared_heard(void *service, int64_t id, int kind, const char *text)
{
    fw_service *s = service;
    char path[4096];
    switch (kind) {
    case FW_QUEUE_MSG_QUEUED: fw_workers_wake(s); break;
    case FW_QUEUE_MSG_CANCEL: fw_hub_cancel(s->hub, id); break;
    case FW_QUEUE_MSG_EVENT: fw_hub_relay(s->hub, id, text, 0); break;
    case FW_QUEUE_MSG_END:
        fw_hub_relay(s->hub, id, text, 1);
        if (upload_here(s, id, path, sizeof path, NULL))
            remove(path); /* the job's worker has what it needed of it */
        break;
    default: break;
    }
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    struct stat st;
    if (f && fstat(fileno(f), &st) == 0 && (buf = malloc((size_t)st.st_size + 1))) {
        *n = fread(buf, 1, (size_t)st.st_size, f);
        buf[*n] = '\0';
    }
    if (f)
        fclose(f);
    return buf;
}

void fw_shared_put_files(fw_service *s, int64_t id)
{
    char dir[4200], path[4600];
    fw_job_dir(s->data, id, dir, sizeof dir);
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t total = 0;
    while (d && (e = readdir(d))) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (!fw_job_file_ok(e->d_name) || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        size_t n = 0;
        char *data =
            total + (size_t)st.st_size <= FW_SERVE_MAX_SHARED_FILES ? slurp(path, &n) : NULL;
        fw_error err;
        if (!data)
            fprintf(stderr, "framewise: job %" PRId64 ": %s is not shared (%lld MB at most)\n", id,
                    e->d_name, (long long)(FW_SERVE_MAX_SHARED_FILES >> 20));
        else if (fw_queue_put_file(s->queue, id, e->d_name, data, n, &err))
            fprintf(stderr, "framewise: job %" PRId64 ": %s\n", id, err.message);
        else
            total += n;
        free(data);
    }
    if (d)
        closedir(d);
}

int fw_shared_get_file(fw_service *s, int64_t id, const char *name, char **data, size_t *n)
{
    char dir[4200], path[4300];
    fw_job_dir(s->data, id, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    *n = 0;
    if ((*data = slurp(path, n)))
        return 1;
    return fw_queue_get_file(s->queue, id, name, data, n, NULL) == 1;
}

int fw_api_input(fw_service *s, struct mg_connection *c, int64_t id)
{
    char path[4096], *token = NULL;
    if (!upload_here(s, id, path, sizeof path, &token))
        return fw_http_error(c, 404, "not_found", "no upload of job %" PRId64 " is kept here", id);
    const char *auth = mg_get_header(c, "Authorization");
    size_t want = token ? strlen(token) : 0;
    int ok = token && auth && !strncmp(auth, "Bearer ", 7) && strlen(auth + 7) == want &&
             CRYPTO_memcmp(auth + 7, token, want) == 0;
    free(token);
    if (!ok)
        return fw_http_error(c, 401, "unauthorized", "send the job's input token");
    mg_send_mime_file(c, path, "application/octet-stream");
    return 200;
}

static char *journal_load(void *user)
{
    fw_shared_journal *j = user;
    char *notes = NULL;
    return fw_queue_notes(j->s->queue, j->id, &notes, NULL) == 1 ? notes : NULL;
}

static void journal_record(void *user, int keyframe, const char *observation)
{
    fw_shared_journal *j = user;
    char name[32];
    snprintf(name, sizeof name, "%d", keyframe);
    fw_queue_note(j->s->queue, j->id, name, observation, NULL);
}

void fw_shared_journal_init(fw_journal *j, fw_shared_journal *user, fw_service *s, int64_t id)
{
    user->s = s;
    user->id = id;
    *j = (fw_journal){.user = user, .load = journal_load, .record = journal_record};
}
