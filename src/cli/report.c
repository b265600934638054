#include "cli/report.h"

#include <inttypes.h>
#include <stdio.h>

#include "core/settings.h"

json_t *report_video(const fw_video_info *vi)
{
    return json_pack("{s:s, s:o, s:i, s:i, s:i, s:f, s:s, s:s, s:I, s:I}", "path", vi->path,
                     "duration", vi->duration_s >= 0 ? json_real(vi->duration_s) : json_null(),
                     "width", vi->width, "height", vi->height, "rotation", vi->rotation, "fps",
                     vi->fps, "codec", vi->codec, "container", vi->container, "frames_decoded",
                     (json_int_t)vi->frames_decoded, "decode_errors",
                     (json_int_t)vi->decode_errors);
}

json_t *report_scores(const fw_scores *s)
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

json_t *report_params(const fw_params *p)
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

json_t *report_keyframe(const fw_keyframe *kf, const char *file)
{
    return json_pack("{s:i, s:f, s:I, s:I, s:s, s:s, s:i, s:i, s:i, s:o}", "index", kf->index,
                     "time", kf->time_s, "pts", (json_int_t)kf->pts, "frame", (json_int_t)kf->frame,
                     "reason", kf->reason, "file", file, "width", kf->width, "height", kf->height,
                     "image_tokens", kf->image_tokens, "scores", report_scores(&kf->scores));
}

int report_print(json_t *root)
{
    int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fputc('\n', stdout);
    return rc;
}

const char *report_clock(double t, char *buf, size_t n)
{
    if (t < 0)
        t = 0;
    long ms = (long)(t * 1000 + 0.5);
    long h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60;
    if (h)
        snprintf(buf, n, "%ld:%02ld:%02ld.%03ld", h, m, s, ms % 1000);
    else
        snprintf(buf, n, "%02ld:%02ld.%03ld", m, s, ms % 1000);
    return buf;
}
