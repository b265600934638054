/* A request fitted into one slot of the server's context: the prompt's text, the images
 * and room for the answer. Images over their share are encoded again smaller. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "analyze/openai_msg.h"
#include "encode/encode.h"

#define MIN_IMAGE_TOKENS 64  /* below this a frame says little: split or fail instead */
#define ANSWER_TOKENS 192    /* the room wanted for a frame's JSON answer... */
#define MIN_ANSWER_TOKENS 96 /* ...and given, at the least, so that an image fits */

int fw_pic_shrink(const fw_pic *pic, int quality, int tokens, fw_pic *out)
{
    fw_image img;
    fw_error e;
    if (fw_jpeg_refit(pic->jpeg, pic->size, quality, tokens * 1024, &img, &e))
        return -1;
    *out =
        (fw_pic){img.jpeg, img.size, img.width, img.height, fw_image_tokens(img.width, img.height)};
    return 0;
}

/* *pic replaced by its encoding under cap tokens. 0 or -1. */
static int shrink_pic(const fw_params *p, fw_pic *pic, int cap)
{
    fw_pic small;
    if (fw_pic_shrink(pic, p->jpeg_quality, cap, &small))
        return -1;
    free(pic->jpeg);
    *pic = small;
    return 0;
}

/* Each picture of t at most cap tokens; t->image_tokens their sum. */
static int shrink(const fw_params *p, fw_task *t, int cap)
{
    if (t->n_crops == 0) {
        fw_pic pic = fw_task_pic(t);
        if (pic.tokens > cap && shrink_pic(p, &pic, cap))
            return -1;
        fw_task_set_pic(t, pic);
        return 0;
    }
    t->image_tokens = 0;
    for (int i = 0; i < t->n_crops; i++) {
        fw_pic *pic = &t->crops[i].pic;
        if (pic->tokens > cap && shrink_pic(p, pic, cap))
            return -1;
        t->image_tokens += pic->tokens;
    }
    return 0;
}

static int images_of(const fw_task *tasks, int n)
{
    int images = 0;
    for (int i = 0; i < n; i++)
        images += tasks[i].n_crops > 0 ? tasks[i].n_crops : 1;
    return images;
}

int fw_oa_fit(const fw_params *p, int n_ctx, int text_extra, fw_task *tasks, int n, int *max_tokens,
              char *why, size_t why_n)
{
    *max_tokens = p->max_tokens;
    if (n_ctx <= 0) /* the server did not say */
        return 0;
    int text = fw_oa_text_tokens(p, tasks, n) + text_extra + 16 + n_ctx / 50; /* and a margin */
    int images = images_of(tasks, n);
    int answer = (n_ctx - text) / 2; /* half of what is left, within its bounds */
    answer = answer < ANSWER_TOKENS ? ANSWER_TOKENS : answer;
    answer = answer > p->max_tokens ? p->max_tokens : answer;
    int least = n_ctx - text - images * MIN_IMAGE_TOKENS; /* the answer gives way to images */
    if (answer > least)
        answer = least < MIN_ANSWER_TOKENS ? MIN_ANSWER_TOKENS : least;
    int cap = (n_ctx - text - answer) / images;
    if (cap < MIN_IMAGE_TOKENS) {
        snprintf(why, why_n,
                 "the server's context (%d tokens a request) cannot hold the prompt (about %d "
                 "tokens), %s of %d tokens and an answer",
                 n_ctx, text, images > 1 ? "images" : "an image", MIN_IMAGE_TOKENS);
        return -1;
    }
    *max_tokens = answer;
    for (int i = 0; i < n; i++)
        if (shrink(p, &tasks[i], cap)) {
            snprintf(why, why_n, "the keyframe's JPEG could not be made smaller");
            return -1;
        }
    return 0;
}

int fw_oa_learn(const fw_params *p, const fw_task *tasks, int n, int prompt_tokens, int text_extra)
{
    int images = 0;
    for (int i = 0; i < n; i++)
        images += tasks[i].image_tokens;
    int extra = prompt_tokens - images - fw_oa_text_tokens(p, tasks, n);
    return prompt_tokens > 0 && extra > text_extra ? extra : text_extra;
}

int fw_oa_overflow(const char *body, size_t len, int *n_prompt_tokens, int *n_ctx)
{
    json_t *root = json_loadb(body ? body : "", body ? len : 0, 0, NULL);
    json_t *e = json_object_get(root, "error");
    *n_prompt_tokens = (int)json_integer_value(json_object_get(e, "n_prompt_tokens"));
    *n_ctx = (int)json_integer_value(json_object_get(e, "n_ctx"));
    json_decref(root);
    return *n_prompt_tokens > 0 && *n_ctx > 0 ? 0 : -1;
}
