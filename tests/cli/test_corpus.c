/* The bad-video corpus of tests/badvideos.sh through the CLI: every file gives a clean
 * one-line error or a result, never a crash or a hang. One test per command; run one test
 * per process: test_corpus NAME.
 *
 * For each file of the corpus and each command:
 * - no signal, an exit within the time limit, an exit code of 0, 1 or 2;
 * - stderr holds no libav log prefix ("[h264 @ 0x..."), no pointer, no "Assertion", no
 *   sanitizer report ("runtime error", "...Sanitizer");
 * - on exit 1 or 2: stderr is exactly one non-empty line that names the file (its basename)
 *   and, when the manifest gives one, the reason (e.g. "moov", "no video stream");
 * - on exit 0: the result is valid JSON with at least one keyframe (or scene), its times
 *   finite, not negative and in order; every stderr line is framewise's own
 *   ("framewise: ..."); a damaged file (expect "partial") or one whose decode errors the
 *   result counts gives a warning line ("framewise: warning: ...");
 * - the manifest's expectation: "error" files never exit 0, "result" files exit 0.
 *
 * Environment: FWTEST_CORPUS_DIR (generate the corpus there and keep it), FWTEST_CORPUS_MATCH
 * (only the files whose name holds it), FWTEST_CORPUS_LIMIT (seconds a run may take, 60). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fwtest.h"

#ifndef FW_SOURCE_DIR
#define FW_SOURCE_DIR "."
#endif

#define MAX_FILES 256

typedef struct entry {
    char name[256];
    char kind[32];
    char expect[16];
    char needle[96];
} entry;

typedef struct corpus {
    char dir[512];
    entry list[MAX_FILES];
    int n;
} corpus;

typedef enum command { KEYFRAMES, SCENES, ANALYZE } command;

static int per_process; /* one test per process: a skip is exit 77 */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void skip_test(const char *why)
{
    printf("skipped: %s\n", why);
    if (per_process) {
        fwt_cleanup();
        exit(77);
    }
    skip();
}

/* s in single quotes for sh. */
static const char *sh_quote(const char *s, char *out, size_t size)
{
    size_t n = 0;
    out[n++] = '\'';
    for (; *s && n + 6 < size; s++) {
        if (*s == '\'') {
            memcpy(out + n, "'\\''", 4);
            n += 4;
        } else {
            out[n++] = *s;
        }
    }
    out[n++] = '\'';
    out[n] = '\0';
    return out;
}

static void copy_field(char *dst, size_t size, const char *src, size_t len)
{
    snprintf(dst, size, "%.*s", (int)len, src);
}

/* Generates the corpus with tests/badvideos.sh and reads its MANIFEST.tsv. */
static void make_corpus(corpus *c)
{
    fwt_run r;
    fwt_sh(&r, "command -v ffmpeg && command -v python3 && command -v timeout");
    int have = r.status == 0;
    fwt_free(&r);
    if (!have)
        skip_test("ffmpeg, python3 or timeout is missing");
    const char *keep = getenv("FWTEST_CORPUS_DIR");
    if (keep && *keep)
        snprintf(c->dir, sizeof c->dir, "%s", keep);
    else
        snprintf(c->dir, sizeof c->dir, "%s/corpus", fwt_tmpdir());
    char qdir[1100];
    double t0 = now_s();
    fwt_sh(&r, "bash '%s/tests/badvideos.sh' %s", FW_SOURCE_DIR,
           sh_quote(c->dir, qdir, sizeof qdir));
    double seconds = now_s() - t0;
    int status = r.status;
    char err[1000];
    snprintf(err, sizeof err, "%s%s", r.err, r.out);
    fwt_free(&r);
    if (status == 77)
        skip_test(err);
    if (status != 0)
        fail_msg("tests/badvideos.sh exited %d: %s", status, err);

    char path[700];
    snprintf(path, sizeof path, "%s/MANIFEST.tsv", c->dir);
    char *text = fwt_slurp(path);
    const char *match = getenv("FWTEST_CORPUS_MATCH");
    int total = 0;
    c->n = 0;
    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\n");
        const char *f[4] = {line};
        size_t flen[4] = {0};
        int nf = 1;
        for (const char *p = line; p < line + len; p++)
            if (*p == '\t' && nf < 4)
                f[nf++] = p + 1;
        for (int i = 0; i < nf; i++) {
            const char *end = i + 1 < nf ? f[i + 1] - 1 : line + len;
            flen[i] = (size_t)(end - f[i]);
        }
        if (nf != 4)
            fail_msg("%s: a line without 4 fields: %.*s", path, (int)len, line);
        total++;
        entry e;
        copy_field(e.name, sizeof e.name, f[0], flen[0]);
        copy_field(e.kind, sizeof e.kind, f[1], flen[1]);
        copy_field(e.expect, sizeof e.expect, f[2], flen[2]);
        copy_field(e.needle, sizeof e.needle, f[3], flen[3]);
        if (strcmp(e.expect, "error") && strcmp(e.expect, "partial") &&
            strcmp(e.expect, "result") && strcmp(e.expect, "any"))
            fail_msg("%s: %s: unknown expectation '%s'", path, e.name, e.expect);
        if (!match || strstr(e.name, match)) {
            assert_true(c->n < MAX_FILES);
            c->list[c->n++] = e;
        }
        line += len + (line[len] == '\n');
    }
    free(text);
    if (total < 40)
        fail_msg("%s: %d files, want at least 40", path, total);
    printf("corpus: %d files in %.1f s in %s (running %d)\n", total, seconds, c->dir, c->n);
    fflush(stdout);
}

