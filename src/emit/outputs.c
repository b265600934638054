/* The files of an analysis: the writers by format, report.jsonl, the keyframe JPEGs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "emit/emit.h"

static const struct {
    const char *name;
    unsigned bit;
} names[] = {{"json", FW_OUT_JSON}, {"jsonl", FW_OUT_JSONL}, {"vtt", FW_OUT_VTT},
             {"srt", FW_OUT_SRT},   {"md", FW_OUT_MD},       {"html", FW_OUT_HTML},
             {"all", FW_OUT_ALL}};

int fw_formats_parse(const char *list, unsigned *out, fw_error *err)
{
    *out = 0;
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (strlen(names[i].name) == n && strncmp(p, names[i].name, n) == 0)
                bit = names[i].bit;
        if (!bit)
            return fw_error_set(err, FW_EINVAL,
                                "format: unknown format '%.*s' (json, jsonl, vtt, srt, md, html, "
                                "all)",
                                (int)n, p);
        *out |= bit;
        p += n + (p[n] == ',');
    }
    if (!*out)
        return fw_error_set(err, FW_EINVAL, "format: no format given");
    return 0;
}

static int dump_json(const fw_doc *d, FILE *f)
{
    return fw_doc_write_json(d, f, 0);
}

static const struct {
    unsigned bit;
    const char *file;
    int (*write)(const fw_doc *d, FILE *out);
} writers[] = {{FW_OUT_JSON, "report.json", dump_json},
               {FW_OUT_VTT, "captions.vtt", fw_emit_vtt},
               {FW_OUT_SRT, "captions.srt", fw_emit_srt},
               {FW_OUT_MD, "report.md", fw_emit_markdown},
               {FW_OUT_HTML, "report.html", fw_emit_html}};

int fw_outputs_write(const fw_doc *report, const char *dir, unsigned formats, json_t *written,
                     fw_error *err)
{
    int rc = 0; /* a file that cannot be written does not cost the others */
    for (size_t i = 0; i < sizeof writers / sizeof *writers; i++) {
        if (!(formats & writers[i].bit))
            continue;
        char path[4200], tmp[4300];
        snprintf(path, sizeof path, "%s/%s", dir, writers[i].file);
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        errno = 0;
        FILE *f = fopen(tmp, "w");
        int bad = !f || writers[i].write(report, f) != 0;
        int e = errno;
        if (f && fclose(f) && !bad)
            bad = 1, e = errno;
        if (!bad && rename(tmp, path))
            bad = 1, e = errno;
        if (bad) {
            remove(tmp);
            if (!rc)
                rc = fw_error_set(err, FW_EIO, "%s: cannot write: %s", path, strerror(e ? e : EIO));
            continue;
        }
        json_array_append_new(written, json_string(path));
    }
    return rc;
}

int fw_jsonl_open(fw_jsonl *j, const char *dir, fw_error *err)
{
    snprintf(j->path, sizeof j->path, "%s/report.jsonl", dir);
    if (!(j->file = fopen(j->path, "w")))
        return fw_error_set(err, FW_EIO, "%s: cannot write: %s", j->path, strerror(errno));
    return 0;
}

void fw_jsonl_line(fw_jsonl *j, const char *line)
{
    if (!j->file)
        return;
    fputs(line, j->file);
    fputc('\n', j->file);
    fflush(j->file); /* a reader follows the file as it grows */
}

int fw_jsonl_close(fw_jsonl *j, fw_error *err)
{
    if (!j->file)
        return 0;
    errno = 0;
    int bad = ferror(j->file);
    bad |= fclose(j->file) != 0;
    j->file = NULL;
    if (bad)
        return fw_error_set(err, FW_EIO, "%s: cannot write: %s", j->path,
                            strerror(errno ? errno : EIO));
    return 0;
}

int fw_mkdirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(buf, &st) || !S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    int bad = !f || fwrite(data, 1, n, f) != n;
    return (f && fclose(f)) || bad ? -1 : 0;
}

const fw_kept *fw_kflist_get(const fw_kflist *l, int i)
{
    if (i < 0 || i >= l->n || (l->keep > 0 && i < l->n - l->keep))
        return NULL;
    return &l->list[l->keep > 0 ? i % l->keep : i];
}

int fw_kflist_add(fw_kflist *l, const fw_keyframe *kf, fw_error *err)
{
    fw_kept k = {.kf = *kf};
    k.kf.jpeg = NULL;
    k.kf.jpeg_size = 0;
    k.kf.index += l->index_offset;
    k.kf.time_s += l->time_offset;
    if (l->dir) { /* the file first: a failure leaves the list as it was */
        size_t n = strlen(l->dir) + 32;
        if (!(k.file = malloc(n)))
            return fw_error_set(err, FW_ENOMEM, "out of memory");
        snprintf(k.file, n, "%s/kf_%06d.jpg", l->dir, k.kf.index);
        if (write_file(k.file, kf->jpeg, kf->jpeg_size)) {
            int rc = fw_error_set(err, FW_EIO, "%.400s: cannot write: %s", k.file, strerror(errno));
            free(k.file);
            return rc;
        }
    }
    int slot = l->keep > 0 ? l->n % l->keep : l->n;
    if (l->keep > 0 && l->n >= l->keep) { /* the oldest goes */
        free(l->list[slot].file);
    } else if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        fw_kept *list = realloc(l->list, (size_t)cap * sizeof *list);
        if (!list) {
            free(k.file);
            return fw_error_set(err, FW_ENOMEM, "out of memory");
        }
        l->list = list;
        l->cap = cap;
    }
    l->list[slot] = k;
    l->n++;
    return 0;
}

void fw_kflist_free(fw_kflist *l)
{
    for (int i = 0; i < (l->keep > 0 && l->n > l->keep ? l->keep : l->n); i++)
        free(l->list[i].file);
    free(l->list);
    l->list = NULL;
    l->n = l->cap = 0;
}
