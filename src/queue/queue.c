/* fw_queue_*: the public calls, dispatched to the queue's backend. */
#include "queue/queue.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

struct fw_queue {
    const fw_queue_ops *ops;
    void *impl;
};

static const char *const state_names[FW_QUEUE_N_STATES] = {"queued", "running", "done", "failed",
                                                           "cancelled"};

const char *fw_queue_state_name(int i)
{
    return i >= 0 && i < FW_QUEUE_N_STATES ? state_names[i] : NULL;
}

void fw_queue_item_clear(fw_queue_item *it)
{
    if (!it)
        return;
    free(it->payload);
    free(it->key);
    free(it->status);
    free(it->result);
    memset(it, 0, sizeof *it);
}

/* The callers may pass no fw_error. */
#define LOCAL_ERR                                                                                  \
    fw_error local_err;                                                                            \
    if (!err)                                                                                      \
    err = &local_err

int fw_queue_open(fw_queue **out, const char *path, fw_error *err)
{
    LOCAL_ERR;
    *out = NULL;
    fw_queue *q = calloc(1, sizeof *q);
    if (!q)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    q->ops = &fw_queue_sqlite_ops;
    int rc = fw_queue_sqlite_open(&q->impl, path, err);
    if (rc) {
        free(q);
        return rc;
    }
    *out = q;
    return 0;
}

void fw_queue_close(fw_queue *q)
{
    if (!q)
        return;
    q->ops->close(q->impl);
    free(q);
}

static int known_state(const char *s)
{
    for (int i = 0; i < FW_QUEUE_N_STATES; i++)
        if (strcmp(s, state_names[i]) == 0)
            return 1;
    return 0;
}

int fw_queue_push(fw_queue *q, const char *payload, const char *key, int max_queued, int64_t *id,
                  fw_error *err)
{
    LOCAL_ERR;
    *id = 0;
    if (!payload || max_queued < 0)
        return fw_error_set(err, FW_EINVAL, "queue: no payload, or a negative bound");
    return q->ops->push(q->impl, payload, key, max_queued, id, err);
}

int fw_queue_claim(fw_queue *q, fw_queue_item *it, fw_error *err)
{
    LOCAL_ERR;
    return q->ops->claim(q->impl, it, err);
}

int fw_queue_requeue(fw_queue *q, int64_t id, fw_error *err)
{
    LOCAL_ERR;
    return q->ops->requeue(q->impl, id, err);
}

int fw_queue_find(fw_queue *q, const char *key, int64_t *id, fw_error *err)
{
    LOCAL_ERR;
    *id = 0;
    return key ? q->ops->find(q->impl, key, id, err) : 0;
}

int fw_queue_update(fw_queue *q, int64_t id, const char *status, fw_error *err)
{
    LOCAL_ERR;
    return q->ops->update(q->impl, id, status, err);
}

int fw_queue_finish(fw_queue *q, int64_t id, const char *state, const char *result, fw_error *err)
{
    LOCAL_ERR;
    if (!state || !known_state(state) || !strcmp(state, "queued") || !strcmp(state, "running"))
        return fw_error_set(err, FW_EINVAL, "queue: '%s' is not a final state",
                            state ? state : "(null)");
    return q->ops->finish(q->impl, id, state, result, err);
}

int fw_queue_cancel(fw_queue *q, int64_t id, fw_error *err)
{
    LOCAL_ERR;
    return q->ops->cancel(q->impl, id, err);
}

int fw_queue_get(fw_queue *q, int64_t id, fw_queue_item *it, fw_error *err)
{
    LOCAL_ERR;
    return q->ops->get(q->impl, id, it, err);
}

int fw_queue_list(fw_queue *q, const char *state, int64_t before, fw_queue_item *items, int max,
                  fw_error *err)
{
    LOCAL_ERR;
    if (state && !known_state(state))
        return fw_error_set(err, FW_EINVAL, "queue: unknown state '%s'", state);
    return max <= 0 ? 0 : q->ops->list(q->impl, state, before, items, max, err);
}

int fw_queue_counts(fw_queue *q, int64_t counts[FW_QUEUE_N_STATES], fw_error *err)
{
    LOCAL_ERR;
    return q->ops->counts(q->impl, counts, err);
}
