/* The story of a run: wires the gate (confidence, lexicons) and fusion (embeddings,
 * segments, events, summary) over the observations of a job. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/http.h"
#include "core/sidefile.h"
#include "core/utf8.h"
#include "fuse/fuse.h"
#include "gate/gate.h"
#include "pipeline/pipeline.h"

#define MAX_UNITS 16 /* parts of one observation's text matched against event phrases */
#define SUMMARY_TOKENS 1024
#define REASON_TEXT 240 /* bytes of text kept with a review reason */

#define MAX_REASONS 1000 /* review reasons kept; "hits" counts them all */

typedef struct obs { /* an observation of the current window */
    fw_moment m;
    char *text;
    float *rel; /* relevance to each event phrase: its best part's cosine */
    float *vec; /* the text's vector when events made it already (dim floats), or NULL */
} obs;

struct fw_story {
    fw_params p;
    fw_embedder *emb;
    fw_events *events;
    fw_lexicon *lexicon;
    float *phrases; /* n_phrases * dim */
    int n_phrases, dim;
    obs *o; /* the window: what came since fusion last ran */
    int n, cap;
    int total, usable; /* observations added, and those fusion used */
    double last_s;
    fw_segmenter *seg; /* made once dim is known */
    fw_event_stream *evs;
    fw_summarizer *sum; /* the LLM summary's windows (NULL: none) */
    fw_extract *ext;
    fw_error sum_err; /* the summary server's first failure */
    json_t *segments; /* without a sink: every segment, for fw_story_finish */
    json_t *reasons;
    int hits;
    fw_story_sink sink;
    double add_s, fuse_s;
    const atomic_int *cancel; /* stops the summary's requests (NULL: none) */
    char vlm_url[2048];       /* the first of the url setting's servers: the summary's default */
};

void fw_story_set_sink(fw_story *s, const fw_story_sink *sink)
{
    s->sink = *sink;
}

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
        free(s->o[i].rel);
        free(s->o[i].vec);
    }
    free(s->o);
    fw_segmenter_free(s->seg);
    fw_event_stream_free(s->evs);
    fw_summarizer_free(s->sum);
    fw_extract_free(s->ext);
    json_decref(s->segments);
    json_decref(s->reasons);
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
    s->evs = rc ? NULL : fw_event_stream_new(s->events);
    s->segments = json_array();
    s->reasons = json_array();
    if (!rc && (!s->evs || !s->segments || !s->reasons))
        rc = fw_error_set(err, FW_ENOMEM, "out of memory");
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

static int relevance_of(fw_story *s, obs *o, char **events, fw_error *err);
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

/* The phrases' relevance to an observation (its best part, or the whole), its vector, and
 * the single events it fires now (*events). */
