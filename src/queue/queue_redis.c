/* The Redis queue: items are entries of a Redis stream read through the consumer group
 * "workers" (XREADGROUP); every change of an item's state is one Lua script
 * (redis_scripts.h). A process keeps the entries of the items it runs alive (XCLAIM of
 * its own, on a thread of its own, every claim-after / 4); an entry nobody kept alive for
 * claim-after seconds is taken over by the next claim (XAUTOCLAIM), its attempts counted.
 * Messages between the processes go over one Pub/Sub channel, each tagged with its
 * sender, so a process never hears itself.
 * Connections: one for the calls (under mu), one for the keeper, one for the listener:
 * a hiredis context serves one thread. A call that finds its connection broken connects
 * again; a command whose answer was lost is not sent twice. */
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "queue/queue.h"
#include "queue/redis_int.h"
#include "queue/redis_scripts.h"

/* ---- connections ---- */

int fw_rq_parse_url(rq *q, const char *url, fw_error *err)
{
    const char *p = url + strlen("redis://"), *at = strchr(p, '@'), *slash;
    if (strncmp(url, "redis://", 8) != 0)
        return fw_error_set(err, FW_EOPEN, "%s: not a redis:// URL", url);
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;
        snprintf(q->pass, sizeof q->pass, "%.*s", (int)(at - pw), pw);
        p = at + 1;
    }
    slash = strchr(p, '/');
    const char *colon = memchr(p, ':', slash ? (size_t)(slash - p) : strlen(p));
    const char *name = slash ? slash + 1 : "";
    size_t host_len = (size_t)((colon ? colon : slash ? slash : p + strlen(p)) - p);
    if (!slash || !name[0] || strlen(name) > 64 ||
        strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
                     "nopqrstuvwxyz0123456789_.-") != strlen(name))
        return fw_error_set(err, FW_EOPEN,
                            "%s: the queue's name is missing or not 1-64 of A-Z a-z 0-9 _ . - "
                            "(redis://HOST:PORT/NAME)",
                            url);
    if (host_len == 0 || host_len >= sizeof q->host)
        return fw_error_set(err, FW_EOPEN, "%s: no host (redis://HOST:PORT/NAME)", url);
    snprintf(q->host, sizeof q->host, "%.*s", (int)host_len, p);
    q->port = colon ? atoi(colon + 1) : 6379;
    if (q->port <= 0 || q->port > 65535)
        return fw_error_set(err, FW_EOPEN, "%s: the port is not 1-65535", url);
    snprintf(q->prefix, sizeof q->prefix, "fw:%s", name);
    return 0;
}

