/* interval: one frame per 1/fps seconds, by timestamp (correct for variable frame
 * rate); non-reference frames between sample points are not decoded. */
#include "select/policy.h"

static void interval_init(void *ctx, const fw_params *p)
{
    fw_sampler_init(ctx, p->fps);
}

static int interval_wants(void *ctx, const fw_frame_info *f)
{
    return fw_sampler_due(ctx, f);
}

static void interval_decide(void *ctx, const fw_view *v, fw_pick *d)
{
    const fw_frame_info *f = v->f;
    fw_sampler_advance(ctx, f);
    d->keep = 1;
    d->reason = "interval";
    d->set_reference = 1;
}

static fw_discard interval_discard(void *ctx, const fw_frame_info *f)
{
    return fw_sampler_discard(ctx, f);
}

const fw_policy_ops fw_policy_interval_ops = {
    .name = "interval",
    .ctx_size = sizeof(fw_sampler),
    .init = interval_init,
    .wants = interval_wants,
    .decide = interval_decide,
    .discard = interval_discard,
};
