/* The Redis queue's opening and closing, and its two threads: the keeper (every
 * claim-after / 4 it keeps the entries of the items this process runs alive, lets go of
 * those another process took over, and tells the listener of cancels it missed) and the
 * listener (the Pub/Sub channel's messages of the other processes). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "queue/redis_int.h"

/* Waits up to secs for the close: 1 when the queue closes. */
static int wait_stop(rq *q, double secs)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    long long ns = until.tv_nsec + (long long)(secs * 1e9);
    until.tv_sec += (time_t)(ns / 1000000000);
    until.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&q->stop_mu);
    while (!q->closing && pthread_cond_timedwait(&q->stop_cv, &q->stop_mu, &until) != ETIMEDOUT)
        ;
    int closing = q->closing;
    pthread_mutex_unlock(&q->stop_mu);
    return closing;
}

static void tell(rq *q, int64_t id, int kind, const char *text)
{
    if (q->fn)
        q->fn(q->user, id, kind, text);
}

/* What the keeper learnt of a held item: whether it is still this process's, whether a
 * client asked to cancel it. */
typedef struct look {
    int64_t id;
    char entry[64];
    int mine, cancel;
} look;

static int look_at(rq *q, redisContext *c, look *l, int n)
{
    for (int i = 0; i < n; i++)
        redisAppendCommand(c, "HMGET %s:job:%lld consumer cancel", q->prefix, (long long)l[i].id);
    for (int i = 0; i < n; i++) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK)
            return -1;
        const char *who =
            r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? r->element[0]->str : NULL;
        l[i].mine = who && strcmp(who, q->me) == 0;
        l[i].cancel =
            r && r->elements == 2 && r->element[1]->str && !strcmp(r->element[1]->str, "1");
        freeReplyObject(r);
    }
    return 0;
}

/* XCLAIM of this process's own entries resets their idle time: nobody takes them over. */
static void keep_alive(rq *q, redisContext *c, const look *l, int n)
{
    const char *argv[MAX_HELD + 8];
    char key[96];
    int argc = 0;
    snprintf(key, sizeof key, "%s:jobs", q->prefix);
    argv[argc++] = "XCLAIM", argv[argc++] = key, argv[argc++] = "workers";
    argv[argc++] = q->me, argv[argc++] = "0";
    for (int i = 0; i < n; i++)
        if (l[i].mine)
            argv[argc++] = l[i].entry;
    argv[argc++] = "JUSTID";
    if (argc > 6)
        freeReplyObject(redisCommandArgv(c, argc, argv, NULL));
}

/* One round: the held items looked at, kept alive, let go of, their cancels told. */
static void keep_round(rq *q, redisContext *c)
{
    look l[MAX_HELD];
    pthread_mutex_lock(&q->mu);
    int n = q->n_held;
    for (int i = 0; i < n; i++) {
        l[i].id = q->held[i].id;
        snprintf(l[i].entry, sizeof l[i].entry, "%s", q->held[i].entry);
    }
    pthread_mutex_unlock(&q->mu);
    /* who is alive, for the operator (redis-cli ZRANGE fw:NAME:workers 0 -1 WITHSCORES) */
    freeReplyObject(redisCommand(c, "ZADD %s:workers %f %s", q->prefix, fw_wall_s(), q->me));
    if (n == 0 || look_at(q, c, l, n))
        return;
    keep_alive(q, c, l, n);
    for (int i = 0; i < n; i++) {
        int told = 1;
        pthread_mutex_lock(&q->mu);
        for (int j = 0; j < q->n_held; j++)
            if (q->held[j].id == l[i].id && (l[i].cancel || !l[i].mine)) {
                told = q->held[j].told;
                q->held[j].told = 1;
                if (!l[i].mine) /* taken over: its run here cannot end it */
                    q->held[j--] = q->held[--q->n_held];
            }
        pthread_mutex_unlock(&q->mu);
        if (!told)
            tell(q, l[i].id, FW_QUEUE_MSG_CANCEL, "");
    }
}

static void *keeper(void *arg)
{
    rq *q = arg;
    redisContext *c = NULL;
    double every = q->claim_after / 4;
    every = every < 0.05 ? 0.05 : every > 5 ? 5 : every;
    while (!wait_stop(q, every)) {
        fw_error err;
        if (c && c->err) {
            redisFree(c);
            c = NULL;
        }
        if (!c && !(c = fw_rq_connect(q, &err)))
            continue;
        keep_round(q, c);
    }
    redisFree(c);
    return NULL;
}

