/* The summary: an LLM over the timestamped observations (map-reduce over windows), or
 * an extractive one from the segments. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/http.h"
#include "fuse/fuse.h"

#define MAX_KEY_MOMENTS 12
#define DEFAULT_INSTRUCTION                                                                        \
    "Summarise what happens in this video in a few sentences, in the language of the "             \
    "observations, and list its key moments."

/* "01:02", "1:02:03", "01:02.5" or a number: seconds, or -1. */
static double parse_clock(json_t *v)
{
    if (json_is_number(v))
        return json_number_value(v);
    const char *s = json_string_value(v);
    if (!s)
        return -1;
    double parts[3] = {0}, *p = parts;
    int n = 0;
    for (const char *c = s; *c && n < 3;) {
        char *end;
        double x = strtod(c, &end);
        if (end == c)
            return -1;
        p[n++] = x;
        c = *end == ':' ? end + 1 : end;
        if (*end != ':')
            break;
    }
    return n == 3   ? parts[0] * 3600 + parts[1] * 60 + parts[2]
           : n == 2 ? parts[0] * 60 + parts[1]
                    : parts[0];
}

/* What a request lists: an observation, or the summary of a part of the video. */
typedef struct item {
    double t0, t1;
    const char *text;
    json_t *moments; /* a part's key moments (borrowed) */
} item;

/* "mm:ss text" or "mm:ss-mm:ss text", on one line. */
static char *line_of(const item *it, int part)
{
    char a[32], b[32];
    fw_clock_mmss(it->t0, a, sizeof a);
    fw_clock_mmss(it->t1, b, sizeof b);
    size_t n = strlen(it->text) + 80;
    char *l = malloc(n);
    if (!l)
        return NULL;
    if (part)
        snprintf(l, n, "%s-%s %s", a, b, it->text);
    else
        snprintf(l, n, "%s %s", a, it->text);
    for (char *c = l; *c; c++)
        if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' ';
    return l;
}

/* Tokens of text, estimated on the safe side: a token per 3 bytes (Chinese is about a
 * token per character, English about 4 bytes). */
static int tokens_of(const char *s)
{
    return (int)(strlen(s) / 3) + 1;
}

typedef struct run {
    const fw_summary_params *p;
    char chat[1100];
    int schema; /* 0 once the server rejected response_format */
    int requests, windows;
    int whole; /* 0 once the observations are cut into windows */
    char model[256];
} run;

static json_t *response_format(void)
{
    return json_loads(
        "{\"type\": \"json_schema\", \"json_schema\": {\"name\": \"summary\", \"strict\": true, "
        "\"schema\": {\"type\": \"object\", \"properties\": {\"summary\": {\"type\": \"string\"}, "
        "\"key_moments\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": "
        "{\"time\": {\"type\": \"string\"}, \"text\": {\"type\": \"string\"}}, \"required\": "
        "[\"time\", \"text\"]}}}, \"required\": [\"summary\", \"key_moments\"]}}}",
        0, NULL);
}

/* Key moments of an answer: [{time (seconds), text}] with parseable times. */
static json_t *moments_of(json_t *answer)
{
    json_t *out = json_array(), *m;
    size_t i;
    json_array_foreach(json_object_get(answer, "key_moments"), i, m)
    {
        double t = parse_clock(json_object_get(m, "time"));
        const char *text = json_string_value(json_object_get(m, "text"));
        if (t >= 0 && text && *text && json_array_size(out) < MAX_KEY_MOMENTS)
            json_array_append_new(out, json_pack("{s:f, s:s}", "time", t, "text", text));
    }
    return out;
}

/* One chat request over it[0..n). *out: {text, key_moments}; 1 when the server says the
 * input does not fit its context. */
