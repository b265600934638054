/* Internal to the Redis queue (queue_redis.c: the calls; redis_keep.c: open, close and
 * its threads, the keeper and the listener). */
#ifndef FW_QUEUE_REDIS_INT_H
#define FW_QUEUE_REDIS_INT_H

#include <hiredis/hiredis.h>
#include <pthread.h>

#include "queue/queue.h"

#define MAX_HELD 64
#define CONNECT_S 5
#define COMMAND_S 10

typedef struct held {
    int64_t id;
    char entry[64];
    int told; /* its cancel was given to the listener */
} held;

typedef struct rq {
    char host[256], pass[256], prefix[80], me[128];
    int port;
    double claim_after;
    pthread_mutex_t mu; /* c, held */
    redisContext *c;
    held held[MAX_HELD];
    int n_held;
    pthread_mutex_t stop_mu; /* closing, with stop_cv */
    pthread_cond_t stop_cv;
    int closing;
    pthread_t keeper, listener;
    int keeping, listening;
    redisContext *lc; /* the listener's (its socket is shut to stop it) */
    fw_queue_listener fn;
    void *user;
} rq;

/* url into q's host, port, password and prefix: 0, or FW_EOPEN with err. */
int fw_rq_parse_url(rq *q, const char *url, fw_error *err);
/* A new connection to q's server (AUTH done), or NULL with err. */
redisContext *fw_rq_connect(rq *q, fw_error *err);
/* An integer reply (or a string that is one), -1 on none. */
long long fw_rq_int(const redisReply *r);
void fw_rq_close(void *impl);
int fw_rq_listen(void *impl, fw_queue_listener fn, void *user, fw_error *err);

#endif
