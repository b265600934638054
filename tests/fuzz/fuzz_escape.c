/* Escaping of model and OCR text in the outputs people read (emit/escape.c, captions.c,
 * markdown.c, html.c), with the properties each writer documents, checked on its output:
 * - fw_emit_html_text: no raw < > " ' and every & starts an entity; decoding the entities
 *   gives the text back (for clean text: UTF-8 without controls);
 * - fw_emit_md_text: one line, markup characters escaped, no list or heading start, no
 *   spaces at the ends; unescaping gives the text with its white space collapsed;
 * - WebVTT / SubRip: cue text never holds "-->", < or >, lines of at most 42 columns,
 *   cues in time order, at least 100 ms long, never overlapping; nothing of the text but
 *   spaces is dropped;
 * - the Markdown and HTML reports: text adds no line, no table cell and no markup (the
 *   same report with each string's lines replaced by "x" has the same lines, cells,
 *   < > " ': a text's own line ends may stay lines, as the HTML summary's <br>).
 * And in every output: no C0 control character (but the line ends a format has: none in a
 * Markdown text, a newline between lines, tab, CR and LF in HTML, where they show as a
 * space) and no bidirectional override or isolate (U+202A-U+202E, U+2066-U+2069).
 *
 * The input is a report (a JSON object), or else a text put in every text field of one. */
#include <jansson.h>

#include "core/utf8.h"
#include "emit/emit.h"
#include "emit/emit_util.h"
#include "fuzz_util.h"

#define MAX_COLS 42
#define MIN_CUE_MS 100

/* ---- helpers ---- */

typedef struct out {
    char *p;
    size_t n;
} out;

static out text_out(void (*fn)(FILE *, const char *), const char *s)
{
    out o = {0};
    FILE *f = open_memstream(&o.p, &o.n);
    if (!f)
        abort();
    fn(f, s);
    fclose(f);
    return o;
}

static out report_out(int (*fn)(const fw_doc *, FILE *), json_t *report)
{
    out o = {0};
    FILE *f = open_memstream(&o.p, &o.n);
    if (!f)
        abort();
    fw_doc d = {report, NULL};
    int rc = fn(&d, f);
    FZ_CHECK("writer_succeeds", rc == 0, "a writer failed on a memory stream");
    fclose(f);
    return o;
}

/* The first C0 control in p[0..n) that is not in allowed, or -1. */
static long c0_at(const char *p, size_t n, const char *allowed)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 && !(p[i] && strchr(allowed, p[i])))
            return (long)i;
    return -1;
}

/* 1 when p[0..n) holds a bidirectional override or isolate. */
static int has_bidi(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    for (size_t i = 0; i + 2 < n; i++)
        if (u[i] == 0xe2 && ((u[i + 1] == 0x80 && u[i + 2] >= 0xaa && u[i + 2] <= 0xae) ||
                             (u[i + 1] == 0x81 && u[i + 2] >= 0xa6 && u[i + 2] <= 0xa9)))
            return 1;
    return 0;
}

/* Clean text: UTF-8 without controls (C0 but those in ws, DEL, C1) or bidi characters. */
static int clean(const char *s, const char *ws)
{
    size_t n = strlen(s);
    if (!fz_utf8_ok(s, n) || has_bidi(s, n) || c0_at(s, n, ws) >= 0 || strchr(s, 0x7f))
        return 0;
    for (size_t i = 0; i + 1 < n; i++)
        if ((unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] < 0xa0)
            return 0;
    return 1;
}

/* The entity at p (&amp; &lt; &gt; &quot; &#39;): its character and *len, or 0. */
static char entity(const char *p, size_t left, size_t *len)
{
    static const struct {
        const char *name;
        char ch;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
    for (size_t i = 0; i < sizeof ents / sizeof *ents; i++) {
        size_t k = strlen(ents[i].name);
        if (k <= left && memcmp(p, ents[i].name, k) == 0) {
            *len = k;
            return ents[i].ch;
        }
    }
    return 0;
}

static size_t count_of(const char *p, size_t n, char c)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += p[i] == c;
    return k;
}

static void check_controls(const char *what, const out *o, const char *allowed)
{
    long at = c0_at(o->p, o->n, allowed);
    char name[64];
    snprintf(name, sizeof name, "%s_no_controls", what);
    FZ_CHECK(name, at < 0, "%s: control 0x%02x at byte %ld", what,
             at < 0 ? 0 : (unsigned char)o->p[at], at);
    snprintf(name, sizeof name, "%s_no_bidi", what);
    FZ_CHECK(name, !has_bidi(o->p, o->n), "%s: a bidi override or isolate", what);
}