static int ask(run *r, const item *it, int n, int part, json_t **out, fw_error *err)
{
    const char *instruction = r->p->instruction ? r->p->instruction : DEFAULT_INSTRUCTION;
    char head[512];
    if (part)
        snprintf(head, sizeof head,
                 "The lines below summarise consecutive parts of one video, in time order, one "
                 "per line, each starting with the part's time span (mm:ss-mm:ss). Merge them "
                 "into one summary of the whole video.");
    else
        snprintf(head, sizeof head,
                 "The lines below are observations of keyframes %s, in time order, one per line, "
                 "each starting with its time in the video (mm:ss).",
                 r->whole ? "of the video" : "of one part of a longer video");
    size_t len = strlen(instruction) + strlen(head) + 256;
    char **lines = calloc((size_t)n, sizeof *lines);
    for (int i = 0; lines && i < n; i++)
        len += (lines[i] = line_of(&it[i], part)) ? strlen(lines[i]) + 1 : 0;
    char *user = lines ? malloc(len) : NULL;
    if (user) {
        size_t at = (size_t)snprintf(user, len, "%s\n\n%s\n\n", instruction, head);
        for (int i = 0; i < n; i++)
            at += (size_t)snprintf(user + at, len - at, "%s\n", lines[i] ? lines[i] : "");
        snprintf(user + at, len - at,
                 "\nAnswer with a JSON object: {\"summary\": string, \"key_moments\": "
                 "[{\"time\": \"mm:ss\", \"text\": string}]}.");
    }
    for (int i = 0; lines && i < n; i++)
        free(lines[i]);
    free(lines);
    if (!user)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    json_t *body = json_pack(
        "{s:[{s:s, s:s}, {s:s, s:s}], s:i, s:f}", "messages", "role", "system", "content",
        "You summarise videos from time-stamped observations of their keyframes. You only "
        "state what the observations support, and you keep their times.",
        "role", "user", "content", user, "max_tokens", r->p->max_tokens, "temperature", 0.2);
    free(user);
    if (r->p->model)
        json_object_set_new(body, "model", json_string(r->p->model));
    if (r->schema)
        json_object_set_new(body, "response_format", response_format());
    fw_http_params hp = {r->p->api_key, r->p->timeout_s,       r->p->retries,
                         r->p->cancel,  r->p->stall_timeout_s, r->p->max_retry_wait_s};
    fw_http_result res;
    json_t *root = NULL;
    int rc = fw_http_post_json(&hp, r->chat, body, &root, &res, err);
    json_decref(body);
    r->requests += res.attempts;
    if (rc && res.status == 400 && r->schema &&
        (strcasestr(res.message, "response_format") || strcasestr(res.message, "schema") ||
         strcasestr(res.message, "grammar"))) {
        r->schema = 0; /* a server without structured output: ask again, parse leniently */
        return ask(r, it, n, part, out, err);
    }
    if (rc && fw_http_too_big(&res))
        return 1;
    if (rc)
        return rc;
    const char *model = json_string_value(json_object_get(root, "model"));
    if (model && !r->model[0])
        snprintf(r->model, sizeof r->model, "%s", model);
    json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
    const char *content =
        json_string_value(json_object_get(json_object_get(choice, "message"), "content"));
    const char *finish = json_string_value(json_object_get(choice, "finish_reason"));
    json_t *obj = content ? fw_json_first_object(content) : NULL;
    const char *summary = json_string_value(json_object_get(obj, "summary"));
    if (!summary && (!content || !content[strspn(content, " \t\r\n")] ||
                     (finish && strcmp(finish, "length") == 0))) {
        json_decref(obj);
        json_decref(root);
        return fw_error_set(err, FW_ENET, "%s: %s", r->chat,
                            content && content[0] ? "the summary was cut at its token limit"
                                                  : "the model gave no summary");
    }
    *out = json_pack("{s:s, s:o}", "text",
                     summary   ? summary
                     : content ? content
                               : "",
                     "key_moments", moments_of(obj)); /* prose: the whole answer is the text */
    json_decref(obj);
    json_decref(root);
    r->windows++;
    return 0;
}

#define MAX_DEPTH 16 /* levels of windows and merges before the summary gives up */

/* Summarises it[0..n): in one request when it fits (or n <= 2); else in windows that fit,
 * whose summaries are merged the same way. A request the server finds too large is split
 * in halves. Every window is smaller than its input, and depth bounds the merges. */
