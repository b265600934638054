/* The story through `framewise analyze`: segments, events, summary, review and the files
 * people read (captions, Markdown, HTML, JSONL), with the local backend and with the
 * model-server double (LLM summary, map-reduce, embeddings, hostile model text). */
#include <jansson.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "fwtest.h"

#define FWT_FONT_CJK "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
#define XSS "<script>alert(\"x\")</script> O'Neil & co"

static const char *out_file(const char *name)
{
    static char path[8][512];
    static int slot;
    slot = (slot + 1) % 8;
    snprintf(path[slot], sizeof path[slot], "%s/out/%s", fwt_tmpdir(), name);
    return path[slot];
}

/* A support recording: a sign-in form, an error at 4 s, a cut to a dashboard at 8 s. */
static const char *support_clip(void)
{
    char args[4096];
    snprintf(args, sizeof args,
             "-f lavfi -i color=c=0xe8e8f0:s=640x360:r=10:d=8 -f lavfi -i "
             "color=c=0x203060:s=640x360:r=10:d=4 -filter_complex \""
             "[0]drawtext=fontfile=%s:text='Sign in':x=40:y=30:fontsize=32:fontcolor=black,"
             "drawtext=fontfile=%s:text='Login failed\\: connection timed out':x=40:y=150:"
             "fontsize=26:fontcolor=black:enable='gte(t,4)'[a];"
             "[1]drawtext=fontfile=%s:text='Dashboard':x=40:y=30:fontsize=36:fontcolor=white[b];"
             "[a][b]concat=n=2:v=1[v]\" -map '[v]' -c:v libx264 -preset ultrafast -pix_fmt yuv420p",
             FWT_FONT, FWT_FONT, FWT_FONT);
    return fwt_video("support.mp4", args);
}

/* Seven one-second flat colours, each a cut; the double names the colour it sees. */
static const char *colour_clip(int seconds_each)
{
    static const char *const c[] = {"red",      "white", "blue",   "yellow",
                                    "0x00ff00", "cyan",  "magenta"};
    char args[2048] = "";
    size_t n = 0;
    for (int i = 0; i < 7; i++)
        n += (size_t)snprintf(args + n, sizeof args - n,
                              "-f lavfi -i color=c=%s:s=160x120:r=10:d=%d ", c[i], seconds_each);
    n += (size_t)snprintf(args + n, sizeof args - n, "-filter_complex '");
    for (int i = 0; i < 7; i++)
        n += (size_t)snprintf(args + n, sizeof args - n, "[%d]", i);
    snprintf(args + n, sizeof args - n,
             "concat=n=7:v=1[v]' -map '[v]' -c:v libx264 -preset ultrafast -pix_fmt yuv420p");
    return fwt_video(seconds_each == 1 ? "colours.mp4" : "colours-long.mp4", args);
}

static double num(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static json_t *event_named(json_t *report, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(report, "events"), i,
                       e) if (strcmp(str(e, "name"), name) == 0) return e;
    return NULL;
}

/* Parses captions back: cue timings in the format (VTT: HH:MM:SS.mmm, SRT: HH:MM:SS,mmm),
 * start < end, monotonic; returns the number of cues. Cue text must not hold '<' or "-->". */