/* ---- HTML text ---- */

static void check_html_text(const char *s)
{
    out o = text_out(fw_emit_html_text, s);
    char *dec = malloc(o.n + 1);
    size_t d = 0;
    if (!dec)
        abort();
    for (size_t i = 0; i < o.n;) {
        char c = o.p[i];
        FZ_CHECK("html_no_raw_markup", c != '<' && c != '>' && c != '"' && c != '\'',
                 "raw %c at %zu", c, i);
        size_t len = 1;
        if (c == '&') {
            c = entity(o.p + i, o.n - i, &len);
            FZ_CHECK("html_amp_is_an_entity", c != 0, "a bare & at %zu", i);
        }
        dec[d++] = c;
        i += len;
    }
    dec[d] = '\0';
    check_controls("html", &o, "\t\n\r"); /* white space in HTML text shows as a space */
    if (clean(s, "\t\n\r"))
        FZ_CHECK("html_round_trip", d == strlen(s) && memcmp(dec, s, d) == 0,
                 "'%.80s' decodes to '%.80s'", s, dec);
    free(dec);
    free(o.p);
}

/* ---- Markdown text ---- */

static int md_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void check_md_text(const char *s)
{
    out o = text_out(fw_emit_md_text, s);
    FZ_CHECK("md_one_line", !memchr(o.p, '\n', o.n) && !memchr(o.p, '\r', o.n), "'%.80s'", o.p);
    FZ_CHECK("md_no_space_at_the_ends", o.n == 0 || (o.p[0] != ' ' && o.p[o.n - 1] != ' '),
             "'%.80s'", o.p);
    size_t digits = strspn(o.p, "0123456789");
    FZ_CHECK("md_no_block_start",
             o.n == 0 || (!strchr("-+=", o.p[0]) &&
                          !(digits && (o.p[digits] == '.' || o.p[digits] == ')'))),
             "'%.80s'", o.p);
    char *un = malloc(o.n + 1);
    size_t u = 0;
    if (!un)
        abort();
    for (size_t i = 0; i < o.n;) {
        char c = o.p[i];
        size_t len = 1;
        if (c == '\\') {
            FZ_CHECK("md_escape_complete", i + 1 < o.n, "a lone \\ at the end");
            c = o.p[i + 1];
            len = 2;
        } else if (c == '&') {
            c = entity(o.p + i, o.n - i, &len);
            FZ_CHECK("md_amp_is_an_entity", c == '&' || c == '<' || c == '>', "at %zu of '%.80s'",
                     i, o.p);
        } else {
            FZ_CHECK("md_markup_escaped", !strchr("`*_[]|#~<>", c), "raw %c at %zu of '%.80s'", c,
                     i, o.p);
        }
        un[u++] = c;
        i += len;
    }
    un[u] = '\0';
    check_controls("md", &o, "");
    if (clean(s, "\t\r\n")) {
        /* the text with runs of white space as one space, none at the ends */
        char *want = malloc(strlen(s) + 1);
        size_t w = 0;
        if (!want)
            abort();
        for (const char *p = s; *p; p++) {
            if (!md_space(*p))
                want[w++] = *p;
            else if (w && want[w - 1] != ' ')
                want[w++] = ' ';
        }
        while (w && want[w - 1] == ' ')
            w--;
        want[w] = '\0';
        FZ_CHECK("md_round_trip", strcmp(un, want) == 0, "'%.80s' reads back as '%.80s'", want, un);
        free(want);
    }
    free(un);
    free(o.p);
}

/* ---- captions ---- */

/* "HH:MM:SS<sep>mmm" at *p (hours: 2 digits or more): its milliseconds, or -1. */
static long long clock_at(const char **p, char sep)
{
    const char *c = *p;
    size_t h = strspn(c, "0123456789");
    if (h < 2 || h > 15 || c[h] != ':')
        return -1;
    long long hours = strtoll(c, NULL, 10);
    c += h + 1;
    int mm, ss, ms;
    if (strspn(c, "0123456789") != 2 || c[2] != ':' || strspn(c + 3, "0123456789") != 2 ||
        c[5] != sep || strspn(c + 6, "0123456789") < 3)
        return -1;
    mm = (c[0] - '0') * 10 + c[1] - '0';
    ss = (c[3] - '0') * 10 + c[4] - '0';
    ms = (c[6] - '0') * 100 + (c[7] - '0') * 10 + c[8] - '0';
    if (mm > 59 || ss > 59)
        return -1;
    *p = c + 9;
    return ((hours * 60 + mm) * 60 + ss) * 1000 + ms;
}

