/* core/log: the library's one log. Levels filter; the job's traces and libav*'s messages
 * reach the callback (cleaned of libav's "[codec @ 0x...]" prefixes), never stderr; the
 * callback can change while threads log, and an old one is never called once replaced. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "fwtest.h"

typedef struct capture {
    int n, level;
    int traces;   /* lines of the selector's per-frame trace */
    int prefixed; /* lines with libav's "@ 0x" */
    int moov;     /* the mov demuxer's complaint about a cut file */
    char last[256];
} capture;

static void on_line(void *user, int level, const char *line)
{
    capture *c = user;
    c->n++;
    c->level = level;
    c->traces += level == FW_LOG_TRACE && strstr(line, " delta=") != NULL;
    c->prefixed += strstr(line, "@ 0x") != NULL;
    c->moov += strstr(line, "moov atom not found") != NULL;
    snprintf(c->last, sizeof c->last, "%s", line);
}

static void levels_above_the_maximum_never_reach_the_callback(void **state)
{
    (void)state;
    capture c = {0};
    fw_set_log(on_line, &c, FW_LOG_WARN);
    assert_true(fw_log_on(FW_LOG_ERROR) && fw_log_on(FW_LOG_WARN));
    assert_false(fw_log_on(FW_LOG_INFO));
    fw_log(FW_LOG_WARN, "a warning %d", 7);
    fw_log(FW_LOG_INFO, "info");
    fw_log(FW_LOG_TRACE, "trace");
    assert_int_equal(c.n, 1);
    assert_int_equal(c.level, FW_LOG_WARN);
    assert_string_equal(c.last, "a warning 7");
    fw_set_log(on_line, &c, -1); /* a callback that takes nothing */
    fw_log(FW_LOG_ERROR, "error");
    fw_set_log(NULL, &c, FW_LOG_TRACE); /* no callback: nothing, whatever the level */
    assert_false(fw_log_on(FW_LOG_ERROR));
    fw_log(FW_LOG_ERROR, "error");
    fw_set_log_level(0);
    fw_log(FW_LOG_ERROR, "error");
    assert_int_equal(c.n, 1);
}

/* Runs f(arg) with the process's stderr going to a file; returns what was written. */
static long stderr_bytes_of(void (*f)(void *), void *arg)
{
    char path[600];
    snprintf(path, sizeof path, "%s/stderr.txt", fwt_tmpdir());
    fflush(stderr);
    int saved = dup(2), fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    f(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

static const char *job_input;
static int job_rc;

static void run_job(void *arg)
{
    (void)arg;
    fw_params p = fw_params_default();
    fw_job *job = NULL;
    fw_error err;
    fw_callbacks cb = {0};
    job_rc = fw_job_open(&job, job_input, &p, &err);
    if (job_rc == 0)
        job_rc = fw_job_run(job, &cb, &err);
    fw_job_close(job);
}

static void job_traces_and_libav_messages_reach_the_callback_never_stderr(void **state)
{
    (void)state;
    const char *clip = fwt_video("clip.mp4", "-f lavfi -i testsrc=s=160x120:r=10:d=2 "
                                             "-pix_fmt yuv420p -c:v libx264 -preset ultrafast");
    capture c = {0};
    fw_set_log(on_line, &c, FW_LOG_TRACE);
    job_input = clip;
    assert_int_equal(stderr_bytes_of(run_job, NULL), 0);
    assert_int_equal(job_rc, 0);
    assert_true(c.traces >= 10); /* one per scored frame: 20 frames */
    /* a file cut before its index: the demuxer's error, as a user may read it */
    char cut[600];
    snprintf(cut, sizeof cut, "%s/cut.mp4", fwt_tmpdir());
    fwt_run r;
    fwt_sh(&r, "head -c 4000 '%s' > '%s'", clip, cut);
    fwt_free(&r);
    memset(&c, 0, sizeof c);
    job_input = cut;
    assert_int_equal(stderr_bytes_of(run_job, NULL), 0);
    assert_int_not_equal(job_rc, 0);
    assert_true(c.moov >= 1);
    assert_int_equal(c.prefixed, 0);
    assert_int_equal(c.traces, 0);
    fw_set_log(NULL, NULL, 0);
}

#define LOGGERS 4
#define LINES 20000

static void *logger(void *arg)
{
    (void)arg;
    for (int i = 0; i < LINES; i++)
        fw_log(FW_LOG_INFO, "line %d", i);
    return NULL;
}

static void callbacks_change_safely_while_threads_log(void **state)
{
    (void)state;
    capture a = {0}, b = {0};
    pthread_t t[LOGGERS];
    fw_set_log(on_line, &a, FW_LOG_INFO);
    for (int i = 0; i < LOGGERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, logger, NULL), 0);
    int stale = 0;
    for (int round = 0; round < 200; round++) {
        capture *now = round % 2 ? &a : &b, *old = round % 2 ? &b : &a;
        fw_set_log(on_line, now, FW_LOG_INFO);
        int before = old->n; /* old is never called again: its count stays */
        usleep(100);
        stale += old->n != before;
    }
    fw_set_log(NULL, NULL, 0);
    int total = a.n + b.n;
    for (int i = 0; i < LOGGERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(stale, 0);
    assert_int_equal(a.n + b.n, total);
    assert_true(total <= LOGGERS * LINES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(levels_above_the_maximum_never_reach_the_callback),
        cmocka_unit_test_teardown(job_traces_and_libav_messages_reach_the_callback_never_stderr,
                                  fwt_teardown),
        cmocka_unit_test(callbacks_change_safely_while_threads_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
