/* select: cut detection, the auto policy and the budget on scripted scores. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "select/policy.h"
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

/* ---- curation: candidates held until their pictures show what they were ---------- */

typedef struct cur_run {
    fw_curator *c;
    int kept[64], dropped[64];
    const char *reason[64];
    int n_kept, n_dropped, n_added, max_pending;
} cur_run;

static void cur_open(cur_run *r, double max_rate)
{
    memset(r, 0, sizeof *r);
    fw_params p = fw_params_default();
    p.max_rate = max_rate;
    r->c = fw_curator_new(&p, 1);
    assert_non_null(r->c);
}

static void cur_drain(cur_run *r)
{
    fw_curator_out v;
    while (fw_curator_verdict(r->c, &v)) {
        if (v.keep) {
            r->reason[r->n_kept] = v.reason;
            r->kept[r->n_kept++] = (int)v.id;
        } else {
            r->dropped[r->n_dropped++] = (int)v.id;
        }
    }
    int pending = r->n_added - r->n_kept - r->n_dropped;
    if (pending > r->max_pending)
        r->max_pending = pending;
}

/* Frame n is a candidate (reason, provisional) with picture sig. */
static void cur_add(cur_run *r, int n, const char *reason, int provisional, int protect,
                    const fw_sig *sig)
{
    fw_frame_info f = frame_at(n);
    fw_pick pk = {.keep = 1,
                  .reason = reason,
                  .onset_s = f.time_s,
                  .provisional = provisional,
                  .protect = protect,
                  .same_as = -1};
    fw_curator_add(r->c, &f, &pk, sig, strcmp(reason, "cut") == 0);
    r->n_added++;
    cur_drain(r);
}

/* Frame n goes by; departed: its picture left the latest candidate's. */
static void cur_frame(cur_run *r, int n, int departed, double fine_onset_s)
{
    fw_frame_info f = frame_at(n);
    fw_curator_frame(r->c, &f, departed, fine_onset_s, 0);
    cur_drain(r);
}

static void cur_finish(cur_run *r, int n)
{
    fw_curator_finish(r->c, frame_at(n).time_s);
    cur_drain(r);
    fw_curator_free(r->c);
}

static int was_kept(const cur_run *r, int id)
{
    for (int i = 0; i < r->n_kept; i++)
        if (r->kept[i] == id)
            return 1;
    return 0;
}

/* A small change that holds 1 s stays; one that a cursor undoes after 0.5 s goes, and
 * does not end the hold of the frame before it. */
static void small_change_is_kept_only_if_it_holds(void **state)
{
    (void)state;
    cur_run r;
    cur_open(&r, 15);
    fw_sig a = sig_of(80);
    cur_add(&r, 0, "first", 0, 1, &a);
    for (int n = 1; n < 50; n++)
        cur_frame(&r, n, 0, -1);
    cur_add(&r, 50, "change", 1, 0, &a); /* the cursor goes off at 2 s ... */
    for (int n = 51; n < 62; n++)
        cur_frame(&r, n, 0, -1);
    fw_frame_info back = frame_at(62); /* ... and comes back 0.48 s later */
    fw_curator_frame(r.c, &back, 0, 62 / FPS, 1);
    for (int n = 63; n < 100; n++)
        cur_frame(&r, n, 0, -1);
    cur_add(&r, 100, "change", 1, 0, &a); /* a digit changes at 4 s and holds */
    for (int n = 101; n < 150; n++)
        cur_frame(&r, n, 0, -1);
    cur_finish(&r, 150);
    assert_int_equal(r.n_dropped, 1);
    assert_int_equal(r.dropped[0], 50);
    assert_int_equal(r.n_kept, 2);
    assert_true(was_kept(&r, 0) && was_kept(&r, 100));
}

/* A cut kept mid-animation gives way to the settled frame 1 s later in the same shot,
 * which takes the reason "cut"; a transient before another cut does not. */
static void transient_gives_way_to_the_state_it_leads_to(void **state)
{
    (void)state;
    cur_run r;
    cur_open(&r, 0);
    fw_sig a = sig_of(80), b = sig_of(160);
    cur_add(&r, 0, "first", 0, 1, &a);
    for (int n = 1; n < 50; n++)
        cur_frame(&r, n, 0, -1);
    fw_curator_cut(r.c, 50 / FPS);
    cur_add(&r, 52, "cut", 0, 0, &b);
    cur_frame(&r, 53, 1, -1); /* the words go on moving */
    for (int n = 54; n < 77; n++)
        cur_frame(&r, n, 0, -1);
    cur_add(&r, 77, "change", 0, 0, &b); /* settled at 3.08 s */
    for (int n = 78; n < 200; n++)
        cur_frame(&r, n, 0, -1);
    cur_finish(&r, 200);
    assert_int_equal(r.n_kept, 2);
    assert_int_equal(r.kept[1], 77);
    assert_string_equal(r.reason[1], "cut");
    assert_int_equal(r.dropped[0], 52);
}

/* 30 mid-motion candidates in 18 s: at most ceil(15 * 20 / 60) = 5 stay, the first among
 * them, and never more than FW_CURATE_HELD wait at once. States are never dropped. */
static void max_rate_drops_transients_and_never_states(void **state)
{
    (void)state;
    cur_run r;
    cur_open(&r, 15);
    fw_sig s[32];
    for (int i = 0; i < 32; i++)
        s[i] = sig_of((uint8_t)(i * 7));
    cur_add(&r, 0, "first", 0, 1, &s[0]);
    int n = 1;
    for (int i = 1; i <= 30; i++) {
        for (; n < i * 15; n++)
            cur_frame(&r, n, n == (i - 1) * 15 + 1, -1); /* each departs at once */
        cur_add(&r, n++, "motion", 0, 0, &s[i]);
    }
    cur_finish(&r, n);
    assert_int_equal(r.n_kept, 5);
    assert_int_equal(r.kept[0], 0);
    assert_true(r.max_pending <= FW_CURATE_HELD);

    cur_open(&r, 15); /* ten states of 2 s each: all stay, though over the rate */
    for (int i = 0; i < 10; i++) {
        cur_add(&r, i * 50, i ? "change" : "first", 0, i == 0, &s[i]);
        for (int k = 1; k < 50; k++)
            cur_frame(&r, i * 50 + k, 0, -1);
    }
    cur_finish(&r, 500);
    assert_int_equal(r.n_kept, 10);
}

/* A transient picture between two that look alike is a flash (a recorder's glitch). */
static void flash_between_look_alike_pictures_is_dropped(void **state)
{
    (void)state;
    cur_run r;
    cur_open(&r, 0);
    fw_sig a = sig_of(80), g = sig_of(10);
    cur_add(&r, 0, "first", 0, 1, &a);
    for (int n = 1; n < 50; n++)
        cur_frame(&r, n, 0, -1);
    cur_add(&r, 50, "motion", 0, 0, &g);
    for (int n = 51; n < 58; n++)
        cur_frame(&r, n, 0, -1);
    cur_add(&r, 58, "motion", 0, 0, &a); /* back 0.32 s later */
    for (int n = 59; n < 120; n++)
        cur_frame(&r, n, 0, -1);
    cur_finish(&r, 120);
    assert_int_equal(r.n_dropped, 1);
    assert_int_equal(r.dropped[0], 50);
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
        cmocka_unit_test(small_change_is_kept_only_if_it_holds),
        cmocka_unit_test(transient_gives_way_to_the_state_it_leads_to),
        cmocka_unit_test(max_rate_drops_transients_and_never_states),
        cmocka_unit_test(flash_between_look_alike_pictures_is_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