static int summarise(run *r, const item *it, int n, int part, int depth, json_t **out,
                     fw_error *err)
{
    if (depth > MAX_DEPTH)
        return fw_error_set(err, FW_ENET,
                            "%s: the summaries of the parts do not fit the model's context "
                            "(raise the summary-window setting or the server's context)",
                            r->chat);
    int total = 0, halves = 0;
    for (int i = 0; i < n; i++)
        total += tokens_of(it[i].text) + 4;
    if (total <= r->p->window_tokens || n <= 2) {
        int rc = ask(r, it, n, part, out, err);
        if (rc != 1)
            return rc;
        if (n == 1) {
            char t[32];
            fw_clock_mmss(it[0].t0, t, sizeof t);
            return fw_error_set(err, FW_ENET,
                                "%s: the text at %s alone does not fit the model's context",
                                r->chat, t);
        }
        halves = 1; /* fit the estimate, not the server */
    }
    int *start = malloc(((size_t)n + 1) * sizeof *start), nw = 0, used = 0;
    if (!start)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    for (int i = 0; i < n && !halves; i++) {
        int t = tokens_of(it[i].text) + 4;
        if (i == 0 || used + t > r->p->window_tokens) {
            start[nw++] = i;
            used = 0;
        }
        used += t;
    }
    if (halves || nw == 1) {
        nw = 2;
        start[0] = 0, start[1] = n / 2;
    } else if (nw == n) { /* every item alone: pairs, so the next level is shorter */
        nw = 0;
        for (int i = 0; i < n; i += 2)
            start[nw++] = i;
    }
    start[nw] = n;
    r->whole = 0;
    item *parts = calloc((size_t)nw, sizeof *parts);
    json_t *answers = json_array();
    int rc = parts ? 0 : fw_error_set(err, FW_ENOMEM, "out of memory");
    for (int w = 0; w < nw && !rc; w++) {
        json_t *a = NULL;
        rc = summarise(r, it + start[w], start[w + 1] - start[w], part, depth + 1, &a, err);
        if (rc)
            break;
        json_array_append_new(answers, a);
        parts[w] = (item){it[start[w]].t0, it[start[w + 1] - 1].t1,
                          json_string_value(json_object_get(a, "text")),
                          json_object_get(a, "key_moments")};
    }
    if (!rc)
        rc = summarise(r, parts, nw, 1, depth + 1, out, err);
    if (!rc && !json_array_size(json_object_get(*out, "key_moments"))) {
        json_t *all = json_array(); /* the merge named none: the parts' */
        for (int w = 0; w < nw; w++) {
            size_t k;
            json_t *m;
            json_array_foreach(parts[w].moments, k, m) if (json_array_size(all) < MAX_KEY_MOMENTS)
                json_array_append(all, m);
        }
        json_object_set_new(*out, "key_moments", all);
    }
    json_decref(answers);
    free(parts);
    free(start);
    return rc;
}

/* ---- the LLM summary as the moments come ----
 * The observations are cut into windows as they arrive (the same greedy cut as a whole
 * list); a full window is summarised at once, so only the current window's texts and the
 * parts' summaries are held. At the end: one request when no window was cut, else the
 * last window, then the parts merged. */
struct fw_summarizer {
    fw_summary_params p;
    run r;
    item *win; /* the current window (texts malloc'd) */
    int n_win, cap_win, used;
    item *parts; /* the summarised windows (texts in answers) */
    json_t *answers;
    int n_parts, cap_parts;
    int rc; /* the first failure (then nothing more is sent) */
    fw_error err;
};

fw_summarizer *fw_summarizer_new(const fw_summary_params *p)
{
    fw_summarizer *z = calloc(1, sizeof *z);
    if (!z || !(z->answers = json_array())) {
        free(z);
        return NULL;
    }
    z->p = *p;
    z->r = (run){.p = &z->p, .schema = 1, .whole = 1};
    char base[1024];
    fw_http_api_base(p->url, base, sizeof base);
    snprintf(z->r.chat, sizeof z->r.chat, "%s/chat/completions", base);
    return z;
}

static void drop_window(fw_summarizer *z)
{
    for (int i = 0; i < z->n_win; i++)
        free((char *)z->win[i].text);
    z->n_win = 0;
    z->used = 0;
}

/* Summarises the current window into a part. */
static int close_window(fw_summarizer *z)
{
    if (!z->n_win)
        return 0;
    if (z->n_parts == z->cap_parts) {
        int cap = z->cap_parts ? z->cap_parts * 2 : 8;
        item *n = realloc(z->parts, (size_t)cap * sizeof *n);
        if (!n)
            return fw_error_set(&z->err, FW_ENOMEM, "out of memory");
        z->parts = n;
        z->cap_parts = cap;
    }
    z->r.whole = 0;
    json_t *a = NULL;
    int rc = summarise(&z->r, z->win, z->n_win, 0, 1, &a, &z->err);
    if (!rc) {
        json_array_append_new(z->answers, a);
        z->parts[z->n_parts++] = (item){z->win[0].t0, z->win[z->n_win - 1].t1,
                                        json_string_value(json_object_get(a, "text")),
                                        json_object_get(a, "key_moments")};
    }
    drop_window(z);
    return rc;
}

