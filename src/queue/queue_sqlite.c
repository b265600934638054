/* The SQLite queue: the table "queue" of the store's file (created by the store's
 * migrations, store/store.c). The store is opened once to bring the schema up to date;
 * the queue then keeps a connection of its own, shared by its callers' threads under a
 * mutex (a push is a transaction of several statements). Several processes may share the
 * file: each statement that moves an item is atomic. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/proc.h"
#include "queue/queue.h"
#include "store/store.h" /* the schema's owner: opening the store migrates it */

#define BUSY_MS 10000
#define ITEM_COLUMNS "id, state, payload, key, status, result, created, started, finished, attempts"

typedef struct sq {
    sqlite3 *db;
    pthread_mutex_t mu;
    char path[4096];
} sq;

static int db_error(sq *q, fw_error *err)
{
    return fw_error_set(err, FW_EIO, "%s: queue: %s", q->path, sqlite3_errmsg(q->db));
}

static sqlite3_stmt *prepare(sq *q, const char *sql, fw_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
        db_error(q, err);
    return st;
}

/* Steps a statement that returns no row to its end; finalizes it. */
static int run(sq *q, sqlite3_stmt *st, fw_error *err)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_error(q, err);
}

static char *dup_column(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

/* Fills it from a row of ITEM_COLUMNS. */
static void read_item(sqlite3_stmt *st, fw_queue_item *it)
{
    memset(it, 0, sizeof *it);
    it->id = sqlite3_column_int64(st, 0);
    const unsigned char *state = sqlite3_column_text(st, 1);
    snprintf(it->state, sizeof it->state, "%s", state ? (const char *)state : "");
    it->payload = dup_column(st, 2);
    it->key = dup_column(st, 3);
    it->status = dup_column(st, 4);
    it->result = dup_column(st, 5);
    it->created_s = sqlite3_column_double(st, 6);
    it->started_s = sqlite3_column_double(st, 7);
    it->finished_s = sqlite3_column_double(st, 8);
    it->attempts = sqlite3_column_int(st, 9);
}

/* Steps a bound statement that returns at most one item: 1 with *it, 0 when none;
 * finalizes it. */
static int one_item(sq *q, sqlite3_stmt *st, fw_queue_item *it, fw_error *err)
{
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW) {
        read_item(st, it);
        rc = 1;
    } else if (step != SQLITE_DONE)
        rc = db_error(q, err);
    sqlite3_finalize(st);
    return rc;
}

/* The stores this process has claimed items from, by a hash of their path (a collision
 * only keeps an item waiting for the next start). An item "running" under this process's
 * pid in a store it never claimed from cannot be its own: it is an earlier process's with
 * the same pid (in a container the server is PID 1 on every start). */
static pthread_mutex_t claimed_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t claimed[64];
static int n_claimed, claimed_overflow;

static uint64_t path_hash(const char *path)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

/* mark 1: this process claims from path now; 0: whether it ever did. */
static int claimed_from(const char *path, int mark)
{
    uint64_t h = path_hash(path);
    pthread_mutex_lock(&claimed_mu);
    int found = claimed_overflow; /* past the table: every store counts as claimed from */
    for (int i = 0; i < n_claimed && !found; i++)
        found = claimed[i] == h;
    if (mark && !found) {
        if (n_claimed < (int)(sizeof claimed / sizeof claimed[0]))
            claimed[n_claimed++] = h;
        else
            claimed_overflow = 1;
    }
    pthread_mutex_unlock(&claimed_mu);
    return found;
}

/* Back to the queue, unless it moved since it was read (another process took it). */
static int requeue(sq *q, int64_t id, int64_t pid, fw_error *err)
{
    sqlite3_stmt *st = prepare(q,
                               "UPDATE queue SET state = 'queued', pid = NULL WHERE id = ? AND "
                               "state = 'running' AND pid = ?",
                               err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, pid);
    int rc = run(q, st, err);
    return rc ? rc : sqlite3_changes(q->db) == 1;
}

/* Reads at most 256 running items with an id above after into rows (id, pid): how many,
 * or a negative FW_E* code. */
static int running_rows(sq *q, int64_t after, int64_t rows[256][2], fw_error *err)
{
    sqlite3_stmt *st = prepare(q,
                               "SELECT id, pid FROM queue WHERE state = 'running' AND id > ? "
                               "ORDER BY id LIMIT 256",
                               err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, after);
    int n = 0, step = SQLITE_DONE;
    while (n < 256 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        rows[n][0] = sqlite3_column_int64(st, 0);
        rows[n][1] = sqlite3_column_int64(st, 1);
        n++;
    }
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? n : db_error(q, err);
}

