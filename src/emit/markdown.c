/* emit: a Markdown report (GitHub-flavoured tables): header, summary, key moments,
 * review flags, events, segments, keyframes. Every string from the report goes through
 * fw_emit_md_text (one line, markup characters escaped), so a model's answer can neither
 * add markup nor break a table row; empty parts are left out. */
#include "emit/emit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emit/emit_util.h"

/* "mm:ss" of o[key], or "" when it has none. */
/* A link destination: percent-encodes what would end or confuse it (space, brackets,
 * parentheses, quotes, |, \, %, controls); UTF-8 stays as it is. */
static void put_dest(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c == 0x7f || strchr("<>()[]|\\`\"'%", c))
            fprintf(out, "%%%02X", c);
        else
            fputc(c, out);
    }
}

static void put_header(FILE *out, const fw_doc *doc)
{
    json_t *report = doc->head;
    json_t *video = json_object_get(report, "video");
    const char *name = fw_emit_basename(fw_emit_str(video, "path"));
    fputs("# ", out);
    fw_emit_md_text(out, *name ? name : "Video report");
    fputs("\n\n", out);
    char t[32];
    double d, w = 0, h = 0;
    if (fw_emit_num(video, "duration", &d))
        fprintf(out, "**Duration** %s · ", fw_clock_mmss(d, t, sizeof t));
    if (fw_emit_num(video, "width", &w) && fw_emit_num(video, "height", &h) && w > 0 && h > 0)
        fprintf(out, "**Size** %.0f×%.0f · ", w, h);
    fprintf(out, "**Keyframes** %zu\n\n", fw_doc_count(doc, "keyframes"));
}

static void put_summary(FILE *out, json_t *report)
{
    json_t *sum = json_object_get(report, "summary"), *km = json_object_get(sum, "key_moments");
    const char *text = fw_emit_str(sum, "text"), *method = fw_emit_str(sum, "method"),
               *model = fw_emit_str(sum, "model");
    if (*text || *method || *model) {
        fputs("## Summary\n\n", out);
        if (*text) {
            fw_emit_md_text(out, text);
            fputs("\n\n", out);
        }
        if (*method || *model) {
            fputs("*", out);
            fw_emit_md_text(out, *method ? method : "summary");
            if (*model) {
                fputs(", model ", out);
                fw_emit_md_text(out, model);
            }
            fputs("*\n\n", out);
        }
    }
    if (!json_array_size(km))
        return;
    fputs("## Key moments\n\n", out);
    size_t i;
    json_t *m;
    json_array_foreach(km, i, m)
    {
        char t[32];
        fprintf(out, "- **%s** ", fw_emit_when(m, "time", t, sizeof t));
        fw_emit_md_text(out, fw_emit_str(m, "text"));
        fputc('\n', out);
    }
    fputc('\n', out);
}

static void put_review(FILE *out, json_t *report)
{
    json_t *rev = json_object_get(report, "review"), *reasons = json_object_get(rev, "reasons");
    if (!json_is_true(json_object_get(rev, "required")))
        return;
    fprintf(out, "## Review\n\n> **⚠ Review required:** %zu reason%s flagged in this video.\n\n",
            json_array_size(reasons), json_array_size(reasons) == 1 ? "" : "s");
    size_t i;
    json_t *r;
    json_array_foreach(reasons, i, r)
    {
        char t[32];
        const char *term = fw_emit_str(r, "term"), *cat = fw_emit_str(r, "category");
        fprintf(out, "- **%s**", fw_emit_when(r, "time", t, sizeof t));
        if (*term) {
            fputs(" «", out);
            fw_emit_md_text(out, term);
            fputs("»", out);
        }
        if (*cat) {
            fputs(" *(", out);
            fw_emit_md_text(out, cat);
            fputs(")*", out);
        }
        fputs(": ", out);
        fw_emit_md_text(out, fw_emit_str(r, "text"));
        fputc('\n', out);
    }
    fputc('\n', out);
}