static int check_captions(const char *path, int srt)
{
    char *text = fwt_slurp(path);
    assert_non_null(text);
    if (!srt)
        assert_true(strncmp(text, "WEBVTT\n\n", 8) == 0);
    regex_t re;
    assert_int_equal(regcomp(&re,
                             srt ? "^([0-9]{2}):([0-9]{2}):([0-9]{2}),([0-9]{3}) --> "
                                   "([0-9]{2}):([0-9]{2}):([0-9]{2}),([0-9]{3})$"
                                 : "^([0-9]{2}):([0-9]{2}):([0-9]{2})\\.([0-9]{3}) --> "
                                   "([0-9]{2}):([0-9]{2}):([0-9]{2})\\.([0-9]{3})$",
                             REG_EXTENDED),
                     0);
    int cues = 0, expect_number = srt;
    double last_end = -1;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        regmatch_t m[9];
        if (regexec(&re, line, 9, m, 0) == 0) {
            int v[8];
            for (int k = 0; k < 8; k++)
                v[k] = atoi(line + m[k + 1].rm_so);
            double a = v[0] * 3600 + v[1] * 60 + v[2] + v[3] / 1000.0;
            double b = v[4] * 3600 + v[5] * 60 + v[6] + v[7] / 1000.0;
            assert_true(a < b);
            assert_true(a >= last_end - 1e-9);
            last_end = b;
            cues++;
        } else if (srt && expect_number && atoi(line) == cues + 1) {
            expect_number = 0;
            continue;
        } else {
            assert_null(strstr(line, "-->"));
            assert_null(strchr(line, '<'));
        }
        expect_number = srt;
    }
    regfree(&re);
    free(text);
    return cues;
}

/* Headless Chromium renders the page; the log must hold no console error or CSP
 * violation, and the screenshot must exist. */
static void render_in_chromium(const char *html)
{
    fwt_run r;
    fwt_sh(&r,
           "chromium --headless --no-sandbox --disable-gpu --no-first-run "
           "--disable-background-networking --disable-component-update --disable-sync "
           "--user-data-dir='%s/chromium' --window-size=1280,1600 --enable-logging=stderr "
           "--v=0 --screenshot='%s/shot.png' 'file://%s' 2>&1 | grep -E "
           "'CONSOLE|Uncaught|Refused|Content Security Policy' ; test -s '%s/shot.png'",
           fwt_tmpdir(), fwt_tmpdir(), html, fwt_tmpdir());
    if (r.status != 0 || (r.out && r.out[0]))
        fail_msg("chromium: exit %d, log: %s %s", r.status, r.out, r.err);
    fwt_free(&r);
}

