/* framewise serve under stress: killed with kill -9 and started again, stopped with
 * SIGTERM mid-job and started again, and 50 concurrent submissions against 2 workers.
 * One test per process: test_restart NAME. */
#include <pthread.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "fwserve.h"
#include "fwtest.h"

#define TOKEN "restart-token"

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

static int64_t submit(fws_server *s, const char *clip, const char *prompt)
{
    char body[1024];
    snprintf(body, sizeof body, "{\"path\": \"%s\", \"options\": {\"prompt\": \"%s\"}}", clip,
             prompt);
    fws_resp r;
    fws_http(&r, s, "POST", "/v1/jobs", TOKEN, "application/json", body, strlen(body));
    int64_t id = fws_job_id(&r);
    fws_resp_free(&r);
    return id;
}

/* Job 1 runs; its fourth frame (yellow) is in flight, held by the double, when the server
 * is killed; jobs 2 and 3 wait in the queue. After the restart every job ends done: job 1
 * asks only for the frame in flight and those after it. */
static void killed_server_resumes_every_job_and_asks_each_frame_once(void **state)
{
    (void)state;
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 1 --fault hang:60@colour=yellow/1");
    const char *clip = fws_colour_clip("colours.mp4");
    fws_server s;
    fws_start(&s,
              "--token " TOKEN " --url %s --summary extractive --workers 1 --concurrency 1 "
              "--allow-root '%s'",
              v.url, fwt_tmpdir());
    int64_t ids[3];
    for (int i = 0; i < 3; i++) {
        char prompt[32];
        snprintf(prompt, sizeof prompt, "job %d", i + 1);
        ids[i] = submit(&s, clip, prompt);
    }
    /* red, white, blue answered; yellow held */
    double until = fws_now() + 60;
    while ((stat_of(&v, "chat_requests") < 4 || stat_of(&v, "answered") < 3) && fws_now() < until)
        usleep(20000);
    assert_int_equal(stat_of(&v, "chat_requests"), 4);
    assert_int_equal(stat_of(&v, "answered"), 3);
    json_t *job = fws_wait(&s, TOKEN, ids[1], "queued", 5);
    json_decref(job);
    fws_kill(&s);
    fws_restart(&s);
    for (int i = 0; i < 3; i++) {
        job = fws_wait(&s, TOKEN, ids[i], "done|failed|cancelled", 120);
        if (strcmp(jstr(job, "state"), "done") != 0)
            fail_msg("job %lld: %s", (long long)ids[i], json_dumps(job, 0));
        assert_int_equal(
            json_integer_value(json_object_get(json_object_get(job, "counts"), "observations")),
            FWS_N_COLOURS);
        if (i == 0) /* claimed twice: before and after the kill */
            assert_int_equal(json_integer_value(json_object_get(job, "attempts")), 2);
        json_decref(job);
    }
    /* 21 frames, each answered once; the one in flight at the kill was asked again */
    assert_int_equal(stat_of(&v, "answered"), 3 * FWS_N_COLOURS);
    assert_int_equal(stat_of(&v, "chat_requests"), 3 * FWS_N_COLOURS + 1);
    /* job 1's report: the three frames stored before the kill were not asked again */
    char path[64];
    snprintf(path, sizeof path, "/v1/jobs/%lld/report", (long long)ids[0]);
    fws_resp r;
    fws_http(&r, &s, "GET", path, TOKEN, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(r.json, "stats"), "cached")), 3);
    fws_resp_free(&r);
    fws_stop(&s);
    fwt_vlm_stop(&v);
}

