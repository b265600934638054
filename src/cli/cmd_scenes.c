/* framewise scenes: the shot list (cuts), like PySceneDetect's list-scenes. */
#include <inttypes.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "emit/emit.h"

static const char *const settings[] = {"cut-threshold", "min-scene", "threads", "read-timeout",
                                       NULL};

static const cli_command command = {
    .name = "scenes",
    .usage = "scenes VIDEO [--cut-threshold C] [--min-scene S] [--json]",
    .summary = "Decodes VIDEO and prints its shots as CSV\n"
               "(scene,start_time,end_time,start_frame,end_frame; frames 0-based, end_frame\n"
               "inclusive, end_time = the next scene's start_time or the end of the video),\n"
               "or as JSON with --json.",
    .settings = settings,
};

typedef struct state {
    cli_progress progress; /* first: the shared callbacks take the state as one */
    const cli_opts *o;
    fw_scene *list;
    int n, cap;
    int oom;
} state;
_Static_assert(offsetof(state, progress) == 0, "cli_progress_cb takes the state");

static void on_scene(void *user, const fw_scene *sc)
{
    state *st = user;
    if (st->n == st->cap) {
        int cap = st->cap ? st->cap * 2 : 64;
        fw_scene *list = realloc(st->list, (size_t)cap * sizeof *list);
        if (!list) {
            st->oom = 1;
            return;
        }
        st->list = list;
        st->cap = cap;
    }
    st->list[st->n++] = *sc;
}

int cmd_scenes(int argc, char **argv)
{
    cli_opts o;
    int rc = cli_parse(&command, argc, argv, &o);
    if (rc >= 0)
        return rc;
    o.params.policy = FW_POLICY_SCENE;
    fw_error err = {0};
    fw_job *job = NULL;
    if ((rc = fw_job_open(&job, o.input, &o.params, &err))) {
        cli_error("%s", err.message);
        return cli_exit_code(rc);
    }
    state st = {.o = &o};
    cli_progress_init(&st.progress, o.quiet, "scenes");
    fw_callbacks cb = {.on_scene = on_scene,
                       .on_progress = st.progress.enabled ? cli_progress_cb : NULL,
                       .on_warning = cli_progress_warning,
                       .user = &st};
    rc = fw_job_run(job, &cb, &err);
    cli_progress_done(&st.progress);
    if (rc)
        cli_error("%s", err.message);
    if (st.oom) {
        cli_error("%s: out of memory", o.input);
        rc = FW_ENOMEM;
    }
    if (rc && st.n == 0) {
        ; /* nothing decoded: the one-line error says it all */
    } else if (o.json) {
        json_t *arr = json_array();
        for (int i = 0; i < st.n; i++) {
            const fw_scene *s = &st.list[i];
            json_array_append_new(arr, json_pack("{s:i, s:f, s:f, s:I, s:I}", "scene", s->index,
                                                 "start_time", s->start_s, "end_time", s->end_s,
                                                 "start_frame", (json_int_t)s->start_frame,
                                                 "end_frame", (json_int_t)s->end_frame));
        }
        json_t *root =
            json_pack("{s:o, s:o}", "video", fw_report_video(fw_job_video(job)), "scenes", arr);
        cli_print_json(root);
        json_decref(root);
    } else {
        printf("scene,start_time,end_time,start_frame,end_frame\n");
        for (int i = 0; i < st.n; i++) {
            const fw_scene *s = &st.list[i];
            printf("%d,%.6f,%.6f,%" PRId64 ",%" PRId64 "\n", s->index, s->start_s, s->end_s,
                   s->start_frame, s->end_frame);
        }
    }
    fw_job_close(job);
    free(st.list);
    return cli_exit_code(rc);
}

const cli_command *const cli_scenes_command = &command;
