/* analyze/openai messages and the image budget: request shape, lenient answers,
 * window splitting, confidence, error bodies; fit and token counts; changed regions and
 * the crop request. */
#include <jansson.h>
#include <libavutil/base64.h>
#include <libavutil/frame.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyze/change.h"
#include "analyze/openai_msg.h"
#include "analyze/openai_pool.h"
#include "analyze/plan.h"
#include "core/http.h"
#include "encode/encode.h"

static const uint8_t fake_jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 0xFF, 0xD9};

static fw_task task_at(double t)
{
    fw_task k = {.time_s = t,
                 .jpeg = (uint8_t *)fake_jpeg,
                 .size = sizeof fake_jpeg,
                 .width = 64,
                 .height = 64,
                 .image_tokens = 4,
                 .blur = 500};
    return k;
}

static void fit_follows_qwen_smart_resize(void **state)
{
    (void)state;
    int w, h;
    fw_image_fit(1920, 1080, 448 * 1024, &w, &h);
    assert_int_equal(w, 896);
    assert_int_equal(h, 480);
    assert_int_equal(fw_image_tokens(w, h), 420);
    fw_image_fit(320, 240, 448 * 1024, &w, &h); /* small: only rounded to 32s */
    assert_int_equal(w, 320);
    assert_int_equal(h, 256);
    assert_int_equal(fw_image_tokens(320, 240), 80); /* as SERVERS.md observed */
    assert_int_equal(fw_image_tokens(1920, 1080), 2040);
    fw_image_fit(1080, 1920, 100 * 1024, &w, &h); /* portrait */
    assert_true(w * h <= 100 * 1024 && w % 32 == 0 && h % 32 == 0 && h > w);
    fw_image_fit(1921, 1081, 0, &w, &h); /* no budget: untouched */
    assert_int_equal(w, 1921);
    assert_int_equal(h, 1081);
    fw_image_fit(10000, 10, 1024, &w, &h); /* never below 32 */
    assert_true(w >= 32 && h >= 32);
}

/* The room a request gets in a slot: the answer's, and whether an image must shrink. */
static void requests_are_fitted_into_the_slot(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    fw_task t = task_at(1); /* 4 image tokens: fits anywhere it can */
    int max_tokens = 0;
    char why[300] = "";
    assert_int_equal(fw_oa_fit(&p, 0, 0, &t, 1, &max_tokens, why, sizeof why), 0);
    assert_int_equal(max_tokens, p.max_tokens); /* the server did not say: as asked */
    assert_int_equal(fw_oa_fit(&p, 32768, 0, &t, 1, &max_tokens, why, sizeof why), 0);
    assert_int_equal(max_tokens, p.max_tokens); /* a big slot: all of it */
    int text = fw_oa_text_tokens(&p, &t, 1);
    assert_true(text > 80 && text < 200); /* English instructions, ~4 bytes a token */
    assert_int_equal(fw_oa_fit(&p, 768, 0, &t, 1, &max_tokens, why, sizeof why), 0);
    assert_true(max_tokens >= 192 && max_tokens < p.max_tokens); /* half of what is left */
    assert_int_equal(t.image_tokens, 4);                         /* small: not touched */
    /* what the server counted beyond the estimate takes room from the answer first */
    int before = max_tokens;
    assert_int_equal(fw_oa_fit(&p, 768, 200, &t, 1, &max_tokens, why, sizeof why), 0);
    assert_true(max_tokens < before && max_tokens >= 96);
    /* no room for an image of 64 tokens and an answer of 96: said, with the numbers */
    assert_int_equal(fw_oa_fit(&p, 300, 0, &t, 1, &max_tokens, why, sizeof why), -1);
    assert_non_null(strstr(why, "context (300 tokens a request) cannot hold the prompt"));
    /* an image over its share that does not decode cannot be made smaller */
    t.image_tokens = 900;
    assert_int_equal(fw_oa_fit(&p, 768, 0, &t, 1, &max_tokens, why, sizeof why), -1);
    assert_non_null(strstr(why, "could not be made smaller"));
}

