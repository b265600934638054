/* The story of a run: wires the gate (confidence, lexicons) and fusion (embeddings,
 * segments, events, summary) over the observations of a job. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/sidefile.h"
#include "core/utf8.h"
#include "fuse/fuse.h"
#include "gate/gate.h"
#include "pipeline/pipeline.h"

#define MAX_UNITS 16 /* parts of one observation's text matched against event phrases */
#define SUMMARY_TOKENS 1024
#define REASON_TEXT 240 /* bytes of text kept with a review reason */

typedef struct obs {
    fw_moment m;
    char *text;
    json_t *strings; /* every text of the observation: text and the fields' strings */
    float *rel;      /* relevance to each event phrase: its best part's cosine */
    float *vec;      /* the text's vector when events made it already (dim floats), or NULL */
} obs;

struct fw_story {
    fw_params p;
    fw_embedder *emb;
    fw_events *events;
    fw_lexicon *lexicon;
    float *phrases; /* n_phrases * dim */
    int n_phrases, dim;
    obs *o;
    int n, cap;
    double add_s;             /* time spent in fw_story_add (embedding, streaming events) */
    const atomic_int *cancel; /* stops the summary's requests (NULL: none) */
};

void fw_story_set_cancel(fw_story *s, const atomic_int *cancel)
{
    s->cancel = cancel;
}

void fw_story_close(fw_story *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++) {
        free(s->o[i].text);
        json_decref(s->o[i].strings);
        free(s->o[i].rel);
        free(s->o[i].vec);
    }
    free(s->o);
    free(s->phrases);
    fw_embedder_close(s->emb);
    fw_events_free(s->events);
    fw_lexicon_free(s->lexicon);
    free(s);
}

static int load_events(fw_story *s, const char *path, fw_error *err)
{
    char *text;
    size_t len;
    int rc = fw_side_read(path, "events file", FW_SIDE_MAX_EVENTS, &text, &len, err);
    if (rc)
        return rc;
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    free(text);
    if (!root)
        return fw_error_set(err, FW_EINVAL, "%s:%d: not JSON: %s", path, je.line, je.text);
    rc = fw_events_parse(&s->events, root, path, err);
    json_decref(root);
    return rc;
}

static int load_lexicon(fw_story *s, const char *path, fw_error *err)
{
    return fw_lexicon_load(&s->lexicon, path, err);
}

/* Loads each file of a comma-separated list. */
static int load_each(fw_story *s, const char *list,
                     int (*load)(fw_story *, const char *, fw_error *), fw_error *err)
{
    char *copy = strdup(list), *save = NULL;
    int rc = copy ? 0 : fw_error_set(err, FW_ENOMEM, "out of memory");
    for (char *f = copy ? strtok_r(copy, ",", &save) : NULL; f && !rc;
         f = strtok_r(NULL, ",", &save))
        if (*f)
            rc = load(s, f, err);
    free(copy);
    return rc;
}

