/* iframe: the stream's own keyframes; everything else is skipped before decoding. */
#include "select/policy.h"

static void iframe_init(void *ctx, const fw_params *p)
{
    (void)ctx, (void)p;
}

static void iframe_decide(void *ctx, const fw_view *v, fw_pick *d)
{
    (void)ctx;
    const fw_frame_info *f = v->f;
    d->keep = f->key;
    d->reason = "iframe";
    d->set_reference = f->key;
}

static fw_discard iframe_discard(void *ctx, const fw_frame_info *f)
{
    (void)ctx, (void)f;
    return FW_DISCARD_NONKEY;
}

const fw_policy_ops fw_policy_iframe_ops = {
    .name = "iframe",
    .ctx_size = 1,
    .init = iframe_init,
    .decide = iframe_decide,
    .discard = iframe_discard,
};
