/* fuse as the moments come: the segmenter and the event stream against the whole-list
 * algorithms they replace (written out here as the reference), on long generated lists
 * (fixed seed), with peeks between pushes that must change nothing. */
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

#define N 400
#define DIM FW_NGRAM_DIM

static const char *const texts[] = {
    "Sign in to your account | Email | Password",
    "Sign in to your account | Email | Password | Remember me",
    "Error: connection timed out",
    "Connection timed out. Retry",
    "Dashboard | 3 new orders | Revenue today",
    "Dashboard | 4 new orders | Revenue today",
    "Opening the settings page",
    "Retry in progress, please wait",
    "订单已发货 | 物流信息 | 预计送达时间",
    "A black frame",
};

typedef struct list {
    fw_moment m[N];
    float *emb, *rel; /* rel[p * N + i] */
    int n_phr;
} list;

static uint32_t seed = 12345;
static uint32_t next_rand(void)
{
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
}

/* States of 1..8 moments, each a text and its variants; about one in ten gated. */
static void generate(list *l, fw_events *e)
{
    l->emb = calloc((size_t)N * DIM, sizeof *l->emb);
    double t = 0;
    int state = 0;
    for (int i = 0; i < N;) {
        int len = 1 + (int)(next_rand() % 8);
        state = (state + 1 + (int)(next_rand() % 3)) % 10;
        for (int k = 0; k < len && i < N; k++, i++) {
            int variant = (state % 2 == 0 && next_rand() % 3 == 0) ? state + 1 : state;
            const char *text = texts[variant % 10];
            int usable = next_rand() % 10 != 0;
            l->m[i] =
                (fw_moment){t, i, text, usable ? 0.5 + (next_rand() % 50) / 100.0 : 0.1, usable};
            fw_embed_ngrams(text, l->emb + (size_t)i * DIM);
            t += 0.5 + (next_rand() % 250) / 100.0;
        }
    }
    const char **phr;
    l->n_phr = fw_events_phrases(e, &phr);
    l->rel = calloc((size_t)l->n_phr * N, sizeof *l->rel);
    float v[DIM];
    for (int p = 0; p < l->n_phr; p++) {
        fw_embed_ngrams(phr[p], v);
        for (int i = 0; i < N; i++)
            l->rel[(size_t)p * N + i] = fw_cosine(v, l->emb + (size_t)i * DIM, DIM);
    }
}

/* ---- the whole-list segments, as they were computed before the segmenter ---- */

typedef struct ref_seg {
    int first, n; /* members[first .. first + n) */
    double start, end;
} ref_seg;

static int ref_segments(const list *l, double threshold, int *members, ref_seg *out)
{
    float mean[DIM] = {0};
    int ns = 0, open = 0, used = 0;
    for (int i = 0; i < N; i++) {
        if (!l->m[i].usable)
            continue;
        const float *v = l->emb + (size_t)i * DIM;
        double norm = 0, dot = 0;
        for (int d = 0; d < DIM; d++) {
            norm += (double)mean[d] * mean[d];
            dot += (double)mean[d] * v[d];
        }
        if (used > open && !(norm > 0 && dot / sqrt(norm) >= threshold)) {
            out[ns++] = (ref_seg){open, used - open, 0, 0};
            open = used;
            memset(mean, 0, sizeof mean);
        }
        members[used++] = i;
        for (int d = 0; d < DIM; d++)
            mean[d] += v[d];
    }
    if (used > open)
        out[ns++] = (ref_seg){open, used - open, 0, 0};
    for (int s = 0; s < ns; s++) {
        out[s].start = l->m[members[out[s].first]].time_s;
        out[s].end = s + 1 < ns ? l->m[members[out[s + 1].first]].time_s
                                : l->m[members[out[s].first + out[s].n - 1]].time_s;
    }
    return ns;
}

static void segments_as_they_come_equal_the_whole_list(void **state)
{
    (void)state;
    list l = {0};
    generate(&l, NULL);
    int members[N];
    ref_seg ref[N];
    for (double th = 0.3; th < 0.95; th += 0.2) {
        int n_ref = ref_segments(&l, th, members, ref);
        fw_segment *got;
        int n_got;
        assert_int_equal(fw_segments(l.m, N, l.emb, DIM, th, -1, &got, &n_got), 0);
        assert_true(n_ref > 20);
        assert_int_equal(n_got, n_ref);
        for (int s = 0; s < n_ref; s++) {
            assert_int_equal(got[s].n_members, ref[s].n);
            for (int k = 0; k < ref[s].n; k++)
                assert_int_equal(got[s].members[k], members[ref[s].first + k]);
            assert_float_equal(got[s].start_s, ref[s].start, 1e-9);
            assert_float_equal(got[s].end_s, ref[s].end, 1e-9);
            /* the representative is a member whose text is the segment's most central */
            int rep_in = 0;
            for (int k = 0; k < ref[s].n; k++)
                rep_in |= got[s].rep == members[ref[s].first + k];
            assert_true(rep_in);
        }
        fw_segments_free(got, n_got);
    }
    /* a peek between pushes changes nothing */
    fw_segmenter *a = fw_segmenter_new(DIM, 0.5), *b = fw_segmenter_new(DIM, 0.5);
    for (int i = 0; i < N; i++) {
        if (!l.m[i].usable)
            continue;
        fw_seg sa, sb, peek;
        if (fw_segmenter_peek(b, l.m[i].time_s, &peek) == 1)
            fw_seg_clear(&peek);
        int ga = fw_segmenter_push(a, &l.m[i], i, l.emb + (size_t)i * DIM, &sa);
        int gb = fw_segmenter_push(b, &l.m[i], i, l.emb + (size_t)i * DIM, &sb);
        assert_int_equal(ga, gb);
        if (ga) {
            assert_int_equal(sa.index, sb.index);
            assert_string_equal(sa.text, sb.text);
            assert_int_equal(sa.n_members, sb.n_members);
            fw_seg_clear(&sa);
            fw_seg_clear(&sb);
        }
    }
    fw_segmenter_free(a);
    fw_segmenter_free(b);
    free(l.emb);
    free(l.rel);
}

