/* The store's jobs (src/store/store.c): which interrupted job an analysis resumes — never
 * one that a live process runs, nor one another thread of this process runs now — and
 * that many threads asking at once never take one job twice. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fwtest.h"
#include "store/store.h"

static const char *const VIDEO = "0123456789abcdef", *const SETTINGS = "{\"policy\":\"auto\"}";

static fw_store *open_store(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/store.db", fwt_tmpdir());
    fw_store *s = NULL;
    fw_error err = {0};
    if (fw_store_open(&s, path, &err))
        fail_msg("%s", err.message);
    return s;
}

static int64_t begin(fw_store *s)
{
    int64_t job = 0;
    fw_error err = {0};
    if (fw_store_job_begin(s, VIDEO, 1000, "clip.mp4", SETTINGS, &job, &err))
        fail_msg("%s", err.message);
    return job;
}

static int resume(fw_store *s, int64_t *job)
{
    fw_error err = {0};
    int rc = fw_store_job_resume(s, VIDEO, SETTINGS, job, &err);
    if (rc < 0 || (rc > 1))
        fail_msg("resume: %d %s", rc, err.message);
    return rc;
}

static void a_job_another_thread_runs_is_not_resumed(void **state)
{
    (void)state;
    fw_store *a = open_store(), *b = open_store(); /* two workers, two handles, one file */
    int64_t j1 = begin(a), got = 0;
    assert_int_equal(resume(b, &got), 0); /* j1 is running here */
    assert_int_equal(fw_store_job_end(a, j1, "failed", "the server went away", NULL), 0);
    assert_int_equal(resume(b, &got), 1); /* failed: b takes it over */
    assert_int_equal(got, j1);
    int64_t again = 0;
    assert_int_equal(resume(a, &again), 0); /* and now b runs it */
    assert_int_equal(fw_store_job_end(b, j1, "done", NULL, NULL), 0);
    assert_int_equal(resume(a, &again), 1); /* done, but it kept no result */
    assert_int_equal(again, j1);
    assert_int_equal(fw_store_result_put(a, VIDEO, SETTINGS, j1, "{}", NULL), 0);
    assert_int_equal(fw_store_job_end(a, j1, "done", NULL, NULL), 0);
    assert_int_equal(resume(b, &again), 0); /* done with its result: never resumed */
    fw_store_close(a);
    fw_store_close(b);
}

static void a_job_of_a_dead_process_is_resumed_a_live_ones_is_not(void **state)
{
    (void)state;
    fw_store *s = open_store();
    int ready[2], go[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    pid_t child = fork();
    if (child == 0) { /* begins a job, says so, waits, then dies without ending it */
        fw_store *c = open_store();
        int64_t job = begin(c);
        char byte;
        if (write(ready[1], &job, sizeof job) != sizeof job || read(go[0], &byte, 1) != 1)
            _exit(2);
        _exit(0);
    }
    int64_t job = 0, got = 0;
    assert_int_equal(read(ready[0], &job, sizeof job), (ssize_t)sizeof job);
    assert_int_equal(resume(s, &got), 0); /* the child is alive and runs it */
    assert_int_equal(write(go[1], "x", 1), 1);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(resume(s, &got), 1); /* its process is gone: killed, so resumed */
    assert_int_equal(got, job);
    assert_int_equal(fw_store_job_end(s, got, "done", NULL, NULL), 0);
    close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
    fw_store_close(s);
}

/* ---- many threads: each resumes an interrupted job or begins a new one ---- */

enum { THREADS = 8, ROUNDS = 20 };

typedef struct racer {
    pthread_barrier_t *start;
    int64_t job;
    int resumed;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    fw_store *s = open_store();
    pthread_barrier_wait(r->start);
    r->resumed = resume(s, &r->job);
    if (!r->resumed)
        r->job = begin(s);
    fw_store_close(s);
    return NULL;
}

static void threads_at_once_never_take_one_job_twice(void **state)
{
    (void)state;
    fw_store *s = open_store();
    for (int round = 0; round < ROUNDS; round++) {
        int64_t failed = begin(s); /* one interrupted job to take over */
        assert_int_equal(fw_store_job_end(s, failed, "failed", "interrupted", NULL), 0);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, THREADS);
        racer r[THREADS] = {{0}};
        pthread_t t[THREADS];
        for (int i = 0; i < THREADS; i++) {
            r[i].start = &start;
            assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
        }
        int resumed = 0;
        for (int i = 0; i < THREADS; i++) {
            pthread_join(t[i], NULL);
            resumed += r[i].resumed;
            for (int k = 0; k < i; k++)
                if (r[k].job == r[i].job)
                    fail_msg("round %d: job %lld taken twice", round, (long long)r[i].job);
        }
        pthread_barrier_destroy(&start);
        if (resumed != 1)
            fail_msg("round %d: %d resumed", round, resumed); /* the failed one, by one */
        for (int i = 0; i < THREADS; i++) {
            if (r[i].resumed)
                assert_int_equal(r[i].job, failed);
            assert_int_equal(fw_store_job_end(s, r[i].job, "done", NULL, NULL), 0);
        }
        /* with a result: the done ones are not taken up again */
        assert_int_equal(fw_store_result_put(s, VIDEO, SETTINGS, r[0].job, "{}", NULL), 0);
    }
    fw_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(a_job_another_thread_runs_is_not_resumed, fwt_teardown),
        cmocka_unit_test_teardown(a_job_of_a_dead_process_is_resumed_a_live_ones_is_not,
                                  fwt_teardown),
        cmocka_unit_test_teardown(threads_at_once_never_take_one_job_twice, fwt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