/* Display columns of a cue line (an entity is one character). */
static int line_width(const char *p, size_t n)
{
    int w = 0;
    for (size_t i = 0; i < n;) {
        size_t len;
        if (p[i] == '&' && entity(p + i, n - i, &len)) {
            w++;
            i += len;
            continue;
        }
        uint32_t cp;
        char tmp[5] = {0};
        memcpy(tmp, p + i, n - i < 4 ? n - i : 4);
        int k = fw_utf8_decode(tmp, &cp);
        w += cp == ' ' ? 1 : fw_emit_width(cp);
        i += (size_t)k;
    }
    return w;
}

/* Checks a WebVTT or SubRip file; *text gets its cues' text without spaces, entities
 * decoded (malloc'd), *n_cues their number. */
static void check_captions(const out *o, int vtt, char **text, int *n_cues)
{
    const char *what = vtt ? "vtt" : "srt";
    const char *p = o->p, *end = o->p + o->n;
    char *t = malloc(o->n + 1);
    size_t tn = 0;
    if (!t)
        abort();
    FZ_CHECK("caption_ends_with_a_line_end", o->n == 0 || end[-1] == '\n', "%s", what);
    if (vtt) {
        FZ_CHECK("caption_vtt_header", o->n >= 8 && memcmp(p, "WEBVTT\n\n", 8) == 0, "no header");
        p += 8;
    }
    long long prev_start = -1, prev_end = -1;
    int i = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        FZ_CHECK("caption_block_complete", nl != NULL, "%s cue %d cut", what, i);
        if (!vtt) {
            char want[32];
            int k = snprintf(want, sizeof want, "%d\n", i + 1);
            FZ_CHECK("caption_srt_numbered", nl - p + 1 == k && memcmp(p, want, (size_t)k) == 0,
                     "cue %d: '%.*s'", i, (int)(nl - p), p);
            p = nl + 1;
            nl = memchr(p, '\n', (size_t)(end - p));
            FZ_CHECK("caption_block_complete", nl != NULL, "%s cue %d cut", what, i);
        }
        const char *c = p;
        long long start = clock_at(&c, vtt ? '.' : ',');
        int arrow = start >= 0 && strncmp(c, " --> ", 5) == 0;
        c += arrow ? 5 : 0;
        long long stop = arrow ? clock_at(&c, vtt ? '.' : ',') : -1;
        FZ_CHECK("caption_timing_line", stop >= 0 && c == nl, "%s cue %d: '%.*s'", what, i,
                 (int)(nl - p), p);
        FZ_CHECK("caption_start_before_end", start < stop, "%s cue %d: %lld >= %lld", what, i,
                 start, stop);
        FZ_CHECK("caption_cue_long_enough", stop - start >= MIN_CUE_MS, "%s cue %d: %lld ms", what,
                 i, stop - start);
        FZ_CHECK("caption_in_time_order", start > prev_start, "%s cue %d", what, i);
        FZ_CHECK("caption_no_overlap", start >= prev_end, "%s cue %d starts %lld, before %lld",
                 what, i, start, prev_end);
        prev_start = start;
        prev_end = stop;
        p = nl + 1;
        int lines = 0;
        while (p < end && *p != '\n') {
            nl = memchr(p, '\n', (size_t)(end - p));
            FZ_CHECK("caption_block_complete", nl != NULL, "%s cue %d cut", what, i);
            size_t len = (size_t)(nl - p);
            FZ_CHECK("caption_no_arrow_in_text", !memmem(p, len, "-->", 3), "%s cue %d: '%.*s'",
                     what, i, (int)len, p);
            FZ_CHECK("caption_no_markup_in_text", !memchr(p, '<', len) && !memchr(p, '>', len),
                     "%s cue %d: '%.*s'", what, i, (int)len, p);
            FZ_CHECK("caption_utf8", fz_utf8_ok(p, len), "%s cue %d", what, i);
            FZ_CHECK("caption_line_width", line_width(p, len) <= MAX_COLS,
                     "%s cue %d: %d columns: '%.*s'", what, i, line_width(p, len), (int)len, p);
            FZ_CHECK("caption_no_space_at_line_ends", p[0] != ' ' && p[len - 1] != ' ',
                     "%s cue %d: '%.*s'", what, i, (int)len, p);
            for (size_t k = 0; k < len;) {
                size_t elen = 1;
                char ch = p[k];
                if (ch == '&') {
                    ch = entity(p + k, len - k, &elen);
                    FZ_CHECK("caption_amp_is_an_entity", ch == '&' || ch == '<' || ch == '>',
                             "%s cue %d", what, i);
                }
                if (ch != ' ')
                    t[tn++] = ch;
                k += elen;
            }
            lines++;
            p = nl + 1;
        }
        FZ_CHECK("caption_cue_has_text", lines > 0, "%s cue %d without text", what, i);
        FZ_CHECK("caption_blank_line_after_cue", p < end && *p == '\n', "%s cue %d", what, i);
        p++;
        i++;
    }
    check_controls("caption", o, "\n");
    t[tn] = '\0';
    *text = t;
    *n_cues = i;
}

