/* emit: captions, Markdown and HTML written from one fixed report full of hostile text
 * (markup, quotes that would end an attribute, "-->", entities, newlines, long CJK
 * lines). Each writer's output is parsed back here, and by ffmpeg (captions) and headless
 * Chromium (the HTML page) as the people who read them would. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "emit/emit.h"

#include "fwtest.h"

#define SCRIPT "<script>alert(\"x\")</script>"
#define ATTR "' onerror='x"
#define CJK_LONG                                                                                                                     \
    "错误：无法连接到服务器，请检查您的网络连接设置，然后再次尝试登录您的账户。如果问题仍" \
    "然存在，请联系管理员。"
#define URL_LONG "https://example.com/a/very/long/path/that/exceeds/forty/two/columns/for/sure"

/* The segments' texts as cues show them (whitespace collapsed), in time order. */
static const char *const cue_texts[] = {
    SCRIPT " Sign in &amp; continue",
    "Line one line two after tab spaces",
    CJK_LONG,
    "Dialog --> closes " ATTR " and a long English sentence that must wrap " URL_LONG
    " 登录失败了 ok",
    "Dashboard",
};
static const char *const cue_times[] = {
    "00:00:00.000 --> 00:00:04.000", /* as given */
    "00:00:04.200 --> 00:00:04.500", /* end before start: +1 s, cut at the next start */
    "00:00:04.500 --> 00:00:06.000", /* null end: the next start */
    "00:00:06.000 --> 00:00:08.000", /* overlapping the next: cut */
    "00:00:08.000 --> 00:00:24.000", /* no end, last: the video's duration */
};
#define N_CUES 5

static json_t *seg(double start, json_t *end, const char *text)
{
    return json_pack("{s:f, s:o, s:s, s:[i], s:i}", "start", start, "end", end ? end : json_null(),
                     "text", text, "keyframes", (int)start / 4, "keyframe", (int)start / 4);
}

/* The fixed report; its keyframe pictures are made in the test's directory (the fourth
 * is missing on purpose). */
