/* The store through the CLI: a second run of the same video costs nothing, what changes
 * the result misses, a broken store is one line, processes share a store, and
 * `framewise jobs` / `framewise cache` report and maintain it. */
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fwtest.h"

static const char *colour_clip(void)
{
    return fwt_video("colours.mp4",
                     "-f lavfi -i color=c=red:s=160x120:r=10:d=1 -f lavfi -i "
                     "color=c=white:s=160x120:r=10:d=1 -f lavfi -i color=c=blue:s=160x120:r=10:d=1 "
                     "-filter_complex '[0][1][2]concat=n=3:v=1[v]' -map '[v]' -c:v libx264 "
                     "-preset ultrafast -pix_fmt yuv420p");
}

static json_t *run(const char *video, const char *out, const char *opts)
{
    fwt_run r;
    fwt_fw(&r, "analyze '%s' -o '%s/%s' -q %s", video, fwt_tmpdir(), out, opts);
    if (r.status != 0)
        fail_msg("analyze exited %d: %s", r.status, r.err);
    fwt_free(&r);
    char path[512];
    snprintf(path, sizeof path, "%s/%s/report.json", fwt_tmpdir(), out);
    return fwt_json_file(path);
}

static json_int_t chats(const fwt_vlm *s)
{
    json_t *st = fwt_vlm_stats(s);
    json_int_t n = json_integer_value(json_object_get(st, "chat_requests"));
    json_decref(st);
    return n;
}

static void second_run_of_the_same_video_makes_no_requests(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "%s", "");
    char opts[256];
    snprintf(opts, sizeof opts, "--url %s", s.url);
    json_t *a = run(colour_clip(), "o1", opts);
    json_int_t first = chats(&s);
    assert_int_equal(first, 3 + 1); /* 3 keyframes and the summary */
    assert_null(json_object_get(a, "cache"));
    /* the same bytes under another name: the same video */
    fwt_run r;
    fwt_sh(&r, "cp '%s' '%s/copy.mp4'", colour_clip(), fwt_tmpdir());
    fwt_free(&r);
    char copy[512];
    snprintf(copy, sizeof copy, "%s/copy.mp4", fwt_tmpdir());
    json_t *b = run(copy, "o2", opts);
    assert_int_equal(chats(&s), first); /* no request at all */
    fwt_vlm_stop(&s);
    json_t *cache = json_object_get(b, "cache");
    assert_true(json_is_true(json_object_get(cache, "cached")));
    assert_string_equal(json_string_value(json_object_get(cache, "hit")), "result");
    assert_true(json_equal(json_object_get(a, "observations"), json_object_get(b, "observations")));
    assert_true(json_equal(json_object_get(a, "segments"), json_object_get(b, "segments")));
    assert_true(json_equal(json_object_get(a, "summary"), json_object_get(b, "summary")));
    /* the keyframes are in the new folder, and the report points there */
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(b, "keyframes"), i, k)
    {
        const char *file = json_string_value(json_object_get(k, "file"));
        assert_non_null(strstr(file, "/o2/"));
        assert_int_equal(access(file, R_OK), 0);
    }
    char *html = NULL, path[512];
    snprintf(path, sizeof path, "%s/o2/report.html", fwt_tmpdir());
    html = fwt_slurp(path);
    assert_non_null(strstr(html, "data:image/jpeg;base64,"));
    free(html);
    json_decref(a);
    json_decref(b);
    /* the jobs and the counters say so */
    fwt_fw(&r, "jobs --json");
    json_t *jobs = fwt_json(&r);
    assert_int_equal(json_array_size(jobs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(jobs, 0), "state")),
                        "done");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(jobs, 0), "observations")),
                     3);
    json_decref(jobs);
    fwt_free(&r);
    fwt_fw(&r, "cache stats --json");
    json_t *st = fwt_json(&r);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(st, "counters"), "result_hits")), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "results")), 1);
    json_decref(st);
    fwt_free(&r);
}

