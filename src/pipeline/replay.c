/* What comes from the store: a finished result given back (no decoding, no model request),
 * and the earlier part of an appended recording. */
#include <string.h>

#include "core/error.h"
#include "pipeline/analysis.h"

static void emit_each(fw_analysis *a, fw_event_type type, json_t *array)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v) fw_evq_emit(a->q, type, v);
}

int fw_analysis_replay(fw_analysis *a, fw_error *err)
{
    if (atomic_load(&a->cancel))
        return fw_error_set(err, FW_ECANCELED, "%s: cancelled", a->input);
    /* the report names this call's input, as a fresh run would */
    json_object_set_new(json_object_get(a->hit, "video"), "path", json_string(a->name));
    int rc = fw_cache_restore(&a->cache, a->hit_job, a->hit, a->out_dir, err);
    if (rc)
        return rc;
    /* the stream as the run that made it wrote it */
    emit_each(a, FW_EVENT_KEYFRAME, json_object_get(a->hit, "keyframes"));
    emit_each(a, FW_EVENT_OBSERVATION, json_object_get(a->hit, "observations"));
    emit_each(a, FW_EVENT_SEGMENT, json_object_get(a->hit, "segments"));
    emit_each(a, FW_EVENT_EVENT, json_object_get(a->hit, "events"));
    fw_evq_emit(a->q, FW_EVENT_SUMMARY, json_object_get(a->hit, "summary"));
    fw_evq_emit(a->q, FW_EVENT_REVIEW, json_object_get(a->hit, "review"));
    a->report_json = json_incref(a->hit);
    return fw_analysis_write(a, err);
}

int fw_analysis_feed_base(fw_analysis *a, fw_error *err)
{
    int rc = fw_cache_restore(&a->cache, a->cache.base_job, a->base, a->out_dir, err);
    if (rc)
        return rc;
    emit_each(a, FW_EVENT_KEYFRAME, json_object_get(a->base, "keyframes"));
    size_t i;
    json_t *v;
    for (int l = FW_SPOOL_KEYFRAMES; l <= FW_SPOOL_TIMELINE; l++) /* they come first */
        if (l != FW_SPOOL_OBSERVATIONS)
            json_array_foreach(json_object_get(a->base, fw_spool_key(l)), i,
                               v) if ((rc = fw_spool_add(a->spool, l, v, err))) return rc;
    json_array_foreach(json_object_get(a->base, "observations"), i, v)
    {
        json_t *o = json_deep_copy(v);
        json_object_del(o, "gated"); /* the gate decides again */
        json_object_del(o, "cached");
        fw_observation ob;
        fw_cache_fill(&a->cache, (int)json_integer_value(json_object_get(o, "keyframe")),
                      json_number_value(json_object_get(o, "time")), o, &ob);
        fw_analysis_tell(a, &ob, o, 0);
        rc = fw_spool_add(a->spool, FW_SPOOL_OBSERVATIONS, o, err); /* as the story saw it */
        json_decref(o);
        if (rc)
            return rc;
    }
    return 0;
}
