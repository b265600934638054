#include "analyze/openai_msg.h"

#include <ctype.h>
#include <jansson.h>
#include <libavutil/base64.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/http.h"

static const char default_system[] =
    "You are the eyes of a video-understanding system. You see keyframes taken from one "
    "video and report only what is visible in them. Answer with one JSON object and nothing "
    "else.";

static const char default_question[] = "Describe this frame from a video.";
static const char default_window_question[] = "Describe these frames from a video.";

static const char fields_help[] = /* short: it is sent with every frame */
    "\"description\": what it shows, in one or two sentences; \"actions\": what is being done "
    "(\"\" if nothing); \"text\": legible on-screen text, verbatim (\"\" if none); "
    "\"objects\": main things seen, short names; \"uncertain\": true if you cannot tell";

void fw_oa_clock(double t, char *buf, size_t n)
{
    if (t < 0)
        t = 0;
    long ds = lround(t * 10);
    long h = ds / 36000, m = ds / 600 % 60, s = ds / 10 % 60;
    if (h)
        snprintf(buf, n, "%ld:%02ld:%02ld.%ld", h, m, s, ds % 10);
    else
        snprintf(buf, n, "%02ld:%02ld.%ld", m, s, ds % 10);
}

static json_t *frame_schema(int with_number)
{
    json_t *props =
        json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s, s:{s:s}}, s:{s:s}}", "description", "type",
                  "string", "actions", "type", "string", "text", "type", "string", "objects",
                  "type", "array", "items", "type", "string", "uncertain", "type", "boolean");
    json_t *req =
        json_pack("[s, s, s, s, s]", "description", "actions", "text", "objects", "uncertain");
    if (with_number) {
        json_object_set_new(props, "frame", json_pack("{s:s}", "type", "integer"));
        json_array_insert_new(req, 0, json_string("frame"));
    }
    return json_pack("{s:s, s:o, s:o, s:b}", "type", "object", "properties", props, "required", req,
                     "additionalProperties", 0);
}

static json_t *response_format(int window)
{
    json_t *schema = window ? json_pack("{s:s, s:{s:{s:s, s:o}, s:{s:s}}, s:[s, s], s:b}", "type",
                                        "object", "properties", "frames", "type", "array", "items",
                                        frame_schema(1), "changes", "type", "string", "required",
                                        "frames", "changes", "additionalProperties", 0)
                            : frame_schema(0);
    return json_pack("{s:s, s:{s:s, s:b, s:o}}", "type", "json_schema", "json_schema", "name",
                     window ? "frame_window" : "frame_observation", "strict", 1, "schema", schema);
}

static json_t *image_part(const uint8_t *jpeg, size_t size)
{
    static const char prefix[] = "data:image/jpeg;base64,";
    size_t b64 = AV_BASE64_SIZE(size);
    char *url = malloc(sizeof prefix - 1 + b64);
    if (!url)
        return NULL;
    memcpy(url, prefix, sizeof prefix - 1);
    if (!av_base64_encode(url + sizeof prefix - 1, (int)b64, jpeg, (int)size)) {
        free(url);
        return NULL;
    }
    json_t *s = json_string_nocheck(url); /* base64 is ASCII: no UTF-8 scan needed */
    free(url);
    return json_pack("{s:s, s:{s:o}}", "type", "image_url", "image_url", "url", s);
}

static json_t *text_part(const char *text)
{
    return json_pack("{s:s, s:s}", "type", "text", "text", text);
}

/* Where a region is, in words a model follows ("left 62%, top 80%, 30% x 5%"). */
static void region_text(const fw_crop *c, int i, char *buf, size_t n)
{
    snprintf(buf, n, "%sregion %d at left %d%%, top %d%%, %d%% wide, %d%% high", i ? "; " : "",
             i + 1, (int)(c->at.x * 100 + 0.5), (int)(c->at.y * 100 + 0.5),
             (int)(c->at.w * 100 + 0.5), (int)(c->at.h * 100 + 0.5));
}

/* A keyframe sent as its changed regions: the earlier keyframe's description, where the
 * regions are, and the question about the whole frame. */
static void crop_intro(const fw_params *p, const fw_task *t, char *intro, size_t size)
{
    char where[512] = "";
    for (int i = 0; i < t->n_crops; i++) {
        size_t l = strlen(where);
        region_text(&t->crops[i], i, where + l, sizeof where - l);
    }
    int many = t->n_crops > 1;
    snprintf(intro, size,
             "Only some regions of this video frame changed since an earlier frame, which "
             "showed: \"%s\"\nThe image%s: the changed region%s at full resolution (%s).\n%s%s"
             "Describe the whole frame now, quoting changed text exactly.\n\nAnswer with one "
             "JSON object: {%s}.\n",
             t->context ? t->context : "", many ? "s" : "", many ? "s" : "", where,
             p->prompt ? p->prompt : "", p->prompt ? " " : "", fields_help);
}

