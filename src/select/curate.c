/* Curation: candidates held until their pictures show whether they were states (see
 * policy.h for the rules). The candidates waiting are few (FW_CURATE_HELD), so every
 * rule is a plain scan over them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "select/policy.h"

enum { PENDING, DROPPED, DONE };
/* What a candidate's hold says it is: still holding (UNKNOWN), a state (held
 * FW_HOLD_S), brief (held FW_BRIEF_S: a real but short state), transient (the picture
 * moved on at once: mid-motion), or the picture the video ended on (FINAL). */
enum { UNKNOWN, STATE, BRIEF, TRANSIENT, FINAL };

typedef struct cand {
    int64_t id;
    double time_s, onset_s;
    double hold_end_s; /* < 0: still holding */
    const char *reason;
    int provisional, protect, is_cut;
    int reverted; /* a small change whose cells went back to the picture before */
    int shot;     /* index of the shot it is in */
    int status;
    fw_sig sig;
} cand;

#define VERDICTS (2 * FW_CURATE_HELD + 2)
#define KEPT_TIMES 128 /* times of the last frames kept, for the rate windows */
/* Dropping the only frame of a shot loses the shot: it goes last. */
#define FW_SHOT_NOVELTY 100.0

struct fw_curator {
    int active;
    double max_gap_s, area_threshold;
    int cap; /* candidates per FW_RATE_WINDOW_S (0: no bound) */
    cand q[FW_CURATE_HELD + 1];
    int n;
    double now_s, last_kept_s;
    int64_t last_kept_id;
    int shot, last_kept_shot; /* the current shot; the shot of the frame kept last */
    fw_sig last_kept_sig;
    int have_kept;
    double kept_s[KEPT_TIMES]; /* a ring of the times of frames already kept */
    int kept_pos, n_kept;
    int finished;
    fw_curator_out out[VERDICTS]; /* a ring */
    int out_head, out_n;
};

fw_curator *fw_curator_new(const fw_params *p, int active)
{
    fw_curator *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->active = active;
    c->max_gap_s = p->max_gap_s;
    c->area_threshold = p->area_threshold;
    c->cap = p->max_rate > 0 ? (int)ceil(p->max_rate * FW_RATE_WINDOW_S / 60.0 - 1e-9) : 0;
    c->last_kept_s = -1e9;
    c->last_kept_shot = -1;
    c->last_kept_id = -1;
    return c;
}

void fw_curator_free(fw_curator *c)
{
    free(c);
}

static void push_verdict(fw_curator *c, const cand *k, int keep)
{
    fw_curator_out *v = &c->out[(c->out_head + c->out_n++) % VERDICTS];
    v->id = k->id;
    v->keep = keep;
    v->reason = k->reason;
    v->is_cut = k->is_cut;
    v->forget = !keep;
    v->why = NULL;
}

int fw_curator_verdict(fw_curator *c, fw_curator_out *out)
{
    if (c->out_n == 0)
        return 0;
    *out = c->out[c->out_head];
    c->out_head = (c->out_head + 1) % VERDICTS;
    c->out_n--;
    return 1;
}

static double hold(const fw_curator *c, const cand *k)
{
    return (k->hold_end_s >= 0 ? k->hold_end_s : c->now_s) - k->onset_s;
}

static int kind(const fw_curator *c, const cand *k)
{
    double h = hold(c, k);
    if (h >= FW_HOLD_S - 1e-9)
        return STATE;
    /* the picture a video ends on stays however short (FINAL), unless it is a small
     * change that had no time to hold: a cursor blinks to the end of most screen
     * recordings. It did not settle, so nothing gives way to it. */
    if (c->finished && k->hold_end_s < 0)
        return k->provisional ? TRANSIENT : FINAL;
    if (k->hold_end_s < 0)
        return UNKNOWN;
    return h >= FW_BRIEF_S - 1e-9 ? BRIEF : TRANSIENT;
}

/* What the rate bound may drop: pictures that never settled (a brief state held). */
static int droppable(int kd)
{
    return kd == TRANSIENT;
}

