/* Beyond one machine: `framewise serve --queue redis://...` nodes and `framewise worker`
 * processes on one real redis-server, each with a folder, data and store of its own (as
 * on machines of their own), started and stopped by the test. One test per process:
 * test_scale NAME. */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fwredis.h"
#include "fwserve.h"
#include "fwtest.h"

#define TOKEN "scale-token"

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static json_int_t stat_of(const fwt_vlm *v, const char *name)
{
    json_t *st = fwt_vlm_stats(v);
    json_int_t n = json_integer_value(json_object_get(st, name));
    json_decref(st);
    return n;
}

static json_int_t count_of(json_t *job, const char *name)
{
    return json_integer_value(json_object_get(json_object_get(job, "counts"), name));
}

/* What every node and worker of a test is given: the queue, the roots and hosts, the
 * model server (the workers' settings are the jobs' defaults). */
static void common(char *out, size_t size, const fwt_redis *r, const fwt_vlm *v)
{
    snprintf(out, size,
             "--token " TOKEN " --queue %s --allow-root '%s' --allow-url-host 127.0.0.1 "
             "--allow-private-urls --url %s --summary extractive --concurrency 1 --window 1",
             r->url, fwt_tmpdir(), v->url);
}

static int64_t submit(const fws_server *s, const char *clip, const char *prompt, const char *cb)
{
    char body[2048];
    snprintf(body, sizeof body, "{\"path\": \"%s\", \"options\": {\"prompt\": \"%s\"}%s%s%s}", clip,
             prompt, cb ? ", \"callback_url\": \"" : "", cb ? cb : "", cb ? "\"" : "");
    fws_resp r;
    fws_http(&r, s, "POST", "/v1/jobs", TOKEN, "application/json", body, strlen(body));
    assert_int_equal(r.status, 202);
    int64_t id = fws_job_id(&r);
    fws_resp_free(&r);
    return id;
}

/* The pid of the worker process that runs job id: its consumer name is HOST-PID-RANDOM. */
static int runner_of(const fwt_redis *r, const char *queue, int64_t id)
{
    char cmd[160], who[256] = "";
    snprintf(cmd, sizeof cmd, "HGET fw:%s:job:%lld consumer", queue, (long long)id);
    assert_true(fwt_redis_ask(r, cmd, who, sizeof who));
    char *last = strrchr(who, '-');
    assert_non_null(last);
    *last = '\0';
    char *pid = strrchr(who, '-');
    assert_non_null(pid);
    return atoi(pid + 1);
}

static int observed(json_t *job, void *user)
{
    return strcmp(jstr(job, "state"), "running") == 0 &&
           count_of(job, "observations") >= *(int *)user;
}

static fws_server *by_pid(fws_server *w, int n, int pid)
{
    for (int i = 0; i < n; i++)
        if (w[i].pid == pid)
            return &w[i];
    fail_msg("no worker of the test has pid %d", pid);
    return NULL;
}

/* The report of job id from node s: every keyframe has an answer. */
static void check_report(const fws_server *s, int64_t id, int keyframes)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/jobs/%lld/report", (long long)id);
    fws_resp r;
    fws_http(&r, s, "GET", path, TOKEN, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    json_t *kfs = json_object_get(r.json, "keyframes"),
           *obs = json_object_get(r.json, "observations");
    assert_int_equal(json_array_size(kfs), keyframes);
    assert_int_equal(json_array_size(obs), keyframes);
    size_t i;
    json_t *o;
    json_array_foreach(obs, i, o) assert_null(json_object_get(o, "error"));
    fws_resp_free(&r);
}