static void request_has_the_openai_shape(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    fw_task t = task_at(12.4);
    char *body = fw_oa_request(&p, "qwen", &t, 1, 1);
    json_t *j = json_loads(body, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "model")), "qwen");
    json_t *msgs = json_object_get(j, "messages");
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "role")),
                        "system");
    json_t *content = json_object_get(json_array_get(msgs, 1), "content");
    assert_int_equal(json_array_size(content), 2);
    json_t *img = json_array_get(content, 1);
    assert_string_equal(json_string_value(json_object_get(img, "type")), "image_url");
    const char *url = json_string_value(json_object_get(json_object_get(img, "image_url"), "url"));
    assert_true(strncmp(url, "data:image/jpeg;base64,", 23) == 0);
    uint8_t back[64];
    int n = av_base64_decode(back, url + 23, sizeof back);
    assert_int_equal(n, sizeof fake_jpeg);
    assert_memory_equal(back, fake_jpeg, sizeof fake_jpeg);
    json_t *rf = json_object_get(j, "response_format");
    assert_string_equal(json_string_value(json_object_get(rf, "type")), "json_schema");
    assert_true(json_is_object(json_object_get(json_object_get(rf, "json_schema"), "schema")));
    assert_true(json_is_true(json_object_get(j, "logprobs")));
    assert_true(json_is_number(json_object_get(j, "temperature")));
    assert_true(json_is_number(json_object_get(j, "top_p"))); /* Ollama defaults it to 1 */
    json_decref(j);
    free(body);
    /* without the schema; a window labels each image with its time */
    fw_task w[2] = {task_at(1.0), task_at(75.25)};
    body = fw_oa_request(&p, "qwen", w, 2, 0);
    assert_null(strstr(body, "response_format"));
    assert_non_null(strstr(body, "Frame 1 at 00:01.0 <1.0 seconds>"));
    assert_non_null(strstr(body, "Frame 2 at 01:15.3 <75.3 seconds>"));
    free(body);
}

static void parse(const char *content, const fw_task *t, int n, fw_answer *out, const char *extra)
{
    json_t *root =
        json_pack("{s:[{s:{s:s}, s:s}], s:{s:i, s:i}}", "choices", "message", "content", content,
                  "finish_reason", "stop", "usage", "prompt_tokens", 101, "completion_tokens", 20);
    if (extra)
        json_object_set_new(json_array_get(json_object_get(root, "choices"), 0), "logprobs",
                            json_loads(extra, 0, NULL));
    char *body = json_dumps(root, 0);
    int pt, ct;
    char why[64];
    memset(out, 0, (size_t)n * sizeof *out);
    assert_int_equal(fw_oa_parse(body, strlen(body), t, n, out, &pt, &ct, why, sizeof why), 0);
    assert_int_equal(pt, 101);
    free(body);
    json_decref(root);
}

static void answer_free(fw_answer *a, int n)
{
    for (int i = 0; i < n; i++) {
        free(a[i].text);
        free(a[i].fields);
        free(a[i].error);
    }
}

