#include "core/http.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"

#define BACKOFF_BASE_S 0.5
#define BACKOFF_MAX_S 30.0
#define RETRY_AFTER_MAX_S 120.0

typedef struct buf {
    char *p;
    size_t len, cap;
    double retry_after;           /* -1: none */
    char errbuf[CURL_ERROR_SIZE]; /* curl's, for the handle's life */
    fw_http_watch watch;
} buf;

size_t fw_http_append(char **p, size_t *len, size_t *cap, const char *data, size_t n, size_t max)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 16384;
        while (c < *len + n + 1)
            c *= 2;
        char *q = c <= max ? realloc(*p, c) : NULL;
        if (!q)
            return 0;
        *p = q;
        *cap = c;
    }
    memcpy(*p + *len, data, n);
    *len += n;
    (*p)[*len] = '\0';
    return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    buf *b = user;
    fw_http_watch_got(&b->watch, size * nmemb);
    size_t n = fw_http_append(&b->p, &b->len, &b->cap, data, size * nmemb, FW_HTTP_MAX_ANSWER);
    b->watch.too_large |= n != size * nmemb;
    return n;
}

/* libcurl's progress callback: non-zero abandons the transfer. */
static int watch_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                          curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    fw_http_watch *w = user;
    if (w->cancel && atomic_load(w->cancel))
        return 1;
    if (w->stall_s <= 0 || !w->mark_at)
        return 0;
    double t = fw_now_s();
    if (w->bytes - w->mark_bytes >= FW_HTTP_STALL_BYTES) {
        w->mark_at = t; /* a full span came: count the next one */
        w->mark_bytes = w->bytes;
    } else if (t - w->mark_at > w->stall_s) {
        w->stalled = 1;
        return 1;
    }
    return 0;
}

void fw_http_watch_start(fw_http_watch *w, void *curl_easy)
{
    CURL *e = curl_easy;
    w->mark_at = 0;
    w->bytes = w->mark_bytes = 0;
    w->stalled = w->too_large = 0;
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, watch_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, w);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
}

void fw_http_watch_got(fw_http_watch *w, size_t n)
{
    if (!w->mark_at)
        w->mark_at = fw_now_s(); /* the answer began */
    w->bytes += n;
}

const char *fw_http_watch_why(const fw_http_watch *w, char *buf, size_t n)
{
    if (w->too_large)
        snprintf(buf, n, "answer larger than %u MB", FW_HTTP_MAX_ANSWER >> 20);
    else if (w->stalled)
        snprintf(buf, n,
                 "the answer stalled: less than %d bytes of it within %g s (the stall-timeout "
                 "setting)",
                 FW_HTTP_STALL_BYTES, w->stall_s);
    else
        return NULL;
    return buf;
}

double fw_http_retry_after(const char *line, size_t n)
{
    static const char name[] = "retry-after:";
    if (n <= sizeof name || strncasecmp(line, name, sizeof name - 1) != 0)
        return -1;
    char v[128];
    size_t len = n - (sizeof name - 1) < sizeof v - 1 ? n - (sizeof name - 1) : sizeof v - 1;
    memcpy(v, line + sizeof name - 1, len);
    v[len] = '\0';
    char *end;
    double secs = strtod(v, &end);
    if (end != v && secs >= 0)
        return secs;
    time_t when = curl_getdate(v, NULL); /* an HTTP date */
    if (when <= 0)
        return -1;
    return difftime(when, time(NULL)) > 0 ? difftime(when, time(NULL)) : 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user)
{
    buf *b = user;
    fw_http_watch_got(&b->watch, size * nmemb);
    double secs = fw_http_retry_after(data, size * nmemb);
    if (secs >= 0)
        b->retry_after = secs;
    return size * nmemb;
}

static void one_line(const char *in, size_t len, char *out, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < len && in[i] && j + 1 < n; i++)
        out[j++] = in[i] == '\n' || in[i] == '\r' || in[i] == '\t' ? ' ' : in[i];
    if (j + 1 == n && j < len && in[j]) /* cut: not inside a UTF-8 sequence */
        while (j > 0 && ((unsigned char)in[j] & 0xC0) == 0x80)
            j--;
    while (j > 0 && out[j - 1] == ' ')
        j--;
    out[j] = '\0';
}