static int relevance_of(fw_story *s, obs *o, char **events, fw_error *err)
{
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

/* ---- review: the lexicons on every text, as it comes ---- */

/* A review reason for every lexicon term in text (once per term and time). */
static void review_text(fw_story *s, const char *text, double time, const char *source)
{
    json_t *hits = fw_lexicon_match(s->lexicon, text), *h;
    size_t i;
    json_array_foreach(hits, i, h)
    {
        const char *term = json_string_value(json_object_get(h, "term"));
        /* the observations' reasons are in time order: those of this time are last; the
         * summary's (at the end, its own times) are looked up among all */
        int seen = 0, all = strcmp(source, "summary") == 0;
        for (size_t j = json_array_size(s->reasons); j-- > 0 && !seen;) {
            json_t *r = json_array_get(s->reasons, j);
            if (json_real_value(json_object_get(r, "time")) != time) {
                if (all)
                    continue;
                break;
            }
            seen = strcmp(json_string_value(json_object_get(r, "term")), term) == 0;
        }
        if (seen)
            continue;
        if (++s->hits > MAX_REASONS)
            continue;
        size_t n = strlen(text);
        if (n > REASON_TEXT) { /* cut at a character boundary */
            n = REASON_TEXT;
            while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
                n--;
        }
        json_array_append_new(s->reasons,
                              json_pack("{s:f, s:s, s:O, s:s%, s:s}", "time", time, "term", term,
                                        "category", json_object_get(h, "category"), "text", text, n,
                                        "source", source));
    }
    json_decref(hits);
}

static void review_observation(fw_story *s, const fw_observation *ob, json_t *fields)
{
    if (!s->lexicon)
        return;
    json_t *strings = json_array(), *v;
    json_array_append_new(strings, json_string(ob->text ? ob->text : ""));
    strings_of(fields, strings);
    size_t i;
    json_array_foreach(strings, i, v)
        review_text(s, json_string_value(v), ob->time_s, "observation");
    json_decref(strings);
}

/* ---- fusion, a window at a time ---- */

static fw_summarizer *summarizer(fw_story *s)
{
    const fw_params *p = &s->p;
    const char *mode = p->summary ? p->summary : "auto";
    const char *url = p->llm_url                                                 ? p->llm_url
                      : fw_http_url_at(p->url, 0, s->vlm_url, sizeof s->vlm_url) ? s->vlm_url
                                                                                 : NULL;
    if (s->sum || !url || strcmp(mode, "none") == 0 || strcmp(mode, "extractive") == 0)
        return s->sum;
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
    return s->sum = fw_summarizer_new(&sp);
}

/* A segment as report.json lists it. */
static json_t *segment_json(const fw_seg *g)
{
    json_t *kfs = json_array();
    for (int k = 0; k < g->n_members; k++)
        json_array_append_new(kfs, json_integer(g->keyframes[k]));
    return json_pack("{s:i, s:f, s:f, s:s, s:o, s:i, s:f}", "index", g->index, "start", g->start_s,
                     "end", g->end_s, "text", g->text, "keyframes", kfs, "keyframe", g->keyframe,
                     "confidence", g->confidence);
}

static int emit_segment(fw_story *s, fw_seg *g)
{
    json_t *o = segment_json(g);
    int rc = o ? fw_extract_push(s->ext, g->start_s, g->end_s, g->text, g->confidence, g->vec)
               : FW_ENOMEM;
    if (o && s->sink.segment)
        s->sink.segment(s->sink.user, o);
    else if (o)
        json_array_append(s->segments, o);
    json_decref(o);
    fw_seg_clear(g);
    return rc;
}

/* The vectors of the window's usable moments that have none yet, in one request. */
static int window_vectors(fw_story *s, float **fresh, fw_error *err)
{
    *fresh = NULL;
    const char **texts = calloc(s->n ? (size_t)s->n : 1, sizeof *texts);
    int need = 0, got = 0, rc = 0;
    if (!texts)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    for (int i = 0; i < s->n; i++)
        if (s->o[i].m.usable && !s->o[i].vec)
            texts[need++] = s->o[i].text;
    rc = need ? fw_embed(s->emb, texts, need, fresh, &got, err) : 0;
    free(texts);
    if (!rc && got && s->dim && got != s->dim)
        rc =
            fw_error_set(err, FW_ENET, "embed-url: vectors of %d, then %d dimensions", s->dim, got);
    if (!rc && !s->dim)
        s->dim = got;
    if (!rc && s->dim && !s->seg) {
        s->seg = fw_segmenter_new(s->dim, s->p.segment_threshold);
        if (!s->seg || !(s->ext = fw_extract_new(s->dim)))
            rc = fw_error_set(err, FW_ENOMEM, "out of memory");
    }
    return rc;
}

/* Runs fusion on the window (segments that closed, multi-step events whose windows are
 * complete, the summary's windows) and empties it. */
static int fuse_window(fw_story *s, fw_error *err)
{
    double t0 = fw_now_s();
    float *fresh = NULL;
    int rc = s->n ? window_vectors(s, &fresh, err) : 0;
    for (int i = 0, k = 0; !rc && i < s->n; i++) {
        obs *o = &s->o[i];
        if (o->m.usable) {
            const float *v = o->vec ? o->vec : fresh + (size_t)k++ * s->dim;
            fw_seg g;
            int got = fw_segmenter_push(s->seg, &o->m, s->usable++, v, &g);
            rc = got < 0 ? fw_error_set(err, FW_ENOMEM, "out of memory")
                 : got   ? emit_segment(s, &g)
                         : 0;
            if (summarizer(s))
                fw_summarizer_push(s->sum, o->m.time_s, o->m.text); /* a failure: at the end */
        }
        int erc = 0;
        json_t *found = rc ? NULL : fw_event_stream_push(s->evs, &o->m, o->rel, &erc), *e;
        size_t j;
        json_array_foreach(found, j, e) if (json_object_get(e, "steps") && s->sink.event)
            s->sink.event(s->sink.user, e); /* single events were told as they fired */
        json_decref(found);
        if (!rc && erc)
            rc = fw_error_set(err, FW_ENOMEM, "out of memory");
    }
    free(fresh);
    for (int i = 0; i < s->n; i++) {
        free(s->o[i].text);
        free(s->o[i].rel);
        free(s->o[i].vec);
    }
    s->n = 0;
    s->fuse_s += fw_now_s() - t0;
    return rc;
}

int fw_story_fuse(fw_story *s, fw_error *err)
{
    return fuse_window(s, err);
}

#define MAX_WINDOW 4096 /* observations a window holds, whatever their times */

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
    if (!o->text) {
        json_decref(fields);
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    }
    review_observation(s, ob, fields);
    json_decref(fields);
    *gate = fw_gate_reason(o->text, ob->error, ob->confidence, s->p.min_confidence);
    o->m = (fw_moment){ob->time_s, ob->keyframe, o->text, ob->confidence, *gate == NULL};
    s->n++;
    s->total++;
    s->last_s = ob->time_s;
    int rc = o->m.usable && s->n_phrases ? relevance_of(s, o, events, err) : 0;
    double span = s->o[s->n - 1].m.time_s - s->o[0].m.time_s;
    if (!rc && (s->n >= MAX_WINDOW || (s->p.fusion_window_s > 0 && span >= s->p.fusion_window_s)))
        rc = fuse_window(s, err);
    return rc;
}

/* ---- the end ---- */

