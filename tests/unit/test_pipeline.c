/* pipeline: the job through the public API — order, threads, cancellation, budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "framewise.h"

static char video[256];

/* Five static shots of 1 s (known: 5 keyframes with auto). */
static int make_video(void **state)
{
    (void)state;
    snprintf(video, sizeof video, "/tmp/fw_pipeline_%d.mp4", (int)getpid());
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -v error -f lavfi -i smptebars=s=320x240:r=25:d=1 -f lavfi -i "
             "rgbtestsrc=s=320x240:r=25:d=1 -f lavfi -i pal75bars=s=320x240:r=25:d=1 -f lavfi -i "
             "color=c=orange:s=320x240:r=25:d=1 -f lavfi -i color=c=navy:s=320x240:r=25:d=1 "
             "-filter_complex concat=n=5:v=1 -c:v libx264 -preset ultrafast -pix_fmt yuv420p "
             "-y %s",
             video);
    return system(cmd) == 0 ? 0 : -1;
}

static int remove_video(void **state)
{
    (void)state;
    unlink(video);
    return 0;
}

typedef struct seen {
    int n;
    int stop_after; /* 0: never */
    double last_time;
    int in_order;
    int jpegs_ok;
} seen;

static int on_keyframe(void *user, const fw_keyframe *kf)
{
    seen *s = user;
    s->in_order &= kf->index == s->n && kf->time_s >= s->last_time;
    s->jpegs_ok &= kf->jpeg && kf->jpeg_size > 100 && kf->jpeg[0] == 0xFF && kf->jpeg[1] == 0xD8;
    s->last_time = kf->time_s;
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static int run(const fw_params *p, seen *s, fw_error *err)
{
    fw_job *job = NULL;
    int rc = fw_job_open(&job, video, p, err);
    assert_int_equal(rc, 0);
    fw_callbacks cb = {.on_keyframe = on_keyframe, .user = s};
    rc = fw_job_run(job, &cb, err);
    fw_error again;
    assert_int_equal(fw_job_run(job, &cb, &again), FW_EINVAL); /* a job runs once */
    fw_job_close(job);
    return rc;
}

static void keyframes_arrive_in_order_with_jpegs(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    seen s = {.in_order = 1, .jpegs_ok = 1};
    fw_error err;
    assert_int_equal(run(&p, &s, &err), 0);
    assert_int_equal(s.n, 5);
    assert_true(s.in_order);
    assert_true(s.jpegs_ok);
}

static void a_callback_can_stop_the_job(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    seen s = {.stop_after = 2, .in_order = 1, .jpegs_ok = 1};
    fw_error err;
    assert_int_equal(run(&p, &s, &err), FW_ECANCELED);
    assert_int_equal(s.n, 2); /* nothing after the stop */
    if (!strstr(err.message, "stopped"))
        fail_msg("message: '%s'", err.message);
}

static void a_budget_reports_at_most_n_in_order(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    p.budget = 3;
    seen s = {.in_order = 1, .jpegs_ok = 1};
    fw_error err;
    assert_int_equal(run(&p, &s, &err), 0);
    assert_int_equal(s.n, 3);
    assert_true(s.in_order);
}

static void bad_params_are_refused_before_opening(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    p.fps = -1;
    fw_job *job = NULL;
    fw_error err;
    assert_int_equal(fw_job_open(&job, video, &p, &err), FW_EINVAL);
    assert_null(job);
    assert_non_null(strstr(err.message, "fps: must be >= 0.001"));
    assert_null(strstr(err.message, "--"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keyframes_arrive_in_order_with_jpegs),
        cmocka_unit_test(a_callback_can_stop_the_job),
        cmocka_unit_test(a_budget_reports_at_most_n_in_order),
        cmocka_unit_test(bad_params_are_refused_before_opening),
    };
    return cmocka_run_group_tests(tests, make_video, remove_video);
}
