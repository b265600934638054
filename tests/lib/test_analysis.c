/* One analysis through the public API only (fw_analysis_*): what a library caller with
 * default settings gets, the events in order, a cancel from another thread, the store's
 * result given back, and bad options refused at open. */
#include <jansson.h>
#include <pthread.h>
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

#include "framewise.h"
#include "fwtest.h"

/* ---- the events a run gave ---- */

typedef struct seen {
    int n, cap;
    fw_event_type *type;
    char **name;
    char **stage; /* a stage or progress event's stage, else NULL */
    json_t **json;
    /* cancel: the first keyframe event hands over to the canceller and waits for it */
    fw_analysis *a;
    int cancel_on_keyframe;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int keyframe_seen, cancelled;
} seen;

static void on_event(void *user, const fw_event *ev)
{
    seen *s = user;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->type = realloc(s->type, (size_t)s->cap * sizeof *s->type);
        s->name = realloc(s->name, (size_t)s->cap * sizeof *s->name);
        s->stage = realloc(s->stage, (size_t)s->cap * sizeof *s->stage);
        s->json = realloc(s->json, (size_t)s->cap * sizeof *s->json);
    }
    s->type[s->n] = ev->type;
    s->name[s->n] = strdup(ev->name);
    s->stage[s->n] = ev->stage ? strdup(ev->stage) : NULL;
    s->json[s->n] = json_loads(ev->json, 0, NULL);
    s->n++;
    if (s->cancel_on_keyframe && ev->type == FW_EVENT_KEYFRAME && !s->keyframe_seen) {
        pthread_mutex_lock(&s->mu);
        s->keyframe_seen = 1;
        pthread_cond_broadcast(&s->cv);
        while (!s->cancelled) /* the run cannot end before the cancel was asked */
            pthread_cond_wait(&s->cv, &s->mu);
        pthread_mutex_unlock(&s->mu);
    }
}

static void seen_free(seen *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->name[i]);
        free(s->stage[i]);
        json_decref(s->json[i]);
    }
    free(s->name);
    free(s->type);
    free(s->stage);
    free(s->json);
}

static int index_of(const seen *s, fw_event_type type, const char *stage)
{
    for (int i = 0; i < s->n; i++)
        if (s->type[i] == type && (!stage || (s->stage[i] && !strcmp(s->stage[i], stage))))
            return i;
    return -1;
}

