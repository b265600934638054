/* fuse on fixed observation lists: n-gram embeddings, segments, single and multi-step
 * events, the extractive summary, and event files that are wrong. */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuse/fuse.h"

static float cos_of(const char *a, const char *b)
{
    static float va[FW_NGRAM_DIM], vb[FW_NGRAM_DIM];
    fw_embed_ngrams(a, va);
    fw_embed_ngrams(b, vb);
    return fw_cosine(va, vb, FW_NGRAM_DIM);
}

static void ngram_vectors_are_unit_and_fold_case_and_width(void **state)
{
    (void)state;
    float v[FW_NGRAM_DIM];
    fw_embed_ngrams("Login failed: connection timed out", v);
    assert_float_equal(fw_cosine(v, v, FW_NGRAM_DIM), 1.0, 1e-5);
    fw_embed_ngrams("", v);
    assert_float_equal(fw_cosine(v, v, FW_NGRAM_DIM), 0.0, 1e-9);
    assert_true(cos_of("ＬＯＧＩＮ　Failed", "login failed") > 0.99);
    /* related English texts are closer than unrelated ones */
    float near = cos_of("connection timed out", "Login failed: connection timed out");
    float far = cos_of("connection timed out", "Dashboard: 3 new orders");
    assert_true(near > 0.5);
    assert_true(far < 0.15);
    /* word pieces: "timeout" shares grams with "timed out" */
    assert_true(cos_of("timeout", "timed out") > cos_of("timeout", "dashboard"));
    /* Chinese: shared words (网络, 连接) count, other words do not */
    float zh_near = cos_of("请检查网络连接", "网络连接失败");
    float zh_far = cos_of("请检查网络连接", "订单已发货");
    assert_true(zh_near > 0.3);
    assert_true(zh_far < 0.1);
    /* a mixed line is close to each of its parts */
    assert_true(cos_of("登录失败 Login failed", "登录失败") > 0.4);
    assert_true(cos_of("登录失败 Login failed", "login failed") > 0.4);
}

/* Moments and their n-gram vectors. */
typedef struct fixture {
    fw_moment m[16];
    float emb[16 * FW_NGRAM_DIM];
    int n;
} fixture;

static void add(fixture *f, double t, const char *text, double conf, int usable)
{
    f->m[f->n] = (fw_moment){t, f->n, text, conf, usable};
    fw_embed_ngrams(text, f->emb + (size_t)f->n * FW_NGRAM_DIM);
    f->n++;
}

static void adjacent_similar_texts_merge_into_segments(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, 0, "Sign in to your account | Email | Password", 0.9, 1);
    add(&f, 2, "Sign in to your account | Email | Password | Remember me", 0.8, 1);
    add(&f, 3, "A black frame", 0.1, 0); /* gated: kept out, does not split */
    add(&f, 4, "Sign in to your account | Email: ann@example.com | Password", 0.9, 1);
    add(&f, 8, "Dashboard | 3 new orders | Revenue today", 0.9, 1);
    add(&f, 10, "Dashboard | 4 new orders | Revenue today", 0.7, 1);
    add(&f, 14, "订单已发货 | 物流信息 | 预计送达时间", 0.9, 1);
    fw_segment *s;
    int n;
    assert_int_equal(fw_segments(f.m, f.n, f.emb, FW_NGRAM_DIM, 0.5, 20.0, &s, &n), 0);
    assert_int_equal(n, 3);
    assert_float_equal(s[0].start_s, 0, 1e-9);
    assert_float_equal(s[0].end_s, 8, 1e-9); /* ends where the next begins */
    assert_int_equal(s[0].n_members, 3);
    assert_int_equal(s[0].members[2], 3); /* the gated moment 2 is not a member */
    assert_float_equal(s[0].confidence, (0.9 + 0.8 + 0.9) / 3, 1e-9);
    assert_int_equal(s[1].n_members, 2);
    assert_float_equal(s[1].start_s, 8, 1e-9);
    assert_float_equal(s[2].start_s, 14, 1e-9);
    assert_float_equal(s[2].end_s, 20, 1e-9); /* the last ends at the video's end */
    /* the representative is a member */
    assert_true(s[1].rep == 4 || s[1].rep == 5);
    fw_segments_free(s, n);
    /* a threshold of 1 keeps every usable moment apart */
    assert_int_equal(fw_segments(f.m, f.n, f.emb, FW_NGRAM_DIM, 0.999, -1, &s, &n), 0);
    assert_int_equal(n, 6);
    assert_float_equal(s[5].end_s, 14, 1e-9); /* unknown end: its last moment */
    fw_segments_free(s, n);
}

