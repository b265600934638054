/* framewise analyze through the CLI against the model-server double (tests/server):
 * ordering, retries, faults, window mode, schema fallback, API key, unreachable
 * servers, image budgets. Run one test per process: test_analyze NAME. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fwtest.h"

/* Seven one-second shots of flat colours whose brightness differs a lot between
 * neighbours, so each is a cut; the server names the colour it sees. */
static const char *const colours[] = {"red", "white", "blue", "yellow", "green", "cyan", "magenta"};
#define N_COLOURS 7

static const char *colour_clip(const char *size)
{
    char args[2048] = "";
    size_t n = 0;
    for (int i = 0; i < N_COLOURS; i++)
        n += (size_t)snprintf(args + n, sizeof args - n, "-f lavfi -i color=c=%s:s=%s:r=25:d=1 ",
                              i == 4 ? "0x00ff00" : colours[i], size);
    n += (size_t)snprintf(args + n, sizeof args - n, "-filter_complex '");
    for (int i = 0; i < N_COLOURS; i++)
        n += (size_t)snprintf(args + n, sizeof args - n, "[%d]", i);
    snprintf(args + n, sizeof args - n,
             "concat=n=%d:v=1[v]' -map '[v]' -c:v libx264 -preset ultrafast -pix_fmt yuv420p",
             N_COLOURS);
    return fwt_video(strcmp(size, "320x240") == 0 ? "colours.mp4" : "colours-big.mp4", args);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs analyze with the server's URL; returns report.json (asserts exit 0). The summary
 * is extractive: these tests count the frames' requests (test_story covers the LLM's). */
static json_t *analyze(const fwt_vlm *s, const char *video, const char *opts)
{
    char all[1024];
    snprintf(all, sizeof all, "--url %s --summary extractive %s", s->url, opts);
    return fwt_analyze(video, all);
}

static json_t *obs(json_t *report)
{
    json_t *o = json_object_get(report, "observations");
    assert_true(json_is_array(o));
    return o;
}

static json_int_t stat_of(json_t *report, const char *name)
{
    return json_integer_value(json_object_get(json_object_get(report, "stats"), name));
}

static json_int_t status_count(json_t *server_stats, const char *status)
{
    return json_integer_value(json_object_get(json_object_get(server_stats, "by_status"), status));
}

/* Every keyframe has exactly one observation, in order, and each names the colour
 * shown at its time. */
static void check_colours(json_t *report)
{
    json_t *kfs = json_object_get(report, "keyframes");
    assert_int_equal(json_array_size(kfs), N_COLOURS);
    assert_int_equal(json_array_size(obs(report)), N_COLOURS);
    double last = -1;
    for (size_t i = 0; i < N_COLOURS; i++) {
        json_t *o = json_array_get(obs(report), i);
        double t = json_real_value(json_object_get(o, "time"));
        assert_int_equal(json_integer_value(json_object_get(o, "keyframe")), (json_int_t)i);
        assert_true(t > last);
        last = t;
        int shot = (int)floor(t + 0.1);
        const char *text = json_string_value(json_object_get(o, "text"));
        if (!text || !strstr(text, colours[shot]))
            fail_msg("observation %zu at %.2f s: '%s', expected %s", i, t, text, colours[shot]);
        assert_null(json_object_get(o, "error"));
    }
}

static void observations_in_time_order_match_frames(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--latency 20 --jitter 400 --slots 4");
    json_t *rep = analyze(&s, colour_clip("320x240"), "--concurrency 4");
    check_colours(rep);
    json_t *st = fwt_vlm_stats(&s);
    /* answers came back out of order (random latency), yet none lost or doubled */
    assert_int_equal(json_integer_value(json_object_get(st, "chat_requests")), N_COLOURS);
    assert_int_equal(json_integer_value(json_object_get(st, "answered")), N_COLOURS);
    json_int_t inflight = json_integer_value(json_object_get(st, "max_inflight"));
    assert_true(inflight >= 2 && inflight <= 4);
    assert_int_equal(stat_of(rep, "requests"), N_COLOURS);
    assert_int_equal(stat_of(rep, "failed"), 0);
    json_t *o0 = json_array_get(obs(rep), 0);
    assert_string_equal(json_string_value(json_object_get(o0, "model")), "fwtest-vl");
    assert_string_equal(json_string_value(json_object_get(o0, "backend")), "openai");
    assert_true(json_is_object(json_object_get(o0, "fields")));
    assert_true(json_string_length(json_object_get(json_object_get(o0, "fields"), "description")) >
                0);
    /* logprobs were asked for and turned into a confidence */
    double conf = json_real_value(json_object_get(o0, "confidence"));
    assert_true(conf > 0.9 && conf < 1.0);
    json_decref(st);
    json_decref(rep);
    fwt_vlm_stop(&s);
}

