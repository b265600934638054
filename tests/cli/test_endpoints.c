/* framewise analyze against several model servers (the double, tests/server): requests
 * spread by how fast each answers, a server killed mid-run, servers that do not answer at
 * open. Run one test per process: test_endpoints NAME. */
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

/* Every keyframe its own request: two a second, each whole. */
#define OPTS "--policy interval --fps 2 --whole-frames 1 --summary extractive --no-cache"

/* A number drawn on navy, a new one every 0.5 s: seconds * 2 distinct keyframes. */
static const char *counter_clip(int seconds)
{
    char args[1024];
    snprintf(args, sizeof args,
             "-f lavfi -i color=c=navy:s=320x240:r=10:d=%d -vf "
             "\"drawtext=fontfile=%s:text='%%{eif\\:floor(t*2)\\:d}':fontsize=120:"
             "fontcolor=white:x=(w-tw)/2:y=(h-th)/2\" "
             "-c:v libx264 -preset ultrafast -pix_fmt yuv420p",
             seconds, FWT_FONT);
    return fwt_video("counter.mp4", args);
}

static json_int_t int_of(json_t *o, const char *name)
{
    return json_integer_value(json_object_get(o, name));
}

/* The report's stats.endpoints entry of url (asserts there is one). */
static json_t *endpoint_of(json_t *report, const char *url)
{
    json_t *list = json_object_get(json_object_get(report, "stats"), "endpoints"), *e;
    size_t i;
    json_array_foreach(list, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "url")), url) == 0)
            return e;
    }
    fail_msg("no stats.endpoints entry for %s", url);
    return NULL;
}

static double p50_of(json_t *endpoint)
{
    return json_number_value(json_object_get(json_object_get(endpoint, "latency_ms"), "p50"));
}

/* Every keyframe has its observation, in order, none failed; their count. */
static size_t every_keyframe_answered(json_t *report)
{
    json_t *kfs = json_object_get(report, "keyframes"),
           *obs = json_object_get(report, "observations");
    size_t n = json_array_size(kfs);
    assert_true(n >= 24);
    assert_int_equal(json_array_size(obs), n);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(obs, i);
        assert_int_equal(int_of(o, "keyframe"), (json_int_t)i);
        const char *err = json_string_value(json_object_get(o, "error"));
        if (err)
            fail_msg("keyframe %zu failed: %s", i, err);
    }
    assert_int_equal(int_of(json_object_get(report, "stats"), "failed"), 0);
    return n;
}

static void the_faster_server_answers_about_three_times_as_many(void **state)
{
    (void)state;
    fwt_vlm fast, slow;
    fwt_vlm_start(&fast, "--latency 200 --slots 2");
    fwt_vlm_start(&slow, "--latency 600 --slots 2");
    char opts[512];
    snprintf(opts, sizeof opts, "--url %s --url %s " OPTS, fast.url, slow.url);
    json_t *rep = fwt_analyze(counter_clip(16), opts);
    size_t n = every_keyframe_answered(rep);
    json_t *fs = fwt_vlm_stats(&fast), *ss = fwt_vlm_stats(&slow);
    json_int_t a = int_of(fs, "answered"), b = int_of(ss, "answered");
    assert_int_equal(a + b, (json_int_t)n); /* each keyframe once, on one of them */
    double ratio = b ? (double)a / b : 99;
    if (ratio < 2.0 || ratio > 4.5)
        fail_msg("fast %lld, slow %lld answers: ratio %.2f, not about 3", (long long)a,
                 (long long)b, ratio);
    assert_true(int_of(fs, "max_inflight") <= 2 && int_of(ss, "max_inflight") <= 2);
    /* the report says what each server saw */
    json_t *ef = endpoint_of(rep, fast.url), *es = endpoint_of(rep, slow.url);
    assert_int_equal(int_of(ef, "answered"), a);
    assert_int_equal(int_of(es, "answered"), b);
    assert_int_equal(int_of(ef, "requests"), int_of(fs, "chat_requests"));
    assert_int_equal(int_of(es, "requests"), int_of(ss, "chat_requests"));
    assert_int_equal(int_of(ef, "slots"), 2);
    assert_int_equal(int_of(ef, "failed") + int_of(es, "failed"), 0);
    assert_int_equal(int_of(ef, "taken_out") + int_of(es, "taken_out"), 0);
    assert_true(p50_of(ef) >= 200 && p50_of(ef) < 600 && p50_of(es) >= 600);
    json_decref(fs);
    json_decref(ss);
    json_decref(rep);
    fwt_vlm_stop(&fast);
    fwt_vlm_stop(&slow);
}