redisContext *fw_rq_connect(rq *q, fw_error *err)
{
    struct timeval tv = {CONNECT_S, 0}, cmd = {COMMAND_S, 0};
    redisContext *c = redisConnectWithTimeout(q->host, q->port, tv);
    if (!c || c->err) {
        fw_error_set(err, FW_EOPEN, "redis://%s:%d: cannot connect: %s", q->host, q->port,
                     c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, cmd);
    if (q->pass[0]) {
        redisReply *r = redisCommand(c, "AUTH %s", q->pass);
        int ok = r && r->type != REDIS_REPLY_ERROR;
        if (!ok)
            fw_error_set(err, FW_EOPEN, "redis://%s:%d: AUTH: %s", q->host, q->port,
                         r ? r->str : c->errstr);
        freeReplyObject(r);
        if (!ok) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

/* A command on the calls' connection (mu held): its reply (to free), or NULL with err. */
static redisReply *vcall(rq *q, fw_error *err, const char *fmt, va_list ap)
{
    if (q->c && q->c->err) {
        redisFree(q->c);
        q->c = NULL;
    }
    if (!q->c && !(q->c = fw_rq_connect(q, err)))
        return NULL;
    redisReply *r = redisvCommand(q->c, fmt, ap);
    if (!r)
        fw_error_set(err, FW_EIO, "redis://%s:%d: %s", q->host, q->port, q->c->errstr);
    else if (r->type == REDIS_REPLY_ERROR) {
        fw_error_set(err, FW_EIO, "redis://%s:%d: %s", q->host, q->port, r->str);
        freeReplyObject(r);
        r = NULL;
    }
    return r;
}

static redisReply *call(rq *q, fw_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vcall(q, err, fmt, ap);
    va_end(ap);
    return r;
}

/* An integer reply (or a status / string that is one), -1 on none. */
long long fw_rq_int(const redisReply *r)
{
    if (!r)
        return -1;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    return r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
}

static double now_text(char *buf, size_t size)
{
    double t = fw_wall_s();
    snprintf(buf, size, "%.6f", t);
    return t;
}

/* "SENDER ID KIND TEXT" on the channel (mu held). */
static int say(rq *q, int64_t id, int kind, const char *text, fw_error *err)
{
    size_t n = strlen(q->me) + strlen(text) + 48;
    char *msg = malloc(n);
    if (!msg)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    snprintf(msg, n, "%s %lld %d %s", q->me, (long long)id, kind, text);
    redisReply *r = call(q, err, "PUBLISH %s:msg %s", q->prefix, msg);
    free(msg);
    freeReplyObject(r);
    return r ? 0 : err->code;
}

/* ---- held items ---- */

static void hold(rq *q, int64_t id, const char *entry)
{
    if (q->n_held < MAX_HELD) {
        held *h = &q->held[q->n_held++];
        h->id = id;
        h->told = 0;
        snprintf(h->entry, sizeof h->entry, "%s", entry);
    }
}

static void let_go(rq *q, int64_t id)
{
    for (int i = 0; i < q->n_held; i++)
        if (q->held[i].id == id)
            q->held[i--] = q->held[--q->n_held];
}

/* ---- items ---- */

static char *dup_or_null(const char *s)
{
    return s && s[0] ? strdup(s) : NULL;
}

/* Fills it from an HGETALL reply: 1, or 0 when the hash is empty. */
static int read_item(int64_t id, const redisReply *r, fw_queue_item *it)
{
    memset(it, 0, sizeof *it);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2)
        return 0;
    it->id = id;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const char *k = r->element[i]->str, *v = r->element[i + 1]->str;
        if (!k || !v)
            continue;
        if (!strcmp(k, "state"))
            snprintf(it->state, sizeof it->state, "%s", v);
        else if (!strcmp(k, "payload"))
            it->payload = strdup(v);
        else if (!strcmp(k, "key"))
            it->key = dup_or_null(v);
        else if (!strcmp(k, "status"))
            it->status = dup_or_null(v);
        else if (!strcmp(k, "result"))
            it->result = strdup(v);
        else if (!strcmp(k, "created"))
            it->created_s = atof(v);
        else if (!strcmp(k, "started"))
            it->started_s = atof(v);
        else if (!strcmp(k, "finished"))
            it->finished_s = atof(v);
        else if (!strcmp(k, "attempts"))
            it->attempts = atoi(v);
        else if (!strcmp(k, "lost"))
            it->lost = atoi(v);
    }
    return 1;
}

static int get_locked(rq *q, int64_t id, fw_queue_item *it, fw_error *err)
{
    redisReply *r = call(q, err, "HGETALL %s:job:%lld", q->prefix, (long long)id);
    if (!r)
        return err->code;
    int got = read_item(id, r, it);
    freeReplyObject(r);
    return got;
}

static int rq_get(void *impl, int64_t id, fw_queue_item *it, fw_error *err)
{
    rq *q = impl;
    pthread_mutex_lock(&q->mu);
    int rc = get_locked(q, id, it, err);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int rq_push(void *impl, const char *payload, const char *key, int max_queued, int64_t *id,
                   fw_error *err)
{
    rq *q = impl;
    char now[32], maxq[16];
    now_text(now, sizeof now);
    snprintf(maxq, sizeof maxq, "%d", max_queued);
    pthread_mutex_lock(&q->mu);
    redisReply *r = call(q, err, "EVAL %s 0 %s %s %s %s %s", FW_REDIS_PUSH, q->prefix, payload,
                         key ? key : "", maxq, now);
    int pair = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2;
    int rc = pair ? (int)fw_rq_int(r->element[0])
             : r  ? fw_error_set(err, FW_EIO, "redis: an answer to a push that is not one")
                  : err->code;
    if (pair)
        *id = fw_rq_int(r->element[1]);
    freeReplyObject(r);
    if (rc == FW_QUEUE_ADDED) { /* the workers listening anywhere look now */
        say(q, *id, FW_QUEUE_MSG_QUEUED, "", err);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

/* Runs START for an entry read or claimed; 1 with *it when the item runs here now. */
static int start_entry(rq *q, const char *entry, long long id, fw_queue_item *it, fw_error *err)
{
    char now[32];
    now_text(now, sizeof now);
    redisReply *r = call(q, err, "EVAL %s 0 %s %lld %s %s %s", FW_REDIS_START, q->prefix, id, entry,
                         q->me, now);
    long long started = fw_rq_int(r);
    freeReplyObject(r);
    if (started != 1)
        return started < 0 ? err->code : 0;
    hold(q, id, entry);
    int got = get_locked(q, id, it, err);
    return got == 1 ? 1 : got < 0 ? got : 0;
}

/* The entry id and item id of a stream entry reply ([entry, [field, value...]]). */
static int entry_of(const redisReply *e, const char **entry, long long *id)
{
    if (!e || e->type != REDIS_REPLY_ARRAY || e->elements < 2 || !e->element[0]->str)
        return 0;
    *entry = e->element[0]->str;
    const redisReply *f = e->element[1];
    *id = -1;
    for (size_t i = 0; f && f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements; i += 2)
        if (f->element[i]->str && !strcmp(f->element[i]->str, "id"))
            *id = fw_rq_int(f->element[i + 1]);
    return 1;
}

/* An entry nobody kept alive for claim-after: 1 with *it, 0 none. */
static int take_over(rq *q, fw_queue_item *it, fw_error *err)
{
    char cursor[64] = "0-0";
    long long idle_ms = (long long)(q->claim_after * 1000);
    for (int scans = 0; scans < 256; scans++) {
        redisReply *r = call(q, err, "XAUTOCLAIM %s:jobs workers %s %lld %s COUNT 1", q->prefix,
                             q->me, idle_ms, cursor);
        if (!r)
            return err->code;
        int rc = 0, more = 0;
        if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2) {
            snprintf(cursor, sizeof cursor, "%s", r->element[0]->str ? r->element[0]->str : "0-0");
            more = strcmp(cursor, "0-0") != 0;
            const redisReply *list = r->element[1];
            for (size_t i = 0; list->type == REDIS_REPLY_ARRAY && i < list->elements && !rc; i++) {
                const char *entry;
                long long id;
                if (entry_of(list->element[i], &entry, &id))
                    rc = id > 0 ? start_entry(q, entry, id, it, err) : 0;
            }
        }
        freeReplyObject(r);
        if (rc || !more)
            return rc;
    }
    return 0;
}

/* A new entry: 1 with *it, 0 none, -1 ... */
static int read_new(rq *q, fw_queue_item *it, fw_error *err)
{
    for (int tries = 0; tries < 64; tries++) {
        redisReply *r =
            call(q, err, "XREADGROUP GROUP workers %s COUNT 1 STREAMS %s:jobs >", q->me, q->prefix);
        if (!r)
            return err->code;
        int rc = 0, none = r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
                           r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements < 2;
        if (!none) {
            const redisReply *entries = r->element[0]->element[1];
            const char *entry;
            long long id;
            none = entries->elements == 0 || !entry_of(entries->element[0], &entry, &id);
            if (!none)
                rc = id > 0 ? start_entry(q, entry, id, it, err) : 0;
        }
        freeReplyObject(r);
        if (rc || none)
            return rc;
    }
    return 0;
}

static int rq_claim(void *impl, fw_queue_item *it, fw_error *err)
{
    rq *q = impl;
    pthread_mutex_lock(&q->mu);
    int rc = q->n_held < MAX_HELD ? take_over(q, it, err) : 0;
    if (rc == 0 && q->n_held < MAX_HELD)
        rc = read_new(q, it, err);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int rq_requeue(void *impl, int64_t id, fw_error *err)
{
    rq *q = impl;
    pthread_mutex_lock(&q->mu);
    redisReply *r =
        call(q, err, "EVAL %s 0 %s %lld %s", FW_REDIS_REQUEUE, q->prefix, (long long)id, q->me);
    int rc = r ? (int)fw_rq_int(r) : err->code;
    freeReplyObject(r);
    if (rc >= 0)
        let_go(q, id);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int rq_find(void *impl, const char *key, int64_t *id, fw_error *err)
{
    rq *q = impl;
    pthread_mutex_lock(&q->mu);
    redisReply *r = call(q, err, "GET %s:key:%s", q->prefix, key);
    *id = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
    int rc = r ? *id > 0 : err->code;
    freeReplyObject(r);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int rq_update(void *impl, int64_t id, const char *status, fw_error *err)
{
    rq *q = impl;
    pthread_mutex_lock(&q->mu);
    redisReply *r = call(q, err, "HSET %s:job:%lld status %s", q->prefix, (long long)id, status);
    freeReplyObject(r);
    pthread_mutex_unlock(&q->mu);
    return r ? 0 : err->code;
}

static int rq_finish(void *impl, int64_t id, const char *state, const char *result, fw_error *err)
{
    rq *q = impl;
    char now[32];
    now_text(now, sizeof now);
    pthread_mutex_lock(&q->mu);
    redisReply *r =
        call(q, err, "EVAL %s 0 %s %lld %s %s %s %s %s", FW_REDIS_FINISH, q->prefix, (long long)id,
             q->me, state, result ? result : "", result ? "1" : "0", now);
    int rc = r ? (int)fw_rq_int(r) : err->code;
    freeReplyObject(r);
    if (rc >= 0)
        let_go(q, id);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int rq_cancel(void *impl, int64_t id, fw_error *err)
{
    rq *q = impl;
    char now[32];
    now_text(now, sizeof now);
    pthread_mutex_lock(&q->mu);
    redisReply *r =
        call(q, err, "EVAL %s 0 %s %lld %s", FW_REDIS_CANCEL, q->prefix, (long long)id, now);
    int rc = r ? (int)fw_rq_int(r) : err->code;
    freeReplyObject(r);
    if (rc == 2) { /* its claimer hears it now, or from its keeper within claim-after / 4 */
        say(q, id, FW_QUEUE_MSG_CANCEL, "", err);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int rq_list(void *impl, const char *state, int64_t before, fw_queue_item *items, int max,
                   fw_error *err)
{
    rq *q = impl;
    char top[32] = "+inf";
    if (before > 0)
        snprintf(top, sizeof top, "(%lld", (long long)before);
    pthread_mutex_lock(&q->mu);
    redisReply *r =
        state ? call(q, err, "ZREVRANGEBYSCORE %s:state:%s %s -inf LIMIT 0 %d", q->prefix, state,
                     top, max)
              : call(q, err, "ZREVRANGEBYSCORE %s:ids %s -inf LIMIT 0 %d", q->prefix, top, max);
    int n = r ? 0 : err->code;
    for (size_t i = 0; r && i < r->elements && n >= 0; i++) {
        int got = get_locked(q, atoll(r->element[i]->str), &items[n], err);
        if (got < 0) {
            while (n > 0)
                fw_queue_item_clear(&items[--n]);
            n = got;
        } else
            n += got;
    }
    freeReplyObject(r);
    pthread_mutex_unlock(&q->mu);
    return n;
}

static int rq_counts(void *impl, int64_t counts[FW_QUEUE_N_STATES], fw_error *err)
{
    rq *q = impl;
    int rc = 0;
    pthread_mutex_lock(&q->mu);
    for (int i = 0; i < FW_QUEUE_N_STATES && !rc; i++) {
        redisReply *r = call(q, err, "ZCARD %s:state:%s", q->prefix, fw_queue_state_name(i));
        counts[i] = r ? fw_rq_int(r) : 0;
        rc = r ? 0 : err->code;
        freeReplyObject(r);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

/* ---- messages, files, notes ---- */

static int rq_publish(void *impl, int64_t id, int kind, const char *text, fw_error *err)
{
    rq *q = impl;
    pthread_mutex_lock(&q->mu);
    int rc = say(q, id, kind, text, err);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int rq_put_file(void *impl, int64_t id, const char *name, const void *data, size_t n,
                       fw_error *err)
{
    rq *q = impl;
    pthread_mutex_lock(&q->mu);
    redisReply *r =
        call(q, err, "HSET %s:files:%lld %s %b", q->prefix, (long long)id, name, data, n);
    freeReplyObject(r);
    pthread_mutex_unlock(&q->mu);
    return r ? 0 : err->code;
}

static int rq_get_file(void *impl, int64_t id, const char *name, char **data, size_t *n,
                       fw_error *err)
{
    rq *q = impl;
    pthread_mutex_lock(&q->mu);
    redisReply *r = call(q, err, "HGET %s:files:%lld %s", q->prefix, (long long)id, name);
    int rc = r ? 0 : err->code;
    if (r && r->type == REDIS_REPLY_STRING) {
        if ((*data = malloc(r->len + 1))) {
            memcpy(*data, r->str, r->len);
            (*data)[r->len] = '\0';
            *n = r->len;
            rc = 1;
        } else
            rc = fw_error_set(err, FW_ENOMEM, "out of memory");
    }
    freeReplyObject(r);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int rq_note(void *impl, int64_t id, const char *name, const char *note, fw_error *err)
{
    rq *q = impl;
    pthread_mutex_lock(&q->mu);
    redisReply *r = call(q, err, "HSET %s:notes:%lld %s %s", q->prefix, (long long)id, name, note);
    freeReplyObject(r);
    pthread_mutex_unlock(&q->mu);
    return r ? 0 : err->code;
}

static int rq_notes(void *impl, int64_t id, char **notes, fw_error *err)
{
    rq *q = impl;
    pthread_mutex_lock(&q->mu);
    redisReply *r = call(q, err, "HGETALL %s:notes:%lld", q->prefix, (long long)id);
    pthread_mutex_unlock(&q->mu);
    if (!r)
        return err->code;
    json_t *all = json_object();
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        json_t *v = json_loads(r->element[i + 1]->str, 0, NULL);
        if (v && r->element[i]->str)
            json_object_set_new(all, r->element[i]->str, v);
        else
            json_decref(v);
    }
    freeReplyObject(r);
    int some = json_object_size(all) > 0;
    *notes = some ? json_dumps(all, JSON_COMPACT) : NULL;
    json_decref(all);
    return some && *notes ? 1 : 0;
}

const fw_queue_ops fw_queue_redis_ops = {
    .name = "redis",
    .push = rq_push,
    .claim = rq_claim,
    .requeue = rq_requeue,
    .find = rq_find,
    .update = rq_update,
    .finish = rq_finish,
    .cancel = rq_cancel,
    .get = rq_get,
    .list = rq_list,
    .counts = rq_counts,
    .close = fw_rq_close,
    .publish = rq_publish,
    .listen = fw_rq_listen,
    .put_file = rq_put_file,
    .get_file = rq_get_file,
    .note = rq_note,
    .notes = rq_notes,
};