/* The question before the images. */
static void intro_text(const fw_params *p, const fw_task *tasks, int n, char *intro, size_t size)
{
    if (n == 1 && tasks && tasks[0].n_crops > 0)
        crop_intro(p, &tasks[0], intro, size);
    else if (n == 1)
        snprintf(intro, size, "%s\n\nAnswer with one JSON object: {%s}.\n",
                 p->prompt ? p->prompt : default_question, fields_help);
    else
        snprintf(intro, size,
                 "These are %d frames from one video, in time order, each labelled with its "
                 "time. %s Describe each frame and what changes from one to the next.\n\n"
                 "Answer with one JSON object: {\"frames\": one entry per frame, in order, "
                 "{\"frame\": its number, %s}; \"changes\": what changes across the frames}.\n",
                 n, p->prompt ? p->prompt : default_window_question, fields_help);
}

int fw_oa_text_tokens(const fw_params *p, const fw_task *tasks, int n)
{
    char intro[8192];
    intro_text(p, tasks, n, intro, sizeof intro);
    const char *texts[] = {intro, p->system_prompt ? p->system_prompt : default_system};
    size_t ascii = n > 1 ? (size_t)n * 40 : 0, other = 0; /* "Frame 2 at 00:12.4 <12.4 s..." */
    for (int i = 0; i < 2; i++)
        for (const unsigned char *c = (const unsigned char *)texts[i]; *c; c++)
            *c < 0x80 ? ascii++ : other++;
    int images = n;
    for (int i = 0; n == 1 && tasks && i < tasks[0].n_crops; i++)
        images += i > 0;
    /* about 4 bytes a token in English, 3 in CJK; the template's tokens a message, an image */
    return (int)((ascii + 3) / 4 + (other + 2) / 3) + 2 * 8 + images * 4;
}

static json_t *user_content(const fw_params *p, const fw_task *tasks, int n)
{
    char intro[8192];
    intro_text(p, tasks, n, intro, sizeof intro);
    json_t *content = json_array();
    json_array_append_new(content, text_part(intro));
    for (int i = 0; i < n; i++) {
        if (n > 1) {
            /* the server puts nothing between a text part and the image after it */
            char label[96], clock[32];
            fw_oa_clock(tasks[i].time_s, clock, sizeof clock);
            snprintf(label, sizeof label, "%sFrame %d at %s <%.1f seconds>:\n", i ? "\n" : "",
                     i + 1, clock, lround(tasks[i].time_s * 10) / 10.0); /* as the clock */
            json_array_append_new(content, text_part(label));
        }
        int crops = tasks[i].n_crops;
        for (int c = 0; c < (crops ? crops : 1); c++) {
            const fw_pic *pic = crops ? &tasks[i].crops[c].pic : NULL;
            json_t *img =
                pic ? image_part(pic->jpeg, pic->size) : image_part(tasks[i].jpeg, tasks[i].size);
            if (!img) {
                json_decref(content);
                return NULL;
            }
            json_array_append_new(content, img);
        }
    }
    return content;
}

char *fw_oa_request(const fw_params *p, const char *model, const fw_task *tasks, int n, int schema)
{
    json_t *content = user_content(p, tasks, n);
    if (!content)
        return NULL;
    json_t *root = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:o}], s:i, s:f, s:f, s:b}", "model",
                             model ? model : "", "messages", "role", "system", "content",
                             p->system_prompt ? p->system_prompt : default_system, "role", "user",
                             "content", content, "max_tokens", p->max_tokens, "temperature",
                             p->temperature, "top_p", 0.8, "stream", 0);
    if (!root)
        return NULL;
    if (schema)
        json_object_set_new(root, "response_format", response_format(n > 1));
    if (p->logprobs) {
        json_object_set_new(root, "logprobs", json_true());
        json_object_set_new(root, "top_logprobs", json_integer(1));
    }
    char *body = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(root);
    return body;
}

/* ---- answers ---- */

static const char *const hedges[] = {"cannot tell",
                                     "can't tell",
                                     "can not tell",
                                     "cannot determine",
                                     "can't determine",
                                     "unable to determine",
                                     "unable to tell",
                                     "unable to see",
                                     "cannot see",
                                     "can't see",
                                     "cannot be determined",
                                     "hard to tell",
                                     "difficult to tell",
                                     "not clear",
                                     "unclear",
                                     "not sure",
                                     "impossible to tell",
                                     "too blurry",
                                     "illegible",
                                     "too small to read",
                                     "cannot read",
                                     "can't read",
                                     "unreadable",
                                     "not legible",
                                     "无法判断",
                                     "图像内容不清",
                                     "看不清",
                                     "不清楚",
                                     "无法确定",
                                     "无法辨认",
                                     "难以辨认",
                                     "不确定",
                                     "模糊不清",
                                     NULL};

int fw_oa_hedged(const char *text)
{
    if (!text)
        return 0;
    size_t n = strlen(text);
    char *low = malloc(n + 1);
    if (!low)
        return 0;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)text[i]); /* ASCII only; CJK bytes unchanged */
    int hit = 0;
    for (int i = 0; hedges[i] && !hit; i++)
        hit = strstr(low, hedges[i]) != NULL;
    free(low);
    return hit;
}