/* A run whose summary failed keeps no result, but its observations are not asked again. */
static void run_whose_summary_failed_is_not_asked_again(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "%s", "");
    char opts[256];
    snprintf(opts, sizeof opts,
             "--url %s --summary llm --llm-url http://127.0.0.1:9/v1 --retries 0", s.url);
    json_t *a = run(colour_clip(), "o1", opts);
    assert_non_null(json_object_get(json_object_get(a, "summary"), "error"));
    assert_int_equal(chats(&s), 3); /* the keyframes; the summary's server is not there */
    json_t *b = run(colour_clip(), "o2", opts);
    assert_int_equal(chats(&s), 3); /* resumed: every observation was stored */
    json_t *oa = json_object_get(a, "observations"), *ob = json_object_get(b, "observations");
    assert_int_equal(json_array_size(ob), json_array_size(oa));
    for (size_t i = 0; i < json_array_size(oa); i++) {
        json_t *x = json_array_get(oa, i), *y = json_array_get(ob, i);
        assert_true(json_equal(json_object_get(x, "text"), json_object_get(y, "text")));
        assert_true(json_is_true(json_object_get(y, "cached")));
    }
    json_decref(a);
    json_decref(b);
    fwt_vlm_stop(&s);
}

/* 1 when the report is an earlier run's whole result. */
static int whole_hit(json_t *report)
{
    int hit = json_is_object(json_object_get(report, "cache"));
    json_decref(report);
    return hit;
}

static void what_changes_the_result_misses(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "%s", "");
    char opts[1024];
    snprintf(opts, sizeof opts, "--url %s --summary extractive", s.url);
    assert_false(whole_hit(run(colour_clip(), "o1", opts)));
    json_int_t n = chats(&s);
    assert_true(whole_hit(run(colour_clip(), "o1b", opts)));
    /* --no-cache asks again */
    snprintf(opts, sizeof opts, "--url %s --summary extractive --no-cache", s.url);
    assert_false(whole_hit(run(colour_clip(), "o2", opts)));
    assert_int_equal(chats(&s), 2 * n);
    /* other keyframe settings: another result, but the same pictures asked the same way
     * are answered from the store */
    snprintf(opts, sizeof opts, "--url %s --summary extractive --max-gap 3", s.url);
    assert_false(whole_hit(run(colour_clip(), "o3", opts)));
    assert_int_equal(chats(&s), 2 * n);
    /* another question: every frame is asked again */
    snprintf(opts, sizeof opts, "--url %s --summary extractive --prompt 'What colour?'", s.url);
    assert_false(whole_hit(run(colour_clip(), "o4", opts)));
    assert_int_equal(chats(&s), 3 * n);
    /* an events file with the same name and other contents is another result */
    char ev[512];
    snprintf(ev, sizeof ev, "%s/ev.json", fwt_tmpdir());
    FILE *f = fopen(ev, "w");
    fputs("[{\"name\": \"a\", \"phrases\": [\"red\"]}]", f);
    fclose(f);
    snprintf(opts, sizeof opts, "--url %s --summary extractive --events '%s'", s.url, ev);
    assert_false(whole_hit(run(colour_clip(), "o5", opts)));
    assert_true(whole_hit(run(colour_clip(), "o6", opts)));
    f = fopen(ev, "w");
    fputs("[{\"name\": \"b\", \"phrases\": [\"blue\"]}]", f);
    fclose(f);
    assert_false(whole_hit(run(colour_clip(), "o7", opts)));
    assert_int_equal(chats(&s), 3 * n); /* the frames themselves were known */
    fwt_vlm_stop(&s);
}

