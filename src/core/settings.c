#include "core/settings.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/http.h"

#define F(field) offsetof(fw_params, field)

const fw_setting fw_settings[] = {
    {"policy", FW_SET_POLICY, F(policy), FW_POLICY_AUTO, 0, 4, "P",
     "keyframe policy: auto, interval, motion, scene, iframe", 0},
    {"fps", FW_SET_DOUBLE, F(fps), 1.0, 0.001, 1000, "F",
     "interval/motion: frames sampled per second", 0},
    {"motion-threshold", FW_SET_DOUBLE, F(motion_threshold), 30.0, 0, 255, "T",
     "motion/auto: mean abs luma difference vs last kept frame that keeps a frame (0..255)", 0},
    {"area-threshold", FW_SET_DOUBLE, F(area_threshold), 0.01, 0, 1, "A",
     "auto: fraction of the picture changed vs last kept frame, and still, that keeps a frame", 0},
    {"max-gap", FW_SET_DOUBLE, F(max_gap_s), 10.0, 0, 1e9, "S",
     "auto: keep at least one frame every S seconds (0: off)", 0},
    {"min-gap", FW_SET_DOUBLE, F(min_gap_s), 0.5, 0, 1e9, "S",
     "auto: at least S seconds between kept frames, except after cuts", 0},
    {"min-scene", FW_SET_DOUBLE, F(min_scene_s), 0.5, 0, 1e9, "S",
     "scene/auto: minimum scene length in seconds", 0},
    {"cut-threshold", FW_SET_DOUBLE, F(cut_threshold), 0.25, 0.01, 1, "C",
     "cut score (mean of colour-histogram distance and luma change/80) that makes a cut", 0},
    {"settle", FW_SET_DOUBLE, F(settle_s), 0.25, 0, 10, "S",
     "auto: a change must stay still S seconds to be a new state (cuts/motion wait at most S)", 0},
    {"dup-bits", FW_SET_INT, F(dup_bits), 4, 0, 64, "B",
     "auto: perceptual-hash distance (bits) that counts as a near-duplicate (0: off)", 0},
    {"budget", FW_SET_INT, F(budget), 0, 0, 1000000, "N",
     "keep at most N keyframes in the whole video, least informative dropped (0: no limit)", 0},
    {"max-rate", FW_SET_DOUBLE, F(max_rate), 15, 0, 1e6, "N",
     "auto: at most N keyframes a minute of moving pictures: mid-motion frames are dropped, "
     "least informative first (states that held are always kept; 0: no bound)",
     0},
    {"threads", FW_SET_INT, F(threads), 0, 0, 64, "N", "decoder threads (0: one per core)", 0},
    {"read-timeout", FW_SET_DOUBLE, F(read_timeout_s), 30, 0, 86400, "S",
     "an input (pipe, FIFO, network stream) that gives no data for S seconds fails (0: wait for "
     "ever)",
     0},
    {"jpeg-quality", FW_SET_INT, F(jpeg_quality), 90, 1, 100, "Q",
     "JPEG quality of written keyframes (1..100)", 0},
    {"max-pixels", FW_SET_INT, F(max_pixels), 0, 0, 1e8, "P",
     "scale keyframe images to at most P pixels, sides multiples of 32 (0: full size)", 0},
    {"max-image-tokens", FW_SET_TOKENS, F(max_pixels), 0, 0, 1e8 / 1024, "T",
     "the same as --max-pixels T*1024: at most T Qwen-VL image tokens per keyframe",
     FW_SETTING_ALIAS},
    {"backend", FW_SET_STRING, F(backend), 0, 0, 0, "B",
     "local (Tesseract OCR + descriptors), openai, or openai+local (default: openai with "
     "--url, else local)",
     0},
    {"ocr-lang", FW_SET_STRING, F(ocr_lang), 0, 0, 0, "L",
     "local: Tesseract languages (default eng+chi_sim)", 0},
    {"ocr-threads", FW_SET_INT, F(ocr_threads), 0, 0, 64, "N",
     "local: OCR workers, one engine each (0: one per core)", 0},
    {"url", FW_SET_STRING, F(url), 0, 0, 0, "URL",
     "OpenAI-compatible server (e.g. http://localhost:8080/v1; env FRAMEWISE_VLM_URL); several: "
     "repeat --url or separate with commas, requests go to the least busy",
     FW_SETTING_LIST},
    {"model", FW_SET_STRING, F(model), 0, 0, 0, "NAME", "model name (default: the server's first)",
     0},
    {"api-key", FW_SET_STRING, F(api_key), 0, 0, 0, "KEY",
     "bearer token (env FRAMEWISE_API_KEY, else OPENAI_API_KEY)", FW_SETTING_SECRET},
    {"prompt", FW_SET_STRING, F(prompt), 0, 0, 0, "TEXT", "the question asked about each frame", 0},
    {"system-prompt", FW_SET_STRING, F(system_prompt), 0, 0, 0, "TEXT",
     "the system message (first, so servers can cache it)", 0},
    {"concurrency", FW_SET_INT, F(concurrency), 0, 0, 256, "N",
     "requests in flight per server (0: its slots from /props, else 4)", 0},
    {"window", FW_SET_INT, F(window), 1, 1, 16, "K",
     "K consecutive keyframes per request, labelled with their times", 0},
    {"whole-frames", FW_SET_INT, F(whole_frames), 0, 0, 1, "0|1",
     "1: every keyframe whole at the image budget (0: a local change as its regions, a first "
     "ask at --first-image-tokens, an unchanged frame not at all)",
     0},
    {"first-image-tokens", FW_SET_INT, F(first_image_tokens), 160, 0, 16384, "T",
     "first ask of a whole keyframe at T image tokens, again at the budget if the answer "
     "hedges (0: off)",
     0},
    {"refresh", FW_SET_INT, F(refresh), 8, 1, 1000000, "N",
     "at least every N-th keyframe goes to the model whole", 0},
    {"retries", FW_SET_INT, F(retries), 4, 0, 20, "N",
     "retries on 429, 5xx, timeouts and network errors (backoff with jitter, Retry-After)", 0},
    {"timeout", FW_SET_DOUBLE, F(timeout_s), 120, 0.1, 3600, "S", "timeout of one request", 0},
    {"stall-timeout", FW_SET_DOUBLE, F(stall_timeout_s), 15, 0, 3600, "S",
     "an answer that has begun and then gives less than 1 KB in S seconds is retried (0: off)", 0},
    {"max-retry-wait", FW_SET_DOUBLE, F(max_retry_wait_s), 60, 0.1, 3600, "S",
     "wait at most S seconds for a retry (a server's Retry-After included); a retry past the "
     "frame's deadline, (retries + 1) timeouts after its first send, is not made",
     0},
    {"max-tokens", FW_SET_INT, F(max_tokens), 512, 16, 65536, "N", "answer length limit", 0},
    {"temperature", FW_SET_DOUBLE, F(temperature), 0.2, 0, 2, "T", "sampling temperature", 0},
    {"logprobs", FW_SET_INT, F(logprobs), 1, 0, 1, "0|1",
     "ask for token logprobs (confidence); 0 for servers that reject them", 0},
    {"min-confidence", FW_SET_DOUBLE, F(min_confidence), 0.3, 0, 1, "C",
     "observations less confident are kept but left out of segments, events and summary", 0},
    {"segment-threshold", FW_SET_DOUBLE, F(segment_threshold), 0.7, 0, 1, "S",
     "text similarity (cosine) that keeps adjacent observations in one segment (model "
     "embeddings score higher than the built-in n-grams: try 0.85)",
     0},
    {"embed-url", FW_SET_STRING, F(embed_url), 0, 0, 0, "URL",
     "/v1/embeddings server for text similarity (default: built-in character n-grams)", 0},
    {"embed-model", FW_SET_STRING, F(embed_model), 0, 0, 0, "NAME",
     "embeddings model (default: the server's first)", 0},
    {"events", FW_SET_STRING, F(events), 0, 0, 0, "F",
     "events file: [{\"name\", \"phrases\": [..] | \"steps\": [..], \"threshold\"}] (see docs)", 0},
    {"lexicon", FW_SET_STRING, F(lexicon), 0, 0, 0, "F",
     "safety lexicon files (comma-separated), added to the preset's", 0},
    {"summary", FW_SET_STRING, F(summary), 0, 0, 0, "M",
     "auto (llm with a server, else extractive), llm, extractive or none", 0},
    {"llm-url", FW_SET_STRING, F(llm_url), 0, 0, 0, "URL",
     "chat server for the summary (default: --url, the VLM's)", 0},
    {"llm-model", FW_SET_STRING, F(llm_model), 0, 0, 0, "NAME",
     "summary model (default: --model, or the --llm-url server's first)", 0},
    {"summary-prompt", FW_SET_STRING, F(summary_prompt), 0, 0, 0, "TEXT",
     "what the summary is for (default: the preset's)", 0},
    {"summary-window", FW_SET_INT, F(summary_window), 3000, 200, 1000000, "T",
     "tokens of observations per summary request; longer videos are map-reduced", 0},
    {"fusion-window", FW_SET_DOUBLE, F(fusion_window_s), 300, 0, 86400, "S",
     "fusion runs on S seconds of observations at a time: memory bounded on long videos and "
     "streams (0: the whole video at the end)",
     0},
    {"live", FW_SET_STRING, F(live), 0, 0, 0, "M",
     "auto (live for pipes and network streams), on or off: segments as they close, the report "
     "rewritten every --flush, a stop ends it with its report (exit 0)",
     0},
    {"flush", FW_SET_DOUBLE, F(flush_s), 30, 0, 86400, "S",
     "live: rewrite the report files every S seconds (0: only at the end)", 0},
    {"reconnect", FW_SET_INT, F(reconnect), 0, 0, 1, "0|1",
     "live: reopen a dropped or stalled network stream with backoff; the gap is in the report", 0},
    {"clock", FW_SET_STRING, F(clock), 0, 0, 0, "C",
     "media (times in the video) or wall (also the wall-clock time of every record, ISO 8601)", 0},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, 0},
};