static const char *str_of(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* One frame's answer from its JSON object (NULL: unstructured raw text). */
static void fill(fw_answer *a, json_t *obj, const char *raw, const fw_task *t, double base)
{
    double c = base;
    if (obj) {
        json_t *copy = json_deep_copy(obj);
        json_object_del(copy, "frame");
        a->fields = json_dumps(copy, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(copy);
        const char *d = str_of(obj, "description");
        a->text = strdup(*d ? d : *str_of(obj, "actions") ? str_of(obj, "actions") : raw);
        if (json_is_true(json_object_get(obj, "uncertain"))) {
            a->flags |= FW_OBS_UNCERTAIN;
            c *= 0.5;
        }
        if (fw_oa_hedged(d) || fw_oa_hedged(str_of(obj, "actions"))) {
            a->flags |= FW_OBS_HEDGED;
            c *= 0.6;
        }
    } else {
        a->text = strdup(raw);
        a->fields = strdup("{}");
        a->flags |= FW_OBS_UNSTRUCTURED;
        if (fw_oa_hedged(raw)) {
            a->flags |= FW_OBS_HEDGED;
            c *= 0.6;
        }
    }
    fw_answer_confidence(a, t, c);
}

/* exp(mean logprob) of the answer's tokens, or 1 when the server sent none. */
static double logprob_confidence(json_t *choice)
{
    json_t *content = json_object_get(json_object_get(choice, "logprobs"), "content");
    size_t n = json_array_size(content), used = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *lp = json_object_get(json_array_get(content, i), "logprob");
        if (json_is_number(lp)) {
            sum += json_number_value(lp);
            used++;
        }
    }
    return used ? exp(sum / (double)used) : 1.0;
}

static void split_window(json_t *obj, const char *raw, const fw_task *tasks, int n, fw_answer *out,
                         double base)
{
    json_t *frames = json_object_get(obj, "frames");
    json_t *by_frame[16] = {0};
    size_t i;
    json_t *e;
    json_array_foreach(frames, i, e)
    {
        if (!json_is_object(e))
            continue;
        json_t *num = json_object_get(e, "frame");
        int f = json_is_integer(num) ? (int)json_integer_value(num) - 1 : (int)i;
        if (f >= 0 && f < n && f < 16 && !by_frame[f])
            by_frame[f] = e;
    }
    const char *changes = str_of(obj, "changes");
    for (int f = 0; f < n; f++) {
        if (by_frame[f]) {
            fill(&out[f], by_frame[f], raw, &tasks[f], base);
        } else if (obj && !json_is_array(frames)) {
            fill(&out[f], obj, raw, &tasks[f], base); /* one object for all: shared */
            out[f].flags |= FW_OBS_WINDOW;
        } else {
            fill(&out[f], NULL, *changes ? changes : raw, &tasks[f], base);
            out[f].flags |= FW_OBS_WINDOW;
            if (obj)
                out[f].flags &= ~(unsigned)FW_OBS_UNSTRUCTURED;
        }
    }
}

int fw_oa_parse(const char *body, size_t len, const fw_task *tasks, int n, fw_answer *out,
                int *prompt_tokens, int *completion_tokens, char *why, size_t why_n)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
    json_t *msg = json_object_get(choice, "message");
    const char *content = json_string_value(json_object_get(msg, "content"));
    if (!root || !msg) {
        snprintf(why, why_n, "%s", !root ? "the answer is not JSON" : "no choices[0].message");
        json_decref(root);
        return -1;
    }
    if (!content || !content[strspn(content, " \t\r\n")]) { /* null, missing or blank */
        json_t *c = json_object_get(msg, "content");
        snprintf(why, why_n, "the answer has no content (message.content is %s)",
                 !c                  ? "missing"
                 : json_is_null(c)   ? "null"
                 : json_is_string(c) ? "empty"
                                     : "not text");
        json_decref(root);
        return -1;
    }
    json_t *usage = json_object_get(root, "usage");
    *prompt_tokens = (int)json_integer_value(json_object_get(usage, "prompt_tokens"));
    *completion_tokens = (int)json_integer_value(json_object_get(usage, "completion_tokens"));
    double base = logprob_confidence(choice);
    int truncated = strcmp(str_of(choice, "finish_reason"), "length") == 0;
    json_t *obj = fw_json_first_object(content);
    if (n == 1)
        fill(&out[0], obj, content, &tasks[0], base);
    else
        split_window(obj, content, tasks, n, out, base);
    for (int f = 0; f < n; f++) {
        out[f].prompt_tokens = *prompt_tokens / n + (f == 0 ? *prompt_tokens % n : 0);
        out[f].completion_tokens = *completion_tokens / n + (f == 0 ? *completion_tokens % n : 0);
        if (truncated)
            out[f].flags |= FW_OBS_TRUNCATED;
    }
    json_decref(obj);
    json_decref(root);
    return 0;
}