static void answers_are_read_leniently(void **state)
{
    (void)state;
    fw_task t = task_at(0);
    fw_answer a[3];
    parse("Sure! Here it is:\n```json\n{\"description\": \"A login form\", \"actions\": \"\", "
          "\"text\": \"Sign in\", \"objects\": [\"form\"], \"uncertain\": false}\n```",
          &t, 1, a, NULL);
    assert_string_equal(a[0].text, "A login form");
    assert_non_null(strstr(a[0].fields, "\"Sign in\""));
    assert_int_equal(a[0].flags, 0);
    assert_true(a[0].confidence == 1.0);
    answer_free(a, 1);
    parse("Just words, no JSON.", &t, 1, a, NULL);
    assert_string_equal(a[0].text, "Just words, no JSON.");
    assert_true(a[0].flags & FW_OBS_UNSTRUCTURED);
    answer_free(a, 1);
    /* a hedge in English or Chinese, or uncertain:true, lowers the confidence */
    parse("{\"description\": \"I cannot tell what this shows\", \"uncertain\": false}", &t, 1, a,
          NULL);
    assert_true(a[0].flags & FW_OBS_HEDGED);
    assert_true(a[0].confidence < 0.7);
    answer_free(a, 1);
    parse("{\"description\": \"图像内容不清，无法判断\"}", &t, 1, a, NULL);
    assert_true(a[0].flags & FW_OBS_HEDGED);
    answer_free(a, 1);
    parse("{\"description\": \"a dark room\", \"uncertain\": true}", &t, 1, a, NULL);
    assert_true(a[0].flags & FW_OBS_UNCERTAIN);
    assert_true(a[0].confidence <= 0.5);
    answer_free(a, 1);
    /* logprobs: exp(mean) */
    parse("{\"description\": \"x\"}", &t, 1, a,
          "{\"content\": [{\"token\": \"a\", \"logprob\": -0.5}, {\"token\": \"b\", \"logprob\": "
          "-1.5}]}");
    assert_true(a[0].confidence > 0.367 && a[0].confidence < 0.368);
    answer_free(a, 1);
    /* a blurred frame is trusted less */
    fw_task blurred = task_at(0);
    blurred.blur = 3;
    parse("{\"description\": \"x\"}", &blurred, 1, a, NULL);
    assert_true(a[0].flags & FW_OBS_BLURRY);
    assert_true(a[0].confidence < 1.0);
    answer_free(a, 1);
    /* not a chat completion at all */
    int pt, ct;
    char why[64];
    assert_int_equal(fw_oa_parse("<html>", 6, &t, 1, a, &pt, &ct, why, sizeof why), -1);
    assert_non_null(strstr(why, "not JSON"));
}

static void window_answers_are_split_per_frame(void **state)
{
    (void)state;
    fw_task t[3] = {task_at(0), task_at(1), task_at(2)};
    fw_answer a[3];
    parse("{\"frames\": [{\"frame\": 2, \"description\": \"two\"}, {\"frame\": 1, \"description\": "
          "\"one\"}], \"changes\": \"a dialog opens\"}",
          t, 3, a, NULL);
    assert_string_equal(a[0].text, "one");
    assert_string_equal(a[1].text, "two");
    assert_int_equal(a[0].flags & FW_OBS_WINDOW, 0);
    assert_string_equal(a[2].text, "a dialog opens"); /* missing: the shared changes */
    assert_true(a[2].flags & FW_OBS_WINDOW);
    /* usage shared out over the frames */
    assert_int_equal(a[0].prompt_tokens + a[1].prompt_tokens + a[2].prompt_tokens, 101);
    answer_free(a, 3);
    parse("no structure", t, 3, a, NULL);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(a[i].text, "no structure");
        assert_true(a[i].flags & FW_OBS_WINDOW);
    }
    answer_free(a, 3);
}

static void error_bodies_of_each_server(void **state)
{
    (void)state;
    char msg[128], type[64];
    const char *llama = "{\"error\":{\"code\":400,\"message\":\"Failed to initialize samplers\","
                        "\"type\":\"invalid_request_error\"}}";
    fw_http_error_text(llama, strlen(llama), msg, sizeof msg, type, sizeof type);
    assert_string_equal(msg, "Failed to initialize samplers");
    assert_string_equal(type, "invalid_request_error");
    const char *vllm_old =
        "{\"object\":\"error\",\"message\":\"At most 4 image(s)\",\"type\":\"BadRequestError\"}";
    fw_http_error_text(vllm_old, strlen(vllm_old), msg, sizeof msg, type, sizeof type);
    assert_string_equal(msg, "At most 4 image(s)");
    const char *ollama = "{\"error\":\"model 'x' not found, try pulling it first\"}";
    fw_http_error_text(ollama, strlen(ollama), msg, sizeof msg, type, sizeof type);
    assert_string_equal(msg, "model 'x' not found, try pulling it first");
    fw_http_error_text("Bad Gateway\n<html>", 18, msg, sizeof msg, type, sizeof type);
    assert_string_equal(msg, "Bad Gateway <html>");
    fw_http_error_text("", 0, msg, sizeof msg, type, sizeof type);
    assert_string_equal(msg, "");
}

/* A 192x108 map (three planes) of one grey. */
#define MW FW_MAP_W
#define MH 108
static uint8_t map_a[MW * MH * 3], map_b[MW * MH * 3];

