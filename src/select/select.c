#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "score/score.h"
#include "select/policy.h"

/* The registry: one line per policy, in fw_policy order. */
static const fw_policy_ops *const policies[] = {
    &fw_policy_auto_ops,  &fw_policy_interval_ops, &fw_policy_motion_ops,
    &fw_policy_scene_ops, &fw_policy_iframe_ops,
};

struct fw_select {
    const fw_policy_ops *ops;
    fw_params p;
    fw_cut_detector cuts;
    fw_curator *curator;
    void *ctx;
};

int fw_select_open(fw_select **out, const fw_params *p, fw_error *err)
{
    *out = NULL;
    if ((unsigned)p->policy >= sizeof policies / sizeof policies[0])
        return fw_error_set(err, FW_EINVAL, "unknown keyframe policy %d", (int)p->policy);
    fw_select *sel = calloc(1, sizeof *sel);
    if (!sel)
        return fw_error_set(err, FW_ENOMEM, "selector: out of memory");
    sel->ops = policies[p->policy];
    sel->p = *p;
    sel->ctx = calloc(1, sel->ops->ctx_size);
    sel->curator = fw_curator_new(p, sel->ops->curated);
    if (!sel->ctx || !sel->curator) {
        fw_select_close(sel);
        return fw_error_set(err, FW_ENOMEM, "selector: out of memory");
    }
    sel->ops->init(sel->ctx, p);
    fw_cut_init(&sel->cuts, p->cut_threshold, p->min_scene_s);
    *out = sel;
    return 0;
}

int fw_select_wants(fw_select *sel, const fw_frame_info *f)
{
    return sel->ops->wants ? sel->ops->wants(sel->ctx, f) : 1;
}

static int starts_shot(const fw_pick *pk, int cut)
{
    return cut || strcmp(pk->reason, "cut") == 0;
}

void fw_select_push(fw_select *sel, const fw_frame_info *f, const fw_scores *s, const fw_sig *sig,
                    const fw_fine *fine, fw_decision *d)
{
    memset(d, 0, sizeof *d);
    fw_frame_info at;
    int cut = sel->ops->uses_cuts ? fw_cut_push(&sel->cuts, f, s, sig, &at) : 0;
    fw_view v = {f, s, sig, fine, cut, fw_curator_standing_s(sel->curator)};
    fw_pick pk = {.onset_s = f->time_s, .same_as = -1};
    sel->ops->decide(sel->ctx, &v, &pk);
    /* Large motion (or a change of colour, which motion does not see) is seen at once, a
     * cut only once it has lasted: a frame kept for it while a cut is being confirmed is
     * the new shot's frame. */
    if (pk.keep && sel->cuts.candidate &&
        (strcmp(pk.reason, "motion") == 0 ||
         (strcmp(pk.reason, "change") == 0 && s->area >= FW_CUT_AREA)))
        pk.reason = "cut";
    d->keep = pk.keep;
    d->reason = pk.reason;
    d->set_reference = pk.set_reference;
    d->cut = cut;
    if (cut)
        d->cut_at = at;
    if (cut)
        fw_curator_cut(sel->curator, at.time_s);
    if (pk.keep)
        fw_curator_add(sel->curator, f, &pk, sig, starts_shot(&pk, cut));
    else if (pk.set_reference)
        fw_curator_restate(sel->curator, pk.onset_s, pk.same_as);
    /* scores compare with the reference, the latest candidate: has the picture left it? */
    int same = pk.keep || pk.set_reference;
    int departed = !same && s->area >= sel->p.area_threshold;
    /* and on the fine map: a cell not restless that differs from it (new small content),
     * or a cell of its change, restless or not, moving on (reverted: the whole picture is
     * the one before it again, a blink) */
    int away = !same && fine && fine->sampled && fine->settled + fine->unsettled + fine->left > 0;
    double onset = !away                                                  ? -1
                   : fine->left > 0 && fine->left_onset_s > fine->onset_s ? fine->left_onset_s
                                                                          : fine->onset_s;
    int reverted = away && fine->left > 0 && fine->back == fine->left;
    fw_curator_frame(sel->curator, f, departed, onset, reverted);
}

