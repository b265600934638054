/* framewise serve's REST API over real HTTP on loopback, with the model-server double:
 * submissions (upload, path, URL), status, results, listing, idempotency, cancel,
 * callbacks, /healthz and /metrics, settings. One test per process: test_api NAME. */
#include <openssl/hmac.h>
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

#include "fwserve.h"
#include "fwtest.h"

#define TOKEN "s3cret-token"

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static json_int_t count_of(json_t *job, const char *name)
{
    return json_integer_value(json_object_get(json_object_get(job, "counts"), name));
}

static int uploads_left(void)
{
    fwt_run ls;
    fwt_sh(&ls, "ls '%s/data/uploads' | wc -l", fwt_tmpdir());
    int n = atoi(ls.out);
    fwt_free(&ls);
    return n;
}

/* serve with the double's URL, a token and the extractive summary (no LLM requests). */
static void start(fws_server *s, const fwt_vlm *v, const char *extra)
{
    fws_start(s, "--token " TOKEN " --url %s --summary extractive %s", v->url, extra);
}

/* The double with 4 slots and a server that takes paths in the test's folder; the clip. */
static const char *start_with_clips(fws_server *s, fwt_vlm *v)
{
    fwt_vlm_start(v, "--slots 4");
    const char *clip = fws_colour_clip("colours.mp4");
    char extra[600];
    snprintf(extra, sizeof extra, "--allow-root '%s'", fwt_tmpdir());
    start(s, v, extra);
    return clip;
}

static int64_t submit_path(fws_server *s, const char *path, const char *more)
{
    char body[2048];
    snprintf(body, sizeof body, "{\"path\": \"%s\"%s}", path, more ? more : "");
    fws_resp r;
    fws_http(&r, s, "POST", "/v1/jobs", TOKEN, "application/json", body, strlen(body));
    int64_t id = fws_job_id(&r);
    assert_int_equal(r.status, 202);
    fws_resp_free(&r);
    return id;
}