/* Waits (polling its counters) until s has answered n chat requests; asserts it does
 * within seconds. */
static void wait_answered(const fwt_vlm *s, int n, double seconds)
{
    struct timespec nap = {0, 20 * 1000 * 1000};
    for (double waited = 0; waited < seconds; waited += 0.02) {
        json_t *st = fwt_vlm_stats(s);
        json_int_t got = int_of(st, "answered");
        json_decref(st);
        if (got >= n)
            return;
        nanosleep(&nap, NULL); /* polling the counter, not standing in for it */
    }
    fail_msg("%s answered fewer than %d requests in %.0f s", s->url, n, seconds);
}

static void a_server_killed_mid_run_loses_no_frame(void **state)
{
    (void)state;
    fwt_vlm keeps, dies;
    fwt_vlm_start(&keeps, "--latency 300 --slots 2");
    fwt_vlm_start(&dies, "--latency 300 --slots 2");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "exec '%s' analyze '%s' -o '%s/out' --url %s --url %s " OPTS,
             getenv("FRAMEWISE_BIN"), counter_clip(16), fwt_tmpdir(), keeps.url, dies.url);
    int pid = fwt_start(cmd, fwt_path("run.out"), fwt_path("run.err"));
    wait_answered(&dies, 3, 60);
    fwt_stop(dies.pid); /* SIGKILL, with requests in flight */
    dies.pid = 0;
    int status;
    assert_true(fwt_wait_exit(pid, 120, &status));
    char *err = fwt_slurp(fwt_path("run.err"));
    if (fwt_exit_code(status) != 0)
        fail_msg("analyze exited %d: %s", fwt_exit_code(status), err);
    json_t *rep = fwt_json_file(fwt_path("out/report.json"));
    size_t n = every_keyframe_answered(rep);
    json_t *ek = endpoint_of(rep, keeps.url), *ed = endpoint_of(rep, dies.url);
    assert_true(int_of(ed, "taken_out") >= 1);
    assert_true(int_of(ed, "failed") >= 1);
    assert_true(int_of(ed, "answered") >= 3);
    assert_int_equal(int_of(ek, "taken_out"), 0);
    assert_int_equal(int_of(ek, "answered") + int_of(ed, "answered"), (json_int_t)n);
    json_t *ks = fwt_vlm_stats(&keeps);
    assert_int_equal(int_of(ek, "answered"), int_of(ks, "answered"));
    json_decref(ks);
    /* one line says so */
    if (!strstr(err, dies.url) || !strstr(err, "taken out"))
        fail_msg("no warning naming %s: %s", dies.url, err);
    free(err);
    json_decref(rep);
    fwt_vlm_stop(&keeps);
}

static void a_server_taken_out_comes_back_when_it_answers_again(void **state)
{
    (void)state;
    fwt_vlm keeps, back;
    fwt_vlm_start(&keeps, "--latency 300 --slots 2");
    fwt_vlm_start(&back, "--latency 300 --slots 2");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "exec '%s' analyze '%s' -o '%s/out' --url %s --url %s " OPTS,
             getenv("FRAMEWISE_BIN"), counter_clip(40), fwt_tmpdir(), keeps.url, back.url);
    int pid = fwt_start(cmd, fwt_path("run.out"), fwt_path("run.err"));
    wait_answered(&back, 3, 60);
    int port = back.port;
    fwt_stop(back.pid);
    wait_answered(&keeps, 12, 60); /* the run went on without it: it was taken out */
    fwt_vlm_start(&back, "--port %d --latency 300 --slots 2", port); /* the same address */
    int status;
    assert_true(fwt_wait_exit(pid, 120, &status));
    assert_int_equal(fwt_exit_code(status), 0);
    json_t *rep = fwt_json_file(fwt_path("out/report.json"));
    size_t n = every_keyframe_answered(rep);
    json_t *eb = endpoint_of(rep, back.url), *st = fwt_vlm_stats(&back);
    assert_int_equal(int_of(eb, "taken_out"), 1);
    if (int_of(st, "answered") < 1) /* probed with backoff (1, 2, 4 s), then asked again */
        fail_msg("the server started again answered nothing of %zu keyframes", n);
    assert_true(int_of(eb, "answered") >= 3 + int_of(st, "answered"));
    json_decref(st);
    json_decref(rep);
    fwt_vlm_stop(&keeps);
    fwt_vlm_stop(&back);
}