/* Seven one-second colours: seven keyframes, one request each. */
static const char *seven_clip(void)
{
    return fwt_video(
        "seven.mp4",
        "-f lavfi -i color=c=red:s=160x120:r=10:d=1 -f lavfi -i "
        "color=c=white:s=160x120:r=10:d=1 -f lavfi -i color=c=blue:s=160x120:r=10:d=1 "
        "-f lavfi -i color=c=yellow:s=160x120:r=10:d=1 -f lavfi -i "
        "color=c=0x00ff00:s=160x120:r=10:d=1 -f lavfi -i color=c=cyan:s=160x120:r=10:d=1 "
        "-f lavfi -i color=c=magenta:s=160x120:r=10:d=1 -filter_complex "
        "'[0][1][2][3][4][5][6]concat=n=7:v=1[v]' -map '[v]' -c:v libx264 -preset "
        "ultrafast -pix_fmt yuv420p");
}

static void killed_job_resumes_without_asking_again(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--latency 300");
    char opts[512];
    snprintf(opts, sizeof opts, "--url %s --summary extractive --concurrency 1", s.url);
    char ref_opts[600];
    snprintf(ref_opts, sizeof ref_opts, "%s --no-cache", opts);
    json_t *ref = run(seven_clip(), "ref", ref_opts);
    json_int_t all = chats(&s);
    assert_int_equal(all, 7);
    /* a run killed with SIGKILL after about half of its requests */
    fwt_run r;
    fwt_sh(&r, "'%s' analyze '%s' -o '%s/k' -q %s >/dev/null 2>&1 & echo $!",
           getenv("FRAMEWISE_BIN"), seven_clip(), fwt_tmpdir(), opts);
    int pid = atoi(r.out);
    fwt_free(&r);
    assert_true(pid > 0);
    for (int i = 0; i < 200 && chats(&s) < all + 4; i++)
        usleep(50000);
    assert_true(chats(&s) >= all + 4);
    kill(pid, SIGKILL);
    usleep(300000);
    json_int_t sent = chats(&s) - all;
    fwt_fw(&r, "jobs --json");
    json_t *jobs = fwt_json(&r);
    fwt_free(&r);
    json_t *job = json_array_get(jobs, 0);
    assert_string_equal(json_string_value(json_object_get(job, "state")), "running");
    json_int_t stored = json_integer_value(json_object_get(job, "observations"));
    assert_true(stored >= 3 && stored <= sent);
    json_decref(jobs);
    /* restarted: only the frames not stored are asked for */
    json_int_t before = chats(&s);
    json_t *again = run(seven_clip(), "k2", opts);
    assert_int_equal(chats(&s) - before, 7 - stored);
    fwt_vlm_stop(&s);
    json_t *st = json_object_get(again, "stats");
    assert_int_equal(json_integer_value(json_object_get(st, "cached")), stored);
    assert_int_equal(json_integer_value(json_object_get(st, "requests")), 7 - stored);
    /* the same report as the run that was never interrupted */
    json_t *a = json_object_get(ref, "observations"), *b = json_object_get(again, "observations");
    assert_int_equal(json_array_size(a), json_array_size(b));
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *x = json_array_get(a, i), *y = json_array_get(b, i);
        assert_string_equal(json_string_value(json_object_get(x, "text")),
                            json_string_value(json_object_get(y, "text")));
        assert_float_equal(json_real_value(json_object_get(x, "time")),
                           json_real_value(json_object_get(y, "time")), 1e-9);
        assert_int_equal(json_is_true(json_object_get(y, "cached")), (json_int_t)i < stored);
    }
    assert_true(json_equal(json_object_get(ref, "segments"), json_object_get(again, "segments")));
    assert_true(json_equal(json_object_get(ref, "summary"), json_object_get(again, "summary")));
    json_decref(ref);
    json_decref(again);
    /* and it is done now: a third run is a whole-result hit */
    fwt_fw(&r, "jobs --json");
    jobs = fwt_json(&r);
    fwt_free(&r);
    assert_int_equal(json_array_size(jobs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(jobs, 0), "state")),
                        "done");
    json_decref(jobs);
}

