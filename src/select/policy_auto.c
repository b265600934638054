/* auto: cuts + large motion against the last kept frame (once settled) + local
 * changes that have stopped moving (new states: a dialog, a caption) + small changes
 * the fine map sees (a digit, a status line, a toast), provisional until they hold +
 * a maximum gap, minus near-duplicates of recently kept frames. Black frames are never
 * kept. Its candidates are curated (policy.h): transients give way to the states they
 * lead to, and a rate bound thins continuous motion. */
#include <stdlib.h>
#include <string.h>

#include "select/policy.h"

#define RECENT 16         /* kept frames remembered for near-duplicate checks */
#define SETTLED_DELTA 2.0 /* frame-to-frame luma change below which motion has stopped */
/* A small change: at least this many fine cells changed and still (a 40-px digit at
 * 720p covers 2-4 of them, a toast 10-40) ... */
#define DETAIL_MIN_CELLS 2
/* ... while at most this fraction of the coarse blocks, and this many fine cells, move:
 * in a busy picture (people walking, a hand-held camera) small changes are the
 * motion's, not new states; a spinner or a blinking cursor is a few cells. */
#define DETAIL_MAX_MOVING FW_FINE_BUSY
#define DETAIL_MAX_FINE_MOVING 8

typedef struct recent_kept {
    int64_t id;
    int gone; /* forgotten: a small change that did not hold */
    uint64_t hash;
    fw_sig sig;
    int have_fine;
    uint8_t fine[FW_FINE_W * FW_FINE_H];
} recent_kept;

typedef struct auto_ctx {
    fw_params p;
    int have_kept;
    double last_kept_s;  /* the latest candidate, for min_gap */
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

static const uint8_t *fine_of(const fw_view *v)
{
    return v->fine && v->fine->picture ? v->fine->picture(v->fine->ctx) : NULL;
}

/* The recent kept frame this one repeats (coarse near-duplicate, and no fine cell
 * changed between them: the same dialog with another message is new), or -1. */
static int duplicate_of(const auto_ctx *c, const fw_view *v)
{
    const uint8_t *fine = NULL;
    int fine_tried = 0;
    for (int i = 0; i < c->n_recent; i++) {
        const recent_kept *r = &c->recent[i];
        if (r->gone || !fw_is_near_duplicate(v->s->hash, v->sig, r->hash, &r->sig, c->p.dup_bits,
                                             c->p.area_threshold))
            continue;
        if (!fine_tried) {
            fine = fine_of(v);
            fine_tried = 1;
        }
        /* the same picture: not one cell changed (a "3" and a "5" differ in one), a
         * blinking cursor's or a spinner's aside */
        if (!fine || !r->have_fine ||
            fw_fine_cells_differ(fine, r->fine, FW_FINE_PEAK, FW_FINE_MEAN, 1, v->fine->restless) ==
                0)
            return i;
    }
    return -1;
}

static void keep(auto_ctx *c, const fw_view *v, const char *reason, double onset_s, fw_pick *d)
{
    d->keep = 1;
    d->reason = reason;
    d->set_reference = 1;
    d->onset_s = onset_s;
    c->have_kept = 1;
    c->last_kept_s = v->f->time_s;
    c->pending = NULL;
    recent_kept *r = &c->recent[c->pos];
    r->id = v->f->number;
    r->gone = 0;
    r->hash = v->s->hash;
    r->sig = *v->sig;
    const uint8_t *fine = fine_of(v);
    r->have_fine = fine != NULL;
    if (fine)
        memcpy(r->fine, fine, sizeof r->fine);
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
static int keep_unless_duplicate(auto_ctx *c, const fw_view *v, const char *reason, double onset_s,
                                 fw_pick *d)
{
    c->pending = NULL;
    int dup = duplicate_of(c, v);
    if (dup >= 0) {
        d->set_reference = 1;
        d->onset_s = onset_s;
        d->same_as = c->recent[dup].id;
        return 0;
    }
    keep(c, v, reason, onset_s, d);
    return 1;
}

static void auto_decide(void *vctx, const fw_view *v, fw_pick *d)
{
    auto_ctx *c = vctx;
    const fw_frame_info *f = v->f;
    const fw_scores *s = v->s;
    if (s->black)
        return;
    if (!c->have_kept) {
        keep(c, v, "first", f->time_s, d);
        d->protect = 1;
        return;
    }
    /* A cut or a large global change (camera move, scene transition) waits until the
     * picture stops moving, or settle_s at most, so the kept frame is not mid-way. */
    if (v->cut || (!c->pending && s->motion >= c->p.motion_threshold && !too_soon(c, f))) {
        c->pending = v->cut ? "cut" : "motion";
        c->pending_since_s = f->time_s;
    }
    if (c->pending) {
        if (s->delta >= SETTLED_DELTA && f->time_s - c->pending_since_s < c->p.settle_s)
            return;
        int reverted = c->pending[0] == 'm' && s->motion < c->p.motion_threshold &&
                       s->settled < c->p.area_threshold;
        if (reverted)
            c->pending = NULL; /* it went back (a flash): nothing new */
        else if (keep_unless_duplicate(c, v, c->pending, f->time_s, d))
            return;
    }
    /* A local change that has stayed still (a dialog, a caption, a new slide line),
     * standing out against whatever else is moving (people walking by, a spinner). */
    if (s->settled >= c->p.area_threshold + s->moving && !too_soon(c, f) &&
        keep_unless_duplicate(c, v, "change", f->time_s - c->p.settle_s, d))
        return;
    /* A small change the coarse blocks cannot see (under area_threshold: a larger one is
     * theirs to keep once it settles), in a calm picture: kept only if it holds (a
     * blinking cursor does not). A return to a kept picture is said at once, min_gap or
     * not: it is what tells a blink from a brief state. */
    if (v->fine && v->fine->sampled && v->fine->settled >= DETAIL_MIN_CELLS &&
        v->fine->unsettled == 0 && s->area < c->p.area_threshold &&
        v->fine->moving <= DETAIL_MAX_FINE_MOVING && s->moving <= DETAIL_MAX_MOVING &&
        !d->set_reference) {
        int dup = duplicate_of(c, v);
        if (dup >= 0) {
            d->set_reference = 1;
            d->onset_s = v->fine->onset_s;
            d->same_as = c->recent[dup].id;
            return;
        }
        if (!too_soon(c, f)) {
            keep(c, v, "change", v->fine->onset_s, d);
            d->provisional = 1;
            return;
        }
    }
    if (c->p.max_gap_s > 0 && f->time_s - v->standing_s >= c->p.max_gap_s)
        keep(c, v, "gap", f->time_s, d);
}

static void auto_forget(void *vctx, int64_t id)
{
    auto_ctx *c = vctx;
    for (int i = 0; i < c->n_recent; i++)
        if (c->recent[i].id == id)
            c->recent[i].gone = 1;
}

const fw_policy_ops fw_policy_auto_ops = {
    .name = "auto",
    .ctx_size = sizeof(auto_ctx),
    .uses_cuts = 1,
    .curated = 1,
    .init = auto_init,
    .decide = auto_decide,
    .forget = auto_forget,
};