static void maps_grey(void)
{
    memset(map_a, 128, sizeof map_a);
    memset(map_b, 128, sizeof map_b);
}

/* Paints luma v (chroma u, v2) into map m over pixels [x0, x1) x [y0, y1). */
static void paint(uint8_t *m, int x0, int y0, int x1, int y1, int v, int u, int v2)
{
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            m[y * MW + x] = (uint8_t)v;
            m[MW * MH + y * MW + x] = (uint8_t)u;
            m[2 * MW * MH + y * MW + x] = (uint8_t)v2;
        }
}

static void changed_regions_are_found(void **state)
{
    (void)state;
    fw_region r[FW_MAX_REGIONS];
    double area;
    assert_int_equal(fw_map_height(1920, 1080), 108);
    maps_grey();
    assert_int_equal(fw_change_regions(map_a, map_b, MW, MH, r, 3, &area), 0);
    assert_true(area == 0);
    /* small noise is not a change */
    for (int i = 0; i < MW * MH; i += 7)
        map_b[i] = (uint8_t)(128 + (i % 3) * 10);
    assert_int_equal(fw_change_regions(map_a, map_b, MW, MH, r, 3, &area), 0);
    /* a toast bottom right: one region around it, a block of margin */
    maps_grey();
    paint(map_b, 160, 96, 176, 104, 30, 128, 128);
    assert_int_equal(fw_change_regions(map_a, map_b, MW, MH, r, 3, &area), 1);
    assert_true(r[0].x <= 160.0 / MW && r[0].x + r[0].w >= 176.0 / MW);
    assert_true(r[0].y <= 96.0 / MH && r[0].y + r[0].h >= 104.0 / MH);
    assert_true(r[0].x >= 150.0 / MW && area < 0.02);
    /* the same brightness, another colour (red to green): a change too */
    maps_grey();
    paint(map_a, 40, 40, 60, 56, 67, 90, 240);
    paint(map_b, 40, 40, 60, 56, 67, 110, 70);
    assert_int_equal(fw_change_regions(map_a, map_b, MW, MH, r, 3, &area), 1);
    /* two far apart: two regions; five: at most three */
    maps_grey();
    paint(map_b, 8, 8, 16, 16, 250, 128, 128);
    paint(map_b, 170, 90, 180, 100, 250, 128, 128);
    assert_int_equal(fw_change_regions(map_a, map_b, MW, MH, r, 3, &area), 2);
    paint(map_b, 90, 8, 98, 16, 250, 128, 128);
    paint(map_b, 8, 90, 16, 100, 250, 128, 128);
    paint(map_b, 90, 50, 98, 58, 250, 128, 128);
    assert_int_equal(fw_change_regions(map_a, map_b, MW, MH, r, 3, &area), 3);
    /* everything: the area says so */
    maps_grey();
    memset(map_b, 20, (size_t)MW * MH);
    assert_int_equal(fw_change_regions(map_a, map_b, MW, MH, r, 3, &area), 1);
    assert_true(area > 0.9);
}

static void a_changed_word_comes_with_its_line(void **state)
{
    (void)state;
    fw_region r[FW_MAX_REGIONS];
    double area;
    maps_grey();
    /* a line of words (ink: dark strokes, a space every 12 pixels) on both */
    for (int x = 20; x < 140; x += 3)
        if (x % 24 < 20) {
            paint(map_a, x, 40, x + 1, 46, 20, 128, 128);
            paint(map_b, x, 40, x + 1, 46, 20, 128, 128);
        }
    /* the last word changes */
    paint(map_b, 140, 40, 160, 46, 20, 128, 128);
    assert_int_equal(fw_change_regions(map_a, map_b, MW, MH, r, 3, &area), 1);
    assert_true(r[0].x <= 24.0 / MW);                 /* grown to the line's start */
    assert_true(r[0].x + r[0].w >= 160.0 / MW);       /* and its end */
    assert_true(r[0].y >= 32.0 / MH && r[0].h < 0.2); /* not to other rows */
}