/* The cue text a segment's text becomes, as captions.c documents it: controls (and DEL)
 * as spaces, invalid UTF-8 as U+FFFD; here without its spaces. */
static char *cue_text(const char *s)
{
    char *o = malloc(strlen(s) * 3 + 1);
    size_t n = 0;
    if (!o)
        abort();
    while (*s) {
        uint32_t cp;
        int k = fw_utf8_decode(s, &cp);
        if (cp == 0xfffd && k == 1)
            memcpy(o + n, "\xef\xbf\xbd", 3), n += 3;
        else if (!(cp < 0x20 || cp == 0x7f || cp == ' '))
            memcpy(o + n, s, (size_t)k), n += (size_t)k;
        s += k;
    }
    o[n] = '\0';
    return o;
}

/* 1 when what captions.c does to s is settled: UTF-8 without C1 controls or bidi
 * characters (a C0 control may become a space or go: spaces are not compared). */
static int cue_text_known(const char *s)
{
    size_t n = strlen(s);
    if (!fz_utf8_ok(s, n) || has_bidi(s, n))
        return 0;
    for (size_t i = 0; i + 1 < n; i++)
        if ((unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] < 0xa0)
            return 0;
    return 1;
}

static void check_report_captions(json_t *report, const char *single)
{
    for (int vtt = 0; vtt < 2; vtt++) {
        out o = report_out(vtt ? fw_emit_vtt : fw_emit_srt, report);
        char *text;
        int n;
        check_captions(&o, vtt, &text, &n);
        if (single && cue_text_known(single)) {
            char *want = cue_text(single);
            FZ_CHECK("caption_keeps_the_text", n == (want[0] != 0) && strcmp(text, want) == 0,
                     "%d cues; '%.80s' for '%.80s'", n, text, want);
            free(want);
        }
        free(text);
        free(o.p);
    }
}

/* ---- the reports ---- */

/* s with each run of characters between newlines as "x" (its lines kept: a writer may
 * keep a text's lines, as the HTML summary does with <br>). */
static json_t *plain_string(const char *s)
{
    char *p = malloc(strlen(s) + 1);
    size_t n = 0;
    if (!p)
        abort();
    for (; *s; s++)
        if (*s == '\n' || n == 0 || p[n - 1] == '\n')
            p[n++] = *s == '\n' ? '\n' : 'x';
    p[n] = '\0';
    json_t *j = json_string(p);
    free(p);
    return j;
}

/* A copy of v with every string plain_string (keys kept). */
static json_t *xify(json_t *v)
{
    if (json_is_string(v))
        return plain_string(json_string_value(v));
    if (json_is_array(v)) {
        json_t *a = json_array(), *e;
        size_t i;
        json_array_foreach(v, i, e) json_array_append_new(a, xify(e));
        return a;
    }
    if (json_is_object(v)) {
        json_t *o = json_object(), *e;
        const char *k;
        json_object_foreach(v, k, e) json_object_set_new(o, k, xify(e));
        return o;
    }
    return json_incref(v);
}

/* Pipes that are table cell borders (not escaped). */
static int cells(const char *p, size_t n)
{
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\')
            i++;
        else
            k += p[i] == '|';
    }
    return k;
}

