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

static int open_with(fw_queue **out, const fw_queue_ops *ops, const char *where,
                     double claim_after_s, fw_error *err)
{
    *out = NULL;
    fw_queue *q = calloc(1, sizeof *q);
    if (!q)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    q->ops = ops;
    int rc = ops == &fw_queue_redis_ops ? fw_queue_redis_open(&q->impl, where, claim_after_s, err)
                                        : fw_queue_sqlite_open(&q->impl, where, err);
    if (rc) {
        free(q);
        return rc;
    }
    *out = q;
    return 0;
}

int fw_queue_open(fw_queue **out, const char *path, fw_error *err)
{
    LOCAL_ERR;
    if (path && strncmp(path, "redis://", 8) == 0)
        return open_with(out, &fw_queue_redis_ops, path, FW_QUEUE_CLAIM_AFTER_S, err);
    return open_with(out, &fw_queue_sqlite_ops, path, 0, err);
}

int fw_queue_open_redis(fw_queue **out, const char *url, double claim_after_s, fw_error *err)
{
    LOCAL_ERR;
    if (!url || !(claim_after_s > 0))
        return fw_error_set(err, FW_EINVAL, "queue: no URL, or a claim-after that is not > 0");
    return open_with(out, &fw_queue_redis_ops, url, claim_after_s, err);
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

int fw_queue_shared(const fw_queue *q)
{
    return q && q->ops->publish != NULL;
}

int fw_queue_publish(fw_queue *q, int64_t id, int kind, const char *text, fw_error *err)
{
    LOCAL_ERR;
    return q->ops->publish ? q->ops->publish(q->impl, id, kind, text ? text : "", err) : 0;
}

int fw_queue_listen(fw_queue *q, fw_queue_listener fn, void *user, fw_error *err)
{
    LOCAL_ERR;
    if (!fn)
        return fw_error_set(err, FW_EINVAL, "queue: no listener");
    return q->ops->listen ? q->ops->listen(q->impl, fn, user, err) : 0;
}

int fw_queue_put_file(fw_queue *q, int64_t id, const char *name, const void *data, size_t n,
                      fw_error *err)
{
    LOCAL_ERR;
    return q->ops->put_file ? q->ops->put_file(q->impl, id, name, data, n, err) : 0;
}

int fw_queue_get_file(fw_queue *q, int64_t id, const char *name, char **data, size_t *n,
                      fw_error *err)
{
    LOCAL_ERR;
    *data = NULL;
    *n = 0;
    return q->ops->get_file ? q->ops->get_file(q->impl, id, name, data, n, err) : 0;
}

int fw_queue_note(fw_queue *q, int64_t id, const char *name, const char *note, fw_error *err)
{
    LOCAL_ERR;
    return q->ops->note ? q->ops->note(q->impl, id, name, note, err) : 0;
}

int fw_queue_notes(fw_queue *q, int64_t id, char **notes, fw_error *err)
{
    LOCAL_ERR;
    *notes = NULL;
    return q->ops->notes ? q->ops->notes(q->impl, id, notes, err) : 0;
}