static void local_support_story_has_segments_events_summary_and_files(void **state)
{
    (void)state;
    json_t *rep = fwt_analyze(support_clip(), "--preset support");
    /* segments: the form, the error, the dashboard; the last ends with the video */
    json_t *segs = json_object_get(rep, "segments");
    size_t n = json_array_size(segs);
    assert_true(n >= 3);
    json_t *err_seg = NULL, *dash = json_array_get(segs, n - 1), *s;
    size_t i;
    double last = -1;
    json_array_foreach(segs, i, s)
    {
        assert_true(num(s, "start") >= last);
        assert_true(num(s, "end") >= num(s, "start"));
        last = num(s, "start");
        if (!err_seg && strstr(str(s, "text"), "connection timed out"))
            err_seg = s;
    }
    assert_non_null(err_seg);
    assert_true(num(err_seg, "start") >= 3.9 && num(err_seg, "start") <= 4.6);
    assert_non_null(strstr(str(dash, "text"), "Dashboard"));
    assert_true(num(dash, "start") >= 7.9 && num(dash, "start") <= 8.6);
    assert_float_equal(num(dash, "end"), 12, 0.15);
    /* events: the error when it shows, and the two-step login failure in order */
    json_t *e = event_named(rep, "error_shown");
    assert_non_null(e);
    assert_true(num(e, "time") >= 3.9 && num(e, "time") <= 4.6);
    assert_non_null(strstr(str(e, "evidence"), "connection timed out"));
    e = event_named(rep, "login_fails");
    assert_non_null(e);
    json_t *steps = json_object_get(e, "steps");
    assert_int_equal(json_array_size(steps), 2);
    assert_true(num(json_array_get(steps, 0), "time") < 4);
    assert_true(num(json_array_get(steps, 1), "time") >= 3.9 &&
                num(json_array_get(steps, 1), "time") <= 4.6);
    /* the summary: extractive without a server, with the error and the dashboard */
    json_t *sum = json_object_get(rep, "summary");
    assert_string_equal(str(sum, "method"), "extractive");
    assert_non_null(strstr(str(sum, "text"), "connection timed out"));
    assert_non_null(strstr(str(sum, "text"), "Dashboard"));
    assert_false(json_is_true(json_object_get(json_object_get(rep, "review"), "required")));
    assert_string_equal(str(json_object_get(rep, "fusion"), "embedder"), "ngram-1024");

    /* captions: valid, one cue per segment, and FFmpeg reads them */
    assert_int_equal(check_captions(out_file("captions.vtt"), 0), (int)n);
    assert_int_equal(check_captions(out_file("captions.srt"), 1), (int)n);
    fwt_run r;
    fwt_sh(&r, "ffmpeg -v error -i '%s' -f srt - && ffmpeg -v error -i '%s' -f webvtt -",
           out_file("captions.vtt"), out_file("captions.srt"));
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Dashboard"));
    fwt_free(&r);

    /* the stream: keyframes and observations as they came, the error event before the
     * dashboard was seen, the story at the end */
    char *jl = fwt_slurp(out_file("report.jsonl"));
    assert_non_null(jl);
    int line = 0, event_at = -1, dash_at = -1, summary_at = -1;
    char *save = NULL;
    for (char *l = strtok_r(jl, "\n", &save); l; l = strtok_r(NULL, "\n", &save), line++) {
        json_t *rec = json_loads(l, 0, NULL);
        assert_non_null(rec);
        const char *type = str(rec, "type");
        if (line == 0)
            assert_string_equal(type, "keyframe");
        if (!strcmp(type, "event") && !strcmp(str(rec, "name"), "error_shown") && event_at < 0)
            event_at = line;
        if (!strcmp(type, "observation") && strstr(str(rec, "text"), "Dashboard") && dash_at < 0)
            dash_at = line;
        if (!strcmp(type, "summary"))
            summary_at = line;
        json_decref(rec);
    }
    free(jl);
    assert_true(event_at >= 0 && dash_at > event_at && summary_at > dash_at);

    /* Markdown and HTML, and the page renders */
    char *md = fwt_slurp(out_file("report.md"));
    assert_non_null(strstr(md, "## Summary"));
    assert_non_null(strstr(md, "Dashboard"));
    free(md);
    char *html = fwt_slurp(out_file("report.html"));
    assert_non_null(strstr(html, "data:image/jpeg;base64,"));
    assert_non_null(strstr(html, "connection timed out"));
    free(html);
    render_in_chromium(out_file("report.html"));
    json_decref(rep);

    /* --jsonl streams to stdout; --format limits the files */
    fwt_fw(&r, "analyze '%s' -o '%s/out2' --jsonl --format json", support_clip(), fwt_tmpdir());
    assert_int_equal(r.status, 0);
    json_t *first = json_loadb(r.out, strcspn(r.out, "\n"), 0, NULL);
    assert_string_equal(str(first, "type"), "keyframe");
    json_decref(first);
    assert_non_null(strstr(r.out, "\"type\":\"review\""));
    fwt_free(&r);
    fwt_sh(&r, "ls '%s/out2'", fwt_tmpdir());
    assert_non_null(strstr(r.out, "report.json"));
    assert_null(strstr(r.out, "captions.vtt"));
    assert_null(strstr(r.out, "report.html"));
    fwt_free(&r);
}

