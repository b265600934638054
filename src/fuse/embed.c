/* Text embeddings: the built-in hashed n-gram vectors and an /v1/embeddings client. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/http.h"
#include "core/textnorm.h"
#include "core/utf8.h"
#include "fuse/fuse.h"

#define BATCH 32       /* inputs per request */
#define MAX_INPUT 2000 /* bytes of one input before the server has a say */
#define MIN_INPUT 64   /* an input is not cut below this */
#define MAX_CPS 4096   /* code points of a text the n-gram vector looks at */

struct fw_embedder {
    fw_embed_params p;
    char base[1024];
    char name[256];
    int requests;
};

/* ---- hashed n-grams ---- */

static uint64_t fnv(uint64_t h, const uint32_t *cp, int n)
{
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 4; k++) {
            h ^= (cp[i] >> (8 * k)) & 0xFF;
            h *= 0x100000001b3ULL;
        }
    return h;
}

static void add(float *v, uint64_t h, float w)
{
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    v[h % FW_NGRAM_DIM] += (h >> 63) ? -w : w;
}

/* A Latin-script word (as code points): the word itself and its 3..5-grams with
 * boundary marks, so "timed" and "timeout" share " ti", "tim", "time". */
static void latin_word(float *v, const uint32_t *w, int n)
{
    add(v, fnv(0xcbf29ce484222325ULL ^ 'w', w, n), 1.0f);
    uint32_t b[70];
    if (n > 64)
        n = 64;
    b[0] = ' ';
    memcpy(b + 1, w, n * sizeof *w);
    b[n + 1] = ' ';
    for (int g = 3; g <= 5; g++)
        for (int i = 0; i + g <= n + 2; i++)
            add(v, fnv(0xcbf29ce484222325ULL ^ (uint64_t)g, b + i, g), 0.5f);
}

/* A run of CJK characters: 1..3-grams (Chinese words are one to three characters). */
static void cjk_run(float *v, const uint32_t *r, int n)
{
    for (int g = 1; g <= 3; g++)
        for (int i = 0; i + g <= n; i++)
            add(v, fnv(0xcbf29ce484222325ULL ^ (uint64_t)(16 + g), r + i, g), g == 1 ? 0.5f : 1.0f);
}

void fw_embed_ngrams(const char *text, float out[FW_NGRAM_DIM])
{
    memset(out, 0, FW_NGRAM_DIM * sizeof *out);
    /* on the stack: 16 KB of thread-local storage would be taken from every thread's stack,
     * including civetweb's small ones (glibc puts static TLS there) */
    uint32_t cps[MAX_CPS];
    int n = 0;
    while (*text && n < MAX_CPS)
        cps[n++] = fw_fold_cp(fw_utf8_next(&text));
    for (int i = 0; i < n;) {
        int j = i;
        if (fw_cp_is_cjk(cps[i])) {
            while (j < n && fw_cp_is_cjk(cps[j]))
                j++;
            cjk_run(out, cps + i, j - i);
        } else if (fw_cp_is_word(cps[i]) && cps[i] != '\'') {
            while (j < n && fw_cp_is_word(cps[j]))
                j++;
            latin_word(out, cps + i, j - i);
        } else
            j++;
        i = j;
    }
    double norm = 0;
    for (int i = 0; i < FW_NGRAM_DIM; i++)
        norm += (double)out[i] * out[i];
    if (norm > 0)
        for (int i = 0; i < FW_NGRAM_DIM; i++)
            out[i] = (float)(out[i] / sqrt(norm));
}

float fw_cosine(const float *a, const float *b, int dim)
{
    double s = 0;
    for (int i = 0; i < dim; i++)
        s += (double)a[i] * b[i];
    return (float)s;
}

/* ---- the /v1/embeddings client ---- */

int fw_embedder_open(fw_embedder **out, const fw_embed_params *p, fw_error *err)
{
    fw_embedder *e = calloc(1, sizeof *e);
    if (!e)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    e->p = *p;
    snprintf(e->name, sizeof e->name, "ngram-%d", FW_NGRAM_DIM);
    if (p->url) {
        fw_http_api_base(p->url, e->base, sizeof e->base);
        snprintf(e->name, sizeof e->name, "%s", p->model ? p->model : "");
        if (!p->model) { /* the server's first model */
            char url[1100];
            snprintf(url, sizeof url, "%s/models", e->base);
            fw_http_params hp = {p->api_key,
                                 p->timeout_s < 10 ? p->timeout_s : 10,
                                 1,
                                 NULL,
                                 p->stall_timeout_s,
                                 p->max_retry_wait_s};
            fw_http_result r;
            json_t *root;
            int rc = fw_http_post_json(&hp, url, NULL, &root, &r, err);
            e->requests += r.attempts;
            if (rc) {
                free(e);
                char why[sizeof err->message];
                snprintf(why, sizeof why, "%s", err->message);
                return fw_error_set(err, FW_ENET, "embed-url: %s", why);
            }
            const char *id = json_string_value(
                json_object_get(json_array_get(json_object_get(root, "data"), 0), "id"));
            snprintf(e->name, sizeof e->name, "%s", id ? id : "");
            json_decref(root);
        }
    }
    *out = e;
    return 0;
}

const char *fw_embedder_name(const fw_embedder *e)
{
    return e->name;
}

int fw_embedder_requests(const fw_embedder *e)
{
    return e->requests;
}

void fw_embedder_close(fw_embedder *e)
{
    free(e);
}

