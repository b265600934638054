/* The probes of the openai backend's servers, on a curl multi handle: at start-up every
 * endpoint at once (it answers; what it says of itself: its model, its parallel slots, a
 * slot's context), and later a down endpoint's GET /models until it answers again. */
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
#define MIN_PROPS_MS 200L /* less left of the 5 s than this: /props is not asked */
#define MAX_PROBE_BODY (1 << 20)
#define MAX_SLOTS 64 /* a server saying more is believed up to this */

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    fw_oa_probe_get *b = user;
    return fw_http_append(&b->resp, &b->resp_len, &b->resp_cap, data, size * nmemb, MAX_PROBE_BODY);
}

/* {base} without its "/v1": llama-server's /props is at the origin. */
static void origin_of(const char *base, char *out, size_t n)
{
    snprintf(out, n, "%s", base);
    size_t len = strlen(out);
    if (len > 3 && strcmp(out + len - 3, "/v1") == 0)
        out[len - 3] = '\0';
}

int fw_oa_probe_start(CURLM *multi, struct curl_slist *headers, fw_oa_endpoint *ep, int stage,
                      long timeout_ms)
{
    fw_oa_probe_get *b = &ep->probe;
    CURL *e = curl_easy_init();
    if (!e) {
        snprintf(ep->why, sizeof ep->why, "out of memory");
        return -1;
    }
    char url[1200], origin[1100];
    origin_of(ep->base, origin, sizeof origin);
    if (stage == 1)
        snprintf(url, sizeof url, "%s/models", ep->base);
    else
        snprintf(url, sizeof url, "%s/props", origin);
    b->resp_len = 0;
    b->errbuf[0] = '\0';
    b->stage = stage;
    if (stage == 1)
        b->began = fw_now_s();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "framewise/" FW_VERSION);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, b->errbuf);
    if (curl_multi_add_handle(multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        snprintf(ep->why, sizeof ep->why, "libcurl refused a request");
        return -1;
    }
    b->easy = e;
    return 0;
}

/* What /models says: the first model (when none is given) and vLLM's max_model_len. */
static void read_models(fw_oa_endpoint *ep, const char *given_model)
{
    json_t *root = json_loadb(ep->probe.resp ? ep->probe.resp : "", ep->probe.resp_len, 0, NULL);
    json_t *first = json_array_get(json_object_get(root, "data"), 0);
    const char *id = json_string_value(json_object_get(first, "id"));
    if (id && !given_model && !ep->model)
        ep->model = strdup(id);
    json_int_t len = json_integer_value(json_object_get(first, "max_model_len")); /* vLLM */
    ep->n_ctx = len > 0 ? (len > (1 << 24) ? 1 << 24 : (int)len) : 0; /* nonsense is unknown */
    json_decref(root);
}

/* What llama-server's /props says: its parallel slots (more requests than slots only
 * queue) and a slot's share of -c. */
static void read_props(fw_oa_endpoint *ep, int concurrency)
{
    json_t *root = json_loadb(ep->probe.resp ? ep->probe.resp : "", ep->probe.resp_len, 0, NULL);
    json_int_t slots = json_integer_value(json_object_get(root, "total_slots"));
    if (slots > 0 && concurrency == 0)
        ep->slots = slots > MAX_SLOTS ? MAX_SLOTS : (int)slots;
    json_int_t slot_ctx = json_integer_value(
        json_object_get(json_object_get(root, "default_generation_settings"), "n_ctx"));
    if (slot_ctx > 0)
        ep->n_ctx = slot_ctx > (1 << 24) ? 1 << 24 : (int)slot_ctx;
    json_decref(root);
}

/* The end of ep's probe: 1 once it passed, 0 while it goes on (its /props asked), -1 when
 * it failed (ep->why says why). */
