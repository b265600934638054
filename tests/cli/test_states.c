/* Every state on screen: what `framewise keyframes` (policy auto) keeps of the generated
 * clips of tests/clips.sh, whose states are known by construction — small changes (a
 * counter, a toast) and what must not count (a blinking cursor, a spinner), the final
 * state, colour at equal brightness, motion graphics under the rate bound. Run one test
 * per process: test_states NAME. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fwtest.h"

/* The first keyframe in [from, to], or -1. */
static int kf_within(json_t *root, double from, double to)
{
    for (size_t i = 0; i < json_array_size(fwt_kf_list(root)); i++)
        if (fwt_kf_time(root, i) >= from - 1e-6 && fwt_kf_time(root, i) <= to + 1e-6)
            return (int)i;
    return -1;
}

/* A 40-px counter on a still 720p slide changes every second, 60 times: each change is
 * kept within 0.5 s, and hardly anything else (the seed's method keeps one frame). */
static void timer_slide_keeps_every_change_within_half_a_second(void **state)
{
    (void)state;
    const char *v = fwt_clip("timer", 10);
    fwt_state st[64];
    int n = fwt_clip_states("timer", st, 64);
    assert_int_equal(n, 61);
    json_t *j = fwt_keyframes(v, "");
    int kept = 0;
    for (int i = 1; i < n; i++)
        kept += kf_within(j, st[i].start, st[i].start + 0.5) >= 0;
    if (kept < 58 || json_array_size(fwt_kf_list(j)) > 70)
        fail_msg("%d of 60 changes kept within 0.5 s, %zu keyframes (want >= 58, <= 70)", kept,
                 json_array_size(fwt_kf_list(j)));
    json_decref(j);
    json_t *seed = fwt_keyframes(v, "--policy motion");
    assert_true(json_array_size(fwt_kf_list(seed)) <= 2);
    json_decref(seed);
}

/* A toast in a corner (0.7 % of the picture) for 1.5 s is kept; a blinking cursor and a
 * spinner for 30 s are not: only the first frame and the max-gap frames. */
static void toast_is_kept_cursor_and_spinner_are_not(void **state)
{
    (void)state;
    json_t *j = fwt_keyframes(fwt_clip("toast", 25), "");
    int i = kf_within(j, 3.0, 3.5);
    if (i < 0)
        fail_msg("no keyframe within 0.5 s of the toast (3.0 s)");
    assert_true(kf_within(j, 0.01, 2.99) < 0); /* nothing new before it */
    json_decref(j);
    j = fwt_keyframes(fwt_clip("blink", 25), "--max-gap 10");
    if (json_array_size(fwt_kf_list(j)) > 3)
        fail_msg("blinking cursor and spinner: %zu keyframes (want first + 2 gap)",
                 json_array_size(fwt_kf_list(j)));
    assert_string_equal(fwt_kf_reason(j, 0), "first");
    for (size_t k = 1; k < json_array_size(fwt_kf_list(j)); k++)
        assert_string_equal(fwt_kf_reason(j, k), "gap");
    json_decref(j);
}

/* A window fades out in the last 0.3 s: the stream ends before the change settles, and
 * the final picture is kept with reason "last". A still ending adds nothing. */
static void final_state_is_kept_with_reason_last(void **state)
{
    (void)state;
    json_t *j = fwt_keyframes(fwt_clip("last", 25), "");
    size_t n = json_array_size(fwt_kf_list(j));
    assert_true(n >= 2);
    assert_string_equal(fwt_kf_reason(j, n - 1), "last");
    assert_true(fwt_kf_time(j, n - 1) >= 4.9);
    assert_true(kf_within(j, 0.01, 4.69) < 0);
    json_decref(j);
    j = fwt_keyframes(fwt_clip("toast", 25), ""); /* ends as it began: nothing to add */
    for (size_t k = 0; k < json_array_size(fwt_kf_list(j)); k++)
        assert_string_not_equal(fwt_kf_reason(j, k), "last");
    json_decref(j);
}

