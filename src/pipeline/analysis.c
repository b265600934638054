/* One analysis: open, state, cancel, the end of a run, close (pipeline/analysis.h). */
#include "pipeline/analysis.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/sidefile.h"
#include "pipeline/pipeline.h"

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "fw_analysis_cancel must be async-signal-safe");

fw_analysis_opts fw_analysis_opts_default(void)
{
    return (fw_analysis_opts){0};
}

const char *fw_analysis_state_name(fw_analysis_state s)
{
    static const char *const names[] = {"ready", "running", "done", "failed", "cancelled"};
    return (unsigned)s < sizeof names / sizeof *names ? names[s] : "unknown";
}

/* The earlier part of the recording: its report, and the offsets that continue its
 * timeline. */
static int open_append(fw_analysis *a, int64_t job, fw_error *err)
{
    if (!a->cache.store)
        return fw_error_set(err, FW_EINVAL,
                            "append: needs the store (a file input, the store not disabled)");
    if (!(a->base = fw_cache_job_result(&a->cache, job)))
        return fw_error_set(err, FW_EINVAL, "append %lld: %s", (long long)job,
                            a->cache.err.code ? a->cache.err.message
                                              : "no finished job with that number in the store");
    json_t *kfs = json_object_get(a->base, "keyframes");
    double end_s =
        json_number_value(json_object_get(json_object_get(a->base, "video"), "duration"));
    double last =
        json_number_value(json_object_get(json_array_get(kfs, json_array_size(kfs) - 1), "time"));
    a->kfs.index_offset = (int)json_array_size(kfs);
    a->kfs.time_offset = end_s > last ? end_s : last + 1;
    fw_cache_append(&a->cache, job, a->kfs.index_offset, a->kfs.time_offset);
    return 0;
}

/* The settings in effect, the store and its keys, the part continued, a stored result. */
static int open_settings(fw_analysis *a, const fw_analysis_opts *o, fw_error *err)
{
    int rc = fw_preset_apply(&a->preset, o->preset, &a->p, o->chosen, err);
    if (!rc)
        rc = fw_params_validate(&a->p, err);
    if (!rc)
        rc = fw_formats_parse(o->formats ? o->formats : "all", &a->formats, err);
    if (rc)
        return rc;
    /* the side files before the cache hashes them: /dev/zero would be hashed for ever */
    if ((rc = fw_side_check_list(a->p.events, "events file", FW_SIDE_MAX_EVENTS, err)) ||
        (rc = fw_side_check_list(a->p.lexicon, "lexicon", FW_SIDE_MAX_LEXICON, err)))
        return rc;
    json_t *settings = fw_report_params(&a->p);
    rc = fw_cache_open(&a->cache, a->input, &a->p, settings, o->store, o->no_store, err);
    a->cache.journal = o->journal;
    json_decref(settings);
    if (!rc && o->append < 0)
        rc = fw_error_set(err, FW_EINVAL, "append: %lld is not a job number", (long long)o->append);
    if (!rc && o->append > 0)
        rc = open_append(a, o->append, err);
    if (!rc)
        a->hit = fw_cache_hit(&a->cache, &a->hit_job);
    return rc;
}

/* Without a stored result: the input and the story. */
static int open_work(fw_analysis *a, fw_error *err)
{
    fw_job_hooks hooks = {.cancel = &a->cancel, .decoded = fw_analysis_decoded, .user = a};
    int rc = fw_job_open_hooked(&a->job, a->input, &a->p, &hooks, err);
    if (!rc)
        rc = fw_story_open(&a->story, &a->p, err);
    if (!rc)
        fw_story_set_cancel(a->story, &a->cancel);
    if (!rc)
        rc = fw_spool_open(&a->spool, a->out_dir, err);
    const char *live = a->p.live ? a->p.live : "auto";
    if (!rc) /* a stop ends a live run with its report; its summary is still asked */
        a->live = strcmp(live, "on") == 0 || (strcmp(live, "auto") == 0 && fw_job_live(a->job));
    if (!rc && a->live)
        fw_story_set_cancel(a->story, &a->story_stop);
    return rc;
}