/* rel[p * n + i] from the n-gram vectors of the phrases and of the moments. */
static float *relevance(const fw_events *e, const fixture *f)
{
    const char **phr;
    int np = fw_events_phrases(e, &phr);
    float *rel = calloc((size_t)np * f->n, sizeof *rel), v[FW_NGRAM_DIM];
    for (int p = 0; p < np; p++) {
        fw_embed_ngrams(phr[p], v);
        for (int i = 0; i < f->n; i++)
            rel[p * f->n + i] = fw_cosine(v, f->emb + (size_t)i * FW_NGRAM_DIM, FW_NGRAM_DIM);
    }
    return rel;
}

static fw_events *events_of(const char *json)
{
    fw_events *e = NULL;
    fw_error err = {0};
    json_t *defs = json_loads(json, 0, NULL);
    assert_non_null(defs);
    assert_int_equal(fw_events_parse(&e, defs, "test.json", &err), 0);
    json_decref(defs);
    return e;
}

static void single_event_fires_once_per_run_with_time_and_evidence(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, 0, "Sign in", 0.9, 1);
    add(&f, 4, "Connection timed out", 0.9, 1);
    add(&f, 5, "Connection timed out. Retry", 0.9, 1);
    add(&f, 8, "Dashboard", 0.9, 1);
    add(&f, 12, "connection timed out", 0.1, 0); /* gated: never fires */
    add(&f, 15, "Error: connection timed out", 0.9, 1);
    fw_events *e = events_of("[{\"name\": \"timeout\", \"description\": \"the network fails\", "
                             "\"phrases\": [\"connection timed out\", \"连接超时\"], "
                             "\"threshold\": 0.6}]");
    float *rel = relevance(e, &f);
    json_t *ev = fw_events_match(e, f.m, f.n, rel);
    assert_int_equal(json_array_size(ev), 2);
    json_t *a = json_array_get(ev, 0), *b = json_array_get(ev, 1);
    assert_string_equal(json_string_value(json_object_get(a, "name")), "timeout");
    assert_float_equal(json_real_value(json_object_get(a, "time")), 4, 1e-9);
    assert_float_equal(json_real_value(json_object_get(a, "end")), 5, 1e-9);
    assert_string_equal(json_string_value(json_object_get(a, "evidence")), "Connection timed out");
    assert_true(json_real_value(json_object_get(a, "score")) > 0.99);
    assert_float_equal(json_real_value(json_object_get(b, "time")), 15, 1e-9);
    /* streaming: the moment itself */
    json_t *now = fw_events_at(e, f.m, f.n, rel, 2);
    assert_int_equal(json_array_size(now), 1);
    assert_null(fw_events_at(e, f.m, f.n, rel, 3));
    assert_null(fw_events_at(e, f.m, f.n, rel, 4)); /* gated */
    json_decref(now);
    json_decref(ev);
    free(rel);
    fw_events_free(e);
}

static const char unboxing[] =
    "{\"events\": [{\"name\": \"unboxing\", \"threshold\": 0.5, \"window\": 50, \"steps\": ["
    "{\"name\": \"open\", \"phrases\": [\"opening the box\", \"开箱\"]},"
    "\"takes the phone out\","
    "{\"name\": \"power on\", \"phrases\": [\"power on\", \"the screen lights up\"]}]}]}";