int fw_summarizer_push(fw_summarizer *z, double time_s, const char *text)
{
    if (z->rc || !text || !text[0])
        return z->rc;
    int t = tokens_of(text) + 4;
    if (z->n_win && z->used + t > z->p.window_tokens && (z->rc = close_window(z)))
        return z->rc;
    if (z->n_win == z->cap_win) {
        int cap = z->cap_win ? z->cap_win * 2 : 64;
        item *n = realloc(z->win, (size_t)cap * sizeof *n);
        if (!n)
            return z->rc = fw_error_set(&z->err, FW_ENOMEM, "out of memory");
        z->win = n;
        z->cap_win = cap;
    }
    char *copy = strdup(text);
    if (!copy)
        return z->rc = fw_error_set(&z->err, FW_ENOMEM, "out of memory");
    z->win[z->n_win++] = (item){time_s, time_s, copy, NULL};
    z->used += t;
    return 0;
}

int fw_summarizer_end(fw_summarizer *z, json_t **out, fw_error *err)
{
    *out = NULL;
    json_t *ans = NULL;
    int rc = z->rc;
    if (!rc && !z->n_parts && z->n_win) /* it all fit: one request, as for a short video */
        rc = summarise(&z->r, z->win, z->n_win, 0, 0, &ans, &z->err);
    else if (!rc && z->n_parts) {
        rc = close_window(z);
        if (!rc)
            rc = summarise(&z->r, z->parts, z->n_parts, 1, 1, &ans, &z->err);
        if (!rc && !json_array_size(json_object_get(ans, "key_moments"))) {
            json_t *all = json_array(); /* the merge named none: the parts' */
            for (int w = 0; w < z->n_parts; w++) {
                size_t k;
                json_t *m;
                json_array_foreach(z->parts[w].moments, k,
                                   m) if (json_array_size(all) < MAX_KEY_MOMENTS)
                    json_array_append(all, m);
            }
            json_object_set_new(ans, "key_moments", all);
        }
    }
    drop_window(z);
    if (rc) {
        *err = z->err;
        json_decref(ans);
        return rc;
    }
    *out = json_pack("{s:s, s:s, s:s, s:o, s:i, s:i}", "method", "llm", "model", z->r.model, "text",
                     ans ? json_string_value(json_object_get(ans, "text")) : "", "key_moments",
                     ans ? json_incref(json_object_get(ans, "key_moments")) : json_array(),
                     "windows", z->r.windows, "requests", z->r.requests);
    json_decref(ans);
    return 0;
}

void fw_summarizer_free(fw_summarizer *z)
{
    if (!z)
        return;
    drop_window(z);
    free(z->win);
    free(z->parts);
    json_decref(z->answers);
    free(z);
}

int fw_summary_llm(const fw_summary_params *p, const fw_moment *m, int n, json_t **out,
                   fw_error *err)
{
    *out = NULL;
    fw_summarizer *z = fw_summarizer_new(p);
    if (!z)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        if (m[i].usable)
            fw_summarizer_push(z, m[i].time_s, m[i].text);
    int rc = fw_summarizer_end(z, out, err);
    fw_summarizer_free(z);
    return rc;
}

/* ---- extractive ----
 * The most informative segments (confident, long enough, on screen a while) that are new
 * (far from what is already chosen: maximal marginal relevance), in time order. The
 * candidates are the 64 most informative segments, kept as the segments come. */

#define POOL 64

typedef struct cand {
    double start_s, value;
    char *text;
    float *vec;
} cand;

struct fw_extract {
    int dim, n_seg;
    cand pool[POOL]; /* in time order */
    int n;
};

fw_extract *fw_extract_new(int dim)
{
    fw_extract *x = calloc(1, sizeof *x);
    if (x)
        x->dim = dim > 0 ? dim : 1;
    return x;
}

void fw_extract_free(fw_extract *x)
{
    for (int i = 0; x && i < x->n; i++) {
        free(x->pool[i].text);
        free(x->pool[i].vec);
    }
    free(x);
}

/* How informative a segment is: confident, long enough, on screen a while. */
static double value_of(double start_s, double end_s, const char *text, double confidence)
{
    double len = (double)strlen(text);
    return (0.2 + confidence) * (0.5 + 0.5 * fmin(1, len / 80)) *
           (1 + 0.3 * log1p(end_s - start_s));
}