/* Items whose process is gone go back to the queue, a batch at a time. */
static int recover(sq *q, fw_error *err)
{
    int64_t after = 0, rows[256][2];
    for (;;) {
        int n = running_rows(q, after, rows, err), rc;
        if (n <= 0)
            return n;
        /* read after the rows: a claim of this process marks the store before it writes one */
        int mine = claimed_from(q->path, 0);
        for (int i = 0; i < n; i++) {
            pid_t pid = (pid_t)rows[i][1];
            int owned = pid == getpid() ? mine : fw_pid_alive(pid);
            if (!owned && (rc = requeue(q, rows[i][0], rows[i][1], err)) < 0)
                return rc;
        }
        if (n < 256)
            return 0;
        after = rows[n - 1][0];
    }
}

static void sq_close(void *impl)
{
    sq *q = impl;
    if (!q)
        return;
    sqlite3_close(q->db);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

int fw_queue_sqlite_open(void **impl, const char *path, fw_error *err)
{
    *impl = NULL;
    fw_store *store;
    int rc = fw_store_open(&store, path, err); /* creates or migrates the schema */
    if (rc)
        return rc;
    sq *q = calloc(1, sizeof *q);
    if (!q) {
        fw_store_close(store);
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    }
    snprintf(q->path, sizeof q->path, "%s", fw_store_path(store));
    fw_store_close(store);
    pthread_mutex_init(&q->mu, NULL);
    if (sqlite3_open_v2(q->path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        fw_error_set(err, FW_EOPEN, "%s: cannot open the queue: %s", q->path,
                     q->db ? sqlite3_errmsg(q->db) : "out of memory");
        sq_close(q);
        return FW_EOPEN;
    }
    sqlite3_busy_timeout(q->db, BUSY_MS);
    if ((rc = recover(q, err))) {
        sq_close(q);
        return rc;
    }
    *impl = q;
    return 0;
}

/* The id of the item with key, or 0. */
static int64_t find_key(sq *q, const char *key, fw_error *err)
{
    sqlite3_stmt *st = prepare(q, "SELECT id FROM queue WHERE key = ?", err);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return id;
}

static int64_t count_queued(sq *q, fw_error *err)
{
    sqlite3_stmt *st = prepare(q, "SELECT count(*) FROM queue WHERE state = 'queued'", err);
    if (!st)
        return -1;
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

static int push_locked(sq *q, const char *payload, const char *key, int max_queued, int64_t *id,
                       fw_error *err)
{
    if (key && (*id = find_key(q, key, err)) != 0)
        return *id > 0 ? FW_QUEUE_EXISTING : err->code;
    int64_t queued = max_queued > 0 ? count_queued(q, err) : 0;
    if (queued < 0)
        return err->code;
    if (max_queued > 0 && queued >= max_queued)
        return FW_QUEUE_FULL;
    sqlite3_stmt *st = prepare(q,
                               "INSERT INTO queue(state, payload, key, created) "
                               "VALUES('queued', ?, ?, ?)",
                               err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, payload, -1, SQLITE_TRANSIENT);
    if (key)
        sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 3, fw_wall_s());
    if (run(q, st, err))
        return err->code;
    *id = sqlite3_last_insert_rowid(q->db);
    return FW_QUEUE_ADDED;
}

static int sq_push(void *impl, const char *payload, const char *key, int max_queued, int64_t *id,
                   fw_error *err)
{
    sq *q = impl;
    pthread_mutex_lock(&q->mu);
    /* one transaction: the key, the bound and the insert are decided together, also
     * against other processes */
    int rc = sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK
                 ? push_locked(q, payload, key, max_queued, id, err)
                 : db_error(q, err);
    if (rc >= 0 && sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_error(q, err);
    if (rc < 0) {
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
        *id = 0;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int sq_claim(void *impl, fw_queue_item *it, fw_error *err)
{
    sq *q = impl;
    pthread_mutex_lock(&q->mu);
    sqlite3_stmt *st = prepare(q,
                               "UPDATE queue SET state = 'running', started = ?, pid = ?, "
                               "attempts = attempts + 1 WHERE id = (SELECT id FROM queue WHERE "
                               "state = 'queued' ORDER BY id LIMIT 1) RETURNING " ITEM_COLUMNS,
                               err);
    int rc = st ? 0 : err->code;
    if (st) {
        claimed_from(q->path, 1); /* before the row says so: see recover */
        sqlite3_bind_double(st, 1, fw_wall_s());
        sqlite3_bind_int64(st, 2, getpid());
        rc = one_item(q, st, it, err);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int sq_requeue(void *impl, int64_t id, fw_error *err)
{
    sq *q = impl;
    pthread_mutex_lock(&q->mu);
    int rc = requeue(q, id, getpid(), err);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int sq_find(void *impl, const char *key, int64_t *id, fw_error *err)
{
    sq *q = impl;
    pthread_mutex_lock(&q->mu);
    *id = find_key(q, key, err);
    pthread_mutex_unlock(&q->mu);
    return *id < 0 ? err->code : *id > 0;
}

static int sq_update(void *impl, int64_t id, const char *status, fw_error *err)
{
    sq *q = impl;
    pthread_mutex_lock(&q->mu);
    sqlite3_stmt *st = prepare(q, "UPDATE queue SET status = ? WHERE id = ?", err);
    int rc = st ? 0 : err->code;
    if (st) {
        sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, id);
        rc = run(q, st, err);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int sq_finish(void *impl, int64_t id, const char *state, const char *result, fw_error *err)
{
    sq *q = impl;
    pthread_mutex_lock(&q->mu);
    sqlite3_stmt *st = prepare(
        q, "UPDATE queue SET state = ?, result = ?, finished = ?, pid = NULL WHERE id = ?", err);
    int rc = st ? 0 : err->code;
    if (st) {
        sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
        if (result)
            sqlite3_bind_text(st, 2, result, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 3, fw_wall_s());
        sqlite3_bind_int64(st, 4, id);
        rc = run(q, st, err);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int sq_cancel(void *impl, int64_t id, fw_error *err)
{
    sq *q = impl;
    pthread_mutex_lock(&q->mu);
    sqlite3_stmt *st = prepare(q,
                               "UPDATE queue SET state = 'cancelled', finished = ? WHERE id = ? "
                               "AND state = 'queued'",
                               err);
    int rc = st ? 0 : err->code;
    if (st) {
        sqlite3_bind_double(st, 1, fw_wall_s());
        sqlite3_bind_int64(st, 2, id);
        rc = run(q, st, err);
        if (!rc)
            rc = sqlite3_changes(q->db) == 1;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int sq_get(void *impl, int64_t id, fw_queue_item *it, fw_error *err)
{
    sq *q = impl;
    pthread_mutex_lock(&q->mu);
    sqlite3_stmt *st = prepare(q, "SELECT " ITEM_COLUMNS " FROM queue WHERE id = ?", err);
    int rc = st ? 0 : err->code;
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        rc = one_item(q, st, it, err);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int sq_list(void *impl, const char *state, int64_t before, fw_queue_item *items, int max,
                   fw_error *err)
{
    sq *q = impl;
    pthread_mutex_lock(&q->mu);
    sqlite3_stmt *st = prepare(q,
                               "SELECT " ITEM_COLUMNS " FROM queue WHERE (?1 IS NULL OR state = "
                               "?1) AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3",
                               err);
    int n = st ? 0 : err->code, step = SQLITE_DONE;
    if (st) {
        if (state)
            sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, before);
        sqlite3_bind_int(st, 3, max);
        while (n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
            read_item(st, &items[n++]);
        if (step != SQLITE_DONE && step != SQLITE_ROW) {
            while (n > 0)
                fw_queue_item_clear(&items[--n]);
            n = db_error(q, err);
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->mu);
    return n;
}

static int sq_counts(void *impl, int64_t counts[FW_QUEUE_N_STATES], fw_error *err)
{
    sq *q = impl;
    memset(counts, 0, sizeof(int64_t) * FW_QUEUE_N_STATES);
    pthread_mutex_lock(&q->mu);
    sqlite3_stmt *st = prepare(q, "SELECT state, count(*) FROM queue GROUP BY state", err);
    int rc = st ? 0 : err->code, step = SQLITE_DONE;
    while (st && (step = sqlite3_step(st)) == SQLITE_ROW)
        for (int i = 0; i < FW_QUEUE_N_STATES; i++)
            if (strcmp((const char *)sqlite3_column_text(st, 0), fw_queue_state_name(i)) == 0)
                counts[i] = sqlite3_column_int64(st, 1);
    if (st && step != SQLITE_DONE)
        rc = db_error(q, err);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

const fw_queue_ops fw_queue_sqlite_ops = {
    .name = "sqlite",
    .push = sq_push,
    .claim = sq_claim,
    .requeue = sq_requeue,
    .find = sq_find,
    .update = sq_update,
    .finish = sq_finish,
    .cancel = sq_cancel,
    .get = sq_get,
    .list = sq_list,
    .counts = sq_counts,
    .close = sq_close,
};
