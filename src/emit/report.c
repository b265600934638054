/* The report and its parts as JSON, from the public types. */
#include <inttypes.h>
#include <stdio.h>

#include "core/settings.h"
#include "emit/emit.h"

json_t *fw_report_video(const fw_video_info *vi)
{
    return json_pack("{s:s, s:o, s:i, s:i, s:i, s:f, s:s, s:s, s:I, s:I}", "path", vi->path,
                     "duration", vi->duration_s >= 0 ? json_real(vi->duration_s) : json_null(),
                     "width", vi->width, "height", vi->height, "rotation", vi->rotation, "fps",
                     vi->fps, "codec", vi->codec, "container", vi->container, "frames_decoded",
                     (json_int_t)vi->frames_decoded, "decode_errors",
                     (json_int_t)vi->decode_errors);
}

json_t *fw_report_scores(const fw_scores *s)
{
    char hash[17];
    snprintf(hash, sizeof hash, "%016" PRIx64, s->hash);
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:s, s:b, "
                     "s:b}",
                     "motion", s->motion, "area", s->area, "settled", s->settled, "moving",
                     s->moving, "detail", s->detail, "delta", s->delta, "chroma", s->chroma, "cut",
                     s->cut, "blur", s->blur, "luma", s->luma, "cb", s->cb, "cr", s->cr, "spread",
                     s->spread, "hash", hash, "black", s->black, "flat", s->flat);
}

json_t *fw_report_params(const fw_params *p)
{
    json_t *o = json_object();
    for (const fw_setting *s = fw_settings; s->name; s++) {
        if (s->flags & FW_SETTING_ALIAS)
            continue;
        const char *field = (const char *)p + s->offset;
        const char *str = s->type == FW_SET_STRING ? *(const char *const *)field : NULL;
        json_t *v = s->type == FW_SET_DOUBLE ? json_real(*(const double *)field)
                    : s->type == FW_SET_INT  ? json_integer(*(const int *)field)
                    : s->type == FW_SET_POLICY
                        ? json_string(fw_policy_name(*(const fw_policy *)field))
                    : !str                           ? json_null()
                    : (s->flags & FW_SETTING_SECRET) ? json_string("(set)")
                                                     : json_string(str);
        json_object_set_new(o, s->name, v);
    }
    return o;
}

json_t *fw_report_keyframe(const fw_keyframe *kf, const char *file)
{
    return json_pack("{s:i, s:f, s:I, s:I, s:s, s:s?, s:i, s:i, s:i, s:o}", "index", kf->index,
                     "time", kf->time_s, "pts", (json_int_t)kf->pts, "frame", (json_int_t)kf->frame,
                     "reason", kf->reason, "file", file, "width", kf->width, "height", kf->height,
                     "image_tokens", kf->image_tokens, "scores", fw_report_scores(&kf->scores));
}

json_t *fw_report_observation(const fw_observation *ob)
{
    json_t *flags = json_array();
    for (int i = 0; i < ob->n_flags; i++)
        json_array_append_new(flags, json_string(ob->flags[i]));
    json_t *fields = json_loads(ob->fields ? ob->fields : "{}", 0, NULL);
    if (!json_is_object(fields)) {
        json_decref(fields);
        fields = json_object();
    }
    json_t *o = json_pack(
        "{s:f, s:i, s:s, s:o, s:f, s:o, s:s?, s:s?, s:f, s:i, s:i, s:i, s:i}", "time", ob->time_s,
        "keyframe", ob->keyframe, "text", ob->text ? ob->text : "", "fields", fields, "confidence",
        ob->confidence, "flags", flags, "backend", ob->backend, "model", ob->model, "latency_ms",
        ob->latency_ms, "image_tokens", ob->image_tokens, "prompt_tokens", ob->prompt_tokens,
        "completion_tokens", ob->completion_tokens, "attempts", ob->attempts);
    if (o && ob->error)
        json_object_set_new(o, "error", json_string(ob->error));
    if (o && ob->cached)
        json_object_set_new(o, "cached", json_true());
    if (o && ob->sent)
        json_object_set_new(o, "sent", json_string(ob->sent));
    if (o && ob->n_regions > 0) {
        json_t *regions = json_array();
        for (int i = 0; i < ob->n_regions && i < 3; i++)
            json_array_append_new(regions, json_pack("{s:f, s:f, s:f, s:f}", "x", ob->regions[i][0],
                                                     "y", ob->regions[i][1], "w", ob->regions[i][2],
                                                     "h", ob->regions[i][3]));
        json_object_set_new(o, "regions", regions);
    }
    return o;
}

