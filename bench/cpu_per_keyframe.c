/* Client CPU per keyframe on the analyze path: scale + JPEG (encode), base64 + JSON
 * request (request), and reading a typical answer with logprobs (parse). Measured
 * with the process CPU clock over N repetitions on the first frame of a video.
 *
 *   fwbench_cpu VIDEO [N] [MAX_PIXELS]
 */
#include <jansson.h>
#include <libavutil/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/openai_msg.h"
#include "encode/encode.h"
#include "source/source.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A chat completion like a VLM's: a JSON answer and ~100 token logprobs. */
static char *typical_answer(void)
{
    const char *content =
        "{\"description\": \"A settings window titled Display with a dialog asking whether the "
        "display looks OK\", \"actions\": \"the user is changing the resolution\", \"text\": "
        "\"Does the display look OK? Keep This Configuration Revert Settings\", \"objects\": "
        "[\"window\", \"dialog\", \"button\"], \"uncertain\": false}";
    json_t *lp = json_array();
    for (int i = 0; i < 100; i++)
        json_array_append_new(lp,
                              json_pack("{s:s, s:f, s:[{s:s, s:f}]}", "token", "tok", "logprob",
                                        -0.05, "top_logprobs", "token", "tok", "logprob", -0.05));
    json_t *root =
        json_pack("{s:[{s:{s:s, s:s}, s:s, s:{s:o}}], s:{s:i, s:i}}", "choices", "message", "role",
                  "assistant", "content", content, "finish_reason", "stop", "logprobs", "content",
                  lp, "usage", "prompt_tokens", 600, "completion_tokens", 100);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fwbench_cpu VIDEO [N] [MAX_PIXELS]\n");
        return 2;
    }
    av_log_set_level(AV_LOG_ERROR); /* yuvj420p warns once per scaler: noise here */
    int n = argc > 2 ? atoi(argv[2]) : 200;
    int max_pixels = argc > 3 ? atoi(argv[3]) : 448 * 1024;
    fw_error err = {0};
    fw_source *src;
    AVFrame *frame;
    fw_frame_info fi;
    if (fw_source_open(&src, argv[1], 1, 0, NULL, &err) ||
        fw_source_next(src, &frame, &fi, &err) != 1) {
        fprintf(stderr, "fwbench_cpu: %s\n", err.message);
        return 1;
    }
    fw_encoder *enc;
    fw_encoder_open(&enc, 90, max_pixels, &err);
    fw_params p = fw_params_default();
    char *answer = typical_answer();
    size_t answer_len = strlen(answer);
    double t_enc = 0, t_req = 0, t_parse = 0;
    size_t jpeg_bytes = 0, body_bytes = 0;
    fw_image img = {0};
    for (int i = 0; i < n; i++) {
        double t0 = cpu_s();
        if (fw_encode_jpeg(enc, frame, 0, &img, &err)) {
            fprintf(stderr, "fwbench_cpu: %s\n", err.message);
            return 1;
        }
        double t1 = cpu_s();
        fw_task task = {.jpeg = img.jpeg,
                        .size = img.size,
                        .width = img.width,
                        .height = img.height,
                        .blur = 500};
        char *body = fw_oa_request(&p, "qwen3-vl", &task, 1, 1);
        double t2 = cpu_s();
        fw_answer ans = {0};
        int pt, ct;
        char why[64];
        fw_oa_parse(answer, answer_len, &task, 1, &ans, &pt, &ct, why, sizeof why);
        double t3 = cpu_s();
        t_enc += t1 - t0;
        t_req += t2 - t1;
        t_parse += t3 - t2;
        jpeg_bytes = img.size;
        body_bytes = strlen(body);
        free(ans.text);
        free(ans.fields);
        free(body);
        free(img.jpeg);
    }
    const fw_video_info *vi = fw_source_info(src);
    printf("frame %dx%d -> %dx%d (%d tokens), jpeg %zu B, request %zu B, %d runs\n", vi->width,
           vi->height, img.width, img.height, fw_image_tokens(img.width, img.height), jpeg_bytes,
           body_bytes, n);
    printf("ms per keyframe: encode %.3f  request %.3f  parse %.3f  total %.3f\n", 1000 * t_enc / n,
           1000 * t_req / n, 1000 * t_parse / n, 1000 * (t_enc + t_req + t_parse) / n);
    free(answer);
    fw_encoder_close(enc);
    fw_source_close(src);
    return 0;
}