static json_t *make_report(void)
{
    const char *dir = fwt_tmpdir();
    char files[4][512];
    for (int i = 0; i < 4; i++)
        snprintf(files[i], sizeof files[i], i < 3 ? "%s/kf%d.jpg" : "%s/missing kf.jpg", dir, i);
    for (int i = 0; i < 3; i++) {
        fwt_run r;
        fwt_sh(&r, "ffmpeg -nostdin -v error -f lavfi -i color=c=red:s=64x36 -frames:v 1 -y '%s'",
               files[i]);
        assert_int_equal(r.status, 0);
        fwt_free(&r);
    }
    json_t *kfs = json_pack("[{s:i, s:f, s:s, s:s, s:i, s:i}, {s:i, s:f, s:s, s:s},"
                            " {s:i, s:f, s:s, s:s}, {s:i, s:f, s:s, s:s}]",
                            "index", 0, "time", 0.0, "file", files[0], "reason", "first", "width",
                            64, "height", 36, "index", 1, "time", 4.2, "file", files[1], "reason",
                            "change", "index", 2, "time", 8.0, "file", files[2], "reason", ATTR,
                            "index", 3, "time", 18.0, "file", files[3], "reason", "gap");
    json_t *obs =
        json_pack("[{s:f, s:i, s:s}, {s:f, s:i, s:s}, {s:f, s:i, s:s, s:s}, {s:f, s:i, s:s, s:s}]",
                  "time", 0.0, "keyframe", 0, "text", "A login form " SCRIPT, "time", 4.2,
                  "keyframe", 1, "text", "Error dialog: 登录失败", "time", 8.0, "keyframe", 2,
                  "text", "Dashboard --> loaded", "gated", "same screen as 00:04 <dup>", "time",
                  18.0, "keyframe", 3, "text", "still the dashboard", "error", "HTTP 500: <oops>");
    json_t *segs =
        json_pack("[o, o, o, o, o, o]",
                  seg(6, json_real(9),
                      "Dialog --> closes " ATTR
                      " and a long English sentence that must wrap " URL_LONG "\n登录失败了 ok"),
                  seg(0, json_real(4), SCRIPT " Sign in &amp; continue"), seg(4.5, NULL, CJK_LONG),
                  seg(10, json_real(12), " \n "),
                  seg(4.2, json_real(3), "Line one\nline two\r\n\tafter tab   spaces"),
                  json_pack("{s:f, s:s}", "start", 8.0, "text", "Dashboard"));
    json_t *events = json_pack(
        "[{s:s, s:s, s:f, s:f, s:f, s:i, s:s},"
        " {s:s, s:f, s:f, s:f, s:[s, s], s:[{s:s, s:f, s:f, s:s}, {s:s, s:f, s:f, s:s}]}]",
        "name", "error_dialog", "description", "An error <b>dialog</b> | appears", "time", 4.2,
        "end", 8.0, "score", 0.91, "keyframe", 1, "evidence", "OCR: 登录失败 | shown", "name",
        "login_attempt", "time", 0.0, "end", 8.0, "score", 0.8, "evidence", "typed email",
        "clicked | Sign in", "steps", "name", "type", "time", 0.0, "score", 0.7, "evidence",
        "cursor in field", "name", "submit", "time", 4.2, "score", 0.9, "evidence",
        "button `pressed` -->");
    json_t *summary = json_pack(
        "{s:s, s:s, s:s, s:[{s:f, s:s}, {s:f, s:s}]}", "method", "local", "model", "qwen*3*_vl",
        "text", "A user tries to sign in, an error dialog appears, then the dashboard loads.",
        "key_moments", "time", 4.2, "text", "Error dialog " SCRIPT, "time", 8.0, "text",
        "# Dashboard appears");
    json_t *review =
        json_pack("{s:b, s:[{s:f, s:s, s:s, s:s, s:s}, {s:f, s:s, s:s, s:s, s:s}]}", "required", 1,
                  "reasons", "time", 6.0, "term", "失败", "category", "error", "text",
                  "界面显示登录失败", "source", "ocr", "time", 4.2, "term", "password", "category",
                  "credential", "text", "A password field is visible -->", "source", "model");
    json_t *report =
        json_pack("{s:s, s:{s:s, s:f, s:i, s:i}, s:o, s:o, s:o, s:o, s:o, s:o}", "schema",
                  "framewise.report/1", "video", "path", "/videos/demo <1>.mp4", "duration", 24.0,
                  "width", 1280, "height", 720, "keyframes", kfs, "observations", obs, "segments",
                  segs, "events", events, "summary", summary, "review", review);
    assert_non_null(report);
    return report;
}

typedef int (*writer)(const fw_doc *, FILE *);

/* Writes the report with w into DIR/name; returns the file's contents (malloc'd). */
static char *write_with(writer w, json_t *report, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", fwt_tmpdir(), name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fw_doc d = {report, NULL};
    assert_int_equal(w(&d, f), 0);
    assert_int_equal(fclose(f), 0);
    return fwt_slurp(path);
}

static char *slurp_tmp(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", fwt_tmpdir(), name);
    return fwt_slurp(path);
}

