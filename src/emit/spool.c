/* The spool: a report's long lists as JSON lines in unlinked temporary files, appended as
 * the records come and read back in order, so that a report is written without holding
 * them; and the report (fw_doc) read through it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "emit/emit.h"

static const char *const keys[FW_SPOOL_LISTS] = {"keyframes", "observations", "timeline",
                                                 "segments"};

typedef struct list {
    int fd;
    off_t size;
    long count;
} list;

struct fw_spool {
    pthread_mutex_t mu;
    list l[FW_SPOOL_LISTS];
};

const char *fw_spool_key(int which)
{
    return which >= 0 && which < FW_SPOOL_LISTS ? keys[which] : NULL;
}

static int list_of(const char *key)
{
    for (int i = 0; key && i < FW_SPOOL_LISTS; i++)
        if (strcmp(keys[i], key) == 0)
            return i;
    return -1;
}

static int temp_fd(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.framewise-spool-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd >= 0)
        unlink(path); /* gone when closed, or when the process dies */
    return fd;
}

int fw_spool_open(fw_spool **out, const char *dir, fw_error *err)
{
    *out = NULL;
    fw_spool *s = calloc(1, sizeof *s);
    if (!s)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    const char *tmp = getenv("TMPDIR");
    for (int i = 0; i < FW_SPOOL_LISTS; i++) {
        int fd = dir ? temp_fd(dir) : -1;
        if (fd < 0)
            fd = temp_fd(tmp && *tmp ? tmp : "/tmp");
        s->l[i] = (list){fd, 0, 0};
        if (fd < 0) {
            int e = errno;
            for (int k = 0; k < i; k++)
                close(s->l[k].fd);
            free(s);
            return fw_error_set(err, FW_EIO, "%s: cannot make a temporary file: %s",
                                dir           ? dir
                                : tmp && *tmp ? tmp
                                              : "/tmp",
                                strerror(e));
        }
    }
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return 0;
}