static int count(const seen *s, fw_event_type type)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        n += s->type[i] == type;
    return n;
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static json_int_t integer(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static const char *out_dir(const char *name)
{
    static char dir[8][512];
    static int next;
    char *d = dir[next++ % 8];
    snprintf(d, 512, "%s/%s", fwt_tmpdir(), name);
    return d;
}

static int exists(const char *dir, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return access(path, R_OK) == 0;
}

/* A shop's screen: a greeting, and from 2 s a line with a term of the safety lexicon. */
static const char *shop_clip(void)
{
    char args[1024];
    snprintf(args, sizeof args,
             "-f lavfi -i color=c=white:s=640x360:r=10:d=4 -vf \""
             "drawtext=fontfile=%s:text='Welcome to the shop':x=40:y=30:fontsize=30:"
             "fontcolor=black,"
             "drawtext=fontfile=%s:text='Buy cocaine here':x=40:y=120:fontsize=30:"
             "fontcolor=black:enable='gte(t,2)'\" -c:v libx264 -preset ultrafast -pix_fmt yuv420p",
             FWT_FONT, FWT_FONT);
    return fwt_video("shop.mp4", args);
}

/* Opens and runs with default settings into dir (the store: the test's own). */
static int analyse(const char *clip, const char *dir, seen *s, fw_analysis **out, fw_error *err)
{
    fw_params p = fw_params_default();
    fw_analysis_opts o = fw_analysis_opts_default();
    o.out_dir = dir;
    assert_int_equal(fw_analysis_open(out, clip, &p, &o, err), 0);
    assert_int_equal(fw_analysis_get_state(*out), FW_ANALYSIS_READY);
    return fw_analysis_run(*out, on_event, s, err);
}

/* ---- the tests ---- */

static int is_record(fw_event_type t)
{
    return t >= FW_EVENT_KEYFRAME && t <= FW_EVENT_REVIEW;
}

/* The product's defaults reach a library caller: the image budget, the general preset's
 * events and safety lexicons (and the review they make). */
static void expect_product_defaults(json_t *rep)
{
    json_t *settings = json_object_get(rep, "settings");
    assert_int_equal(integer(settings, "max-pixels"), FW_ANALYSIS_MAX_PIXELS);
    assert_non_null(strstr(str(settings, "lexicon"), "safety-en.txt"));
    assert_true(integer(json_object_get(rep, "fusion"), "event_definitions") > 0);
    json_t *review = json_object_get(rep, "review");
    assert_true(integer(review, "terms") > 0);
    assert_true(json_is_true(json_object_get(review, "required")));
    int cocaine = 0;
    size_t r;
    json_t *reason;
    json_array_foreach(json_object_get(review, "reasons"), r, reason) cocaine |=
        strcmp(str(reason, "term"), "cocaine") == 0;
    assert_true(cocaine);
    assert_true(json_array_size(json_object_get(rep, "observations")) >= 2);
}

/* Decode first, the stages in order, each keyframe before its observation, progress that
 * never goes back and ends at 1, done last. */
static void expect_events_in_order(const seen *s, json_t *rep)
{
    assert_true(s->n > 4);
    assert_int_equal(s->type[0], FW_EVENT_STAGE);
    assert_string_equal(s->stage[0], "decode");
    int an = index_of(s, FW_EVENT_STAGE, "analyze"), story = index_of(s, FW_EVENT_STAGE, "story");
    assert_true(0 < an && an < story && story < index_of(s, FW_EVENT_STAGE, "write"));
    assert_int_equal(s->type[s->n - 1], FW_EVENT_DONE);
    assert_string_equal(str(s->json[s->n - 1], "state"), "done");
    assert_false(json_is_true(json_object_get(s->json[s->n - 1], "cached")));
    double fraction = 0;
    for (int i = 0; i < s->n; i++) {
        assert_string_equal(str(s->json[i], "type"), s->name[i]); /* the record's type */
        if (s->type[i] == FW_EVENT_PROGRESS) {
            double f = json_number_value(json_object_get(s->json[i], "fraction"));
            assert_true(f >= fraction && f <= 1);
            fraction = f;
        }
        if (s->type[i] != FW_EVENT_OBSERVATION)
            continue;
        int kf_at = -1;
        for (int j = 0; j < i; j++)
            if (s->type[j] == FW_EVENT_KEYFRAME &&
                integer(s->json[j], "index") == integer(s->json[i], "keyframe"))
                kf_at = j;
        assert_true(kf_at >= 0);
    }
    assert_float_equal(fraction, 1.0, 1e-9);
    assert_int_equal(count(s, FW_EVENT_KEYFRAME),
                     (int)json_array_size(json_object_get(rep, "keyframes")));
    assert_int_equal(count(s, FW_EVENT_SUMMARY), 1);
    assert_int_equal(count(s, FW_EVENT_REVIEW), 1);
}

/* Every file, report.jsonl the record events in order, report.json the report. */
static void expect_files(const char *dir, const seen *s, json_t *rep)
{
    const char *files[] = {"report.json", "report.jsonl", "captions.vtt", "captions.srt",
                           "report.md",   "report.html",  "kf_000000.jpg"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        assert_true(exists(dir, files[i]));
    char path[1024];
    snprintf(path, sizeof path, "%s/report.jsonl", dir);
    char *jl = fwt_slurp(path), *save = NULL;
    int at = 0;
    for (char *l = strtok_r(jl, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        while (at < s->n && !is_record(s->type[at]))
            at++;
        assert_true(at < s->n);
        json_t *rec = json_loads(l, 0, NULL);
        assert_true(json_equal(rec, s->json[at++]));
        json_decref(rec);
    }
    free(jl);
    for (; at < s->n; at++)
        assert_false(is_record(s->type[at]));
    snprintf(path, sizeof path, "%s/report.json", dir);
    json_t *file = fwt_json_file(path);
    assert_true(json_equal(file, rep));
    json_decref(file);
}

static void default_params_get_the_budget_the_general_preset_and_every_file(void **state)
{
    (void)state;
    const char *dir = out_dir("out");
    seen s = {0};
    fw_analysis *a;
    fw_error err = {0};
    assert_int_equal(analyse(shop_clip(), dir, &s, &a, &err), 0);
    assert_int_equal(fw_analysis_get_state(a), FW_ANALYSIS_DONE);
    assert_int_equal(fw_analysis_params(a)->max_pixels, FW_ANALYSIS_MAX_PIXELS);
    json_t *rep = json_loads(fw_analysis_report(a), 0, NULL);
    assert_non_null(rep);
    expect_product_defaults(rep);
    expect_events_in_order(&s, rep);
    expect_files(dir, &s, rep);
    assert_int_equal(fw_analysis_run(a, on_event, &s, &err), FW_EINVAL); /* runs once */
    json_decref(rep);
    fw_analysis_close(a);
    seen_free(&s);
}

static void *canceller(void *arg)
{
    seen *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->keyframe_seen)
        pthread_cond_wait(&s->cv, &s->mu);
    fw_analysis_cancel(s->a); /* from this thread, while the run goes on in the other */
    s->cancelled = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Runs a with a canceller thread that cancels it on the first keyframe event. */
static int run_cancelled(fw_analysis *a, seen *s, fw_error *err)
{
    *s = (seen){.a = a, .cancel_on_keyframe = 1};
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, canceller, s), 0);
    int rc = fw_analysis_run(a, on_event, s, err);
    pthread_join(t, NULL);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    return rc;
}

static void cancel_from_another_thread_keeps_what_was_done(void **state)
{
    (void)state;
    /* 600 keyframes (one per frame): far more events than the analysis may queue while
     * its callback waits, so it stops on the cancel, not at the end of the video */
    const char *clip = fwt_video("long.mp4", "-f lavfi -i testsrc2=s=160x120:r=10:d=60 "
                                             "-c:v libx264 -preset ultrafast -pix_fmt yuv420p");
    const char *dir = out_dir("cancelled");
    fw_params p = fw_params_default();
    p.policy = FW_POLICY_INTERVAL;
    p.fps = 10;
    const char *chosen[] = {"policy", "fps", NULL};
    fw_analysis_opts o = fw_analysis_opts_default();
    o.out_dir = dir;
    o.chosen = chosen;
    o.preset = "none";
    fw_analysis *a;
    fw_error err = {0};
    assert_int_equal(fw_analysis_open(&a, clip, &p, &o, &err), 0);
    seen s;
    assert_int_equal(run_cancelled(a, &s, &err), FW_ECANCELED);
    assert_non_null(strstr(err.message, "cancelled"));
    assert_int_equal(fw_analysis_get_state(a), FW_ANALYSIS_CANCELLED);
    assert_int_equal(s.type[s.n - 1], FW_EVENT_DONE);
    assert_string_equal(str(s.json[s.n - 1], "state"), "cancelled");
    /* the report holds what was done, and says it was cancelled */
    json_t *rep = json_loads(fw_analysis_report(a), 0, NULL);
    assert_non_null(rep);
    assert_true(json_is_true(json_object_get(rep, "cancelled")));
    assert_non_null(strstr(str(rep, "error"), "cancelled"));
    json_t *stats = json_object_get(rep, "stats");
    size_t kfs = json_array_size(json_object_get(rep, "keyframes"));
    assert_true(kfs >= 1 && kfs < 600);
    assert_true(integer(stats, "frames_decoded") < 600);
    assert_true(json_array_size(json_object_get(rep, "observations")) <= kfs);
    assert_int_equal(count(&s, FW_EVENT_KEYFRAME), (int)kfs);
    char path[1024];
    snprintf(path, sizeof path, "%s/report.json", dir);
    json_t *file = fwt_json_file(path);
    assert_true(json_is_true(json_object_get(file, "cancelled")));
    assert_int_equal(json_array_size(json_object_get(file, "keyframes")), kfs);
    json_decref(file);
    json_decref(rep);
    fw_analysis_close(a);
    seen_free(&s);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Three colours of a second: three keyframes. */
static const char *colour_clip(void)
{
    return fwt_video("colours.mp4", "-f lavfi -i color=c=red:s=160x120:r=10:d=1 -f lavfi -i "
                                    "color=c=white:s=160x120:r=10:d=1 -f lavfi -i "
                                    "color=c=blue:s=160x120:r=10:d=1 -filter_complex "
                                    "'[0][1][2]concat=n=3:v=1[v]' -map '[v]' -c:v libx264 "
                                    "-preset ultrafast -pix_fmt yuv420p");
}

static void cancel_abandons_the_model_requests_in_flight(void **state)
{
    (void)state;
    fwt_vlm vlm;
    fwt_vlm_start(&vlm, "--latency 6000"); /* no answer comes before the run is over */
    fw_params p = fw_params_default();
    p.url = vlm.url;
    p.concurrency = 1;
    const char *chosen[] = {"url", "concurrency", NULL};
    fw_analysis_opts o = fw_analysis_opts_default();
    o.out_dir = out_dir("out");
    o.chosen = chosen;
    fw_analysis *a;
    fw_error err = {0};
    assert_int_equal(fw_analysis_open(&a, colour_clip(), &p, &o, &err), 0);
    seen s;
    double t0 = now_s();
    assert_int_equal(run_cancelled(a, &s, &err), FW_ECANCELED);
    double took = now_s() - t0;
    json_t *st = fwt_vlm_stats(&vlm);
    fwt_vlm_stop(&vlm);
    /* the request in flight was left, no other was sent (no summary either), and the run
     * did not wait for its answer */
    assert_true(integer(st, "chat_requests") <= 1);
    assert_int_equal(integer(st, "answered"), 0);
    assert_int_equal(integer(st, "summary_requests"), 0);
    print_message("stopped in %.2f s with a request in flight\n", took);
    if (took > 4)
        fail_msg("%.1f s to stop with a request in flight", took);
    assert_int_equal(fw_analysis_get_state(a), FW_ANALYSIS_CANCELLED);
    json_t *rep = json_loads(fw_analysis_report(a), 0, NULL);
    assert_true(json_is_true(json_object_get(rep, "cancelled")));
    assert_int_equal(json_array_size(json_object_get(rep, "observations")), 0);
    assert_true(json_array_size(json_object_get(rep, "keyframes")) >= 1);
    json_decref(rep);
    json_decref(st);
    fw_analysis_close(a);
    seen_free(&s);
}

static void cached_second_run_gives_the_result_back_without_decoding(void **state)
{
    (void)state;
    const char *clip = colour_clip();
    seen first = {0}, second = {0};
    fw_analysis *a, *b;
    fw_error err = {0};
    assert_int_equal(analyse(clip, out_dir("first"), &first, &a, &err), 0);
    const char *dir = out_dir("second");
    assert_int_equal(analyse(clip, dir, &second, &b, &err), 0);
    assert_int_equal(fw_analysis_get_state(b), FW_ANALYSIS_DONE);
    /* no decoding: no decode stage, no decode progress */
    assert_int_equal(index_of(&second, FW_EVENT_STAGE, "decode"), -1);
    assert_int_equal(index_of(&second, FW_EVENT_PROGRESS, "decode"), -1);
    json_t *done = second.json[second.n - 1];
    assert_int_equal(second.type[second.n - 1], FW_EVENT_DONE);
    assert_true(json_is_true(json_object_get(done, "cached")));
    assert_string_equal(str(done, "state"), "done");
    /* the same records and report, with its keyframes in the new folder */
    assert_int_equal(count(&second, FW_EVENT_KEYFRAME), count(&first, FW_EVENT_KEYFRAME));
    assert_int_equal(count(&second, FW_EVENT_OBSERVATION), count(&first, FW_EVENT_OBSERVATION));
    json_t *ra = json_loads(fw_analysis_report(a), 0, NULL);
    json_t *rb = json_loads(fw_analysis_report(b), 0, NULL);
    assert_string_equal(str(json_object_get(rb, "cache"), "hit"), "result");
    assert_true(
        json_equal(json_object_get(ra, "observations"), json_object_get(rb, "observations")));
    assert_true(json_equal(json_object_get(ra, "segments"), json_object_get(rb, "segments")));
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(rb, "keyframes"), i, k)
    {
        assert_non_null(strstr(str(k, "file"), "/second/"));
        assert_int_equal(access(str(k, "file"), R_OK), 0);
    }
    assert_true(exists(dir, "report.html"));
    json_decref(ra);
    json_decref(rb);
    fw_analysis_close(a);
    fw_analysis_close(b);
    seen_free(&first);
    seen_free(&second);
}

/* One second of white. */
static const char *tiny_clip(void)
{
    return fwt_video("tiny.mp4", "-f lavfi -i color=c=white:s=160x120:r=5:d=1 "
                                 "-c:v libx264 -preset ultrafast -pix_fmt yuv420p");
}

static int open_error(const char *clip, fw_params *p, const fw_analysis_opts *o, fw_error *err)
{
    fw_analysis *a = NULL;
    memset(err, 0, sizeof *err);
    int rc = fw_analysis_open(&a, clip, p, o, err);
    assert_null(a);
    return rc;
}

static void bad_options_are_einval_naming_them(void **state)
{
    (void)state;
    const char *clip = tiny_clip();
    fw_params p = fw_params_default();
    fw_analysis_opts o = fw_analysis_opts_default();
    fw_error err;
    const char *bad[] = {"max-gap", "max-gapp", NULL};
    o.chosen = bad;
    assert_int_equal(open_error(clip, &p, &o, &err), FW_EINVAL);
    assert_non_null(strstr(err.message, "'max-gapp'"));
    o = fw_analysis_opts_default();
    char preset[512];
    snprintf(preset, sizeof preset, "%s/mine.json", fwt_tmpdir());
    FILE *f = fopen(preset, "w");
    fputs("{\"settings\": {\"bogus-setting\": 3}}", f);
    fclose(f);
    o.preset = preset;
    assert_int_equal(open_error(clip, &p, &o, &err), FW_EINVAL);
    assert_non_null(strstr(err.message, "'bogus-setting'"));
    f = fopen(preset, "w"); /* a number where a string setting is kept by pointer */
    fputs("{\"settings\": {\"model\": 7}}", f);
    fclose(f);
    assert_int_equal(open_error(clip, &p, &o, &err), FW_EINVAL);
    assert_non_null(strstr(err.message, "setting 'model' must be a string"));
    o.preset = "nope";
    assert_int_equal(open_error(clip, &p, &o, &err), FW_EINVAL);
    assert_non_null(strstr(err.message, "unknown preset 'nope'"));
    assert_non_null(strstr(err.message, "general")); /* the presets there are */
    o.preset = NULL;
    o.formats = "json,xml";
    assert_int_equal(open_error(clip, &p, &o, &err), FW_EINVAL);
    assert_non_null(strstr(err.message, "'xml'"));
    o.formats = NULL;
    p.max_gap_s = -1;
    assert_int_equal(open_error(clip, &p, &o, &err), FW_EINVAL);
    assert_string_equal(err.message, "max-gap: must be >= 0, not -1");
}

/* open, then run: the error a whole analysis ends with */
static int run_error(const char *clip, fw_params *p, fw_error *err)
{
    fw_analysis_opts o = fw_analysis_opts_default();
    o.preset = "none";
    fw_analysis *a = NULL;
    memset(err, 0, sizeof *err);
    int rc = fw_analysis_open(&a, clip, p, &o, err);
    if (!rc) {
        seen s = {0};
        rc = fw_analysis_run(a, on_event, &s, err);
        seen_free(&s);
        fw_analysis_close(a);
    }
    return rc;
}

/* The engine names the setting, never a command-line flag: the CLI adds its "--". */
static void engine_errors_name_the_setting_not_a_flag(void **state)
{
    (void)state;
    const char *clip = tiny_clip();
    fw_error err;
    fw_params p = fw_params_default();
    assert_int_equal(fw_params_set(&p, "ocr-lang", "xyz_nope", &err), 0);
    assert_int_equal(run_error(clip, &p, &err), FW_EINVAL);
    assert_non_null(strstr(err.message, "ocr-lang: no Tesseract data for 'xyz_nope'"));
    assert_null(strstr(err.message, "--"));
    unsetenv("FRAMEWISE_VLM_URL");
    p = fw_params_default();
    assert_int_equal(fw_params_set(&p, "backend", "openai", &err), 0);
    assert_int_equal(run_error(clip, &p, &err), FW_EINVAL);
    assert_non_null(strstr(err.message, "url: no model server given"));
    assert_null(strstr(err.message, "--"));
}

static void chosen_settings_keep_their_values(void **state)
{
    (void)state;
    const char *clip = tiny_clip();
    fw_params p = fw_params_default();
    fw_analysis_opts o = fw_analysis_opts_default();
    o.preset = "none";
    fw_analysis *a;
    fw_error err;
    /* full size, chosen (an alias counts for its field) */
    const char *chosen[] = {"max-image-tokens", NULL};
    o.chosen = chosen;
    assert_int_equal(fw_analysis_open(&a, clip, &p, &o, &err), 0);
    assert_int_equal(fw_analysis_params(a)->max_pixels, 0);
    assert_null(fw_analysis_report(a));
    /* cancelled before it runs: nothing is done */
    fw_analysis_cancel(a);
    seen s = {0};
    assert_int_equal(fw_analysis_run(a, on_event, &s, &err), FW_ECANCELED);
    assert_int_equal(fw_analysis_get_state(a), FW_ANALYSIS_CANCELLED);
    assert_null(fw_analysis_report(a));
    assert_int_equal(s.n, 1);
    assert_string_equal(str(s.json[0], "state"), "cancelled");
    fw_analysis_close(a);
    seen_free(&s);
    /* a budget of the caller's, not chosen, stays too: only the default is replaced */
    p.max_pixels = 64 * 1024;
    o.chosen = NULL;
    assert_int_equal(fw_analysis_open(&a, clip, &p, &o, &err), 0);
    assert_int_equal(fw_analysis_params(a)->max_pixels, 64 * 1024);
    fw_analysis_close(a);
    const char *name;
    assert_non_null(name = fw_preset_name(0, NULL));
    int general = 0;
    for (int i = 0; (name = fw_preset_name(i, NULL)); i++)
        general |= strcmp(name, "general") == 0;
    assert_true(general);
}

int main(int argc, char **argv)
{
    fwt_select_test(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(default_params_get_the_budget_the_general_preset_and_every_file,
                                  fwt_teardown),
        cmocka_unit_test_teardown(cancel_from_another_thread_keeps_what_was_done, fwt_teardown),
        cmocka_unit_test_teardown(cancel_abandons_the_model_requests_in_flight, fwt_teardown),
        cmocka_unit_test_teardown(cached_second_run_gives_the_result_back_without_decoding,
                                  fwt_teardown),
        cmocka_unit_test_teardown(bad_options_are_einval_naming_them, fwt_teardown),
        cmocka_unit_test_teardown(engine_errors_name_the_setting_not_a_flag, fwt_teardown),
        cmocka_unit_test_teardown(chosen_settings_keep_their_values, fwt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