/* ---- the whole-list events, as they were matched before the stream ---- */

static double ref_rel(const list *l, int first, int n, int i)
{
    double best = 0;
    for (int p = first; p < first + n; p++)
        best = fmax(best, l->rel[(size_t)p * N + i]);
    return best;
}

/* One multi-step event of three one-phrase steps (phrases 1, 2, 3): the occurrences'
 * first-step times and last-step times. */
static int ref_steps(const list *l, double th, double window, double *t0, double *t1)
{
    int n = 0;
    for (int a = 0; a < N; a++) {
        if (!l->m[a].usable)
            continue;
        int to = a;
        while (to < N && l->m[to].time_s <= l->m[a].time_s + window)
            to++;
        int peaks[3], ok = 1;
        for (int k = 0; k < 3 && ok; k++) {
            double top = -1, z = 0, pooled = 0;
            peaks[k] = a;
            for (int i = a; i < to; i++)
                if (l->m[i].usable && ref_rel(l, 1 + k, 1, i) > top)
                    top = ref_rel(l, 1 + k, 1, i), peaks[k] = i;
            for (int i = a; i < to; i++)
                if (l->m[i].usable) {
                    double r = ref_rel(l, 1 + k, 1, i), w = exp((r - top) / 0.05);
                    z += w;
                    pooled += w * r;
                }
            double score = z > 0 ? pooled / z : 0;
            ok = score >= th && (k == 0 || peaks[k] > peaks[k - 1]);
        }
        if (!ok)
            continue;
        t0[n] = l->m[peaks[0]].time_s;
        t1[n++] = l->m[peaks[2]].time_s;
        a = peaks[2];
        while (a + 1 < N && ref_rel(l, 1, 1, a + 1) >= th)
            a++;
    }
    return n;
}

static const char events[] =
    "[{\"name\": \"timeout\", \"phrases\": [\"connection timed out\"], \"threshold\": 0.5},"
    " {\"name\": \"flow\", \"threshold\": 0.35, \"window\": 20, \"steps\": [\"sign in to your "
    "account\", \"connection timed out\", \"retry in progress\"]}]";

static void events_as_they_come_equal_the_whole_list(void **state)
{
    (void)state;
    fw_events *e = NULL;
    fw_error err = {0};
    json_t *defs = json_loads(events, 0, NULL);
    assert_int_equal(fw_events_parse(&e, defs, "test.json", &err), 0);
    json_decref(defs);
    list l = {0};
    generate(&l, e);
    assert_int_equal(l.n_phr, 4);
    double t0[N], t1[N];
    int n_ref = ref_steps(&l, 0.35, 20, t0, t1);
    json_t *all = fw_events_match(e, l.m, N, l.rel), *o;
    int n_flow = 0, n_single = 0;
    size_t i;
    json_array_foreach(all, i, o)
    {
        if (strcmp(json_string_value(json_object_get(o, "name")), "flow") != 0) {
            n_single++;
            continue;
        }
        assert_true(n_flow < n_ref);
        assert_float_equal(json_real_value(json_object_get(o, "time")), t0[n_flow], 1e-9);
        assert_float_equal(json_real_value(json_object_get(o, "end")), t1[n_flow], 1e-9);
        n_flow++;
    }
    assert_true(n_ref >= 3); /* the list has the flow several times */
    assert_int_equal(n_flow, n_ref);
    assert_true(n_single >= 3);
    /* pushed one by one, with peeks between: the same records, in the same order */
    fw_event_stream *st = fw_event_stream_new(e);
    float row[4];
    int found_steps = 0;
    for (int k = 0; k < N; k++) {
        for (int p = 0; p < 4; p++)
            row[p] = l.rel[(size_t)p * N + k];
        int rc;
        json_decref(fw_event_stream_peek(st));
        json_t *done = fw_event_stream_push(st, &l.m[k], row, &rc), *d;
        assert_int_equal(rc, 0);
        json_array_foreach(done, i, d) found_steps += json_object_get(d, "steps") != NULL;
        json_decref(done);
    }
    json_t *again = fw_event_stream_end(st);
    assert_true(json_equal(all, again));
    assert_true(found_steps >= n_ref - 1); /* all but one found before the end */
    json_decref(again);
    fw_event_stream_free(st);
    json_decref(all);
    fw_events_free(e);
    free(l.emb);
    free(l.rel);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(segments_as_they_come_equal_the_whole_list),
        cmocka_unit_test(events_as_they_come_equal_the_whole_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
