/* Internal to analyze/: the OpenAI chat-completions messages of the openai backend:
 * the request body for one frame or a window of frames, and the reading of answers
 * (lenient JSON, window splitting, confidence). Pure functions, no I/O. */
#ifndef FW_ANALYZE_OPENAI_MSG_H
#define FW_ANALYZE_OPENAI_MSG_H

#include <stddef.h>

#include "analyze/backend.h"

struct curl_slist;

/* The start-up check of one server, as the backend makes it of each of its servers
 * (fw_oa_probe_all): GET {base}/models (and the origin's /props) within ~5 s with the
 * headers. Learns the model (when given_model is NULL; *model is malloc'd either way),
 * the slots (when *concurrency is 0; 4 if the server does not say) and a slot's context
 * (*n_ctx; 0 unknown). 0, or FW_ENET naming user_url: unreachable, key refused. */
int fw_oa_probe(const char *user_url, const char *base, struct curl_slist *headers,
                const char *given_model, char **model, int *concurrency, int *n_ctx, fw_error *err);

/* The request body (malloc'd JSON text, NULL when out of memory). schema: ask for the
 * JSON schema through response_format. A task with crops (n is 1) sends them, with its
 * context, instead of its picture. */
char *fw_oa_request(const fw_params *p, const char *model, const fw_task *tasks, int n, int schema);

/* The text tokens of a request of n frames, estimated: 4 bytes a token of ASCII, 3 of
 * the rest (CJK in UTF-8), with the chat template's few tokens a message and an image.
 * (The client learns how far off it is from what the server counts.) */
int fw_oa_text_tokens(const fw_params *p, const fw_task *tasks, int n);

/* Fits a request of n tasks into a slot of n_ctx tokens (0: unknown, nothing to do):
 * the prompt's text (estimated, plus text_extra that the server counted beyond the
 * estimate), each image at most its share of what is left (encoded again smaller when
 * over, its size and image_tokens updated) and room for the answer, which *max_tokens
 * gets (at most the max-tokens setting). 0, or -1 with why when not even a small image
 * fits (a window then goes frame by frame). */
int fw_oa_fit(const fw_params *p, int n_ctx, int text_extra, fw_task *tasks, int n, int *max_tokens,
              char *why, size_t why_n);

/* pic encoded again (from its JPEG) under a budget of tokens image tokens, at quality,
 * into *out (a new JPEG; pic is left as it is). 0, or -1 when it does not decode. */
int fw_pic_shrink(const fw_pic *pic, int quality, int tokens, fw_pic *out);

/* The text_extra a request of n tasks shows: what the server counted for its prompt
 * (prompt_tokens, 0: unknown) beyond the images sent and the text's estimate; the larger
 * of that and text_extra. */
int fw_oa_learn(const fw_params *p, const fw_task *tasks, int n, int prompt_tokens, int text_extra);
/* llama-server's exceed_context_size_error body: 0 with what it counted and its context,
 * or -1 when body does not say. */
int fw_oa_overflow(const char *body, size_t len, int *n_prompt_tokens, int *n_ctx);

/* Reads a 200 answer into one fw_answer per task (text, fields, confidence, flags,
 * token shares). Returns 0, or -1 when the body is not a chat completion (why says
 * what is wrong). Tokens: the request's usage. */
int fw_oa_parse(const char *body, size_t len, const fw_task *tasks, int n, fw_answer *out,
                int *prompt_tokens, int *completion_tokens, char *why, size_t why_n);

/* 1 when text says that the model cannot tell ("cannot tell", "unclear", "无法判断",
 * "图像内容不清", "看不清", ...). */
int fw_oa_hedged(const char *text);

/* "mm:ss.d" for a label in a window request. */
void fw_oa_clock(double t, char *buf, size_t n);

#endif
