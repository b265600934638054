/* select: cut detection, the auto policy and the budget on scripted scores. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "select/select.h"

#define FPS 25.0

static fw_frame_info frame_at(int n)
{
    fw_frame_info f = {.number = n, .pts = n, .time_s = n / FPS, .dur_s = 1 / FPS, .key = n == 0};
    return f;
}

static fw_scores calm(void)
{
    fw_scores s = {
        .delta = 1.0, .cut = 0.01, .motion = 1.0, .luma = 100, .spread = 40, .blur = 500};
    return s;
}

static fw_sig sig_of(uint8_t v)
{
    fw_sig s;
    memset(s.v, v, sizeof s.v);
    memset(s.cb, 128, sizeof s.cb);
    memset(s.cr, 128, sizeof s.cr);
    return s;
}

/* Pushes frames 0..n-1 of picture A, or B from frame `at` (until `back`, if > 0). */
static int run_cut(fw_policy policy, int n, int at, int back, double spike_delta, int ramp,
                   fw_frame_info *cut_at)
{
    fw_params p = fw_params_default();
    p.policy = policy;
    fw_select *sel;
    fw_error err;
    assert_int_equal(fw_select_open(&sel, &p, &err), 0);
    fw_sig a = sig_of(60), b = sig_of(180);
    int cuts = 0;
    for (int i = 0; i < n; i++) {
        fw_frame_info f = frame_at(i);
        fw_scores s = calm();
        int in_b = i >= at && (back <= 0 || i < back);
        if (i == at || i == back || (ramp && i > at && i < at + ramp)) {
            s.delta = spike_delta;
            s.cut = 0.6;
        }
        fw_decision d;
        fw_select_push(sel, &f, &s, in_b ? &b : &a, NULL, &d);
        if (d.cut) {
            cuts++;
            *cut_at = d.cut_at;
        }
    }
    fw_select_close(sel);
    return cuts;
}

static void a_spike_that_lasts_is_one_cut_at_its_frame(void **state)
{
    (void)state;
    fw_frame_info at = {0};
    assert_int_equal(run_cut(FW_POLICY_SCENE, 100, 50, 0, 120, 0, &at), 1);
    assert_int_equal(at.number, 50);
}

static void a_flash_that_goes_back_is_not_a_cut(void **state)
{
    (void)state;
    fw_frame_info at = {0};
    assert_int_equal(run_cut(FW_POLICY_SCENE, 100, 50, 53, 120, 0, &at), 0);
}

static void a_ramp_of_large_changes_is_not_a_cut(void **state)
{
    (void)state;
    fw_frame_info at = {0};
    assert_int_equal(run_cut(FW_POLICY_SCENE, 100, 50, 0, 120, 6, &at), 0);
}

static void non_cut_policies_report_no_cuts(void **state)
{
    (void)state;
    fw_frame_info at = {0};
    assert_int_equal(run_cut(FW_POLICY_INTERVAL, 100, 50, 0, 120, 0, &at), 0);
}

/* auto on 25 s of nothing, then a settled local change: first, gaps, change. */
static void auto_keeps_first_gaps_and_settled_changes(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    fw_select *sel;
    fw_error err;
    assert_int_equal(fw_select_open(&sel, &p, &err), 0);
    fw_sig a = sig_of(80), b = sig_of(80);
    memset(b.v, 200, 40); /* 40 of 576 cells differ: a caption */
    const char *reasons[8];
    double times[8];
    int kept = 0;
    for (int i = 0; i < 25 * 25; i++) {
        fw_frame_info f = frame_at(i);
        fw_scores s = calm();
        int captioned = i >= 22 * 25;
        if (captioned) {
            s.area = 40.0 / 576;
            s.settled = i >= 22 * 25 + 7 ? s.area : 0; /* still after 0.28 s */
            s.hash = 1;
        }
        fw_decision d;
        fw_select_push(sel, &f, &s, captioned ? &b : &a, NULL, &d);
        if (d.keep && kept < 8) {
            reasons[kept] = d.reason;
            times[kept++] = f.time_s;
        }
        if (d.set_reference && captioned)
            break; /* the scorer would now report no change */
    }
    fw_select_close(sel);
    assert_int_equal(kept, 4);
    assert_string_equal(reasons[0], "first");
    assert_string_equal(reasons[1], "gap");
    assert_true(times[1] == 10.0);
    assert_string_equal(reasons[2], "gap");
    assert_string_equal(reasons[3], "change");
    assert_true(times[3] >= 22.0 && times[3] <= 22.5);
}

static void auto_never_keeps_black(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    fw_select *sel;
    fw_error err;
    assert_int_equal(fw_select_open(&sel, &p, &err), 0);
    fw_sig a = sig_of(16);
    for (int i = 0; i < 30 * 25; i++) {
        fw_frame_info f = frame_at(i);
        fw_scores s = calm();
        s.black = 1;
        fw_decision d;
        fw_select_push(sel, &f, &s, &a, NULL, &d);
        assert_false(d.keep);
    }
    fw_select_close(sel);
}

/* Budget 3 over A A' B C (A' nearly A): A' goes first; the protected first stays. */
static void budget_drops_the_least_informative_first(void **state)
{
    (void)state;
    fw_budget *b = fw_budget_new(3);
    fw_sig a = sig_of(50), a2 = sig_of(52), bb = sig_of(150), c = sig_of(250);
    assert_int_equal(fw_budget_add(b, 0, &a, 0, 1), -1);
    assert_int_equal(fw_budget_add(b, 1, &bb, 1, 0), -1);
    assert_int_equal(fw_budget_add(b, 2, &a2, 0, 0), -1);
    assert_int_equal(fw_budget_add(b, 3, &c, 1, 0), 2);
    fw_budget_free(b);
}

static void near_duplicates_need_both_hash_and_picture_to_match(void **state)
{
    (void)state;
    fw_sig a = sig_of(80), captioned = sig_of(80);
    memset(captioned.v, 200, 40);
    assert_true(fw_is_near_duplicate(0xF0F0, &a, 0xF0F1, &a, 4, 0.01));
    assert_false(fw_is_near_duplicate(0xF0F0, &a, 0xF0F0, &captioned, 4, 0.01));
    assert_false(fw_is_near_duplicate(0xF0F0, &a, 0x0F0F, &a, 4, 0.01));
    assert_false(fw_is_near_duplicate(0xF0F0, &a, 0xF0F0, &a, 0, 0.01)); /* off */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_spike_that_lasts_is_one_cut_at_its_frame),
        cmocka_unit_test(a_flash_that_goes_back_is_not_a_cut),
        cmocka_unit_test(a_ramp_of_large_changes_is_not_a_cut),
        cmocka_unit_test(non_cut_policies_report_no_cuts),
        cmocka_unit_test(auto_keeps_first_gaps_and_settled_changes),
        cmocka_unit_test(auto_never_keeps_black),
        cmocka_unit_test(budget_drops_the_least_informative_first),
        cmocka_unit_test(near_duplicates_need_both_hash_and_picture_to_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