void fw_spool_close(fw_spool *s)
{
    if (!s)
        return;
    for (int i = 0; i < FW_SPOOL_LISTS; i++)
        close(s->l[i].fd);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int fw_spool_add(fw_spool *s, int which, json_t *o, fw_error *err)
{
    char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (!text)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    size_t n = strlen(text);
    text[n] = '\n'; /* the terminator becomes the line's end */
    pthread_mutex_lock(&s->mu);
    list *l = &s->l[which];
    size_t done = 0;
    while (done < n + 1) {
        ssize_t w = pwrite(l->fd, text + done, n + 1 - done, l->size + (off_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int ok = done == n + 1;
    if (ok) {
        l->size += (off_t)done;
        l->count++;
    }
    pthread_mutex_unlock(&s->mu);
    free(text);
    return ok ? 0
              : fw_error_set(err, FW_EIO, "a temporary file of the report: %s",
                             strerror(errno ? errno : ENOSPC));
}

long fw_spool_count(fw_spool *s, int which)
{
    pthread_mutex_lock(&s->mu);
    long n = s->l[which].count;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* ---- the report through the spool ---- */

void fw_doc_begin(fw_doc_it *it, const fw_doc *d, const char *key)
{
    memset(it, 0, sizeof *it);
    it->fd = -1;
    it->array = json_object_get(d->head, key);
    int which = d->spool ? list_of(key) : -1;
    if (which < 0)
        return;
    pthread_mutex_lock(&d->spool->mu);
    it->fd = d->spool->l[which].fd;
    it->end = d->spool->l[which].size; /* what is there now; later lines are not read */
    pthread_mutex_unlock(&d->spool->mu);
}

/* The next line of the spool's file into it->line; 1, or 0 at its end. */
static int next_line(fw_doc_it *it)
{
    for (;;) {
        char *nl = it->len ? memchr(it->line + it->start, '\n', it->len - it->start) : NULL;
        if (nl) {
            *nl = '\0';
            it->at_line = it->start;
            it->start = (size_t)(nl - it->line) + 1;
            return 1;
        }
        if (it->pos >= it->end)
            return 0;
        if (it->start) { /* keep the partial line at the front */
            memmove(it->line, it->line + it->start, it->len - it->start);
            it->len -= it->start;
            it->start = 0;
        }
        if (it->cap - it->len < 65536) {
            size_t cap = it->cap ? it->cap * 2 : 131072;
            char *l = realloc(it->line, cap);
            if (!l)
                return 0;
            it->line = l;
            it->cap = cap;
        }
        size_t want = it->cap - it->len;
        if ((off_t)want > it->end - it->pos)
            want = (size_t)(it->end - it->pos);
        ssize_t r = pread(it->fd, it->line + it->len, want, it->pos);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        it->len += (size_t)r;
        it->pos += r;
    }
}

json_t *fw_doc_next(fw_doc_it *it)
{
    json_decref(it->cur);
    it->cur = NULL;
    while (it->fd >= 0 && next_line(it)) {
        if ((it->cur = json_loads(it->line + it->at_line, 0, NULL)))
            return it->cur;
    }
    it->fd = -1;
    json_t *v = json_array_get(it->array, it->i);
    if (v) {
        it->i++;
        it->cur = json_incref(v);
    }
    return it->cur;
}

void fw_doc_end(fw_doc_it *it)
{
    json_decref(it->cur);
    free(it->line);
    memset(it, 0, sizeof *it);
    it->fd = -1;
}

size_t fw_doc_count(const fw_doc *d, const char *key)
{
    int which = d->spool ? list_of(key) : -1;
    size_t n = json_array_size(json_object_get(d->head, key));
    return n + (which >= 0 ? (size_t)fw_spool_count(d->spool, which) : 0);
}

/* ---- report.json from the doc: json_dumps' layout (2-space indent), the lists streamed */

static int dump_cb(const char *buf, size_t size, void *data)
{
    return fwrite(buf, 1, size, data) == size ? 0 : -1;
}

/* v dumped with flags, at the given indent (its lines after the first shifted). */
static int put_value(FILE *out, json_t *v, int indent, int flags)
{
    char *text = json_dumps(v, (size_t)flags | JSON_ENCODE_ANY);
    if (!text)
        return -1;
    for (const char *c = text; *c; c++) {
        fputc(*c, out);
        if (*c == '\n')
            fprintf(out, "%*s", indent, "");
    }
    free(text);
    return ferror(out) ? -1 : 0;
}

/* A list of the doc, its spooled records then head's: "[\n    {...},\n    ...\n  ]". */
static int put_list(FILE *out, const fw_doc *d, const char *key, int flags)
{
    fw_doc_it it;
    fw_doc_begin(&it, d, key);
    size_t n = 0;
    int compact = flags & JSON_COMPACT;
    for (json_t *o; (o = fw_doc_next(&it));) {
        fputs(n++ ? (compact ? "," : ",\n    ") : (compact ? "[" : "[\n    "), out);
        if (put_value(out, o, 4, flags)) {
            fw_doc_end(&it);
            return -1;
        }
    }
    fw_doc_end(&it);
    fputs(!n ? "[]" : compact ? "]" : "\n  ]", out);
    return 0;
}

static void put_key(FILE *out, const char *key, int first, int compact)
{
    fputs(first ? (compact ? "" : "\n  ") : (compact ? "," : ",\n  "), out);
    json_t *k = json_string(key);
    json_dump_callback(k, dump_cb, out, JSON_ENCODE_ANY);
    json_decref(k);
    fputs(compact ? ":" : ": ", out);
}

int fw_doc_write_json(const fw_doc *d, FILE *out, int compact)
{
    int flags =
        compact ? JSON_COMPACT | JSON_REAL_PRECISION(17) : JSON_INDENT(2) | JSON_REAL_PRECISION(10);
    const char *key;
    json_t *v;
    int first = 1;
    fputc('{', out);
    json_object_foreach(d->head, key, v)
    {
        put_key(out, key, first, compact);
        first = 0;
        int spooled = d->spool && list_of(key) >= 0 && json_is_array(v);
        if (spooled ? put_list(out, d, key, flags) : put_value(out, v, 2, flags))
            return -1;
    }
    for (int l = 0; d->spool && l < FW_SPOOL_LISTS; l++) { /* a list head does not name */
        if (json_object_get(d->head, keys[l]) || !fw_spool_count(d->spool, l))
            continue;
        put_key(out, keys[l], first, compact);
        first = 0;
        if (put_list(out, d, keys[l], flags))
            return -1;
    }
    fputs(first || compact ? "}" : "\n}", out);
    return ferror(out) ? -1 : 0;
}

char *fw_doc_text(const fw_doc *d, int compact)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    int bad = fw_doc_write_json(d, f, compact);
    if (fclose(f) || bad) {
        free(text);
        return NULL;
    }
    return text;
}
