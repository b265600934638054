/* scene: one frame per scene — the first frame after each cut that is not black (a scene that is
 * all black gets none). */
#include "select/policy.h"

typedef struct scene_ctx {
    int waiting; /* a new scene has no frame yet */
    int have_kept;
} scene_ctx;

static void scene_init(void *vctx, const fw_params *p)
{
    (void)p;
    ((scene_ctx *)vctx)->waiting = 1;
}

static void scene_decide(void *vctx, const fw_view *v, fw_pick *d)
{
    const fw_scores *s = v->s;
    int cut = v->cut;
    scene_ctx *c = vctx;
    if (cut)
        c->waiting = 1;
    if (c->waiting && !s->black) {
        d->keep = 1;
        d->reason = c->have_kept ? "scene" : "first";
        d->set_reference = 1;
        c->waiting = 0;
        c->have_kept = 1;
    }
}

const fw_policy_ops fw_policy_scene_ops = {
    .name = "scene",
    .ctx_size = sizeof(scene_ctx),
    .uses_cuts = 1,
    .init = scene_init,
    .decide = scene_decide,
};
