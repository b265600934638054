#include "serve/notify.h"
#include "framewise.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/auth.h"
#include "serve/limits.h"

typedef struct call {
    char *url, *body;
    struct call *next;
} call;

struct fw_notifier {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    call *head, *tail;
    int stop;
    const fw_guard *guard;
    const char *token;
};

static size_t discard(char *p, size_t size, size_t n, void *user)
{
    (void)p, (void)user;
    return size * n;
}

/* One attempt: 1 when the receiver took it (2xx). */
static int post_once(fw_notifier *n, const call *c)
{
    CURL *h = curl_easy_init();
    if (!h)
        return 0;
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    char sig[100];
    if (n->token) {
        char mac[65];
        fw_hmac_hex(n->token, c->body, strlen(c->body), mac);
        snprintf(sig, sizeof sig, "X-Framewise-Signature: sha256=%s", mac);
        hdr = curl_slist_append(hdr, sig);
    }
    hdr = curl_slist_append(hdr, "User-Agent: framewise/" FW_VERSION);
    fw_guard_curl(n->guard, h);
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)FW_SERVE_CALLBACK_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    long status = 0;
    int ok = curl_easy_perform(h) == CURLE_OK &&
             curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status >= 200 &&
             status < 300;
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return ok;
}

/* Waits ms unless the notifier stops: 1 when it stops. */
static int pause_ms(fw_notifier *n, long ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L)
        until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&n->mu);
    while (!n->stop && pthread_cond_timedwait(&n->cv, &n->mu, &until) == 0)
        ;
    int stop = n->stop;
    pthread_mutex_unlock(&n->mu);
    return stop;
}

static void *loop(void *arg)
{
    fw_notifier *n = arg;
    for (;;) {
        pthread_mutex_lock(&n->mu);
        while (!n->stop && !n->head)
            pthread_cond_wait(&n->cv, &n->mu);
        call *c = n->stop ? NULL : n->head;
        if (c && !(n->head = c->next))
            n->tail = NULL;
        pthread_mutex_unlock(&n->mu);
        if (!c)
            return NULL;
        long backoff = FW_SERVE_CALLBACK_BACKOFF_MS;
        for (int i = 0; i < FW_SERVE_CALLBACK_ATTEMPTS && !post_once(n, c); i++, backoff *= 2)
            if (i + 1 == FW_SERVE_CALLBACK_ATTEMPTS || pause_ms(n, backoff))
                break;
        free(c->url);
        free(c->body);
        free(c);
    }
}

fw_notifier *fw_notifier_start(const fw_guard *guard, const char *token)
{
    fw_notifier *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->guard = guard;
    n->token = token;
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, NULL);
    if (pthread_create(&n->thread, NULL, loop, n)) {
        free(n);
        return NULL;
    }
    return n;
}

void fw_notifier_post(fw_notifier *n, const char *url, const char *body)
{
    call *c = calloc(1, sizeof *c);
    if (!c || !(c->url = strdup(url)) || !(c->body = strdup(body))) {
        if (c)
            free(c->url);
        free(c);
        return;
    }
    pthread_mutex_lock(&n->mu);
    if (n->tail)
        n->tail->next = c;
    else
        n->head = c;
    n->tail = c;
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
}

void fw_notifier_stop(fw_notifier *n)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    n->stop = 1;
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->thread, NULL);
    for (call *c = n->head, *next; c; c = next) {
        next = c->next;
        free(c->url);
        free(c->body);
        free(c);
    }
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->mu);
    free(n);
}