/* The number of text lines of the cue whose timing line is timing. */
static int cue_lines(const char *doc, const char *timing)
{
    const char *p = strstr(doc, timing);
    assert_non_null(p);
    int n = 0;
    for (p += strlen(timing); *p && *p != '\n'; p = strchr(p, '\n') + 1)
        n++;
    return n;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Display columns of valid UTF-8 (asserts validity): CJK and fullwidth count 2. */
static int columns(const char *s)
{
    int w = 0;
    for (const unsigned char *u = (const unsigned char *)s; *u;) {
        int len = *u < 0x80 ? 1 : (*u & 0xe0) == 0xc0 ? 2 : (*u & 0xf0) == 0xe0 ? 3 : 4;
        uint32_t cp = len == 1 ? *u : *u & (0x3f >> (len - 1));
        for (int i = 1; i < len; i++) {
            assert_int_equal(u[i] & 0xc0, 0x80); /* a split sequence fails here */
            cp = cp << 6 | (u[i] & 0x3f);
        }
        int wide = (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
                   (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
                   (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6);
        w += wide ? 2 : 1;
        u += len;
    }
    return w;
}

/* Undoes &amp; &lt; &gt; in place; any other '&' fails (text must be escaped). */
static void unescape(char *s)
{
    static const char *const ent[][2] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}};
    char *o = s;
    while (*s) {
        if (*s != '&') {
            *o++ = *s++;
            continue;
        }
        size_t k = 0;
        while (k < 3 && strncmp(s, ent[k][0], strlen(ent[k][0])) != 0)
            k++;
        if (k == 3)
            fail_msg("raw '&' in cue text: %.20s", s);
        *o++ = ent[k][1][0];
        s += strlen(ent[k][0]);
    }
    *o = '\0';
}

static long long clock_ms(const char *p)
{
    return ((p[0] - '0') * 10 + p[1] - '0') * 3600000LL +
           ((p[3] - '0') * 10 + p[4] - '0') * 60000LL + ((p[6] - '0') * 10 + p[7] - '0') * 1000LL +
           atoi(p + 9);
}

/* Parses captions (WebVTT when vtt, else SubRip) and checks every rule of a cue;
 * returns the number of cues. */
static int check_cues(char *doc, int vtt)
{
    regex_t re;
    assert_int_equal(regcomp(&re,
                             vtt ? "^[0-9]{2}:[0-5][0-9]:[0-5][0-9][.][0-9]{3} --> "
                                   "[0-9]{2}:[0-5][0-9]:[0-5][0-9][.][0-9]{3}$"
                                 : "^[0-9]{2}:[0-5][0-9]:[0-5][0-9],[0-9]{3} --> "
                                   "[0-9]{2}:[0-5][0-9]:[0-5][0-9],[0-9]{3}$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    if (vtt) {
        assert_memory_equal(doc, "WEBVTT\n\n", 8);
        doc += 8;
    }
    int n = 0;
    long long prev_end = -1, prev_start = -1;
    char *save = NULL;
    for (char *block = doc; *block; n++) {
        char *end = strstr(block, "\n\n");
        assert_non_null(end); /* every cue ends with a blank line */
        *end = '\0';
        char *line = strtok_r(block, "\n", &save);
        if (!vtt) {
            assert_int_equal(atoi(line), n + 1);
            line = strtok_r(NULL, "\n", &save);
        }
        assert_non_null(line);
        if (regexec(&re, line, 0, NULL, 0) != 0)
            fail_msg("bad timing line: %s", line);
        assert_true(n < N_CUES);
        char want[64];
        snprintf(want, sizeof want, "%s", cue_times[n]);
        if (!vtt)
            for (char *c = want; *c; c++)
                *c = *c == '.' ? ',' : *c;
        assert_string_equal(line, want);
        long long s = clock_ms(line), e = clock_ms(line + 17);
        assert_true(s < e);
        assert_true(s > prev_start && s >= prev_end); /* in order, never overlapping */
        prev_start = s, prev_end = e;
        /* the text: each line short, escaped, not blank; together the original */
        const char *orig = cue_texts[n];
        size_t pos = 0;
        int lines = 0;
        while ((line = strtok_r(NULL, "\n", &save))) {
            lines++;
            assert_null(strchr(line, '<'));
            assert_null(strstr(line, "-->"));
            assert_null(strpbrk(line, "\r\t"));
            assert_true(line[0] != ' ' && line[strlen(line) - 1] != ' ');
            unescape(line);
            if (columns(line) > 42)
                fail_msg("cue line of %d columns: %s", columns(line), line);
            if (strncmp(orig + pos, line, strlen(line)) != 0)
                fail_msg("cue %d text differs at \"%s\": \"%s\"", n + 1, orig + pos, line);
            pos += strlen(line);
            if (orig[pos] == ' ')
                pos++; /* the line broke at a space */
        }
        assert_true(lines >= 1);
        assert_int_equal(pos, strlen(orig));
        block = end + 2;
    }
    regfree(&re);
    return n;
}

/* Lines that time a cue, in either format (ffmpeg writes MM:SS.mmm below one hour; its
 * SubRip text holds the decoded "-->", so counting arrows would not do). */
static int timing_lines(char *doc)
{
    regex_t re;
    assert_int_equal(
        regcomp(&re, "^([0-9]{2}:)?[0-9]{2}:[0-9]{2}[.,][0-9]{3} --> ", REG_EXTENDED | REG_NOSUB),
        0);
    int n = 0;
    for (char *p = doc; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        n += regexec(&re, p, 0, NULL, 0) == 0;
    regfree(&re);
    return n;
}

static void vtt_cues_are_timed_escaped_and_wrapped(void **state)
{
    (void)state;
    json_t *report = make_report();
    char *vtt = write_with(fw_emit_vtt, report, "out.vtt");
    assert_int_equal(check_cues(vtt, 1), N_CUES);
    free(vtt);
    /* the cue of the long CJK line is on three lines */
    vtt = slurp_tmp("out.vtt");
    assert_int_equal(cue_lines(vtt, "00:00:04.500 --> 00:00:06.000\n"), 3);
    assert_int_equal(cue_lines(vtt, "00:00:08.000 --> 00:00:24.000\n"), 1);
    fwt_run r;
    fwt_sh(&r, "cd '%s' && ffmpeg -nostdin -v error -i out.vtt -f srt -y back.srt", fwt_tmpdir());
    assert_int_equal(r.status, 0);
    fwt_free(&r);
    char *back = slurp_tmp("back.srt");
    assert_int_equal(timing_lines(back), N_CUES);
    free(back);
    free(vtt);
    json_decref(report);
}

static void srt_cues_are_numbered_timed_and_escaped(void **state)
{
    (void)state;
    json_t *report = make_report();
    char *srt = write_with(fw_emit_srt, report, "out.srt");
    assert_true(strncmp(srt, "1\n00:00:00,000 --> 00:00:04,000\n", 32) == 0);
    assert_int_equal(check_cues(srt, 0), N_CUES);
    free(srt);
    fwt_run r;
    fwt_sh(&r, "cd '%s' && ffmpeg -nostdin -v error -i out.srt -f webvtt -y back.vtt",
           fwt_tmpdir());
    assert_int_equal(r.status, 0);
    fwt_free(&r);
    char *back = slurp_tmp("back.vtt");
    assert_int_equal(timing_lines(back), N_CUES);
    free(back);
    json_decref(report);
}

/* '|' not preceded by a backslash escape. */
static int cells(const char *line)
{
    int n = 0;
    for (const char *p = line; *p && *p != '\n'; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == '|')
            n++;
    }
    return n;
}

static void markdown_has_every_section_and_sound_tables(void **state)
{
    (void)state;
    json_t *report = make_report();
    char *md = write_with(fw_emit_markdown, report, "report.md");
    assert_true(strncmp(md, "# demo &lt;1&gt;.mp4\n", 21) == 0);
    assert_non_null(strstr(md, "**Duration** 00:24 · **Size** 1280×720 · **Keyframes** 4"));
    const char *sections[] = {"## Summary", "## Key moments", "## Review",
                              "## Events",  "## Segments",    "## Keyframes"};
    for (size_t i = 0; i < 6; i++)
        assert_non_null(strstr(md, sections[i]));
    assert_null(strstr(md, "<script"));
    assert_null(strstr(md, "<b>"));
    assert_non_null(strstr(md, "- **00:04** Error dialog &lt;script&gt;alert(\"x\")"));
    assert_non_null(strstr(md, "- **00:08** \\# Dashboard appears"));
    assert_non_null(strstr(md, "*local, model qwen\\*3\\*\\_vl*"));
    assert_non_null(strstr(md, "界面显示登录失败"));
    assert_non_null(strstr(md, "missing%20kf.jpg)"));
    /* each table row has its columns, whatever the text held */
    const char *heads[] = {"## Events", "## Segments", "## Keyframes"};
    const int cols[] = {4, 3, 3}, rows[] = {4, 6, 4};
    for (int t = 0; t < 3; t++) {
        const char *p = strstr(md, heads[t]);
        p = strchr(p, '\n') + 2;
        int n = 0;
        for (; *p == '|'; p = strchr(p, '\n') + 1, n++)
            assert_int_equal(cells(p), cols[t] + 1);
        assert_int_equal(n, rows[t] + 2); /* header and separator */
        assert_true(*p == '\n');
    }
    free(md);
    /* without review.required there is no Review section */
    json_object_set_new(json_object_get(report, "review"), "required", json_false());
    md = write_with(fw_emit_markdown, report, "report2.md");
    assert_null(strstr(md, "## Review"));
    free(md);
    json_decref(report);
}

static const char *const hostile[][2] = {
    {SCRIPT, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"},
    {ATTR, "&#39; onerror=&#39;x"},
    {"-->", "--&gt;"},
    {"<b>dialog</b>", "&lt;b&gt;dialog&lt;/b&gt;"},
    {"<oops>", "&lt;oops&gt;"},
    {"<dup>", "&lt;dup&gt;"},
    {"<1>", "&lt;1&gt;"},
};

static char *strcasestr_(const char *hay, const char *needle)
{
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, strlen(needle)) == 0)
            return (char *)hay;
    return NULL;
}

static void html_escapes_everything_and_embeds_thumbnails(void **state)
{
    (void)state;
    json_t *report = make_report();
    char *html = write_with(fw_emit_html, report, "report.html");
    assert_null(strcasestr_(html, "<script"));
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        if (strstr(html, hostile[i][0]))
            fail_msg("raw in the page: %s", hostile[i][0]);
        assert_non_null(strstr(html, hostile[i][1]));
    }
    assert_non_null(strstr(html, "Sign in &amp;amp; continue"));
    assert_non_null(strstr(html, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-"
                                 "src 'none'; img-src data:; style-src 'unsafe-inline'\">"));
    /* three pictures on disk are embedded; the missing one is a placeholder */
    assert_int_equal(count(html, "src=\"data:image/jpeg;base64,/9j/"), 3);
    assert_int_equal(count(html, "src="), 3);
    assert_non_null(strstr(html, "<div class=\"ph\">missing kf.jpg</div>"));
    /* the gated observation is dimmed, with its reason */
    assert_non_null(
        strstr(html, "<p class=\"gated\">Dashboard --&gt; loaded <em>(gated out: same screen"));
    /* the timeline: segment bands placed in % of the duration, steps listed */
    assert_non_null(strstr(html, "class=\"seg\" style=\"left:25.000%;width:12.500%\""));
    assert_non_null(strstr(html, "<tr class=\"step\"><td class=\"t\">00:04</td><td>↳ submit"));
    /* nothing to fetch: no links, no external sources */
    assert_null(strstr(html, "href="));
    assert_null(strstr(html, "src=\"http"));
    assert_null(strstr(html, "url("));
    free(html);
    json_decref(report);
}

