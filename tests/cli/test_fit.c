/* Requests fitted into the server's context: a 720p clip against the model-server double
 * with small slots (--ctx, counted as llama-server does: an overflow is its 400
 * exceed_context_size_error, an answer stops at the context's end). Run one test per
 * process: test_fit NAME. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fwtest.h"

#define N_SHOTS 5

/* Five one-second 1280x720 shots of flat colours: five keyframes of 920 image tokens
 * each (880 at the default 0.45 MP budget: 420). */
static const char *hd_clip(void)
{
    return fwt_video("shots-720p.mp4",
                     "-f lavfi -i color=c=red:s=1280x720:r=10:d=1 "
                     "-f lavfi -i color=c=white:s=1280x720:r=10:d=1 "
                     "-f lavfi -i color=c=blue:s=1280x720:r=10:d=1 "
                     "-f lavfi -i color=c=yellow:s=1280x720:r=10:d=1 "
                     "-f lavfi -i color=c=magenta:s=1280x720:r=10:d=1 "
                     "-filter_complex '[0][1][2][3][4]concat=n=5:v=1[v]' -map '[v]' "
                     "-c:v libx264 -preset ultrafast -pix_fmt yuv420p");
}

static json_t *analyze(const fwt_vlm *s, const char *opts)
{
    char all[1024];
    snprintf(all, sizeof all, "--url %s --summary extractive --no-cache %s", s->url, opts);
    return fwt_analyze(hd_clip(), all);
}

static json_int_t num(json_t *o, const char *name)
{
    return json_integer_value(json_object_get(o, name));
}

/* Every frame answered, each sent smaller than the budget's 420 tokens, the stats'
 * image tokens the sum of what was sent. */
static void expect_all_answered_small(json_t *rep, int cap)
{
    json_t *obs = json_object_get(rep, "observations");
    assert_int_equal(json_array_size(obs), N_SHOTS);
    size_t i;
    json_t *o;
    json_int_t sum = 0;
    json_array_foreach(obs, i, o)
    {
        if (json_object_get(o, "error"))
            fail_msg("frame %zu: %s", i, json_string_value(json_object_get(o, "error")));
        json_int_t t = num(o, "image_tokens");
        assert_true(t > 0 && t <= cap);
        sum += t;
    }
    assert_int_equal(num(json_object_get(rep, "stats"), "image_tokens"), sum);
}

static void every_frame_fits_slots_the_server_tells(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--ctx 512 --slots 4");
    json_t *rep = analyze(&s, "");
    json_t *st = fwt_vlm_stats(&s);
    fwt_vlm_stop(&s);
    expect_all_answered_small(rep, 512 - 192);
    assert_int_equal(num(st, "context_errors"), 0); /* fitted before it was sent */
    assert_int_equal(num(st, "chat_requests"), N_SHOTS);
    assert_true(num(st, "max_prompt_tokens") <= 512);
    assert_int_equal(num(st, "length_stops"), 0); /* the answers had their room */
    json_decref(st);
    json_decref(rep);
}

static void an_overflow_is_learnt_and_the_frame_sent_again_smaller(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--ctx 512 --slots 1 --hide-ctx"); /* one at a time: one overflow */
    json_t *rep = analyze(&s, "--whole-frames 1");       /* (a low first ask would fit) */
    json_t *st = fwt_vlm_stats(&s);
    fwt_vlm_stop(&s);
    expect_all_answered_small(rep, 512 - 192);
    /* the first frame overflowed and went again; the context learnt, no other did */
    assert_int_equal(num(st, "context_errors"), 1);
    assert_int_equal(num(st, "chat_requests"), N_SHOTS + 1);
    assert_int_equal(num(st, "length_stops"), 0);
    json_decref(st);
    json_decref(rep);
}

static void a_window_is_fitted_or_goes_frame_by_frame(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--ctx 768 --slots 2");
    json_t *rep = analyze(&s, "--window 5");
    json_t *st = fwt_vlm_stats(&s);
    fwt_vlm_stop(&s);
    expect_all_answered_small(rep, 768);
    assert_int_equal(num(st, "context_errors"), 0);
    assert_true(num(st, "max_prompt_tokens") <= 768);
    json_decref(st);
    json_decref(rep);
}

static void a_slot_too_small_for_any_image_is_one_clear_error(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--ctx 200");
    fwt_run r;
    fwt_fw(&r, "analyze '%s' --url %s -o '%s/out' --summary extractive --no-cache", hd_clip(),
           s.url, fwt_tmpdir());
    json_t *st = fwt_vlm_stats(&s);
    fwt_vlm_stop(&s);
    assert_int_equal(num(st, "chat_requests"), 0); /* nothing is sent that cannot fit */
    json_decref(st);
    char path[512];
    snprintf(path, sizeof path, "%s/out/report.json", fwt_tmpdir());
    json_t *rep = fwt_json_file(path);
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(rep, "observations"), i, o)
    {
        const char *e = json_string_value(json_object_get(o, "error"));
        assert_non_null(e);
        assert_non_null(strstr(e, "context (200 tokens a request) cannot hold the prompt"));
        assert_int_equal(num(o, "image_tokens"), 0);
    }
    assert_int_equal(num(json_object_get(rep, "stats"), "image_tokens"), 0);
    json_decref(rep);
    fwt_free(&r);
}

int main(int argc, char **argv)
{
    fwt_select_test(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(every_frame_fits_slots_the_server_tells, fwt_teardown),
        cmocka_unit_test_teardown(an_overflow_is_learnt_and_the_frame_sent_again_smaller,
                                  fwt_teardown),
        cmocka_unit_test_teardown(a_window_is_fitted_or_goes_frame_by_frame, fwt_teardown),
        cmocka_unit_test_teardown(a_slot_too_small_for_any_image_is_one_clear_error, fwt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