static char *copy(const char *s, int *oom)
{
    char *c = s ? strdup(s) : NULL;
    *oom |= s && !c;
    return c;
}

int fw_analysis_open(fw_analysis **out, const char *input, const fw_params *params,
                     const fw_analysis_opts *opts, fw_error *err)
{
    *out = NULL;
    fw_error local;
    err = err ? err : &local;
    const fw_analysis_opts o = opts ? *opts : fw_analysis_opts_default();
    fw_analysis *a = calloc(1, sizeof *a);
    if (!a)
        return fw_error_set(err, FW_ENOMEM, "%s: out of memory", input);
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->story_mu, NULL);
    atomic_init(&a->cancel, 0);
    atomic_init(&a->story_stop, 0);
    atomic_init(&a->fuse_due, 0);
    atomic_init(&a->state, FW_ANALYSIS_READY);
    a->p = params ? *params : fw_params_default();
    int oom = 0;
    a->input = copy(input, &oom);
    a->name = copy(o.input_name ? o.input_name : input, &oom);
    a->out_dir = copy(o.out_dir, &oom);
    a->kfs.dir = a->out_dir;
    a->kfs.keep = 4096; /* what the analyzer may still need: it is never that far behind */
    a->found = json_array();
    int rc = oom || !a->found ? fw_error_set(err, FW_ENOMEM, "%s: out of memory", input) : 0;
    if (!rc)
        rc = open_settings(a, &o, err);
    struct stat st;
    a->made_dir = a->out_dir && stat(a->out_dir, &st) != 0;
    if (!rc && a->out_dir && fw_mkdirs(a->out_dir))
        rc = fw_error_set(err, FW_EIO, "%s: cannot create output directory: %s", a->out_dir,
                          strerror(errno));
    if (!rc && !a->hit)
        rc = open_work(a, err);
    if (rc) {
        if (a->made_dir && a->out_dir) /* nothing was made in it (the spool is unlinked) */
            rmdir(a->out_dir);
        fw_analysis_close(a);
        return rc;
    }
    *out = a;
    return 0;
}

/* Every event of the run on its way to the caller (the pumping thread). */
static void dispatch(void *user, const fw_event *ev)
{
    fw_analysis *a = user;
    if (ev->type == FW_EVENT_STAGE && ev->stage && strcmp(ev->stage, "analyze") == 0) {
        fw_analysis_progress(a, 1); /* decoding's last word */
        a->in_analyze = 1;          /* progress speaks of observations from now on */
    }
    if (a->fn)
        a->fn(a->user, ev);
}

int fw_analysis_run(fw_analysis *a, fw_event_fn fn, void *user, fw_error *err)
{
    fw_error local;
    err = err ? err : &local;
    int ready = FW_ANALYSIS_READY;
    if (!atomic_compare_exchange_strong(&a->state, &ready, FW_ANALYSIS_RUNNING))
        return fw_error_set(err, FW_EINVAL, "%s: an analysis runs once", a->input);
    a->fn = fn;
    a->user = user;
    int rc = fw_evq_open(&a->q, dispatch, a, &a->jsonl, err);
    if (!rc && !(a->written = json_array()))
        rc = fw_error_set(err, FW_ENOMEM, "%s: out of memory", a->input);
    if (rc) {
        atomic_store(&a->state, FW_ANALYSIS_FAILED);
        return rc;
    }
    if (atomic_load(&a->cancel)) /* asked to stop before it began: nothing is done */
        rc = fw_error_set(err, FW_ECANCELED, "%s: cancelled", a->input);
    else if (a->out_dir && (a->formats & FW_OUT_JSONL))
        rc = fw_jsonl_open(&a->jsonl, a->out_dir, err);
    if (!rc)
        rc = a->hit ? fw_analysis_replay(a, err) : fw_analysis_fresh(a, err);
    return fw_analysis_end(a, rc, err, a->hit != NULL, json_object_get(a->report_json, "stats"));
}