static void chromium_renders_the_page_without_errors(void **state)
{
    (void)state;
    fwt_run r;
    fwt_sh(&r, "command -v chromium");
    if (r.status != 0)
        fail_msg("chromium is not installed (bash scripts/deps.sh test installs it)");
    fwt_free(&r);
    json_t *report = make_report();
    free(write_with(fw_emit_html, report, "report.html"));
    const char *dir = fwt_tmpdir();
    const char *flags = "--headless --no-sandbox --disable-gpu --no-first-run "
                        "--disable-background-networking --disable-component-update "
                        "--disable-sync --window-size=1280,2000 --enable-logging=stderr --v=0";
    fwt_sh(&r,
           "timeout 25 chromium %s --user-data-dir='%s/profile1' --screenshot='%s/shot.png' "
           "'file://%s/report.html'",
           flags, dir, dir, dir);
    assert_int_equal(r.status, 0);
    /* scripts, CSP violations and failed loads all show as console lines */
    const char *bad[] = {"Uncaught", "Refused to", "Content Security Policy", "CONSOLE"};
    for (size_t i = 0; i < 4; i++)
        if (strstr(r.err, bad[i]))
            fail_msg("chromium says: %s", strstr(r.err, bad[i]));
    for (char *p = r.err; (p = strstr(p, "Failed to load")); p++) {
        char *eol = strchr(p, '\n');
        if (eol)
            *eol = '\0';
        if (strstr(p, "file:") || strstr(p, "report") || strstr(p, "data:"))
            fail_msg("chromium: %s", p);
        if (eol)
            *eol = '\n';
    }
    fwt_free(&r);
    char path[512];
    snprintf(path, sizeof path, "%s/shot.png", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 8000);
    fwt_sh(&r,
           "timeout 25 chromium %s --user-data-dir='%s/profile2' --dump-dom "
           "'file://%s/report.html'",
           flags, dir, dir);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "then the dashboard loads."));
    assert_int_equal(count(r.out, "<img src=\"data:image/jpeg;base64,/9j/"), 3);
    assert_null(strcasestr_(r.out, "<script")); /* the hostile text stayed text */
    assert_non_null(strstr(r.out, "&lt;script&gt;alert(\"x\")&lt;/script&gt;"));
    fwt_free(&r);
    json_decref(report);
}