static void llm_summary_and_embeddings_come_from_the_servers(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--embeddings");
    char path[512], opts[1024];
    snprintf(path, sizeof path, "%s/events.json", fwt_tmpdir());
    FILE *f = fopen(path, "w");
    fputs("[{\"name\": \"blue_screen\", \"phrases\": [\"mostly blue\"], \"threshold\": 0.5}]", f);
    fclose(f);
    snprintf(opts, sizeof opts,
             "--url %s --embed-url %s --events '%s' --preset none --segment-threshold 0.99", s.url,
             s.url, path);
    json_t *rep = fwt_analyze(colour_clip(1), opts);
    json_t *st = fwt_vlm_stats(&s);
    fwt_vlm_stop(&s);
    /* embeddings: from the server, for the phrases, the observations and the segments */
    assert_true(json_integer_value(json_object_get(st, "embedding_requests")) >= 2);
    json_t *fusion = json_object_get(rep, "fusion");
    assert_string_not_equal(str(fusion, "embedder"), "ngram-1024");
    assert_true(num(fusion, "embedding_requests") >= 2);
    /* every colour is its own segment */
    assert_int_equal(json_array_size(json_object_get(rep, "segments")), 7);
    json_t *e = event_named(rep, "blue_screen");
    assert_non_null(e);
    assert_true(num(e, "time") >= 1.9 && num(e, "time") <= 2.6);
    /* the summary: one request with the timestamped observations, in time order */
    assert_int_equal(json_integer_value(json_object_get(st, "summary_requests")), 1);
    json_t *sum = json_object_get(rep, "summary");
    assert_string_equal(str(sum, "method"), "llm");
    assert_non_null(strstr(str(sum, "text"), "7 moments from 00:00 to 00:06"));
    assert_true(json_array_size(json_object_get(sum, "key_moments")) >= 2);
    const char *req = json_dumps(json_object_get(st, "last_summary_request"), 0);
    assert_non_null(strstr(req, "in time order"));
    assert_non_null(strstr(req, "00:02 A "));
    free((void *)req);
    json_decref(st);
    json_decref(rep);
}

static void long_input_is_map_reduced_not_truncated(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--ctx 900");
    char opts[512];
    snprintf(opts, sizeof opts, "--url %s --policy interval --fps 2 --summary-window 300", s.url);
    json_t *rep = fwt_analyze(colour_clip(3), opts);
    json_t *st = fwt_vlm_stats(&s);
    fwt_vlm_stop(&s);
    json_t *sum = json_object_get(rep, "summary");
    assert_string_equal(str(sum, "method"), "llm");
    int windows = (int)num(sum, "windows");
    assert_true(windows >= 4);
    assert_int_equal(json_integer_value(json_object_get(st, "summary_requests")), windows);
    /* the last request merged parts that cover the video to its last observation */
    size_t n = json_array_size(json_object_get(rep, "observations"));
    double t = num(json_array_get(json_object_get(rep, "observations"), n - 1), "time");
    char clock[32];
    snprintf(clock, sizeof clock, "-%02d:%02d ", (int)(t + 0.5) / 60, (int)(t + 0.5) % 60);
    char *req = json_dumps(json_object_get(st, "last_summary_request"), 0);
    assert_non_null(strstr(req, "consecutive parts"));
    assert_non_null(strstr(req, clock));
    free(req);
    json_decref(st);
    json_decref(rep);

    /* every observation alone is larger than a window: pairs, then a merge, and it ends */
    char text[800];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    fwt_vlm_start(&s, "--inject-text %s", text);
    snprintf(opts, sizeof opts, "--url %s --summary-window 200", s.url);
    rep = fwt_analyze(colour_clip(1), opts);
    fwt_vlm_stop(&s);
    sum = json_object_get(rep, "summary");
    assert_string_equal(str(sum, "method"), "llm");
    assert_true(num(sum, "windows") >= 3);
    assert_null(json_object_get(sum, "error"));
    json_decref(rep);
}

static void model_text_is_escaped_in_every_output(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--inject-text '%s'", "<script>alert(\"x\")</script> O'\\''Neil & co");
    char opts[256];
    snprintf(opts, sizeof opts, "--url %s --summary extractive", s.url);
    json_t *rep = fwt_analyze(colour_clip(1), opts);
    fwt_vlm_stop(&s);
    /* JSON: the text itself, exactly, after parsing */
    const char *text = str(json_array_get(json_object_get(rep, "observations"), 0), "text");
    assert_non_null(strstr(text, XSS));
    assert_non_null(strstr(str(json_array_get(json_object_get(rep, "segments"), 0), "text"), XSS));
    json_decref(rep);
    /* HTML: escaped, never markup */
    char *html = fwt_slurp(out_file("report.html"));
    assert_null(strcasestr(html, "<script"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O&#39;Neil "
                                 "&amp; co"));
    free(html);
    /* captions: entities, no tag */
    static const char *const caps[] = {"captions.vtt", "captions.srt", "report.md"};
    for (int i = 0; i < 3; i++) {
        char *c = fwt_slurp(out_file(caps[i]));
        assert_null(strstr(c, "<script"));
        assert_non_null(strstr(c, "&lt;script&gt;"));
        free(c);
    }
    check_captions(out_file("captions.vtt"), 0);
    check_captions(out_file("captions.srt"), 1);
    render_in_chromium(out_file("report.html"));
}