static void upload_runs_to_done_with_report_and_files(void **state)
{
    (void)state;
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 4");
    fws_server s;
    start(&s, &v, "");
    fws_resp r;
    fws_upload(&r, &s, TOKEN, fws_colour_clip("colours.mp4"), NULL);
    assert_int_equal(r.status, 202);
    int64_t id = fws_job_id(&r);
    const char *st = jstr(r.json, "state");
    assert_true(strcmp(st, "queued") == 0 || strcmp(st, "running") == 0);
    assert_string_equal(jstr(json_object_get(r.json, "input"), "kind"), "upload");
    assert_string_equal(jstr(json_object_get(r.json, "input"), "name"), "colours.mp4");
    fws_resp_free(&r);
    json_t *job = fws_wait(&s, TOKEN, id, "done|failed|cancelled", 120);
    assert_string_equal(jstr(job, "state"), "done");
    assert_int_equal(count_of(job, "keyframes"), FWS_N_COLOURS);
    assert_int_equal(count_of(job, "observations"), FWS_N_COLOURS);
    assert_true(json_real_value(json_object_get(job, "progress")) == 1.0);
    assert_true(json_is_null(json_object_get(job, "error")));
    json_decref(job);
    char path[128];
    snprintf(path, sizeof path, "/v1/jobs/%lld/report", (long long)id);
    fws_http(&r, &s, "GET", path, TOKEN, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    json_t *kfs = json_object_get(r.json, "keyframes");
    assert_int_equal(json_array_size(kfs), FWS_N_COLOURS);
    const char *url = jstr(json_array_get(kfs, 0), "url");
    assert_non_null(url);
    assert_null(strchr(jstr(json_array_get(kfs, 0), "file"), '/')); /* no server paths */
    char kf_url[256];
    snprintf(kf_url, sizeof kf_url, "%s", url);
    fws_resp_free(&r);
    fws_http(&r, &s, "GET", kf_url, TOKEN, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    char type[128];
    assert_true(fws_header(&r, "Content-Type", type, sizeof type));
    assert_string_equal(type, "image/jpeg");
    assert_true((unsigned char)r.body[0] == 0xFF && (unsigned char)r.body[1] == 0xD8);
    fws_resp_free(&r);
    const char *files[][2] = {
        {"report.json", "application/json"}, {"report.jsonl", "application/x-ndjson"},
        {"captions.vtt", "text/vtt"},        {"captions.srt", "application/x-subrip"},
        {"report.md", "text/markdown"},      {"report.html", "text/html"}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "/v1/jobs/%lld/files/%s", (long long)id, files[i][0]);
        fws_http(&r, &s, "GET", path, TOKEN, NULL, NULL, 0);
        if (r.status != 200)
            fail_msg("%s: %ld %s", files[i][0], r.status, r.body);
        assert_true(fws_header(&r, "Content-Type", type, sizeof type));
        assert_true(strncmp(type, files[i][1], strlen(files[i][1])) == 0);
        assert_true(strlen(r.body) > 10);
        fws_resp_free(&r);
    }
    fws_stop(&s);
    fwt_vlm_stop(&v);
}

static void path_and_url_inputs_are_analysed(void **state)
{
    (void)state;
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 4");
    const char *clip = fws_colour_clip("colours.mp4");
    fws_receiver files;
    fws_receiver_start(&files, 0, fwt_tmpdir());
    fws_server s;
    char extra[1024];
    snprintf(extra, sizeof extra,
             "--allow-root '%s' --allow-url-host 127.0.0.1 --allow-private-urls", fwt_tmpdir());
    start(&s, &v, extra);
    int64_t by_path = submit_path(&s, clip, NULL);
    char body[512];
    snprintf(body, sizeof body, "{\"url\": \"%s/colours.mp4\", \"preset\": \"none\"}", files.base);
    fws_resp r;
    fws_http(&r, &s, "POST", "/v1/jobs", TOKEN, "application/json", body, strlen(body));
    int64_t by_url = fws_job_id(&r);
    assert_string_equal(jstr(json_object_get(r.json, "input"), "kind"), "url");
    fws_resp_free(&r);
    int64_t ids[2] = {by_path, by_url};
    for (int i = 0; i < 2; i++) {
        json_t *job = fws_wait(&s, TOKEN, ids[i], "done|failed|cancelled", 120);
        if (strcmp(jstr(job, "state"), "done") != 0)
            fail_msg("job %d: %s", i, json_dumps(job, 0));
        assert_int_equal(count_of(job, "observations"), FWS_N_COLOURS);
        json_decref(job);
    }
    fws_stop(&s);
    fws_receiver_stop(&files);
    fwt_vlm_stop(&v);
}

static void list_filters_by_state_and_pages(void **state)
{
    (void)state;
    fwt_vlm v;
    fws_server s;
    const char *clip = start_with_clips(&s, &v);
    int64_t ids[3];
    for (int i = 0; i < 3; i++) {
        char more[64];
        snprintf(more, sizeof more, ", \"options\": {\"prompt\": \"job %d\"}", i);
        ids[i] = submit_path(&s, clip, more);
    }
    for (int i = 0; i < 3; i++)
        json_decref(fws_wait(&s, TOKEN, ids[i], "done", 120));
    fws_resp r;
    fws_http(&r, &s, "GET", "/v1/jobs?state=done&limit=2", TOKEN, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    json_t *jobs = json_object_get(r.json, "jobs");
    assert_int_equal(json_array_size(jobs), 2);
    /* newest first */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(jobs, 0), "id")), ids[2]);
    char next[256];
    snprintf(next, sizeof next, "%s", jstr(r.json, "next"));
    fws_resp_free(&r);
    fws_http(&r, &s, "GET", next, TOKEN, NULL, NULL, 0);
    jobs = json_object_get(r.json, "jobs");
    assert_int_equal(json_array_size(jobs), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(jobs, 0), "id")), ids[0]);
    assert_true(json_is_null(json_object_get(r.json, "next")));
    fws_resp_free(&r);
    fws_http(&r, &s, "GET", "/v1/jobs?state=queued", TOKEN, NULL, NULL, 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), 0);
    fws_resp_free(&r);
    fws_http(&r, &s, "GET", "/v1/jobs?state=bogus", TOKEN, NULL, NULL, 0);
    fws_expect_error(&r, 400, "bad_request");
    fws_stop(&s);
    fwt_vlm_stop(&v);
}