/* One events-table row: time (or span), name/description, score, evidence. */
static int put_event_row(FILE *out, json_t *e, int step)
{
    char a[32], b[32];
    double score;
    fprintf(out, "| %s", fw_emit_when(e, "time", a, sizeof a));
    if (*fw_emit_when(e, "end", b, sizeof b) && strcmp(a, b) != 0)
        fprintf(out, "–%s", b);
    fputs(step ? " | ↳ " : " | **", out);
    fw_emit_md_text(out, fw_emit_str(e, "name"));
    fputs(step ? "" : "**", out);
    const char *desc = fw_emit_str(e, "description");
    if (*desc) {
        fputs(" — ", out);
        fw_emit_md_text(out, desc);
    }
    fputs(" | ", out);
    if (fw_emit_num(e, "score", &score))
        fprintf(out, "%.2f", score);
    fputs(" | ", out);
    if (fw_emit_value(out, json_object_get(e, "evidence"), fw_emit_md_text))
        return -1;
    fputs(" |\n", out);
    return 0;
}

static int put_events(FILE *out, json_t *report)
{
    json_t *events = json_object_get(report, "events"), *e, *s;
    if (!json_array_size(events))
        return 0;
    fputs("## Events\n\n| Time | Event | Score | Evidence |\n|---|---|---|---|\n", out);
    size_t i, k;
    json_array_foreach(events, i, e)
    {
        if (put_event_row(out, e, 0))
            return -1;
        json_array_foreach(json_object_get(e, "steps"), k, s)
        {
            if (put_event_row(out, s, 1))
                return -1;
        }
    }
    fputc('\n', out);
    return 0;
}

static void put_segments(FILE *out, const fw_doc *d)
{
    if (!fw_doc_count(d, "segments"))
        return;
    fputs("## Segments\n\n| Time | Text | Keyframes |\n|---|---|---|\n", out);
    size_t j;
    json_t *s, *k;
    fw_doc_it it;
    fw_doc_begin(&it, d, "segments");
    while ((s = fw_doc_next(&it))) {
        char a[32], b[32];
        fprintf(out, "| %s", fw_emit_when(s, "start", a, sizeof a));
        if (*fw_emit_when(s, "end", b, sizeof b))
            fprintf(out, "–%s", b);
        fputs(" | ", out);
        fw_emit_md_text(out, fw_emit_str(s, "text"));
        fputs(" | ", out);
        json_t *kfs = json_object_get(s, "keyframes");
        if (json_array_size(kfs)) {
            json_array_foreach(kfs, j, k)
            {
                if (json_is_integer(k))
                    fprintf(out, "%s%lld", j ? ", " : "", (long long)json_integer_value(k));
            }
        } else if (json_is_integer(json_object_get(s, "keyframe"))) {
            fprintf(out, "%lld", (long long)json_integer_value(json_object_get(s, "keyframe")));
        }
        fputs(" |\n", out);
    }
    fw_doc_end(&it);
    fputc('\n', out);
}

static void put_keyframes(FILE *out, const fw_doc *d)
{
    if (!fw_doc_count(d, "keyframes"))
        return;
    fputs("## Keyframes\n\n| Time | Reason | Image |\n|---|---|---|\n", out);
    size_t i = 0;
    json_t *kf;
    fw_doc_it it;
    fw_doc_begin(&it, d, "keyframes");
    for (; (kf = fw_doc_next(&it)); i++) {
        char t[32];
        json_t *idx = json_object_get(kf, "index");
        long long n = json_is_integer(idx) ? (long long)json_integer_value(idx) : (long long)i;
        fprintf(out, "| %s | ", fw_emit_when(kf, "time", t, sizeof t));
        fw_emit_md_text(out, fw_emit_str(kf, "reason"));
        fputs(" | ", out);
        const char *file = fw_emit_str(kf, "file");
        if (*file) {
            fprintf(out, "![kf %lld](", n);
            put_dest(out, fw_emit_basename(file)); /* beside report.md, wherever it is read */
            fputc(')', out);
        }
        fputs(" |\n", out);
    }
    fw_doc_end(&it);
    fputc('\n', out);
}

int fw_emit_markdown(const fw_doc *d, FILE *out)
{
    json_t *report = d->head;
    if (!out) {
        errno = EINVAL;
        return -1;
    }
    errno = 0;
    put_header(out, d);
    put_summary(out, report);
    put_review(out, report);
    if (put_events(out, report)) {
        errno = ENOMEM;
        return -1;
    }
    put_segments(out, d);
    put_keyframes(out, d);
    return fw_emit_finish(out);
}
