/* URL inputs: fetched by the server itself into a file, through the URL guard (the
 * address is checked when the connection opens), at most max_upload bytes, with the job's
 * cancel honoured. The analysis then reads a local file (and the store knows it by its
 * bytes). */
#include <stdio.h>
#include <string.h>

#include "framewise.h"
#include "serve/service.h"

typedef struct sink {
    FILE *f;
    int64_t bytes, max;
    fw_service *s;
    int64_t id;
    int too_big;
} sink;

static size_t write_cb(char *data, size_t size, size_t n, void *user)
{
    sink *k = user;
    size_t len = size * n;
    k->bytes += (int64_t)len;
    if (k->bytes > k->max) {
        k->too_big = 1;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    return fwrite(data, 1, len, k->f);
}

static int progress_cb(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    sink *k = user;
    return fw_hub_cancelled(k->s->hub, k->id); /* non-zero aborts */
}

int fw_fetch(fw_service *s, int64_t id, const char *url, const char *bearer, const char *to,
             char *why, size_t size)
{
    sink k = {.f = fopen(to, "wb"), .max = s->cfg->max_upload, .s = s, .id = id};
    if (!k.f) {
        snprintf(why, size, "%s: cannot store the download", url);
        return -1;
    }
    CURL *h = curl_easy_init();
    char cerr[CURL_ERROR_SIZE] = "";
    long status = 0;
    CURLcode rc = CURLE_FAILED_INIT;
    struct curl_slist *auth = NULL;
    if (h && bearer) {
        char line[300];
        snprintf(line, sizeof line, "Authorization: Bearer %s", bearer);
        auth = curl_slist_append(NULL, line);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, auth);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    }
    if (h) {
        if (!bearer)
            fw_guard_curl(&s->guard, h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &k);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)FW_SERVE_FETCH_TIMEOUT_S);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "framewise/" FW_VERSION);
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(h);
    }
    curl_slist_free_all(auth);
    int bad = fclose(k.f) != 0;
    if (rc == CURLE_OK && status >= 200 && status < 300 && !bad)
        return 0;
    if (rc == CURLE_ABORTED_BY_CALLBACK) { /* the hub said stop: not the URL's fault */
        snprintf(why, size, "%s: stopped while it was fetched", url);
        remove(to);
        return 1;
    }
    if (k.too_big)
        snprintf(why, size, "%s: larger than this server takes (%lld bytes)", url,
                 (long long)k.max);
    else if (rc == CURLE_COULDNT_CONNECT && strstr(cerr, "socket"))
        snprintf(why, size, "%s: refused: it resolves to an address this server does not reach",
                 url);
    else if (rc == CURLE_OK)
        snprintf(why, size, "%s: the server answered %ld%s", url, status,
                 status >= 300 && status < 400 ? " (redirects are not followed)" : "");
    else
        snprintf(why, size, "%s: %s", url, cerr[0] ? cerr : curl_easy_strerror(rc));
    remove(to);
    return -1;
}
