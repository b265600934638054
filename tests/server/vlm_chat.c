/* POST /v1/chat/completions of the test model server: strict validation, then an
 * answer made from the pixels of the images. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlm_image.h"
#include "vlm_server.h"

#define MAX_IMAGES 64

typedef struct chat {
    vlm_image img[MAX_IMAGES];
    int n_img;
    size_t text_bytes;
    int schema; /* response_format json_schema */
    int window; /* the question is about each of several frames (not one frame's parts) */
    int logprobs;
    char err[256];
    int status; /* of the validation error */
    const char *err_type;
} chat;

static int bad(chat *ch, int status, const char *type, const char *msg)
{
    snprintf(ch->err, sizeof ch->err, "%s", msg);
    ch->status = status;
    ch->err_type = type;
    return -1;
}

/* One image part; like llama-server: URLs other than data: images are 500s. */
static int check_image(chat *ch, json_t *part)
{
    json_t *iu = json_object_get(part, "image_url");
    const char *url = json_string_value(json_object_get(iu, "url"));
    if (!json_is_object(iu) || !url)
        return bad(ch, 400, "invalid_request_error", "image_url must be an object with a url");
    if (!*url)
        return bad(ch, 500, "server_error", "empty image URL");
    if (strncmp(url, "data:", 5) != 0)
        return bad(ch, 500, "server_error", "error: cannot make GET request");
    if (strncmp(url, "data:image/", 11) != 0)
        return bad(ch, 500, "server_error", "invalid data URI: not an image type");
    const char *b64 = strstr(url, ";base64,");
    if (!b64)
        return bad(ch, 500, "server_error", "invalid data URI: no ;base64,");
    if (ch->n_img == MAX_IMAGES)
        return bad(ch, 400, "invalid_request_error", "too many images");
    b64 += 8;
    if (vlm_image_decode(b64, strlen(b64), S.read_text, &ch->img[ch->n_img]))
        return bad(ch, 400, "invalid_request_error", "Failed to load image or audio file");
    json_string_set(json_object_get(iu, "url"), "<image>"); /* for last_request */
    char size[64];
    snprintf(size, sizeof size, "<image %dx%d>", ch->img[ch->n_img].width,
             ch->img[ch->n_img].height);
    json_string_set(json_object_get(iu, "url"), size);
    ch->n_img++;
    return 0;
}

static int check_messages(chat *ch, json_t *msgs)
{
    if (!json_is_array(msgs) || json_array_size(msgs) == 0)
        return bad(ch, 400, "invalid_request_error", "'messages' must be a non-empty array");
    size_t i, j;
    json_t *m, *part;
    json_array_foreach(msgs, i, m)
    {
        const char *role = json_string_value(json_object_get(m, "role"));
        if (!role || (strcmp(role, "system") && strcmp(role, "user") && strcmp(role, "assistant")))
            return bad(ch, 400, "invalid_request_error",
                       "message role must be system, user "
                       "or assistant");
        json_t *content = json_object_get(m, "content");
        if (json_is_string(content)) {
            ch->text_bytes += json_string_length(content);
            continue;
        }
        if (!json_is_array(content) || strcmp(role, "user") != 0)
            return bad(ch, 400, "invalid_request_error",
                       "content must be a string, or an array of parts in a user message");
        json_array_foreach(content, j, part)
        {
            const char *type = json_string_value(json_object_get(part, "type"));
            if (type && strcmp(type, "text") == 0) {
                json_t *t = json_object_get(part, "text");
                if (!json_is_string(t))
                    return bad(ch, 400, "invalid_request_error", "text part without text");
                ch->text_bytes += json_string_length(t);
                ch->window |= strstr(json_string_value(t), "\"frames\"") != NULL;
            } else if (type && strcmp(type, "image_url") == 0) {
                if (check_image(ch, part))
                    return -1;
            } else
                return bad(ch, 400, "invalid_request_error", "unsupported content[].type");
        }
    }
    return 0;
}

