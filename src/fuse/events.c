/* Named events over time: single events (a phrase seen) and ordered multi-step events
 * (attention-weighted pooling over a window of observations). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "fuse/fuse.h"

#define DEFAULT_THRESHOLD 0.6
#define DEFAULT_WINDOW_S 600.0
#define TAU 0.05 /* softmax temperature of the step attention */

typedef struct group {
    char *name;
    int first, n; /* phrases [first, first + n) */
} group;

typedef struct event {
    char *name, *description;
    double threshold, window_s;
    group phrases;
    group *steps;
    int n_steps;
} event;

struct fw_events {
    event *ev;
    int n;
    char **phr;
    int n_phr;
};

static int add_phrase(fw_events *e, const char *s)
{
    char **p = realloc(e->phr, (size_t)(e->n_phr + 1) * sizeof *p);
    if (!p)
        return -1;
    e->phr = p;
    if (!(p[e->n_phr] = strdup(s)))
        return -1;
    e->n_phr++;
    return 0;
}

/* A phrase list: a string or an array of non-empty strings. */
static int parse_group(fw_events *e, json_t *v, const char *name, group *g, const char *src,
                       const char *what, fw_error *err)
{
    g->first = e->n_phr;
    g->name = strdup(name);
    if (json_is_string(v) && json_string_length(v))
        return add_phrase(e, json_string_value(v)) ? FW_ENOMEM : (g->n = 1, 0);
    size_t i;
    json_t *s;
    if (!json_is_array(v) || !json_array_size(v))
        return fw_error_set(err, FW_EINVAL, "%s: event '%s': %s must be a phrase or a list of them",
                            src, name, what);
    json_array_foreach(v, i, s)
    {
        if (!json_is_string(s) || !json_string_length(s))
            return fw_error_set(err, FW_EINVAL, "%s: event '%s': %s must be non-empty strings", src,
                                name, what);
        if (add_phrase(e, json_string_value(s)))
            return FW_ENOMEM;
        g->n++;
    }
    return 0;
}

