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

static json_t *record(const event *ev, const fw_moment *m, int at, double score)
{
    return json_pack("{s:s, s:s, s:f, s:f, s:f, s:i, s:s}", "name", ev->name, "description",
                     ev->description, "time", m[at].time_s, "end", m[at].time_s, "score", score,
                     "keyframe", m[at].keyframe, "evidence", m[at].text);
}

/* Runs of consecutive usable moments above the threshold, one occurrence each. */
static void match_single(const event *ev, const fw_moment *m, int n, const float *rel, json_t *out)
{
    json_t *cur = NULL;
    double best = 0;
    for (int i = 0; i < n; i++) {
        if (!m[i].usable)
            continue;
        double r = relevance(&ev->phrases, rel, n, i);
        if (r < ev->threshold) {
            cur = NULL;
            continue;
        }
        if (!cur) {
            cur = record(ev, m, i, r);
            json_array_append_new(out, cur);
            best = r;
        }
        json_object_set_new(cur, "end", json_real(m[i].time_s));
        if (r > best) { /* the strongest moment is the evidence */
            best = r;
            json_object_set_new(cur, "score", json_real(r));
            json_object_set_new(cur, "keyframe", json_integer(m[i].keyframe));
            json_object_set_new(cur, "evidence", json_string(m[i].text));
        }
    }
}

/* Attention of one step over the window [from, to): softmax(relevance / TAU). Returns
 * the pooled score; *peak is the most attended moment. */
static double attend(const group *g, const fw_moment *m, int n, const float *rel, int from, int to,
                     int *peak)
{
    double top = -1, z = 0, pooled = 0;
    for (int i = from; i < to; i++)
        if (m[i].usable && relevance(g, rel, n, i) > top) {
            top = relevance(g, rel, n, i);
            *peak = i;
        }
    for (int i = from; i < to; i++)
        if (m[i].usable) {
            double r = relevance(g, rel, n, i), a = exp((r - top) / TAU);
            z += a;
            pooled += a * r;
        }
    return z > 0 ? pooled / z : 0;
}

/* Windows anchored at each usable moment; an occurrence when every step's pooled score
 * passes the threshold and the steps' peaks come in order. */
static void match_steps(const event *ev, const fw_moment *m, int n, const float *rel, json_t *out)
{
    int peaks[64];
    double pooled[64];
    int k_n = ev->n_steps; /* at most 64: the parser says so */
    for (int a = 0; a < n; a++) {
        if (!m[a].usable)
            continue;
        int to = a;
        while (to < n && m[to].time_s <= m[a].time_s + ev->window_s)
            to++;
        int ok = 1;
        double score = 0;
        for (int k = 0; k < k_n && ok; k++) {
            peaks[k] = a;
            pooled[k] = attend(&ev->steps[k], m, n, rel, a, to, &peaks[k]);
            ok = pooled[k] >= ev->threshold && (k == 0 || peaks[k] > peaks[k - 1]);
            score += pooled[k] / k_n;
        }
        if (!ok)
            continue;
        json_t *steps = json_array();
        for (int k = 0; k < k_n; k++)
            json_array_append_new(steps, json_pack("{s:s, s:f, s:i, s:f, s:s}", "name",
                                                   ev->steps[k].name, "time", m[peaks[k]].time_s,
                                                   "keyframe", m[peaks[k]].keyframe, "score",
                                                   pooled[k], "evidence", m[peaks[k]].text));
        json_t *o = record(ev, m, peaks[0], score);
        json_object_set_new(o, "end", json_real(m[peaks[k_n - 1]].time_s));
        json_object_set_new(o, "steps", steps);
        json_array_append_new(out, o);
        /* the next occurrence starts after this one, once the first step is gone */
        a = peaks[k_n - 1];
        while (a + 1 < n && relevance(&ev->steps[0], rel, n, a + 1) >= ev->threshold)
            a++;
    }
}

static double time_of(json_t *o)
{
    return json_real_value(json_object_get(o, "time"));
}

json_t *fw_events_match(const fw_events *e, const fw_moment *m, int n, const float *rel)
{
    json_t *all = json_array();
    for (int k = 0; e && k < e->n; k++) {
        if (e->ev[k].n_steps)
            match_steps(&e->ev[k], m, n, rel, all);
        else
            match_single(&e->ev[k], m, n, rel, all);
    }
    /* in time order; a stable insertion sort keeps the file's order at equal times */
    size_t cnt = json_array_size(all);
    for (size_t i = 1; i < cnt; i++) {
        json_t *o = json_incref(json_array_get(all, i));
        size_t j = i;
        while (j > 0 && time_of(json_array_get(all, j - 1)) > time_of(o)) {
            json_array_set(all, j, json_array_get(all, j - 1));
            j--;
        }
        json_array_set_new(all, j, o);
    }
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
        json_array_append_new(out, record(ev, m, i, r));
    }
    return out;
}