int fw_select_verdict(fw_select *sel, fw_verdict *out)
{
    fw_curator_out v;
    if (!fw_curator_verdict(sel->curator, &v))
        return 0;
    if (v.forget && sel->ops->forget)
        sel->ops->forget(sel->ctx, v.id);
    *out = (fw_verdict){v.id, v.keep, v.reason, v.is_cut, v.why};
    return 1;
}

void fw_select_finish(fw_select *sel, const fw_frame_info *f, const fw_scores *s, const fw_sig *sig,
                      double end_s, fw_decision *d)
{
    memset(d, 0, sizeof *d);
    /* The last picture differs from the reference (the latest candidate) and was never
     * kept: it had no time to settle before the stream ended. Small changes do not
     * count here (a cursor blinks to the end of most screen recordings): the ones that
     * held are candidates already. */
    if (sel->ops->curated && f && !s->black && fw_curator_standing_s(sel->curator) > -1e8 &&
        f->time_s > fw_curator_standing_s(sel->curator) &&
        (s->area >= sel->p.area_threshold || s->motion >= sel->p.motion_threshold)) {
        fw_pick pk = {
            .keep = 1, .reason = "last", .onset_s = f->time_s, .protect = 1, .same_as = -1};
        d->keep = 1;
        d->reason = "last";
        d->set_reference = 1;
        fw_curator_add(sel->curator, f, &pk, sig, 0);
    }
    fw_curator_finish(sel->curator, end_s);
}

int fw_select_detects_cuts(const fw_select *sel)
{
    return sel->ops->uses_cuts;
}

fw_discard fw_select_discard(fw_select *sel, const fw_frame_info *f)
{
    return sel->ops->discard ? sel->ops->discard(sel->ctx, f) : FW_DISCARD_NONE;
}

void fw_select_close(fw_select *sel)
{
    if (!sel)
        return;
    fw_curator_free(sel->curator);
    free(sel->ctx);
    free(sel);
}

/* ---- shared pieces ----------------------------------------------------------- */

void fw_cut_init(fw_cut_detector *cd, double threshold, double min_scene_s)
{
    memset(cd, 0, sizeof *cd);
    cd->threshold = threshold;
    cd->min_scene_s = min_scene_s;
    cd->black_since_s = -1;
}

/* Colour-histogram distance and picture difference averaged: either alone fires on
 * things that are not cuts (fast motion moves luma without changing the palette;
 * a lighting change moves the histogram), a cut moves both. The picture difference is
 * luma's or colour's, the larger: a cut between two shots of equal brightness (red to
 * green) moves only colour. */
static double cut_score(const fw_scores *s)
{
    double change = (s->delta > s->chroma ? s->delta : s->chroma) / 80.0;
    return (s->cut + (change < 1 ? change : 1)) / 2;
}

/* The candidate's change has lasted: the picture still differs from the frame
 * before the candidate (block means: half the area changed, or a large mean change). */
static int persists(const fw_cut_detector *cd, const fw_sig *now)
{
    return fw_sig_changed(&cd->before_sig, now) >= 0.5 ||
           fw_sig_distance(&cd->before_sig, now) >= 80.0 * cd->threshold / 2;
}