static void review_flags_sensitive_text_in_both_languages(void **state)
{
    (void)state;
    char args[2048];
    snprintf(args, sizeof args,
             "-f lavfi -i color=c=white:s=640x360:r=10:d=9 -vf \""
             "drawtext=fontfile=%s:text='Welcome to the shop':x=40:y=30:fontsize=30:"
             "fontcolor=black,"
             "drawtext=fontfile=%s:text='Buy cocaine here':x=40:y=120:fontsize=30:"
             "fontcolor=black:enable='between(t,2,4)',"
             "drawtext=fontfile=%s:text='网上赌博':x=40:y=220:fontsize=36:fontcolor=black:"
             "enable='between(t,5,7)'\" -c:v libx264 -preset ultrafast -pix_fmt yuv420p",
             FWT_FONT, FWT_FONT, FWT_FONT_CJK);
    const char *clip = fwt_video("shop.mp4", args);
    char lex[512], opts[1024];
    snprintf(lex, sizeof lex, "%s/mine.txt", fwt_tmpdir());
    FILE *f = fopen(lex, "w");
    fputs("# category: shop\nwelcome to the shop\n", f);
    fclose(f);
    snprintf(opts, sizeof opts, "--lexicon '%s'", lex);
    json_t *rep = fwt_analyze(clip, opts);
    json_t *review = json_object_get(rep, "review");
    assert_true(json_is_true(json_object_get(review, "required")));
    int cocaine = 0, gambling = 0, mine = 0;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(review, "reasons"), i, r)
    {
        double t = num(r, "time");
        if (!strcmp(str(r, "term"), "cocaine")) {
            cocaine++;
            assert_true(t >= 1.9 && t <= 4.2);
            assert_string_equal(str(r, "category"), "drugs");
            assert_non_null(strcasestr(str(r, "text"), "cocaine"));
        }
        if (!strcmp(str(r, "term"), "赌博")) {
            gambling++;
            assert_true(t >= 4.9 && t <= 7.2);
        }
        mine += !strcmp(str(r, "category"), "shop");
    }
    assert_true(cocaine >= 1);
    assert_true(gambling >= 1);
    assert_true(mine >= 1);
    json_decref(rep);
    char *html = fwt_slurp(out_file("report.html"));
    assert_non_null(strstr(html, "cocaine"));
    free(html);

    /* a confidence gate no observation passes: all kept, marked, and left out of fusion */
    rep = fwt_analyze(clip, "--min-confidence 1 --preset none");
    json_t *o;
    json_array_foreach(json_object_get(rep, "observations"), i, o)
        assert_string_equal(str(o, "gated"), "low_confidence");
    assert_true(json_array_size(json_object_get(rep, "observations")) > 0);
    assert_int_equal(json_array_size(json_object_get(rep, "segments")), 0);
    assert_int_equal(json_array_size(json_object_get(rep, "events")), 0);
    assert_false(json_is_true(json_object_get(json_object_get(rep, "review"), "required")));
    json_decref(rep);
}