static void two_workers_share_a_queue_and_a_killed_ones_job_is_taken_over(void **state)
{
    (void)state;
    fwt_redis R;
    fwt_redis_start(&R, "scale");
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 4 --latency 600"); /* 4 s a job: it is killed mid-way */
    fws_receiver hook;
    fws_receiver_start(&hook, 0, NULL);
    const char *clip = fws_colour_clip("colours.mp4");
    char args[2048];
    common(args, sizeof args, &R, &v);
    fws_server node, w[2];
    fws_start_in(&node, "node", "%s --workers 0", args);
    fws_worker_start(&w[0], "w0", "%s --workers 1 --claim-after 1", args);
    fws_worker_start(&w[1], "w1", "%s --workers 1 --claim-after 1", args);
    enum { N = 4 };
    int64_t ids[N];
    for (int i = 0; i < N; i++) { /* a prompt of its own: no job answers another's frames */
        char prompt[32];
        snprintf(prompt, sizeof prompt, "job %d", i);
        ids[i] = submit(&node, clip, prompt, hook.url);
    }
    int two = 2;
    json_decref(fws_wait_for(&node, TOKEN, ids[0], observed, &two, 60));
    fws_server *victim = by_pid(w, 2, runner_of(&R, "scale", ids[0]));
    json_int_t asked = stat_of(&v, "images");
    fws_kill(victim); /* kill -9 in the middle of its job */
    for (int i = 0; i < N; i++) {
        json_t *job = fws_wait(&node, TOKEN, ids[i], "done|failed|cancelled", 180);
        assert_string_equal(jstr(job, "state"), "done");
        assert_int_equal(json_integer_value(json_object_get(job, "attempts")), i == 0 ? 2 : 1);
        json_decref(job);
        check_report(&node, ids[i], FWS_N_COLOURS); /* from the queue: not this node's files */
    }
    /* every frame asked once, but the one the killed worker had in flight (one request of
     * one frame at a time): its answered ones came back from the queue's notes */
    json_int_t images = stat_of(&v, "images");
    assert_true(asked >= 2);
    assert_true(images >= N * FWS_N_COLOURS);
    assert_true(images <= N * FWS_N_COLOURS + 1);
    /* ended exactly once: one callback per job */
    for (int i = 0; i < 100 && fws_receiver_count(&hook) < N; i++)
        usleep(50000);
    pthread_mutex_lock(&hook.mu);
    assert_int_equal(json_array_size(hook.calls), N);
    for (int i = 0; i < N; i++) {
        int seen = 0;
        for (size_t k = 0; k < json_array_size(hook.calls); k++) {
            json_t *b = json_loads(jstr(json_array_get(hook.calls, k), "body"), 0, NULL);
            seen += json_integer_value(json_object_get(b, "id")) == ids[i];
            json_decref(b);
        }
        assert_int_equal(seen, 1);
    }
    pthread_mutex_unlock(&hook.mu);
    fws_stop(victim == &w[0] ? &w[1] : &w[0]);
    fws_stop(&node);
    fws_receiver_stop(&hook);
    fwt_vlm_stop(&v);
    fwt_redis_stop(&R);
}

static int attempt_is(json_t *job, void *user)
{
    return strcmp(jstr(job, "state"), "running") == 0 &&
           json_integer_value(json_object_get(job, "attempts")) == *(int *)user;
}

static void a_job_that_keeps_killing_its_worker_is_failed_after_n_deliveries(void **state)
{
    (void)state;
    fwt_redis R;
    fwt_redis_start(&R, "poison");
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 4 --latency 3000"); /* each run is still on its first frames */
    const char *clip = fws_colour_clip("colours.mp4");
    char args[2048];
    common(args, sizeof args, &R, &v);
    fws_server node, w[3];
    fws_start_in(&node, "node", "%s --workers 0", args);
    int64_t id = submit(&node, clip, "poison", NULL);
    for (int k = 0; k < 3; k++) {
        char sub[16];
        snprintf(sub, sizeof sub, "w%d", k);
        fws_worker_start(&w[k], sub, "%s --workers 1 --claim-after 0.5 --max-deliveries 2", args);
        if (k == 2)
            break;
        int attempt = k + 1;
        json_decref(fws_wait_for(&node, TOKEN, id, attempt_is, &attempt, 60));
        assert_int_equal(runner_of(&R, "poison", id), w[k].pid);
        fws_kill(&w[k]); /* as a crash would */
    }
    json_t *job = fws_wait(&node, TOKEN, id, "done|failed|cancelled", 60);
    assert_string_equal(jstr(job, "state"), "failed");
    json_t *error = json_object_get(job, "error");
    assert_string_equal(jstr(error, "code"), "worker_lost");
    assert_non_null(strstr(jstr(error, "message"), "lost 2 times"));
    json_decref(job);
    fws_stop(&w[2]);
    fws_stop(&node);
    fwt_vlm_stop(&v);
    fwt_redis_stop(&R);
}

