/* emit: one self-contained HTML5 page. No script at all, no external resource: the CSP
 * allows only inline styles and data: images, and the keyframe JPEGs are embedded as
 * base64 data: URIs (a keyframe file that cannot be read shows as a grey placeholder
 * with its name, so a report stays readable when its pictures were moved). Every string
 * from the report goes through fw_emit_html_text, in text and in attributes alike. */
#include "emit/emit.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavutil/base64.h>

#include "emit/emit_util.h"

/* A keyframe JPEG larger than this is not a keyframe framewise wrote: placeholder. */
#define MAX_THUMB_BYTES (16 << 20)

static const char css[] =
    "*{box-sizing:border-box}"
    "body{margin:0;background:#f4f6f9;color:#1d2330;font:15px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,sans-serif}"
    "main{max-width:1200px;margin:0 auto;padding:24px}"
    "h1{margin:0 0 4px;font-size:1.6em;overflow-wrap:anywhere}"
    "h2{margin:0 0 12px;font-size:1.15em}"
    "section{background:#fff;border:1px solid #e2e6ec;border-radius:10px;padding:16px 20px;"
    "margin:16px 0}"
    ".meta,.t{color:#5b6475}.t{font-variant-numeric:tabular-nums;white-space:nowrap}"
    ".review{background:#fff7e6;border-color:#f0b44c}.review h2{color:#9a5b00}"
    ".track{position:relative;height:52px;background:#eef1f5;border-radius:6px;margin:6px 0}"
    ".seg{position:absolute;top:8px;height:18px;border-radius:4px;background:#9cc3f0;"
    "border:1px solid #fff}.seg.odd{background:#b9d5f5}"
    ".kt{position:absolute;top:0;bottom:0;width:2px;margin-left:-1px;background:#39435580}"
    ".ev{position:absolute;top:32px;width:12px;height:12px;margin-left:-6px;border-radius:50%;"
    "background:#e0624c;border:2px solid #fff}"
    ".axis{display:flex;justify-content:space-between;font-size:12px;color:#7a8394}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:14px;"
    "margin-top:14px}"
    ".card{margin:0;border:1px solid #e2e6ec;border-radius:8px;overflow:hidden;background:#fff}"
    ".card img,.ph{display:block;width:100%;aspect-ratio:16/9;object-fit:cover;background:#ccd1d8}"
    ".ph{display:flex;align-items:center;justify-content:center;padding:8px;font-size:12px;"
    "color:#4a5262;overflow-wrap:anywhere;text-align:center}"
    ".card figcaption{padding:8px 10px;font-size:14px}.card p{margin:6px 0 0}"
    ".tag{display:inline-block;background:#eef1f5;border-radius:4px;padding:0 6px;"
    "font-size:12px;margin-left:4px}"
    ".gated{opacity:.5}.err{color:#b3261e}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid #e8ebf0}"
    "th{font-size:13px;color:#5b6475}tr.step td:nth-child(2){padding-left:26px}";

#define H(s) fw_emit_html_text(out, (s))

/* "mm:ss" of o[key], or "" when it has none. */
/* Why an observation was gated out, or NULL when it was not ("gated" may be the reason
 * itself, true with a "gate_reason", or an object with a "reason"). */
static const char *gate_reason(json_t *obs)
{
    json_t *g = json_object_get(obs, "gated");
    if (json_is_string(g))
        return json_string_value(g);
    if (json_is_object(g))
        return fw_emit_str(g, "reason");
    if (json_is_true(g))
        return fw_emit_str(obs, "gate_reason");
    return NULL;
}

static void put_header(FILE *out, const fw_doc *doc)
{
    json_t *report = doc->head;
    json_t *video = json_object_get(report, "video");
    const char *name = fw_emit_basename(fw_emit_str(video, "path"));
    char t[32];
    double d, w = 0, h = 0;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "img-src data:; style-src 'unsafe-inline'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>",
          out);
    H(*name ? name : "Video report");
    fprintf(out, "</title>\n<style>%s</style></head>\n<body><main>\n<header><h1>", css);
    H(*name ? name : "Video report");
    fputs("</h1><div class=\"meta\">", out);
    if (fw_emit_num(video, "duration", &d))
        fprintf(out, "%s · ", fw_clock_mmss(d, t, sizeof t));
    if (fw_emit_num(video, "width", &w) && fw_emit_num(video, "height", &h) && w > 0 && h > 0)
        fprintf(out, "%.0f×%.0f · ", w, h);
    fprintf(out, "%zu keyframes · %zu segments · %zu events</div></header>\n",
            fw_doc_count(doc, "keyframes"), fw_doc_count(doc, "segments"),
            fw_doc_count(doc, "events"));
}

