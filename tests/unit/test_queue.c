/* The job queue (fw_queue_*, SQLite in the store's file): order, idempotency, the bound,
 * cancel, listing, items of a dead process (or of an earlier one with this pid) queued
 * again, and an interrupted item put back. */
#include <setjmp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "framewise.h"
#include "fwtest.h"

static fw_queue *open_queue(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/store.db", fwt_tmpdir());
    fw_queue *q = NULL;
    fw_error err = {0};
    if (fw_queue_open(&q, path, &err))
        fail_msg("%s", err.message);
    return q;
}

static void items_are_claimed_oldest_first_and_once(void **state)
{
    (void)state;
    fw_queue *q = open_queue();
    int64_t a, b;
    assert_int_equal(fw_queue_push(q, "{\"n\":1}", NULL, 0, &a, NULL), FW_QUEUE_ADDED);
    assert_int_equal(fw_queue_push(q, "{\"n\":2}", NULL, 0, &b, NULL), FW_QUEUE_ADDED);
    assert_true(b > a);
    fw_queue_item it = {0};
    assert_int_equal(fw_queue_claim(q, &it, NULL), 1);
    assert_int_equal(it.id, a);
    assert_string_equal(it.state, "running");
    assert_string_equal(it.payload, "{\"n\":1}");
    assert_int_equal(it.attempts, 1);
    assert_true(it.started_s > 0);
    fw_queue_item_clear(&it);
    assert_int_equal(fw_queue_claim(q, &it, NULL), 1);
    assert_int_equal(it.id, b);
    fw_queue_item_clear(&it);
    assert_int_equal(fw_queue_claim(q, &it, NULL), 0);
    assert_int_equal(fw_queue_update(q, a, "{\"stage\":\"decode\"}", NULL), 0);
    assert_int_equal(fw_queue_finish(q, a, "done", "{\"ok\":true}", NULL), 0);
    assert_int_equal(fw_queue_finish(q, b, "running", NULL, NULL), FW_EINVAL);
    assert_int_equal(fw_queue_get(q, a, &it, NULL), 1);
    assert_string_equal(it.state, "done");
    assert_string_equal(it.status, "{\"stage\":\"decode\"}");
    assert_string_equal(it.result, "{\"ok\":true}");
    assert_true(it.finished_s >= it.started_s);
    fw_queue_item_clear(&it);
    assert_int_equal(fw_queue_get(q, 999, &it, NULL), 0);
    int64_t counts[FW_QUEUE_N_STATES];
    assert_int_equal(fw_queue_counts(q, counts, NULL), 0);
    assert_int_equal(counts[0], 0); /* queued */
    assert_int_equal(counts[1], 1); /* running */
    assert_int_equal(counts[2], 1); /* done */
    fw_queue_close(q);
}

static void key_gives_back_the_item_and_the_bound_holds(void **state)
{
    (void)state;
    fw_queue *q = open_queue();
    int64_t a, again, b, c;
    assert_int_equal(fw_queue_push(q, "{}", "k1", 2, &a, NULL), FW_QUEUE_ADDED);
    assert_int_equal(fw_queue_push(q, "{\"other\":1}", "k1", 2, &again, NULL), FW_QUEUE_EXISTING);
    assert_int_equal(again, a);
    assert_int_equal(fw_queue_find(q, "k1", &again, NULL), 1);
    assert_int_equal(again, a);
    assert_int_equal(fw_queue_find(q, "k9", &again, NULL), 0);
    assert_int_equal(fw_queue_find(q, NULL, &again, NULL), 0);
    assert_int_equal(fw_queue_push(q, "{}", "k2", 2, &b, NULL), FW_QUEUE_ADDED);
    assert_int_equal(fw_queue_push(q, "{}", "k3", 2, &c, NULL), FW_QUEUE_FULL);
    assert_int_equal(c, 0);
    /* a known key still answers when full */
    assert_int_equal(fw_queue_push(q, "{}", "k2", 2, &again, NULL), FW_QUEUE_EXISTING);
    assert_int_equal(again, b);
    /* a cancelled item leaves room; cancelling it again does nothing */
    assert_int_equal(fw_queue_cancel(q, b, NULL), 1);
    assert_int_equal(fw_queue_cancel(q, b, NULL), 0);
    assert_int_equal(fw_queue_push(q, "{}", "k3", 2, &c, NULL), FW_QUEUE_ADDED);
    fw_queue_item items[8] = {{0}};
    int n = fw_queue_list(q, NULL, 0, items, 8, NULL);
    assert_int_equal(n, 3);
    assert_int_equal(items[0].id, c); /* newest first */
    assert_string_equal(items[1].state, "cancelled");
    assert_string_equal(items[2].key, "k1");
    for (int i = 0; i < n; i++)
        fw_queue_item_clear(&items[i]);
    n = fw_queue_list(q, "queued", c, items, 8, NULL);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].id, a);
    fw_queue_item_clear(&items[0]);
    assert_int_equal(fw_queue_list(q, "nonsense", 0, items, 8, NULL), FW_EINVAL);
    fw_queue_close(q);
}

