/* motion: the seed's method — sample at fps, keep a sample whose mean absolute luma
 * difference exceeds the threshold. One deliberate difference: the seed compares
 * with the previous *sample*, so a slow change never triggers; here the comparison
 * is with the last *kept* frame. */
#include "select/policy.h"

typedef struct motion_ctx {
    fw_sampler sampler;
    double threshold;
    int have_kept;
} motion_ctx;

static void motion_init(void *vctx, const fw_params *p)
{
    motion_ctx *c = vctx;
    fw_sampler_init(&c->sampler, p->fps);
    c->threshold = p->motion_threshold;
}

static int motion_wants(void *vctx, const fw_frame_info *f)
{
    return fw_sampler_due(&((motion_ctx *)vctx)->sampler, f);
}

static void motion_decide(void *vctx, const fw_view *v, fw_pick *d)
{
    const fw_frame_info *f = v->f;
    const fw_scores *s = v->s;
    motion_ctx *c = vctx;
    fw_sampler_advance(&c->sampler, f);
    if (!c->have_kept || s->motion > c->threshold) {
        d->keep = 1;
        d->reason = c->have_kept ? "motion" : "first";
        d->set_reference = 1;
        c->have_kept = 1;
    }
}

static fw_discard motion_discard(void *vctx, const fw_frame_info *f)
{
    return fw_sampler_discard(&((motion_ctx *)vctx)->sampler, f);
}

const fw_policy_ops fw_policy_motion_ops = {
    .name = "motion",
    .ctx_size = sizeof(motion_ctx),
    .init = motion_init,
    .wants = motion_wants,
    .decide = motion_decide,
    .discard = motion_discard,
};