json_t *fw_report_stats(const fw_stats *s, double duration_s)
{
    json_t *o = json_pack(
        "{s:I, s:i, s:i, s:i, s:i, s:i, s:I, s:I, s:I, s:{s:f, s:f, s:f}}", "frames_decoded",
        (json_int_t)s->frames_decoded, "keyframes", s->keyframes, "observations", s->observations,
        "requests", s->requests, "retries", s->retries, "failed", s->failed, "image_tokens",
        (json_int_t)s->image_tokens, "prompt_tokens", (json_int_t)s->prompt_tokens,
        "completion_tokens", (json_int_t)s->completion_tokens, "seconds", "decode", s->decode_s,
        "analyze", s->analyze_s, "total", s->total_s);
    json_object_set_new(o, "cached", json_integer(s->cached));
    json_object_set_new(o, "text_tokens", json_integer(s->text_tokens));
    json_object_set_new(o, "sent",
                        json_pack("{s:i, s:i, s:i, s:i, s:i}", "crops", s->crops, "low",
                                  s->low_asks, "asked_again", s->asked_again, "none", s->avoided,
                                  "same", s->unchanged));
    if (duration_s > 0) {
        json_object_set_new(o, "image_tokens_per_minute",
                            json_real(s->image_tokens * 60.0 / duration_s));
        json_object_set_new(o, "text_tokens_per_minute",
                            json_real(s->text_tokens * 60.0 / duration_s));
    }
    return o;
}

/* The local backend's fields of an observation, or NULL. */
static json_t *ocr_fields(json_t *obs)
{
    json_t *f = json_object_get(obs, "fields");
    json_t *ocr = json_object_get(f, "ocr");
    f = json_is_object(ocr) ? ocr : f;
    return json_object_get(f, "text_added") ? f : NULL;
}

json_t *fw_report_timeline_entry(json_t *o)
{
    json_t *f = ocr_fields(o);
    if (!f)
        return NULL;
    json_t *added = json_object_get(f, "text_added");
    json_t *removed = json_object_get(f, "text_removed");
    json_t *changed = json_object_get(f, "text_changed");
    if (!json_array_size(added) && !json_array_size(removed) && !json_array_size(changed))
        return NULL;
    return json_pack("{s:O, s:O, s:O, s:O, s:O}", "time", json_object_get(o, "time"), "keyframe",
                     json_object_get(o, "keyframe"), "added", added, "changed", changed, "removed",
                     removed);
}

json_t *fw_report_timeline(json_t *observations)
{
    json_t *out = json_array(), *o;
    size_t i;
    json_array_foreach(observations, i, o)
    {
        json_t *e = fw_report_timeline_entry(o);
        if (e)
            json_array_append_new(out, e);
    }
    return out;
}

json_t *fw_report_new(const fw_report_in *in)
{
    json_t *video = fw_report_video(in->video);
    if (in->path)
        json_object_set_new(video, "path", json_string(in->path));
    json_t *root =
        json_pack("{s:s, s:s, s:o, s:o, s:o, s:O, s:o}", "schema", "framewise.report/1",
                  "framewise", FW_VERSION, "video", video, "settings", fw_report_params(in->params),
                  "keyframes", in->keyframes, "observations", in->observations, "stats",
                  fw_report_stats(in->stats, in->video->duration_s));
    if (!root)
        return NULL;
    json_object_set(root, "timeline", in->timeline);
    if (in->append)
        json_object_set(root, "append", in->append);
    if (in->story)
        json_object_update(root, in->story);
    if (in->error)
        json_object_set_new(root, "error", json_string(in->error));
    if (in->cancelled) { /* stopped before the end (a signal, a cancel): what was done */
        json_object_set_new(root, "cancelled", json_true());
        json_object_set_new(root, "interrupted", json_true());
    }
    return root;
}