static void reencoded_copy_reuses_most_observations(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "%s", "");
    char opts[256];
    snprintf(opts, sizeof opts, "--url %s --summary extractive", s.url);
    json_t *a = run(seven_clip(), "a", opts);
    json_int_t first = chats(&s);
    assert_int_equal(first, 7);
    /* other bytes, the same pictures: a whole-result miss, frame-level hits */
    fwt_run r;
    fwt_sh(&r, "ffmpeg -v error -i '%s' -c:v libx264 -crf 35 -preset veryfast -y '%s/re.mp4'",
           seven_clip(), fwt_tmpdir());
    assert_int_equal(r.status, 0);
    fwt_free(&r);
    char re[512];
    snprintf(re, sizeof re, "%s/re.mp4", fwt_tmpdir());
    json_t *b = run(re, "b", opts);
    json_int_t again = chats(&s) - first;
    fwt_vlm_stop(&s);
    json_int_t cached = json_integer_value(json_object_get(json_object_get(b, "stats"), "cached"));
    assert_true(cached >= 5);
    assert_int_equal(again, 7 - cached);
    assert_null(json_object_get(b, "cache")); /* not a whole-result hit */
    /* each reused observation is the one of the same picture (the double names colours) */
    json_t *x = json_object_get(a, "observations"), *y = json_object_get(b, "observations");
    assert_int_equal(json_array_size(x), json_array_size(y));
    for (size_t i = 0; i < json_array_size(x); i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(x, i), "text")),
                            json_string_value(json_object_get(json_array_get(y, i), "text")));
    json_decref(a);
    json_decref(b);
}

/* A red screen (255,0,0) and a green one (0,130,0) of the same brightness (BT.601 luma 76)
 * look alike to dHash and luma: the
 * frame-level cache must still ask about the green one (the double names its colour). */
static void same_brightness_other_colour_is_asked_again(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "%s", "");
    char opts[256];
    snprintf(opts, sizeof opts, "--url %s --summary none --preset none", s.url);
    const char *red = fwt_video("red.mp4", "-f lavfi -i color=c=0xFF0000:s=160x120:r=10:d=1 "
                                           "-c:v libx264 -preset ultrafast -pix_fmt yuv420p");
    const char *green = fwt_video("green.mp4", "-f lavfi -i color=c=0x008200:s=160x120:r=10:d=1 "
                                               "-c:v libx264 -preset ultrafast -pix_fmt yuv420p");
    json_t *a = run(red, "a", opts);
    json_int_t first = chats(&s);
    json_t *b = run(green, "b", opts);
    json_int_t again = chats(&s) - first;
    fwt_vlm_stop(&s);
    assert_int_equal(first, 1);
    assert_int_equal(again, 1);
    const char *ta = json_string_value(
        json_object_get(json_array_get(json_object_get(a, "observations"), 0), "text"));
    const char *tb = json_string_value(
        json_object_get(json_array_get(json_object_get(b, "observations"), 0), "text"));
    assert_non_null(strstr(ta, "red"));
    assert_non_null(strstr(tb, "green"));
    json_decref(a);
    json_decref(b);
}

