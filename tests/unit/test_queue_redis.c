/* The Redis queue (src/queue/queue_redis.c) against a real redis-server started by the
 * test: the same calls as the SQLite queue, items shared by several openers (processes),
 * the take-over of an item whose claimer was not heard of, messages, files and notes. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "framewise.h"
#include "fwredis.h"
#include "fwtest.h"

static fwt_redis R;

static int setup(void **state)
{
    (void)state;
    fwt_redis_start(&R, "unit");
    return 0;
}

static int teardown(void **state)
{
    fwt_redis_stop(&R);
    return fwt_teardown(state);
}

/* Each test has a queue of its own name on the one server. */
static fw_queue *open_q(const char *name, double claim_after)
{
    fw_queue *q = NULL;
    fw_error err = {0};
    char url[160];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/%s", R.port, name);
    int rc = fw_queue_open_redis(&q, url, claim_after, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.message);
    assert_int_equal(rc, 0);
    return q;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void a_redis_queue_keeps_items_as_the_sqlite_one(void **state)
{
    (void)state;
    fw_queue *q = open_q("same", 30);
    assert_int_equal(fw_queue_shared(q), 1);
    int64_t a, b, again;
    assert_int_equal(fw_queue_push(q, "{\"n\":1}", "k1", 0, &a, NULL), FW_QUEUE_ADDED);
    assert_int_equal(fw_queue_push(q, "{\"n\":2}", NULL, 0, &b, NULL), FW_QUEUE_ADDED);
    assert_true(b > a);
    assert_int_equal(fw_queue_push(q, "{\"n\":3}", "k1", 0, &again, NULL), FW_QUEUE_EXISTING);
    assert_int_equal(again, a);
    assert_int_equal(fw_queue_push(q, "{\"n\":3}", NULL, 2, &again, NULL), FW_QUEUE_FULL);
    assert_int_equal(fw_queue_find(q, "k1", &again, NULL), 1);
    assert_int_equal(again, a);
    assert_int_equal(fw_queue_find(q, "none", &again, NULL), 0);

    fw_queue_item it = {0};
    assert_int_equal(fw_queue_claim(q, &it, NULL), 1);
    assert_int_equal(it.id, a);
    assert_string_equal(it.state, "running");
    assert_string_equal(it.payload, "{\"n\":1}");
    assert_string_equal(it.key, "k1");
    assert_int_equal(it.attempts, 1);
    assert_int_equal(it.lost, 0);
    assert_true(it.started_s >= it.created_s && it.created_s > 1e9);
    fw_queue_item_clear(&it);
    assert_int_equal(fw_queue_update(q, a, "{\"progress\":0.5}", NULL), 0);
    int64_t counts[FW_QUEUE_N_STATES];
    assert_int_equal(fw_queue_counts(q, counts, NULL), 0);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 1);
    assert_int_equal(fw_queue_finish(q, a, "done", "{\"ok\":true}", NULL), 0);
    assert_int_equal(fw_queue_finish(q, a, "failed", NULL, NULL), 1); /* ended already */
    assert_int_equal(fw_queue_get(q, a, &it, NULL), 1);
    assert_string_equal(it.state, "done");
    assert_string_equal(it.result, "{\"ok\":true}");
    assert_string_equal(it.status, "{\"progress\":0.5}");
    assert_true(it.finished_s >= it.started_s);
    fw_queue_item_clear(&it);

    assert_int_equal(fw_queue_cancel(q, b, NULL), 1);
    assert_int_equal(fw_queue_cancel(q, b, NULL), 0);
    assert_int_equal(fw_queue_claim(q, &it, NULL), 0); /* the cancelled one is not given */
    fw_queue_item items[4];
    assert_int_equal(fw_queue_list(q, NULL, 0, items, 4, NULL), 2);
    assert_int_equal(items[0].id, b); /* newest first */
    assert_string_equal(items[0].state, "cancelled");
    fw_queue_item_clear(&items[0]);
    fw_queue_item_clear(&items[1]);
    assert_int_equal(fw_queue_list(q, "done", 0, items, 4, NULL), 1);
    assert_int_equal(items[0].id, a);
    fw_queue_item_clear(&items[0]);
    assert_int_equal(fw_queue_list(q, NULL, b, items, 4, NULL), 1); /* below b */
    fw_queue_item_clear(&items[0]);
    assert_int_equal(fw_queue_get(q, 999999, &it, NULL), 0);
    fw_queue_close(q);
}