static void retries_recover_transient_errors(void **state)
{
    (void)state;
    fwt_vlm s;
    /* the first five requests fail, each in its own way */
    fwt_vlm_start(&s, "--fault 429:1@first=1 --fault 503@first=1 --fault malformed@first=1 "
                      "--fault truncated@first=1 --fault 502@first=1");
    double t0 = now_s();
    json_t *rep = analyze(&s, colour_clip("320x240"), "--concurrency 2");
    double wall = now_s() - t0;
    check_colours(rep);
    assert_int_equal(stat_of(rep, "retries"), 5);
    assert_int_equal(stat_of(rep, "requests"), N_COLOURS + 5);
    assert_int_equal(stat_of(rep, "failed"), 0);
    json_t *st = fwt_vlm_stats(&s);
    assert_int_equal(json_integer_value(json_object_get(st, "answered")), N_COLOURS);
    assert_int_equal(status_count(st, "429"), 1);
    assert_int_equal(status_count(st, "503"), 1);
    int retried = 0;
    for (size_t i = 0; i < N_COLOURS; i++)
        retried += json_integer_value(json_object_get(json_array_get(obs(rep), i), "attempts")) > 1;
    assert_true(retried >= 1);
    assert_true(wall >= 1.0); /* Retry-After: 1 was waited */
    json_decref(st);
    json_decref(rep);
    fwt_vlm_stop(&s);
}

static void frame_that_keeps_failing_is_recorded_and_job_goes_on(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--fault 503@colour=blue");
    json_t *rep = analyze(&s, colour_clip("320x240"), "--retries 1");
    assert_int_equal(json_array_size(obs(rep)), N_COLOURS);
    int failed = 0;
    for (size_t i = 0; i < N_COLOURS; i++) {
        json_t *o = json_array_get(obs(rep), i);
        const char *err = json_string_value(json_object_get(o, "error"));
        if (err) {
            failed++;
            assert_int_equal((int)floor(json_real_value(json_object_get(o, "time")) + 0.1), 2);
            assert_non_null(strstr(err, "HTTP 503"));
            assert_non_null(strstr(err, "after 2 attempts"));
            assert_int_equal(json_integer_value(json_object_get(o, "attempts")), 2);
        }
    }
    assert_int_equal(failed, 1);
    assert_int_equal(stat_of(rep, "failed"), 1);
    json_decref(rep);
    fwt_vlm_stop(&s);
}

static void timeout_is_retried(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--fault timeout:4@first=1");
    json_t *rep = analyze(&s, colour_clip("320x240"), "--timeout 1 --concurrency 2");
    check_colours(rep);
    assert_int_equal(stat_of(rep, "retries"), 1);
    json_decref(rep);
    fwt_vlm_stop(&s);
}

static void window_mode_splits_answers_per_frame(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "%s", "");
    json_t *rep = analyze(&s, colour_clip("320x240"), "--window 3");
    check_colours(rep);
    json_t *st = fwt_vlm_stats(&s);
    assert_int_equal(json_integer_value(json_object_get(st, "answered")), 3); /* 3 + 3 + 1 */
    assert_int_equal(json_integer_value(json_object_get(st, "images")), N_COLOURS);
    for (size_t i = 0; i < N_COLOURS; i++) {
        json_t *flags = json_object_get(json_array_get(obs(rep), i), "flags");
        for (size_t f = 0; f < json_array_size(flags); f++)
            assert_string_not_equal(json_string_value(json_array_get(flags, f)), "window");
    }
    json_decref(st);
    json_decref(rep);
    fwt_vlm_stop(&s);
    /* all seven in one request: each image labelled with its time, the window schema */
    fwt_vlm_start(&s, "%s", "");
    rep = analyze(&s, colour_clip("320x240"), "--window 7");
    check_colours(rep);
    st = fwt_vlm_stats(&s);
    assert_int_equal(json_integer_value(json_object_get(st, "answered")), 1);
    char *text = json_dumps(json_object_get(st, "last_request"), 0);
    assert_non_null(strstr(text, "Frame 1 at 00:00.0 <0.0 seconds>"));
    assert_non_null(strstr(text, "Frame 7 at 00:06"));
    assert_non_null(strstr(text, "frame_window"));
    free(text);
    json_decref(st);
    json_decref(rep);
    fwt_vlm_stop(&s);
}