static void appended_part_continues_the_timeline(void **state)
{
    (void)state;
    /* one recording in two files: red, white (0-4 s), then blue, yellow (4-8 s) */
    const char *p1 = fwt_video("p1.mp4", "-f lavfi -i color=c=red:s=160x120:r=10:d=2 -f lavfi -i "
                                         "color=c=white:s=160x120:r=10:d=2 -filter_complex "
                                         "'[0][1]concat=n=2:v=1[v]' -map '[v]' -c:v libx264 "
                                         "-preset ultrafast -pix_fmt yuv420p");
    const char *p2 = fwt_video("p2.mp4", "-f lavfi -i color=c=blue:s=160x120:r=10:d=2 -f lavfi -i "
                                         "color=c=yellow:s=160x120:r=10:d=2 -filter_complex "
                                         "'[0][1]concat=n=2:v=1[v]' -map '[v]' -c:v libx264 "
                                         "-preset ultrafast -pix_fmt yuv420p");
    fwt_vlm s;
    fwt_vlm_start(&s, "%s", "");
    char opts[256]; /* the double's descriptions differ by a word: one segment per colour */
    snprintf(opts, sizeof opts, "--url %s --summary extractive --segment-threshold 0.99", s.url);
    json_decref(run(p1, "o1", opts));
    json_int_t first = chats(&s);
    char more[400];
    snprintf(more, sizeof more, "%s --append 1", opts);
    json_t *r = run(p2, "o2", more);
    json_int_t second = chats(&s) - first;
    fwt_vlm_stop(&s);
    /* only the new part was asked about */
    json_t *kfs = json_object_get(r, "keyframes"), *obs = json_object_get(r, "observations");
    assert_int_equal(second, (json_int_t)json_array_size(kfs) - first);
    assert_int_equal(json_array_size(kfs), json_array_size(obs));
    /* one timeline: indices and times go on from the first part's end (4 s) */
    double last = -1;
    for (size_t i = 0; i < json_array_size(kfs); i++) {
        json_t *k = json_array_get(kfs, i), *o = json_array_get(obs, i);
        assert_int_equal(json_integer_value(json_object_get(k, "index")), (json_int_t)i);
        double t = json_real_value(json_object_get(k, "time"));
        assert_true(t > last);
        last = t;
        assert_float_equal(json_real_value(json_object_get(o, "time")), t, 1e-9);
        assert_int_equal(access(json_string_value(json_object_get(k, "file")), R_OK), 0);
    }
    const char *blue = NULL;
    for (size_t i = 0; i < json_array_size(obs); i++)
        if (strstr(json_string_value(json_object_get(json_array_get(obs, i), "text")), "blue"))
            blue = json_string_value(json_object_get(json_array_get(obs, i), "text")), last = i;
    assert_non_null(blue);
    assert_float_equal(json_real_value(json_object_get(json_array_get(obs, (size_t)last), "time")),
                       4.0, 0.15);
    /* the story covers both parts */
    json_t *segs = json_object_get(r, "segments");
    assert_int_equal(json_array_size(segs), 4);
    assert_float_equal(json_real_value(json_object_get(json_array_get(segs, 3), "end")), 8.0, 0.15);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "append"), "job")), 1);
    json_decref(r);
    /* a job that does not exist is one line */
    fwt_run bad;
    fwt_fw(&bad, "analyze '%s' -o '%s/o3' --append 99", p2, fwt_tmpdir());
    fwt_expect_usage_error(&bad, "--append 99");
}

static void broken_store_is_one_line(void **state)
{
    (void)state;
    char bad[512];
    snprintf(bad, sizeof bad, "%s/bad.db", fwt_tmpdir());
    FILE *f = fopen(bad, "w");
    for (int i = 0; i < 200; i++)
        fputs("this is not a database; ", f);
    fclose(f);
    fwt_run r;
    fwt_fw(&r, "analyze '%s' -o '%s/o' --store '%s'", colour_clip(), fwt_tmpdir(), bad);
    fwt_expect_usage_error(&r, "not a framewise store");
    fwt_fw(&r, "cache stats --store '%s'", bad);
    fwt_expect_usage_error(&r, "bad.db");
    fwt_fw(&r, "jobs show 7 --store '%s/fresh.db'", fwt_tmpdir());
    fwt_expect_usage_error(&r, "no job 7");
    fwt_fw(&r, "cache shrink");
    fwt_expect_usage_error(&r, "stats, clear or vacuum");
    if (geteuid() != 0) { /* root writes anyway */
        char dir[512];
        snprintf(dir, sizeof dir, "%s/ro", fwt_tmpdir());
        fwt_sh(&r, "mkdir -p '%s' && chmod 555 '%s'", dir, dir);
        fwt_free(&r);
        fwt_fw(&r, "analyze '%s' -o '%s/o' --store '%s/x.db'", colour_clip(), fwt_tmpdir(), dir);
        fwt_expect_usage_error(&r, "x.db");
    }
    /* --no-cache never opens it */
    fwt_fw(&r, "analyze '%s' -o '%s/o' -q --store '%s' --no-cache", colour_clip(), fwt_tmpdir(),
           bad);
    assert_int_equal(r.status, 0);
    fwt_free(&r);
}