static int parse_steps(fw_events *e, event *ev, json_t *steps, const char *src, fw_error *err)
{
    if (!json_is_array(steps) || json_array_size(steps) < 2 || json_array_size(steps) > 64)
        return fw_error_set(err, FW_EINVAL, "%s: event '%s': steps must list 2 to 64 steps", src,
                            ev->name);
    ev->steps = calloc(json_array_size(steps), sizeof *ev->steps);
    if (!ev->steps)
        return FW_ENOMEM;
    size_t i;
    json_t *st;
    json_array_foreach(steps, i, st)
    {
        char name[32];
        snprintf(name, sizeof name, "step %d", (int)i + 1);
        const char *sn = json_string_value(json_object_get(st, "name"));
        json_t *phr = json_is_object(st) ? json_object_get(st, "phrases") : st;
        int rc = parse_group(e, phr,
                             sn                   ? sn
                             : json_is_string(st) ? json_string_value(st)
                                                  : name,
                             &ev->steps[i], src, "a step", err);
        ev->n_steps++;
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_one(fw_events *e, json_t *d, const char *src, fw_error *err)
{
    static const char *const keys[] = {"name",  "description", "phrases", "threshold",
                                       "steps", "window",      NULL};
    const char *key;
    json_t *v;
    if (!json_is_object(d))
        return fw_error_set(err, FW_EINVAL, "%s: an event must be a JSON object", src);
    json_object_foreach(d, key, v)
    {
        int known = 0;
        for (int k = 0; keys[k]; k++)
            known |= strcmp(key, keys[k]) == 0;
        if (!known)
            return fw_error_set(err, FW_EINVAL,
                                "%s: unknown event field '%s' (name, description, phrases, "
                                "threshold, steps, window)",
                                src, key);
    }
    const char *name = json_string_value(json_object_get(d, "name"));
    if (!name || !*name)
        return fw_error_set(err, FW_EINVAL, "%s: every event needs a \"name\"", src);
    event *ev = &e->ev[e->n++];
    memset(ev, 0, sizeof *ev);
    const char *desc = json_string_value(json_object_get(d, "description"));
    ev->name = strdup(name);
    ev->description = strdup(desc ? desc : "");
    json_t *th = json_object_get(d, "threshold"), *win = json_object_get(d, "window");
    ev->threshold = th ? json_number_value(th) : DEFAULT_THRESHOLD;
    ev->window_s = win ? json_number_value(win) : DEFAULT_WINDOW_S;
    if ((th && (!json_is_number(th) || ev->threshold <= 0 || ev->threshold > 1)) ||
        (win && (!json_is_number(win) || ev->window_s <= 0)))
        return fw_error_set(err, FW_EINVAL,
                            "%s: event '%s': threshold must be in (0, 1], window > 0 seconds", src,
                            name);
    json_t *steps = json_object_get(d, "steps"), *phrases = json_object_get(d, "phrases");
    if (steps)
        return parse_steps(e, ev, steps, src, err);
    if (!phrases)
        return fw_error_set(err, FW_EINVAL, "%s: event '%s' needs \"phrases\" or \"steps\"", src,
                            name);
    return parse_group(e, phrases, name, &ev->phrases, src, "phrases", err);
}

int fw_events_parse(fw_events **pe, json_t *defs, const char *src, fw_error *err)
{
    if (json_is_object(defs) && json_object_get(defs, "events"))
        defs = json_object_get(defs, "events");
    if (!json_is_array(defs))
        return fw_error_set(err, FW_EINVAL,
                            "%s: events must be a JSON array of {\"name\", \"phrases\"|\"steps\"}",
                            src);
    if (!*pe && !(*pe = calloc(1, sizeof **pe)))
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    fw_events *e = *pe;
    event *ev = realloc(e->ev, (e->n + json_array_size(defs) + 1) * sizeof *ev);
    if (!ev)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    e->ev = ev;
    size_t i;
    json_t *d;
    json_array_foreach(defs, i, d)
    {
        int rc = parse_one(e, d, src, err);
        if (rc == FW_ENOMEM)
            return fw_error_set(err, rc, "out of memory");
        if (rc)
            return rc;
    }
    return 0;
}

int fw_events_count(const fw_events *e)
{
    return e ? e->n : 0;
}

int fw_events_phrases(const fw_events *e, const char ***phrases)
{
    *phrases = e ? (const char **)e->phr : NULL;
    return e ? e->n_phr : 0;
}

void fw_events_free(fw_events *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->n; i++) {
        free(e->ev[i].name);
        free(e->ev[i].description);
        free(e->ev[i].phrases.name);
        for (int k = 0; k < e->ev[i].n_steps; k++)
            free(e->ev[i].steps[k].name);
        free(e->ev[i].steps);
    }
    for (int i = 0; i < e->n_phr; i++)
        free(e->phr[i]);
    free(e->phr);
    free(e->ev);
    free(e);
}

/* The relevance of moment i to a phrase group: its best phrase. */
static double relevance(const group *g, const float *rel, int n, int i)
{
    double best = 0;
    for (int p = g->first; p < g->first + g->n; p++)
        if (rel[(size_t)p * n + i] > best)
            best = rel[(size_t)p * n + i];
    return best;
}

static json_t *record(const event *ev, double time_s, int keyframe, const char *text, double score)
{
    return json_pack("{s:s, s:s, s:f, s:f, s:f, s:i, s:s}", "name", ev->name, "description",
                     ev->description, "time", time_s, "end", time_s, "score", score, "keyframe",
                     keyframe, "evidence", text);
}

/* ---- matching as the moments come ----
 * Single events: runs of consecutive usable moments above the threshold, one occurrence
 * each, closed by the next usable moment below it. Multi-step events: windows anchored at
 * each usable moment, evaluated once the window is complete (a later moment is past it);
 * an occurrence when every step's attention-pooled score passes the threshold and the
 * steps' peaks come in order. Only the moments from the earliest open anchor are kept. */

typedef struct slot {
    double time_s;
    int keyframe, usable;
    char *text;
    float *rel; /* relevance to every phrase, or NULL (none) */
} slot;

typedef struct occurrence {
    double time_s;
    int def, seq;
    json_t *o;
} occurrence;

struct fw_event_stream {
    const fw_events *e;
    slot *buf; /* moments [base, total) */
    long base, total;
    int cap;
    long *anchor; /* per event: the next anchor (multi-step) */
    int *skip;    /* per event: skipping the first step after an occurrence */
    json_t **cur; /* per event: the open run (single) */
    double *best;
    int *seq;
    occurrence *occ;
    int n_occ, cap_occ;
    json_t *fresh; /* what the current push completed */
};

static slot *at(const fw_event_stream *st, long i)
{
    return &st->buf[i - st->base];
}

/* The relevance of a moment to a phrase group: its best phrase. */
static double rel_of(const group *g, const slot *s)
{
    double best = 0;
    for (int p = g->first; s->rel && p < g->first + g->n; p++)
        if (s->rel[p] > best)
            best = s->rel[p];
    return best;
}

static int add_occurrence(fw_event_stream *st, int def, double time_s, json_t *o)
{
    if (!o)
        return FW_ENOMEM;
    if (st->n_occ == st->cap_occ) {
        int cap = st->cap_occ ? st->cap_occ * 2 : 16;
        occurrence *n = realloc(st->occ, (size_t)cap * sizeof *n);
        if (!n) {
            json_decref(o);
            return FW_ENOMEM;
        }
        st->occ = n;
        st->cap_occ = cap;
    }
    st->occ[st->n_occ++] = (occurrence){time_s, def, st->seq[def]++, o};
    return 0;
}

/* Attention of one step over the window [from, to): softmax(relevance / TAU). Returns
 * the pooled score; *peak is the most attended moment. */
static double attend(const fw_event_stream *st, const group *g, long from, long to, long *peak)
{
    double top = -1, z = 0, pooled = 0;
    for (long i = from; i < to; i++)
        if (at(st, i)->usable && rel_of(g, at(st, i)) > top) {
            top = rel_of(g, at(st, i));
            *peak = i;
        }
    for (long i = from; i < to; i++)
        if (at(st, i)->usable) {
            double r = rel_of(g, at(st, i)), a = exp((r - top) / TAU);
            z += a;
            pooled += a * r;
        }
    return z > 0 ? pooled / z : 0;
}

/* The window anchored at a (complete): an occurrence, or NULL; *last: its last step. */
static json_t *window_at(const fw_event_stream *st, const event *ev, long a, long to, long *last)
{
    long peaks[64];
    double pooled[64], score = 0;
    int k_n = ev->n_steps, ok = 1; /* at most 64: the parser says so */
    for (int k = 0; k < k_n && ok; k++) {
        peaks[k] = a;
        pooled[k] = attend(st, &ev->steps[k], a, to, &peaks[k]);
        ok = pooled[k] >= ev->threshold && (k == 0 || peaks[k] > peaks[k - 1]);
        score += pooled[k] / k_n;
    }
    if (!ok)
        return NULL;
    json_t *steps = json_array();
    for (int k = 0; k < k_n; k++) {
        const slot *p = at(st, peaks[k]);
        json_array_append_new(steps,
                              json_pack("{s:s, s:f, s:i, s:f, s:s}", "name", ev->steps[k].name,
                                        "time", p->time_s, "keyframe", p->keyframe, "score",
                                        pooled[k], "evidence", p->text));
    }
    const slot *first = at(st, peaks[0]);
    json_t *o = record(ev, first->time_s, first->keyframe, first->text, score);
    json_object_set_new(o, "end", json_real(at(st, peaks[k_n - 1])->time_s));
    json_object_set_new(o, "steps", steps);
    *last = peaks[k_n - 1];
    return o;
}

/* Evaluates the multi-step event k's anchors whose windows are complete (all of them
 * when final). */
static int run_steps(fw_event_stream *st, int k, int final)
{
    const event *ev = &st->e->ev[k];
    long *a = &st->anchor[k];
    for (;;) {
        if (st->skip[k]) { /* the next occurrence starts once the first step is gone */
            while (*a + 1 < st->total && rel_of(&ev->steps[0], at(st, *a + 1)) >= ev->threshold)
                (*a)++;
            if (*a + 1 >= st->total && !final)
                return 0;
            st->skip[k] = 0;
            (*a)++;
            continue;
        }
        if (*a >= st->total)
            return 0;
        const slot *s = at(st, *a);
        if (!s->usable) {
            (*a)++;
            continue;
        }
        long to = *a;
        while (to < st->total && at(st, to)->time_s <= s->time_s + ev->window_s)
            to++;
        if (to == st->total && !final)
            return 0; /* a later moment may still fall in the window */
        long last;
        json_t *o = window_at(st, ev, *a, to, &last);
        if (!o) {
            (*a)++;
            continue;
        }
        json_array_append(st->fresh, o);
        if (add_occurrence(st, k, json_real_value(json_object_get(o, "time")), o))
            return FW_ENOMEM;
        *a = last;
        st->skip[k] = 1;
    }
}

/* A single event's run, with the moment s. */
static int run_single(fw_event_stream *st, int k, const slot *s)
{
    const event *ev = &st->e->ev[k];
    if (!s->usable)
        return 0;
    double r = rel_of(&ev->phrases, s);
    if (r < ev->threshold) {
        if (st->cur[k])
            json_array_append(st->fresh, st->cur[k]);
        st->cur[k] = NULL;
        return 0;
    }
    json_t *cur = st->cur[k];
    if (!cur) {
        cur = record(ev, s->time_s, s->keyframe, s->text, r);
        if (add_occurrence(st, k, s->time_s, cur))
            return FW_ENOMEM;
        st->cur[k] = cur;
        st->best[k] = r;
    }
    json_object_set_new(cur, "end", json_real(s->time_s));
    if (r > st->best[k]) { /* the strongest moment is the evidence */
        st->best[k] = r;
        json_object_set_new(cur, "score", json_real(r));
        json_object_set_new(cur, "keyframe", json_integer(s->keyframe));
        json_object_set_new(cur, "evidence", json_string(s->text));
    }
    return 0;
}

fw_event_stream *fw_event_stream_new(const fw_events *e)
{
    fw_event_stream *st = calloc(1, sizeof *st);
    int n = e ? e->n : 0;
    if (!st)
        return NULL;
    st->e = e;
    st->anchor = calloc((size_t)n + 1, sizeof *st->anchor);
    st->skip = calloc((size_t)n + 1, sizeof *st->skip);
    st->cur = calloc((size_t)n + 1, sizeof *st->cur);
    st->best = calloc((size_t)n + 1, sizeof *st->best);
    st->seq = calloc((size_t)n + 1, sizeof *st->seq);
    st->fresh = json_array();
    if (!st->anchor || !st->skip || !st->cur || !st->best || !st->seq || !st->fresh) {
        fw_event_stream_free(st);
        return NULL;
    }
    return st;
}

static void slot_clear(slot *s)
{
    free(s->text);
    free(s->rel);
}

/* Drops the moments before every multi-step event's anchor. */
static void trim(fw_event_stream *st)
{
    long keep = st->total;
    for (int k = 0; k < st->e->n; k++)
        if (st->e->ev[k].n_steps && st->anchor[k] < keep)
            keep = st->anchor[k];
    long drop = keep - st->base;
    if (drop <= 0)
        return;
    for (long i = 0; i < drop; i++)
        slot_clear(&st->buf[i]);
    memmove(st->buf, st->buf + drop, (size_t)(st->total - keep) * sizeof *st->buf);
    st->base = keep;
}

json_t *fw_event_stream_push(fw_event_stream *st, const fw_moment *m, const float *rel, int *rc)
{
    *rc = 0;
    if (!st->e || !st->e->n)
        return NULL;
    if (st->total - st->base == st->cap) {
        int cap = st->cap ? st->cap * 2 : 64;
        slot *b = realloc(st->buf, (size_t)cap * sizeof *b);
        if (!b) {
            *rc = FW_ENOMEM;
            return NULL;
        }
        st->buf = b;
        st->cap = cap;
    }
    slot *s = &st->buf[st->total - st->base];
    *s = (slot){m->time_s, m->keyframe, m->usable, strdup(m->text ? m->text : ""), NULL};
    size_t n_phr = (size_t)st->e->n_phr;
    if (rel && n_phr && (s->rel = malloc(n_phr * sizeof *s->rel)))
        memcpy(s->rel, rel, n_phr * sizeof *s->rel);
    if (!s->text || (rel && n_phr && !s->rel)) {
        slot_clear(s);
        *rc = FW_ENOMEM;
        return NULL;
    }
    st->total++;
    for (int k = 0; k < st->e->n && !*rc; k++)
        *rc = st->e->ev[k].n_steps ? run_steps(st, k, 0) : run_single(st, k, s);
    trim(st);
    if (!json_array_size(st->fresh))
        return NULL;
    json_t *out = st->fresh;
    st->fresh = json_array();
    return out;
}

static int by_time(const void *a, const void *b)
{
    const occurrence *x = a, *y = b;
    if (x->time_s != y->time_s)
        return x->time_s < y->time_s ? -1 : 1;
    if (x->def != y->def)
        return x->def < y->def ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Every occurrence so far in time order (at equal times, in the definitions' order). */
static json_t *sorted(const fw_event_stream *st)
{
    occurrence *o = malloc((st->n_occ ? (size_t)st->n_occ : 1) * sizeof *o);
    json_t *all = json_array();
    if (!o)
        return all;
    if (st->n_occ) {
        memcpy(o, st->occ, (size_t)st->n_occ * sizeof *o);
        qsort(o, (size_t)st->n_occ, sizeof *o, by_time);
    }
    for (int i = 0; i < st->n_occ; i++)
        json_array_append(all, o[i].o);
    free(o);
    return all;
}

json_t *fw_event_stream_peek(const fw_event_stream *st)
{
    return sorted(st);
}

json_t *fw_event_stream_end(fw_event_stream *st)
{
    for (int k = 0; st->e && k < st->e->n; k++) {
        if (st->e->ev[k].n_steps)
            run_steps(st, k, 1);
        st->cur[k] = NULL;
    }
    return sorted(st);
}

void fw_event_stream_free(fw_event_stream *st)
{
    if (!st)
        return;
    for (long i = st->base; st->buf && i < st->total; i++)
        slot_clear(at(st, i));
    for (int i = 0; i < st->n_occ; i++)
        json_decref(st->occ[i].o);
    free(st->buf);
    free(st->occ);
    free(st->anchor);
    free(st->skip);
    free(st->cur);
    free(st->best);
    free(st->seq);
    json_decref(st->fresh);
    free(st);
}

json_t *fw_events_match(const fw_events *e, const fw_moment *m, int n, const float *rel)
{
    fw_event_stream *st = fw_event_stream_new(e);
    int n_phr = e ? e->n_phr : 0, rc = 0;
    float *row = malloc((size_t)(n_phr ? n_phr : 1) * sizeof *row);
    for (int i = 0; st && row && i < n && !rc; i++) {
        for (int p = 0; p < n_phr; p++)
            row[p] = rel[(size_t)p * n + i];
        json_decref(fw_event_stream_push(st, &m[i], row, &rc));
    }
    json_t *all = st && row ? fw_event_stream_end(st) : json_array();
    free(row);
    fw_event_stream_free(st);
    return all;
}

json_t *fw_events_at(const fw_events *e, const fw_moment *m, int n, const float *rel, int i)
{
    json_t *out = NULL;
    for (int k = 0; e && k < e->n && m[i].usable; k++) {
        const event *ev = &e->ev[k];
        double r = ev->n_steps ? 0 : relevance(&ev->phrases, rel, n, i);
        if (r < ev->threshold || ev->n_steps)
            continue;
        if (!out)
            out = json_array();
        json_array_append_new(out, record(ev, m[i].time_s, m[i].keyframe, m[i].text, r));
    }
    return out;
}