static void window_too_big_for_the_server_is_split(void **state)
{
    (void)state;
    fwt_vlm s;
    /* llama-server: one frame fits the slot's context, three do not (the server does not
     * say its context: the 400 splits the window) */
    fwt_vlm_start(&s, "--ctx 420 --hide-ctx");
    json_t *rep =
        analyze(&s, colour_clip("320x240"), "--window 3 --concurrency 1 --whole-frames 1");
    check_colours(rep);
    json_t *st = fwt_vlm_stats(&s);
    assert_true(status_count(st, "400") >= 1);
    assert_int_equal(json_integer_value(json_object_get(st, "answered")), N_COLOURS);
    assert_int_equal(stat_of(rep, "failed"), 0);
    json_decref(st);
    json_decref(rep);
    fwt_vlm_stop(&s);
    /* vLLM: at most two images per prompt */
    fwt_vlm_start(&s, "--max-images 2");
    rep = analyze(&s, colour_clip("320x240"), "--window 3 --concurrency 1");
    check_colours(rep);
    assert_int_equal(stat_of(rep, "failed"), 0);
    json_decref(rep);
    fwt_vlm_stop(&s);
}

static int has_flag(json_t *o, const char *name)
{
    json_t *flags = json_object_get(o, "flags");
    for (size_t f = 0; f < json_array_size(flags); f++)
        if (strcmp(json_string_value(json_array_get(flags, f)), name) == 0)
            return 1;
    return 0;
}

static void schema_rejected_falls_back_to_lenient_parsing(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--no-schema");
    json_t *rep = analyze(&s, colour_clip("320x240"), "--concurrency 1");
    check_colours(rep);
    json_t *st = fwt_vlm_stats(&s);
    assert_int_equal(status_count(st, "400"), 1); /* rejected once, then never asked again */
    assert_int_equal(json_integer_value(json_object_get(st, "schema_requests")), 0);
    for (size_t i = 0; i < N_COLOURS; i++) {
        json_t *o = json_array_get(obs(rep), i);
        assert_true(has_flag(o, "schema_fallback"));
        assert_false(has_flag(o, "unstructured")); /* the fenced JSON was found */
        assert_true(json_is_array(json_object_get(json_object_get(o, "fields"), "objects")));
    }
    json_decref(st);
    json_decref(rep);
    fwt_vlm_stop(&s);

    fwt_vlm_start(&s, "--no-schema --prose");
    rep = analyze(&s, colour_clip("320x240"), "");
    json_t *o = json_array_get(obs(rep), 0);
    assert_true(has_flag(o, "unstructured"));
    assert_true(strncmp(json_string_value(json_object_get(o, "text")), "I see", 5) == 0);
    json_decref(rep);
    fwt_vlm_stop(&s);
}

static void api_key_is_sent_and_never_printed(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--api-key s3cret-key");
    const char *clip = colour_clip("320x240");
    fwt_run r;
    fwt_fw(&r, "analyze '%s' --url %s -o '%s/out' --json --summary extractive", clip, s.url,
           fwt_tmpdir());
    assert_int_not_equal(r.status, 0); /* no key: refused */
    assert_int_equal(r.status, 1);
    assert_int_equal(fwt_lines(r.err), 1);
    assert_non_null(strstr(r.err, "401"));
    assert_non_null(strstr(r.err, "Invalid API Key"));
    fwt_free(&r);
    fwt_sh(&r, "FRAMEWISE_API_KEY=s3cret-key '%s' analyze '%s' --url %s -o '%s/out' --json",
           getenv("FRAMEWISE_BIN"), clip, s.url, fwt_tmpdir());
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.out, "s3cret"));
    assert_null(strstr(r.err, "s3cret"));
    char path[512];
    snprintf(path, sizeof path, "%s/out/report.json", fwt_tmpdir());
    char *report = fwt_slurp(path);
    assert_null(strstr(report, "s3cret"));
    assert_non_null(strstr(report, "\"api-key\": \"(set)\""));
    free(report);
    fwt_free(&r);
    /* --no-cache: the same video and settings would be the stored result, with no request */
    fwt_sh(&r, "OPENAI_API_KEY=s3cret-key '%s' analyze '%s' --url %s -o '%s/out' -q --no-cache",
           getenv("FRAMEWISE_BIN"), clip, s.url, fwt_tmpdir());
    assert_int_equal(r.status, 0);
    fwt_free(&r);
    json_t *st = fwt_vlm_stats(&s);
    /* every frame, and each run's summary request: the key goes to the LLM too */
    assert_int_equal(json_integer_value(json_object_get(st, "authorized")), 2 * N_COLOURS + 2);
    assert_int_equal(json_integer_value(json_object_get(st, "summary_requests")), 2);
    json_decref(st);
    fwt_vlm_stop(&s);
}