static int files_in(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static int64_t upload_to(const fws_server *s, const char *clip, const char *prompt)
{
    char options[128];
    snprintf(options, sizeof options, "{\"prompt\": \"%s\"}", prompt);
    const char *fields[] = {"options", options, NULL};
    fws_resp r;
    fws_upload(&r, s, TOKEN, clip, fields);
    assert_int_equal(r.status, 202);
    int64_t id = fws_job_id(&r);
    fws_resp_free(&r);
    return id;
}

static void a_job_submitted_to_one_node_is_watched_and_served_on_another(void **state)
{
    (void)state;
    fwt_redis R;
    fwt_redis_start(&R, "nodes");
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 4 --latency 300");
    const char *clip = fws_colour_clip("colours.mp4");
    char args[2048];
    common(args, sizeof args, &R, &v);
    fws_server a, b, w;
    fws_start_in(&a, "node-a", "%s --workers 0", args);
    fws_start_in(&b, "node-b", "%s --workers 0", args);
    int64_t id = upload_to(&a, clip, "first"); /* kept by a; the worker fetches it with its token */
    char path[96];
    snprintf(path, sizeof path, "/v1/jobs/%lld/input", (long long)id);
    fws_resp r;
    fws_http(&r, &a, "GET", path, TOKEN, NULL, NULL, 0); /* the service's token is not it */
    fws_expect_error(&r, 401, "unauthorized");
    fws_http(&r, &b, "GET", path, "x", NULL, NULL, 0);
    fws_expect_error(&r, 404, "not_found"); /* b does not keep it */
    snprintf(path, sizeof path, "/v1/jobs/%lld/events", (long long)id);
    fws_ws ws;
    assert_int_equal(fws_ws_open(&ws, &b, path, TOKEN), 0); /* watched on b, before it runs */
    fws_worker_start(&w, "worker", "%s --workers 1", args);
    assert_true(fws_ws_wait_closed(&ws, 120));
    json_t *first = json_array_get(ws.messages, 0);
    assert_string_equal(jstr(first, "type"), "snapshot");
    assert_string_equal(jstr(json_object_get(first, "job"), "state"), "queued");
    int observations = 0;
    size_t i;
    json_t *m;
    json_array_foreach(ws.messages, i, m) observations +=
        strcmp(jstr(m, "type"), "observation") == 0;
    assert_int_equal(observations, FWS_N_COLOURS);
    json_t *last = json_array_get(ws.messages, json_array_size(ws.messages) - 1);
    assert_string_equal(jstr(last, "type"), "done");
    fws_ws_close(&ws);
    check_report(&b, id, FWS_N_COLOURS);
    snprintf(path, sizeof path, "/v1/jobs/%lld/files/report.html", (long long)id);
    fws_http(&r, &b, "GET", path, TOKEN, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<html"));
    fws_resp_free(&r);
    /* the upload went with the job's end */
    char uploads[700];
    snprintf(uploads, sizeof uploads, "%s/data/uploads", a.dir);
    for (int k = 0; k < 100 && files_in(uploads) > 0; k++)
        usleep(50000);
    assert_int_equal(files_in(uploads), 0);
    /* a job submitted to b, running on the worker, cancelled through a (a prompt of its
     * own: not the first one's stored result) */
    int64_t second = upload_to(&b, clip, "second");
    int one = 1;
    json_decref(fws_wait_for(&a, TOKEN, second, observed, &one, 60));
    snprintf(path, sizeof path, "/v1/jobs/%lld", (long long)second);
    fws_http(&r, &a, "DELETE", path, TOKEN, NULL, NULL, 0);
    assert_int_equal(r.status, 202);
    assert_true(json_is_true(json_object_get(r.json, "cancel_requested")));
    fws_resp_free(&r);
    json_t *job = fws_wait(&b, TOKEN, second, "done|failed|cancelled", 60);
    assert_string_equal(jstr(job, "state"), "cancelled");
    json_decref(job);
    /* the queue's counts are every node's */
    fws_http(&r, &a, "GET", "/metrics", TOKEN, NULL, NULL, 0);
    assert_non_null(strstr(r.body, "framewise_jobs{state=\"done\"} 1\n"));
    assert_non_null(strstr(r.body, "framewise_jobs{state=\"cancelled\"} 1\n"));
    fws_resp_free(&r);
    fws_stop(&w);
    fws_stop(&b);
    fws_stop(&a);
    fwt_vlm_stop(&v);
    fwt_redis_stop(&R);
}

int main(int argc, char **argv)
{
    fwt_select_test(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(two_workers_share_a_queue_and_a_killed_ones_job_is_taken_over,
                                  fwt_teardown),
        cmocka_unit_test_teardown(a_job_that_keeps_killing_its_worker_is_failed_after_n_deliveries,
                                  fwt_teardown),
        cmocka_unit_test_teardown(a_job_submitted_to_one_node_is_watched_and_served_on_another,
                                  fwt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