static void idempotency_key_gives_back_the_same_job(void **state)
{
    (void)state;
    fwt_vlm v;
    fws_server s;
    const char *clip = start_with_clips(&s, &v);
    int64_t first = submit_path(&s, clip, ", \"idempotency_key\": \"order-17\"");
    char body[1024];
    snprintf(body, sizeof body, "{\"path\": \"%s\", \"idempotency_key\": \"order-17\"}", clip);
    fws_resp r;
    fws_http(&r, &s, "POST", "/v1/jobs", TOKEN, "application/json", body, strlen(body));
    assert_int_equal(r.status, 200); /* not a new job */
    assert_int_equal(fws_job_id(&r), first);
    assert_string_equal(jstr(r.json, "idempotency_key"), "order-17");
    fws_resp_free(&r);
    /* an upload with the same key, as a form field */
    const char *fields[] = {"idempotency_key", "order-17", NULL};
    fws_upload(&r, &s, TOKEN, clip, fields);
    assert_int_equal(r.status, 200);
    assert_int_equal(fws_job_id(&r), first);
    fws_resp_free(&r);
    json_decref(fws_wait(&s, TOKEN, first, "done", 120));
    fws_http(&r, &s, "GET", "/v1/jobs", TOKEN, NULL, NULL, 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), 1);
    fws_resp_free(&r);
    assert_int_equal(uploads_left(), 0); /* the upload of the duplicate was not kept */
    fws_stop(&s);
    fwt_vlm_stop(&v);
}

static int observed_some(json_t *job, void *user)
{
    (void)user;
    return count_of(job, "observations") >= 2;
}

static void cancel_mid_job_stops_model_requests(void **state)
{
    (void)state;
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 1 --latency 300");
    const char *clip = fws_colour_clip("colours.mp4");
    fws_server s;
    start(&s, &v, "--concurrency 1");
    fws_resp r;
    fws_upload(&r, &s, TOKEN, clip, NULL);
    int64_t id = fws_job_id(&r);
    fws_resp_free(&r);
    json_decref(fws_wait_for(&s, TOKEN, id, observed_some, NULL, 60));
    char path[64];
    snprintf(path, sizeof path, "/v1/jobs/%lld", (long long)id);
    fws_http(&r, &s, "DELETE", path, TOKEN, NULL, NULL, 0);
    assert_true(r.status == 202 || r.status == 200);
    fws_resp_free(&r);
    json_t *job = fws_wait(&s, TOKEN, id, "cancelled|done|failed", 30);
    assert_string_equal(jstr(job, "state"), "cancelled");
    json_decref(job);
    json_t *at_cancel = fwt_vlm_stats(&v);
    json_int_t asked = json_integer_value(json_object_get(at_cancel, "chat_requests"));
    assert_true(asked < FWS_N_COLOURS);
    fws_stop(&s); /* whatever it still had would have been sent by now */
    json_t *after = fwt_vlm_stats(&v);
    assert_int_equal(json_integer_value(json_object_get(after, "chat_requests")), asked);
    json_decref(at_cancel);
    json_decref(after);
    /* a queued job is cancelled at once, and a cancelled job stays so */
    fws_restart(&s);
    fws_http(&r, &s, "DELETE", path, TOKEN, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "state"), "cancelled");
    fws_resp_free(&r);
    fws_stop(&s);
    fwt_vlm_stop(&v);
}

/* A live stream as a job: read as it comes (not fetched), observed while it runs; a cancel
 * ends it done, with its report. */