/* A run that failed before anything was made (the server cannot be reached, the input
 * cannot be opened) leaves nothing behind: not an empty report.jsonl, not the folder
 * it created (rmdir only removes it when empty). */
static void remove_leftovers(fw_analysis *a)
{
    if (!a->jsonl.file && !a->jsonl.path[0])
        return;
    fw_jsonl_close(&a->jsonl, NULL);
    struct stat st;
    int empty = a->jsonl.path[0] && stat(a->jsonl.path, &st) == 0 && st.st_size == 0;
    if (empty && a->kfs.n == 0)
        unlink(a->jsonl.path);
    if (a->made_dir && a->kfs.n == 0)
        rmdir(a->out_dir);
}

int fw_analysis_end(fw_analysis *a, int rc, const fw_error *err, int cached, json_t *stats)
{
    int cancelled = rc == FW_ECANCELED && atomic_load(&a->cancel);
    fw_analysis_state state = !rc         ? FW_ANALYSIS_DONE
                              : cancelled ? FW_ANALYSIS_CANCELLED
                                          : FW_ANALYSIS_FAILED;
    if (state == FW_ANALYSIS_DONE)
        fw_evq_progress(a->q, "write", 1, 1, 1);
    json_t *o = json_pack("{s:s, s:b, s:O?, s:O}", "state", fw_analysis_state_name(state), "cached",
                          cached, "stats", stats, "written", a->written);
    if (state == FW_ANALYSIS_FAILED && !a->report_json)
        remove_leftovers(a);
    if (state == FW_ANALYSIS_FAILED) {
        json_object_set_new(o, "code", json_integer(rc));
        json_object_set_new(o, "message", json_string(err->message));
    }
    atomic_store(&a->state, state); /* what the last event's callback finds */
    fw_evq_emit(a->q, state == FW_ANALYSIS_FAILED ? FW_EVENT_ERROR : FW_EVENT_DONE, o);
    json_decref(o);
    return rc;
}

void fw_analysis_cancel(fw_analysis *a)
{
    if (!a)
        return; /* the stages watch the flags: nothing else is safe here */
    if (a->live && atomic_load(&a->cancel)) /* asked again: the summary too */
        atomic_store(&a->story_stop, 1);
    atomic_store(&a->cancel, 1);
}

fw_analysis_state fw_analysis_get_state(const fw_analysis *a)
{
    return (fw_analysis_state)atomic_load(&((fw_analysis *)a)->state);
}

const char *fw_analysis_report(const fw_analysis *a)
{
    fw_analysis *w = (fw_analysis *)a; /* made on the first call: a long video's is large */
    if (!w->report && w->report_json) {
        fw_doc doc = {w->report_json, w->spool};
        w->report = fw_doc_text(&doc, 0);
    }
    return w->report;
}

const fw_params *fw_analysis_params(const fw_analysis *a)
{
    return &a->p;
}

void fw_analysis_close(fw_analysis *a)
{
    if (!a)
        return;
    fw_job_close(a->job);
    fw_story_close(a->story);
    fw_cache_close(&a->cache);
    fw_jsonl_close(&a->jsonl, NULL);
    fw_evq_close(a->q);
    json_decref(a->hit);
    json_decref(a->base);
    json_decref(a->written);
    json_decref(a->found);
    json_decref(a->report_json);
    fw_kflist_free(&a->kfs);
    fw_spool_close(a->spool);
    pthread_mutex_destroy(&a->story_mu);
    fw_preset_free(&a->preset);
    free(a->report);
    free(a->input);
    free(a->name);
    free(a->out_dir);
    pthread_mutex_destroy(&a->mu);
    free(a);
}