static void put_review(FILE *out, json_t *report)
{
    json_t *rev = json_object_get(report, "review"), *r;
    if (!json_is_true(json_object_get(rev, "required")))
        return;
    fputs("<section class=\"review\"><h2>⚠ Review required</h2><ul>\n", out);
    size_t i;
    json_array_foreach(json_object_get(rev, "reasons"), i, r)
    {
        char t[32];
        const char *term = fw_emit_str(r, "term"), *cat = fw_emit_str(r, "category");
        fprintf(out, "<li><span class=\"t\">%s</span> ", fw_emit_when(r, "time", t, sizeof t));
        if (*term) {
            fputs("<b>", out);
            H(term);
            fputs("</b>", out);
        }
        if (*cat) {
            fputs("<span class=\"tag\">", out);
            H(cat);
            fputs("</span>", out);
        }
        fputs(" ", out);
        H(fw_emit_str(r, "text"));
        fputs("</li>\n", out);
    }
    fputs("</ul></section>\n", out);
}

/* Text whose lines stay lines (an extractive summary is one moment a line). */
static void put_lines(FILE *out, const char *text)
{
    for (const char *line = text; *line;) {
        size_t n = strcspn(line, "\n");
        char *copy = strndup(line, n);
        if (copy)
            H(copy);
        free(copy);
        line += n;
        if (*line == '\n' && *++line)
            fputs("<br>\n", out);
    }
}

static void put_summary(FILE *out, json_t *report)
{
    json_t *sum = json_object_get(report, "summary"), *m;
    const char *text = fw_emit_str(sum, "text"), *method = fw_emit_str(sum, "method"),
               *model = fw_emit_str(sum, "model");
    json_t *km = json_object_get(sum, "key_moments");
    if (!*text && !json_array_size(km))
        return;
    fputs("<section><h2>Summary</h2><p>", out);
    put_lines(out, text);
    fputs("</p>", out);
    if (*method || *model) {
        fputs("<p class=\"meta\"><em>", out);
        H(*method ? method : "summary");
        if (*model) {
            fputs(" · ", out);
            H(model);
        }
        fputs("</em></p>", out);
    }
    if (json_array_size(km)) {
        fputs("<h2>Key moments</h2><ul>\n", out);
        size_t i;
        json_array_foreach(km, i, m)
        {
            char t[32];
            fprintf(out, "<li><span class=\"t\">%s</span> ", fw_emit_when(m, "time", t, sizeof t));
            H(fw_emit_str(m, "text"));
            fputs("</li>\n", out);
        }
        fputs("</ul>", out);
    }
    fputs("</section>\n", out);
}

/* The timeline's length: the duration, else the last time anything happens. */
static double span_of(const fw_doc *d)
{
    double span = 0, t;
    if (fw_emit_num(json_object_get(d->head, "video"), "duration", &span) && span > 0)
        return span;
    static const char *const lists[][2] = {
        {"keyframes", "time"}, {"segments", "end"}, {"segments", "start"}, {"events", "time"}};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        fw_doc_it it;
        fw_doc_begin(&it, d, lists[l][0]);
        for (json_t *o; (o = fw_doc_next(&it));)
            if (fw_emit_num(o, lists[l][1], &t) && t > span)
                span = t;
        fw_doc_end(&it);
    }
    return span > 0 ? span : 1;
}

static double pct(double t, double span)
{
    double p = t / span * 100;
    return p < 0 ? 0 : p > 100 ? 100 : p;
}

/* A segment's bar; next: the one after it (NULL: none), whose start ends it when it has
 * no end. */
static void put_bar(FILE *out, json_t *o, json_t *next, size_t i, double span)
{
    char a[32], b[32];
    double s, e;
    if (!fw_emit_num(o, "start", &s))
        return;
    /* no end: until the next segment, else the end of the bar */
    if (!fw_emit_num(o, "end", &e) && !(fw_emit_num(next, "start", &e) && e > s))
        e = span;
    if (e < s)
        e = s;
    fprintf(out, "<div class=\"seg%s\" style=\"left:%.3f%%;width:%.3f%%\" title=\"%s–%s ",
            i % 2 ? " odd" : "", pct(s, span), pct(e, span) - pct(s, span),
            fw_clock_mmss(s, a, sizeof a), fw_clock_mmss(e, b, sizeof b));
    H(fw_emit_str(o, "text"));
    fputs("\"></div>", out);
}