static void live_url_job_runs_until_cancel_and_ends_with_its_report(void **state)
{
    (void)state;
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 2");
    fws_server s;
    start(&s, &v, "--allow-url-host 127.0.0.1 --allow-private-urls");
    int port = fwt_free_udp_port();
    char body[512], path[64];
    fws_resp r;
    /* only a live job reads a udp URL; only live schemes are taken */
    snprintf(body, sizeof body, "{\"url\": \"udp://127.0.0.1:%d\"}", port);
    fws_http(&r, &s, "POST", "/v1/jobs", TOKEN, "application/json", body, strlen(body));
    fws_expect_error(&r, 403, "forbidden_url");
    snprintf(body, sizeof body, "{\"url\": \"file:///etc/passwd\", \"live\": true}");
    fws_http(&r, &s, "POST", "/v1/jobs", TOKEN, "application/json", body, strlen(body));
    fws_expect_error(&r, 403, "forbidden_url");
    snprintf(body, sizeof body, "{\"url\": \"udp://127.0.0.1:%d?localport=9\", \"live\": true}",
             port);
    fws_http(&r, &s, "POST", "/v1/jobs", TOKEN, "application/json", body, strlen(body));
    fws_expect_error(&r, 403, "forbidden_url");
    snprintf(body, sizeof body, "{\"url\": \"udp://127.0.0.1:%d\", \"live\": true}", port);
    fws_http(&r, &s, "POST", "/v1/jobs", TOKEN, "application/json", body, strlen(body));
    int64_t id = fws_job_id(&r);
    assert_int_equal(r.status, 202);
    fws_resp_free(&r);
    /* the stream: 60 s at its own pace, a new colour every second */
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "exec ffmpeg -nostdin -v error -re -f lavfi -i "
             "'color=c=red:s=160x120:r=10,hue=h=t*60' -t 60 -c:v libx264 -preset ultrafast "
             "-tune zerolatency -g 10 -pix_fmt yuv420p -f mpegts "
             "'udp://127.0.0.1:%d?pkt_size=1316' >/dev/null 2>&1",
             port);
    int ff = fwt_spawn(cmd);
    json_decref(fws_wait_for(&s, TOKEN, id, observed_some, NULL, 60));
    snprintf(path, sizeof path, "/v1/jobs/%lld", (long long)id);
    fws_http(&r, &s, "DELETE", path, TOKEN, NULL, NULL, 0);
    assert_true(r.status == 202 || r.status == 200);
    fws_resp_free(&r);
    json_t *job = fws_wait(&s, TOKEN, id, "cancelled|done|failed", 60);
    assert_string_equal(jstr(job, "state"), "done");
    json_decref(job);
    kill(ff, SIGKILL);
    waitpid(ff, NULL, 0);
    fwt_untrack(ff);
    snprintf(path, sizeof path, "/v1/jobs/%lld/report", (long long)id);
    fws_http(&r, &s, "GET", path, TOKEN, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    json_t *live = json_object_get(r.json, "live");
    assert_string_equal(jstr(live, "ended"), "signal");
    assert_true(json_array_size(json_object_get(r.json, "keyframes")) >= 2);
    assert_true(json_array_size(json_object_get(r.json, "observations")) >= 2);
    assert_null(json_object_get(r.json, "partial"));
    fws_resp_free(&r);
    fws_stop(&s);
    fwt_vlm_stop(&v);
}

static void cancel_of_a_queued_job_is_immediate(void **state)
{
    (void)state;
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 1 --latency 200");
    const char *clip = fws_colour_clip("colours.mp4");
    fws_server s;
    start(&s, &v, "--workers 1 --concurrency 1");
    fws_resp r;
    fws_upload(&r, &s, TOKEN, clip, NULL);
    int64_t running = fws_job_id(&r);
    fws_resp_free(&r);
    json_decref(fws_wait(&s, TOKEN, running, "running", 30));
    const char *fields[] = {"options", "{\"prompt\": \"another\"}", NULL};
    fws_upload(&r, &s, TOKEN, clip, fields);
    int64_t queued = fws_job_id(&r);
    assert_string_equal(jstr(r.json, "state"), "queued");
    fws_resp_free(&r);
    char path[64];
    snprintf(path, sizeof path, "/v1/jobs/%lld", (long long)queued);
    fws_http(&r, &s, "DELETE", path, TOKEN, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "state"), "cancelled");
    fws_resp_free(&r);
    json_t *job = fws_wait(&s, TOKEN, running, "done|failed|cancelled", 60);
    assert_string_equal(jstr(job, "state"), "done");
    json_decref(job);
    json_t *st = fwt_vlm_stats(&v);
    assert_int_equal(json_integer_value(json_object_get(st, "chat_requests")), FWS_N_COLOURS);
    json_decref(st);
    fws_stop(&s);
    fwt_vlm_stop(&v);
}

/* sig is "sha256=" and the HMAC-SHA256 of body under the token. */
static void expect_signed(const char *body, const char *sig)
{
    assert_non_null(sig);
    unsigned char mac[32];
    unsigned len = 0;
    HMAC(EVP_sha256(), TOKEN, (int)strlen(TOKEN), (const unsigned char *)body, strlen(body), mac,
         &len);
    char want[80] = "sha256=";
    for (unsigned i = 0; i < len; i++)
        snprintf(want + 7 + 2 * i, 3, "%02x", mac[i]);
    assert_string_equal(sig, want);
}

/* A job cancelled before a worker has it ends as every job does: its upload removed, its
 * callback posted, its end counted. */