static void a_server_not_there_at_open_is_left_out_with_a_warning(void **state)
{
    (void)state;
    int fd, port = fwt_refusing_tcp_port(&fd);
    char dead[64];
    snprintf(dead, sizeof dead, "http://127.0.0.1:%d/v1", port);
    fwt_vlm s;
    fwt_vlm_start(&s, "--latency 50 --slots 2");
    /* the list from the environment, comma-separated */
    fwt_run r;
    fwt_sh(&r, "FRAMEWISE_VLM_URL='%s,%s' '%s' analyze '%s' -o '%s/out' " OPTS, dead, s.url,
           getenv("FRAMEWISE_BIN"), counter_clip(12), fwt_tmpdir());
    if (r.status != 0)
        fail_msg("analyze exited %d: %s", r.status, r.err);
    assert_int_equal(fwt_lines(r.err), 1);
    if (!strstr(r.err, dead) || !strstr(r.err, "1 of 2 model servers do not answer"))
        fail_msg("not the warning naming %s: %s", dead, r.err);
    fwt_free(&r);
    json_t *rep = fwt_json_file(fwt_path("out/report.json"));
    size_t n = every_keyframe_answered(rep);
    json_t *ed = endpoint_of(rep, dead), *el = endpoint_of(rep, s.url);
    assert_int_equal(int_of(ed, "requests"), 0);
    assert_int_equal(int_of(el, "answered"), (json_int_t)n);
    json_t *st = fwt_vlm_stats(&s);
    assert_int_equal(int_of(st, "answered"), (json_int_t)n);
    json_decref(st);
    json_decref(rep);
    fwt_vlm_stop(&s);
    close(fd);
}

static void no_server_answering_fails_in_one_line_naming_each(void **state)
{
    (void)state;
    int fd1, fd2;
    char a[64], b[64];
    snprintf(a, sizeof a, "http://127.0.0.1:%d/v1", fwt_refusing_tcp_port(&fd1));
    snprintf(b, sizeof b, "http://127.0.0.1:%d/v1", fwt_refusing_tcp_port(&fd2));
    fwt_run r;
    fwt_fw(&r, "analyze '%s' -o '%s/out' --url %s --url %s " OPTS, counter_clip(12), fwt_tmpdir(),
           a, b);
    assert_int_equal(r.status, 1);
    assert_int_equal(fwt_lines(r.err), 1);
    if (!strstr(r.err, "cannot reach any of the 2 model servers") || !strstr(r.err, a) ||
        !strstr(r.err, b))
        fail_msg("not the one line naming both: %s", r.err);
    fwt_free(&r);
    close(fd1);
    close(fd2);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(the_faster_server_answers_about_three_times_as_many,
                                  fwt_teardown),
        cmocka_unit_test_teardown(a_server_killed_mid_run_loses_no_frame, fwt_teardown),
        cmocka_unit_test_teardown(a_server_taken_out_comes_back_when_it_answers_again,
                                  fwt_teardown),
        cmocka_unit_test_teardown(a_server_not_there_at_open_is_left_out_with_a_warning,
                                  fwt_teardown),
        cmocka_unit_test_teardown(no_server_answering_fails_in_one_line_naming_each, fwt_teardown),
    };
    fwt_select_test(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