/* The first max bytes of s, cut at a character boundary. */
static json_t *cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return json_stringn(s, n);
}

/* Reads an embeddings answer for n inputs into *out (n * *dim, malloc'd). */
static int read_answer(json_t *root, int n, const char *url, float **out, int *dim, fw_error *err)
{
    json_t *data = json_object_get(root, "data"), *item;
    int d = (int)json_array_size(json_object_get(json_array_get(data, 0), "embedding"));
    if ((int)json_array_size(data) != n || d == 0 || (*dim && d != *dim))
        return fw_error_set(err, FW_ENET, "%s: %d embeddings of %d dimensions for %d inputs", url,
                            (int)json_array_size(data), d, n);
    if (!(*out = calloc((size_t)n * d, sizeof **out)))
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    size_t i;
    json_array_foreach(data, i, item)
    {
        json_t *vec = json_object_get(item, "embedding");
        json_t *index = json_object_get(item, "index");
        json_int_t k = json_is_integer(index) ? json_integer_value(index) : (json_int_t)i;
        if (k < 0 || k >= n || (int)json_array_size(vec) != d) {
            free(*out);
            *out = NULL;
            return fw_error_set(err, FW_ENET, "%s: a malformed embeddings answer", url);
        }
        double norm = 0;
        for (int j = 0; j < d; j++) {
            double x = json_number_value(json_array_get(vec, j));
            (*out)[k * d + j] = (float)x;
            norm += x * x;
        }
        for (int j = 0; j < d && norm > 0; j++) /* not every server normalises */
            (*out)[k * d + j] = (float)((*out)[k * d + j] / sqrt(norm));
    }
    *dim = d;
    return 0;
}

/* One request for texts[0..n): 0 with *out (n * *dim), 1 when the server finds it too
 * large (and it can be made smaller), or an error. */
static int request(fw_embedder *e, const char *const *texts, int n, size_t max_bytes, float **out,
                   int *dim, fw_error *err)
{
    json_t *input = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(input, cut(texts[i][0] ? texts[i] : " ", max_bytes));
    json_t *body = json_pack("{s:o, s:s}", "input", input, "encoding_format", "float");
    if (e->name[0])
        json_object_set_new(body, "model", json_string(e->name));
    char url[1100];
    snprintf(url, sizeof url, "%s/embeddings", e->base);
    fw_http_params hp = {e->p.api_key, e->p.timeout_s,       e->p.retries,
                         NULL,         e->p.stall_timeout_s, e->p.max_retry_wait_s};
    fw_http_result r;
    json_t *root = NULL;
    int rc = fw_http_post_json(&hp, url, body, &root, &r, err);
    json_decref(body);
    e->requests += r.attempts;
    if (rc && fw_http_too_big(&r) &&
        (n > 1 || (max_bytes > MIN_INPUT && strlen(texts[0]) > MIN_INPUT)))
        return 1;
    if (rc && r.status == 501)
        return fw_error_set(err, FW_ENET,
                            "%s: the server does not serve embeddings (start llama-server with "
                            "--embeddings, or give an embedding model's server)",
                            e->p.url);
    if (rc)
        return rc;
    rc = read_answer(root, n, url, out, dim, err);
    json_decref(root);
    return rc;
}

/* Embeds texts[0..n) into all + offset * dim (all: total vectors, allocated once the
 * dimension is known), halving batches, then inputs, that the server finds too large. */
static int embed_range(fw_embedder *e, const char *const *texts, int n, size_t max_bytes,
                       float **all, int total, int offset, int *dim, fw_error *err)
{
    float *part = NULL;
    int rc = request(e, texts, n, max_bytes, &part, dim, err);
    if (rc == 1 && n > 1) {
        int h = n / 2;
        rc = embed_range(e, texts, h, max_bytes, all, total, offset, dim, err);
        return rc ? rc
                  : embed_range(e, texts + h, n - h, max_bytes, all, total, offset + h, dim, err);
    }
    if (rc == 1) { /* one input too large: half of what was sent */
        size_t sent = strlen(texts[0]) < max_bytes ? strlen(texts[0]) : max_bytes;
        return embed_range(e, texts, 1, sent / 2, all, total, offset, dim, err);
    }
    if (rc)
        return rc;
    if (!*all && !(*all = malloc((size_t)total * *dim * sizeof **all))) {
        free(part);
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    }
    memcpy(*all + (size_t)offset * *dim, part, (size_t)n * *dim * sizeof *part);
    free(part);
    return 0;
}

int fw_embed(fw_embedder *e, const char *const *texts, int n, float **out, int *dim, fw_error *err)
{
    *out = NULL;
    if (!e->p.url) {
        *dim = FW_NGRAM_DIM;
        if (!(*out = malloc((size_t)(n ? n : 1) * FW_NGRAM_DIM * sizeof **out)))
            return fw_error_set(err, FW_ENOMEM, "out of memory");
        for (int i = 0; i < n; i++)
            fw_embed_ngrams(texts[i], *out + (size_t)i * FW_NGRAM_DIM);
        return 0;
    }
    int d = 0;
    for (int i = 0; i < n; i += BATCH) {
        int rc =
            embed_range(e, texts + i, n - i < BATCH ? n - i : BATCH, MAX_INPUT, out, n, i, &d, err);
        if (rc) {
            free(*out);
            *out = NULL;
            return rc;
        }
    }
    *dim = d;
    if (!*out && !(*out = malloc(sizeof **out)))
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    return 0;
}