static void end_hold(cand *k, double at_s)
{
    if (k->hold_end_s < 0)
        k->hold_end_s = at_s > k->onset_s ? at_s : k->onset_s;
}

/* The nearest candidate before/after i that will be kept unless dropped later (not
 * dropped, not an unconfirmed small change), or -1. */
static int neighbour(const fw_curator *c, int i, int step)
{
    for (int j = i + step; j >= 0 && j < c->n; j += step)
        if (c->q[j].status == PENDING && !c->q[j].provisional)
            return j;
    return -1;
}

/* Dropping i leaves no gap longer than max_gap between the frames around it. */
static int gap_allows_drop(const fw_curator *c, int i)
{
    if (c->max_gap_s <= 0)
        return 1;
    int a = neighbour(c, i, -1), b = neighbour(c, i, +1);
    double before = a >= 0 ? c->q[a].time_s : c->last_kept_s;
    double after = b >= 0 ? c->q[b].time_s : c->now_s;
    return before < -1e8 || after - before <= c->max_gap_s;
}

/* why: a static string, for FW_TRACE */
static void drop(fw_curator *c, int i, const char *why)
{
    c->q[i].status = DROPPED;
    push_verdict(c, &c->q[i], 0);
    c->out[(c->out_head + c->out_n - 1) % VERDICTS].why = why;
}

/* Another frame stands for i's shot: one kept already, or a candidate not dropped. */
static int shot_has_another(const fw_curator *c, int i)
{
    if (c->last_kept_shot == c->q[i].shot)
        return 1;
    for (int j = 0; j < c->n; j++)
        if (j != i && c->q[j].status == PENDING && !c->q[j].provisional &&
            c->q[j].shot == c->q[i].shot)
            return 1;
    return 0;
}

/* How much is lost by dropping i: its distance to the closer neighbour. */
static double novelty(const fw_curator *c, int i)
{
    double best = 1e9;
    for (int step = -1; step <= 1; step += 2) {
        int j = neighbour(c, i, step);
        if (j >= 0) {
            double d = fw_sig_novelty(&c->q[i].sig, &c->q[j].sig);
            best = d < best ? d : best;
        }
    }
    return best + (c->q[i].is_cut ? FW_CUT_NOVELTY : 0) +
           (shot_has_another(c, i) ? 0 : FW_SHOT_NOVELTY);
}

/* A small change stands: it ends the hold of the candidate before it. */
static void confirm(fw_curator *c, int i)
{
    c->q[i].provisional = 0;
    int prev = neighbour(c, i, -1);
    if (prev >= 0)
        end_hold(&c->q[prev], c->q[i].onset_s);
}

/* Small changes: confirmed once they held, dropped when their hold ended sooner; a
 * brief one stands unless its cells went back (a blinking cursor), or a return to the
 * kept picture before it followed (fw_curator_restate). */
static void settle_provisional(fw_curator *c)
{
    for (int i = 0; i < c->n; i++) {
        cand *k = &c->q[i];
        if (k->status != PENDING || !k->provisional)
            continue;
        int kd = kind(c, k);
        if (kd == TRANSIENT || (kd == BRIEF && k->reverted))
            drop(c, i, k->reverted ? "went back" : "did not hold");
        else if (kd == STATE || kd == FINAL || kd == BRIEF)
            confirm(c, i);
    }
}

/* A return to the kept picture before a small change still holding: the change
 * reverted (returns_to: that frame's id). */
static void note_return(fw_curator *c, double onset_s, int64_t returns_to)
{
    for (int i = 0; i < c->n; i++) {
        cand *k = &c->q[i];
        if (k->status != PENDING || !k->provisional || onset_s <= k->onset_s)
            continue;
        int prev = neighbour(c, i, -1);
        if (returns_to >= 0 && returns_to == (prev >= 0 ? c->q[prev].id : c->last_kept_id)) {
            end_hold(k, onset_s);
            k->reverted = 1;
        }
    }
}