void fw_http_error_text(const char *body, size_t len, char *msg, size_t msg_n, char *type,
                        size_t type_n)
{
    msg[0] = type[0] = '\0';
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *e = json_object_get(root, "error");
    json_t *holder = json_is_object(e) ? e : root;
    const char *m = json_is_string(e) ? json_string_value(e)
                                      : json_string_value(json_object_get(holder, "message"));
    const char *t = json_string_value(json_object_get(holder, "type"));
    if (m)
        one_line(m, strlen(m), msg, msg_n);
    else
        one_line(body, len, msg, msg_n);
    if (t)
        one_line(t, strlen(t), type, type_n);
    json_decref(root);
}

void fw_http_api_base(const char *url, char *out, size_t n)
{
    snprintf(out, n, "%s", url);
    size_t len = strlen(out);
    while (len > 0 && out[len - 1] == '/')
        out[--len] = '\0';
    const char *host = strstr(out, "://");
    if (host && !strchr(host + 3, '/') && len + 3 < n)
        strcat(out, "/v1"); /* a bare server address: the API lives under /v1 */
}

int fw_http_url_at(const char *list, int i, char *out, size_t n)
{
    if (n)
        out[0] = '\0';
    const char *c = list;
    for (int k = 0; c && k < i; k++) {
        c = strchr(c, ',');
        c = c ? c + 1 : NULL;
    }
    if (!c)
        return 0;
    size_t len = strcspn(c, ",");
    while (len > 0 && (*c == ' ' || *c == '\t'))
        c++, len--;
    while (len > 0 && (c[len - 1] == ' ' || c[len - 1] == '\t'))
        len--;
    snprintf(out, n, "%.*s", (int)len, c);
    return 1;
}

int fw_http_url_count(const char *list)
{
    int n = list ? 1 : 0;
    for (const char *c = list; c && (c = strchr(c, ',')); c++)
        n++;
    return n;
}

void fw_http_url_shown(const char *url, char *out, size_t n)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    size_t end = strcspn(host, "/?#"), at = end;
    while (at > 0 && host[at - 1] != '@')
        at--; /* user:password@ ends at the host part's last '@' */
    snprintf(out, n, "%.*s%.*s", (int)(host - url), url, (int)strcspn(host + at, "?#"), host + at);
}

json_t *fw_json_first_object(const char *text)
{
    int tries = 0;
    for (const char *c = strchr(text, '{'); c && tries < 64; c = strchr(c + 1, '{'), tries++) {
        json_t *v = json_loads(c, JSON_DISABLE_EOF_CHECK, NULL);
        if (json_is_object(v))
            return v;
        json_decref(v);
    }
    return NULL;
}

double fw_http_retry_delay(int attempts, double retry_after, double max_wait_s, unsigned *rng)
{
    double cap = max_wait_s > 0 ? max_wait_s : RETRY_AFTER_MAX_S;
    if (retry_after >= 0)
        return retry_after < cap ? retry_after : cap;
    double delay = BACKOFF_BASE_S * pow(2, attempts - 1);
    delay = delay > BACKOFF_MAX_S ? BACKOFF_MAX_S : delay;
    delay = delay > cap ? cap : delay;
    return delay * (0.5 + 0.5 * (rand_r(rng) / (double)RAND_MAX));
}

int fw_http_too_big(const fw_http_result *r)
{
    return (r->status == 400 || r->status == 413 || r->status == 500) &&
           (strcasestr(r->type, "exceed_context") || strcasestr(r->message, "context length") ||
            strcasestr(r->message, "context size") || strcasestr(r->message, "too large") ||
            strcasestr(r->message, "maximum context"));
}

static int cancelled(const fw_http_params *p)
{
    return p->cancel && atomic_load(p->cancel);
}