static void an_item_is_given_to_one_opener_and_ended_by_it_only(void **state)
{
    (void)state;
    fw_queue *p = open_q("one", 30), *q = open_q("one", 30);
    int64_t a, b;
    fw_queue_push(p, "{}", NULL, 0, &a, NULL);
    fw_queue_push(q, "{}", NULL, 0, &b, NULL);
    fw_queue_item x = {0}, y = {0}, z = {0};
    assert_int_equal(fw_queue_claim(p, &x, NULL), 1);
    assert_int_equal(fw_queue_claim(q, &y, NULL), 1);
    assert_int_equal(fw_queue_claim(q, &z, NULL), 0);
    assert_true(x.id != y.id);
    assert_int_equal(fw_queue_finish(q, x.id, "done", NULL, NULL), 1); /* not q's */
    assert_int_equal(fw_queue_finish(p, x.id, "done", NULL, NULL), 0);
    /* given back: another opener takes it from the stream, its attempts counted */
    assert_int_equal(fw_queue_requeue(p, y.id, NULL), 0);
    assert_int_equal(fw_queue_requeue(q, y.id, NULL), 1);
    assert_int_equal(fw_queue_claim(p, &z, NULL), 1);
    assert_int_equal(z.id, y.id);
    assert_int_equal(z.attempts, 2);
    assert_int_equal(z.lost, 0);
    assert_int_equal(fw_queue_finish(p, z.id, "done", NULL, NULL), 0);
    fw_queue_item_clear(&x);
    fw_queue_item_clear(&y);
    fw_queue_item_clear(&z);
    fw_queue_close(p);
    fw_queue_close(q);
}

static void an_item_whose_claimer_is_not_heard_of_is_taken_over(void **state)
{
    (void)state;
    fw_queue *dead = open_q("over", 1), *alive = open_q("over", 1);
    int64_t id;
    fw_queue_push(alive, "{}", NULL, 0, &id, NULL);
    fw_queue_item it = {0};
    assert_int_equal(fw_queue_claim(dead, &it, NULL), 1);
    fw_queue_item_clear(&it);
    fw_queue_note(dead, id, "0", "{\"keyframe\":0,\"text\":\"seen\"}", NULL);
    /* while its claimer lives (its keeper runs), nobody takes it, for twice claim-after */
    double t0 = now_s();
    while (now_s() - t0 < 2.5)
        assert_int_equal(fw_queue_claim(alive, &it, NULL), 0);
    fw_queue_close(dead); /* as a kill: the item stays running, its entry unacknowledged */
    t0 = now_s();
    int got = 0;
    while (!got && now_s() - t0 < 10)
        got = fw_queue_claim(alive, &it, NULL);
    assert_int_equal(got, 1);
    assert_true(now_s() - t0 > 0.5); /* not before claim-after */
    assert_int_equal(it.id, id);
    assert_int_equal(it.attempts, 2);
    assert_int_equal(it.lost, 1);
    fw_queue_item_clear(&it);
    char *notes = NULL;
    assert_int_equal(fw_queue_notes(alive, id, &notes, NULL), 1);
    assert_non_null(strstr(notes, "\"seen\""));
    free(notes);
    assert_int_equal(fw_queue_finish(alive, id, "done", NULL, NULL), 0);
    assert_int_equal(fw_queue_notes(alive, id, &notes, NULL), 0); /* gone with its end */
    fw_queue_close(alive);
}

typedef struct heard {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t id[16];
    int kind[16];
    char text[16][64];
    int n;
} heard;