static void put_timeline(FILE *out, const fw_doc *d, double span)
{
    json_t *o, *prev = NULL;
    size_t i = 0;
    char a[32], b[32];
    fw_doc_it it;
    fputs("<div class=\"track\">", out);
    fw_doc_begin(&it, d, "segments");
    for (; (o = fw_doc_next(&it)); i++) { /* each bar once the next is known */
        if (prev)
            put_bar(out, prev, o, i - 1, span);
        json_decref(prev);
        prev = json_incref(o);
    }
    if (prev)
        put_bar(out, prev, NULL, i - 1, span);
    json_decref(prev);
    fw_doc_end(&it);
    fw_doc_begin(&it, d, "keyframes");
    while ((o = fw_doc_next(&it))) {
        double t;
        if (fw_emit_num(o, "time", &t))
            fprintf(out, "<div class=\"kt\" style=\"left:%.3f%%\" title=\"keyframe %s\"></div>",
                    pct(t, span), fw_clock_mmss(t, a, sizeof a));
    }
    fw_doc_end(&it);
    fw_doc_begin(&it, d, "events");
    while ((o = fw_doc_next(&it))) {
        double t;
        if (!fw_emit_num(o, "time", &t))
            continue;
        fprintf(out, "<div class=\"ev\" style=\"left:%.3f%%\" title=\"%s ", pct(t, span),
                fw_clock_mmss(t, a, sizeof a));
        H(fw_emit_str(o, "name"));
        fputs("\"></div>", out);
    }
    fw_doc_end(&it);
    fprintf(out,
            "</div><div class=\"axis\"><span>00:00</span><span>%s</span><span>%s</span>"
            "</div>\n",
            fw_clock_mmss(span / 2, a, sizeof a), fw_clock_mmss(span, b, sizeof b));
}

/* The keyframe's picture as an <img> with a data: URI, else a placeholder naming the file.
 * -1 only when out of memory. */
static int put_thumb(FILE *out, const char *file, long long n)
{
    int saved = errno, rc = 0; /* a missing picture is not the writer's error */
    uint8_t *jpg = NULL;
    char *b64 = NULL;
    size_t size = 0;
    struct stat st;
    FILE *f = *file ? fopen(file, "rb") : NULL;
    if (f && fstat(fileno(f), &st) == 0 && st.st_size > 0 && st.st_size <= MAX_THUMB_BYTES) {
        size = (size_t)st.st_size;
        jpg = malloc(size);
        b64 = malloc(AV_BASE64_SIZE(size));
        if (!jpg || !b64)
            rc = -1;
        else if (fread(jpg, 1, size, f) != size)
            size = 0;
    }
    if (f)
        fclose(f);
    if (!rc && size && av_base64_encode(b64, (int)AV_BASE64_SIZE(size), jpg, (int)size)) {
        fprintf(out, "<img src=\"data:image/jpeg;base64,%s\" alt=\"keyframe %lld\">", b64, n);
    } else {
        fputs("<div class=\"ph\">", out);
        H(*file ? fw_emit_basename(file) : "no picture");
        fputs("</div>", out);
    }
    free(jpg);
    free(b64);
    errno = saved;
    return rc;
}

/* One observation: text, error, or dimmed with the gate's reason. */
static void put_observation(FILE *out, json_t *o)
{
    const char *gate = gate_reason(o), *err = fw_emit_str(o, "error");
    fputs(gate ? "<p class=\"gated\">" : "<p>", out);
    H(fw_emit_str(o, "text"));
    if (gate) {
        fputs(" <em>(gated out: ", out);
        H(*gate ? gate : "no reason given");
        fputs(")</em>", out);
    }
    if (*err) {
        fputs(" <span class=\"err\">", out);
        H(err);
        fputs("</span>", out);
    }
    fputs("</p>", out);
}

/* The observations of keyframe n: the list is in keyframe order, so one pass serves every
 * card; those of earlier keyframes are passed over. */
static void put_observations(FILE *out, fw_doc_it *obs, long long n)
{
    for (json_t *o = obs->cur ? obs->cur : fw_doc_next(obs); o; o = fw_doc_next(obs)) {
        json_t *k = json_object_get(o, "keyframe");
        if (!json_is_integer(k) || json_integer_value(k) < n)
            continue;
        if (json_integer_value(k) > n)
            return; /* the next card's */
        put_observation(out, o);
    }
}