static void unreachable_server_fails_fast_naming_it(void **state)
{
    (void)state;
    const char *clip = colour_clip("320x240");
    fwt_vlm s;
    fwt_vlm_start(&s, "--hang");                   /* accepts connections, never answers */
    const char *urls[] = {"http://127.0.0.1:9/v1", /* closed port: refused at once */
                          s.url};                  /* silent: the 5 s limit */
    for (int i = 0; i < 2; i++) {
        fwt_run r;
        double t0 = now_s();
        fwt_fw(&r, "analyze '%s' --url %s -o '%s/out'", clip, urls[i], fwt_tmpdir());
        double took = now_s() - t0;
        int ok = r.status == 1 && fwt_lines(r.err) == 1 && strstr(r.err, urls[i]) &&
                 strstr(r.err, "cannot reach the model server");
        char err[512];
        snprintf(err, sizeof err, "%s", r.err);
        fwt_free(&r);
        if (!ok)
            fail_msg("%s: not the one-line error: %s", urls[i], err);
        /* The probe gives up after 5 s; asking the frames instead would take the request
         * timeout (120 s) with its retries. Wall time on a loaded 2-core machine under
         * ASan took 6.6 s once, so the bound tells the two apart without timing the probe. */
        if (took > 30)
            fail_msg("%s: %.1f s to report an unreachable server", urls[i], took);
    }
    fwt_vlm_stop(&s);
}

static void image_budget_sets_size_and_tokens(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "%s", "");
    /* 1280x720 under 100 tokens: 416x224 (13 x 7 = 91 tokens) */
    json_t *rep = analyze(&s, colour_clip("1280x720"), "--max-image-tokens 100");
    json_t *st = fwt_vlm_stats(&s);
    json_t *sizes = json_object_get(st, "image_sizes");
    assert_int_equal(json_array_size(sizes), N_COLOURS);
    for (size_t i = 0; i < N_COLOURS; i++) {
        json_t *wh = json_array_get(sizes, i);
        assert_int_equal(json_integer_value(json_array_get(wh, 0)), 416);
        assert_int_equal(json_integer_value(json_array_get(wh, 1)), 224);
        json_t *kf = json_array_get(json_object_get(rep, "keyframes"), i);
        assert_int_equal(json_integer_value(json_object_get(kf, "image_tokens")), 91);
    }
    assert_int_equal(stat_of(rep, "image_tokens"), 91 * N_COLOURS);
    json_decref(st);
    json_decref(rep);
    /* the default budget: 0.45 MP, 896x480 for 16:9 (420 tokens) */
    rep = analyze(&s, colour_clip("1280x720"), "");
    json_t *kf = json_array_get(json_object_get(rep, "keyframes"), 0);
    assert_int_equal(json_integer_value(json_object_get(kf, "width")), 896);
    assert_int_equal(json_integer_value(json_object_get(kf, "height")), 480);
    assert_int_equal(json_integer_value(json_object_get(kf, "image_tokens")), 420);
    json_decref(rep);
    fwt_vlm_stop(&s);
}

static void server_slots_set_the_default_concurrency(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--slots 2 --latency 150");
    json_t *rep = analyze(&s, colour_clip("320x240"), "");
    json_t *st = fwt_vlm_stats(&s);
    assert_int_equal(json_integer_value(json_object_get(st, "max_inflight")), 2);
    json_decref(st);
    json_decref(rep);
    fwt_vlm_stop(&s);
}