static void cancel_of_a_queued_job_ends_it_like_any_other(void **state)
{
    (void)state;
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 1 --fault hang:60@colour=yellow/1");
    fws_receiver hook;
    fws_receiver_start(&hook, 0, NULL);
    fws_server s;
    start(&s, &v, "--workers 1 --concurrency 1 --allow-url-host 127.0.0.1 --allow-private-urls");
    const char *clip = fws_colour_clip("colours.mp4");
    fws_resp r;
    fws_upload(&r, &s, TOKEN, clip, NULL);
    int64_t running = fws_job_id(&r);
    fws_resp_free(&r);
    json_decref(fws_wait(&s, TOKEN, running, "running", 30)); /* held at yellow from now */
    const char *fields[] = {"callback_url", hook.url, "options", "{\"prompt\": \"2\"}", NULL};
    fws_upload(&r, &s, TOKEN, clip, fields);
    int64_t queued = fws_job_id(&r);
    assert_string_equal(jstr(r.json, "state"), "queued");
    fws_resp_free(&r);
    assert_int_equal(uploads_left(), 2);
    char path[64];
    snprintf(path, sizeof path, "/v1/jobs/%lld", (long long)queued);
    fws_http(&r, &s, "DELETE", path, TOKEN, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "state"), "cancelled");
    assert_string_equal(jstr(json_object_get(r.json, "error"), "code"), "cancelled");
    fws_resp_free(&r);
    assert_int_equal(uploads_left(), 1); /* the running job's is left */
    double until = fws_now() + 30;
    while (fws_receiver_count(&hook) < 1 && fws_now() < until)
        usleep(20000);
    assert_int_equal(fws_receiver_count(&hook), 1);
    json_t *call = json_array_get(hook.calls, 0);
    expect_signed(jstr(call, "body"), jstr(call, "signature"));
    json_t *job = json_loads(jstr(call, "body"), 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(job, "id")), queued);
    assert_string_equal(jstr(job, "state"), "cancelled");
    json_decref(job);
    fws_http(&r, &s, "GET", "/metrics", TOKEN, NULL, NULL, 0);
    if (!strstr(r.body, "framewise_jobs_ended_total{state=\"cancelled\"} 1\n"))
        fail_msg("the cancel is not counted:\n%s", r.body);
    fws_resp_free(&r);
    fws_stop(&s);
    fws_receiver_stop(&hook);
    fwt_vlm_stop(&v);
}

static void callback_is_posted_once_with_a_valid_signature(void **state)
{
    (void)state;
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 4");
    fws_receiver hook;
    fws_receiver_start(&hook, 1, NULL); /* the first attempt fails: it is retried */
    fws_server s;
    start(&s, &v, "--allow-url-host 127.0.0.1 --allow-private-urls");
    char cb[256];
    snprintf(cb, sizeof cb, "{\"callback_url\": \"%s\"}", hook.url);
    const char *fields[] = {"callback_url", hook.url, NULL};
    (void)cb;
    fws_resp r;
    fws_upload(&r, &s, TOKEN, fws_colour_clip("colours.mp4"), fields);
    int64_t id = fws_job_id(&r);
    fws_resp_free(&r);
    json_decref(fws_wait(&s, TOKEN, id, "done", 120));
    double until = fws_now() + 30;
    while (fws_receiver_count(&hook) < 2 && fws_now() < until)
        usleep(20000);
    fws_stop(&s); /* nothing more can come */
    assert_int_equal(fws_receiver_count(&hook), 2);
    json_t *call = json_array_get(hook.calls, 1);
    const char *body = jstr(call, "body");
    expect_signed(body, jstr(call, "signature"));
    json_t *job = json_loads(body, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(job, "id")), id);
    assert_string_equal(jstr(job, "state"), "done");
    /* the retry sent the same body */
    assert_string_equal(jstr(json_array_get(hook.calls, 0), "body"), body);
    json_decref(job);
    fws_receiver_stop(&hook);
    fwt_vlm_stop(&v);
}