/* Waits seconds, or less when the call is cancelled. */
static void backoff(const fw_http_params *p, double seconds)
{
    for (double left = seconds; left > 0 && !cancelled(p); left -= 0.05)
        usleep((useconds_t)((left < 0.05 ? left : 0.05) * 1e6));
}

/* One attempt; fills res and, on a 200, b. */
static CURLcode attempt(CURL *e, buf *b, fw_http_result *res)
{
    b->len = 0;
    b->retry_after = -1;
    b->errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, b->errbuf);
    fw_http_watch_start(&b->watch, e);
    CURLcode cc = curl_easy_perform(e);
    res->attempts++;
    res->status = 0;
    res->type[0] = res->message[0] = '\0';
    const char *why = fw_http_watch_why(&b->watch, res->message, sizeof res->message);
    if (cc != CURLE_OK && !why)
        snprintf(res->message, sizeof res->message, "%s",
                 b->errbuf[0] ? b->errbuf : curl_easy_strerror(cc));
    if (cc != CURLE_OK)
        return cc;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &res->status);
    if (res->status != 200)
        fw_http_error_text(b->p ? b->p : "", b->len, res->message, sizeof res->message, res->type,
                           sizeof res->type);
    return cc;
}

static int transient(const fw_http_result *r, const char *last_500)
{
    if (r->status == 0)
        return 1;
    if (r->status == 500)
        return strcmp(r->message, last_500) != 0 && !fw_http_too_big(r);
    return r->status == 429 || r->status == 502 || r->status == 503 || r->status == 504;
}

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void fw_http_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, global_init);
}

int fw_http_post_json(const fw_http_params *p, const char *url, json_t *body, json_t **out,
                      fw_http_result *res, fw_error *err)
{
    fw_http_init();
    *out = NULL;
    memset(res, 0, sizeof *res);
    char *text = body ? json_dumps(body, JSON_COMPACT) : strdup("");
    CURL *e = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char auth[1100];
    if (p->api_key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", p->api_key);
        h = curl_slist_append(h, auth);
    }
    if (!text || !e || !h) {
        free(text);
        curl_easy_cleanup(e);
        curl_slist_free_all(h);
        return fw_error_set(err, FW_ENOMEM, "%s: out of memory", url);
    }
    buf b = {0};
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    if (body)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(p->timeout_s * 1000));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &b);
    b.watch.stall_s = p->stall_s;
    b.watch.cancel = p->cancel;
    char last_500[256] = "";
    double deadline = fw_now_s() + (p->retries + 1) * p->timeout_s;
    unsigned rng = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&b;
    int rc = 0;
    for (;;) {
        CURLcode cc = cancelled(p) ? CURLE_ABORTED_BY_CALLBACK : attempt(e, &b, res);
        if (cancelled(p)) {
            rc = fw_error_set(err, FW_ECANCELED, "%s: cancelled", url);
            break;
        }
        if (cc == CURLE_OK && res->status == 200) {
            json_t *v = json_loadb(b.p ? b.p : "", b.len, 0, NULL);
            if (json_is_object(v)) {
                *out = v;
                break;
            }
            json_decref(v);
            res->status = 0; /* a garbled 200 (a proxy, a cut body): worth a retry */
            snprintf(res->message, sizeof res->message, "the answer is not a JSON object");
        }
        double wait = fw_http_retry_delay(res->attempts, b.retry_after, p->max_retry_wait_s, &rng);
        const char *tail = NULL;
        if (!transient(res, last_500) || b.watch.too_large)
            tail = res->attempts > 1 ? " (after retries)" : "";
        else if (res->attempts > p->retries)
            tail = " (after retries)";
        else if (fw_now_s() + wait > deadline)
            tail = " (a retry would pass the call's deadline: retries + 1 timeouts)";
        if (tail) {
            rc = fw_error_set(err, FW_ENET, "%s: %s%.0ld%s%s%s", url, res->status ? "HTTP " : "",
                              res->status, res->status ? ": " : "", res->message, tail);
            break;
        }
        if (res->status == 500)
            snprintf(last_500, sizeof last_500, "%s", res->message);
        backoff(p, wait);
    }
    free(b.p);
    free(text);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    return rc;
}
