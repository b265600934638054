/* analyze/openai messages and the image budget: request shape, lenient answers,
 * window splitting, confidence, error bodies; fit and token counts. */
#include <jansson.h>
#include <libavutil/base64.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyze/openai_msg.h"
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
    int text = fw_oa_text_tokens(&p, 1);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fit_follows_qwen_smart_resize),
        cmocka_unit_test(requests_are_fitted_into_the_slot),
        cmocka_unit_test(request_has_the_openai_shape),
        cmocka_unit_test(answers_are_read_leniently),
        cmocka_unit_test(window_answers_are_split_per_frame),
        cmocka_unit_test(error_bodies_of_each_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
