/* queue: the job queue behind fw_queue_* (include/framewise.h). One small table of
 * operations per kind of queue; the SQLite one (queue_sqlite.c) keeps the items in the
 * store's file, the Redis one (queue_redis.c: several machines) in a Redis server.
 * Ownership: fw_queue owns its backend's state (ops->close frees it). */
#ifndef FW_QUEUE_QUEUE_H
#define FW_QUEUE_QUEUE_H

#include "framewise.h"

typedef struct fw_queue_ops {
    const char *name;
    int (*push)(void *impl, const char *payload, const char *key, int max_queued, int64_t *id,
                fw_error *err);
    int (*claim)(void *impl, fw_queue_item *it, fw_error *err);
    int (*requeue)(void *impl, int64_t id, fw_error *err);
    int (*find)(void *impl, const char *key, int64_t *id, fw_error *err);
    int (*update)(void *impl, int64_t id, const char *status, fw_error *err);
    int (*finish)(void *impl, int64_t id, const char *state, const char *result, fw_error *err);
    int (*cancel)(void *impl, int64_t id, fw_error *err);
    int (*get)(void *impl, int64_t id, fw_queue_item *it, fw_error *err);
    int (*list)(void *impl, const char *state, int64_t before, fw_queue_item *items, int max,
                fw_error *err);
    int (*counts)(void *impl, int64_t counts[FW_QUEUE_N_STATES], fw_error *err);
    void (*close)(void *impl);
    /* a shared queue's (NULL on one that is not: the public calls do nothing) */
    int (*publish)(void *impl, int64_t id, int kind, const char *text, fw_error *err);
    int (*listen)(void *impl, fw_queue_listener fn, void *user, fw_error *err);
    int (*put_file)(void *impl, int64_t id, const char *name, const void *data, size_t n,
                    fw_error *err);
    int (*get_file)(void *impl, int64_t id, const char *name, char **data, size_t *n,
                    fw_error *err);
    int (*note)(void *impl, int64_t id, const char *name, const char *note, fw_error *err);
    int (*notes)(void *impl, int64_t id, char **notes, fw_error *err);
} fw_queue_ops;

/* The SQLite queue in the store at path (NULL: the default store): *impl for its ops. */
extern const fw_queue_ops fw_queue_sqlite_ops;
int fw_queue_sqlite_open(void **impl, const char *path, fw_error *err);
/* The Redis queue at url (redis://[:PASSWORD@]HOST:PORT/NAME). */
extern const fw_queue_ops fw_queue_redis_ops;
int fw_queue_redis_open(void **impl, const char *url, double claim_after_s, fw_error *err);

#endif