/* The review as its reasons stand. */
static json_t *review_now(const fw_story *s)
{
    json_t *out = json_pack("{s:b, s:O, s:i}", "required", s->hits > 0, "reasons", s->reasons,
                            "terms", fw_lexicon_count(s->lexicon));
    if (out && s->hits > MAX_REASONS)
        json_object_set_new(out, "hits", json_integer(s->hits));
    return out;
}

static json_t *review_json(fw_story *s, json_t *summary)
{
    /* a model's summary is new text; an extractive one repeats the observations */
    const char *text = json_string_value(json_object_get(summary, "text"));
    const char *method = json_string_value(json_object_get(summary, "method"));
    int llm = method && strcmp(method, "llm") == 0;
    size_t i;
    json_t *v;
    if (text && s->lexicon && llm)
        review_text(s, text, 0, "summary");
    json_array_foreach(json_object_get(summary, "key_moments"), i, v) if (s->lexicon && llm)
        review_text(s, json_string_value(json_object_get(v, "text")),
                    json_real_value(json_object_get(v, "time")), "summary");
    return review_now(s);
}

/* The extractive summary so far (an empty one when nothing was usable). */
static json_t *extractive(const fw_story *s)
{
    if (s->ext)
        return fw_extract_summary(s->ext);
    fw_extract *none = fw_extract_new(1);
    json_t *out = none ? fw_extract_summary(none) : NULL;
    fw_extract_free(none);
    return out;
}

static json_t *summary_json(fw_story *s, fw_error *err)
{
    const char *mode = s->p.summary ? s->p.summary : "auto";
    if (strcmp(mode, "none") == 0)
        return json_pack("{s:s, s:n, s:s, s:[]}", "method", "none", "model", "text", "",
                         "key_moments");
    json_t *out = NULL;
    if (summarizer(s)) {
        fw_error e = {0};
        if (fw_summarizer_end(s->sum, &out, &e) == 0)
            return out;
        *err = e; /* reported as a warning; the extractive summary stands in */
    } else if (strcmp(mode, "llm") == 0)
        fw_error_set(err, FW_EINVAL, "summary: 'llm' needs the llm-url or the url setting");
    out = extractive(s);
    if (out && err->code)
        json_object_set_new(out, "error", json_string(err->message));
    return out;
}

static json_t *fusion_json(const fw_story *s, double t0)
{
    json_t *o =
        json_pack("{s:s, s:i, s:f, s:f, s:f, s:i, s:i, s:i}", "embedder", fw_embedder_name(s->emb),
                  "embedding_requests", fw_embedder_requests(s->emb), "segment_threshold",
                  s->p.segment_threshold, "min_confidence", s->p.min_confidence, "window",
                  s->p.fusion_window_s, "observations", s->total, "gated", s->total - s->usable,
                  "event_definitions", fw_events_count(s->events));
    json_object_set_new(o, "seconds",
                        json_pack("{s:f, s:f}", "add", s->add_s, "finish", fw_now_s() - t0));
    return o;
}

static int dump(json_t *root, char **json, fw_error *err)
{
    *json = root ? json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(root);
    return *json ? 0 : fw_error_set(err, FW_ENOMEM, "out of memory");
}

int fw_story_finish(fw_story *s, double duration_s, char **json, fw_error *err)
{
    *json = NULL;
    double t0 = fw_now_s();
    int rc = fuse_window(s, err);
    fw_seg g;
    int got = !rc && s->seg ? fw_segmenter_end(s->seg, duration_s, &g) : 0;
    if (got < 0)
        rc = fw_error_set(err, FW_ENOMEM, "out of memory");
    else if (got)
        rc = emit_segment(s, &g);
    if (rc)
        return rc;
    fw_error warn = {0};
    json_t *summary = summary_json(s, &warn);
    json_t *root = json_pack("{s:o, s:o, s:o, s:o}", "segments",
                             s->sink.segment ? json_array() : json_incref(s->segments), "events",
                             fw_event_stream_end(s->evs), "summary", summary, "review",
                             review_json(s, summary));
    if (root)
        json_object_set_new(root, "fusion", fusion_json(s, t0));
    return dump(root, json, err);
}

int fw_story_snapshot(fw_story *s, double now_s, char **json, fw_error *err)
{
    *json = NULL;
    fw_seg g;
    json_t *segments = json_array(), *summary = NULL;
    int got = s->seg ? fw_segmenter_peek(s->seg, now_s, &g) : 0;
    if (got < 0)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    if (got) {
        json_t *open = segment_json(&g);
        json_object_set_new(open, "open", json_true());
        json_array_append_new(segments, open);
        summary = fw_extract_summary_with(s->ext, g.start_s, g.end_s, g.text, g.confidence, g.vec);
        fw_seg_clear(&g);
    } else
        summary = extractive(s);
    if (summary)
        json_object_set_new(summary, "partial", json_true());
    json_t *root =
        json_pack("{s:o, s:o, s:o, s:o}", "segments", segments, "events",
                  fw_event_stream_peek(s->evs), "summary", summary, "review", review_now(s));
    if (root)
        json_object_set_new(root, "fusion", fusion_json(s, fw_now_s()));
    return dump(root, json, err);
}
