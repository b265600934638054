/* The start-up check of the openai backend: the server answers, and what it says of
 * itself (its model, its parallel slots, a slot's context). */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/openai.h"
#include "analyze/openai_msg.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/http.h"

#define PROBE_TIMEOUT_MS 5000L
#define MAX_PROBE_BODY (1 << 20)

typedef struct probe_ctx {
    struct curl_slist *headers;
} probe_ctx;

typedef struct buffer {
    char *resp;
    size_t resp_len, resp_cap;
    char errbuf[CURL_ERROR_SIZE];
} buffer;

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    buffer *b = user;
    return fw_http_append(&b->resp, &b->resp_len, &b->resp_cap, data, size * nmemb, MAX_PROBE_BODY);
}

/* A GET with a short timeout; fills status and the body. 0 or the curl error. */
static CURLcode get(probe_ctx *s, const char *url, long timeout_ms, long *status, buffer *buf)
{
    CURL *e = curl_easy_init();
    if (!e)
        return CURLE_OUT_OF_MEMORY;
    buf->resp_len = 0;
    buf->errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, buf);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, buf->errbuf);
    CURLcode cc = curl_easy_perform(e);
    *status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(e);
    return cc;
}

int fw_oa_probe(const char *user_url, const char *base, struct curl_slist *headers,
                const char *given_model, char **model, int *concurrency, int *n_ctx, fw_error *err)
{
    probe_ctx ctx = {headers}, *s = &ctx;
    buffer buf = {0};
    long status = 0;
    char url[1200];
    snprintf(url, sizeof url, "%s/models", base);
    double t0 = fw_now_s();
    CURLcode cc = get(s, url, PROBE_TIMEOUT_MS, &status, &buf);
    int rc = 0;
    if (cc != CURLE_OK) {
        rc = fw_error_set(err, FW_ENET, "%s: cannot reach the model server: %s", user_url,
                          fw_oa_curl_why(cc, buf.errbuf));
    } else if (status == 401 || status == 403) {
        char msg[256], type[64];
        fw_http_error_text(buf.resp ? buf.resp : "", buf.resp_len, msg, sizeof msg, type,
                           sizeof type);
        rc = fw_error_set(err, FW_ENET,
                          "%s: the server refused the API key: %ld %s (check the api-key "
                          "setting or FRAMEWISE_API_KEY)",
                          user_url, status, msg);
    } else if (status == 200) {
        json_t *root = json_loadb(buf.resp ? buf.resp : "", buf.resp_len, 0, NULL);
        json_t *first = json_array_get(json_object_get(root, "data"), 0);
        const char *id = json_string_value(json_object_get(first, "id"));
        if (id && !given_model)
            *model = strdup(id);
        json_int_t len = json_integer_value(json_object_get(first, "max_model_len")); /* vLLM */
        *n_ctx = len > 0 ? (len > (1 << 24) ? 1 << 24 : (int)len) : 0; /* nonsense is unknown */
        json_decref(root);
    }
    if (!rc) {
        /* llama-server tells its parallel slots; more requests than slots only queue */
        char origin[1100];
        snprintf(origin, sizeof origin, "%s", base);
        size_t len = strlen(origin);
        if (len > 3 && strcmp(origin + len - 3, "/v1") == 0)
            origin[len - 3] = '\0';
        snprintf(url, sizeof url, "%s/props", origin);
        long left = PROBE_TIMEOUT_MS - (long)((fw_now_s() - t0) * 1000);
        if (left > 200 && get(s, url, left, &status, &buf) == CURLE_OK && status == 200) {
            json_t *root = json_loadb(buf.resp ? buf.resp : "", buf.resp_len, 0, NULL);
            json_int_t slots = json_integer_value(json_object_get(root, "total_slots"));
            if (slots > 0 && *concurrency == 0)
                *concurrency = slots > 64 ? 64 : (int)slots;
            json_int_t slot_ctx = json_integer_value(
                json_object_get(json_object_get(root, "default_generation_settings"), "n_ctx"));
            if (slot_ctx > 0) /* llama-server: a slot's share of -c */
                *n_ctx = slot_ctx > (1 << 24) ? 1 << 24 : (int)slot_ctx;
            json_decref(root);
        }
        if (*concurrency == 0)
            *concurrency = 4;
    }
    if (!*model)
        *model = strdup(given_model ? given_model : "");
    free(buf.resp);
    return rc;
}
