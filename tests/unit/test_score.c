/* score: thumbnail measures on synthetic frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "score/score.h"

/* A 320x180 yuv420p frame of one grey level, with an optional bright box. */
static AVFrame *make_frame(int grey, int box_x, int box_w, int box_h)
{
    AVFrame *f = av_frame_alloc();
    f->format = AV_PIX_FMT_YUV420P;
    f->width = 320;
    f->height = 180;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    for (int y = 0; y < 180; y++)
        memset(f->data[0] + y * f->linesize[0], grey, 320);
    for (int y = 0; y < 90; y++) {
        memset(f->data[1] + y * f->linesize[1], 128, 160);
        memset(f->data[2] + y * f->linesize[2], 128, 160);
    }
    for (int y = 20; y < 20 + box_h; y++)
        memset(f->data[0] + y * f->linesize[0] + box_x, 235, box_w);
    return f;
}

static void dhash_is_stable_and_discriminates(void **state)
{
    (void)state;
    uint8_t a[64 * 32], b[64 * 32];
    for (int i = 0; i < 64 * 32; i++) {
        a[i] = (uint8_t)(i % 64 * 4);       /* left-to-right ramp */
        b[i] = (uint8_t)(255 - i % 64 * 4); /* right-to-left ramp */
    }
    assert_true(fw_score_dhash(a, 64, 32, 64) == fw_score_dhash(a, 64, 32, 64));
    assert_true(fw_hash_distance(fw_score_dhash(a, 64, 32, 64), fw_score_dhash(b, 64, 32, 64)) >=
                60);
}

static void laplacian_is_zero_when_flat_and_high_when_sharp(void **state)
{
    (void)state;
    uint8_t flat[32 * 32], checker[32 * 32];
    memset(flat, 90, sizeof flat);
    for (int i = 0; i < 32 * 32; i++)
        checker[i] = ((i / 32 + i % 32) & 1) ? 255 : 0;
    assert_true(fw_score_laplacian_var(flat, 32, 32, 32) == 0);
    assert_true(fw_score_laplacian_var(checker, 32, 32, 32) > 10000);
}

static void identical_frames_score_no_change(void **state)
{
    (void)state;
    fw_scorer *sc;
    fw_error err;
    assert_int_equal(fw_scorer_open(&sc, 0.25, &err), 0);
    AVFrame *f = make_frame(100, 0, 0, 0);
    fw_scores s;
    fw_fine fine;
    assert_int_equal(fw_scorer_score(sc, f, 0.0, &s, &fine, &err), 0);
    fw_scorer_set_reference(sc);
    assert_int_equal(fw_scorer_score(sc, f, 0.04, &s, &fine, &err), 0);
    assert_true(s.delta == 0 && s.motion == 0 && s.area == 0 && s.cut == 0);
    assert_true(s.flat);
    assert_false(s.black);
    av_frame_free(&f);
    fw_scorer_close(sc);
}

/* A small box appears and stays: changed area at once, settled only after settle_s. */
static void a_new_box_settles_after_the_settle_time(void **state)
{
    (void)state;
    fw_scorer *sc;
    fw_error err;
    assert_int_equal(fw_scorer_open(&sc, 0.25, &err), 0);
    AVFrame *plain = make_frame(60, 0, 0, 0), *boxed = make_frame(60, 40, 80, 12);
    fw_scores s;
    fw_fine fine;
    fw_scorer_score(sc, plain, 0.0, &s, &fine, &err);
    fw_scorer_set_reference(sc);
    fw_scorer_score(sc, boxed, 1.0, &s, &fine, &err);
    assert_true(s.area > 0.01 && s.area < 0.1);
    assert_true(s.settled == 0);
    assert_true(s.motion < 30); /* a small change: the seed's threshold would not see it */
    fw_scorer_score(sc, boxed, 1.1, &s, &fine, &err);
    assert_true(s.settled == 0);
    fw_scorer_score(sc, boxed, 1.3, &s, &fine, &err);
    assert_true(s.settled > 0.01);
    assert_true(s.settled == s.area);
    av_frame_free(&plain);
    av_frame_free(&boxed);
    fw_scorer_close(sc);
}

static void black_frame_is_flagged_and_a_cut_from_it_scores_high(void **state)
{
    (void)state;
    fw_scorer *sc;
    fw_error err;
    assert_int_equal(fw_scorer_open(&sc, 0.25, &err), 0);
    AVFrame *black = make_frame(16, 0, 0, 0), *bright = make_frame(200, 0, 0, 0);
    fw_scores s;
    fw_fine fine;
    fw_scorer_score(sc, black, 0.0, &s, &fine, &err);
    assert_true(s.black);
    fw_scorer_score(sc, bright, 0.04, &s, &fine, &err);
    assert_false(s.black);
    assert_true(s.cut > 0.4);
    assert_true(s.delta > 150);
    av_frame_free(&black);
    av_frame_free(&bright);
    fw_scorer_close(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dhash_is_stable_and_discriminates),
        cmocka_unit_test(laplacian_is_zero_when_flat_and_high_when_sharp),
        cmocka_unit_test(identical_frames_score_no_change),
        cmocka_unit_test(a_new_box_settles_after_the_settle_time),
        cmocka_unit_test(black_frame_is_flagged_and_a_cut_from_it_scores_high),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