static int put_cards(FILE *out, const fw_doc *d)
{
    if (!fw_doc_count(d, "keyframes"))
        return 0;
    fputs("<div class=\"grid\">\n", out);
    size_t i = 0;
    int rc = 0;
    fw_doc_it kfs, obs;
    fw_doc_begin(&kfs, d, "keyframes");
    fw_doc_begin(&obs, d, "observations");
    for (json_t *kf; !rc && (kf = fw_doc_next(&kfs)); i++) {
        char t[32];
        json_t *idx = json_object_get(kf, "index");
        long long n = json_is_integer(idx) ? (long long)json_integer_value(idx) : (long long)i;
        fprintf(out, "<figure class=\"card\" id=\"kf-%lld\">", n);
        if ((rc = put_thumb(out, fw_emit_str(kf, "file"), n)))
            break;
        fprintf(out, "<figcaption><span class=\"t\">%s</span><span class=\"tag\">",
                fw_emit_when(kf, "time", t, sizeof t));
        H(fw_emit_str(kf, "reason"));
        fputs("</span>", out);
        put_observations(out, &obs, n);
        fputs("</figcaption></figure>\n", out);
    }
    fw_doc_end(&kfs);
    fw_doc_end(&obs);
    if (!rc)
        fputs("</div>", out);
    return rc;
}

static void put_segments(FILE *out, const fw_doc *d)
{
    json_t *s, *k;
    if (!fw_doc_count(d, "segments"))
        return;
    fputs("<section><h2>Segments</h2><table><tr><th>Time</th><th>Text</th><th>Keyframes</th>"
          "</tr>\n",
          out);
    size_t j;
    fw_doc_it it;
    fw_doc_begin(&it, d, "segments");
    while ((s = fw_doc_next(&it))) {
        char a[32], b[32];
        fprintf(out, "<tr><td class=\"t\">%s", fw_emit_when(s, "start", a, sizeof a));
        if (*fw_emit_when(s, "end", b, sizeof b))
            fprintf(out, "–%s", b);
        fputs("</td><td>", out);
        H(fw_emit_str(s, "text"));
        fputs("</td><td>", out);
        json_array_foreach(json_object_get(s, "keyframes"), j, k)
        {
            if (json_is_integer(k))
                fprintf(out, "%s%lld", j ? ", " : "", (long long)json_integer_value(k));
        }
        fputs("</td></tr>\n", out);
    }
    fw_doc_end(&it);
    fputs("</table></section>\n", out);
}

static int put_event_row(FILE *out, json_t *e, int step)
{
    char a[32], b[32];
    double score;
    fprintf(out, "<tr%s><td class=\"t\">%s", step ? " class=\"step\"" : "",
            fw_emit_when(e, "time", a, sizeof a));
    if (*fw_emit_when(e, "end", b, sizeof b) && strcmp(a, b) != 0)
        fprintf(out, "–%s", b);
    fputs(step ? "</td><td>↳ " : "</td><td><b>", out);
    H(fw_emit_str(e, "name"));
    fputs(step ? "" : "</b>", out);
    const char *desc = fw_emit_str(e, "description");
    if (*desc) {
        fputs(" — ", out);
        H(desc);
    }
    fputs("</td><td>", out);
    if (fw_emit_num(e, "score", &score))
        fprintf(out, "%.2f", score);
    fputs("</td><td>", out);
    if (fw_emit_value(out, json_object_get(e, "evidence"), fw_emit_html_text))
        return -1;
    fputs("</td></tr>\n", out);
    return 0;
}

static int put_events(FILE *out, json_t *report)
{
    json_t *events = json_object_get(report, "events"), *e, *s;
    if (!json_array_size(events))
        return 0;
    fputs("<section><h2>Events</h2><table><tr><th>Time</th><th>Event</th><th>Score</th>"
          "<th>Evidence</th></tr>\n",
          out);
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
    fputs("</table></section>\n", out);
    return 0;
}

int fw_emit_html(const fw_doc *d, FILE *out)
{
    json_t *report = d->head;
    if (!out) {
        errno = EINVAL;
        return -1;
    }
    errno = 0;
    put_header(out, d);
    put_review(out, report);
    put_summary(out, report);
    fputs("<section><h2>Timeline</h2>", out);
    put_timeline(out, d, span_of(d));
    int rc = put_cards(out, d);
    fputs("</section>\n", out);
    put_segments(out, d);
    if (!rc)
        rc = put_events(out, report);
    fputs("</main></body></html>\n", out);
    if (rc) {
        errno = ENOMEM;
        return -1;
    }
    return fw_emit_finish(out);
}