/* ---- the rules -------------------------------------------------------------------------- */

typedef struct verdict {
    char text[2048];
    int broken;
} verdict;

static void broke(verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void broke(verdict *v, const char *fmt, ...)
{
    size_t n = strlen(v->text);
    if (n && n + 3 < sizeof v->text) {
        memcpy(v->text + n, "; ", 3);
        n += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->text + n, sizeof v->text - n, fmt, ap);
    va_end(ap);
    v->broken = 1;
}

/* The first line of s that holds needle, cut short, for a message. */
static const char *line_with(const char *s, const char *needle, char *out, size_t size)
{
    const char *at = strstr(s, needle);
    if (!at)
        return "";
    while (at > s && at[-1] != '\n')
        at--;
    size_t len = strcspn(at, "\n");
    snprintf(out, size, "%.*s%s", (int)(len > 120 ? 120 : len), at, len > 120 ? "..." : "");
    return out;
}

/* "0x" and at least 6 hex digits, not inside a word or a number (100000x100000): a
 * pointer. */
static const char *pointer_in(const char *s)
{
    for (const char *p = s; (p = strstr(p, "0x")); p += 2) {
        if (p > s && isalnum((unsigned char)p[-1]))
            continue;
        int digits = 0;
        while (isxdigit((unsigned char)p[2 + digits]))
            digits++;
        if (digits >= 6)
            return p;
    }
    return NULL;
}

static void check_stderr_is_clean(verdict *v, const char *err)
{
    static const char *const bad[] = {"@ 0x",         "runtime error", "Sanitizer",     "Assertion",
                                      "Segmentation", "core dumped",   "stack-overflow"};
    char line[160];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (strstr(err, bad[i])) {
            broke(v, "stderr has '%s': %s", bad[i], line_with(err, bad[i], line, sizeof line));
            return;
        }
    const char *p = pointer_in(err);
    if (p) {
        char ptr[24];
        snprintf(ptr, sizeof ptr, "%.14s", p);
        broke(v, "stderr has a pointer: %s", line_with(err, ptr, line, sizeof line));
    }
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Whether line holds needle (any case) outside the file's name: moov_cut.mp4's line must
 * say "moov" of its own. */
static int says(const char *line, const char *name, const char *needle)
{
    char rest[4096];
    size_t n = 0, name_len = strlen(name);
    for (const char *p = line; *p && n + 1 < sizeof rest;) {
        if (name_len && strncmp(p, name, name_len) == 0) {
            p += name_len;
            rest[n++] = ' ';
        } else {
            rest[n++] = *p++;
        }
    }
    rest[n] = '\0';
    for (const char *alt = needle; *alt;) { /* A|B: either */
        size_t len = strcspn(alt, "|");
        char one[96];
        snprintf(one, sizeof one, "%.*s", (int)len, alt);
        if (len && strcasestr(rest, one))
            return 1;
        alt += len + (alt[len] == '|');
    }
    return 0;
}

/* Exit 1 or 2: one non-empty line naming the file and the reason. */
static void check_error_line(verdict *v, const entry *e, const char *err)
{
    size_t len = strcspn(err, "\n");
    if (fwt_lines(err) != 1 || err[len] != '\n' || len == 0) {
        char first[200];
        snprintf(first, sizeof first, "%.*s", (int)(len > 150 ? 150 : len), err);
        broke(v, "want exactly one line on stderr, got %d: %s%s", fwt_lines(err), first,
              fwt_lines(err) > 1 ? " / ..." : "");
        return;
    }
    if (!strstr(err, base_name(e->name)))
        broke(v, "the error line does not name the file: %.*s", (int)len, err);
    if (strcmp(e->needle, "-") && !says(err, base_name(e->name), e->needle))
        broke(v, "the error line does not say '%s': %.*s", e->needle, (int)len, err);
    if (strlen("framewise: ") + strlen(base_name(e->name)) + 2 >= len)
        broke(v, "the error line gives no reason: %.*s", (int)len, err);
}

/* Exit 0: stderr lines are framewise's own; a warning when the file is damaged. */
static void check_result_stderr(verdict *v, const entry *e, const char *err, long decode_errors)
{
    int warnings = 0;
    for (const char *line = err; *line;) {
        size_t len = strcspn(line, "\n");
        if (strncmp(line, "framewise: ", 11) != 0) {
            broke(v, "a stray line on stderr: %.*s", (int)(len > 120 ? 120 : len), line);
            break;
        }
        if (strncmp(line, "framewise: warning: ", 20) == 0)
            warnings++;
        line += len + (line[len] == '\n');
    }
    if (!warnings && !strcmp(e->expect, "partial"))
        broke(v, "a damaged file gave a result without a warning");
    else if (!warnings && decode_errors > 0)
        broke(v, "the result counts %ld decode errors but there is no warning", decode_errors);
}

static double num(json_t *obj, const char *key)
{
    json_t *j = json_object_get(obj, key);
    return json_is_number(j) ? json_number_value(j) : NAN;
}

/* The keyframes of a result: at least one, times finite, >= 0, increasing and within the
 * video's duration, frame numbers increasing; their files there. */
static void check_keyframes(verdict *v, json_t *root)
{
    double duration = num(json_object_get(root, "video"), "duration");
    json_t *kfs = json_object_get(root, "keyframes");
    if (!json_is_array(kfs)) {
        broke(v, "the result has no keyframes array");
        return;
    }
    if (json_array_size(kfs) == 0) {
        broke(v, "exit 0 with no keyframe");
        return;
    }
    double prev = -INFINITY, prev_frame = -1;
    size_t i;
    json_t *kf;
    json_array_foreach(kfs, i, kf)
    {
        double t = num(kf, "time"), frame = num(kf, "frame");
        if (!isfinite(t) || t < 0) {
            broke(v, "keyframe %zu at time %g", i, t);
            return;
        }
        if (t <= prev) {
            broke(v, "keyframe times not increasing: %zu at %.3f after %.3f", i, t, prev);
            return;
        }
        if (!(frame > prev_frame)) {
            broke(v, "keyframe %zu is frame %.0f, after frame %.0f", i, frame, prev_frame);
            return;
        }
        if (isfinite(duration) && duration > 0 && t > duration + 1) {
            broke(v, "keyframe %zu at %.3f s, after the end (duration %.3f s)", i, t, duration);
            return;
        }
        prev = t;
        prev_frame = frame;
        const char *file = json_string_value(json_object_get(kf, "file"));
        if (!file || access(file, R_OK) != 0) {
            broke(v, "keyframe %zu: its file %s is not there", i, file ? file : "(none)");
            return;
        }
    }
}

/* An analyze report's observations and segments: in time order, not negative. */
static void check_story(verdict *v, json_t *root)
{
    json_t *obs = json_object_get(root, "observations"), *segs = json_object_get(root, "segments");
    if (!json_is_array(obs) || !json_is_array(segs)) {
        broke(v, "the report has no observations or segments array");
        return;
    }
    double prev = -INFINITY;
    size_t i;
    json_t *o;
    json_array_foreach(obs, i, o)
    {
        double t = num(o, "time");
        if (!isfinite(t) || t < 0 || t < prev) {
            broke(v, "observation %zu at %.3f (previous %.3f)", i, t, prev);
            return;
        }
        prev = t;
    }
    prev = -INFINITY;
    json_array_foreach(segs, i, o)
    {
        double s = num(o, "start"), e = num(o, "end");
        if (!isfinite(s) || !isfinite(e) || s < 0 || e < s || s < prev) {
            broke(v, "segment %zu from %.3f to %.3f (previous start %.3f)", i, s, e, prev);
            return;
        }
        prev = s;
    }
}

/* A scene list: at least one scene; starts increasing, each scene ends where the next one
 * starts and lasts (the last may be a single frame at the end), frames contiguous. */
static void check_scenes(verdict *v, json_t *root)
{
    json_t *scenes = json_object_get(root, "scenes");
    if (!json_is_array(scenes)) {
        broke(v, "the result has no scenes array");
        return;
    }
    size_t n = json_array_size(scenes);
    if (n == 0) {
        broke(v, "exit 0 with no scene");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(scenes, i);
        double st = num(s, "start_time"), et = num(s, "end_time");
        double sf = num(s, "start_frame"), ef = num(s, "end_frame");
        if (!isfinite(st) || !isfinite(et) || st < 0 || et < st || (i + 1 < n && et <= st)) {
            broke(v, "scene %zu from %.3f to %.3f s", i, st, et);
            return;
        }
        if (!(ef >= sf) || (i == 0 && sf != 0)) {
            broke(v, "scene %zu from frame %.0f to %.0f", i, sf, ef);
            return;
        }
        if (i + 1 < n) {
            json_t *next = json_array_get(scenes, i + 1);
            double nst = num(next, "start_time"), nsf = num(next, "start_frame");
            if (!(fabs(nst - et) < 1e-6) || nsf != ef + 1) {
                broke(v,
                      "scene %zu ends at %.3f s (frame %.0f), scene %zu starts at %.3f s (frame "
                      "%.0f)",
                      i, et, ef, i + 1, nst, nsf);
                return;
            }
        }
    }
}

static const char *command_name(command cmd)
{
    return cmd == KEYFRAMES ? "keyframes" : cmd == SCENES ? "scenes" : "analyze";
}

static int limit_s(void)
{
    const char *s = getenv("FWTEST_CORPUS_LIMIT");
    int n = s ? atoi(s) : 0;
    return n > 0 ? n : 60;
}

/* The arguments after VIDEO, for one file. */
static void command_args(command cmd, const char *out, char *args, size_t size)
{
    char q[700];
    sh_quote(out, q, sizeof q);
    if (cmd == KEYFRAMES)
        snprintf(args, size, "-o %s --json", q);
    else if (cmd == SCENES)
        snprintf(args, size, "--json");
    else
        /* one Tesseract engine, English only: its start is most of a run's time (5 s a file
         * under ASan with both languages, one engine per core) */
        snprintf(args, size, "-o %s --no-cache --ocr-lang eng --ocr-threads 1", q);
}

static void run_one(command cmd, const corpus *c, const entry *e, int k, verdict *v, char *repro,
                    size_t repro_size)
{
    const char *bin = getenv("FRAMEWISE_BIN");
    assert_non_null(bin);
    char path[800], out[600], qbin[1100], qpath[1700], args[800];
    snprintf(path, sizeof path, "%s/%s", c->dir, e->name);
    snprintf(out, sizeof out, "%s/out-%d", fwt_tmpdir(), k);
    command_args(cmd, out, args, sizeof args);
    sh_quote(bin, qbin, sizeof qbin);
    sh_quote(path, qpath, sizeof qpath);
    snprintf(repro, repro_size, "%s %s %s %s", bin, command_name(cmd), qpath, args);

    int limit = limit_s();
    fwt_run r;
    double t0 = now_s();
    fwt_sh(&r, "exec timeout -k 5 %d %s %s %s %s", limit, qbin, command_name(cmd), qpath, args);
    double seconds = now_s() - t0;

    memset(v, 0, sizeof *v);
    int st = r.status;
    if (st == 124 || seconds > limit)
        broke(v, "no exit within %d s (a hang)", limit);
    else if (st >= 128)
        broke(v, "killed by signal %d", st - 128);
    else if (st > 2)
        broke(v, "exit %d", st);
    check_stderr_is_clean(v, r.err);
    if (!v->broken && st != 0) {
        check_error_line(v, e, r.err);
        if (!strcmp(e->expect, "result"))
            broke(v, "a valid video gave an error");
    } else if (!v->broken) {
        if (!strcmp(e->expect, "error"))
            broke(v, "exit 0 for a file that has no video to give");
        json_error_t jerr;
        json_t *root = NULL;
        if (cmd == ANALYZE) {
            char report[700];
            snprintf(report, sizeof report, "%s/report.json", out);
            if (access(report, R_OK) != 0)
                broke(v, "exit 0 but no %s", base_name(report));
            else if (!(root = json_load_file(report, 0, &jerr)))
                broke(v, "report.json is not JSON: %s", jerr.text);
        } else if (!(root = json_loads(r.out, 0, &jerr))) {
            broke(v, "stdout is not JSON: %s", jerr.text);
        }
        long decode_errors = 0;
        if (root) {
            json_t *video = json_object_get(root, "video");
            decode_errors = (long)json_integer_value(json_object_get(video, "decode_errors"));
            if (cmd == SCENES) {
                check_scenes(v, root);
            } else {
                check_keyframes(v, root);
                if (cmd == ANALYZE)
                    check_story(v, root);
            }
            json_decref(root);
        }
        check_result_stderr(v, e, r.err, decode_errors);
    }
    printf("%-34s %-8s exit %3d %6.2f s  %s\n", e->name, e->expect, st, seconds,
           v->broken ? v->text : "ok");
    fflush(stdout);
    fwt_free(&r);
    fwt_sh(&r, "rm -rf '%s'", out);
    fwt_free(&r);
}

static void run_corpus(command cmd)
{
    static corpus c; /* large: not on the stack */
    make_corpus(&c);
    static char failures[65536];
    failures[0] = '\0';
    size_t used = 0;
    int failed = 0;
    double t0 = now_s();
    for (int i = 0; i < c.n; i++) {
        verdict v;
        char repro[3000];
        run_one(cmd, &c, &c.list[i], i, &v, repro, sizeof repro);
        if (!v.broken)
            continue;
        failed++;
        int n = snprintf(failures + used, sizeof failures - used, "  %s (%s, %s): %s\n    %s\n",
                         c.list[i].name, c.list[i].kind, c.list[i].expect, v.text, repro);
        if (n > 0 && (size_t)n < sizeof failures - used)
            used += (size_t)n;
    }
    printf("%s: %d files in %.1f s, %d broke the rules\n", command_name(cmd), c.n, now_s() - t0,
           failed);
    if (failed) {
        printf("files that broke the rules (and the command to see it; the corpus is made by "
               "tests/badvideos.sh DIR, kept with FWTEST_CORPUS_DIR=DIR):\n%s",
               failures);
        fflush(stdout);
        fail_msg("%d of %d files broke the rules of framewise %s", failed, c.n, command_name(cmd));
    }
}

static void keyframes_gives_a_result_or_one_clean_line(void **state)
{
    (void)state;
    run_corpus(KEYFRAMES);
}

static void scenes_gives_a_result_or_one_clean_line(void **state)
{
    (void)state;
    run_corpus(SCENES);
}

static void analyze_gives_a_result_or_one_clean_line(void **state)
{
    (void)state;
    run_corpus(ANALYZE);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(keyframes_gives_a_result_or_one_clean_line, fwt_teardown),
        cmocka_unit_test_teardown(scenes_gives_a_result_or_one_clean_line, fwt_teardown),
        cmocka_unit_test_teardown(analyze_gives_a_result_or_one_clean_line, fwt_teardown),
    };
    per_process = argc > 1;
    fwt_select_test(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