int fw_story_open(fw_story **out, const fw_params *p, fw_error *err)
{
    *out = NULL;
    fw_story *s = calloc(1, sizeof *s);
    if (!s)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    s->p = *p;
    fw_embed_params ep = {p->embed_url, p->embed_model,     p->api_key,         p->timeout_s,
                          p->retries,   p->stall_timeout_s, p->max_retry_wait_s};
    int rc = fw_embedder_open(&s->emb, &ep, err);
    if (!rc && p->events)
        rc = load_each(s, p->events, load_events, err);
    if (!rc && p->lexicon)
        rc = load_each(s, p->lexicon, load_lexicon, err);
    const char **phrases;
    s->n_phrases = fw_events_phrases(s->events, &phrases);
    if (!rc && s->n_phrases)
        rc = fw_embed(s->emb, phrases, s->n_phrases, &s->phrases, &s->dim, err);
    if (rc) {
        fw_story_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* Every string of a JSON value, depth first, except what is no longer on screen (the
 * text timeline's removed lines and the old side of a change). */
static void strings_of(json_t *v, json_t *out)
{
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_string(v) && json_string_length(v))
        json_array_append(out, v);
    else if (json_is_array(v))
        json_array_foreach(v, i, x) strings_of(x, out);
    else if (json_is_object(v))
        json_object_foreach(v, k, x) if (strcmp(k, "text_removed") && strcmp(k, "from"))
            strings_of(x, out);
}

static int separator(unsigned c)
{
    static const unsigned seps[] = {'\n', '"', 0x201C, 0x201D, 0x300C, 0x300D, ';', 0xFF1B,
                                    '.',  '!', '?',    0x3002, 0xFF01, 0xFF1F, '|', 0};
    for (int i = 0; seps[i]; i++)
        if (c == seps[i])
            return 1;
    return 0;
}

/* The parts of a text an event phrase may match on its own: lines, quoted strings,
 * sentences (malloc'd strings). */
static int units_of(const char *text, char **units, int max)
{
    int n = 0;
    const char *p = text, *start = text;
    while (n < max) {
        const char *at = p;
        unsigned c = *p ? fw_utf8_next(&p) : 0;
        if (c && !separator(c))
            continue;
        const char *b = start, *e = at;
        while (b < e && strchr(" :,\t", *b))
            b++;
        while (e > b && strchr(" :,\t", e[-1]))
            e--;
        if (e - b >= 2)
            units[n++] = strndup(b, (size_t)(e - b));
        start = p;
        if (!c)
            break;
    }
    return n;
}

/* What fusion reads of an observation: what it says. For the local backend that is the
 * screen text (its lines joined by " | "), not the descriptors every frame shares
 * ("mostly grey, bright, sharp"), which would make all frames look alike; a frame
 * without text keeps its description. */
static char *fusion_text(const fw_observation *ob, json_t *fields)
{
    const char *screen = json_string_value(json_object_get(fields, "text"));
    if (!ob->backend || strcmp(ob->backend, "local") != 0 || !screen || !*screen)
        return strdup(ob->text ? ob->text : "");
    size_t n = strlen(screen), extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += screen[i] == '\n' ? 2 : 0;
    char *t = malloc(n + extra + 1), *o = t;
    for (size_t i = 0; t && i < n; i++) {
        if (screen[i] == '\n') {
            memcpy(o, " | ", 3);
            o += 3;
        } else
            *o++ = screen[i];
    }
    if (t)
        *o = '\0';
    return t;
}

static int story_add(fw_story *s, const fw_observation *ob, const char **gate, char **events,
                     fw_error *err);

int fw_story_add(fw_story *s, const fw_observation *ob, const char **gate, char **events,
                 fw_error *err)
{
    *gate = NULL;
    *events = NULL;
    double t0 = fw_now_s();
    int rc = story_add(s, ob, gate, events, err);
    s->add_s += fw_now_s() - t0;
    return rc;
}

static int story_add(fw_story *s, const fw_observation *ob, const char **gate, char **events,
                     fw_error *err)
{
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        obs *o = realloc(s->o, (size_t)cap * sizeof *o);
        if (!o)
            return fw_error_set(err, FW_ENOMEM, "out of memory");
        s->o = o;
        s->cap = cap;
    }
    obs *o = &s->o[s->n];
    memset(o, 0, sizeof *o);
    json_t *fields = json_loads(ob->fields ? ob->fields : "{}", 0, NULL);
    o->text = fusion_text(ob, fields);
    o->strings = json_array();
    if (!o->text || !o->strings) {
        free(o->text);
        json_decref(o->strings);
        json_decref(fields);
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    }
    json_array_append_new(o->strings, json_string(ob->text ? ob->text : ""));
    strings_of(fields, o->strings);
    json_decref(fields);
    *gate = fw_gate_reason(o->text, ob->error, ob->confidence, s->p.min_confidence);
    o->m = (fw_moment){ob->time_s, ob->keyframe, o->text, ob->confidence, *gate == NULL};
    s->n++;
    if (!o->m.usable || !s->n_phrases)
        return 0;
    /* the phrases' relevance to this observation: its best part (or the whole) */
    char *units[MAX_UNITS + 1];
    int n_units = units_of(o->text, units, MAX_UNITS);
    units[n_units++] = strdup(o->text);
    float *vec = NULL;
    int dim = 0, rc = fw_embed(s->emb, (const char *const *)units, n_units, &vec, &dim, err);
    for (int i = 0; i < n_units; i++)
        free(units[i]);
    if (!rc && dim != s->dim)
        rc =
            fw_error_set(err, FW_ENET, "embed-url: vectors of %d, then %d dimensions", s->dim, dim);
    if (rc) {
        free(vec);
        return rc;
    }
    if (!(o->rel = malloc((size_t)s->n_phrases * sizeof *o->rel))) {
        free(vec);
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    }
    for (int p = 0; p < s->n_phrases; p++) {
        float best = 0;
        for (int u = 0; u < n_units; u++) {
            float c = fw_cosine(s->phrases + (size_t)p * s->dim, vec + (size_t)u * dim, dim);
            best = c > best ? c : best;
        }
        o->rel[p] = best;
    }
    /* the whole text is the last part: fusion reuses its vector */
    if ((o->vec = malloc((size_t)dim * sizeof *o->vec)))
        memcpy(o->vec, vec + (size_t)(n_units - 1) * dim, (size_t)dim * sizeof *vec);
    free(vec);
    json_t *fired = fw_events_at(s->events, &o->m, 1, o->rel, 0);
    if (fired)
        *events = json_dumps(fired, JSON_COMPACT);
    json_decref(fired);
    return 0;
}

/* ---- fusion ---- */

static json_t *segments_json(const fw_moment *m, const fw_segment *g, int n)
{
    json_t *out = json_array();
    for (int i = 0; i < n; i++) {
        json_t *kfs = json_array();
        for (int k = 0; k < g[i].n_members; k++)
            json_array_append_new(kfs, json_integer(m[g[i].members[k]].keyframe));
        json_array_append_new(out, json_pack("{s:i, s:f, s:f, s:s, s:o, s:i, s:f}", "index", i,
                                             "start", g[i].start_s, "end", g[i].end_s, "text",
                                             m[g[i].rep].text, "keyframes", kfs, "keyframe",
                                             m[g[i].rep].keyframe, "confidence", g[i].confidence));
    }
    return out;
}

/* A review reason for every lexicon term in text (once per term and time). */
static void review_text(const fw_story *s, const char *text, double time, const char *source,
                        json_t *reasons)
{
    json_t *hits = fw_lexicon_match(s->lexicon, text), *h;
    size_t i, j;
    json_array_foreach(hits, i, h)
    {
        const char *term = json_string_value(json_object_get(h, "term"));
        int seen = 0;
        json_t *r;
        json_array_foreach(reasons, j, r) seen |=
            json_real_value(json_object_get(r, "time")) == time &&
            strcmp(json_string_value(json_object_get(r, "term")), term) == 0;
        if (seen)
            continue;
        size_t n = strlen(text);
        if (n > REASON_TEXT) { /* cut at a character boundary */
            n = REASON_TEXT;
            while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
                n--;
        }
        json_array_append_new(reasons, json_pack("{s:f, s:s, s:O, s:s%, s:s}", "time", time, "term",
                                                 term, "category", json_object_get(h, "category"),
                                                 "text", text, n, "source", source));
    }
    json_decref(hits);
}

static json_t *review_json(const fw_story *s, json_t *summary)
{
    json_t *reasons = json_array(), *v;
    size_t i;
    for (int k = 0; k < s->n && s->lexicon; k++)
        json_array_foreach(s->o[k].strings, i, v)
            review_text(s, json_string_value(v), s->o[k].m.time_s, "observation", reasons);
    /* a model's summary is new text; an extractive one repeats the observations */
    const char *text = json_string_value(json_object_get(summary, "text"));
    const char *method = json_string_value(json_object_get(summary, "method"));
    int llm = method && strcmp(method, "llm") == 0;
    if (text && s->lexicon && llm)
        review_text(s, text, 0, "summary", reasons);
    json_array_foreach(json_object_get(summary, "key_moments"), i, v) if (s->lexicon && llm)
        review_text(s, json_string_value(json_object_get(v, "text")),
                    json_real_value(json_object_get(v, "time")), "summary", reasons);
    return json_pack("{s:b, s:o, s:i}", "required", json_array_size(reasons) > 0, "reasons",
                     reasons, "terms", fw_lexicon_count(s->lexicon));
}

static json_t *summary_json(fw_story *s, const fw_moment *m, const fw_segment *g, int n_seg,
                            const float *emb, int dim, fw_error *err)
{
    const fw_params *p = &s->p;
    const char *mode = p->summary ? p->summary : "auto";
    const char *url = p->llm_url ? p->llm_url : p->url;
    if (strcmp(mode, "none") == 0)
        return json_pack("{s:s, s:n, s:s, s:[]}", "method", "none", "model", "text", "",
                         "key_moments");
    json_t *out = NULL;
    if (url && strcmp(mode, "extractive") != 0) {
        fw_summary_params sp = {url,
                                p->llm_model ? p->llm_model
                                : p->llm_url ? NULL
                                             : p->model,
                                p->api_key,
                                p->summary_prompt,
                                p->summary_window,
                                SUMMARY_TOKENS,
                                p->timeout_s,
                                p->retries,
                                s->cancel,
                                p->stall_timeout_s,
                                p->max_retry_wait_s};
        fw_error e = {0};
        if (fw_summary_llm(&sp, m, s->n, &out, &e) == 0)
            return out;
        *err = e; /* reported as a warning; the extractive summary stands in */
    } else if (strcmp(mode, "llm") == 0)
        fw_error_set(err, FW_EINVAL, "summary: 'llm' needs the llm-url or the url setting");
    out = fw_summary_extractive(m, g, n_seg, emb, dim);
    if (err->code)
        json_object_set_new(out, "error", json_string(err->message));
    return out;
}

int fw_story_finish(fw_story *s, double duration_s, char **json, fw_error *err)
{
    *json = NULL;
    double t0 = fw_now_s();
    int n = s->n;
    fw_moment *m = calloc(n ? (size_t)n : 1, sizeof *m);
    const char **texts = calloc(n ? (size_t)n : 1, sizeof *texts);
    float *rel = calloc((size_t)(s->n_phrases ? s->n_phrases : 1) * (n ? n : 1), sizeof *rel);
    if (!m || !texts || !rel) {
        free(m), free(texts), free(rel);
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    }
    int usable = 0, need = 0;
    for (int i = 0; i < n; i++) {
        m[i] = s->o[i].m;
        usable += m[i].usable;
        if (m[i].usable && !s->o[i].vec) /* only what fusion uses, and has no vector yet */
            texts[need++] = m[i].text;
        for (int p = 0; p < s->n_phrases && s->o[i].rel; p++)
            rel[(size_t)p * n + i] = s->o[i].rel[p];
    }
    float *fresh = NULL, *emb = NULL;
    int dim = s->dim, got = 0;
    fw_segment *g = NULL;
    int n_seg = 0;
    int rc = need ? fw_embed(s->emb, texts, need, &fresh, &got, err) : 0;
    if (!rc && got && dim && got != dim)
        rc = fw_error_set(err, FW_ENET, "embed-url: vectors of %d, then %d dimensions", dim, got);
    dim = dim ? dim : got ? got : 1;
    if (!rc && !(emb = calloc((size_t)(n ? n : 1) * dim, sizeof *emb)))
        rc = fw_error_set(err, FW_ENOMEM, "out of memory");
    for (int i = 0, k = 0; !rc && i < n; i++) { /* unusable rows stay zero: never read */
        const float *v = s->o[i].vec ? s->o[i].vec : m[i].usable ? fresh + (size_t)k++ * dim : NULL;
        if (v)
            memcpy(emb + (size_t)i * dim, v, (size_t)dim * sizeof *emb);
    }
    free(fresh);
    if (!rc && fw_segments(m, n, emb, dim, s->p.segment_threshold, duration_s, &g, &n_seg))
        rc = fw_error_set(err, FW_ENOMEM, "out of memory");
    if (!rc) {
        fw_error warn = {0};
        json_t *summary = summary_json(s, m, g, n_seg, emb, dim, &warn);
        json_t *root =
            json_pack("{s:o, s:o, s:o, s:o, s:{s:s, s:i, s:f, s:f, s:i, s:i, s:i}}", "segments",
                      segments_json(m, g, n_seg), "events", fw_events_match(s->events, m, n, rel),
                      "summary", summary, "review", review_json(s, summary), "fusion", "embedder",
                      fw_embedder_name(s->emb), "embedding_requests", fw_embedder_requests(s->emb),
                      "segment_threshold", s->p.segment_threshold, "min_confidence",
                      s->p.min_confidence, "observations", n, "gated", n - usable,
                      "event_definitions", fw_events_count(s->events));
        json_object_set_new(json_object_get(root, "fusion"), "seconds",
                            json_pack("{s:f, s:f}", "add", s->add_s, "finish", fw_now_s() - t0));
        *json = root ? json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
        json_decref(root);
        if (!*json)
            rc = fw_error_set(err, FW_ENOMEM, "out of memory");
    }
    fw_segments_free(g, n_seg);
    free(emb);
    free(m);
    free(texts);
    free(rel);
    return rc;
}