/* Red to green of the same brightness: a cut (scenes), and a kept frame; the same for a
 * panel that changes colour. Neither is a near-duplicate of the red picture. */
static void isoluminant_cut_and_local_change_are_found(void **state)
{
    (void)state;
    const char *cut = fwt_clip("iso_cut", 25);
    long starts[8];
    assert_int_equal(fwt_scene_starts(cut, starts, NULL, 8), 2);
    assert_true(labs(starts[1] - 50) <= 1);
    json_t *j = fwt_keyframes(cut, "");
    assert_int_equal(json_array_size(fwt_kf_list(j)), 2);
    assert_true(kf_within(j, 2.0, 2.5) == 1);
    json_decref(j);
    j = fwt_keyframes(fwt_clip("iso_local", 25), "");
    assert_int_equal(json_array_size(fwt_kf_list(j)), 2);
    assert_true(kf_within(j, 2.0, 2.5) == 1);
    /* the same luma: only colour tells them apart */
    double l0 = json_real_value(
        json_object_get(json_object_get(json_array_get(fwt_kf_list(j), 0), "scores"), "luma"));
    double l1 = json_real_value(
        json_object_get(json_object_get(json_array_get(fwt_kf_list(j), 1), "scores"), "luma"));
    assert_true(fabs(l0 - l1) < 1.0);
    json_decref(j);
}

/* Six title cards whose words slide and fade in, between animated transitions: each card
 * is kept once its words have settled, and the whole is at most 15 keyframes a minute. */
static void motion_graphics_cards_are_kept_once_their_words_settle(void **state)
{
    (void)state;
    fwt_state st[8];
    int n = fwt_clip_states("cards", st, 8);
    assert_int_equal(n, 6);
    json_t *j = fwt_keyframes(fwt_clip("cards", 25), "");
    for (int i = 0; i < n; i++)
        if (kf_within(j, st[i].start, st[i].end) < 0)
            fail_msg("card '%s' (%.1f-%.1f s) has no keyframe after its words settled", st[i].label,
                     st[i].start, st[i].end);
    size_t kept = json_array_size(fwt_kf_list(j));
    if (kept > 15 * 36 / 60)
        fail_msg("%zu keyframes in 36 s: more than 15 a minute", kept);
    json_decref(j);
}

/* --max-rate is the bound: without it the transitions' mid-motion frames stay; a lower
 * one drops more of them, never a card. */
static void max_rate_bounds_what_never_settles(void **state)
{
    (void)state;
    const char *v = fwt_clip("cards", 25);
    json_t *off = fwt_keyframes(v, "--max-rate 0");
    json_t *low = fwt_keyframes(v, "--max-rate 6");
    fwt_state st[8];
    int n = fwt_clip_states("cards", st, 8);
    assert_true(json_array_size(fwt_kf_list(off)) > 15 * 36 / 60);
    assert_true(json_array_size(fwt_kf_list(low)) <= (size_t)n + 1); /* the cards and the first */
    for (int i = 0; i < n; i++)
        assert_true(kf_within(low, st[i].start, st[i].end) >= 0);
    json_decref(off);
    json_decref(low);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(timer_slide_keeps_every_change_within_half_a_second,
                                  fwt_teardown),
        cmocka_unit_test_teardown(toast_is_kept_cursor_and_spinner_are_not, fwt_teardown),
        cmocka_unit_test_teardown(final_state_is_kept_with_reason_last, fwt_teardown),
        cmocka_unit_test_teardown(isoluminant_cut_and_local_change_are_found, fwt_teardown),
        cmocka_unit_test_teardown(motion_graphics_cards_are_kept_once_their_words_settle,
                                  fwt_teardown),
        cmocka_unit_test_teardown(max_rate_bounds_what_never_settles, fwt_teardown),
    };
    fwt_select_test(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