static void items_of_a_dead_process_are_queued_again(void **state)
{
    (void)state;
    fw_queue *q = open_queue();
    int64_t a, b;
    fw_queue_push(q, "{\"n\":1}", NULL, 0, &a, NULL);
    fw_queue_push(q, "{\"n\":2}", NULL, 0, &b, NULL);
    fw_queue_close(q);
    /* a child claims the first and dies without a word */
    pid_t pid = fork();
    if (pid == 0) {
        fw_queue *cq = open_queue();
        fw_queue_item it = {0};
        _exit(fw_queue_claim(cq, &it, NULL) == 1 ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    q = open_queue();
    fw_queue_item it = {0};
    assert_int_equal(fw_queue_claim(q, &it, NULL), 1);
    assert_int_equal(it.id, a); /* ahead of the newer one */
    assert_int_equal(it.attempts, 2);
    fw_queue_item_clear(&it);
    /* an item this process runs is left to it when the queue is opened again */
    fw_queue *again = open_queue();
    assert_int_equal(fw_queue_claim(again, &it, NULL), 1);
    assert_int_equal(it.id, b);
    fw_queue_item_clear(&it);
    assert_int_equal(fw_queue_claim(again, &it, NULL), 0);
    fw_queue_close(again);
    fw_queue_close(q);
}

/* Sets an item's state and pid as another process would have left it. */
static void set_running(int64_t id, long long pid)
{
    char path[512];
    snprintf(path, sizeof path, "%s/store.db", fwt_tmpdir());
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "UPDATE queue SET state = 'running', pid = ? WHERE id = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, pid);
    sqlite3_bind_int64(st, 2, id);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* In a container the server is PID 1 on every start: an item left running by the last
 * one carries this process's pid, yet this process has claimed nothing. */
static void items_of_an_earlier_process_with_this_pid_are_queued_again(void **state)
{
    (void)state;
    fw_queue *q = open_queue();
    int64_t a, b;
    fw_queue_push(q, "{\"n\":1}", NULL, 0, &a, NULL);
    fw_queue_push(q, "{\"n\":2}", NULL, 0, &b, NULL);
    fw_queue_close(q);
    set_running(a, getpid());
    set_running(b, getppid()); /* a live process's: left to it */
    q = open_queue();
    fw_queue_item it = {0};
    assert_int_equal(fw_queue_get(q, a, &it, NULL), 1);
    assert_string_equal(it.state, "queued");
    fw_queue_item_clear(&it);
    assert_int_equal(fw_queue_claim(q, &it, NULL), 1);
    assert_int_equal(it.id, a);
    fw_queue_item_clear(&it);
    assert_int_equal(fw_queue_claim(q, &it, NULL), 0);
    /* once this process has claimed from the store, an item under its pid is its own */
    fw_queue *again = open_queue();
    assert_int_equal(fw_queue_get(again, a, &it, NULL), 1);
    assert_string_equal(it.state, "running");
    fw_queue_item_clear(&it);
    fw_queue_close(again);
    fw_queue_close(q);
}

static void an_interrupted_item_goes_back_with_its_attempts(void **state)
{
    (void)state;
    fw_queue *q = open_queue();
    int64_t a, b;
    fw_queue_push(q, "{\"n\":1}", NULL, 0, &a, NULL);
    fw_queue_push(q, "{\"n\":2}", NULL, 0, &b, NULL);
    fw_queue_item it = {0};
    assert_int_equal(fw_queue_claim(q, &it, NULL), 1);
    fw_queue_item_clear(&it);
    assert_int_equal(fw_queue_requeue(q, a, NULL), 1);
    assert_int_equal(fw_queue_requeue(q, a, NULL), 0); /* queued already */
    assert_int_equal(fw_queue_claim(q, &it, NULL), 1);
    assert_int_equal(it.id, a); /* still ahead of the newer one */
    assert_int_equal(it.attempts, 2);
    fw_queue_item_clear(&it);
    assert_int_equal(fw_queue_finish(q, a, "done", NULL, NULL), 0);
    assert_int_equal(fw_queue_requeue(q, a, NULL), 0); /* ended: stays so */
    set_running(b, getppid());
    assert_int_equal(fw_queue_requeue(q, b, NULL), 0); /* another process's */
    assert_int_equal(fw_queue_get(q, b, &it, NULL), 1);
    assert_string_equal(it.state, "running");
    fw_queue_item_clear(&it);
    fw_queue_close(q);
}

static void a_file_that_is_not_a_store_is_refused(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/junk.db", fwt_tmpdir());
    FILE *f = fopen(path, "w");
    fputs("this is not a database, not at all, really not", f);
    fclose(f);
    fw_queue *q = NULL;
    fw_error err = {0};
    assert_int_equal(fw_queue_open(&q, path, &err), FW_EOPEN);
    assert_null(q);
    assert_non_null(strstr(err.message, "junk.db"));
    assert_string_equal(fw_queue_state_name(0), "queued");
    assert_null(fw_queue_state_name(FW_QUEUE_N_STATES));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(items_are_claimed_oldest_first_and_once, fwt_teardown),
        cmocka_unit_test_teardown(key_gives_back_the_item_and_the_bound_holds, fwt_teardown),
        cmocka_unit_test_teardown(items_of_a_dead_process_are_queued_again, fwt_teardown),
        cmocka_unit_test_teardown(items_of_an_earlier_process_with_this_pid_are_queued_again,
                                  fwt_teardown),
        cmocka_unit_test_teardown(an_interrupted_item_goes_back_with_its_attempts, fwt_teardown),
        cmocka_unit_test_teardown(a_file_that_is_not_a_store_is_refused, fwt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
