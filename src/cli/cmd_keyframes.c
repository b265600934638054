/* framewise keyframes: keep the frames that matter, write them, list them. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "emit/emit.h"

static const char *const settings[] = {"policy",           "fps",           "motion-threshold",
                                       "area-threshold",   "max-gap",       "min-gap",
                                       "min-scene",        "cut-threshold", "settle",
                                       "dup-bits",         "budget",        "max-rate",
                                       "threads",          "jpeg-quality",  "max-pixels",
                                       "max-image-tokens", "read-timeout",  NULL};

static const cli_command command = {
    .name = "keyframes",
    .usage = "keyframes VIDEO [-o DIR] [--policy P] [options] [--json|--csv]",
    .summary = "Decodes VIDEO once, keeps the frames that carry new information and writes them\n"
               "as DIR/kf_NNNNNN.jpg; prints the list (time, reason, scores).\n"
               "Policies: auto (cuts + on-screen change vs the last kept frame + max gap,\n"
               "minus near-duplicates), interval (fixed fps), motion (the seed's fps + motion\n"
               "threshold), scene (one per shot), iframe (the stream's keyframes only).",
    .settings = settings,
    .has_out_dir = 1,
    .has_csv = 1,
};

typedef struct state {
    cli_progress progress; /* first: the shared callbacks take the state as one */
    const cli_opts *o;
    fw_kflist kfs;
    fw_error err; /* the first keyframe that could not be written */
} state;
_Static_assert(offsetof(state, progress) == 0, "cli_progress_cb takes the state");

static int on_keyframe(void *user, const fw_keyframe *kf)
{
    state *st = user;
    return fw_kflist_add(&st->kfs, kf, &st->err) != 0;
}

static void print_json(const state *st, const fw_video_info *vi, double seconds)
{
    json_t *arr = json_array();
    for (int i = 0; i < st->kfs.n; i++) {
        const fw_keyframe *kf = &st->kfs.list[i].kf;
        json_array_append_new(arr, fw_report_keyframe(kf, st->kfs.list[i].file));
    }
    json_t *root = json_pack("{s:o, s:o, s:o, s:{s:i, s:f}}", "video", fw_report_video(vi),
                             "settings", fw_report_params(&st->o->params), "keyframes", arr,
                             "stats", "keyframes", st->kfs.n, "seconds", seconds);
    cli_print_json(root);
    json_decref(root);
}

/* CSV with the JSON's columns; fields are numbers or names without commas except
 * the file path, which is quoted. */
static void print_csv(const state *st)
{
    printf("index,time,pts,frame,reason,file,motion,area,delta,cut,blur,luma,spread,hash,black,"
           "flat\n");
    for (int i = 0; i < st->kfs.n; i++) {
        const fw_keyframe *kf = &st->kfs.list[i].kf;
        const fw_scores *s = &kf->scores;
        printf("%d,%.6f,%" PRId64 ",%" PRId64 ",%s,\"", kf->index, kf->time_s, kf->pts, kf->frame,
               kf->reason);
        for (const char *c = st->kfs.list[i].file; *c; c++)
            printf(*c == '"' ? "\"\"" : "%c", *c);
        printf("\",%.3f,%.4f,%.3f,%.4f,%.1f,%.1f,%.1f,%016" PRIx64 ",%d,%d\n", s->motion, s->area,
               s->delta, s->cut, s->blur, s->luma, s->spread, s->hash, s->black, s->flat);
    }
}

static void print_text(const state *st, const fw_video_info *vi, double seconds)
{
    char clock[32];
    printf("%s: kept %d of %" PRId64 " frames (%s policy) in %.2f s -> %s/\n", vi->path, st->kfs.n,
           vi->frames_decoded, fw_policy_name(st->o->params.policy), seconds, st->o->out_dir);
    printf("  %-11s %7s  %-8s  %-18s %7s %6s %6s\n", "time", "frame", "reason", "file", "motion",
           "area", "cut");
    for (int i = 0; i < st->kfs.n; i++) {
        const fw_keyframe *kf = &st->kfs.list[i].kf;
        const char *base = strrchr(st->kfs.list[i].file, '/');
        printf("  %-11s %7" PRId64 "  %-8s  %-18s %7.1f %6.3f %6.3f\n",
               cli_clock(kf->time_s, clock, sizeof clock), kf->frame, kf->reason,
               base ? base + 1 : st->kfs.list[i].file, kf->scores.motion, kf->scores.area,
               kf->scores.cut);
    }
}

int cmd_keyframes(int argc, char **argv)
{
    cli_opts o;
    int rc = cli_parse(&command, argc, argv, &o);
    if (rc >= 0)
        return rc;
    fw_error err = {0};
    fw_job *job = NULL;
    if ((rc = fw_job_open(&job, o.input, &o.params, &err))) {
        cli_error("%s", err.message);
        return cli_exit_code(rc);
    }
    if (fw_mkdirs(o.out_dir)) {
        cli_error("%s: cannot create output directory: %s", o.out_dir, strerror(errno));
        fw_job_close(job);
        return EXIT_RUNTIME;
    }
    state st = {.o = &o, .kfs = {.dir = o.out_dir}};
    cli_progress_init(&st.progress, o.quiet, "keyframes");
    fw_callbacks cb = {.on_keyframe = on_keyframe,
                       .on_progress = st.progress.enabled ? cli_progress_cb : NULL,
                       .on_warning = cli_progress_warning,
                       .user = &st};
    double t0 = cli_now();
    rc = fw_job_run(job, &cb, &err);
    cli_progress_done(&st.progress);
    double seconds = cli_now() - t0;
    if (rc) {
        /* keep what was written: the list of the keyframes so far still goes out */
        cli_error("%s", st.err.code ? st.err.message : err.message);
    }
    const fw_video_info *vi = fw_job_video(job);
    if (rc && st.kfs.n == 0)
        ; /* nothing decoded: the one-line error says it all */
    else if (o.json)
        print_json(&st, vi, seconds);
    else if (o.csv)
        print_csv(&st);
    else if (!o.quiet)
        print_text(&st, vi, seconds);
    fw_job_close(job);
    fw_kflist_free(&st.kfs);
    return rc ? cli_exit_code(st.err.code ? st.err.code : rc) : EXIT_OK;
}

const cli_command *const cli_keyframes_command = &command;