static int check_options(chat *ch, json_t *req)
{
    json_t *v = json_object_get(req, "max_tokens");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 1))
        return bad(ch, 400, "invalid_request_error", "max_tokens must be a positive integer");
    v = json_object_get(req, "temperature");
    if (v && (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 2))
        return bad(ch, 400, "invalid_request_error", "temperature must be in 0..2");
    v = json_object_get(req, "logprobs");
    json_t *top = json_object_get(req, "top_logprobs");
    if (v && !json_is_boolean(v))
        return bad(ch, 400, "invalid_request_error", "logprobs must be a boolean");
    if (top && (!json_is_true(v) || !json_is_integer(top) || json_integer_value(top) > 20))
        return bad(ch, 400, "invalid_request_error", "top_logprobs needs logprobs: true, <= 20");
    ch->logprobs = json_is_true(v);
    json_t *rf = json_object_get(req, "response_format");
    if (rf) {
        const char *type = json_string_value(json_object_get(rf, "type"));
        if (!type ||
            (strcmp(type, "text") && strcmp(type, "json_object") && strcmp(type, "json_schema")))
            return bad(ch, 400, "invalid_request_error", "response_format.type is unsupported");
        if (strcmp(type, "json_schema") == 0) {
            if (!json_is_object(json_object_get(json_object_get(rf, "json_schema"), "schema")))
                return bad(ch, 400, "invalid_request_error",
                           "response_format.json_schema.schema must be an object");
            if (S.no_schema)
                return bad(ch, 400, "invalid_request_error",
                           "Failed to initialize samplers: failed to parse grammar");
            ch->schema = 1;
            json_t *props = json_object_get(
                json_object_get(json_object_get(rf, "json_schema"), "schema"), "properties");
            ch->window = json_object_get(props, "frames") != NULL;
        }
    }
    if (S.strict_model) {
        const char *model = json_string_value(json_object_get(req, "model"));
        if (!model || strcmp(model, S.model) != 0) {
            char msg[200];
            snprintf(msg, sizeof msg, "The model `%s` does not exist.", model ? model : "");
            return bad(ch, 404, "NotFoundError", msg);
        }
    }
    if (ch->n_img > S.max_images) {
        char msg[128];
        snprintf(msg, sizeof msg, "At most %d image(s) may be provided in one request.",
                 S.max_images);
        return bad(ch, 400, "invalid_request_error", msg);
    }
    return 0;
}

/* A black frame it cannot tell, unless it reads text on it (a terminal). */
static int cannot_tell(const vlm_image *im)
{
    return strcmp(im->colour, "black") == 0 && !(S.read_text && im->text[0]);
}

static json_t *frame_answer(const vlm_image *im, int number)
{
    char desc[512];
    int dark = cannot_tell(im);
    if (dark)
        snprintf(desc, sizeof desc, "A black %dx%d frame; I cannot tell what it shows.", im->width,
                 im->height);
    else
        snprintf(desc, sizeof desc, "A %dx%d frame, mostly %s%s.", im->width, im->height,
                 im->colour, im->flat ? " (one flat colour)" : "");
    if (S.read_text && (im->text[0] || im->unreadable)) { /* what it reads, as a model quotes */
        size_t l = strlen(desc);
        char first[96];
        snprintf(first, sizeof first, "%.*s", (int)strcspn(im->text, "\n"), im->text);
        snprintf(desc + l, sizeof desc - l, "%s%s%s%s", im->text[0] ? " It reads \"" : "", first,
                 im->text[0] ? "\"." : "",
                 im->unreadable ? " Some text is too small to read." : "");
    }
    char obj[64];
    snprintf(obj, sizeof obj, "%s area", im->colour);
    const char *inject = S.inject_text ? S.inject_text : "";
    size_t n = strlen(desc) + strlen(inject) + 2;
    char *full = malloc(n);
    snprintf(full, n, "%s%s%s", desc, *inject ? " " : "", inject);
    json_t *o = json_pack("{s:s, s:s, s:s, s:[s], s:b}", "description", full, "actions", "", "text",
                          S.inject_text ? inject : im->text, "objects", obj, "uncertain", dark);
    free(full);
    if (number > 0)
        json_object_set_new(o, "frame", json_integer(number));
    return o;
}

/* One frame shown as n images (regions of it): the first one's description, every
 * part's text. */
static json_t *parts_answer(const vlm_image *im, int n)
{
    json_t *o = frame_answer(&im[0], 0);
    if (n == 1)
        return o;
    char text[4096] = "";
    for (int i = 0; i < n; i++) {
        const char *t = S.inject_text ? S.inject_text : im[i].text;
        size_t l = strlen(text);
        if (*t)
            snprintf(text + l, sizeof text - l, "%s%s", l ? "\n" : "", t);
    }
    json_object_set_new(o, "text", json_string(text));
    return o;
}