static void empty_report_and_failed_writes(void **state)
{
    (void)state;
    json_t *empty = json_object();
    char *vtt = write_with(fw_emit_vtt, empty, "empty.vtt");
    assert_string_equal(vtt, "WEBVTT\n\n");
    free(vtt);
    char *srt = write_with(fw_emit_srt, empty, "empty.srt");
    assert_string_equal(srt, "");
    free(srt);
    char *md = write_with(fw_emit_markdown, empty, "empty.md");
    assert_null(strstr(md, "## "));
    free(md);
    char *html = write_with(fw_emit_html, empty, "empty.html");
    assert_non_null(strstr(html, "</html>"));
    free(html);
    /* a disk that is full: -1 and errno, from every writer */
    writer ws[] = {fw_emit_vtt, fw_emit_srt, fw_emit_markdown, fw_emit_html};
    json_t *report = make_report();
    for (int i = 0; i < 4; i++) {
        FILE *f = fopen("/dev/full", "w");
        assert_non_null(f);
        errno = 0;
        fw_doc d = {report, NULL};
        assert_int_equal(ws[i](&d, f), -1);
        assert_int_equal(errno, ENOSPC);
        fclose(f);
    }
    json_decref(report);
    json_decref(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(vtt_cues_are_timed_escaped_and_wrapped, fwt_teardown),
        cmocka_unit_test_teardown(srt_cues_are_numbered_timed_and_escaped, fwt_teardown),
        cmocka_unit_test_teardown(markdown_has_every_section_and_sound_tables, fwt_teardown),
        cmocka_unit_test_teardown(html_escapes_everything_and_embeds_thumbnails, fwt_teardown),
        cmocka_unit_test_teardown(chromium_renders_the_page_without_errors, fwt_teardown),
        cmocka_unit_test_teardown(empty_report_and_failed_writes, fwt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