static void processes_share_a_store_and_it_can_be_cleared(void **state)
{
    (void)state;
    const char *a = colour_clip();
    const char *b = fwt_video("grey.mp4", "-f lavfi -i color=c=gray:s=160x120:r=10:d=2 "
                                          "-c:v libx264 -preset ultrafast -pix_fmt yuv420p");
    char store[512];
    snprintf(store, sizeof store, "%s/shared.db", fwt_tmpdir());
    fwt_run r;
    /* each run its own output directory ($i outside the quotes): one directory for all
     * made them race on the same files */
    fwt_sh(&r,
           "pids=; for i in 1 2 3; do '%s' analyze '%s' -o '%s/a'$i -q --store '%s' --no-cache & "
           "pids=\"$pids $!\"; '%s' analyze '%s' -o '%s/b'$i -q --store '%s' & pids=\"$pids $!\"; "
           "done; fail=0; for p in $pids; do wait $p || fail=1; done; exit $fail",
           getenv("FRAMEWISE_BIN"), a, fwt_tmpdir(), store, getenv("FRAMEWISE_BIN"), b,
           fwt_tmpdir(), store);
    if (r.status != 0)
        fail_msg("concurrent runs: %s", r.err);
    fwt_free(&r);
    fwt_fw(&r, "cache stats --json --store '%s'", store);
    json_t *st = fwt_json(&r);
    print_message("store after the concurrent runs: %s\n", r.out);
    fwt_free(&r);
    /* the three runs of b at once: each a job (none had a result yet) or a hit; one
     * result; every job done */
    assert_true(json_integer_value(json_object_get(st, "jobs")) >= 1);
    assert_int_equal(
        json_integer_value(json_object_get(st, "jobs")) +
            json_integer_value(json_object_get(json_object_get(st, "counters"), "result_hits")),
        3);
    assert_int_equal(json_integer_value(json_object_get(st, "results")), 1);
    json_decref(st);
    fwt_fw(&r, "jobs --json --store '%s'", store);
    json_t *jobs = fwt_json(&r);
    fwt_free(&r);
    size_t i;
    json_t *j;
    json_array_foreach(jobs, i, j)
        assert_string_equal(json_string_value(json_object_get(j, "state")), "done");
    json_decref(jobs);
    fwt_fw(&r, "cache vacuum --store '%s'", store);
    assert_int_equal(r.status, 0);
    fwt_free(&r);
    fwt_fw(&r, "cache clear --json --store '%s'", store);
    st = fwt_json(&r);
    assert_int_equal(json_integer_value(json_object_get(st, "results")), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "jobs")), 0);
    json_decref(st);
    fwt_free(&r);
}

int main(int argc, char **argv)
{
    fwt_select_test(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(second_run_of_the_same_video_makes_no_requests, fwt_teardown),
        cmocka_unit_test_teardown(what_changes_the_result_misses, fwt_teardown),
        cmocka_unit_test_teardown(run_whose_summary_failed_is_not_asked_again, fwt_teardown),
        cmocka_unit_test_teardown(killed_job_resumes_without_asking_again, fwt_teardown),
        cmocka_unit_test_teardown(reencoded_copy_reuses_most_observations, fwt_teardown),
        cmocka_unit_test_teardown(same_brightness_other_colour_is_asked_again, fwt_teardown),
        cmocka_unit_test_teardown(appended_part_continues_the_timeline, fwt_teardown),
        cmocka_unit_test_teardown(broken_store_is_one_line, fwt_teardown),
        cmocka_unit_test_teardown(processes_share_a_store_and_it_can_be_cleared, fwt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
