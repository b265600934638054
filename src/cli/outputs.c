#include "cli/outputs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "emit/emit.h"

static const struct {
    const char *name;
    unsigned bit;
} names[] = {{"json", OUT_JSON}, {"jsonl", OUT_JSONL}, {"vtt", OUT_VTT}, {"srt", OUT_SRT},
             {"md", OUT_MD},     {"html", OUT_HTML},   {"all", OUT_ALL}};

int cli_formats_parse(const char *list, unsigned *out)
{
    *out = 0;
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (strlen(names[i].name) == n && strncmp(p, names[i].name, n) == 0)
                bit = names[i].bit;
        if (!bit) {
            cli_error("analyze: --format: unknown format '%.*s' (json, jsonl, vtt, srt, md, html, "
                      "all)",
                      (int)n, p);
            return -1;
        }
        *out |= bit;
        p += n + (p[n] == ',');
    }
    if (!*out) {
        cli_error("analyze: --format: no format given");
        return -1;
    }
    return 0;
}

static int dump_json(json_t *r, FILE *f)
{
    return json_dumpf(r, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
}

static const struct {
    unsigned bit;
    const char *file;
    int (*write)(json_t *report, FILE *out);
} writers[] = {{OUT_JSON, "report.json", dump_json},
               {OUT_VTT, "captions.vtt", fw_emit_vtt},
               {OUT_SRT, "captions.srt", fw_emit_srt},
               {OUT_MD, "report.md", fw_emit_markdown},
               {OUT_HTML, "report.html", fw_emit_html}};

int cli_outputs_write(json_t *report, const char *dir, unsigned formats, json_t *written)
{
    for (size_t i = 0; i < sizeof writers / sizeof *writers; i++) {
        if (!(formats & writers[i].bit))
            continue;
        char path[4200], tmp[4300];
        snprintf(path, sizeof path, "%s/%s", dir, writers[i].file);
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        int bad = !f || writers[i].write(report, f) != 0;
        int e = errno;
        if (f && fclose(f) && !bad)
            bad = 1, e = errno;
        if (!bad && rename(tmp, path))
            bad = 1, e = errno;
        if (bad) {
            cli_error("%s: cannot write: %s", path, strerror(e ? e : EIO));
            remove(tmp);
            return -1;
        }
        json_array_append_new(written, json_string(path));
    }
    return 0;
}

int cli_jsonl_open(cli_jsonl *j, const char *dir, int want_file, int to_stdout)
{
    memset(j, 0, sizeof *j);
    j->to_stdout = to_stdout;
    if (!want_file)
        return 0;
    snprintf(j->path, sizeof j->path, "%s/report.jsonl", dir);
    if (!(j->file = fopen(j->path, "w"))) {
        cli_error("%s: cannot write: %s", j->path, strerror(errno));
        return -1;
    }
    return 0;
}

void cli_jsonl_record(cli_jsonl *j, const char *type, json_t *obj)
{
    if (!j->file && !j->to_stdout)
        return;
    json_t *rec = json_pack("{s:s}", "type", type);
    json_object_update(rec, obj);
    char *line = json_dumps(rec, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(rec);
    if (!line)
        return;
    if (j->file) {
        fprintf(j->file, "%s\n", line);
        fflush(j->file);
    }
    if (j->to_stdout) {
        printf("%s\n", line);
        fflush(stdout);
    }
    free(line);
}

void cli_jsonl_records(cli_jsonl *j, const char *type, json_t *array)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v) cli_jsonl_record(j, type, v);
}

void cli_jsonl_story(cli_jsonl *j, json_t *story)
{
    cli_jsonl_records(j, "segment", json_object_get(story, "segments"));
    cli_jsonl_records(j, "event", json_object_get(story, "events"));
    cli_jsonl_record(j, "summary", json_object_get(story, "summary"));
    cli_jsonl_record(j, "review", json_object_get(story, "review"));
}

int cli_jsonl_close(cli_jsonl *j)
{
    if (!j->file)
        return 0;
    int bad = ferror(j->file);
    bad |= fclose(j->file) != 0;
    j->file = NULL;
    if (bad) {
        cli_error("%s: cannot write: %s", j->path, strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}