/* The model's text: the answer JSON as is (json_schema), in a fenced block after a
 * prose line, or prose only (--prose). A text-only request is a summary request. */
static char *answer_text(const chat *ch, json_t *messages)
{
    json_t *ans;
    if (ch->n_img == 0) {
        ans = summary_answer(messages);
    } else if (ch->n_img == 1 || !ch->window) {
        ans = parts_answer(ch->img, ch->n_img); /* one frame, maybe shown in parts */
    } else {
        json_t *frames = json_array();
        char changes[512] = "";
        for (int i = 0; i < ch->n_img; i++) {
            json_array_append_new(frames, frame_answer(&ch->img[i], i + 1));
            if (i && strcmp(ch->img[i].colour, ch->img[i - 1].colour) != 0) {
                size_t l = strlen(changes);
                snprintf(changes + l, sizeof changes - l, "%sframe %d turns %s", l ? "; " : "",
                         i + 1, ch->img[i].colour);
            }
        }
        ans = json_pack("{s:o, s:s}", "frames", frames, "changes",
                        changes[0] ? changes : "nothing changes");
    }
    char *json = json_dumps(ans, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (ch->schema) {
        json_decref(ans);
        return json;
    }
    size_t n = strlen(json) + 256;
    char *text = malloc(n);
    if (S.prose && ch->n_img == 0) /* a model that ignores the format: no JSON at all */
        snprintf(text, n, "%s", json_string_value(json_object_get(ans, "summary")));
    else if (S.prose)
        snprintf(text, n, "I see %d image(s); the first is mostly %s.", ch->n_img,
                 ch->img[0].colour);
    else /* what models do without a grammar: prose around a fenced block */
        snprintf(text, n, "Here is %s:\n```json\n%s\n```\n",
                 ch->n_img ? "what I see" : "the summary", json);
    json_decref(ans);
    free(json);
    return text;
}

/* Token logprobs in the llama-server shape; an uncertain answer is less sure. */
static json_t *logprobs_of(const char *text, int unsure)
{
    json_t *content = json_array();
    size_t n = strlen(text);
    double lp = unsure ? -1.2 : -0.03;
    for (size_t i = 0; i < n; i += 4) {
        char tok[5] = {0};
        memcpy(tok, text + i, n - i < 4 ? n - i : 4);
        json_array_append_new(content, json_pack("{s:s%, s:f, s:[{s:s%, s:f}]}", "token", tok,
                                                 strlen(tok), "logprob", lp, "top_logprobs",
                                                 "token", tok, strlen(tok), "logprob", lp));
    }
    return json_pack("{s:o}", "content", content);
}

static void record(json_t *req, const chat *ch)
{
    pthread_mutex_lock(&S.mu);
    S.answered++;
    S.images += ch->n_img;
    S.schema_requests += ch->schema;
    S.logprob_requests += ch->logprobs;
    for (int i = 0; i < ch->n_img; i++) {
        json_array_append_new(S.image_sizes,
                              json_pack("[i, i]", ch->img[i].width, ch->img[i].height));
        json_array_append_new(S.colours, json_string(ch->img[i].colour));
    }
    json_decref(S.last_request);
    S.last_request = json_incref(req);
    if (ch->n_img == 0) {
        S.summary_requests++;
        json_decref(S.last_summary_request);
        S.last_summary_request = json_incref(req);
    }
    pthread_mutex_unlock(&S.mu);
}

static int answer(struct mg_connection *c, json_t *req, chat *ch)
{
    int unsure = 0;
    for (int i = 0; i < ch->n_img; i++)
        unsure |= cannot_tell(&ch->img[i]);
    hold_slot();
    char *text = answer_text(ch, json_object_get(req, "messages"));
    int image_tokens = 0;
    for (int i = 0; i < ch->n_img; i++)
        image_tokens += vlm_image_tokens(ch->img[i].width, ch->img[i].height);
    int prompt = (int)(ch->text_bytes / 4) + image_tokens, completion = (int)strlen(text) / 4;
    /* a frame's answer ends at the context's end, or at max_tokens, as llama-server's does
     * (a summary is written to fit: the double's copies its input's lines) */
    json_int_t max = json_integer_value(json_object_get(req, "max_tokens"));
    int room = S.ctx - prompt < (max > 0 ? max : S.ctx) ? S.ctx - prompt : (int)max;
    const char *finish = "stop";
    if (ch->n_img > 0 && completion > room) {
        size_t cut = room > 0 ? (size_t)room * 4 : 0;
        while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80) /* a whole character */
            cut--;
        text[cut] = '\0';
        completion = room > 0 ? room : 0, finish = "length";
    }
    pthread_mutex_lock(&S.mu);
    S.max_prompt = prompt > S.max_prompt ? prompt : S.max_prompt;
    S.length_stops += finish[0] == 'l';
    pthread_mutex_unlock(&S.mu);
    json_t *choice = json_pack("{s:i, s:s, s:{s:s, s:s}}", "index", 0, "finish_reason", finish,
                               "message", "role", "assistant", "content", text);
    if (ch->logprobs)
        json_object_set_new(choice, "logprobs", logprobs_of(text, unsure));
    json_t *resp =
        json_pack("{s:s, s:s, s:I, s:s, s:[o], s:{s:i, s:i, s:i}, s:{s:f, s:f}}", "id",
                  "chatcmpl-fwtest", "object", "chat.completion", "created", (json_int_t)time(NULL),
                  "model", S.model, "choices", choice, "usage", "prompt_tokens", prompt,
                  "completion_tokens", completion, "total_tokens", prompt + completion, "timings",
                  "prompt_ms", (double)S.latency_ms / 2, "predicted_ms", (double)S.latency_ms / 2);
    free(text);
    record(req, ch); /* before the answer: a client's next request must see it counted */
    send_json(c, 200, resp);
    json_decref(resp);
    return 200;
}