static void a_crop_request_carries_its_context(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    fw_task t = task_at(3.1);
    t.n_crops = 1;
    t.crops[0].pic = (fw_pic){(uint8_t *)fake_jpeg, sizeof fake_jpeg, 480, 96, 45};
    t.crops[0].at = (fw_region){0.74, 0.94, 0.25, 0.05};
    t.context = "A dashboard with orders and tickets.";
    char *body = fw_oa_request(&p, "qwen", &t, 1, 1);
    assert_non_null(body);
    json_t *root = json_loads(body, 0, NULL);
    json_t *content =
        json_object_get(json_array_get(json_object_get(root, "messages"), 1), "content");
    assert_int_equal(json_array_size(content), 2); /* the question, the crop */
    const char *q = json_string_value(json_object_get(json_array_get(content, 0), "text"));
    assert_non_null(strstr(q, "\"A dashboard with orders and tickets.\""));
    assert_non_null(strstr(q, "region 1 at left 74%, top 94%, 25% wide, 5% high"));
    assert_non_null(strstr(q, "Describe the whole frame now"));
    /* the estimate counts the context */
    fw_task plain = task_at(3.1);
    assert_true(fw_oa_text_tokens(&p, &t, 1) > fw_oa_text_tokens(&p, &plain, 1) + 20);
    json_decref(root);
    free(body);
}

/* A 1280x720 grey picture as a JPEG at the 0.45 MP budget, with a dark box at (x, y, w, h)
 * when w > 0, and a task of it. */
static fw_task picture_task(int keyframe, const char *reason, int x, int y, int w, int h, int luma)
{
    AVFrame *f = av_frame_alloc();
    f->format = AV_PIX_FMT_YUV420P;
    f->width = 1280;
    f->height = 720;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    for (int p = 0; p < 3; p++) {
        int pw = p ? 640 : 1280, ph = p ? 360 : 720;
        for (int r = 0; r < ph; r++)
            memset(f->data[p] + r * f->linesize[p], p ? 128 : luma, (size_t)pw);
    }
    for (int r = y; r < y + h; r++)
        memset(f->data[0] + r * f->linesize[0] + x, 20, (size_t)w);
    fw_encoder *enc;
    fw_error err;
    fw_image img;
    assert_int_equal(fw_encoder_open(&enc, 90, 448 * 1024, &err), 0);
    assert_int_equal(fw_encode_jpeg(enc, f, 0, &img, &err), 0);
    fw_encoder_close(enc);
    av_frame_free(&f);
    fw_task t = {.keyframe = keyframe,
                 .jpeg = img.jpeg,
                 .size = img.size,
                 .width = img.width,
                 .height = img.height,
                 .image_tokens = fw_image_tokens(img.width, img.height),
                 .blur = 500,
                 .reason = reason};
    t.planned_tokens = t.image_tokens;
    return t;
}