/* A transient candidate gives way to a state that follows it soon in the same shot. */
static void give_way(fw_curator *c)
{
    for (int i = 0; i < c->n; i++) {
        cand *k = &c->q[i];
        int j = neighbour(c, i, +1);
        if (k->status != PENDING || k->provisional || k->protect || j < 0)
            continue;
        cand *next = &c->q[j];
        if (kind(c, k) != TRANSIENT || kind(c, next) != STATE || next->shot != k->shot ||
            next->time_s - k->time_s > FW_GIVE_WAY_S || !gap_allows_drop(c, i))
            continue;
        if (k->is_cut) {
            next->is_cut = 1;
            next->reason = "cut";
        }
        drop(c, i, "gave way");
    }
}

/* Frames already kept (out of the queue) within the window that ends at t. */
static int kept_within(const fw_curator *c, double t)
{
    int n = 0;
    for (int i = 0; i < c->n_kept; i++)
        n += c->kept_s[i] > t - FW_RATE_WINDOW_S;
    return n;
}

/* Any window of FW_RATE_WINDOW_S that ends at a candidate holds at most cap frames. */
static void bound_rate(fw_curator *c)
{
    /* no window can be over when all that waits and all kept since the oldest waiting
     * one's window began fit: the common case, and a scan of KEPT_TIMES at most */
    if (c->cap <= 0 || c->n == 0 || c->n + kept_within(c, c->q[0].time_s) <= c->cap)
        return;
    for (int end = 0; end < c->n; end++) {
        const cand *e = &c->q[end];
        if (e->status != PENDING || e->provisional)
            continue;
        for (;;) {
            int count = kept_within(c, e->time_s), worst = -1;
            double worst_v = 1e18;
            for (int i = 0; i <= end; i++) {
                const cand *k = &c->q[i];
                if (k->status != PENDING || k->provisional ||
                    k->time_s <= e->time_s - FW_RATE_WINDOW_S)
                    continue;
                count++;
                if (k->protect || !droppable(kind(c, k)) || !gap_allows_drop(c, i))
                    continue;
                double v = novelty(c, i);
                if (v < worst_v) {
                    worst_v = v;
                    worst = i;
                }
            }
            if (count <= c->cap || worst < 0)
                break;
            drop(c, worst, "max rate");
        }
    }
}

/* Can the oldest waiting candidate be kept now: nothing later can change its fate? */
static int is_final(const fw_curator *c, const cand *k)
{
    if (c->finished || !c->active)
        return 1;
    if (k->provisional)
        return 0;
    int kd = kind(c, k);
    if (kd == STATE || kd == FINAL || k->protect)
        return 1;
    if (kd == UNKNOWN)
        return 0;
    /* transient: the state it may give way to would be known by now, and no window it
     * is in can gain a candidate any more */
    if (c->now_s - k->time_s <= FW_GIVE_WAY_S + FW_HOLD_S)
        return 0;
    return c->cap <= 0 || c->now_s - k->time_s >= FW_RATE_WINDOW_S;
}

static void keep_head(fw_curator *c, cand *k)
{
    k->status = DONE;
    push_verdict(c, k, 1);
    c->last_kept_s = k->time_s;
    c->last_kept_id = k->id;
    c->last_kept_shot = k->shot;
    c->last_kept_sig = k->sig;
    c->have_kept = 1;
    c->kept_s[c->kept_pos] = k->time_s;
    c->kept_pos = (c->kept_pos + 1) % KEPT_TIMES;
    if (c->n_kept < KEPT_TIMES)
        c->n_kept++;
}

static int count_pending(const fw_curator *c)
{
    int n = 0;
    for (int i = 0; i < c->n; i++)
        n += c->q[i].status == PENDING;
    return n;
}

/* Applies the rules, then gives the oldest candidates their verdicts while they are
 * final, and forgets every candidate that has one. */