int on_chat(struct mg_connection *c, void *cb)
{
    (void)cb;
    pthread_mutex_lock(&S.mu);
    S.requests++;
    S.chat++;
    int seq = ++S.seq;
    pthread_mutex_unlock(&S.mu);
    int refused = admit(c);
    if (refused)
        return refused;
    long long len;
    int handled;
    char *body = take_request(c, seq, &len, &handled);
    if (!body)
        return handled;
    const char *ctype = mg_get_header(c, "Content-Type");
    chat *ch = calloc(1, sizeof *ch);
    json_error_t jerr;
    json_t *req = NULL;
    int status = 0;
    if (!ctype || !strstr(ctype, "application/json"))
        bad(ch, 400, "invalid_request_error", "Content-Type must be application/json");
    else if (!(req = json_loadb(body, (size_t)len, 0, &jerr)) || !json_is_object(req))
        bad(ch, 500, "server_error", "[json.exception.parse_error.101] parse error");
    else if (!check_messages(ch, json_object_get(req, "messages")) && !check_options(ch, req)) {
        int tokens = (int)(ch->text_bytes / 4);
        for (int i = 0; i < ch->n_img; i++)
            tokens += vlm_image_tokens(ch->img[i].width, ch->img[i].height);
        fault *cf = ch->n_img ? match_fault(seq, ch->img[0].colour) : NULL;
        if (cf)
            status = act(c, cf) ? 200 : 1;
        else if (tokens > S.ctx) {
            char msg[200]; /* llama-server's words */
            snprintf(msg, sizeof msg,
                     "request (%d tokens) exceeds the available context size (%d tokens), try "
                     "increasing it",
                     tokens, S.ctx);
            json_t *e = json_pack("{s:{s:i, s:s, s:s, s:i, s:i}}", "error", "code", 400, "message",
                                  msg, "type", "exceed_context_size_error", "n_prompt_tokens",
                                  tokens, "n_ctx", S.ctx);
            send_json(c, 400, e);
            json_decref(e);
            pthread_mutex_lock(&S.mu);
            S.context_errors++;
            pthread_mutex_unlock(&S.mu);
            status = 400;
        } else
            status = answer(c, req, ch);
    }
    if (ch->status) {
        send_error(c, ch->status, ch->err_type, ch->err);
        status = ch->status;
    }
    json_decref(req);
    free(ch);
    free(body);
    return status ? status : 1;
}