static void multi_step_event_needs_every_step_in_order(void **state)
{
    (void)state;
    fw_events *e = events_of(unboxing);
    /* in order, with other frames between */
    fixture f = {0};
    add(&f, 0, "A person at a desk", 0.9, 1);
    add(&f, 3, "Hands opening the box of a phone", 0.9, 1);
    add(&f, 6, "The box lid is off", 0.9, 1);
    add(&f, 9, "The person takes the phone out of the box", 0.9, 1);
    add(&f, 14, "The screen lights up with the boot logo", 0.9, 1);
    float *rel = relevance(e, &f);
    json_t *ev = fw_events_match(e, f.m, f.n, rel);
    assert_int_equal(json_array_size(ev), 1);
    json_t *steps = json_object_get(json_array_get(ev, 0), "steps");
    assert_int_equal(json_array_size(steps), 3);
    assert_float_equal(json_real_value(json_object_get(json_array_get(steps, 0), "time")), 3, 1e-9);
    assert_float_equal(json_real_value(json_object_get(json_array_get(steps, 1), "time")), 9, 1e-9);
    assert_float_equal(json_real_value(json_object_get(json_array_get(steps, 2), "time")), 14,
                       1e-9);
    assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 1), "name")),
                        "takes the phone out");
    assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 2), "name")),
                        "power on");
    assert_float_equal(json_real_value(json_object_get(json_array_get(ev, 0), "end")), 14, 1e-9);
    json_decref(ev);
    free(rel);

    /* the same steps in the wrong order: no event */
    fixture r = {0};
    add(&r, 0, "The screen lights up with the boot logo", 0.9, 1);
    add(&r, 5, "The person takes the phone out of the box", 0.9, 1);
    add(&r, 9, "Hands opening the box of a phone", 0.9, 1);
    rel = relevance(e, &r);
    ev = fw_events_match(e, r.m, r.n, rel);
    assert_int_equal(json_array_size(ev), 0);
    json_decref(ev);
    free(rel);

    /* a step missing: no event; the steps too far apart for the window: no event */
    fixture m = {0};
    add(&m, 0, "Hands opening the box of a phone", 0.9, 1);
    add(&m, 5, "The screen lights up with the boot logo", 0.9, 1);
    rel = relevance(e, &m);
    ev = fw_events_match(e, m.m, m.n, rel);
    assert_int_equal(json_array_size(ev), 0);
    json_decref(ev);
    free(rel);
    fixture w = {0};
    add(&w, 0, "Hands opening the box of a phone", 0.9, 1);
    add(&w, 30, "The person takes the phone out of the box", 0.9, 1);
    add(&w, 90, "The screen lights up with the boot logo", 0.9, 1);
    rel = relevance(e, &w);
    ev = fw_events_match(e, w.m, w.n, rel);
    assert_int_equal(json_array_size(ev), 0);
    json_decref(ev);
    free(rel);
    fw_events_free(e);
}

static void wrong_event_files_name_the_problem(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"{\"name\": \"x\"}", "must be a JSON array"},
        {"[{\"phrases\": [\"a\"]}]", "needs a \"name\""},
        {"[{\"name\": \"x\", \"phrase\": [\"a\"]}]", "unknown event field 'phrase'"},
        {"[{\"name\": \"x\", \"phrases\": []}]", "phrases must be"},
        {"[{\"name\": \"x\", \"phrases\": [\"a\"], \"threshold\": 2}]", "threshold"},
        {"[{\"name\": \"x\", \"steps\": [\"only one\"]}]", "2 to 64 steps"},
        {"[{\"name\": \"x\"}]", "needs \"phrases\" or \"steps\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        fw_events *e = NULL;
        fw_error err = {0};
        json_t *defs = json_loads(bad[i][0], 0, NULL);
        assert_int_equal(fw_events_parse(&e, defs, "my-events.json", &err), FW_EINVAL);
        assert_non_null(strstr(err.message, "my-events.json"));
        if (!strstr(err.message, bad[i][1]))
            fail_msg("%s: got '%s'", bad[i][0], err.message);
        json_decref(defs);
        fw_events_free(e);
    }
}

static void extractive_summary_picks_distinct_segments_in_time_order(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, 0, "Sign in | Email | Password", 0.9, 1);
    add(&f, 4, "Sign in | Login failed: connection timed out", 0.9, 1);
    add(&f, 8, "Dashboard | 3 new orders", 0.9, 1);
    add(&f, 12, "Settings | Network | Proxy", 0.9, 1);
    fw_segment *s;
    int n;
    assert_int_equal(fw_segments(f.m, f.n, f.emb, FW_NGRAM_DIM, 0.95, 16, &s, &n), 0);
    assert_int_equal(n, 4);
    json_t *sum = fw_summary_extractive(f.m, s, n, f.emb, FW_NGRAM_DIM);
    assert_string_equal(json_string_value(json_object_get(sum, "method")), "extractive");
    json_t *km = json_object_get(sum, "key_moments");
    assert_true(json_array_size(km) >= 3);
    double last = -1;
    size_t i;
    json_t *k;
    json_array_foreach(km, i, k)
    {
        double t = json_real_value(json_object_get(k, "time"));
        assert_true(t > last);
        last = t;
    }
    const char *text = json_string_value(json_object_get(sum, "text"));
    assert_non_null(strstr(text, "00:04 Sign in | Login failed: connection timed out"));
    json_decref(sum);
    fw_segments_free(s, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ngram_vectors_are_unit_and_fold_case_and_width),
        cmocka_unit_test(adjacent_similar_texts_merge_into_segments),
        cmocka_unit_test(single_event_fires_once_per_run_with_time_and_evidence),
        cmocka_unit_test(multi_step_event_needs_every_step_in_order),
        cmocka_unit_test(wrong_event_files_name_the_problem),
        cmocka_unit_test(extractive_summary_picks_distinct_segments_in_time_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