static void check_markdown(json_t *report, json_t *plain)
{
    out o = report_out(fw_emit_markdown, report), x = report_out(fw_emit_markdown, plain);
    check_controls("md", &o, "\n");
    FZ_CHECK("md_text_adds_no_lines", count_of(o.p, o.n, '\n') == count_of(x.p, x.n, '\n'),
             "%zu lines, %zu with plain text", count_of(o.p, o.n, '\n'), count_of(x.p, x.n, '\n'));
    const char *a = o.p, *b = x.p, *ae = o.p + o.n, *be = x.p + x.n;
    for (int line = 1; a < ae && b < be; line++) {
        const char *an = memchr(a, '\n', (size_t)(ae - a)), *bn = memchr(b, '\n', (size_t)(be - b));
        an = an ? an : ae;
        bn = bn ? bn : be;
        FZ_CHECK("md_text_adds_no_cells", cells(a, (size_t)(an - a)) == cells(b, (size_t)(bn - b)),
                 "line %d: '%.*s'", line, (int)(an - a), a);
        a = an + 1;
        b = bn + 1;
    }
    free(o.p);
    free(x.p);
}

/* The keyframes' pictures are left out: a writer would read any path it is given. */
static void drop_files(json_t *report)
{
    size_t i;
    json_t *kf;
    json_array_foreach(json_object_get(report, "keyframes"), i, kf) json_object_del(kf, "file");
}

static void check_html(json_t *report, json_t *plain)
{
    json_t *r = json_deep_copy(report), *p = json_deep_copy(plain);
    drop_files(r);
    drop_files(p);
    out o = report_out(fw_emit_html, r), x = report_out(fw_emit_html, p);
    check_controls("html", &o, "\t\n\r");
    static const char marks[] = "<>\"'";
    for (const char *m = marks; *m; m++)
        FZ_CHECK("html_text_adds_no_markup", count_of(o.p, o.n, *m) == count_of(x.p, x.n, *m),
                 "%zu of %c, %zu with plain text", count_of(o.p, o.n, *m), *m,
                 count_of(x.p, x.n, *m));
    free(o.p);
    free(x.p);
    json_decref(r);
    json_decref(p);
}

static void check_reports(json_t *report, const char *single)
{
    json_t *plain = xify(report);
    check_report_captions(report, single);
    check_markdown(report, plain);
    check_html(report, plain);
    json_decref(plain);
}

/* A report with the text s in every text field (s need not be UTF-8: a writer takes any). */
static json_t *report_of(const char *s)
{
    json_t *t = json_stringn_nocheck(s, strlen(s));
    json_t *r = json_pack(
        "{s:{s:O, s:f}, s:{s:O, s:s, s:O, s:[{s:f, s:O}]},"
        " s:{s:b, s:[{s:f, s:O, s:O, s:O}]}, s:[{s:f, s:f, s:O, s:[i]}],"
        " s:[{s:O, s:O, s:f, s:f, s:f, s:O, s:[{s:O, s:f, s:[O, O]}]}],"
        " s:[{s:i, s:f, s:O, s:s}], s:[{s:f, s:i, s:O, s:O, s:O}]}",
        "video", "path", t, "duration", 30.0, "summary", "text", t, "method", "llm", "model", t,
        "key_moments", "time", 1.0, "text", t, "review", "required", 1, "reasons", "time", 2.0,
        "term", t, "category", t, "text", t, "segments", "start", 0.0, "end", 5.0, "text", t,
        "keyframes", 0, "events", "name", t, "description", t, "time", 1.0, "end", 2.0, "score",
        0.5, "evidence", t, "steps", "name", t, "time", 1.0, "evidence", t, t, "keyframes", "index",
        0, "time", 0.0, "reason", t, "file", "kf_000000.jpg", "observations", "time", 0.0,
        "keyframe", 0, "text", t, "error", t, "gated", t);
    json_decref(t);
    if (!r)
        abort();
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *report = json_loadb((const char *)data, size, 0, NULL);
    if (json_is_object(report)) {
        check_reports(report, NULL);
        json_decref(report);
        return 0;
    }
    json_decref(report);
    char *s = fz_cstr(data, size);
    check_html_text(s);
    check_md_text(s);
    report = report_of(s);
    check_reports(report, s);
    char *text = fw_emit_text(json_object_get(report, "events"));
    /* NULL only when out of memory, or for an object holding a string that is not UTF-8
     * (json_dumps refuses it; a report's strings come from JSON, so they are) */
    FZ_CHECK("emit_text_of_any_value", text || !fz_utf8_ok(s, strlen(s)), "no text");
    free(text);
    json_decref(report);
    free(s);
    return 0;
}