static void keyframes_are_planned_whole_low_or_as_crops(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    p.refresh = 3;
    fw_plan *pl = fw_plan_new(&p);
    assert_true(fw_plan_crops(pl));
    fw_task t0 = picture_task(0, "first", 0, 0, 0, 0, 128);
    fw_plan_task(pl, &t0); /* the first: whole, low first */
    assert_int_equal(t0.sent, FW_SENT_LOW);
    assert_int_equal(t0.image_tokens, 153);
    assert_int_equal(t0.hi.tokens, 420);
    fw_task t1 = picture_task(1, "change", 1000, 600, 200, 40, 128);
    fw_plan_task(pl, &t1); /* a toast: its crop, waiting for the first one's answer */
    assert_int_equal(t1.sent, FW_SENT_CROP);
    assert_int_equal(t1.n_crops, 1);
    assert_int_equal(t1.base, 0);
    assert_true(t1.crops[0].at.x < 1000.0 / 1280 && t1.crops[0].at.x > 900.0 / 1280);
    assert_true(t1.image_tokens < 80);
    assert_int_equal(fw_plan_ready(pl, &t1), 0);
    fw_answer a0 = {.text = "A grey screen."};
    assert_int_equal(fw_plan_again(pl, &t0, &a0), 0); /* not hedged: stays low */
    fw_plan_answered(pl, &t0, &a0);
    assert_int_equal(fw_plan_ready(pl, &t1), 1);
    assert_string_equal(t1.context, "A grey screen.");
    /* a hedged crop goes again whole */
    fw_answer hedged = {.text = "I cannot tell.", .flags = FW_OBS_HEDGED};
    assert_int_equal(fw_plan_again(pl, &t1, &hedged), 1);
    assert_int_equal(t1.sent, FW_SENT_AGAIN);
    assert_int_equal(t1.n_crops, 0);
    assert_int_equal(t1.image_tokens, 420);
    /* the refresh-th keyframe goes whole though its change is local */
    fw_task t2 = picture_task(2, "change", 1000, 600, 200, 40, 128);
    fw_plan_task(pl, &t2);
    assert_int_equal(t2.sent, FW_SENT_CROP);
    fw_task t3 = picture_task(3, "change", 100, 100, 200, 40, 128);
    fw_plan_task(pl, &t3);
    assert_int_equal(t3.sent, FW_SENT_LOW);
    /* a cut, and a change of the whole picture, go whole */
    fw_task t4 = picture_task(4, "cut", 100, 100, 210, 40, 128);
    fw_plan_task(pl, &t4);
    assert_int_equal(t4.sent, FW_SENT_LOW);
    fw_task t5 = picture_task(5, "change", 0, 0, 0, 0, 200);
    fw_plan_task(pl, &t5);
    assert_int_equal(t5.sent, FW_SENT_LOW);
    /* a low ask that hedges is asked again at the budget, both counted */
    assert_int_equal(fw_plan_again(pl, &t5, &hedged), 1);
    assert_int_equal(t5.sent, FW_SENT_AGAIN);
    assert_int_equal(t5.spent_tokens + t5.image_tokens, 153 + 420);
    fw_task *all[] = {&t0, &t1, &t2, &t3, &t4, &t5};
    for (int i = 0; i < 6; i++)
        fw_task_release(all[i]);
    fw_plan_free(pl);
    /* --whole-frames: as it was */
    p.whole_frames = 1;
    pl = fw_plan_new(&p);
    assert_false(fw_plan_crops(pl));
    fw_task w = picture_task(0, "first", 0, 0, 0, 0, 128);
    fw_plan_task(pl, &w);
    assert_int_equal(w.sent, FW_SENT_WHOLE);
    assert_int_equal(w.image_tokens, 420);
    fw_task_release(&w);
    fw_plan_free(pl);
}

/* n endpoints of the given slots, in flight, mean latency (one answer each) and health. */
static void endpoints_of(fw_oa_endpoint *eps, int n, const int *slots, const int *inflight,
                         const double *mean_ms, const int *up)
{
    for (int i = 0; i < n; i++) {
        memset(&eps[i], 0, sizeof eps[i]);
        eps[i].slots = slots[i];
        eps[i].inflight = inflight[i];
        eps[i].up = up[i];
        eps[i].answered = mean_ms[i] > 0;
        eps[i].latency_sum_ms = mean_ms[i];
    }
}

static void requests_go_to_the_least_busy_server_that_is_up(void **state)
{
    (void)state;
    fw_oa_endpoint eps[3];
    /* the lowest in-flight share of its slots: 1/4 beats 1/2 */
    endpoints_of(eps, 2, (int[]){2, 4}, (int[]){1, 1}, (double[]){100, 900}, (int[]){1, 1});
    assert_int_equal(fw_oa_pick(eps, 2, 0), 1);
    /* the same share: the lower mean latency, then the lower index */
    endpoints_of(eps, 3, (int[]){2, 4, 2}, (int[]){1, 2, 1}, (double[]){600, 200, 200},
                 (int[]){1, 1, 1});
    assert_int_equal(fw_oa_pick(eps, 3, 0), 1);
    eps[1].latency_sum_ms = 600;
    assert_int_equal(fw_oa_pick(eps, 3, 0), 2);
    eps[2].latency_sum_ms = 600;
    assert_int_equal(fw_oa_pick(eps, 3, 0), 0);
    /* never more than its slots: full ones are passed over, all full is -1 */
    endpoints_of(eps, 2, (int[]){2, 2}, (int[]){2, 1}, (double[]){100, 900}, (int[]){1, 1});
    assert_int_equal(fw_oa_pick(eps, 2, 0), 1);
    eps[1].inflight = 2;
    assert_int_equal(fw_oa_pick(eps, 2, 0), -1);
    /* a down one gets nothing while another is up, even idle and fast */
    endpoints_of(eps, 2, (int[]){2, 2}, (int[]){1, 0}, (double[]){900, 100}, (int[]){1, 0});
    assert_int_equal(fw_oa_pick(eps, 2, 0), 0);
    eps[0].inflight = 2;
    assert_int_equal(fw_oa_pick(eps, 2, 0), -1); /* it waits for the up one */
    /* all down: the usual choice among them (the frames' own retries apply) */
    eps[0].up = 0;
    assert_int_equal(fw_oa_pick(eps, 2, 0), 1);
    /* a server that failed this request only when no other has room */
    endpoints_of(eps, 2, (int[]){2, 2}, (int[]){0, 1}, (double[]){100, 100}, (int[]){1, 1});
    assert_int_equal(fw_oa_pick(eps, 2, 1u << 0), 1);
    eps[1].inflight = 2;
    assert_int_equal(fw_oa_pick(eps, 2, 1u << 0), 0);
}