int fw_cut_push(fw_cut_detector *cd, const fw_frame_info *f, const fw_scores *s, const fw_sig *sig,
                fw_frame_info *at)
{
    int cut = 0;
    if (!cd->started) { /* the first frame starts scene 0; it is not a cut */
        cd->started = 1;
        cd->last_cut_s = -1e9; /* a short first shot (a lead-in) is still a scene */
    } else if (cd->candidate) {
        if (!persists(cd, sig) || /* back to the old picture within the window: a flash */
            (cd->candidate == 1 && cut_score(s) > cd->cand_score / 2)) { /* no spike: motion */
            cd->candidate = 0;
        } else if (++cd->candidate > FW_CUT_CONFIRM &&
                   f->time_s - cd->cand_fi.time_s >= cd->min_scene_s) {
            cd->candidate = 0;
            cut = 1;
            *at = cd->cand_fi;
            cd->last_cut_s = at->time_s;
        }
    } else {
        double avg = 0;
        for (int i = 0; i < cd->n_recent; i++)
            avg += cd->recent[i];
        avg = cd->n_recent ? avg / cd->n_recent : 0;
        double score = cut_score(s);
        /* Stand out: at least twice the recent average (plus a little, for static shots). */
        if (score >= cd->threshold && score >= 2.0 * avg + 0.02 &&
            f->time_s - cd->last_cut_s >= cd->min_scene_s) {
            cd->candidate = 1;
            cd->cand_fi = *f;
            cd->cand_score = score;
            cd->before_sig = cd->prev_sig;
        } else if (!s->black && cd->black_since_s >= 0 &&
                   f->time_s - cd->black_since_s >= cd->min_scene_s &&
                   f->time_s - cd->last_cut_s >= cd->min_scene_s) {
            cut = 1; /* the picture comes out of black (a fade-in or a cut from black) */
            *at = *f;
            cd->last_cut_s = f->time_s;
        }
    }
    if (s->black && cd->black_since_s < 0)
        cd->black_since_s = f->time_s;
    else if (!s->black)
        cd->black_since_s = -1;
    if (cd->started++ > 1) { /* the first frame has no previous one: its score means nothing */
        cd->recent[cd->pos] = cut_score(s);
        cd->pos = (cd->pos + 1) % FW_CUT_WINDOW;
        if (cd->n_recent < FW_CUT_WINDOW)
            cd->n_recent++;
    }
    cd->prev_sig = *sig;
    return cut;
}

double fw_sig_changed(const fw_sig *a, const fw_sig *b)
{
    int changed = 0;
    for (int i = 0; i < FW_SIG_W * FW_SIG_H; i++)
        changed += abs((int)a->v[i] - (int)b->v[i]) > FW_SIG_LUMA_CHANGED ||
                   abs((int)a->cb[i] - (int)b->cb[i]) + abs((int)a->cr[i] - (int)b->cr[i]) >
                       FW_SIG_CHROMA_CHANGED;
    return (double)changed / (FW_SIG_W * FW_SIG_H);
}

double fw_sig_novelty(const fw_sig *a, const fw_sig *b)
{
    return fw_sig_distance(a, b) + 100.0 * fw_sig_changed(a, b);
}

int fw_is_near_duplicate(uint64_t ha, const fw_sig *sa, uint64_t hb, const fw_sig *sb, int dup_bits,
                         double area_threshold)
{
    if (dup_bits <= 0 || fw_hash_distance(ha, hb) > dup_bits)
        return 0;
    return fw_sig_changed(sa, sb) < area_threshold;
}

void fw_sampler_init(fw_sampler *sm, double fps)
{
    sm->step_s = 1.0 / fps;
    sm->next_s = 0;
}

/* Due when the frame is the first at or after the sample time (half a frame early
 * counts, so a sample time that falls between two frames takes the nearer). */
int fw_sampler_due(const fw_sampler *sm, const fw_frame_info *f)
{
    return f->time_s >= sm->next_s - f->dur_s / 2;
}

void fw_sampler_advance(fw_sampler *sm, const fw_frame_info *f)
{
    while (sm->next_s - f->dur_s / 2 <= f->time_s)
        sm->next_s += sm->step_s;
}

/* Skip non-reference frames while the next sample point is more than a few frames
 * away; decode fully near it. The lead covers a run of 3 B-frames plus the
 * frame-thread delay of a 2-thread decoder (the skip applies to packets being sent,
 * which are that many frames ahead of the frames coming out). */
#define FW_SAMPLER_LEAD 5
fw_discard fw_sampler_discard(const fw_sampler *sm, const fw_frame_info *f)
{
    return sm->next_s - f->time_s > FW_SAMPLER_LEAD * f->dur_s ? FW_DISCARD_NONREF
                                                               : FW_DISCARD_NONE;
}
