/* auto: cuts + large motion against the last kept frame (once settled) + local
 * changes that have stopped moving (new states: a dialog, a caption) + a maximum gap,
 * minus near-duplicates of recently kept frames. Black frames are never kept. */
#include "select/policy.h"

#define RECENT 16         /* kept frames remembered for near-duplicate checks */
#define SETTLED_DELTA 2.0 /* frame-to-frame luma change below which motion has stopped */

typedef struct recent_kept {
    uint64_t hash;
    fw_sig sig;
} recent_kept;

typedef struct auto_ctx {
    fw_params p;
    int have_kept;
    double last_kept_s;
    const char *pending; /* reason of a change waiting to settle, or NULL */
    double pending_since_s;
    recent_kept recent[RECENT];
    int n_recent, pos;
} auto_ctx;

static void auto_init(void *vctx, const fw_params *p)
{
    auto_ctx *c = vctx;
    c->p = *p;
}

static int is_duplicate(const auto_ctx *c, const fw_scores *s, const fw_sig *sig)
{
    for (int i = 0; i < c->n_recent; i++)
        if (fw_is_near_duplicate(s->hash, sig, c->recent[i].hash, &c->recent[i].sig, c->p.dup_bits,
                                 c->p.area_threshold))
            return 1;
    return 0;
}

static void keep(auto_ctx *c, const fw_frame_info *f, const fw_scores *s, const fw_sig *sig,
                 const char *reason, fw_decision *d)
{
    d->keep = 1;
    d->reason = reason;
    d->set_reference = 1;
    c->have_kept = 1;
    c->last_kept_s = f->time_s;
    c->pending = NULL;
    c->recent[c->pos].hash = s->hash;
    c->recent[c->pos].sig = *sig;
    c->pos = (c->pos + 1) % RECENT;
    if (c->n_recent < RECENT)
        c->n_recent++;
}

static int too_soon(const auto_ctx *c, const fw_frame_info *f)
{
    return f->time_s - c->last_kept_s < c->p.min_gap_s;
}

/* Keeps the frame unless it repeats a recently kept one; then it only becomes the
 * new reference (the state is known). Returns 1 when kept. */
static int keep_unless_duplicate(auto_ctx *c, const fw_frame_info *f, const fw_scores *s,
                                 const fw_sig *sig, const char *reason, fw_decision *d)
{
    c->pending = NULL;
    if (is_duplicate(c, s, sig)) {
        d->set_reference = 1;
        return 0;
    }
    keep(c, f, s, sig, reason, d);
    return 1;
}

static void auto_decide(void *vctx, const fw_frame_info *f, const fw_scores *s, const fw_sig *sig,
                        int cut, fw_decision *d)
{
    auto_ctx *c = vctx;
    if (s->black)
        return;
    if (!c->have_kept) {
        keep(c, f, s, sig, "first", d);
        return;
    }
    /* A cut or a large global change (camera move, scene transition) waits until the
     * picture stops moving, or settle_s at most, so the kept frame is not mid-way. */
    if (cut || (!c->pending && s->motion >= c->p.motion_threshold && !too_soon(c, f))) {
        c->pending = cut ? "cut" : "motion";
        c->pending_since_s = f->time_s;
    }
    if (c->pending) {
        if (s->delta >= SETTLED_DELTA && f->time_s - c->pending_since_s < c->p.settle_s)
            return;
        int reverted = c->pending[0] == 'm' && s->motion < c->p.motion_threshold &&
                       s->settled < c->p.area_threshold;
        if (reverted)
            c->pending = NULL; /* it went back (a flash): nothing new */
        else if (keep_unless_duplicate(c, f, s, sig, c->pending, d))
            return;
    }
    /* A local change that has stayed still (a dialog, a caption, a new slide line),
     * standing out against whatever else is moving (people walking by, a spinner). */
    if (s->settled >= c->p.area_threshold + s->moving && !too_soon(c, f) &&
        keep_unless_duplicate(c, f, s, sig, "change", d))
        return;
    if (c->p.max_gap_s > 0 && f->time_s - c->last_kept_s >= c->p.max_gap_s)
        keep(c, f, s, sig, "gap", d);
}

const fw_policy_ops fw_policy_auto_ops = {
    .name = "auto",
    .ctx_size = sizeof(auto_ctx),
    .uses_cuts = 1,
    .init = auto_init,
    .decide = auto_decide,
};