static void resolve(fw_curator *c)
{
    if (c->active) {
        settle_provisional(c);
        give_way(c);
        bound_rate(c);
    }
    int pending = count_pending(c);
    for (int i = 0; i < c->n; i++) {
        cand *k = &c->q[i];
        if (k->status != PENDING)
            continue;
        if (!is_final(c, k) && pending <= FW_CURATE_HELD)
            break;
        k->provisional = 0; /* kept early, to bound memory: a small change stands */
        keep_head(c, k);
        pending--;
    }
    int n = 0; /* verdicts given: out of the queue */
    for (int i = 0; i < c->n; i++)
        if (c->q[i].status == PENDING)
            c->q[n++] = c->q[i];
    c->n = n;
}

void fw_curator_frame(fw_curator *c, const fw_frame_info *f, int departed, double fine_onset_s,
                      int reverted)
{
    c->now_s = f->time_s;
    for (int i = 0; i < c->n; i++) {
        cand *k = &c->q[i];
        if (k->status != PENDING)
            continue;
        if (departed) {
            end_hold(k, f->time_s);
        } else if (fine_onset_s >= 0 && k->provisional && fine_onset_s > k->onset_s &&
                   k->hold_end_s < 0) {
            end_hold(k, fine_onset_s);
            k->reverted = reverted;
        }
    }
    resolve(c);
}

void fw_curator_cut(fw_curator *c, double at_s)
{
    c->shot++;
    for (int i = 0; i < c->n; i++)
        if (c->q[i].time_s >= at_s)
            c->q[i].shot = c->shot;
}

/* The picture before the latest candidate (a candidate or the frame kept last), or NULL. */
static const fw_sig *picture_before(const fw_curator *c, int latest)
{
    int j = neighbour(c, latest, -1);
    return j >= 0 ? &c->q[j].sig : c->have_kept ? &c->last_kept_sig : NULL;
}

/* A new picture that looks like the one before the latest candidate: the latest was a
 * flash (a recorder's glitch, a flicker) on the way back, unless it held. */
static void drop_flash(fw_curator *c, const fw_sig *sig, double onset_s)
{
    int g = neighbour(c, c->n, -1);
    if (g < 0 || c->q[g].protect || c->q[g].is_cut || onset_s - c->q[g].onset_s >= FW_HOLD_S)
        return;
    const fw_sig *before = picture_before(c, g);
    if (before && fw_sig_changed(before, sig) < c->area_threshold &&
        fw_sig_changed(before, &c->q[g].sig) >= c->area_threshold)
        drop(c, g, "flash");
}

void fw_curator_add(fw_curator *c, const fw_frame_info *f, const fw_pick *pk, const fw_sig *sig,
                    int is_cut)
{
    if (c->active && !pk->provisional)
        drop_flash(c, sig, pk->onset_s);
    c->now_s = f->time_s;
    if (!pk->provisional)
        for (int i = 0; i < c->n; i++)
            if (c->q[i].status == PENDING)
                end_hold(&c->q[i], pk->onset_s);
    /* resolve() leaves at most FW_CURATE_HELD waiting: q has room for one more */
    cand *k = &c->q[c->n++];
    memset(k, 0, sizeof *k);
    k->id = f->number;
    k->time_s = f->time_s;
    k->onset_s = pk->onset_s <= f->time_s ? pk->onset_s : f->time_s;
    k->hold_end_s = -1;
    k->reason = pk->reason;
    k->provisional = pk->provisional;
    k->protect = pk->protect;
    k->is_cut = is_cut;
    k->shot = c->shot;
    k->status = PENDING;
    k->sig = *sig;
    resolve(c);
}

void fw_curator_restate(fw_curator *c, double onset_s, int64_t same_as)
{
    if (c->active)
        note_return(c, onset_s, same_as);
    for (int i = 0; i < c->n; i++)
        if (c->q[i].status == PENDING && c->q[i].id != same_as)
            end_hold(&c->q[i], onset_s);
}

double fw_curator_standing_s(const fw_curator *c)
{
    for (int i = c->n - 1; i >= 0; i--)
        if (c->q[i].status == PENDING)
            return c->q[i].time_s;
    return c->last_kept_s;
}

void fw_curator_finish(fw_curator *c, double end_s)
{
    if (end_s > c->now_s)
        c->now_s = end_s;
    c->finished = 1;
    resolve(c);
}
