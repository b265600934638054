/* Internal to analyze/: the OpenAI chat-completions messages of the openai backend:
 * the request body for one frame or a window of frames, and the reading of answers
 * (lenient JSON, window splitting, confidence). Pure functions, no I/O. */
#ifndef FW_ANALYZE_OPENAI_MSG_H
#define FW_ANALYZE_OPENAI_MSG_H

#include <stddef.h>

#include "analyze/backend.h"

/* The request body (malloc'd JSON text, NULL when out of memory). schema: ask for the
 * JSON schema through response_format. */
char *fw_oa_request(const fw_params *p, const char *model, const fw_task *tasks, int n, int schema);

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