static void on_message(void *user, int64_t id, int kind, const char *text)
{
    heard *h = user;
    pthread_mutex_lock(&h->mu);
    if (h->n < 16) {
        h->id[h->n] = id;
        h->kind[h->n] = kind;
        snprintf(h->text[h->n], sizeof h->text[0], "%s", text);
        h->n++;
    }
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* Waits (ms at most) until h has heard n messages: how many it has. */
static int wait_heard(heard *h, int n, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    long long ns = until.tv_nsec + ms * 1000000LL;
    until.tv_sec += ns / 1000000000;
    until.tv_nsec = ns % 1000000000;
    pthread_mutex_lock(&h->mu);
    int rc = 0;
    while (h->n < n && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&h->cv, &h->mu, &until);
    int got = h->n;
    pthread_mutex_unlock(&h->mu);
    return got;
}

static void messages_reach_the_other_openers_and_a_cancel_its_claimer(void **state)
{
    (void)state;
    heard hp = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    heard hq = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    fw_queue *p = open_q("msg", 30), *q = open_q("msg", 30);
    assert_int_equal(fw_queue_listen(p, on_message, &hp, NULL), 0);
    assert_int_equal(fw_queue_listen(q, on_message, &hq, NULL), 0);
    assert_true(fw_queue_listen(q, on_message, &hq, NULL) < 0);
    /* the listeners subscribe on their threads: a message they hear says they listen */
    int64_t id;
    for (int i = 0; i < 500 && wait_heard(&hq, 1, 20) == 0; i++)
        fw_queue_publish(p, 1, FW_QUEUE_MSG_EVENT, "hello", NULL);
    for (int i = 0; i < 500 && wait_heard(&hp, 1, 20) == 0; i++)
        fw_queue_publish(q, 1, FW_QUEUE_MSG_EVENT, "hello", NULL);
    pthread_mutex_lock(&hp.mu);
    hp.n = 0;
    pthread_mutex_unlock(&hp.mu);
    pthread_mutex_lock(&hq.mu);
    int base = hq.n;
    pthread_mutex_unlock(&hq.mu);
    fw_queue_push(p, "{}", NULL, 0, &id, NULL); /* q hears it queued, p does not hear itself */
    assert_true(wait_heard(&hq, base + 1, 5000) >= base + 1);
    assert_int_equal(hq.kind[base], FW_QUEUE_MSG_QUEUED);
    assert_int_equal(hq.id[base], id);
    fw_queue_item it = {0};
    assert_int_equal(fw_queue_claim(p, &it, NULL), 1);
    fw_queue_item_clear(&it);
    fw_queue_publish(p, id, FW_QUEUE_MSG_EVENT, "{\"type\":\"stage\",\"stage\":\"decode\"}", NULL);
    assert_true(wait_heard(&hq, base + 2, 5000) >= base + 2);
    assert_int_equal(hq.kind[base + 1], FW_QUEUE_MSG_EVENT);
    assert_string_equal(hq.text[base + 1], "{\"type\":\"stage\",\"stage\":\"decode\"}");
    assert_int_equal(fw_queue_cancel(q, id, NULL), 2); /* runs at p: p is asked */
    assert_true(wait_heard(&hp, 1, 5000) >= 1);
    assert_int_equal(hp.id[0], id);
    assert_int_equal(hp.kind[0], FW_QUEUE_MSG_CANCEL);
    pthread_mutex_lock(&hp.mu);
    int own = 0;
    for (int i = 0; i < hp.n; i++)
        own += hp.kind[i] == FW_QUEUE_MSG_QUEUED;
    pthread_mutex_unlock(&hp.mu);
    assert_int_equal(own, 0);
    fw_queue_finish(p, id, "cancelled", NULL, NULL);
    fw_queue_close(p);
    fw_queue_close(q);
}

static void files_are_kept_beside_the_item(void **state)
{
    (void)state;
    fw_queue *q = open_q("files", 30);
    const char bytes[] = {'\xff', '\xd8', 0, 'x', '\n'};
    assert_int_equal(fw_queue_put_file(q, 7, "kf_000001.jpg", bytes, sizeof bytes, NULL), 0);
    char *data = NULL;
    size_t n = 0;
    assert_int_equal(fw_queue_get_file(q, 7, "kf_000001.jpg", &data, &n, NULL), 1);
    assert_int_equal(n, sizeof bytes);
    assert_memory_equal(data, bytes, n);
    free(data);
    assert_int_equal(fw_queue_get_file(q, 7, "report.json", &data, &n, NULL), 0);
    assert_null(data);
    fw_queue_close(q);
}

static void a_wrong_url_or_a_missing_server_says_so(void **state)
{
    (void)state;
    fw_queue *q = NULL;
    fw_error err = {0};
    assert_int_equal(fw_queue_open_redis(&q, "redis://127.0.0.1:6379", 30, &err), FW_EOPEN);
    assert_non_null(strstr(err.message, "name"));
    assert_int_equal(fw_queue_open_redis(&q, "redis://127.0.0.1:6379/a b", 30, &err), FW_EOPEN);
    assert_int_equal(fw_queue_open_redis(&q, "redis://127.0.0.1:99999/x", 30, &err), FW_EOPEN);
    assert_non_null(strstr(err.message, "port"));
    /* a port nothing listens on: the redis-server that was there is stopped */
    fwt_redis gone;
    fwt_redis_start(&gone, "x");
    char url[128];
    snprintf(url, sizeof url, "%s", gone.url);
    fwt_redis_stop(&gone);
    assert_int_equal(fw_queue_open(&q, url, &err), FW_EOPEN);
    assert_non_null(strstr(err.message, "cannot connect"));
    assert_null(q);
}

int main(int argc, char **argv)
{
    fwt_select_test(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_redis_queue_keeps_items_as_the_sqlite_one),
        cmocka_unit_test(an_item_is_given_to_one_opener_and_ended_by_it_only),
        cmocka_unit_test(an_item_whose_claimer_is_not_heard_of_is_taken_over),
        cmocka_unit_test(messages_reach_the_other_openers_and_a_cancel_its_claimer),
        cmocka_unit_test(files_are_kept_beside_the_item),
        cmocka_unit_test(a_wrong_url_or_a_missing_server_says_so),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
