/* framewise serve's WebSocket: a watcher sees the job's events in order and a final done;
 * one that comes late gets the job's state first. One test per process: test_events NAME. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fwserve.h"
#include "fwtest.h"

#define TOKEN "ws-token"

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int64_t upload(fws_server *s, const char *clip, const char *prompt)
{
    char options[128];
    snprintf(options, sizeof options, "{\"prompt\": \"%s\"}", prompt);
    const char *fields[] = {"options", options, NULL};
    fws_resp r;
    fws_upload(&r, s, TOKEN, clip, fields);
    int64_t id = fws_job_id(&r);
    fws_resp_free(&r);
    return id;
}

static size_t count_type(json_t *msgs, const char *type)
{
    size_t n = 0, i;
    json_t *m;
    json_array_foreach(msgs, i, m) n += strcmp(jstr(m, "type") ? jstr(m, "type") : "", type) == 0;
    return n;
}

/* The messages of a whole run: snapshot, then the events in order, done last. */
static void check_run(json_t *msgs)
{
    size_t n = json_array_size(msgs), i;
    assert_true(n > 3);
    assert_string_equal(jstr(json_array_get(msgs, 0), "type"), "snapshot");
    json_t *last = json_array_get(msgs, n - 1);
    assert_string_equal(jstr(last, "type"), "done");
    assert_string_equal(jstr(last, "state"), "done");
    assert_int_equal(count_type(msgs, "keyframe"), FWS_N_COLOURS);
    assert_int_equal(count_type(msgs, "observation"), FWS_N_COLOURS);
    assert_true(count_type(msgs, "progress") >= 1);
    assert_true(count_type(msgs, "stage") >= 1);
    assert_int_equal(count_type(msgs, "done"), 1);
    /* observations in keyframe order, each after its keyframe */
    int keyframes = 0, next_obs = 0;
    double progress = -1;
    json_t *m;
    json_array_foreach(msgs, i, m)
    {
        const char *type = jstr(m, "type");
        if (strcmp(type, "keyframe") == 0)
            keyframes++;
        else if (strcmp(type, "observation") == 0) {
            int k = (int)json_integer_value(json_object_get(m, "keyframe"));
            assert_int_equal(k, next_obs);
            assert_true(k < keyframes);
            next_obs++;
        } else if (strcmp(type, "progress") == 0) {
            double f = json_number_value(json_object_get(m, "fraction"));
            assert_true(f >= progress && f <= 1.0);
            progress = f;
        }
    }
}

static void websocket_sees_the_events_in_order_then_done(void **state)
{
    (void)state;
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 2 --latency 100");
    const char *clip = fws_colour_clip("colours.mp4");
    fws_server s;
    fws_start(&s, "--token " TOKEN " --url %s --summary extractive --workers 1", v.url);
    int64_t busy = upload(&s, clip, "first");
    json_decref(fws_wait(&s, TOKEN, busy, "running", 30));
    int64_t id = upload(&s, clip, "second"); /* queued behind the first: watched from start */
    char path[64];
    snprintf(path, sizeof path, "/v1/jobs/%lld/events", (long long)id);
    fws_ws w;
    assert_int_equal(fws_ws_open(&w, &s, path, TOKEN), 0);
    assert_true(fws_ws_wait_closed(&w, 120)); /* the server closes it after done */
    json_t *snap = json_object_get(json_array_get(w.messages, 0), "job");
    assert_string_equal(jstr(snap, "state"), "queued");
    check_run(w.messages);
    fws_ws_close(&w);
    fws_stop(&s);
    fwt_vlm_stop(&v);
}

static int observed_some(json_t *job, void *user)
{
    (void)user;
    return json_integer_value(json_object_get(json_object_get(job, "counts"), "observations")) >= 2;
}

static void late_client_gets_the_state_first(void **state)
{
    (void)state;
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 1 --latency 150");
    const char *clip = fws_colour_clip("colours.mp4");
    fws_server s;
    fws_start(&s, "--token " TOKEN " --url %s --summary extractive --concurrency 1", v.url);
    int64_t id = upload(&s, clip, "late");
    json_decref(fws_wait_for(&s, TOKEN, id, observed_some, NULL, 60));
    char path[64];
    snprintf(path, sizeof path, "/v1/jobs/%lld/events", (long long)id);
    /* joining mid-run: the snapshot says where it is, the rest follows */
    fws_ws mid;
    assert_int_equal(fws_ws_open(&mid, &s, path, TOKEN), 0);
    assert_true(fws_ws_wait_closed(&mid, 120));
    json_t *first = json_array_get(mid.messages, 0);
    assert_string_equal(jstr(first, "type"), "snapshot");
    json_t *job = json_object_get(first, "job");
    assert_string_equal(jstr(job, "state"), "running");
    json_int_t seen =
        json_integer_value(json_object_get(json_object_get(job, "counts"), "observations"));
    assert_true(seen >= 2);
    assert_int_equal(count_type(mid.messages, "observation"), FWS_N_COLOURS - seen);
    json_t *last = json_array_get(mid.messages, json_array_size(mid.messages) - 1);
    assert_string_equal(jstr(last, "type"), "done");
    fws_ws_close(&mid);
    /* after the end: the snapshot, the end, closed */
    fws_ws after;
    assert_int_equal(fws_ws_open(&after, &s, path, TOKEN), 0);
    assert_true(fws_ws_wait_closed(&after, 30));
    assert_int_equal(json_array_size(after.messages), 2);
    job = json_object_get(json_array_get(after.messages, 0), "job");
    assert_string_equal(jstr(job, "state"), "done");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(job, "counts"), "keyframes")),
        FWS_N_COLOURS);
    assert_string_equal(jstr(json_array_get(after.messages, 1), "type"), "done");
    fws_ws_close(&after);
    /* a job that does not exist: refused */
    fws_ws none;
    assert_int_equal(fws_ws_open(&none, &s, "/v1/jobs/999/events", TOKEN), -1);
    fws_ws_close(&none);
    fws_stop(&s);
    fwt_vlm_stop(&v);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(websocket_sees_the_events_in_order_then_done, fwt_teardown),
        cmocka_unit_test_teardown(late_client_gets_the_state_first, fwt_teardown),
    };
    fwt_select_test(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