int fw_extract_push(fw_extract *x, double start_s, double end_s, const char *text,
                    double confidence, const float *vec)
{
    x->n_seg++;
    if (!text || !text[0])
        return 0;
    double v = value_of(start_s, end_s, text, confidence);
    int at = x->n;
    if (x->n == POOL) { /* the least informative goes (the later at equal values) */
        int low = 0;
        for (int i = 1; i < x->n; i++)
            if (x->pool[i].value <= x->pool[low].value)
                low = i;
        if (x->pool[low].value >= v)
            return 0;
        free(x->pool[low].text);
        free(x->pool[low].vec);
        memmove(&x->pool[low], &x->pool[low + 1], (size_t)(x->n - low - 1) * sizeof *x->pool);
        at = --x->n;
    }
    cand c = {start_s, v, strdup(text), malloc((size_t)x->dim * sizeof(float))};
    if (!c.text || !c.vec) {
        free(c.text);
        free(c.vec);
        return FW_ENOMEM;
    }
    memcpy(c.vec, vec, (size_t)x->dim * sizeof(float));
    x->pool[at] = c;
    x->n++;
    return 0;
}

/* Maximal marginal relevance over the candidates (time order) of n_seg segments. */
static json_t *choose(const cand *pool, int n, int n_seg, int dim)
{
    const struct {
        const cand *pool;
        int n, dim;
    } xs = {pool, n, dim}, *x = &xs;
    int want = (int)lround(1.5 * sqrt(n_seg));
    want = want < 3 ? 3 : want > 8 ? 8 : want;
    want = want > n_seg ? n_seg : want;
    char chosen[POOL + 1] = {0};
    for (int k = 0; k < want; k++) {
        int best = -1;
        double best_v = 0;
        for (int i = 0; i < x->n; i++) {
            if (chosen[i])
                continue;
            double near = 0;
            for (int j = 0; j < x->n; j++)
                if (chosen[j])
                    near = fmax(near, fw_cosine(x->pool[i].vec, x->pool[j].vec, x->dim));
            double v = x->pool[i].value * (1 - near);
            if (v > best_v) {
                best_v = v;
                best = i;
            }
        }
        if (best < 0)
            break;
        chosen[best] = 1;
    }
    size_t len = 1;
    for (int i = 0; i < x->n; i++)
        len += chosen[i] ? strlen(x->pool[i].text) + 16 : 0;
    char *text = malloc(len);
    size_t at = 0;
    json_t *moments = json_array();
    if (text)
        text[0] = '\0';
    for (int i = 0; text && i < x->n; i++) {
        if (!chosen[i])
            continue;
        char clock[32];
        fw_clock_mmss(x->pool[i].start_s, clock, sizeof clock);
        at += (size_t)snprintf(text + at, len - at, "%s%s %s", at ? "\n" : "", clock,
                               x->pool[i].text);
        json_array_append_new(
            moments, json_pack("{s:f, s:s}", "time", x->pool[i].start_s, "text", x->pool[i].text));
    }
    json_t *out = json_pack("{s:s, s:n, s:s, s:o}", "method", "extractive", "model", "text",
                            text ? text : "", "key_moments", moments);
    free(text);
    return out;
}

json_t *fw_extract_summary(const fw_extract *x)
{
    return choose(x->pool, x->n, x->n_seg, x->dim);
}

json_t *fw_extract_summary_with(const fw_extract *x, double start_s, double end_s, const char *text,
                                double confidence, const float *vec)
{
    cand pool[POOL + 1];
    memcpy(pool, x->pool, (size_t)x->n * sizeof *pool);
    int n = x->n;
    if (text && text[0]) {
        pool[n++] =
            (cand){start_s, value_of(start_s, end_s, text, confidence), (char *)text, (float *)vec};
    }
    return choose(pool, n, x->n_seg + 1, x->dim);
}

json_t *fw_summary_extractive(const fw_moment *m, const fw_segment *s, int n_seg, const float *emb,
                              int dim)
{
    fw_extract *x = fw_extract_new(dim);
    for (int i = 0; x && i < n_seg; i++)
        fw_extract_push(x, s[i].start_s, s[i].end_s, m[s[i].rep].text, s[i].confidence,
                        emb + (size_t)s[i].rep * dim);
    json_t *out = x ? fw_extract_summary(x) : NULL;
    fw_extract_free(x);
    return out;
}
