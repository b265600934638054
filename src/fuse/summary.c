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

int fw_summary_llm(const fw_summary_params *p, const fw_moment *m, int n, json_t **out,
                   fw_error *err)
{
    *out = NULL;
    run r = {.p = p, .schema = 1, .whole = 1};
    char base[1024];
    fw_http_api_base(p->url, base, sizeof base);
    snprintf(r.chat, sizeof r.chat, "%s/chat/completions", base);
    item *it = calloc(n ? (size_t)n : 1, sizeof *it);
    if (!it)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    int k = 0;
    for (int i = 0; i < n; i++)
        if (m[i].usable && m[i].text[0])
            it[k++] = (item){m[i].time_s, m[i].time_s, m[i].text, NULL};
    json_t *ans = NULL;
    int rc = k ? summarise(&r, it, k, 0, 0, &ans, err) : 0;
    free(it);
    if (rc)
        return rc;
    *out = json_pack("{s:s, s:s, s:s, s:o, s:i, s:i}", "method", "llm", "model", r.model, "text",
                     ans ? json_string_value(json_object_get(ans, "text")) : "", "key_moments",
                     ans ? json_incref(json_object_get(ans, "key_moments")) : json_array(),
                     "windows", r.windows, "requests", r.requests);
    json_decref(ans);
    return 0;
}

/* ---- extractive ---- */

json_t *fw_summary_extractive(const fw_moment *m, const fw_segment *s, int n_seg, const float *emb,
                              int dim)
{
    int want = (int)lround(1.5 * sqrt(n_seg));
    want = want < 3 ? 3 : want > 8 ? 8 : want;
    want = want > n_seg ? n_seg : want;
    char *chosen = calloc(n_seg ? (size_t)n_seg : 1, 1);
    json_t *moments = json_array();
    /* greedy: informative (confident, long enough, on screen a while) and new (far from
     * what is already chosen: maximal marginal relevance) */
    for (int k = 0; chosen && k < want; k++) {
        int best = -1;
        double best_v = 0;
        for (int i = 0; i < n_seg; i++) {
            const fw_moment *r = &m[s[i].rep];
            if (chosen[i] || !r->text[0])
                continue;
            double len = (double)strlen(r->text);
            double v = (0.2 + s[i].confidence) * (0.5 + 0.5 * fmin(1, len / 80)) *
                       (1 + 0.3 * log1p(s[i].end_s - s[i].start_s));
            double near = 0;
            for (int j = 0; j < n_seg; j++)
                if (chosen[j])
                    near = fmax(near, fw_cosine(emb + (size_t)s[i].rep * dim,
                                                emb + (size_t)s[j].rep * dim, dim));
            v *= 1 - near;
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
    for (int i = 0; chosen && i < n_seg; i++)
        if (chosen[i])
            len += strlen(m[s[i].rep].text) + 16;
    char *text = malloc(len);
    size_t at = 0;
    if (text)
        text[0] = '\0';
    for (int i = 0; chosen && text && i < n_seg; i++) {
        if (!chosen[i])
            continue;
        const char *t = m[s[i].rep].text;
        char clock[32];
        fw_clock_mmss(s[i].start_s, clock, sizeof clock);
        at += (size_t)snprintf(text + at, len - at, "%s%s %s", at ? "\n" : "", clock, t);
        json_array_append_new(moments, json_pack("{s:f, s:s}", "time", s[i].start_s, "text", t));
    }
    json_t *out = json_pack("{s:s, s:n, s:s, s:o}", "method", "extractive", "model", "text",
                            text ? text : "", "key_moments", moments);
    free(text);
    free(chosen);
    return out;
}