static void usage_and_server_errors_are_one_line(void **state)
{
    (void)state;
    const char *clip = colour_clip("320x240");
    fwt_run r;
    /* the openai backend asked for without a server (without one, local is the default) */
    fwt_sh(&r, "env -u FRAMEWISE_VLM_URL '%s' analyze '%s' --backend openai -o '%s/out'",
           getenv("FRAMEWISE_BIN"), clip, fwt_tmpdir());
    fwt_expect_usage_error(&r, "--url");
    fwt_fw(&r, "analyze '%s' --backend magic -o '%s/out'", clip, fwt_tmpdir());
    fwt_expect_usage_error(&r, "'magic'");
    fwt_fw(&r, "analyze '%s' --url ftp://x -o '%s/out'", clip, fwt_tmpdir());
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "ftp://x"));
    fwt_free(&r);
    fwt_fw(&r, "analyze '%s' --url http://127.0.0.1:9 --prompt-file /nonexistent -o '%s/out'", clip,
           fwt_tmpdir());
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "/nonexistent"));
    fwt_free(&r);
    fwt_vlm s;
    fwt_vlm_start(&s, "--strict-model");
    fwt_fw(&r, "analyze '%s' --url %s --model nope -o '%s/out'", clip, s.url, fwt_tmpdir());
    assert_int_equal(r.status, 1);
    assert_int_equal(fwt_lines(r.err), 1);
    assert_non_null(strstr(r.err, "The model `nope` does not exist"));
    fwt_free(&r);
    /* FRAMEWISE_VLM_URL stands for --url; --prompt-file for --prompt */
    char pf[512];
    snprintf(pf, sizeof pf, "%s/prompt.txt", fwt_tmpdir());
    FILE *f = fopen(pf, "w");
    fputs("Which colour fills this frame?", f);
    fclose(f);
    fwt_sh(&r, "FRAMEWISE_VLM_URL=%s '%s' analyze '%s' --prompt-file '%s' -o '%s/out' --json",
           s.url, getenv("FRAMEWISE_BIN"), clip, pf, fwt_tmpdir());
    assert_int_equal(r.status, 0);
    json_t *rep = fwt_json(&r);
    assert_string_equal(json_string_value(json_object_get(rep, "schema")), "framewise.report/1");
    assert_int_equal(json_array_size(obs(rep)), N_COLOURS);
    json_t *st = fwt_vlm_stats(&s);
    char *last = json_dumps(json_object_get(st, "last_request"), 0);
    assert_non_null(strstr(last, "Which colour fills this frame?"));
    free(last);
    json_decref(st);
    json_decref(rep);
    fwt_free(&r);
    /* a preset's prompt does not replace the file's */
    fwt_sh(&r,
           "FRAMEWISE_VLM_URL=%s '%s' analyze '%s' --preset support --prompt-file '%s' "
           "-o '%s/out2' --json --no-cache",
           s.url, getenv("FRAMEWISE_BIN"), clip, pf, fwt_tmpdir());
    assert_int_equal(r.status, 0);
    st = fwt_vlm_stats(&s);
    last = json_dumps(json_object_get(st, "last_request"), 0);
    assert_non_null(strstr(last, "Which colour fills this frame?"));
    free(last);
    json_decref(st);
    fwt_free(&r);
    fwt_vlm_stop(&s);
}

static void real_clip_every_keyframe_observed(void **state)
{
    (void)state;
    const char *clip = fwt_real("pyscenedetect-testvideo.mp4");
    fwt_skip_without(clip);
    fwt_vlm s;
    fwt_vlm_start(&s, "--latency 30 --jitter 100");
    json_t *rep = analyze(&s, clip, "--window 2");
    size_t n = json_array_size(json_object_get(rep, "keyframes"));
    assert_true(n >= 4);
    assert_int_equal(json_array_size(obs(rep)), n);
    assert_int_equal(stat_of(rep, "failed"), 0);
    json_t *st = fwt_vlm_stats(&s);
    assert_int_equal(json_integer_value(json_object_get(st, "images")), (json_int_t)n);
    json_decref(st);
    json_decref(rep);
    fwt_vlm_stop(&s);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(observations_in_time_order_match_frames, fwt_teardown),
        cmocka_unit_test_teardown(retries_recover_transient_errors, fwt_teardown),
        cmocka_unit_test_teardown(frame_that_keeps_failing_is_recorded_and_job_goes_on,
                                  fwt_teardown),
        cmocka_unit_test_teardown(timeout_is_retried, fwt_teardown),
        cmocka_unit_test_teardown(window_mode_splits_answers_per_frame, fwt_teardown),
        cmocka_unit_test_teardown(window_too_big_for_the_server_is_split, fwt_teardown),
        cmocka_unit_test_teardown(schema_rejected_falls_back_to_lenient_parsing, fwt_teardown),
        cmocka_unit_test_teardown(api_key_is_sent_and_never_printed, fwt_teardown),
        cmocka_unit_test_teardown(unreachable_server_fails_fast_naming_it, fwt_teardown),
        cmocka_unit_test_teardown(image_budget_sets_size_and_tokens, fwt_teardown),
        cmocka_unit_test_teardown(server_slots_set_the_default_concurrency, fwt_teardown),
        cmocka_unit_test_teardown(usage_and_server_errors_are_one_line, fwt_teardown),
        cmocka_unit_test_teardown(real_clip_every_keyframe_observed, fwt_teardown),
    };
    fwt_select_test(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
