/* Model answers (analyze/openai_msg.c, core/http.c): a chat-completions body read into one
 * answer per frame (fw_oa_parse) for one frame and for windows, a llama-server overflow
 * error (fw_oa_overflow), an error body's message (fw_http_error_text), the lenient JSON
 * of an answer's text (fw_json_first_object), a hedge (fw_oa_hedged) and a Retry-After
 * line. The input is the body (or the line) as a server sends it. */
#include <jansson.h>
#include <math.h>

#include "analyze/openai_msg.h"
#include "core/http.h"
#include "fuzz_util.h"

/* Window sizes tried: one frame, a small window, the largest (MAX_WINDOW). */
static const int windows[] = {1, 3, 16};

static void check_answers(const char *body, size_t size, int n)
{
    fw_task tasks[16];
    fw_answer out[16];
    memset(tasks, 0, sizeof tasks);
    memset(out, 0, sizeof out);
    for (int i = 0; i < n; i++) {
        tasks[i].keyframe = i;
        tasks[i].time_s = i * 1.5;
        tasks[i].blur = i % 2 ? 10.0 : 200.0; /* every other frame blurred */
        tasks[i].flat = i % 4 == 3;
    }
    int pt = -1, ct = -1;
    char why[128] = "";
    int rc = fw_oa_parse(body, size, tasks, n, out, &pt, &ct, why, sizeof why);
    if (rc) {
        FZ_CHECK("answer_error_says_why", rc == -1 && why[0], "rc %d, why '%s'", rc, why);
        for (int f = 0; f < n; f++)
            FZ_CHECK("answer_error_leaves_out_empty", !out[f].text && !out[f].fields,
                     "frame %d filled on error", f);
        return;
    }
    long long sum_pt = 0, sum_ct = 0;
    for (int f = 0; f < n; f++) {
        fw_answer *a = &out[f];
        FZ_CHECK("answer_has_text", a->text != NULL, "frame %d of %d: no text", f, n);
        FZ_CHECK("answer_text_utf8", fz_utf8_ok(a->text, strlen(a->text)),
                 "frame %d: text is not UTF-8", f);
        FZ_CHECK("answer_has_fields", a->fields != NULL, "frame %d: no fields", f);
        json_t *fields = json_loads(a->fields, 0, NULL);
        FZ_CHECK("answer_fields_are_an_object", json_is_object(fields), "frame %d: fields '%.200s'",
                 f, a->fields);
        FZ_CHECK("answer_fields_without_frame", !json_object_get(fields, "frame"),
                 "frame %d: fields keep \"frame\"", f);
        json_decref(fields);
        FZ_CHECK("answer_confidence_in_range", a->confidence >= 0 && a->confidence <= 1,
                 "frame %d: confidence %g", f, a->confidence);
        FZ_CHECK("answer_no_error", a->error == NULL, "frame %d: error '%s'", f, a->error);
        FZ_CHECK("answer_blur_flag",
                 !!(a->flags & FW_OBS_BLURRY) == (!tasks[f].flat && tasks[f].blur < FW_BLUR_LOW),
                 "frame %d: flags %#x", f, a->flags);
        FZ_CHECK("answer_window_flag_only_in_windows", n > 1 || !(a->flags & FW_OBS_WINDOW),
                 "single frame flagged window");
        sum_pt += a->prompt_tokens;
        sum_ct += a->completion_tokens;
        free(a->text);
        free(a->fields);
        free(a->error);
    }
    FZ_CHECK("answer_token_shares_add_up", sum_pt == pt && sum_ct == ct,
             "prompt %lld of %d, completion %lld of %d", sum_pt, pt, sum_ct, ct);
}

static void check_error_text(const char *body, size_t size)
{
    char msg[256], type[64];
    fw_http_error_text(body, size, msg, sizeof msg, type, sizeof type);
    FZ_CHECK("error_text_one_line", !strpbrk(msg, "\r\n") && !strpbrk(type, "\r\n"),
             "msg '%s' type '%s'", msg, type);
    FZ_CHECK("error_text_fits", strlen(msg) < sizeof msg && strlen(type) < sizeof type, "too long");
    /* cut at a whole character: from UTF-8 text (a JSON body's strings are), UTF-8 comes */
    if (fz_utf8_ok(body, size) && !memchr(body, 0, size))
        FZ_CHECK("error_text_cut_at_a_character",
                 fz_utf8_ok(msg, strlen(msg)) && fz_utf8_ok(type, strlen(type)),
                 "'%s' / '%s' is not UTF-8", msg, type);
}

static void check_retry_after(const char *line, size_t size)
{
    double secs = fw_http_retry_after(line, size);
    FZ_CHECK("retry_after_none_or_positive", secs == -1 || secs >= 0, "%g", secs);
    unsigned rng = 1;
    double delay = fw_http_retry_delay(1, secs, 0, &rng); /* 0: 120 s */
    FZ_CHECK("retry_delay_bounded", delay >= 0 && delay <= 120, "%g from %g", delay, secs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fz_cstr(data, size);
    for (size_t w = 0; w < sizeof windows / sizeof *windows; w++)
        check_answers(body, size, windows[w]);

    int prompt = 0, n_ctx = 0;
    if (fw_oa_overflow(body, size, &prompt, &n_ctx) == 0)
        FZ_CHECK("overflow_counts_positive", prompt > 0 && n_ctx > 0, "%d %d", prompt, n_ctx);

    check_error_text(body, size);
    json_decref(fw_json_first_object(body));
    fw_oa_hedged(body);
    check_retry_after(body, size);
    free(body);
    return 0;
}
