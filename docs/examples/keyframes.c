/* The keyframes of a video through libframewise, at most MAX_GAP seconds apart:
 * cc keyframes.c $(pkg-config --cflags --libs framewise) -o keyframes
 * ./keyframes VIDEO [MAX_GAP] */
#include <framewise.h>
#include <stdio.h>

static int on_keyframe(void *user, const fw_keyframe *kf)
{
    (void)user;
    printf("%9.3f s  frame %-6lld %s\n", kf->time_s, (long long)kf->frame, kf->reason);
    return 0; /* non-zero stops the job */
}

int main(int argc, char **argv)
{
    fw_params p = fw_params_default();
    fw_error err = {.message = "usage: keyframes VIDEO [MAX_GAP]"};
    fw_job *job = NULL;
    fw_callbacks cb = {.on_keyframe = on_keyframe};
    int rc = argc < 2 ? FW_EINVAL : fw_params_set(&p, "max-gap", argc > 2 ? argv[2] : "10", &err);
    if (rc == 0 && (rc = fw_job_open(&job, argv[1], &p, &err)) == 0)
        rc = fw_job_run(job, &cb, &err);
    fw_job_close(job);
    if (rc)
        fprintf(stderr, "%s\n", err.message);
    return rc ? 1 : 0;
}