/* The state the store has for job id, read while no server runs. */
static void stored_state(const fws_server *s, int64_t id, char *out, size_t size)
{
    char path[600];
    snprintf(path, sizeof path, "%s/store.db", s->dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT state FROM queue WHERE id = ?", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* SIGTERM while jobs a and b are held at their fourth frame, b just cancelled by its
 * client: a was interrupted by the stop and is queued again in the store (not left
 * "running" for the next start to guess about: in a container its pid is the same), b
 * stays cancelled. After the restart a ends done, b is still cancelled. */
static void stopped_server_puts_its_job_back_and_keeps_a_cancel(void **state)
{
    (void)state;
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 2 --fault hang:60@colour=yellow/2");
    const char *clip = fws_colour_clip("colours.mp4");
    fws_server s;
    fws_start(&s,
              "--token " TOKEN " --url %s --summary extractive --workers 2 --concurrency 1 "
              "--allow-root '%s'",
              v.url, fwt_tmpdir());
    int64_t a = submit(&s, clip, "job a"), b = submit(&s, clip, "job b");
    double until = fws_now() + 60;
    while ((stat_of(&v, "chat_requests") < 8 || stat_of(&v, "answered") < 6) && fws_now() < until)
        usleep(20000);
    assert_int_equal(stat_of(&v, "chat_requests"), 8); /* both held at yellow */
    char path[64], st[32];
    snprintf(path, sizeof path, "/v1/jobs/%lld", (long long)b);
    fws_resp r;
    fws_http(&r, &s, "DELETE", path, TOKEN, NULL, NULL, 0);
    assert_int_equal(r.status, 202);
    fws_resp_free(&r);
    fws_stop(&s);
    stored_state(&s, a, st, sizeof st);
    assert_string_equal(st, "queued");
    stored_state(&s, b, st, sizeof st);
    assert_string_equal(st, "cancelled");
    fws_restart(&s);
    json_t *job = fws_wait(&s, TOKEN, a, "done|failed|cancelled", 120);
    assert_string_equal(jstr(job, "state"), "done");
    assert_int_equal(json_integer_value(json_object_get(job, "attempts")), 2);
    json_decref(job);
    job = fws_wait(&s, TOKEN, b, "done|failed|cancelled", 10);
    assert_string_equal(jstr(job, "state"), "cancelled");
    assert_string_equal(jstr(json_object_get(job, "error"), "code"), "cancelled");
    assert_int_equal(json_integer_value(json_object_get(job, "attempts")), 1);
    json_decref(job);
    fws_stop(&s);
    fwt_vlm_stop(&v);
}

#define N_LOAD 50

typedef struct submitter {
    fws_server *s;
    const char *clip;
    int n;
    long status;
    int64_t id;
} submitter;

static void *submit_one(void *arg)
{
    submitter *u = arg;
    char body[1024], key[32];
    snprintf(key, sizeof key, "load-%d", u->n);
    snprintf(body, sizeof body,
             "{\"path\": \"%s\", \"idempotency_key\": \"%s\", \"options\": {\"prompt\": "
             "\"load %d\"}}",
             u->clip, key, u->n);
    fws_resp r;
    fws_http(&r, u->s, "POST", "/v1/jobs", TOKEN, "application/json", body, strlen(body));
    u->status = r.status;
    u->id = (int64_t)json_integer_value(json_object_get(r.json, "id"));
    fws_resp_free(&r);
    return NULL;
}

static void run_submitters(submitter *u)
{
    pthread_t t[N_LOAD];
    for (int i = 0; i < N_LOAD; i++)
        assert_int_equal(pthread_create(&t[i], NULL, submit_one, &u[i]), 0);
    for (int i = 0; i < N_LOAD; i++)
        pthread_join(t[i], NULL);
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void fifty_concurrent_submissions_all_complete_once(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_ALL);
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 4");
    const char *clip = fws_colour_clip("colours.mp4");
    fws_server s;
    fws_start(&s, "--token " TOKEN " --url %s --summary extractive --workers 2 --allow-root '%s'",
              v.url, fwt_tmpdir());
    submitter u[N_LOAD];
    for (int i = 0; i < N_LOAD; i++)
        u[i] = (submitter){.s = &s, .clip = clip, .n = i};
    run_submitters(u);
    int64_t ids[N_LOAD];
    for (int i = 0; i < N_LOAD; i++) {
        assert_int_equal(u[i].status, 202);
        ids[i] = u[i].id;
    }
    qsort(ids, N_LOAD, sizeof ids[0], cmp_id);
    for (int i = 1; i < N_LOAD; i++)
        assert_true(ids[i] != ids[i - 1]); /* none lost in a race, none given twice */
    for (int i = 0; i < N_LOAD; i++) {
        json_t *job = fws_wait(&s, TOKEN, ids[i], "done|failed|cancelled", 300);
        assert_string_equal(jstr(job, "state"), "done");
        assert_int_equal(json_integer_value(json_object_get(job, "attempts")), 1);
        json_decref(job);
    }
    /* the same submissions again: the same jobs, nothing new */
    run_submitters(u);
    for (int i = 0; i < N_LOAD; i++)
        assert_int_equal(u[i].status, 200);
    fws_resp r;
    fws_http(&r, &s, "GET", "/v1/jobs?limit=100", TOKEN, NULL, NULL, 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), N_LOAD);
    fws_resp_free(&r);
    /* each job's frames asked once */
    assert_int_equal(stat_of(&v, "chat_requests"), N_LOAD * FWS_N_COLOURS);
    assert_int_equal(stat_of(&v, "answered"), N_LOAD * FWS_N_COLOURS);
    fws_stop(&s);
    fwt_vlm_stop(&v);
    curl_global_cleanup();
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(killed_server_resumes_every_job_and_asks_each_frame_once,
                                  fwt_teardown),
        cmocka_unit_test_teardown(stopped_server_puts_its_job_back_and_keeps_a_cancel,
                                  fwt_teardown),
        cmocka_unit_test_teardown(fifty_concurrent_submissions_all_complete_once, fwt_teardown),
    };
    fwt_select_test(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