static int probe_end(CURLM *multi, struct curl_slist *headers, fw_oa_endpoint *ep, CURLcode cc,
                     fw_oa_probing how, const char *given_model, int concurrency, int *refused)
{
    fw_oa_probe_get *b = &ep->probe;
    long status = 0;
    curl_easy_getinfo(b->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(multi, b->easy);
    curl_easy_cleanup(b->easy);
    b->easy = NULL;
    if (b->stage == 2) { /* /props is a bonus: without it, 4 slots and what /models said */
        if (cc == CURLE_OK && status == 200)
            read_props(ep, concurrency);
        return 1;
    }
    if (cc != CURLE_OK) {
        snprintf(ep->why, sizeof ep->why, "%s", fw_oa_curl_why(cc, b->errbuf));
        return -1;
    }
    if (status == 401 || status == 403) {
        char msg[200], type[64];
        fw_http_error_text(b->resp ? b->resp : "", b->resp_len, msg, sizeof msg, type, sizeof type);
        snprintf(ep->why, sizeof ep->why, "%ld %s", status, msg);
        *refused = 1;
        return -1;
    }
    if (status != 200 && how == FW_OA_PROBE_BACK) {
        snprintf(ep->why, sizeof ep->why, "its /models answered HTTP %ld", status);
        return -1;
    }
    if (status == 200)
        read_models(ep, given_model);
    if (how == FW_OA_PROBE_BACK && ep->probed)
        return 1; /* what /props says is known already */
    long left = PROBE_TIMEOUT_MS - (long)((fw_now_s() - b->began) * 1000);
    if (left > MIN_PROPS_MS && !fw_oa_probe_start(multi, headers, ep, 2, left))
        return 0;
    return 1;
}

int fw_oa_probe_done(CURLM *multi, struct curl_slist *headers, fw_oa_endpoint *eps, int n,
                     CURL *easy, CURLcode cc, fw_oa_probing how, const char *given_model,
                     int concurrency, int *refused)
{
    for (int i = 0; i < n; i++) {
        fw_oa_endpoint *ep = &eps[i];
        if (!easy || ep->probe.easy != easy)
            continue;
        int rc = probe_end(multi, headers, ep, cc, how, given_model, concurrency, refused);
        if (rc > 0) {
            ep->up = ep->probed = 1;
            ep->fails = 0;
            ep->backoff_s = 1;
        }
        return i;
    }
    return -1;
}

static int probes_running(const fw_oa_endpoint *eps, int n)
{
    for (int i = 0; i < n; i++)
        if (eps[i].probe.easy)
            return 1;
    return 0;
}

int fw_oa_probe_all(CURLM *multi, struct curl_slist *headers, fw_oa_endpoint *eps, int n,
                    const char *given_model, int concurrency, fw_error *err)
{
    int refused = -1;
    for (int i = 0; i < n; i++) {
        eps[i].slots = concurrency > 0 ? concurrency : 0;
        fw_oa_probe_start(multi, headers, &eps[i], 1, PROBE_TIMEOUT_MS);
    }
    while (probes_running(eps, n)) {
        int running;
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left)))
            if (m->msg == CURLMSG_DONE) {
                int no = 0;
                int i = fw_oa_probe_done(multi, headers, eps, n, m->easy_handle, m->data.result,
                                         FW_OA_PROBE_OPEN, given_model, concurrency, &no);
                if (no && refused < 0)
                    refused = i;
            }
        if (probes_running(eps, n))
            curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    for (int i = 0; i < n; i++)
        if (eps[i].slots == 0)
            eps[i].slots = 4; /* the server did not say */
    if (refused >= 0)
        return fw_error_set(err, FW_ENET,
                            "%s: the server refused the API key: %s (check the api-key "
                            "setting or FRAMEWISE_API_KEY)",
                            eps[refused].shown, eps[refused].why);
    return 0;
}

int fw_oa_probe(const char *user_url, const char *base, struct curl_slist *headers,
                const char *given_model, char **model, int *concurrency, int *n_ctx, fw_error *err)
{
    fw_oa_endpoint *ep = calloc(1, sizeof *ep);
    CURLM *multi = curl_multi_init();
    int rc = !ep || !multi ? fw_error_set(err, FW_ENOMEM, "analyzer: out of memory") : 0;
    if (!rc) {
        snprintf(ep->shown, sizeof ep->shown, "%s", user_url);
        snprintf(ep->base, sizeof ep->base, "%s", base);
        rc = fw_oa_probe_all(multi, headers, ep, 1, given_model, *concurrency, err);
    }
    if (!rc && !ep->up)
        rc = fw_error_set(err, FW_ENET, "%s: cannot reach the model server: %s", user_url, ep->why);
    if (!rc) {
        if (*concurrency == 0)
            *concurrency = ep->slots;
        *n_ctx = ep->n_ctx;
    }
    if (ep) {
        *model = ep->model; /* taken: the endpoint's is NULL again */
        ep->model = NULL;
        fw_oa_endpoint_clear(ep, multi);
    }
    if (!*model)
        *model = strdup(given_model ? given_model : "");
    curl_multi_cleanup(multi);
    free(ep);
    return rc;
}