static const char *const policy_names[] = {"auto", "interval", "motion", "scene", "iframe"};

const char *fw_policy_name(fw_policy p)
{
    return (unsigned)p < 5 ? policy_names[p] : "unknown";
}

int fw_policy_parse(const char *name, fw_policy *out)
{
    for (int i = 0; name && i < 5; i++)
        if (strcmp(name, policy_names[i]) == 0) {
            *out = (fw_policy)i;
            return 0;
        }
    return FW_EINVAL;
}

const fw_setting *fw_setting_find(const char *name)
{
    for (const fw_setting *s = fw_settings; name && s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

const char *fw_params_name(int i)
{
    static const int n = sizeof fw_settings / sizeof fw_settings[0] - 1;
    return i >= 0 && i < n ? fw_settings[i].name : NULL;
}

int fw_setting_is_flag(const fw_setting *s)
{
    return s->type == FW_SET_INT && s->min == 0 && s->max == 1;
}

fw_params fw_params_default(void)
{
    fw_params p;
    memset(&p, 0, sizeof p);
    for (const fw_setting *s = fw_settings; s->name; s++) {
        char *field = (char *)&p + s->offset;
        if (s->type == FW_SET_DOUBLE)
            *(double *)field = s->def;
        else if (s->type == FW_SET_INT)
            *(int *)field = (int)s->def;
        else if (s->type == FW_SET_POLICY)
            *(fw_policy *)field = (fw_policy)s->def;
        /* strings stay NULL; aliases write their target's field, already set */
    }
    return p;
}

/* ---- the one validator: every message names the setting, never a flag ---------- */

static int check_range(const fw_setting *s, double v, fw_error *err)
{
    if (!isfinite(v))
        return fw_error_set(err, FW_EINVAL, "%s: must be a finite number", s->name);
    if (v < s->min)
        return fw_error_set(err, FW_EINVAL, "%s: must be >= %g, not %g", s->name, s->min, v);
    if (v > s->max)
        return fw_error_set(err, FW_EINVAL, "%s: must be <= %g, not %g", s->name, s->max, v);
    return 0;
}

static int check_url(const char *name, const char *url, fw_error *err)
{
    if (url && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return fw_error_set(err, FW_EINVAL, "%s: '%s' is not an http:// or https:// URL", name,
                            url);
    return 0;
}

/* A comma-separated list of at most FW_HTTP_MAX_URLS URLs, each checked. */
static int check_url_list(const char *name, const char *list, fw_error *err)
{
    int n = fw_http_url_count(list);
    if (n > FW_HTTP_MAX_URLS)
        return fw_error_set(err, FW_EINVAL, "%s: %d servers listed, at most %d", name, n,
                            FW_HTTP_MAX_URLS);
    for (int i = 0; i < n; i++) {
        char url[2048];
        fw_http_url_at(list, i, url, sizeof url);
        if (!url[0])
            return fw_error_set(err, FW_EINVAL, "%s: '%s' has an empty URL in its list", name,
                                list);
        if (check_url(name, url, err))
            return FW_EINVAL;
    }
    return 0;
}

/* value (when set) must be one of names (NULL-terminated); the error lists them. */
static int check_name(const char *setting, const char *value, const char *const *names,
                      const char *listed, fw_error *err)
{
    for (int i = 0; value && names[i]; i++)
        if (strcmp(value, names[i]) == 0)
            return 0;
    if (value)
        return fw_error_set(err, FW_EINVAL, "%s: unknown %s '%s' (%s)", setting,
                            strcmp(setting, "summary") == 0 ? "method" : setting, value, listed);
    return 0;
}

static int check_summary(const char *m, fw_error *err)
{
    static const char *const names[] = {"auto", "llm", "extractive", "none", NULL};
    return check_name("summary", m, names, "auto, llm, extractive, none", err);
}

static int check_backend(const char *b, fw_error *err)
{
    static const char *const names[] = {"local", "openai", "openai+local", "local+openai", NULL};
    return check_name("backend", b, names, "local, openai, openai+local", err);
}

/* The checks of a string setting beyond its type. */
static int check_string(const fw_setting *s, const char *text, fw_error *err)
{
    if (strstr(s->name, "url"))
        return s->flags & FW_SETTING_LIST ? check_url_list(s->name, text, err)
                                          : check_url(s->name, text, err);
    if (strcmp(s->name, "backend") == 0)
        return check_backend(text, err);
    if (strcmp(s->name, "summary") == 0)
        return check_summary(text, err);
    static const char *const live[] = {"auto", "on", "off", NULL};
    static const char *const clock[] = {"media", "wall", NULL};
    if (strcmp(s->name, "live") == 0)
        return check_name("live", text, live, "auto, on, off", err);
    if (strcmp(s->name, "clock") == 0)
        return check_name("clock", text, clock, "media, wall", err);
    return 0;
}

static double number_of(const fw_setting *s, const fw_params *p)
{
    const char *field = (const char *)p + s->offset;
    return s->type == FW_SET_DOUBLE   ? *(const double *)field
           : s->type == FW_SET_INT    ? *(const int *)field
           : s->type == FW_SET_TOKENS ? *(const int *)field / 1024.0
                                      : (double)*(const fw_policy *)field;
}

int fw_params_validate(const fw_params *p, fw_error *err)
{
    for (const fw_setting *s = fw_settings; s->name; s++) {
        if (s->flags & FW_SETTING_ALIAS)
            continue; /* its field is checked under its own name */
        const char *field = (const char *)p + s->offset;
        if (s->type == FW_SET_STRING ? check_string(s, *(const char *const *)field, err)
                                     : check_range(s, number_of(s, p), err))
            return FW_EINVAL;
    }
    return 0;
}

/* ---- setting one value ------------------------------------------------------- */

int fw_setting_set_number(const fw_setting *s, fw_params *p, double v, fw_error *err)
{
    v = v == 0 ? 0.0 : v; /* -0 is 0: it reads back the same */
    if (s->type == FW_SET_STRING || s->type == FW_SET_POLICY)
        return fw_error_set(err, FW_EINVAL, "%s: must be %s, not a number", s->name,
                            s->type == FW_SET_POLICY ? "a policy name" : "a string");
    if (check_range(s, v, err))
        return FW_EINVAL;
    if ((s->type == FW_SET_INT || s->type == FW_SET_TOKENS) && v != floor(v))
        return fw_error_set(err, FW_EINVAL, "%s: must be a whole number, not %g", s->name, v);
    char *field = (char *)p + s->offset;
    if (s->type == FW_SET_DOUBLE)
        *(double *)field = v;
    else if (s->type == FW_SET_TOKENS)
        *(int *)field = (int)v * 1024;
    else
        *(int *)field = (int)v;
    return 0;
}

int fw_setting_parse(const fw_setting *s, fw_params *p, const char *text, fw_error *err)
{
    char *field = (char *)p + s->offset;
    if (s->type == FW_SET_STRING) {
        if (check_string(s, text, err))
            return FW_EINVAL;
        *(const char **)field = text;
        return 0;
    }
    if (!text)
        return fw_error_set(err, FW_EINVAL, "%s: needs a value", s->name);
    if (s->type == FW_SET_POLICY) {
        if (fw_policy_parse(text, (fw_policy *)field))
            return fw_error_set(err, FW_EINVAL,
                                "%s: unknown policy '%s' (auto, interval, motion, scene, iframe)",
                                s->name, text);
        return 0;
    }
    if (fw_setting_is_flag(s) && (strcmp(text, "true") == 0 || strcmp(text, "false") == 0))
        return fw_setting_set_number(s, p, text[0] == 't', err);
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end != '\0')
        return fw_error_set(err, FW_EINVAL, "%s: '%s' is not a number", s->name, text);
    return fw_setting_set_number(s, p, v, err);
}

/* ---- by name ------------------------------------------------------------------- */

static int unknown(const char *name, fw_error *err)
{
    return fw_error_set(err, FW_EINVAL, "unknown setting '%s'", name ? name : "(null)");
}

int fw_params_set(fw_params *p, const char *name, const char *value, fw_error *err)
{
    const fw_setting *s = fw_setting_find(name);
    return s ? fw_setting_parse(s, p, value, err) : unknown(name, err);
}

void fw_setting_number_text(double v, char *out, size_t n)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(out, n, "%.*g", digits, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

int fw_params_get(const fw_params *p, const char *name, char *buf, size_t size, fw_error *err)
{
    const fw_setting *s = fw_setting_find(name);
    if (!s)
        return unknown(name, err);
    const char *field = (const char *)p + s->offset;
    char num[40];
    const char *text = num;
    if (s->type == FW_SET_STRING) {
        text = *(const char *const *)field;
        if (s->flags & FW_SETTING_SECRET)
            text = text ? "***" : "";
        else if (!text)
            text = "";
    } else if (s->type == FW_SET_POLICY)
        text = fw_policy_name(*(const fw_policy *)field);
    else
        fw_setting_number_text(number_of(s, p), num, sizeof num);
    size_t len = strlen(text);
    if (!buf || len >= size)
        return fw_error_set(err, FW_ENOMEM, "%s: its value needs %zu bytes, not %zu", s->name,
                            len + 1, size);
    memcpy(buf, text, len + 1);
    return 0;
}