/* "SENDER ID KIND TEXT" of another process to the listener. */
static void heard(rq *q, const char *msg)
{
    size_t me = strlen(q->me);
    if (strncmp(msg, q->me, me) == 0 && msg[me] == ' ')
        return;
    const char *p = strchr(msg, ' ');
    char *end;
    long long id = p ? strtoll(p + 1, &end, 10) : 0;
    if (!p || id <= 0 || *end != ' ')
        return;
    int kind = (int)strtol(end + 1, &end, 10);
    tell(q, id, kind, *end == ' ' ? end + 1 : "");
}

static void listen_on(rq *q, redisContext *c)
{
    redisReply *r = redisCommand(c, "SUBSCRIBE %s:msg", q->prefix);
    int ok = r != NULL;
    freeReplyObject(r);
    while (ok && redisGetReply(c, (void **)&r) == REDIS_OK) {
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[0]->str &&
            !strcmp(r->element[0]->str, "message") && r->element[2]->str)
            heard(q, r->element[2]->str);
        freeReplyObject(r);
    }
}

static void *listener(void *arg)
{
    rq *q = arg;
    for (;;) {
        fw_error err;
        redisContext *c = fw_rq_connect(q, &err);
        pthread_mutex_lock(&q->stop_mu);
        int closing = q->closing;
        if (c && !closing) {
            struct timeval forever = {0, 0};
            redisSetTimeout(c, forever);
            q->lc = c;
        }
        pthread_mutex_unlock(&q->stop_mu);
        if (c && !closing)
            listen_on(q, c);
        pthread_mutex_lock(&q->stop_mu);
        q->lc = NULL;
        pthread_mutex_unlock(&q->stop_mu);
        redisFree(c);
        if (closing || wait_stop(q, c ? 0.1 : 1.0))
            return NULL;
    }
}

int fw_rq_listen(void *impl, fw_queue_listener fn, void *user, fw_error *err)
{
    rq *q = impl;
    if (q->listening)
        return fw_error_set(err, FW_EINVAL, "queue: a listener already listens");
    q->fn = fn;
    q->user = user;
    if (pthread_create(&q->listener, NULL, listener, q))
        return fw_error_set(err, FW_ENOMEM, "queue: cannot start the listener");
    q->listening = 1;
    return 0;
}

void fw_rq_close(void *impl)
{
    rq *q = impl;
    if (!q)
        return;
    pthread_mutex_lock(&q->stop_mu);
    q->closing = 1;
    pthread_cond_broadcast(&q->stop_cv);
    if (q->lc) /* the listener blocks in a read: it ends */
        shutdown(q->lc->fd, SHUT_RDWR);
    pthread_mutex_unlock(&q->stop_mu);
    if (q->keeping)
        pthread_join(q->keeper, NULL);
    if (q->listening)
        pthread_join(q->listener, NULL);
    redisFree(q->c);
    pthread_cond_destroy(&q->stop_cv);
    pthread_mutex_destroy(&q->stop_mu);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

/* This process's name in the group: host, pid and a random part (a pid comes again). */
static void name_me(rq *q)
{
    char host[64] = "host";
    unsigned long long r = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(&r, sizeof r, 1, f) != 1)
        r = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
    if (f)
        fclose(f);
    gethostname(host, sizeof host - 1);
    host[strcspn(host, " ")] = '\0';
    snprintf(q->me, sizeof q->me, "%s-%d-%016llx", host, (int)getpid(), r);
}

int fw_queue_redis_open(void **impl, const char *url, double claim_after_s, fw_error *err)
{
    *impl = NULL;
    rq *q = calloc(1, sizeof *q);
    if (!q)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    pthread_mutex_init(&q->mu, NULL);
    pthread_mutex_init(&q->stop_mu, NULL);
    pthread_cond_init(&q->stop_cv, NULL);
    q->claim_after = claim_after_s;
    name_me(q);
    int rc = fw_rq_parse_url(q, url, err);
    if (!rc && !(q->c = fw_rq_connect(q, err)))
        rc = FW_EOPEN;
    if (!rc) {
        redisReply *r = redisCommand(q->c, "XGROUP CREATE %s:jobs workers 0 MKSTREAM", q->prefix);
        if (!r || (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0))
            rc = fw_error_set(err, FW_EOPEN, "%s: cannot make the consumer group: %s", url,
                              r ? r->str : q->c->errstr);
        freeReplyObject(r);
    }
    if (!rc && pthread_create(&q->keeper, NULL, keeper, q) == 0)
        q->keeping = 1;
    else if (!rc)
        rc = fw_error_set(err, FW_ENOMEM, "queue: cannot start its keeper");
    if (rc) {
        fw_rq_close(q);
        return rc;
    }
    *impl = q;
    return 0;
}