static void healthz_is_open_and_metrics_count_the_work(void **state)
{
    (void)state;
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 4");
    fws_server s;
    start(&s, &v, "");
    fws_resp r;
    fws_http(&r, &s, "GET", "/healthz", NULL, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "status"), "ok");
    fws_resp_free(&r);
    fws_http(&r, &s, "GET", "/metrics", NULL, NULL, NULL, 0);
    fws_expect_error(&r, 401, "unauthorized");
    fws_upload(&r, &s, TOKEN, fws_colour_clip("colours.mp4"), NULL);
    int64_t id = fws_job_id(&r);
    fws_resp_free(&r);
    json_decref(fws_wait(&s, TOKEN, id, "done", 120));
    fws_http(&r, &s, "GET", "/metrics", TOKEN, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    const char *want[] = {
        "framewise_jobs{state=\"done\"} 1\n",
        "framewise_queue_depth 0\n",
        "framewise_keyframes_total 7\n",
        "framewise_model_requests_total 7\n",
        "framewise_model_retries_total 0\n",
        "framewise_image_tokens_total ",
        "framewise_http_request_duration_seconds_bucket{route=\"submit\",le=\"+Inf\"} 1\n",
        "framewise_http_request_duration_seconds_count{route=\"status\"} "};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(r.body, want[i]))
            fail_msg("/metrics lacks '%s':\n%s", want[i], r.body);
    fws_resp_free(&r);
    fws_stop(&s);
    fwt_vlm_stop(&v);
}

static void settings_are_checked_through_the_table(void **state)
{
    (void)state;
    fwt_vlm v;
    fws_server s;
    const char *clip = start_with_clips(&s, &v);
    struct {
        const char *more;
        long status;
        const char *code, *says;
    } cases[] = {
        {", \"options\": {\"max-gap\": -1}", 400, "invalid_setting", "max-gap"},
        {", \"options\": {\"policy\": \"sometimes\"}", 400, "invalid_setting", "policy"},
        {", \"options\": {\"url\": \"http://10.0.0.1/v1\"}", 403, "forbidden_setting", "url"},
        {", \"options\": {\"lexicon\": \"/etc/passwd\"}", 403, "forbidden_setting", "lexicon"},
        {", \"options\": {\"no-such-thing\": 1}", 400, "invalid_setting", "no-such-thing"},
        {", \"options\": [1, 2]", 400, "invalid_setting", "options"},
        {", \"preset\": \"nosuch\"", 400, "invalid_preset", "nosuch"},
        {", \"preset\": \"/etc/passwd\"", 400, "invalid_preset", "passwd"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body, "{\"path\": \"%s\"%s}", clip, cases[i].more);
        fws_resp r;
        fws_http(&r, &s, "POST", "/v1/jobs", TOKEN, "application/json", body, strlen(body));
        const char *msg = jstr(json_object_get(r.json, "error"), "message");
        if (!msg || !strstr(msg, cases[i].says))
            fail_msg("case %zu: %s", i, r.body);
        fws_expect_error(&r, cases[i].status, cases[i].code);
    }
    /* a good one: the settings reach the analysis */
    int64_t id = submit_path(&s, clip,
                             ", \"options\": {\"max-image-tokens\": 40}, "
                             "\"preset\": \"none\"");
    json_t *job = fws_wait(&s, TOKEN, id, "done|failed", 120);
    assert_string_equal(jstr(job, "state"), "done");
    json_decref(job);
    json_t *st = fwt_vlm_stats(&v);
    json_t *size = json_array_get(json_object_get(st, "image_sizes"), 0);
    assert_true(json_integer_value(json_array_get(size, 0)) *
                    json_integer_value(json_array_get(size, 1)) <=
                40 * 1024);
    json_decref(st);
    fws_stop(&s);
    fwt_vlm_stop(&v);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(upload_runs_to_done_with_report_and_files, fwt_teardown),
        cmocka_unit_test_teardown(path_and_url_inputs_are_analysed, fwt_teardown),
        cmocka_unit_test_teardown(list_filters_by_state_and_pages, fwt_teardown),
        cmocka_unit_test_teardown(idempotency_key_gives_back_the_same_job, fwt_teardown),
        cmocka_unit_test_teardown(cancel_mid_job_stops_model_requests, fwt_teardown),
        cmocka_unit_test_teardown(live_url_job_runs_until_cancel_and_ends_with_its_report,
                                  fwt_teardown),
        cmocka_unit_test_teardown(cancel_of_a_queued_job_is_immediate, fwt_teardown),
        cmocka_unit_test_teardown(cancel_of_a_queued_job_ends_it_like_any_other, fwt_teardown),
        cmocka_unit_test_teardown(callback_is_posted_once_with_a_valid_signature, fwt_teardown),
        cmocka_unit_test_teardown(healthz_is_open_and_metrics_count_the_work, fwt_teardown),
        cmocka_unit_test_teardown(settings_are_checked_through_the_table, fwt_teardown),
    };
    fwt_select_test(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