static void the_median_latency_comes_from_every_answer_then_a_sample(void **state)
{
    (void)state;
    static fw_oa_endpoint ep;
    unsigned rng = 7;
    assert_true(fw_oa_endpoint_p50(&ep) == 0);
    double v[] = {300, 100, 200, 900};
    for (int i = 0; i < 3; i++)
        fw_oa_endpoint_answered(&ep, v[i], &rng);
    assert_true(fw_oa_endpoint_p50(&ep) == 200);
    fw_oa_endpoint_answered(&ep, v[3], &rng);
    assert_true(fw_oa_endpoint_p50(&ep) == 250); /* even: the two middle ones' mean */
    assert_true(ep.latency_max_ms == 900);
    for (int i = 0; i < 5000; i++) /* far more answers than samples: still about the median */
        fw_oa_endpoint_answered(&ep, i % 2 ? 400 : 600, &rng);
    double p50 = fw_oa_endpoint_p50(&ep);
    assert_true(p50 >= 400 && p50 <= 600);
    assert_int_equal(ep.answered, 5004);
}

static void report_urls_lose_credentials_and_query(void **state)
{
    (void)state;
    char out[256], one[64];
    fw_http_url_shown("https://user:p%40ss@host:8443/v1?key=s3cret#x", out, sizeof out);
    assert_string_equal(out, "https://host:8443/v1");
    fw_http_url_shown("http://127.0.0.1:8080/v1", out, sizeof out);
    assert_string_equal(out, "http://127.0.0.1:8080/v1");
    fw_http_url_shown("http://host?x=@y", out, sizeof out); /* an @ in the query is no user */
    assert_string_equal(out, "http://host");
    const char *list = "http://a:1/v1, http://b:2/v1 ,http://c:3";
    assert_int_equal(fw_http_url_count(list), 3);
    assert_int_equal(fw_http_url_at(list, 1, one, sizeof one), 1);
    assert_string_equal(one, "http://b:2/v1");
    assert_int_equal(fw_http_url_at(list, 2, one, sizeof one), 1);
    assert_string_equal(one, "http://c:3");
    assert_int_equal(fw_http_url_at(list, 3, one, sizeof one), 0);
    assert_int_equal(fw_http_url_count(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fit_follows_qwen_smart_resize),
        cmocka_unit_test(requests_are_fitted_into_the_slot),
        cmocka_unit_test(request_has_the_openai_shape),
        cmocka_unit_test(answers_are_read_leniently),
        cmocka_unit_test(window_answers_are_split_per_frame),
        cmocka_unit_test(error_bodies_of_each_server),
        cmocka_unit_test(changed_regions_are_found),
        cmocka_unit_test(a_changed_word_comes_with_its_line),
        cmocka_unit_test(a_crop_request_carries_its_context),
        cmocka_unit_test(keyframes_are_planned_whole_low_or_as_crops),
        cmocka_unit_test(requests_go_to_the_least_busy_server_that_is_up),
        cmocka_unit_test(the_median_latency_comes_from_every_answer_then_a_sample),
        cmocka_unit_test(report_urls_lose_credentials_and_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
