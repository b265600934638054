#include "core/settings.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define F(field) offsetof(fw_params, field)

const fw_setting fw_settings[] = {
    {"policy", FW_SET_POLICY, F(policy), FW_POLICY_AUTO, 0, 4, "P",
     "keyframe policy: auto, interval, motion, scene, iframe"},
    {"fps", FW_SET_DOUBLE, F(fps), 1.0, 0.001, 1000, "F",
     "interval/motion: frames sampled per second"},
    {"motion-threshold", FW_SET_DOUBLE, F(motion_threshold), 30.0, 0, 255, "T",
     "motion/auto: mean abs luma difference vs last kept frame that keeps a frame (0..255)"},
    {"area-threshold", FW_SET_DOUBLE, F(area_threshold), 0.01, 0, 1, "A",
     "auto: fraction of the picture changed vs last kept frame, and still, that keeps a frame"},
    {"max-gap", FW_SET_DOUBLE, F(max_gap_s), 10.0, 0, 1e9, "S",
     "auto: keep at least one frame every S seconds (0: off)"},
    {"min-gap", FW_SET_DOUBLE, F(min_gap_s), 0.5, 0, 1e9, "S",
     "auto: at least S seconds between kept frames, except after cuts"},
    {"min-scene", FW_SET_DOUBLE, F(min_scene_s), 0.5, 0, 1e9, "S",
     "scene/auto: minimum scene length in seconds"},
    {"cut-threshold", FW_SET_DOUBLE, F(cut_threshold), 0.25, 0.01, 1, "C",
     "cut score (mean of colour-histogram distance and luma change/80) that makes a cut"},
    {"settle", FW_SET_DOUBLE, F(settle_s), 0.25, 0, 10, "S",
     "auto: a change must stay still S seconds to be a new state (cuts/motion wait at most S)"},
    {"dup-bits", FW_SET_INT, F(dup_bits), 4, 0, 64, "B",
     "auto: perceptual-hash distance (bits) that counts as a near-duplicate (0: off)"},
    {"budget", FW_SET_INT, F(budget), 0, 0, 1000000, "N",
     "keep at most N keyframes in the whole video, least informative dropped (0: no limit)"},
    {"threads", FW_SET_INT, F(threads), 0, 0, 64, "N", "decoder threads (0: one per core)"},
    {"jpeg-quality", FW_SET_INT, F(jpeg_quality), 90, 1, 100, "Q",
     "JPEG quality of written keyframes (1..100)"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL},
};

static const char *const policy_names[] = {"auto", "interval", "motion", "scene", "iframe"};

const char *fw_policy_name(fw_policy p)
{
    return (unsigned)p < 5 ? policy_names[p] : "unknown";
}

int fw_policy_parse(const char *name, fw_policy *out)
{
    for (int i = 0; i < 5; i++)
        if (strcmp(name, policy_names[i]) == 0) {
            *out = (fw_policy)i;
            return 0;
        }
    return FW_EINVAL;
}

const fw_setting *fw_setting_find(const char *name)
{
    for (const fw_setting *s = fw_settings; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

fw_params fw_params_default(void)
{
    fw_params p;
    memset(&p, 0, sizeof p);
    for (const fw_setting *s = fw_settings; s->name; s++) {
        char *field = (char *)&p + s->offset;
        if (s->type == FW_SET_DOUBLE)
            *(double *)field = s->def;
        else if (s->type == FW_SET_INT)
            *(int *)field = (int)s->def;
        else
            *(fw_policy *)field = (fw_policy)s->def;
    }
    return p;
}

static int check_range(const fw_setting *s, double v, fw_error *err)
{
    if (!isfinite(v) || v < s->min || v > s->max)
        return fw_error_set(err, FW_EINVAL, "--%s: %g is out of range (%g..%g)", s->name, v,
                            s->min, s->max);
    return 0;
}

int fw_params_validate(const fw_params *p, fw_error *err)
{
    for (const fw_setting *s = fw_settings; s->name; s++) {
        const char *field = (const char *)p + s->offset;
        double v = s->type == FW_SET_DOUBLE ? *(const double *)field
                   : s->type == FW_SET_INT  ? *(const int *)field
                                            : (double)*(const fw_policy *)field;
        if (check_range(s, v, err))
            return FW_EINVAL;
    }
    return 0;
}

int fw_setting_parse(const fw_setting *s, fw_params *p, const char *text, fw_error *err)
{
    char *field = (char *)p + s->offset;
    if (s->type == FW_SET_POLICY) {
        if (fw_policy_parse(text, (fw_policy *)field))
            return fw_error_set(err, FW_EINVAL,
                                "--%s: unknown policy '%s' (auto, interval, motion, scene, iframe)",
                                s->name, text);
        return 0;
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end != '\0')
        return fw_error_set(err, FW_EINVAL, "--%s: '%s' is not a number", s->name, text);
    if (s->type == FW_SET_INT && v != floor(v))
        return fw_error_set(err, FW_EINVAL, "--%s: '%s' is not a whole number", s->name, text);
    if (check_range(s, v, err))
        return FW_EINVAL;
    if (s->type == FW_SET_DOUBLE)
        *(double *)field = v;
    else
        *(int *)field = (int)v;
    return 0;
}
