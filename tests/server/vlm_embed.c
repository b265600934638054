/* POST /v1/embeddings of the test model server: disabled unless --embeddings (a 501,
 * as llama-server answers), strict validation, and vectors computed from the text so
 * that similar texts get similar vectors:
 *
 *   dimension EMBED_DIM; the text lowercased (ASCII only); every whitespace-separated
 *   word adds 1 to bucket fnv1a(word) % EMBED_DIM, every trigram of UTF-8 characters
 *   (over the whole text, whitespace included) adds 0.5 to bucket fnv1a(trigram) %
 *   EMBED_DIM; then the vector is L2-normalised (an all-zero vector stays zero).
 *
 * Tokens are estimated as bytes/4, at least 1 per input; an input of more than --ubatch
 * tokens is a 500, as llama-server answers when an input does not fit one micro-batch. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlm_server.h"

#define EMBED_DIM 256

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Length of the UTF-8 character at p (1 for a stray byte), never past end. */
static size_t char_len(const unsigned char *p, const unsigned char *end)
{
    size_t n = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
    return n > (size_t)(end - p) ? (size_t)(end - p) : n;
}

static void embed(const char *text, size_t n, double v[EMBED_DIM])
{
    unsigned char *t = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        t[i] = c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
    }
    t[n] = '\0';
    memset(v, 0, sizeof(double) * EMBED_DIM);
    for (size_t i = 0; i < n;) { /* words */
        while (i < n && is_space(t[i]))
            i++;
        size_t start = i;
        while (i < n && !is_space(t[i]))
            i++;
        if (i > start)
            v[fnv1a(t + start, i - start) % EMBED_DIM] += 1.0;
    }
    const unsigned char *end = t + n;
    for (const unsigned char *p = t; p < end; p += char_len(p, end)) { /* trigrams */
        const unsigned char *q = p;
        int chars = 0;
        while (chars < 3 && q < end) {
            q += char_len(q, end);
            chars++;
        }
        if (chars < 3)
            break;
        v[fnv1a(p, (size_t)(q - p)) % EMBED_DIM] += 0.5;
    }
    free(t);
    double norm = 0;
    for (int i = 0; i < EMBED_DIM; i++)
        norm += v[i] * v[i];
    norm = sqrt(norm);
    for (int i = 0; norm > 0 && i < EMBED_DIM; i++)
        v[i] /= norm;
}

static int tokens_of(json_t *s)
{
    int t = (int)(json_string_length(s) / 4);
    return t < 1 ? 1 : t;
}

/* Validates the request; the inputs as an array of strings (a new reference), or NULL
 * with *status, *type and msg set. */
static json_t *check(json_t *req, int *status, const char **type, char *msg, size_t cap)
{
    *status = 400;
    *type = "invalid_request_error";
    json_t *in = json_object_get(req, "input");
    if (json_is_string(in)) {
        if (json_string_length(in) == 0) {
            snprintf(msg, cap, "'input' must not be an empty string");
            return NULL;
        }
    } else if (json_is_array(in)) {
        if (json_array_size(in) == 0) {
            snprintf(msg, cap, "'input' must not be an empty array");
            return NULL;
        }
        size_t i;
        json_t *s;
        json_array_foreach(in, i, s)
        {
            if (!json_is_string(s) || json_string_length(s) == 0) {
                snprintf(msg, cap, "'input[%zu]' must be a non-empty string", i);
                return NULL;
            }
        }
    } else {
        snprintf(msg, cap, "'input' must be a non-empty string or a non-empty array of strings");
        return NULL;
    }
    json_t *ef = json_object_get(req, "encoding_format");
    if (ef && (!json_is_string(ef) || strcmp(json_string_value(ef), "float") != 0)) {
        snprintf(msg, cap, "'encoding_format' must be \"float\"");
        return NULL;
    }
    json_t *model = json_object_get(req, "model");
    if (model && !json_is_string(model)) {
        snprintf(msg, cap, "'model' must be a string");
        return NULL;
    }
    if (S.strict_model && (!model || strcmp(json_string_value(model), S.model) != 0)) {
        *status = 404;
        *type = "NotFoundError";
        snprintf(msg, cap, "The model `%s` does not exist.", model ? json_string_value(model) : "");
        return NULL;
    }
    json_t *inputs = json_is_string(in) ? json_pack("[O]", in) : json_incref(in);
    size_t i;
    json_t *s;
    json_array_foreach(inputs, i, s)
    {
        if (tokens_of(s) > S.ubatch) {
            *status = 500;
            *type = "server_error";
            snprintf(msg, cap, "input is too large to process. increase the physical batch size");
            json_decref(inputs);
            return NULL;
        }
    }
    return inputs;
}

static int answer(struct mg_connection *c, json_t *inputs)
{
    hold_slot();
    json_t *data = json_array();
    int tokens = 0;
    size_t i;
    json_t *s;
    double v[EMBED_DIM];
    json_array_foreach(inputs, i, s)
    {
        embed(json_string_value(s), json_string_length(s), v);
        json_t *vec = json_array();
        for (int k = 0; k < EMBED_DIM; k++)
            json_array_append_new(vec, json_real(v[k]));
        json_array_append_new(data, json_pack("{s:s, s:i, s:o}", "object", "embedding", "index",
                                              (int)i, "embedding", vec));
        tokens += tokens_of(s);
    }
    json_t *resp =
        json_pack("{s:s, s:o, s:s, s:{s:i, s:i}}", "object", "list", "data", data, "model", S.model,
                  "usage", "prompt_tokens", tokens, "total_tokens", tokens);
    pthread_mutex_lock(&S.mu);
    S.embedding_requests++;
    S.embedding_inputs += (int)json_array_size(inputs);
    pthread_mutex_unlock(&S.mu);
    send_json(c, 200, resp); /* after counting: see vlm_chat.c */
    json_decref(resp);
    return 200;
}

int on_embeddings(struct mg_connection *c, void *cb)
{
    (void)cb;
    pthread_mutex_lock(&S.mu);
    S.requests++;
    pthread_mutex_unlock(&S.mu);
    while (S.hang && !S.stop)
        sleep_ms(50);
    int refused = admit(c);
    if (refused)
        return refused;
    if (!S.embeddings) {
        send_error(c, 501, "not_supported_error",
                   "This server does not support embeddings. Start it with `--embeddings`");
        return 501;
    }
    pthread_mutex_lock(&S.mu);
    int seq = ++S.seq;
    pthread_mutex_unlock(&S.mu);
    long long len;
    int handled;
    char *body = take_request(c, seq, &len, &handled);
    if (!body)
        return handled;
    const char *ctype = mg_get_header(c, "Content-Type");
    json_error_t jerr;
    json_t *req = NULL, *inputs = NULL;
    int status = 400;
    const char *type = "invalid_request_error";
    char msg[256];
    if (!ctype || !strstr(ctype, "application/json"))
        snprintf(msg, sizeof msg, "Content-Type must be application/json");
    else if (!(req = json_loadb(body, (size_t)len, 0, &jerr)) || !json_is_object(req)) {
        status = 500, type = "server_error";
        snprintf(msg, sizeof msg, "[json.exception.parse_error.101] parse error");
    } else if ((inputs = check(req, &status, &type, msg, sizeof msg)) != NULL)
        status = answer(c, inputs);
    if (!inputs)
        send_error(c, status, type, msg);
    json_decref(inputs);
    json_decref(req);
    free(body);
    return status;
}