static void story_usage_errors_are_one_line(void **state)
{
    (void)state;
    const char *clip = colour_clip(1);
    fwt_run r;
    fwt_fw(&r, "analyze '%s' -o '%s/o' --preset nope", clip, fwt_tmpdir());
    fwt_expect_usage_error(&r, "unknown preset 'nope'");
    fwt_fw(&r, "analyze '%s' -o '%s/o' --events '%s/none.json'", clip, fwt_tmpdir(), fwt_tmpdir());
    fwt_expect_usage_error(&r, "none.json");
    char path[512];
    snprintf(path, sizeof path, "%s/bad.json", fwt_tmpdir());
    FILE *f = fopen(path, "w");
    fputs("[{\"name\": \"x\", \"phrases\": [\"a\"],}]", f);
    fclose(f);
    fwt_fw(&r, "analyze '%s' -o '%s/o' --events '%s'", clip, fwt_tmpdir(), path);
    fwt_expect_usage_error(&r, "bad.json:1");
    fwt_fw(&r, "analyze '%s' -o '%s/o' --lexicon '%s/none.txt'", clip, fwt_tmpdir(), fwt_tmpdir());
    fwt_expect_usage_error(&r, "none.txt");
    fwt_fw(&r, "analyze '%s' -o '%s/o' --format json,xml", clip, fwt_tmpdir());
    fwt_expect_usage_error(&r, "unknown format 'xml'");
    fwt_fw(&r, "analyze '%s' -o '%s/o' --summary maybe", clip, fwt_tmpdir());
    fwt_expect_usage_error(&r, "--summary");
    fwt_fw(&r, "analyze '%s' -o '%s/o' --json --jsonl", clip, fwt_tmpdir());
    fwt_expect_usage_error(&r, "--jsonl");
    /* a server that does not serve embeddings: one line that says how to start it */
    fwt_vlm s;
    fwt_vlm_start(&s, "%s", "");
    fwt_fw(&r, "analyze '%s' -o '%s/o' --embed-url %s", clip, fwt_tmpdir(), s.url);
    fwt_vlm_stop(&s);
    assert_int_equal(r.status, 1);
    assert_int_equal(fwt_lines(r.err), 1);
    assert_non_null(strstr(r.err, "--embeddings"));
    fwt_free(&r);
    /* a warning from the engine names the setting too, and the CLI says it as its flag */
    fwt_fw(&r, "analyze '%s' -o '%s/o' --summary llm --no-cache", clip, fwt_tmpdir());
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "warning: --summary: 'llm' needs the llm-url or the url"));
    fwt_free(&r);
}

static json_t *fused(const char *clip, const char *out, int window)
{
    fwt_run r;
    /* the support preset (its events), a keyframe every second at least (--max-gap 1, the
     * preset's is 8), so that each segment and each run of an event holds several
     * observations on both sides of a 2 s window's border */
    fwt_fw(&r, "analyze '%s' -o '%s' -q --no-cache --preset support --max-gap 1 --fusion-window %d",
           clip, out, window);
    if (r.status != 0)
        fail_msg("analyze --fusion-window %d exited %d: %s", window, r.status, r.err);
    fwt_free(&r);
    char path[600];
    snprintf(path, sizeof path, "%s/report.json", out);
    return fwt_json_file(path);
}

static void differ(const char *what, size_t i, json_t *whole, json_t *windowed)
{
    char *a = json_dumps(whole, JSON_COMPACT), *b = json_dumps(windowed, JSON_COMPACT);
    fail_msg("%s %zu differs:\n  whole video: %.600s\n  windowed:    %.600s", what, i, a, b);
}

static int same_number(json_t *a, json_t *b, const char *key, double tol)
{
    json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
    if (!x || !y)
        return !x && !y;
    double d = json_number_value(x) - json_number_value(y);
    return d <= tol && d >= -tol;
}

static int same_string(json_t *a, json_t *b, const char *key)
{
    json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
    if (!x || !y)
        return !x && !y;
    return json_equal(x, y);
}

/* Fusion in windows (--fusion-window 2) gives the whole video's segments and events. */
static void windowed_fusion_equals_whole_video_fusion(void **state)
{
    (void)state;
    const char *clip = support_clip();
    json_t *whole = fused(clip, out_file("whole"), 0);
    json_t *windowed = fused(clip, out_file("windowed"), 2);

    /* the result is one a 2 s window cuts: a segment of several keyframes longer than the
     * window, a multi-step event whose steps are further apart than it, and a single event
     * whose run of observations lasts longer than it */
    json_t *segs = json_object_get(whole, "segments"), *evs = json_object_get(whole, "events");
    size_t i;
    json_t *s, *e;
    int long_segment = 0, long_steps = 0, long_run = 0;
    json_array_foreach(segs, i, s) long_segment +=
        num(s, "end") - num(s, "start") > 2.0 &&
        json_array_size(json_object_get(s, "keyframes")) >= 3;
    json_array_foreach(evs, i, e)
    {
        json_t *steps = json_object_get(e, "steps");
        size_t n = json_array_size(steps);
        if (n >= 2 &&
            num(json_array_get(steps, n - 1), "time") - num(json_array_get(steps, 0), "time") > 2.0)
            long_steps++;
        if (!steps && num(e, "end") - num(e, "time") > 2.0)
            long_run++;
    }
    if (!long_segment)
        fail_msg("no segment of 3 keyframes or more longer than 2 s: %s",
                 json_dumps(segs, JSON_COMPACT));
    if (!long_steps)
        fail_msg("no multi-step event spanning more than 2 s: %s", json_dumps(evs, JSON_COMPACT));
    if (!long_run)
        fail_msg("no single event lasting more than 2 s: %s", json_dumps(evs, JSON_COMPACT));

    /* segments: start, end, text, keyframes */
    json_t *wsegs = json_object_get(windowed, "segments");
    if (json_array_size(segs) != json_array_size(wsegs))
        differ("the segments", 0, segs, wsegs);
    json_array_foreach(segs, i, s)
    {
        json_t *w = json_array_get(wsegs, i);
        if (!same_number(s, w, "start", 1e-9) || !same_number(s, w, "end", 1e-9) ||
            !same_string(s, w, "text") ||
            !json_equal(json_object_get(s, "keyframes"), json_object_get(w, "keyframes")))
            differ("segment", i, s, w);
    }
    /* events: name, time, end, keyframe, steps */
    json_t *wevs = json_object_get(windowed, "events");
    if (json_array_size(evs) != json_array_size(wevs))
        differ("the events", 0, evs, wevs);
    json_array_foreach(evs, i, e)
    {
        json_t *w = json_array_get(wevs, i);
        if (!same_string(e, w, "name") || !same_number(e, w, "time", 1e-9) ||
            !same_number(e, w, "end", 1e-9) || !same_number(e, w, "keyframe", 0))
            differ("event", i, e, w);
        json_t *st = json_object_get(e, "steps"), *wst = json_object_get(w, "steps");
        if (json_array_size(st) != json_array_size(wst) || !st != !wst)
            differ("event", i, e, w);
        for (size_t k = 0; k < json_array_size(st); k++) {
            json_t *a = json_array_get(st, k), *b = json_array_get(wst, k);
            if (!same_string(a, b, "name") || !same_number(a, b, "time", 1e-9) ||
                !same_number(a, b, "keyframe", 0) || !same_number(a, b, "score", 1e-6) ||
                !same_string(a, b, "evidence"))
                differ("event", i, e, w);
        }
    }
    json_decref(whole);
    json_decref(windowed);
}

int main(int argc, char **argv)
{
    fwt_select_test(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(local_support_story_has_segments_events_summary_and_files,
                                  fwt_teardown),
        cmocka_unit_test_teardown(llm_summary_and_embeddings_come_from_the_servers, fwt_teardown),
        cmocka_unit_test_teardown(long_input_is_map_reduced_not_truncated, fwt_teardown),
        cmocka_unit_test_teardown(model_text_is_escaped_in_every_output, fwt_teardown),
        cmocka_unit_test_teardown(review_flags_sensitive_text_in_both_languages, fwt_teardown),
        cmocka_unit_test_teardown(story_usage_errors_are_one_line, fwt_teardown),
        cmocka_unit_test_teardown(windowed_fusion_equals_whole_video_fusion, fwt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
